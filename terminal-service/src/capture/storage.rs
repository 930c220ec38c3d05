//! The two databases as the async parts of the service see them.
//!
//! [`Outbox`] and [`AuditLog`] each hold a `rusqlite::Connection`, which is `Send` but not
//! `Sync` and whose calls block (a durable commit waits for the disk). So each lives behind a
//! `std::sync::Mutex` in an `Arc`, and is only ever locked inside `spawn_blocking`:
//!
//! - the mutex, not an async one, because the lock is never held across an `.await` — it is
//!   taken and released on a blocking-pool thread;
//! - `spawn_blocking`, because an fsync can take tens of milliseconds on an SD card and must
//!   not stall the runtime threads that serve the kiosk and the SSE streams;
//! - one connection per database, serialised, because SQLite allows one writer at a time
//!   anyway; a second connection would only add `SQLITE_BUSY` retries. Group commit (several
//!   enqueues in one transaction) would raise throughput further; correctness comes first.
//!
//! A poisoned mutex (a panic while it was held) is recovered rather than propagated: rusqlite
//! rolls back an unfinished transaction when it is dropped, so the connection is consistent.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use thiserror::Error;

use crate::audit::{AuditCategory, AuditEntry, AuditError, AuditLog};
use crate::capture::outbox::{Outbox, OutboxError};

pub use crate::audit::AUDIT_FILE;
pub use crate::capture::outbox::OUTBOX_FILE;

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
    /// The blocking task did not finish (panic or runtime shutdown).
    #[error("storage task failed: {0}")]
    Task(String),
}

/// Shared handles to the outbox and the audit log; cheap to clone.
#[derive(Clone)]
pub struct Storage {
    dir: PathBuf,
    outbox: Arc<Mutex<Outbox>>,
    audit: Arc<Mutex<AuditLog>>,
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
    /// Opens (creating) both databases in `dir`.
    pub fn open(dir: &Path) -> Result<Storage, StorageError> {
        ensure_dir(dir)?;
        let outbox = Outbox::open(&dir.join(OUTBOX_FILE))?;
        let audit = AuditLog::open(&dir.join(AUDIT_FILE))?;
        Ok(Storage { dir: dir.to_path_buf(), outbox: Arc::new(Mutex::new(outbox)), audit: Arc::new(Mutex::new(audit)) })
    }

    /// The storage directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `f` on the outbox on the blocking pool.
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

    /// Runs `f` on the audit log on the blocking pool.
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

    /// Appends an audit entry. A failure is logged and returned; callers that cannot do
    /// anything better (the sync loop) may ignore it, since the log line remains.
    pub async fn audit(&self, category: AuditCategory, action: &'static str, detail: serde_json::Value) -> Result<AuditEntry, StorageError> {
        let result = self.audit_log(move |log| log.append(category, action, detail)).await;
        if let Err(e) = &result {
            tracing::error!(action, error = %e, "cannot append to the audit log");
        }
        result
    }
}
