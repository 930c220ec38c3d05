//! `openapi/local-v1.yaml` against reality: every request example matches its schema, and the
//! API's real answers match the documented ones.


use std::sync::Arc;
use std::time::Duration;

use crate::common::{application_answers, Fixture};
use serde_json::{json, Value};
use terminal_service::api::{self, ApiState};
use tokio::sync::watch;

fn document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/local-v1.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Validates `instance` against the schema at `pointer` inside the document.
fn check(doc: &Value, pointer: &str, instance: &Value) -> Result<(), String> {
    let mut root = doc.clone();
    root["$ref"] = Value::String(format!("#{pointer}"));
    let validator = jsonschema::validator_for(&root).map_err(|e| format!("{pointer}: {e}"))?;
    let errors: Vec<String> = validator.iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path())).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{pointer}: {}: {instance}", errors.join("; ")))
    }
}

fn escape(path: &str) -> String {
    path.replace('~', "~0").replace('/', "~1")
}

#[test]
fn every_request_body_has_an_example_that_matches_its_schema() {
    let doc = document();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(content) = op.pointer("/requestBody/content").and_then(Value::as_object) else { continue };
            // Every body has an example, optional ones too (the id-card read's).
            for (media, body) in content {
                let example = body.get("example").unwrap_or_else(|| panic!("{method} {path} {media}: no example"));
                let pointer = format!("/paths/{}/{method}/requestBody/content/{}/schema", escape(path), escape(media));
                check(&doc, &pointer, example).unwrap();
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 13, "applications, their pre-check, referral checks, grievances, status-checks, provisioning, sessions, the ID card read, receipts, referral slips, simulator card, printer and scan");
    // The check can fail: a body of the wrong shape does not match.
    assert!(check(&doc, "/components/schemas/CaptureRequest", &json!({"language": 5, "answers": {}})).is_err());
    assert!(check(&doc, "/components/schemas/CaptureRequest", &json!({"language": "ar", "answers": {}, "x": 1})).is_err());
}

fn response_pointer(doc: &Value, method: &str, path: &str, status: u16) -> String {
    let op = format!("/paths/{}/{method}/responses/{status}", escape(path));
    let response = doc.pointer(&op).unwrap_or_else(|| panic!("{method} {path} does not document {status}"));
    let base = match response.get("$ref").and_then(Value::as_str) {
        Some(r) => r.trim_start_matches('#').to_string(),
        None => op,
    };
    format!("{base}/content/application~1json/schema")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_match_the_document() {
    let doc = document();
    let fixture = Fixture::provisioned("http://127.0.0.1:9");
    let terminal = fixture.open();
    let (_stop, stopped) = watch::channel(false);
    let listener = api::bind(&fixture.config.api.socket).await.unwrap();
    // The reader loop too: a status check by ID card reads the simulated card through it.
    let _reader = terminal_service::peripherals::reader_loop::spawn(Arc::clone(&terminal), stopped.clone());
    tokio::spawn(api::serve(listener, ApiState { terminal: Arc::clone(&terminal), shutdown: stopped }));
    let client = reqwest::Client::builder().unix_socket(fixture.config.api.socket.as_path()).timeout(Duration::from_secs(10)).build().unwrap();

    let calls: Vec<(&str, &str, Option<Value>)> = vec![
        ("post", "/v1/applications", Some(json!({"language": "ar", "answers": application_answers(1)}))),
        ("post", "/v1/applications", Some(json!({"language": "ar", "answers": {}}))),
        ("post", "/v1/applications", Some(json!({"language": "ar"}))),
        ("post", "/v1/applications/precheck", Some(json!({"national_id": application_answers(1)["national_id"]}))),
        ("post", "/v1/applications/precheck", Some(json!({"national_id": "12"}))),
        ("post", "/v1/status-checks", Some(json!({"query": {"by": "national_id", "national_id": "199012345678"}}))),
        ("post", "/v1/simulator/card", Some(json!({"uid": "08A1B2C3", "national_id": "199001234567", "date_of_birth": "1985-03-14"}))),
        ("post", "/v1/status-checks", Some(json!({"query": {"by": "id_card"}}))),
        ("post", "/v1/provisioning", Some(json!({"node_url": "http://127.0.0.1:9", "code": "X"}))),
        ("get", "/v1/health", None),
        ("get", "/v1/kiosk", None),
        ("get", "/v1/forms", None),
        ("get", "/v1/queue", None),
        ("get", "/v1/diagnostics", None),
        ("get", "/v1/queue/details", None),
        ("post", "/v1/sessions", Some(json!({"pin": "2468"}))),
        ("get", "/v1/sessions/current", None),
        ("post", "/v1/receipts", Some(json!({"submission_id": "0193a1f2-7c3e-7d4a-9b1e-2f3a4b5c6d7e"}))),
        ("post", "/v1/receipts", Some(json!({"status_slip": {"language": "en", "status": null}}))),
        ("post", "/v1/receipts", Some(json!({"status_slip": {"language": "ar", "reference": "7K2QX-M4B9R", "status": {"state": "active", "message": {"ar": "a", "ckb": "b", "en": "c"}}}}))),
        ("get", "/v1/hardware", None),
        ("get", "/v1/hardware/printer-status", None),
        ("post", "/v1/hardware/print-test", None),
        ("get", "/v1/services", None),
        ("post", "/v1/referral-slips", Some(json!({"service_id": "BGD-H-0001", "language": "ar"}))),
        ("post", "/v1/referral-slips", Some(json!({"service_id": "BGD-H-0001", "language": "xx"}))),
        ("post", "/v1/simulator/printer", Some(json!({"paper": "out"}))),
        // No scanner on this terminal: 404 not_simulated, as documented.
        ("post", "/v1/simulator/scan", Some(json!({"text": "WFP-79E-7X4-DM0"}))),
        ("post", "/v1/receipts", Some(json!({"status_slip": {"language": "en"}}))),
    ];
    for (method, path, body) in calls {
        let mut req = client.request(method.to_uppercase().parse().unwrap(), format!("http://localhost{path}"));
        if let Some(b) = &body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        if status == 204 {
            continue;
        }
        let answer: Value = resp.json().await.unwrap();
        check(&doc, &response_pointer(&doc, method, path, status), &answer).unwrap_or_else(|e| panic!("{method} {path} {status}: {e}"));
    }
}
