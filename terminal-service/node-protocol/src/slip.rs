//! Referral slips: what a kiosk prints to send a household to a service beyond cash (a clinic,
//! a school, an employment office, legal aid), verifiable by the receiving service OFFLINE with
//! nothing but the provincial node's public key.
//!
//! The kiosk is offline when it prints, so the node cannot sign each slip. Instead there is a
//! chain of two Ed25519 signatures:
//!
//! 1. the node **endorses** the terminal's key: a [`TerminalCertificate`] (province, terminal
//!    id, the terminal's public key, first and last valid day) signed with the node's slip key
//!    ([`EndorsedCertificate`]). Nodes hand a fresh one to every terminal in each heartbeat
//!    answer, valid a few weeks, so a terminal that disappears stops being able to issue slips
//!    a verifier accepts once its last certificate runs out;
//! 2. the terminal signs each [`Slip`] with its own key (the one it signs node requests with,
//!    which never leaves it), over the certificate and the slip together.
//!
//! The QR carries both: `S1.<certificate>.<node signature>.<slip>.<terminal signature>`, e.g.
//! `S1.BGD.T-1A2B3C4D.<terminal key>.20261201.20261231.<sig>.K7M2Q9XA.BGD-H-0001.7K2QX-M4B9R.20261203.<sig>`
//! — twelve fields separated by `.`, keys and signatures in Crockford base 32 (52 and 103
//! characters), every character in the QR code's alphanumeric mode and on every keyboard layout
//! unshifted (see [`crate::referral`] for why), read case-insensitively. At most
//! [`MAX_PAYLOAD_LEN`] characters: a version-11 QR code at error correction M (61 modules),
//! which a 58 mm thermal printer prints at 3 dots (0.375 mm) a module and phones and 2D scanners
//! read.
//!
//! **What a slip says about the household, and why no more.** The receiving service needs to
//! know that the programme referred this household to *this* service, on which day, and a way
//! to ask the programme about it later: the service's id, the date, and the household's
//! reference at the programme (the short reference of the receipt or the case number). The
//! reference identifies the household only to the programme; no name, national id, date of
//! birth, household size or benefit status is on the slip or in the QR, so a lost slip or a
//! copied QR reveals nothing about the person, and the service asks the person in front of it
//! what it needs. The random serial lets a service notice the same slip presented twice.
//!
//! [`verify`] is what a receiving service runs (the `slip-verify` binary of this crate wraps
//! it): format, the node ([`TrustedNode`], by province), the node's endorsement, the slip's date
//! within the endorsement, the terminal's signature; each refusal named by a [`SlipError`]
//! whose [`SlipError::kind`] the test vectors in `tests/vectors/slips/` use.

use chrono::NaiveDate;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::referral::{decode_base32, encode_base32};

/// First field of every slip payload: the format's version.
pub const FORMAT_VERSION: &str = "S1";

/// What the node's endorsement signature covers before the certificate's body, so that the
/// node's slip key signing anything else never makes a certificate.
pub const CERTIFICATE_CONTEXT: &[u8] = b"enrollment-kiosk terminal certificate S1\n";

/// What the terminal's signature covers before the certificate and the slip, so that a
/// signature the terminal makes with the same key over a node request is never a slip.
pub const SLIP_CONTEXT: &[u8] = b"enrollment-kiosk referral slip S1\n";

/// Longest terminal id, service id.
pub const MAX_ID_LEN: usize = 16;

/// Longest household reference (a short reference is 11 characters, a case number 15).
pub const MAX_REFERENCE_LEN: usize = 20;

/// Largest slip serial: 40 bits, 8 base-32 characters.
pub const MAX_SERIAL: u64 = (1 << 40) - 1;

/// Longest slip payload: every field at its longest.
pub const MAX_PAYLOAD_LEN: usize = 359;

const KEY_CHARS: usize = 52;
const SIGNATURE_CHARS: usize = 103;
const FIELDS: usize = 12;

/// Why a slip (or a terminal certificate) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlipError {
    /// A field is missing or not in its format.
    #[error("slip {field} is malformed: {detail}; scan the QR code again (it is not a referral slip of this programme if it keeps failing)")]
    Malformed {
        /// Which field (`payload`, `province`, `terminal_id`, `terminal_key`, …).
        field: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The payload starts with a version this software does not know.
    #[error("slip format '{0}' is not supported (this verifier reads {FORMAT_VERSION}): get the newer verifier from the programme")]
    UnsupportedVersion(String),
    /// The slip was endorsed by the node of a province whose key the verifier was not given.
    #[error("slip was issued in province {province}, whose node key this verifier was not given (it knows {known}): add that province's key (`--node-key {province}=KEY`)")]
    WrongNode {
        /// The province in the certificate.
        province: String,
        /// The provinces the verifier knows, comma-separated.
        known: String,
    },
    /// The node's endorsement of the terminal is not signed by the province's node key.
    #[error("the terminal certificate is not signed by the node key of province {province}: the slip is forged, or the key given is not that node's; check the key with the programme")]
    EndorsementInvalid {
        /// The province in the certificate.
        province: String,
    },
    /// The slip is dated after the last day of the terminal's certificate.
    #[error("the terminal's endorsement ended on {valid_until} but the slip is dated {issued_on}: the slip is not valid; the household asks the programme's office for a new one")]
    EndorsementExpired {
        /// The certificate's last valid day.
        valid_until: NaiveDate,
        /// The slip's date.
        issued_on: NaiveDate,
    },
    /// The slip is dated before the terminal's certificate begins.
    #[error("the slip is dated {issued_on}, before the terminal's endorsement began ({valid_from}): the slip is not valid; the household asks the programme's office for a new one")]
    EndorsementNotYetValid {
        /// The certificate's first valid day.
        valid_from: NaiveDate,
        /// The slip's date.
        issued_on: NaiveDate,
    },
    /// The terminal's signature does not cover this slip (altered or forged).
    #[error("the slip's signature is not terminal {terminal_id}'s: the slip was altered or forged; do not accept it, ask the programme's office")]
    SignatureInvalid {
        /// The terminal the certificate names.
        terminal_id: String,
    },
    /// The slip is dated after the verifier's today.
    #[error("the slip is dated {issued_on}, after today ({today}): check this computer's date; a slip cannot come from the future")]
    DatedInFuture {
        /// The slip's date.
        issued_on: NaiveDate,
        /// The verifier's today.
        today: NaiveDate,
    },
    /// Signing with a key that is not the certificate's.
    #[error("the terminal key does not match the key in its certificate: the terminal was re-enrolled; wait for the node's next certificate (at the next heartbeat)")]
    KeyMismatch,
}

impl SlipError {
    /// The kind, as the verifier prints it and the test vectors name it: `malformed`,
    /// `unsupported_version`, `wrong_node`, `endorsement_invalid`, `endorsement_expired`,
    /// `endorsement_not_yet_valid`, `signature_invalid`, `dated_in_future`, `key_mismatch`.
    pub fn kind(&self) -> &'static str {
        match self {
            SlipError::Malformed { .. } => "malformed",
            SlipError::UnsupportedVersion(_) => "unsupported_version",
            SlipError::WrongNode { .. } => "wrong_node",
            SlipError::EndorsementInvalid { .. } => "endorsement_invalid",
            SlipError::EndorsementExpired { .. } => "endorsement_expired",
            SlipError::EndorsementNotYetValid { .. } => "endorsement_not_yet_valid",
            SlipError::SignatureInvalid { .. } => "signature_invalid",
            SlipError::DatedInFuture { .. } => "dated_in_future",
            SlipError::KeyMismatch => "key_mismatch",
        }
    }

    /// The field a `malformed` error is about.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            SlipError::Malformed { field, .. } => Some(field),
            _ => None,
        }
    }
}

fn malformed(field: &'static str, detail: impl Into<String>) -> SlipError {
    SlipError::Malformed { field, detail: detail.into() }
}

/// `[A-Z0-9-]{1,max}`: ids and references as they go into a payload.
fn check_id(field: &'static str, value: &str, min: usize, max: usize) -> Result<(), SlipError> {
    let ok = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-';
    if (min..=max).contains(&value.len()) && value.bytes().all(ok) {
        Ok(())
    } else {
        Err(malformed(field, format!("'{value}' is not {min} to {max} characters of A-Z, 0-9 and '-'")))
    }
}

fn check_province(province: &str) -> Result<(), SlipError> {
    if (2..=4).contains(&province.len()) && province.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(malformed("province", format!("'{province}' is not a governorate code (2 to 4 letters A-Z, e.g. BGD)")))
    }
}

fn date_text(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

fn parse_date(field: &'static str, text: &str) -> Result<NaiveDate, SlipError> {
    NaiveDate::parse_from_str(text, "%Y%m%d")
        .ok()
        .filter(|_| text.len() == 8)
        .ok_or_else(|| malformed(field, format!("'{text}' is not a date YYYYMMDD")))
}

fn parse_key(field: &'static str, text: &str) -> Result<VerifyingKey, SlipError> {
    let bytes: [u8; 32] = decode_base32(text, 32)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| malformed(field, format!("{} characters are not a base-32 Ed25519 public key ({KEY_CHARS})", text.len())))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| malformed(field, format!("not an Ed25519 public key ({e})")))
}

fn parse_signature(field: &'static str, text: &str) -> Result<Signature, SlipError> {
    let bytes = decode_base32(text, 64)
        .filter(|_| text.len() == SIGNATURE_CHARS)
        .ok_or_else(|| malformed(field, format!("{} characters are not a base-32 Ed25519 signature ({SIGNATURE_CHARS})", text.len())))?;
    Signature::from_slice(&bytes).map_err(|e| malformed(field, e.to_string()))
}

/// The node's statement "this key is terminal `terminal_id` of province `province` from
/// `valid_from` through `valid_until`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalCertificate {
    /// Governorate code of the node, e.g. `BGD`: which node key verifies the endorsement.
    pub province: String,
    /// The terminal's id at the node, upper case (`T-1A2B3C4D`).
    pub terminal_id: String,
    /// The terminal's Ed25519 public key.
    pub terminal_key: VerifyingKey,
    /// First day slips signed under it are valid.
    pub valid_from: NaiveDate,
    /// Last day slips signed under it are valid.
    pub valid_until: NaiveDate,
}

impl TerminalCertificate {
    /// Checks every field's format.
    pub fn check_fields(&self) -> Result<(), SlipError> {
        check_province(&self.province)?;
        check_id("terminal_id", &self.terminal_id, 1, MAX_ID_LEN)?;
        if self.valid_until < self.valid_from {
            return Err(malformed("valid_until", format!("{} is before the first valid day {}", self.valid_until, self.valid_from)));
        }
        Ok(())
    }

    /// `BGD.T-1A2B3C4D.<key>.20261201.20261231`: what the node signs.
    pub fn body(&self) -> String {
        format!(
            "{}.{}.{}.{}.{}",
            self.province,
            self.terminal_id,
            encode_base32(self.terminal_key.as_bytes()),
            date_text(self.valid_from),
            date_text(self.valid_until)
        )
    }

    /// The node's endorsement: signs the certificate with the node's slip key.
    pub fn endorse(self, node_key: &SigningKey) -> Result<EndorsedCertificate, SlipError> {
        self.check_fields()?;
        let signature = node_key.sign(&certificate_message(&self.body()));
        Ok(EndorsedCertificate { certificate: self, signature })
    }
}

fn certificate_message(body: &str) -> Vec<u8> {
    let mut message = CERTIFICATE_CONTEXT.to_vec();
    message.extend_from_slice(body.as_bytes());
    message
}

/// A terminal certificate with the node's signature: what a terminal receives (as
/// [`EndorsedCertificate::text`]) and every slip it prints carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndorsedCertificate {
    /// The certified fields.
    pub certificate: TerminalCertificate,
    /// The node's signature over [`CERTIFICATE_CONTEXT`] and the body.
    pub signature: Signature,
}

impl EndorsedCertificate {
    /// `<body>.<node signature>`: six fields, how it travels and how it sits in a slip.
    pub fn text(&self) -> String {
        format!("{}.{}", self.certificate.body(), encode_base32(&self.signature.to_bytes()))
    }

    /// Reads [`EndorsedCertificate::text`] (format only; see [`EndorsedCertificate::verify`]).
    pub fn parse(text: &str) -> Result<EndorsedCertificate, SlipError> {
        let fields: Vec<&str> = text.trim().split('.').collect();
        if fields.len() != 6 {
            return Err(malformed("certificate", format!("{} fields separated by '.', a terminal certificate has 6", fields.len())));
        }
        Self::from_fields(&fields)
    }

    fn from_fields(fields: &[&str]) -> Result<EndorsedCertificate, SlipError> {
        let certificate = TerminalCertificate {
            province: fields[0].to_string(),
            terminal_id: fields[1].to_string(),
            terminal_key: parse_key("terminal_key", fields[2])?,
            valid_from: parse_date("valid_from", fields[3])?,
            valid_until: parse_date("valid_until", fields[4])?,
        };
        certificate.check_fields()?;
        let signature = parse_signature("endorsement", fields[5])?;
        Ok(EndorsedCertificate { certificate, signature })
    }

    /// Checks the node's signature with `node_key`.
    pub fn verify(&self, node_key: &VerifyingKey) -> Result<(), SlipError> {
        node_key
            .verify(&certificate_message(&self.certificate.body()), &self.signature)
            .map_err(|_| SlipError::EndorsementInvalid { province: self.certificate.province.clone() })
    }

    /// Whether `day` lies within the certificate's validity (both ends included).
    pub fn covers(&self, day: NaiveDate) -> bool {
        (self.certificate.valid_from..=self.certificate.valid_until).contains(&day)
    }
}

/// What one slip says: which service, for which household, on which day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Slip {
    /// Random, so a service can notice the same slip twice; at most [`MAX_SERIAL`].
    pub serial: u64,
    /// The service's id in the node's service directory (`BGD-H-0001`).
    pub service: String,
    /// The household's reference at the programme (the receipt's short reference or the case
    /// number), upper case; `None` when the kiosk had none.
    pub reference: Option<String>,
    /// The day it was printed (Iraq's date).
    pub issued_on: NaiveDate,
}

impl Slip {
    /// Checks every field's format.
    pub fn check_fields(&self) -> Result<(), SlipError> {
        if self.serial > MAX_SERIAL {
            return Err(malformed("serial", format!("{} is larger than 40 bits", self.serial)));
        }
        check_id("service", &self.service, 1, MAX_ID_LEN)?;
        if let Some(reference) = &self.reference {
            check_id("reference", reference, 1, MAX_REFERENCE_LEN)?;
        }
        Ok(())
    }

    /// `<serial>.<service>.<reference or empty>.<YYYYMMDD>`.
    pub fn body(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            encode_serial(self.serial),
            self.service,
            self.reference.as_deref().unwrap_or(""),
            date_text(self.issued_on)
        )
    }

    /// Signs the slip with the terminal's key under its certificate; refused when the key is
    /// not the certified one (a verifier would refuse the slip).
    pub fn sign(self, certificate: &EndorsedCertificate, terminal_key: &SigningKey) -> Result<SignedSlip, SlipError> {
        self.check_fields()?;
        if terminal_key.verifying_key() != certificate.certificate.terminal_key {
            return Err(SlipError::KeyMismatch);
        }
        let signature = terminal_key.sign(&slip_message(&certificate.text(), &self.body()));
        Ok(SignedSlip { certificate: certificate.clone(), slip: self, signature })
    }
}

fn slip_message(certificate: &str, body: &str) -> Vec<u8> {
    let mut message = SLIP_CONTEXT.to_vec();
    message.extend_from_slice(certificate.as_bytes());
    message.push(b'.');
    message.extend_from_slice(body.as_bytes());
    message
}

/// A slip with its certificate and the terminal's signature: what the QR code carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedSlip {
    /// The node's endorsement of the terminal.
    pub certificate: EndorsedCertificate,
    /// The slip.
    pub slip: Slip,
    /// The terminal's signature over [`SLIP_CONTEXT`], the certificate text, `.` and the body.
    pub signature: Signature,
}

impl SignedSlip {
    /// The QR payload.
    pub fn payload(&self) -> String {
        format!("{FORMAT_VERSION}.{}.{}.{}", self.certificate.text(), self.slip.body(), encode_base32(&self.signature.to_bytes()))
    }

    /// Reads a QR payload as a scanner or a phone gives it: surrounding white space and letter
    /// case do not matter; anything else not in the canonical form is refused. Checks the format
    /// only (see [`SignedSlip::verify`]).
    pub fn parse(payload: &str) -> Result<SignedSlip, SlipError> {
        let text = payload.trim().to_ascii_uppercase();
        if text.is_empty() {
            return Err(malformed("payload", "it is empty"));
        }
        if text.len() > MAX_PAYLOAD_LEN {
            return Err(malformed("payload", format!("{} characters is longer than a slip ({MAX_PAYLOAD_LEN})", text.len())));
        }
        if let Some(bad) = text.chars().find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '.' | '-'))) {
            return Err(malformed("payload", format!("character {bad:?} is not in a slip (letters, digits, '.', '-')")));
        }
        let fields: Vec<&str> = text.split('.').collect();
        if fields[0] != FORMAT_VERSION {
            return if fields[0].len() >= 2 && fields[0].starts_with('S') && fields[0][1..].bytes().all(|b| b.is_ascii_digit()) {
                Err(SlipError::UnsupportedVersion(fields[0].to_string()))
            } else {
                Err(malformed("version", format!("'{}' is not a slip's version (expected {FORMAT_VERSION})", fields[0])))
            };
        }
        if fields.len() != FIELDS {
            return Err(malformed("payload", format!("{} fields separated by '.', a slip has {FIELDS}", fields.len())));
        }
        let certificate = EndorsedCertificate::from_fields(&fields[1..7])?;
        let serial = decode_serial(fields[7]).ok_or_else(|| malformed("serial", format!("'{}' is not 8 base-32 characters", fields[7])))?;
        let slip = Slip {
            serial,
            service: fields[8].to_string(),
            reference: Some(fields[9].to_string()).filter(|r| !r.is_empty()),
            issued_on: parse_date("issued_on", fields[10])?,
        };
        slip.check_fields()?;
        let signature = parse_signature("signature", fields[11])?;
        let signed = SignedSlip { certificate, slip, signature };
        // One spelling per slip, so what a service records is what the terminal printed.
        if signed.payload() != text {
            return Err(malformed("payload", "not in canonical form (padding bits or look-alike letters)"));
        }
        Ok(signed)
    }

    /// Checks, in this order: the certificate's province is one of `nodes` (else
    /// [`SlipError::WrongNode`]), the node's endorsement, the slip's date within the
    /// certificate, the terminal's signature, and (when `today` is given) that the slip is not
    /// dated after `today`.
    pub fn verify(&self, nodes: &[TrustedNode], today: Option<NaiveDate>) -> Result<(), SlipError> {
        let province = &self.certificate.certificate.province;
        let mut keys = nodes.iter().filter(|n| &n.province == province).peekable();
        if keys.peek().is_none() {
            let mut known: Vec<&str> = nodes.iter().map(|n| n.province.as_str()).collect();
            known.dedup();
            return Err(SlipError::WrongNode { province: province.clone(), known: if known.is_empty() { "none".into() } else { known.join(", ") } });
        }
        // A node may hold more than one key while it rotates them.
        if !keys.any(|n| self.certificate.verify(&n.key).is_ok()) {
            return Err(SlipError::EndorsementInvalid { province: province.clone() });
        }
        let certificate = &self.certificate.certificate;
        let issued_on = self.slip.issued_on;
        if issued_on > certificate.valid_until {
            return Err(SlipError::EndorsementExpired { valid_until: certificate.valid_until, issued_on });
        }
        if issued_on < certificate.valid_from {
            return Err(SlipError::EndorsementNotYetValid { valid_from: certificate.valid_from, issued_on });
        }
        certificate
            .terminal_key
            .verify(&slip_message(&self.certificate.text(), &self.slip.body()), &self.signature)
            .map_err(|_| SlipError::SignatureInvalid { terminal_id: certificate.terminal_id.clone() })?;
        if let Some(today) = today.filter(|today| issued_on > *today) {
            return Err(SlipError::DatedInFuture { issued_on, today });
        }
        Ok(())
    }
}

/// Parses and verifies a QR payload in one step ([`SignedSlip::parse`], [`SignedSlip::verify`]).
pub fn verify(payload: &str, nodes: &[TrustedNode], today: Option<NaiveDate>) -> Result<SignedSlip, SlipError> {
    let signed = SignedSlip::parse(payload)?;
    signed.verify(nodes, today)?;
    Ok(signed)
}

/// A node key a verifier trusts: the province the node serves and its slip public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedNode {
    /// Governorate code, e.g. `BGD`.
    pub province: String,
    /// The node's slip key.
    pub key: VerifyingKey,
}

impl TrustedNode {
    /// `BGD=<standard base64 key>`, as `provincial-node slips node-key` prints it.
    pub fn line(&self) -> String {
        use base64::Engine;
        format!("{}={}", self.province, base64::engine::general_purpose::STANDARD.encode(self.key.as_bytes()))
    }
}

impl std::str::FromStr for TrustedNode {
    type Err = String;

    /// Reads `PROVINCE=KEY` (the key in standard base64).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        use base64::Engine;
        let (province, key) = text
            .trim()
            .split_once('=')
            .ok_or_else(|| format!("'{text}' is not PROVINCE=KEY (e.g. BGD=q83v…=, as `provincial-node slips node-key` prints it)"))?;
        let province = province.trim().to_ascii_uppercase();
        check_province(&province).map_err(|e| e.to_string())?;
        let bytes: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(key.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("the key of {province} is not 32 bytes of standard base64"))?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|e| format!("the key of {province} is not an Ed25519 public key: {e}"))?;
        Ok(TrustedNode { province, key })
    }
}

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn encode_serial(serial: u64) -> String {
    (0..8).rev().map(|i| ALPHABET[((serial >> (5 * i)) & 31) as usize] as char).collect()
}

fn decode_serial(text: &str) -> Option<u64> {
    if text.len() != 8 {
        return None;
    }
    text.bytes().try_fold(0u64, |acc, c| Some((acc << 5) | ALPHABET.iter().position(|&a| a == c)? as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn node_key() -> SigningKey {
        SigningKey::from_bytes(&[1u8; 32])
    }

    fn terminal_key() -> SigningKey {
        SigningKey::from_bytes(&[2u8; 32])
    }

    fn certificate() -> EndorsedCertificate {
        TerminalCertificate {
            province: "BGD".into(),
            terminal_id: "T-1A2B3C4D".into(),
            terminal_key: terminal_key().verifying_key(),
            valid_from: day(2026, 12, 1),
            valid_until: day(2026, 12, 31),
        }
        .endorse(&node_key())
        .unwrap()
    }

    fn slip() -> Slip {
        Slip { serial: 0x12_3456_789A, service: "BGD-H-0001".into(), reference: Some("7K2QX-M4B9R".into()), issued_on: day(2026, 12, 3) }
    }

    fn nodes() -> Vec<TrustedNode> {
        vec![TrustedNode { province: "BGD".into(), key: node_key().verifying_key() }]
    }

    #[test]
    fn a_signed_slip_verifies_from_its_payload_in_any_case() {
        let signed = slip().sign(&certificate(), &terminal_key()).unwrap();
        let payload = signed.payload();
        assert!(payload.starts_with("S1.BGD.T-1A2B3C4D.") && payload.len() <= MAX_PAYLOAD_LEN, "{payload}");
        let read = verify(&format!(" {}\n", payload.to_lowercase()), &nodes(), Some(day(2026, 12, 3))).unwrap();
        assert_eq!(read, signed);
        // The certificate travels on its own too.
        assert_eq!(EndorsedCertificate::parse(&certificate().text()).unwrap(), certificate());
    }

    #[test]
    fn each_refusal_is_named() {
        let payload = slip().sign(&certificate(), &terminal_key()).unwrap().payload();
        let kind = |payload: &str, nodes: &[TrustedNode], today| verify(payload, nodes, today).unwrap_err().kind();
        let erbil = vec![TrustedNode { province: "ERB".into(), key: node_key().verifying_key() }];
        assert_eq!(kind(&payload, &erbil, None), "wrong_node");
        let impostor = vec![TrustedNode { province: "BGD".into(), key: SigningKey::from_bytes(&[9u8; 32]).verifying_key() }];
        assert_eq!(kind(&payload, &impostor, None), "endorsement_invalid");
        // Another service, same signature.
        assert_eq!(kind(&payload.replacen(".BGD-H-0001.", ".BGD-H-0002.", 1), &nodes(), None), "signature_invalid");
        // A longer validity, same endorsement.
        assert_eq!(kind(&payload.replacen(".20261231.", ".20271231.", 1), &nodes(), None), "endorsement_invalid");
        assert_eq!(kind(&payload, &nodes(), Some(day(2026, 12, 2))), "dated_in_future");
        let late = Slip { issued_on: day(2027, 1, 1), ..slip() }.sign(&certificate(), &terminal_key()).unwrap().payload();
        assert_eq!(kind(&late, &nodes(), None), "endorsement_expired");
        let early = Slip { issued_on: day(2026, 11, 30), ..slip() }.sign(&certificate(), &terminal_key()).unwrap().payload();
        assert_eq!(kind(&early, &nodes(), None), "endorsement_not_yet_valid");
        assert_eq!(kind(&payload.replacen("S1.", "S2.", 1), &nodes(), None), "unsupported_version");
        assert_eq!(kind("7K2QX-M4B9R", &nodes(), None), "malformed");
        assert_eq!(kind(&payload[..payload.len() - 1], &nodes(), None), "malformed");
        assert_eq!(slip().sign(&certificate(), &SigningKey::from_bytes(&[3u8; 32])).unwrap_err(), SlipError::KeyMismatch);
    }

    #[test]
    fn a_slip_without_reference_and_the_longest_slip_fit() {
        let bare = Slip { reference: None, ..slip() }.sign(&certificate(), &terminal_key()).unwrap();
        assert!(bare.payload().contains(".BGD-H-0001..20261203."), "{}", bare.payload());
        assert_eq!(verify(&bare.payload(), &nodes(), None).unwrap().slip.reference, None);
        let longest_certificate = TerminalCertificate {
            province: "ABCD".into(),
            terminal_id: "T".repeat(MAX_ID_LEN),
            ..certificate().certificate
        }
        .endorse(&node_key())
        .unwrap();
        let longest = Slip { serial: MAX_SERIAL, service: "S".repeat(MAX_ID_LEN), reference: Some("R".repeat(MAX_REFERENCE_LEN)), ..slip() };
        let payload = longest.sign(&longest_certificate, &terminal_key()).unwrap().payload();
        assert_eq!(payload.len(), MAX_PAYLOAD_LEN);
    }

    // Version 11 at error correction M holds 366 alphanumeric characters: the longest slip fits.
    const _: () = assert!(MAX_PAYLOAD_LEN <= 366);

    #[test]
    fn signatures_are_bound_to_their_context() {
        // The terminal's signature over the slip's bytes without the slip context (as a node
        // request signature would be) is not a slip signature.
        let signed = slip().sign(&certificate(), &terminal_key()).unwrap();
        let bare = terminal_key().sign(format!("{}.{}", certificate().text(), signed.slip.body()).as_bytes());
        let forged = SignedSlip { signature: bare, ..signed };
        assert_eq!(verify(&forged.payload(), &nodes(), None).unwrap_err().kind(), "signature_invalid");
    }

    #[test]
    fn node_keys_read_as_province_equals_key() {
        let line = nodes()[0].line();
        assert_eq!(line.parse::<TrustedNode>().unwrap(), nodes()[0]);
        assert!("BGD".parse::<TrustedNode>().unwrap_err().contains("PROVINCE=KEY"));
        assert!("BGD=abc".parse::<TrustedNode>().unwrap_err().contains("32 bytes"));
        assert!("baghdad1=abc".parse::<TrustedNode>().unwrap_err().contains("governorate code"));
    }
}
