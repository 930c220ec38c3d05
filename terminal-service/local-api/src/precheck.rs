//! `POST /v1/applications/precheck`: before an application is submitted, has this national id
//! been seen already? Behind the kiosk's early duplicate warning.

use serde::{Deserialize, Serialize};

/// Body of `POST /v1/applications/precheck`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrecheckRequest {
    /// The national ID number as the form holds it: 12 digits (Arabic-Indic digits accepted).
    pub national_id: String,
}

/// What the node's pre-check said, as the kiosk needs it: the node's two answers, or that it
/// could not be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeFinding {
    /// The node knows someone registered (or applied) under this national id.
    Registered,
    /// The node knows nobody under it.
    NotFound,
    /// The node did not answer in time (offline, slow, refusing): nothing is known.
    CouldNotCheck,
}

impl From<node_protocol::PrecheckResult> for NodeFinding {
    fn from(result: node_protocol::PrecheckResult) -> NodeFinding {
        match result {
            node_protocol::PrecheckResult::Registered => NodeFinding::Registered,
            node_protocol::PrecheckResult::NotFound => NodeFinding::NotFound,
        }
    }
}

/// Answer of `POST /v1/applications/precheck`. Neither part names anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precheck {
    /// An application with this national id was already submitted from this terminal (its
    /// keyed hash is in the outbox, or among the delivered or refused submissions).
    pub sent_from_this_terminal: bool,
    /// What the node's pre-check said.
    pub node: NodeFinding,
}

impl Precheck {
    /// Whether the kiosk should stop and warn before submitting.
    pub fn warns(&self) -> bool {
        self.sent_from_this_terminal || self.node == NodeFinding::Registered
    }
}
