//! The terminal's card reader and receipt printer, as the rest of the service sees them.
//!
//! [`Devices`] opens both through the `hardware` crate from `[hardware]` and never fails: a
//! device that cannot be opened is `absent` (with the reason, for the technician) and the
//! terminal keeps capturing submissions without it. Who owns what, and why:
//!
//! - The **reader** is polled every 100 ms by one blocking loop ([`crate::peripherals::reader_loop`]); the
//!   chip is handed to that loop and nothing else touches it, so there is no lock on the bus.
//!   The loop publishes what it sees into a `watch` channel ([`Devices::card`]), which any task
//!   can read or wait on without going near the hardware. Reading an ID card is therefore a
//!   request handed to that loop ([`Devices::read_id_card`]), which talks to the card between
//!   two polls and sends the answer back.
//! - The **printer** is shared by the printer monitor (status every few seconds) and by
//!   printing; it sits behind a `std::sync::Mutex` taken only on the blocking pool (a print
//!   writes for hundreds of milliseconds, a status request waits up to `timeout_ms`), so a
//!   print and a status poll simply take turns.
//! - The **barcode scanner** (`[hardware.scanner]`, referral slips) is opened here and handed
//!   to its own blocking loop ([`crate::peripherals::scanner_loop`]) the same way; a simulated
//!   scanner leaves its handle here for `POST /v1/simulator/scan`.
//! - With the simulated backend, [`Simulation`] gives the demo, the tests and the technician's
//!   fault drills the simulated field and printer.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hardware::{
    open_printer, open_reader, open_scanner, Backend, BackendConfig, BarcodeScanner, CardReader, SimulatedScannerHandle, PaperLevel, PrinterError, PrinterStatus, ReaderError, Receipt,
    ReceiptPrinter, Simulation, Uid,
};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use thiserror::Error;
use tokio::sync::{oneshot, watch};

use crate::peripherals::id_card_read::{IdCardRead, ReadError, ReadMethod};

// States and reports as the kiosk sees them are the local API's (`GET /v1/hardware`, `printer`
// events); the heartbeat and the audit log use the same names.
pub use local_api::{DeviceReport, IdCardProfile, PrinterState, ReaderState};

/// What the printer's status bytes mean for the kiosk. A problem that stops printing wins over
/// one that does not (an open cover over a low roll).
pub fn printer_state_of(status: &PrinterStatus) -> PrinterState {
    if status.cover_open {
        PrinterState::CoverOpen
    } else if status.paper == PaperLevel::Out {
        PrinterState::PaperOut
    } else if !status.online || status.error {
        PrinterState::Offline
    } else if status.paper == PaperLevel::NearEnd {
        PrinterState::PaperLow
    } else {
        PrinterState::Ok
    }
}

/// What printing a receipt produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Printed {
    /// Pages cut (a receipt is one page).
    pub pages: u32,
    /// With the simulated printer, the PNG of the printed page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub png: Option<PathBuf>,
}

/// Why a receipt did not print.
#[derive(Debug, Error)]
pub enum PrintError {
    /// The printer reports a state in which nothing comes out.
    #[error("the printer is not ready ({}): fix it, then print again", .0.as_str())]
    NotReady(PrinterState),
    /// The printer failed while printing or could not be asked.
    #[error("the printer failed: {0}")]
    Failed(String),
    /// The receipt could not be rendered (a bug or an oversize QR payload).
    #[error("the receipt could not be rendered: {0}")]
    Render(String),
}

/// The card on the reader, as the reader loop last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CardOnReader {
    /// Its UID, `None` when the field is empty.
    pub uid: Option<Uid>,
    /// Counts presentations, so a waiter can tell "the same card again" from "still there".
    pub presentations: u64,
}

/// A read of the ID card on the reader, waiting for the reader loop (which owns the reader).
pub struct IdCardRequest {
    /// The card to read: the one the caller waited for, so a card put in its place meanwhile
    /// is not read in its name.
    pub uid: Uid,
    /// Which profile to read, with the chip's key (wiped when the request is dropped).
    pub method: ReadMethod,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Result<IdCardRead, ReadError>>,
}

/// The terminal's devices.
pub struct Devices {
    config: BackendConfig,
    /// The opened reader, until the reader loop takes it.
    reader: Mutex<Option<Box<dyn CardReader>>>,
    reader_report: Mutex<DeviceReport<ReaderState>>,
    printer: Mutex<Option<Box<dyn ReceiptPrinter>>>,
    printer_report: Mutex<DeviceReport<PrinterState>>,
    simulation: Option<Simulation>,
    card: watch::Sender<CardOnReader>,
    /// The ID card read the reader loop is to do next; one at a time (one reader, one person).
    id_card_request: Mutex<Option<IdCardRequest>>,
    /// Which card an ID card read reads (`[hardware] id_card_profile`).
    id_card_profile: IdCardProfile,
    /// The printer state last published as an event (see `printer_monitor`).
    announced_printer: Mutex<PrinterState>,
    /// The opened barcode scanner, until the scanner loop takes it; `None` without one
    /// (`kind = "none"`) or when it could not be opened (see `scanner_problem`).
    scanner: Mutex<Option<Box<dyn BarcodeScanner>>>,
    /// Why the configured scanner could not be opened, for the log and the technician.
    scanner_problem: Mutex<Option<String>>,
    /// The simulated scanner's controls (`[hardware.scanner] kind = "simulated"`).
    scanner_simulation: Option<SimulatedScannerHandle>,
    /// Per-process key for the `uid_hash` of card events: lets the kiosk tell one card from
    /// another without ever seeing a UID, and is useless after a restart.
    event_key: [u8; 32],
}

/// `[hardware] id_card_profile` as the local API names it.
fn id_card_profile_of(config: &BackendConfig) -> IdCardProfile {
    match config.id_card_profile {
        hardware::IdCardProfile::Open => IdCardProfile::Open,
        hardware::IdCardProfile::Emrtd => IdCardProfile::Emrtd,
        hardware::IdCardProfile::Both => IdCardProfile::Both,
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update below leaves the guarded value consistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Devices {
    /// Opens the reader and the printer of `config` (already resolved, see
    /// [`crate::startup::config::Config::hardware_backend`]). A device that fails to open is recorded
    /// as absent with its reason.
    pub fn open(config: BackendConfig) -> Arc<Devices> {
        let (reader, field, reader_report) = match open_reader(&config) {
            Ok((reader, field)) => {
                let report = DeviceReport { description: Some(reader.describe()), state: ReaderState::Ok, problem: None };
                (Some(reader), field, report)
            }
            Err(e) => {
                tracing::warn!(error = %e, "card reader not available");
                (None, None, DeviceReport { description: None, state: ReaderState::Absent, problem: Some(e.to_string()) })
            }
        };
        let (printer, handle, printer_report) = match open_printer(&config) {
            Ok((printer, handle)) => {
                let report = DeviceReport { description: Some(printer.describe()), state: PrinterState::Ok, problem: None };
                (Some(printer), handle, report)
            }
            Err(e) => {
                tracing::warn!(error = %e, "printer not available");
                (None, None, DeviceReport { description: None, state: PrinterState::Absent, problem: Some(e.to_string()) })
            }
        };
        let simulation = match (field, handle) {
            (Some(field), Some(printer)) => Some(Simulation { field, printer }),
            _ => None,
        };
        let (scanner, scanner_simulation, scanner_problem) = match open_scanner(&config.scanner) {
            Ok(Some((scanner, handle))) => (Some(scanner), handle, None),
            Ok(None) => (None, None, None),
            Err(e) => {
                tracing::warn!(error = %e, "barcode scanner not available");
                (None, None, Some(e.to_string()))
            }
        };
        let mut event_key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut event_key);
        let id_card_profile = id_card_profile_of(&config);
        let devices = Arc::new(Devices {
            config,
            id_card_profile,
            reader: Mutex::new(reader),
            reader_report: Mutex::new(reader_report),
            printer: Mutex::new(printer),
            printer_report: Mutex::new(printer_report),
            simulation,
            card: watch::channel(CardOnReader::default()).0,
            id_card_request: Mutex::new(None),
            announced_printer: Mutex::new(PrinterState::Ok),
            scanner: Mutex::new(scanner),
            scanner_problem: Mutex::new(scanner_problem),
            scanner_simulation,
            event_key,
        });
        // The first status comes from the printer itself (the simulated one may start with no
        // paper); the printer monitor keeps it current.
        devices.poll_printer_blocking();
        devices
    }

    /// The configuration the devices were opened with.
    pub fn config(&self) -> &BackendConfig {
        &self.config
    }

    /// The board backend.
    pub fn backend(&self) -> Backend {
        self.config.backend
    }

    /// The simulated devices' controls; `None` unless the backend is `simulated`.
    pub fn simulation(&self) -> Option<&Simulation> {
        self.simulation.as_ref()
    }

    // ---- reader ----------------------------------------------------------------------------

    /// Takes the opened reader out (the reader loop, or a CLI command, becomes its owner).
    pub fn take_reader(&self) -> Option<Box<dyn CardReader>> {
        lock(&self.reader).take()
    }

    /// Tries to open the reader again (after it was absent at start-up).
    pub fn reopen_reader(&self) -> Option<Box<dyn CardReader>> {
        match open_reader(&self.config) {
            Ok((reader, _)) => {
                let mut report = lock(&self.reader_report);
                report.description = Some(reader.describe());
                Some(reader)
            }
            Err(e) => {
                lock(&self.reader_report).problem = Some(e.to_string());
                None
            }
        }
    }

    /// The reader's description and state.
    pub fn reader_report(&self) -> DeviceReport<ReaderState> {
        lock(&self.reader_report).clone()
    }

    /// The reader's state.
    pub fn reader_state(&self) -> ReaderState {
        lock(&self.reader_report).state
    }

    /// Records the reader's state; returns the previous one.
    pub fn set_reader_state(&self, state: ReaderState, problem: Option<String>) -> ReaderState {
        let mut report = lock(&self.reader_report);
        let previous = report.state;
        report.state = state;
        report.problem = problem;
        previous
    }

    /// The card on the reader now.
    pub fn card(&self) -> CardOnReader {
        *self.card.borrow()
    }

    /// Follows the card on the reader.
    pub fn watch_card(&self) -> watch::Receiver<CardOnReader> {
        self.card.subscribe()
    }

    /// Records a card presented (`Some`) or removed (`None`).
    pub fn set_card(&self, uid: Option<Uid>) {
        self.card.send_modify(|c| {
            if uid.is_some() {
                c.presentations += 1;
            }
            c.uid = uid;
        });
    }

    /// Reads the ID card with `uid`, which must be on the reader, through the reader loop.
    ///
    /// The loop answers within one poll interval plus the exchange itself (a few APDUs, each
    /// bounded by the driver); `timeout` covers a loop that is stuck or gone. A newer request
    /// replaces an older one, whose caller gets `NoCard`.
    pub async fn read_id_card(&self, uid: Uid, method: ReadMethod, timeout: Duration) -> Result<IdCardRead, ReadError> {
        if self.reader_state() == ReaderState::Absent {
            return Err(ReaderError::Timeout.into());
        }
        let (reply, answer) = oneshot::channel();
        *lock(&self.id_card_request) = Some(IdCardRequest { uid, method, reply });
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_replaced)) => Err(ReaderError::NoCard.into()),
            Err(_elapsed) => {
                // Dropping the request wipes its key.
                lock(&self.id_card_request).take();
                Err(ReaderError::Timeout.into())
            }
        }
    }

    /// Which card an ID card read reads (`[hardware] id_card_profile`).
    pub fn id_card_profile(&self) -> IdCardProfile {
        self.id_card_profile
    }

    /// The pending ID card read, for the reader loop.
    pub fn take_id_card_request(&self) -> Option<IdCardRequest> {
        lock(&self.id_card_request).take()
    }

    /// Waits up to `timeout` for a card on the reader that `accept` takes, and returns its UID.
    /// A card already on the reader counts.
    pub async fn wait_for_card(&self, timeout: Duration, accept: impl Fn(&Uid) -> bool) -> Option<Uid> {
        let mut receiver = self.card.subscribe();
        let wait = async { receiver.wait_for(|c| c.uid.as_ref().is_some_and(&accept)).await.ok().and_then(|card| card.uid) };
        tokio::time::timeout(timeout, wait).await.ok().flatten()
    }

    /// A hash of a card UID for the event stream: stable for this process only.
    pub fn event_hash(&self, uid: &Uid) -> String {
        // HMAC takes keys of any length; the 32-byte key cannot be refused.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.event_key) else { return String::new() };
        mac.update(uid.as_bytes());
        mac.finalize().into_bytes()[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    // ---- barcode scanner ---------------------------------------------------------------------

    /// Whether a barcode scanner is configured (`[hardware.scanner] kind` other than `none`),
    /// opened or not: the kiosk offers showing a referral's QR code only then.
    pub fn scanner_configured(&self) -> bool {
        self.config.scanner.kind != hardware::ScannerKind::None
    }

    /// Takes the opened scanner out (the scanner loop becomes its owner).
    pub fn take_scanner(&self) -> Option<Box<dyn BarcodeScanner>> {
        lock(&self.scanner).take()
    }

    /// Tries to open the configured scanner again (unplugged, or absent at start-up); records
    /// why not.
    pub fn reopen_scanner(&self) -> Option<Box<dyn BarcodeScanner>> {
        match open_scanner(&self.config.scanner) {
            Ok(opened) => {
                *lock(&self.scanner_problem) = None;
                opened.map(|(scanner, _)| scanner)
            }
            Err(e) => {
                *lock(&self.scanner_problem) = Some(e.to_string());
                None
            }
        }
    }

    /// Why the configured scanner is not working, if it is not.
    pub fn scanner_problem(&self) -> Option<String> {
        lock(&self.scanner_problem).clone()
    }

    /// Records why the scanner stopped working (`None`: it works again).
    pub fn set_scanner_problem(&self, problem: Option<String>) {
        *lock(&self.scanner_problem) = problem;
    }

    /// The simulated scanner's controls; `None` unless `[hardware.scanner] kind = "simulated"`.
    pub fn scanner_simulation(&self) -> Option<&SimulatedScannerHandle> {
        self.scanner_simulation.as_ref()
    }

    // ---- printer ---------------------------------------------------------------------------

    /// The printer's description and last known state.
    pub fn printer_report(&self) -> DeviceReport<PrinterState> {
        lock(&self.printer_report).clone()
    }

    /// The printer's last known state.
    pub fn printer_state(&self) -> PrinterState {
        lock(&self.printer_report).state
    }

    /// Records `state` as announced; returns the previously announced one if it changed.
    pub fn announce_printer(&self, state: PrinterState) -> Option<PrinterState> {
        let mut announced = lock(&self.announced_printer);
        let previous = std::mem::replace(&mut *announced, state);
        (previous != state).then_some(previous)
    }

    /// Asks the printer for its state and records it; returns `(previous, now)`. Blocks up to
    /// the printer's `timeout_ms`: call it on the blocking pool.
    pub fn poll_printer_blocking(&self) -> (PrinterState, PrinterState) {
        let mut printer = lock(&self.printer);
        if printer.is_none() && self.config.backend != Backend::Simulated {
            // A USB printer plugged in after start-up: try again at every poll.
            if let Ok((opened, _)) = open_printer(&self.config) {
                lock(&self.printer_report).description = Some(opened.describe());
                *printer = Some(opened);
            }
        }
        let (state, problem) = match printer.as_mut() {
            None => (PrinterState::Absent, lock(&self.printer_report).problem.clone()),
            Some(p) => match p.status() {
                Ok(status) => (printer_state_of(&status), None),
                Err(e) => (PrinterState::Offline, Some(e.to_string())),
            },
        };
        drop(printer);
        self.record_printer_state(state, problem)
    }

    fn record_printer_state(&self, state: PrinterState, problem: Option<String>) -> (PrinterState, PrinterState) {
        let mut report = lock(&self.printer_report);
        let previous = report.state;
        report.state = state;
        report.problem = problem;
        (previous, state)
    }

    /// Asks the printer for its state on the blocking pool; returns `(previous, now)`.
    pub async fn poll_printer(self: &Arc<Self>) -> (PrinterState, PrinterState) {
        let devices = Arc::clone(self);
        match tokio::task::spawn_blocking(move || devices.poll_printer_blocking()).await {
            Ok(states) => states,
            Err(_) => {
                let state = self.printer_state();
                (state, state)
            }
        }
    }

    /// Renders and prints `receipt`. Blocks for the whole print: call it on the blocking pool
    /// (or use [`Devices::print`]).
    pub fn print_blocking(&self, receipt: &Receipt) -> Result<Printed, PrintError> {
        let mut slot = lock(&self.printer);
        let Some(printer) = slot.as_mut() else { return Err(PrintError::NotReady(PrinterState::Absent)) };
        let pages_before = self.simulation.as_ref().map(|s| s.printer.pages_cut());
        match printer.print_receipt(receipt) {
            Ok(_) => {
                // The simulated printer writes a PNG per cut page; the newest one is ours
                // (prints are serialised by the lock held here).
                let png = match (&self.simulation, pages_before) {
                    (Some(sim), Some(before)) if sim.printer.pages_cut() > before => sim.printer.last_page().and_then(|p| p.png),
                    _ => None,
                };
                Ok(Printed { pages: 1, png })
            }
            Err(PrinterError::NotReady(status)) => {
                drop(slot);
                let state = printer_state_of(&status);
                self.record_printer_state(state, None);
                Err(PrintError::NotReady(state))
            }
            Err(PrinterError::Render(e)) => Err(PrintError::Render(e.to_string())),
            Err(e @ (PrinterError::NoAnswer | PrinterError::Io(_) | PrinterError::BadStatus(_))) => {
                drop(slot);
                self.record_printer_state(PrinterState::Offline, Some(e.to_string()));
                Err(PrintError::NotReady(PrinterState::Offline))
            }
        }
    }

    /// Renders and prints `receipt` on the blocking pool.
    pub async fn print(self: &Arc<Self>, receipt: Receipt) -> Result<Printed, PrintError> {
        let devices = Arc::clone(self);
        tokio::task::spawn_blocking(move || devices.print_blocking(&receipt))
            .await
            .map_err(|e| PrintError::Failed(format!("print task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hardware::SimulatedCard;

    fn simulated(dir: &std::path::Path) -> Arc<Devices> {
        let mut config = BackendConfig::default();
        config.simulator.output_dir = dir.to_path_buf();
        Devices::open(config)
    }

    #[test]
    fn printer_states_follow_the_status_bytes() {
        let status = |online, cover_open, paper, error| PrinterStatus { online, cover_open, paper, error };
        assert_eq!(printer_state_of(&status(true, false, PaperLevel::Ok, false)), PrinterState::Ok);
        assert_eq!(printer_state_of(&status(true, false, PaperLevel::NearEnd, false)), PrinterState::PaperLow);
        assert_eq!(printer_state_of(&status(false, false, PaperLevel::Out, false)), PrinterState::PaperOut);
        assert_eq!(printer_state_of(&status(false, true, PaperLevel::NearEnd, false)), PrinterState::CoverOpen);
        assert_eq!(printer_state_of(&status(true, false, PaperLevel::Ok, true)), PrinterState::Offline);
        assert!(PrinterState::PaperLow.can_print() && !PrinterState::PaperOut.can_print());
    }

    #[test]
    fn simulated_printer_prints_a_png_and_reports_paper_out() {
        let dir = tempfile::tempdir().unwrap();
        let devices = simulated(dir.path());
        assert_eq!(devices.printer_state(), PrinterState::Ok);
        let receipt = Receipt::test_page(hardware::Language::English, "T-1", "2026-11-25 10:00");
        let printed = devices.print_blocking(&receipt).unwrap();
        let png = printed.png.unwrap();
        assert!(png.starts_with(dir.path()) && png.exists(), "{png:?}");

        let sim = devices.simulation().unwrap();
        sim.printer.set_paper(PaperLevel::Out);
        assert!(matches!(devices.print_blocking(&receipt), Err(PrintError::NotReady(PrinterState::PaperOut))));
        assert_eq!(devices.printer_state(), PrinterState::PaperOut);
        sim.printer.set_paper(PaperLevel::NearEnd);
        assert_eq!(devices.poll_printer_blocking(), (PrinterState::PaperOut, PrinterState::PaperLow));
    }

    #[test]
    fn a_missing_device_is_absent_not_fatal() {
        let mut config = BackendConfig { backend: Backend::Linux, ..BackendConfig::default() };
        config.reader.spi_device = "/nonexistent/spidev9.9".into();
        config.printer.device = "/nonexistent/lp9".into();
        let devices = Devices::open(config);
        assert_eq!(devices.reader_state(), ReaderState::Absent);
        assert_eq!(devices.printer_state(), PrinterState::Absent);
        assert!(devices.printer_report().problem.unwrap().contains("/nonexistent/lp9"));
        assert!(devices.simulation().is_none());
        let receipt = Receipt::test_page(hardware::Language::English, "T-1", "now");
        assert!(matches!(devices.print_blocking(&receipt), Err(PrintError::NotReady(PrinterState::Absent))));
    }

    #[tokio::test]
    async fn waiting_for_a_card_sees_one_presented_later_and_times_out_without() {
        let dir = tempfile::tempdir().unwrap();
        let devices = simulated(dir.path());
        assert_eq!(devices.wait_for_card(Duration::from_millis(50), |_| true).await, None);
        let uid = Uid::from_hex("04A1B2C3D4E580").unwrap();
        let d = Arc::clone(&devices);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            d.set_card(Some(uid));
        });
        assert_eq!(devices.wait_for_card(Duration::from_secs(5), |_| true).await, Some(uid));
        // A filter that refuses the card on the reader waits in vain.
        assert_eq!(devices.wait_for_card(Duration::from_millis(50), |u| *u != uid).await, None);
        let h = devices.event_hash(&uid);
        assert_eq!(h.len(), 16);
        assert!(!h.to_uppercase().contains("04A1B2"));
        let _ = SimulatedCard::new(uid);
    }
}
