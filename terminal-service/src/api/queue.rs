//! `GET /v1/queue` (counts, for the status bar: open to all) and `GET /v1/queue/details`
//! (what is waiting and what the node refused, never any content: staff only).

use axum::extract::State;
use axum::Json;

use super::error::ApiError;
use super::ApiState;

pub use local_api::{Queue, QueueCounts};

/// Most pending submissions listed.
pub const PENDING_LIMIT: usize = 200;

/// Reads the queue (shared with the CLI).
pub async fn read(storage: &crate::capture::storage::Storage) -> Result<Queue, crate::capture::storage::StorageError> {
    storage
        .outbox(|o| Ok(Queue { stats: o.stats()?, pending: o.pending(PENDING_LIMIT)?, dead_letters: o.dead_letters()? }))
        .await
}

/// `GET /v1/queue`.
pub async fn get(State(state): State<ApiState>) -> Result<Json<QueueCounts>, ApiError> {
    let stats = state.terminal.storage.outbox(|o| o.stats()).await.map_err(ApiError::internal)?;
    Ok(Json(QueueCounts { stats }))
}

/// `GET /v1/queue/details`.
pub async fn get_details(State(state): State<ApiState>) -> Result<Json<Queue>, ApiError> {
    super::auth::require_staff(&state.terminal, "the queue details")?;
    read(&state.terminal.storage).await.map(Json).map_err(ApiError::internal)
}
