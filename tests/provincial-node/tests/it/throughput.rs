//! Filing speed on loopback: two terminals each deliver a full batch at once. Opening each
//! envelope (X25519) dominates; unoptimised, curve25519 takes about 0.8 ms per envelope, so the
//! floor here is 400/s in a debug build and 3,000/s in an optimised one (where the node files
//! several thousand per second on two cores, as the sync target of 5,000/s needs).
//!
//! Each application is a different person, as in a real batch: every new application is also
//! checked for duplicates against the province, and a thousand copies of one name would measure
//! the matcher's worst block (its own benchmarks do) instead of filing.

use crate::common::*;
use node_protocol::{BatchResponse, SubmissionKind, SubmissionOutcome, MAX_BATCH};
use std::time::Instant;

/// The `i`th of many different applicants: names drawn from short lists so that no two share
/// first, father's and grandfather's name and year of birth.
fn different_person(i: usize) -> serde_json::Value {
    const FIRST: [&str; 10] = ["زينب", "مريم", "فاطمة", "نور", "هدى", "سارة", "رقية", "زهراء", "آمنة", "سجى"];
    const FATHER: [&str; 10] = ["علي", "حسين", "كاظم", "جبار", "ناصر", "رضا", "حيدر", "عباس", "مهدي", "صادق"];
    const GRANDFATHER: [&str; 10] = ["حسن", "جواد", "كريم", "سلمان", "هادي", "طالب", "عبد الله", "ياسين", "فاضل", "مجيد"];
    let mut answers = application_answers(&random_national_id(), &format!("{}-01-15", 1940 + i / 1000 % 60));
    answers["first_name"] = FIRST[i % 10].into();
    answers["father_name"] = FATHER[i / 10 % 10].into();
    answers["grandfather_name"] = GRANDFATHER[i / 100 % 10].into();
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_batches_are_filed_quickly() {
    let terminals = [enroll().await, enroll().await];
    // Seal before timing: sealing is the terminal's cost, not the node's.
    let batches: Vec<Vec<_>> = terminals
        .iter()
        .enumerate()
        .map(|(n, t)| (0..MAX_BATCH).map(|i| t.envelope(SubmissionKind::Application, different_person(n * MAX_BATCH + i))).collect())
        .collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (terminal, batch) in terminals.into_iter().zip(batches) {
        tasks.push(tokio::spawn(async move {
            let (status, body) = terminal.post("/v1/submissions", &serde_json::json!({ "envelopes": batch })).await;
            assert_eq!(status, 200, "{body}");
            let response: BatchResponse = serde_json::from_value(body).unwrap();
            assert!(response.results.iter().all(|r| matches!(r.outcome, SubmissionOutcome::Accepted { .. })));
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    let rate = (2 * MAX_BATCH) as f64 / elapsed.as_secs_f64();
    eprintln!("filed {} envelopes in {elapsed:?}: {rate:.0}/s", 2 * MAX_BATCH);
    let floor = if cfg!(debug_assertions) { 300.0 } else { 3000.0 };
    assert!(rate > floor, "only {rate:.0} envelopes/s (floor {floor})");
}
