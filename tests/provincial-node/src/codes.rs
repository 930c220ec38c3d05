//! One-time enrollment codes: what an operator reads out to the technician provisioning a
//! terminal.
//!
//! A code is 12 Crockford base-32 characters in three groups (`7K2Q-XM4B-9R3T`, 60 random
//! bits). Only its SHA-256 is stored, so a copy of the database does not let anyone enrol. A
//! code is single-use and expires.

use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Why a code was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodeError {
    /// Never issued here (or mistyped).
    #[error("this enrollment code is not known to the node: check it, or ask the node operator for a new one (provincial-node issue-code)")]
    Unknown,
    /// Already used to enrol a terminal.
    #[error("this enrollment code was already used: each code enrols one terminal; ask the node operator for a new one")]
    Used,
    /// Past its expiry.
    #[error("this enrollment code has expired: ask the node operator for a new one")]
    Expired,
}

/// The stored form of a code: SHA-256 (hex) of its canonical text (upper case, no separators),
/// so what a technician types with lower case or without dashes still matches.
pub fn code_hash(code: &str) -> String {
    let canonical: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    Sha256::digest(canonical.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Issues a new code valid for `ttl_minutes` (0: already expired, for tests) and returns it.
pub fn issue(conn: &Connection, ttl_minutes: u32, now: i64) -> rusqlite::Result<String> {
    let mut rng = rand::thread_rng();
    let chars: String = (0..12).map(|_| ALPHABET[rng.gen_range(0..32)] as char).collect();
    let code = format!("{}-{}-{}", &chars[..4], &chars[4..8], &chars[8..]);
    conn.execute(
        "INSERT INTO enrollment_codes (code_sha256, issued_at, expires_at) VALUES (?1, ?2, ?3)",
        params![code_hash(&code), now, now + i64::from(ttl_minutes) * 60],
    )?;
    Ok(code)
}

/// Marks `code` used by `terminal_id`, if it is known, unused and unexpired. Call it inside
/// the transaction that registers the terminal so both happen or neither does.
pub fn redeem(conn: &Connection, code: &str, terminal_id: &str, now: i64) -> rusqlite::Result<Result<(), CodeError>> {
    let hash = code_hash(code);
    let row: Option<(i64, Option<i64>)> = conn
        .query_row(
            "SELECT expires_at, used_at FROM enrollment_codes WHERE code_sha256 = ?1",
            [&hash],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let verdict = match row {
        None => Err(CodeError::Unknown),
        Some((_, Some(_))) => Err(CodeError::Used),
        Some((expires_at, None)) if now >= expires_at => Err(CodeError::Expired),
        Some(_) => {
            conn.execute(
                "UPDATE enrollment_codes SET used_at = ?2, terminal_id = ?3 WHERE code_sha256 = ?1",
                params![hash, now, terminal_id],
            )?;
            Ok(())
        }
    };
    Ok(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_redeems_once_and_expires() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let code = issue(&conn, 60, 1000).unwrap();
        assert_eq!(code.len(), 14);
        assert_eq!(redeem(&conn, "nope", "T-1", 1000).unwrap(), Err(CodeError::Unknown));
        assert_eq!(redeem(&conn, &code.to_lowercase().replace('-', ""), "T-1", 1001).unwrap(), Ok(()));
        assert_eq!(redeem(&conn, &code, "T-2", 1002).unwrap(), Err(CodeError::Used));
        let short = issue(&conn, 1, 1000).unwrap();
        assert_eq!(redeem(&conn, &short, "T-3", 1060).unwrap(), Err(CodeError::Expired));
    }
}
