//! The two databases as the async parts of the service see them.
//!
//! [`Outbox`] and [`AuditLog`] each hold a `rusqlite::Connection`, which is `Send` but not
//! `Sync` and whose calls block (a durable commit waits for the disk). So each lives behind a
//! `std::sync::Mutex` in an `Arc`, locked only off the async runtime: reads inside
//! `spawn_blocking` ([`Storage::outbox`], [`Storage::audit_log`]), writes on the writer thread.
//!
//! # Group commit
//!
//! On an SD card an fsync takes 5–50 ms, and every durable write used to cost its own: eight
//! kiosk requests arriving together waited for eight fsyncs one after another. Writes now go
//! through [`Storage::write`]: the request becomes a job on a queue, and one thread (the
//! *writer*, `outbox-writer`) takes every job waiting, runs them all in one SQLite
//! transaction (each inside its own `SAVEPOINT`, so one job's own failure — a duplicate id, a
//! validation inside — undoes only that job), commits once, and only then answers each
//! waiter. While it commits, new jobs queue up and form the next group; so under load a group
//! holds as many writes as arrived during one fsync, and with none concurrent a write costs
//! what it cost before. Since the clients a commit answers come back one by one, a busy writer
//! waits briefly (at most [`GATHER`], only after a group of several writes) for as many writes
//! as its last group held before it commits the next; a lone write never waits.
//!
//! - A job is answered `Ok` only after the commit holding it returned: "saved" still means
//!   on disk.
//! - If the commit itself fails (or SQLite rolled the transaction back mid-group, as it may
//!   on a full disk), every job of the group gets the error: none is acknowledged. The next
//!   group starts afresh.
//! - The audit log is attached to the writer's connection (`ATTACH … AS audit`), so an audit
//!   entry written in a job ([`GroupTx::audit`]) joins the same transaction: the "batch
//!   delivered" entry rides on the commit that applies the node's answer, and a staff action's
//!   entry on whatever group it falls into. SQLite commits the two WAL files one after the
//!   other (atomic per file, not across them): after a power cut between the two an entry can
//!   be missing for a delivery that was recorded, or present for one that will be resent;
//!   the audit head file is written after the commit, so it never runs ahead of the chain.
//!
//! # A full disk
//!
//! A small file `storage.reserve` ([`RESERVE_BYTES`]) is kept next to the databases. When a
//! write fails with `SQLITE_FULL` the storage is marked full and the reserve is deleted: that
//! gives the *delivery* transactions (which need WAL space to record acknowledgements) room,
//! so the terminal keeps delivering — which is what frees space. While full, new submissions
//! are refused at once with [`StorageError::Full`] (the local API's `507 storage_full`),
//! nothing already saved is touched. After each group while full, and before refusing a
//! save, the writer checkpoints the WAL and truncates it (`wal_checkpoint(TRUNCATE)`), returns
//! free pages to the file system (`incremental_vacuum`, for outboxes created with
//! `auto_vacuum=INCREMENTAL`), and once the file system has room for the reserve plus
//! [`RESUME_ROOM`] it recreates the reserve and accepts saves again — by itself.
//!
//! A poisoned mutex (a panic while it was held) is recovered rather than propagated: rusqlite
//! rolls back an unfinished transaction when it is dropped, so the connection is consistent.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use node_protocol::SubmissionResult;
use thiserror::Error;
use uuid::Uuid;

use crate::audit::{AuditCategory, AuditEntry, AuditError, AuditLog};
use crate::capture::outbox::{self, AppliedResults, NewSubmission, Outbox, OutboxError};
use crate::delivery::node_clock::NodeClock;

pub use crate::audit::AUDIT_FILE;
pub use crate::capture::outbox::OUTBOX_FILE;

/// File name of the space reserve inside the storage directory.
pub const RESERVE_FILE: &str = "storage.reserve";
/// Size of the space reserve: what deliveries may use once the disk is full.
pub const RESERVE_BYTES: u64 = 256 * 1024;
/// Room (beyond the reserve) there must be before saving resumes: free space on the file
/// system plus free pages inside the outbox. More than the WAL takes back when it grows again
/// after being truncated (it is checkpointed at 512 KiB), or freeing the reserve and
/// truncating the WAL would by themselves look like room, and saving would flap between
/// refused and accepted without anything having been delivered.
pub const RESUME_ROOM: u64 = 1024 * 1024;
/// Most jobs in one group: bounds how long one commit holds the outbox lock.
const MAX_GROUP: usize = 256;
/// Longest a busy writer waits, after answering a group, for its clients' next writes (see
/// [`gather`]): small beside an SD card's fsync (5–50 ms), long enough for answered
/// requests to come back.
const GATHER: Duration = Duration::from_micros(1500);
/// Name the audit log is attached under on the writer's connection.
const AUDIT_SCHEMA: &str = "audit";

/// What the kiosk is told when storage is full (the local API's `storage_full`).
pub const FULL_MESSAGE: &str = "the terminal's storage is full: nothing was saved. Everything saved before is safe. \
    Saving resumes by itself once queued submissions have been delivered to the node; check the network \
    connection, and if this persists call a technician";

/// Errors reaching the databases.
#[derive(Debug, Error)]
pub enum StorageError {
    /// The storage directory could not be created.
    #[error("cannot create storage directory {path}: {source} (check [storage] dir and its permissions)")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The outbox failed.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The audit log failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The storage is full: new submissions are refused until deliveries free space.
    #[error("{}", FULL_MESSAGE)]
    Full,
    /// The commit of the group holding this write failed: nothing of the group was saved.
    #[error("the storage could not commit: {0}; nothing was saved, try again")]
    Commit(String),
    /// The blocking task did not finish (panic or runtime shutdown).
    #[error("storage task failed: {0}")]
    Task(String),
}

impl StorageError {
    /// Whether the error means the disk is full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StorageError::Full => true,
            StorageError::Outbox(e) => e.is_disk_full(),
            StorageError::Audit(AuditError::Database(e)) => outbox::is_disk_full(e),
            _ => false,
        }
    }
}

/// Shared handles to the outbox and the audit log; cheap to clone.
#[derive(Clone)]
pub struct Storage {
    dir: PathBuf,
    outbox: Arc<Mutex<Outbox>>,
    audit: Arc<Mutex<AuditLog>>,
    writer: mpsc::Sender<Box<dyn PendingWrite>>,
    space: Arc<Space>,
    clock: NodeClock,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Creates the storage directory (mode 0700: it holds the key) if it does not exist.
pub fn ensure_dir(dir: &Path) -> Result<(), StorageError> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| StorageError::Directory { path: dir.to_path_buf(), source })
}

impl Storage {
    /// Opens (creating) both databases in `dir` and starts the writer thread, which ends when
    /// the last clone of the returned handle is dropped.
    pub fn open(dir: &Path) -> Result<Storage, StorageError> {
        ensure_dir(dir)?;
        let audit_path = dir.join(AUDIT_FILE);
        let audit = AuditLog::open(&audit_path)?;
        let head_path = audit.head_path().to_path_buf();
        let mut outbox = Outbox::open(&dir.join(OUTBOX_FILE))?;
        attach_audit(outbox.connection(), &audit_path).map_err(AuditError::from)?;
        let outbox = Arc::new(Mutex::new(outbox));
        let space = Arc::new(Space::new(dir));
        let (writer, jobs) = mpsc::channel::<Box<dyn PendingWrite>>();
        let clock = NodeClock::default();
        {
            let (outbox, space, clock) = (Arc::clone(&outbox), Arc::clone(&space), clock.clone());
            std::thread::Builder::new()
                .name("outbox-writer".into())
                .spawn(move || run_writer(&outbox, &head_path, &space, &clock, &jobs))
                .map_err(|e| StorageError::Task(format!("cannot start the outbox writer thread: {e}")))?;
        }
        Ok(Storage { dir: dir.to_path_buf(), outbox, audit: Arc::new(Mutex::new(audit)), writer, space, clock })
    }

    /// The terminal's clock: the time audit entries and captures are stamped with, and whether
    /// the node has confirmed it ([`crate::clock`]). The node client signs with the same one.
    pub fn clock(&self) -> &NodeClock {
        &self.clock
    }

    /// The storage directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the storage is full (new submissions refused until deliveries free space).
    pub fn is_full(&self) -> bool {
        self.space.full.load(Ordering::SeqCst)
    }

    /// Runs `f` on the outbox on the blocking pool: for reads (writes go through
    /// [`Storage::write`], so that they share commits).
    pub async fn outbox<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Outbox) -> Result<T, OutboxError> + Send + 'static,
    {
        let outbox = Arc::clone(&self.outbox);
        tokio::task::spawn_blocking(move || f(&mut lock(&outbox)))
            .await
            .map_err(|e| StorageError::Task(e.to_string()))?
            .map_err(StorageError::from)
    }

    /// Runs `f` in the next group commit and answers once that group's transaction is
    /// durable. If `f` fails, what it did is undone and its error returned; if the group's
    /// commit fails, every write of the group gets the error.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&GroupTx<'_>) -> Result<T, StorageError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job { work: Some(f), result: None, reply };
        self.writer.send(Box::new(job)).map_err(|_| StorageError::Task("the outbox writer has stopped".into()))?;
        answer.await.map_err(|_| StorageError::Task("the outbox writer stopped before answering".into()))?
    }

    /// Runs `f` on the audit log on the blocking pool: for reads.
    pub async fn audit_log<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AuditLog) -> Result<T, AuditError> + Send + 'static,
    {
        let audit = Arc::clone(&self.audit);
        tokio::task::spawn_blocking(move || f(&mut lock(&audit)))
            .await
            .map_err(|e| StorageError::Task(e.to_string()))?
            .map_err(StorageError::from)
    }

    /// Appends an audit entry (in the next group commit). A failure is logged and returned;
    /// callers that cannot do anything better (the sync loop) may ignore it, since the log
    /// line remains.
    pub async fn audit(&self, category: AuditCategory, action: &'static str, detail: serde_json::Value) -> Result<AuditEntry, StorageError> {
        let result = self.write(move |g| g.audit(category, action, detail)).await;
        if let Err(e) = &result {
            tracing::error!(action, error = %e, "cannot append to the audit log");
        }
        result
    }
}

fn attach_audit(conn: &rusqlite::Connection, audit_path: &Path) -> rusqlite::Result<()> {
    conn.execute("ATTACH DATABASE ?1 AS audit", [audit_path.to_string_lossy()])?;
    conn.pragma_update(Some(AUDIT_SCHEMA), "synchronous", "FULL")?;
    conn.pragma_update(Some(AUDIT_SCHEMA), "journal_size_limit", 512 * 1024)?;
    Ok(())
}

/// The transaction of one group, as a job sees it.
pub struct GroupTx<'a> {
    conn: &'a rusqlite::Connection,
    space: &'a Space,
    /// The audit chain's last (seq, hash) written in this group, for the head file.
    audit_head: &'a RefCell<Option<(u64, String)>>,
    clock: &'a NodeClock,
}

impl GroupTx<'_> {
    /// Queues a submission. Refused with [`StorageError::Full`] while the storage is full.
    pub fn enqueue(&self, submission: &NewSubmission) -> Result<(), StorageError> {
        if self.space.full.load(Ordering::SeqCst) {
            return Err(StorageError::Full);
        }
        outbox::enqueue_in(self.conn, submission)?;
        Ok(())
    }

    /// [`Outbox::has_applicant_key`], read inside the group's transaction.
    pub fn has_applicant_key(&self, key: &str) -> Result<bool, StorageError> {
        Ok(outbox::has_applicant_key_in(self.conn, key)?)
    }

    /// [`Outbox::apply_results`] inside the group's transaction.
    pub fn apply_results(&self, results: &[SubmissionResult], at: DateTime<Utc>) -> Result<AppliedResults, StorageError> {
        Ok(outbox::apply_results_in(self.conn, results, at)?)
    }

    /// [`Outbox::record_attempt`] inside the group's transaction.
    pub fn record_attempt(&self, ids: &[Uuid], at: DateTime<Utc>) -> Result<(), StorageError> {
        Ok(outbox::record_attempt_in(self.conn, ids, at)?)
    }

    /// Appends an audit entry in the group's transaction.
    pub fn audit(&self, category: AuditCategory, action: &str, detail: serde_json::Value) -> Result<AuditEntry, StorageError> {
        let entry = crate::audit::append_in(self.conn, AUDIT_SCHEMA, category, action, detail, self.clock)?;
        *self.audit_head.borrow_mut() = Some((entry.seq, entry.hash.clone()));
        Ok(entry)
    }

    /// Appends an audit entry if it can, undoing only the entry if it cannot (logged): for
    /// entries that must not fail the write they describe.
    pub fn audit_or_log(&self, category: AuditCategory, action: &str, detail: serde_json::Value) {
        if let Err(e) = self.conn.execute_batch("SAVEPOINT audit_entry") {
            tracing::error!(action, error = %e, "cannot append to the audit log");
            return;
        }
        let before = self.audit_head.borrow().clone();
        match self.audit(category, action, detail) {
            Ok(_) => {
                let _ = self.conn.execute_batch("RELEASE audit_entry");
            }
            Err(e) => {
                tracing::error!(action, error = %e, "cannot append to the audit log");
                *self.audit_head.borrow_mut() = before;
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK TO audit_entry; RELEASE audit_entry");
                }
            }
        }
    }
}

/// One write waiting for a group, with its waiter; type-erased so that one queue carries
/// writes of every result type.
trait PendingWrite: Send {
    /// Runs the write inside the group's transaction; `Err(disk_full)` if it failed.
    fn run(&mut self, group: &GroupTx<'_>) -> Result<(), bool>;
    /// Answers the waiter: its own result if it ran and either failed or the group
    /// committed, else the group's error.
    fn finish(self: Box<Self>, group: Result<(), &GroupFailure>);
}

/// Why a whole group failed.
#[derive(Debug, Clone)]
struct GroupFailure {
    message: String,
    disk_full: bool,
}

impl GroupFailure {
    fn new(error: &rusqlite::Error) -> GroupFailure {
        GroupFailure { message: error.to_string(), disk_full: outbox::is_disk_full(error) }
    }

    fn to_error(&self) -> StorageError {
        if self.disk_full {
            StorageError::Full
        } else {
            StorageError::Commit(self.message.clone())
        }
    }
}

struct Job<T, F> {
    work: Option<F>,
    result: Option<Result<T, StorageError>>,
    reply: tokio::sync::oneshot::Sender<Result<T, StorageError>>,
}

impl<T, F> PendingWrite for Job<T, F>
where
    T: Send,
    F: FnOnce(&GroupTx<'_>) -> Result<T, StorageError> + Send,
{
    fn run(&mut self, group: &GroupTx<'_>) -> Result<(), bool> {
        let Some(work) = self.work.take() else { return Ok(()) };
        let result = work(group);
        let outcome = match &result {
            Ok(_) => Ok(()),
            Err(e) => Err(e.is_disk_full()),
        };
        self.result = Some(result);
        outcome
    }

    fn finish(self: Box<Self>, group: Result<(), &GroupFailure>) {
        let answer = match (self.result, group) {
            (Some(Err(own)), _) => Err(own),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(failure)) => Err(failure.to_error()),
            (None, Ok(())) => Err(StorageError::Task("the write was not run".into())),
        };
        // The waiter may have gone (request cancelled); the write's fate is the same.
        let _ = self.reply.send(answer);
    }
}

/// The writer thread: one group per loop, until every `Storage` handle is dropped.
fn run_writer(outbox: &Mutex<Outbox>, head_path: &Path, space: &Space, clock: &NodeClock, jobs: &mpsc::Receiver<Box<dyn PendingWrite>>) {
    // Size of the last group, and when its waiters were answered.
    let mut last_size = 0usize;
    let mut answered = Instant::now();
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        gather(&mut group, jobs, last_size, answered, space);
        last_size = group.len();
        let mut guard = lock(outbox);
        let conn = guard.connection();
        if space.full.load(Ordering::SeqCst) {
            space.try_recover(conn);
        }
        space.groups.fetch_add(1, Ordering::SeqCst);
        let (outcome, disk_full) = commit_group(conn, &mut group, head_path, space, clock);
        // Marked full before anyone is answered, so that a refused caller already sees it.
        if disk_full {
            space.mark_full(conn);
        }
        for job in group {
            job.finish(outcome.as_ref().map(|_| ()));
        }
        answered = Instant::now();
        if !disk_full && space.full.load(Ordering::SeqCst) {
            space.try_recover(conn);
        }
    }
}

/// Lets the clients of a busy group come back before the next one is committed.
///
/// The waiters a commit answers send their next writes one by one; taking only what is queued
/// the moment the commit ends splits them over two groups (and two fsyncs). So when the last
/// group held more than one write and the writes keep coming (the first arrived within
/// [`GATHER`] of the answers), wait — at most until [`GATHER`] after the answers — for as many
/// writes as that group had. A write after a lone one, or on an idle terminal, never waits.
fn gather(
    group: &mut Vec<Box<dyn PendingWrite>>,
    jobs: &mpsc::Receiver<Box<dyn PendingWrite>>,
    last_size: usize,
    answered: Instant,
    space: &Space,
) {
    let target = last_size.min(MAX_GROUP);
    if group.len() >= target || answered.elapsed() >= GATHER {
        return;
    }
    space.gathers.fetch_add(1, Ordering::SeqCst);
    let deadline = answered + GATHER;
    while group.len() < target {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else { break };
        match jobs.recv_timeout(left) {
            Ok(job) => group.push(job),
            Err(_) => break,
        }
    }
}

/// Runs and commits one group, without answering anyone: the group's outcome, and whether
/// the disk was full.
fn commit_group(
    conn: &mut rusqlite::Connection,
    group: &mut [Box<dyn PendingWrite>],
    head_path: &Path,
    space: &Space,
    clock: &NodeClock,
) -> (Result<(), GroupFailure>, bool) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let failure = GroupFailure::new(&e);
        let full = failure.disk_full;
        return (Err(failure), full);
    }
    let audit_head = RefCell::new(None);
    let mut disk_full = false;
    let mut lost: Option<GroupFailure> = None;
    {
        let tx = GroupTx { conn, space, audit_head: &audit_head, clock };
        for job in group.iter_mut() {
            if let Err(e) = conn.execute_batch("SAVEPOINT job") {
                lost = Some(GroupFailure::new(&e));
                break;
            }
            match job.run(&tx) {
                Ok(()) => {
                    if let Err(e) = conn.execute_batch("RELEASE job") {
                        lost = Some(GroupFailure::new(&e));
                        break;
                    }
                }
                Err(full) => {
                    disk_full |= full;
                    if conn.is_autocommit() {
                        // SQLite rolled the whole transaction back (it may on SQLITE_FULL
                        // or an I/O error): what the earlier jobs did is gone too.
                        lost = Some(GroupFailure {
                            message: "the transaction was rolled back by the database".into(),
                            disk_full: full,
                        });
                        break;
                    }
                    if let Err(e) = conn.execute_batch("ROLLBACK TO job; RELEASE job") {
                        lost = Some(GroupFailure::new(&e));
                        break;
                    }
                }
            }
        }
    }
    if lost.is_none() {
        if let Err(e) = conn.execute_batch("COMMIT") {
            lost = Some(GroupFailure::new(&e));
        }
    }
    if let Some(failure) = lost {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        disk_full |= failure.disk_full;
        return (Err(failure), disk_full);
    }
    // Durable now; the head follows the chain (never ahead of it). A failed head write only
    // leaves it behind, which verify accepts, and the next one catches up.
    if let Some((seq, hash)) = audit_head.into_inner() {
        if let Err(e) = crate::audit::write_head_file(head_path, seq, &hash) {
            tracing::warn!(path = %head_path.display(), error = %e, "could not update the audit head file");
        }
    }
    (Ok(()), disk_full)
}

/// The space reserve and the "full" state.
struct Space {
    dir: PathBuf,
    reserve: PathBuf,
    full: AtomicBool,
    /// Groups committed (or tried): how many fsyncs the writes cost, for tests.
    groups: std::sync::atomic::AtomicU64,
    /// Times the writer waited for more writes before a commit ([`gather`]), for tests.
    gathers: std::sync::atomic::AtomicU64,
}

impl Space {
    fn new(dir: &Path) -> Space {
        let space = Space { dir: dir.to_path_buf(), reserve: dir.join(RESERVE_FILE), full: AtomicBool::new(false), groups: Default::default(), gathers: Default::default() };
        if !space.reserve.exists() {
            if let Err(e) = space.create_reserve() {
                // Not fatal: the terminal works without it, only a full disk is harder to
                // leave. Started on a full disk: say so, and refuse saves until there is room.
                tracing::warn!(path = %space.reserve.display(), error = %e, "cannot create the storage reserve");
                if e.raw_os_error() == Some(libc::ENOSPC) {
                    space.full.store(true, Ordering::SeqCst);
                }
            }
        }
        space
    }

    fn create_reserve(&self) -> std::io::Result<()> {
        use std::io::Write;
        let result = (|| {
            let mut file = std::fs::File::create(&self.reserve)?;
            // Real blocks (not a sparse file), or deleting it would free nothing.
            let zeros = vec![0u8; 64 * 1024];
            let mut written = 0;
            while written < RESERVE_BYTES {
                file.write_all(&zeros)?;
                written += zeros.len() as u64;
            }
            file.sync_all()
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&self.reserve);
        }
        result
    }

    /// The disk is full: refuse saves, and give the reserve to deliveries.
    fn mark_full(&self, conn: &rusqlite::Connection) {
        if !self.full.swap(true, Ordering::SeqCst) {
            tracing::error!(dir = %self.dir.display(), "storage full: new submissions are refused until deliveries free space");
            if let Err(e) = std::fs::remove_file(&self.reserve) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(path = %self.reserve.display(), error = %e, "cannot release the storage reserve");
                }
            }
        }
        self.reclaim(conn);
    }

    /// Gives back to the file system what deliveries freed: WAL checkpointed and truncated,
    /// free pages returned.
    fn reclaim(&self, conn: &rusqlite::Connection) {
        for schema in ["main", AUDIT_SCHEMA] {
            if let Err(e) = conn.query_row(&format!("PRAGMA \"{schema}\".wal_checkpoint(TRUNCATE)"), [], |_| Ok(())) {
                tracing::debug!(schema, error = %e, "checkpoint while the storage is full");
            }
        }
        // One result row per page freed: every row must be stepped, or only one page goes.
        let vacuum = conn.prepare("PRAGMA main.incremental_vacuum").and_then(|mut pages| {
            let mut rows = pages.query([])?;
            while rows.next()?.is_some() {}
            Ok(())
        });
        if let Err(e) = vacuum {
            tracing::debug!(error = %e, "incremental vacuum while the storage is full");
        }
        if let Err(e) = conn.query_row("PRAGMA main.wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
            tracing::debug!(error = %e, "checkpoint after the vacuum");
        }
    }

    /// Accepts saves again if deliveries made room.
    fn try_recover(&self, conn: &rusqlite::Connection) {
        self.reclaim(conn);
        let Some(free) = free_bytes(&self.dir) else { return };
        let free_pages: u64 = conn
            .query_row("SELECT freelist_count * page_size FROM pragma_freelist_count, pragma_page_size", [], |row| row.get(0))
            .unwrap_or(0);
        // The reserve must fit on the file system itself (with a little to spare); the rest of
        // the room may be pages the outbox will reuse.
        if free < RESERVE_BYTES + 64 * 1024 || (free - RESERVE_BYTES).saturating_add(free_pages) < RESUME_ROOM {
            return;
        }
        if !self.reserve.exists() {
            if let Err(e) = self.create_reserve() {
                tracing::warn!(path = %self.reserve.display(), error = %e, "cannot recreate the storage reserve");
                return;
            }
        }
        self.full.store(false, Ordering::SeqCst);
        tracing::info!(dir = %self.dir.display(), free_bytes = free, "storage has room again: saving resumes");
    }
}

/// Bytes available to this process on the file system holding `dir`.
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a valid NUL-terminated string and `stat` a valid, writable statvfs.
    if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    // The field types differ between targets (32-bit ones have narrower ones).
    #[allow(clippy::useless_conversion)]
    Some(u64::from(stat.f_bavail).saturating_mul(u64::from(stat.f_frsize)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use node_protocol::{SubmissionKind, SubmissionOutcome};
    use std::time::Duration;

    fn submission(bytes: usize) -> NewSubmission {
        NewSubmission {
            id: Uuid::now_v7(),
            kind: SubmissionKind::Application,
            created_at: Utc::now(),
            form_version: "2026.1".into(),
            sealed: vec![0x5a; bytes],
            applicant_key: None,
        }
    }

    fn accepted(id: Uuid) -> SubmissionResult {
        SubmissionResult { id, outcome: SubmissionOutcome::Accepted { case_number: format!("C-{id}"), duplicate_check: None, referral_check: None } }
    }

    fn queued(dir: &Path) -> Vec<Uuid> {
        let outbox = Outbox::open(&dir.join(OUTBOX_FILE)).unwrap();
        outbox.next_batch(100_000).unwrap().iter().map(|e| e.id).collect()
    }

    type TestJob<T> = Box<dyn FnOnce(&GroupTx<'_>) -> Result<T, StorageError> + Send>;

    /// Holds the outbox lock while `writes` jobs are queued, so that they reach the writer
    /// together; returns their answers.
    // Holding the std mutex across the sleep is the point: it keeps the writer thread (not a
    // runtime task) waiting while the jobs queue up.
    #[allow(clippy::await_holding_lock)]
    async fn writes_queued_together<T: Send + 'static>(storage: &Storage, jobs: Vec<TestJob<T>>) -> Vec<Result<T, StorageError>> {
        let held = lock(&storage.outbox);
        let handles: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                let storage = storage.clone();
                tokio::spawn(async move { storage.write(job).await })
            })
            .collect();
        // Every task gets to its send (bounded wait; the answers cannot come while the lock is held).
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(held);
        let mut answers = Vec::new();
        for handle in handles {
            answers.push(tokio::time::timeout(Duration::from_secs(10), handle).await.unwrap().unwrap());
        }
        answers
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_saves_share_commits_and_are_all_durable_when_answered() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        let subs: Vec<NewSubmission> = (0..16).map(|_| submission(100)).collect();
        let ids: Vec<Uuid> = subs.iter().map(|s| s.id).collect();
        let before = storage.space.groups.load(Ordering::SeqCst);
        let jobs = subs
            .into_iter()
            .map(|s| Box::new(move |g: &GroupTx<'_>| g.enqueue(&s)) as Box<dyn FnOnce(&GroupTx<'_>) -> Result<(), StorageError> + Send>)
            .collect();
        let answers = writes_queued_together(&storage, jobs).await;
        assert!(answers.iter().all(Result::is_ok), "{answers:?}");
        let groups = storage.space.groups.load(Ordering::SeqCst) - before;
        // The writer took the first job alone before it blocked on the lock; the other 15 share.
        assert!(groups <= 2, "16 saves took {groups} commits");
        // Answered means on disk: a fresh connection sees every row.
        let mut found = queued(dir.path());
        found.sort();
        let mut ids = ids;
        ids.sort();
        assert_eq!(found, ids);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lone_write_is_not_delayed_by_gathering() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        // Lone writes one after another: each group held one write, so none waits for more.
        for _ in 0..5 {
            let s = submission(100);
            storage.write(move |g| g.enqueue(&s)).await.unwrap();
        }
        assert_eq!(storage.space.gathers.load(Ordering::SeqCst), 0, "a lone write waited for others");
        // A busy group, then the terminal idles: the next lone write does not wait either.
        let jobs = (0..4)
            .map(|_| {
                let s = submission(100);
                Box::new(move |g: &GroupTx<'_>| g.enqueue(&s)) as TestJob<()>
            })
            .collect();
        let answers = writes_queued_together(&storage, jobs).await;
        assert!(answers.iter().all(Result::is_ok), "{answers:?}");
        tokio::time::sleep(GATHER * 20).await;
        // Counted from here: on a starved CPU the four may reach the writer as two groups, and the
        // second then rightly waits for more (a fresh-clone CI run saw it); the idle write may not.
        let before = storage.space.gathers.load(Ordering::SeqCst);
        let s = submission(100);
        storage.write(move |g| g.enqueue(&s)).await.unwrap();
        assert_eq!(storage.space.gathers.load(Ordering::SeqCst), before, "a write on an idle terminal waited for others");
        assert_eq!(queued(dir.path()).len(), 10);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_busy_writer_waits_for_its_clients_to_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        // Four clients, each saving again as soon as it is answered: after the first shared
        // group, the writer waits for the others instead of committing the first comer alone.
        let clients: Vec<_> = (0..4)
            .map(|_| {
                let storage = storage.clone();
                tokio::spawn(async move {
                    for _ in 0..20 {
                        let s = submission(100);
                        storage.write(move |g| g.enqueue(&s)).await.unwrap();
                    }
                })
            })
            .collect();
        for client in clients {
            tokio::time::timeout(Duration::from_secs(20), client).await.unwrap().unwrap();
        }
        assert_eq!(queued(dir.path()).len(), 80);
        let groups = storage.space.groups.load(Ordering::SeqCst);
        let gathers = storage.space.gathers.load(Ordering::SeqCst);
        assert!(gathers > 0 || groups <= 25, "80 saves by 4 clients took {groups} commits and the writer never waited");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_that_fails_is_undone_alone_and_its_group_still_commits() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        let first = submission(10);
        let again = first.clone();
        let other = submission(10);
        let other_id = other.id;
        type J = Box<dyn FnOnce(&GroupTx<'_>) -> Result<(), StorageError> + Send>;
        let jobs: Vec<J> = vec![
            Box::new(move |g| g.enqueue(&first)),
            Box::new(move |g| g.enqueue(&again)),
            Box::new(move |g| {
                g.enqueue(&other)?;
                g.audit(AuditCategory::Sync, "test_entry", serde_json::json!({"n": 1}))?;
                Ok(())
            }),
        ];
        let answers = writes_queued_together(&storage, jobs).await;
        // The tasks reach the queue in any order: whichever of the two same-id saves comes
        // second is refused, alone.
        assert!(answers[2].is_ok(), "{answers:?}");
        let duplicate = |a: &Result<(), StorageError>| matches!(a, Err(StorageError::Outbox(OutboxError::DuplicateId(_))));
        assert!(
            (answers[0].is_ok() && duplicate(&answers[1])) || (duplicate(&answers[0]) && answers[1].is_ok()),
            "{answers:?}"
        );
        assert_eq!(queued(dir.path()).len(), 2);
        assert!(queued(dir.path()).contains(&other_id));
        // The audit entry went into the attached log, and the head file followed it.
        let summary = storage.audit_log(|log| log.verify()).await.unwrap();
        assert_eq!(summary.entries, 1);
        let head = std::fs::read_to_string(dir.path().join("audit.head")).unwrap();
        assert_eq!(head.trim(), format!("1 {}", summary.head));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_commit_fails_every_write_of_its_group_and_the_next_group_works() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        // A deferred foreign key is checked at COMMIT: every insert succeeds, the commit fails.
        storage
            .outbox(|o| {
                o.connection().execute_batch(
                    "CREATE TABLE parent (id INTEGER PRIMARY KEY);
                     CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
                     CREATE TEMP TRIGGER fail_commit AFTER INSERT ON main.outbox BEGIN INSERT INTO child VALUES (42); END;",
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let jobs = (0..4)
            .map(|_| {
                let s = submission(10);
                Box::new(move |g: &GroupTx<'_>| g.enqueue(&s)) as Box<dyn FnOnce(&GroupTx<'_>) -> Result<(), StorageError> + Send>
            })
            .collect();
        let answers = writes_queued_together(&storage, jobs).await;
        for answer in &answers {
            match answer {
                Err(StorageError::Commit(message)) => assert!(message.contains("FOREIGN KEY"), "{message}"),
                other => panic!("expected the commit's error, got {other:?}"),
            }
        }
        assert!(queued(dir.path()).is_empty(), "nothing of a failed group is saved");

        storage.outbox(|o| Ok(o.connection().execute_batch("DROP TRIGGER temp.fail_commit")?)).await.unwrap();
        let s = submission(10);
        let id = s.id;
        storage.write(move |g| g.enqueue(&s)).await.unwrap();
        assert_eq!(queued(dir.path()), vec![id]);
    }

    /// A tmpfs of `bytes` mounted on a temporary directory for one test, unmounted on drop.
    struct SmallFileSystem {
        dir: tempfile::TempDir,
    }

    impl SmallFileSystem {
        fn mount(bytes: u64) -> SmallFileSystem {
            // SAFETY: geteuid has no preconditions.
            let uid = unsafe { libc::geteuid() };
            assert_eq!(uid, 0, "this test mounts a small tmpfs to fill it and must run as root (uid 0, as in CI); it runs as uid {uid}");
            let dir = tempfile::tempdir().unwrap();
            let status = std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={bytes},mode=0700"), "tmpfs"])
                .arg(dir.path())
                .status()
                .expect("run mount");
            assert!(status.success(), "mount -t tmpfs failed ({status}): the test needs CAP_SYS_ADMIN");
            SmallFileSystem { dir }
        }
    }

    impl Drop for SmallFileSystem {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.dir.path()).status();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_disk_refuses_saves_keeps_delivering_and_saving_resumes_by_itself() {
        let fs = SmallFileSystem::mount(3 * 1024 * 1024);
        let dir = fs.dir.path().join("storage");
        let storage = Storage::open(&dir).unwrap();
        assert!(dir.join(RESERVE_FILE).exists());

        let mut saved = Vec::new();
        let refusal = loop {
            assert!(saved.len() < 2_000, "a 3 MiB file system never filled");
            let s = submission(4_000);
            let id = s.id;
            match storage.write(move |g| g.enqueue(&s)).await {
                Ok(()) => saved.push(id),
                Err(e) => break e,
            }
        };
        assert!(refusal.is_disk_full(), "{refusal}");
        assert!(saved.len() > 100, "only {} saved before full", saved.len());
        assert!(storage.is_full());
        assert!(!dir.join(RESERVE_FILE).exists(), "the reserve was given to deliveries");
        // Refused at once, with the message the kiosk shows.
        let refused = storage.write(|g| g.enqueue(&submission(10))).await.unwrap_err();
        assert!(matches!(refused, StorageError::Full));
        assert!(refused.to_string().contains("Saving resumes by itself"), "{refused}");

        // Nothing saved before is damaged: every acknowledged row is there, in order.
        let waiting = storage.outbox(|o| o.next_batch(100_000)).await.unwrap();
        assert_eq!(waiting.iter().map(|e| e.id).collect::<Vec<_>>(), saved);

        // The node answers; delivering works on the full disk, with its audit entries.
        for chunk in saved.chunks(50) {
            let results: Vec<_> = chunk.iter().copied().map(accepted).collect();
            storage
                .write(move |g| {
                    let applied = g.apply_results(&results, Utc::now())?;
                    g.audit_or_log(AuditCategory::Sync, "batch_delivered", serde_json::json!({"delivered": applied.delivered}));
                    Ok(applied)
                })
                .await
                .unwrap();
        }
        assert_eq!(storage.outbox(|o| o.stats()).await.unwrap().depth, 0);

        // Saving resumes by itself: no restart, no technician.
        let s = submission(4_000);
        let id = s.id;
        storage.write(move |g| g.enqueue(&s)).await.unwrap();
        assert!(!storage.is_full());
        assert!(dir.join(RESERVE_FILE).exists(), "the reserve is back");
        assert_eq!(storage.outbox(|o| o.next_batch(10)).await.unwrap()[0].id, id);
        let summary = storage.audit_log(|log| log.verify()).await.unwrap();
        assert!(summary.entries >= 1);
        drop(storage);
        // And the files open cleanly afterwards.
        assert_eq!(queued(&dir), vec![id]);
    }
}
