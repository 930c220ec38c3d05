//! Submissions are filed exactly once, idempotently by id, and bad content is rejected
//! (never a 500).

use base64::Engine;
use crate::common::*;
use node_protocol::{BatchResponse, SubmissionKind, SubmissionOutcome, MAX_BATCH};
use serde_json::json;

fn batch(envelopes: &[node_protocol::Envelope]) -> serde_json::Value {
    json!({ "envelopes": envelopes })
}

fn outcomes(body: serde_json::Value) -> Vec<SubmissionOutcome> {
    let response: BatchResponse = serde_json::from_value(body).expect("BatchResponse");
    response.results.into_iter().map(|r| r.outcome).collect()
}

#[tokio::test]
async fn accepted_then_duplicate_with_the_same_case_number() {
    let terminal = enroll().await;
    let application = terminal.envelope(SubmissionKind::Application, application_answers(&random_national_id(), "1980-02-29"));
    let grievance = terminal.envelope(
        SubmissionKind::Grievance,
        json!({"full_name": "كاروان عزيز", "date_of_birth": "1970-01-01", "category": "other", "description": "لم تصل الدفعة منذ شهرين"}),
    );
    let (status, body) = terminal.post("/v1/submissions", &batch(&[application.clone(), grievance.clone()])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["id"], application.id.to_string());
    let first = outcomes(body);
    let case_numbers: Vec<String> = first
        .iter()
        .map(|o| match o {
            SubmissionOutcome::Accepted { case_number, .. } => case_number.clone(),
            other => panic!("expected accepted, got {other:?}"),
        })
        .collect();
    let year = chrono::Utc::now().format("%Y").to_string();
    for case in &case_numbers {
        assert!(case.starts_with(&format!("BGD-{year}-")), "{case}");
    }
    assert_ne!(case_numbers[0], case_numbers[1]);

    // The same batch again (a lost acknowledgement): the same answers, as duplicates.
    let (status, body) = terminal.post("/v1/submissions", &batch(&[application.clone(), grievance])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        outcomes(body),
        case_numbers.iter().map(|c| SubmissionOutcome::Duplicate { case_number: c.clone() }).collect::<Vec<_>>()
    );

    // Within one batch, the second copy is already a duplicate.
    let again = terminal.envelope(SubmissionKind::Application, application_answers(&random_national_id(), "1990-05-05"));
    let (_, body) = terminal.post("/v1/submissions", &batch(&[again.clone(), again.clone()])).await;
    let answers = outcomes(body);
    let SubmissionOutcome::Accepted { case_number, .. } = &answers[0] else { panic!("{answers:?}") };
    assert_eq!(answers[1], SubmissionOutcome::Duplicate { case_number: case_number.clone() });

    let listed = provincial_node::stats::submissions(&node().node.db()).unwrap();
    let row = listed.iter().find(|s| s.id == application.id.to_string()).expect("listed");
    assert_eq!((row.deliveries, row.case_number.as_deref()), (2, Some(case_numbers[0].as_str())));
    assert_eq!(row.terminal_id, terminal.id);
}

#[tokio::test]
async fn same_id_with_different_content_is_rejected_and_the_original_kept() {
    let terminal = enroll().await;
    let original = terminal.envelope(SubmissionKind::Application, application_answers(&random_national_id(), "1980-01-01"));
    let (_, body) = terminal.post("/v1/submissions", &batch(std::slice::from_ref(&original))).await;
    let SubmissionOutcome::Accepted { case_number, .. } = outcomes(body).remove(0) else { panic!() };

    let mut altered = original.clone();
    altered.form_version = "1999.9".into();
    let (status, body) = terminal.post("/v1/submissions", &batch(&[altered])).await;
    assert_eq!(status, 200);
    assert_eq!(outcomes(body), vec![SubmissionOutcome::Rejected { reason: "id reused with different content".into() }]);

    let (_, body) = terminal.post("/v1/submissions", &batch(&[original])).await;
    assert_eq!(outcomes(body), vec![SubmissionOutcome::Duplicate { case_number }]);
}

#[tokio::test]
async fn undecryptable_or_inconsistent_content_is_rejected_with_a_reason() {
    let terminal = enroll().await;
    let mut garbage = terminal.envelope(SubmissionKind::Application, application_answers(&random_national_id(), "1980-01-01"));
    garbage.sealed = base64::engine::general_purpose::STANDARD.encode(b"not an age file");
    let mut not_base64 = terminal.envelope(SubmissionKind::Grievance, json!({}));
    not_base64.sealed = "%%%".into();
    // Sealed to another recipient.
    let stranger = age::x25519::Identity::generate().to_public().to_string();
    let mut foreign = terminal.envelope(SubmissionKind::Application, json!({}));
    let content = node_protocol::SubmissionContent {
        id: foreign.id,
        kind: SubmissionKind::Application,
        form_id: "application".into(),
        form_version: foreign.form_version.clone(),
        language: "en".into(),
        answers: Default::default(),
        assisted_by: None,
        terminal_id: terminal.id.clone(),
        duplicate_override: None,
        referral: None,
        targeting: None,
    };
    foreign.sealed = envelope_for(&content, &stranger).sealed;
    // Kind in clear differs from the sealed kind.
    let mut mismatched = terminal.envelope(SubmissionKind::Grievance, json!({}));
    mismatched.kind = SubmissionKind::Application;
    // Sealed content of another envelope.
    let other = terminal.envelope(SubmissionKind::Application, json!({}));
    let mut moved = terminal.envelope(SubmissionKind::Application, json!({}));
    moved.sealed = other.sealed.clone();

    let envelopes = [garbage.clone(), not_base64, foreign, mismatched, moved];
    let (status, body) = terminal.post("/v1/submissions", &batch(&envelopes)).await;
    assert_eq!(status, 200, "{body}");
    let answers = outcomes(body);
    let reasons: Vec<String> = answers
        .iter()
        .map(|o| match o {
            SubmissionOutcome::Rejected { reason } => reason.clone(),
            other => panic!("expected rejected, got {other:?}"),
        })
        .collect();
    assert!(reasons[0].contains("cannot be opened"), "{}", reasons[0]);
    assert!(reasons[1].contains("base64"), "{}", reasons[1]);
    assert!(reasons[2].contains("cannot be opened"), "{}", reasons[2]);
    assert!(reasons[3].contains("kind"), "{}", reasons[3]);
    assert!(reasons[4].contains("belongs to submission"), "{}", reasons[4]);

    // A rejected id sent again gets the same rejection.
    let (_, body) = terminal.post("/v1/submissions", &batch(&[garbage])).await;
    assert_eq!(outcomes(body), vec![answers[0].clone()]);
}

#[tokio::test]
async fn batches_out_of_bounds_and_malformed_bodies_are_400_with_an_error_body() {
    let terminal = enroll().await;
    let one = terminal.envelope(SubmissionKind::Grievance, json!({}));
    let too_many: Vec<_> = std::iter::repeat_n(one, MAX_BATCH + 1).collect();
    let (status, body) = terminal.post("/v1/submissions", &batch(&too_many)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("batch_size")), "{body}");
    let (status, body) = terminal.post("/v1/submissions", &batch(&[])).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("batch_size")), "{body}");

    for malformed in ["{\"envelopes\": [", "not json", "{\"envelopes\":[{\"id\":\"nope\"}]}", ""].map(str::as_bytes) {
        let (status, body) = json(send_signed(&terminal.key, &terminal.id, "POST", "/v1/submissions", malformed).await).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_body")), "{body}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_full_batch_is_filed_in_one_request() {
    let terminal = enroll().await;
    let envelopes: Vec<_> = (0..MAX_BATCH)
        .map(|_| terminal.envelope(SubmissionKind::Application, application_answers(&random_national_id(), "1975-06-15")))
        .collect();
    let (status, body) = terminal.post("/v1/submissions", &batch(&envelopes)).await;
    assert_eq!(status, 200, "{body}");
    let answers = outcomes(body);
    assert_eq!(answers.len(), MAX_BATCH);
    assert!(answers.iter().all(|o| matches!(o, SubmissionOutcome::Accepted { .. })));
}

#[tokio::test]
async fn a_body_of_several_mebibytes_within_the_limit_is_processed() {
    let terminal = enroll().await;
    let mut big = terminal.envelope(SubmissionKind::Grievance, json!({}));
    big.sealed = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 4 * 1024 * 1024]);
    let (status, body) = terminal.post("/v1/submissions", &batch(&[big])).await;
    assert_eq!(status, 200, "{body}");
    assert!(matches!(&outcomes(body)[0], SubmissionOutcome::Rejected { reason } if reason.contains("cannot be opened")));
}
