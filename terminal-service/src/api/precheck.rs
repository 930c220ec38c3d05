//! `POST /v1/applications/precheck`: the early duplicate warning before an application.
//!
//! Two questions about one national id: was an application with it submitted from this
//! terminal (its keyed hash, [`crate::capture::applicant_key`], in the outbox), and does the
//! node's pre-check know it? The kiosk waits on the answer, so the node gets
//! [`NODE_PRECHECK_TIMEOUT`] and no more; whatever keeps it from answering is
//! `could_not_check`. Neither the national id nor the answer is logged.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use local_api::{NodeFinding, Precheck, PrecheckRequest};
use node_protocol::SubmissionKind;

use super::error::{ApiError, JsonBody};
use super::status_checks::ascii_digits;
use super::ApiState;
use crate::events::ConnectivityState;
use crate::terminal::Terminal;

/// The longest the node's pre-check may take: an applicant stands waiting at the kiosk.
pub const NODE_PRECHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// `POST /v1/applications/precheck`.
pub async fn post(State(state): State<ApiState>, JsonBody(body): JsonBody<PrecheckRequest>) -> Result<Json<Precheck>, ApiError> {
    let terminal = &state.terminal;
    let as_typed = body.national_id.trim().to_owned();
    let national_id = ascii_digits(&as_typed);
    if national_id.len() != 12 || !national_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", "national_id must be the 12 digits of the national ID card"));
    }
    // One budget with the status checks: both ask the node about a national id, and neither
    // may become a way to sweep the registry from a kiosk.
    if let Err(wait) = terminal.check_status_rate() {
        let mut error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many checks at this terminal; please wait a minute and try again");
        error.retry_after = Some(wait.as_secs().max(1));
        return Err(error);
    }
    // The outbox holds the key of the id as the form gave it: typed digits may have been
    // Arabic-Indic, so both spellings are looked up.
    let mut keys = vec![terminal.applicant_key(&national_id)];
    if as_typed != national_id {
        keys.push(terminal.applicant_key(&as_typed));
    }
    let sent_from_this_terminal = terminal
        .storage
        .outbox(move |outbox| {
            for key in &keys {
                if outbox.has_applicant_key_of_kind(key, SubmissionKind::Application)? {
                    return Ok(true);
                }
            }
            Ok(false)
        })
        .await
        .map_err(ApiError::internal)?;
    let node = ask_node(terminal, national_id).await;
    Ok(Json(Precheck { sent_from_this_terminal, node }))
}

/// The node's pre-check, within [`NODE_PRECHECK_TIMEOUT`].
async fn ask_node(terminal: &Terminal, national_id: String) -> NodeFinding {
    let Some(provisioned) = terminal.provisioned() else { return NodeFinding::CouldNotCheck };
    let request = node_protocol::PrecheckRequest { national_id };
    match tokio::time::timeout(NODE_PRECHECK_TIMEOUT, provisioned.client.precheck(&request)).await {
        Ok(Ok(answer)) => {
            terminal.mark_connectivity(ConnectivityState::Online);
            answer.result.into()
        }
        Ok(Err(e)) if e.is_transient() => {
            terminal.mark_connectivity(ConnectivityState::Offline);
            tracing::info!(error = %e, "pre-check: the node cannot be reached");
            NodeFinding::CouldNotCheck
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "pre-check: the node refused it");
            NodeFinding::CouldNotCheck
        }
        // Slow is not offline: connectivity stays as the sync engine last saw it.
        Err(_) => {
            tracing::info!(timeout_s = NODE_PRECHECK_TIMEOUT.as_secs(), "pre-check: the node did not answer in time");
            NodeFinding::CouldNotCheck
        }
    }
}
