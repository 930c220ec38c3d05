//! How the local API says no: every error answer is an [`ErrorBody`], `{error, message}`, with
//! a few members some errors add (`fields`, `attempts_left`, `retry_after_s`, `state`).

use serde::{Deserialize, Serialize};

use crate::hardware::PrinterState;

/// The body of every 4xx and 5xx answer of the local API.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable code, e.g. `validation_failed`, `not_provisioned`, `wrong_pin`.
    pub error: String,
    /// What was wrong and what to do.
    pub message: String,
    /// Per-field problems, with `validation_failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldError>>,
    /// With `wrong_pin`: wrong PINs left before the badge is locked out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// With `locked_out`: seconds until the badge may try again (also the `Retry-After`
    /// header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    /// With `printer_not_ready`: the printer's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<PrinterState>,
}

impl ErrorBody {
    /// A body with a code and a message and nothing else.
    pub fn new(error: impl Into<String>, message: impl Into<String>) -> ErrorBody {
        ErrorBody { error: error.into(), message: message.into(), ..ErrorBody::default() }
    }
}

/// The code of `507 Insufficient Storage` on `POST /v1/applications` and `/v1/grievances`:
/// the terminal's storage is full and nothing was saved; what was saved before is safe, and
/// saving resumes by itself once deliveries have freed space.
pub const STORAGE_FULL: &str = "storage_full";

/// What is wrong with one answer of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Field id; for household members `members[2].name`.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}
