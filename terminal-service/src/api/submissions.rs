//! `POST /v1/applications` and `POST /v1/grievances`: capture a form, answer once it is durable.
//! A staff member's `duplicate_override` needs their session, as `assisted_by` does.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use node_protocol::SubmissionKind;

use super::error::{ApiError, JsonBody};
use super::ApiState;
use crate::capture::submission::{capture, CaptureError, CaptureRequest, Captured};

/// `POST /v1/applications`.
pub async fn post_application(State(state): State<ApiState>, JsonBody(body): JsonBody<CaptureRequest>) -> Result<(StatusCode, Json<Captured>), ApiError> {
    create(state, SubmissionKind::Application, body).await
}

/// `POST /v1/grievances`.
pub async fn post_grievance(State(state): State<ApiState>, JsonBody(body): JsonBody<CaptureRequest>) -> Result<(StatusCode, Json<Captured>), ApiError> {
    create(state, SubmissionKind::Grievance, body).await
}

async fn create(state: ApiState, kind: SubmissionKind, body: CaptureRequest) -> Result<(StatusCode, Json<Captured>), ApiError> {
    if let Some(staff) = &body.assisted_by {
        // Only the staff member logged in now may sign a submission as assisted.
        let session = super::auth::require_staff(&state.terminal, "a staff-assisted submission")?;
        if &session.staff_id != staff {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "assisted_by_mismatch",
                format!("assisted_by must be the staff id of the session ({}); leave it out for self-service", session.staff_id),
            ));
        }
    }
    if body.duplicate_override.is_some() && body.assisted_by.is_none() {
        // Only staff may override the warning: without a session that is a login to ask for;
        // with one, capture names the missing assisted_by.
        super::auth::require_staff(&state.terminal, "submitting despite the duplicate warning")?;
    }
    match capture(&state.terminal, kind, body).await {
        Ok(captured) => Ok((StatusCode::CREATED, Json(captured))),
        Err(CaptureError::NotProvisioned) => Err(ApiError::not_provisioned()),
        Err(e @ CaptureError::NoForm(_)) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_configuration", e.to_string())),
        Err(CaptureError::Invalid(fields)) => {
            let mut error = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                format!("{} answer(s) need attention: see fields", fields.len()),
            );
            error.body.fields = Some(fields);
            Err(error)
        }
        Err(CaptureError::Storage(e)) if e.is_disk_full() => Err(ApiError::storage_full()),
        Err(e) => Err(ApiError::internal(e)),
    }
}
