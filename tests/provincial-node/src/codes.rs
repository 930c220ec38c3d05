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

/// Why a code the operator chose could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// Not 12 characters of the code alphabet.
    #[error("'{0}' is not an enrollment code: 12 characters of 0-9 and A-Z without I, L, O and U, e.g. 7K2Q-XM4B-9R3T (dashes and case do not matter)")]
    Malformed(String),
    /// Issued before (used or not): a code enrols one terminal, once.
    #[error("the code {0} was issued before: each code is issued once; choose another")]
    AlreadyIssued(String),
    /// The database.
    #[error(transparent)]
    Database(#[from] rusqlite::Error),
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

/// Issues `code`, chosen by the operator rather than drawn at random, and returns it in its
/// printed form (`7K2Q-XM4B-9R3T`). For test benches that replay a documented example (the
/// OpenAPI documents' `7K2Q-XM4B-9R3T`): a chosen code is only as secret as where it was read,
/// so real enrollments use [`issue`].
pub fn issue_given(conn: &Connection, code: &str, ttl_minutes: u32, now: i64) -> Result<String, IssueError> {
    let canonical: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if canonical.len() != 12 || !canonical.bytes().all(|b| ALPHABET.contains(&b)) {
        return Err(IssueError::Malformed(code.to_string()));
    }
    let printed = format!("{}-{}-{}", &canonical[..4], &canonical[4..8], &canonical[8..]);
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO enrollment_codes (code_sha256, issued_at, expires_at) VALUES (?1, ?2, ?3)",
        params![code_hash(&printed), now, now + i64::from(ttl_minutes) * 60],
    )?;
    if inserted == 0 {
        return Err(IssueError::AlreadyIssued(printed));
    }
    Ok(printed)
}

/// The terminal a used code enrolled, if `code` is known and used.
///
/// Enrollment asks this before [`redeem`]: when the node committed an enrollment but its
/// answer was lost on the way back, the technician retries with the same code and the same
/// key, and must get the same terminal id rather than `enrollment_code_used`.
pub fn enrolled_by(conn: &Connection, code: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT terminal_id FROM enrollment_codes WHERE code_sha256 = ?1 AND used_at IS NOT NULL",
        [code_hash(code)],
        |r| r.get::<_, Option<String>>(0),
    )
    .optional()
    .map(Option::flatten)
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

    #[test]
    fn a_given_code_is_issued_once_in_its_printed_form() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        assert_eq!(issue_given(&conn, "7k2qxm4b9r3t", 60, 1000).unwrap(), "7K2Q-XM4B-9R3T");
        assert!(matches!(issue_given(&conn, "7K2Q-XM4B-9R3T", 60, 1000), Err(IssueError::AlreadyIssued(_))));
        for malformed in ["K7Q2-9XMB-4T", "7K2Q-XM4B-9R3TX", "7K2Q-XM4B-9R3U", "ÄK2Q-XM4B-9R3T"] {
            assert!(matches!(issue_given(&conn, malformed, 60, 1000), Err(IssueError::Malformed(_))), "{malformed}");
        }
        assert_eq!(redeem(&conn, "7K2Q-XM4B-9R3T", "T-1", 1001).unwrap(), Ok(()));
        assert_eq!(redeem(&conn, "7K2Q-XM4B-9R3T", "T-2", 1002).unwrap(), Err(CodeError::Used));
    }
}
