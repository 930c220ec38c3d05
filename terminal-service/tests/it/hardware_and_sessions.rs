//! The devices and staff sessions through the local API, on the simulated backend: cards
//! presented through the simulator routes reach the reader loop, staff log in with a badge and
//! PIN, receipts come out of the simulated printer as PNGs, and faults reach the event stream,
//! the heartbeat and the audit log.


use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, SaltString};
use base64::Engine;
use crate::common;
use crate::common::stub_node::StubNode;
use crate::common::{application_answers, eventually, Fixture};
use node_protocol::{NodeConfig, StaffMember, StaffRole};
use serde_json::{json, Value};
use terminal_service::api::{self, ApiState};
use terminal_service::startup::node_config::store_cached;
use terminal_service::terminal::Terminal;
use terminal_service::{delivery::heartbeat, peripherals::printer_monitor, peripherals::reader_loop, peripherals::scanner_loop, staff::session};
use tokio::sync::watch;

pub(crate) const STAFF_BADGE: &str = "04A1B2C3D4E580";
const TECH_BADGE: &str = "04112233445566";
const STRANGER: &str = "DEADBEEF";
const BADGE_KEY: &[u8] = b"badge-key-for-tests-only";

fn uid_bytes(hex: &str) -> Vec<u8> {
    hardware::Uid::from_hex(hex).unwrap().as_bytes().to_vec()
}

/// The sample staff of the reference node (README), hashed the way the node hashes them, with
/// cheap Argon2 parameters (the PHC string carries them, so verification uses them too).
fn roster_config() -> NodeConfig {
    let params = argon2::Params::new(8, 1, 1, None).unwrap();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let member = |id: &str, name: &str, role, badge: &str, pin: &str| {
        let salt = SaltString::encode_b64(format!("salt-{id}").as_bytes()).unwrap();
        StaffMember {
            staff_id: id.into(),
            display_name: name.into(),
            role,
            badge_hash: terminal_service::staff::badge_hash(BADGE_KEY, &uid_bytes(badge)),
            pin_hash: argon.hash_password(pin.as_bytes(), &salt).unwrap().to_string(),
        }
    };
    let mut config = common::node_config();
    config.staff.badge_hash_key = base64::engine::general_purpose::STANDARD.encode(BADGE_KEY);
    config.staff.members = vec![
        member("S-0001", "Zainab Kadhim", StaffRole::Staff, STAFF_BADGE, "2468"),
        member("TECH-01", "Ahmed Salih", StaffRole::Technician, TECH_BADGE, "9024"),
    ];
    config
}

pub(crate) struct Running {
    pub(crate) terminal: Arc<Terminal>,
    pub(crate) client: reqwest::Client,
    fixture: Fixture,
    _stop: watch::Sender<bool>,
}

pub(crate) async fn start(mut fixture: Fixture, idle_timeout_s: u64) -> Running {
    store_cached(&fixture.config.storage.dir, &roster_config()).unwrap();
    fixture.config.kiosk.idle_timeout_s = idle_timeout_s;
    let terminal = Terminal::open(fixture.config.clone()).unwrap();
    let (stop, stopped) = watch::channel(false);
    let listener = api::bind(&fixture.config.api.socket).await.unwrap();
    tokio::spawn(api::serve(listener, ApiState { terminal: Arc::clone(&terminal), shutdown: stopped.clone() }));
    reader_loop::spawn(Arc::clone(&terminal), stopped.clone());
    scanner_loop::spawn(Arc::clone(&terminal), stopped.clone());
    tokio::spawn(printer_monitor::run(Arc::clone(&terminal), stopped.clone()));
    tokio::spawn(session::run_idle_timer(Arc::clone(&terminal), stopped));
    // No overall timeout: the event stream stays open for the whole test; each wait is bounded
    // by its own deadline instead.
    let client = reqwest::Client::builder().unix_socket(fixture.config.api.socket.as_path()).build().unwrap();
    Running { terminal, client, fixture, _stop: stop }
}

impl Running {
    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.client.request(method.parse().unwrap(), format!("http://localhost{path}"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = tokio::time::timeout(Duration::from_secs(20), req.send()).await.expect("an answer within 20 s").unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}")) })
    }

    /// Presents a card through the simulator and waits until the reader loop has seen it.
    async fn present(&self, uid: &str) {
        self.present_card(json!({"uid": uid})).await;
    }

    /// Presents an applicant's ID card holding the national ID number 199001234567 and the
    /// date of birth 1985-03-14.
    async fn present_id_card(&self, uid: &str) {
        self.present_card(json!({"uid": uid, "national_id": "199001234567", "date_of_birth": "1985-03-14"})).await;
    }

    async fn present_card(&self, card: Value) {
        let uid = card["uid"].as_str().unwrap_or_default().to_owned();
        let (status, body) = self.call("POST", "/v1/simulator/card", Some(card)).await;
        assert_eq!(status, 204, "{body}");
        let expected = hardware::Uid::from_hex(&uid);
        let devices = Arc::clone(&self.terminal.devices);
        eventually("the reader to see the card", Duration::from_secs(5), || {
            let seen = devices.card().uid;
            async move { seen == expected }
        })
        .await;
    }

    async fn remove(&self) {
        assert_eq!(self.call("DELETE", "/v1/simulator/card", None).await.0, 204);
        let devices = Arc::clone(&self.terminal.devices);
        eventually("the reader to see the card leave", Duration::from_secs(5), || {
            let seen = devices.card().uid;
            async move { seen.is_none() }
        })
        .await;
    }

    pub(crate) async fn login(&self, pin: &str) -> (u16, Value) {
        self.call("POST", "/v1/sessions", Some(json!({"pin": pin}))).await
    }

    pub(crate) async fn audit_actions(&self) -> Vec<(String, Value)> {
        self.terminal
            .storage
            .audit_log(|log| log.recent(200))
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.action.clone(), serde_json::to_value(&e).unwrap()))
            .collect()
    }

    /// Opens `GET /v1/events`.
    async fn events(&self) -> EventStream {
        let resp = self.client.get("http://localhost/v1/events").send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        EventStream { response: resp, buffer: String::new() }
    }
}

/// No audit detail has a `pin` member or a value holding one of `secrets` (PINs, UIDs).
pub(crate) fn assert_no_secret_in_details(actions: &[(String, Value)], secrets: &[&str]) {
    fn walk(value: &Value, secrets: &[&str], action: &str) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    assert!(!k.to_lowercase().contains("pin") && !k.to_lowercase().contains("uid"), "{action}: member {k}");
                    walk(v, secrets, action);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, secrets, action)),
            Value::String(text) => {
                for secret in secrets {
                    assert!(!text.to_uppercase().contains(&secret.to_uppercase()) || text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()), "{action}: {text} holds {secret}");
                }
            }
            _ => {}
        }
    }
    for (action, entry) in actions {
        walk(&entry["detail"], secrets, action);
    }
}

struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// The next event named `name` whose data satisfies `check`, within 10 s.
    async fn expect(&mut self, name: &str, check: impl Fn(&Value) -> bool) -> Value {
        self.expect_within(Duration::from_secs(10), name, check).await
    }

    /// The next event named `name` whose data satisfies `check`, within `limit`.
    async fn expect_within(&mut self, limit: Duration, name: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if event.as_deref() == Some(name) {
                    let value: Value = serde_json::from_str(&data).unwrap();
                    if check(&value) {
                        return value;
                    }
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no `{name}` event within {limit:?}"))
                .unwrap()
                .expect("the stream ended");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_log_in_with_badge_and_pin_and_the_session_ends_when_the_badge_leaves() {
    let api = start(Fixture::provisioned("http://127.0.0.1:9"), 90).await;
    let mut events = api.events().await;

    let (status, body) = api.login("2468").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("no_badge")), "{body}");
    assert_eq!(api.call("GET", "/v1/sessions/current", None).await.0, 404);

    api.present(STAFF_BADGE).await;
    let card = events.expect("card", |v| v["state"] == "present").await;
    let hash = card["uid_hash"].as_str().unwrap();
    assert_eq!(hash.len(), 16);
    assert!(!card.to_string().to_uppercase().contains(STAFF_BADGE), "no raw UID on the event stream: {card}");

    let (status, body) = api.login("2468").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["staff_id"], "S-0001");
    assert_eq!(body["display_name"], "Zainab Kadhim");
    assert_eq!(body["role"], "staff");
    assert!(body["expires_at"].as_str().is_some());
    events.expect("session", |v| v["state"] == "started" && v["session"]["staff_id"] == "S-0001").await;
    let (status, current) = api.call("GET", "/v1/sessions/current", None).await;
    assert_eq!((status, current["staff_id"].as_str()), (200, Some("S-0001")));

    // Staff may see the queue details; not the technician's routes.
    assert_eq!(api.call("GET", "/v1/queue/details", None).await.0, 200);
    let (status, body) = api.call("POST", "/v1/hardware/print-test", None).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("technician_required")), "{body}");

    api.remove().await;
    events.expect("card", |v| v["state"] == "removed" && v["uid_hash"] == hash).await;
    events.expect("session", |v| v["state"] == "ended" && v["reason"] == "badge_removed").await;
    assert_eq!(api.call("GET", "/v1/sessions/current", None).await.0, 404);
    let (status, body) = api.call("GET", "/v1/queue/details", None).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("login_required")), "{body}");

    // An unknown card is not a badge.
    api.present(STRANGER).await;
    let (status, body) = api.login("2468").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unknown_badge")), "{body}");

    // Logout.
    api.present(STAFF_BADGE).await;
    assert_eq!(api.login("٢٤٦٨").await.0, 201, "Arabic-Indic digits are the same PIN");
    assert_eq!(api.call("DELETE", "/v1/sessions/current", None).await.0, 204);
    events.expect("session", |v| v["state"] == "ended" && v["reason"] == "logout").await;
    assert_eq!(api.call("DELETE", "/v1/sessions/current", None).await.0, 404);

    let actions = api.audit_actions().await;
    let names: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    for expected in ["login", "session_ended", "login_unknown_badge"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    assert_no_secret_in_details(&actions, &["2468", "٢٤٦٨", STAFF_BADGE, STRANGER]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_pins_lock_the_badge_out() {
    let api = start(Fixture::provisioned("http://127.0.0.1:9"), 90).await;
    api.present(STAFF_BADGE).await;
    for left in (1..=4).rev() {
        let (status, body) = api.login("0000").await;
        assert_eq!((status, body["error"].as_str()), (401, Some("wrong_pin")), "{body}");
        assert_eq!(body["attempts_left"], left, "{body}");
    }
    let (status, body) = api.login("0000").await;
    assert_eq!((status, body["error"].as_str()), (423, Some("locked_out")), "{body}");
    let retry = body["retry_after_s"].as_u64().unwrap();
    assert!((290..=300).contains(&retry), "{body}");
    // Locked: even the right PIN is refused, without being checked.
    let (status, body) = api.login("2468").await;
    assert_eq!((status, body["error"].as_str()), (423, Some("locked_out")), "{body}");
    // Another badge is not locked.
    api.present(TECH_BADGE).await;
    assert_eq!(api.login("9024").await.0, 201);

    let actions = api.audit_actions().await;
    let failed = actions.iter().filter(|(a, _)| a == "login_failed").count();
    assert_eq!(failed, 5);
    assert!(actions.iter().any(|(a, e)| a == "login_locked_out" && e.to_string().contains("S-0001")));
    assert_no_secret_in_details(&actions, &["0000", "2468", "9024", STAFF_BADGE, TECH_BADGE]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends_and_activity_postpones_it() {
    // 15 s is the shortest idle timeout the configuration accepts.
    let api = start(Fixture::provisioned("http://127.0.0.1:9"), 15).await;
    let mut events = api.events().await;
    api.present(STAFF_BADGE).await;
    let (status, body) = api.login("2468").await;
    assert_eq!(status, 201, "{body}");
    let started = chrono::DateTime::parse_from_rfc3339(body["started_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    assert!((14..=15).contains(&(expires - started).num_seconds()), "{body}");
    // Activity 8 s in moves the end to about 23 s after the login.
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(api.call("GET", "/v1/queue/details", None).await.0, 200);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(api.call("GET", "/v1/sessions/current", None).await.0, 200, "18 s after login, 10 s after the last activity");
    let ended = events.expect_within(Duration::from_secs(10), "session", |v| v["state"] == "ended").await;
    assert_eq!(ended["reason"], "idle_timeout");
    assert_eq!(api.call("GET", "/v1/sessions/current", None).await.0, 404);
    assert!(api.audit_actions().await.iter().any(|(a, e)| a == "session_ended" && e.to_string().contains("idle_timeout")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn technicians_provision_and_test_hardware_once_the_terminal_is_provisioned() {
    let api = start(Fixture::provisioned("http://127.0.0.1:9"), 90).await;
    let (status, body) = api.call("POST", "/v1/provisioning", Some(json!({"node_url": "http://127.0.0.1:9", "code": "X", "force": true}))).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("login_required")), "{body}");
    assert_eq!(api.call("POST", "/v1/hardware/print-test", None).await.0, 401);
    assert_eq!(api.call("POST", "/v1/hardware/read-card", None).await.0, 401);

    api.present(TECH_BADGE).await;
    assert_eq!(api.login("9024").await.0, 201);
    let (status, body) = api.call("POST", "/v1/hardware/print-test", None).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["printed"], true);
    let png = std::path::PathBuf::from(body["png"].as_str().unwrap());
    assert!(png.exists() && png.starts_with(api.fixture.config.storage.dir.join("printed")), "{png:?}");

    // The read test waits for another card: the technician swaps the badge for it, and the
    // session survives the swap because the read is armed.
    let reading = {
        let client = api.client.clone();
        tokio::spawn(async move {
            let resp = client.post("http://localhost/v1/hardware/read-card").send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    api.remove().await;
    api.present(STRANGER).await;
    let (status, body) = reading.await.unwrap();
    assert_eq!((status, body["uid"].as_str()), (200, Some(STRANGER)), "{body}");
    assert_eq!(api.call("GET", "/v1/sessions/current", None).await.0, 200, "the armed read kept the session");

    let (status, hw) = api.call("GET", "/v1/hardware", None).await;
    assert_eq!(status, 200);
    assert_eq!(hw["backend"], "simulated");
    assert_eq!(hw["reader"]["state"], "ok");
    assert_eq!(hw["printer"]["state"], "ok");
    assert_eq!(hw["card_present"], true);
    assert!(hw["reader"]["description"].as_str().unwrap().contains("MFRC522"), "{hw}");

    // A provisioning attempt from a technician reaches the node (here: nobody listens).
    let (status, body) = api.call("POST", "/v1/provisioning", Some(json!({"node_url": "http://127.0.0.1:9", "code": "X", "force": true}))).await;
    assert_ne!(status, 401, "{body}");
    assert_ne!(status, 403, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_card_reads_need_staff_and_time_out_without_a_card() {
    let api = start(Fixture::provisioned("http://127.0.0.1:9"), 90).await;
    assert_eq!(api.call("POST", "/v1/id-card/read", Some(json!({}))).await.0, 401);
    api.present(STAFF_BADGE).await;
    assert_eq!(api.login("2468").await.0, 201);
    // The badge itself is not the applicant's card: with only the badge there, the read times out.
    let started = std::time::Instant::now();
    let (status, body) = api.call("POST", "/v1/id-card/read", Some(json!({}))).await;
    assert_eq!((status, body["error"].as_str()), (408, Some("no_card")), "{body}");
    assert!(started.elapsed() >= Duration::from_secs(9));
    let client = api.client.clone();
    let reading = tokio::spawn(async move {
        let resp = client.post("http://localhost/v1/id-card/read").json(&json!({})).send().await.unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    api.present_id_card("08AABBCC").await;
    let (status, mut card) = reading.await.unwrap();
    // The simulator took the badge off for the card: the answer says how long it has to come back.
    let left = card.as_object_mut().and_then(|c| c.remove("badge_return_s")).and_then(|v| v.as_u64());
    assert!(left.is_some_and(|s| s <= 60), "{card}");
    assert_eq!((status, card), (200, json!({"uid": "08AABBCC", "national_id": "199001234567", "date_of_birth": "1985-03-14"})));
    // A card that is not an ID card (a plain MIFARE card, another badge) is named as such.
    api.present("04AABBCCDDEEFF").await;
    let (status, body) = api.call("POST", "/v1/id-card/read", Some(json!({}))).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("not_an_id_card")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_check_by_id_card_sends_the_number_read_from_the_card_to_the_node_only() {
    let identity = age::x25519::Identity::generate();
    let stub = StubNode::start(identity.clone()).await;
    let api = start(Fixture::provisioned_for(&stub.url, identity), 90).await;
    let by_card = json!({"query": {"by": "id_card"}});
    api.present_id_card("08AABBCC").await;
    let (status, body) = api.call("POST", "/v1/status-checks", Some(by_card.clone())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "not_found");
    assert!(!body.to_string().contains("199001234567"), "the number stays between the card and the node: {body}");
    assert_eq!(stub.status_queries(), vec![node_protocol::StatusQuery::NationalId { national_id: "199001234567".into() }]);
    // A card without the application: refused, and the node is not asked.
    api.present("04AABBCCDDEEFF").await;
    let (status, body) = api.call("POST", "/v1/status-checks", Some(by_card.clone())).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("not_an_id_card")), "{body}");
    // No card at all: 408 after the wait, and still nothing sent.
    api.remove().await;
    let (status, body) = api.call("POST", "/v1/status-checks", Some(by_card)).await;
    assert_eq!((status, body["error"].as_str()), (408, Some("no_card")), "{body}");
    assert_eq!(stub.status_queries().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_print_to_png_and_paper_out_is_a_409_an_event_and_a_heartbeat_state() {
    let identity = age::x25519::Identity::generate();
    let stub = StubNode::start(identity.clone()).await;
    stub.set_config(roster_config());
    let api = start(Fixture::provisioned_for(&stub.url, identity), 90).await;
    let mut events = api.events().await;
    events.expect("printer", |v| v["state"] == "ok").await;

    // Self-service application, then its receipt.
    let (status, captured) = api.call("POST", "/v1/applications", Some(json!({"language": "ckb", "answers": application_answers(7)}))).await;
    assert_eq!(status, 201, "{captured}");
    let id = captured["id"].as_str().unwrap().to_string();
    let (status, printed) = api.call("POST", "/v1/receipts", Some(json!({"submission_id": id, "language": "ckb"}))).await;
    assert_eq!(status, 201, "{printed}");
    assert_eq!((printed["printed"].as_bool(), printed["pages"].as_u64()), (Some(true), Some(1)));
    let png = std::path::PathBuf::from(printed["png"].as_str().unwrap());
    assert!(png.exists(), "{png:?}");
    let name = png.file_name().unwrap().to_string_lossy().to_string();
    assert!(!name.contains(&id) && !name.contains(captured["reference"].as_str().unwrap()), "nothing identifying in the file name: {name}");
    // The printed page is a real image of a receipt: a PNG as tall as a receipt.
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    let (width, height) = (u32::from_be_bytes(bytes[16..20].try_into().unwrap()), u32::from_be_bytes(bytes[20..24].try_into().unwrap()));
    assert_eq!(width, 384, "58 mm paper");
    assert!(height > 400, "a whole receipt: {height} rows");

    // Reprint: same answer shape, a new page.
    let (status, again) = api.call("POST", "/v1/receipts", Some(json!({"submission_id": id}))).await;
    assert_eq!(status, 201, "{again}");
    assert_ne!(again["png"], printed["png"]);

    // Unknown ids, bad bodies.
    let (status, body) = api.call("POST", "/v1/receipts", Some(json!({"submission_id": uuid::Uuid::now_v7()}))).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("unknown_submission")), "{body}");
    let (status, body) = api.call("POST", "/v1/receipts", Some(json!({"submission_id": id, "language": "fr"}))).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("invalid_body")), "{body}");
    let (status, _) = api.call("POST", "/v1/receipts", Some(json!({}))).await;
    assert_eq!(status, 422);

    // Status slips: answered and offline.
    let slip = json!({"status_slip": {"language": "ar", "reference": "7K2QX-M4B9R", "status": {
        "state": "active", "case_number": "BGD-2025-000142",
        "message": {"ar": "الحالة فعالة", "ckb": "چالاکە", "en": "Active"}}}});
    let (status, body) = api.call("POST", "/v1/receipts", Some(slip)).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = api.call("POST", "/v1/receipts", Some(json!({"status_slip": {"language": "en", "status": null}}))).await;
    assert_eq!(status, 201, "{body}");

    // Out of paper: 409 with the state, a printer event, an audit entry, the heartbeat.
    let (status, body) = api.call("POST", "/v1/simulator/printer", Some(json!({"paper": "out"}))).await;
    assert_eq!((status, body["state"].as_str()), (200, Some("paper_out")), "{body}");
    events.expect("printer", |v| v["state"] == "paper_out").await;
    let (status, body) = api.call("POST", "/v1/receipts", Some(json!({"submission_id": id}))).await;
    assert_eq!((status, body["error"].as_str(), body["state"].as_str()), (409, Some("printer_not_ready"), Some("paper_out")), "{body}");
    heartbeat::beat(&api.terminal).await.unwrap();
    let beat = stub.heartbeats().pop().unwrap();
    assert_eq!((beat.printer.as_str(), beat.reader.as_str()), ("paper_out", "ok"));
    assert!(api.audit_actions().await.iter().any(|(a, e)| a == "printer_fault" && e.to_string().contains("paper_out")));

    // Cover open wins over low paper; closing and refilling recovers.
    api.call("POST", "/v1/simulator/printer", Some(json!({"paper": "near_end", "cover_open": true}))).await;
    events.expect("printer", |v| v["state"] == "cover_open").await;
    api.call("POST", "/v1/simulator/printer", Some(json!({"cover_open": false}))).await;
    events.expect("printer", |v| v["state"] == "paper_low").await;
    api.call("POST", "/v1/simulator/printer", Some(json!({"paper": "ok"}))).await;
    events.expect("printer", |v| v["state"] == "ok").await;
    assert_eq!(api.call("POST", "/v1/receipts", Some(json!({"submission_id": id}))).await.0, 201, "reprint after the fix");
    assert!(api.audit_actions().await.iter().any(|(a, _)| a == "printer_recovered"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assisted_submissions_must_name_the_logged_in_staff() {
    let api = start(Fixture::provisioned("http://127.0.0.1:9"), 90).await;
    let body = |n, who: &str| json!({"language": "ar", "answers": application_answers(n), "assisted_by": who});
    let (status, answer) = api.call("POST", "/v1/applications", Some(body(1, "S-0001"))).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("login_required")), "{answer}");
    api.present(STAFF_BADGE).await;
    assert_eq!(api.login("2468").await.0, 201);
    let (status, answer) = api.call("POST", "/v1/applications", Some(body(2, "TECH-01"))).await;
    assert_eq!((status, answer["error"].as_str()), (403, Some("assisted_by_mismatch")), "{answer}");
    let (status, answer) = api.call("POST", "/v1/applications", Some(body(3, "S-0001"))).await;
    assert_eq!(status, 201, "{answer}");
    // Self-service needs no login.
    api.remove().await;
    let (status, _) = api.call("POST", "/v1/applications", Some(json!({"language": "ar", "answers": application_answers(4)}))).await;
    assert_eq!(status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_override_needs_staff_is_audited_without_the_national_id_and_sealed_for_the_node() {
    let fixture = Fixture::provisioned("http://127.0.0.1:9");
    let identity = fixture.identity.clone();
    let api = start(fixture, 90).await;
    let answers = application_answers(21);
    let national_id = answers["national_id"].as_str().unwrap().to_owned();
    let overridden = |assisted_by: Option<&str>| {
        json!({"language": "ar", "answers": answers, "assisted_by": assisted_by, "duplicate_override": {"reason": "moved_from_another_province"}})
    };
    // The applicant submits first, self-service: the warning is about this very application.
    let (status, _) = api.call("POST", "/v1/applications", Some(json!({"language": "ar", "answers": answers}))).await;
    assert_eq!(status, 201);

    // Nobody logged in: an override is a staff action.
    let (status, body) = api.call("POST", "/v1/applications", Some(overridden(None))).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("login_required")), "{body}");
    api.present(STAFF_BADGE).await;
    assert_eq!(api.login("2468").await.0, 201);
    // Logged in, but not signing the application as assisted.
    let (status, body) = api.call("POST", "/v1/applications", Some(overridden(None))).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("validation_failed")), "{body}");
    assert!(body["fields"].as_array().unwrap().iter().any(|f| f["field"] == "duplicate_override"), "{body}");
    // Grievances are not pre-checked, so there is nothing to override.
    let grievance = json!({"language": "ar", "answers": {}, "assisted_by": "S-0001", "duplicate_override": {"reason": "other"}});
    let (status, body) = api.call("POST", "/v1/grievances", Some(grievance)).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"].as_array().unwrap().iter().any(|f| f["field"] == "duplicate_override"), "{body}");
    // Reasons come from the list, never free text.
    let mut free_text = overridden(Some("S-0001"));
    free_text["duplicate_override"]["reason"] = json!("her cousin said so");
    let (status, body) = api.call("POST", "/v1/applications", Some(free_text)).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("invalid_body")), "{body}");
    assert!(!api.audit_actions().await.iter().any(|(a, _)| a == "duplicate_override"), "refused overrides are not recorded");

    let (status, captured) = api.call("POST", "/v1/applications", Some(overridden(Some("S-0001")))).await;
    assert_eq!(status, 201, "{captured}");
    assert_eq!(captured["duplicate_warning"], true, "{captured}");
    let actions = api.audit_actions().await;
    let entries: Vec<&Value> = actions.iter().filter(|(a, _)| a == "duplicate_override").map(|(_, e)| e).collect();
    assert_eq!(entries.len(), 1, "{actions:?}");
    let entry = entries[0];
    assert_eq!(entry["category"], "staff");
    // No node has confirmed this test terminal's clock: the entry says its time is unverified.
    assert_eq!(
        entry["detail"],
        json!({"staff_id": "S-0001", "reason": "moved_from_another_province", "submission_id": captured["id"], "sent_from_this_terminal": true, "clock": "unverified"})
    );
    for (action, entry) in &actions {
        assert!(!entry.to_string().contains(&national_id), "{action} holds the national id: {entry}");
    }

    // The override travels sealed with the application; the first one carries none.
    let envelopes = api.terminal.storage.outbox(|o| o.next_batch(10)).await.unwrap();
    let opened: Vec<node_protocol::SubmissionContent> = envelopes
        .iter()
        .map(|e| {
            let sealed = base64::engine::general_purpose::STANDARD.decode(&e.sealed).unwrap();
            serde_json::from_slice(&age::decrypt(&identity, &sealed).unwrap()).unwrap()
        })
        .collect();
    let overrides: Vec<_> = opened.iter().map(|c| c.duplicate_override.map(|o| o.reason)).collect();
    assert_eq!(overrides, [None, Some(node_protocol::OverrideReason::MovedFromAnotherProvince)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_routes_validate_and_do_not_exist_with_real_devices() {
    let api = start(Fixture::provisioned("http://127.0.0.1:9"), 90).await;
    let (status, body) = api.call("POST", "/v1/simulator/card", Some(json!({"uid": "XYZ"}))).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("invalid_uid")), "{body}");
    let (status, _) = api.call("POST", "/v1/simulator/printer", Some(json!({"paper": "lots"}))).await;
    assert_eq!(status, 422);
    // An unprovisioned terminal can be tested without a login (no roster exists yet).
    drop(api);

    let mut fixture = Fixture::unprovisioned();
    fixture.config.hardware.backend = hardware::Backend::Linux;
    fixture.config.hardware.reader.spi_device = fixture.dir.path().join("no-spidev");
    fixture.config.hardware.printer.device = fixture.dir.path().join("no-lp0");
    let api = start(fixture, 90).await;
    for (method, path, body) in [
        ("POST", "/v1/simulator/card", Some(json!({"uid": STAFF_BADGE}))),
        ("DELETE", "/v1/simulator/card", None),
        ("POST", "/v1/simulator/printer", Some(json!({"paper": "out"}))),
        ("POST", "/v1/simulator/scan", Some(json!({"text": "WFP-79E-7X4-DM0"}))),
    ] {
        let (status, answer) = api.call(method, path, body).await;
        assert_eq!((status, answer["error"].as_str()), (404, Some("not_simulated")), "{method} {path}: {answer}");
    }
    let (_, hw) = api.call("GET", "/v1/hardware", None).await;
    assert_eq!((hw["reader"]["state"].as_str(), hw["printer"]["state"].as_str()), (Some("absent"), Some("absent")), "{hw}");
    let (status, body) = api.call("POST", "/v1/hardware/print-test", None).await;
    assert_eq!((status, body["state"].as_str()), (409, Some("absent")), "unprovisioned: no login needed, printer absent: {body}");
    // The reader's task writes its fault to the audit log through the writer thread: it is
    // there soon, not necessarily before the calls above were answered.
    eventually("the reader fault in the audit log", Duration::from_secs(10), || {
        let api = &api;
        async move { api.audit_actions().await.iter().any(|(a, _)| a == "reader_fault") }
    })
    .await;
}

/// The national ID card of the applicant `present_id_card` carries, with an ICAO 9303 chip:
/// CAN 493817, document number A12345678, valid until 2031-07-01, DG11 name in Arabic.
fn national_card(uid: &str, forged_data_group: Option<u8>) -> Value {
    let mut chip = json!({"can": "493817", "document_number": "A12345678", "date_of_expiry": "2031-07-01", "full_name": "العبيدي<<زينب<كاظم<حسن"});
    if let Some(dg) = forged_data_group {
        chip["forged_data_group"] = json!(dg);
    }
    json!({"uid": uid, "national_id": "199001234567", "date_of_birth": "1985-03-14", "emrtd": chip})
}

async fn start_with_profile(mut fixture: Fixture, profile: hardware::IdCardProfile) -> Running {
    fixture.config.hardware.id_card_profile = profile;
    start(fixture, 300).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_national_card_is_read_by_its_access_number_for_a_status_check_and_a_wrong_one_is_refused() {
    let identity = age::x25519::Identity::generate();
    let stub = StubNode::start(identity.clone()).await;
    let api = start_with_profile(Fixture::provisioned_for(&stub.url, identity), hardware::IdCardProfile::Emrtd).await;
    let (status, settings) = api.call("GET", "/v1/kiosk", None).await;
    assert_eq!((status, settings["id_card_profile"].as_str()), (200, Some("emrtd")), "the kiosk learns to ask for the CAN: {settings}");

    api.present_card(national_card("08C3D2E1", None)).await;
    // Without the key the chip cannot be opened: the kiosk is told to ask for it.
    let (status, body) = api.call("POST", "/v1/status-checks", Some(json!({"query": {"by": "id_card"}}))).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("card_access_required")), "{body}");
    // A key that cannot be one is refused before the card is touched.
    let (status, body) = api.call("POST", "/v1/status-checks", Some(json!({"query": {"by": "id_card", "access": {"can": "4938"}}}))).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("invalid_body")), "{body}");
    // A wrong access number: the chip refuses it, and the message says what to do.
    let (status, body) = api.call("POST", "/v1/status-checks", Some(json!({"query": {"by": "id_card", "access": {"can": "111111"}}}))).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("card_access_refused")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("six digits"), "{body}");
    assert!(stub.status_queries().is_empty(), "nothing reaches the node from an unopened card");

    // The right one, in Arabic-Indic digits as the pad may send them.
    let (status, body) = api.call("POST", "/v1/status-checks", Some(json!({"query": {"by": "id_card", "access": {"can": "٤٩٣٨١٧"}}}))).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.to_string().contains("199001234567"), "the number stays between the card and the node: {body}");
    assert_eq!(stub.status_queries(), vec![node_protocol::StatusQuery::NationalId { national_id: "199001234567".into() }]);

    // A forged card: a data group that does not match the card's signed hashes.
    api.present_card(national_card("08C3D2E2", Some(1))).await;
    let (status, body) = api.call("POST", "/v1/status-checks", Some(json!({"query": {"by": "id_card", "access": {"can": "493817"}}}))).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("card_not_genuine")), "{body}");
    assert_eq!(stub.status_queries().len(), 1, "a forged card's number is not sent");

    // The open profile's card is not a chip.
    api.present_id_card("08AABBCC").await;
    let (status, body) = api.call("POST", "/v1/status-checks", Some(json!({"query": {"by": "id_card", "access": {"can": "493817"}}}))).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("not_an_id_card")), "{body}");

    let actions = api.audit_actions().await;
    assert_no_secret_in_details(&actions, &["493817", "111111", "A12345678", "199001234567"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_read_a_national_card_by_can_or_mrz_with_one_reader_and_the_badge_has_a_grace_to_come_back() {
    let api = start_with_profile(Fixture::provisioned("http://127.0.0.1:9"), hardware::IdCardProfile::Both).await;
    let mut events = api.events().await;
    api.present(STAFF_BADGE).await;
    assert_eq!(api.login("2468").await.0, 201);

    // Staff typed the CAN while the badge was on the reader; now the read waits for the card,
    // the badge comes off, the applicant's card goes on.
    let read = |body: Value| {
        let client = api.client.clone();
        tokio::spawn(async move {
            let resp = client.post("http://localhost/v1/id-card/read").json(&body).send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        })
    };
    let reading = read(json!({"access": {"can": "493817"}}));
    tokio::time::sleep(Duration::from_millis(300)).await;
    api.remove().await;
    api.present_card(national_card("08C3D2E1", None)).await;
    let (status, card) = reading.await.unwrap();
    assert_eq!(status, 200, "{card}");
    assert_eq!((card["national_id"].as_str(), card["date_of_birth"].as_str()), (Some("199001234567"), Some("1985-03-14")));
    assert_eq!(card["name"]["full"], "زينب كاظم حسن العبيدي");
    assert_eq!((card["name"]["first"].as_str(), card["name"]["family"].as_str()), (Some("زينب"), Some("العبيدي")));
    let left = card["badge_return_s"].as_u64().expect("the badge is off: the answer says how long it has");
    assert!((50..=60).contains(&left), "{card}");
    assert_eq!(api.call("GET", "/v1/sessions/current", None).await.0, 200, "the session waits for the badge");

    // A second read while the badge is still off (staff typed the MRZ key instead).
    let mrz = json!({"access": {"mrz": {"document_number": "a1234 5678", "date_of_birth": "1985-03-14", "date_of_expiry": "2031-07-01"}}});
    let (status, body) = api.call("POST", "/v1/id-card/read", Some(mrz)).await;
    assert_eq!((status, body["national_id"].as_str()), (200, Some("199001234567")), "{body}");
    // A wrong MRZ key.
    let wrong = json!({"access": {"mrz": {"document_number": "A12345678", "date_of_birth": "1985-03-15", "date_of_expiry": "2031-07-01"}}});
    let (status, body) = api.call("POST", "/v1/id-card/read", Some(wrong)).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("card_access_refused")), "{body}");
    // Without a key, `both` reads the open profile, which the chip card does not have.
    let (status, body) = api.call("POST", "/v1/id-card/read", None).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("not_an_id_card")), "{body}");

    // The badge back on the reader within the grace: the session goes on, and taking the badge
    // off now ends it at once, as always.
    api.present(STAFF_BADGE).await;
    assert_eq!(api.call("GET", "/v1/sessions/current", None).await.0, 200);
    let (status, body) = api.call("POST", "/v1/hardware/read-card", None).await;
    assert_eq!(status, 403, "{body}");
    api.remove().await;
    events.expect("session", |v| v["state"] == "ended" && v["reason"] == "badge_removed").await;
    assert_eq!(api.call("GET", "/v1/sessions/current", None).await.0, 404);

    let actions = api.audit_actions().await;
    assert_no_secret_in_details(&actions, &["493817", "A12345678", "850314", "310701", "199001234567"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_is_sealed_with_the_application_in_canonical_form_and_audited_by_code_only() {
    use node_protocol::referral::Referral;
    let fixture = Fixture::provisioned("http://127.0.0.1:9");
    let identity = fixture.identity.clone();
    let api = start(fixture, 90).await;
    let today = chrono::Utc::now().date_naive();
    let signed = Referral {
        partner: "WFP".into(),
        serial: 501,
        issued_on: today,
        expires_on: today + chrono::Days::new(10),
        household_size: 4,
        governorate: "BGD".into(),
        partner_case: "WFP-CASE-501".into(),
    }
    .sign(&ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]))
    .unwrap();
    let code = signed.referral.short_code();
    let with = |referral: Value| json!({"language": "ar", "answers": application_answers(31), "referral": referral});

    // A payload of another slip than the code, a mistyped code, and a grievance are refused.
    let other = Referral { serial: 502, ..signed.referral.clone() }.sign(&ed25519_dalek::SigningKey::from_bytes(&[9u8; 32])).unwrap();
    for bad in [json!({"code": code, "payload": other.payload()}), json!({"code": "WFP-000-000-00"})] {
        let (status, body) = api.call("POST", "/v1/applications", Some(with(bad.clone()))).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body["fields"].as_array().unwrap().iter().any(|f| f["field"] == "referral"), "{body}");
    }
    let grievance = json!({"language": "ar", "answers": {}, "referral": {"code": code}});
    assert_eq!(api.call("POST", "/v1/grievances", Some(grievance)).await.0, 422);

    // Typed in lower case: sealed as the node spells it, with the scanned payload.
    let (status, captured) = api.call("POST", "/v1/applications", Some(with(json!({"code": code.to_lowercase(), "payload": signed.payload()})))).await;
    assert_eq!(status, 201, "{captured}");
    let envelopes = api.terminal.storage.outbox(|o| o.next_batch(10)).await.unwrap();
    assert_eq!(envelopes.len(), 1);
    let sealed = base64::engine::general_purpose::STANDARD.decode(&envelopes[0].sealed).unwrap();
    let content: node_protocol::SubmissionContent = serde_json::from_slice(&age::decrypt(&identity, &sealed).unwrap()).unwrap();
    assert_eq!(content.referral, Some(node_protocol::AttachedReferral { code: code.clone(), payload: Some(signed.payload()) }));

    let actions = api.audit_actions().await;
    let used: Vec<&Value> = actions.iter().filter(|(a, _)| a == "referral_used").map(|(_, e)| e).collect();
    assert_eq!(used.len(), 1, "{actions:?}");
    // No node has confirmed this terminal's clock yet, so the entry says its time is unverified.
    assert_eq!(used[0]["detail"], json!({"code": code, "submission_id": captured["id"], "clock": "unverified"}));
    for (action, entry) in &actions {
        assert!(!entry.to_string().contains("WFP-CASE-501"), "{action} holds the partner case number: {entry}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_held_under_the_simulated_scanner_reaches_the_event_stream_and_checks_as_a_referral() {
    use node_protocol::referral::Referral;
    let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let mut fixture = Fixture::provisioned("http://127.0.0.1:9");
    fixture.config.hardware.scanner.kind = hardware::ScannerKind::Simulated;
    let api = start(fixture, 90).await;
    // The partner's key as the node's configuration carries it, for the offline check.
    let mut config = roster_config();
    config.referral_partners = vec![node_protocol::ReferralPartner {
        code: "WFP".into(),
        name: "World Food Programme".into(),
        public_keys: vec![base64::engine::general_purpose::STANDARD.encode(key.verifying_key().as_bytes())],
    }];
    api.terminal.set_node_config(config).unwrap();
    let (_, settings) = api.call("GET", "/v1/kiosk", None).await;
    assert_eq!(settings["scanner"], true, "the kiosk offers the scanner: {settings}");

    let today = chrono::Utc::now().date_naive();
    let signed = Referral {
        partner: "WFP".into(),
        serial: 777,
        issued_on: today,
        expires_on: today + chrono::Days::new(30),
        household_size: 5,
        governorate: "BGD".into(),
        partner_case: "WFP-CASE-777".into(),
    }
    .sign(&key)
    .unwrap();
    let mut events = api.events().await;
    // Typed by the simulator as USB HID key events (Shift for capitals), decoded by the real
    // decoder, published by the scanner loop.
    let (status, body) = api.call("POST", "/v1/simulator/scan", Some(json!({"text": signed.payload()}))).await;
    assert_eq!(status, 204, "{body}");
    let scanned = events.expect("scan", |_| true).await;
    assert_eq!(scanned, json!({"payload": signed.payload()}));
    let (status, check) = api.call("POST", "/v1/referrals/check", Some(json!({"payload": scanned["payload"]}))).await;
    assert_eq!(status, 200, "{check}");
    assert_eq!((check["status"].as_str(), check["code"].as_str()), (Some("valid"), Some(signed.referral.short_code().as_str())), "{check}");
    assert_eq!((check["prefill"]["household_size"].as_u64(), check["prefill"]["partner_case_number"].as_str()), (Some(5), Some("WFP-CASE-777")));

    // A code with a character no US keyboard types is refused whole, and the next one reads.
    assert_eq!(api.call("POST", "/v1/simulator/scan", Some(json!({"text": "WFP-É"}))).await.0, 204);
    assert_eq!(events.expect("scan", |_| true).await, json!({"problem": "garbled"}));
    assert_eq!(api.call("POST", "/v1/simulator/scan", Some(json!({"text": "wfp-79e-7x4-dm0"}))).await.0, 204);
    assert_eq!(events.expect("scan", |_| true).await, json!({"payload": "wfp-79e-7x4-dm0"}));
    // One line is one code.
    let (status, body) = api.call("POST", "/v1/simulator/scan", Some(json!({"text": "A\nB"}))).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("invalid_body")), "{body}");
    for (action, entry) in api.audit_actions().await {
        assert!(!entry.to_string().contains("WFP-CASE-777") && !entry.to_string().contains(&signed.payload()), "{action} holds the scan: {entry}");
    }
}
