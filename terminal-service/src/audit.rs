//! The audit log: an append-only SHA-256 hash chain.
//!
//! SKELETON.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;
use thiserror::Error;

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
}

/// What an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditCategory {
    /// Enrollment, key generation.
    Provisioning,
    /// Deliveries, rejections.
    Sync,
    /// Staff logins and actions.
    Staff,
    /// Hardware faults.
    Hardware,
    /// Errors.
    Error,
}

/// One entry of the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Position, from 1, without gaps.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// Category.
    pub category: AuditCategory,
    /// Short action name, e.g. `enrolled`, `batch_delivered`.
    pub action: String,
    /// Details; never personal data.
    pub detail: serde_json::Value,
    /// Hash of the previous entry (hex; 64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over this entry's fields and `prev_hash` (hex).
    pub hash: String,
}

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
    _conn: rusqlite::Connection,
}

impl AuditLog {
    /// Opens (creating) the log at `path`.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        let _ = path;
        todo!()
    }

    /// Appends an entry; durable when this returns.
    pub fn append(&mut self, category: AuditCategory, action: &str, detail: serde_json::Value) -> Result<AuditEntry, AuditError> {
        let _ = (category, action, detail);
        todo!()
    }

    /// Checks the whole chain.
    pub fn verify(&self) -> Result<AuditSummary, AuditError> {
        todo!()
    }

    /// The last `limit` entries, newest first.
    pub fn recent(&self, limit: usize) -> Result<Vec<AuditEntry>, AuditError> {
        let _ = limit;
        todo!()
    }
}
