//! The printer monitor: asks the printer for its state every few seconds, so the kiosk can
//! warn before an applicant is promised a receipt, and the heartbeat tells the province.
//!
//! A change is published as a `printer` event and, for faults and recoveries, audited. Prints
//! report a state they discover (paper ran out mid-day) through the same
//! [`announce_printer_state`], so the kiosk hears of it at once rather than at the next poll.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use crate::audit::AuditCategory;
use crate::peripherals::devices::PrinterState;
use crate::events::{Event, PrinterEvent};
use crate::terminal::Terminal;

/// Time between two status requests.
pub const POLL_INTERVAL: Duration = Duration::from_secs(3);

/// Polls the printer until `shutdown` turns true. The first poll is immediate.
pub async fn run(terminal: Arc<Terminal>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let (_, state) = terminal.devices.poll_printer().await;
        announce_printer_state(&terminal, state).await;
        tokio::select! {
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
            _ = shutdown.wait_for(|s| *s) => break,
        }
    }
    tracing::info!("printer monitor stopped");
}

/// Publishes `state` if it differs from the last one announced, and audits the change.
pub async fn announce_printer_state(terminal: &Terminal, state: PrinterState) {
    let Some(previous) = terminal.devices.announce_printer(state) else { return };
    terminal.events.publish(Event::Printer(PrinterEvent { state }));
    let problem = terminal.devices.printer_report().problem;
    let (action, detail) = if state == PrinterState::Ok {
        tracing::info!(previous = previous.as_str(), "printer ready");
        ("printer_recovered", json!({"previous": previous.as_str()}))
    } else {
        tracing::warn!(state = state.as_str(), "printer not ready");
        ("printer_fault", json!({"state": state.as_str(), "previous": previous.as_str(), "problem": problem}))
    };
    let _ = terminal.storage.audit(AuditCategory::Hardware, action, detail).await;
}
