//! `POST /v1/status-checks`: an applicant's status, asked of the node live (nothing cached).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use local_api::StatusRequest as StatusCheck;
use node_protocol::{StatusQuery, StatusRequest, StatusResponse};

use super::error::{ApiError, JsonBody};
use super::ApiState;
use crate::delivery::node_client::NodeError;

/// Arabic-Indic (U+0660…) and Extended Arabic-Indic (U+06F0…) digits as ASCII; other
/// characters unchanged.
pub(crate) fn ascii_digits(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
            '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
            other => other,
        })
        .collect()
}

/// `POST /v1/status-checks`.
pub async fn post(State(state): State<ApiState>, JsonBody(body): JsonBody<StatusCheck>) -> Result<Json<StatusResponse>, ApiError> {
    let terminal = &state.terminal;
    // The local API's query: the node's, plus the ID card on the reader.
    let mut read_method = None;
    let query = match body.query {
        // Read below, once the rate limit has let the check through.
        local_api::StatusQuery::IdCard { access } => {
            read_method = Some(super::hardware::read_method(terminal, access.as_ref())?);
            None
        }
        local_api::StatusQuery::NationalId { national_id } => {
            // Card readers and the on-screen keyboard may give Arabic-Indic digits.
            let national_id = ascii_digits(national_id.trim());
            if national_id.len() != 12 || !national_id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", "national_id must be the 12 digits of the national ID card"));
            }
            Some(StatusQuery::NationalId { national_id })
        }
        local_api::StatusQuery::Reference { reference, date_of_birth } => {
            if reference.trim().is_empty() || reference.len() > 64 {
                return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", "reference must be the code printed on the receipt"));
            }
            Some(StatusQuery::Reference { reference: reference.trim().to_string(), date_of_birth })
        }
    };
    let provisioned = terminal.provisioned().ok_or_else(ApiError::not_provisioned)?;
    if let Err(wait) = terminal.check_status_rate() {
        let mut error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many status checks at this terminal; please wait a minute and try again");
        error.retry_after = Some(wait.as_secs().max(1));
        return Err(error);
    }
    let query = match query {
        Some(query) => query,
        None => {
            let method = read_method.ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", "the query names no way to identify the applicant"))?;
            let (_, card) = super::hardware::read_id_card_data(terminal, method).await?;
            StatusQuery::NationalId { national_id: card.national_id.as_str().to_owned() }
        }
    };
    match provisioned.client.status(&StatusRequest { query }).await {
        Ok(answer) => {
            terminal.mark_connectivity(crate::events::ConnectivityState::Online);
            Ok(Json(answer))
        }
        Err(e) if e.is_transient() => {
            terminal.mark_connectivity(crate::events::ConnectivityState::Offline);
            let mut error = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "node_unreachable", format!("the provincial office cannot be reached right now ({e}); please come back later"));
            error.retry_after = e.retry_after().map(|d| d.as_secs().max(1));
            Err(error)
        }
        Err(NodeError::Refused { status, body }) if (400..500).contains(&status) && status != 401 && status != 403 => {
            Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "status_refused", format!("the node refused the query ({}): {}", body.error, body.message)))
        }
        Err(e) => Err(ApiError::new(StatusCode::BAD_GATEWAY, "node_error", format!("the node refused this terminal's request: {e}; a technician should check the enrollment"))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn arabic_indic_digits_become_ascii() {
        assert_eq!(super::ascii_digits("١٩٩٠۱۲۳4"), "19901234");
    }
}
