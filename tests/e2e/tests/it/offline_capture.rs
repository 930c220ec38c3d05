//! 1,000 applications captured while the node is down all arrive exactly once when it returns.

use std::collections::HashSet;
use std::time::Duration;

use e2e::cluster::{Cluster, FAST_SYNC};
use e2e::processes::NodeProcess;
use e2e::sample::Applicant;
use futures_util::future::join_all;
use node_protocol::SubmissionKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_captured_offline_arrive_exactly_once() -> anyhow::Result<()> {
    let mut cluster = Cluster::start(FAST_SYNC, None).await?;
    let api = cluster.api()?;
    let (data, port) = (cluster.node.data.clone(), cluster.node.port);
    cluster.node.stop();

    let mut acked = HashSet::new();
    let anyone = Applicant::default();
    for chunk in 0..125 {
        let batch = (0..8).map(|_| cluster.submit_one(&api, SubmissionKind::Application, &anyone));
        for id in join_all(batch).await {
            let id = id.map_err(|e| anyhow::anyhow!("chunk {chunk}: {e:#}"))?;
            assert!(acked.insert(id), "the terminal handed out id {id} twice");
        }
    }
    assert_eq!(acked.len(), 1000);
    assert_eq!(api.queue_depth().await?, 1000, "everything must wait in the outbox while the node is down");
    let health = api.health().await?;
    assert_ne!(health["connectivity"], "online", "the terminal should notice the node is down: {health}");

    cluster.node = NodeProcess::start(&data, port).await?;
    cluster.wait_drained(Duration::from_secs(120)).await?;
    cluster.assert_exactly_once(&acked, &HashSet::new())?;
    let stored = cluster.node.submissions()?;
    assert_eq!(stored.len(), 1000);
    Ok(())
}
