//! Secure messaging (ICAO 9303 Part 11 §9.8; ISO/IEC 7816-4 §10): after BAC or PACE every
//! command and response is encrypted and MACed with the session keys, and a send sequence
//! counter (SSC), incremented before each command and each response, makes every message
//! unique.
//!
//! A protected command is `CLA|0C INS P1 P2 Lc [DO87] [DO97] DO8E 00`: DO87 the padded,
//! encrypted command data (with the padding-content indicator `01`), DO97 the Le, DO8E the
//! 8-byte MAC over the SSC, the padded header and those objects. A protected response is
//! `[DO87] DO99 DO8E SW1 SW2`, DO99 carrying the card's status word. 3DES sessions use IV zero
//! and the retail MAC; AES sessions the IV E(KSenc, SSC) and CMAC.
//!
//! [`SecureMessaging`] is both ends: the reader [`protect`](SecureMessaging::protect)s commands
//! and [`unprotect`](SecureMessaging::unprotect)s responses; the simulated chip
//! [`open_command`](SecureMessaging::open_command)s and [`seal_response`](SecureMessaging::seal_response)s.

use core::fmt;

use zeroize::Zeroizing;

use super::cipher::{self, pad, unpad, CipherError, SmCipher};
use crate::tlv;

/// Why a secure messaging message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmError {
    /// The MAC (DO8E) does not match: the message was altered, or the two ends no longer share
    /// keys and counter.
    #[error("the secure messaging MAC does not match")]
    BadMac,
    /// The message does not have the secure messaging structure.
    #[error("malformed secure messaging message: {0}")]
    Malformed(&'static str),
    /// The card answered without secure messaging: only a status word.
    #[error("the card answered SW {0:04X} without secure messaging")]
    Unprotected(u16),
    /// A cipher input had the wrong length.
    #[error(transparent)]
    Cipher(#[from] CipherError),
}

/// One secure messaging session: cipher, session keys (zeroized on drop) and SSC.
#[derive(Clone)]
pub struct SecureMessaging {
    cipher: SmCipher,
    k_enc: Zeroizing<Vec<u8>>,
    k_mac: Zeroizing<Vec<u8>>,
    ssc: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for SecureMessaging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecureMessaging({}, <keys redacted>)", self.cipher.name())
    }
}

/// A command APDU's parts.
struct Plain<'a> {
    header: [u8; 4],
    data: &'a [u8],
    le: Option<u8>,
}

fn split_command(apdu: &[u8]) -> Result<Plain<'_>, SmError> {
    let Some((header, body)) = apdu.split_first_chunk::<4>() else {
        return Err(SmError::Malformed("a command APDU is shorter than its header"));
    };
    let (data, le) = match body {
        [] => (&[][..], None),
        [le] => (&[][..], Some(*le)),
        [lc, rest @ ..] if *lc != 0 && rest.len() == usize::from(*lc) => (rest, None),
        [lc, rest @ ..] if *lc != 0 && rest.len() == usize::from(*lc) + 1 => (&rest[..usize::from(*lc)], rest.last().copied()),
        _ => return Err(SmError::Malformed("a command APDU's length fields do not match its data (short APDUs only)")),
    };
    Ok(Plain { header: *header, data, le })
}

impl SecureMessaging {
    /// A session with these keys and initial SSC (8 bytes for 3DES, 16 for AES).
    pub fn new(cipher: SmCipher, k_enc: &[u8], k_mac: &[u8], ssc: &[u8]) -> Result<SecureMessaging, SmError> {
        if k_enc.len() != cipher.key_len() || k_mac.len() != cipher.key_len() {
            return Err(SmError::Cipher(CipherError("session key of the wrong length")));
        }
        if ssc.len() != cipher.block_len() {
            return Err(SmError::Cipher(CipherError("send sequence counter of the wrong length")));
        }
        Ok(SecureMessaging {
            cipher,
            k_enc: Zeroizing::new(k_enc.to_vec()),
            k_mac: Zeroizing::new(k_mac.to_vec()),
            ssc: Zeroizing::new(ssc.to_vec()),
        })
    }

    /// The session's cipher.
    pub fn cipher(&self) -> SmCipher {
        self.cipher
    }

    /// The current send sequence counter.
    pub fn ssc(&self) -> &[u8] {
        &self.ssc
    }

    fn increment(&mut self) {
        for b in self.ssc.iter_mut().rev() {
            let (next, carry) = b.overflowing_add(1);
            *b = next;
            if !carry {
                break;
            }
        }
    }

    fn iv(&self) -> Result<Vec<u8>, SmError> {
        Ok(match self.cipher {
            SmCipher::Tdes => vec![0; 8],
            _ => {
                let ssc: &[u8; 16] = self.ssc[..].try_into().map_err(|_| CipherError("AES SSC"))?;
                cipher::aes_encrypt_block(&self.k_enc, ssc)?.to_vec()
            }
        })
    }

    fn mac_of(&self, parts: &[&[u8]]) -> Result<[u8; 8], SmError> {
        let mut input = self.ssc.to_vec();
        parts.iter().for_each(|p| input.extend_from_slice(p));
        Ok(cipher::mac(self.cipher, &self.k_mac, &pad(&input, self.cipher.block_len()))?)
    }

    fn encrypt_do87(&self, data: &[u8]) -> Result<Vec<u8>, SmError> {
        let mut value = vec![0x01];
        value.extend(cipher::encrypt(self.cipher, &self.k_enc, &self.iv()?, &pad(data, self.cipher.block_len()))?);
        Ok(tlv::encode(0x87, &value))
    }

    fn decrypt_do87(&self, value: &[u8]) -> Result<Vec<u8>, SmError> {
        let Some((&0x01, cryptogram)) = value.split_first() else {
            return Err(SmError::Malformed("DO87 lacks the padding-content indicator 01"));
        };
        let plain = Zeroizing::new(cipher::decrypt(self.cipher, &self.k_enc, &self.iv()?, cryptogram)?);
        unpad(&plain).map(<[u8]>::to_vec).ok_or(SmError::Malformed("DO87's plaintext is not padded"))
    }

    /// Protects a plain short command APDU (reader side). Increments the SSC.
    pub fn protect(&mut self, apdu: &[u8]) -> Result<Vec<u8>, SmError> {
        let plain = split_command(apdu)?;
        let mut header = plain.header;
        header[0] |= 0x0C;
        self.increment();
        let do87 = if plain.data.is_empty() { Vec::new() } else { self.encrypt_do87(plain.data)? };
        let do97 = plain.le.map(|le| vec![0x97, 0x01, le]).unwrap_or_default();
        let padded_header = pad(&header, self.cipher.block_len());
        let mac = self.mac_of(&[&padded_header, &do87, &do97])?;
        let mut body = do87;
        body.extend_from_slice(&do97);
        body.extend_from_slice(&[0x8E, 0x08]);
        body.extend_from_slice(&mac);
        if body.len() > 255 {
            return Err(SmError::Malformed("the protected command does not fit a short APDU"));
        }
        let mut out = header.to_vec();
        out.push(body.len() as u8);
        out.extend(body);
        out.push(0x00);
        Ok(out)
    }

    /// Checks and decrypts a protected response (reader side): returns the plain response
    /// APDU, data then the status word from DO99. Increments the SSC.
    ///
    /// A bare status word (no secure messaging objects) gives [`SmError::Unprotected`]: cards
    /// answer errors that way, and after it the session is over.
    pub fn unprotect(&mut self, response: &[u8]) -> Result<Vec<u8>, SmError> {
        let Some((body, &[sw1, sw2])) = response.split_last_chunk::<2>() else {
            return Err(SmError::Malformed("a response APDU is shorter than its status word"));
        };
        if body.is_empty() {
            return Err(SmError::Unprotected(u16::from_be_bytes([sw1, sw2])));
        }
        let (mut do87, mut do99, mut do8e) = (None, None, None);
        let mut covered = 0;
        for item in tlv::iter(body) {
            let item = item.map_err(|e| SmError::Malformed(e.0))?;
            let encoded_len = tlv::encode(item.tag, item.value).len();
            match item.tag {
                0x87 => {
                    do87 = Some((item.value, covered, encoded_len));
                    covered += encoded_len;
                }
                0x99 => {
                    do99 = Some(item.value);
                    covered += encoded_len;
                }
                0x8E => do8e = Some(item.value),
                _ => return Err(SmError::Malformed("unexpected data object in a protected response")),
            }
        }
        let mac = do8e.ok_or(SmError::Malformed("the protected response has no MAC (DO8E)"))?;
        // The MAC covers the objects before DO8E exactly as sent.
        let covered_bytes = body.get(..covered).ok_or(SmError::Malformed("DO8E is not last"))?;
        self.increment();
        let expected = self.mac_of(&[covered_bytes])?;
        if mac != expected {
            return Err(SmError::BadMac);
        }
        let status = match do99 {
            Some(&[a, b]) => [a, b],
            Some(_) => return Err(SmError::Malformed("DO99 is not two bytes")),
            None => [sw1, sw2],
        };
        let mut out = match do87 {
            Some((value, _, _)) => self.decrypt_do87(value)?,
            None => Vec::new(),
        };
        out.extend_from_slice(&status);
        Ok(out)
    }

    /// Checks and decrypts a protected command (card side): returns the plain command APDU.
    /// Increments the SSC.
    pub fn open_command(&mut self, apdu: &[u8]) -> Result<Vec<u8>, SmError> {
        let plain = split_command(apdu)?;
        if plain.header[0] & 0x0C != 0x0C {
            return Err(SmError::Malformed("the command is not protected (CLA bits 0C clear)"));
        }
        let (mut do87, mut do97, mut do8e, mut covered) = (None, None, None, 0);
        for item in tlv::iter(plain.data) {
            let item = item.map_err(|e| SmError::Malformed(e.0))?;
            let encoded_len = tlv::encode(item.tag, item.value).len();
            match item.tag {
                0x87 => do87 = Some(item.value),
                0x97 => do97 = Some(item.value),
                0x8E => {
                    do8e = Some(item.value);
                    continue;
                }
                _ => return Err(SmError::Malformed("unexpected data object in a protected command")),
            }
            covered += encoded_len;
        }
        let mac = do8e.ok_or(SmError::Malformed("the protected command has no MAC (DO8E)"))?;
        self.increment();
        let padded_header = pad(&plain.header, self.cipher.block_len());
        let objects = plain.data.get(..covered).ok_or(SmError::Malformed("DO8E is not last"))?;
        if mac != self.mac_of(&[&padded_header, objects])? {
            return Err(SmError::BadMac);
        }
        let mut out = plain.header.to_vec();
        out[0] &= !0x0C;
        if let Some(value) = do87 {
            let data = self.decrypt_do87(value)?;
            if data.is_empty() || data.len() > 255 {
                return Err(SmError::Malformed("DO87 holds no command data, or too much"));
            }
            out.push(data.len() as u8);
            out.extend(data);
        }
        match do97 {
            Some(&[le]) => out.push(le),
            Some(_) => return Err(SmError::Malformed("DO97 is not one byte")),
            None => {}
        }
        Ok(out)
    }

    /// Protects a response (card side): DO87 if there is data, DO99 with the status word,
    /// DO8E, then `90 00`. Increments the SSC.
    pub fn seal_response(&mut self, data: &[u8], sw: u16) -> Result<Vec<u8>, SmError> {
        self.increment();
        let mut objects = if data.is_empty() { Vec::new() } else { self.encrypt_do87(data)? };
        objects.extend(tlv::encode(0x99, &sw.to_be_bytes()));
        let mac = self.mac_of(&[&objects])?;
        objects.extend_from_slice(&[0x8E, 0x08]);
        objects.extend_from_slice(&mac);
        objects.extend_from_slice(&[0x90, 0x00]);
        Ok(objects)
    }
}
