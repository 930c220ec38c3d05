//! `POST /v1/heartbeat`: the fleet view keeps each terminal's latest heartbeat and a count; the
//! answer names the configuration and service directory versions and renews the terminal's slip
//! certificate ([`crate::slips`]).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::{Extension, Json};
use node_protocol::{Heartbeat, HeartbeatResponse};
use rusqlite::{params, OptionalExtension};

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
    let certified = terminal_id.clone();
    let public_key = blocking(&node, move |node| {
        let mut conn = node.db();
        let tx = conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO heartbeats (terminal_id, last, received_at, count) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (terminal_id) DO UPDATE SET last = excluded.last, received_at = excluded.received_at, count = count + 1",
        )?
        .execute(params![terminal_id, last, now.to_rfc3339()])?;
        store::bump_counter(&tx, "heartbeats", 1)?;
        let public_key: Option<Vec<u8>> =
            tx.query_row("SELECT public_key FROM terminals WHERE terminal_id = ?1", [&terminal_id], |r| r.get(0)).optional()?;
        tx.commit()?;
        Ok(public_key)
    })
    .await?;
    // Renewed in every answer (the same bytes all day), so a terminal holds a certificate
    // valid for weeks whenever it has reached its node recently.
    let terminal_certificate =
        public_key.and_then(|key| node.slip_certificate(&certified, &key, crate::referrals::today())).map(|c| c.text());
    Ok(Json(HeartbeatResponse {
        config_version: node.config().version.clone(),
        server_time: now,
        service_directory_version: Some(node.service_directory().version),
        terminal_certificate,
    }))
}
