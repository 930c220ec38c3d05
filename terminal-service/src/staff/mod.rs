//! Staff credentials: a badge (a card UID, known to the roster only as a keyed hash) and a PIN
//! (known only as an Argon2id PHC string).
//!
//! The roster comes with the node's configuration ([`node_protocol::StaffRoster`]); the
//! terminal never stores a UID or a PIN. The badge hash is HMAC-SHA256 of the UID bytes under
//! the roster's `badge_hash_key`, lower-case hex — the same computation the provincial node
//! made when it built the roster. [`session`] is what a login becomes: lockout, idle timeout,
//! the end when the badge leaves the reader.

pub mod session;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use node_protocol::{StaffMember, StaffRoster};
use sha2::Sha256;
use thiserror::Error;

/// The roster cannot be used.
#[derive(Debug, Error)]
pub enum RosterError {
    /// `badge_hash_key` is not base64.
    #[error("the staff roster's badge_hash_key is not base64; the node's configuration is broken")]
    BadKey,
    /// A member's `pin_hash` is not a PHC string.
    #[error("the staff roster's PIN hash for {0} is not a PHC string; the node's configuration is broken")]
    BadPinHash(String),
}

/// HMAC-SHA256 of `uid` under `key`, lower-case hex.
pub fn badge_hash(key: &[u8], uid: &[u8]) -> String {
    // HMAC accepts keys of any length: `new_from_slice` cannot refuse one.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else { return String::new() };
    mac.update(uid);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The badge hash of `uid` under `roster`'s key.
pub fn roster_badge_hash(roster: &StaffRoster, uid: &[u8]) -> Result<String, RosterError> {
    let key = STANDARD.decode(roster.badge_hash_key.trim()).map_err(|_| RosterError::BadKey)?;
    Ok(badge_hash(&key, uid))
}

/// The roster member whose badge has this hash.
pub fn find_member<'r>(roster: &'r StaffRoster, hash: &str) -> Option<&'r StaffMember> {
    roster.members.iter().find(|m| m.badge_hash.eq_ignore_ascii_case(hash))
}

/// Whether `pin` matches the member's Argon2 PHC string. Deliberately slow (that is the point
/// of Argon2): call it on the blocking pool.
pub fn verify_pin(member: &StaffMember, pin: &str) -> Result<bool, RosterError> {
    let hash = PasswordHash::new(&member.pin_hash).map_err(|_| RosterError::BadPinHash(member.staff_id.clone()))?;
    Ok(Argon2::default().verify_password(pin.as_bytes(), &hash).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};
    use node_protocol::StaffRole;

    #[test]
    fn badge_hash_is_hmac_sha256_hex() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            badge_hash(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn members_are_found_by_badge_and_pins_verified() {
        let key = b"0123456789abcdef";
        let salt = SaltString::encode_b64(b"saltsaltsalt").unwrap();
        let params = argon2::Params::new(8, 1, 1, None).unwrap();
        let argon = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let member = StaffMember {
            staff_id: "S-0001".into(),
            display_name: "Zainab Kadhim".into(),
            role: StaffRole::Staff,
            badge_hash: badge_hash(key, &[0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0x80]),
            pin_hash: argon.hash_password(b"2468", &salt).unwrap().to_string(),
        };
        let roster = StaffRoster { badge_hash_key: STANDARD.encode(key), members: vec![member.clone()] };
        let hash = roster_badge_hash(&roster, &[0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0x80]).unwrap();
        assert_eq!(find_member(&roster, &hash).map(|m| m.staff_id.as_str()), Some("S-0001"));
        assert!(find_member(&roster, &roster_badge_hash(&roster, &[0xDE, 0xAD, 0xBE, 0xEF]).unwrap()).is_none());
        assert!(verify_pin(&member, "2468").unwrap());
        assert!(!verify_pin(&member, "2469").unwrap());
        let broken = StaffMember { pin_hash: "plain".into(), ..member };
        assert!(matches!(verify_pin(&broken, "2468"), Err(RosterError::BadPinHash(_))));
        let bad_key = StaffRoster { badge_hash_key: "***".into(), members: vec![] };
        assert!(roster_badge_hash(&bad_key, &[1, 2, 3, 4]).is_err());
    }
}
