//! `POST /v1/heartbeat`: the fleet view keeps each terminal's latest heartbeat and a count.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::{Extension, Json};
use node_protocol::{Heartbeat, HeartbeatResponse};
use rusqlite::params;

use crate::api::{blocking, parse_json, ApiError, Caller};
use crate::node::Node;
use crate::store;

/// Stores the heartbeat and tells the terminal the current configuration version and time.
pub async fn heartbeat(
    State(node): State<Arc<Node>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<HeartbeatResponse>, ApiError> {
    let beat: Heartbeat = parse_json(&body)?;
    let Caller::Terminal(terminal_id) = caller else {
        return Err(ApiError::bad_body("heartbeats come from enrolled terminals"));
    };
    let last = serde_json::to_string(&beat).map_err(|e| ApiError::bad_body(e.to_string()))?;
    let now = chrono::Utc::now();
    blocking(&node, move |node| {
        let mut conn = node.db();
        let tx = conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO heartbeats (terminal_id, last, received_at, count) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (terminal_id) DO UPDATE SET last = excluded.last, received_at = excluded.received_at, count = count + 1",
        )?
        .execute(params![terminal_id, last, now.to_rfc3339()])?;
        store::bump_counter(&tx, "heartbeats", 1)?;
        tx.commit()?;
        Ok(())
    })
    .await?;
    Ok(Json(HeartbeatResponse { config_version: node.config().version.clone(), server_time: now }))
}
