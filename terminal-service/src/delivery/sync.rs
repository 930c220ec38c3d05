//! The sync engine: drains the outbox to the node, exactly once per submission.
//!
//! One task loops over: take the oldest `[sync] batch_size` rows → `POST /v1/submissions` →
//! apply the per-envelope results in one transaction (or, on failure, count the attempt). A row leaves the outbox
//! only inside that last transaction, after the node has answered for its id; if the answer is
//! lost (timeout, dropped connection, a 500 after the node committed) the same rows go again
//! with the same ids and the node answers `duplicate` with the case number it gave the first
//! time. Rejected envelopes move to the dead-letter table (never dropped).
//!
//! Failures back off exponentially with full jitter (see [`crate::delivery::backoff`]), never retrying
//! sooner than the node's `Retry-After` (and, with jitter, up to twice as late, so the terminals
//! an overloaded node turned away together come back spread out); one success resets the backoff. When the outbox is
//! empty the engine sleeps until [`Terminal::sync_wake`] is notified by a new submission.
//!
//! # Two batches in flight
//!
//! Applying an answer costs a local transaction with an fsync (audit entries now share it: see
//! [`crate::capture::storage`]); done while nothing is on the wire, that idle time capped the drain at about
//! 0.6× of what the node ingests. So the engine keeps up to [`MAX_IN_FLIGHT`] (two) batches
//! on the wire: while batch k's answer is applied and audited, batch k+1 is already sent.
//!
//! - One task still owns the loop. Each send runs in its own spawned task, so it progresses
//!   while the loop waits on the disk; the loop settles answers strictly in send order
//!   (oldest first), so results, audit entries and events come out in the order batches went.
//! - No id is ever in two in-flight batches: the next batch is read with
//!   [`Outbox::next_batch_excluding`](crate::capture::outbox::Outbox::next_batch_excluding) and the ids
//!   already on the wire. Rows still leave the outbox only in the transaction that applies
//!   the node's answer for their id, so a lost answer means the same ids and sealed bytes go
//!   again, exactly as with one batch.
//! - The window opens only on success: the engine starts, and restarts after every failure,
//!   with a single batch, and allows the second one after a batch is answered. During an
//!   outage that halves the requests for nothing, and the failed batch is retried alone.
//! - On a failure no new batch is sent. The other in-flight batch, if any, is awaited and
//!   its answer applied if it succeeded (wasting it would only mean resending it); then the
//!   engine backs off once, for at least the longest `Retry-After` either answer carried.
//!   Since nothing new goes out between the failure and the end of that wait, no send
//!   happens before a `Retry-After` expires.
//! - On shutdown nothing new is sent, and the batches on the wire are settled first (each is
//!   bounded by the request timeout), as a single in-progress pass was before.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use node_protocol::{BatchResponse, SubmissionBatch, SubmissionOutcome, MAX_BATCH};
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::audit::AuditCategory;
use crate::delivery::backoff::Backoff;
use crate::events::{ConnectivityState, Event, SubmissionState};
use crate::delivery::node_client::NodeError;
use crate::terminal::Terminal;

/// How long an idle engine sleeps before looking at the outbox again without a wake-up.
const IDLE_RECHECK: Duration = Duration::from_secs(30);

/// Most batches on the wire at once. Two hide the local apply-and-audit time behind the next
/// send; more would only queue at the node (it handles one stream per terminal) and widen
/// what a crash or a failure has to resend.
pub const MAX_IN_FLIGHT: usize = 2;

// What the engine reports is the local API's `GET /v1/diagnostics`.
pub use local_api::{SyncDiagnostics, SyncPhase};

/// Outcome of settling one batch (or of failing to start one).
enum Pass {
    /// The node answered for a batch.
    Answered,
    /// The batch could not be delivered; back off.
    Failed { message: String, retry_after: Option<Duration> },
}

/// A batch on the wire: its ids, in the order sent, and the task awaiting the node's answer.
struct Flight {
    ids: Vec<Uuid>,
    attempted_at: DateTime<Utc>,
    answer: JoinHandle<Result<BatchResponse, NodeError>>,
}

/// Outcome of trying to put one more batch on the wire.
enum Launch {
    /// Nothing (else) to send, or not provisioned.
    Empty,
    /// A batch is on its way.
    Sent(Flight),
    /// The outbox could not be read.
    Failed(Pass),
}

/// Runs the engine until `shutdown` turns true.
pub async fn run(terminal: Arc<Terminal>, mut shutdown: watch::Receiver<bool>) {
    let sync = &terminal.config.sync;
    let mut backoff = Backoff::new(Duration::from_millis(sync.backoff_initial_ms), Duration::from_millis(sync.backoff_max_ms));
    if !sync.backoff_jitter {
        backoff = backoff.without_jitter();
    }
    let batch_size = sync.batch_size.clamp(1, MAX_BATCH);
    let mut last_audited_error: Option<String> = None;
    // Oldest first; settled strictly in this order.
    let mut in_flight: VecDeque<Flight> = VecDeque::with_capacity(MAX_IN_FLIGHT);
    // One batch at start and after each failure; MAX_IN_FLIGHT once a batch was answered.
    let mut window = 1;
    loop {
        if *shutdown.borrow() {
            // Settle what is on the wire rather than throw the answers away; each wait is
            // bounded by the request timeout.
            while let Some(flight) = in_flight.pop_front() {
                let _ = settle(&terminal, flight).await;
            }
            break;
        }
        let mut failure = None;
        while in_flight.len() < window {
            match launch(&terminal, batch_size, &in_flight).await {
                Launch::Empty => break,
                Launch::Sent(flight) => in_flight.push_back(flight),
                Launch::Failed(pass) => {
                    failure = Some(pass);
                    break;
                }
            }
        }
        let pass = match failure {
            Some(pass) => pass,
            None => match in_flight.pop_front() {
                Some(flight) => settle(&terminal, flight).await,
                None => {
                    set_phase(&terminal, if terminal.provisioned().is_some() { SyncPhase::Idle } else { SyncPhase::NotProvisioned }, None);
                    tokio::select! {
                        _ = terminal.sync_wake.notified() => {}
                        _ = tokio::time::sleep(IDLE_RECHECK) => {}
                        _ = shutdown.wait_for(|s| *s) => break,
                    }
                    continue;
                }
            },
        };
        let (message, mut retry_after) = match pass {
            Pass::Answered => {
                backoff.reset();
                last_audited_error = None;
                window = MAX_IN_FLIGHT;
                continue;
            }
            Pass::Failed { message, retry_after } => (message, retry_after),
        };
        window = 1;
        // Nothing new goes out now. Let the other batch finish: a success is applied (its rows
        // leave the outbox), a failure may carry a longer Retry-After, which must be honoured
        // too. The node's own failure takes precedence in the message.
        while let Some(flight) = in_flight.pop_front() {
            if let Pass::Failed { retry_after: other, .. } = settle(&terminal, flight).await {
                retry_after = retry_after.max(other);
            }
        }
        // Never sooner than the node asked, plus a random share of as much again so that the
        // terminals one overloaded node turned away do not all return at the same instant.
        // Measured from now, i.e. after the other batch was settled, so it is never shorter
        // than the node's Retry-After.
        let delay = match retry_after {
            Some(r) => backoff.after_retry_after(r),
            None => backoff.next_delay(),
        };
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

/// Reads the next batch, skipping every id already on the wire, and sends it from a task of
/// its own, so it travels while the engine applies the previous answer.
async fn launch(terminal: &Arc<Terminal>, batch_size: usize, in_flight: &VecDeque<Flight>) -> Launch {
    let Some(provisioned) = terminal.provisioned() else { return Launch::Empty };
    let exclude: HashSet<Uuid> = in_flight.iter().flat_map(|f| f.ids.iter().copied()).collect();
    let envelopes = match terminal.storage.outbox(move |o| o.next_batch_excluding(batch_size, &exclude)).await {
        Ok(e) => e,
        Err(e) => return Launch::Failed(Pass::Failed { message: format!("reading the outbox: {e}"), retry_after: None }),
    };
    if envelopes.is_empty() {
        return Launch::Empty;
    }
    set_phase(terminal, SyncPhase::Sending, None);
    let ids: Vec<Uuid> = envelopes.iter().map(|e| e.id).collect();
    let attempted_at = Utc::now();
    let client = provisioned.client;
    let answer = tokio::spawn(async move { client.submit(&SubmissionBatch { envelopes }).await });
    Launch::Sent(Flight { ids, attempted_at, answer })
}

/// Writes to the audit log, once, an offset between the terminal's clock and the node's that
/// the node client learned (a terminal without a real-time clock): the entries before it carry
/// the local clock's times, off by that much.
async fn audit_clock_offset(terminal: &Arc<Terminal>) {
    let Some(provisioned) = terminal.provisioned() else { return };
    if let Some(offset) = provisioned.client.clock().unaudited_offset() {
        let _ = terminal
            .storage
            .audit(AuditCategory::Sync, "clock_offset_learned", json!({"node_minus_local_s": offset, "source": "node Date header"}))
            .await;
    }
}

/// Waits for the node's answer to one batch and applies it.
async fn settle(terminal: &Arc<Terminal>, flight: Flight) -> Pass {
    let Flight { ids, attempted_at, answer } = flight;
    let answer = match answer.await {
        Ok(answer) => answer,
        // The send task panicked or was cancelled: as good as a lost answer.
        Err(e) => {
            record_attempt(terminal, ids, attempted_at).await;
            return Pass::Failed { message: format!("send task failed: {e}"), retry_after: None };
        }
    };
    audit_clock_offset(terminal).await;
    let response = match answer {
        Ok(r) => r,
        Err(e) => {
            let state = if matches!(e, NodeError::Refused { .. }) { ConnectivityState::Online } else { ConnectivityState::Offline };
            terminal.mark_connectivity(state);
            record_attempt(terminal, ids, attempted_at).await;
            return Pass::Failed { message: e.to_string(), retry_after: e.retry_after() };
        }
    };
    terminal.mark_connectivity(ConnectivityState::Online);

    // Apply only results for ids of this batch: a confused node must not be able to remove
    // rows it was never sent (including those of the other batch in flight). Ids without a
    // result stay queued and go again.
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
    // Applications the node filed but flagged as possibly already registered (issue 11): the
    // audit keeps the decision and the matched case numbers (no personal data). Rare, so one
    // entry each costs little; `distinct` results are not audited one by one.
    let flagged: Vec<serde_json::Value> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            SubmissionOutcome::Accepted { case_number, duplicate_check: Some(check), .. }
                if check.decision != node_protocol::DuplicateDecision::Distinct =>
            {
                Some(json!({"id": r.id, "case_number": case_number, "decision": check.decision,
                    "matches": check.matches.iter().map(|m| &m.case_number).collect::<Vec<_>>(), "headquarters": check.headquarters}))
            }
            _ => None,
        })
        .collect();
    // Partner referrals the node refused though the kiosk had taken them (checked offline,
    // issue 14): the application is filed, the refusal is kept for staff by `apply_results`
    // (the queue details' `referral_refusals`) and audited with the short code only.
    let refused_referrals: Vec<serde_json::Value> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            SubmissionOutcome::Accepted { case_number, referral_check: Some(check), .. } if check.status == node_protocol::ReferralStatus::Refused => {
                Some(json!({"id": r.id, "case_number": case_number, "code": check.code, "reason": check.reason.unwrap_or(node_protocol::ReferralRefusal::Other)}))
            }
            _ => None,
        })
        .collect();
    // The node's answer and its audit entries are one job of the group commit: the entries
    // ride on the commit that records the delivery instead of costing fsyncs of their own. An
    // entry that cannot be written is logged and left out, never a reason to resend the batch.
    let batch = ids.len();
    let audited_rejections: Vec<(Uuid, String)> = rejected.clone();
    let applied = match terminal
        .storage
        .write(move |group| {
            let applied = group.apply_results(&results, Utc::now())?;
            if applied.delivered > 0 {
                group.audit_or_log(AuditCategory::Sync, "batch_delivered", json!({"delivered": applied.delivered, "batch": batch}));
            }
            for entry in flagged {
                group.audit_or_log(AuditCategory::Sync, "submission_flagged", entry);
            }
            for entry in refused_referrals {
                group.audit_or_log(AuditCategory::Sync, "referral_refused", entry);
            }
            for (id, reason) in audited_rejections {
                // The node's reason is about the envelope (form version, seal), never its contents.
                group.audit_or_log(AuditCategory::Sync, "submission_rejected", json!({"id": id, "reason": reason}));
            }
            Ok(applied)
        })
        .await
    {
        Ok(a) => a,
        // Not applied means still queued: a later pass resends and gets `duplicate` answers.
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

/// Counts a failed attempt for `ids`.
async fn record_attempt(terminal: &Terminal, ids: Vec<Uuid>, attempted_at: DateTime<Utc>) {
    // Attempts are counted after a failure, not before each send: on success the rows leave
    // the outbox anyway, and an fsync per batch for a diagnostic counter halved the drain
    // rate. A crash mid-send leaves one attempt uncounted, which is harmless.
    if let Err(err) = terminal.storage.write(move |group| group.record_attempt(&ids, attempted_at)).await {
        tracing::warn!(error = %err, "could not record the failed attempt");
    }
}
