//! `GET /v1/health`: is the terminal provisioned, can it reach its node, how full is its queue.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::queue::QueueStats;

/// Answer of `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Version of terminal-service.
    pub version: String,
    /// Whether the terminal is enrolled with a node.
    pub provisioned: bool,
    /// Terminal id at the node, once provisioned.
    pub terminal_id: Option<String>,
    /// Province, once provisioned.
    pub province: Option<String>,
    /// Node reachability.
    pub connectivity: Connectivity,
    /// Outbox counts.
    pub queue: QueueStats,
}

/// Whether the node answered the last time the terminal tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectivityState {
    /// The last request reached the node and got an answer.
    Online,
    /// The last request failed to reach the node (or the terminal has not tried yet).
    Offline,
}

impl ConnectivityState {
    /// The wire name (`online`, `offline`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectivityState::Online => "online",
            ConnectivityState::Offline => "offline",
        }
    }
}

/// Connectivity since a point in time; also the data of the `connectivity` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connectivity {
    /// Online or offline.
    pub state: ConnectivityState,
    /// When the terminal entered this state.
    pub since: DateTime<Utc>,
}
