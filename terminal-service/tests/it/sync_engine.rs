//! The sync engine against a stub node that fails in every way a real one does.


use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::stub_node::{Fault, StubNode};
use crate::common::{application_answers, eventually, Fixture};
use node_protocol::SubmissionKind;
use terminal_service::events::ConnectivityState;
use terminal_service::capture::submission::{capture, CaptureRequest};
use terminal_service::delivery::sync::{self, SyncPhase};
use terminal_service::terminal::Terminal;
use tokio::sync::watch;
use uuid::Uuid;

async fn submit(terminal: &Arc<Terminal>, n: u64) -> Uuid {
    let answers = application_answers(n).as_object().unwrap().clone();
    let request = CaptureRequest { language: "ar".into(), answers, assisted_by: None, duplicate_override: None, referral: None, targeting: None };
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
    // Wait for the third failure to be counted, not merely seen by the node: the attempt is
    // recorded after the answer comes back, so the node sees the request a little earlier.
    eventually("three failed attempts", Duration::from_secs(10), || async {
        terminal.diagnostics.lock().unwrap().consecutive_failures >= 3
    })
    .await;
    assert!(node.seen().len() >= 3);
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
async fn flagged_applications_are_audited_with_the_matched_case_numbers() {
    let identity = age::x25519::Identity::generate();
    let node = StubNode::start(identity.clone()).await;
    let fixture = Fixture::provisioned_for(&node.url, identity);
    let terminal = fixture.open();
    for n in 0..3 {
        submit(&terminal, n).await;
    }
    node.flag_next(1);
    let (stop, handle) = start(&terminal);
    eventually("the outbox to drain", Duration::from_secs(10), || async { depth(&terminal).await == 0 }).await;
    shut(stop, handle).await;
    assert_eq!(node.stored().len(), 3, "a flagged application is delivered like any other");
    let audit = terminal.storage.audit_log(|a| a.recent(50)).await.unwrap();
    let flagged: Vec<_> = audit.iter().filter(|e| e.action == "submission_flagged").collect();
    assert_eq!(flagged.len(), 1, "{audit:?}");
    let detail = &flagged[0].detail;
    assert_eq!(detail["decision"], "possible", "{detail}");
    assert_eq!(detail["matches"], serde_json::json!(["BSR-2026-000031"]), "{detail}");
    assert_eq!(detail["headquarters"], "checked", "{detail}");
    assert!(detail["case_number"].as_str().is_some_and(|c| c.starts_with("BGD-")), "{detail}");
    terminal.storage.audit_log(|a| a.verify()).await.unwrap();
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
    // Judge one snapshot: between two reads the engine may already have woken from a short
    // (fully jittered, possibly 0 ms) backoff and be sending again, which is not a failure.
    let deadline = Instant::now() + Duration::from_secs(5);
    let d = loop {
        let d = terminal.diagnostics.lock().unwrap().clone();
        if d.consecutive_failures >= 2 && d.state == SyncPhase::Waiting {
            break d;
        }
        assert!(Instant::now() < deadline, "no second failure with a scheduled retry within 5 s: {d:?}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    assert!(d.next_attempt_at.is_some() && d.last_error.is_some(), "{d:?}");
    assert_eq!(terminal.connectivity().state, ConnectivityState::Offline);
    assert_eq!(depth(&terminal).await, 1);
    shut(stop, handle).await;
}

/// A node that holds each `POST /v1/submissions` until another one is on the wire with it (or
/// a deadline passes), then stores and answers. It records, for each request, the ids it
/// carried and the ids of the requests in progress when it arrived.
#[derive(Clone, Default)]
struct HoldingNode {
    inner: Arc<std::sync::Mutex<HoldingState>>,
    active_changed: Arc<tokio::sync::Notify>,
}

#[derive(Default)]
struct HoldingState {
    /// Ids of each request being handled, by request number.
    active: std::collections::HashMap<usize, Vec<Uuid>>,
    /// Per request: its ids, and the ids of the requests already in progress when it arrived.
    requests: Vec<(Vec<Uuid>, Vec<Uuid>)>,
    max_active: usize,
    stored: std::collections::HashMap<Uuid, usize>,
}

impl HoldingNode {
    async fn start() -> (HoldingNode, String) {
        use axum::routing::post;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let node = HoldingNode::default();
        let app = axum::Router::new().route("/v1/submissions", post(hold_then_store)).with_state(node.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (node, url)
    }
}

async fn hold_then_store(
    axum::extract::State(node): axum::extract::State<HoldingNode>,
    axum::Json(batch): axum::Json<node_protocol::SubmissionBatch>,
) -> axum::Json<node_protocol::BatchResponse> {
    use node_protocol::{BatchResponse, SubmissionOutcome, SubmissionResult};
    let ids: Vec<Uuid> = batch.envelopes.iter().map(|e| e.id).collect();
    let number = {
        let mut s = node.inner.lock().unwrap();
        let others: Vec<Uuid> = s.active.values().flatten().copied().collect();
        let number = s.requests.len();
        s.requests.push((ids.clone(), others));
        s.active.insert(number, ids.clone());
        s.max_active = s.max_active.max(s.active.len());
        number
    };
    node.active_changed.notify_waiters();
    // Hold until a second request is in progress; give up after 2 s so a sequential engine
    // fails the assertions below instead of hanging.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let notified = node.active_changed.notified();
        if node.inner.lock().unwrap().active.len() >= 2 || Instant::now() >= deadline {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), notified).await;
    }
    let results = {
        let mut s = node.inner.lock().unwrap();
        s.active.remove(&number);
        ids.iter()
            .map(|id| {
                *s.stored.entry(*id).or_default() += 1;
                SubmissionResult { id: *id, outcome: SubmissionOutcome::Accepted { case_number: format!("BGD-{id}"), duplicate_check: None, referral_check: None } }
            })
            .collect()
    };
    node.active_changed.notify_waiters();
    axum::Json(BatchResponse { results })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_batches_are_in_flight_and_never_share_an_id() {
    let (node, url) = HoldingNode::start().await;
    let mut fixture = Fixture::provisioned(&url);
    // The node holds a request until the next one arrives: more than the fixture's 300 ms.
    fixture.config.sync.request_timeout_ms = 5_000;
    let terminal = fixture.open();
    let mut ids = HashSet::new();
    for n in 0..45 {
        ids.insert(submit(&terminal, n).await);
    }
    let (stop, handle) = start(&terminal);
    eventually("the outbox to drain", Duration::from_secs(20), || async { depth(&terminal).await == 0 }).await;
    shut(stop, handle).await;

    {
        let s = node.inner.lock().unwrap();
        assert_eq!(s.max_active, 2, "a second batch goes while the first is unanswered, never a third");
        let overlapping = s.requests.iter().filter(|(_, others)| !others.is_empty()).count();
        assert!(overlapping >= 2, "batches after the first overlap their predecessor: {overlapping} of {}", s.requests.len());
        for (sent, others) in &s.requests {
            let sent: HashSet<&Uuid> = sent.iter().collect();
            assert!(others.iter().all(|id| !sent.contains(id)), "an id went out while it was already in flight");
        }
        // No failure, so no resend: every id went exactly once.
        assert_eq!(s.stored.keys().copied().collect::<HashSet<_>>(), ids);
        assert!(s.stored.values().all(|&n| n == 1), "an id was sent twice: {:?}", s.stored.values().filter(|&&n| n > 1).count());
        assert_eq!(s.requests.len(), 5, "45 rows in batches of 10");
    }
    let stats = terminal.storage.outbox(|o| o.stats()).await.unwrap();
    assert_eq!((stats.depth, stats.delivered), (0, 45));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_holds_back_both_slots_and_failed_batches_go_again_unchanged() {
    let identity = age::x25519::Identity::generate();
    let node = StubNode::start(identity.clone()).await;
    let fixture = Fixture::provisioned_for(&node.url, identity);
    let terminal = fixture.open();
    let mut ids = HashSet::new();
    for n in 0..35 {
        ids.insert(submit(&terminal, n).await);
    }
    // The first batch goes alone and is answered; the next two go together. One is told to
    // come back in a second, the other gets a plain 500: whichever the engine settles first,
    // the Retry-After of the other must still hold back every new send.
    node.push_faults(&[Fault::None, Fault::Busy { retry_after_s: 1 }, Fault::Status500]);
    let (stop, handle) = start(&terminal);
    eventually("the outbox to drain", Duration::from_secs(20), || async { depth(&terminal).await == 0 }).await;
    shut(stop, handle).await;

    let seen = node.seen();
    let first: HashSet<Uuid> = seen[1].ids.iter().copied().collect();
    assert!(seen[2].ids.iter().all(|id| !first.contains(id)), "the two batches in flight share no id");
    let busy_at = seen[1..3].iter().find(|s| matches!(s.fault, Fault::Busy { .. })).expect("a 503 was served").at;
    for s in &seen[3..] {
        let after = s.at.duration_since(busy_at);
        assert!(after >= Duration::from_secs(1), "a batch went {after:?} after the 503 with Retry-After: 1");
    }
    // Both failed; they go again one at a time at first, each with the same ids in the same
    // order as before.
    assert!(seen[3].ids == seen[1].ids || seen[3].ids == seen[2].ids, "the retry resends a failed batch unchanged");
    let stored: HashSet<Uuid> = node.stored().keys().copied().collect();
    assert_eq!(stored, ids);
    let stats = terminal.storage.outbox(|o| o.stats()).await.unwrap();
    assert_eq!((stats.depth, stats.delivered, stats.dead_letters), (0, 35, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_batch_skips_ids_in_flight_and_keeps_queue_order() {
    let fixture = Fixture::provisioned("http://127.0.0.1:9");
    let terminal = fixture.open();
    for n in 0..25 {
        submit(&terminal, n).await;
    }
    let all: Vec<Uuid> = terminal.storage.outbox(|o| o.next_batch(100)).await.unwrap().iter().map(|e| e.id).collect();
    // The head batch plus one later row (a leftover between the chosen ones) are on the wire.
    let mut exclude: HashSet<Uuid> = all[..10].iter().copied().collect();
    exclude.insert(all[14]);
    let next = terminal.storage.outbox({ let exclude = exclude.clone(); move |o| o.next_batch_excluding(10, &exclude) }).await.unwrap();
    let expected: Vec<Uuid> = all[10..].iter().copied().filter(|id| !exclude.contains(id)).take(10).collect();
    assert_eq!(next.iter().map(|e| e.id).collect::<Vec<_>>(), expected, "oldest first, excluded ids skipped");
    // Same sealed bytes as an unfiltered read.
    let plain = terminal.storage.outbox(|o| o.next_batch(100)).await.unwrap();
    for e in &next {
        assert_eq!(plain.iter().find(|p| p.id == e.id), Some(e));
    }
    let everything: HashSet<Uuid> = all.iter().copied().collect();
    let none = terminal.storage.outbox(move |o| o.next_batch_excluding(10, &everything)).await.unwrap();
    assert!(none.is_empty());
}

/// A terminal booted without a real-time clock, 3 days behind: the node refuses its first
/// batch for the signature's `created`, the terminal learns the offset from the node's `Date`
/// and the same batch (same ids) goes once more, is accepted, and everything is delivered
/// exactly once; later batches are signed in the node's time from the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_days_behind_learns_the_nodes_time_and_delivers_exactly_once() {
    const THREE_DAYS_S: i64 = 3 * 86_400;
    let identity = age::x25519::Identity::generate();
    let node = StubNode::start(identity.clone()).await;
    node.set_clock_ahead(THREE_DAYS_S);
    let fixture = Fixture::provisioned_for(&node.url, identity);
    let terminal = fixture.open();
    let mut ids = HashSet::new();
    for n in 0..3 {
        ids.insert(submit(&terminal, n).await);
    }
    let (stop, handle) = start(&terminal);
    eventually("the outbox to drain", Duration::from_secs(10), || async { depth(&terminal).await == 0 }).await;
    // Captured after the offset was learned: goes through without a refusal.
    ids.insert(submit(&terminal, 3).await);
    eventually("the late submission to drain", Duration::from_secs(10), || async { depth(&terminal).await == 0 }).await;
    shut(stop, handle).await;

    let seen = node.seen();
    let refused: Vec<_> = seen.iter().filter(|s| s.fault == Fault::StaleSignature).collect();
    assert_eq!(refused.len(), 1, "one refusal, then signed in the node's time: {seen:?}");
    assert_eq!(seen[0].fault, Fault::StaleSignature);
    assert_eq!(seen[1].ids, seen[0].ids, "the refused batch goes again with the same ids");
    assert_eq!(seen.len(), 3, "refused, accepted, then the late one accepted at once: {seen:?}");
    let offset = terminal.provisioned().unwrap().client.clock().offset_s();
    assert!((offset - THREE_DAYS_S).abs() <= 2, "learned offset {offset} s");
    let stored: HashSet<Uuid> = node.stored().keys().copied().collect();
    assert_eq!(stored, ids, "every captured submission reached the node, and nothing else");
    let stats = terminal.storage.outbox(|o| o.stats()).await.unwrap();
    assert_eq!((stats.depth, stats.delivered, stats.dead_letters), (0, 4, 0));
    let learned = terminal.storage.audit_log(|a| a.recent(100)).await.unwrap().into_iter().filter(|e| e.action == "clock_offset_learned").count();
    assert_eq!(learned, 1, "the offset is written to the audit log once");
}
