//! The key derivation function of ICAO 9303 Part 11 §9.7.1: `KDF(K, c)` is the hash of the
//! shared secret `K` followed by the 32-bit counter `c` (1 for the encryption key, 2 for the
//! MAC key, 3 for PACE's password key), cut to the cipher's key length; SHA-1 for 3DES and
//! AES-128, SHA-256 for AES-192 and AES-256. 3DES keys get DES parity bits, as the Appendix D
//! values show them.

use sha1::Sha1;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::cipher::SmCipher;
use super::mrz::MrzKey;

/// Counter for the encryption key.
pub const ENC: u32 = 1;
/// Counter for the MAC key.
pub const MAC: u32 = 2;
/// Counter for PACE's password key Kπ.
pub const PACE: u32 = 3;

/// `KDF(K, c)` for a key of `cipher`.
pub fn kdf(secret: &[u8], counter: u32, cipher: SmCipher) -> Zeroizing<Vec<u8>> {
    let digest: Zeroizing<Vec<u8>> = match cipher {
        SmCipher::Tdes | SmCipher::Aes128 => {
            Zeroizing::new(Sha1::new().chain_update(secret).chain_update(counter.to_be_bytes()).finalize().to_vec())
        }
        SmCipher::Aes192 | SmCipher::Aes256 => {
            Zeroizing::new(Sha256::new().chain_update(secret).chain_update(counter.to_be_bytes()).finalize().to_vec())
        }
    };
    let mut key = Zeroizing::new(digest[..cipher.key_len()].to_vec());
    if cipher == SmCipher::Tdes {
        adjust_parity(&mut key);
    }
    key
}

/// Sets each byte's lowest bit so the byte has odd parity (DES key parity).
pub fn adjust_parity(key: &mut [u8]) {
    for b in key.iter_mut() {
        let ones = (*b & 0xFE).count_ones();
        *b = (*b & 0xFE) | u8::from(ones % 2 == 0);
    }
}

/// BAC's key seed: the first 16 bytes of SHA-1 of the MRZ information.
pub fn bac_key_seed(key: &MrzKey) -> Zeroizing<[u8; 16]> {
    let digest = Zeroizing::new(Sha1::digest(&key.information()[..]).to_vec());
    let mut seed = Zeroizing::new([0u8; 16]);
    seed.copy_from_slice(&digest[..16]);
    seed
}

/// PACE's password from the MRZ: SHA-1 of the MRZ information (all 20 bytes).
pub fn pace_mrz_password(key: &MrzKey) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(Sha1::digest(&key.information()[..]).to_vec())
}
