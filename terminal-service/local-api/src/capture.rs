//! `POST /v1/applications` and `POST /v1/grievances`: a filled form in, a receipt's reference
//! out once the submission is durably queued.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// Body of `POST /v1/applications` and `POST /v1/grievances`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureRequest {
    /// Language the applicant used (`ar`, `ckb`, `en`; one of `[kiosk] languages`).
    pub language: String,
    /// Field id → answer, as the form describes.
    pub answers: Map<String, Value>,
    /// Staff id when a staff member captured it for the applicant (the session's).
    #[serde(default)]
    pub assisted_by: Option<String>,
    /// Staff submit an application despite the early duplicate warning, for this reason; only
    /// with `assisted_by` (a staff session). Audited, and sealed with the application for the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_override: Option<node_protocol::DuplicateOverride>,
    /// The partner referral the application comes with (applications only): the short code,
    /// and the signed payload when scanned or looked up (`POST /v1/referrals/check`). Sealed
    /// with the application; the node checks it and answers in `referral_check`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<node_protocol::AttachedReferral>,
    /// Answers to the node's targeting questionnaire (form `targeting`), for an application
    /// when the node serves one: field id → answer, hidden questions left out. Checked against
    /// the cached questionnaire; problems come back named `targeting.<field>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targeting: Option<Map<String, Value>>,
}

/// Answer of a capture: the submission is durable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Captured {
    /// Submission id (UUIDv7).
    pub id: Uuid,
    /// Short reference for the receipt (`XXXXX-XXXXX`).
    pub reference: String,
    /// When it was captured.
    pub created_at: DateTime<Utc>,
    /// The same national id was already submitted from this terminal.
    pub duplicate_warning: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `local_api_bodies` fuzz target: a number with more digits than an f64 holds
    /// was read one bit off, so what the service wrote out (and sealed) read back as another
    /// number. With serde_json's `float_roundtrip` reading is exact and the two agree. (In this
    /// crate's test build jsonschema, a dev-dependency, turns the feature on too; the fuzz build,
    /// which has no jsonschema, is where it fails without local-api's own request for it.)
    #[test]
    fn a_long_number_in_the_answers_reads_back_as_written() {
        let body = r#"{"language": "ar", "answers": {"monthly_income_iqd": 5000555555555555555555555555555555555555555555555555555555555555555555555555555555555555500}}"#;
        let request: CaptureRequest = serde_json::from_str(body).unwrap();
        let again: CaptureRequest = serde_json::from_str(&serde_json::to_string(&request).unwrap()).unwrap();
        assert_eq!(again, request);
    }
}
