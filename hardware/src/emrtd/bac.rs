//! Basic Access Control (ICAO 9303 Part 11 §4.3): the reader proves it knows the MRZ key by a
//! 3DES challenge-response, and both ends derive 3DES session keys and the send sequence
//! counter from the exchanged random numbers and key halves.
//!
//! GET CHALLENGE gives RND.IC (8 bytes); the reader picks RND.IFD and K.IFD, sends
//! `E = 3DES(KEnc, RND.IFD || RND.IC || K.IFD)` and `M = MAC(KMac, E)` in EXTERNAL
//! AUTHENTICATE, and checks the card's answer `RND.IC || RND.IFD || K.IC` the same way. The
//! session key seed is `K.IFD xor K.IC`; the SSC the low halves of RND.IC and RND.IFD.

use zeroize::Zeroizing;

use super::cipher::{pad, retail_mac, tdes_cbc_decrypt, tdes_cbc_encrypt, CipherError, SmCipher};
use super::kdf::{self, kdf};
use super::mrz::MrzKey;
use super::secure_messaging::{SecureMessaging, SmError};

/// The BAC keys KEnc and KMac derived from the MRZ key (zeroized on drop).
pub struct BacKeys {
    k_enc: Zeroizing<Vec<u8>>,
    k_mac: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for BacKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("BacKeys(<redacted>)")
    }
}

/// Why the mutual authentication did not complete (besides the card refusing it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BacError {
    /// The cryptogram's MAC is wrong: the other side used another key.
    #[error("the BAC cryptogram's MAC does not match: the other side used another key")]
    BadMac,
    /// The decrypted cryptogram does not echo our random number.
    #[error("the BAC cryptogram does not echo our challenge")]
    WrongChallenge,
    /// The message is not 40 bytes.
    #[error("the BAC cryptogram is not 40 bytes")]
    Length,
    /// A cipher input had the wrong length.
    #[error(transparent)]
    Cipher(#[from] CipherError),
    /// The session could not be set up.
    #[error(transparent)]
    Session(#[from] SmError),
}

/// A decrypted cryptogram: the two random numbers (first, second) and the key half.
pub type Opened = ([u8; 8], [u8; 8], Zeroizing<[u8; 16]>);

impl BacKeys {
    /// KEnc and KMac from the key seed (ICAO 9303 Part 11 Appendix D.1).
    pub fn from_seed(seed: &[u8]) -> BacKeys {
        BacKeys { k_enc: kdf(seed, kdf::ENC, SmCipher::Tdes), k_mac: kdf(seed, kdf::MAC, SmCipher::Tdes) }
    }

    /// KEnc and KMac from the MRZ key.
    pub fn from_mrz(key: &MrzKey) -> BacKeys {
        BacKeys::from_seed(&kdf::bac_key_seed(key)[..])
    }

    /// KEnc.
    pub fn k_enc(&self) -> &[u8] {
        &self.k_enc
    }

    /// KMac.
    pub fn k_mac(&self) -> &[u8] {
        &self.k_mac
    }

    /// `E || M` for `first || second || key_half` (the reader sends RND.IFD, RND.IC, K.IFD;
    /// the card answers RND.IC, RND.IFD, K.IC).
    pub fn cryptogram(&self, first: &[u8; 8], second: &[u8; 8], key_half: &[u8; 16]) -> Result<[u8; 40], BacError> {
        let mut s = Zeroizing::new(Vec::with_capacity(32));
        s.extend_from_slice(first);
        s.extend_from_slice(second);
        s.extend_from_slice(key_half);
        let e = tdes_cbc_encrypt(&self.k_enc, &[0; 8], &s)?;
        let m = retail_mac(&self.k_mac, &pad(&e, 8))?;
        let mut out = [0u8; 40];
        out[..32].copy_from_slice(&e);
        out[32..].copy_from_slice(&m);
        Ok(out)
    }

    /// Checks a cryptogram's MAC and decrypts it: `(first, second, key half)`.
    pub fn open(&self, cryptogram: &[u8]) -> Result<Opened, BacError> {
        if cryptogram.len() != 40 {
            return Err(BacError::Length);
        }
        let (e, m) = cryptogram.split_at(32);
        if retail_mac(&self.k_mac, &pad(e, 8))? != m {
            return Err(BacError::BadMac);
        }
        let s = Zeroizing::new(tdes_cbc_decrypt(&self.k_enc, &[0; 8], e)?);
        let mut first = [0u8; 8];
        let mut second = [0u8; 8];
        let mut half = Zeroizing::new([0u8; 16]);
        first.copy_from_slice(&s[..8]);
        second.copy_from_slice(&s[8..16]);
        half.copy_from_slice(&s[16..32]);
        Ok((first, second, half))
    }
}

/// The session both ends derive: keys from `K.IFD xor K.IC`, SSC from the low four bytes of
/// RND.IC then of RND.IFD.
pub fn session(k_ifd: &[u8; 16], k_ic: &[u8; 16], rnd_ic: &[u8; 8], rnd_ifd: &[u8; 8]) -> Result<SecureMessaging, BacError> {
    let mut seed = Zeroizing::new([0u8; 16]);
    for (i, s) in seed.iter_mut().enumerate() {
        *s = k_ifd[i] ^ k_ic[i];
    }
    let k_enc = kdf(&seed[..], kdf::ENC, SmCipher::Tdes);
    let k_mac = kdf(&seed[..], kdf::MAC, SmCipher::Tdes);
    let mut ssc = [0u8; 8];
    ssc[..4].copy_from_slice(&rnd_ic[4..]);
    ssc[4..].copy_from_slice(&rnd_ifd[4..]);
    Ok(SecureMessaging::new(SmCipher::Tdes, &k_enc, &k_mac, &ssc)?)
}

/// The reader's side after the card answered EXTERNAL AUTHENTICATE: checks the card's
/// cryptogram and returns the session.
pub fn complete(
    keys: &BacKeys,
    answer: &[u8],
    rnd_ic: &[u8; 8],
    rnd_ifd: &[u8; 8],
    k_ifd: &[u8; 16],
) -> Result<SecureMessaging, BacError> {
    let (echo_ic, echo_ifd, k_ic) = keys.open(answer)?;
    if &echo_ic != rnd_ic || &echo_ifd != rnd_ifd {
        return Err(BacError::WrongChallenge);
    }
    session(k_ifd, &k_ic, rnd_ic, rnd_ifd)
}
