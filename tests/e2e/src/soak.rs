//! A soak: the real terminal-service (simulated hardware) against the reference node for a long
//! while, with everything that comes and goes in the field coming and going, and the service's
//! memory, open files and outbox sampled all along.
//!
//! What happens during a run, all at once:
//! - **saves**: applications (and every tenth a grievance) through the local API, one every
//!   `save_every`; every `receipt_every`-th acknowledged one gets its receipt printed;
//! - **status checks**: by receipt reference, and by the ID card put on the simulated reader
//!   for the check and taken off after it (the card comes and goes with every other check);
//! - **the link flapping**: the node is killed (`SIGKILL`) and restarted on the same port and
//!   data, `node_up` then `node_down`, over and over: deliveries, heartbeats and status checks
//!   fail and resume;
//! - **the printer** running out of paper and being refilled, `paper_ok` then `paper_out`:
//!   receipts asked for meanwhile are refused `409 printer_not_ready`, as the kiosk sees.
//!
//! Every `sample_every` the service's resident memory (`VmRSS` in `/proc/PID/status`), its
//! open file descriptors (`/proc/PID/fd`), its queue depth (`GET /v1/queue`), the outbox's
//! files on disk (database and WAL) and, of those, the delivered history (the `delivered`
//! table and its indexes, which keep every delivered submission's id, case number and applicant
//! key for reprints and the duplicate warning, and grow by design) are written as a row of
//! `samples.csv`. At the end the flaps
//! stop with the node up, the paper is refilled, the outbox drains, and the run is judged:
//! every acknowledged submission is stored at the node exactly once; the last third of the run
//! against the middle third (the first third is warm-up: caches, fonts, the allocator's
//! arenas): mean RSS grown by at most [`RSS_GROWTH_LIMIT`], median descriptors within
//! [`FD_TOLERANCE`], the outbox's size on disk without the delivered history (90th percentile
//! of the samples) within [`OUTBOX_GROWTH_LIMIT`]; and the queue back to 0. Ratios, never wall-clock times: the machine's speed changes how much work fits
//! in a run, not the verdict.
//!
//! Run by `src/bin/soak.rs` (`tests/scripts/soak`, long form in BENCHMARKS.md) and, 60 s, by
//! the test `a_minute_of_flapping::` in `tests/it`.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use node_protocol::SubmissionKind;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::cluster::Cluster;
use crate::local_api::LocalApi;
use crate::processes::NodeProcess;
use crate::sample::{answers, Applicant};

/// Largest growth of mean resident memory from the middle third to the last third.
pub const RSS_GROWTH_LIMIT: f64 = 0.10;
/// Largest difference of the median open descriptors between the middle and last thirds.
pub const FD_TOLERANCE: f64 = 2.0;
/// Largest growth of the outbox's size on disk without its delivered history (the 90th
/// percentile of each third's samples), from the middle to the last third. Not the largest
/// sample: a leak raises every sample, while one sample taken between a burst of writes and the
/// next WAL checkpoint is a moment, not a trend (the 2-hour run of 2026-12-03 had one such sample
/// at 1.28 × the middle third's largest, its 90th percentile 1.015 ×).
pub const OUTBOX_GROWTH_LIMIT: f64 = 0.10;

/// Sync settings of the soaked terminal: quick retries, so that a flap's backlog drains within
/// the next up-phase; a request timeout well under an up-phase.
const SOAK_SYNC: &str = "request_timeout_ms = 2000\nbackoff_initial_ms = 100\nbackoff_max_ms = 2000\nbatch_size = 50\n";

/// The reference node's seeded applicant (tests/provincial-node `seed.rs`): a status check by
/// reference and by ID card finds an active benefit.
const SEEDED_REFERENCE: &str = "7K2QX-M4B9R";
const SEEDED_DATE_OF_BIRTH: &str = "1985-03-14";
const SEEDED_NATIONAL_ID: &str = "199001234567";

/// What to run.
#[derive(Debug, Clone, Serialize)]
pub struct SoakOptions {
    /// Length of the run (flaps, saves, checks), before the final drain.
    pub duration: Duration,
    /// Time between two samples.
    pub sample_every: Duration,
    /// Time between two saves.
    pub save_every: Duration,
    /// Every this many acknowledged saves, print the receipt.
    pub receipt_every: u64,
    /// Time between two status checks (the terminal allows 30 a minute by default).
    pub status_every: Duration,
    /// How long the node stays up, then down, in each flap.
    pub node_up: Duration,
    /// See `node_up`.
    pub node_down: Duration,
    /// How long the paper lasts, then stays out, in each cycle.
    pub paper_ok: Duration,
    /// See `paper_ok`.
    pub paper_out: Duration,
    /// Where `samples.csv`, `summary.json` and the logs go.
    pub out_dir: PathBuf,
}

impl SoakOptions {
    /// A run of `duration` with cycles scaled so each third holds several of each: flaps of
    /// 8 s up / 4 s down in a minute's run, at most 90 s / 30 s in long runs.
    pub fn for_duration(duration: Duration, out_dir: PathBuf) -> SoakOptions {
        let secs = duration.as_secs_f64();
        let cycle = (secs / 5.0).clamp(12.0, 120.0);
        SoakOptions {
            duration,
            sample_every: Duration::from_secs_f64((secs / 60.0).clamp(1.0, 10.0)),
            save_every: Duration::from_millis(250),
            receipt_every: 5,
            status_every: Duration::from_millis(2500),
            node_up: Duration::from_secs_f64(cycle * 2.0 / 3.0),
            node_down: Duration::from_secs_f64(cycle / 3.0),
            paper_ok: Duration::from_secs_f64(cycle * 0.75),
            paper_out: Duration::from_secs_f64(cycle * 0.25),
            out_dir,
        }
    }
}

/// One sample.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Seconds since the start.
    pub t_s: f64,
    /// Whether the node was up when sampled.
    pub node_up: bool,
    /// Resident memory of terminal-service, KiB.
    pub rss_kib: u64,
    /// Open file descriptors of terminal-service.
    pub fds: u64,
    /// Queue depth as `GET /v1/queue` says (`None` when it did not answer).
    pub queue_depth: Option<u64>,
    /// `outbox.sqlite` plus its WAL, bytes.
    pub outbox_bytes: u64,
    /// Of which the delivered history: the `delivered` table and its indexes (SQLite's
    /// `dbstat`), kept by design for receipt reprints and the duplicate warning.
    pub history_bytes: u64,
    /// Rows in the delivered history.
    pub delivered_rows: u64,
    /// `audit.sqlite` plus its WAL, bytes (a log: it grows by design).
    pub audit_bytes: u64,
    /// Saves acknowledged so far.
    pub acked: u64,
}

/// Counters of what the run did.
#[derive(Debug, Default, Serialize)]
pub struct Counts {
    /// Saves acknowledged (201).
    pub saves_acked: u64,
    /// Saves refused with an HTTP answer (none expected).
    pub saves_refused: u64,
    /// Saves with no answer at all (none expected: the service is never killed).
    pub saves_unanswered: u64,
    /// Receipts printed.
    pub receipts_printed: u64,
    /// Receipts refused as `printer_not_ready` (paper out).
    pub receipts_not_ready: u64,
    /// Status checks answered by the node.
    pub status_answered: u64,
    /// Status checks answered `503 node_unreachable` (node down).
    pub status_unreachable: u64,
    /// Status checks answered otherwise (rate limit, card not read…), with the last reason.
    pub status_other: u64,
    /// Cards put on the reader.
    pub cards_presented: u64,
    /// Times the node was killed.
    pub node_kills: u64,
    /// Times the paper ran out.
    pub paper_outs: u64,
}

/// One comparison of the last third with the middle third.
#[derive(Debug, Clone, Serialize)]
pub struct Flatness {
    /// What is compared.
    pub measure: &'static str,
    /// Its value over the middle third.
    pub middle: f64,
    /// Its value over the last third.
    pub last: f64,
    /// The rule.
    pub rule: String,
    /// Whether the rule holds.
    pub ok: bool,
}

/// What a run found.
#[derive(Debug, Serialize)]
pub struct SoakReport {
    /// How long the flapping part lasted, seconds (the true length).
    pub ran_s: f64,
    /// How long the final drain took, seconds.
    pub final_drain_s: f64,
    /// Samples taken.
    pub samples: usize,
    /// What happened.
    pub counts: Counts,
    /// Submissions the node stored.
    pub node_stored: usize,
    /// Repeated deliveries the node answered `duplicate` (lost acknowledgements).
    pub node_repeat_deliveries: u64,
    /// Lost: acknowledged but not at the node.
    pub lost: usize,
    /// Stored twice at the node.
    pub duplicated: usize,
    /// Queue depth after the final drain.
    pub final_queue_depth: Option<u64>,
    /// The flatness rules.
    pub flatness: Vec<Flatness>,
    /// RSS at the first, middle and last sample, KiB (for the record).
    pub rss_kib_first_mid_last: (u64, u64, u64),
    /// Audit log growth, bytes per hour of run (a log grows by design; recorded, not judged).
    pub audit_bytes_per_hour: f64,
    /// Delivered history per delivered submission, bytes (grows by design; recorded, not judged).
    pub history_bytes_per_delivered: f64,
    /// Every rule held and nothing was lost or duplicated.
    pub passed: bool,
    /// Why not, when not.
    pub failures: Vec<String>,
}

/// Resident memory of `pid` in KiB (`VmRSS` of `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no VmRSS in /proc/{pid}/status"))
}

/// Open file descriptors of `pid` (entries of `/proc/PID/fd`).
pub fn open_fds(pid: u32) -> Result<u64> {
    Ok(fs::read_dir(format!("/proc/{pid}/fd")).with_context(|| format!("listing /proc/{pid}/fd"))?.count() as u64)
}

/// Size of a SQLite database and its WAL, bytes (missing files count 0).
fn sqlite_bytes(db: &Path) -> u64 {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    [db.to_path_buf(), wal].iter().filter_map(|p| fs::metadata(p).ok()).map(|m| m.len()).sum()
}

/// The outbox's delivered history: bytes of the `delivered` table and its indexes, and rows.
/// Read-only, in a read transaction of its own (WAL: it does not block the service's writes).
fn delivered_history(db: &Path) -> Result<(u64, u64)> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {} read-only", db.display()))?;
    let bytes: i64 = conn.query_row(
        "SELECT COALESCE(SUM(d.pgsize), 0) FROM dbstat d JOIN sqlite_schema s ON s.name = d.name WHERE s.tbl_name = 'delivered'",
        [],
        |r| r.get(0),
    )?;
    let rows: i64 = conn.query_row("SELECT COUNT(*) FROM delivered", [], |r| r.get(0))?;
    Ok((u64::try_from(bytes).unwrap_or(0), u64::try_from(rows).unwrap_or(0)))
}

struct Shared {
    stop: AtomicBool,
    acked_count: AtomicU64,
    acked: Mutex<HashSet<Uuid>>,
    node_up: AtomicBool,
    counts: Mutex<Counts>,
    last_status_other: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sleeps `d`, in steps, returning early when the run is stopping.
async fn pause(shared: &Shared, d: Duration) {
    let until = Instant::now() + d;
    while !shared.stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(Duration::from_millis(200))).await;
    }
}

/// Runs a soak and writes `samples.csv` and `summary.json` into `options.out_dir`.
pub async fn run(options: &SoakOptions) -> Result<SoakReport> {
    fs::create_dir_all(&options.out_dir).with_context(|| format!("creating {}", options.out_dir.display()))?;
    let mut cluster = Cluster::start(SOAK_SYNC, None).await?;
    let api = cluster.api()?;
    let pid = cluster.terminal.pid().context("terminal-service is not running")?;
    let outbox_db = cluster.terminal.storage.join(terminal_service::capture::storage::OUTBOX_FILE);
    let audit_db = cluster.terminal.storage.join(terminal_service::capture::storage::AUDIT_FILE);
    let node_data = cluster.node.data.clone();
    let node_port = cluster.node.port;

    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        acked_count: AtomicU64::new(0),
        acked: Mutex::new(HashSet::new()),
        node_up: AtomicBool::new(true),
        counts: Mutex::new(Counts::default()),
        last_status_other: Mutex::new(None),
    });

    let saver = tokio::spawn(saves(api.clone(), cluster.forms.clone(), shared.clone(), options.clone()));
    let checker = tokio::spawn(status_checks(api.clone(), shared.clone(), options.status_every));
    let printer = tokio::spawn(paper_cycles(api.clone(), shared.clone(), options.paper_ok, options.paper_out));

    let mut csv = fs::File::create(options.out_dir.join("samples.csv"))?;
    writeln!(csv, "t_s,node_up,rss_kib,fds,queue_depth,outbox_bytes,history_bytes,delivered_rows,audit_bytes,acked")?;
    let mut samples = Vec::new();
    let start = Instant::now();
    let mut next_sample = start;
    // The flaps run here, between samples: the node process is this task's to kill and start.
    let mut node: Option<NodeProcess> = None; // Some while a restarted node runs
    let mut phase_end = start + options.node_up;
    while start.elapsed() < options.duration {
        let now = Instant::now();
        if now >= phase_end {
            if shared.node_up.load(Ordering::Relaxed) {
                match node.as_mut() {
                    Some(n) => n.stop(),
                    None => cluster.node.stop(),
                }
                shared.node_up.store(false, Ordering::Relaxed);
                lock(&shared.counts).node_kills += 1;
                phase_end = Instant::now() + options.node_down;
            } else {
                node = Some(NodeProcess::start(&node_data, node_port).await.context("restarting the node after a flap")?);
                shared.node_up.store(true, Ordering::Relaxed);
                phase_end = Instant::now() + options.node_up;
            }
        }
        if now >= next_sample {
            let sample = take_sample(&api, pid, &outbox_db, &audit_db, &shared, start).await?;
            write_row(&mut csv, &sample)?;
            samples.push(sample);
            next_sample += options.sample_every;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ran_s = start.elapsed().as_secs_f64();
    shared.stop.store(true, Ordering::Relaxed);
    saver.await??;
    checker.await??;
    printer.await??;

    // The end of the flaps: the node up, the paper refilled, everything delivered.
    if !shared.node_up.load(Ordering::Relaxed) {
        node = Some(NodeProcess::start(&node_data, node_port).await.context("restarting the node for the final drain")?);
    }
    set_paper(&api, "ok").await?;
    let drain_start = Instant::now();
    let drained = cluster.wait_drained(Duration::from_secs(300)).await;
    let final_drain_s = drain_start.elapsed().as_secs_f64();
    let last = take_sample(&api, pid, &outbox_db, &audit_db, &shared, start).await?;
    write_row(&mut csv, &last)?;
    samples.push(last);
    drop(csv);

    let acked = lock(&shared.acked).clone();
    let node_ref = node.as_ref().unwrap_or(&cluster.node);
    let stored = node_ref.submissions()?;
    let mut seen = HashSet::new();
    let duplicated = stored.iter().filter(|s| !seen.insert(s.id)).count();
    let lost = acked.iter().filter(|id| !seen.contains(id)).count();
    let strangers = seen.iter().filter(|id| !acked.contains(id)).count();
    let node_repeat_deliveries = stored.iter().map(|s| s.deliveries.saturating_sub(1)).sum();

    let mut failures = Vec::new();
    if let Err(e) = drained {
        failures.push(format!("the outbox did not drain after the run: {e:#}"));
    }
    if lost > 0 {
        failures.push(format!("{lost} acknowledged submissions never reached the node"));
    }
    if duplicated > 0 {
        failures.push(format!("{duplicated} submissions stored twice at the node"));
    }
    let counts = std::mem::take(&mut *lock(&shared.counts));
    if strangers > counts.saves_unanswered as usize {
        failures.push(format!("the node stored {strangers} submissions never acknowledged, more than the {} unanswered saves", counts.saves_unanswered));
    }
    if counts.saves_refused > 0 {
        failures.push(format!("{} valid saves were refused", counts.saves_refused));
    }
    let flatness = judge(&samples[..samples.len().saturating_sub(1)]);
    for f in flatness.iter().filter(|f| !f.ok) {
        failures.push(format!("{} not flat: middle third {:.1}, last third {:.1} ({})", f.measure, f.middle, f.last, f.rule));
    }
    let final_queue_depth = samples.last().and_then(|s| s.queue_depth);
    if final_queue_depth != Some(0) {
        failures.push(format!("queue depth after the final drain is {final_queue_depth:?}, not 0"));
    }
    if samples.len() < 9 {
        failures.push(format!("only {} samples: too few to judge thirds (lengthen the run or sample more often)", samples.len()));
    }
    let audit_growth = match (samples.first(), samples.last()) {
        (Some(a), Some(b)) if b.t_s > a.t_s => (b.audit_bytes as f64 - a.audit_bytes as f64) / (b.t_s - a.t_s) * 3600.0,
        _ => 0.0,
    };
    let mid = samples.get(samples.len() / 2).map_or(0, |s| s.rss_kib);
    let history_per_delivered = samples.last().filter(|s| s.delivered_rows > 0).map_or(0.0, |s| s.history_bytes as f64 / s.delivered_rows as f64);
    let report = SoakReport {
        ran_s,
        final_drain_s,
        samples: samples.len(),
        node_stored: stored.len(),
        node_repeat_deliveries,
        lost,
        duplicated,
        final_queue_depth,
        flatness,
        rss_kib_first_mid_last: (samples.first().map_or(0, |s| s.rss_kib), mid, samples.last().map_or(0, |s| s.rss_kib)),
        audit_bytes_per_hour: audit_growth,
        history_bytes_per_delivered: history_per_delivered,
        passed: failures.is_empty(),
        failures,
        counts,
    };
    let summary = json!({ "options": options, "report": &report, "last_status_other": *lock(&shared.last_status_other) });
    fs::write(options.out_dir.join("summary.json"), serde_json::to_string_pretty(&summary)?)?;
    // Keep the logs of both processes next to the figures.
    let _ = fs::copy(&cluster.terminal.log, options.out_dir.join("terminal.log"));
    let _ = fs::copy(&node_ref.log, options.out_dir.join("node.log"));
    cluster.terminal.stop();
    Ok(report)
}

fn write_row(csv: &mut fs::File, s: &Sample) -> Result<()> {
    writeln!(
        csv,
        "{:.1},{},{},{},{},{},{},{},{},{}",
        s.t_s,
        u8::from(s.node_up),
        s.rss_kib,
        s.fds,
        s.queue_depth.map_or(String::new(), |d| d.to_string()),
        s.outbox_bytes,
        s.history_bytes,
        s.delivered_rows,
        s.audit_bytes,
        s.acked
    )?;
    Ok(())
}

async fn take_sample(api: &LocalApi, pid: u32, outbox: &Path, audit: &Path, shared: &Shared, start: Instant) -> Result<Sample> {
    let queue_depth = api.queue_depth().await.ok();
    let (history_bytes, delivered_rows) = delivered_history(outbox)?;
    Ok(Sample {
        t_s: start.elapsed().as_secs_f64(),
        node_up: shared.node_up.load(Ordering::Relaxed),
        rss_kib: rss_kib(pid).context("terminal-service died during the soak")?,
        fds: open_fds(pid)?,
        queue_depth,
        outbox_bytes: sqlite_bytes(outbox),
        history_bytes,
        delivered_rows,
        audit_bytes: sqlite_bytes(audit),
        acked: shared.acked_count.load(Ordering::Relaxed),
    })
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The 90th percentile (nearest rank).
fn p90(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get((v.len() * 9).div_ceil(10).saturating_sub(1)).copied().unwrap_or(0.0)
}

/// The flatness rules over `samples` (those taken during the run), middle third against last.
pub fn judge(samples: &[Sample]) -> Vec<Flatness> {
    let n = samples.len();
    let (middle, last) = (&samples[n / 3..2 * n / 3], &samples[2 * n / 3..]);
    let of = |part: &[Sample], f: fn(&Sample) -> f64| part.iter().map(f).collect::<Vec<f64>>();
    let rss = (mean(&of(middle, |s| s.rss_kib as f64)), mean(&of(last, |s| s.rss_kib as f64)));
    let fds = (median(&of(middle, |s| s.fds as f64)), median(&of(last, |s| s.fds as f64)));
    let without_history = |s: &Sample| s.outbox_bytes.saturating_sub(s.history_bytes) as f64;
    let outbox = (p90(&middle.iter().map(without_history).collect::<Vec<_>>()), p90(&last.iter().map(without_history).collect::<Vec<_>>()));
    vec![
        Flatness {
            measure: "resident memory (mean, KiB)",
            middle: rss.0,
            last: rss.1,
            rule: format!("last ≤ {:.2} × middle", 1.0 + RSS_GROWTH_LIMIT),
            ok: rss.1 <= rss.0 * (1.0 + RSS_GROWTH_LIMIT),
        },
        Flatness {
            measure: "open file descriptors (median)",
            middle: fds.0,
            last: fds.1,
            rule: format!("|last − middle| ≤ {FD_TOLERANCE}"),
            ok: (fds.1 - fds.0).abs() <= FD_TOLERANCE,
        },
        Flatness {
            measure: "outbox on disk without the delivered history (90th percentile, bytes)",
            middle: outbox.0,
            last: outbox.1,
            rule: format!("last ≤ {:.2} × middle", 1.0 + OUTBOX_GROWTH_LIMIT),
            ok: outbox.1 <= outbox.0 * (1.0 + OUTBOX_GROWTH_LIMIT),
        },
    ]
}

/// Saves at a steady pace; prints every `receipt_every`-th receipt.
async fn saves(api: LocalApi, forms: crate::local_api::Forms, shared: Arc<Shared>, options: SoakOptions) -> Result<()> {
    let application = forms.form(SubmissionKind::Application)?.clone();
    let grievance = forms.form(SubmissionKind::Grievance)?.clone();
    let mut n: u64 = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        n += 1;
        let (kind, form) = if n % 10 == 0 { (SubmissionKind::Grievance, &grievance) } else { (SubmissionKind::Application, &application) };
        let body = answers(form, &forms.master_data, &Applicant::default());
        let language = ["ar", "ckb", "en"][(n % 3) as usize];
        match api.submit(kind, language, &body).await {
            Ok(Ok(ack)) => {
                lock(&shared.acked).insert(ack.id);
                let acked = shared.acked_count.fetch_add(1, Ordering::Relaxed) + 1;
                lock(&shared.counts).saves_acked += 1;
                if acked % options.receipt_every == 0 {
                    let body = json!({"submission_id": ack.id, "language": language});
                    let (status, text) = api.raw("POST", "/v1/receipts", Some("application/json"), serde_json::to_vec(&body)?).await?;
                    match status {
                        201 => lock(&shared.counts).receipts_printed += 1,
                        409 if text.contains("printer_not_ready") => lock(&shared.counts).receipts_not_ready += 1,
                        _ => bail!("printing the receipt of {}: {status} {text}", ack.id),
                    }
                }
            }
            Ok(Err((status, text))) => {
                lock(&shared.counts).saves_refused += 1;
                note(&format!("save refused: {status} {text}"));
            }
            Err(_) => lock(&shared.counts).saves_unanswered += 1,
        }
        pause(&shared, options.save_every).await;
    }
    Ok(())
}

/// A line on stderr (the e2e crate has no logger).
fn note(line: &str) {
    eprintln!("soak: {line}");
}

/// Status checks: by reference, and by the ID card put on the reader for the check.
async fn status_checks(api: LocalApi, shared: Arc<Shared>, every: Duration) -> Result<()> {
    let mut n: u64 = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        n += 1;
        let by_card = n % 2 == 0;
        let query = if by_card {
            let card = json!({"uid": "04A1B2C3D4E580", "national_id": SEEDED_NATIONAL_ID, "date_of_birth": SEEDED_DATE_OF_BIRTH});
            let (status, text) = api.raw("POST", "/v1/simulator/card", Some("application/json"), serde_json::to_vec(&card)?).await?;
            if status != 204 {
                bail!("putting the ID card on the reader: {status} {text}");
            }
            lock(&shared.counts).cards_presented += 1;
            json!({"query": {"by": "id_card"}})
        } else {
            json!({"query": {"by": "reference", "reference": SEEDED_REFERENCE, "date_of_birth": SEEDED_DATE_OF_BIRTH}})
        };
        let (status, text) = api.raw("POST", "/v1/status-checks", Some("application/json"), serde_json::to_vec(&query)?).await?;
        match status {
            200 => lock(&shared.counts).status_answered += 1,
            503 if text.contains("node_unreachable") => lock(&shared.counts).status_unreachable += 1,
            _ => {
                lock(&shared.counts).status_other += 1;
                *lock(&shared.last_status_other) = Some(format!("{status} {text}"));
            }
        }
        if by_card {
            let (status, text) = api.raw("DELETE", "/v1/simulator/card", None, Vec::new()).await?;
            if status != 204 {
                bail!("taking the ID card off: {status} {text}");
            }
        }
        pause(&shared, every).await;
    }
    Ok(())
}

async fn set_paper(api: &LocalApi, paper: &str) -> Result<Value> {
    let (status, text) = api.raw("POST", "/v1/simulator/printer", Some("application/json"), serde_json::to_vec(&json!({"paper": paper}))?).await?;
    if status != 200 {
        bail!("setting the simulated printer's paper to {paper}: {status} {text}");
    }
    Ok(serde_json::from_str(&text)?)
}

/// The paper runs out and is refilled, over and over.
async fn paper_cycles(api: LocalApi, shared: Arc<Shared>, ok: Duration, out: Duration) -> Result<()> {
    while !shared.stop.load(Ordering::Relaxed) {
        pause(&shared, ok).await;
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        set_paper(&api, "out").await?;
        lock(&shared.counts).paper_outs += 1;
        pause(&shared, out).await;
        set_paper(&api, "ok").await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rss: u64, fds: u64, outbox: u64) -> Sample {
        Sample { t_s: 0.0, node_up: true, rss_kib: rss, fds, queue_depth: Some(0), outbox_bytes: outbox, history_bytes: 0, delivered_rows: 0, audit_bytes: 0, acked: 0 }
    }

    #[test]
    fn steady_figures_are_flat() {
        let samples: Vec<Sample> = (0..30).map(|i| sample(10_000 + (i % 3) * 100, 20 + (i % 2), 4096)).collect();
        assert!(judge(&samples).iter().all(|f| f.ok), "{:?}", judge(&samples));
    }

    #[test]
    fn one_passing_peak_is_not_a_trend_but_a_rising_outbox_is() {
        // Thirty steady samples with one peak in the last third: flat.
        let mut samples: Vec<Sample> = (0..30).map(|_| sample(10_000, 20, 700_000)).collect();
        samples[25].outbox_bytes = 1_000_000;
        assert!(judge(&samples)[2].ok, "{:?}", judge(&samples));
        // A third of the last third's samples higher: growth.
        for s in &mut samples[24..28] {
            s.outbox_bytes = 800_000;
        }
        assert!(!judge(&samples)[2].ok, "{:?}", judge(&samples));
    }

    #[test]
    fn a_leak_is_not_flat() {
        // Memory growing 2 % per sample; descriptors one per sample; the outbox growing.
        let samples: Vec<Sample> = (0..30).map(|i| sample(10_000 + i * 200, 20 + i, 4096 * (1 + i / 10))).collect();
        let verdict = judge(&samples);
        assert!(verdict.iter().all(|f| !f.ok), "{verdict:?}");
    }

    #[test]
    fn proc_figures_of_this_process_are_read() {
        let pid = std::process::id();
        assert!(rss_kib(pid).unwrap() > 0);
        assert!(open_fds(pid).unwrap() >= 3);
    }
}
