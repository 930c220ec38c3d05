//! Two terminals each deliver a full batch at once, and every envelope is filed. The filing
//! rate is printed for a look, not asserted: on a shared two-core machine a timed assertion
//! fails with the load, not with the code. Speed is measured by the benchmark that compares the
//! node with its own baseline in one run (`tests/e2e/benches/sync_and_status.rs`, figures in
//! BENCHMARKS.md).
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
async fn two_full_batches_at_once_are_all_filed() {
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
            assert_eq!(response.results.len(), MAX_BATCH);
            assert!(response.results.iter().all(|r| matches!(r.outcome, SubmissionOutcome::Accepted { .. })));
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    let rate = (2 * MAX_BATCH) as f64 / elapsed.as_secs_f64();
    eprintln!("filed {} envelopes in {elapsed:?}: {rate:.0}/s", 2 * MAX_BATCH);
}
