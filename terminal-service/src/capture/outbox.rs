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
//! - `delivered`: the node acknowledged it. Only id, case number, time, applicant key, kind and
//!   capture time stay, so a receipt's reference can still be turned into a case number and a
//!   receipt reprinted; the sealed content is purged, as the security model asks.
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
use node_protocol::{Envelope, ReferralRefusal, ReferralStatus, SubmissionKind, SubmissionOutcome, SubmissionResult};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use thiserror::Error;
use uuid::Uuid;

/// File name of the outbox inside the storage directory.
pub const OUTBOX_FILE: &str = "outbox.sqlite";

/// Bytes the WAL is cut back to after a checkpoint (`PRAGMA journal_size_limit`).
const JOURNAL_SIZE_LIMIT: i64 = 512 * 1024;

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
    // 2: what a receipt reprinted after delivery needs (kind and capture time; still nothing
    // personal). Rows delivered before this migration have neither.
    "ALTER TABLE delivered ADD COLUMN kind TEXT;
    ALTER TABLE delivered ADD COLUMN created_at TEXT;",
    // 3: partner referrals the node refused on delivery (issue 14). The application was
    // filed; staff see the refusal in the queue details. Short code and reason only.
    "CREATE TABLE referral_refusals (
        id TEXT PRIMARY KEY,
        case_number TEXT NOT NULL,
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        refused_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX referral_refusals_refused_at ON referral_refusals (refused_at);",
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
    /// The file exists but is not a sound outbox (corrupt, truncated, not SQLite). Nothing is
    /// reset: the queued submissions may still be recoverable from it.
    #[error("{path} is damaged ({source}): nothing was changed; stop the service, keep a copy of the file and ask a technician to recover it (sqlite3 .recover); do not delete it, it holds submissions not yet delivered")]
    Damaged {
        /// The outbox file.
        path: std::path::PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
}

impl OutboxError {
    /// Whether the error is the disk (or the file system holding the outbox) being full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            OutboxError::Database(e) | OutboxError::Damaged { source: e, .. } => is_disk_full(e),
            _ => false,
        }
    }
}

/// Whether SQLite failed because the disk is full (`SQLITE_FULL`: SQLite turns a write's
/// `ENOSPC` into it).
pub fn is_disk_full(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::DiskFull)
}

/// Whether SQLite said the file is not a database or is malformed.
fn is_damage(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(e, _)
        if matches!(e.code, rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt))
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

// What the outbox shows of itself is the local API's (`GET /v1/queue`, `/v1/queue/details`).
pub use local_api::{DeadLetter, PendingSubmission, QueueStats, RefusedReferral};

/// Where a submission captured on this terminal is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionPlace {
    /// Waiting in the outbox.
    Waiting,
    /// Acknowledged by the node.
    Delivered,
    /// Refused by the node.
    DeadLetter,
}

/// The routing metadata of one submission captured on this terminal, wherever it is now:
/// what a receipt (or its reprint) shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionRecord {
    /// Id.
    pub id: Uuid,
    /// Application or grievance.
    pub kind: SubmissionKind,
    /// When it was captured.
    pub created_at: DateTime<Utc>,
    /// Where it is now.
    pub place: SubmissionPlace,
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
    ///
    /// A file that is not a sound SQLite database (truncated, overwritten, corrupt) is refused
    /// with [`OutboxError::Damaged`], naming it: never replaced by an empty outbox, which would
    /// silently lose every submission not yet delivered.
    pub fn open(path: &Path) -> Result<Outbox, OutboxError> {
        Outbox::open_checked(path).map_err(|e| match e {
            OutboxError::Database(source) if is_damage(&source) => OutboxError::Damaged { path: path.to_path_buf(), source },
            other => other,
        })
    }

    fn open_checked(path: &Path) -> Result<Outbox, OutboxError> {
        create_private_file(path)?;
        let mut conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Only takes effect on a new, empty file (ignored once tables exist): lets the storage
        // give the pages of delivered rows back to a full file system (`incremental_vacuum`).
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Still durable with synchronous=FULL, only slower; worth a line in the journal.
            tracing::warn!(path = %path.display(), journal_mode = %mode, "outbox file system does not support WAL");
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // After a checkpoint the WAL is cut back to this size instead of keeping its peak:
        // on a small card a WAL that once grew would otherwise hold that space for ever.
        conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
        // Checkpoint every 128 pages (512 KiB) instead of SQLite's 1,000 (4 MiB): on a small
        // or nearly full card a WAL of megabytes could never be checkpointed (the pages must
        // be copied into the database file while the WAL still holds them), and saving would
        // stay refused after everything was delivered.
        conn.pragma_update(None, "wal_autocheckpoint", 128)?;
        // A truncated or overwritten file can still open; the first page read past the damage
        // fails. Find out now, at start-up, where the message can name the file.
        let check: String = conn.query_row("PRAGMA quick_check(1)", [], |row| row.get(0))?;
        if check != "ok" {
            return Err(OutboxError::Database(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                Some(format!("integrity check: {check}")),
            )));
        }
        migrate(&mut conn)?;
        Ok(Outbox { conn })
    }

    /// The connection, for the group commit ([`crate::capture::storage`]), which runs many
    /// writes in one transaction of its own.
    pub(crate) fn connection(&mut self) -> &mut rusqlite::Connection {
        &mut self.conn
    }

    /// Queues a submission; durable when this returns.
    pub fn enqueue(&mut self, submission: &NewSubmission) -> Result<(), OutboxError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        enqueue_in(&tx, submission)?;
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

    /// Up to `limit` waiting submissions, oldest first, as envelopes, skipping the ids in
    /// `exclude` (the batches the sync engine already has on the wire).
    ///
    /// Why two steps: the excluded rows sit at the head of the queue, and reading them whole
    /// would load (and base64-encode) their sealed blobs only to throw them away. The first
    /// query reads `seq` and `id` alone — the leading columns, kept in the row's local payload,
    /// so no overflow page is touched — and picks the rows; the second reads just those rows.
    /// Both run under the caller's `&self`, i.e. the storage mutex, so nothing moves between them.
    pub fn next_batch_excluding(&self, limit: usize, exclude: &std::collections::HashSet<Uuid>) -> Result<Vec<Envelope>, OutboxError> {
        if exclude.is_empty() {
            return self.next_batch(limit);
        }
        let mut chosen: Vec<i64> = Vec::with_capacity(limit);
        {
            let mut heads = self.conn.prepare_cached("SELECT seq, id FROM outbox ORDER BY seq LIMIT ?1")?;
            // At most `exclude.len()` of the first `limit + exclude.len()` rows are skipped.
            let mut rows = heads.query([sql_limit(limit.saturating_add(exclude.len()))])?;
            while let Some(row) = rows.next()? {
                if chosen.len() >= limit {
                    break;
                }
                if !exclude.contains(&uuid_column(row, 1)?) {
                    chosen.push(row.get(0)?);
                }
            }
        }
        let (Some(&first), Some(&last)) = (chosen.first(), chosen.last()) else { return Ok(Vec::new()) };
        let wanted: std::collections::HashSet<i64> = chosen.iter().copied().collect();
        let mut statement = self.conn.prepare_cached(
            "SELECT seq, id, kind, created_at, form_version, sealed FROM outbox WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
        )?;
        let mut envelopes = Vec::with_capacity(chosen.len());
        let mut rows = statement.query([first, last])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            // An excluded row between the first and last chosen ones (a leftover of an
            // earlier batch) is skipped here; rarely more than none.
            if !wanted.contains(&seq) {
                continue;
            }
            let sealed: Vec<u8> = row.get(5)?;
            envelopes.push(Envelope {
                id: uuid_column(row, 1)?,
                kind: kind_column(row, 2)?,
                created_at: time_column(row, 3)?,
                form_version: row.get(4)?,
                sealed: STANDARD.encode(sealed),
            });
        }
        Ok(envelopes)
    }

    /// Counts one more send attempt for `ids`.
    pub fn record_attempt(&mut self, ids: &[Uuid], at: DateTime<Utc>) -> Result<(), OutboxError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        record_attempt_in(&tx, ids, at)?;
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
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let applied = apply_results_in(&tx, results, at)?;
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

    /// The partner referrals the node refused on delivery, newest first, at most `limit`.
    pub fn referral_refusals(&self, limit: usize) -> Result<Vec<RefusedReferral>, OutboxError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, case_number, code, reason, refused_at FROM referral_refusals ORDER BY refused_at DESC, id DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([sql_limit(limit)], |row| {
            let id = uuid_column(row, 0)?;
            let reason: String = row.get(3)?;
            Ok(RefusedReferral {
                id,
                reference: node_protocol::reference::short_reference(&id),
                case_number: row.get(1)?,
                code: row.get(2)?,
                reason: ReferralRefusal::from_wire(&reason),
                refused_at: time_column(row, 4)?,
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

    /// The metadata of a submission captured here, waiting, delivered or dead-lettered;
    /// `None` for an id this terminal never captured (or delivered before schema 2 kept
    /// the kind).
    pub fn find(&self, id: Uuid) -> Result<Option<SubmissionRecord>, OutboxError> {
        let key = id.to_string();
        for (sql, place) in [
            ("SELECT kind, created_at FROM outbox WHERE id = ?1", SubmissionPlace::Waiting),
            ("SELECT kind, created_at FROM dead_letters WHERE id = ?1", SubmissionPlace::DeadLetter),
            (
                "SELECT kind, created_at FROM delivered WHERE id = ?1 AND kind IS NOT NULL AND created_at IS NOT NULL",
                SubmissionPlace::Delivered,
            ),
        ] {
            let found = self
                .conn
                .prepare_cached(sql)?
                .query_row([&key], |row| Ok((kind_column(row, 0)?, time_column(row, 1)?)))
                .optional()?;
            if let Some((kind, created_at)) = found {
                return Ok(Some(SubmissionRecord { id, kind, created_at, place }));
            }
        }
        Ok(None)
    }

    /// Whether a submission with this applicant key was already captured here (waiting,
    /// delivered or dead-lettered).
    pub fn has_applicant_key(&self, key: &str) -> Result<bool, OutboxError> {
        has_applicant_key_in(&self.conn, key)
    }

    /// Whether a submission of `kind` with this applicant key was already captured here
    /// (waiting, delivered or dead-lettered). Rows delivered before the kind was recorded
    /// count as any kind: a warning too many beats one too few.
    pub fn has_applicant_key_of_kind(&self, key: &str, kind: SubmissionKind) -> Result<bool, OutboxError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE applicant_key = ?1 AND kind = ?2)
                     OR EXISTS (SELECT 1 FROM delivered WHERE applicant_key = ?1 AND (kind = ?2 OR kind IS NULL))
                     OR EXISTS (SELECT 1 FROM dead_letters WHERE applicant_key = ?1 AND kind = ?2)",
            )?
            .query_row(rusqlite::params![key, kind.as_str()], |row| row.get(0))?)
    }
}

/// [`Outbox::enqueue`]'s work inside a transaction the caller opened and will commit (the
/// group commit runs many of these in one transaction).
pub(crate) fn enqueue_in(conn: &rusqlite::Connection, submission: &NewSubmission) -> Result<(), OutboxError> {
        let id = submission.id.to_string();
        {
            let known: bool = conn.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE id = ?1)
                     OR EXISTS (SELECT 1 FROM delivered WHERE id = ?1)
                     OR EXISTS (SELECT 1 FROM dead_letters WHERE id = ?1)",
            )?
            .query_row([&id], |row| row.get(0))?;
            if known {
                return Err(OutboxError::DuplicateId(submission.id));
            }
            conn.prepare_cached(
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
    Ok(())
}

/// [`Outbox::has_applicant_key`] on any connection (the group commit reads it inside its
/// transaction, so the check and the insert after it see the same state).
pub(crate) fn has_applicant_key_in(conn: &rusqlite::Connection, key: &str) -> Result<bool, OutboxError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE applicant_key = ?1)
                 OR EXISTS (SELECT 1 FROM delivered WHERE applicant_key = ?1)
                 OR EXISTS (SELECT 1 FROM dead_letters WHERE applicant_key = ?1)",
        )?
        .query_row([key], |row| row.get(0))?)
}

/// [`Outbox::record_attempt`]'s work inside the caller's transaction.
pub(crate) fn record_attempt_in(conn: &rusqlite::Connection, ids: &[Uuid], at: DateTime<Utc>) -> Result<(), OutboxError> {
        let at = timestamp(&at);
        {
            let mut update =
                conn.prepare_cached("UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?2 WHERE id = ?1")?;
            for id in ids {
                update.execute(params![id.to_string(), at])?;
            }
        }
    Ok(())
}

/// [`Outbox::apply_results`]'s work inside the caller's transaction.
pub(crate) fn apply_results_in(conn: &rusqlite::Connection, results: &[SubmissionResult], at: DateTime<Utc>) -> Result<AppliedResults, OutboxError> {
        let at = timestamp(&at);
        let mut applied = AppliedResults::default();
        {
            // `OR IGNORE`: should an id somehow already be recorded, the first answer stands
            // and the row still leaves the outbox, instead of wedging every later batch.
            let mut deliver = conn.prepare_cached(
                "INSERT OR IGNORE INTO delivered (id, case_number, delivered_at, applicant_key, kind, created_at)
                 SELECT id, ?2, ?3, applicant_key, kind, created_at FROM outbox WHERE id = ?1",
            )?;
            let mut dead_letter = conn.prepare_cached(
                "INSERT OR IGNORE INTO dead_letters
                     (id, kind, created_at, form_version, sealed, applicant_key, reason, rejected_at)
                 SELECT id, kind, created_at, form_version, sealed, applicant_key, ?2, ?3
                 FROM outbox WHERE id = ?1",
            )?;
            let mut remove = conn.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
            // Only for a row that is still waiting: a result for an id already delivered (a
            // node answering twice) must not record the refusal twice or for another row.
            let mut refuse_referral = conn.prepare_cached(
                "INSERT OR IGNORE INTO referral_refusals (id, case_number, code, reason, refused_at)
                 SELECT id, ?2, ?3, ?4, ?5 FROM outbox WHERE id = ?1",
            )?;
            for result in results {
                let id = result.id.to_string();
                let delivered = match &result.outcome {
                    SubmissionOutcome::Accepted { case_number, referral_check, .. } => {
                        if let Some(check) = referral_check.as_ref().filter(|c| c.status == ReferralStatus::Refused) {
                            let reason = check.reason.unwrap_or(ReferralRefusal::Other).as_str();
                            refuse_referral.execute(params![id, case_number, check.code, reason, at])?;
                        }
                        deliver.execute(params![id, case_number, at])?;
                        true
                    }
                    SubmissionOutcome::Duplicate { case_number } => {
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
    Ok(applied)
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    struct Fixture {
        _dir: tempfile::TempDir,
        path: std::path::PathBuf,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(OUTBOX_FILE);
        Fixture { _dir: dir, path }
    }

    fn time(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_790_000_000 + s, 123_456_789).unwrap()
    }

    fn submission(n: u8) -> NewSubmission {
        NewSubmission {
            id: Uuid::now_v7(),
            kind: if n % 2 == 0 { SubmissionKind::Application } else { SubmissionKind::Grievance },
            created_at: time(i64::from(n)),
            form_version: format!("2026.{n}"),
            sealed: vec![n; 64 + usize::from(n)],
            applicant_key: Some(format!("key-{n}")),
        }
    }

    fn accepted(id: Uuid, case: &str) -> SubmissionResult {
        SubmissionResult { id, outcome: SubmissionOutcome::Accepted { case_number: case.into(), duplicate_check: None, referral_check: None } }
    }

    fn duplicate(id: Uuid, case: &str) -> SubmissionResult {
        SubmissionResult { id, outcome: SubmissionOutcome::Duplicate { case_number: case.into() } }
    }

    fn rejected(id: Uuid, reason: &str) -> SubmissionResult {
        SubmissionResult { id, outcome: SubmissionOutcome::Rejected { reason: reason.into() } }
    }

    fn ids(envelopes: &[Envelope]) -> Vec<Uuid> {
        envelopes.iter().map(|e| e.id).collect()
    }

    #[test]
    fn open_configures_durability_and_schema() {
        let f = fixture();
        let outbox = Outbox::open(&f.path).unwrap();
        let mode: String = outbox.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let synchronous: i64 = outbox.conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
        assert_eq!(synchronous, 2, "FULL");
        let foreign_keys: i64 = outbox.conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
        assert_eq!(foreign_keys, 1);
        let version: i64 = outbox.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&f.path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn an_empty_file_is_migrated() {
        let f = fixture();
        std::fs::write(&f.path, b"").unwrap();
        let mut outbox = Outbox::open(&f.path).unwrap();
        outbox.enqueue(&submission(1)).unwrap();
        assert_eq!(outbox.stats().unwrap().depth, 1);
    }

    #[test]
    fn reopening_keeps_the_schema_and_rows() {
        let f = fixture();
        let s = submission(1);
        {
            let mut outbox = Outbox::open(&f.path).unwrap();
            outbox.enqueue(&s).unwrap();
        }
        let outbox = Outbox::open(&f.path).unwrap();
        let batch = outbox.next_batch(10).unwrap();
        assert_eq!(ids(&batch), vec![s.id]);
    }

    #[test]
    fn a_newer_schema_is_refused_and_left_alone() {
        let f = fixture();
        {
            let conn = rusqlite::Connection::open(&f.path).unwrap();
            conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;").unwrap();
        }
        match Outbox::open(&f.path) {
            Err(OutboxError::SchemaTooNew { found: 99, supported }) => assert_eq!(supported, SCHEMA_VERSION),
            other => panic!("expected SchemaTooNew, got {:?}", other.err()),
        }
        let conn = rusqlite::Connection::open(&f.path).unwrap();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, 99);
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'outbox'", [], |r| r.get(0)).unwrap();
        assert_eq!(tables, 0, "no migration ran on a newer file");
        let message = OutboxError::SchemaTooNew { found: 99, supported: SCHEMA_VERSION }.to_string();
        assert!(message.contains("upgrade terminal-service"), "{message}");
    }

    #[test]
    fn a_committed_enqueue_is_visible_without_a_clean_close() {
        let f = fixture();
        let s = submission(3);
        let mut outbox = Outbox::open(&f.path).unwrap();
        outbox.enqueue(&s).unwrap();
        // The first connection is still open (no checkpoint, no close): what a second process
        // sees is what the WAL holds on disk.
        let other = Outbox::open(&f.path).unwrap();
        assert_eq!(ids(&other.next_batch(10).unwrap()), vec![s.id]);
        std::mem::forget(outbox);
        let after = Outbox::open(&f.path).unwrap();
        assert_eq!(after.stats().unwrap().depth, 1);
    }

    #[test]
    fn envelopes_carry_the_metadata_and_base64_of_the_sealed_bytes() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        let s = submission(4);
        outbox.enqueue(&s).unwrap();
        let batch = outbox.next_batch(1).unwrap();
        let e = &batch[0];
        assert_eq!(e.id, s.id);
        assert_eq!(e.kind, s.kind);
        assert_eq!(e.created_at, s.created_at, "nanosecond precision survives");
        assert_eq!(e.form_version, s.form_version);
        assert_eq!(STANDARD.decode(&e.sealed).unwrap(), s.sealed);
    }

    #[test]
    fn batches_are_oldest_first_and_bounded() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        // Creation times out of order (a clock set back): queue order still wins.
        let subs: Vec<_> = [5u8, 1, 9, 2, 7].iter().map(|&n| submission(n)).collect();
        for s in &subs {
            outbox.enqueue(s).unwrap();
        }
        let all: Vec<Uuid> = subs.iter().map(|s| s.id).collect();
        assert_eq!(ids(&outbox.next_batch(3).unwrap()), all[..3]);
        assert_eq!(ids(&outbox.next_batch(100).unwrap()), all);
        assert!(outbox.next_batch(0).unwrap().is_empty());
        let pending: Vec<Uuid> = outbox.pending(4).unwrap().iter().map(|p| p.id).collect();
        assert_eq!(pending, all[..4]);

        // Delivering the head moves the window; new rows go to the back.
        outbox.apply_results(&[accepted(all[0], "C-0"), accepted(all[1], "C-1")], time(100)).unwrap();
        let late = submission(0);
        outbox.enqueue(&late).unwrap();
        assert_eq!(ids(&outbox.next_batch(10).unwrap()), vec![all[2], all[3], all[4], late.id]);
    }

    #[test]
    fn fifo_holds_after_the_queue_empties() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        let a = submission(1);
        outbox.enqueue(&a).unwrap();
        outbox.apply_results(&[accepted(a.id, "C-1")], time(1)).unwrap();
        let (b, c) = (submission(2), submission(3));
        outbox.enqueue(&b).unwrap();
        outbox.enqueue(&c).unwrap();
        assert_eq!(ids(&outbox.next_batch(10).unwrap()), vec![b.id, c.id]);
    }

    #[test]
    fn a_damaged_outbox_is_refused_naming_the_file_and_never_reset() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        for n in 0..40 {
            let mut s = submission(n);
            s.sealed = vec![7; 3_000];
            outbox.enqueue(&s).unwrap();
        }
        drop(outbox); // checkpointed into the main file
        let whole = std::fs::read(&f.path).unwrap();
        assert!(whole.len() > 8 * 4096);
        let mut garbage = whole.clone();
        garbage[..100].fill(0xAB);
        for (what, bytes) in [("truncated", whole[..whole.len() / 2].to_vec()), ("overwritten header", garbage), ("not SQLite", b"hello".to_vec())] {
            std::fs::write(&f.path, &bytes).unwrap();
            let err = Outbox::open(&f.path).err().unwrap_or_else(|| panic!("{what}: opened"));
            let message = err.to_string();
            assert!(matches!(err, OutboxError::Damaged { .. }), "{what}: {message}");
            assert!(message.contains(&f.path.display().to_string()), "{what}: {message}");
            assert!(message.contains("do not delete it"), "{what}: {message}");
            assert_eq!(std::fs::read(&f.path).unwrap(), bytes, "{what}: the file was changed");
        }
    }

    #[test]
    fn a_known_id_is_refused_in_every_state() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        let (waiting, delivered, dead) = (submission(1), submission(2), submission(3));
        for s in [&waiting, &delivered, &dead] {
            outbox.enqueue(s).unwrap();
        }
        outbox.apply_results(&[accepted(delivered.id, "C-2"), rejected(dead.id, "form retired")], time(10)).unwrap();
        let before = outbox.stats().unwrap();
        for s in [&waiting, &delivered, &dead] {
            let mut again = submission(9);
            again.id = s.id;
            match outbox.enqueue(&again) {
                Err(OutboxError::DuplicateId(id)) => assert_eq!(id, s.id),
                other => panic!("expected DuplicateId, got {other:?}"),
            }
        }
        assert_eq!(outbox.stats().unwrap(), before);
        assert_eq!(outbox.next_batch(10).unwrap().len(), 1);
    }

    #[test]
    fn accepted_and_duplicate_are_delivered_and_purged() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        let (a, b) = (submission(1), submission(2));
        outbox.enqueue(&a).unwrap();
        outbox.enqueue(&b).unwrap();
        let applied = outbox.apply_results(&[accepted(a.id, "BGD-1"), duplicate(b.id, "BGD-0")], time(50)).unwrap();
        assert_eq!(applied, AppliedResults { delivered: 2, dead_lettered: 0, unknown: 0 });
        assert_eq!(outbox.case_number(a.id).unwrap().as_deref(), Some("BGD-1"));
        assert_eq!(outbox.case_number(b.id).unwrap().as_deref(), Some("BGD-0"));
        assert_eq!(outbox.case_number(Uuid::now_v7()).unwrap(), None);
        assert!(outbox.next_batch(10).unwrap().is_empty());
        let stats = outbox.stats().unwrap();
        assert_eq!((stats.depth, stats.delivered, stats.dead_letters, stats.oldest_created_at), (0, 2, 0, None));
        // Delivered rows keep no sealed content: the table has no column for it.
        let columns: Vec<String> = outbox
            .conn
            .prepare("SELECT name FROM pragma_table_info('delivered')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(columns, ["id", "case_number", "delivered_at", "applicant_key", "kind", "created_at"]);
    }

    #[test]
    fn a_referral_the_node_refused_is_kept_for_staff_once_and_the_application_delivered() {
        use node_protocol::ReferralCheck;
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        let (refused, taken, none) = (submission(2), submission(4), submission(6));
        for s in [&refused, &taken, &none] {
            outbox.enqueue(s).unwrap();
        }
        let with_check = |id, case: &str, status, reason| SubmissionResult {
            id,
            outcome: SubmissionOutcome::Accepted {
                case_number: case.into(),
                duplicate_check: None,
                referral_check: Some(ReferralCheck { code: "WFP-79E-7X4-DM0".into(), status, reason, headquarters: None }),
            },
        };
        let results = [
            with_check(refused.id, "BGD-7", ReferralStatus::Refused, Some(ReferralRefusal::AlreadyUsed)),
            with_check(taken.id, "BGD-8", ReferralStatus::Accepted, None),
            accepted(none.id, "BGD-9"),
        ];
        let applied = outbox.apply_results(&results, time(80)).unwrap();
        assert_eq!(applied.delivered, 3, "a refused referral never refuses the application");
        let listed = outbox.referral_refusals(10).unwrap();
        assert_eq!(listed.len(), 1, "{listed:?}");
        let r = &listed[0];
        assert_eq!((r.id, r.case_number.as_str(), r.code.as_str(), r.reason), (refused.id, "BGD-7", "WFP-79E-7X4-DM0", ReferralRefusal::AlreadyUsed));
        assert_eq!((r.reference.clone(), r.refused_at), (node_protocol::reference::short_reference(&refused.id), time(80)));
        // The node answering the same batch again changes nothing.
        outbox.apply_results(&results, time(90)).unwrap();
        assert_eq!(outbox.referral_refusals(10).unwrap(), listed);
    }

    #[test]
    fn rejected_moves_to_dead_letters_with_its_sealed_content() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        let (a, b) = (submission(1), submission(2));
        outbox.enqueue(&a).unwrap();
        outbox.enqueue(&b).unwrap();
        outbox.apply_results(&[rejected(a.id, "unknown form version")], time(60)).unwrap();
        let applied = outbox.apply_results(&[rejected(b.id, "sealed to another node")], time(70)).unwrap();
        assert_eq!(applied, AppliedResults { delivered: 0, dead_lettered: 1, unknown: 0 });

        let dead = outbox.dead_letters().unwrap();
        assert_eq!(dead.iter().map(|d| d.id).collect::<Vec<_>>(), vec![b.id, a.id], "newest first");
        assert_eq!(dead[1].reason, "unknown form version");
        assert_eq!(dead[1].kind, a.kind);
        assert_eq!(dead[1].created_at, a.created_at);
        assert_eq!(dead[1].rejected_at, time(60));
        let sealed: Vec<u8> =
            outbox.conn.query_row("SELECT sealed FROM dead_letters WHERE id = ?1", [a.id.to_string()], |r| r.get(0)).unwrap();
        assert_eq!(sealed, a.sealed);
        assert_eq!(outbox.case_number(a.id).unwrap(), None);
        let stats = outbox.stats().unwrap();
        assert_eq!((stats.depth, stats.delivered, stats.dead_letters), (0, 0, 2));
    }

    #[test]
    fn applying_the_same_results_twice_changes_nothing() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        let subs: Vec<_> = (1..=4).map(submission).collect();
        for s in &subs {
            outbox.enqueue(s).unwrap();
        }
        let results = [accepted(subs[0].id, "C-1"), duplicate(subs[1].id, "C-2"), rejected(subs[2].id, "invalid")];
        let first = outbox.apply_results(&results, time(10)).unwrap();
        assert_eq!(first, AppliedResults { delivered: 2, dead_lettered: 1, unknown: 0 });
        let after_first = (outbox.stats().unwrap(), outbox.dead_letters().unwrap());

        // The acknowledgement was lost and the node answers again (duplicate this time).
        let again = [duplicate(subs[0].id, "C-1"), duplicate(subs[1].id, "C-2"), rejected(subs[2].id, "invalid")];
        let second = outbox.apply_results(&again, time(20)).unwrap();
        assert_eq!(second, AppliedResults { delivered: 0, dead_lettered: 0, unknown: 3 });
        assert_eq!((outbox.stats().unwrap(), outbox.dead_letters().unwrap()), after_first);
        assert_eq!(outbox.case_number(subs[0].id).unwrap().as_deref(), Some("C-1"));
        assert_eq!(ids(&outbox.next_batch(10).unwrap()), vec![subs[3].id]);
    }

    #[test]
    fn unknown_ids_are_counted_and_ignored() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        let a = submission(1);
        outbox.enqueue(&a).unwrap();
        let stranger = Uuid::now_v7();
        let applied = outbox
            .apply_results(&[accepted(stranger, "X"), accepted(a.id, "C-1"), accepted(a.id, "C-1")], time(1))
            .unwrap();
        assert_eq!(applied, AppliedResults { delivered: 1, dead_lettered: 0, unknown: 2 });
        assert_eq!(outbox.case_number(stranger).unwrap(), None);
    }

    #[test]
    fn apply_results_is_all_or_nothing() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        let (a, b) = (submission(1), submission(2));
        outbox.enqueue(&a).unwrap();
        outbox.enqueue(&b).unwrap();
        // Make the second step fail (as a full disk would) after the first has been applied.
        outbox
            .conn
            .execute_batch("CREATE TEMP TRIGGER fail BEFORE INSERT ON dead_letters BEGIN SELECT RAISE(ABORT, 'disk full'); END;")
            .unwrap();
        let err = outbox.apply_results(&[accepted(a.id, "C-1"), rejected(b.id, "invalid")], time(1)).unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(ids(&outbox.next_batch(10).unwrap()), vec![a.id, b.id], "nothing left the outbox");
        assert_eq!(outbox.case_number(a.id).unwrap(), None, "nothing was recorded as delivered");
        outbox.conn.execute_batch("DROP TRIGGER temp.fail;").unwrap();
        let applied = outbox.apply_results(&[accepted(a.id, "C-1"), rejected(b.id, "invalid")], time(2)).unwrap();
        assert_eq!(applied, AppliedResults { delivered: 1, dead_lettered: 1, unknown: 0 });
    }

    #[test]
    fn find_follows_a_submission_through_every_state() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        let (a, b) = (submission(2), submission(3));
        outbox.enqueue(&a).unwrap();
        outbox.enqueue(&b).unwrap();
        let found = outbox.find(a.id).unwrap().unwrap();
        assert_eq!((found.kind, found.created_at, found.place), (a.kind, a.created_at, SubmissionPlace::Waiting));
        outbox.apply_results(&[accepted(a.id, "BGD-1"), rejected(b.id, "bad")], time(9)).unwrap();
        let found = outbox.find(a.id).unwrap().unwrap();
        assert_eq!((found.kind, found.created_at, found.place), (a.kind, a.created_at, SubmissionPlace::Delivered));
        let found = outbox.find(b.id).unwrap().unwrap();
        assert_eq!((found.kind, found.place), (SubmissionKind::Grievance, SubmissionPlace::DeadLetter));
        assert_eq!(outbox.find(Uuid::now_v7()).unwrap(), None);
    }

    #[test]
    fn attempts_are_counted() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        let (a, b) = (submission(1), submission(2));
        outbox.enqueue(&a).unwrap();
        outbox.enqueue(&b).unwrap();
        outbox.record_attempt(&[a.id, b.id], time(10)).unwrap();
        outbox.record_attempt(&[a.id, Uuid::now_v7()], time(20)).unwrap();
        let pending = outbox.pending(10).unwrap();
        assert_eq!((pending[0].id, pending[0].attempts, pending[0].last_attempt_at), (a.id, 2, Some(time(20))));
        assert_eq!((pending[1].id, pending[1].attempts, pending[1].last_attempt_at), (b.id, 1, Some(time(10))));
        assert_eq!(pending[0].kind, a.kind);
        assert_eq!(pending[0].created_at, a.created_at);
    }

    #[test]
    fn a_fresh_row_has_no_attempts() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        outbox.enqueue(&submission(1)).unwrap();
        let p = &outbox.pending(1).unwrap()[0];
        assert_eq!((p.attempts, p.last_attempt_at), (0, None));
    }

    #[test]
    fn stats_report_the_head_of_the_queue() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        assert_eq!(outbox.stats().unwrap(), QueueStats { depth: 0, oldest_created_at: None, dead_letters: 0, delivered: 0 });
        let (a, b) = (submission(8), submission(3));
        outbox.enqueue(&a).unwrap();
        outbox.enqueue(&b).unwrap();
        let stats = outbox.stats().unwrap();
        assert_eq!((stats.depth, stats.oldest_created_at), (2, Some(a.created_at)));
    }

    #[test]
    fn applicant_keys_are_found_in_every_state() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        let (waiting, delivered, dead) = (submission(1), submission(2), submission(3));
        let mut anonymous = submission(4);
        anonymous.applicant_key = None;
        for s in [&waiting, &delivered, &dead, &anonymous] {
            outbox.enqueue(s).unwrap();
        }
        outbox.apply_results(&[accepted(delivered.id, "C"), rejected(dead.id, "r")], time(1)).unwrap();
        for key in ["key-1", "key-2", "key-3"] {
            assert!(outbox.has_applicant_key(key).unwrap(), "{key}");
        }
        assert!(!outbox.has_applicant_key("key-4").unwrap());
        assert!(!outbox.has_applicant_key("").unwrap());
    }

    #[test]
    fn applicant_keys_are_told_apart_by_kind_in_every_state() {
        let f = fixture();
        let mut outbox = Outbox::open(&f.path).unwrap();
        let (waiting, delivered, dead) = (submission(1), submission(2), submission(3));
        let mut grievance = submission(4);
        grievance.kind = SubmissionKind::Grievance;
        for s in [&waiting, &delivered, &dead, &grievance] {
            outbox.enqueue(s).unwrap();
        }
        outbox.apply_results(&[accepted(delivered.id, "C"), rejected(dead.id, "r")], time(1)).unwrap();
        for s in [&waiting, &delivered, &dead] {
            let key = s.applicant_key.as_deref().unwrap();
            assert!(outbox.has_applicant_key_of_kind(key, s.kind).unwrap(), "{key}");
            let other = if s.kind == SubmissionKind::Application { SubmissionKind::Grievance } else { SubmissionKind::Application };
            assert!(!outbox.has_applicant_key_of_kind(key, other).unwrap(), "{key} as {other:?}");
        }
        assert!(outbox.has_applicant_key_of_kind("key-4", SubmissionKind::Grievance).unwrap());
        assert!(!outbox.has_applicant_key_of_kind("key-4", SubmissionKind::Application).unwrap());
    }

    #[test]
    fn lookups_use_indexes_so_a_deep_queue_stays_fast() {
        let f = fixture();
        let outbox = Outbox::open(&f.path).unwrap();
        for sql in [
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE id = ?1) OR EXISTS (SELECT 1 FROM delivered WHERE id = ?1) OR EXISTS (SELECT 1 FROM dead_letters WHERE id = ?1)",
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE applicant_key = ?1) OR EXISTS (SELECT 1 FROM delivered WHERE applicant_key = ?1) OR EXISTS (SELECT 1 FROM dead_letters WHERE applicant_key = ?1)",
            "SELECT id, kind, created_at, form_version, sealed FROM outbox ORDER BY seq LIMIT ?1",
            "DELETE FROM outbox WHERE id = ?1",
            "SELECT case_number FROM delivered WHERE id = ?1",
        ] {
            let plan: Vec<String> = outbox
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(["x"], |r| r.get(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let plan = plan.join("; ");
            assert!(!plan.contains("USE TEMP B-TREE"), "{sql}: {plan}");
            for table in ["outbox", "delivered", "dead_letters"] {
                // `SCAN outbox` is fine only for the ordered walk with a LIMIT.
                let scans = plan.contains(&format!("SCAN {table}")) && !sql.contains("ORDER BY seq LIMIT");
                assert!(!scans, "{sql}: {plan}");
            }
        }
    }

    /// Whether `needle` occurs in the database file or its WAL.
    fn database_contains(path: &Path, needle: &[u8]) -> bool {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        [path.to_path_buf(), std::path::PathBuf::from(wal)]
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
    }

    #[test]
    fn no_plaintext_reaches_the_disk() {
        const MARKER: &str = "PLAINTEXT-MARKER-زينب-199012345678";
        let f = fixture();
        let identity = age::x25519::Identity::generate();
        let sealer = crate::capture::seal::Sealer::new(&identity.to_public().to_string()).unwrap();
        let plaintext = format!("{{\"full_name\":\"{MARKER}\"}}");
        let mut outbox = Outbox::open(&f.path).unwrap();
        let mut ids = Vec::new();
        for n in 0..3 {
            let mut s = submission(n);
            s.sealed = sealer.seal(plaintext.as_bytes()).unwrap();
            ids.push(s.id);
            outbox.enqueue(&s).unwrap();
        }
        outbox.apply_results(&[rejected(ids[0], "invalid")], time(1)).unwrap();
        // While open (rows in the WAL) and after close (checkpointed into the main file).
        assert!(!database_contains(&f.path, MARKER.as_bytes()));
        drop(outbox);
        assert!(!database_contains(&f.path, MARKER.as_bytes()));
        // The content is there, sealed: the node's identity opens it.
        let outbox = Outbox::open(&f.path).unwrap();
        let sealed = STANDARD.decode(&outbox.next_batch(1).unwrap()[0].sealed).unwrap();
        assert_eq!(age::decrypt(&identity, &sealed).unwrap(), plaintext.as_bytes());

        // Control: the same search does find an unsealed marker, so the check above can fail.
        let control = fixture();
        let mut unsealed = Outbox::open(&control.path).unwrap();
        let mut s = submission(1);
        s.sealed = plaintext.into_bytes();
        unsealed.enqueue(&s).unwrap();
        assert!(database_contains(&control.path, MARKER.as_bytes()));
    }
}
