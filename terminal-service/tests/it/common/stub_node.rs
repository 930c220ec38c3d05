//! A small node on 127.0.0.1:0 that stores submissions idempotently and injects faults.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use node_protocol::*;
use uuid::Uuid;

/// What the stub does with the next `POST /v1/submissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Store and answer.
    None,
    /// 500 without storing.
    Status500,
    /// 503 with `Retry-After: N`, without storing.
    Busy { retry_after_s: u64 },
    /// Wait this long before storing and answering (past the client's timeout).
    Delay(Duration),
    /// Store, then answer 500: the acknowledgement is lost.
    DropAck,
    /// Not a queued fault: what the stub did when the signature's `created` was outside its
    /// clock's allowance (see [`StubNode::set_clock_ahead`]): 401, nothing stored.
    StaleSignature,
}

/// One request the stub saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub ids: Vec<Uuid>,
    pub fault: Fault,
}

#[derive(Default)]
struct Inner {
    faults: VecDeque<Fault>,
    /// id → (case number, times accepted as new)
    stored: HashMap<Uuid, String>,
    seen: Vec<Seen>,
    reject_next_new: usize,
    /// New ids still to answer with a `possible` duplicate check.
    flag_next_new: usize,
    rejected: HashMap<Uuid, String>,
    /// Served by `GET /v1/config`; its version is announced by heartbeats.
    config: Option<NodeConfig>,
    /// Enrollment codes still valid.
    codes: Vec<String>,
    enrolled: usize,
    heartbeats: Vec<Heartbeat>,
    status_queries: Vec<StatusQuery>,
    /// National ids the pre-check answers `registered` for.
    registered: Vec<String>,
    /// How long the pre-check takes to answer.
    precheck_delay: Duration,
    /// Pre-checks received.
    prechecks: usize,
    /// The opened content of every submission stored.
    contents: HashMap<Uuid, SubmissionContent>,
    /// How far the stub's clock is ahead of this machine's, when it checks `created`.
    clock_ahead_s: Option<i64>,
}

#[derive(Clone)]
pub struct StubNode {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    identity: Arc<age::x25519::Identity>,
}

impl StubNode {
    /// The status queries received, oldest first.
    pub fn status_queries(&self) -> Vec<StatusQuery> {
        self.inner.lock().unwrap().status_queries.clone()
    }

    /// Makes the pre-check answer `registered` for `national_id`.
    pub fn register(&self, national_id: &str) {
        self.inner.lock().unwrap().registered.push(national_id.into());
    }

    /// Makes the pre-check take `delay` to answer.
    pub fn slow_precheck(&self, delay: Duration) {
        self.inner.lock().unwrap().precheck_delay = delay;
    }

    /// How many pre-checks arrived.
    pub fn prechecks(&self) -> usize {
        self.inner.lock().unwrap().prechecks
    }

    /// The opened content of a stored submission.
    pub fn content(&self, id: Uuid) -> Option<SubmissionContent> {
        self.inner.lock().unwrap().contents.get(&id).cloned()
    }

    /// Starts a stub on 127.0.0.1:0 opening sealed content with `identity`.
    pub async fn start(identity: age::x25519::Identity) -> StubNode {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stub = StubNode { url, inner: Arc::default(), identity: Arc::new(identity) };
        let app = Router::new()
            .route("/v1/submissions", post(submissions))
            .route("/v1/status", post(status))
            .route("/v1/precheck", post(precheck))
            .route("/v1/heartbeat", post(heartbeat))
            .route("/v1/config", axum::routing::get(config))
            .route("/v1/terminals/enroll", post(enroll))
            .with_state(stub.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        stub
    }

    /// Queues faults for the next requests (then it behaves).
    pub fn push_faults(&self, faults: &[Fault]) {
        self.inner.lock().unwrap().faults.extend(faults.iter().copied());
    }

    /// Rejects the next `n` ids it has not seen before.
    pub fn reject_next(&self, n: usize) {
        self.inner.lock().unwrap().reject_next_new = n;
    }

    /// Answers the next `n` new ids `accepted` with a `possible` duplicate check matching
    /// `BSR-2026-000031`.
    pub fn flag_next(&self, n: usize) {
        self.inner.lock().unwrap().flag_next_new = n;
    }

    /// Makes the stub check submissions' `created` as the real node does (±300 s), against a
    /// clock `seconds` ahead of this machine's, and send that clock in `Date`: the same as a
    /// terminal whose clock is `seconds` behind.
    pub fn set_clock_ahead(&self, seconds: i64) {
        self.inner.lock().unwrap().clock_ahead_s = Some(seconds);
    }

    /// Sets the configuration the node serves.
    pub fn set_config(&self, config: NodeConfig) {
        self.inner.lock().unwrap().config = Some(config);
    }

    /// Issues a one-time enrollment code.
    pub fn issue_code(&self, code: &str) {
        self.inner.lock().unwrap().codes.push(code.into());
    }

    pub fn heartbeats(&self) -> Vec<Heartbeat> {
        self.inner.lock().unwrap().heartbeats.clone()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.clone()
    }

    pub fn stored(&self) -> HashMap<Uuid, String> {
        self.inner.lock().unwrap().stored.clone()
    }

    pub fn rejected(&self) -> HashMap<Uuid, String> {
        self.inner.lock().unwrap().rejected.clone()
    }

    fn store(&self, batch: &SubmissionBatch) -> Vec<SubmissionResult> {
        let mut inner = self.inner.lock().unwrap();
        batch
            .envelopes
            .iter()
            .map(|e| {
                let sealed = base64::engine::general_purpose::STANDARD.decode(&e.sealed).expect("sealed is base64");
                let plain = age::decrypt(self.identity.as_ref(), &sealed).expect("sealed to the node's key");
                let content: SubmissionContent = serde_json::from_slice(&plain).expect("content");
                assert_eq!(content.id, e.id, "sealed content belongs to its envelope");
                let outcome = if let Some(reason) = inner.rejected.get(&e.id) {
                    SubmissionOutcome::Rejected { reason: reason.clone() }
                } else if let Some(case) = inner.stored.get(&e.id) {
                    SubmissionOutcome::Duplicate { case_number: case.clone() }
                } else if inner.reject_next_new > 0 {
                    inner.reject_next_new -= 1;
                    let reason = format!("form version {} is withdrawn", e.form_version);
                    inner.rejected.insert(e.id, reason.clone());
                    SubmissionOutcome::Rejected { reason }
                } else {
                    let case = format!("BGD-{}", inner.stored.len() + 1);
                    inner.stored.insert(e.id, case.clone());
                    let duplicate_check = (inner.flag_next_new > 0).then(|| DuplicateCheck {
                        decision: DuplicateDecision::Possible,
                        matches: vec![MatchedCase {
                            case_number: "BSR-2026-000031".into(),
                            province: "BSR".into(),
                            decision: DuplicateDecision::Possible,
                        }],
                        headquarters: HeadquartersCheck::Checked,
                    });
                    inner.flag_next_new = inner.flag_next_new.saturating_sub(1);
                    inner.contents.insert(e.id, content.clone());
                    SubmissionOutcome::Accepted { case_number: case, duplicate_check, referral_check: None }
                };
                SubmissionResult { id: e.id, outcome }
            })
            .collect()
    }
}

fn error(status: StatusCode, code: &str) -> Response {
    (status, Json(ErrorBody { error: code.into(), message: "stub".into() })).into_response()
}

async fn submissions(State(stub): State<StubNode>, headers: HeaderMap, Json(batch): Json<SubmissionBatch>) -> Response {
    assert!(headers.contains_key("signature-input") && headers.contains_key("content-digest"), "requests are signed");
    let fault = {
        let mut inner = stub.inner.lock().unwrap();
        if let Some(ahead) = inner.clock_ahead_s {
            let node_now = chrono::Utc::now().timestamp() + ahead;
            if (signature_created(&headers) - node_now).abs() > node_protocol::signature::MAX_CLOCK_SKEW_S {
                inner.seen.push(Seen { at: Instant::now(), ids: batch.envelopes.iter().map(|e| e.id).collect(), fault: Fault::StaleSignature });
                let mut r = error(StatusCode::UNAUTHORIZED, "signature_invalid");
                let date = std::time::UNIX_EPOCH + Duration::from_secs(node_now as u64);
                r.headers_mut().insert("date", httpdate::fmt_http_date(date).parse().unwrap());
                return r;
            }
        }
        let fault = inner.faults.pop_front().unwrap_or(Fault::None);
        inner.seen.push(Seen { at: Instant::now(), ids: batch.envelopes.iter().map(|e| e.id).collect(), fault });
        fault
    };
    match fault {
        Fault::Status500 => error(StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        Fault::Busy { retry_after_s } => {
            let mut r = error(StatusCode::SERVICE_UNAVAILABLE, "busy");
            r.headers_mut().insert("retry-after", retry_after_s.to_string().parse().unwrap());
            r
        }
        Fault::Delay(d) => {
            tokio::time::sleep(d).await;
            Json(BatchResponse { results: stub.store(&batch) }).into_response()
        }
        Fault::DropAck => {
            stub.store(&batch);
            error(StatusCode::INTERNAL_SERVER_ERROR, "lost")
        }
        Fault::None | Fault::StaleSignature => Json(BatchResponse { results: stub.store(&batch) }).into_response(),
    }
}

/// The `created` parameter of a request's `Signature-Input`.
fn signature_created(headers: &HeaderMap) -> i64 {
    let input = headers.get("signature-input").and_then(|v| v.to_str().ok()).expect("signature-input");
    let created = input.split(';').find_map(|p| p.strip_prefix("created=")).expect("created= in signature-input");
    created.parse().expect("created is a number")
}

async fn status(State(stub): State<StubNode>, Json(request): Json<StatusRequest>) -> Json<StatusResponse> {
    stub.inner.lock().unwrap().status_queries.push(request.query);
    Json(StatusResponse {
        state: BenefitState::NotFound,
        case_number: None,
        updated_on: None,
        next_payment_on: None,
        message: LocalizedText::new("لا يوجد", "نییە", "not found"),
    })
}

async fn precheck(State(stub): State<StubNode>, headers: HeaderMap, Json(request): Json<PrecheckRequest>) -> Json<PrecheckResponse> {
    assert!(headers.contains_key("signature-input") && headers.contains_key("content-digest"), "requests are signed");
    let (delay, registered) = {
        let mut inner = stub.inner.lock().unwrap();
        inner.prechecks += 1;
        (inner.precheck_delay, inner.registered.contains(&request.national_id))
    };
    tokio::time::sleep(delay).await;
    Json(PrecheckResponse { result: if registered { PrecheckResult::Registered } else { PrecheckResult::NotFound } })
}

async fn heartbeat(State(stub): State<StubNode>, Json(beat): Json<Heartbeat>) -> Response {
    let mut inner = stub.inner.lock().unwrap();
    inner.heartbeats.push(beat);
    let version = inner.config.as_ref().map(|c| c.version.clone()).unwrap_or_default();
    Json(HeartbeatResponse { config_version: version, server_time: chrono::Utc::now(), service_directory_version: None, terminal_certificate: None }).into_response()
}

async fn config(State(stub): State<StubNode>) -> Response {
    match stub.inner.lock().unwrap().config.clone() {
        Some(c) => Json(c).into_response(),
        None => error(StatusCode::SERVICE_UNAVAILABLE, "no_config"),
    }
}

async fn enroll(State(stub): State<StubNode>, headers: HeaderMap, Json(request): Json<EnrollRequest>) -> Response {
    let input = headers.get("signature-input").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(input.contains("keyid=\"enroll\""), "enrollment is signed with keyid enroll: {input}");
    let mut inner = stub.inner.lock().unwrap();
    let Some(pos) = inner.codes.iter().position(|c| *c == request.code) else {
        return (StatusCode::UNAUTHORIZED, Json(ErrorBody { error: "enrollment_code_expired".into(), message: "the code expired or was used".into() })).into_response();
    };
    inner.codes.remove(pos);
    inner.enrolled += 1;
    let n = inner.enrolled;
    let version = inner.config.as_ref().map(|c| c.version.clone()).unwrap_or_default();
    Json(EnrollResponse {
        terminal_id: format!("T-STUB{n:04}"),
        province: "Baghdad".into(),
        node_id: "node-stub".into(),
        sealing_recipient: stub.identity.to_public().to_string(),
        heartbeat_interval_s: 1,
        config_version: version,
    })
    .into_response()
}
