//! `GET /v1/events`: the server-sent events the kiosk follows live — queue depth,
//! connectivity, what became of a submission, the card on the reader, the printer, the
//! staff session, and what the barcode scanner read.
//!
//! On the wire each event is an SSE `event:` line with its [`Event::name`] and a `data:` line
//! with its JSON; [`Event`] serialises as that data, and [`Event::parse`] reads the two back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::hardware::PrinterState;
use crate::health::Connectivity;
use crate::queue::QueueStats;
use crate::session::{EndReason, Session};

/// One event of the stream. Serialises as its JSON data; the SSE event name is [`Event::name`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Event {
    /// `queue`: the outbox changed.
    Queue(QueueEvent),
    /// `connectivity`: the node became reachable or unreachable.
    Connectivity(Connectivity),
    /// `submission`: a submission was queued, delivered or rejected.
    Submission(SubmissionEvent),
    /// `card`: a card was put on or taken off the reader.
    Card(CardEvent),
    /// `printer`: the printer's state changed.
    Printer(PrinterEvent),
    /// `session`: a staff session started or ended.
    Session(SessionEvent),
    /// `scan`: the barcode scanner read a code (a partner referral's QR), or could not.
    Scan(ScanEvent),
}

/// Why an SSE event could not be read as an [`Event`].
#[derive(Debug, Error)]
pub enum EventError {
    /// A name this version does not know (a newer service may add events: skip it).
    #[error("unknown event '{0}'")]
    Unknown(String),
    /// A known name with data of the wrong shape.
    #[error("the data of a '{name}' event does not match the local API: {source}")]
    Data {
        /// The event's name.
        name: &'static str,
        /// What was wrong.
        source: serde_json::Error,
    },
}

impl Event {
    /// Every event name, in the order of the variants.
    pub const NAMES: [&'static str; 7] = ["queue", "connectivity", "submission", "card", "printer", "session", "scan"];

    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Queue(_) => "queue",
            Event::Connectivity(_) => "connectivity",
            Event::Submission(_) => "submission",
            Event::Card(_) => "card",
            Event::Printer(_) => "printer",
            Event::Session(_) => "session",
            Event::Scan(_) => "scan",
        }
    }

    /// Reads an event from its SSE name and JSON data.
    pub fn parse(name: &str, data: &str) -> Result<Event, EventError> {
        fn read<T: serde::de::DeserializeOwned>(name: &'static str, data: &str) -> Result<T, EventError> {
            serde_json::from_str(data).map_err(|source| EventError::Data { name, source })
        }
        Ok(match name {
            "queue" => Event::Queue(read("queue", data)?),
            "connectivity" => Event::Connectivity(read("connectivity", data)?),
            "submission" => Event::Submission(read("submission", data)?),
            "card" => Event::Card(read("card", data)?),
            "printer" => Event::Printer(read("printer", data)?),
            "session" => Event::Session(read("session", data)?),
            "scan" => Event::Scan(read("scan", data)?),
            other => return Err(EventError::Unknown(other.to_owned())),
        })
    }

    /// A `queue` event from outbox counts.
    pub fn queue(stats: &QueueStats) -> Event {
        Event::Queue(QueueEvent { depth: stats.depth, oldest_created_at: stats.oldest_created_at, dead_letters: stats.dead_letters })
    }

    /// A `submission` event, with the short reference derived from the id.
    pub fn submission(id: Uuid, state: SubmissionState) -> Event {
        Event::Submission(SubmissionEvent { id, reference: node_protocol::reference::short_reference(&id), state })
    }
}

/// Data of a `queue` event: the outbox counts the status bar shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEvent {
    /// Submissions waiting.
    pub depth: u64,
    /// Creation time of the oldest waiting one.
    pub oldest_created_at: Option<DateTime<Utc>>,
    /// Submissions the node refused.
    pub dead_letters: u64,
}

/// What became of one submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionState {
    /// Durably in the outbox.
    Queued,
    /// Acknowledged by the node.
    Delivered,
    /// Refused by the node; kept as a dead letter.
    Rejected,
}

/// Data of a `submission` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionEvent {
    /// Submission id.
    pub id: Uuid,
    /// Short reference printed on the receipt.
    pub reference: String,
    /// What happened.
    pub state: SubmissionState,
}

/// Whether a card is on the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardState {
    /// A card was put on the reader.
    Present,
    /// It left.
    Removed,
}

/// Data of a `card` event. Never the UID: `uid_hash` tells cards apart and means nothing after a
/// restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardEvent {
    /// Present or removed.
    pub state: CardState,
    /// Keyed hash of the UID (16 hex digits), stable only while the service runs.
    pub uid_hash: String,
}

/// Data of a `printer` event, and the answer of `POST /v1/simulator/printer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterEvent {
    /// The printer's state now.
    pub state: PrinterState,
}

/// Whether a staff session began or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// A staff member logged in.
    Started,
    /// The session ended (see `reason`).
    Ended,
}

/// Data of a `session` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEvent {
    /// Started or ended.
    pub state: SessionState,
    /// Why it ended (with `ended`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<EndReason>,
    /// Who logged in (with `started`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
}

impl SessionEvent {
    /// `started`, with who logged in.
    pub fn started(session: Session) -> SessionEvent {
        SessionEvent { state: SessionState::Started, reason: None, session: Some(session) }
    }

    /// `ended`, with why.
    pub fn ended(reason: EndReason) -> SessionEvent {
        SessionEvent { state: SessionState::Ended, reason: Some(reason), session: None }
    }
}

/// Why a scan could not be read (the scanner's whole line was dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanProblem {
    /// Not plain text: a scanner set to another keyboard layout, or prefix/suffix codes.
    Garbled,
    /// Longer than any code the terminal reads: another barcode than a referral's QR.
    TooLong,
}

/// Data of a `scan` event: what the barcode scanner read. The kiosk checks `payload` with
/// `POST /v1/referrals/check` when its referral screen is open, and ignores it otherwise.
/// Never logged or audited by the service: a referral's payload holds a partner case number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanEvent {
    /// The scanned text, without its line ending; absent when the scan could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// Why the scan could not be read; absent when it could.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<ScanProblem>,
}

impl ScanEvent {
    /// A scan that read `payload`.
    pub fn read(payload: String) -> ScanEvent {
        ScanEvent { payload: Some(payload), problem: None }
    }

    /// A scan that could not be read.
    pub fn unreadable(problem: ScanProblem) -> ScanEvent {
        ScanEvent { payload: None, problem: Some(problem) }
    }
}
