//! Filing speed on loopback: two terminals each deliver a full batch at once. Opening each
//! envelope (X25519) dominates; unoptimised, curve25519 takes about 0.8 ms per envelope, so the
//! floor here is 400/s in a debug build and 3,000/s in an optimised one (where the node files
//! several thousand per second on two cores, as the sync target of 5,000/s needs).

use crate::common::*;
use node_protocol::{BatchResponse, SubmissionKind, SubmissionOutcome, MAX_BATCH};
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_batches_are_filed_quickly() {
    let terminals = [enroll().await, enroll().await];
    // Seal before timing: sealing is the terminal's cost, not the node's.
    let batches: Vec<Vec<_>> = terminals
        .iter()
        .map(|t| (0..MAX_BATCH).map(|_| t.envelope(SubmissionKind::Application, application_answers(&random_national_id(), "1970-01-01"))).collect())
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
