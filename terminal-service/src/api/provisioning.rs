//! `POST /v1/provisioning`: the technician screen's way to run `terminal-service provision`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::error::{ApiError, JsonBody};
use super::ApiState;
use crate::delivery::node_client::NodeError;
use crate::startup::provision::{provision, ProvisionError, ProvisionOutcome, ProvisionRequest};

/// `POST /v1/provisioning`.
pub async fn post(State(state): State<ApiState>, JsonBody(request): JsonBody<ProvisionRequest>) -> Result<(StatusCode, Json<ProvisionOutcome>), ApiError> {
    let terminal = &state.terminal;
    let technician = super::auth::require_technician_once_provisioned(terminal, "provisioning a provisioned terminal again")?;
    if let Some(t) = &technician {
        tracing::info!(staff_id = %t.staff_id, "re-provisioning requested by a technician");
    }
    // One provisioning at a time; a second waits and then sees the first one's enrollment.
    let _guard = terminal.provisioning.lock().await;
    let result = provision(&terminal.config, &terminal.storage, terminal.http(), &request).await;
    let (outcome, node_config) = match result {
        Ok(r) => r,
        Err(e @ ProvisionError::AlreadyProvisioned { .. }) => return Err(ApiError::new(StatusCode::CONFLICT, "already_provisioned", e.to_string())),
        Err(e) if e.is_bad_request() => return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", e.to_string())),
        Err(ProvisionError::Node(e)) if e.is_transient() => {
            return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "node_unreachable", format!("{e}; check the node URL and the network, then try again")))
        }
        Err(ProvisionError::Node(e @ NodeError::Refused { .. })) => return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "enrollment_refused", e.to_string())),
        Err(e) => return Err(ApiError::internal(e)),
    };
    if let Some(config) = node_config {
        terminal.set_node_config(config).map_err(ApiError::internal)?;
    }
    terminal.reload_identity().map_err(ApiError::internal)?;
    // The node has just answered: the status bar should not say "offline" until the first sync.
    terminal.mark_connectivity(crate::events::ConnectivityState::Online);
    // Queued submissions (if any) and the heartbeat can now go.
    terminal.sync_wake.notify_one();
    // A first heartbeat now rather than at the loop's next turn (up to a minute away): its
    // answer brings the node's slip certificate and the service directory, so referral slips
    // print right after enrollment.
    let beating = terminal.clone();
    tokio::spawn(async move {
        if let Err(e) = crate::delivery::heartbeat::beat(&beating).await {
            tracing::warn!(error = %e, "first heartbeat after provisioning failed; the loop tries again");
        }
    });
    Ok((StatusCode::CREATED, Json(outcome)))
}
