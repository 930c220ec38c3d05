//! Group commit benchmark: concurrent saves through [`Storage::write`] against a bare SQLite
//! `INSERT` + `COMMIT` one at a time, both measured in this run, on the same directory.
//!
//! (a) baseline: one connection, one row per transaction (WAL, `synchronous=FULL`), the same
//!     sealed blob; the rate the storage had before, when every save cost its own commit;
//! (b) [`Storage::write`] with `GROUP_BENCH_CLIENTS` (default 8) clients, each saving one
//!     submission after another (as a kiosk request does: wait for the answer, then the next);
//!     target (b)/(a) ≥ 2.
//!
//! Both run twice: with the disk as it is, and with every `fsync`/`fdatasync` slowed by
//! `GROUP_BENCH_SYNC_MS` (default 10 ms, an SD card's). How it is slowed: this binary defines
//! `fsync` and `fdatasync` itself. A symbol defined in the executable comes before the C
//! library's in the dynamic linker's lookup, so the statically linked SQLite (rusqlite's
//! `bundled`) and the standard library call these, which sleep and then make the real system
//! call. Why this and not an `LD_PRELOAD` library or a slow block device: it needs no root,
//! no second build artefact and no device-mapper (`dm-delay`) on the machine, slows exactly
//! the calls that wait for the disk (reads and writes stay as fast as the page cache makes
//! them, as on a card where only the flush is slow), and counts them, so the run also prints
//! the fsyncs per save. It does not model the card's write bandwidth.
//!
//! The baseline connection has the outbox's own settings (WAL, `synchronous=FULL`, a checkpoint
//! every 128 pages and the WAL cut back to 512 KiB), so the ratio measures the shared commit
//! alone, not SQLite's defaults: with its default checkpoint the baseline's WAL grows and every
//! sync also flushes the file's new size, a cost that made the plain disk's ratio swing.
//!
//! The two disks alternate for `GROUP_BENCH_ROUNDS` rounds (default 3) and the medians are
//! compared: this machine's own `fdatasync` varies several-fold from one second to the next, so
//! one pair of measurements cannot say which gain is larger.
//!
//! Run with `cargo bench -p terminal-service --bench group_commit`. `GROUP_BENCH_N` (default
//! 400) saves per measurement on the fast disk, `GROUP_BENCH_SLOW_N` (default 200) slowed.

use std::os::raw::c_int;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod baseline;

use baseline::bare_inserts;
use chrono::Utc;
use node_protocol::SubmissionKind;
use terminal_service::capture::outbox::NewSubmission;
use terminal_service::capture::storage::Storage;
use uuid::Uuid;

/// Extra time each fsync takes, in microseconds (0: the disk as it is).
static SYNC_DELAY_US: AtomicU64 = AtomicU64::new(0);
/// fsync + fdatasync calls so far.
static SYNCS: AtomicU64 = AtomicU64::new(0);

fn slow_sync() {
    SYNCS.fetch_add(1, Ordering::Relaxed);
    let delay = SYNC_DELAY_US.load(Ordering::Relaxed);
    if delay > 0 {
        std::thread::sleep(Duration::from_micros(delay));
    }
}

/// The C library's `fsync`, slowed (see the module documentation).
#[no_mangle]
pub extern "C" fn fsync(fd: c_int) -> c_int {
    slow_sync();
    // SAFETY: the fsync system call with the caller's descriptor, as libc's wrapper makes it.
    unsafe { libc::syscall(libc::SYS_fsync, fd) as c_int }
}

/// The C library's `fdatasync`, slowed.
#[no_mangle]
pub extern "C" fn fdatasync(fd: c_int) -> c_int {
    slow_sync();
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_fdatasync, fd) as c_int }
}

fn main() {
    let clients = env_usize("GROUP_BENCH_CLIENTS", 8);
    let fast_n = env_usize("GROUP_BENCH_N", 400);
    let slow_n = env_usize("GROUP_BENCH_SLOW_N", 200);
    let slow_ms = env_usize("GROUP_BENCH_SYNC_MS", 10) as u64;
    let rounds = env_usize("GROUP_BENCH_ROUNDS", 3).max(1);
    let sealed: Vec<u8> = (0..3_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");

    println!("group commit benchmark: {clients} clients, sealed blob {} bytes, {rounds} rounds", sealed.len());
    let disks = [("disk as it is".to_string(), 0, fast_n), (format!("every fsync +{slow_ms} ms"), slow_ms, slow_n)];
    let mut gains = [Vec::new(), Vec::new()];
    for round in 1..=rounds {
        for (disk, (label, delay_ms, n)) in disks.iter().enumerate() {
            let gain = measure(&runtime, &sealed, clients, *n, *delay_ms);
            println!();
            println!("round {round}, {label}:");
            gain.print(clients);
            gains[disk].push(gain.ratio());
        }
    }
    SYNC_DELAY_US.store(0, Ordering::Relaxed);
    let [plain, slowed] = gains.map(median);
    println!();
    println!("median (b)/(a): disk as it is {plain:.2}×, every fsync +{slow_ms} ms {slowed:.2}×  (target ≥ 2× both, the slowed one larger)");
    println!("slowed gain / plain gain = {:.2} ({})", slowed / plain, if slowed > plain { "larger" } else { "NOT larger" });
}

/// One measurement of both (a) and (b) on a fresh directory, every fsync slowed by `delay_ms`.
fn measure(runtime: &tokio::runtime::Runtime, sealed: &[u8], clients: usize, n: usize, delay_ms: u64) -> Gain {
    let dir = tempfile::tempdir().expect("temporary directory");
    SYNC_DELAY_US.store(delay_ms * 1000, Ordering::Relaxed);

    let mut bare = rusqlite::Connection::open(dir.path().join("bare.sqlite")).expect("open baseline");
    bare.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)).expect("WAL");
    bare.pragma_update(None, "synchronous", "FULL").expect("FULL");
    // The outbox's own checkpoint settings (capture/outbox.rs), see the module documentation.
    bare.pragma_update(None, "journal_size_limit", 512 * 1024).expect("journal_size_limit");
    bare.pragma_update(None, "wal_autocheckpoint", 128).expect("wal_autocheckpoint");
    bare.execute_batch("CREATE TABLE bare (seq INTEGER PRIMARY KEY, sealed BLOB NOT NULL)").expect("baseline table");
    bare_inserts(&mut bare, sealed, 10);
    let syncs = SYNCS.load(Ordering::Relaxed);
    let bare_time = bare_inserts(&mut bare, sealed, n);
    let bare_syncs = SYNCS.load(Ordering::Relaxed) - syncs;

    let storage = Storage::open(&dir.path().join("storage")).expect("open storage");
    runtime.block_on(saves(&storage, sealed, clients, 1));
    let syncs = SYNCS.load(Ordering::Relaxed);
    let per_client = n.div_ceil(clients);
    let group_time = runtime.block_on(saves(&storage, sealed, clients, per_client));
    let group_syncs = SYNCS.load(Ordering::Relaxed) - syncs;
    Gain { bare_n: n, bare_time, bare_syncs, group_n: per_client * clients, group_time, group_syncs }
}

/// (a) and (b) of one measurement.
struct Gain {
    bare_n: usize,
    bare_time: Duration,
    bare_syncs: u64,
    group_n: usize,
    group_time: Duration,
    group_syncs: u64,
}

impl Gain {
    fn bare_rate(&self) -> f64 {
        self.bare_n as f64 / self.bare_time.as_secs_f64()
    }

    fn group_rate(&self) -> f64 {
        self.group_n as f64 / self.group_time.as_secs_f64()
    }

    /// (b)/(a).
    fn ratio(&self) -> f64 {
        self.group_rate() / self.bare_rate()
    }

    fn print(&self, clients: usize) {
        println!(
            "  (a) bare INSERT+COMMIT, one at a time : {:9.1} saves/s  ({:.2} fsyncs/save, N={})",
            self.bare_rate(),
            self.bare_syncs as f64 / self.bare_n as f64,
            self.bare_n
        );
        println!(
            "  (b) Storage::write, {clients} clients        : {:9.1} saves/s  ({:.2} fsyncs/save, N={})",
            self.group_rate(),
            self.group_syncs as f64 / self.group_n as f64,
            self.group_n
        );
        println!("  (b)/(a) = {:.2}×  (target ≥ 2×)", self.ratio());
    }
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 0 {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// `clients` tasks, each saving `each` submissions one after another; the time until all
/// were answered.
async fn saves(storage: &Storage, sealed: &[u8], clients: usize, each: usize) -> Duration {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (storage, sealed) = (storage.clone(), sealed.to_vec());
            tokio::spawn(async move {
                for _ in 0..each {
                    let id = Uuid::now_v7();
                    let submission = NewSubmission {
                        id,
                        kind: SubmissionKind::Application,
                        created_at: Utc::now(),
                        form_version: "2026.11".into(),
                        sealed: sealed.clone(),
                        applicant_key: Some(format!("{}{}", id.simple(), id.simple())),
                    };
                    storage.write(move |group| group.enqueue(&submission)).await.expect("save");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("client task");
    }
    started.elapsed()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
