//! Partner referrals: a household referred into the programme by a humanitarian partner (WFP,
//! UNHCR, a Cash Working Group NGO), on paper, verifiable offline.
//!
//! A referral names the partner, a serial chosen by the partner, the dates it is valid between,
//! the household size, the governorate (a code of the node's master data) and the partner's own
//! case number; the partner signs it with its Ed25519 key, and each node trusts partners' keys
//! per partner. It travels in two forms:
//!
//! - the **QR payload** (what a 2D scanner reads off the slip), the whole signed referral:
//!   `R1.WFP.K7M2Q9XA.20261201.20270301.5.BGD.IRQ-2026-00042.<signature>` — the body's fields
//!   separated by `.`, then the 64-byte signature in Crockford base 32 (103 characters). Every
//!   character is an upper-case letter, a digit, `.`, `-` or `/`: the QR code's alphanumeric
//!   mode (5.5 bits a character, denser than base64 in byte mode), and only keys that sit
//!   unshifted on every keyboard layout, so the common USB scanner that "types" what it reads
//!   cannot garble it. Reading is case-insensitive because such a scanner types lower case when
//!   Caps Lock is on. At most 173 characters (QR version 7 at error correction M, about 4 cm
//!   on 58 mm thermal paper at the module size cheap scanners read). The signature is over
//!   [`SIGNING_CONTEXT`] followed by the body, so a partner's key signing anything else can
//!   never produce a valid referral.
//! - the **short code** a person types: `WFP-K7M-2Q9-XAT`, the partner's code, the serial's
//!   40 bits as 8 Crockford base-32 characters, and one check character (Luhn mod 32 over
//!   prefix and serial). Crockford's alphabet has no I, L, O or U, and reading forgives lower
//!   case and the look-alikes (`O`→`0`, `I`/`L`→`1`), so what is read aloud or copied by hand
//!   comes back right; the check character catches every single mistyped character and every
//!   swap of two neighbours but `0`↔`Z` (values 0 and 31, Luhn's blind spot), before
//!   anyone asks the node. A short code carries no signature: the node that recorded the
//!   referral looks it up; offline, a kiosk can only prefill from a scanned QR.
//!
//! [`verify`] is what a node and a kiosk both run: format, partner, signature, dates, each
//! refusal named by a [`ReferralError`] whose [`ReferralError::code`] is the wire's
//! [`crate::ReferralRefusal`]. The test vectors partners check their own implementations
//! against are in `tests/vectors/referrals/`.

use chrono::NaiveDate;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

/// First field of every referral body: the format's version.
pub const FORMAT_VERSION: &str = "R1";

/// What a partner's signature covers before the body, so that a signature made by the same key
/// for any other purpose is never a valid referral.
pub const SIGNING_CONTEXT: &[u8] = b"enrollment-kiosk referral R1\n";

/// Crockford's base 32 alphabet (no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Largest serial: 40 bits, 8 base-32 characters.
pub const MAX_SERIAL: u64 = (1 << 40) - 1;

/// Longest partner case number, in characters.
pub const MAX_PARTNER_CASE: usize = 24;

/// Largest household a referral may name.
pub const MAX_HOUSEHOLD_SIZE: u8 = 30;

/// Longest QR payload: every field at its longest.
pub const MAX_PAYLOAD_LEN: usize = 173;

/// Characters of the signature in base 32 (512 bits).
const SIGNATURE_CHARS: usize = 103;

/// Why a referral (or a short code) is not accepted. [`ReferralError::code`] names each kind in
/// the words of the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferralError {
    /// A field is missing or not in its format.
    #[error("referral {field} is malformed: {detail}; scan the slip again or type its short code")]
    Malformed {
        /// Which field (`version`, `partner`, `serial`, `issued_on`, …, `payload`, `short_code`).
        field: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The body starts with a version this software does not know.
    #[error("referral format '{0}' is not supported (this software reads {FORMAT_VERSION}); update the terminal or ask the partner for a new slip")]
    UnsupportedVersion(String),
    /// The short code's check character does not match: something was mistyped.
    #[error("short code check character does not match: a character was mistyped; type the code again")]
    CheckCharacter,
    /// No key of this partner is trusted here.
    #[error("partner '{0}' is not trusted at this node: the node operator adds it with `provincial-node partners add`")]
    UnknownPartner(String),
    /// The signature is not the partner's over this body (forged or altered).
    #[error("referral signature is not partner {partner}'s: the slip was altered or forged; ask the partner to confirm the referral")]
    SignatureInvalid {
        /// The partner the referral claims.
        partner: String,
    },
    /// Issued after `today` (a wrong clock, or a forged date).
    #[error("referral is dated {issued_on}, after today ({today}): check the date of the terminal, or ask the partner")]
    NotYetValid {
        /// Its issue date.
        issued_on: NaiveDate,
        /// The day it was checked.
        today: NaiveDate,
    },
    /// Valid until `expires_on`, which has passed.
    #[error("referral expired on {expires_on} (today is {today}): the household asks the partner for a new referral")]
    Expired {
        /// Its last valid day.
        expires_on: NaiveDate,
        /// The day it was checked.
        today: NaiveDate,
    },
}

impl ReferralError {
    /// The wire name of the refusal (`malformed`, `unknown_partner`, `signature_invalid`,
    /// `not_yet_valid`, `expired`); a wrong check character and an unknown version are
    /// `malformed` on the wire.
    pub fn code(&self) -> &'static str {
        self.refusal().as_str()
    }

    /// The precise kind, as the test vectors name it: `malformed`, `unsupported_version`,
    /// `check_character`, `unknown_partner`, `signature_invalid`, `not_yet_valid`, `expired`.
    pub fn kind(&self) -> &'static str {
        match self {
            ReferralError::Malformed { .. } => "malformed",
            ReferralError::UnsupportedVersion(_) => "unsupported_version",
            ReferralError::CheckCharacter => "check_character",
            other => other.code(),
        }
    }

    /// The field a `malformed` error is about.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ReferralError::Malformed { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The refusal the node records and answers for this error.
    pub fn refusal(&self) -> crate::ReferralRefusal {
        use crate::ReferralRefusal as R;
        match self {
            ReferralError::Malformed { .. } | ReferralError::UnsupportedVersion(_) | ReferralError::CheckCharacter => R::Malformed,
            ReferralError::UnknownPartner(_) => R::UnknownPartner,
            ReferralError::SignatureInvalid { .. } => R::SignatureInvalid,
            ReferralError::NotYetValid { .. } => R::NotYetValid,
            ReferralError::Expired { .. } => R::Expired,
        }
    }
}

fn malformed(field: &'static str, detail: impl Into<String>) -> ReferralError {
    ReferralError::Malformed { field, detail: detail.into() }
}

/// What a partner refers: the signed fields of a referral.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Referral {
    /// The partner's code, 2 to 6 letters A–Z (`WFP`, `UNHCR`).
    pub partner: String,
    /// The partner's serial for this referral, unique per partner, at most [`MAX_SERIAL`].
    pub serial: u64,
    /// The day it was issued.
    pub issued_on: NaiveDate,
    /// The last day it may be used.
    pub expires_on: NaiveDate,
    /// Members of the household, 1 to [`MAX_HOUSEHOLD_SIZE`].
    pub household_size: u8,
    /// Governorate code of the node's master data, e.g. `BGD`.
    pub governorate: String,
    /// The partner's own case number: letters A–Z, digits, `-` and `/`, at most
    /// [`MAX_PARTNER_CASE`] characters.
    pub partner_case: String,
}

impl Referral {
    /// Checks every field's format (not the dates against today).
    pub fn check_fields(&self) -> Result<(), ReferralError> {
        check_partner(&self.partner)?;
        if self.serial > MAX_SERIAL {
            return Err(malformed("serial", format!("{} is larger than 40 bits", self.serial)));
        }
        if self.expires_on < self.issued_on {
            return Err(malformed("expires_on", format!("{} is before the issue date {}", self.expires_on, self.issued_on)));
        }
        if !(1..=MAX_HOUSEHOLD_SIZE).contains(&self.household_size) {
            return Err(malformed("household_size", format!("{} is not between 1 and {MAX_HOUSEHOLD_SIZE}", self.household_size)));
        }
        if !(2..=4).contains(&self.governorate.len()) || !self.governorate.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(malformed("governorate", format!("'{}' is not a governorate code (2 to 4 letters A-Z, e.g. BGD)", self.governorate)));
        }
        let case_ok = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'/';
        if self.partner_case.is_empty() || self.partner_case.len() > MAX_PARTNER_CASE || !self.partner_case.bytes().all(case_ok) {
            return Err(malformed(
                "partner_case",
                format!("'{}' is not 1 to {MAX_PARTNER_CASE} characters of A-Z, 0-9, '-' and '/'", self.partner_case),
            ));
        }
        Ok(())
    }

    /// The signed body, e.g. `R1.WFP.K7M2Q9XA.20261201.20270301.5.BGD.IRQ-2026-00042`.
    pub fn body(&self) -> String {
        format!(
            "{FORMAT_VERSION}.{}.{}.{}.{}.{}.{}.{}",
            self.partner,
            encode_serial(self.serial),
            self.issued_on.format("%Y%m%d"),
            self.expires_on.format("%Y%m%d"),
            self.household_size,
            self.governorate,
            self.partner_case
        )
    }

    /// The short code a person types, e.g. `WFP-K7M-2Q9-XAT`.
    pub fn short_code(&self) -> String {
        ShortCode { partner: self.partner.clone(), serial: self.serial }.to_string()
    }

    /// Signs the referral with the partner's key, after checking its fields.
    pub fn sign(self, key: &SigningKey) -> Result<SignedReferral, ReferralError> {
        self.check_fields()?;
        let signature = key.sign(&signed_message(&self.body()));
        Ok(SignedReferral { referral: self, signature })
    }
}

fn signed_message(body: &str) -> Vec<u8> {
    let mut message = SIGNING_CONTEXT.to_vec();
    message.extend_from_slice(body.as_bytes());
    message
}

fn check_partner(partner: &str) -> Result<(), ReferralError> {
    if (2..=6).contains(&partner.len()) && partner.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(malformed("partner", format!("'{partner}' is not a partner code (2 to 6 letters A-Z, e.g. WFP)")))
    }
}

/// A referral with its partner's signature: what the QR payload carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedReferral {
    /// The signed fields.
    pub referral: Referral,
    /// The partner's Ed25519 signature over [`SIGNING_CONTEXT`] and the body.
    pub signature: Signature,
}

impl SignedReferral {
    /// The QR payload: the body, `.`, and the signature in base 32.
    pub fn payload(&self) -> String {
        format!("{}.{}", self.referral.body(), encode_base32(&self.signature.to_bytes()))
    }

    /// Reads a QR payload as a scanner typed it: surrounding white space (the scanner's Enter)
    /// and letter case do not matter; anything else not in the canonical form is refused.
    /// Checks the format only, not the signature or dates (see [`SignedReferral::verify`]).
    pub fn parse(payload: &str) -> Result<SignedReferral, ReferralError> {
        let text = payload.trim().to_ascii_uppercase();
        if text.is_empty() {
            return Err(malformed("payload", "it is empty"));
        }
        if text.len() > MAX_PAYLOAD_LEN {
            return Err(malformed("payload", format!("{} characters is longer than a referral ({MAX_PAYLOAD_LEN})", text.len())));
        }
        if let Some(bad) = text.chars().find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '/'))) {
            return Err(malformed("payload", format!("character {bad:?} is not in a referral (letters, digits, '.', '-', '/')")));
        }
        let fields: Vec<&str> = text.split('.').collect();
        if fields[0] != FORMAT_VERSION {
            // Anything that is not even a version ("R" and digits) is simply not a referral.
            return if fields[0].len() >= 2 && fields[0].starts_with('R') && fields[0][1..].bytes().all(|b| b.is_ascii_digit()) {
                Err(ReferralError::UnsupportedVersion(fields[0].to_string()))
            } else {
                Err(malformed("version", format!("'{}' is not a referral's version (expected {FORMAT_VERSION})", fields[0])))
            };
        }
        if fields.len() != 9 {
            return Err(malformed("payload", format!("{} fields separated by '.', a referral has 9", fields.len())));
        }
        let partner = fields[1].to_string();
        check_partner(&partner)?;
        let serial = decode_serial(fields[2]).ok_or_else(|| malformed("serial", format!("'{}' is not 8 base-32 characters", fields[2])))?;
        let date = |field: &'static str, text: &str| {
            NaiveDate::parse_from_str(text, "%Y%m%d")
                .ok()
                .filter(|_| text.len() == 8)
                .ok_or_else(|| malformed(field, format!("'{text}' is not a date YYYYMMDD")))
        };
        let issued_on = date("issued_on", fields[3])?;
        let expires_on = date("expires_on", fields[4])?;
        let household_size = fields[5]
            .parse::<u8>()
            .ok()
            .filter(|_| fields[5].bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| malformed("household_size", format!("'{}' is not a number", fields[5])))?;
        let referral = Referral {
            partner,
            serial,
            issued_on,
            expires_on,
            household_size,
            governorate: fields[6].to_string(),
            partner_case: fields[7].to_string(),
        };
        referral.check_fields()?;
        let signature = decode_base32(fields[8], 64)
            .filter(|_| fields[8].len() == SIGNATURE_CHARS)
            .ok_or_else(|| malformed("signature", format!("{} characters are not a base-32 Ed25519 signature ({SIGNATURE_CHARS})", fields[8].len())))?;
        let signature = Signature::from_slice(&signature).map_err(|e| malformed("signature", e.to_string()))?;
        let signed = SignedReferral { referral, signature };
        // One spelling per referral: "05" for 5, or a non-canonical base-32 look-alike, is refused
        // rather than verified, so that the payload a node stores is the one the partner printed.
        if signed.payload() != text {
            return Err(malformed("payload", "not in canonical form (leading zeros, or look-alike letters)"));
        }
        Ok(signed)
    }

    /// Checks the signature against the keys trusted for the referral's partner, and that
    /// `today` lies between the issue and expiry dates (both included).
    pub fn verify(&self, trusted: &[TrustedPartner], today: NaiveDate) -> Result<(), ReferralError> {
        let partner = &self.referral.partner;
        let mut keys = trusted.iter().filter(|t| &t.code == partner).peekable();
        if keys.peek().is_none() {
            return Err(ReferralError::UnknownPartner(partner.clone()));
        }
        let message = signed_message(&self.referral.body());
        // A partner may hold more than one key while it rotates them.
        if !keys.any(|t| t.key.verify(&message, &self.signature).is_ok()) {
            return Err(ReferralError::SignatureInvalid { partner: partner.clone() });
        }
        if today < self.referral.issued_on {
            return Err(ReferralError::NotYetValid { issued_on: self.referral.issued_on, today });
        }
        if today > self.referral.expires_on {
            return Err(ReferralError::Expired { expires_on: self.referral.expires_on, today });
        }
        Ok(())
    }
}

/// Parses and verifies a QR payload in one step (see [`SignedReferral::parse`] and
/// [`SignedReferral::verify`]).
pub fn verify(payload: &str, trusted: &[TrustedPartner], today: NaiveDate) -> Result<SignedReferral, ReferralError> {
    let signed = SignedReferral::parse(payload)?;
    signed.verify(trusted, today)?;
    Ok(signed)
}

/// A partner key a node (or kiosk) trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedPartner {
    /// The partner's code, as in its referrals.
    pub code: String,
    /// One of its Ed25519 public keys.
    pub key: VerifyingKey,
}

/// The short code of a referral: partner and serial, with a check character when written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShortCode {
    /// The partner's code.
    pub partner: String,
    /// The partner's serial.
    pub serial: u64,
}

impl ShortCode {
    /// Reads what a person typed: the partner's code, then (after `-` or a space) the eight
    /// serial characters and the check character, in any grouping, any case, with Crockford's
    /// look-alikes forgiven.
    pub fn parse(text: &str) -> Result<ShortCode, ReferralError> {
        let text = text.trim().to_ascii_uppercase();
        let (partner, rest) = text
            .split_once(['-', ' '])
            .ok_or_else(|| malformed("short_code", "the partner's code and the serial must be separated by '-' (e.g. WFP-K7M-2Q9-XAT)"))?;
        let partner = partner.trim();
        check_partner(partner).map_err(|_| malformed("short_code", format!("'{partner}' is not a partner code (2 to 6 letters)")))?;
        let mut values = Vec::with_capacity(9);
        for c in rest.chars().filter(|c| !matches!(c, '-' | ' ')) {
            values.push(crockford_value(c).ok_or_else(|| malformed("short_code", format!("character {c:?} is not in a short code")))?);
        }
        if values.len() != 9 {
            return Err(malformed("short_code", format!("{} characters after the partner's code, a short code has 9", values.len())));
        }
        let serial = values[..8].iter().fold(0u64, |acc, v| (acc << 5) | u64::from(*v));
        if check_value(partner, serial) != values[8] {
            return Err(ReferralError::CheckCharacter);
        }
        Ok(ShortCode { partner: partner.to_string(), serial })
    }
}

impl std::fmt::Display for ShortCode {
    /// `WFP-K7M-2Q9-XAT`: partner, then serial and check character in three groups of three.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut chars = encode_serial(self.serial);
        chars.push(ALPHABET[check_value(&self.partner, self.serial) as usize] as char);
        write!(f, "{}-{}-{}-{}", self.partner, &chars[..3], &chars[3..6], &chars[6..])
    }
}

/// Luhn mod 32 over the partner's letters (A=0 … Z=25) and the serial's eight digits: the value
/// of the check character.
fn check_value(partner: &str, serial: u64) -> u8 {
    const N: u32 = 32;
    let digits: Vec<u32> = partner
        .bytes()
        .map(|b| u32::from(b - b'A'))
        .chain((0..8).rev().map(|i| ((serial >> (5 * i)) & 31) as u32))
        .collect();
    let mut factor = 2;
    let mut sum = 0;
    for digit in digits.iter().rev() {
        let addend = factor * digit;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / N + addend % N;
    }
    ((N - sum % N) % N) as u8
}

fn crockford_value(c: char) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    ALPHABET.iter().position(|&a| a as char == c).map(|p| p as u8)
}

fn encode_serial(serial: u64) -> String {
    (0..8).rev().map(|i| ALPHABET[((serial >> (5 * i)) & 31) as usize] as char).collect()
}

fn decode_serial(text: &str) -> Option<u64> {
    if text.len() != 8 {
        return None;
    }
    text.chars().try_fold(0u64, |acc, c| Some((acc << 5) | u64::from(strict_value(c)?)))
}

/// The value of a canonical base-32 character (no look-alikes: a payload is machine-written).
fn strict_value(c: char) -> Option<u8> {
    ALPHABET.iter().position(|&a| a as char == c).map(|p| p as u8)
}

/// Crockford base 32 of `bytes`, most significant bit first, the last character zero-padded.
pub fn encode_base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes `len` bytes of Crockford base 32 (canonical characters only; padding bits zero).
pub fn decode_base32(text: &str, len: usize) -> Option<Vec<u8>> {
    if text.len() != (len * 8).div_ceil(5) {
        return None;
    }
    let mut out = Vec::with_capacity(len);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars() {
        buffer = (buffer << 5) | u32::from(strict_value(c)?);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    (buffer == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn referral() -> Referral {
        Referral {
            partner: "WFP".into(),
            serial: 0x12_3456_789A,
            issued_on: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            expires_on: NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
            household_size: 5,
            governorate: "BGD".into(),
            partner_case: "IRQ-2026-00042".into(),
        }
    }

    fn trusted() -> Vec<TrustedPartner> {
        vec![TrustedPartner { code: "WFP".into(), key: key().verifying_key() }]
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_signed_referral_survives_its_payload_in_any_case() {
        let signed = referral().sign(&key()).unwrap();
        let payload = signed.payload();
        assert!(payload.starts_with("R1.WFP.") && payload.len() < MAX_PAYLOAD_LEN, "{payload}");
        let read = verify(&format!("  {}\r\n", payload.to_lowercase()), &trusted(), day(2026, 12, 2)).unwrap();
        assert_eq!(read, signed);
    }

    #[test]
    fn dates_are_inclusive_and_each_refusal_is_named() {
        let payload = referral().sign(&key()).unwrap().payload();
        assert!(verify(&payload, &trusted(), day(2026, 12, 1)).is_ok());
        assert!(verify(&payload, &trusted(), day(2027, 3, 1)).is_ok());
        assert_eq!(verify(&payload, &trusted(), day(2027, 3, 2)).unwrap_err().code(), "expired");
        assert_eq!(verify(&payload, &trusted(), day(2026, 11, 30)).unwrap_err().code(), "not_yet_valid");
        assert_eq!(verify(&payload, &[], day(2026, 12, 2)).unwrap_err().code(), "unknown_partner");
        let other = vec![TrustedPartner { code: "WFP".into(), key: SigningKey::from_bytes(&[8u8; 32]).verifying_key() }];
        assert_eq!(verify(&payload, &other, day(2026, 12, 2)).unwrap_err().code(), "signature_invalid");
        // One household member more, same signature.
        let altered = payload.replacen(".5.BGD.", ".6.BGD.", 1);
        assert_eq!(verify(&altered, &trusted(), day(2026, 12, 2)).unwrap_err().code(), "signature_invalid");
        let padded = payload.replacen(".5.BGD.", ".05.BGD.", 1);
        assert!(matches!(verify(&padded, &trusted(), day(2026, 12, 2)), Err(ReferralError::Malformed { field: "payload", .. })));
    }

    #[test]
    fn the_longest_referral_fits_the_documented_length() {
        let mut longest = referral();
        longest.partner = "ABCDEF".into();
        longest.serial = MAX_SERIAL;
        longest.household_size = MAX_HOUSEHOLD_SIZE;
        longest.governorate = "ABCD".into();
        longest.partner_case = "X".repeat(MAX_PARTNER_CASE);
        assert_eq!(longest.sign(&key()).unwrap().payload().len(), MAX_PAYLOAD_LEN);
    }

    #[test]
    fn short_codes_forgive_case_grouping_and_look_alikes_but_not_typos() {
        let code = referral().short_code();
        assert_eq!(code.len(), "WFP-K7M-2Q9-XAT".len(), "{code}");
        let parsed = ShortCode::parse(&code).unwrap();
        assert_eq!((parsed.partner.as_str(), parsed.serial), ("WFP", referral().serial));
        let sloppy = code.to_lowercase().replace('-', " ").replace('0', "o").replace('1', "l");
        assert_eq!(ShortCode::parse(&sloppy).unwrap(), parsed, "{sloppy}");
        // Every single substituted character after the prefix, and every swap of neighbours
        // that changes the text, is caught by the check character.
        let chars: Vec<char> = code.chars().collect();
        let positions: Vec<usize> = (4..chars.len()).filter(|&i| chars[i] != '-').collect();
        for &i in &positions {
            for &a in ALPHABET {
                let mut typo = chars.clone();
                if typo[i] == a as char {
                    continue;
                }
                typo[i] = a as char;
                let typo: String = typo.into_iter().collect();
                assert!(ShortCode::parse(&typo).is_err(), "{typo} accepted for {code}");
            }
        }
        for pair in positions.windows(2) {
            let mut swapped = chars.clone();
            swapped.swap(pair[0], pair[1]);
            let swapped: String = swapped.into_iter().collect();
            if swapped != code && !(matches!((chars[pair[0]], chars[pair[1]]), ('0', 'Z') | ('Z', '0'))) {
                assert!(ShortCode::parse(&swapped).is_err(), "{swapped} accepted for {code}");
            }
        }
        assert!(matches!(ShortCode::parse("WFPK7M2Q9XAT"), Err(ReferralError::Malformed { field: "short_code", .. })));
    }

    #[test]
    fn base32_round_trips_and_refuses_padding_bits() {
        for len in [1usize, 5, 8, 64] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = encode_base32(&bytes);
            assert_eq!(decode_base32(&text, len).as_deref(), Some(bytes.as_slice()));
        }
        assert_eq!(encode_base32(&[0u8; 64]).len(), SIGNATURE_CHARS);
        // 64 bytes leave 3 padding bits in the last character: a non-zero one is refused.
        let mut text = encode_base32(&[0u8; 64]);
        text.pop();
        text.push('1');
        assert!(decode_base32(&text, 64).is_none());
    }
}
