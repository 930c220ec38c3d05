//! `terminal-service/openapi/local-v1.yaml` and this crate checked against each other: every
//! example of the document reads into its type and matches its schema; values of every type
//! serialise to JSON its schema accepts, and back to the same value; every component schema,
//! every documented property and every enum value is produced by some type; the event stream's
//! names and data are the ones the document describes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use local_api::*;
use node_protocol::service_directory::{Service, ServiceCategory};
use node_protocol::{
    BenefitState, ChoiceOption, District, FieldType, FormDefinition, FormField, FormStep, Governorate, LocalizedText, MasterData, Script, StaffRole,
    StatusResponse, SubmissionKind,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

const DOCUMENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/local-v1.yaml");

fn document() -> Value {
    let text = std::fs::read_to_string(DOCUMENT).expect("local-v1.yaml is readable");
    serde_norway::from_str(&text).expect("local-v1.yaml is YAML")
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => doc.pointer(reference.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling {reference}")),
        None => value,
    }
}

/// The errors of `instance` against `schema` (which may `$ref` the document's components).
fn errors(doc: &Value, schema: &Value, instance: &Value) -> Vec<String> {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    let validator = jsonschema::draft202012::options().should_validate_formats(true).build(&root).unwrap_or_else(|e| panic!("schema does not compile: {e}\n{schema:#}"));
    validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

fn validate(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let errors = errors(doc, schema, instance);
    assert!(errors.is_empty(), "{what} does not match local-v1.yaml: {errors:#?}\n{instance:#}");
}

fn component(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// Reads `value` as a `T`; the error names what was read.
fn into<T: DeserializeOwned>(value: &Value, what: &str) -> T {
    serde_json::from_value::<T>(value.clone()).unwrap_or_else(|e| panic!("{what} does not deserialise into {}: {e}\n{value:#}", std::any::type_name::<T>()))
}

/// Reads a value as some type; the error says why it does not fit.
type Check = fn(&Value) -> Result<(), String>;

fn reads<T: DeserializeOwned>(value: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(value.clone()).map(drop).map_err(|e| format!("does not deserialise into {}: {e}", std::any::type_name::<T>()))
}

/// Every operation with a request body, and the type that reads it.
fn request_types() -> BTreeMap<(&'static str, &'static str), Check> {
    BTreeMap::from([
        (("/v1/applications", "post"), reads::<CaptureRequest> as Check),
        (("/v1/grievances", "post"), reads::<CaptureRequest>),
        (("/v1/applications/precheck", "post"), reads::<PrecheckRequest>),
        (("/v1/referrals/check", "post"), reads::<ReferralCheckRequest>),
        (("/v1/status-checks", "post"), reads::<StatusRequest>),
        (("/v1/provisioning", "post"), reads::<ProvisionRequest>),
        (("/v1/sessions", "post"), reads::<Login>),
        (("/v1/receipts", "post"), reads::<PrintReceipt>),
        (("/v1/referral-slips", "post"), reads::<ReferralSlipRequest>),
        (("/v1/simulator/card", "post"), reads::<PresentCard>),
        (("/v1/id-card/read", "post"), reads::<ReadIdCard>),
        (("/v1/simulator/printer", "post"), reads::<PrinterDrill>),
        (("/v1/simulator/scan", "post"), reads::<SimulatedScan>),
    ])
}

/// The type of a component schema an answer refers to.
fn response_type(schema: &str) -> Check {
    match schema {
        "ErrorBody" => reads::<ErrorBody>,
        "Health" => reads::<Health>,
        "KioskSettings" => reads::<KioskSettings>,
        "Forms" => reads::<Forms>,
        "Captured" => reads::<Captured>,
        "Precheck" => reads::<Precheck>,
        "ReferralCheckAnswer" => reads::<ReferralCheckAnswer>,
        "StatusResponse" => reads::<StatusResponse>,
        "QueueCounts" => reads::<QueueCounts>,
        "Queue" => reads::<Queue>,
        "ProvisionOutcome" => reads::<ProvisionOutcome>,
        "Diagnostics" => reads::<Diagnostics>,
        "Session" => reads::<Session>,
        "Printed" => reads::<Printed>,
        "ServiceList" => reads::<ServiceList>,
        "Hardware" => reads::<Hardware>,
        "PrinterReport" => reads::<PrinterReport>,
        "CardRead" => reads::<CardRead>,
        "PrinterEvent" => reads::<PrinterEvent>,
        other => panic!("no type is known for answers of schema {other}: add it here"),
    }
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            all.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    all
}

#[test]
fn request_examples_deserialise_into_their_types_and_match_their_schemas() {
    let doc = document();
    let types = request_types();
    let mut seen = BTreeSet::new();
    for (path, method, operation) in operations(&doc) {
        let Some(media) = operation.pointer("/requestBody/content/application~1json") else { continue };
        let what = format!("request example of {method} {path}");
        let read = types.get(&(path.as_str(), method.as_str())).unwrap_or_else(|| panic!("{method} {path} takes a body: name its type in request_types"));
        // Every body has an example, optional ones too: the end-to-end contract test sends each.
        let example = media.get("example").unwrap_or_else(|| panic!("{what}: missing"));
        validate(&doc, &media["schema"], example, &what);
        read(example).unwrap_or_else(|e| panic!("{what} {e}\n{example:#}"));
        // Where the document refuses unknown members, the type must too (and only there: a
        // lenient document with a strict type would refuse what the document allows).
        let strict = resolve(&doc, &media["schema"]).get("additionalProperties") == Some(&Value::Bool(false));
        let mut extended = example.clone();
        extended["not_in_the_document"] = json!(1);
        let refused = read(&extended).is_err();
        assert_eq!(refused, strict, "{method} {path}: the type and the schema disagree on unknown members");
        seen.insert((path, method));
    }
    let expected: BTreeSet<(String, String)> = types.keys().map(|(p, m)| (p.to_string(), m.to_string())).collect();
    assert_eq!(seen, expected, "every request type has a documented request body");
}

#[test]
fn response_examples_match_their_schemas_and_deserialise() {
    let doc = document();
    let mut seen = 0;
    for (path, method, operation) in operations(&doc) {
        for (status, response) in operation["responses"].as_object().expect("responses") {
            let Some(media) = resolve(&doc, response).pointer("/content/application~1json") else { continue };
            let Some(example) = media.get("example") else { continue };
            let what = format!("example of {method} {path} {status}");
            validate(&doc, &media["schema"], example, &what);
            let schema = media["schema"]["$ref"].as_str().unwrap_or_else(|| panic!("{what}: the schema is a component")).rsplit('/').next().unwrap_or_default();
            response_type(schema)(example).unwrap_or_else(|e| panic!("{what} {e}\n{example:#}"));
            seen += 1;
        }
    }
    // wrong_pin, locked_out, the ID card read, and printer_not_ready (twice: two routes).
    assert!(seen >= 5, "{seen} response examples");
}

#[test]
fn every_answer_names_a_schema_with_a_type() {
    let doc = document();
    for (path, method, operation) in operations(&doc) {
        for (status, response) in operation["responses"].as_object().expect("responses") {
            if let Some(schema) = resolve(&doc, response).pointer("/content/application~1json/schema") {
                let name = schema["$ref"].as_str().unwrap_or_else(|| panic!("{method} {path} {status}: the schema is a component")).rsplit('/').next().unwrap_or_default();
                // Panics for a schema without a type.
                let _ = response_type(name);
            }
        }
    }
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 time")
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

fn id(n: u8) -> Uuid {
    format!("0193a1f2-7c3e-7d4a-9b1e-2f3a4b5c6d{n:02x}").parse().expect("a uuid")
}

fn text(en: &str) -> LocalizedText {
    LocalizedText::new("نص", "دەق", en)
}

/// Values of every type, by the component schema that describes them.
struct Samples {
    values: Vec<(&'static str, Value)>,
}

impl Samples {
    /// Adds `value` as an instance of `schema`, after checking it comes back unchanged from JSON.
    fn add<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(&mut self, schema: &'static str, value: T) {
        let json = serde_json::to_value(&value).expect("serialisable");
        let back: T = into(&json, schema);
        assert_eq!(back, value, "{schema} does not survive a round trip through JSON");
        self.values.push((schema, json));
    }
}

fn status_response() -> StatusResponse {
    StatusResponse {
        state: BenefitState::Active,
        case_number: Some("BGD-2026-000123".into()),
        updated_on: Some(day("2026-11-02")),
        next_payment_on: Some(day("2026-12-01")),
        message: text("Your benefit is active."),
    }
}

fn form_field() -> FormField {
    FormField {
        id: "members".into(),
        label: text("Household members"),
        field_type: FieldType::HouseholdMembers,
        required: true,
        script: Some(Script::Arabic),
        min_length: Some(2),
        max_length: Some(80),
        pattern: Some("^.+$".into()),
        min: Some(1),
        max: Some(30),
        options: vec![ChoiceOption { value: "spouse".into(), label: text("Spouse") }],
        member_fields: vec![FormField {
            id: "name".into(),
            label: text("Name"),
            field_type: FieldType::Text,
            required: false,
            script: None,
            min_length: None,
            max_length: None,
            pattern: None,
            min: None,
            max: None,
            options: vec![],
            member_fields: vec![],
            hint: None,
            show_when: None,
        }],
        hint: Some(text("Everyone who lives with you")),
        show_when: Some(node_protocol::ShowWhen { field: "household_size".into(), equals: None, one_of: vec![], at_least: Some(2) }),
    }
}

fn form() -> FormDefinition {
    FormDefinition {
        id: "application".into(),
        kind: SubmissionKind::Application,
        version: "2026-11".into(),
        title: text("Application"),
        steps: vec![FormStep { id: "household".into(), title: text("Household"), fields: vec![form_field()], show_when: None }],
    }
}

fn master_data() -> MasterData {
    MasterData {
        governorates: vec![Governorate {
            code: "BGD".into(),
            name: text("Baghdad"),
            districts: vec![District { code: "BGD-01".into(), name: text("Karkh") }],
        }],
    }
}

fn session() -> Session {
    Session {
        staff_id: "S-0001".into(),
        display_name: "Layla Hassan".into(),
        role: StaffRole::Technician,
        started_at: at("2026-11-24T09:00:00Z"),
        expires_at: at("2026-11-24T09:15:00Z"),
    }
}

fn queue_stats() -> QueueStats {
    QueueStats { depth: 2, oldest_created_at: Some(at("2026-11-24T09:12:00Z")), dead_letters: 1, delivered: 41 }
}

fn connectivity() -> Connectivity {
    Connectivity { state: ConnectivityState::Online, since: at("2026-11-24T08:00:00Z") }
}

const LANGUAGES: [&str; 3] = ["ar", "ckb", "en"];
const PRINTER_STATES: [PrinterState; 6] =
    [PrinterState::Ok, PrinterState::PaperLow, PrinterState::PaperOut, PrinterState::CoverOpen, PrinterState::Offline, PrinterState::Absent];

/// One event of every kind and every state.
fn events() -> Vec<Event> {
    let mut events = vec![
        Event::queue(&queue_stats()),
        Event::queue(&QueueStats::default()),
        Event::Connectivity(connectivity()),
        Event::Connectivity(Connectivity { state: ConnectivityState::Offline, since: at("2026-11-24T08:05:00Z") }),
        Event::Card(CardEvent { state: CardState::Present, uid_hash: "9f2c41d07be35a18".into() }),
        Event::Card(CardEvent { state: CardState::Removed, uid_hash: "9f2c41d07be35a18".into() }),
        Event::Session(SessionEvent::started(session())),
    ];
    for state in [SubmissionState::Queued, SubmissionState::Delivered, SubmissionState::Rejected] {
        events.push(Event::submission(id(1), state));
    }
    events.extend(PRINTER_STATES.map(|state| Event::Printer(PrinterEvent { state })));
    for reason in [EndReason::BadgeRemoved, EndReason::Logout, EndReason::IdleTimeout, EndReason::Replaced] {
        events.push(Event::Session(SessionEvent::ended(reason)));
    }
    events.push(Event::Scan(ScanEvent::read("WFP-79E-7X4-DM0".into())));
    for problem in [ScanProblem::Garbled, ScanProblem::TooLong] {
        events.push(Event::Scan(ScanEvent::unreadable(problem)));
    }
    events
}

fn samples() -> Samples {
    let mut s = Samples { values: Vec::new() };

    let field_error = FieldError { field: "members[2].name".into(), message: "type the name in Arabic letters".into() };
    s.add("FieldError", field_error.clone());
    s.add("ErrorBody", ErrorBody::new("not_provisioned", "this terminal is not provisioned"));
    s.add("ErrorBody", ErrorBody { fields: Some(vec![field_error]), ..ErrorBody::new("validation_failed", "1 answer(s) need attention") });
    s.add("ErrorBody", ErrorBody { attempts_left: Some(3), ..ErrorBody::new("wrong_pin", "wrong PIN") });
    s.add("ErrorBody", ErrorBody { retry_after_s: Some(300), ..ErrorBody::new("locked_out", "locked") });
    for state in PRINTER_STATES {
        s.add("ErrorBody", ErrorBody { state: Some(state), ..ErrorBody::new("printer_not_ready", "fix it") });
        s.add("PrinterState", state);
    }

    s.add("Connectivity", connectivity());
    s.add("Connectivity", Connectivity { state: ConnectivityState::Offline, since: at("2026-11-24T08:05:00Z") });
    s.add("QueueStats", queue_stats());
    s.add("QueueStats", QueueStats::default());
    let health = Health {
        version: "0.1.0".into(),
        provisioned: true,
        terminal_id: Some("T-0007".into()),
        province: Some("BGD".into()),
        connectivity: connectivity(),
        queue: queue_stats(),
    };
    s.add("Health", health.clone());
    s.add("Health", Health { provisioned: false, terminal_id: None, province: None, ..health });
    s.add(
        "KioskSettings",
        KioskSettings {
            idle_timeout_s: 90,
            languages: LANGUAGES.map(String::from).to_vec(),
            digits: node_protocol::DigitsByLanguage { ar: node_protocol::Digits::Eastern, ..Default::default() },
            id_card_profile: IdCardProfile::Emrtd,
            scanner: true,
        },
    );
    for profile in [IdCardProfile::Open, IdCardProfile::Emrtd, IdCardProfile::Both] {
        s.add("IdCardProfile", profile);
    }
    for digits in [node_protocol::Digits::Western, node_protocol::Digits::Eastern] {
        s.add("Digits", digits);
    }
    s.add("DigitsByLanguage", node_protocol::DigitsByLanguage { ar: node_protocol::Digits::Eastern, ckb: node_protocol::Digits::Eastern, en: node_protocol::Digits::Western });
    s.add("Forms", Forms { version: "2026-11".into(), province: "BGD".into(), forms: vec![form()], master_data: master_data() });

    let mut answers = serde_json::Map::new();
    answers.insert("national_id".into(), json!("199012345678"));
    answers.insert("members".into(), json!([{ "name": "زينب" }]));
    s.add("CaptureRequest", CaptureRequest { language: "ar".into(), answers: answers.clone(), assisted_by: None, duplicate_override: None, referral: None, targeting: None });
    s.add("CaptureRequest", CaptureRequest { language: "ckb".into(), answers: answers.clone(), assisted_by: Some("S-0001".into()), duplicate_override: None, referral: None, targeting: None });
    let attached = node_protocol::AttachedReferral { code: "WFP-79E-7X4-DM0".into(), payload: Some("R1.WFP.79E7X4DM.20261201.20270228.6.NIN.IRQ-NIN-2026-004217.NVS49KYKF81XVE84VW7W569N31PNFTE97GKKGJVPCXD9F0XCJR4MV4Z2RGQ3Q83FEN7XFM83PWP8P6HYEXX5HH3MKJP7WQRMPV6S418".into()) };
    s.add("AttachedReferral", attached.clone());
    s.add("AttachedReferral", node_protocol::AttachedReferral { code: "WFP-79E-7X4-DM0".into(), payload: None });
    s.add("CaptureRequest", CaptureRequest { language: "ar".into(), answers: answers.clone(), assisted_by: None, duplicate_override: None, referral: Some(attached), targeting: None });
    let targeting: serde_json::Map<String, Value> = [("dwelling".to_string(), json!("rented")), ("rooms".to_string(), json!(2))].into_iter().collect();
    s.add("CaptureRequest", CaptureRequest { language: "ckb".into(), answers: answers.clone(), assisted_by: None, duplicate_override: None, referral: None, targeting: Some(targeting) });
    for show_when in [
        node_protocol::ShowWhen { field: "displacement".into(), equals: Some("idp".into()), one_of: vec![], at_least: None },
        node_protocol::ShowWhen { field: "displacement".into(), equals: None, one_of: vec!["idp".into(), "refugee".into()], at_least: None },
        node_protocol::ShowWhen { field: "household_size".into(), equals: None, one_of: vec![], at_least: Some(2) },
    ] {
        s.add("ShowWhen", show_when);
    }
    for reason in OverrideReason::ALL {
        s.add("OverrideReason", reason);
        let duplicate_override = DuplicateOverride { reason };
        s.add("DuplicateOverride", duplicate_override);
        s.add("CaptureRequest", CaptureRequest { language: "en".into(), answers: answers.clone(), assisted_by: Some("S-0001".into()), duplicate_override: Some(duplicate_override), referral: None, targeting: None });
    }
    let payload = "R1.WFP.79E7X4DM.20261201.20270228.6.NIN.IRQ-NIN-2026-004217.NVS49KYKF81XVE84VW7W569N31PNFTE97GKKGJVPCXD9F0XCJR4MV4Z2RGQ3Q83FEN7XFM83PWP8P6HYEXX5HH3MKJP7WQRMPV6S418";
    s.add("ReferralCheckRequest", ReferralCheckRequest { code: Some("WFP-79E-7X4-DM0".into()), payload: None });
    s.add("ReferralCheckRequest", ReferralCheckRequest { code: None, payload: Some(payload.into()) });
    let prefill = ReferralPrefill { household_size: 6, governorate: "NIN".into(), partner: "WFP".into(), partner_case_number: "IRQ-NIN-2026-004217".into() };
    s.add("ReferralPrefill", prefill.clone());
    for status in [ReferralCheckStatus::Valid, ReferralCheckStatus::Invalid, ReferralCheckStatus::Unchecked] {
        s.add("ReferralCheckStatus", status);
    }
    s.add("ReferralCheckAnswer", ReferralCheckAnswer { status: ReferralCheckStatus::Valid, code: Some("WFP-79E-7X4-DM0".into()), reason_code: None, reason: None, prefill: Some(prefill), payload: Some(payload.into()) });
    s.add("ReferralCheckAnswer", ReferralCheckAnswer { status: ReferralCheckStatus::Invalid, code: Some("WFP-79E-7X4-DM0".into()), reason_code: Some("signature_invalid".into()), reason: Some("referral signature is not partner WFP's".into()), prefill: None, payload: None });
    s.add("PrecheckRequest", PrecheckRequest { national_id: "199012345678".into() });
    s.add("PrecheckRequest", PrecheckRequest { national_id: "١٩٩٠١٢٣٤٥٦٧٨".into() });
    for node in [NodeFinding::Registered, NodeFinding::NotFound, NodeFinding::CouldNotCheck] {
        s.add("NodeFinding", node);
        for sent_from_this_terminal in [false, true] {
            s.add("Precheck", Precheck { sent_from_this_terminal, node });
        }
    }
    s.add("Captured", Captured { id: id(1), reference: "7K2QX-M4B9R".into(), created_at: at("2026-11-24T10:30:00Z"), duplicate_warning: false });

    let pending = PendingSubmission { id: id(2), kind: SubmissionKind::Application, created_at: at("2026-11-24T09:12:00Z"), attempts: 0, last_attempt_at: None };
    let retried = PendingSubmission { id: id(3), kind: SubmissionKind::Grievance, attempts: 3, last_attempt_at: Some(at("2026-11-24T10:00:00Z")), ..pending.clone() };
    let dead = DeadLetter {
        id: id(4),
        kind: SubmissionKind::Application,
        created_at: at("2026-11-20T11:00:00Z"),
        reason: "form version retired".into(),
        rejected_at: at("2026-11-20T11:05:00Z"),
    };
    s.add("PendingSubmission", pending.clone());
    s.add("PendingSubmission", retried.clone());
    s.add("DeadLetter", dead.clone());
    let refused = RefusedReferral {
        id: id(5),
        reference: "7K2QX-M4B9R".into(),
        case_number: "BGD-2026-000124".into(),
        code: "WFP-79E-7X4-DM0".into(),
        reason: node_protocol::ReferralRefusal::AlreadyUsed,
        refused_at: at("2026-11-24T10:40:00Z"),
    };
    for reason in node_protocol::ReferralRefusal::ALL {
        s.add("RefusedReferral", RefusedReferral { reason, ..refused.clone() });
        s.add("ReferralRefusal", reason);
    }
    s.add(
        "Queue",
        Queue { stats: queue_stats(), pending: vec![pending, retried], dead_letters: vec![dead], referral_refusals: vec![refused], delivery_overdue_days: Some(7) },
    );
    s.add("QueueCounts", QueueCounts { stats: queue_stats() });

    s.add("Login", Login { pin: "٢٤٦٨".into() });
    s.add("StaffRole", StaffRole::Staff);
    s.add("StaffRole", StaffRole::Technician);
    s.add("Session", session());

    let slip = StatusSlip { language: "ar".into(), status: Some(status_response()), reference: Some("7K2QX-M4B9R".into()), come_back_at: None };
    let offline = StatusSlip { language: "ckb".into(), status: None, reference: None, come_back_at: Some(at("2026-11-25T10:30:00Z")) };
    s.add("StatusSlip", slip.clone());
    s.add("StatusSlip", offline.clone());
    s.add("StatusSlip", StatusSlip { language: "en".into(), ..offline });
    for language in LANGUAGES {
        s.add("PrintReceipt", PrintReceipt::submission(id(1), language));
    }
    s.add("PrintReceipt", PrintReceipt::slip(slip));
    s.add("Printed", Printed { printed: true, pages: 1, png: None });
    s.add("Printed", Printed { printed: true, pages: 1, png: Some("/var/lib/terminal-service/printer/page-0001.png".into()) });

    for state in [ReaderState::Ok, ReaderState::Fault, ReaderState::Absent] {
        s.add("ReaderState", state);
    }
    let reader = ReaderReport { description: Some("MFRC522 v2.0".into()), state: ReaderState::Ok, problem: None };
    let printer = PrinterReport { description: Some("ESC/POS printer, 58 mm paper".into()), state: PrinterState::PaperLow, problem: None };
    s.add("ReaderReport", reader.clone());
    s.add("ReaderReport", ReaderReport { description: None, state: ReaderState::Absent, problem: Some("no /dev/spidev0.0".into()) });
    s.add("PrinterReport", printer.clone());
    s.add("PrinterReport", PrinterReport { description: None, state: PrinterState::Absent, problem: Some("no /dev/usb/lp0".into()) });
    for backend in [HardwareBackend::Simulated, HardwareBackend::Rppal, HardwareBackend::Linux] {
        s.add("Hardware", Hardware { backend, reader: reader.clone(), card_present: backend == HardwareBackend::Simulated, printer: printer.clone() });
    }
    s.add("CardRead", CardRead { uid: "04A1B2C3D4E580".into(), national_id: None, date_of_birth: None, name: None, badge_return_s: None });
    s.add(
        "CardRead",
        CardRead { uid: "08A1B2C3".into(), national_id: Some("199001234567".into()), date_of_birth: Some(day("1985-03-14")), name: None, badge_return_s: None },
    );
    let name = CardName {
        full: "زينب كاظم حسن العبيدي".into(),
        first: Some("زينب".into()),
        father: Some("كاظم".into()),
        grandfather: Some("حسن".into()),
        family: Some("العبيدي".into()),
    };
    s.add("CardName", name.clone());
    s.add("CardName", CardName { full: "ZAINAB KADHIM".into(), first: None, father: None, grandfather: None, family: None });
    s.add(
        "CardRead",
        CardRead { uid: "08C3D2E1".into(), national_id: Some("199001234567".into()), date_of_birth: Some(day("1985-03-14")), name: Some(name), badge_return_s: Some(60) },
    );
    let can = CardAccess::Can("123456".into());
    let mrz_key = MrzAccess { document_number: "A12345678".into(), date_of_birth: day("1985-03-14"), date_of_expiry: day("2031-07-01") };
    s.add("MrzAccess", mrz_key.clone());
    let mrz = CardAccess::Mrz(mrz_key);
    s.add("CardAccess", can.clone());
    s.add("CardAccess", mrz.clone());
    s.add("ReadIdCard", ReadIdCard::default());
    s.add("ReadIdCard", ReadIdCard { access: Some(can.clone()) });
    s.add("ReadIdCard", ReadIdCard { access: Some(mrz.clone()) });
    s.add("PresentCard", PresentCard { uid: "04A1B2C3D4E580".into(), national_id: None, date_of_birth: None, emrtd: None });
    s.add("PresentCard", PresentCard { uid: "08A1B2C3".into(), national_id: Some("199001234567".into()), date_of_birth: Some(day("1985-03-14")), emrtd: None });
    let chip = SimulatedEmrtd {
        can: "123456".into(),
        document_number: "A12345678".into(),
        date_of_expiry: day("2031-07-01"),
        full_name: Some("العبيدي<<زينب<كاظم<حسن".into()),
        forged_data_group: None,
    };
    for forged in [None, Some(1), Some(11)] {
        s.add("SimulatedEmrtd", SimulatedEmrtd { forged_data_group: forged, ..chip.clone() });
    }
    s.add(
        "PresentCard",
        PresentCard { uid: "08C3D2E1".into(), national_id: Some("199001234567".into()), date_of_birth: Some(day("1985-03-14")), emrtd: Some(chip) },
    );
    for paper in [Paper::Ok, Paper::NearEnd, Paper::Out] {
        s.add("PrinterDrill", PrinterDrill { paper: Some(paper), cover_open: None });
    }
    s.add("PrinterDrill", PrinterDrill { paper: None, cover_open: Some(true) });
    s.add("SimulatedScan", SimulatedScan { text: "WFP-79E-7X4-DM0".into() });

    for event in events() {
        match event {
            Event::Queue(e) => s.add("QueueEvent", e),
            Event::Connectivity(e) => s.add("Connectivity", e),
            Event::Submission(e) => s.add("SubmissionEvent", e),
            Event::Card(e) => s.add("CardEvent", e),
            Event::Printer(e) => s.add("PrinterEvent", e),
            Event::Session(e) => s.add("SessionEvent", e),
            Event::Scan(e) => s.add("ScanEvent", e),
        }
    }

    let request = ProvisionRequest::new("https://node.baghdad.example", "K7Q2-9XMB-4T");
    s.add("ProvisionRequest", request.clone());
    s.add("ProvisionRequest", ProvisionRequest { force: true, node_fingerprint: Some("ab".repeat(32)), allow_insecure_http: true, ..request });
    let outcome = ProvisionOutcome {
        terminal_id: "T-0007".into(),
        province: "BGD".into(),
        node_id: "node-bgd".into(),
        node_url: "https://node.baghdad.example".into(),
        config_version: Some("2026-11".into()),
        warning: None,
        node_certificate_sha256: Some("ab".repeat(32)),
        trusted_on_first_use: true,
    };
    s.add("ProvisionOutcome", outcome.clone());
    s.add(
        "ProvisionOutcome",
        ProvisionOutcome {
            node_url: "http://127.0.0.1:8443".into(),
            config_version: None,
            warning: Some("the configuration could not be fetched yet".into()),
            node_certificate_sha256: None,
            trusted_on_first_use: false,
            ..outcome
        },
    );

    let sync = SyncDiagnostics {
        state: SyncPhase::Waiting,
        last_success_at: Some(at("2026-11-24T10:29:00Z")),
        last_error: Some("node timed out after 10 s".into()),
        last_error_at: Some(at("2026-11-24T10:31:00Z")),
        next_attempt_at: Some(at("2026-11-24T10:32:00Z")),
        consecutive_failures: 2,
        delivered: 41,
        dead_lettered: 1,
        last_heartbeat_at: Some(at("2026-11-24T10:30:00Z")),
        last_heartbeat_error: None,
    };
    for state in [SyncPhase::Starting, SyncPhase::NotProvisioned, SyncPhase::Idle, SyncPhase::Sending] {
        s.add("SyncDiagnostics", SyncDiagnostics { state, ..SyncDiagnostics::default() });
    }
    s.add("SyncDiagnostics", sync.clone());
    let entries: Vec<AuditEntry> = AuditCategory::ALL
        .into_iter()
        .enumerate()
        .map(|(i, category)| AuditEntry {
            seq: i as u64 + 1,
            at: at("2026-11-24T07:00:00Z"),
            category,
            action: "enrolled".into(),
            detail: json!({ "node_id": "node-bgd" }),
            prev_hash: "0".repeat(64),
            hash: "a".repeat(64),
        })
        .collect();
    for entry in &entries {
        s.add("AuditEntry", entry.clone());
    }
    s.add("Diagnostics", Diagnostics { version: "0.1.0".into(), connectivity: connectivity(), sync, audit: entries });

    s.add("StatusRequest", StatusRequest { query: StatusQuery::NationalId { national_id: "199012345678".into() } });
    s.add("StatusRequest", StatusRequest { query: StatusQuery::Reference { reference: "7K2QX-M4B9R".into(), date_of_birth: day("1980-02-29") } });
    s.add("StatusRequest", StatusRequest { query: StatusQuery::IdCard { access: None } });
    s.add("StatusRequest", StatusRequest { query: StatusQuery::IdCard { access: Some(can) } });
    s.add("StatusRequest", StatusRequest { query: StatusQuery::IdCard { access: Some(mrz) } });

    // The node's types the local API carries.
    s.add("LocalizedText", text("Baghdad"));
    s.add("SubmissionKind", SubmissionKind::Application);
    s.add("SubmissionKind", SubmissionKind::Grievance);
    for state in [BenefitState::Received, BenefitState::UnderReview, BenefitState::Active, BenefitState::Suspended, BenefitState::Rejected, BenefitState::NotFound] {
        s.add("BenefitState", state);
    }
    s.add("StatusResponse", status_response());
    s.add("StatusResponse", StatusResponse { state: BenefitState::NotFound, case_number: None, updated_on: None, next_payment_on: None, message: text("Nothing found") });
    s.add("FormDefinition", form());
    s.add("FormStep", form().steps.remove(0));
    let shown_to_displaced = node_protocol::ShowWhen { field: "displacement".into(), equals: None, one_of: vec!["idp".into(), "refugee".into()], at_least: None };
    s.add("FormStep", FormStep { id: "displacement".into(), title: text("Displacement"), fields: vec![form_field()], show_when: Some(shown_to_displaced) });
    for field_type in [
        FieldType::Text,
        FieldType::Number,
        FieldType::Date,
        FieldType::Choice,
        FieldType::Governorate,
        FieldType::District,
        FieldType::NationalId,
        FieldType::Phone,
        FieldType::HouseholdMembers,
    ] {
        s.add("FieldType", field_type);
    }
    for script in [Script::Arabic, Script::Latin, Script::Digits] {
        s.add("Script", script);
    }
    s.add("ChoiceOption", ChoiceOption { value: "spouse".into(), label: text("Spouse") });
    s.add("FormField", form_field());
    s.add("MasterData", master_data());
    s.add("Governorate", master_data().governorates.remove(0));
    s.add("District", District { code: "BGD-01".into(), name: text("Karkh") });

    // Referrals out.
    let health = ServiceCategory { id: "health".into(), name: text("Health") };
    let clinic = Service {
        id: "BGD-H-0001".into(),
        category: "health".into(),
        governorate: "BGD".into(),
        district: Some("RSF".into()),
        name: text("Resafa clinic"),
        eligibility: text("Everyone"),
        address: text("Palestine Street"),
        hours: text("Sunday to Thursday, 8:00 to 14:00"),
        phone: "+964 770 000 0101".into(),
    };
    s.add("ServiceCategory", health.clone());
    s.add("Service", clinic.clone());
    s.add("Service", Service { district: None, ..clinic.clone() });
    s.add("ServiceList", ServiceList { version: "2026.12".into(), governorate: "BGD".into(), district: Some("RSF".into()), categories: vec![health], services: vec![clinic] });
    s.add("ServiceList", ServiceList { version: "2026.12".into(), governorate: "ERB".into(), district: None, categories: vec![], services: vec![] });
    for (language, submission_id, reference) in [("ar", None, Some("7K2QX-M4B9R")), ("ckb", Some(id(7)), None), ("en", None, None)] {
        s.add(
            "ReferralSlipRequest",
            ReferralSlipRequest { service_id: "BGD-H-0001".into(), language: language.into(), submission_id, reference: reference.map(Into::into) },
        );
    }
    s
}

#[test]
fn values_of_every_type_match_their_schemas() {
    let doc = document();
    for (schema, value) in samples().values {
        validate(&doc, &component(schema), &value, &format!("a {schema} built by the test"));
    }
    // The check can fail: values of the wrong shape are refused.
    assert!(!errors(&doc, &component("Connectivity"), &json!({"state": "online", "since": null})).is_empty());
    assert!(!errors(&doc, &component("Captured"), &json!({"id": "a", "reference": "7K2QX-M4B9R", "created_at": "2026-11-24T10:30:00Z", "duplicate_warning": false})).is_empty());
    assert!(!errors(&doc, &component("PrinterState"), &json!("jammed")).is_empty());
}

/// Every property a schema documents, and every value an enum allows, is produced by a value
/// of its type; so a property or a value the type lacks is noticed, not only one it adds.
#[test]
fn every_component_schema_property_and_enum_value_is_covered_by_a_type() {
    let doc = document();
    let schemas = doc["components"]["schemas"].as_object().expect("component schemas");
    let samples = samples().values;
    let covered: BTreeSet<&str> = samples.iter().map(|(name, _)| *name).collect();
    let documented: BTreeSet<&str> = schemas.keys().map(String::as_str).collect();
    assert_eq!(covered, documented, "component schemas and the types of this test's samples");

    for (name, schema) in schemas {
        let values: Vec<&Value> = samples.iter().filter(|(n, _)| n == name).map(|(_, v)| v).collect();
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            let produced: BTreeSet<String> = values.iter().map(|v| v.to_string()).collect();
            assert_eq!(produced, allowed.iter().map(Value::to_string).collect::<BTreeSet<_>>(), "{name}: the enum's values and the type's");
        }
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else { continue };
        for (property, property_schema) in properties {
            let produced: Vec<&Value> = values.iter().filter_map(|v| v.get(property)).collect();
            assert!(!produced.is_empty(), "{name}.{property} is documented but no value of its type has it");
            let allowed = property_schema.get("enum").or_else(|| property_schema.pointer("/items/enum")).and_then(Value::as_array);
            if let Some(allowed) = allowed {
                let produced: BTreeSet<String> =
                    produced.iter().flat_map(|v| v.as_array().map_or_else(|| vec![*v], |a| a.iter().collect())).map(Value::to_string).collect();
                assert_eq!(produced, allowed.iter().map(Value::to_string).collect::<BTreeSet<_>>(), "{name}.{property}: the enum's values and the type's");
            }
        }
        for value in values {
            let members = value.as_object().unwrap_or_else(|| panic!("{name} is an object"));
            for member in members.keys() {
                assert!(properties.contains_key(member), "{name}.{member} is produced but not documented");
            }
        }
    }
}

/// The pairs `name` (`Schema`) of the events operation's description.
fn documented_events(doc: &Value) -> Vec<(String, String)> {
    let description = doc["paths"]["/v1/events"]["get"]["description"].as_str().expect("the events description");
    let quoted: Vec<&str> = description.split('`').skip(1).step_by(2).collect();
    quoted
        .windows(2)
        .filter(|w| w[0].chars().all(|c| c.is_ascii_lowercase()) && w[1].starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|w| (w[0].to_owned(), w[1].to_owned()))
        .collect()
}

#[test]
fn events_have_the_documented_names_and_data() {
    let doc = document();
    let documented = documented_events(&doc);
    let names: Vec<&str> = documented.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, Event::NAMES, "the events the document describes, in its order");
    let schema_of: BTreeMap<&str, &str> = documented.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();

    let mut produced = BTreeSet::new();
    for event in events() {
        let name = event.name();
        let data = serde_json::to_string(&event).expect("serialisable");
        validate(&doc, &component(schema_of[name]), &serde_json::from_str(&data).expect("JSON"), &format!("a {name} event"));
        let back = Event::parse(name, &data).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, event, "a {name} event survives the stream");
        produced.insert(name);
    }
    assert_eq!(produced, Event::NAMES.into_iter().collect::<BTreeSet<_>>(), "every kind of event is built by the test");

    assert!(matches!(Event::parse("weather", "{}"), Err(EventError::Unknown(name)) if name == "weather"));
    assert!(matches!(Event::parse("printer", r#"{"state":"jammed"}"#), Err(EventError::Data { name: "printer", .. })));
    assert!(matches!(Event::parse("connectivity", r#"{"state":"online"}"#), Err(EventError::Data { name: "connectivity", .. })));
}

#[test]
fn the_documented_event_stream_reads_into_events() {
    let doc = document();
    let example = doc["paths"]["/v1/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]["example"].as_str().expect("an event stream example");
    let schema_of: BTreeMap<String, String> = documented_events(&doc).into_iter().collect();
    let mut read = 0;
    for block in example.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let field = |prefix: &str| block.lines().find_map(|l| l.strip_prefix(prefix)).map(str::trim).unwrap_or_else(|| panic!("no {prefix} in {block:?}"));
        let (name, data) = (field("event:"), field("data:"));
        let schema = schema_of.get(name).unwrap_or_else(|| panic!("the example's '{name}' event is not described"));
        validate(&doc, &component(schema), &serde_json::from_str(data).expect("JSON data"), &format!("the example's {name} event"));
        let event = Event::parse(name, data).unwrap_or_else(|e| panic!("the example's {name} event: {e}"));
        assert_eq!(event.name(), name);
        read += 1;
    }
    assert!(read >= 5, "{read} events in the example");
}
