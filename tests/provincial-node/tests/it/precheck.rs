//! The pre-check behind the kiosk's early duplicate warning: one word about a national id,
//! only to a terminal that signs its request.

use crate::common::*;
use node_protocol::{BatchResponse, PrecheckResponse, PrecheckResult, SubmissionKind, SubmissionOutcome};
use serde_json::json;

async fn precheck(terminal: &Terminal, national_id: &str) -> (u16, serde_json::Value) {
    terminal.post("/v1/precheck", &json!({ "national_id": national_id })).await
}

async fn result(terminal: &Terminal, national_id: &str) -> PrecheckResult {
    let (status, body) = precheck(terminal, national_id).await;
    assert_eq!(status, 200, "{body}");
    // Nothing about the person: the answer has the one member.
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
    serde_json::from_value::<PrecheckResponse>(body).expect("PrecheckResponse").result
}

#[tokio::test]
async fn a_seeded_applicant_is_registered_and_an_unknown_id_is_not_found() {
    let terminal = enroll().await;
    assert_eq!(result(&terminal, "199001234567").await, PrecheckResult::Registered);
    // Arabic-Indic digits as a keyboard may give them.
    assert_eq!(result(&terminal, "١٩٨٨٠٧٦٥٤٣٢١").await, PrecheckResult::Registered);
    assert_eq!(result(&terminal, &random_national_id()).await, PrecheckResult::NotFound);
}

#[tokio::test]
async fn an_accepted_application_registers_its_national_id_and_a_grievance_does_not() {
    let terminal = enroll().await;
    let applicant = random_national_id();
    let complainant = random_national_id();
    assert_eq!(result(&terminal, &applicant).await, PrecheckResult::NotFound);

    let application = terminal.envelope(SubmissionKind::Application, application_answers(&applicant, "1983-09-17"));
    let grievance = terminal.envelope(
        SubmissionKind::Grievance,
        json!({"national_id": complainant, "full_name": "آزاد", "date_of_birth": "1999-09-09", "category": "other", "description": "x"}),
    );
    let (status, body) = terminal.post("/v1/submissions", &json!({"envelopes": [application, grievance]})).await;
    assert_eq!(status, 200, "{body}");
    let filed: BatchResponse = serde_json::from_value(body).unwrap();
    assert!(matches!(filed.results[0].outcome, SubmissionOutcome::Accepted { .. }), "{filed:?}");
    // Filed with its national id, as an application would be: only the kind differs.
    assert!(matches!(filed.results[1].outcome, SubmissionOutcome::Accepted { .. }), "{filed:?}");

    assert_eq!(result(&terminal, &applicant).await, PrecheckResult::Registered);
    assert_eq!(result(&terminal, &complainant).await, PrecheckResult::NotFound);
}

#[tokio::test]
async fn a_malformed_national_id_is_400_and_an_unsigned_precheck_is_refused() {
    let terminal = enroll().await;
    for bad in ["12ab", "1990012345678", ""] {
        let (status, body) = precheck(&terminal, bad).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_national_id")), "{bad}: {body}");
    }
    let (status, body) = terminal.post("/v1/precheck", &json!({"id": "199001234567"})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_body")), "{body}");

    let unsigned = http()
        .post(format!("{}/v1/precheck", node().base))
        .header("content-type", "application/json")
        .body(r#"{"national_id":"199001234567"}"#)
        .send()
        .await
        .unwrap();
    let (status, body) = json(unsigned).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("signature_missing")), "{body}");
    assert!(body.get("result").is_none(), "{body}");

    let stranger = new_key();
    let (status, body) = json(send_signed(&stranger, "T-00000000", "POST", "/v1/precheck", br#"{"national_id":"199001234567"}"#).await).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unknown_key")), "{body}");
}
