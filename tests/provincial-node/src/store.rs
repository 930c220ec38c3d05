//! The node's SQLite database: schema, connection settings and small shared queries.
//!
//! WAL with `synchronous=FULL`: an answer the node sends is on disk first, and the CLI
//! (`issue-code`, `stats`) can read and write while `serve` runs, waiting on `busy_timeout`
//! instead of failing.

use std::path::Path;
use std::time::Duration;

use node_protocol::signature::MAX_CLOCK_SKEW_S;
use rusqlite::{params, Connection, OptionalExtension};

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "node.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS enrollment_codes (
    code_sha256 TEXT PRIMARY KEY,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    terminal_id TEXT
);
CREATE TABLE IF NOT EXISTS terminals (
    terminal_id TEXT PRIMARY KEY,
    public_key BLOB NOT NULL,
    name TEXT NOT NULL,
    software_version TEXT NOT NULL,
    enrolled_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_nonces (
    keyid TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (keyid, nonce)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_nonces_by_age ON seen_nonces (seen_at);
CREATE TABLE IF NOT EXISTS submissions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    content_sha256 BLOB NOT NULL,
    terminal_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    form_version TEXT NOT NULL,
    received_at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    case_number TEXT,
    reason TEXT,
    deliveries INTEGER NOT NULL,
    reference TEXT NOT NULL,
    national_id TEXT,
    full_name TEXT,
    date_of_birth TEXT,
    answers TEXT
);
CREATE INDEX IF NOT EXISTS submissions_by_reference ON submissions (reference);
CREATE INDEX IF NOT EXISTS submissions_by_national_id ON submissions (national_id);
CREATE TABLE IF NOT EXISTS heartbeats (
    terminal_id TEXT PRIMARY KEY,
    last TEXT NOT NULL,
    received_at TEXT NOT NULL,
    count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS refused_requests (reason TEXT PRIMARY KEY, count INTEGER NOT NULL);
-- Duplicate checks of filed applications (crate::duplicates): the strongest decision, the
-- matches with their explanations (JSON), whether headquarters took part.
CREATE TABLE IF NOT EXISTS duplicate_checks (
    case_number TEXT PRIMARY KEY,
    decision TEXT NOT NULL CHECK (decision IN ('duplicate', 'possible', 'distinct')),
    matches TEXT NOT NULL,
    headquarters TEXT NOT NULL CHECK (headquarters IN ('checked', 'not_checked', 'not_configured')),
    checked_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS duplicate_checks_pending ON duplicate_checks (headquarters) WHERE headquarters = 'not_checked';
-- Staff decisions on flagged applications (crate::review): one per case, never changed.
CREATE TABLE IF NOT EXISTS review_decisions (
    case_number TEXT PRIMARY KEY REFERENCES duplicate_checks (case_number),
    verdict TEXT NOT NULL CHECK (verdict IN ('confirmed', 'dismissed')),
    reason TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
-- Partner referrals (crate::referrals): the partners' keys this node trusts (several while a
-- partner rotates), the referrals issued through it, and the check of each one an application
-- carried; an accepted referral is used once (the unique index).
CREATE TABLE IF NOT EXISTS partners (
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    public_key BLOB NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (code, public_key)
);
CREATE TABLE IF NOT EXISTS referrals (
    code TEXT PRIMARY KEY,
    partner TEXT NOT NULL,
    serial INTEGER NOT NULL,
    payload TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    household_size INTEGER NOT NULL,
    governorate TEXT NOT NULL,
    partner_case TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    UNIQUE (partner, serial)
);
CREATE TABLE IF NOT EXISTS referral_checks (
    case_number TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    partner TEXT,
    serial INTEGER,
    status TEXT NOT NULL CHECK (status IN ('accepted', 'refused')),
    reason TEXT,
    headquarters TEXT NOT NULL CHECK (headquarters IN ('checked', 'not_checked', 'not_configured', 'not_asked')),
    checked_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS referral_used_once ON referral_checks (partner, serial) WHERE status = 'accepted';
CREATE INDEX IF NOT EXISTS referral_checks_by_code ON referral_checks (code);
-- The PMT score of each case whose application carried the targeting questionnaire
-- (crate::targeting), with the versions it came from; never sent to a terminal.
CREATE TABLE IF NOT EXISTS targeting_scores (
    case_number TEXT PRIMARY KEY,
    questionnaire_version TEXT NOT NULL,
    formula_version TEXT NOT NULL,
    score REAL NOT NULL,
    scored_at TEXT NOT NULL
);
-- Append-only record of what staff did (crate::review), without personal data.
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    case_number TEXT,
    detail TEXT NOT NULL
);
";

/// Opens (creating if needed) the database in `dir` with the node's settings and schema.
pub fn open(dir: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(dir.join(DATABASE_FILE))?;
    // Set before anything else so that a concurrent first start waits instead of failing.
    conn.busy_timeout(Duration::from_secs(10))?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "SQLite refused WAL mode; concurrent CLI use may wait longer");
    }
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

/// A value from the `meta` table.
pub fn meta_get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()
}

/// Stores `value` under `key` unless a value is already there, and returns the value that
/// is stored: of two processes initialising the same directory, the first one wins.
pub fn meta_get_or_insert(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<String> {
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)", params![key, value])?;
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
}

/// Adds `by` to the counter `name`.
pub fn bump_counter(conn: &Connection, name: &str, by: i64) -> rusqlite::Result<()> {
    if by != 0 {
        conn.prepare_cached(
            "INSERT INTO counters (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
        )?
        .execute(params![name, by])?;
    }
    Ok(())
}

/// The counter `name` (0 if never bumped).
pub fn counter(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT value FROM counters WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Counts one refused request under its error code.
pub fn record_refusal(conn: &Connection, reason: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO refused_requests (reason, count) VALUES (?1, 1)
         ON CONFLICT (reason) DO UPDATE SET count = count + 1",
    )?
    .execute([reason])?;
    Ok(())
}

/// Records that `(keyid, nonce)` was used at `now`; false if it was seen before (a replay).
///
/// Nonces older than twice the allowed clock skew are forgotten first: a request carrying one
/// would be refused as stale anyway (`created` can be at most one skew ahead of its arrival,
/// and is stale one skew after). The delete is an index range scan, cheap enough per request.
pub fn remember_nonce(conn: &Connection, keyid: &str, nonce: &str, now: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached("DELETE FROM seen_nonces WHERE seen_at < ?1")?
        .execute([now - 2 * MAX_CLOCK_SKEW_S])?;
    let inserted = conn
        .prepare_cached("INSERT OR IGNORE INTO seen_nonces (keyid, nonce, seen_at) VALUES (?1, ?2, ?3)")?
        .execute(params![keyid, nonce, now])?;
    Ok(inserted == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_refused_until_they_could_only_be_stale() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(dir.path()).unwrap();
        assert!(remember_nonce(&conn, "T-1", "n", 1000).unwrap());
        assert!(!remember_nonce(&conn, "T-1", "n", 1000).unwrap());
        assert!(remember_nonce(&conn, "T-2", "n", 1000).unwrap(), "nonces are per key");
        assert!(!remember_nonce(&conn, "T-1", "n", 1000 + 2 * MAX_CLOCK_SKEW_S).unwrap());
        assert!(remember_nonce(&conn, "T-1", "n", 1001 + 2 * MAX_CLOCK_SKEW_S).unwrap());
    }

    #[test]
    fn the_database_is_in_wal_mode_with_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(dir.path()).unwrap();
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 2));
    }
}
