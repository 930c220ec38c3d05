//! The card reader loop: polls the reader every 100 ms and turns what it sees into card
//! events, session ends and audit entries.
//!
//! The chip drivers block (an SPI or I2C transaction, a bounded wait for the card's answer),
//! so the loop runs on the blocking pool and owns the reader outright: nothing else touches
//! the bus, so there is no lock to contend for. It hands results to async code the cheap
//! ways: `Devices::set_card` (a `watch` channel), `Events::publish` (a broadcast, never
//! blocks), and — for the rare audit entry — `Handle::block_on`, which is allowed here because
//! a blocking-pool thread is not a runtime worker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hardware::{CardEvent, CardPresence, CardReader, ReaderError};
use serde_json::json;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::audit::AuditCategory;
use crate::peripherals::devices::{IdCardRequest, ReaderState};
use crate::peripherals::id_card_read;
use crate::events::{self, CardState, Event};
use crate::staff::session::{announce_end, EndReason};
use crate::terminal::Terminal;

/// Time between two polls: quick enough that a tap feels immediate, slow enough to leave the
/// CPU alone.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Time between attempts to open a reader that was absent.
pub const REOPEN_INTERVAL: Duration = Duration::from_secs(5);
/// Failed polls in a row before the reader is reported faulty: a card at the edge of the
/// field garbles the odd frame, which is not a fault.
pub const ERRORS_BEFORE_FAULT: u32 = 3;

/// Starts the loop on the blocking pool; it ends when `shutdown` turns true or its sender is
/// dropped.
pub fn spawn(terminal: Arc<Terminal>, shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let handle = Handle::current();
    tokio::task::spawn_blocking(move || run(&terminal, &shutdown, &handle))
}

fn run(terminal: &Arc<Terminal>, shutdown: &watch::Receiver<bool>, handle: &Handle) {
    let devices = &terminal.devices;
    let mut presence: Option<CardPresence<Box<dyn CardReader>>> = devices.take_reader().map(CardPresence::new);
    if presence.is_none() {
        let problem = devices.reader_report().problem;
        audit(handle, terminal, "reader_fault", json!({"state": ReaderState::Absent.as_str(), "problem": problem}));
    }
    let mut last_reopen = Instant::now();
    let mut errors = 0u32;
    // Stop on the shutdown signal, and also when its sender is gone: a blocking task that
    // outlives its runtime's owner would keep the runtime from ever shutting down.
    while !*shutdown.borrow() && shutdown.has_changed().is_ok() {
        match presence.as_mut() {
            None => {
                // The simulated reader cannot fail to open; real ones (a USB reader through
                // PC/SC too, whatever the backend) may be plugged in late.
                if !devices.config().reader_is_simulated() && last_reopen.elapsed() >= REOPEN_INTERVAL {
                    last_reopen = Instant::now();
                    if let Some(reader) = devices.reopen_reader() {
                        presence = Some(CardPresence::new(reader));
                        set_state(handle, terminal, ReaderState::Ok, None);
                    }
                }
            }
            Some(p) => match p.poll() {
                Ok(event) => {
                    errors = 0;
                    set_state(handle, terminal, ReaderState::Ok, None);
                    if let Some(event) = event {
                        card_event(handle, terminal, event);
                    }
                }
                // Two cards at once is the user's doing, not the reader's.
                Err(ReaderError::Collision) => {}
                Err(e) => {
                    errors += 1;
                    if errors >= ERRORS_BEFORE_FAULT {
                        set_state(handle, terminal, ReaderState::Fault, Some(e.to_string()));
                    }
                }
            },
        }
        if let Some(request) = devices.take_id_card_request() {
            read_id_card(presence.as_mut(), request);
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    tracing::info!("card reader loop stopped");
}

fn card_event(handle: &Handle, terminal: &Arc<Terminal>, event: CardEvent) {
    let devices = &terminal.devices;
    match event {
        CardEvent::Presented(card) => {
            devices.set_card(Some(card.uid));
            terminal.sessions.card_presented(&card.uid);
            terminal.events.publish(Event::Card(events::CardEvent { state: CardState::Present, uid_hash: devices.event_hash(&card.uid) }));
        }
        CardEvent::Removed(uid) => {
            devices.set_card(None);
            terminal.events.publish(Event::Card(events::CardEvent { state: CardState::Removed, uid_hash: devices.event_hash(&uid) }));
            if let Some(ended) = terminal.sessions.card_removed(&uid) {
                handle.block_on(announce_end(terminal, &ended, EndReason::BadgeRemoved));
            }
        }
    }
}

/// Reads the requested ID card, if it is the card on the reader now. Only on request: a card
/// merely put on the reader is never read beyond its UID.
fn read_id_card(presence: Option<&mut CardPresence<Box<dyn CardReader>>>, request: IdCardRequest) {
    let result = match presence {
        Some(p) if p.current().map(|card| card.uid) == Some(request.uid) => id_card_read::read(p.reader(), &request.method),
        Some(_) => Err(ReaderError::NoCard.into()),
        None => Err(ReaderError::Timeout.into()),
    };
    // The caller may have given up (timeout); the answer then has nowhere to go. The request,
    // and with it the chip's key, is dropped (wiped) here, on this thread.
    let _ = request.reply.send(result);
}

/// Records the reader's state; a change is logged and audited.
fn set_state(handle: &Handle, terminal: &Arc<Terminal>, state: ReaderState, problem: Option<String>) {
    let previous = terminal.devices.set_reader_state(state, problem.clone());
    if previous == state {
        return;
    }
    if state == ReaderState::Ok {
        tracing::info!(previous = previous.as_str(), "card reader working");
        audit(handle, terminal, "reader_recovered", json!({"previous": previous.as_str()}));
    } else {
        tracing::warn!(state = state.as_str(), problem = problem.as_deref().unwrap_or(""), "card reader fault");
        audit(handle, terminal, "reader_fault", json!({"state": state.as_str(), "problem": problem}));
    }
}

fn audit(handle: &Handle, terminal: &Arc<Terminal>, action: &'static str, detail: serde_json::Value) {
    // Reader errors name buses and chips, never card data.
    let _ = handle.block_on(terminal.storage.audit(AuditCategory::Hardware, action, detail));
}
