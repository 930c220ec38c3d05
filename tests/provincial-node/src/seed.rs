//! Demo data a fresh node starts with: the staff roster (sample badges and PINs) and sample
//! applicants for status checks. Every value here is documented in the crate's README.md so
//! demo users can log in and look themselves up.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use node_protocol::{BenefitState, StaffMember, StaffRole};
use sha2::Sha256;

/// A staff member of the demo roster, with the secrets a demo user types or taps.
pub struct SampleStaff {
    /// Staff id.
    pub staff_id: &'static str,
    /// Name shown after login.
    pub display_name: &'static str,
    /// Role.
    pub role: StaffRole,
    /// Card UID of the sample badge, upper-case hex (what the card reader reports).
    pub badge_uid_hex: &'static str,
    /// The PIN.
    pub pin: &'static str,
}

/// The sample staff (README.md lists the same).
pub const SAMPLE_STAFF: [SampleStaff; 3] = [
    SampleStaff { staff_id: "S-0001", display_name: "Zainab Kadhim", role: StaffRole::Staff, badge_uid_hex: "04A1B2C3D4E580", pin: "2468" },
    SampleStaff { staff_id: "S-0002", display_name: "Karwan Aziz", role: StaffRole::Staff, badge_uid_hex: "DEADBEEF", pin: "1357" },
    SampleStaff { staff_id: "TECH-01", display_name: "Ahmed Salih", role: StaffRole::Technician, badge_uid_hex: "04112233445566", pin: "9024" },
];

/// Why the roster could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// A sample UID is not hex (a mistake in this file).
    #[error("sample badge UID '{0}' is not hex")]
    BadUid(String),
    /// Argon2 refused to hash.
    #[error("hashing a PIN failed: {0}")]
    Hash(String),
}

/// HMAC-SHA256 of a card UID under the roster's badge key, lower-case hex: how the roster and
/// the terminal compare badges without storing the UID.
pub fn badge_hash(key: &[u8], uid: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(uid);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes a hex string (spaces and colons allowed between bytes).
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !matches!(b, b' ' | b':')).collect();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

/// The roster members for `badge_key`: badge hashes and fresh Argon2id PIN hashes.
pub fn staff_members(badge_key: &[u8]) -> Result<Vec<StaffMember>, RosterError> {
    // Argon2id with the crate's defaults (19 MiB, 2 passes): the OWASP baseline.
    let argon = Argon2::default();
    SAMPLE_STAFF
        .iter()
        .map(|s| {
            let uid = decode_hex(s.badge_uid_hex).ok_or_else(|| RosterError::BadUid(s.badge_uid_hex.into()))?;
            let salt = SaltString::generate(&mut OsRng);
            let pin_hash = argon
                .hash_password(s.pin.as_bytes(), &salt)
                .map_err(|e| RosterError::Hash(e.to_string()))?
                .to_string();
            Ok(StaffMember {
                staff_id: s.staff_id.into(),
                display_name: s.display_name.into(),
                role: s.role,
                badge_hash: badge_hash(badge_key, &uid),
                pin_hash,
            })
        })
        .collect()
}

/// An applicant already known to the programme, for status checks.
pub struct SampleApplicant {
    /// National ID number.
    pub national_id: &'static str,
    /// Date of birth.
    pub date_of_birth: &'static str,
    /// Reference printed on their receipt.
    pub reference: &'static str,
    /// Case number.
    pub case_number: &'static str,
    /// Where the case stands.
    pub state: BenefitState,
    /// Date of the last change.
    pub updated_on: &'static str,
}

impl SampleApplicant {
    /// The date of birth as a date.
    pub fn dob(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(self.date_of_birth, "%Y-%m-%d").ok()
    }

    /// The last change as a date.
    pub fn updated(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(self.updated_on, "%Y-%m-%d").ok()
    }
}

/// The sample applicants (README.md lists the same).
pub const SAMPLE_APPLICANTS: [SampleApplicant; 4] = [
    SampleApplicant { national_id: "199001234567", date_of_birth: "1985-03-14", reference: "7K2QX-M4B9R", case_number: "BGD-2025-000142", state: BenefitState::Active, updated_on: "2025-09-01" },
    SampleApplicant { national_id: "198807654321", date_of_birth: "1962-11-02", reference: "3FJ8N-W2C6T", case_number: "BSR-2026-000731", state: BenefitState::UnderReview, updated_on: "2026-10-12" },
    SampleApplicant { national_id: "200011112222", date_of_birth: "1978-07-21", reference: "9HVDP-5XQ2A", case_number: "ERB-2025-000019", state: BenefitState::Suspended, updated_on: "2026-06-30" },
    SampleApplicant { national_id: "197512340000", date_of_birth: "1990-01-30", reference: "R8TZ4-K6M1E", case_number: "SUL-2026-000077", state: BenefitState::Rejected, updated_on: "2026-04-18" },
];

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    #[test]
    fn sample_data_is_well_formed() {
        for a in &SAMPLE_APPLICANTS {
            assert!(a.dob().is_some() && a.updated().is_some());
            assert_eq!(node_protocol::reference::normalise_reference(a.reference).as_deref(), Some(a.reference));
            assert_eq!(a.national_id.len(), 12);
        }
    }

    #[test]
    fn roster_hashes_verify_with_the_sample_secrets() {
        let key = [9u8; 32];
        let members = staff_members(&key).unwrap();
        for (m, s) in members.iter().zip(SAMPLE_STAFF.iter()) {
            let parsed = PasswordHash::new(&m.pin_hash).unwrap();
            assert_eq!(parsed.algorithm.as_str(), "argon2id");
            Argon2::default().verify_password(s.pin.as_bytes(), &parsed).unwrap();
            assert!(Argon2::default().verify_password(b"0000", &parsed).is_err());
            assert_eq!(m.badge_hash, badge_hash(&key, &decode_hex(s.badge_uid_hex).unwrap()));
            assert_eq!(m.badge_hash.len(), 64);
        }
    }
}
