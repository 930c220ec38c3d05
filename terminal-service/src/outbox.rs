//! The durable outbox: submissions waiting to reach the node.
//!
//! Everything captured must survive power cuts and outages of days, and reach the node exactly
//! once. So a submission is committed here, in one SQLite transaction with the WAL fsynced
//! (`journal_mode=WAL`, `synchronous=FULL`), *before* the kiosk says "saved"; and it leaves the
//! outbox only in the same transaction that records the node's answer for its id. A crash
//! between sending and recording means the batch is sent again, and the node answers
//! `duplicate` with the same case number: at-least-once sending plus the node's idempotency on
//! the id gives exactly-once effect.
//!
//! Three tables, one per state a submission can be in:
//! - `outbox`: waiting. The sealed (age-encrypted) content and, in clear, only routing
//!   metadata: id, kind, times, form version, attempt count, and the applicant key (a keyed
//!   hash of the national id, for the "already submitted here" warning). Ordered by `seq`.
//! - `delivered`: the node acknowledged it. Only id, case number, time and applicant key stay,
//!   so a receipt's reference can still be turned into a case number; the sealed content is
//!   purged, as the security model asks.
//! - `dead_letters`: the node refused it permanently. Kept whole (still sealed) for a
//!   technician: a refusal must never silently drop what an applicant submitted.
//!
//! `seq INTEGER PRIMARY KEY` (the row id) orders the queue and `id` is `UNIQUE`, rather than
//! `id` being the primary key: a text primary key on a row-id table is a second b-tree, and a
//! FIFO order on top of it would be a third, each one more page to write and fsync on every
//! enqueue. Paging oldest-first is then a walk of the table's own b-tree from its left edge,
//! whose cost and memory do not grow with the queue.
//!
//! The schema is versioned with `PRAGMA user_version` and migrated forward in one transaction
//! at open; a file from a newer build is refused rather than guessed at.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use node_protocol::{Envelope, SubmissionKind, SubmissionOutcome, SubmissionResult};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use thiserror::Error;
use uuid::Uuid;

/// File name of the outbox inside the storage directory.
pub const OUTBOX_FILE: &str = "outbox.sqlite";

/// How long a writer waits for another connection's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations, oldest first; the schema version is the number applied. Append only:
/// a migration that shipped is never edited.
const MIGRATIONS: &[&str] = &[
    // 1: the three states of a submission.
    "CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('application', 'grievance')),
        created_at TEXT NOT NULL,
        form_version TEXT NOT NULL,
        sealed BLOB NOT NULL,
        applicant_key TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_attempt_at TEXT
    );
    CREATE INDEX outbox_applicant_key ON outbox (applicant_key) WHERE applicant_key IS NOT NULL;
    CREATE TABLE delivered (
        id TEXT PRIMARY KEY,
        case_number TEXT NOT NULL,
        delivered_at TEXT NOT NULL,
        applicant_key TEXT
    ) WITHOUT ROWID;
    CREATE INDEX delivered_applicant_key ON delivered (applicant_key) WHERE applicant_key IS NOT NULL;
    CREATE TABLE dead_letters (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        created_at TEXT NOT NULL,
        form_version TEXT NOT NULL,
        sealed BLOB NOT NULL,
        applicant_key TEXT,
        reason TEXT NOT NULL,
        rejected_at TEXT NOT NULL
    );
    CREATE INDEX dead_letters_applicant_key ON dead_letters (applicant_key) WHERE applicant_key IS NOT NULL;",
];

/// Newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Errors of the outbox.
#[derive(Debug, Error)]
pub enum OutboxError {
    /// SQLite failed (disk full, I/O error, corrupt file…).
    #[error("outbox database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The database was written by a newer version.
    #[error("outbox schema version {found} is newer than this software understands ({supported}): upgrade terminal-service")]
    SchemaTooNew {
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// An id is already in the outbox, delivered or dead-lettered.
    #[error("submission {0} already exists")]
    DuplicateId(Uuid),
}

/// A sealed submission ready to be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubmission {
    /// UUIDv7 chosen by the terminal.
    pub id: Uuid,
    /// Application or grievance.
    pub kind: SubmissionKind,
    /// When the applicant submitted it.
    pub created_at: DateTime<Utc>,
    /// Form version.
    pub form_version: String,
    /// age ciphertext of the `SubmissionContent`.
    pub sealed: Vec<u8>,
    /// Keyed hash of the applicant's national id (terminal-local key), for the "already
    /// submitted from this terminal" warning; never the id itself.
    pub applicant_key: Option<String>,
}

/// Counts for the CLI, the local API and the heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueStats {
    /// Submissions waiting.
    pub depth: u64,
    /// Creation time of the oldest waiting submission.
    pub oldest_created_at: Option<DateTime<Utc>>,
    /// Submissions the node refused.
    pub dead_letters: u64,
    /// Submissions acknowledged by the node (kept as id + case number only).
    pub delivered: u64,
}

/// One waiting submission, without its sealed content.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PendingSubmission {
    /// Id.
    pub id: Uuid,
    /// Kind.
    pub kind: SubmissionKind,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Send attempts so far.
    pub attempts: u32,
    /// Last attempt.
    pub last_attempt_at: Option<DateTime<Utc>>,
}

/// A submission the node refused permanently; kept for a technician, never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeadLetter {
    /// Id.
    pub id: Uuid,
    /// Kind.
    pub kind: SubmissionKind,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// The node's reason.
    pub reason: String,
    /// When the node refused it.
    pub rejected_at: DateTime<Utc>,
}

/// What applying a batch's results changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedResults {
    /// Rows acknowledged (accepted or duplicate) and removed.
    pub delivered: usize,
    /// Rows moved to the dead-letter table.
    pub dead_lettered: usize,
    /// Results for ids not in the outbox (already applied): ignored.
    pub unknown: usize,
}

/// The outbox database (`outbox.sqlite` in the storage directory).
pub struct Outbox {
    conn: rusqlite::Connection,
}

impl Outbox {
    /// Opens (creating and migrating) the outbox at `path`: WAL, `synchronous=FULL`.
    pub fn open(path: &Path) -> Result<Outbox, OutboxError> {
        create_private_file(path)?;
        let mut conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Still durable with synchronous=FULL, only slower; worth a line in the journal.
            tracing::warn!(path = %path.display(), journal_mode = %mode, "outbox file system does not support WAL");
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Outbox { conn })
    }

    /// Queues a submission; durable when this returns.
    pub fn enqueue(&mut self, submission: &NewSubmission) -> Result<(), OutboxError> {
        let id = submission.id.to_string();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let known: bool = tx.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE id = ?1)
                     OR EXISTS (SELECT 1 FROM delivered WHERE id = ?1)
                     OR EXISTS (SELECT 1 FROM dead_letters WHERE id = ?1)",
            )?
            .query_row([&id], |row| row.get(0))?;
            if known {
                return Err(OutboxError::DuplicateId(submission.id));
            }
            tx.prepare_cached(
                "INSERT INTO outbox (id, kind, created_at, form_version, sealed, applicant_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                id,
                submission.kind.as_str(),
                timestamp(&submission.created_at),
                submission.form_version,
                submission.sealed,
                submission.applicant_key,
            ])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Up to `limit` waiting submissions, oldest first, as envelopes.
    pub fn next_batch(&self, limit: usize) -> Result<Vec<Envelope>, OutboxError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT id, kind, created_at, form_version, sealed FROM outbox ORDER BY seq LIMIT ?1")?;
        let rows = statement.query_map([sql_limit(limit)], |row| {
            let sealed: Vec<u8> = row.get(4)?;
            Ok(Envelope {
                id: uuid_column(row, 0)?,
                kind: kind_column(row, 1)?,
                created_at: time_column(row, 2)?,
                form_version: row.get(3)?,
                sealed: STANDARD.encode(sealed),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Counts one more send attempt for `ids`.
    pub fn record_attempt(&mut self, ids: &[Uuid], at: DateTime<Utc>) -> Result<(), OutboxError> {
        let at = timestamp(&at);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut update =
                tx.prepare_cached("UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?2 WHERE id = ?1")?;
            for id in ids {
                update.execute(params![id.to_string(), at])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Applies the node's per-envelope results in one transaction: accepted and duplicate rows
    /// are recorded as delivered (id, case number) and removed; rejected rows move to the
    /// dead-letter table.
    ///
    /// Results for ids no longer in the outbox are counted as unknown and ignored: after a lost
    /// acknowledgement the same results can arrive twice, and applying them again must change
    /// nothing.
    pub fn apply_results(&mut self, results: &[SubmissionResult], at: DateTime<Utc>) -> Result<AppliedResults, OutboxError> {
        let at = timestamp(&at);
        let mut applied = AppliedResults::default();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            // `OR IGNORE`: should an id somehow already be recorded, the first answer stands
            // and the row still leaves the outbox, instead of wedging every later batch.
            let mut deliver = tx.prepare_cached(
                "INSERT OR IGNORE INTO delivered (id, case_number, delivered_at, applicant_key)
                 SELECT id, ?2, ?3, applicant_key FROM outbox WHERE id = ?1",
            )?;
            let mut dead_letter = tx.prepare_cached(
                "INSERT OR IGNORE INTO dead_letters
                     (id, kind, created_at, form_version, sealed, applicant_key, reason, rejected_at)
                 SELECT id, kind, created_at, form_version, sealed, applicant_key, ?2, ?3
                 FROM outbox WHERE id = ?1",
            )?;
            let mut remove = tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
            for result in results {
                let id = result.id.to_string();
                let delivered = match &result.outcome {
                    SubmissionOutcome::Accepted { case_number } | SubmissionOutcome::Duplicate { case_number } => {
                        deliver.execute(params![id, case_number, at])?;
                        true
                    }
                    SubmissionOutcome::Rejected { reason } => {
                        dead_letter.execute(params![id, reason, at])?;
                        false
                    }
                };
                if remove.execute([&id])? == 0 {
                    applied.unknown += 1;
                } else if delivered {
                    applied.delivered += 1;
                } else {
                    applied.dead_lettered += 1;
                }
            }
        }
        tx.commit()?;
        Ok(applied)
    }

    /// Queue counts.
    ///
    /// `oldest_created_at` is the creation time of the submission at the head of the queue
    /// (the one waiting longest), not a minimum over all rows: that minimum would scan every
    /// sealed row, and a terminal without a real-time clock can stamp a row with a time from
    /// before its clock was set, which says nothing about how long anything has waited.
    pub fn stats(&self) -> Result<QueueStats, OutboxError> {
        let count = |sql: &str| -> Result<u64, OutboxError> {
            let n: i64 = self.conn.prepare_cached(sql)?.query_row([], |row| row.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let oldest_created_at = self
            .conn
            .prepare_cached("SELECT created_at FROM outbox ORDER BY seq LIMIT 1")?
            .query_row([], |row| time_column(row, 0))
            .optional()?;
        Ok(QueueStats {
            depth: count("SELECT count(*) FROM outbox")?,
            oldest_created_at,
            dead_letters: count("SELECT count(*) FROM dead_letters")?,
            delivered: count("SELECT count(*) FROM delivered")?,
        })
    }

    /// Waiting submissions, oldest first, at most `limit`.
    pub fn pending(&self, limit: usize) -> Result<Vec<PendingSubmission>, OutboxError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, kind, created_at, attempts, last_attempt_at FROM outbox ORDER BY seq LIMIT ?1",
        )?;
        let rows = statement.query_map([sql_limit(limit)], |row| {
            let attempts: i64 = row.get(3)?;
            let last: Option<String> = row.get(4)?;
            Ok(PendingSubmission {
                id: uuid_column(row, 0)?,
                kind: kind_column(row, 1)?,
                created_at: time_column(row, 2)?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                last_attempt_at: last.map(|t| parse_time(&t, 4)).transpose()?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// All dead letters, newest first.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, OutboxError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, kind, created_at, reason, rejected_at FROM dead_letters ORDER BY rejected_at DESC, rowid DESC",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(DeadLetter {
                id: uuid_column(row, 0)?,
                kind: kind_column(row, 1)?,
                created_at: time_column(row, 2)?,
                reason: row.get(3)?,
                rejected_at: time_column(row, 4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The node's case number for a delivered submission.
    pub fn case_number(&self, id: Uuid) -> Result<Option<String>, OutboxError> {
        Ok(self
            .conn
            .prepare_cached("SELECT case_number FROM delivered WHERE id = ?1")?
            .query_row([id.to_string()], |row| row.get(0))
            .optional()?)
    }

    /// Whether a submission with this applicant key was already captured here (waiting,
    /// delivered or dead-lettered).
    pub fn has_applicant_key(&self, key: &str) -> Result<bool, OutboxError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE applicant_key = ?1)
                     OR EXISTS (SELECT 1 FROM delivered WHERE applicant_key = ?1)
                     OR EXISTS (SELECT 1 FROM dead_letters WHERE applicant_key = ?1)",
            )?
            .query_row([key], |row| row.get(0))?)
    }
}

/// Creates the database file with mode 0600 if it does not exist yet; SQLite gives its `-wal`
/// and `-shm` files the same mode.
fn create_private_file(path: &Path) -> Result<(), OutboxError> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        // Let SQLite report it with its own words (`unable to open database file`) plus the
        // I/O reason, which names what to fix.
        Err(e) => Err(OutboxError::Database(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!("cannot create {}: {e}", path.display())),
        ))),
    }
}

/// Brings the schema to [`SCHEMA_VERSION`] in one transaction, or refuses a newer file.
fn migrate(conn: &mut rusqlite::Connection) -> Result<(), OutboxError> {
    // IMMEDIATE, and the version read inside it: two processes opening a new file at once
    // must not both run the same migration.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(OutboxError::SchemaTooNew { found, supported: SCHEMA_VERSION });
    }
    for migration in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(0)) {
        tx.execute_batch(migration)?;
    }
    if found != SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    tx.commit()?;
    Ok(())
}

/// Fixed-width RFC 3339 (nanoseconds, `Z`), so that text order is time order.
fn timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn conversion_error(column: usize, error: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(error))
}

fn parse_time(text: &str, column: usize) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|e| conversion_error(column, e))
}

fn time_column(row: &rusqlite::Row<'_>, column: usize) -> rusqlite::Result<DateTime<Utc>> {
    parse_time(&row.get::<_, String>(column)?, column)
}

fn uuid_column(row: &rusqlite::Row<'_>, column: usize) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(&row.get::<_, String>(column)?).map_err(|e| conversion_error(column, e))
}

fn kind_column(row: &rusqlite::Row<'_>, column: usize) -> rusqlite::Result<SubmissionKind> {
    SubmissionKind::from_str(&row.get::<_, String>(column)?)
        .map_err(|message| conversion_error(column, std::io::Error::new(std::io::ErrorKind::InvalidData, message)))
}
