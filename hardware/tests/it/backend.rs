//! Board backends: configuration parsing and the simulated backend end to end (what the
//! technician's `hw read-card`, `hw print-test` and `hw printer-status` do).

use hardware::{
    Backend, BackendConfig, CardEvent, CardPresence, Devices, Language, PaperLevel, PaperWidth, PrinterError, Receipt, ReaderChip,
    SimulatedCard, Uid,
};

#[test]
fn an_empty_section_opens_the_simulated_devices() {
    let config: BackendConfig = toml::from_str("").unwrap();
    assert_eq!(config, BackendConfig::default());
    assert_eq!(config.backend, Backend::Simulated);
    assert_eq!(config.reader.chip, ReaderChip::Mfrc522);
    assert_eq!(config.printer.paper, PaperWidth::Mm58);
}

#[test]
fn a_wrong_key_is_named_in_the_error() {
    let err = toml::from_str::<BackendConfig>("[printer]\npaper_width = \"80mm\"\n").unwrap_err();
    assert!(err.to_string().contains("paper_width"), "{err}");
    let err = toml::from_str::<BackendConfig>("backend = \"arduino\"\n").unwrap_err();
    assert!(err.to_string().contains("arduino"), "{err}");
}

#[test]
fn a_bad_simulated_card_uid_is_refused_with_the_key() {
    let config: BackendConfig = toml::from_str("[simulator]\ncard = \"xyz\"\n").unwrap();
    let err = Devices::open(&config).unwrap_err();
    assert!(err.to_string().contains("hardware.simulator.card"), "{err}");
}

#[test]
fn missing_device_nodes_are_open_errors_naming_the_path() {
    let config: BackendConfig = toml::from_str(
        "backend = \"linux\"\n[reader]\nspi_device = \"/nonexistent/spidev9.9\"\n",
    )
    .unwrap();
    let err = Devices::open(&config).unwrap_err();
    assert_eq!(err.device, "card reader");
    assert!(err.to_string().contains("/nonexistent/spidev9.9"), "{err}");
}

fn simulated(chip: &str, dir: &std::path::Path) -> Devices {
    let toml = format!(
        "backend = \"simulated\"\n[reader]\nchip = \"{chip}\"\n[printer]\npaper = \"80mm\"\n[simulator]\noutput_dir = \"{}\"\ncard = \"04A2249A4B5E80\"\n",
        dir.display()
    );
    Devices::open(&toml::from_str(&toml).unwrap()).unwrap()
}

#[test]
fn simulated_backend_reads_cards_and_prints_pngs_with_either_reader() {
    for chip in ["mfrc522", "pn532"] {
        let dir = tempfile::tempdir().unwrap();
        let Devices { reader, mut printer, simulation } = simulated(chip, dir.path());
        let sim = simulation.unwrap();
        let mut presence = CardPresence::new(reader);
        let start = Uid::from_hex("04A2249A4B5E80").unwrap();
        assert!(matches!(presence.poll().unwrap(), Some(CardEvent::Presented(c)) if c.uid == start));
        sim.field.clear();
        sim.field.present(SimulatedCard::new(Uid::from_hex("DEADBEEF").unwrap()));
        assert_eq!(presence.poll().unwrap(), Some(CardEvent::Removed(start)));

        assert_eq!(printer.paper_width(), PaperWidth::Mm80);
        let report = printer.print_receipt(&Receipt::test_page(Language::Arabic, "T-1", "2026-11-24 14:05")).unwrap();
        assert!(report.bytes_sent > 0);
        let pngs: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(pngs.len(), 1, "{chip}");

        sim.printer.set_paper(PaperLevel::Out);
        assert_eq!(printer.status().unwrap().paper, PaperLevel::Out);
        assert!(matches!(printer.print_receipt(&Receipt::test_page(Language::English, "T-1", "now")), Err(PrinterError::NotReady(_))));
    }
}

#[test]
fn the_reader_opens_without_the_printer() {
    let config: BackendConfig = toml::from_str(
        "backend = \"linux\"\n[printer]\ndevice = \"/nonexistent/lp9\"\n[reader]\nspi_device = \"/nonexistent/spidev9.9\"\n",
    )
    .unwrap();
    let err = hardware::open_printer(&config).err().unwrap();
    assert_eq!(err.device, "printer");
    assert!(err.to_string().contains("/nonexistent/lp9"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let mut config = BackendConfig::default();
    config.simulator.output_dir = dir.path().into();
    let (mut reader, field) = hardware::open_reader(&config).unwrap();
    assert_eq!(reader.poll().unwrap(), None);
    field.unwrap().present(SimulatedCard::new(Uid::from_hex("DEADBEEF").unwrap()));
    assert!(reader.poll().unwrap().is_some());
}
