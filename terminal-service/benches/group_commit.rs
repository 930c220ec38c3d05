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
    let sealed: Vec<u8> = (0..3_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");

    println!("group commit benchmark: {clients} clients, sealed blob {} bytes", sealed.len());
    for (label, delay_ms, n) in [("disk as it is", 0, fast_n), ("every fsync +{slow_ms} ms", slow_ms, slow_n)] {
        let label = label.replace("{slow_ms}", &slow_ms.to_string());
        let dir = tempfile::tempdir().expect("temporary directory");
        SYNC_DELAY_US.store(delay_ms * 1000, Ordering::Relaxed);

        let bare_path = dir.path().join("bare.sqlite");
        let mut bare = rusqlite::Connection::open(&bare_path).expect("open baseline");
        bare.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)).expect("WAL");
        bare.pragma_update(None, "synchronous", "FULL").expect("FULL");
        bare.execute_batch("CREATE TABLE bare (seq INTEGER PRIMARY KEY, sealed BLOB NOT NULL)").expect("baseline table");
        bare_inserts(&mut bare, &sealed, 10);
        let syncs = SYNCS.load(Ordering::Relaxed);
        let bare_time = bare_inserts(&mut bare, &sealed, n);
        let bare_syncs = SYNCS.load(Ordering::Relaxed) - syncs;
        let bare_rate = n as f64 / bare_time.as_secs_f64();

        let storage = Storage::open(&dir.path().join("storage")).expect("open storage");
        runtime.block_on(saves(&storage, &sealed, clients, 1));
        let syncs = SYNCS.load(Ordering::Relaxed);
        let per_client = n.div_ceil(clients);
        let group_time = runtime.block_on(saves(&storage, &sealed, clients, per_client));
        let group_syncs = SYNCS.load(Ordering::Relaxed) - syncs;
        let group_n = per_client * clients;
        let group_rate = group_n as f64 / group_time.as_secs_f64();

        println!();
        println!("{label}:");
        println!(
            "  (a) bare INSERT+COMMIT, one at a time : {bare_rate:9.1} saves/s  ({:.2} fsyncs/save, N={n})",
            bare_syncs as f64 / n as f64
        );
        println!(
            "  (b) Storage::write, {clients} clients        : {group_rate:9.1} saves/s  ({:.2} fsyncs/save, N={group_n})",
            group_syncs as f64 / group_n as f64
        );
        println!("  (b)/(a) = {:.2}×  (target ≥ 2×)", group_rate / bare_rate);
        drop(storage);
    }
    SYNC_DELAY_US.store(0, Ordering::Relaxed);
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
