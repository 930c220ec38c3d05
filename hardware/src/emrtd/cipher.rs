//! The block-cipher primitives of ICAO 9303 Part 11: two-key 3DES in CBC mode with the retail
//! MAC (ISO/IEC 9797-1 MAC algorithm 3 with DES) for BAC, AES in CBC mode with AES-CMAC for
//! PACE, and padding method 2. CBC is written out here (a few lines) rather than pulled from
//! the `cbc` crate: messages are a handful of blocks and the IV rules are ICAO's own.

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};
use aes::{Aes128, Aes192, Aes256};
use cmac::{Cmac, Mac};
use des::{Des, TdesEde2};

/// The cipher of a secure messaging session, with its key length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmCipher {
    /// Two-key 3DES, retail MAC (BAC; PACE with 3DES).
    Tdes,
    /// AES-128, CMAC.
    Aes128,
    /// AES-192, CMAC.
    Aes192,
    /// AES-256, CMAC.
    Aes256,
}

impl SmCipher {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            SmCipher::Tdes | SmCipher::Aes128 => 16,
            SmCipher::Aes192 => 24,
            SmCipher::Aes256 => 32,
        }
    }

    /// Block length in bytes: also the send sequence counter's and the padding's.
    pub fn block_len(self) -> usize {
        match self {
            SmCipher::Tdes => 8,
            _ => 16,
        }
    }

    /// The name a report shows, e.g. `AES-128`.
    pub fn name(self) -> &'static str {
        match self {
            SmCipher::Tdes => "3DES",
            SmCipher::Aes128 => "AES-128",
            SmCipher::Aes192 => "AES-192",
            SmCipher::Aes256 => "AES-256",
        }
    }
}

/// Why a cipher operation could not run: a key or message of the wrong length (a bug or a
/// malformed message from the card, never a secret-dependent failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cipher input of the wrong length: {0}")]
pub struct CipherError(pub &'static str);

/// ISO/IEC 9797-1 padding method 2: `80`, then `00`s to a whole number of blocks.
pub fn pad(data: &[u8], block: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + block);
    out.extend_from_slice(data);
    out.push(0x80);
    while out.len() % block != 0 {
        out.push(0x00);
    }
    out
}

/// Removes padding method 2; `None` when there is none.
pub fn unpad(data: &[u8]) -> Option<&[u8]> {
    let end = data.iter().rposition(|&b| b != 0)?;
    (data[end] == 0x80).then_some(&data[..end])
}

fn blocks_of(data: &[u8], block: usize) -> Result<(), CipherError> {
    if data.len() % block == 0 {
        Ok(())
    } else {
        Err(CipherError("data is not a whole number of blocks"))
    }
}

trait Block {
    const LEN: usize;
    fn encrypt(&self, block: &mut [u8]);
    fn decrypt(&self, block: &mut [u8]);
}

macro_rules! impl_block {
    ($t:ty, $len:expr) => {
        impl Block for $t {
            const LEN: usize = $len;
            fn encrypt(&self, block: &mut [u8]) {
                BlockEncrypt::encrypt_block(self, GenericArray::from_mut_slice(block));
            }
            fn decrypt(&self, block: &mut [u8]) {
                BlockDecrypt::decrypt_block(self, GenericArray::from_mut_slice(block));
            }
        }
    };
}
impl_block!(TdesEde2, 8);
impl_block!(Des, 8);
impl_block!(Aes128, 16);
impl_block!(Aes192, 16);
impl_block!(Aes256, 16);

fn cbc_encrypt<C: Block>(cipher: &C, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, CipherError> {
    blocks_of(data, C::LEN)?;
    let mut out = data.to_vec();
    let mut previous = iv.to_vec();
    for block in out.chunks_mut(C::LEN) {
        block.iter_mut().zip(&previous).for_each(|(b, p)| *b ^= p);
        cipher.encrypt(block);
        previous.copy_from_slice(block);
    }
    Ok(out)
}

fn cbc_decrypt<C: Block>(cipher: &C, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, CipherError> {
    blocks_of(data, C::LEN)?;
    let mut out = data.to_vec();
    let mut previous = iv.to_vec();
    for block in out.chunks_mut(C::LEN) {
        let this = block.to_vec();
        cipher.decrypt(block);
        block.iter_mut().zip(&previous).for_each(|(b, p)| *b ^= p);
        previous = this;
    }
    Ok(out)
}

fn tdes(key: &[u8]) -> Result<TdesEde2, CipherError> {
    TdesEde2::new_from_slice(key).map_err(|_| CipherError("a 3DES key is 16 bytes"))
}

/// Two-key 3DES (EDE) in CBC mode with this IV; `data` a whole number of 8-byte blocks.
pub fn tdes_cbc_encrypt(key: &[u8], iv: &[u8; 8], data: &[u8]) -> Result<Vec<u8>, CipherError> {
    cbc_encrypt(&tdes(key)?, iv, data)
}

/// The inverse of [`tdes_cbc_encrypt`].
pub fn tdes_cbc_decrypt(key: &[u8], iv: &[u8; 8], data: &[u8]) -> Result<Vec<u8>, CipherError> {
    cbc_decrypt(&tdes(key)?, iv, data)
}

/// ISO/IEC 9797-1 MAC algorithm 3 ("retail MAC") with DES and a 16-byte key: single DES CBC
/// with the key's first half over every block, then decrypt with the second half and encrypt
/// with the first. `data` must be padded already.
pub fn retail_mac(key: &[u8], data: &[u8]) -> Result<[u8; 8], CipherError> {
    if key.len() != 16 {
        return Err(CipherError("a retail MAC key is 16 bytes"));
    }
    blocks_of(data, 8)?;
    let k1 = Des::new_from_slice(&key[..8]).map_err(|_| CipherError("DES key"))?;
    let k2 = Des::new_from_slice(&key[8..]).map_err(|_| CipherError("DES key"))?;
    let mut state = [0u8; 8];
    for block in data.chunks(8) {
        state.iter_mut().zip(block).for_each(|(s, b)| *s ^= b);
        k1.encrypt(&mut state);
    }
    k2.decrypt(&mut state);
    k1.encrypt(&mut state);
    Ok(state)
}

macro_rules! with_aes {
    ($key:expr, |$c:ident| $body:expr) => {
        match $key.len() {
            16 => {
                let $c = Aes128::new_from_slice($key).map_err(|_| CipherError("AES key"))?;
                $body
            }
            24 => {
                let $c = Aes192::new_from_slice($key).map_err(|_| CipherError("AES key"))?;
                $body
            }
            32 => {
                let $c = Aes256::new_from_slice($key).map_err(|_| CipherError("AES key"))?;
                $body
            }
            _ => Err(CipherError("an AES key is 16, 24 or 32 bytes")),
        }
    };
}

/// AES (key length from the key) in CBC mode with this IV.
pub fn aes_cbc_encrypt(key: &[u8], iv: &[u8; 16], data: &[u8]) -> Result<Vec<u8>, CipherError> {
    with_aes!(key, |c| cbc_encrypt(&c, iv, data))
}

/// The inverse of [`aes_cbc_encrypt`].
pub fn aes_cbc_decrypt(key: &[u8], iv: &[u8; 16], data: &[u8]) -> Result<Vec<u8>, CipherError> {
    with_aes!(key, |c| cbc_decrypt(&c, iv, data))
}

/// One AES block encrypted: the secure messaging IV is E(KSenc, SSC).
pub fn aes_encrypt_block(key: &[u8], block: &[u8; 16]) -> Result<[u8; 16], CipherError> {
    let mut out = *block;
    with_aes!(key, |c| {
        c.encrypt(&mut out);
        Ok(out)
    })
}

/// AES-CMAC truncated to 8 bytes, as ICAO 9303 uses it (unpadded input: CMAC pads itself).
pub fn cmac8(key: &[u8], data: &[u8]) -> Result<[u8; 8], CipherError> {
    fn run<C: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Result<[u8; 8], CipherError> {
        let mut mac = <C as KeyInit>::new_from_slice(key).map_err(|_| CipherError("CMAC key"))?;
        mac.update(data);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 8];
        out.copy_from_slice(&full[..8]);
        Ok(out)
    }
    match key.len() {
        16 => run::<Cmac<Aes128>>(key, data),
        24 => run::<Cmac<Aes192>>(key, data),
        32 => run::<Cmac<Aes256>>(key, data),
        _ => Err(CipherError("an AES key is 16, 24 or 32 bytes")),
    }
}

/// Encrypts with the session's cipher, CBC, this IV (8 bytes for 3DES, 16 for AES).
pub fn encrypt(cipher: SmCipher, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, CipherError> {
    match cipher {
        SmCipher::Tdes => tdes_cbc_encrypt(key, iv.try_into().map_err(|_| CipherError("3DES IV"))?, data),
        _ => aes_cbc_encrypt(key, iv.try_into().map_err(|_| CipherError("AES IV"))?, data),
    }
}

/// Decrypts with the session's cipher, CBC, this IV.
pub fn decrypt(cipher: SmCipher, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, CipherError> {
    match cipher {
        SmCipher::Tdes => tdes_cbc_decrypt(key, iv.try_into().map_err(|_| CipherError("3DES IV"))?, data),
        _ => aes_cbc_decrypt(key, iv.try_into().map_err(|_| CipherError("AES IV"))?, data),
    }
}

/// The session's MAC over `data`: retail MAC over the padded data (3DES), CMAC (AES; ICAO
/// pads the input before CMAC for secure messaging, so callers pass padded data either way).
pub fn mac(cipher: SmCipher, key: &[u8], data: &[u8]) -> Result<[u8; 8], CipherError> {
    match cipher {
        SmCipher::Tdes => retail_mac(key, data),
        _ => cmac8(key, data),
    }
}
