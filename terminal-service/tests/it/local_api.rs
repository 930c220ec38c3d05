//! The local API over a real Unix socket in a temp dir: good requests, and every kind of bad one.


use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::common::stub_node::StubNode;
use crate::common::{application_answers, Fixture};
use serde_json::{json, Value};
use terminal_service::api::{self, ApiState};
use terminal_service::terminal::Terminal;
use tokio::sync::watch;

/// A running API; stops when dropped.
struct Running {
    terminal: Arc<Terminal>,
    client: reqwest::Client,
    _stop: watch::Sender<bool>,
    _fixture: Fixture,
}

async fn serve(fixture: Fixture) -> Running {
    let terminal = fixture.open();
    let (stop, stopped) = watch::channel(false);
    let listener = api::bind(&fixture.config.api.socket).await.unwrap();
    let state = ApiState { terminal: Arc::clone(&terminal), shutdown: stopped };
    tokio::spawn(api::serve(listener, state));
    let client = reqwest::Client::builder().unix_socket(fixture.config.api.socket.as_path()).timeout(Duration::from_secs(10)).build().unwrap();
    Running { terminal, client, _stop: stop, _fixture: fixture }
}

impl Running {
    async fn send(&self, method: &str, path: &str, content_type: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let mut req = self.client.request(method.parse().unwrap(), format!("http://localhost{path}")).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: answer is not JSON: {text}"));
        (status, value)
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, Some("application/json"), serde_json::to_vec(&body).unwrap()).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None, vec![]).await
    }
}

/// Sends an oversize body over a raw socket: the service answers 413 from the headers and
/// closes without reading the rest, so the writer may hit a broken pipe while the answer is
/// already waiting to be read — which an HTTP client would report as a send error.
async fn oversize(api: &Running, body: Vec<u8>) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::UnixStream::connect(&api.terminal.config.api.socket).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!("POST /v1/applications HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(head.as_bytes()).await;
        let _ = writer.write_all(&body).await; // may fail once the service has answered
        // Keep the write half open: dropping it would half-close the socket, which the
        // service takes as the client leaving.
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(writer);
    });
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut answer)).await.expect("an answer").unwrap();
    writing.abort();
    let text = String::from_utf8_lossy(&answer).to_string();
    let status: u16 = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status line: {text}"));
    let json = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(json.trim()).unwrap_or_else(|_| panic!("not JSON: {text}")))
}

fn assert_error(what: &str, (status, body): &(u16, Value), expected_status: u16, code: &str) {
    assert_eq!(*status, expected_status, "{what}: {body}");
    assert_eq!(body["error"], code, "{what}: {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: a message is required: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_4xx_with_a_message_and_lose_nothing() {
    let api = serve(Fixture::provisioned("http://127.0.0.1:9")).await;
    let valid = application_answers(1);
    let (status, saved) = api.post("/v1/applications", json!({"language": "ar", "answers": valid})).await;
    assert_eq!(status, 201, "{saved}");

    assert_error("malformed JSON", &api.send("POST", "/v1/applications", Some("application/json"), b"{not json".to_vec()).await, 400, "malformed_json");
    assert_error(
        "wrong content type",
        &api.send("POST", "/v1/applications", Some("text/plain"), serde_json::to_vec(&json!({"language": "ar", "answers": valid})).unwrap()).await,
        415,
        "unsupported_media_type",
    );
    assert_error("no content type", &api.send("POST", "/v1/grievances", None, b"{}".to_vec()).await, 415, "unsupported_media_type");
    assert_error("missing answers", &api.post("/v1/applications", json!({"language": "ar"})).await, 422, "invalid_body");
    assert_error("unknown top-level field", &api.post("/v1/applications", json!({"language": "ar", "answers": valid, "admin": true})).await, 422, "invalid_body");
    assert_error("answers not an object", &api.post("/v1/applications", json!({"language": "ar", "answers": [1, 2]})).await, 422, "invalid_body");
    assert_error("body is an array", &api.post("/v1/applications", json!([])).await, 422, "invalid_body");
    let big = format!("{{\"language\":\"ar\",\"answers\":{{\"full_name\":\"{}\"}}}}", "ا".repeat(600_000));
    assert_error("oversize body", &oversize(&api, big.into_bytes()).await, 413, "body_too_large");
    // An ordinary HTTP client gets the answer too (the body is drained before refusing).
    for _ in 0..3 {
        let answer = api.send("POST", "/v1/applications", Some("application/json"), vec![b' '; 2 << 20]).await;
        assert_error("oversize body over HTTP", &answer, 413, "body_too_large");
    }
    assert_error("unknown route", &api.get("/v1/nothing-here").await, 404, "not_found");
    assert_error("unversioned route", &api.get("/health").await, 404, "not_found");
    assert_error("wrong method", &api.send("DELETE", "/v1/applications", None, vec![]).await, 405, "method_not_allowed");
    assert_error("garbage status query", &api.post("/v1/status-checks", json!({"query": {"by": "horoscope"}})).await, 422, "invalid_body");
    assert_error(
        "status query with an extra field",
        &api.post("/v1/status-checks", json!({"query": {"by": "national_id", "national_id": "199012345678", "name": "x"}})).await,
        422,
        "invalid_body",
    );
    assert_error("short national id", &api.post("/v1/status-checks", json!({"query": {"by": "national_id", "national_id": "123"}})).await, 422, "invalid_body");
    assert_error("provisioning without a code", &api.post("/v1/provisioning", json!({"node_url": "http://x"})).await, 422, "invalid_body");

    let (_, queue) = api.get("/v1/queue").await;
    assert_eq!(queue["stats"]["depth"], 1, "the saved submission is still there, nothing else was saved: {queue}");
    let pending = api.terminal.storage.outbox(|o| o.pending(10)).await.unwrap();
    assert_eq!(pending[0].id.to_string(), saved["id"].as_str().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_answers_are_reported_field_by_field() {
    let api = serve(Fixture::provisioned("http://127.0.0.1:9")).await;
    let mut answers = application_answers(1);
    answers["full_name"] = json!("Fatima Ali"); // Latin in an Arabic-script field
    answers["national_id"] = json!(199012345678u64); // a number, not text
    answers["district"] = json!("NOPE");
    answers["nickname"] = json!("x");
    // (`assisted_by` is checked against the staff session first: see hardware_and_sessions.rs.)
    let (status, body) = api.post("/v1/applications", json!({"language": "xx", "answers": answers})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "validation_failed");
    let mut fields: Vec<&str> = body["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(fields, vec!["district", "full_name", "language", "national_id", "nickname"], "{body}");
    assert!(body["fields"].as_array().unwrap().iter().all(|f| f["message"].as_str().is_some_and(|m| !m.is_empty())));

    let (status, body) = api.post("/v1/grievances", json!({"language": "en", "answers": {}})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(api.get("/v1/queue").await.1["stats"]["depth"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_are_acknowledged_durably_with_a_reference_and_a_duplicate_warning() {
    let api = serve(Fixture::provisioned("http://127.0.0.1:9")).await;
    let (status, first) = api.post("/v1/applications", json!({"language": "ckb", "answers": application_answers(5)})).await;
    assert_eq!(status, 201, "{first}");
    let id: uuid::Uuid = first["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(first["reference"], node_protocol::reference::short_reference(&id));
    assert_eq!(first["duplicate_warning"], false);
    let (_, second) = api.post("/v1/applications", json!({"language": "ar", "answers": application_answers(5)})).await;
    assert_eq!(second["duplicate_warning"], true, "same national id again: {second}");
    let (_, other) = api.post("/v1/applications", json!({"language": "ar", "answers": application_answers(6)})).await;
    assert_eq!(other["duplicate_warning"], false);
    let grievance = json!({"full_name": "هەڵۆ", "description": "پارەکە نەگەیشت"});
    let (status, body) = api.post("/v1/grievances", json!({"language": "ckb", "answers": grievance})).await;
    assert_eq!(status, 201, "{body}");

    // Durable: a fresh open of the files sees all four.
    let stats = terminal_service::capture::outbox::Outbox::open(&api.terminal.config.storage.dir.join("outbox.sqlite")).unwrap().stats().unwrap();
    assert_eq!(stats.depth, 4);
    // The outbox file holds no national id in clear.
    let raw = std::fs::read(api.terminal.config.storage.dir.join("outbox.sqlite")).unwrap();
    let wal = std::fs::read(api.terminal.config.storage.dir.join("outbox.sqlite-wal")).unwrap_or_default();
    for bytes in [raw, wal] {
        assert!(!bytes.windows(12).any(|w| w == b"199000000005"), "national id in clear in the outbox");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_endpoints_describe_the_terminal() {
    let api = serve(Fixture::provisioned("http://127.0.0.1:9")).await;
    let (status, health) = api.get("/v1/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["provisioned"], true);
    assert_eq!(health["terminal_id"], "T-TEST0001");
    assert_eq!(health["connectivity"]["state"], "offline");
    assert_eq!(health["queue"]["depth"], 0);
    let (_, kiosk) = api.get("/v1/kiosk").await;
    let western = json!({"ar": "western", "ckb": "western", "en": "western"});
    assert_eq!(kiosk, json!({"idle_timeout_s": 90, "languages": ["ar", "ckb", "en"], "digits": western, "id_card_profile": "open", "scanner": false}));
    let (status, forms) = api.get("/v1/forms").await;
    assert_eq!(status, 200);
    assert_eq!(forms["forms"].as_array().unwrap().len(), 2);
    assert!(forms.get("staff").is_none() && !forms.to_string().contains("pin_hash"), "the roster is never served");
    let (status, diagnostics) = api.get("/v1/diagnostics").await;
    assert_eq!(status, 200, "{diagnostics}");
    assert!(diagnostics["sync"]["state"].is_string());
    assert!(diagnostics["audit"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unprovisioned_terminal_says_so() {
    let api = serve(Fixture::unprovisioned()).await;
    assert_error("application", &api.post("/v1/applications", json!({"language": "ar", "answers": application_answers(1)})).await, 503, "not_provisioned");
    assert_error("forms", &api.get("/v1/forms").await, 503, "not_provisioned");
    assert_error("status", &api.post("/v1/status-checks", json!({"query": {"by": "national_id", "national_id": "199012345678"}})).await, 503, "not_provisioned");
    assert_eq!(api.get("/v1/health").await.1["provisioned"], false);
    assert_error("bad node URL", &api.post("/v1/provisioning", json!({"node_url": "not a url", "code": "X"})).await, 422, "invalid_request");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    assert_error(
        "node unreachable",
        &api.post("/v1/provisioning", json!({"node_url": format!("http://127.0.0.1:{port}"), "code": "X"})).await,
        503,
        "node_unreachable",
    );
    assert_eq!(api.get("/v1/health").await.1["provisioned"], false, "a failed provisioning provisions nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_checks_are_forwarded_rate_limited_and_report_an_unreachable_node() {
    let identity = age::x25519::Identity::generate();
    let node = StubNode::start(identity.clone()).await;
    let api = serve(Fixture::provisioned_for(&node.url, identity)).await;
    let query = json!({"query": {"by": "reference", "reference": "7K2QX-M4B9R", "date_of_birth": "1980-02-29"}});
    let (status, body) = api.post("/v1/status-checks", query.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "not_found");
    let mut limited = None;
    for _ in 0..terminal_service::startup::config::KioskSection::default().status_checks_per_minute {
        let answer = api.post("/v1/status-checks", query.clone()).await;
        if answer.0 == 429 {
            limited = Some(answer);
            break;
        }
    }
    assert_error("rate limit", &limited.expect("the limit is reached within a minute's allowance"), 429, "rate_limited");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let offline = serve(Fixture::provisioned(&format!("http://127.0.0.1:{port}"))).await;
    assert_error("unreachable", &offline.post("/v1/status-checks", query).await, 503, "node_unreachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stream_the_state_and_new_submissions() {
    let api = serve(Fixture::provisioned("http://127.0.0.1:9")).await;
    let resp = api.client.get("http://localhost/v1/events").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut resp = resp;
    let mut text = String::new();
    let (_, saved) = api.post("/v1/applications", json!({"language": "ar", "answers": application_answers(1)})).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !text.contains("event: submission") {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk()).await.expect("events arrive").unwrap().expect("stream open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("event: connectivity"), "{text}");
    assert!(text.contains("event: queue"), "{text}");
    assert!(text.contains(saved["id"].as_str().unwrap()), "{text}");
    assert!(text.contains("\"state\":\"queued\""), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_replaces_a_stale_one_but_not_a_live_one_and_is_mode_0660() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("api.sock");
    let first = api::bind(&path).await.unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o660);
    assert!(matches!(api::bind(&path).await, Err(api::BindError::InUse(_))), "a live socket is not stolen");
    drop(first); // leaves the socket file behind, as a crash would
    assert!(Path::new(&path).exists());
    api::bind(&path).await.expect("a stale socket is replaced");
    let file = dir.path().join("regular");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(api::bind(&file).await, Err(api::BindError::NotASocket(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_precheck_tells_what_this_terminal_sent_and_what_the_node_knows() {
    let identity = age::x25519::Identity::generate();
    let node = StubNode::start(identity.clone()).await;
    let api = serve(Fixture::provisioned_for(&node.url, identity)).await;
    let answers = application_answers(1);
    let national_id = answers["national_id"].as_str().unwrap().to_owned();
    let precheck = |id: &str| json!({ "national_id": id });

    let (status, body) = api.post("/v1/applications/precheck", precheck(&national_id)).await;
    assert_eq!((status, body), (200, json!({"sent_from_this_terminal": false, "node": "not_found"})));

    let (status, saved) = api.post("/v1/applications", json!({"language": "ar", "answers": answers})).await;
    assert_eq!(status, 201, "{saved}");
    let (status, body) = api.post("/v1/applications/precheck", precheck(&national_id)).await;
    assert_eq!((status, body), (200, json!({"sent_from_this_terminal": true, "node": "not_found"})));
    // The same number in Arabic-Indic digits, as the on-screen keyboard may type it.
    let eastern: String = national_id.chars().map(|c| char::from_u32(0x0660 + c.to_digit(10).unwrap()).unwrap()).collect();
    let (status, body) = api.post("/v1/applications/precheck", precheck(&eastern)).await;
    assert_eq!((status, body["sent_from_this_terminal"].as_bool()), (200, Some(true)), "{body}");

    let other = application_answers(2)["national_id"].as_str().unwrap().to_owned();
    node.register(&other);
    let (status, body) = api.post("/v1/applications/precheck", precheck(&other)).await;
    assert_eq!((status, body), (200, json!({"sent_from_this_terminal": false, "node": "registered"})));
    assert_eq!(node.prechecks(), 4);

    assert_error("short national id", &api.post("/v1/applications/precheck", precheck("1234")).await, 422, "invalid_body");
    assert_error("letters", &api.post("/v1/applications/precheck", precheck("19900000000x")).await, 422, "invalid_body");
    assert_error("extra field", &api.post("/v1/applications/precheck", json!({"national_id": national_id, "name": "x"})).await, 422, "invalid_body");
    assert_eq!(node.prechecks(), 4, "malformed pre-checks never reach the node");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_precheck_could_not_check_when_the_node_is_offline_slow_or_unknown() {
    // Offline: nothing listens at the node's address; what this terminal sent is still known.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let offline = serve(Fixture::provisioned(&format!("http://127.0.0.1:{port}"))).await;
    let answers = application_answers(7);
    let national_id = answers["national_id"].clone();
    assert_eq!(offline.post("/v1/applications", json!({"language": "ckb", "answers": answers})).await.0, 201);
    let (status, body) = offline.post("/v1/applications/precheck", json!({ "national_id": national_id })).await;
    assert_eq!((status, body), (200, json!({"sent_from_this_terminal": true, "node": "could_not_check"})));

    // Slow: the kiosk waits on this answer, so the node gets three seconds, whatever the sync
    // engine's own request timeout.
    let identity = age::x25519::Identity::generate();
    let node = StubNode::start(identity.clone()).await;
    node.slow_precheck(Duration::from_secs(30));
    let mut fixture = Fixture::provisioned_for(&node.url, identity);
    fixture.config.sync.request_timeout_ms = 60_000;
    let slow = serve(fixture).await;
    let started = std::time::Instant::now();
    let (status, body) = slow.post("/v1/applications/precheck", json!({ "national_id": "199012345678" })).await;
    let waited = started.elapsed();
    assert_eq!((status, body), (200, json!({"sent_from_this_terminal": false, "node": "could_not_check"})));
    assert!(waited >= Duration::from_millis(2900) && waited < Duration::from_secs(8), "answered after {waited:?}");
    assert_eq!(node.prechecks(), 1);

    // Not provisioned: there is no node to ask.
    let unprovisioned = serve(Fixture::unprovisioned()).await;
    let (status, body) = unprovisioned.post("/v1/applications/precheck", json!({ "national_id": "199012345678" })).await;
    assert_eq!((status, body), (200, json!({"sent_from_this_terminal": false, "node": "could_not_check"})));
}

/// A terminal whose cached node configuration trusts partner WFP's key `[9; 32]`, with the
/// node unreachable: what `POST /v1/referrals/check` tells offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referral_check_offline_verifies_scanned_payloads_against_cached_partner_keys() {
    use base64::Engine;
    use node_protocol::referral::Referral;
    let partner = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let fixture = Fixture::provisioned(&format!("http://127.0.0.1:{port}"));
    let mut config = crate::common::node_config();
    config.referral_partners = vec![node_protocol::ReferralPartner {
        code: "WFP".into(),
        name: "World Food Programme".into(),
        public_keys: vec![base64::engine::general_purpose::STANDARD.encode(partner.verifying_key().as_bytes())],
    }];
    terminal_service::startup::node_config::store_cached(&fixture.config.storage.dir, &config).unwrap();
    let api = serve(fixture).await;
    let today = chrono::Utc::now().date_naive();
    let slip = |key: &ed25519_dalek::SigningKey| {
        Referral {
            partner: "WFP".into(),
            serial: 77,
            issued_on: today - chrono::Days::new(3),
            expires_on: today + chrono::Days::new(30),
            household_size: 5,
            governorate: "BGD".into(),
            partner_case: "WFP-2026/77".into(),
        }
        .sign(key)
        .unwrap()
    };
    let genuine = slip(&partner);

    let (status, body) = api.post("/v1/referrals/check", json!({"payload": genuine.payload()})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "valid", "{body}");
    assert_eq!(body["code"], genuine.referral.short_code());
    assert_eq!(body["prefill"], json!({"household_size": 5, "governorate": "BGD", "partner": "WFP", "partner_case_number": "WFP-2026/77"}));
    assert_eq!(body["payload"], genuine.payload());

    let forged = slip(&ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]));
    let (status, body) = api.post("/v1/referrals/check", json!({"payload": forged.payload()})).await;
    assert_eq!((status, &body["status"], &body["reason_code"]), (200, &json!("invalid"), &json!("signature_invalid")), "{body}");
    assert!(body["reason"].as_str().unwrap().contains("forged"), "{body}");
    assert!(body.get("prefill").is_none(), "{body}");

    // A typed code: the node holds the referral, and it is unreachable.
    let (status, body) = api.post("/v1/referrals/check", json!({"code": genuine.referral.short_code().to_lowercase()})).await;
    assert_eq!((status, &body["status"], &body["reason_code"]), (200, &json!("unchecked"), &json!("needs_node")), "{body}");

    let (status, body) = api.post("/v1/referrals/check", json!({"code": "UNHCR-000-000-000"})).await;
    assert_eq!((status, &body["status"]), (200, &json!("invalid")), "{body}");
    assert_error("both", &api.post("/v1/referrals/check", json!({"code": "WFP-1", "payload": "R1"})).await, 422, "invalid_body");
    assert_error("neither", &api.post("/v1/referrals/check", json!({})).await, 422, "invalid_body");
}

/// A small service directory in the fixture's master data (Baghdad, district BGD-01).
fn service_directory() -> node_protocol::service_directory::ServiceDirectory {
    use node_protocol::service_directory::{Service, ServiceCategory, ServiceDirectory};
    use node_protocol::LocalizedText;
    let t = |en: &str| LocalizedText::new(&format!("ع {en}"), &format!("ک {en}"), en);
    let service = |id: &str, category: &str, governorate: &str, district: Option<&str>| Service {
        id: id.into(),
        category: category.into(),
        governorate: governorate.into(),
        district: district.map(Into::into),
        name: t(id),
        eligibility: t("everyone"),
        address: t("street"),
        hours: t("8-14"),
        phone: "+964 770 000 0101".into(),
    };
    ServiceDirectory {
        version: "test-1".into(),
        categories: vec![ServiceCategory { id: "health".into(), name: t("Health") }, ServiceCategory { id: "legal_aid".into(), name: t("Legal aid") }],
        services: vec![
            service("BGD-L-1", "legal_aid", "BGD", None),
            service("BGD-H-1", "health", "BGD", Some("BGD-01")),
            service("BGD-H-2", "health", "BGD", Some("BGD-02")),
            service("ERB-H-1", "health", "ERB", None),
        ],
    }
}

/// The node's endorsement of `key` for the fixture's terminal, from `from` through `until`.
fn certificate(key: ed25519_dalek::VerifyingKey, from: chrono::NaiveDate, until: chrono::NaiveDate) -> node_protocol::slip::EndorsedCertificate {
    node_protocol::slip::TerminalCertificate { province: "BGD".into(), terminal_id: "T-TEST0001".into(), terminal_key: key, valid_from: from, valid_until: until }
        .endorse(&ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_and_referral_slips_work_offline_and_a_slip_no_verifier_would_accept_is_refused() {
    let api = serve(Fixture::provisioned("http://127.0.0.1:9")).await;
    let slip = json!({"service_id": "bgd-h-1", "language": "en", "reference": "7k2qx m4b9r"});
    assert_error("no directory yet", &api.get("/v1/services").await, 503, "service_directory_unavailable");
    assert_error("no directory yet", &api.post("/v1/referral-slips", slip.clone()).await, 503, "service_directory_unavailable");

    api.terminal.set_service_directory(service_directory()).unwrap();
    let ids = |list: &Value| list["services"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let (status, list) = api.get("/v1/services").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!((list["governorate"].as_str(), ids(&list)), (Some("BGD"), vec!["BGD-H-1".to_string(), "BGD-H-2".into(), "BGD-L-1".into()]), "the terminal's province by default");
    let (_, list) = api.get("/v1/services?governorate=BGD&district=BGD-01").await;
    assert_eq!(ids(&list), ["BGD-H-1", "BGD-L-1"]);
    assert_eq!(list["categories"].as_array().unwrap().len(), 2);
    assert_error("a district elsewhere", &api.get("/v1/services?district=XX").await, 422, "unknown_district");
    assert_error("a governorate the node does not know", &api.get("/v1/services?governorate=ERB").await, 422, "unknown_governorate");
    assert_error("an unknown parameter", &api.get("/v1/services?colour=red").await, 400, "invalid_query");

    // Before the node endorsed this terminal, no slip: its QR would not verify.
    assert_error("no certificate", &api.post("/v1/referral-slips", slip.clone()).await, 409, "slip_certificate_missing");
    let dir = api.terminal.config.storage.dir.clone();
    let key = terminal_service::startup::identity::TerminalKey::load(&dir).unwrap().verifying_key();
    let today = chrono::Utc::now().with_timezone(&terminal_service::peripherals::receipts::iraq_time()).date_naive();
    let day = |d: i64| today + chrono::Duration::days(d);
    api.terminal.set_slip_certificate(certificate(key, day(-1), day(29))).unwrap();
    let (status, printed) = api.post("/v1/referral-slips", slip.clone()).await;
    assert_eq!(status, 201, "{printed}");
    assert!(Path::new(printed["png"].as_str().unwrap()).exists(), "{printed}");

    assert_error("an unknown service", &api.post("/v1/referral-slips", json!({"service_id": "NOPE", "language": "en"})).await, 404, "unknown_service");
    assert_error("a language the kiosk lacks", &api.post("/v1/referral-slips", json!({"service_id": "BGD-H-1", "language": "fr"})).await, 422, "invalid_body");
    assert_error("not a reference", &api.post("/v1/referral-slips", json!({"service_id": "BGD-H-1", "language": "en", "reference": "a name, not a reference"})).await, 422, "invalid_body");
    let unknown = json!({"service_id": "BGD-H-1", "language": "en", "submission_id": "0193a1f2-7c3e-7d4a-9b1e-2f3a4b5c6d7e"});
    assert_error("a submission not captured here", &api.post("/v1/referral-slips", unknown).await, 404, "unknown_submission");

    // A certificate that ran out (weeks without the node), or one for another key (a terminal
    // re-enrolled with a new key): refused, never printed with a QR that fails.
    api.terminal.set_slip_certificate(certificate(key, day(-40), day(-10))).unwrap();
    assert_error("an expired certificate", &api.post("/v1/referral-slips", slip.clone()).await, 409, "slip_certificate_expired");
    let other = ed25519_dalek::SigningKey::from_bytes(&[4u8; 32]).verifying_key();
    api.terminal.set_slip_certificate(certificate(other, day(-1), day(29))).unwrap();
    assert_error("another key's certificate", &api.post("/v1/referral-slips", slip).await, 409, "slip_certificate_missing");

    // Both are on disk for the next start.
    use terminal_service::startup::referrals_out::{load_certificate, load_directory};
    assert_eq!(load_directory(&dir).unwrap().unwrap().version, "test-1");
    assert_eq!(load_certificate(&dir).unwrap().unwrap().certificate.terminal_key, other);
}
