//! `GET /v1/diagnostics`: what the sync engine and heartbeat last did, and recent audit entries.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::error::ApiError;
use super::ApiState;
use crate::audit::AuditEntry;
use crate::events::Connectivity;
use crate::sync::SyncDiagnostics;

/// Audit entries shown.
pub const RECENT_AUDIT: usize = 20;

/// Answer of `GET /v1/diagnostics`.
#[derive(Debug, Serialize)]
pub struct Diagnostics {
    /// Software version.
    pub version: &'static str,
    /// Node reachability.
    pub connectivity: Connectivity,
    /// Sync engine and heartbeat.
    pub sync: SyncDiagnostics,
    /// The last audit entries, newest first.
    pub audit: Vec<AuditEntry>,
}

/// `GET /v1/diagnostics`.
pub async fn get(State(state): State<ApiState>) -> Result<Json<Diagnostics>, ApiError> {
    let terminal = &state.terminal;
    let audit = terminal.storage.audit_log(|log| log.recent(RECENT_AUDIT)).await.map_err(ApiError::internal)?;
    let sync = terminal.diagnostics.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok(Json(Diagnostics { version: env!("CARGO_PKG_VERSION"), connectivity: terminal.connectivity(), sync, audit }))
}
