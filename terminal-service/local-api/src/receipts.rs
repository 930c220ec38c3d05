//! `POST /v1/receipts` (and the hardware print test): what to print and what came out.

use chrono::{DateTime, Utc};
use node_protocol::StatusResponse;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Body of `POST /v1/receipts`: exactly one of `submission_id` and `status_slip` (the service
/// checks that; the type allows both so that it can say which is wrong).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintReceipt {
    /// A submission captured on this terminal: the `id` the capture answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_id: Option<Uuid>,
    /// With `submission_id`: the receipt's language (default: the kiosk's first language).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// A status-check or "come back later" slip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_slip: Option<StatusSlip>,
}

impl PrintReceipt {
    /// The receipt of a captured submission, in `language`.
    pub fn submission(id: Uuid, language: impl Into<String>) -> PrintReceipt {
        PrintReceipt { submission_id: Some(id), language: Some(language.into()), status_slip: None }
    }

    /// A status slip.
    pub fn slip(slip: StatusSlip) -> PrintReceipt {
        PrintReceipt { status_slip: Some(slip), ..PrintReceipt::default() }
    }
}

/// A status-check slip: the node's answer (`status`, as `POST /v1/status-checks` gave it), or —
/// `status` absent or null, the node unreachable — the "come back later" slip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusSlip {
    /// `ar`, `ckb` or `en`.
    pub language: String,
    /// The node's answer; `None` for the offline slip.
    #[serde(default)]
    pub status: Option<StatusResponse>,
    /// The reference the applicant checked, if they gave one (printed large, and as QR; at most
    /// 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Offline: when to come back (default: 24 hours later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub come_back_at: Option<DateTime<Utc>>,
}

/// Answer of a print (201): it came out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Printed {
    /// Always true (a failure is an error answer).
    pub printed: bool,
    /// Pages cut (a receipt is one page).
    pub pages: u32,
    /// Simulated printer only: path of the printed page as PNG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub png: Option<String>,
}
