//! `POST /v1/sessions`, `GET` and `DELETE /v1/sessions/current`: staff log in with the badge on
//! the reader and a PIN (the kiosk never sends a card UID).

use chrono::{DateTime, Utc};
use node_protocol::StaffRole;
use serde::{Deserialize, Serialize};

/// Body of `POST /v1/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// The PIN as typed (ASCII or Arabic-Indic digits).
    pub pin: String,
}

/// A logged-in staff member: the answer of a login and of `GET /v1/sessions/current`, and the
/// `session` of a `started` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Roster staff id; what `assisted_by` must be.
    pub staff_id: String,
    /// Name shown on screen.
    pub display_name: String,
    /// Staff or technician.
    pub role: StaffRole,
    /// When the login succeeded.
    pub started_at: DateTime<Utc>,
    /// End of the idle timeout, moved on by every authenticated request.
    pub expires_at: DateTime<Utc>,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The badge left the reader.
    BadgeRemoved,
    /// `DELETE /v1/sessions/current`.
    Logout,
    /// No authenticated request for `[kiosk] idle_timeout_s`.
    IdleTimeout,
    /// Someone else logged in.
    Replaced,
}

impl EndReason {
    /// The wire name (`badge_removed`, `logout`, `idle_timeout`, `replaced`).
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::BadgeRemoved => "badge_removed",
            EndReason::Logout => "logout",
            EndReason::IdleTimeout => "idle_timeout",
            EndReason::Replaced => "replaced",
        }
    }
}
