//! `GET /v1/forms`: the cached form definitions and master data (never the staff roster).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::error::ApiError;
use super::ApiState;

pub use local_api::Forms;

/// `GET /v1/forms`.
pub async fn get(State(state): State<ApiState>) -> Result<Json<Forms>, ApiError> {
    let Some(config) = state.terminal.node_config() else {
        if state.terminal.provisioned().is_none() {
            return Err(ApiError::not_provisioned());
        }
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_configuration",
            "the terminal has not received its forms from the node yet; they arrive with the next heartbeat once the node is reachable",
        ));
    };
    Ok(Json(Forms {
        version: config.version.clone(),
        province: config.province.clone(),
        forms: config.forms.clone(),
        master_data: config.master_data.clone(),
    }))
}
