//! The audit log: an append-only SHA-256 hash chain.
//!
//! Every staff action, provisioning step and hardware fault is an entry. The log must show
//! whether it was tampered with, on the terminal and offline at the node it is synchronised
//! to, so each entry's hash covers its own fields and the previous entry's hash: editing,
//! removing or reordering any entry breaks the chain at that point. SQLite triggers refuse
//! `UPDATE` and `DELETE`, so the service itself cannot rewrite history by mistake; the chain
//! is what catches someone who bypasses the triggers with their own SQLite connection.
//!
//! A chain alone cannot show that entries were cut off its *end*: the shorter chain is still
//! a valid chain. So after each append the head (last seq and hash) is also written, durably,
//! to a small file `audit.head` next to the database, and [`AuditLog::verify`] refuses a
//! chain shorter than the head says. The head is written after the commit, so a crash in
//! between leaves it one entry *behind* (accepted), never ahead (which would be a false alarm).
//!
//! # Hash of an entry (what an offline verifier recomputes)
//!
//! `hash = hex(SHA-256(DOMAIN ‖ field(seq) ‖ field(at) ‖ field(category) ‖ field(action) ‖
//! field(detail) ‖ field(prev_hash)))`, where `DOMAIN` is the ASCII bytes of
//! `terminal-service audit v1`, `field(x)` is the length of `x` in bytes as a big-endian
//! 64-bit integer followed by the bytes of `x`, `seq` is its 8 big-endian bytes, and the text
//! fields are the UTF-8 of the stored columns exactly as stored (`at` in RFC 3339 with
//! nanoseconds and `Z`, `detail` as its JSON text). The length prefixes make the encoding
//! unambiguous: no two different entries encode to the same bytes. The first entry's
//! `prev_hash` is 64 zeros.

use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::clock::ClockStatus;
use crate::delivery::node_clock::NodeClock;

/// File name of the audit log inside the storage directory.
pub const AUDIT_FILE: &str = "audit.sqlite";
/// Extension of the head file next to the log (`audit.sqlite` → `audit.head`).
pub const HEAD_EXTENSION: &str = "head";
/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Domain separation: these hashes mean "audit entry, format 1" and nothing else.
const DOMAIN: &[u8] = b"terminal-service audit v1";

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        category TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed'); END;
    CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be deleted'); END;
";

/// Errors of the audit log.
#[derive(Debug, Error)]
pub enum AuditError {
    /// SQLite failed.
    #[error("audit database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The chain is broken at `seq`.
    #[error("audit log broken at entry {seq}: {reason}")]
    Broken {
        /// First entry that does not verify.
        seq: u64,
        /// Edited, removed, reordered…
        reason: String,
    },
    /// A file of the log (the database or `audit.head`) could not be created or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

// An entry and its category are what `GET /v1/diagnostics` shows: the local API's types.
pub use local_api::{AuditCategory, AuditEntry};

/// Result of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditSummary {
    /// Entries checked.
    pub entries: u64,
    /// Hash of the last entry.
    pub head: String,
}

/// The audit log (`audit.sqlite` in the storage directory).
pub struct AuditLog {
    conn: rusqlite::Connection,
    head_path: PathBuf,
}

impl AuditLog {
    /// Opens (creating) the log at `path`.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        // Mode 0600 from the start; SQLite gives the -wal and -shm files the same mode.
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(source) => return Err(AuditError::Io { path: path.to_path_buf(), source }),
        }
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let _mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Run on every open: if someone dropped the triggers, they come back.
        conn.execute_batch(SCHEMA)?;
        let log = AuditLog { conn, head_path: path.with_extension(HEAD_EXTENSION) };

        // An empty log gets a head saying "0 entries", so that a missing head file later means
        // it was removed, not that it was never written. An existing head is never replaced
        // here: if it records entries this file lacks, verify must say so.
        if log.last()?.is_none() && !log.head_path.exists() {
            log.write_head(0, GENESIS_HASH).map_err(|source| AuditError::Io { path: log.head_path.clone(), source })?;
        }
        Ok(log)
    }

    /// Where the head file lives.
    pub fn head_path(&self) -> &Path {
        &self.head_path
    }

    /// Appends an entry; durable when this returns.
    pub fn append(&mut self, category: AuditCategory, action: &str, detail: serde_json::Value) -> Result<AuditEntry, AuditError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Entries appended here (tests and tools) have no node to confirm the clock: marked
        // unverified, as the service's own would be before the node answered.
        let entry = append_in(&tx, "main", category, action, detail, &NodeClock::default())?;
        tx.commit()?;

        // The entry is durable now. A head that fails to update only lags one entry behind
        // (which verify accepts) and is rewritten by the next append, so this is a warning,
        // not a failure that would make the caller append the same event twice.
        if let Err(e) = self.write_head(entry.seq, &entry.hash) {
            tracing::warn!(path = %self.head_path.display(), error = %e, "could not update the audit head file");
        }
        Ok(entry)
    }

    /// Checks the whole chain.
    ///
    /// Walks every entry in order (streaming: memory does not grow with the log) and returns
    /// [`AuditError::Broken`] at the first entry that is missing, out of place, or altered, or
    /// when the log is shorter than `audit.head` records.
    pub fn verify(&self) -> Result<AuditSummary, AuditError> {
        let mut statement =
            self.conn.prepare("SELECT seq, at, category, action, detail, prev_hash, hash FROM audit ORDER BY seq")?;
        let mut rows = statement.query([])?;
        let mut expected: u64 = 1;
        let mut prev = GENESIS_HASH.to_string();
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let at: String = row.get(1)?;
            let category: String = row.get(2)?;
            let action: String = row.get(3)?;
            let detail: String = row.get(4)?;
            let prev_hash: String = row.get(5)?;
            let hash: String = row.get(6)?;

            if u64::try_from(seq).ok() != Some(expected) {
                return Err(broken(expected, format!("entry {expected} is missing (the next entry is {seq}): entries were removed")));
            }
            if prev_hash != prev {
                return Err(broken(
                    expected,
                    format!("its prev_hash does not match the hash of entry {}: entries were removed or reordered", expected - 1),
                ));
            }
            if entry_hash(expected, &at, &category, &action, &detail, &prev_hash) != hash {
                return Err(broken(expected, "its contents do not match its hash: the entry was edited".into()));
            }
            prev = hash;
            expected += 1;
        }
        let entries = expected - 1;

        let (head_seq, head_hash) = self.read_head()?;
        if head_seq > entries {
            return Err(broken(
                entries + 1,
                format!(
                    "the log ends at entry {entries} but {} records entry {head_seq}: entries were removed from the end",
                    self.head_path.display()
                ),
            ));
        }
        if head_seq > 0 {
            let at_head: String = self
                .conn
                .query_row("SELECT hash FROM audit WHERE seq = ?1", [i64::try_from(head_seq).unwrap_or(i64::MAX)], |r| r.get(0))?;
            if at_head != head_hash {
                return Err(broken(
                    head_seq,
                    format!("its hash differs from the one {} recorded: the log was rewritten", self.head_path.display()),
                ));
            }
        }
        Ok(AuditSummary { entries, head: prev })
    }

    /// The last `limit` entries, newest first.
    pub fn recent(&self, limit: usize) -> Result<Vec<AuditEntry>, AuditError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT seq, at, category, action, detail, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
            let seq: i64 = row.get(0)?;
            let at: String = row.get(1)?;
            let category: String = row.get(2)?;
            let detail: String = row.get(4)?;
            Ok(AuditEntry {
                seq: u64::try_from(seq).unwrap_or(0),
                at: parse_time(&at).map_err(|e| conversion_error(1, e))?,
                category: AuditCategory::parse(&category).ok_or_else(|| {
                    conversion_error(2, io::Error::new(io::ErrorKind::InvalidData, format!("unknown audit category '{category}'")))
                })?,
                action: row.get(3)?,
                detail: serde_json::from_str(&detail).map_err(|e| conversion_error(4, e))?,
                prev_hash: row.get(5)?,
                hash: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn last(&self) -> Result<Option<(u64, String)>, AuditError> {
        Ok(self
            .conn
            .query_row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |row| {
                Ok((u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0), row.get(1)?))
            })
            .optional()?)
    }

    fn write_head(&self, seq: u64, hash: &str) -> io::Result<()> {
        write_head_file(&self.head_path, seq, hash)
    }

    /// The head file's (seq, hash); a missing or unreadable head is a break at the end of the
    /// chain, since nothing then vouches for the tail.
    fn read_head(&self) -> Result<(u64, String), AuditError> {
        let entries_after = || self.last().map(|l| l.map_or(0, |(seq, _)| seq) + 1);
        let text = match std::fs::read_to_string(&self.head_path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(broken(
                    entries_after()?,
                    format!("{} is missing, so entries removed from the end could not be noticed", self.head_path.display()),
                ));
            }
            Err(source) => return Err(AuditError::Io { path: self.head_path.clone(), source }),
        };
        let parsed = text.trim().split_once(' ').and_then(|(seq, hash)| {
            let valid_hash = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
            seq.parse::<u64>().ok().filter(|_| valid_hash).map(|seq| (seq, hash.to_string()))
        });
        match parsed {
            Some(head) => Ok(head),
            None => Err(broken(entries_after()?, format!("{} is not a valid head record", self.head_path.display()))),
        }
    }
}

/// Appends an entry to the audit table of `schema` (`main`, or the name the audit log is
/// attached under) inside the caller's transaction, which must hold the write lock (BEGIN
/// IMMEDIATE), so that no other writer can take the same `seq`. The caller writes the head
/// file ([`write_head_file`]) after its commit, never before: a head ahead of the chain would be
/// a false alarm.
pub(crate) fn append_in(
    conn: &rusqlite::Connection,
    schema: &str,
    category: AuditCategory,
    action: &str,
    mut detail: serde_json::Value,
    clock: &NodeClock,
) -> Result<AuditEntry, AuditError> {
    let at = clock.now();
    // A time the node has not confirmed says so, inside the hashed detail: the chain then
    // vouches for the mark as for the time ([`crate::clock`]).
    let status = clock.status_at(at);
    if status != ClockStatus::Verified {
        if let Some(fields) = detail.as_object_mut() {
            fields.entry("clock").or_insert_with(|| serde_json::Value::from(status.as_str()));
        }
    }
    let detail_text = detail.to_string();
    let (last_seq, prev_hash) = conn
        .prepare_cached(&format!("SELECT seq, hash FROM \"{schema}\".audit ORDER BY seq DESC LIMIT 1"))?
        .query_row([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))
        .optional()?
        .unwrap_or((0, GENESIS_HASH.to_string()));
    let seq = u64::try_from(last_seq).unwrap_or(0) + 1;
    let at_text = timestamp(&at);
    let hash = entry_hash(seq, &at_text, category.as_str(), action, &detail_text, &prev_hash);
    conn.prepare_cached(&format!(
        "INSERT INTO \"{schema}\".audit (seq, at, category, action, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))?
    .execute(params![i64::try_from(seq).unwrap_or(i64::MAX), at_text, category.as_str(), action, detail_text, prev_hash, hash])?;
    // `at` as stored (nanoseconds), so the returned entry hashes to its own `hash`.
    let at = parse_time(&at_text).unwrap_or(at);
    Ok(AuditEntry { seq, at, category, action: action.to_string(), detail, prev_hash, hash })
}

/// Durably records the chain's head (last seq and hash) in `path`.
pub(crate) fn write_head_file(path: &Path, seq: u64, hash: &str) -> io::Result<()> {
    crate::startup::durable::write_file_atomically(path, format!("{seq} {hash}\n").as_bytes(), 0o600)
}

fn broken(seq: u64, reason: String) -> AuditError {
    AuditError::Broken { seq, reason }
}

/// The entry hash described in the module documentation.
fn entry_hash(seq: u64, at: &str, category: &str, action: &str, detail: &str, prev_hash: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    for field in [&seq.to_be_bytes()[..], at.as_bytes(), category.as_bytes(), action.as_bytes(), detail.as_bytes(), prev_hash.as_bytes()] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field);
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc))
}

fn conversion_error(column: usize, error: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Fixture {
        _dir: tempfile::TempDir,
        path: PathBuf,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        Fixture { _dir: dir, path }
    }

    /// A log with entries 1..=n.
    fn log_with(n: u64) -> (Fixture, AuditLog) {
        let f = fixture();
        let mut log = AuditLog::open(&f.path).unwrap();
        for i in 1..=n {
            log.append(AuditCategory::Staff, "login", json!({"staff_id": format!("S-{i}"), "n": i})).unwrap();
        }
        (f, log)
    }

    /// What someone with shell access would do: their own connection, triggers dropped.
    fn tamper(path: &Path, sql: &str) {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;").unwrap();
        conn.execute_batch(sql).unwrap();
    }

    fn broken_at(log: &AuditLog) -> (u64, String) {
        match log.verify() {
            Err(AuditError::Broken { seq, reason }) => (seq, reason),
            other => panic!("expected a broken chain, got {other:?}"),
        }
    }

    #[test]
    fn an_empty_log_verifies() {
        let f = fixture();
        let log = AuditLog::open(&f.path).unwrap();
        assert_eq!(log.verify().unwrap(), AuditSummary { entries: 0, head: GENESIS_HASH.into() });
        assert_eq!(std::fs::read_to_string(log.head_path()).unwrap(), format!("0 {GENESIS_HASH}\n"));
        assert_eq!(log.head_path(), f.path.with_file_name("audit.head"));
    }

    #[test]
    fn appended_entries_form_a_chain() {
        let f = fixture();
        let mut log = AuditLog::open(&f.path).unwrap();
        let a = log.append(AuditCategory::Provisioning, "enrolled", json!({"terminal_id": "T-1"})).unwrap();
        let b = log.append(AuditCategory::Hardware, "printer_fault", json!({"state": "paper_out"})).unwrap();
        assert_eq!((a.seq, b.seq), (1, 2));
        assert_eq!(a.prev_hash, GENESIS_HASH);
        assert_eq!(b.prev_hash, a.hash);
        assert_eq!(a.hash.len(), 64);
        let at = timestamp(&b.at);
        assert_eq!(entry_hash(2, &at, "hardware", "printer_fault", &b.detail.to_string(), &a.hash), b.hash);
        assert_eq!(log.verify().unwrap(), AuditSummary { entries: 2, head: b.hash.clone() });
        assert_eq!(std::fs::read_to_string(log.head_path()).unwrap(), format!("2 {}\n", b.hash));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(log.head_path()).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&f.path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn the_chain_continues_after_reopening() {
        let (f, log) = log_with(3);
        let last = log.recent(1).unwrap().remove(0);
        drop(log);
        let mut log = AuditLog::open(&f.path).unwrap();
        let next = log.append(AuditCategory::Sync, "batch_delivered", json!({"count": 200})).unwrap();
        assert_eq!((next.seq, next.prev_hash), (4, last.hash));
        assert_eq!(log.verify().unwrap().entries, 4);
    }

    #[test]
    fn recent_is_newest_first_and_round_trips() {
        let (_f, mut log) = log_with(4);
        let e = log.append(AuditCategory::Error, "sync_failed", json!({"status": 503, "retry_ms": [500, 1000]})).unwrap();
        let recent = log.recent(3).unwrap();
        assert_eq!(recent.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![5, 4, 3]);
        assert_eq!(recent[0], e);
        assert_eq!(log.recent(100).unwrap().len(), 5);
        assert!(log.recent(0).unwrap().is_empty());
    }

    #[test]
    fn sql_update_and_delete_are_refused() {
        let (f, _log) = log_with(2);
        let conn = rusqlite::Connection::open(&f.path).unwrap();
        let err = conn.execute("UPDATE audit SET detail = '{}' WHERE seq = 1", []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        let err = conn.execute("DELETE FROM audit WHERE seq = 2", []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }

    #[test]
    fn dropped_triggers_come_back_on_open() {
        let (f, log) = log_with(1);
        drop(log);
        tamper(&f.path, "SELECT 1;");
        let _log = AuditLog::open(&f.path).unwrap();
        let conn = rusqlite::Connection::open(&f.path).unwrap();
        assert!(conn.execute("DELETE FROM audit", []).is_err());
    }

    #[test]
    fn an_edited_entry_is_found() {
        for column in ["detail = '{\"staff_id\":\"S-9\",\"n\":3}'", "action = 'logout'", "category = 'sync'", "at = '2020-01-01T00:00:00.000000000Z'"] {
            let (f, log) = log_with(5);
            tamper(&f.path, &format!("UPDATE audit SET {column} WHERE seq = 3;"));
            let (seq, reason) = broken_at(&log);
            assert_eq!(seq, 3, "{column}");
            assert!(reason.contains("edited"), "{reason}");
        }
    }

    #[test]
    fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
        let (f, log) = log_with(5);
        let e = log.recent(5).unwrap().into_iter().find(|e| e.seq == 3).unwrap();
        let detail = "{\"staff_id\":\"S-9\"}";
        let forged = entry_hash(3, &timestamp(&e.at), "staff", "login", detail, &e.prev_hash);
        tamper(&f.path, &format!("UPDATE audit SET detail = '{detail}', hash = '{forged}' WHERE seq = 3;"));
        let (seq, reason) = broken_at(&log);
        assert_eq!(seq, 4);
        assert!(reason.contains("prev_hash"), "{reason}");
    }

    #[test]
    fn a_removed_entry_is_found() {
        let (f, log) = log_with(5);
        tamper(&f.path, "DELETE FROM audit WHERE seq = 3;");
        let (seq, reason) = broken_at(&log);
        assert_eq!(seq, 3);
        assert!(reason.contains("missing"), "{reason}");
    }

    #[test]
    fn a_removed_entry_with_renumbering_is_found() {
        let (f, log) = log_with(5);
        tamper(&f.path, "DELETE FROM audit WHERE seq = 2; UPDATE audit SET seq = seq - 1 WHERE seq > 2;");
        let (seq, reason) = broken_at(&log);
        assert_eq!(seq, 2);
        assert!(reason.contains("removed or reordered"), "{reason}");
    }

    #[test]
    fn reordered_entries_are_found() {
        let (f, log) = log_with(5);
        tamper(&f.path, "UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 100;");
        let (seq, reason) = broken_at(&log);
        assert_eq!(seq, 2);
        assert!(reason.contains("reordered"), "{reason}");
    }

    #[test]
    fn a_truncated_tail_is_found() {
        let (f, log) = log_with(5);
        tamper(&f.path, "DELETE FROM audit WHERE seq >= 4;");
        let (seq, reason) = broken_at(&log);
        assert_eq!(seq, 4);
        assert!(reason.contains("removed from the end") && reason.contains("entry 5"), "{reason}");
    }

    #[test]
    fn a_rewritten_last_entry_is_found_through_the_head() {
        let (f, log) = log_with(5);
        let e = log.recent(1).unwrap().remove(0);
        let forged = entry_hash(5, &timestamp(&e.at), "staff", "login", "{}", &e.prev_hash);
        tamper(&f.path, &format!("UPDATE audit SET detail = '{{}}', hash = '{forged}' WHERE seq = 5;"));
        let (seq, reason) = broken_at(&log);
        assert_eq!(seq, 5);
        assert!(reason.contains("rewritten"), "{reason}");
    }

    #[test]
    fn a_head_one_entry_behind_is_accepted() {
        // A crash between the commit and the head update.
        let (_f, log) = log_with(3);
        let second = log.recent(2).unwrap().remove(1);
        log.write_head(2, &second.hash).unwrap();
        assert_eq!(log.verify().unwrap().entries, 3);
    }

    #[test]
    fn a_missing_or_garbled_head_is_reported() {
        let (_f, log) = log_with(2);
        std::fs::remove_file(log.head_path()).unwrap();
        let (seq, reason) = broken_at(&log);
        assert_eq!(seq, 3);
        assert!(reason.contains("missing"), "{reason}");
        std::fs::write(log.head_path(), "two abc\n").unwrap();
        let (_, reason) = broken_at(&log);
        assert!(reason.contains("not a valid head"), "{reason}");
    }

    #[test]
    fn an_emptied_database_is_found_through_the_head() {
        let (f, log) = log_with(3);
        drop(log);
        std::fs::remove_file(&f.path).unwrap();
        let _ = std::fs::remove_file(f.path.with_extension("sqlite-wal"));
        let _ = std::fs::remove_file(f.path.with_extension("sqlite-shm"));
        let log = AuditLog::open(&f.path).unwrap();
        let (seq, reason) = broken_at(&log);
        assert_eq!(seq, 1);
        assert!(reason.contains("entry 3"), "{reason}");
    }

    #[test]
    fn the_hash_follows_the_documented_encoding() {
        // Built from the module documentation, byte by byte.
        let mut bytes = b"terminal-service audit v1".to_vec();
        let mut field = |f: &[u8]| {
            bytes.extend_from_slice(&(f.len() as u64).to_be_bytes());
            bytes.extend_from_slice(f);
        };
        field(&7u64.to_be_bytes());
        field(b"2026-11-24T10:00:00.000000000Z");
        field(b"staff");
        field(b"login");
        field(br#"{"staff_id":"S-1"}"#);
        field(GENESIS_HASH.as_bytes());
        let expected = hex(&Sha256::digest(&bytes));
        assert_eq!(entry_hash(7, "2026-11-24T10:00:00.000000000Z", "staff", "login", r#"{"staff_id":"S-1"}"#, GENESIS_HASH), expected);
    }

    #[test]
    fn the_encoding_is_unambiguous() {
        let h = |action: &str, detail: &str| entry_hash(1, "t", "staff", action, detail, GENESIS_HASH);
        assert_ne!(h("ab", "c"), h("a", "bc"));
        assert_ne!(h("", "x"), h("x", ""));
    }

    #[test]
    fn categories_round_trip_by_name() {
        for c in [AuditCategory::Provisioning, AuditCategory::Sync, AuditCategory::Staff, AuditCategory::Hardware, AuditCategory::Error] {
            assert_eq!(AuditCategory::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), json!(c.as_str()));
        }
    }
}
