//! A terminal without a real-time clock and without network time (issue 12, item 3): the real
//! service run under libfaketime (its system clock at 1970, or 9 days behind; the node's is
//! right), against the real node through a recording proxy.
//!
//! libfaketime rather than a clock the service would read from test-only configuration: the
//! service under test is the very binary the image ships, every clock read it makes (chrono,
//! SQLite, UUIDv7, the HTTP signature) sees the wrong time as on a Pi booted without one, and
//! no code path exists only for tests. Monotonic clocks are left alone
//! (`FAKETIME_DONT_FAKE_MONOTONIC`), as a Pi's are: timers and timeouts keep working.
//!
//! Checked: capture works; what is recorded before the node confirmed the clock is marked
//! (`"clock": "not_set"` or `"unverified"` in the audit details; the capture times are the wrong
//! clock's, which is why the receipt shows "time not set" or "(unverified)" — the receipt text
//! itself is `peripherals::receipts`' unit tests); the node's refusal of the signatures'
//! `created` teaches the offset once, delivery resumes by itself with a bounded number of
//! refusals, and what is recorded after carries true times; nothing lost, nothing twice.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use chrono::{DateTime, Utc};
use e2e::cluster::Cluster;
use e2e::processes::NodeProcess;
use e2e::sample::Applicant;
use node_protocol::SubmissionKind;
use serde_json::Value;

const SYNC: &str = "request_timeout_ms = 2000\nbackoff_initial_ms = 100\nbackoff_max_ms = 1000\nbatch_size = 10\n";

/// libfaketime's multi-threaded library (the service runs several threads).
fn libfaketime() -> Result<PathBuf> {
    let candidates = [
        format!("/usr/lib/{}-linux-gnu/faketime/libfaketimeMT.so.1", std::env::consts::ARCH),
        "/usr/lib/faketime/libfaketimeMT.so.1".to_string(),
    ];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .with_context(|| format!("libfaketime not found at {candidates:?}: install the Debian package faketime (tests/scripts/install-deps.sh does)"))
}

/// Environment that runs the service with its system clock at `faketime` (libfaketime's
/// syntax: `@1970-01-01 00:00:00` starts there and runs on; `-9d` is 9 days behind).
fn wrong_clock(lib: &Path, faketime: &str) -> Vec<(String, String)> {
    vec![
        ("LD_PRELOAD".into(), lib.display().to_string()),
        ("FAKETIME".into(), faketime.into()),
        ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
    ]
}

/// One audit entry as stored.
#[derive(Debug)]
struct Entry {
    seq: i64,
    at: DateTime<Utc>,
    action: String,
    detail: Value,
}

fn audit_entries(storage: &Path) -> Result<Vec<Entry>> {
    let conn = rusqlite::Connection::open_with_flags(storage.join("audit.sqlite"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = conn.prepare("SELECT seq, at, action, detail FROM audit ORDER BY seq")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?)))?;
    let mut entries = Vec::new();
    for row in rows {
        let (seq, at, action, detail) = row?;
        entries.push(Entry { seq, at: DateTime::parse_from_rfc3339(&at)?.with_timezone(&Utc), action, detail: serde_json::from_str(&detail)? });
    }
    Ok(entries)
}

/// Capture times of the delivered submissions, by id.
fn delivered_created_at(storage: &Path) -> Result<Vec<(uuid::Uuid, DateTime<Utc>)>> {
    let conn = rusqlite::Connection::open_with_flags(storage.join("outbox.sqlite"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = conn.prepare("SELECT id, created_at FROM delivered WHERE created_at IS NOT NULL")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at) = row?;
        out.push((id.parse()?, DateTime::parse_from_rfc3339(&at)?.with_timezone(&Utc)));
    }
    Ok(out)
}

fn last_seq(storage: &Path) -> Result<i64> {
    Ok(audit_entries(storage)?.last().map_or(0, |e| e.seq))
}

/// The node's answers with status 401 (a signature refused) seen by the proxy.
fn refusals(cluster: &Cluster) -> usize {
    cluster.proxy.as_ref().map_or(0, |p| p.seen().iter().filter(|s| matches!(s.response, Some((401, _)))).count())
}

/// Most 401s a wrong clock may cost: each request in flight when the clock is found wrong is
/// refused once and re-signed (a batch, the second batch in flight, a heartbeat, a config
/// fetch), never more: a terminal that kept resending refused signatures would exceed it.
const MAX_REFUSALS: usize = 4;

async fn capture(cluster: &Cluster, n: usize) -> Result<HashSet<uuid::Uuid>> {
    let api = cluster.api()?;
    let mut ids = HashSet::new();
    for _ in 0..n {
        ids.insert(cluster.submit_one(&api, SubmissionKind::Application, &Applicant::default()).await?);
    }
    Ok(ids)
}

/// A provisioned terminal (set up with a right clock, the technician's visit) rebooted under
/// libfaketime at `faketime` with the node down: the cluster, the terminal's storage and the
/// audit log's last entry before the boot.
async fn rebooted_with_clock(faketime: &str) -> Result<(Cluster, std::path::PathBuf, i64)> {
    let lib = libfaketime()?;
    let mut cluster = Cluster::start(SYNC, Some(&["/v1/"])).await?;
    cluster.terminal.stop();
    cluster.node.stop();
    let storage = cluster.terminal.storage.clone();
    let before_boot = last_seq(&storage)?;
    let env = wrong_clock(&lib, faketime);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    cluster.terminal.start_with_env(&env).await?;
    Ok((cluster, storage, before_boot))
}

/// The node comes back on its port: what was queued drains, two more captures follow and
/// drain, and every acknowledged one is at the node exactly once.
async fn node_back_and_drained(cluster: &mut Cluster, mut acked: HashSet<uuid::Uuid>) -> Result<()> {
    let (data, port) = (cluster.node.data.clone(), cluster.node.port);
    cluster.node = NodeProcess::start(&data, port).await?;
    cluster.wait_drained(Duration::from_secs(60)).await?;
    acked.extend(capture(cluster, 2).await?);
    cluster.wait_drained(Duration::from_secs(60)).await?;
    cluster.assert_exactly_once(&acked, &HashSet::new())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booted_at_1970_it_captures_marks_the_time_not_set_and_delivers_once_the_node_answers() -> Result<()> {
    // Rebooted without a clock and without the node (the link is down).
    let (mut cluster, storage, before_boot) = rebooted_with_clock("@1970-01-01 00:00:00").await?;
    let acked = capture(&cluster, 3).await?;
    let entries = audit_entries(&storage)?;
    let started = entries.iter().find(|e| e.seq > before_boot && e.action == "service_started").context("no service_started entry after the boot")?;
    ensure!(started.at.timestamp() < 86_400 * 365, "the service's clock should read 1970 under faketime: {started:?}");
    ensure!(started.detail["clock_set"] == false && started.detail["clock"] == "not_set", "service_started must say the clock is not set: {started:?}");
    for e in entries.iter().filter(|e| e.seq > before_boot) {
        ensure!(e.detail["clock"] == "not_set", "an entry written at 1970 is not marked: {e:?}");
    }

    // The link comes back: the node refuses the 1970 signatures, its Date teaches the offset;
    // the two captured after carry the node's time.
    node_back_and_drained(&mut cluster, acked).await?;

    let refused = refusals(&cluster);
    eprintln!("booted at 1970: {refused} signatures refused before the offset was learned");
    ensure!((1..=MAX_REFUSALS).contains(&refused), "{refused} signatures refused: expected at least one (the 1970 clock) and at most {MAX_REFUSALS}");
    let entries = audit_entries(&storage)?;
    let learned = entries.iter().find(|e| e.seq > before_boot && e.action == "clock_offset_learned").context("no clock_offset_learned entry")?;
    let offset = learned.detail["node_minus_local_s"].as_i64().context("offset not a number")?;
    ensure!(offset > Utc::now().timestamp() - 86_400, "the offset learned should be about now − 1970: {learned:?}");
    let delivered = entries.iter().filter(|e| e.seq > before_boot && e.action == "batch_delivered").collect::<Vec<_>>();
    ensure!(!delivered.is_empty(), "no batch_delivered entries");
    for e in &delivered {
        ensure!(e.detail.get("clock").is_none(), "a delivery, made once the node accepted the clock, is marked: {e:?}");
        ensure!((e.at - Utc::now()).num_seconds().abs() < 300, "a delivery's time should be the node's: {e:?}");
    }
    // The capture times: the three captured at 1970 say 1970 (so their receipts say "time not
    // set"), the two captured after are true.
    let times = delivered_created_at(&storage)?;
    let at_1970 = times.iter().filter(|(_, at)| at.timestamp() < 86_400 * 365).count();
    let true_times = times.iter().filter(|(_, at)| (*at - Utc::now()).num_seconds().abs() < 300).count();
    ensure!((at_1970, true_times) == (3, 2), "capture times: {at_1970} at 1970, {true_times} true; expected 3 and 2: {times:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nine_days_behind_it_marks_times_unverified_until_the_node_corrects_them() -> Result<()> {
    let (mut cluster, storage, before_boot) = rebooted_with_clock("-9d").await?;
    let refused_before = refusals(&cluster);

    // Booted days behind, the node not reachable yet: a plausible time, unconfirmed.
    let acked = capture(&cluster, 3).await?;
    for e in audit_entries(&storage)?.iter().filter(|e| e.seq > before_boot) {
        ensure!(e.detail["clock"] == "unverified", "an entry written before the node confirmed the clock is not marked unverified: {e:?}");
        ensure!(e.detail.get("clock_set") != Some(&Value::Bool(false)), "9 days behind is still a set clock: {e:?}");
    }

    node_back_and_drained(&mut cluster, acked).await?;

    let refused = refusals(&cluster) - refused_before;
    eprintln!("9 days behind: {refused} signatures refused before the offset was learned");
    ensure!((1..=MAX_REFUSALS).contains(&refused), "{refused} signatures refused: expected at least one (9 days behind) and at most {MAX_REFUSALS}");
    let entries = audit_entries(&storage)?;
    let learned = entries.iter().find(|e| e.seq > before_boot && e.action == "clock_offset_learned").context("no clock_offset_learned entry")?;
    let offset = learned.detail["node_minus_local_s"].as_i64().context("offset not a number")?;
    ensure!((offset - 9 * 86_400).abs() < 300, "the offset learned should be 9 days: {learned:?}");
    for e in entries.iter().filter(|e| e.seq > before_boot && e.action == "batch_delivered") {
        ensure!(e.detail.get("clock").is_none() && (e.at - Utc::now()).num_seconds().abs() < 300, "a delivery's entry should carry the node-confirmed time: {e:?}");
    }
    let times = delivered_created_at(&storage)?;
    let behind = times.iter().filter(|(_, at)| ((Utc::now() - *at).num_seconds() - 9 * 86_400).abs() < 300).count();
    let true_times = times.iter().filter(|(_, at)| (*at - Utc::now()).num_seconds().abs() < 300).count();
    ensure!((behind, true_times) == (3, 2), "capture times: {behind} 9 days behind (receipts: unverified), {true_times} true; expected 3 and 2: {times:?}");
    Ok(())
}
