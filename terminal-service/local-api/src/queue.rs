//! `GET /v1/queue` (counts, open to all) and `GET /v1/queue/details` (staff): the outbox seen
//! from outside — ids, kinds, times and attempts, never any content.

use chrono::{DateTime, Utc};
use node_protocol::SubmissionKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Outbox counts, for the status bar, the CLI and the heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// Answer of `GET /v1/queue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounts {
    /// Counts.
    pub stats: QueueStats,
}

/// Answer of `GET /v1/queue/details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    /// Counts.
    pub stats: QueueStats,
    /// Waiting submissions, oldest first (at most 200).
    pub pending: Vec<PendingSubmission>,
    /// Refused submissions with the node's reasons.
    pub dead_letters: Vec<DeadLetter>,
    /// Applications the node filed but whose partner referral it refused on delivery (a
    /// referral checked offline at the kiosk, re-validated by the node), newest first, at most
    /// 200: staff follow them up with the household and the partner.
    #[serde(default)]
    pub referral_refusals: Vec<RefusedReferral>,
    /// Present when the oldest waiting submission has waited longer than `[sync]
    /// max_days_without_delivery`: that limit, in days. The staff home says so (call a
    /// technician), and the heartbeat tells the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_overdue_days: Option<u32>,
}

/// One waiting submission, without its sealed content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSubmission {
    /// Submission id.
    pub id: Uuid,
    /// Application or grievance.
    pub kind: SubmissionKind,
    /// When it was captured.
    pub created_at: DateTime<Utc>,
    /// Send attempts so far.
    pub attempts: u32,
    /// The last attempt.
    pub last_attempt_at: Option<DateTime<Utc>>,
}

/// A submission the node refused permanently; kept for a technician, never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Submission id.
    pub id: Uuid,
    /// Application or grievance.
    pub kind: SubmissionKind,
    /// When it was captured.
    pub created_at: DateTime<Utc>,
    /// The node's reason.
    pub reason: String,
    /// When the node refused it.
    pub rejected_at: DateTime<Utc>,
}

/// A partner referral the node refused when the application carrying it was delivered. The
/// application itself was filed (a bad referral never refuses an application).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedReferral {
    /// The application's submission id.
    pub id: Uuid,
    /// The short reference printed on the household's receipt.
    pub reference: String,
    /// The node's case number for the application.
    pub case_number: String,
    /// The referral's short code (`WFP-K7M-2Q9-XAT`).
    pub code: String,
    /// The node's reason (`expired`, `already_used`, `signature_invalid`, …; `other` for one
    /// this version does not know).
    pub reason: node_protocol::ReferralRefusal,
    /// When the node's answer arrived.
    pub refused_at: DateTime<Utc>,
}
