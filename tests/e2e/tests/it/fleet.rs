//! The short form of the fleet simulation (`e2e::fleet`; the long form is `src/bin/fleet.rs`):
//! terminals that queued applications while the node was down all reconnect at once to a node
//! that files two batches at a time; every application arrives exactly once and no terminal
//! sends anything before the `Retry-After` the overloaded node gave it.

use e2e::fleet::{run, FleetOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_fleet_loses_nothing_and_obeys_retry_after() -> anyhow::Result<()> {
    // Without jitter the terminals retry in lockstep, so the node is surely overloaded and the
    // Retry-After check has something to check.
    let report = run(&FleetOptions::short(false)).await?;
    eprintln!("{}", serde_json::to_string(&report)?);
    assert_eq!(report.submissions, 40 * 3);
    assert!(report.drained && report.still_queued == 0, "{report:?}");
    assert_eq!((report.lost, report.duplicated), (0, 0), "{report:?}");
    assert!(report.overloaded > 0, "the node must have been overloaded for this test to mean anything: {report:?}");
    assert_eq!(report.early_retries, 0, "{report:?}");
    Ok(())
}
