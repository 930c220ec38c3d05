//! `GET /v1/health`: is the terminal provisioned, online, and how full is its queue.

use axum::extract::State;
use axum::Json;

use super::error::ApiError;
use super::ApiState;

pub use local_api::Health;

/// `GET /v1/health`.
pub async fn get(State(state): State<ApiState>) -> Result<Json<Health>, ApiError> {
    let terminal = &state.terminal;
    let queue = terminal.storage.outbox(|o| o.stats()).await.map_err(ApiError::internal)?;
    let enrollment = terminal.provisioned().map(|p| p.enrollment);
    Ok(Json(Health {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        provisioned: enrollment.is_some(),
        terminal_id: enrollment.as_ref().map(|e| e.terminal_id.clone()),
        province: enrollment.as_ref().map(|e| e.province.clone()),
        connectivity: terminal.connectivity(),
        queue,
    }))
}
