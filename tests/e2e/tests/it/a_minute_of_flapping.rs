//! The short form of the soak (`e2e::soak`; the long form is `tests/scripts/soak`): a minute of
//! the link flapping, the paper running out and ID cards coming and going under a steady
//! stream of saves and status checks; every acknowledged save reaches the node exactly once,
//! and the service's memory, descriptors and outbox are as flat in the last third as in the
//! middle one.
//!
//! The module's name puts it first: libtest starts a binary's tests in name order, and this one
//! is a minute long whatever the machine. Begun last (as `soak::`), it ran alone for most of
//! its minute after every other test had finished (46 s of a 166 s binary, measured).

use std::time::Duration;

use e2e::soak::{run, SoakOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaves_memory_files_and_outbox_flat() -> anyhow::Result<()> {
    let out = tempfile::Builder::new().prefix("soak-").tempdir()?;
    let report = run(&SoakOptions::for_duration(Duration::from_secs(60), out.path().to_path_buf())).await?;
    eprintln!("{}", serde_json::to_string_pretty(&report)?);
    // The run must have done what it claims, or flatness means nothing.
    let c = &report.counts;
    assert!(c.node_kills >= 3 && c.paper_outs >= 3 && c.cards_presented >= 5, "too few flaps, paper-outs or cards: {c:?}");
    assert!(c.receipts_printed > 0 && c.receipts_not_ready > 0, "receipts must be both printed and refused for want of paper: {c:?}");
    assert!(c.status_answered > 0 && c.status_unreachable > 0, "status checks must be both answered and refused while the node is down: {c:?}");
    assert!(report.node_stored >= 100, "too few saves for a meaningful soak: {report:?}");
    assert!(report.passed, "{:?}", report.failures);
    Ok(())
}
