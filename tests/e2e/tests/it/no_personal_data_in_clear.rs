//! An applicant's name and national ID never appear in clear in the terminal's files or logs:
//! not while they wait in the outbox, and not after delivery.

use std::path::Path;
use std::time::Duration;

use e2e::cluster::{Cluster, FAST_SYNC};
use e2e::processes::NodeProcess;
use e2e::sample::Applicant;
use node_protocol::SubmissionKind;

const NAME: &str = "غضنفر ڕێبوار";
const NATIONAL_ID: &str = "197304251986";

/// Every file under `dir` (recursively) whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(p.display().to_string());
                }
            }
        }
    }
    hits
}

fn assert_nothing_in_clear(root: &Path, when: &str) {
    for needle in [NAME.as_bytes(), NATIONAL_ID.as_bytes()] {
        let hits = files_containing(root, needle);
        assert!(hits.is_empty(), "{when}: '{}' found in clear in {hits:?}", String::from_utf8_lossy(needle));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_and_national_ids_never_touch_disk_or_logs_in_clear() -> anyhow::Result<()> {
    let mut cluster = Cluster::start(FAST_SYNC, None).await?;
    let api = cluster.api()?;
    let (data, port) = (cluster.node.data.clone(), cluster.node.port);
    cluster.node.stop();

    let applicant = Applicant { name: Some(NAME.into()), national_id: Some(NATIONAL_ID.into()), date: Some("1973-04-25".into()) };
    for _ in 0..10 {
        cluster.submit_one(&api, SubmissionKind::Application, &applicant).await?;
        cluster.submit_one(&api, SubmissionKind::Grievance, &applicant).await?;
    }
    assert_eq!(api.queue_depth().await?, 20);
    // The terminal's whole directory: outbox (and its WAL), audit log, keys, config, logs.
    assert_nothing_in_clear(&cluster.terminal.root, "while queued");

    cluster.node = NodeProcess::start(&data, port).await?;
    cluster.wait_drained(Duration::from_secs(60)).await?;
    cluster.terminal.stop();
    assert_nothing_in_clear(&cluster.terminal.root, "after delivery");

    // The tracer did travel: sealed to the node, which can open it. Check through a status
    // query by national id, answered from what the node opened.
    assert_eq!(cluster.node.submissions()?.len(), 20);
    Ok(())
}
