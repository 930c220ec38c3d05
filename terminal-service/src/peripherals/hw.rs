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
use hardware::card_report::{AccessKeys, CardReport};
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
    /// The CAN or MRZ typed for the card report is not valid.
    #[error("{0}")]
    BadKey(String),
}

/// Asks for the keys `hw card-report --can` / `--mrz` tries, one line each on `input`
/// (prompted on `prompt`, i.e. stderr, so `--json` on stdout stays clean).
///
/// They are read from the terminal (or a pipe) rather than given as arguments so that the
/// card's CAN and MRZ never land in the shell's history or in `ps`. The MRZ key is one line:
/// the document number, the date of birth and the date of expiry (`YYMMDD`), separated by
/// commas or spaces.
pub fn read_access_keys(can: bool, mrz: bool, input: &mut dyn std::io::BufRead, prompt: &mut dyn std::io::Write) -> Result<AccessKeys, HwError> {
    let mut keys = AccessKeys::default();
    let mut ask = |question: &str| -> Result<zeroize::Zeroizing<String>, HwError> {
        let _ = write!(prompt, "{question}: ");
        let _ = prompt.flush();
        let mut line = zeroize::Zeroizing::new(String::new());
        match input.read_line(&mut line) {
            Ok(0) => Err(HwError::BadKey(format!("no answer to \"{question}\": type it and press Enter, or pipe it in"))),
            Ok(_) => Ok(line),
            Err(e) => Err(HwError::BadKey(format!("could not read the answer to \"{question}\" ({e})"))),
        }
    };
    if can {
        let line = ask("card access number (6 digits, on the card's front)")?;
        keys.can = Some(hardware::emrtd::AccessKey::can(&line).ok_or_else(|| {
            HwError::BadKey("the card access number is 1 to 12 digits (6 on the Iraqi card, printed on its front): type only the digits".into())
        })?);
    }
    if mrz {
        let line = ask("MRZ: document number, date of birth YYMMDD, date of expiry YYMMDD (e.g. A12345678,900101,310101)")?;
        let fields: Vec<&str> = line.split([',', ' ', '\t']).map(str::trim).filter(|f| !f.is_empty()).collect();
        let [number, birth, expiry] = fields.as_slice() else {
            return Err(HwError::BadKey(
                "the MRZ key is three fields: document number, date of birth YYMMDD and date of expiry YYMMDD, separated by commas".into(),
            ));
        };
        keys.mrz = Some(hardware::emrtd::MrzKey::new(number, birth, expiry).map_err(|e| HwError::BadKey(format!("MRZ key: {e}")))?);
    }
    Ok(keys)
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
///
/// With `keys`, it also tries PACE (each option EF.CardAccess offers) and BAC, and reports
/// each attempt and the read times (see [`hardware::card_report::authenticate`]).
pub fn card_report(config: &Config, timeout: Duration, keys: &AccessKeys) -> Result<CardReport, HwError> {
    ensure_devices_free(config)?;
    let devices = Devices::open(config.hardware_backend());
    let reader = devices.take_reader().ok_or_else(|| HwError::NoReader(devices.reader_report().problem.unwrap_or_default()))?;
    report_card(reader, timeout, keys).map_err(|last_error| no_card(config, timeout, last_error))
}

/// [`card_report`] on an opened reader; without a card, the reader's last error, if any.
pub fn report_card(mut reader: Box<dyn CardReader>, timeout: Duration, keys: &AccessKeys) -> Result<CardReport, Option<String>> {
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
    Ok(hardware::card_report::probe_and_authenticate(reader.as_mut(), card, started.elapsed(), keys))
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
        hardware::card_report::Authentication::Attempted { attempts, opened_with, max_read, files, read_outcome } => {
            let _ = writeln!(out, "authentication: {}", opened_with.as_deref().map_or("nothing opened the card".to_string(), |w| format!("opened by {w}")));
            for a in attempts {
                let _ = write!(out, "  {} with the {}", a.protocol, a.password);
                if let Some(id) = a.parameter_id {
                    let _ = write!(out, ", parameter {id} ({})", a.parameter.unwrap_or("unknown"));
                }
                if let Some(cipher) = a.cipher {
                    let _ = write!(out, ", {cipher}");
                }
                let _ = write!(out, ": {}", a.outcome);
                if let Some(sw) = &a.status_word {
                    let _ = write!(out, " (SW {sw})");
                }
                if let Some(detail) = &a.detail {
                    let _ = write!(out, " {detail}");
                }
                let _ = writeln!(out, ", {:.1} ms", a.micros as f64 / 1000.0);
            }
            if opened_with.is_some() {
                let _ = writeln!(out, "  READ BINARY up to {max_read} bytes; read: {}", read_outcome.as_deref().unwrap_or("?"));
                for f in files {
                    let _ = writeln!(
                        out,
                        "  {:<14} {:>6} bytes in {:>3} reads (largest {:>3}), {:.1} ms",
                        f.file,
                        f.bytes,
                        f.reads,
                        f.largest_chunk,
                        f.micros as f64 / 1000.0
                    );
                }
            }
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
        let report = report_card(devices.take_reader().unwrap(), Duration::from_secs(2), &AccessKeys::default()).unwrap();
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

    use hardware::card_report::{AttemptReport, Authentication};
    use hardware::emrtd::lds::{PaceInfo, PaceMapping};
    use hardware::emrtd::SmCipher;
    use hardware::field::{EmrtdApplicant, EmrtdChip};

    /// The keys as a technician types them.
    fn keys(can: Option<&str>, mrz: Option<&str>) -> AccessKeys {
        let typed = format!("{}{}", can.map(|c| format!("{c}\n")).unwrap_or_default(), mrz.map(|m| format!("{m}\n")).unwrap_or_default());
        read_access_keys(can.is_some(), mrz.is_some(), &mut typed.as_bytes(), &mut std::io::sink()).unwrap()
    }

    fn mrz_line(person: &EmrtdApplicant) -> String {
        format!("{},{},{}", person.document_number, person.date_of_birth, person.date_of_expiry)
    }

    /// The report on a simulated eMRTD, as text and JSON, checked to hold none of the card's
    /// personal data nor the keys.
    fn emrtd_report(chip: EmrtdChip, keys: &AccessKeys) -> (Vec<AttemptReport>, Authentication, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path(), "");
        let devices = Devices::open(c.hardware_backend());
        let person = chip.applicant().clone();
        devices.simulation().unwrap().field.present(hardware::SimulatedCard::emrtd(Uid::from_hex("08A1B2C3").unwrap(), chip));
        let report = report_card(devices.take_reader().unwrap(), Duration::from_secs(2), keys).unwrap();
        let text = format_card_report(&report);
        let json = serde_json::to_string(&report).unwrap();
        let surname = person.full_name.split("<<").next().unwrap().to_string();
        for shown in [&text, &json] {
            for secret in [&person.national_number, &person.document_number, &person.mrz_surname, &person.mrz_given_names, &surname, &person.full_name, &person.place_of_birth, &person.full_date_of_birth] {
                assert!(!shown.contains(secret.as_str()), "{secret} in {shown}");
            }
        }
        // The CAN is six digits: in JSON only a string could be it (times are numbers).
        assert!(!text.contains(&person.can) && !json.contains(&format!("\"{}\"", person.can)), "{text}\n{json}");
        let Authentication::Attempted { attempts, .. } = &report.authentication else { panic!("not attempted: {text}") };
        (attempts.clone(), report.authentication.clone(), text, json)
    }

    #[test]
    fn card_report_tries_each_pace_option_and_bac_and_times_the_files() {
        let person = EmrtdApplicant::samples().remove(0);
        // A card offering two PACE options, one of which (DH) this terminal does not run.
        let chip = EmrtdChip::new(person.clone()).with_pace(vec![
            PaceInfo::new(PaceMapping::EcdhGeneric, SmCipher::Aes128, 13),
            PaceInfo::new(PaceMapping::DhGeneric, SmCipher::Aes128, 0),
        ]);
        let (attempts, auth, text, json) = emrtd_report(chip, &keys(Some(&person.can), Some(&mrz_line(&person))));
        let summary: Vec<(&str, &str, Option<u64>, &str)> = attempts.iter().map(|a| (a.protocol, a.password, a.parameter_id, a.outcome)).collect();
        assert_eq!(
            summary,
            [
                ("PACE", "CAN", Some(13), "ok"),
                ("PACE", "CAN", Some(0), "unsupported"),
                ("PACE", "MRZ", Some(13), "ok"),
                ("PACE", "MRZ", Some(0), "unsupported"),
                ("BAC", "MRZ", None, "ok"),
            ],
            "{text}"
        );
        assert_eq!(attempts[0].cipher, Some("AES-128"), "{text}");
        assert_eq!(attempts[0].parameter, Some("brainpoolP256r1"), "{text}");
        let Authentication::Attempted { opened_with, files, max_read, read_outcome, .. } = auth else { unreachable!() };
        assert_eq!(opened_with.as_deref(), Some("PACE parameter 13 (brainpoolP256r1) AES-128 with the CAN"));
        assert_eq!((max_read, read_outcome.as_deref()), (0xDF, Some("ok")));
        let names: Vec<&str> = files.iter().map(|f| f.file).collect();
        for file in ["DG1", "DG11", "EF.SOD"] {
            assert!(names.contains(&file), "{names:?}");
        }
        assert!(files.iter().all(|f| f.bytes > 0 && f.reads > 0 && f.largest_chunk <= 0xDF), "{files:?}");
        assert!(text.contains("opened by PACE parameter 13") && text.contains("DG11") && text.contains("bytes in"), "{text}");
        assert!(json.contains("\"state\":\"attempted\"") && json.contains("\"outcome\":\"ok\""), "{json}");
    }

    #[test]
    fn card_report_with_a_wrong_can_says_wrong_key() {
        let person = EmrtdApplicant::samples().remove(0);
        let (attempts, auth, text, _) = emrtd_report(EmrtdChip::new(person), &keys(Some("000000"), None));
        assert_eq!(attempts.len(), 1, "{text}");
        assert_eq!((attempts[0].protocol, attempts[0].outcome, attempts[0].parameter_id), ("PACE", "wrong_key", Some(13)), "{text}");
        assert!(attempts[0].status_word.is_some(), "{text}");
        assert!(matches!(auth, Authentication::Attempted { opened_with: None, ref files, .. } if files.is_empty()), "{text}");
        assert!(text.contains("nothing opened the card") && text.contains("wrong_key (SW "), "{text}");
    }

    #[test]
    fn card_report_opens_a_bac_only_card_with_the_mrz_and_not_with_the_can() {
        let person = EmrtdApplicant::samples().remove(1);
        let (attempts, auth, text, _) = emrtd_report(EmrtdChip::new(person.clone()).bac_only(), &keys(Some(&person.can), Some(&mrz_line(&person))));
        let summary: Vec<(&str, &str, &str)> = attempts.iter().map(|a| (a.protocol, a.password, a.outcome)).collect();
        // No EF.CardAccess: no PACE to try; BAC needs the MRZ.
        assert_eq!(summary, [("BAC", "MRZ", "ok")], "{text}");
        assert!(matches!(auth, Authentication::Attempted { opened_with: Some(ref w), .. } if w == "BAC with the MRZ"), "{text}");
        assert!(text.contains("EF.CardAccess: not read"), "{text}");
    }

    #[test]
    fn typed_keys_are_checked() {
        let mut sink = std::io::sink();
        let bad = |can: bool, mrz: bool, typed: &str| read_access_keys(can, mrz, &mut typed.as_bytes(), &mut std::io::sink()).unwrap_err().to_string();
        assert!(bad(true, false, "12a456\n").contains("digits"));
        assert!(bad(true, false, "").contains("no answer"));
        assert!(bad(false, true, "A12345678,900101\n").contains("three fields"));
        assert!(bad(false, true, "A12345678,9001,310101\n").contains("MRZ key"));
        let keys = read_access_keys(true, true, &mut "123456\nA12345678 900101 310101\n".as_bytes(), &mut sink).unwrap();
        assert!(keys.can.is_some() && keys.mrz.is_some());
        // Neither shows in a debug print.
        let shown = format!("{keys:?}");
        assert!(!shown.contains("123456") && !shown.contains("A12345678"), "{shown}");
    }

    #[test]
    fn card_report_without_a_card_explains_the_simulator() {
        let dir = tempfile::tempdir().unwrap();
        let err = card_report(&config(dir.path(), ""), Duration::from_millis(300), &AccessKeys::default()).unwrap_err();
        assert!(err.to_string().contains("[hardware.simulator] card"), "{err}");
        // A badge answers no APDU: the report says so rather than failing.
        let report = card_report(&config(dir.path(), "[hardware.simulator]\ncard = \"DEADBEEF\"\n"), Duration::from_secs(2), &AccessKeys::default()).unwrap();
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
        let report = card_report(&c, Duration::from_secs(5), &AccessKeys::default()).unwrap_or_else(|e| panic!("{e}; pcscd's log:\n{}", pcscd.log()));
        assert!(report.reader.contains("Desk Reader 00 00"), "{report:?}");
        assert_eq!((report.atqa.as_deref(), report.sak.as_deref(), report.uid_length), (None, None, 7));
        assert_eq!(report.atr.as_deref(), Some("3B 80 80 01 01"));
        assert!(report.open_profile.answers && !report.lds1.answers, "{report:?}");
        let text = format_card_report(&report);
        assert!(text.contains("ATQA/SAK: not shown by this reader") && text.contains("ISO/IEC 14443-4 card"), "{text}");
        assert!(!text.contains("04A2249A4B5E80") && !text.contains("199012344567"), "{text}");

        // The national ID card's chip, opened by its CAN through pcscd.
        card.remove();
        let person = EmrtdApplicant::samples().remove(0);
        card.insert(hardware::SimulatedCard::emrtd(Uid::from_hex("08A1B2C3").unwrap(), EmrtdChip::new(person.clone()))).unwrap();
        // pcscd sees the card change within a poll or two; the report waits for one.
        std::thread::sleep(Duration::from_millis(900));
        let report = card_report(&c, Duration::from_secs(5), &keys(Some(&person.can), None)).unwrap_or_else(|e| panic!("{e}; pcscd's log:\n{}", pcscd.log()));
        let text = format_card_report(&report);
        let Authentication::Attempted { attempts, opened_with, files, .. } = &report.authentication else { panic!("{text}") };
        assert_eq!(attempts.iter().map(|a| a.outcome).collect::<Vec<_>>(), ["ok"], "{text}");
        assert!(opened_with.as_deref().is_some_and(|w| w.contains("with the CAN")), "{text}");
        assert!(files.iter().any(|f| f.file == "DG11" && f.bytes > 0), "{text}");
        for secret in [&person.national_number, &person.document_number, &person.can, &person.mrz_surname] {
            assert!(!text.contains(secret.as_str()), "{secret} in {text}");
        }
    }

    #[test]
    fn a_pcsc_reader_is_real_even_with_the_simulated_backend() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path(), "[hardware.reader]\nchip = \"pcsc\"\n");
        let _listener = std::os::unix::net::UnixListener::bind(&c.api.socket).unwrap();
        assert!(matches!(card_report(&c, Duration::from_millis(10), &AccessKeys::default()), Err(HwError::ServiceRunning(_))));
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
