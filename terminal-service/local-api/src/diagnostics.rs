//! `GET /v1/diagnostics`: what the sync engine and the heartbeat last did, and the newest
//! entries of the audit log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::health::Connectivity;

/// Answer of `GET /v1/diagnostics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Version of terminal-service.
    pub version: String,
    /// Node reachability.
    pub connectivity: Connectivity,
    /// Sync engine and heartbeat.
    pub sync: SyncDiagnostics,
    /// The last audit entries, newest first.
    pub audit: Vec<AuditEntry>,
}

/// What the sync engine is doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Not started yet.
    #[default]
    Starting,
    /// Waiting for provisioning.
    NotProvisioned,
    /// Outbox empty.
    Idle,
    /// A batch is on its way.
    Sending,
    /// Backing off after a failure.
    Waiting,
}

impl SyncPhase {
    /// The wire name (`starting`, `not_provisioned`, `idle`, `sending`, `waiting`).
    pub fn as_str(self) -> &'static str {
        match self {
            SyncPhase::Starting => "starting",
            SyncPhase::NotProvisioned => "not_provisioned",
            SyncPhase::Idle => "idle",
            SyncPhase::Sending => "sending",
            SyncPhase::Waiting => "waiting",
        }
    }
}

/// What the sync engine and the heartbeat last did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDiagnostics {
    /// Current phase.
    pub state: SyncPhase,
    /// Last batch the node answered.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Last failure, without personal data.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<DateTime<Utc>>,
    /// When the next attempt is due, while backing off.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Submissions acknowledged since start.
    pub delivered: u64,
    /// Submissions rejected since start.
    pub dead_lettered: u64,
    /// Last heartbeat the node answered.
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// Last heartbeat failure.
    pub last_heartbeat_error: Option<String>,
}

/// What an audit entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

impl AuditCategory {
    /// Every category.
    pub const ALL: [AuditCategory; 5] = [AuditCategory::Provisioning, AuditCategory::Sync, AuditCategory::Staff, AuditCategory::Hardware, AuditCategory::Error];

    /// The stored and serialized name (`provisioning`, `sync`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditCategory::Provisioning => "provisioning",
            AuditCategory::Sync => "sync",
            AuditCategory::Staff => "staff",
            AuditCategory::Hardware => "hardware",
            AuditCategory::Error => "error",
        }
    }

    /// The category named `name`, if any.
    pub fn parse(name: &str) -> Option<AuditCategory> {
        AuditCategory::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// One entry of the terminal's audit log (an append-only SHA-256 chain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
