//! The staff review API on a separate, loopback-only listener (`serve --admin-listen`):
//! `GET /v1/review` lists the flagged applications with their explanations, `POST
//! /v1/review/{case}` confirms or dismisses one with a reason ([`crate::review`]).
//!
//! Who may call it: whoever can open a connection on the node's own host, i.e. the node's
//! operators and the staff tools they run there, the same people who can run
//! `provincial-node review` against the data directory. That is why it is a second listener
//! bound to loopback (refused otherwise) rather than part of the terminals' signed `/v1`: a
//! terminal's key proves a kiosk, not a member of staff, and flags must never reach a kiosk.
//! The `staff_id` in a decision is recorded as given, as the CLI's `--by` is.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tokio::net::TcpListener;

use crate::api::{blocking, parse_json, ApiError};
use crate::node::Node;
use crate::review::{self, Flag, ReviewDecision, ReviewError, Verdict};

/// `POST /v1/review/{case}`.
#[derive(Debug, Deserialize)]
pub struct DecisionRequest {
    /// `confirmed` or `dismissed`.
    pub verdict: Verdict,
    /// Why (goes to the audit log).
    pub reason: String,
    /// The member of staff deciding, e.g. `S-0001`.
    pub staff_id: String,
}

/// `GET /v1/review?undecided=true`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Only the flags still waiting for a decision.
    #[serde(default)]
    pub undecided: bool,
}

/// Refuses an admin address that is not loopback.
pub fn check_loopback(address: SocketAddr) -> Result<(), String> {
    if address.ip().is_loopback() {
        Ok(())
    } else {
        Err(format!("--admin-listen {address} is not a loopback address: the review API is for the node's own host (use 127.0.0.1:PORT)"))
    }
}

/// The admin router.
pub fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/v1/review", get(list))
        .route("/v1/review/{case}", post(decide))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such call: the admin API has GET /v1/review and POST /v1/review/{case}") })
        .with_state(node)
}

/// Serves the admin API on `listener` until `shutdown` completes.
pub async fn serve(listener: TcpListener, node: Arc<Node>, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    axum::serve(listener, router(node)).with_graceful_shutdown(shutdown).await
}

async fn list(State(node): State<Arc<Node>>, Query(query): Query<ListQuery>) -> Result<Json<Vec<Flag>>, ApiError> {
    Ok(Json(blocking(&node, move |node| Ok(review::list(&node.db(), query.undecided)?)).await?))
}

async fn decide(State(node): State<Arc<Node>>, Path(case): Path<String>, body: Bytes) -> Result<Json<ReviewDecision>, ApiError> {
    let request: DecisionRequest = parse_json(&body)?;
    if request.staff_id.trim().is_empty() {
        return Err(ApiError::bad_body("staff_id is empty: say who decides"));
    }
    let decided = blocking(&node, move |node| {
        Ok(review::decide(&mut node.db(), &case, request.verdict, &request.reason, request.staff_id.trim()))
    })
    .await?;
    decided.map(Json).map_err(|error| match error {
        ReviewError::NotFlagged(_) => ApiError::new(StatusCode::NOT_FOUND, "not_flagged", error.to_string()),
        ReviewError::AlreadyDecided { .. } => ApiError::new(StatusCode::CONFLICT, "already_decided", error.to_string()),
        ReviewError::NoReason => ApiError::bad_body(error.to_string()),
        ReviewError::Database(e) => ApiError::from(e),
    })
}
