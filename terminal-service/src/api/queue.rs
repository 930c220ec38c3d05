//! `GET /v1/queue` (counts, for the status bar: open to all) and `GET /v1/queue/details`
//! (what is waiting, what the node refused, and the partner referrals it refused on delivery;
//! never any content: staff only).

use axum::extract::State;
use axum::Json;

use super::error::ApiError;
use super::ApiState;

pub use local_api::{Queue, QueueCounts};

/// Most pending submissions listed.
pub const PENDING_LIMIT: usize = 200;
/// Most referral refusals listed (newest first).
pub const REFUSALS_LIMIT: usize = 200;

/// Reads the queue (shared with the CLI); `max_days_without_delivery` is `[sync]`'s.
pub async fn read(storage: &crate::capture::storage::Storage, max_days_without_delivery: u32) -> Result<Queue, crate::capture::storage::StorageError> {
    let mut queue = storage
        .outbox(|o| Ok(Queue { stats: o.stats()?, pending: o.pending(PENDING_LIMIT)?, dead_letters: o.dead_letters()?, referral_refusals: o.referral_refusals(REFUSALS_LIMIT)?, delivery_overdue_days: None }))
        .await?;
    if crate::delivery::heartbeat::delivery_overdue(queue.stats.oldest_created_at, chrono::Utc::now(), max_days_without_delivery) {
        queue.delivery_overdue_days = Some(max_days_without_delivery);
    }
    Ok(queue)
}

/// `GET /v1/queue`.
pub async fn get(State(state): State<ApiState>) -> Result<Json<QueueCounts>, ApiError> {
    let stats = state.terminal.storage.outbox(|o| o.stats()).await.map_err(ApiError::internal)?;
    Ok(Json(QueueCounts { stats }))
}

/// `GET /v1/queue/details`.
pub async fn get_details(State(state): State<ApiState>) -> Result<Json<Queue>, ApiError> {
    super::auth::require_staff(&state.terminal, "the queue details")?;
    read(&state.terminal.storage, state.terminal.config.sync.max_days_without_delivery).await.map(Json).map_err(ApiError::internal)
}
