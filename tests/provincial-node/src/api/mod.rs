//! The HTTP surface: `GET /` and the signed `/v1` calls, one module per resource.
//!
//! Every terminal `/v1` request passes [`crate::auth::require_signature`] first (the partners'
//! calls, [`partners`], check their partner's signature themselves), which buffers the body
//! and attaches the verified [`Caller`]; handlers then parse the body themselves so that a
//! malformed one is a 400 with an [`ErrorBody`], never axum's plain-text rejection.

mod config;
mod enroll;
mod heartbeat;
pub mod partners;
pub mod overload;
pub mod precheck;
mod referrals;
mod status;
mod submissions;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use node_protocol::ErrorBody;
use serde::de::DeserializeOwned;

use crate::node::{Node, NODE_VERSION};

/// Who sent a verified request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A registered terminal (its id was the signature's `keyid`).
    Terminal(String),
    /// A terminal enrolling, signed with the key in the body.
    Enrolling,
}

/// The error code of a refused request, attached to the response so the refusal is counted.
#[derive(Debug, Clone)]
pub struct Refusal(pub &'static str);

/// A refusal: status, machine-readable code and a message saying what to do.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `ErrorBody::error`.
    pub code: &'static str,
    /// `ErrorBody::message`.
    pub message: String,
}

impl ApiError {
    /// A refusal with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }

    /// A 400 `invalid_body`.
    pub fn bad_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_body", message)
    }

    pub(crate) fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the node could not complete the request; nothing was stored, try again later",
        )
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(format!("database: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(ErrorBody { error: self.code.into(), message: self.message })).into_response();
        response.extensions_mut().insert(Refusal(self.code));
        response
    }
}

/// Parses a JSON body into `T`, or a 400 naming what was wrong.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_body(format!("request body is not valid JSON for this call: {e}; see terminal-service/openapi/node-v1.yaml"))
    })
}

/// Runs `work` on the blocking pool (SQLite and age are synchronous).
pub async fn blocking<T, F>(node: &Arc<Node>, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Node) -> Result<T, ApiError> + Send + 'static,
{
    let node = node.clone();
    tokio::task::spawn_blocking(move || work(&node)).await.map_err(ApiError::internal)?
}

/// The whole router: `GET /` plus the signed `/v1` calls.
pub fn router(node: Arc<Node>) -> Router {
    let v1 = Router::new()
        .route("/v1/terminals/enroll", post(enroll::enroll))
        .route(
            "/v1/submissions",
            post(submissions::submit).route_layer(from_fn_with_state(node.clone(), overload::limit_batches)),
        )
        .route("/v1/status", post(status::status))
        .route("/v1/precheck", post(precheck::precheck))
        .route("/v1/heartbeat", post(heartbeat::heartbeat))
        .route("/v1/config", get(config::config))
        .route("/v1/service-directory", get(config::service_directory))
        .route("/v1/referrals/{code}", get(referrals::lookup))
        .layer(from_fn_with_state(node.clone(), crate::auth::require_signature))
        // The signature middleware enforces the node's own limit while buffering; axum's
        // default 2 MiB limit on the handlers' `Bytes` would otherwise refuse large batches.
        .layer(DefaultBodyLimit::disable())
        .layer(from_fn_with_state(node.clone(), count_refusals));
    // Partners sign with their referral keys, checked in the handlers (`partners`), not with a
    // terminal's: these routes stay outside the terminals' signature layer.
    let partner_routes = Router::new()
        .route(partners::REFERRALS_PATH, post(partners::record))
        .route(partners::REPORT_PATH, get(partners::report))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(from_fn_with_state(node.clone(), count_refusals));
    Router::new()
        .route("/", get(root))
        .merge(v1)
        .merge(partner_routes)
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such call: see terminal-service/openapi/node-v1.yaml")
        })
        .with_state(node)
}

/// `GET /`: liveness and identity, unsigned, for scripts waiting for the node to come up.
async fn root(State(node): State<Arc<Node>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "node_id": node.node_id,
        "province": node.province.name.en,
        "province_code": node.province.code,
        "version": NODE_VERSION,
        "sealing_recipient": node.identity.recipient(),
    }))
}

/// Counts every refused `/v1` request by its error code (for `provincial-node stats`).
async fn count_refusals(State(node): State<Arc<Node>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if let Some(Refusal(code)) = response.extensions().get::<Refusal>().cloned() {
        tracing::warn!(code, path, status = response.status().as_u16(), "request refused");
        let recorded = blocking(&node, move |node| Ok(crate::store::record_refusal(&node.db(), code)?)).await;
        if recorded.is_err() {
            tracing::error!(code, "could not count a refused request");
        }
    }
    response
}
