//! The sync engine: drains the outbox to the node, exactly once per submission.
//!
//! One task loops over: take the oldest `[sync] batch_size` rows → `POST /v1/submissions` →
//! apply the per-envelope results in one transaction (or, on failure, count the attempt). A row leaves the outbox
//! only inside that last transaction, after the node has answered for its id; if the answer is
//! lost (timeout, dropped connection, a 500 after the node committed) the same rows go again
//! with the same ids and the node answers `duplicate` with the case number it gave the first
//! time. Rejected envelopes move to the dead-letter table (never dropped).
//!
//! Failures back off exponentially with full jitter (see [`crate::backoff`]), never retrying
//! sooner than the node's `Retry-After`; one success resets the backoff. When the outbox is
//! empty the engine sleeps until [`Terminal::sync_wake`] is notified by a new submission.
//!
//! Why a single task: batches are sent one at a time so results are applied in order and the
//! node sees one stream per terminal; the throughput comes from batching, not parallelism.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use node_protocol::{SubmissionBatch, SubmissionOutcome, MAX_BATCH};
use serde::Serialize;
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

use crate::audit::AuditCategory;
use crate::backoff::Backoff;
use crate::events::{ConnectivityState, Event, SubmissionState};
use crate::node_client::NodeError;
use crate::terminal::Terminal;

/// How long an idle engine sleeps before looking at the outbox again without a wake-up.
const IDLE_RECHECK: Duration = Duration::from_secs(30);

/// What the engine is doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Not started yet.
    #[default]
    Starting,
    /// Waiting for provisioning.
    NotProvisioned,
    /// Outbox empty.
    Idle,
    /// A batch is on its way.
    Sending,
    /// Backing off after a failure.
    Waiting,
}

/// What the sync engine and the heartbeat last did (`GET /v1/diagnostics`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncDiagnostics {
    /// Current phase.
    pub state: SyncPhase,
    /// Last batch the node answered.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Last failure, without personal data.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<DateTime<Utc>>,
    /// When the next attempt is due, while backing off.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Submissions acknowledged since start.
    pub delivered: u64,
    /// Submissions rejected since start.
    pub dead_lettered: u64,
    /// Last heartbeat the node answered.
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// Last heartbeat failure.
    pub last_heartbeat_error: Option<String>,
}

/// Outcome of one pass.
enum Pass {
    /// Nothing to send.
    Empty,
    /// The node answered for a batch.
    Answered,
    /// The batch could not be delivered; back off.
    Failed { message: String, retry_after: Option<Duration> },
}

/// Runs the engine until `shutdown` turns true.
pub async fn run(terminal: Arc<Terminal>, mut shutdown: watch::Receiver<bool>) {
    let sync = &terminal.config.sync;
    let mut backoff = Backoff::new(Duration::from_millis(sync.backoff_initial_ms), Duration::from_millis(sync.backoff_max_ms));
    let batch_size = sync.batch_size.clamp(1, MAX_BATCH);
    let mut last_audited_error: Option<String> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let pass = pass(&terminal, batch_size).await;
        let delay = match pass {
            Pass::Empty => {
                set_phase(&terminal, if terminal.provisioned().is_some() { SyncPhase::Idle } else { SyncPhase::NotProvisioned }, None);
                tokio::select! {
                    _ = terminal.sync_wake.notified() => {}
                    _ = tokio::time::sleep(IDLE_RECHECK) => {}
                    _ = shutdown.wait_for(|s| *s) => break,
                }
                continue;
            }
            Pass::Answered => {
                backoff.reset();
                last_audited_error = None;
                continue;
            }
            Pass::Failed { message, retry_after } => {
                let jittered = backoff.next_delay();
                // Never sooner than the node asked.
                let delay = retry_after.map_or(jittered, |r| r.max(jittered));
                let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_else(|_| chrono::Duration::zero());
                tracing::warn!(error = %message, retry_in_ms = delay.as_millis() as u64, failures = backoff.failures(), "sync failed; backing off");
                {
                    let mut d = terminal.diagnostics.lock().unwrap_or_else(|p| p.into_inner());
                    d.state = SyncPhase::Waiting;
                    d.last_error = Some(message.clone());
                    d.last_error_at = Some(Utc::now());
                    d.next_attempt_at = Some(next);
                    d.consecutive_failures = backoff.failures();
                }
                // Audit the start of a failure streak and each change of cause, not every retry:
                // a days-long outage must not fill the chain with identical entries.
                if last_audited_error.as_deref() != Some(message.as_str()) {
                    let _ = terminal
                        .storage
                        .audit(AuditCategory::Sync, "sync_failed", json!({"error": message, "retry_in_ms": delay.as_millis() as u64}))
                        .await;
                    last_audited_error = Some(message);
                }
                delay
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.wait_for(|s| *s) => break,
        }
    }
    tracing::info!("sync engine stopped");
}

fn set_phase(terminal: &Terminal, phase: SyncPhase, next: Option<DateTime<Utc>>) {
    let mut d = terminal.diagnostics.lock().unwrap_or_else(|p| p.into_inner());
    d.state = phase;
    d.next_attempt_at = next;
}

/// Sends one batch, if there is anything to send, and applies the node's answer.
async fn pass(terminal: &Arc<Terminal>, batch_size: usize) -> Pass {
    let Some(provisioned) = terminal.provisioned() else { return Pass::Empty };
    let envelopes = match terminal.storage.outbox(move |o| o.next_batch(batch_size)).await {
        Ok(e) => e,
        Err(e) => return Pass::Failed { message: format!("reading the outbox: {e}"), retry_after: None },
    };
    if envelopes.is_empty() {
        return Pass::Empty;
    }
    set_phase(terminal, SyncPhase::Sending, None);
    let ids: Vec<Uuid> = envelopes.iter().map(|e| e.id).collect();

    let attempted_at = Utc::now();
    let answer = provisioned.client.submit(&SubmissionBatch { envelopes }).await;
    let response = match answer {
        Ok(r) => r,
        Err(e) => {
            let state = if matches!(e, NodeError::Refused { .. }) { ConnectivityState::Online } else { ConnectivityState::Offline };
            terminal.mark_connectivity(state);
            // Attempts are counted after a failure, not before each send: on success the rows
            // leave the outbox anyway, and an fsync per batch for a diagnostic counter halved
            // the drain rate. A crash mid-send leaves one attempt uncounted, which is harmless.
            if let Err(err) = terminal.storage.outbox(move |o| o.record_attempt(&ids, attempted_at)).await {
                tracing::warn!(error = %err, "could not record the failed attempt");
            }
            return Pass::Failed { message: e.to_string(), retry_after: e.retry_after() };
        }
    };
    terminal.mark_connectivity(ConnectivityState::Online);

    // Apply only results for ids of this batch: a confused node must not be able to remove
    // rows it was never sent. Ids without a result stay queued and go again.
    let sent: HashSet<Uuid> = ids.iter().copied().collect();
    let results: Vec<_> = response.results.into_iter().filter(|r| sent.contains(&r.id)).collect();
    let missing = ids.len().saturating_sub(results.len());
    let rejected: Vec<(Uuid, String)> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            SubmissionOutcome::Rejected { reason } => Some((r.id, reason.clone())),
            _ => None,
        })
        .collect();
    let delivered_ids: Vec<Uuid> = results.iter().filter(|r| !matches!(r.outcome, SubmissionOutcome::Rejected { .. })).map(|r| r.id).collect();
    let applied = match terminal.storage.outbox(move |o| o.apply_results(&results, Utc::now())).await {
        Ok(a) => a,
        // Not applied means still queued: the next pass resends and gets `duplicate` answers.
        Err(e) => return Pass::Failed { message: format!("applying the node's results: {e}"), retry_after: None },
    };

    tracing::info!(delivered = applied.delivered, dead_lettered = applied.dead_lettered, missing, "batch answered");
    {
        let mut d = terminal.diagnostics.lock().unwrap_or_else(|p| p.into_inner());
        d.last_success_at = Some(Utc::now());
        d.consecutive_failures = 0;
        d.next_attempt_at = None;
        d.delivered += applied.delivered as u64;
        d.dead_lettered += applied.dead_lettered as u64;
    }
    if applied.delivered > 0 {
        let _ = terminal
            .storage
            .audit(AuditCategory::Sync, "batch_delivered", json!({"delivered": applied.delivered, "batch": ids.len()}))
            .await;
    }
    for (id, reason) in &rejected {
        // The node's reason is about the envelope (form version, seal), never its contents.
        let _ = terminal.storage.audit(AuditCategory::Sync, "submission_rejected", json!({"id": id, "reason": reason})).await;
    }
    for id in delivered_ids {
        terminal.events.publish(Event::submission(id, SubmissionState::Delivered));
    }
    for (id, _) in rejected {
        terminal.events.publish(Event::submission(id, SubmissionState::Rejected));
    }
    terminal.publish_queue().await;
    if missing > 0 && applied.delivered + applied.dead_lettered == 0 {
        // The node answered but for none of what was sent: treat as a failure, or we would
        // resend in a tight loop.
        return Pass::Failed { message: format!("node answered without results for {missing} envelopes"), retry_after: None };
    }
    Pass::Answered
}
