//! How the local API says no: always a JSON [`ErrorBody`] (`{error, message}`), plus `fields`
//! for form validation, and a 4xx status for anything the caller sent wrong.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use local_api::{ErrorBody, PrinterState};
use serde::de::DeserializeOwned;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The body: code, message and the members some errors add (`fields`, `attempts_left`, …).
    /// Boxed so that the `Result`s of every handler stay small.
    pub body: Box<ErrorBody>,
    /// Seconds to wait, for 429, 423 and 503: the `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, body: Box::new(ErrorBody::new(error, message)), retry_after: None }
    }

    /// Adds `attempts_left` to a `wrong_pin`.
    pub fn with_attempts_left(mut self, attempts_left: u32) -> ApiError {
        self.body.attempts_left = Some(attempts_left);
        self
    }

    /// Adds the printer's `state` to a `printer_not_ready`.
    pub fn with_printer_state(mut self, state: PrinterState) -> ApiError {
        self.body.state = Some(state);
        self
    }

    /// 401 `login_required`.
    pub fn login_required(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "login_required",
            format!("{what} needs a staff login: put the badge on the reader and log in with POST /v1/sessions"),
        )
    }

    /// 503 `not_provisioned`.
    pub fn not_provisioned() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_provisioned",
            "this terminal is not provisioned: a technician must run `terminal-service provision --node URL --code CODE` or use POST /v1/provisioning",
        )
    }

    /// 507 `storage_full`: nothing was saved; saving resumes by itself after deliveries.
    pub fn storage_full() -> ApiError {
        tracing::error!("local API request refused: storage full");
        ApiError::new(StatusCode::INSUFFICIENT_STORAGE, local_api::error::STORAGE_FULL, crate::capture::storage::FULL_MESSAGE)
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
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// Oversize bodies up to this size are read and discarded before the 413 answer.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;

/// Reads and discards the rest of a body, up to [`DRAIN_LIMIT`] bytes in all.
async fn drain(stream: &mut axum::body::BodyDataStream, mut total: u64) {
    use futures_util::StreamExt;
    while let Some(Ok(chunk)) = stream.next().await {
        total += chunk.len() as u64;
        if total > DRAIN_LIMIT {
            break;
        }
    }
}

fn too_large(length: Option<u64>) -> ApiError {
    let size = length.map_or_else(|| "more than 1 MiB".to_string(), |l| format!("{l} bytes"));
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("the body is {size}; the limit is {} bytes (1 MiB): send less", super::BODY_LIMIT))
}

fn is_json(content_type: Option<&str>) -> bool {
    let Some(value) = content_type else { return false };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A JSON body whose every rejection (content type, size, syntax, types, unknown fields)
/// becomes an [`ApiError`] with a message, instead of axum's plain-text answer.
///
/// It enforces the 1 MiB limit itself rather than through axum's `DefaultBodyLimit`: refusing
/// on the header alone would close the connection while the client is still writing, and the
/// client would see a broken pipe instead of the 413. So a moderately oversize body is read
/// and discarded first (up to 16 MiB), then refused.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        // Not optional: an empty body is refused by the JSON parser, so `None` cannot come back.
        read_json(req, false)
            .await?
            .map(JsonBody)
            .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", "the request needs a JSON body: send one"))
    }
}

/// A JSON body that may be left out: an empty body (no bytes at all) reads as `None`; any
/// other is read and refused as [`JsonBody`] does.
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T, S> FromRequest<S> for OptionalJsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        read_json(req, true).await.map(OptionalJsonBody)
    }
}

/// Reads a JSON body (see [`JsonBody`]); with `optional`, an empty body is `None`.
async fn read_json<T: DeserializeOwned>(req: Request, optional: bool) -> Result<Option<T>, ApiError> {
    {
        use futures_util::StreamExt;
        let headers = req.headers();
        let json = is_json(headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()));
        let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        let mut stream = req.into_body().into_data_stream();
        if let Some(length) = declared.filter(|l| *l > super::BODY_LIMIT as u64) {
            if length <= DRAIN_LIMIT {
                drain(&mut stream, 0).await;
            }
            return Err(too_large(Some(length)));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", format!("the body could not be read ({e}); send it again")))?;
            bytes.extend_from_slice(&chunk);
            if bytes.len() > super::BODY_LIMIT {
                drain(&mut stream, bytes.len() as u64).await;
                return Err(too_large(None));
            }
        }
        if optional && bytes.is_empty() {
            return Ok(None);
        }
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected a JSON body: send the header Content-Type: application/json",
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Some(value)),
            Err(rejection) => Err(ApiError::from_json_rejection(rejection)),
        }
    }
}
