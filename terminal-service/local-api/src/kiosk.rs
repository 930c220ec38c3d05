//! `GET /v1/kiosk`: the `[kiosk]` settings of the service's configuration that the UI needs.

use serde::{Deserialize, Serialize};

/// Answer of `GET /v1/kiosk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskSettings {
    /// Seconds without a touch before the idle countdown.
    pub idle_timeout_s: u64,
    /// Offered languages (`ar`, `ckb`, `en`); the first is the default.
    pub languages: Vec<String>,
}
