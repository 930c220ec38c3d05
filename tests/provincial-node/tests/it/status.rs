//! Status queries by national id and by reference + date of birth.

use crate::common::*;
use node_protocol::reference::short_reference;
use node_protocol::{BenefitState, StatusResponse, SubmissionKind, SubmissionOutcome};
use serde_json::json;

async fn status(terminal: &Terminal, query: serde_json::Value) -> StatusResponse {
    let (code, body) = terminal.post("/v1/status", &json!({ "query": query })).await;
    assert_eq!(code, 200, "{body}");
    serde_json::from_value(body).expect("StatusResponse")
}

fn assert_three_languages(answer: &StatusResponse) {
    for text in [&answer.message.ar, &answer.message.ckb, &answer.message.en] {
        assert!(!text.trim().is_empty(), "{answer:?}");
    }
}

#[tokio::test]
async fn a_seeded_applicant_is_found_by_national_id_and_by_reference() {
    let terminal = enroll().await;
    let answer = status(&terminal, json!({"by": "national_id", "national_id": "199001234567"})).await;
    assert_eq!(answer.state, BenefitState::Active);
    assert_eq!(answer.case_number.as_deref(), Some("BGD-2025-000142"));
    assert!(answer.next_payment_on.is_some_and(|d| d > chrono::Utc::now().date_naive()));
    assert_three_languages(&answer);

    // Arabic-Indic digits as an ID card reader or keyboard may give them.
    let answer = status(&terminal, json!({"by": "national_id", "national_id": "١٩٨٨٠٧٦٥٤٣٢١"})).await;
    assert_eq!(answer.state, BenefitState::UnderReview);

    let answer = status(&terminal, json!({"by": "reference", "reference": "9hvdp 5xq2a", "date_of_birth": "1978-07-21"})).await;
    assert_eq!(answer.state, BenefitState::Suspended);
    let answer = status(&terminal, json!({"by": "reference", "reference": "9HVDP-5XQ2A", "date_of_birth": "1978-07-22"})).await;
    assert_eq!(answer.state, BenefitState::NotFound);
    assert_eq!(answer.case_number, None);

    let answer = status(&terminal, json!({"by": "national_id", "national_id": "100000000001"})).await;
    assert_eq!(answer.state, BenefitState::NotFound);
    assert_three_languages(&answer);
}

#[tokio::test]
async fn a_submitted_application_is_found_by_reference_with_the_right_date_of_birth_only() {
    let terminal = enroll().await;
    let national_id = random_national_id();
    let envelope = terminal.envelope(SubmissionKind::Application, application_answers(&national_id, "1983-09-17"));
    let (_, body) = terminal.post("/v1/submissions", &json!({"envelopes": [envelope]})).await;
    let response: node_protocol::BatchResponse = serde_json::from_value(body).unwrap();
    let SubmissionOutcome::Accepted { case_number, .. } = response.results[0].outcome.clone() else { panic!() };
    let reference = short_reference(&envelope.id);

    let answer = status(&terminal, json!({"by": "reference", "reference": reference, "date_of_birth": "1983-09-17"})).await;
    assert_eq!(answer.state, BenefitState::Received);
    assert_eq!(answer.case_number.as_deref(), Some(case_number.as_str()));
    assert_eq!(answer.updated_on, Some(chrono::Utc::now().date_naive()));
    assert_three_languages(&answer);

    let by_id = status(&terminal, json!({"by": "reference", "reference": envelope.id.to_string(), "date_of_birth": "1983-09-17"})).await;
    assert_eq!(by_id.case_number.as_deref(), Some(case_number.as_str()));

    let wrong = status(&terminal, json!({"by": "reference", "reference": reference, "date_of_birth": "1983-09-18"})).await;
    let unknown = status(&terminal, json!({"by": "reference", "reference": "00000-00000", "date_of_birth": "1983-09-17"})).await;
    assert_eq!(wrong.state, BenefitState::NotFound);
    // A wrong date of birth answers exactly like an unknown reference.
    assert_eq!(wrong, unknown);

    let answer = status(&terminal, json!({"by": "national_id", "national_id": national_id})).await;
    assert_eq!((answer.state, answer.case_number.as_deref()), (BenefitState::Received, Some(case_number.as_str())));
}

#[tokio::test]
async fn malformed_queries_are_400() {
    let terminal = enroll().await;
    for (query, code) in [
        (json!({"by": "national_id", "national_id": "12ab"}), "invalid_national_id"),
        (json!({"by": "reference", "reference": "??", "date_of_birth": "1983-09-17"}), "invalid_reference"),
        (json!({"by": "reference", "reference": "00000-00000", "date_of_birth": "17/09/1983"}), "invalid_body"),
        (json!({"by": "passport", "number": "A1"}), "invalid_body"),
    ] {
        let (status, body) = terminal.post("/v1/status", &json!({ "query": query })).await;
        assert_eq!((status, body["error"].as_str()), (400, Some(code)), "{body}");
    }
}
