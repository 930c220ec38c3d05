//! How the local API says no: always a JSON [`ErrorBody`] (`{error, message}`), plus `fields`
//! for form validation, and a 4xx status for anything the caller sent wrong.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::forms::FieldError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code.
    pub error: &'static str,
    /// What was wrong and what to do.
    pub message: String,
    /// Per-field problems (422 `validation_failed`).
    pub fields: Option<Vec<FieldError>>,
    /// Seconds to wait, for 429 and 503.
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a [FieldError]>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, error, message: message.into(), fields: None, retry_after: None }
    }

    /// 503 `not_provisioned`.
    pub fn not_provisioned() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_provisioned",
            "this terminal is not provisioned: a technician must run `terminal-service provision --node URL --code CODE` or use POST /v1/provisioning",
        )
    }

    /// 500 for failures of the terminal itself (disk, database); never for bad input.
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        // Logged here because the kiosk only shows a generic message; the cause is never
        // personal data (storage and sealing errors carry none).
        tracing::error!(error = %error, "local API request failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", format!("the terminal could not complete the request: {error}"))
    }

    fn from_json_rejection(rejection: JsonRejection) -> ApiError {
        let (status, code, hint) = match &rejection {
            JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "malformed_json", "send a valid JSON document"),
            JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", "check field names and types against the API document"),
            JsonRejection::MissingJsonContentType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send the header Content-Type: application/json"),
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the body limit is 1 MiB"),
            _ => (StatusCode::BAD_REQUEST, "unreadable_body", "send the whole body again"),
        };
        ApiError::new(status, code, format!("{}; {hint}", rejection.body_text()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body { error: self.error, message: &self.message, fields: self.fields.as_deref() };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// A JSON body whose every rejection (syntax, types, unknown fields, content type, size)
/// becomes an [`ApiError`] with a message, instead of axum's plain-text answer.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(ApiError::from_json_rejection(rejection)),
        }
    }
}
