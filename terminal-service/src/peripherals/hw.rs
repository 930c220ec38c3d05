//! The technician's `hw` commands (`read-card`, `print-test`, `printer-status`), run from a
//! shell without the daemon.
//!
//! They open the devices themselves. With real devices, a running service already owns the
//! bus and the printer port, and two processes talking to one chip garble each other's
//! frames, so the commands refuse while the service's socket answers and point to the
//! technician screen instead. The simulated devices belong to each process, so there is no
//! such conflict (and no shared card either: see [`HwError::NoCard`]).

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use hardware::{Backend, CardPresence, Language, Receipt, Uid};
use thiserror::Error;

use crate::startup::config::Config;
use crate::peripherals::devices::{DeviceReport, Devices, PrintError, Printed, PrinterState};
use crate::startup::identity::Enrollment;
use local_api::display::Conventions;

use crate::peripherals::receipts::format_time;

/// Why a `hw` command failed.
#[derive(Debug, Error)]
pub enum HwError {
    /// The service is running and owns the devices.
    #[error("terminal-service is running ({0}) and owns the card reader and printer: use the technician screen's hardware tests, or stop the service first (systemctl stop terminal-service)")]
    ServiceRunning(String),
    /// The reader could not be opened.
    #[error("the card reader is not available: {0}")]
    NoReader(String),
    /// No card came.
    #[error("{0}")]
    NoCard(String),
    /// The print failed.
    #[error(transparent)]
    Print(#[from] PrintError),
}

/// Refuses when real devices are configured and the service answers on its socket.
pub fn ensure_devices_free(config: &Config) -> Result<(), HwError> {
    if config.hardware.backend == Backend::Simulated {
        return Ok(());
    }
    let socket = &config.api.socket;
    if std::os::unix::net::UnixStream::connect(socket).is_ok() {
        return Err(HwError::ServiceRunning(socket.display().to_string()));
    }
    Ok(())
}

/// The enrolled terminal id, or `unprovisioned`.
pub fn terminal_id(storage_dir: &Path) -> String {
    match Enrollment::load(storage_dir) {
        Ok(Some(e)) => e.terminal_id,
        _ => "unprovisioned".into(),
    }
}

/// Polls the reader every 100 ms for up to `timeout`; the UID of the first card seen.
pub fn read_card(config: &Config, timeout: Duration) -> Result<Uid, HwError> {
    ensure_devices_free(config)?;
    let devices = Devices::open(config.hardware_backend());
    let reader = devices.take_reader().ok_or_else(|| HwError::NoReader(devices.reader_report().problem.unwrap_or_default()))?;
    let mut presence = CardPresence::new(reader);
    let deadline = Instant::now() + timeout;
    let mut last_error = None;
    loop {
        match presence.poll() {
            Ok(Some(hardware::CardEvent::Presented(card))) => return Ok(card.uid),
            Ok(_) => {}
            Err(e) => last_error = Some(e.to_string()),
        }
        if Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(crate::peripherals::reader_loop::POLL_INTERVAL);
    }
    let seconds = timeout.as_secs();
    let message = match (config.hardware.backend, last_error) {
        (_, Some(e)) => format!("no card read within {seconds} s; the reader reported: {e}"),
        (Backend::Simulated, None) => format!(
            "no card within {seconds} s: the simulated reader has a card only if the configuration sets [hardware.simulator] card = \"UIDHEX\" (e.g. \"04A1B2C3D4E580\"); a running service's simulated reader takes one from POST /v1/simulator/card"
        ),
        (_, None) => format!("no card within {seconds} s: hold a card flat on the reader and try again"),
    };
    Err(HwError::NoCard(message))
}

/// Prints the test page.
pub fn print_test(config: &Config, language: Language) -> Result<Printed, HwError> {
    ensure_devices_free(config)?;
    let devices = Devices::open(config.hardware_backend());
    let receipt = Receipt::test_page(language, &terminal_id(&config.storage.dir), &format_time(Utc::now(), Conventions::default()));
    Ok(devices.print_blocking(&receipt)?)
}

/// Asks the printer for its state.
pub fn printer_status(config: &Config) -> Result<DeviceReport<PrinterState>, HwError> {
    ensure_devices_free(config)?;
    Ok(Devices::open(config.hardware_backend()).printer_report())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path, extra: &str) -> Config {
        let text = format!("[storage]\ndir = \"{}\"\n[api]\nsocket = \"{}\"\n{extra}", dir.join("state").display(), dir.join("api.sock").display());
        Config::parse(&text, Path::new("test.toml")).unwrap()
    }

    #[test]
    fn print_test_writes_a_png_under_the_storage_dir() {
        let dir = tempfile::tempdir().unwrap();
        let printed = print_test(&config(dir.path(), ""), Language::English).unwrap();
        let png = printed.png.unwrap();
        assert!(png.starts_with(dir.path().join("state").join("printed")) && png.exists(), "{png:?}");
        let err = print_test(&config(dir.path(), "[hardware.simulator]\npaper = \"out\"\n"), Language::English).unwrap_err();
        assert!(err.to_string().contains("paper_out"), "{err}");
        assert_eq!(printer_status(&config(dir.path(), "[hardware.simulator]\npaper = \"near-end\"\n")).unwrap().state, PrinterState::PaperLow);
    }

    #[test]
    fn read_card_finds_the_configured_card_or_explains_the_simulator() {
        let dir = tempfile::tempdir().unwrap();
        let uid = read_card(&config(dir.path(), "[hardware.simulator]\ncard = \"04a1b2c3d4e580\"\n"), Duration::from_secs(2)).unwrap();
        assert_eq!(uid.to_string(), "04A1B2C3D4E580");
        let err = read_card(&config(dir.path(), ""), Duration::from_millis(300)).unwrap_err();
        assert!(err.to_string().contains("[hardware.simulator] card"), "{err}");
    }

    #[test]
    fn real_devices_are_not_touched_while_the_service_owns_them() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path(), "[hardware]\nbackend = \"linux\"\n");
        let _listener = std::os::unix::net::UnixListener::bind(&c.api.socket).unwrap();
        assert!(matches!(print_test(&c, Language::Arabic), Err(HwError::ServiceRunning(_))));
        assert!(matches!(read_card(&c, Duration::from_millis(10)), Err(HwError::ServiceRunning(_))));
    }
}
