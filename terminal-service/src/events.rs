//! Events the kiosk follows live: queue depth, connectivity, what became of a submission, the
//! card on the reader, the printer, and the staff session.
//!
//! One `tokio::sync::broadcast` channel fans every event out to each open `GET /v1/events`
//! stream. Broadcast rather than one channel per listener because events are small, listeners
//! are few (the kiosk, sometimes a technician), and a slow listener must never hold back the
//! sync engine: when a listener falls behind it misses old events (it is told it lagged) while
//! the sender never waits.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::outbox::QueueStats;

/// How many events a listener may fall behind before it starts missing some.
const CAPACITY: usize = 1024;

/// Whether the node answered the last time the terminal tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectivityState {
    /// The last request reached the node and got an answer.
    Online,
    /// The last request failed to reach the node (or the terminal has not tried yet).
    Offline,
}

/// Connectivity since a point in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Connectivity {
    /// Online or offline.
    pub state: ConnectivityState,
    /// When the terminal entered this state.
    pub since: DateTime<Utc>,
}

/// What became of one submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionState {
    /// Durably in the outbox.
    Queued,
    /// Acknowledged by the node.
    Delivered,
    /// Refused by the node; kept as a dead letter.
    Rejected,
}

/// Whether a card is on the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardState {
    /// A card was put on the reader.
    Present,
    /// It left.
    Removed,
}

/// Whether a staff session began or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// A staff member logged in.
    Started,
    /// The session ended (see `reason`).
    Ended,
}

/// One event, as sent on the SSE stream: the variant is the SSE `event:` name, the fields are
/// the JSON `data:`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Event {
    /// `queue`: the outbox changed.
    Queue {
        /// Submissions waiting.
        depth: u64,
        /// Creation time of the oldest waiting one.
        oldest_created_at: Option<DateTime<Utc>>,
        /// Submissions the node refused.
        dead_letters: u64,
    },
    /// `connectivity`: the node became reachable or unreachable.
    Connectivity(Connectivity),
    /// `submission`: a submission was queued, delivered or rejected.
    Submission {
        /// Submission id.
        id: Uuid,
        /// Short reference printed on the receipt.
        reference: String,
        /// What happened.
        state: SubmissionState,
    },
    /// `card`: a card was presented to or removed from the reader. Never the UID: `uid_hash`
    /// tells cards apart and means nothing after a restart.
    Card {
        /// Present or removed.
        state: CardState,
        /// Keyed hash of the UID (16 hex digits), stable while the service runs.
        uid_hash: String,
    },
    /// `printer`: the printer's state changed.
    Printer {
        /// `ok`, `paper_low`, `paper_out`, `cover_open`, `offline`, `absent`.
        state: crate::devices::PrinterState,
    },
    /// `session`: a staff session started or ended.
    Session {
        /// Started or ended.
        state: SessionState,
        /// Why it ended (`badge_removed`, `logout`, `idle_timeout`, `replaced`).
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'static str>,
        /// Who logged in (on `started`).
        #[serde(skip_serializing_if = "Option::is_none")]
        session: Option<crate::session::SessionView>,
    },
}

impl Event {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Queue { .. } => "queue",
            Event::Connectivity(_) => "connectivity",
            Event::Submission { .. } => "submission",
            Event::Card { .. } => "card",
            Event::Printer { .. } => "printer",
            Event::Session { .. } => "session",
        }
    }

    /// A `queue` event from outbox counts.
    pub fn queue(stats: &QueueStats) -> Event {
        Event::Queue { depth: stats.depth, oldest_created_at: stats.oldest_created_at, dead_letters: stats.dead_letters }
    }

    /// A `submission` event.
    pub fn submission(id: Uuid, state: SubmissionState) -> Event {
        Event::Submission { id, reference: node_protocol::reference::short_reference(&id), state }
    }
}

/// The sending side, shared by everything that publishes.
#[derive(Debug, Clone)]
pub struct Events {
    sender: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Events::new()
    }
}

impl Events {
    /// A channel with no listeners yet.
    pub fn new() -> Events {
        let (sender, _) = broadcast::channel(CAPACITY);
        Events { sender }
    }

    /// Publishes an event; with nobody listening it is simply dropped (events are a live view,
    /// never the record: the outbox and the audit log are).
    pub fn publish(&self, event: Event) {
        let _ = self.sender.send(event);
    }

    /// A new listener, seeing events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_to_their_documented_shapes() {
        let id = Uuid::now_v7();
        let e = Event::submission(id, SubmissionState::Queued);
        assert_eq!(e.name(), "submission");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["state"], "queued");
        assert_eq!(v["id"], id.to_string());
        let c = Event::Connectivity(Connectivity { state: ConnectivityState::Offline, since: Utc::now() });
        assert_eq!(serde_json::to_value(&c).unwrap()["state"], "offline");
        let q = Event::Queue { depth: 3, oldest_created_at: None, dead_letters: 1 };
        assert_eq!(serde_json::to_value(&q).unwrap()["depth"], 3);
    }
}
