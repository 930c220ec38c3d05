//! PACE with the generic mapping on elliptic curves (ICAO 9303 Part 11 §4.4, BSI TR-03110):
//! the password (the CAN, or SHA-1 of the MRZ information) never crosses the air; the card
//! sends a random nonce encrypted with the password key Kπ, both ends run an ECDH to map the
//! nonce to a fresh generator `G' = s·G + H`, a second ECDH on `G'` gives the shared secret,
//! and authentication tokens (a MAC over the other side's public key) prove that both ends used
//! the same password.
//!
//! Curves: NIST P-256 (parameter id 12, `p256`), brainpoolP256r1 (13, `bp256`) and
//! brainpoolP384r1 (16, `bp384`), RustCrypto's elliptic-curve 0.14 arithmetic. The
//! Brainpool arithmetic is new in that generation; tests/emrtd_vectors.rs runs the ICAO 9303
//! Part 11 Appendix G example through it point by point.
//!
//! The exchange, as the reader sends it:
//!
//! | step | command | card's answer |
//! | --- | --- | --- |
//! | MSE:Set AT | `00 22 C1 A4`: `80` protocol OID, `83` password (01 MRZ, 02 CAN), `84` parameter id | `90 00` |
//! | 1. encrypted nonce | `10 86 00 00 7C 00` | `7C { 80 z }` |
//! | 2. map nonce | `10 86 00 00 7C { 81 PK.map.IFD }` | `7C { 82 PK.map.IC }` |
//! | 3. key agreement | `10 86 00 00 7C { 83 PK.IFD }` | `7C { 84 PK.IC }` |
//! | 4. mutual authentication | `00 86 00 00 7C { 85 T.IFD }` | `7C { 86 T.IC }`, or `63 00` for a wrong password |
//!
//! The parameter id (tag `84`) is always sent: cards offering several PACE options drop the
//! connection without it.

use zeroize::Zeroizing;

use super::cipher::{self, pad, CipherError, SmCipher};
use super::kdf::{self, kdf};
use super::lds::PaceInfo;
use super::secure_messaging::SecureMessaging;
use crate::tlv;

/// Why a PACE computation failed (besides the card refusing a step).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaceError {
    /// A public key from the other side is not a point of the curve (or is the identity).
    #[error("the other side's public key is not a valid point of the curve")]
    InvalidPoint,
    /// A scalar (private key, nonce) is out of range.
    #[error("a PACE scalar is out of range")]
    InvalidScalar,
    /// Both ephemeral public keys are equal, which §4.4.3.3 forbids.
    #[error("the card's ephemeral public key equals ours")]
    SameEphemeralKey,
    /// The domain parameters are not ones this module implements.
    #[error("unsupported PACE domain parameters (id {0})")]
    UnsupportedParameters(u64),
    /// A cipher input had the wrong length.
    #[error(transparent)]
    Cipher(#[from] CipherError),
}

/// The curve of a standardised parameter id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaceCurve {
    /// NIST P-256 (secp256r1), parameter id 12.
    P256,
    /// brainpoolP256r1, parameter id 13.
    BrainpoolP256r1,
    /// brainpoolP384r1, parameter id 16.
    BrainpoolP384r1,
}

macro_rules! curve_ops {
    ($module:ident, $($path:ident)::+) => {
        mod $module {
            use super::PaceError;
            use $($path)::+::{AffinePoint, FieldBytes, ProjectivePoint, Scalar};
            use p256::elliptic_curve::bigint::Reduce;
            use p256::elliptic_curve::point::AffineCoordinates;
            use p256::elliptic_curve::sec1::{FromSec1Point, ToSec1Point};
            use p256::elliptic_curve::{Group, PrimeField};

            pub(super) fn field_len() -> usize {
                FieldBytes::default().len()
            }

            fn point(bytes: &[u8]) -> Result<ProjectivePoint, PaceError> {
                let affine = AffinePoint::from_sec1_bytes(bytes).map_err(|_| PaceError::InvalidPoint)?;
                let projective = ProjectivePoint::from(affine);
                if bool::from(projective.is_identity()) {
                    return Err(PaceError::InvalidPoint);
                }
                Ok(projective)
            }

            fn encode(p: ProjectivePoint) -> Result<Vec<u8>, PaceError> {
                if bool::from(p.is_identity()) {
                    return Err(PaceError::InvalidPoint);
                }
                Ok(p.to_affine().to_sec1_point(false).as_bytes().to_vec())
            }

            /// A private key in range (1 to n-1), or `None`.
            pub(super) fn private(bytes: &[u8]) -> Option<Scalar> {
                if bytes.len() != field_len() {
                    return None;
                }
                let mut repr = FieldBytes::default();
                repr.copy_from_slice(bytes);
                let s: Option<Scalar> = Scalar::from_repr(repr).into();
                s.filter(|s| !bool::from(p256::elliptic_curve::Field::is_zero(s)))
            }

            /// Any number up to the field length, reduced modulo the order.
            fn reduced(bytes: &[u8]) -> Result<Scalar, PaceError> {
                let len = field_len();
                if bytes.len() > len {
                    return Err(PaceError::InvalidScalar);
                }
                let mut repr = FieldBytes::default();
                repr[len - bytes.len()..].copy_from_slice(bytes);
                Ok(<Scalar as Reduce<FieldBytes>>::reduce(&repr))
            }

            pub(super) fn mul(base: Option<&[u8]>, k: &[u8]) -> Result<Vec<u8>, PaceError> {
                let k = private(k).ok_or(PaceError::InvalidScalar)?;
                let base = match base {
                    Some(b) => point(b)?,
                    None => ProjectivePoint::generator(),
                };
                encode(base * k)
            }

            pub(super) fn shared_x(k: &[u8], other: &[u8]) -> Result<Vec<u8>, PaceError> {
                let k = private(k).ok_or(PaceError::InvalidScalar)?;
                let p = point(other)? * k;
                if bool::from(p.is_identity()) {
                    return Err(PaceError::InvalidPoint);
                }
                Ok(p.to_affine().x().to_vec())
            }

            pub(super) fn map(nonce: &[u8], h: &[u8]) -> Result<Vec<u8>, PaceError> {
                let s = reduced(nonce)?;
                encode(ProjectivePoint::generator() * s + point(h)?)
            }

            /// The digest as a scalar: its leftmost field-length bytes, reduced (the orders of
            /// these curves have exactly the field's bit length).
            fn digest_scalar(digest: &[u8]) -> Result<Scalar, PaceError> {
                reduced(&digest[..digest.len().min(field_len())])
            }

            pub(super) fn ecdsa_verify(public: &[u8], digest: &[u8], r: &[u8], s: &[u8]) -> Result<bool, PaceError> {
                let q = point(public)?;
                let (Some(r), Some(s)) = (private(r), private(s)) else { return Ok(false) };
                let w: Option<Scalar> = p256::elliptic_curve::Field::invert(&s).into();
                let w = w.ok_or(PaceError::InvalidScalar)?;
                let e = digest_scalar(digest)?;
                let sum = ProjectivePoint::generator() * (e * w) + q * (r * w);
                if bool::from(sum.is_identity()) {
                    return Ok(false);
                }
                let x = <Scalar as Reduce<FieldBytes>>::reduce(&sum.to_affine().x());
                Ok(x == r)
            }

            pub(super) fn ecdsa_sign(d: &[u8], k: &[u8], digest: &[u8]) -> Result<(Vec<u8>, Vec<u8>), PaceError> {
                let d = private(d).ok_or(PaceError::InvalidScalar)?;
                let k = private(k).ok_or(PaceError::InvalidScalar)?;
                let r = <Scalar as Reduce<FieldBytes>>::reduce(&(ProjectivePoint::generator() * k).to_affine().x());
                let k_inv: Option<Scalar> = p256::elliptic_curve::Field::invert(&k).into();
                let s = k_inv.ok_or(PaceError::InvalidScalar)? * (digest_scalar(digest)? + r * d);
                if bool::from(p256::elliptic_curve::Field::is_zero(&r)) || bool::from(p256::elliptic_curve::Field::is_zero(&s)) {
                    return Err(PaceError::InvalidScalar);
                }
                Ok((r.to_repr().to_vec(), s.to_repr().to_vec()))
            }
        }
    };
}

curve_ops!(nist_p256, p256);
curve_ops!(brainpool_p256, bp256::r1);
curve_ops!(brainpool_p384, bp384::r1);

impl PaceCurve {
    /// The curve of a standardised domain parameter id (ICAO 9303 Part 11 §9.5.1).
    pub fn from_parameter_id(id: u64) -> Option<PaceCurve> {
        match id {
            12 => Some(PaceCurve::P256),
            13 => Some(PaceCurve::BrainpoolP256r1),
            16 => Some(PaceCurve::BrainpoolP384r1),
            _ => None,
        }
    }

    /// Length of a coordinate (and of a private key) in bytes.
    pub fn field_len(self) -> usize {
        match self {
            PaceCurve::P256 => nist_p256::field_len(),
            PaceCurve::BrainpoolP256r1 => brainpool_p256::field_len(),
            PaceCurve::BrainpoolP384r1 => brainpool_p384::field_len(),
        }
    }

    /// `k·P` (or `k·G` when `base` is `None`) as an uncompressed SEC1 point (`04 x y`); `k` a
    /// private key of the field's length, in range.
    pub fn mul(self, base: Option<&[u8]>, k: &[u8]) -> Result<Vec<u8>, PaceError> {
        match self {
            PaceCurve::P256 => nist_p256::mul(base, k),
            PaceCurve::BrainpoolP256r1 => brainpool_p256::mul(base, k),
            PaceCurve::BrainpoolP384r1 => brainpool_p384::mul(base, k),
        }
    }

    /// The x coordinate of `k·P`: the ECDH shared secret.
    pub fn shared_x(self, k: &[u8], other: &[u8]) -> Result<Zeroizing<Vec<u8>>, PaceError> {
        Ok(Zeroizing::new(match self {
            PaceCurve::P256 => nist_p256::shared_x(k, other)?,
            PaceCurve::BrainpoolP256r1 => brainpool_p256::shared_x(k, other)?,
            PaceCurve::BrainpoolP384r1 => brainpool_p384::shared_x(k, other)?,
        }))
    }

    /// The generic mapping: `G' = s·G + H`, `H` the mapping ECDH's shared point.
    pub fn map_generator(self, nonce: &[u8], h: &[u8]) -> Result<Vec<u8>, PaceError> {
        match self {
            PaceCurve::P256 => nist_p256::map(nonce, h),
            PaceCurve::BrainpoolP256r1 => brainpool_p256::map(nonce, h),
            PaceCurve::BrainpoolP384r1 => brainpool_p384::map(nonce, h),
        }
    }

    /// Verifies an ECDSA signature `(r, s)` (each up to the field's length) over `digest` with
    /// the public key `public` (uncompressed SEC1).
    pub fn ecdsa_verify(self, public: &[u8], digest: &[u8], r: &[u8], s: &[u8]) -> Result<bool, PaceError> {
        let (r, s) = (self.left_pad(r), self.left_pad(s));
        let (Some(r), Some(s)) = (r, s) else { return Ok(false) };
        match self {
            PaceCurve::P256 => nist_p256::ecdsa_verify(public, digest, &r, &s),
            PaceCurve::BrainpoolP256r1 => brainpool_p256::ecdsa_verify(public, digest, &r, &s),
            PaceCurve::BrainpoolP384r1 => brainpool_p384::ecdsa_verify(public, digest, &r, &s),
        }
    }

    /// Signs `digest` with private key `d` and per-signature secret `k` (both in range): for
    /// simulated document signers; `(r, s)`.
    pub fn ecdsa_sign(self, d: &[u8], k: &[u8], digest: &[u8]) -> Result<(Vec<u8>, Vec<u8>), PaceError> {
        match self {
            PaceCurve::P256 => nist_p256::ecdsa_sign(d, k, digest),
            PaceCurve::BrainpoolP256r1 => brainpool_p256::ecdsa_sign(d, k, digest),
            PaceCurve::BrainpoolP384r1 => brainpool_p384::ecdsa_sign(d, k, digest),
        }
    }

    fn left_pad(self, n: &[u8]) -> Option<Vec<u8>> {
        let start = n.iter().position(|&b| b != 0).unwrap_or(n.len());
        let n = &n[start..];
        let len = self.field_len();
        if n.len() > len {
            return None;
        }
        let mut out = vec![0u8; len - n.len()];
        out.extend_from_slice(n);
        Some(out)
    }

    fn valid_private(self, k: &[u8]) -> bool {
        match self {
            PaceCurve::P256 => nist_p256::private(k).is_some(),
            PaceCurve::BrainpoolP256r1 => brainpool_p256::private(k).is_some(),
            PaceCurve::BrainpoolP384r1 => brainpool_p384::private(k).is_some(),
        }
    }

    /// A random private key in range, by rejection sampling (at most 64 draws; failing all of
    /// them has a probability below 2^-90 for these curves).
    pub fn random_private_key(self, rng: &mut dyn rand::RngCore) -> Result<Zeroizing<Vec<u8>>, PaceError> {
        let mut k = Zeroizing::new(vec![0u8; self.field_len()]);
        for _ in 0..64 {
            rng.fill_bytes(&mut k);
            if self.valid_private(&k) {
                return Ok(k);
            }
        }
        Err(PaceError::InvalidScalar)
    }
}

/// Which password PACE runs on (the `83` reference of MSE:Set AT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PasswordKind {
    /// The MRZ (reference 01).
    Mrz,
    /// The card access number (reference 02).
    Can,
}

/// A PACE password (zeroized on drop; never shown by `{:?}`).
pub struct PacePassword {
    kind: PasswordKind,
    secret: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for PacePassword {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PacePassword({:?}, <redacted>)", self.kind)
    }
}

impl PacePassword {
    /// The password from the MRZ key: SHA-1 of the MRZ information.
    pub fn mrz(key: &super::mrz::MrzKey) -> PacePassword {
        PacePassword { kind: PasswordKind::Mrz, secret: kdf::pace_mrz_password(key) }
    }

    /// The password from a card access number: its ASCII digits.
    pub fn can(can: &str) -> PacePassword {
        PacePassword { kind: PasswordKind::Can, secret: Zeroizing::new(can.as_bytes().to_vec()) }
    }

    /// Which password it is.
    pub fn kind(&self) -> PasswordKind {
        self.kind
    }

    /// The MSE:Set AT password reference.
    pub fn reference(&self) -> u8 {
        match self.kind {
            PasswordKind::Mrz => 0x01,
            PasswordKind::Can => 0x02,
        }
    }

    /// Kπ = KDF(password, 3) for the protocol's cipher.
    pub fn key(&self, cipher: SmCipher) -> Zeroizing<Vec<u8>> {
        kdf(&self.secret, kdf::PACE, cipher)
    }
}

/// The MSE:Set AT command selecting PACE with this protocol, password and parameter id.
pub fn mse_set_at(info: &PaceInfo, password: PasswordKind) -> Vec<u8> {
    let reference = match password {
        PasswordKind::Mrz => 0x01,
        PasswordKind::Can => 0x02,
    };
    let mut data = tlv::encode(0x80, &info.protocol);
    data.extend(tlv::encode(0x83, &[reference]));
    if let Some(id) = info.parameter_id {
        // Always named: cards with several PACE options drop the connection without it.
        data.extend(tlv::encode(0x84, &(id as u8).to_be_bytes()));
    }
    let mut apdu = vec![0x00, 0x22, 0xC1, 0xA4, data.len() as u8];
    apdu.extend(data);
    apdu
}

/// A General Authenticate command with this dynamic authentication data object
/// (`tag`, `value`); `last` clears the command chaining bit.
pub fn general_authenticate(tag: u32, value: &[u8], last: bool) -> Vec<u8> {
    let data = if value.is_empty() && tag == 0 { tlv::encode(0x7C, &[]) } else { tlv::encode(0x7C, &tlv::encode(tag, value)) };
    let mut apdu = vec![if last { 0x00 } else { 0x10 }, 0x86, 0x00, 0x00, data.len() as u8];
    apdu.extend(data);
    apdu.push(0x00);
    apdu
}

/// The nonce decrypted: `s = D(Kπ, z)`, CBC with IV zero.
pub fn decrypt_nonce(cipher: SmCipher, kpi: &[u8], z: &[u8]) -> Result<Zeroizing<Vec<u8>>, PaceError> {
    let iv = vec![0u8; cipher.block_len()];
    Ok(Zeroizing::new(cipher::decrypt(cipher, kpi, &iv, z)?))
}

/// The nonce encrypted (the card's side): `z = E(Kπ, s)`.
pub fn encrypt_nonce(cipher: SmCipher, kpi: &[u8], s: &[u8]) -> Result<Vec<u8>, PaceError> {
    let iv = vec![0u8; cipher.block_len()];
    Ok(cipher::encrypt(cipher, kpi, &iv, s)?)
}

/// The authentication token over a public key: `MAC(KSmac, 7F49 { 06 OID, 86 point })`, or
/// `84 y` for DH protocols (ICAO 9303 Part 11 §4.4.3.4, §9.4.2): CMAC for AES, the retail MAC
/// over padded input for 3DES.
pub fn authentication_token(cipher: SmCipher, ks_mac: &[u8], oid: &[u8], public_key: &[u8]) -> Result<[u8; 8], PaceError> {
    let dh = matches!(oid.strip_prefix(&super::lds::ID_PACE[..]), Some([1 | 3, _]));
    let mut inner = tlv::encode(0x06, oid);
    inner.extend(tlv::encode(if dh { 0x84 } else { 0x86 }, public_key));
    let data = tlv::encode(0x7F49, &inner);
    Ok(match cipher {
        SmCipher::Tdes => cipher::retail_mac(ks_mac, &pad(&data, 8))?,
        _ => cipher::cmac8(ks_mac, &data)?,
    })
}

/// The session keys from the shared secret, and the secure messaging session (SSC zero).
pub fn session(cipher: SmCipher, shared_secret: &[u8]) -> Result<(SecureMessaging, Zeroizing<Vec<u8>>), PaceError> {
    let k_enc = kdf(shared_secret, kdf::ENC, cipher);
    let k_mac = kdf(shared_secret, kdf::MAC, cipher);
    let ssc = vec![0u8; cipher.block_len()];
    let sm = SecureMessaging::new(cipher, &k_enc, &k_mac, &ssc).map_err(|_| PaceError::Cipher(CipherError("session keys")))?;
    Ok((sm, k_mac))
}

/// The terminal's ephemeral values during one PACE run: each zeroized when dropped.
#[derive(Default)]
pub struct PaceSecrets {
    /// The decrypted nonce.
    pub nonce: Zeroizing<Vec<u8>>,
    /// The mapping private key.
    pub map_key: Zeroizing<Vec<u8>>,
    /// The ephemeral private key.
    pub ephemeral_key: Zeroizing<Vec<u8>>,
}
