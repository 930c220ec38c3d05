//! What the technician commands `status`, `queue` and `audit verify` print.
//!
//! They open the same files as the running daemon: SQLite in WAL mode lets them read while the
//! daemon writes, so they work on a live terminal.

use chrono::{DateTime, Utc};
use serde::Serialize;
use thiserror::Error;

use crate::audit::{AuditError, AuditLog};
use crate::startup::config::Config;
use crate::startup::identity::{Enrollment, IdentityError};
use crate::startup::node_config::{load_cached, NodeConfigError};
use crate::capture::outbox::QueueStats;
use crate::capture::storage::{Storage, StorageError, AUDIT_FILE};

/// Errors gathering a report.
#[derive(Debug, Error)]
pub enum ReportError {
    /// Databases.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Enrollment record.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Cached configuration.
    #[error(transparent)]
    NodeConfig(#[from] NodeConfigError),
    /// Audit log.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// The audit chain's state in a status report.
#[derive(Debug, Serialize)]
pub struct AuditHead {
    /// Whether the whole chain verifies.
    pub ok: bool,
    /// Entries, when it verifies.
    pub entries: Option<u64>,
    /// Hash of the last entry, when it verifies.
    pub head: Option<String>,
    /// What is broken, when it does not.
    pub error: Option<String>,
}

/// `terminal-service status`.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    /// Whether the terminal is enrolled.
    pub provisioned: bool,
    /// Terminal id.
    pub terminal_id: Option<String>,
    /// Province.
    pub province: Option<String>,
    /// Node URL: the enrolled one, else `[node] url`.
    pub node_url: String,
    /// Pinned node id.
    pub node_id: Option<String>,
    /// When it was enrolled.
    pub enrolled_at: Option<DateTime<Utc>>,
    /// SHA-256 of the node's TLS certificate pinned at enrollment (https nodes): what a
    /// technician compares with `provincial-node fingerprint` on the node.
    pub node_certificate_sha256: Option<String>,
    /// Version of the cached node configuration.
    pub config_version: Option<String>,
    /// Outbox counts.
    pub queue: QueueStats,
    /// Audit chain.
    pub audit: AuditHead,
}

/// Gathers `terminal-service status`.
pub async fn status(config: &Config, storage: &Storage) -> Result<StatusReport, ReportError> {
    let dir = &config.storage.dir;
    let enrollment = Enrollment::load(dir)?;
    let node_config = load_cached(dir)?;
    let queue = storage.outbox(|o| o.stats()).await?;
    let audit = match storage.audit_log(|log| log.verify()).await {
        Ok(summary) => AuditHead { ok: true, entries: Some(summary.entries), head: Some(summary.head), error: None },
        Err(e) => AuditHead { ok: false, entries: None, head: None, error: Some(e.to_string()) },
    };
    Ok(StatusReport {
        provisioned: enrollment.is_some(),
        terminal_id: enrollment.as_ref().map(|e| e.terminal_id.clone()),
        province: enrollment.as_ref().map(|e| e.province.clone()),
        node_url: enrollment.as_ref().map_or_else(|| config.node.url.clone(), |e| e.node_url.clone()),
        node_id: enrollment.as_ref().map(|e| e.node_id.clone()),
        enrolled_at: enrollment.as_ref().map(|e| e.enrolled_at),
        node_certificate_sha256: enrollment.as_ref().and_then(|e| e.node_certificate_sha256).map(|f| f.to_string()),
        config_version: node_config.map(|c| c.version),
        queue,
        audit,
    })
}

/// `terminal-service audit verify`: opens only the audit log.
pub fn verify_audit(config: &Config) -> Result<crate::audit::AuditSummary, AuditError> {
    AuditLog::open(&config.storage.dir.join(AUDIT_FILE))?.verify()
}
