//! `GET /v1/kiosk`: the `[kiosk]` settings the UI needs.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::ApiState;

/// Answer of `GET /v1/kiosk`.
#[derive(Debug, Serialize)]
pub struct KioskSettings {
    /// Seconds without a touch before the idle countdown.
    pub idle_timeout_s: u64,
    /// Offered languages, the first is the default.
    pub languages: Vec<String>,
}

/// `GET /v1/kiosk`.
pub async fn get(State(state): State<ApiState>) -> Json<KioskSettings> {
    let kiosk = &state.terminal.config.kiosk;
    Json(KioskSettings { idle_timeout_s: kiosk.idle_timeout_s, languages: kiosk.languages.clone() })
}
