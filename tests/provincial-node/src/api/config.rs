//! `GET /v1/config`: forms, master data and staff roster.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use node_protocol::NodeConfig;

/// The node's configuration, as built when the node opened its data directory.
pub async fn config(State(node): State<Arc<crate::node::Node>>) -> Json<NodeConfig> {
    Json(node.config().as_ref().clone())
}

/// `GET /v1/service-directory`: the services terminals may refer households to
/// ([`crate::services`]), as the operator's file holds it now.
pub async fn service_directory(State(node): State<Arc<crate::node::Node>>) -> Json<node_protocol::service_directory::ServiceDirectory> {
    Json(node.service_directory())
}
