//! The sync engine against a stub node that fails in every way a real one does.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::stub_node::{Fault, StubNode};
use common::{application_answers, eventually, Fixture};
use node_protocol::SubmissionKind;
use terminal_service::events::ConnectivityState;
use terminal_service::submission::{capture, CaptureRequest};
use terminal_service::sync::{self, SyncPhase};
use terminal_service::terminal::Terminal;
use tokio::sync::watch;
use uuid::Uuid;

async fn submit(terminal: &Arc<Terminal>, n: u64) -> Uuid {
    let answers = application_answers(n).as_object().unwrap().clone();
    let request = CaptureRequest { language: "ar".into(), answers, assisted_by: None };
    capture(terminal, SubmissionKind::Application, request).await.unwrap().id
}

async fn depth(terminal: &Arc<Terminal>) -> u64 {
    terminal.storage.outbox(|o| o.stats()).await.unwrap().depth
}

/// Starts the engine; dropping the sender stops it.
fn start(terminal: &Arc<Terminal>) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = watch::channel(false);
    let handle = tokio::spawn(sync::run(Arc::clone(terminal), stopped));
    (stop, handle)
}

async fn shut(stop: watch::Sender<bool>, handle: tokio::task::JoinHandle<()>) {
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), handle).await.expect("engine stops on request").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_lose_nothing_and_retries_reuse_the_same_ids() {
    let identity = age::x25519::Identity::generate();
    let node = StubNode::start(identity.clone()).await;
    let fixture = Fixture::provisioned_for(&node.url, identity);
    let terminal = fixture.open();
    let mut ids = HashSet::new();
    for n in 0..25 {
        ids.insert(submit(&terminal, n).await);
    }
    node.push_faults(&[
        Fault::Status500,
        Fault::Busy { retry_after_s: 1 },
        Fault::Delay(Duration::from_millis(800)), // past the 300 ms request timeout
        Fault::DropAck,
    ]);
    let (stop, handle) = start(&terminal);
    eventually("the outbox to drain", Duration::from_secs(20), || async { depth(&terminal).await == 0 }).await;
    shut(stop, handle).await;

    let seen = node.seen();
    assert!(seen.len() >= 5 + 2, "4 faults, the retry, then two more batches: {}", seen.len());
    for s in &seen[1..5] {
        assert_eq!(s.ids, seen[0].ids, "every retry of the failed batch carries the same ids in the same order");
    }
    let after_busy = seen[2].at.duration_since(seen[1].at);
    assert!(after_busy >= Duration::from_secs(1), "Retry-After: 1 honoured, retried after {after_busy:?}");
    let stored: HashSet<Uuid> = node.stored().keys().copied().collect();
    assert_eq!(stored, ids, "every captured submission reached the node, and nothing else");
    let stats = terminal.storage.outbox(|o| o.stats()).await.unwrap();
    assert_eq!((stats.depth, stats.delivered, stats.dead_letters), (0, 25, 0));
    // The case number of the batch whose acknowledgement was lost is the node's first answer.
    for id in &seen[0].ids {
        let local = terminal.storage.outbox({ let id = *id; move |o| o.case_number(id) }).await.unwrap();
        assert_eq!(local.as_deref(), node.stored().get(id).map(String::as_str));
    }
    assert_eq!(terminal.connectivity().state, ConnectivityState::Online);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_stay_in_the_outbox_while_the_node_fails() {
    let identity = age::x25519::Identity::generate();
    let node = StubNode::start(identity.clone()).await;
    let fixture = Fixture::provisioned_for(&node.url, identity);
    let terminal = fixture.open();
    for n in 0..3 {
        submit(&terminal, n).await;
    }
    node.push_faults(&[Fault::Status500; 6]);
    let (stop, handle) = start(&terminal);
    eventually("three failed attempts", Duration::from_secs(10), || async { node.seen().len() >= 3 }).await;
    assert_eq!(depth(&terminal).await, 3, "nothing leaves the outbox on a failure");
    let pending = terminal.storage.outbox(|o| o.pending(10)).await.unwrap();
    assert!(pending.iter().all(|p| p.attempts >= 3), "attempts are counted: {pending:?}");
    let diagnostics = terminal.diagnostics.lock().unwrap().clone();
    assert!(diagnostics.last_error.as_deref().unwrap_or("").contains("500"), "{diagnostics:?}");
    assert!(diagnostics.consecutive_failures >= 3);
    eventually("delivery after the faults", Duration::from_secs(10), || async { depth(&terminal).await == 0 }).await;
    shut(stop, handle).await;
    assert_eq!(node.stored().len(), 3);
    assert_eq!(terminal.diagnostics.lock().unwrap().consecutive_failures, 0, "success resets the backoff");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_become_dead_letters_and_are_audited() {
    let identity = age::x25519::Identity::generate();
    let node = StubNode::start(identity.clone()).await;
    let fixture = Fixture::provisioned_for(&node.url, identity);
    let terminal = fixture.open();
    for n in 0..5 {
        submit(&terminal, n).await;
    }
    node.reject_next(2);
    let (stop, handle) = start(&terminal);
    eventually("the outbox to drain", Duration::from_secs(10), || async { depth(&terminal).await == 0 }).await;
    shut(stop, handle).await;
    let dead = terminal.storage.outbox(|o| o.dead_letters()).await.unwrap();
    let rejected = node.rejected();
    assert_eq!(dead.len(), 2);
    for d in &dead {
        assert_eq!(rejected.get(&d.id), Some(&d.reason), "the node's reason is kept");
    }
    assert_eq!(node.stored().len(), 3);
    let audit = terminal.storage.audit_log(|a| a.recent(50)).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "submission_rejected").count(), 2);
    assert!(audit.iter().any(|e| e.action == "batch_delivered"));
    terminal.storage.audit_log(|a| a.verify()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_engine_wakes_up_for_a_new_submission() {
    let identity = age::x25519::Identity::generate();
    let node = StubNode::start(identity.clone()).await;
    let fixture = Fixture::provisioned_for(&node.url, identity);
    let terminal = fixture.open();
    let (stop, handle) = start(&terminal);
    eventually("the engine to go idle", Duration::from_secs(5), || async {
        terminal.diagnostics.lock().unwrap().state == SyncPhase::Idle
    })
    .await;
    let started = Instant::now();
    let id = submit(&terminal, 1).await;
    // The idle re-check is 30 s: only the wake-up explains a delivery within 5 s.
    eventually("the new submission to be delivered", Duration::from_secs(5), || async { node.stored().contains_key(&id) }).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    shut(stop, handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_node_means_offline_and_a_scheduled_retry() {
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let fixture = Fixture::provisioned(&format!("http://127.0.0.1:{port}"));
    let terminal = fixture.open();
    submit(&terminal, 7).await;
    let (stop, handle) = start(&terminal);
    eventually("a failed attempt", Duration::from_secs(5), || async {
        terminal.diagnostics.lock().unwrap().consecutive_failures >= 2
    })
    .await;
    let d = terminal.diagnostics.lock().unwrap().clone();
    assert_eq!(d.state, SyncPhase::Waiting);
    assert!(d.next_attempt_at.is_some() && d.last_error.is_some(), "{d:?}");
    assert_eq!(terminal.connectivity().state, ConnectivityState::Offline);
    assert_eq!(depth(&terminal).await, 1);
    shut(stop, handle).await;
}
