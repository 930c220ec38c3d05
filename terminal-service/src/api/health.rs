//! `GET /v1/health`: is the terminal provisioned, online, and how full is its queue.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::error::ApiError;
use super::ApiState;
use crate::events::Connectivity;
use crate::outbox::QueueStats;

/// Answer of `GET /v1/health`.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Software version.
    pub version: &'static str,
    /// Whether the terminal is enrolled with a node.
    pub provisioned: bool,
    /// Terminal id, once provisioned.
    pub terminal_id: Option<String>,
    /// Province, once provisioned.
    pub province: Option<String>,
    /// Node reachability.
    pub connectivity: Connectivity,
    /// Outbox counts.
    pub queue: QueueStats,
}

/// `GET /v1/health`.
pub async fn get(State(state): State<ApiState>) -> Result<Json<Health>, ApiError> {
    let terminal = &state.terminal;
    let queue = terminal.storage.outbox(|o| o.stats()).await.map_err(ApiError::internal)?;
    let enrollment = terminal.provisioned().map(|p| p.enrollment);
    Ok(Json(Health {
        version: env!("CARGO_PKG_VERSION"),
        provisioned: enrollment.is_some(),
        terminal_id: enrollment.as_ref().map(|e| e.terminal_id.clone()),
        province: enrollment.as_ref().map(|e| e.province.clone()),
        connectivity: terminal.connectivity(),
        queue,
    }))
}
