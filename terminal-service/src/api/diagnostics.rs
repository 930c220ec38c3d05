//! `GET /v1/diagnostics`: what the sync engine and heartbeat last did, and recent audit entries.

use axum::extract::State;
use axum::Json;

use super::error::ApiError;
use super::ApiState;

pub use local_api::Diagnostics;

/// Audit entries shown.
pub const RECENT_AUDIT: usize = 20;

/// `GET /v1/diagnostics`.
pub async fn get(State(state): State<ApiState>) -> Result<Json<Diagnostics>, ApiError> {
    let terminal = &state.terminal;
    let audit = terminal.storage.audit_log(|log| log.recent(RECENT_AUDIT)).await.map_err(ApiError::internal)?;
    let sync = terminal.diagnostics.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok(Json(Diagnostics { version: env!("CARGO_PKG_VERSION").to_owned(), connectivity: terminal.connectivity(), sync, audit }))
}
