//! `GET /v1/config`: forms, master data and staff roster.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use node_protocol::NodeConfig;

/// The node's configuration, as built when the node opened its data directory.
pub async fn config(State(node): State<Arc<crate::node::Node>>) -> Json<NodeConfig> {
    Json(node.config().as_ref().clone())
}
