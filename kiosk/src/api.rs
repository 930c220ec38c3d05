//! The client of terminal-service's local API: HTTP/JSON over its Unix socket, events as
//! server-sent events. The kiosk talks to nothing else.
//!
//! Every call returns [`ApiError`] on failure, which keeps the service's machine-readable code
//! (`node_unreachable`, `wrong_pin`, `validation_failed`, …) so screens can choose their words.
//! Routes the service does not offer yet (sessions, receipts, ID-card reads, hardware tests) are
//! coded here against their agreed shapes, in [`LocalApi::login`] and below.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use node_protocol::{FormDefinition, MasterData, StatusQuery, StatusRequest, StatusResponse};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Where terminal-service listens by default.
pub const DEFAULT_SOCKET: &str = "/run/terminal-service/api.sock";

/// A failed call.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The socket does not answer: the service is down or restarting.
    Unreachable(String),
    /// The service answered with an error body.
    Refused {
        /// HTTP status.
        status: u16,
        /// Machine-readable code, e.g. `node_unreachable`.
        code: String,
        /// The service's words, for technicians and logs.
        message: String,
        /// Per-field problems of a `validation_failed`.
        fields: Vec<FieldProblem>,
        /// `attempts_left` of a `wrong_pin`.
        attempts_left: Option<u32>,
    },
    /// The answer was not what the contract says.
    Malformed(String),
}

impl ApiError {
    /// The error code, or `unreachable` / `malformed`.
    pub fn code(&self) -> &str {
        match self {
            ApiError::Unreachable(_) => "unreachable",
            ApiError::Refused { code, .. } => code,
            ApiError::Malformed(_) => "malformed",
        }
    }

    /// Text for a technician.
    pub fn message(&self) -> String {
        match self {
            ApiError::Unreachable(m) => format!("the terminal service does not answer: {m}"),
            ApiError::Refused { message, code, .. } => format!("{message} ({code})"),
            ApiError::Malformed(m) => format!("the terminal service answered something unexpected: {m}"),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ApiError {}

/// One field the service refused.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FieldProblem {
    /// Field id; `members[2].name` inside household members.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    fields: Vec<FieldProblem>,
    #[serde(default)]
    attempts_left: Option<u32>,
}

/// `GET /v1/health`.
#[derive(Debug, Clone, Deserialize)]
pub struct Health {
    /// Service version.
    pub version: String,
    /// Whether the terminal has been enrolled with a node.
    pub provisioned: bool,
    /// Terminal id at the node.
    #[serde(default)]
    pub terminal_id: Option<String>,
    /// Province.
    #[serde(default)]
    pub province: Option<String>,
    /// Online or offline.
    pub connectivity: Connectivity,
    /// Outbox counts.
    pub queue: QueueStats,
}

/// Whether the node answered the last time.
#[derive(Debug, Clone, Deserialize)]
pub struct Connectivity {
    /// `online` or `offline`.
    pub state: String,
}

/// Outbox counts.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueueStats {
    /// Waiting.
    pub depth: u64,
    /// Creation time of the oldest waiting one.
    #[serde(default)]
    pub oldest_created_at: Option<String>,
    /// Refused by the node.
    #[serde(default)]
    pub dead_letters: u64,
    /// Acknowledged.
    #[serde(default)]
    pub delivered: u64,
}

/// `GET /v1/kiosk`.
#[derive(Debug, Clone, Deserialize)]
pub struct KioskSettings {
    /// Seconds without a touch before the session ends.
    pub idle_timeout_s: u64,
    /// Offered languages, the first is the default.
    pub languages: Vec<String>,
}

/// `GET /v1/forms`.
#[derive(Debug, Clone, Deserialize)]
pub struct Forms {
    /// Form definitions.
    pub forms: Vec<FormDefinition>,
    /// Governorates and districts.
    pub master_data: MasterData,
}

/// Answer to a captured application or grievance.
#[derive(Debug, Clone, Deserialize)]
pub struct Captured {
    /// Submission id.
    pub id: String,
    /// Short reference for the receipt.
    pub reference: String,
    /// The same national ID was already submitted from this terminal.
    #[serde(default)]
    pub duplicate_warning: bool,
}

/// `GET /v1/queue/details`.
#[derive(Debug, Clone, Deserialize)]
pub struct Queue {
    /// Counts.
    pub stats: QueueStats,
    /// Waiting submissions (no content).
    #[serde(default)]
    pub pending: Vec<PendingSubmission>,
    /// Refused submissions.
    #[serde(default)]
    pub dead_letters: Vec<DeadLetter>,
}

/// One waiting submission.
#[derive(Debug, Clone, Deserialize)]
pub struct PendingSubmission {
    /// `application` or `grievance`.
    pub kind: String,
    /// RFC 3339.
    pub created_at: String,
    /// Send attempts.
    #[serde(default)]
    pub attempts: u32,
}

/// One refused submission.
#[derive(Debug, Clone, Deserialize)]
pub struct DeadLetter {
    /// `application` or `grievance`.
    pub kind: String,
    /// RFC 3339.
    pub created_at: String,
    /// The node's reason.
    #[serde(default)]
    pub reason: String,
}

/// `GET /v1/diagnostics`.
#[derive(Debug, Clone, Deserialize)]
pub struct Diagnostics {
    /// Service version.
    pub version: String,
    /// Sync engine state.
    pub sync: SyncDiagnostics,
    /// Recent audit entries.
    #[serde(default)]
    pub audit: Vec<AuditEntry>,
}

/// What the sync engine is doing.
#[derive(Debug, Clone, Deserialize)]
pub struct SyncDiagnostics {
    /// `idle`, `sending`, `waiting`, …
    pub state: String,
    /// Last failure, without personal data.
    #[serde(default)]
    pub last_error: Option<String>,
    /// When.
    #[serde(default)]
    pub last_error_at: Option<String>,
}

/// One audit entry.
#[derive(Debug, Clone, Deserialize)]
pub struct AuditEntry {
    /// RFC 3339.
    pub at: String,
    /// Category.
    #[serde(default)]
    pub category: Value,
    /// Short action name.
    pub action: String,
}

/// Answer to provisioning.
#[derive(Debug, Clone, Deserialize)]
pub struct Provisioned {
    /// Terminal id.
    pub terminal_id: String,
    /// Province.
    pub province: String,
}

/// A staff session (`POST /v1/sessions`).
#[derive(Debug, Clone, Deserialize)]
pub struct StaffSession {
    /// Staff id, recorded with assisted submissions.
    pub staff_id: String,
    /// Name shown after login.
    pub display_name: String,
    /// `staff` or `technician`.
    pub role: String,
}

/// What the card reader read from an ID card (`POST /v1/id-card/read`).
#[derive(Debug, Clone, Deserialize)]
pub struct IdCard {
    /// National ID number, when the service could read it from the card.
    #[serde(default)]
    pub national_id: Option<String>,
    /// The card's UID.
    #[serde(default)]
    pub uid: Option<String>,
    /// Other fields the card gave (names, date of birth), by form field id.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

/// One event of `GET /v1/events`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEvent {
    /// SSE event name: `queue`, `connectivity`, `submission`, `card`, `printer`, `session`.
    pub name: String,
    /// Its JSON data.
    pub data: Value,
}

/// What a submission carries.
#[derive(Debug, Clone, Serialize)]
pub struct Submission {
    /// `ar`, `ckb` or `en`.
    pub language: String,
    /// Field id → answer.
    pub answers: serde_json::Map<String, Value>,
    /// Staff id for assisted enrollment.
    pub assisted_by: Option<String>,
}

/// The local API client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LocalApi {
    http: reqwest::Client,
    events_http: reqwest::Client,
    socket: PathBuf,
}

impl LocalApi {
    /// A client for the service listening on `socket`.
    pub fn new(socket: &Path) -> Result<LocalApi, ApiError> {
        let build = |timeout: Option<Duration>| {
            let mut b = reqwest::Client::builder().unix_socket(socket).connect_timeout(Duration::from_secs(3));
            if let Some(t) = timeout {
                b = b.timeout(t);
            }
            b.build().map_err(|e| ApiError::Malformed(format!("cannot build the HTTP client: {e}")))
        };
        // Status checks wait for the node; 20 s covers a slow link and still answers a person.
        Ok(LocalApi { http: build(Some(Duration::from_secs(20)))?, events_http: build(None)?, socket: socket.to_path_buf() })
    }

    /// The socket this client talks to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn url(path: &str) -> String {
        format!("http://localhost{path}")
    }

    async fn read<T: DeserializeOwned>(response: Result<reqwest::Response, reqwest::Error>) -> Result<T, ApiError> {
        let response = response.map_err(|e| ApiError::Unreachable(e.to_string()))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| ApiError::Unreachable(e.to_string()))?;
        if status.is_success() {
            let body = if bytes.is_empty() { &b"null"[..] } else { &bytes[..] };
            return serde_json::from_slice(body).map_err(|e| ApiError::Malformed(e.to_string()));
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => Err(ApiError::Refused {
                status: status.as_u16(),
                code: b.error,
                message: b.message,
                fields: b.fields,
                attempts_left: b.attempts_left,
            }),
            Err(_) => Err(ApiError::Refused {
                status: status.as_u16(),
                code: format!("http_{}", status.as_u16()),
                message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                fields: Vec::new(),
                attempts_left: None,
            }),
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        Self::read(self.http.get(Self::url(path)).send().await).await
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T, ApiError> {
        Self::read(self.http.post(Self::url(path)).json(body).send().await).await
    }

    /// `GET /v1/health`.
    pub async fn health(&self) -> Result<Health, ApiError> {
        self.get("/v1/health").await
    }

    /// `GET /v1/kiosk`.
    pub async fn kiosk_settings(&self) -> Result<KioskSettings, ApiError> {
        self.get("/v1/kiosk").await
    }

    /// `GET /v1/forms`.
    pub async fn forms(&self) -> Result<Forms, ApiError> {
        self.get("/v1/forms").await
    }

    /// `POST /v1/applications` or `POST /v1/grievances`.
    pub async fn submit(&self, kind: node_protocol::SubmissionKind, submission: &Submission) -> Result<Captured, ApiError> {
        let path = match kind {
            node_protocol::SubmissionKind::Application => "/v1/applications",
            node_protocol::SubmissionKind::Grievance => "/v1/grievances",
        };
        self.post(path, submission).await
    }

    /// `POST /v1/status-checks`.
    pub async fn status_check(&self, query: StatusQuery) -> Result<StatusResponse, ApiError> {
        self.post("/v1/status-checks", &StatusRequest { query }).await
    }

    /// `POST /v1/status-checks` with the ID card on the reader: the service reads the number
    /// from the card, so it never passes through the kiosk.
    pub async fn status_check_by_card(&self) -> Result<StatusResponse, ApiError> {
        self.post("/v1/status-checks", &json!({ "query": { "by": "id_card" } })).await
    }

    /// `GET /v1/queue/details`: what is waiting and what the node refused (a staff or
    /// technician session is required; `GET /v1/queue` carries only the counts).
    pub async fn queue(&self) -> Result<Queue, ApiError> {
        self.get("/v1/queue/details").await
    }

    /// `GET /v1/diagnostics`.
    pub async fn diagnostics(&self) -> Result<Diagnostics, ApiError> {
        self.get("/v1/diagnostics").await
    }

    /// `POST /v1/provisioning`.
    pub async fn provision(&self, node_url: &str, code: &str) -> Result<Provisioned, ApiError> {
        self.post("/v1/provisioning", &json!({ "node_url": node_url, "code": code })).await
    }

    // --- Routes agreed with terminal-service but not served yet: keep them together here. ---

    /// `POST /v1/sessions`: staff login with the badge on the reader and `pin`.
    pub async fn login(&self, pin: &str) -> Result<StaffSession, ApiError> {
        self.post("/v1/sessions", &json!({ "pin": pin })).await
    }

    /// `DELETE /v1/sessions/current`.
    pub async fn logout(&self) -> Result<(), ApiError> {
        let r = self.http.delete(Self::url("/v1/sessions/current")).send().await;
        Self::read::<Value>(r).await.map(|_| ())
    }

    /// `POST /v1/receipts` for a captured submission.
    pub async fn print_receipt(&self, submission_id: &str, language: &str) -> Result<(), ApiError> {
        self.post::<Value>("/v1/receipts", &json!({ "submission_id": submission_id, "language": language })).await.map(|_| ())
    }

    /// `POST /v1/receipts` for a status slip (`status` is the node's answer, or null offline;
    /// `reference` the one the applicant typed, if any).
    pub async fn print_status_slip(&self, status: Option<&StatusResponse>, reference: Option<&str>, language: &str) -> Result<(), ApiError> {
        let mut slip = json!({ "status": status, "language": language });
        if let Some(r) = reference {
            slip["reference"] = json!(r);
        }
        self.post::<Value>("/v1/receipts", &json!({ "status_slip": slip })).await.map(|_| ())
    }

    /// `POST /v1/id-card/read`: the applicant's national ID card on the reader.
    pub async fn read_id_card(&self) -> Result<IdCard, ApiError> {
        self.post("/v1/id-card/read", &json!({})).await
    }

    /// `POST /v1/hardware/read-card`: any card, for the technician's test. Returns the service's answer.
    pub async fn hardware_read_card(&self) -> Result<Value, ApiError> {
        self.post("/v1/hardware/read-card", &json!({})).await
    }

    /// `POST /v1/hardware/print-test`.
    pub async fn hardware_print_test(&self) -> Result<Value, ApiError> {
        self.post("/v1/hardware/print-test", &json!({})).await
    }

    /// `GET /v1/hardware/printer-status` → the printer state code.
    pub async fn printer_status(&self) -> Result<String, ApiError> {
        let v: Value = self.get("/v1/hardware/printer-status").await?;
        v.get("state").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| ApiError::Malformed("printer-status has no state".into()))
    }

    /// `POST /v1/simulator/card`: puts a simulated card on the reader (demo and drills; the
    /// service answers 404 with real devices).
    pub async fn simulator_present_card(&self, uid: &str) -> Result<(), ApiError> {
        self.post::<Value>("/v1/simulator/card", &json!({ "uid": uid })).await.map(|_| ())
    }

    /// `POST /v1/simulator/card` with an ID card holding `national_id` and `date_of_birth`.
    pub async fn simulator_present_id_card(&self, uid: &str, national_id: &str, date_of_birth: &str) -> Result<(), ApiError> {
        self.post::<Value>("/v1/simulator/card", &json!({ "uid": uid, "national_id": national_id, "date_of_birth": date_of_birth })).await.map(|_| ())
    }

    /// `DELETE /v1/simulator/card`: takes the simulated card off.
    pub async fn simulator_remove_card(&self) -> Result<(), ApiError> {
        let r = self.http.delete(Self::url("/v1/simulator/card")).send().await;
        Self::read::<Value>(r).await.map(|_| ())
    }

    /// `GET /v1/events`: calls `on_event` for each event until the stream ends or fails.
    pub async fn follow_events(&self, mut on_event: impl FnMut(ServiceEvent)) -> Result<(), ApiError> {
        let response = self
            .events_http
            .get(Self::url("/v1/events"))
            .header("accept", "text/event-stream")
            .send()
            .await
            .map_err(|e| ApiError::Unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Self::read::<Value>(Ok(response)).await.map(|_| ());
        }
        let mut stream = response.bytes_stream();
        let mut parser = SseParser::default();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ApiError::Unreachable(e.to_string()))?;
            for event in parser.push(&chunk) {
                on_event(event);
            }
        }
        Ok(())
    }
}

/// Splits a server-sent event stream into events (`event:` + `data:` lines, blank line ends one).
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
    name: String,
    data: String,
}

impl SseParser {
    /// Feeds bytes; returns the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<ServiceEvent> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    let data = serde_json::from_str(&self.data).unwrap_or(Value::String(self.data.clone()));
                    let name = if self.name.is_empty() { "message".to_owned() } else { std::mem::take(&mut self.name) };
                    events.push(ServiceEvent { name, data });
                }
                self.name.clear();
                self.data.clear();
            } else if let Some(v) = line.strip_prefix("event:") {
                self.name = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_split_across_chunks() {
        let mut p = SseParser::default();
        assert!(p.push(b"event: queue\ndata: {\"depth\"").is_empty());
        let events = p.push(b": 3}\n\n: comment\n\nevent: card\r\ndata: {\"state\":\"present\"}\r\n\r\n");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].name, "queue");
        assert_eq!(events[0].data["depth"], 3);
        assert_eq!(events[1].name, "card");
        assert_eq!(events[1].data["state"], "present");
    }
}
