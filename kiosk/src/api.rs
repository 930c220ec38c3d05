//! The client of terminal-service's local API: HTTP/JSON over its Unix socket, events as
//! server-sent events. The kiosk talks to nothing else.
//!
//! What goes over the socket is typed by the `local-api` crate, which terminal-service answers
//! with too: bodies, answers and events ([`ServiceEvent`]) are the same Rust types on both sides,
//! checked against `terminal-service/openapi/local-v1.yaml` by that crate's tests.
//!
//! Every call returns [`ApiError`] on failure, which keeps the service's machine-readable code
//! (`node_unreachable`, `wrong_pin`, `validation_failed`, …) so screens can choose their words.

use std::path::{Path, PathBuf};
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};
use local_api::{PrecheckRequest, PrintReceipt, PrinterState, ProvisionRequest, StatusRequest, StatusSlip};
use node_protocol::{StatusQuery, StatusResponse};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

// The wire types are the local API's, shared with terminal-service; the names the screens know
// them by are kept.
pub use local_api::{
    CaptureRequest as Submission, CardAccess, CardRead as IdCard, Captured, IdCardProfile, MrzAccess, Diagnostics, ErrorBody, Event as ServiceEvent, FieldError as FieldProblem, Forms, Health,
    KioskSettings, NodeFinding, OverrideReason, Precheck, Printed, ProvisionOutcome, Queue, ReferralCheckAnswer, ReferralCheckRequest,
    ReferralCheckStatus, ReferralPrefill, ReferralSlipRequest, RefusedReferral, ServiceList, ServicesQuery, Session as StaffSession,
};

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
    /// A request or an answer does not fit the contract (the local API's types).
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

    /// The body of a successful answer as a `T`, or the error the service answered.
    async fn read<T: DeserializeOwned>(response: Result<reqwest::Response, reqwest::Error>) -> Result<T, ApiError> {
        let bytes = Self::answer(response).await?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Malformed(e.to_string()))
    }

    /// The body of a successful answer (empty for a 204), or the error the service answered.
    async fn answer(response: Result<reqwest::Response, reqwest::Error>) -> Result<Vec<u8>, ApiError> {
        let response = response.map_err(|e| ApiError::Unreachable(e.to_string()))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| ApiError::Unreachable(e.to_string()))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => Err(ApiError::Refused {
                status: status.as_u16(),
                code: b.error,
                message: b.message,
                fields: b.fields.unwrap_or_default(),
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

    /// A `POST` that takes no body.
    async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        Self::read(self.http.post(Self::url(path)).send().await).await
    }

    /// A `POST` or `DELETE` answered with 204 No Content.
    async fn send_no_content(&self, request: reqwest::RequestBuilder) -> Result<(), ApiError> {
        Self::answer(request.send().await).await.map(drop)
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

    /// `POST /v1/applications/precheck`: the early duplicate warning (the service waits at most
    /// 3 s for the node).
    pub async fn precheck(&self, national_id: &str) -> Result<Precheck, ApiError> {
        self.post("/v1/applications/precheck", &PrecheckRequest { national_id: national_id.to_owned() }).await
    }

    /// `POST /v1/referrals/check`: a partner referral, typed (`code`) or scanned (`payload`),
    /// checked before the application is filled in from it (the service asks the node for a
    /// typed code, 3 s at most).
    pub async fn check_referral(&self, request: &ReferralCheckRequest) -> Result<ReferralCheckAnswer, ApiError> {
        self.post("/v1/referrals/check", request).await
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
        self.post("/v1/status-checks", &StatusRequest { query: query.into() }).await
    }

    /// `POST /v1/status-checks` with the ID card on the reader: the service reads the number
    /// from the card, so it never passes through the kiosk.
    /// `access` opens a national ID card's chip (`id_card_profile` `emrtd` or `both`).
    pub async fn status_check_by_card(&self, access: Option<CardAccess>) -> Result<StatusResponse, ApiError> {
        self.post("/v1/status-checks", &StatusRequest { query: local_api::StatusQuery::IdCard { access } }).await
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
    pub async fn provision(&self, node_url: &str, code: &str) -> Result<ProvisionOutcome, ApiError> {
        self.post("/v1/provisioning", &ProvisionRequest::new(node_url, code)).await
    }

    /// `POST /v1/sessions`: staff login with the badge on the reader and `pin`.
    pub async fn login(&self, pin: &str) -> Result<StaffSession, ApiError> {
        self.post("/v1/sessions", &local_api::Login { pin: pin.to_owned() }).await
    }

    /// `DELETE /v1/sessions/current`.
    pub async fn logout(&self) -> Result<(), ApiError> {
        self.send_no_content(self.http.delete(Self::url("/v1/sessions/current"))).await
    }

    /// `POST /v1/receipts` for a captured submission.
    pub async fn print_receipt(&self, submission_id: &Uuid, language: &str) -> Result<Printed, ApiError> {
        self.post("/v1/receipts", &PrintReceipt::submission(*submission_id, language)).await
    }

    /// `POST /v1/receipts` for a status slip (`status` is the node's answer, or `None` offline;
    /// `reference` the one the applicant typed, if any).
    pub async fn print_status_slip(&self, status: Option<&StatusResponse>, reference: Option<&str>, language: &str) -> Result<Printed, ApiError> {
        let slip = StatusSlip { language: language.to_owned(), status: status.cloned(), reference: reference.map(str::to_owned), come_back_at: None };
        self.post("/v1/receipts", &PrintReceipt::slip(slip)).await
    }

    /// `GET /v1/services`: the services of the terminal's copy of the node's service
    /// directory for `query`'s governorate (default: the terminal's province) and district.
    pub async fn services(&self, query: &ServicesQuery) -> Result<ServiceList, ApiError> {
        let mut path = String::from("/v1/services");
        let params: Vec<String> = [("governorate", &query.governorate), ("district", &query.district)]
            .into_iter()
            .filter_map(|(key, value)| value.as_deref().map(|v| format!("{key}={}", query_value(v))))
            .collect();
        if !params.is_empty() {
            path.push('?');
            path.push_str(&params.join("&"));
        }
        self.get(&path).await
    }

    /// `POST /v1/referral-slips`: prints a referral slip to one of those services, with a QR
    /// code the service verifies offline.
    pub async fn print_referral_slip(&self, request: &ReferralSlipRequest) -> Result<Printed, ApiError> {
        self.post("/v1/referral-slips", request).await
    }

    /// `POST /v1/id-card/read`: the applicant's national ID card on the reader; `access` opens
    /// its chip (`id_card_profile` `emrtd` or `both`).
    pub async fn read_id_card(&self, access: Option<CardAccess>) -> Result<IdCard, ApiError> {
        match access {
            Some(access) => self.post("/v1/id-card/read", &local_api::ReadIdCard { access: Some(access) }).await,
            None => self.post_empty("/v1/id-card/read").await,
        }
    }

    /// `POST /v1/hardware/read-card`: any card, for the technician's test.
    pub async fn hardware_read_card(&self) -> Result<IdCard, ApiError> {
        self.post_empty("/v1/hardware/read-card").await
    }

    /// `POST /v1/hardware/print-test`.
    pub async fn hardware_print_test(&self) -> Result<Printed, ApiError> {
        self.post_empty("/v1/hardware/print-test").await
    }

    /// `GET /v1/hardware/printer-status` → the printer's state.
    pub async fn printer_status(&self) -> Result<PrinterState, ApiError> {
        self.get::<local_api::PrinterReport>("/v1/hardware/printer-status").await.map(|report| report.state)
    }

    /// `POST /v1/simulator/card`: puts a simulated card on the reader (demo and drills; the
    /// service answers 404 with real devices).
    pub async fn simulator_present_card(&self, uid: &str) -> Result<(), ApiError> {
        let card = local_api::PresentCard { uid: uid.to_owned(), national_id: None, date_of_birth: None, emrtd: None };
        self.send_no_content(self.http.post(Self::url("/v1/simulator/card")).json(&card)).await
    }

    /// `POST /v1/simulator/card` with an ID card holding `national_id` and `date_of_birth`
    /// (`YYYY-MM-DD`).
    pub async fn simulator_present_id_card(&self, uid: &str, national_id: &str, date_of_birth: &str) -> Result<(), ApiError> {
        let born = date_of_birth.parse().map_err(|e| ApiError::Malformed(format!("date of birth '{date_of_birth}': {e}; use YYYY-MM-DD")))?;
        let card = local_api::PresentCard { uid: uid.to_owned(), national_id: Some(national_id.to_owned()), date_of_birth: Some(born), emrtd: None };
        self.send_no_content(self.http.post(Self::url("/v1/simulator/card")).json(&card)).await
    }

    /// `DELETE /v1/simulator/card`: takes the simulated card off.
    pub async fn simulator_remove_card(&self) -> Result<(), ApiError> {
        self.send_no_content(self.http.delete(Self::url("/v1/simulator/card"))).await
    }

    /// `GET /v1/events`: calls `on_event` for each event until the stream ends or fails.
    pub async fn follow_events(&self, on_event: impl FnMut(ServiceEvent)) -> Result<(), ApiError> {
        let response = self
            .events_http
            .get(Self::url("/v1/events"))
            .header("accept", "text/event-stream")
            .send()
            .await
            .map_err(|e| ApiError::Unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Self::answer(Ok(response)).await.map(drop);
        }
        read_events(response.bytes_stream(), on_event).await
    }
}

/// A query parameter's value, percent-encoded: master data codes are letters and digits, but
/// nothing else may change the query's meaning.
fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Reads a server-sent event stream (`eventsource-stream` splits it into events, across chunks,
/// and skips keep-alive comments) and calls `on_event` with each event of the local API. An
/// event this version does not know, or whose data does not fit, is skipped with a note: one odd
/// event must not cut the kiosk off from the rest.
async fn read_events<B, E>(bytes: impl Stream<Item = Result<B, E>>, mut on_event: impl FnMut(ServiceEvent)) -> Result<(), ApiError>
where
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let mut events = std::pin::pin!(bytes.eventsource());
    while let Some(next) = events.next().await {
        let sse = next.map_err(|e| match e {
            eventsource_stream::EventStreamError::Transport(e) => ApiError::Unreachable(e.to_string()),
            other => ApiError::Malformed(other.to_string()),
        })?;
        match ServiceEvent::parse(&sse.event, &sse.data) {
            Ok(event) => on_event(event),
            Err(e) => eprintln!("kiosk: event stream: {e}; skipped"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use local_api::{CardEvent, CardState, QueueEvent};

    /// Feeds `chunks` as the bytes of an event stream; returns the events read.
    fn events_of(chunks: &[&'static str]) -> Result<Vec<ServiceEvent>, ApiError> {
        let bytes = futures_util::stream::iter(chunks.iter().map(|c| Ok::<_, std::convert::Infallible>(c.as_bytes())));
        let mut events = Vec::new();
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        runtime.block_on(read_events(bytes, |e| events.push(e)))?;
        Ok(events)
    }

    #[test]
    fn query_values_cannot_add_parameters() {
        assert_eq!(query_value("BGD"), "BGD");
        assert_eq!(query_value("RSF&governorate=ERB"), "RSF%26governorate%3DERB");
        assert_eq!(query_value("ب"), "%D8%A8");
    }

    #[test]
    fn events_are_typed_across_chunks_comments_and_line_endings() {
        let events = events_of(&[
            "event: queue\ndata: {\"depth\"",
            ": 3, \"oldest_created_at\": null, \"dead_letters\": 0}\n\n: keep-alive\n\n",
            "event: card\r\ndata: {\"state\":\"present\",\"uid_hash\":\"9f2c41d07be35a18\"}\r\n\r\n",
        ])
        .unwrap();
        assert_eq!(
            events,
            [
                ServiceEvent::Queue(QueueEvent { depth: 3, oldest_created_at: None, dead_letters: 0 }),
                ServiceEvent::Card(CardEvent { state: CardState::Present, uid_hash: "9f2c41d07be35a18".into() }),
            ]
        );
    }

    #[test]
    fn unknown_or_malformed_events_are_skipped_not_fatal() {
        let events = events_of(&[
            "event: weather\ndata: {\"sky\":\"clear\"}\n\n",
            "event: printer\ndata: {\"state\":\"jammed\"}\n\n",
            "event: printer\ndata: {\"state\":\"paper_out\"}\n\n",
        ])
        .unwrap();
        assert_eq!(events, [ServiceEvent::Printer(local_api::PrinterEvent { state: PrinterState::PaperOut })]);
    }
}
