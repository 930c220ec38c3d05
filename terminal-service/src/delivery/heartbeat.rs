//! The heartbeat: tells the node how this terminal is doing, and picks up new configuration.
//!
//! Every heartbeat interval (the node's choice at enrollment, else `[sync]
//! heartbeat_interval_s`) the terminal reports queue depth, the age of the oldest unsent
//! submission, dead letters, printer and reader state and free disk space. The answer carries
//! the node's configuration version; when it differs from the cached one the terminal fetches
//! `GET /v1/config` and replaces its cache, so new forms reach terminals within a minute.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use node_protocol::Heartbeat;
use serde_json::json;
use tokio::sync::watch;

use crate::audit::AuditCategory;
use crate::events::ConnectivityState;
use crate::delivery::node_client::NodeError;
use crate::terminal::Terminal;

/// Free bytes available to the service on the file system holding `path` (0 if unknown).
pub fn disk_free_bytes(path: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else { return 0 };
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c_path` is a valid NUL-terminated string and `stats` a writable statvfs.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut stats) };
    if rc != 0 {
        return 0;
    }
    (stats.f_bavail as u64).saturating_mul(stats.f_frsize as u64)
}

/// Whether submissions have waited too long: the oldest unsent one (`oldest_unsent`) was
/// created more than `max_days` days before `now`. `max_days` 0 turns the warning off.
///
/// The oldest waiting submission is the measure, rather than the time of the last delivery:
/// it survives restarts without a file of its own, and a terminal with nothing to send is not
/// failing to deliver. Staff see it on the staff home (`GET /v1/queue/details`), the node in
/// the heartbeat.
pub fn delivery_overdue(oldest_unsent: Option<chrono::DateTime<Utc>>, now: chrono::DateTime<Utc>, max_days: u32) -> bool {
    max_days > 0 && oldest_unsent.is_some_and(|t| now - t > chrono::Duration::days(i64::from(max_days)))
}

/// Runs heartbeats until `shutdown` turns true. The first one goes right away.
pub async fn run(terminal: Arc<Terminal>, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        let interval = match terminal.provisioned() {
            Some(p) if p.enrollment.heartbeat_interval_s > 0 => p.enrollment.heartbeat_interval_s,
            _ => terminal.config.sync.heartbeat_interval_s.max(1),
        };
        if let Err(e) = beat(&terminal).await {
            tracing::warn!(error = %e, "heartbeat failed");
            let mut d = terminal.diagnostics.lock().unwrap_or_else(|p| p.into_inner());
            d.last_heartbeat_error = Some(e.to_string());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(interval)) => {}
            _ = shutdown.wait_for(|s| *s) => break,
        }
    }
    tracing::info!("heartbeat stopped");
}

/// Sends one heartbeat and refreshes the configuration if the node has a new one.
pub async fn beat(terminal: &Arc<Terminal>) -> Result<(), NodeError> {
    let Some(provisioned) = terminal.provisioned() else { return Ok(()) };
    let stats = terminal
        .storage
        .outbox(|o| o.stats())
        .await
        .map_err(|e| NodeError::BadAnswer(format!("cannot read queue counts: {e}")))?;
    let now = Utc::now();
    let heartbeat = Heartbeat {
        software_version: env!("CARGO_PKG_VERSION").into(),
        queue_depth: stats.depth,
        oldest_unsent_age_s: stats.oldest_created_at.map(|t| (now - t).num_seconds().max(0) as u64),
        dead_letters: stats.dead_letters,
        printer: terminal.devices.printer_state().as_str().into(),
        reader: terminal.devices.reader_state().as_str().into(),
        disk_free_bytes: disk_free_bytes(&terminal.config.storage.dir),
        sent_at: now,
        delivery_overdue: delivery_overdue(stats.oldest_created_at, now, terminal.config.sync.max_days_without_delivery),
    };
    let answer = match provisioned.client.heartbeat(&heartbeat).await {
        Ok(a) => a,
        Err(e) => {
            if e.is_transient() {
                terminal.mark_connectivity(ConnectivityState::Offline);
            }
            return Err(e);
        }
    };
    terminal.mark_connectivity(ConnectivityState::Online);
    {
        let mut d = terminal.diagnostics.lock().unwrap_or_else(|p| p.into_inner());
        d.last_heartbeat_at = Some(Utc::now());
        d.last_heartbeat_error = None;
    }
    refresh_referrals_out(terminal, &provisioned, &answer).await;
    let cached = terminal.node_config().map(|c| c.version.clone());
    if cached.as_deref() != Some(answer.config_version.as_str()) {
        let config = provisioned.client.config().await?;
        if config.province != provisioned.enrollment.province {
            // The node is pinned at enrollment; a configuration for another province means a
            // misrouted or impersonated node: keep the old one and tell the technician.
            let message = format!("node sent configuration for province '{}' but this terminal is enrolled in '{}'", config.province, provisioned.enrollment.province);
            let _ = terminal.storage.audit(AuditCategory::Error, "config_refused", json!({"reason": message})).await;
            return Err(NodeError::BadAnswer(message));
        }
        let version = config.version.clone();
        terminal
            .set_node_config(config)
            .map_err(|e| NodeError::BadAnswer(format!("cannot cache the node configuration: {e}")))?;
        tracing::info!(%version, "node configuration updated");
        let _ = terminal
            .storage
            .audit(AuditCategory::Provisioning, "config_updated", json!({"from": cached, "to": version}))
            .await;
    }
    Ok(())
}

/// Takes the slip certificate the answer renews, and fetches the service directory when the
/// answer names another version. Failures are logged and audited, never fatal to the heartbeat:
/// the forms and the queue matter more, and the next heartbeat tries again.
async fn refresh_referrals_out(terminal: &Arc<Terminal>, provisioned: &crate::terminal::Provisioned, answer: &node_protocol::HeartbeatResponse) {
    if let Some(text) = &answer.terminal_certificate {
        let held = terminal.slip_certificate().map(|c| c.text());
        if held.as_deref() != Some(text.as_str()) {
            let checked = crate::startup::referrals_out::check_certificate(text, &provisioned.enrollment.terminal_id, &provisioned.key.verifying_key());
            match checked {
                Ok(certificate) => {
                    let until = certificate.certificate.valid_until;
                    if let Err(e) = terminal.set_slip_certificate(certificate) {
                        tracing::warn!(error = %e, "cannot store the node's slip certificate");
                    } else {
                        tracing::info!(%until, "slip certificate renewed");
                    }
                }
                Err(reason) => {
                    tracing::warn!(%reason, "slip certificate refused");
                    let _ = terminal.storage.audit(AuditCategory::Error, "slip_certificate_refused", json!({"reason": reason})).await;
                }
            }
        }
    }
    let Some(version) = &answer.service_directory_version else { return };
    let cached = terminal.service_directory().map(|d| d.version.clone());
    if cached.as_deref() == Some(version.as_str()) {
        return;
    }
    let directory = match provisioned.client.service_directory().await {
        Ok(directory) => directory,
        Err(e) => {
            tracing::warn!(error = %e, "cannot fetch the service directory");
            return;
        }
    };
    // Checked as the node checks it, against the master data the forms use, so the kiosk never
    // shows a service in a place it does not know.
    let master = terminal.node_config().map(|c| c.master_data.clone());
    let problems = directory.problems(master.as_ref());
    if !problems.is_empty() {
        let reason = problems.join("; ");
        tracing::warn!(%reason, "service directory refused");
        let _ = terminal.storage.audit(AuditCategory::Error, "service_directory_refused", json!({"version": directory.version, "reason": reason})).await;
        return;
    }
    let to = directory.version.clone();
    match terminal.set_service_directory(directory) {
        Ok(()) => {
            tracing::info!(version = %to, "service directory updated");
            let _ = terminal.storage.audit(AuditCategory::Provisioning, "service_directory_updated", json!({"from": cached, "to": to})).await;
        }
        Err(e) => tracing::warn!(error = %e, "cannot cache the service directory"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_is_overdue_only_past_the_limit_and_only_with_something_waiting() {
        let now = Utc::now();
        let days = |d: i64| Some(now - chrono::Duration::days(d));
        assert!(!delivery_overdue(None, now, 7), "nothing waiting is not overdue");
        assert!(!delivery_overdue(days(6), now, 7));
        assert!(!delivery_overdue(Some(now - chrono::Duration::days(7)), now, 7), "exactly the limit is not past it");
        assert!(delivery_overdue(Some(now - chrono::Duration::days(7) - chrono::Duration::minutes(1)), now, 7));
        assert!(delivery_overdue(days(30), now, 7));
        assert!(!delivery_overdue(days(30), now, 0), "0 turns the warning off");
    }

    #[test]
    fn disk_free_is_reported_for_an_existing_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(disk_free_bytes(dir.path()) > 0);
        assert_eq!(disk_free_bytes(&dir.path().join("absent")), 0);
    }
}
