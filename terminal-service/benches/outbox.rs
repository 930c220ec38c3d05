//! Outbox benchmark: the design's targets, measured as ratios against a baseline in the same run.
//!
//! (a) baseline: a bare rusqlite `INSERT` + `COMMIT` per row, one integer key and the blob,
//!     with the same durability (WAL, `synchronous=FULL`);
//! (b) `Outbox::enqueue` of the same blobs: target (b)/(a) ≤ 1.20;
//! (c) 100,000 queued submissions (each a durable enqueue, no bulk path), then drained with
//!     `next_batch` + `apply_results` while the resident set size is sampled: memory must stay
//!     flat, i.e. not grow with the queue.
//!
//! Run with `cargo bench -p terminal-service --bench outbox`. `OUTBOX_BENCH_N` (default 2000)
//! and `OUTBOX_BENCH_QUEUE` (default 100000) change the sizes. Files go to a temporary
//! directory under `TMPDIR` (the same disk as the real storage directory should be used for
//! figures that mean something).

use std::time::{Duration, Instant};

mod baseline;

use baseline::bare_inserts;
use chrono::Utc;
use node_protocol::{SubmissionContent, SubmissionKind, SubmissionOutcome, SubmissionResult};
use terminal_service::capture::outbox::{NewSubmission, Outbox};
use terminal_service::capture::seal::Sealer;
use uuid::Uuid;

/// Rows in each of (a) and (b) are measured in alternating chunks of this size, so that disk
/// and cache drift during the run affects both sides alike.
const CHUNK: usize = 200;
const WARMUP: usize = 100;
const DRAIN_BATCH: usize = 200;

fn main() {
    let n = env_usize("OUTBOX_BENCH_N", 2000);
    let queue = env_usize("OUTBOX_BENCH_QUEUE", 100_000);
    let dir = tempfile::tempdir().expect("temporary directory for the benchmark");

    let node = age::x25519::Identity::generate();
    let sealer = Sealer::new(&node.to_public().to_string()).expect("generated recipient");
    let sealed = sealer.seal(&realistic_content()).expect("seal");
    println!("outbox benchmark: sealed submission of {} bytes, directory {}", sealed.len(), dir.path().display());

    // (a) and (b), interleaved.
    let bare_path = dir.path().join("bare.sqlite");
    let mut bare = rusqlite::Connection::open(&bare_path).expect("open baseline");
    bare.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)).expect("WAL");
    bare.pragma_update(None, "synchronous", "FULL").expect("FULL");
    bare.execute_batch("CREATE TABLE bare (seq INTEGER PRIMARY KEY, sealed BLOB NOT NULL)").expect("baseline table");
    let mut outbox = Outbox::open(&dir.path().join("outbox.sqlite")).expect("open outbox");

    bare_inserts(&mut bare, &sealed, WARMUP);
    enqueues(&mut outbox, &sealed, WARMUP);
    let (mut bare_time, mut enqueue_time) = (Duration::ZERO, Duration::ZERO);
    let mut done = 0;
    while done < n {
        let chunk = CHUNK.min(n - done);
        bare_time += bare_inserts(&mut bare, &sealed, chunk);
        enqueue_time += enqueues(&mut outbox, &sealed, chunk);
        done += chunk;
    }
    let per_bare = bare_time.as_secs_f64() * 1e6 / n as f64;
    let per_enqueue = enqueue_time.as_secs_f64() * 1e6 / n as f64;
    let ratio = per_enqueue / per_bare;
    println!();
    println!("(a) bare INSERT+COMMIT (WAL, synchronous=FULL): {per_bare:8.1} µs/op  (N={n})");
    println!("(b) Outbox::enqueue                          : {per_enqueue:8.1} µs/op  (N={n})");
    println!(
        "    ratio (b)/(a) = {ratio:.3}  (target ≤ 1.20: {})",
        if ratio <= 1.20 { "met" } else { "NOT met" }
    );
    drop(outbox);
    drop(bare);

    // (c) a deep queue, then drained, with memory sampled throughout.
    println!();
    let mut outbox = Outbox::open(&dir.path().join("deep.sqlite")).expect("open deep outbox");
    let rss_open = rss_kib();
    let started = Instant::now();
    let (mut rss_warm, mut rss_fill_middle) = (0, 0);
    let warm_at = (queue / 100).max(1);
    for i in 0..queue {
        enqueue_one(&mut outbox, &sealed);
        if i + 1 == warm_at {
            rss_warm = rss_kib();
        }
        if i + 1 == queue / 2 {
            rss_fill_middle = rss_kib();
        }
    }
    let fill = started.elapsed();
    let rss_full = rss_kib();
    println!(
        "(c) {queue} durable enqueues in {:.1} s ({:.1} µs/op)",
        fill.as_secs_f64(),
        fill.as_secs_f64() * 1e6 / queue as f64
    );

    let stats_started = Instant::now();
    let stats = outbox.stats().expect("stats");
    println!("    stats() at depth {}: {:.2} ms", stats.depth, stats_started.elapsed().as_secs_f64() * 1e3);
    assert_eq!(stats.depth, queue as u64, "every enqueue is in the queue");

    let started = Instant::now();
    let (mut drained, mut rss_drain_middle, mut batches) = (0usize, 0, 0u32);
    let mut slowest_batch = Duration::ZERO;
    loop {
        let batch_started = Instant::now();
        let batch = outbox.next_batch(DRAIN_BATCH).expect("next batch");
        if batch.is_empty() {
            break;
        }
        let results: Vec<SubmissionResult> = batch
            .iter()
            .map(|e| SubmissionResult { id: e.id, outcome: SubmissionOutcome::Accepted { case_number: format!("BGD-{}", e.id.simple()), duplicate_check: None, referral_check: None } })
            .collect();
        let applied = outbox.apply_results(&results, Utc::now()).expect("apply results");
        assert_eq!(applied.delivered, batch.len());
        slowest_batch = slowest_batch.max(batch_started.elapsed());
        drained += batch.len();
        batches += 1;
        if rss_drain_middle == 0 && drained >= queue / 2 {
            rss_drain_middle = rss_kib();
        }
    }
    let drain = started.elapsed();
    let rss_end = rss_kib();
    assert_eq!(drained, queue, "every queued row drained exactly once");
    assert_eq!(outbox.stats().expect("stats").depth, 0);
    println!(
        "    drained in {:.1} s: {batches} batches of {DRAIN_BATCH} (next_batch + apply_results), {:.0} rows/s, slowest batch {:.1} ms",
        drain.as_secs_f64(),
        drained as f64 / drain.as_secs_f64(),
        slowest_batch.as_secs_f64() * 1e3
    );
    // SQLite's page cache (default cache_size, 2 MiB per connection) and the prepared
    // statements fill during the first rows; flat memory means no growth after that.
    println!("    resident set size (VmRSS), ratio to the warmed-up figure after {warm_at} rows:");
    println!("      {:<20} {:>8} KiB  {:.3}", "just opened", rss_open, rss_open as f64 / rss_warm as f64);
    for (label, kib) in [
        ("warmed up", rss_warm),
        ("half full", rss_fill_middle),
        ("full", rss_full),
        ("half drained", rss_drain_middle),
        ("drained", rss_end),
    ] {
        println!("      {label:<20} {:>8} KiB  {:.3}", kib, kib as f64 / rss_warm as f64);
    }
    println!("      peak (VmHWM)         {:>8} KiB", status_kib("VmHWM:"));
}

fn enqueues(outbox: &mut Outbox, sealed: &[u8], count: usize) -> Duration {
    let started = Instant::now();
    for _ in 0..count {
        enqueue_one(outbox, sealed);
    }
    started.elapsed()
}

fn enqueue_one(outbox: &mut Outbox, sealed: &[u8]) {
    let id = Uuid::now_v7();
    outbox
        .enqueue(&NewSubmission {
            id,
            kind: SubmissionKind::Application,
            created_at: Utc::now(),
            form_version: "2026.11".into(),
            sealed: sealed.to_vec(),
            // Shaped like the real keyed hash (64 hex digits), distinct per row.
            applicant_key: Some(format!("{}{}", id.simple(), id.simple())),
        })
        .expect("enqueue");
}

/// The JSON of an application of ordinary size: a household of five, names in Arabic script.
fn realistic_content() -> Vec<u8> {
    let members: Vec<serde_json::Value> = (0..5)
        .map(|i| {
            serde_json::json!({
                "full_name": "زينب علي حسين الجبوري",
                "mother_name": "فاطمة كاظم",
                "relation": if i == 0 { "head" } else { "child" },
                "date_of_birth": format!("20{:02}-03-1{i}", 5 + i),
                "national_id": format!("19901234567{i}"),
                "disability": i == 3,
            })
        })
        .collect();
    let mut answers = serde_json::Map::new();
    for (key, value) in [
        ("full_name", serde_json::json!("زينب علي حسين الجبوري")),
        ("mother_name", serde_json::json!("فاطمة كاظم جواد")),
        ("national_id", serde_json::json!("199012345678")),
        ("date_of_birth", serde_json::json!("1990-02-14")),
        ("phone", serde_json::json!("07701234567")),
        ("governorate", serde_json::json!("BGD")),
        ("district", serde_json::json!("KRK")),
        ("address", serde_json::json!("محلة ٨١٢ زقاق ٤ دار ١٧")),
        ("marital_status", serde_json::json!("widowed")),
        ("monthly_income_iqd", serde_json::json!(150000)),
        ("household_members", serde_json::Value::Array(members)),
    ] {
        answers.insert(key.into(), value);
    }
    let content = SubmissionContent {
        id: Uuid::now_v7(),
        kind: SubmissionKind::Application,
        form_id: "application".into(),
        form_version: "2026.11".into(),
        language: "ar".into(),
        answers,
        assisted_by: Some("S-0042".into()),
        terminal_id: "T-0042".into(),
        duplicate_override: None,
        referral: None,
        targeting: None,
    };
    serde_json::to_vec(&content).expect("serialize content")
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Resident set size in KiB (`VmRSS` of `/proc/self/status`, the same figure as `statm`'s
/// resident pages, already in KiB so no page size has to be assumed).
fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}
