//! `GET /v1/kiosk`: the `[kiosk]` settings of the service's configuration that the UI needs,
//! and how the node wants dates and numbers shown.

use node_protocol::DigitsByLanguage;
use serde::{Deserialize, Serialize};

/// Answer of `GET /v1/kiosk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskSettings {
    /// Seconds without a touch before the idle countdown.
    pub idle_timeout_s: u64,
    /// Offered languages (`ar`, `ckb`, `en`); the first is the default.
    pub languages: Vec<String>,
    /// Which digits each language shows dates and numbers in, from the node's configuration
    /// (Western for every language until the terminal has it).
    #[serde(default)]
    pub digits: DigitsByLanguage,
    /// Which ID card the reader reads (`[hardware] id_card_profile`): with `emrtd` the kiosk
    /// asks for the card access number before a read.
    #[serde(default)]
    pub id_card_profile: crate::hardware::IdCardProfile,
    /// Whether a barcode scanner is configured (`[hardware.scanner] kind` other than `none`):
    /// the referral screen offers "show the QR code" only then.
    #[serde(default)]
    pub scanner: bool,
}
