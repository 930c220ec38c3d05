//! The barcode scanner loop: waits for scans on the configured `[hardware.scanner]` and
//! publishes each as a `scan` event, which the kiosk's referral screen checks (issue 14,
//! referrals in).
//!
//! Like the card reader loop it runs on the blocking pool and owns its device outright: a scan
//! arrives as bytes on an evdev node or a tty, read with a bounded wait
//! ([`SCAN_WAIT`]), so the loop notices the stop signal within that wait. The service does not
//! judge what was scanned — the kiosk asks `POST /v1/referrals/check`, the one place a
//! referral is checked — and the scanned text is never logged nor audited: a referral's
//! payload holds a partner case number. Only the scanner's faults and recoveries are audited,
//! as the reader's are.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hardware::{BarcodeScanner, ScannerError, ScannerKind};
use serde_json::json;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::audit::AuditCategory;
use crate::events::Event;
use crate::terminal::Terminal;

pub use local_api::{ScanEvent, ScanProblem};

/// The longest one wait for a scan blocks: how soon the loop sees the stop signal.
pub const SCAN_WAIT: Duration = Duration::from_millis(200);
/// Time between attempts to open a scanner that is absent or was unplugged.
pub const REOPEN_INTERVAL: Duration = Duration::from_secs(5);

/// Starts the loop on the blocking pool when a scanner is configured; it ends when `shutdown`
/// turns true or its sender is dropped. `None` without a scanner (`kind = "none"`).
pub fn spawn(terminal: Arc<Terminal>, shutdown: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
    if !terminal.devices.scanner_configured() {
        return None;
    }
    let handle = Handle::current();
    Some(tokio::task::spawn_blocking(move || run(&terminal, &shutdown, &handle)))
}

/// What one wait for a scan means for the loop.
#[derive(Debug, PartialEq, Eq)]
pub enum ScanOutcome {
    /// A scan to publish (read, or refused as a whole).
    Publish(ScanEvent),
    /// Nothing arrived in time.
    Nothing,
    /// The scanner failed or went away: reopen it.
    Lost(String),
}

/// Interprets one [`BarcodeScanner::read_scan`].
pub fn outcome(read: Result<Option<String>, ScannerError>) -> ScanOutcome {
    match read {
        Ok(Some(text)) => ScanOutcome::Publish(ScanEvent::read(text)),
        Ok(None) => ScanOutcome::Nothing,
        // A refused scan is the person's to see ("scan again"), not a fault of the scanner.
        Err(ScannerError::Garbled(_)) => ScanOutcome::Publish(ScanEvent::unreadable(ScanProblem::Garbled)),
        Err(ScannerError::TooLong { .. }) => ScanOutcome::Publish(ScanEvent::unreadable(ScanProblem::TooLong)),
        Err(e @ (ScannerError::Io { .. } | ScannerError::Disconnected { .. })) => ScanOutcome::Lost(e.to_string()),
    }
}

fn run(terminal: &Arc<Terminal>, shutdown: &watch::Receiver<bool>, handle: &Handle) {
    let devices = &terminal.devices;
    let simulated = devices.config().scanner.kind == ScannerKind::Simulated;
    let mut scanner: Option<Box<dyn BarcodeScanner>> = devices.take_scanner();
    match &scanner {
        Some(s) => tracing::info!(scanner = %s.describe(), "barcode scanner ready"),
        None => {
            let problem = devices.scanner_problem();
            audit(handle, terminal, "scanner_fault", json!({"problem": problem}));
        }
    }
    let mut last_reopen = Instant::now();
    // Stop on the shutdown signal, and also when its sender is gone (see `reader_loop`).
    while !*shutdown.borrow() && shutdown.has_changed().is_ok() {
        let Some(s) = scanner.as_mut() else {
            // A USB scanner may be plugged in late, or again; the simulated one never leaves.
            if !simulated && last_reopen.elapsed() >= REOPEN_INTERVAL {
                last_reopen = Instant::now();
                scanner = devices.reopen_scanner();
                if let Some(s) = &scanner {
                    tracing::info!(scanner = %s.describe(), "barcode scanner working");
                    audit(handle, terminal, "scanner_recovered", json!({}));
                }
            }
            std::thread::sleep(SCAN_WAIT);
            continue;
        };
        match outcome(s.read_scan(SCAN_WAIT)) {
            ScanOutcome::Publish(event) => {
                // What was read is the kiosk's to check; never logged (a partner case number).
                tracing::debug!(readable = event.payload.is_some(), "scan");
                terminal.events.publish(Event::Scan(event));
            }
            ScanOutcome::Nothing => {}
            ScanOutcome::Lost(problem) => {
                tracing::warn!(problem = %problem, "barcode scanner fault");
                audit(handle, terminal, "scanner_fault", json!({"problem": problem}));
                devices.set_scanner_problem(Some(problem));
                scanner = None;
                last_reopen = Instant::now();
            }
        }
    }
    tracing::info!("barcode scanner loop stopped");
}

fn audit(handle: &Handle, terminal: &Arc<Terminal>, action: &'static str, detail: serde_json::Value) {
    // Scanner errors name the device node, never what was scanned.
    let _ = handle.block_on(terminal.storage.audit(AuditCategory::Hardware, action, detail));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_scan_is_published_a_refused_one_too_and_a_lost_scanner_is_reopened() {
        assert_eq!(outcome(Ok(Some("WFP-79E-7X4-DM0".into()))), ScanOutcome::Publish(ScanEvent::read("WFP-79E-7X4-DM0".into())));
        assert_eq!(outcome(Ok(None)), ScanOutcome::Nothing);
        assert_eq!(outcome(Err(ScannerError::Garbled("F1".into()))), ScanOutcome::Publish(ScanEvent::unreadable(ScanProblem::Garbled)));
        assert_eq!(outcome(Err(ScannerError::TooLong { len: 600, max: 512 })), ScanOutcome::Publish(ScanEvent::unreadable(ScanProblem::TooLong)));
        let lost = outcome(Err(ScannerError::Disconnected { device: "/dev/input/event7".into() }));
        assert!(matches!(&lost, ScanOutcome::Lost(p) if p.contains("/dev/input/event7")), "{lost:?}");
    }
}
