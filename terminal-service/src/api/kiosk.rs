//! `GET /v1/kiosk`: the `[kiosk]` settings the UI needs, and the node's digits per language.

use axum::extract::State;
use axum::Json;

use super::ApiState;

pub use local_api::KioskSettings;

/// `GET /v1/kiosk`.
pub async fn get(State(state): State<ApiState>) -> Json<KioskSettings> {
    let kiosk = &state.terminal.config.kiosk;
    let digits = state.terminal.node_config().map(|c| c.digits).unwrap_or_default();
    Json(KioskSettings { idle_timeout_s: kiosk.idle_timeout_s, languages: kiosk.languages.clone(), digits, id_card_profile: state.terminal.devices.id_card_profile(), scanner: state.terminal.devices.scanner_configured() })
}
