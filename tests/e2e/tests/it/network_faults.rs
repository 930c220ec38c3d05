//! Errors, timeouts, `Retry-After` and acknowledgements lost after the node committed: nothing
//! is lost and nothing is stored twice.

use std::collections::HashSet;
use std::time::Duration;

use e2e::cluster::Cluster;
use e2e::fault_proxy::{Fault, FaultMix};
use e2e::sample::Applicant;
use e2e::wait_for;
use node_protocol::SubmissionKind;

const SYNC: &str = "request_timeout_ms = 800\nbackoff_initial_ms = 50\nbackoff_max_ms = 800\nbatch_size = 20\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_lose_nothing_and_duplicate_nothing() -> anyhow::Result<()> {
    let cluster = Cluster::start(SYNC, Some(&["/v1/submissions"])).await?;
    let proxy = cluster.proxy.as_ref().expect("started with a proxy");
    let api = cluster.api()?;
    proxy.script(&[
        Fault::ServerError,
        Fault::DropAck,
        Fault::Hang(Duration::from_millis(1500)),
        Fault::AckTooLate(Duration::from_millis(1500)),
        Fault::DropAck,
        Fault::ServerError,
    ]);
    proxy.set_mix(FaultMix {
        server_error: 0.15,
        retry_after: (0.05, 1),
        hang: (0.05, Duration::from_millis(1200)),
        drop_ack: 0.2,
    });

    let mut acked = HashSet::new();
    for _ in 0..300 {
        acked.insert(cluster.submit_one(&api, SubmissionKind::Application, &Applicant::default()).await?);
    }
    for _ in 0..30 {
        acked.insert(cluster.submit_one(&api, SubmissionKind::Grievance, &Applicant::default()).await?);
    }
    cluster.wait_drained(Duration::from_secs(180)).await?;
    cluster.assert_exactly_once(&acked, &HashSet::new())?;

    let seen = proxy.seen();
    let faults: Vec<Fault> = seen.iter().filter(|s| s.path.starts_with("/v1/submissions")).map(|s| s.fault).collect();
    let lost_acks = faults.iter().filter(|f| matches!(f, Fault::DropAck | Fault::AckTooLate(_))).count();
    assert!(lost_acks >= 3, "the test must actually lose acknowledgements ({lost_acks})");
    let stats = cluster.node.stats()?;
    let repeats = stats["duplicate_deliveries"].as_u64().unwrap_or(0);
    assert!(repeats > 0, "lost acknowledgements must lead to repeated deliveries answered `duplicate`: {stats}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() -> anyhow::Result<()> {
    let cluster = Cluster::start(SYNC, Some(&["/v1/submissions"])).await?;
    let proxy = cluster.proxy.as_ref().expect("started with a proxy");
    let api = cluster.api()?;
    proxy.script(&[Fault::RetryAfter(2)]);
    let id = cluster.submit_one(&api, SubmissionKind::Application, &Applicant::default()).await?;
    cluster.wait_drained(Duration::from_secs(30)).await?;
    cluster.assert_exactly_once(&HashSet::from([id]), &HashSet::new())?;

    let sends: Vec<_> = proxy.seen().into_iter().filter(|s| s.path.starts_with("/v1/submissions")).collect();
    assert!(sends.len() >= 2, "expected a refused and a successful send, saw {}", sends.len());
    assert_eq!(sends[0].fault, Fault::RetryAfter(2));
    let gap = sends[1].at.duration_since(sends[0].at);
    assert!(gap >= Duration::from_millis(1950), "retried after {gap:?}, before the 2 s the node asked for");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_errors_show_as_offline_then_recover() -> anyhow::Result<()> {
    let cluster = Cluster::start(SYNC, Some(&["/v1/submissions"])).await?;
    let proxy = cluster.proxy.as_ref().expect("started with a proxy");
    let api = cluster.api()?;
    proxy.script(&[Fault::ServerError; 6]);
    let id = cluster.submit_one(&api, SubmissionKind::Application, &Applicant::default()).await?;
    wait_for("several failed sends", Duration::from_secs(30), Duration::from_millis(50), || {
        let n = proxy.seen().iter().filter(|s| s.fault == Fault::ServerError).count();
        async move { (n >= 6).then_some(()) }
    })
    .await?;
    cluster.wait_drained(Duration::from_secs(30)).await?;
    cluster.assert_exactly_once(&HashSet::from([id]), &HashSet::new())?;
    Ok(())
}
