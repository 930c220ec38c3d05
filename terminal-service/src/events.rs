//! Events the kiosk follows live: queue depth, connectivity, what became of a submission, the
//! card on the reader, the printer, and the staff session.
//!
//! One `tokio::sync::broadcast` channel fans every event out to each open `GET /v1/events`
//! stream. Broadcast rather than one channel per listener because events are small, listeners
//! are few (the kiosk, sometimes a technician), and a slow listener must never hold back the
//! sync engine: when a listener falls behind it misses old events (it is told it lagged) while
//! the sender never waits.

use tokio::sync::broadcast;

// The events themselves are the local API's: one definition for the service and the kiosk.
pub use local_api::events::{CardEvent, CardState, Event, PrinterEvent, QueueEvent, SessionEvent, SessionState, SubmissionEvent, SubmissionState};
pub use local_api::{Connectivity, ConnectivityState};

/// How many events a listener may fall behind before it starts missing some.
const CAPACITY: usize = 1024;

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
    use chrono::Utc;
    use uuid::Uuid;

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
        let q = Event::Queue(QueueEvent { depth: 3, oldest_created_at: None, dead_letters: 1 });
        assert_eq!(serde_json::to_value(&q).unwrap()["depth"], 3);
    }
}
