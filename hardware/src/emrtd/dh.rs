//! PACE's generic mapping on a prime-field Diffie-Hellman group: the 1024-bit MODP group with a
//! 160-bit prime-order subgroup of RFC 5114 §2.1 (PACE standardised parameter id 0).
//!
//! Only the arithmetic, proved on ICAO 9303 Part 11 Appendix G.2 (tests/emrtd_vectors.rs): the
//! reader does not offer DH PACE to a card yet ([`super::lds::PaceInfo::is_supported`] is ECDH
//! only), because the Iraqi card is expected to offer ECDH; a card offering DH alone falls back
//! to BAC. Values are big-endian byte strings of the modulus' length (128 bytes).

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U1024};
use zeroize::Zeroizing;

use super::pace::PaceError;

/// RFC 5114 §2.1: p.
const P: U1024 = U1024::from_be_hex(concat!(
    "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B61",
    "6073E28675A23D189838EF1E2EE652C013ECB4AEA906112324975C3CD49B83BF",
    "ACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738FAA31A4FF55BCCC0",
    "A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371",
));
/// RFC 5114 §2.1: g.
const G: U1024 = U1024::from_be_hex(concat!(
    "A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31",
    "266FEA1E5C41564B777E690F5504F213160217B4B01B886A5E91547F9E2749F4",
    "D7FBD7D3B9A92EE1909D0D2263F80A76A6A24C087A091F531DBF0A0169B6A28A",
    "D662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24855E6EEB22B3B2E5",
));
/// RFC 5114 §2.1: q, the subgroup order (160 bits), left-padded.
const Q: U1024 = U1024::from_be_hex(concat!(
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000F518AA8781A8DF278ABA4E7D64B7CB9D49462353",
));

/// Bytes of a group element.
pub const ELEMENT_LEN: usize = 128;

fn params() -> FixedMontyParams<{ U1024::LIMBS }> {
    FixedMontyParams::new_vartime(Odd::new(P).expect("RFC 5114 p is odd"))
}

fn number(bytes: &[u8]) -> Result<U1024, PaceError> {
    if bytes.is_empty() || bytes.len() > ELEMENT_LEN {
        return Err(PaceError::InvalidScalar);
    }
    let mut padded = [0u8; ELEMENT_LEN];
    padded[ELEMENT_LEN - bytes.len()..].copy_from_slice(bytes);
    Ok(U1024::from_be_slice(&padded))
}

fn encode(n: &U1024) -> Vec<u8> {
    n.to_be_bytes().as_ref().to_vec()
}

/// An element from the other side: 1 < y < p - 1 and in the order-q subgroup (y^q = 1).
fn element(bytes: &[u8]) -> Result<FixedMontyForm<{ U1024::LIMBS }>, PaceError> {
    let y = number(bytes).map_err(|_| PaceError::InvalidPoint)?;
    let one = U1024::ONE;
    let p_minus_one = P.wrapping_sub(&one);
    if y <= one || y >= p_minus_one {
        return Err(PaceError::InvalidPoint);
    }
    let form = FixedMontyForm::new(&y, &params());
    if form.pow(&Q).retrieve() != one {
        return Err(PaceError::InvalidPoint);
    }
    Ok(form)
}

/// `base^k mod p` (`base` the group's g when `None`); `k` a private key.
pub fn power(base: Option<&[u8]>, k: &[u8]) -> Result<Vec<u8>, PaceError> {
    let k = Zeroizing::new(number(k)?);
    let base = match base {
        Some(b) => element(b)?,
        None => FixedMontyForm::new(&G, &params()),
    };
    Ok(encode(&base.pow(&*k).retrieve()))
}

/// The generic mapping: `g' = g^s · h mod p`, `h` the mapping DH's shared secret.
pub fn map_generator(nonce: &[u8], h: &[u8]) -> Result<Vec<u8>, PaceError> {
    let s = number(nonce)?;
    let g_s = FixedMontyForm::new(&G, &params()).pow(&s);
    let h = element(h)?;
    Ok(encode(&(g_s * h).retrieve()))
}

/// `other^k mod p` for a key on the mapped generator `g'`: the other side's public key is
/// checked against the subgroup first.
pub fn shared_secret(k: &[u8], other: &[u8]) -> Result<Zeroizing<Vec<u8>>, PaceError> {
    Ok(Zeroizing::new(power(Some(other), k)?))
}
