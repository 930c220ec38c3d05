//! `POST /v1/receipts`: prints the receipt of a submission captured here, or a status-check
//! slip. Calling it again reprints (the UI offers that after a `printer_not_ready`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use uuid::Uuid;

use super::error::{ApiError, JsonBody};
use super::hardware::{print, PrintAnswer};
use super::ApiState;
use crate::receipts::{for_submission, language, StatusSlip};

/// Body of `POST /v1/receipts`: exactly one of `submission_id` and `status_slip`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintReceipt {
    /// A submission captured on this terminal.
    #[serde(default)]
    pub submission_id: Option<Uuid>,
    /// Language of the submission receipt (default: the kiosk's first language).
    #[serde(default)]
    pub language: Option<String>,
    /// A status-check or "come back later" slip.
    #[serde(default)]
    pub status_slip: Option<StatusSlip>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message)
}

/// `POST /v1/receipts`.
pub async fn post(State(state): State<ApiState>, JsonBody(body): JsonBody<PrintReceipt>) -> Result<(StatusCode, Json<PrintAnswer>), ApiError> {
    let terminal = &state.terminal;
    let languages = &terminal.config.kiosk.languages;
    let receipt = match (body.submission_id, body.status_slip) {
        (Some(id), None) => {
            let tag = body.language.clone().or_else(|| languages.first().cloned()).unwrap_or_default();
            let lang = Some(&tag).filter(|t| languages.contains(t)).and_then(|t| language(t)).ok_or_else(|| invalid(format!("language: use one of {}", languages.join(", "))))?;
            let record = terminal.storage.outbox(move |o| o.find(id)).await.map_err(ApiError::internal)?;
            let (Some(record), Some(provisioned)) = (record, terminal.provisioned()) else {
                return Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_submission", format!("no submission {id} was captured on this terminal; check the id the capture answered")));
            };
            for_submission(&record, lang, &provisioned.enrollment.terminal_id, &provisioned.enrollment.province)
        }
        (None, Some(slip)) => {
            if body.language.is_some() {
                return Err(invalid("language goes inside status_slip"));
            }
            let lang = slip.check(languages).map_err(invalid)?;
            slip.receipt(lang, &terminal.terminal_id(), Utc::now())
        }
        _ => return Err(invalid("give exactly one of submission_id (a captured submission) and status_slip")),
    };
    print(terminal, receipt).await
}
