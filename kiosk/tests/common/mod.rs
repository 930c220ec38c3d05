//! What the UI tests share: a fake terminal-service (an axum server on a Unix socket in a temp
//! dir, answering the local API routes the kiosk calls), the Slint testing backend with the
//! software renderer, and helpers to touch the screen by accessible label.
#![allow(dead_code)]

pub mod shots;

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, Sse};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use i_slint_backend_testing::ElementHandle;
use kiosk::api::LocalApi;
use kiosk::flow::{Kiosk, KioskOptions};
use kiosk::panel::Panel;
pub use kiosk::ui::{AppWindow, PrinterState, Screen};
use serde_json::{json, Value};
use slint::ComponentHandle;

/// What the fake service does and what it was asked.
#[derive(Debug, Default)]
pub struct Fake {
    /// Whether status checks reach the node.
    pub node_online: bool,
    /// National ID on the card reader, if a card is there.
    pub card: Option<String>,
    /// Wrong PINs left before lockout.
    pub attempts_left: u32,
    /// Every request: (method and path, JSON body).
    pub requests: Vec<(String, Value)>,
    /// Whether the next application is refused with a field error.
    pub refuse_next: Option<(String, String)>,
    /// Whether the terminal is enrolled with a node (health says so, forms are served);
    /// provisioning through the local API sets it.
    pub provisioned: bool,
    /// The node's digits per language, as `GET /v1/kiosk` passes them on (absent: Western).
    pub digits: Option<Value>,
    /// The answer to `POST /v1/applications/precheck` (null: the service fails it with 500).
    pub precheck: Value,
    /// `delivery_overdue_days` of the queue details (absent when `None`).
    pub delivery_overdue_days: Option<u32>,
    /// `[hardware] id_card_profile` as `GET /v1/kiosk` passes it on (absent: `open`).
    pub id_card_profile: Option<String>,
    /// The card on the reader is a national card whose chip opens with this CAN (or the MRZ
    /// key with document number A12345678); a read with another key is refused, one without
    /// a key too.
    pub chip_can: Option<String>,
    /// The chip's data fails its integrity check.
    pub chip_forged: bool,
    /// The targeting questionnaire served after the application and grievance forms, as the
    /// node's configuration carries it (absent: none served).
    pub questionnaire: Option<node_protocol::FormDefinition>,
    /// A barcode scanner is configured (`GET /v1/kiosk`'s `scanner`).
    pub scanner: bool,
    /// `referral_refusals` of the queue details (absent when `Null`).
    pub referral_refusals: Value,
    /// The terminal has no service directory yet: `GET /v1/services` and slips answer 503.
    pub no_service_directory: bool,
    /// The services of the directory the fake serves beyond the reference node's sample (a long list).
    pub extra_services: Vec<node_protocol::service_directory::Service>,
    /// The error code the next referral slip is refused with (its HTTP status from the contract).
    pub refuse_next_slip: Option<String>,
    /// `GET /v1/services` fails with 500.
    pub services_fail: bool,
}

/// The short code of the referral the fake service finds valid, and its QR payload (the fake
/// checks no signature).
pub const VALID_REFERRAL: (&str, &str) = ("WFP-79E-7X4-DM0", "R1.WFP.79E7X4DM.20261201.20270228.6.BGD.IRQ-BGD-2026-004217.NVS49KYKF81XVE84VW7W569N31PNFTE97GKKGJVPCXD9F0XCJR4MV4Z2RGQ3Q83FEN7XFM83PWP8P6HYEXX5HH3MKJP7WQRMPV6S418");
/// A short code the fake service finds expired.
pub const EXPIRED_REFERRAL: &str = "WFP-000-000-001";

/// `POST /v1/referrals/check` as the service answers it: the valid referral by code or payload,
/// an expired one, any other payload forged; a typed code `unchecked` with the node offline.
async fn referral_check(State(fake): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
    record(&fake, "POST /v1/referrals/check", &body);
    let valid = json!({"status": "valid", "code": VALID_REFERRAL.0, "payload": VALID_REFERRAL.1,
        "prefill": {"household_size": 6, "governorate": "BGD", "partner": "WFP", "partner_case_number": "IRQ-BGD-2026-004217"}});
    let online = fake.lock().expect("fake state").node_online;
    Json(match (body["code"].as_str(), body["payload"].as_str()) {
        (Some(code), _) if !online => json!({"status": "unchecked", "code": code, "reason_code": "needs_node", "reason": "the node is not reachable"}),
        (Some(code), _) if code == VALID_REFERRAL.0 => valid,
        (Some(code), _) if code == EXPIRED_REFERRAL => json!({"status": "invalid", "code": code, "reason_code": "expired", "reason": "expired on 2026-11-30"}),
        (Some(code), _) => json!({"status": "invalid", "code": code, "reason_code": "not_found", "reason": "the node does not know it"}),
        (None, Some(payload)) if payload == VALID_REFERRAL.1 => valid,
        _ => json!({"status": "invalid", "reason_code": "signature_invalid", "reason": "forged"}),
    })
}

/// `GET /v1/services` as the service answers it, from the reference node's sample directory
/// (plus `extra_services`): the governorate asked for (default the terminal's, BGD), then the
/// district's and the whole governorate's services.
async fn services(State(fake): State<Shared>, axum::extract::RawQuery(query): axum::extract::RawQuery) -> (StatusCode, Json<Value>) {
    record(&fake, "GET /v1/services", &json!(query.clone().unwrap_or_default()));
    let f = fake.lock().expect("fake state");
    if f.no_service_directory {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": "service_directory_unavailable", "message": "no service directory yet"})));
    }
    if f.services_fail {
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": "internal", "message": "the directory file cannot be read"})));
    }
    let mut directory = node_protocol::service_directory::ServiceDirectory::parse(provincial_node::services::SAMPLE.as_bytes(), None).expect("the sample directory");
    directory.services.extend(f.extra_services.iter().cloned());
    let (mut governorate, mut district) = ("BGD".to_owned(), None);
    for pair in query.as_deref().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("governorate", v)) => governorate = v.to_owned(),
            Some(("district", v)) => district = Some(v.to_owned()),
            _ => return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_query", "message": pair}))),
        }
    }
    let services: Vec<_> = directory.serving(&governorate, district.as_deref()).into_iter().cloned().collect();
    let categories: Vec<_> = directory.categories.iter().filter(|c| services.iter().any(|s| s.category == c.id)).cloned().collect();
    let list = local_api::ServiceList { version: directory.version.clone(), governorate, district, categories, services };
    (StatusCode::OK, Json(serde_json::to_value(list).expect("a service list is JSON")))
}

/// `POST /v1/referral-slips`: printed, unless `refuse_next_slip` (or no directory) says otherwise.
async fn referral_slip(State(fake): State<Shared>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    record(&fake, "POST /v1/referral-slips", &body);
    let mut f = fake.lock().expect("fake state");
    let refusal = f.refuse_next_slip.take().or_else(|| f.no_service_directory.then(|| "service_directory_unavailable".to_owned()));
    match refusal {
        None => (StatusCode::CREATED, Json(json!({"printed": true, "pages": 1}))),
        Some(code) => {
            let status = match code.as_str() {
                "unknown_service" | "unknown_submission" => StatusCode::NOT_FOUND,
                "service_directory_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::CONFLICT,
            };
            (status, Json(json!({"error": code, "message": "refused by the test"})))
        }
    }
}

pub type Shared = Arc<Mutex<Fake>>;

fn record(fake: &Shared, what: &str, body: &Value) {
    fake.lock().expect("fake state").requests.push((what.to_owned(), body.clone()));
}

async fn health(State(fake): State<Shared>) -> Json<Value> {
    if !fake.lock().expect("fake state").provisioned {
        // As the real service answers before enrollment: no terminal id, no province.
        return Json(json!({
            "version": "0.1.0", "provisioned": false, "terminal_id": null, "province": null,
            "connectivity": {"state": "offline", "since": "2026-11-24T08:00:00Z"},
            "queue": {"depth": 0, "oldest_created_at": null, "dead_letters": 0, "delivered": 0}
        }));
    }
    Json(json!({
        "version": "0.1.0", "provisioned": true, "terminal_id": "T-0007", "province": "BGD",
        "connectivity": {"state": "online", "since": "2026-11-24T08:00:00Z"},
        "queue": {"depth": 2, "oldest_created_at": "2026-11-24T09:12:00Z", "dead_letters": 1, "delivered": 41}
    }))
}

async fn forms(State(fake): State<Shared>) -> (StatusCode, Json<Value>) {
    if !fake.lock().expect("fake state").provisioned {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": "not_provisioned", "message": "this terminal is not provisioned"})));
    }
    let mut forms = provincial_node::forms::all();
    forms.extend(fake.lock().expect("fake state").questionnaire.clone());
    (
        StatusCode::OK,
        Json(json!({
            "version": "test", "province": "BGD",
            "forms": forms,
            "master_data": provincial_node::geography::master_data(),
        })),
    )
}

async fn capture(State(fake): State<Shared>, path: &str, body: Value) -> (StatusCode, Json<Value>) {
    record(&fake, path, &body);
    if let Some((field, message)) = fake.lock().expect("fake state").refuse_next.take() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "validation_failed", "message": "some answers are not valid", "fields": [{"field": field, "message": message}]})),
        );
    }
    (
        StatusCode::CREATED,
        Json(json!({"id": "0193a0c4-7b1e-7000-8000-000000000001", "reference": "7K2QX-M4B9R",
                    "created_at": "2026-11-24T10:30:00Z", "duplicate_warning": false})),
    )
}

/// What the service answers a card read with `access` (the body's `access`, or the status
/// query's): `None` when the card can be read.
fn chip_refusal(fake: &Shared, access: &Value) -> Option<(StatusCode, Json<Value>)> {
    let f = fake.lock().expect("fake state");
    let can = f.chip_can.clone()?;
    let opened = access["can"].as_str() == Some(can.as_str()) || access["mrz"]["document_number"] == "A12345678";
    if access.is_null() {
        return Some((StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"error": "card_access_required", "message": "type the card access number"}))));
    }
    if !opened {
        return Some((StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"error": "card_access_refused", "message": "the card refused the access number: check the six digits"}))));
    }
    f.chip_forged.then(|| (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"error": "card_not_genuine", "message": "DG1 failed its integrity check: see staff"}))))
}

async fn status_check(State(fake): State<Shared>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    record(&fake, "POST /v1/status-checks", &body);
    let by_card = body["query"]["by"] == "id_card";
    if by_card {
        // The service reads the card itself; `card` is what lies on the reader.
        match fake.lock().expect("fake state").card.as_deref() {
            None => return (StatusCode::REQUEST_TIMEOUT, Json(json!({"error": "no_card", "message": "no card on the reader"}))),
            Some("badge") => return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"error": "not_an_id_card", "message": "not an ID card"}))),
            Some(_) => {}
        }
        if let Some(refusal) = chip_refusal(&fake, &body["query"]["access"]) {
            return refusal;
        }
    }
    if !fake.lock().expect("fake state").node_online {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": "node_unreachable", "message": "the node does not answer"})));
    }
    (
        StatusCode::OK,
        Json(json!({
            "state": if by_card { "active" } else { "under_review" },
            "case_number": "BGD-2026-000123",
            "updated_on": "2026-11-02",
            "next_payment_on": if by_card { json!("2026-12-01") } else { Value::Null },
            "message": if by_card {
                json!({"ar": "طلبك مقبول والدفعة القادمة في موعدها.", "ckb": "داواکارییەکەت پەسەندکراوە و پارەی داهاتوو لە کاتی خۆیدایە.", "en": "Your benefit is active and the next payment is on time."})
            } else {
                json!({"ar": "طلبك قيد التدقيق. سنتصل بك إذا احتجنا إلى وثائق.", "ckb": "داواکارییەکەت لە پشکنیندایە. ئەگەر بەڵگەنامەمان پێویست بوو پەیوەندیت پێوە دەکەین.", "en": "Your application is being checked. We will call you if we need documents."})
            },
        })),
    )
}

async fn login(State(fake): State<Shared>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    record(&fake, "POST /v1/sessions", &body);
    let mut f = fake.lock().expect("fake state");
    if f.attempts_left == 0 {
        return (StatusCode::LOCKED, Json(json!({"error": "locked_out", "message": "badge locked"})));
    }
    match body["pin"].as_str() {
        Some("2468") => {
            f.attempts_left = 3;
            (StatusCode::CREATED, Json(json!({"staff_id": "S-17", "display_name": "Layla Hassan", "role": "technician", "started_at": "2026-11-24T10:30:00Z", "expires_at": "2026-11-24T18:00:00Z"})))
        }
        _ => {
            f.attempts_left -= 1;
            (StatusCode::UNAUTHORIZED, Json(json!({"error": "wrong_pin", "message": "wrong PIN", "attempts_left": f.attempts_left})))
        }
    }
}

async fn read_id_card(State(fake): State<Shared>, body: axum::body::Bytes) -> (StatusCode, Json<Value>) {
    // The body is optional: without it the card is read as the open profile.
    let body: Value = if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap_or(Value::Null) };
    record(&fake, "POST /v1/id-card/read", &body);
    let card = fake.lock().expect("fake state").card.clone();
    match card {
        Some(badge) if badge == "badge" => (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"error": "not_an_id_card", "message": "not an ID card"}))),
        Some(id) => {
            if let Some(refusal) = chip_refusal(&fake, &body["access"]) {
                return refusal;
            }
            if fake.lock().expect("fake state").chip_can.is_some() {
                // A chip gives the name too; the badge came off for the card.
                let name = json!({"full": "زينب كاظم حسن العبيدي", "first": "زينب", "father": "كاظم", "grandfather": "حسن", "family": "العبيدي"});
                return (StatusCode::OK, Json(json!({"uid": "08C3D2E1", "national_id": id, "date_of_birth": "1985-03-14", "name": name, "badge_return_s": 60})));
            }
            (StatusCode::OK, Json(json!({"uid": "08A1B2C3", "national_id": id, "date_of_birth": "1985-03-14"})))
        }
        None => (StatusCode::REQUEST_TIMEOUT, Json(json!({"error": "no_card", "message": "no card on the reader"}))),
    }
}

/// Starts the fake service on a socket in `dir`; returns its state.
async fn kiosk_settings(State(fake): State<Shared>) -> Json<Value> {
    let mut settings = json!({"idle_timeout_s": 90, "languages": ["ar", "ckb", "en"]});
    let f = fake.lock().expect("fake state");
    if let Some(digits) = f.digits.clone() {
        settings["digits"] = digits;
    }
    if let Some(profile) = f.id_card_profile.clone() {
        settings["id_card_profile"] = profile.into();
    }
    settings["scanner"] = f.scanner.into();
    Json(settings)
}

pub fn start_fake_service(runtime: &tokio::runtime::Runtime, dir: &std::path::Path) -> (PathBuf, Shared) {
    let fake: Shared = Arc::new(Mutex::new(Fake {
        node_online: true,
        card: Some("199012345678".into()),
        attempts_left: 3,
        provisioned: true,
        precheck: json!({"sent_from_this_terminal": false, "node": "not_found"}),
        delivery_overdue_days: None,
        ..Fake::default()
    }));
    let socket = dir.join("api.sock");
    let app = Router::new()
        .route("/v1/health", get(health))
        .route("/v1/kiosk", get(kiosk_settings))
        .route("/v1/forms", get(forms))
        .route("/v1/applications", post(|s: State<Shared>, Json(b): Json<Value>| async move { capture(s, "POST /v1/applications", b).await }))
        .route("/v1/grievances", post(|s: State<Shared>, Json(b): Json<Value>| async move { capture(s, "POST /v1/grievances", b).await }))
        .route("/v1/status-checks", post(status_check))
        .route("/v1/referrals/check", post(referral_check))
        .route("/v1/services", get(services))
        .route("/v1/referral-slips", post(referral_slip))
        .route("/v1/applications/precheck", post(|State(f): State<Shared>, Json(b): Json<Value>| async move {
            record(&f, "POST /v1/applications/precheck", &b);
            match f.lock().expect("fake state").precheck.clone() {
                Value::Null => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": "internal", "message": "disk full"}))),
                answer => (StatusCode::OK, Json(answer)),
            }
        }))
        .route("/v1/queue/details", get(|State(f): State<Shared>| async move {
            let overdue = f.lock().expect("fake state").delivery_overdue_days;
            let refusals = f.lock().expect("fake state").referral_refusals.clone();
            let mut queue = json!({
                "stats": {"depth": 2, "oldest_created_at": "2026-11-24T09:12:00Z", "dead_letters": 1, "delivered": 41},
                "pending": [
                    {"id": "0193a0c4-7b1e-7000-8000-00000000000a", "kind": "application", "created_at": "2026-11-24T09:12:00Z", "attempts": 3, "last_attempt_at": null},
                    {"id": "0193a0c4-7b1e-7000-8000-00000000000b", "kind": "grievance", "created_at": "2026-11-24T10:02:00Z", "attempts": 1, "last_attempt_at": null}],
                "dead_letters": [{"id": "0193a0c4-7b1e-7000-8000-00000000000c", "kind": "application", "created_at": "2026-11-20T11:00:00Z", "reason": "form version retired", "rejected_at": "2026-11-20T11:05:00Z"}]
            });
            if let Some(days) = overdue {
                queue["delivery_overdue_days"] = days.into();
            }
            if !refusals.is_null() {
                queue["referral_refusals"] = refusals;
            }
            Json(queue)
        }))
        .route("/v1/events", get(|| async {
            let first = futures_util::stream::iter(vec![Ok::<_, std::convert::Infallible>(Event::default().event("printer").data(r#"{"state":"ok"}"#))]);
            Sse::new(futures_util::StreamExt::chain(first, futures_util::stream::pending()))
        }))
        .route("/v1/provisioning", post(|State(f): State<Shared>, Json(b): Json<Value>| async move {
            record(&f, "POST /v1/provisioning", &b);
            f.lock().expect("fake state").provisioned = true;
            (StatusCode::CREATED, Json(json!({"terminal_id": "T-0007", "province": "BGD", "node_id": "node-bgd", "node_url": b["node_url"], "config_version": "test", "warning": null})))
        }))
        .route("/v1/diagnostics", get(|| async {
            Json(json!({
                "version": "0.1.0", "connectivity": {"state": "online", "since": "2026-11-24T08:00:00Z"},
                "sync": {"state": "idle", "last_success_at": "2026-11-24T10:29:00Z", "last_error": "node timed out after 10 s", "last_error_at": "2026-11-24T07:58:00Z", "next_attempt_at": null, "consecutive_failures": 0, "delivered": 41, "dead_lettered": 1},
                "audit": [
                    {"seq": 1, "at": "2026-11-24T07:00:00Z", "category": "provisioning", "action": "enrolled", "detail": {}, "prev_hash": "", "hash": ""},
                    {"seq": 2, "at": "2026-11-24T10:29:00Z", "category": "sync", "action": "batch_delivered", "detail": {}, "prev_hash": "", "hash": ""}]
            }))
        }))
        .route("/v1/sessions", post(login))
        .route("/v1/sessions/current", delete(|State(f): State<Shared>| async move { record(&f, "DELETE /v1/sessions/current", &Value::Null); StatusCode::NO_CONTENT }))
        .route("/v1/receipts", post(|State(f): State<Shared>, Json(b): Json<Value>| async move { record(&f, "POST /v1/receipts", &b); (StatusCode::CREATED, Json(json!({"printed": true, "pages": 1}))) }))
        .route("/v1/id-card/read", post(read_id_card))
        .route("/v1/hardware/read-card", post(|| async { Json(json!({"uid": "04A1B2C3D4E5F6"})) }))
        .route("/v1/hardware/print-test", post(|| async { (StatusCode::CREATED, Json(json!({"printed": true, "pages": 1}))) }))
        .route("/v1/hardware/printer-status", get(|| async { Json(json!({"description": "ESC/POS printer, 58 mm paper", "state": "paper_low", "problem": null})) }))
        .with_state(fake.clone());
    let listener = runtime.block_on(async { tokio::net::UnixListener::bind(&socket) }).expect("bind the fake socket");
    runtime.spawn(async move {
        axum::serve(listener, app).await.expect("fake service");
    });
    (socket, fake)
}

/// One UI under test: the window, its controller, the fake service.
pub struct Harness {
    pub ui: AppWindow,
    pub kiosk: Rc<Kiosk>,
    pub fake: Shared,
    pub runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// Installs the testing backend (mock time, an event loop, the software renderer). Once per
/// process, so each test file has one `#[test]`.
pub fn init_backend() {
    assert!(kiosk::fonts::font_dir().is_some(), "the shipped fonts are in kiosk/fonts");
    kiosk::fonts::use_shipped_fallbacks();
    slint::platform::set_platform(Box::new(i_slint_backend_testing::TestingBackend::new(
        i_slint_backend_testing::TestingBackendOptions { mock_time: true, threading: true, renderer_name: Some("software".into()) },
    )))
    .expect("the testing backend is installed once");
}

/// The panel the tests run on unless they say otherwise: the usual 10.1" 1280×800 kiosk panel.
pub fn default_panel() -> Panel {
    Panel::known(1280, 800).expect("the 10.1\" panel is a known panel")
}

/// The options every test runs with: a fixed clock (reproducible screenshots), no state directory.
pub fn test_options() -> KioskOptions {
    KioskOptions { fixed_clock: Some("10:30".into()), idle_timeout_s: 90, ..KioskOptions::default() }
}

impl Harness {
    /// A kiosk on a provisioned terminal, once the service's first answers are on screen.
    pub fn new() -> Harness {
        Harness::launch(test_options(), |_| {}).loaded()
    }

    /// The same on another panel.
    pub fn on_panel(panel: Panel) -> Harness {
        Harness::launch_on(panel, test_options(), |_| {}).loaded()
    }

    /// Starts the fake service as `prepare` leaves it, then a kiosk with `options`. Returns
    /// before any answer of the service is applied (nothing has been pumped), so a test can touch
    /// the screen first.
    pub fn launch(options: KioskOptions, prepare: impl FnOnce(&mut Fake)) -> Harness {
        Harness::launch_on(default_panel(), options, prepare)
    }

    /// [`Harness::launch`] on `panel`: its pixels, at the scale factor that makes `1mm` a real
    /// millimetre on it, as the kiosk sets it on the device.
    pub fn launch_on(panel: Panel, options: KioskOptions, prepare: impl FnOnce(&mut Fake)) -> Harness {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let dir = tempfile::tempdir().expect("temp dir");
        let (socket, fake) = start_fake_service(&runtime, dir.path());
        prepare(&mut fake.lock().expect("fake state"));
        let ui = AppWindow::new().expect("window");
        ui.window().dispatch_event(slint::platform::WindowEvent::ScaleFactorChanged { scale_factor: panel.scale_factor() });
        ui.window().set_size(slint::PhysicalSize::new(panel.width_px, panel.height_px));
        ui.show().expect("show");
        // A first frame: Slint runs the window's `changed width` handlers (which put the window's
        // size into `Theme`) before rendering, and the testing backend renders only when asked.
        ui.window().take_snapshot().expect("the first frame renders");
        let api = LocalApi::new(&socket).expect("client");
        let kiosk = Kiosk::start(&ui, api, runtime.handle().clone(), options);
        Harness { ui, kiosk, fake, runtime, _dir: dir }
    }

    /// A kiosk on the 10.1" panel talking to the terminal-service listening on `socket` (a
    /// real one: `fake` is then an unused stand-in that records nothing).
    pub fn against_service(socket: &std::path::Path) -> Harness {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let dir = tempfile::tempdir().expect("temp dir");
        let panel = default_panel();
        let ui = AppWindow::new().expect("window");
        ui.window().dispatch_event(slint::platform::WindowEvent::ScaleFactorChanged { scale_factor: panel.scale_factor() });
        ui.window().set_size(slint::PhysicalSize::new(panel.width_px, panel.height_px));
        ui.show().expect("show");
        ui.window().take_snapshot().expect("the first frame renders");
        let api = LocalApi::new(socket).expect("client");
        let kiosk = Kiosk::start(&ui, api, runtime.handle().clone(), test_options());
        Harness { ui, kiosk, fake: Shared::default(), runtime, _dir: dir }
    }

    /// Pumps until the terminal's health, forms and printer state are in.
    pub fn loaded(self) -> Harness {
        self.wait_until("the terminal's health and forms arrived", |h| {
            let s = h.kiosk.state.borrow();
            s.forms.is_some() && !s.terminal.is_empty() && s.printer == PrinterState::Ok
        });
        self
    }

    /// Runs what is queued on the event loop (answers of the fake service included).
    pub fn pump(&self) {
        slint::invoke_from_event_loop(|| {
            let _ = slint::quit_event_loop();
        })
        .expect("post to the event loop");
        slint::run_event_loop().expect("event loop");
    }

    /// Pumps until `done` holds, for at most 10 s of real time.
    pub fn wait_until(&self, what: &str, done: impl Fn(&Harness) -> bool) {
        for _ in 0..1000 {
            self.pump();
            if done(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("timed out waiting until {what}");
    }

    /// All elements with this accessible label that can be touched (not plain text).
    pub fn find(&self, label: &str) -> Vec<ElementHandle> {
        ElementHandle::find_by_accessible_label(&self.ui, label)
            .filter(|e| e.accessible_role() != Some(i_slint_backend_testing::AccessibleRole::Text))
            .collect()
    }

    /// Whether `text` is shown anywhere (as text or as a control's label).
    pub fn shows(&self, text: &str) -> bool {
        ElementHandle::find_by_accessible_label(&self.ui, text).next().is_some()
    }

    /// Swipes the page: the mouse wheel over the middle of the window (`dy` < 0 scrolls down).
    pub fn scroll(&self, dy: f32) {
        self.ui.window().dispatch_event(slint::platform::WindowEvent::PointerScrolled {
            position: self.centre(),
            delta_x: 0.0,
            delta_y: dy,
        });
        self.pump();
    }

    /// The middle of the window, in logical pixels.
    pub fn centre(&self) -> slint::LogicalPosition {
        let size = self.ui.window().size().to_logical(self.ui.window().scale_factor());
        slint::LogicalPosition::new(size.width / 2.0, size.height / 2.0 + 20.0)
    }

    /// Finds `label`, scrolling down (then back up) as a person would when it is off screen.
    fn find_scrolling(&self, label: &str) -> Vec<ElementHandle> {
        for dy in std::iter::repeat_n(-150.0, 30).chain(std::iter::repeat_n(150.0, 60)) {
            let found = self.find(label);
            if !found.is_empty() {
                return found;
            }
            self.scroll(dy);
        }
        Vec::new()
    }

    /// Touches the (only, or first) element labelled `label`.
    pub fn tap(&self, label: &str) {
        let found = self.find_scrolling(label);
        let e = found.first().unwrap_or_else(|| {
            let render = self.save_render("failed-tap");
            panic!("nothing labelled {label:?} on screen {:?} (render: {render})", self.ui.get_screen())
        });
        e.invoke_accessible_default_action();
        self.pump();
    }

    /// Writes what the window shows to `target/kiosk-screenshots/<name>.png`, for a failure's
    /// message; returns the path.
    pub fn save_render(&self, name: &str) -> String {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/kiosk-screenshots").join(format!("{name}.png"));
        match self.ui.window().take_snapshot() {
            Ok(b) => shots::write_png(&path, b.width(), b.height(), b.as_bytes()),
            Err(e) => return format!("not rendered: {e}"),
        }
        path.display().to_string()
    }

    /// Touches the `n`-th element labelled `label`.
    pub fn tap_nth(&self, label: &str, n: usize) {
        let found = self.find_scrolling(label);
        let e = found.get(n).unwrap_or_else(|| panic!("no element {n} labelled {label:?} on screen {:?}", self.ui.get_screen()));
        e.invoke_accessible_default_action();
        self.pump();
    }

    /// Types `text` on the on-screen keyboard, key by key.
    pub fn type_keys(&self, text: &str) {
        for c in text.chars() {
            // The space bar is labelled in the session's language.
            let label = if c == ' ' { tr(&self.ui.get_language(), "Space") } else { c.to_string() };
            self.tap(&label);
        }
    }

    pub fn screen(&self) -> Screen {
        self.ui.get_screen()
    }

    /// The accessible value of the text field labelled `label`.
    pub fn field_value(&self, label: &str) -> String {
        self.find_scrolling(label)
            .iter()
            .filter(|e| e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::TextInput))
            .find_map(|e| e.accessible_value())
            .map(|v| v.to_string())
            .unwrap_or_else(|| panic!("no field labelled {label:?}"))
    }

    pub fn requests(&self, what: &str) -> Vec<Value> {
        self.fake.lock().expect("fake state").requests.iter().filter(|(w, _)| w == what).map(|(_, b)| b.clone()).collect()
    }

    /// Advances Slint's clock by `seconds`, one second at a time (the idle timer ticks each second).
    pub fn idle(&self, seconds: u64) {
        for _ in 0..seconds {
            i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
            self.pump();
        }
    }
}

/// The translation of `msgid` in `language`, read from the bundled .po file (the English
/// original when there is none), so tests can touch buttons by what each language shows.
pub fn tr(language: &str, msgid: &str) -> String {
    if language == "en" {
        return msgid.to_owned();
    }
    let path = format!("{}/translations/{language}/LC_MESSAGES/kiosk.po", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.strip_prefix("msgid \"").and_then(|l| l.strip_suffix('"')) == Some(msgid) {
            let translated = lines.next().and_then(|l| l.strip_prefix("msgstr \"")).and_then(|l| l.strip_suffix('"')).unwrap_or("");
            return if translated.is_empty() { msgid.to_owned() } else { translated.to_owned() };
        }
    }
    panic!("{msgid:?} is not in {path}: run translations/extract.py");
}

impl Harness {
    /// Touches the button showing `msgid` in the session's language.
    pub fn tap_tr(&self, msgid: &str) {
        let label = tr(&self.ui.get_language(), msgid);
        self.tap(&label);
    }

    /// Starts a session in `language` from the first screen.
    pub fn choose_language(&self, language: &str) {
        assert_eq!(self.screen(), Screen::Language);
        // The language screen's button comes after the status bar's in the element tree.
        let label = match language {
            "ar" => "العربية",
            "ckb" => "کوردی",
            _ => "English",
        };
        let n = self.find(label).len();
        self.tap_nth(label, n.saturating_sub(1));
        assert_eq!(self.screen(), Screen::Home);
        assert_eq!(self.ui.get_language(), language);
    }
}

/// Fills the application's three steps in the session's language; `name` is typed on the
/// keyboard of that language.
pub fn fill_application(h: &Harness, first_name: &str, relative: &str) {
    fill_application_steps(h, first_name, relative);
    h.tap_tr("Review");
    assert_eq!(h.screen(), Screen::Review);
}

/// [`fill_application`] up to its last step's button, still on that step (which says Next when
/// the node's targeting questionnaire follows).
pub fn fill_application_steps(h: &Harness, first_name: &str, relative: &str) {
    let lang = h.ui.get_language().to_string();
    let form = provincial_node::forms::application();
    let label = |step: usize, id: &str| form.steps[step].fields.iter().find(|f| f.id == id).map(|f| f.label.get(&lang).to_owned()).unwrap_or_default();
    // Step 1: the applicant.
    assert_eq!(h.screen(), Screen::Form);
    // Unless an ID card read for staff filled it in already.
    if h.field_value(&label(0, "national_id")).is_empty() {
        h.tap(&label(0, "national_id"));
        h.type_keys("199012345678");
        h.tap_tr("Done");
    }
    h.tap(&label(0, "first_name"));
    h.type_keys(first_name);
    assert_eq!(h.field_value(&label(0, "first_name")), first_name);
    h.tap_tr("Done");
    for (id, text) in [("father_name", relative), ("grandfather_name", relative), ("mother_name", relative)] {
        h.tap(&label(0, id));
        h.type_keys(text);
        h.tap_tr("Done");
    }
    h.tap(&format!("{} -", tr(&lang, "Year")));
    let gender = &form.steps[0].fields.iter().find(|f| f.id == "gender").expect("gender").options[0].label;
    h.tap(gender.get(&lang));
    h.tap_tr("Next");
    assert_eq!(h.ui.get_form_step(), 1, "step 1 passes: {:?}", h.kiosk.state.borrow().form.as_ref().map(|f| f.field_states("en")));
    // Step 2: the address.
    let master = provincial_node::geography::master_data();
    h.tap(master.governorates[0].name.get(&lang));
    h.tap(master.governorates[0].districts[0].name.get(&lang));
    h.tap(&label(1, "phone"));
    h.type_keys("07701234567");
    h.tap_tr("Done");
    h.tap_tr("Next");
    assert_eq!(h.ui.get_form_step(), 2);
    // Step 3: the household, with one member.
    let category = &form.steps[2].fields.iter().find(|f| f.id == "category").expect("category").options[1].label;
    h.tap(category.get(&lang));
    // Unless a partner's referral filled it in already.
    if h.field_value(&label(2, "household_size")).is_empty() {
        h.tap(&label(2, "household_size"));
        h.type_keys("2");
        h.tap_tr("Done");
    }
    h.tap_tr("Add a household member");
    assert!(h.ui.get_form_editing_member());
    let members = form.steps[2].fields.iter().find(|f| f.id == "members").expect("members");
    h.tap(members.member_fields[0].label.get(&lang));
    h.type_keys(relative);
    h.tap_tr("Done");
    h.tap(&format!("{} +", tr(&lang, "Day")));
    h.tap(members.member_fields[2].options[1].label.get(&lang));
    h.tap_tr("Save member");
    assert!(!h.ui.get_form_editing_member(), "the member is saved");
}

/// Five more services for all of Baghdad, so the list goes on well below the screen on every
/// panel (the reference node's sample has one per category).
pub fn more_services() -> Vec<node_protocol::service_directory::Service> {
    use node_protocol::LocalizedText as T;
    let entries = [
        ("BGD-H-0002", "health", ("مستشفى الأطفال التعليمي، العيادة الخارجية", "نەخۆشخانەی فێرکاریی منداڵان، کلینیکی دەرەکی", "Children's teaching hospital, outpatient clinic"), ("الأطفال دون ١٤ سنة", "منداڵانی خوار ١٤ ساڵ", "Children under 14")),
        ("BGD-H-0003", "health", ("مركز صحة الأم والطفل", "ناوەندی تەندروستیی دایک و منداڵ", "Mother and child health centre"), ("النساء الحوامل والأمهات والرضع", "ئافرەتانی دووگیان و دایکان و ساوایان", "Pregnant women, mothers and infants")),
        ("BGD-E-0002", "education", ("مركز محو الأمية للكبار", "ناوەندی نەهێشتنی نەخوێندەواریی گەورەکان", "Adult literacy centre"), ("البالغون الذين لا يقرؤون ولا يكتبون", "گەورەکان کە ناتوانن بخوێننەوە و بنووسن", "Adults who cannot read or write")),
        ("BGD-J-0002", "employment", ("برنامج المنح الصغيرة للمشاريع المنزلية", "بەرنامەی بەخشینی بچووک بۆ پرۆژەی ماڵەوە", "Small grants for home businesses"), ("الأسر التي ترأسها نساء", "ئەو خێزانانەی ئافرەت سەرپەرشتیان دەکات", "Households headed by women")),
        ("BGD-L-0002", "legal_aid", ("مكتب استخراج الوثائق المدنية", "نووسینگەی دەرهێنانی بەڵگەنامەی شارستانی", "Civil documents office"), ("من فقد بطاقته الوطنية أو شهادة الميلاد", "ئەوانەی کارتی نیشتمانی یان بڕوانامەی لەدایکبوونیان ون کردووە", "Those who lost their ID card or birth certificate")),
    ];
    entries
        .iter()
        .enumerate()
        .map(|(i, (id, category, name, eligibility))| node_protocol::service_directory::Service {
            id: (*id).into(),
            category: (*category).into(),
            governorate: "BGD".into(),
            district: None,
            name: T::new(name.0, name.1, name.2),
            eligibility: T::new(eligibility.0, eligibility.1, eligibility.2),
            address: T::new("شارع السعدون، بغداد", "شەقامی سەعدوون، بەغدا", "Saadoun Street, Baghdad"),
            hours: T::new("السبت إلى الخميس، ٩:٠٠ إلى ١٣:٠٠", "شەممە تا پێنجشەممە، ٩:٠٠ تا ١٣:٠٠", "Saturday to Thursday, 9:00 to 13:00"),
            phone: format!("+964 780 000 01{:02}", 10 + i),
        })
        .collect()
}
