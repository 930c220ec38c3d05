//! `terminal-service/openapi/node-v1.yaml` against the protocol types and against what the
//! node really answers.

use crate::common::*;
use node_protocol::{
    BatchResponse, EnrollRequest, EnrollResponse, ErrorBody, Heartbeat, HeartbeatResponse, NodeConfig, PrecheckRequest,
    PrecheckResponse, ReferralLookup, StatusRequest, StatusResponse, SubmissionBatch, SubmissionKind,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

const DOCUMENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../terminal-service/openapi/node-v1.yaml");
const OPERATIONS: [(&str, &str); 8] = [
    ("/v1/terminals/enroll", "post"),
    ("/v1/submissions", "post"),
    ("/v1/status", "post"),
    ("/v1/precheck", "post"),
    ("/v1/heartbeat", "post"),
    ("/v1/config", "get"),
    ("/v1/referrals/{code}", "get"),
    ("/v1/service-directory", "get"),
];

pub(crate) fn document() -> Value {
    let text = std::fs::read_to_string(DOCUMENT).expect("node-v1.yaml is readable");
    serde_norway::from_str(&text).expect("node-v1.yaml is YAML")
}

/// Follows a local `$ref` (`#/components/...`).
pub(crate) fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => doc.pointer(reference.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling {reference}")),
        None => value,
    }
}

pub(crate) fn validate(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema for {what} does not compile: {e}"));
    let errors: Vec<String> = validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} does not match node-v1.yaml: {errors:#?}\n{instance:#}");
}

fn operation<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    doc["paths"][path].get(method).unwrap_or_else(|| panic!("{method} {path} is not documented"))
}

fn response_schema<'a>(doc: &'a Value, path: &str, method: &str, status: u16) -> &'a Value {
    let responses = &operation(doc, path, method)["responses"];
    let response = responses.get(status.to_string()).unwrap_or_else(|| panic!("{method} {path} documents no {status}"));
    &resolve(doc, response)["content"]["application/json"]["schema"]
}

/// Checks a real answer of the node against the documented response of that status.
fn check(doc: &Value, path: &str, method: &str, status: u16, body: &Value) {
    validate(doc, response_schema(doc, path, method, status), body, &format!("{method} {path} {status}"));
}

fn into<T: DeserializeOwned>(value: &Value, what: &str) {
    if let Err(e) = serde_json::from_value::<T>(value.clone()) {
        panic!("{what} does not deserialise into {}: {e}\n{value:#}", std::any::type_name::<T>());
    }
}

#[test]
fn every_call_requires_the_three_signature_headers_and_documents_its_errors() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), OPERATIONS.len(), "exactly the node calls: {:?}", paths.keys());
    for (path, method) in OPERATIONS {
        let op = operation(&doc, path, method);
        let mut headers: Vec<String> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| resolve(&doc, p))
            .filter(|p| p["in"] == "header" && p["required"] == true)
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        headers.sort();
        assert_eq!(headers, ["content-digest", "signature", "signature-input"], "{method} {path}");
        for status in ["200", "400", "401", "413", "500"] {
            assert!(op["responses"].get(status).is_some(), "{method} {path} lacks {status}");
        }
    }
}

#[test]
fn request_examples_deserialise_into_the_protocol_types() {
    let doc = document();
    type Check = fn(&Value, &str);
    let checks: [(&str, Check); 5] = [
        ("/v1/terminals/enroll", into::<EnrollRequest>),
        ("/v1/submissions", into::<SubmissionBatch>),
        ("/v1/status", into::<StatusRequest>),
        ("/v1/precheck", into::<PrecheckRequest>),
        ("/v1/heartbeat", into::<Heartbeat>),
    ];
    for (path, deserialise) in checks {
        let media = &operation(&doc, path, "post")["requestBody"]["content"]["application/json"];
        let example = media.get("example").unwrap_or_else(|| panic!("POST {path} has no request example"));
        deserialise(example, &format!("request example of POST {path}"));
        validate(&doc, &media["schema"], example, &format!("request example of POST {path}"));
    }
    assert!(operation(&doc, "/v1/config", "get").get("requestBody").is_none());
    assert!(operation(&doc, "/v1/referrals/{code}", "get").get("requestBody").is_none());
    assert!(operation(&doc, "/v1/service-directory", "get").get("requestBody").is_none());
}

#[test]
fn response_examples_deserialise_and_match_their_schemas() {
    let doc = document();
    let mut seen = 0;
    for (path, method) in OPERATIONS {
        for (status, response) in operation(&doc, path, method)["responses"].as_object().unwrap() {
            let media = &resolve(&doc, response)["content"]["application/json"];
            let example = media.get("example").unwrap_or_else(|| panic!("{method} {path} {status} has no example"));
            let what = format!("example of {method} {path} {status}");
            validate(&doc, &media["schema"], example, &what);
            match (status.as_str(), path) {
                ("200", "/v1/terminals/enroll") => into::<EnrollResponse>(example, &what),
                ("200", "/v1/submissions") => into::<BatchResponse>(example, &what),
                ("200", "/v1/status") => into::<StatusResponse>(example, &what),
                ("200", "/v1/precheck") => into::<PrecheckResponse>(example, &what),
                ("200", "/v1/heartbeat") => into::<HeartbeatResponse>(example, &what),
                ("200", "/v1/config") => into::<NodeConfig>(example, &what),
                ("200", "/v1/referrals/{code}") => into::<ReferralLookup>(example, &what),
                ("200", "/v1/service-directory") => into::<node_protocol::service_directory::ServiceDirectory>(example, &what),
                _ => into::<ErrorBody>(example, &what),
            }
            seen += 1;
        }
    }
    assert!(seen >= 30, "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nodes_real_answers_match_the_document() {
    let doc = document();
    const ENROLL: &str = "/v1/terminals/enroll";

    // Enrollment: success, used code, unknown code, bad key, bad body.
    let code = node().node.issue_code(60).unwrap();
    let key = new_key();
    let (status, body) = try_enroll(&code, &key).await;
    check(&doc, ENROLL, "post", status, &body);
    assert_eq!(status, 200);
    let enrollment: EnrollResponse = serde_json::from_value(body).unwrap();
    let (status, body) = try_enroll(&code, &new_key()).await;
    assert_eq!(status, 403);
    check(&doc, ENROLL, "post", status, &body);
    let (status, body) = try_enroll("AAAA-BBBB-CCCC", &new_key()).await;
    assert_eq!(status, 401);
    check(&doc, ENROLL, "post", status, &body);
    let (status, body) = json(send_signed(&key, "enroll", "POST", ENROLL, br#"{"code":"x","public_key":"AAAA","terminal_name":"k","software_version":"1"}"#).await).await;
    assert_eq!(status, 400);
    check(&doc, ENROLL, "post", status, &body);
    let terminal = Terminal { id: enrollment.terminal_id.clone(), key, enrollment };

    // Submissions: accepted, duplicate and rejected in one batch, then a bad batch.
    let first = terminal.envelope(SubmissionKind::Application, application_answers(&random_national_id(), "1981-04-04"));
    terminal.post("/v1/submissions", &json!({"envelopes": [first]})).await;
    let mut broken = terminal.envelope(SubmissionKind::Grievance, json!({}));
    broken.sealed = "AAAA".into();
    let fresh = terminal.envelope(SubmissionKind::Grievance, json!({"full_name": "آزاد", "date_of_birth": "1999-09-09"}));
    let (status, body) = terminal.post("/v1/submissions", &json!({"envelopes": [fresh, first, broken]})).await;
    assert_eq!(status, 200);
    let outcomes: Vec<&str> = body["results"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["accepted", "duplicate", "rejected"]);
    check(&doc, "/v1/submissions", "post", status, &body);
    let (status, body) = terminal.post("/v1/submissions", &json!({"envelopes": []})).await;
    assert_eq!(status, 400);
    check(&doc, "/v1/submissions", "post", status, &body);
    let (status, body) = { let t = &terminal; tokio::task::block_in_place(|| oversized_request("/v1/submissions", t)) };
    assert_eq!(status, 413);
    check(&doc, "/v1/submissions", "post", status, &body);

    // Status: every seeded state, a received application, not found, a malformed query.
    for national_id in ["199001234567", "198807654321", "200011112222", "197512340000", "100000000009"] {
        let (status, body) = terminal.post("/v1/status", &json!({"query": {"by": "national_id", "national_id": national_id}})).await;
        assert_eq!(status, 200);
        check(&doc, "/v1/status", "post", status, &body);
    }
    let reference = node_protocol::reference::short_reference(&first.id);
    let (status, body) = terminal
        .post("/v1/status", &json!({"query": {"by": "reference", "reference": reference, "date_of_birth": "1981-04-04"}}))
        .await;
    assert_eq!((status, body["state"].as_str()), (200, Some("received")));
    check(&doc, "/v1/status", "post", status, &body);
    let (status, body) = terminal.post("/v1/status", &json!({"query": {"by": "reference"}})).await;
    assert_eq!(status, 400);
    check(&doc, "/v1/status", "post", status, &body);

    // Pre-check: registered, not found, a malformed national id.
    for national_id in ["199001234567", "100000000009"] {
        let (status, body) = terminal.post("/v1/precheck", &json!({"national_id": national_id})).await;
        assert_eq!(status, 200);
        check(&doc, "/v1/precheck", "post", status, &body);
    }
    let (status, body) = terminal.post("/v1/precheck", &json!({"national_id": "12ab"})).await;
    assert_eq!(status, 400);
    check(&doc, "/v1/precheck", "post", status, &body);

    // Heartbeat and configuration.
    let beat = json!({"software_version":"0.1.0","queue_depth":2,"dead_letters":0,"printer":"ok","reader":"ok","disk_free_bytes":123,"sent_at":"2026-11-24T09:16:00Z"});
    let (status, body) = terminal.post("/v1/heartbeat", &beat).await;
    assert_eq!(status, 200);
    check(&doc, "/v1/heartbeat", "post", status, &body);
    assert!(body["terminal_certificate"].is_string() && body["service_directory_version"].is_string(), "{body}");
    let (status, body) = terminal.get("/v1/config").await;
    assert_eq!(status, 200);
    check(&doc, "/v1/config", "get", status, &body);
    let (status, body) = terminal.get("/v1/service-directory").await;
    assert_eq!(status, 200);
    check(&doc, "/v1/service-directory", "get", status, &body);

    // Referral look-up: found (a referral recorded for a partner the node trusts), unknown, not a code.
    const LOOKUP: &str = "/v1/referrals/{code}";
    let partner = new_key();
    let signed = node_protocol::referral::Referral {
        partner: "CWG".into(),
        serial: rand::random::<u64>() & node_protocol::referral::MAX_SERIAL,
        issued_on: provincial_node::referrals::today(),
        expires_on: provincial_node::referrals::today() + chrono::Days::new(30),
        household_size: 3,
        governorate: "BGD".into(),
        partner_case: "CWG-1".into(),
    }
    .sign(&partner)
    .unwrap();
    {
        let conn = node().node.db();
        provincial_node::referrals::add_partner(&conn, "CWG", "Cash Working Group", &partner.verifying_key()).unwrap();
        provincial_node::referrals::record(&conn, &signed, "test").unwrap();
    }
    let code = signed.referral.short_code();
    let (status, body) = terminal.get(&format!("/v1/referrals/{code}")).await;
    assert_eq!((status, body["usable"].as_bool()), (200, Some(true)), "{body}");
    check(&doc, LOOKUP, "get", status, &body);
    let unknown = node_protocol::referral::ShortCode { partner: "CWG".into(), serial: signed.referral.serial ^ 1 }.to_string();
    let (status, body) = terminal.get(&format!("/v1/referrals/{unknown}")).await;
    assert_eq!(status, 404, "{body}");
    check(&doc, LOOKUP, "get", status, &body);
    let (status, body) = terminal.get("/v1/referrals/CWG-123").await;
    assert_eq!(status, 400, "{body}");
    check(&doc, LOOKUP, "get", status, &body);

    // Signature refusals on every call.
    for (path, method) in OPERATIONS {
        let response = http().request(method.to_uppercase().parse().unwrap(), format!("{}{}", node().base, path)).send().await.unwrap();
        let (status, body) = json(response).await;
        assert_eq!(status, 401, "{method} {path}");
        check(&doc, path, method, status, &body);
    }
}

#[test]
fn the_schemas_refuse_wrong_shapes() {
    let doc = document();
    let schema = response_schema(&doc, "/v1/submissions", "post", 200);
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    let validator = jsonschema::draft202012::options().should_validate_formats(true).build(&root).unwrap();
    let id = "01936b2e-8f1c-7a3b-9c4d-5e6f7a8b9c0d";
    assert!(validator.is_valid(&json!({"results": [{"id": id, "outcome": "accepted", "case_number": "BGD-2026-000001"}]})));
    for wrong in [
        json!({"results": [{"id": id, "outcome": "accepted"}]}),
        json!({"results": [{"id": id, "outcome": "Accepted", "case_number": "x"}]}),
        json!({"results": [{"id": "not-a-uuid", "outcome": "rejected", "reason": "x"}]}),
        json!({"results": [{"id": id, "outcome": "rejected", "case_number": "x"}]}),
    ] {
        assert!(!validator.is_valid(&wrong), "{wrong}");
    }
    let status = response_schema(&doc, "/v1/status", "post", 200);
    let mut root = status.clone();
    root["components"] = doc["components"].clone();
    let validator = jsonschema::draft202012::options().should_validate_formats(true).build(&root).unwrap();
    let message = json!({"ar": "a", "ckb": "b", "en": "c"});
    assert!(validator.is_valid(&json!({"state": "not_found", "message": message})));
    assert!(!validator.is_valid(&json!({"state": "not_found", "message": {"ar": "a"}})));
    assert!(!validator.is_valid(&json!({"state": "active", "message": message, "updated_on": "01/02/2026"})));
}
