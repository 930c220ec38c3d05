//! The technician's `hw` commands (`read-card`, `card-report`, `print-test`,
//! `printer-status`), run from a shell without the daemon.
//!
//! They open the devices themselves. With real devices, a running service already owns the
//! bus and the printer port, and two processes talking to one chip garble each other's
//! frames, so the commands refuse while the service's socket answers and point to the
//! technician screen instead. The simulated devices belong to each process, so there is no
//! such conflict (and no shared card either: see [`HwError::NoCard`]).

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use hardware::card_report::CardReport;
use hardware::{Card, CardPresence, CardReader, Language, Receipt, Uid};
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

/// Refuses when real devices are configured and the service answers on its socket (a PC/SC
/// reader is real with any backend: the service holds it exclusively).
pub fn ensure_devices_free(config: &Config) -> Result<(), HwError> {
    if config.hardware.reader_is_simulated() {
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
    Err(no_card(config, timeout, last_error))
}

/// Why no card came within `timeout`, and what to do about it.
fn no_card(config: &Config, timeout: Duration, last_error: Option<String>) -> HwError {
    let seconds = timeout.as_secs();
    let simulated = config.hardware.reader_is_simulated();
    let message = match (simulated, last_error) {
        (_, Some(e)) => format!("no card read within {seconds} s; the reader reported: {e}"),
        (true, None) => format!(
            "no card within {seconds} s: the simulated reader has a card only if the configuration sets [hardware.simulator] card = \"UIDHEX\" (e.g. \"04A1B2C3D4E580\"); a running service's simulated reader takes one from POST /v1/simulator/card"
        ),
        (false, None) => format!("no card within {seconds} s: hold a card flat on the reader and try again"),
    };
    HwError::NoCard(message)
}

/// Waits up to `timeout` for a card (polling every 100 ms) and probes it for the technician's
/// report: how it identifies itself, which applications answer, what EF.CardAccess offers,
/// and how long each step took — no personal data (see [`hardware::card_report`]).
pub fn card_report(config: &Config, timeout: Duration) -> Result<CardReport, HwError> {
    ensure_devices_free(config)?;
    let devices = Devices::open(config.hardware_backend());
    let reader = devices.take_reader().ok_or_else(|| HwError::NoReader(devices.reader_report().problem.unwrap_or_default()))?;
    report_card(reader, timeout).map_err(|last_error| no_card(config, timeout, last_error))
}

/// [`card_report`] on an opened reader; without a card, the reader's last error, if any.
pub fn report_card(mut reader: Box<dyn CardReader>, timeout: Duration) -> Result<CardReport, Option<String>> {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut last_error = None;
    let card: Card = loop {
        match reader.poll() {
            Ok(Some(card)) => break card,
            Ok(None) => {}
            Err(e) => last_error = Some(e.to_string()),
        }
        if Instant::now() >= deadline {
            return Err(last_error);
        }
        std::thread::sleep(crate::peripherals::reader_loop::POLL_INTERVAL);
    };
    Ok(hardware::card_report::probe(reader.as_mut(), card, started.elapsed()))
}

/// The report as the technician reads it on a terminal.
pub fn format_card_report(report: &CardReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let yes_no = |answers: bool| if answers { "answers" } else { "does not answer" };
    let _ = writeln!(out, "reader: {}", report.reader);
    match (&report.atqa, &report.sak) {
        (Some(atqa), Some(sak)) => {
            let _ = writeln!(out, "ATQA: {atqa}  SAK: {sak}");
        }
        _ => {
            let _ = writeln!(out, "ATQA/SAK: not shown by this reader");
        }
    }
    if let Some(atr) = &report.atr {
        let _ = writeln!(out, "ATR: {atr}");
        if let Some(kind) = &report.atr_kind {
            let _ = writeln!(out, "  {kind}");
        }
    }
    let random = if report.random_uid { " (random: changes at every tap)" } else { "" };
    let _ = writeln!(out, "UID: {} bytes{random}", report.uid_length);
    match &report.ats {
        Some(ats) => {
            let _ = writeln!(out, "ATS: {}", ats.raw);
            let _ = writeln!(
                out,
                "  FSCI {} (frames up to {} bytes), FWI {} (frame waiting time {:.1} ms), SFGI {}, historical bytes: {}",
                ats.fsci,
                ats.frame_size,
                ats.fwi,
                f64::from(ats.frame_waiting_time_us) / 1000.0,
                ats.sfgi,
                if ats.historical.is_empty() { "none" } else { &ats.historical }
            );
        }
        None if report.atr.is_some() => {
            let _ = writeln!(out, "ATS: not shown through PC/SC (its historical bytes are in the ATR)");
        }
        None => {
            let _ = writeln!(out, "ATS: not shown by this reader (or the card does not speak ISO/IEC 14443-4)");
        }
    }
    let access = &report.card_access;
    if access.read {
        let _ = writeln!(out, "EF.CardAccess: {}", access.raw);
        for info in &access.security_infos {
            let _ = write!(out, "  {} {}", info.oid, info.name.unwrap_or("(unknown protocol)"));
            if let Some(version) = info.version {
                let _ = write!(out, ", version {version}");
            }
            if let Some(id) = info.parameter_id {
                let _ = write!(out, ", parameter {id} ({})", info.parameter.unwrap_or("unknown"));
            }
            out.push('\n');
        }
    } else {
        let _ = writeln!(out, "EF.CardAccess: not read ({})", access.outcome);
    }
    let _ = writeln!(out, "LDS1 (eMRTD) application: {} SELECT ({})", yes_no(report.lds1.answers), report.lds1.outcome);
    let _ = writeln!(out, "beneficiary ID application: {} SELECT ({})", yes_no(report.open_profile.answers), report.open_profile.outcome);
    match &report.authentication {
        hardware::card_report::Authentication::NotAttempted { reason } => {
            let _ = writeln!(out, "authentication: not attempted: {reason}");
        }
    }
    let _ = writeln!(out, "steps:");
    for step in &report.steps {
        let _ = writeln!(out, "  {:>9.1} ms  {}: {}", step.micros as f64 / 1000.0, step.name, step.outcome);
    }
    out
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
    fn card_report_describes_an_id_card_without_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path(), "");
        let devices = Devices::open(c.hardware_backend());
        let uid = Uid::from_hex("04A2249A4B5E80").unwrap();
        devices.simulation().unwrap().field.present(hardware::SimulatedCard::id_card(uid, "199012344567", Some("19900101")));
        let report = report_card(devices.take_reader().unwrap(), Duration::from_secs(2)).unwrap();
        assert_eq!((report.atqa.as_deref(), report.sak.as_deref()), (Some("0044"), Some("20")));
        assert_eq!((report.uid_length, report.random_uid), (7, false));
        let ats = report.ats.as_ref().expect("the MFRC522 shows the ATS after the first exchange");
        assert_eq!((ats.fsci, ats.frame_size, ats.fwi), (5, 64, 7));
        assert!(report.open_profile.answers && !report.lds1.answers, "{report:?}");
        assert_eq!(report.lds1.outcome, "6A82");
        assert!(!report.card_access.read, "{report:?}");
        let names: Vec<&str> = report.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names[0], "poll (card found)");
        assert!(names.iter().any(|n| n.starts_with("SELECT LDS1")), "{names:?}");

        let text = format_card_report(&report);
        let json = serde_json::to_string(&report).unwrap();
        for shown in [&text, &json] {
            // Neither the UID, nor the national ID, nor the date of birth.
            for secret in ["04A2249A4B5E80", "04 A2 24", "199012344567", "19900101", "1990-01-01"] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
        }
        assert!(text.contains("ATQA: 0044  SAK: 20") && text.contains("UID: 7 bytes") && text.contains("frames up to 64 bytes"), "{text}");
        assert!(text.contains("authentication: not attempted"), "{text}");
        assert!(json.contains("\"state\":\"not_attempted\""), "{json}");
    }

    #[test]
    fn card_report_without_a_card_explains_the_simulator() {
        let dir = tempfile::tempdir().unwrap();
        let err = card_report(&config(dir.path(), ""), Duration::from_millis(300)).unwrap_err();
        assert!(err.to_string().contains("[hardware.simulator] card"), "{err}");
        // A badge answers no APDU: the report says so rather than failing.
        let report = card_report(&config(dir.path(), "[hardware.simulator]\ncard = \"DEADBEEF\"\n"), Duration::from_secs(2)).unwrap();
        assert_eq!((report.uid_length, report.sak.as_deref()), (4, Some("08")));
        assert!(!report.lds1.answers && report.lds1.outcome.contains("14443-4"), "{report:?}");
        assert!(report.ats.is_none());
    }

    #[test]
    fn card_report_through_pcscd_shows_the_atr_instead_of_atqa_and_sak() {
        use hardware::pcsc::{daemon, virtual_card::VirtualCard};
        if !daemon::running_as_root() {
            eprintln!("skipped: {}", daemon::unavailable().unwrap_or_default());
            return;
        }
        // The only test of this binary that speaks PC/SC: the client reads the socket path
        // that PrivatePcscd sets once per process.
        let dir = tempfile::tempdir().unwrap();
        let pcscd = daemon::PrivatePcscd::start(&dir.path().join("pcscd"), "Desk Reader").unwrap();
        let mut card = VirtualCard::new(pcscd.readers()[0].address);
        let uid = Uid::from_hex("04A2249A4B5E80").unwrap();
        card.insert(hardware::SimulatedCard::id_card(uid, "199012344567", None)).unwrap();
        let c = config(dir.path(), "[hardware.reader]\nchip = \"pcsc\"\npcsc_reader = \"Desk Reader\"\n");
        let report = card_report(&c, Duration::from_secs(5)).unwrap_or_else(|e| panic!("{e}; pcscd's log:\n{}", pcscd.log()));
        assert!(report.reader.contains("Desk Reader 00 00"), "{report:?}");
        assert_eq!((report.atqa.as_deref(), report.sak.as_deref(), report.uid_length), (None, None, 7));
        assert_eq!(report.atr.as_deref(), Some("3B 80 80 01 01"));
        assert!(report.open_profile.answers && !report.lds1.answers, "{report:?}");
        let text = format_card_report(&report);
        assert!(text.contains("ATQA/SAK: not shown by this reader") && text.contains("ISO/IEC 14443-4 card"), "{text}");
        assert!(!text.contains("04A2249A4B5E80") && !text.contains("199012344567"), "{text}");
    }

    #[test]
    fn a_pcsc_reader_is_real_even_with_the_simulated_backend() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path(), "[hardware.reader]\nchip = \"pcsc\"\n");
        let _listener = std::os::unix::net::UnixListener::bind(&c.api.socket).unwrap();
        assert!(matches!(card_report(&c, Duration::from_millis(10)), Err(HwError::ServiceRunning(_))));
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
