//! ESC/POS printer: byte-exact commands from the Epson reference, status decoding, and the
//! simulated printer that turns the byte stream back into pages.

use crate::common;

use common::{sample_receipt, ScriptedStream};
use hardware::escpos::{commands, Error, EscPosPrinter, SimulatedPrinter, KEPT_PAGES};
use hardware::{render_receipt, Language, PaperLevel, PaperWidth, PrinterError, Raster, ReceiptPrinter};

#[test]
fn a_page_is_init_bands_feeds_and_a_partial_cut() {
    // 16 dots wide, 5 rows: ink, ink, blank, blank, ink in the first byte only.
    let bits = vec![
        0xF0, 0x0F, //
        0x80, 0x01, //
        0x00, 0x00, //
        0x00, 0x00, //
        0xAA, 0x00,
    ];
    let page = Raster::from_bits(16, 5, bits).unwrap();
    let expected = [
        vec![0x1B, 0x40],                                     // ESC @
        vec![0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x02, 0x00], // GS v 0, 2 bytes × 2 rows
        vec![0xF0, 0x0F, 0x80, 0x01],
        vec![0x1B, 0x4A, 0x02],                               // ESC J 2: the blank rows
        vec![0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00], // 1 byte wide: trailing white dropped
        vec![0xAA],
        vec![0x1D, 0x56, 0x42, 0x00], // GS V 66 0
    ]
    .concat();
    assert_eq!(commands::encode_page(&page), expected);
}

#[test]
fn long_blank_runs_feed_at_most_255_rows_per_command() {
    let page = Raster::new(8, 600);
    let expected = [vec![0x1B, 0x40], vec![0x1B, 0x4A, 255, 0x1B, 0x4A, 255, 0x1B, 0x4A, 90], vec![0x1D, 0x56, 0x42, 0x00]].concat();
    assert_eq!(commands::encode_page(&page), expected);
}

#[test]
fn tall_ink_is_split_into_bands_of_at_most_128_rows() {
    let mut page = Raster::new(8, 300);
    page.fill(0, 0, 8, 300);
    let bytes = commands::encode_page(&page);
    let headers: Vec<u16> = bytes
        .windows(8)
        .filter(|w| w[..4] == [0x1D, 0x76, 0x30, 0x00])
        .map(|w| u16::from_le_bytes([w[6], w[7]]))
        .collect();
    assert_eq!(headers, vec![128, 128, 44]);
    assert_eq!(bytes.len(), 2 + 3 * 8 + 300 + 4);
}

#[test]
fn status_sends_dle_eot_1_2_4_and_decodes_the_answers() {
    // Online, cover closed, roll near end (bits 2–3 of DLE EOT 4).
    let mut printer = EscPosPrinter::new(ScriptedStream::answering(&[0x12, 0x12, 0x1E]), PaperWidth::Mm58);
    let status = printer.status().unwrap();
    assert!(status.online && !status.cover_open && !status.error);
    assert_eq!(status.paper, PaperLevel::NearEnd);
    assert!(status.can_print());
    assert_eq!(printer.release().written, vec![0x10, 0x04, 0x01, 0x10, 0x04, 0x02, 0x10, 0x04, 0x04]);
}

#[test]
fn paper_out_and_cover_open_stop_printing() {
    // Offline (bit 3), cover open (bit 2) and stopped at paper end (bit 5), paper end (bits 5–6).
    let answers = [0x1A, 0x36, 0x72];
    let mut printer = EscPosPrinter::new(ScriptedStream::answering(&answers), PaperWidth::Mm58);
    let page = Raster::new(384, 10);
    match printer.print(&page) {
        Err(Error::NotReady(status)) => {
            assert!(!status.online && status.cover_open);
            assert_eq!(status.paper, PaperLevel::Out);
        }
        other => panic!("{other:?}"),
    }
    // Nothing but the status requests went out.
    assert_eq!(printer.release().written.len(), 9);
}

#[test]
fn a_byte_without_the_fixed_status_bits_is_rejected() {
    let mut printer = EscPosPrinter::new(ScriptedStream::answering(&[0x41]), PaperWidth::Mm58);
    assert!(matches!(printer.status(), Err(Error::BadStatus(0x41))));
}

#[test]
fn a_silent_printer_is_no_answer() {
    let mut printer = EscPosPrinter::new(ScriptedStream::default(), PaperWidth::Mm58);
    assert!(matches!(printer.status(), Err(Error::NoAnswer)));
}

#[test]
fn the_simulator_prints_exactly_the_page_it_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimulatedPrinter::new(PaperWidth::Mm58).with_output_dir(dir.path());
    let handle = sim.handle();
    let mut printer = EscPosPrinter::new(sim, PaperWidth::Mm58);
    let page = render_receipt(&sample_receipt(Language::Kurdish), PaperWidth::Mm58).unwrap();
    let report = printer.print(&page).unwrap();
    assert!(handle.protocol_errors().is_empty(), "{:?}", handle.protocol_errors());
    let pages = handle.pages();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].raster, page);
    assert_eq!(report.bytes_sent + 9, handle.bytes_received());
    let png = pages[0].png.clone().unwrap();
    let reread = Raster::read_png(std::io::BufReader::new(std::fs::File::open(&png).unwrap())).unwrap();
    assert_eq!(reread, page);
}

#[test]
fn bytes_sent_stay_close_to_the_ink_on_the_page() {
    for language in Language::ALL {
        let page = render_receipt(&sample_receipt(language), PaperWidth::Mm80).unwrap();
        let bytes = commands::encode_page(&page).len();
        let inked_rows = (0..page.height()).filter(|&y| !page.is_row_blank(y)).count();
        let raster_minimum = inked_rows * page.bytes_per_row();
        let naive = page.height() * page.bytes_per_row();
        // Below the bytes of every inked row sent at full width, far below the whole page.
        assert!(bytes < raster_minimum + 64, "{language:?}: {bytes} vs {raster_minimum}");
        assert!(bytes * 10 < naive * 8, "{language:?}: {bytes} vs naive {naive}");
    }
}

#[test]
fn the_simulator_reports_paper_and_cover_as_set() {
    let sim = SimulatedPrinter::new(PaperWidth::Mm80);
    let handle = sim.handle();
    let mut printer = EscPosPrinter::new(sim, PaperWidth::Mm80);
    handle.set_paper(PaperLevel::NearEnd);
    let s = printer.status().unwrap();
    assert_eq!(s.paper, PaperLevel::NearEnd);
    assert!(s.can_print());
    handle.set_cover_open(true);
    let s = printer.status().unwrap();
    assert!(s.cover_open && !s.online && !s.can_print());
    handle.set_cover_open(false);
    handle.set_paper(PaperLevel::Out);
    let mut boxed: Box<dyn ReceiptPrinter> = Box::new(printer);
    let err = boxed.print_receipt(&sample_receipt(Language::English)).unwrap_err();
    assert!(matches!(err, PrinterError::NotReady(s) if s.paper == PaperLevel::Out));
    assert!(handle.pages().is_empty());
}

#[test]
fn the_simulator_flags_bytes_that_are_not_esc_pos() {
    use embedded_io::Write;
    let mut sim = SimulatedPrinter::new(PaperWidth::Mm58);
    let handle = sim.handle();
    sim.write_all(&[0x1B, 0x40, 0x07, 0x1D]).unwrap();
    // A command split across writes is fine.
    sim.write_all(&[0x56, 0x00]).unwrap();
    assert_eq!(handle.protocol_errors(), vec!["unknown byte 0x07 at byte 2".to_string()]);
    assert_eq!(handle.pages().len(), 1);
}

#[test]
fn the_simulator_keeps_only_the_newest_pages_but_counts_them_all() {
    use embedded_io::Write;
    let mut sim = SimulatedPrinter::new(PaperWidth::Mm58);
    let handle = sim.handle();
    // Each page one LF (30 blank rows) more than the one before, so pages can be told apart.
    for n in 1..=KEPT_PAGES + 3 {
        for _ in 0..n {
            sim.write_all(&[0x0A]).unwrap();
        }
        sim.write_all(&[0x1D, 0x56, 0x00]).unwrap();
    }
    assert_eq!(handle.pages_cut(), KEPT_PAGES + 3);
    let pages = handle.pages();
    assert_eq!(pages.len(), KEPT_PAGES, "a long-running simulator must not keep every page");
    assert_eq!(pages[0].raster.height(), 4 * 30, "the oldest kept is the 4th page cut");
    assert_eq!(handle.last_page().unwrap().raster.height(), (KEPT_PAGES + 3) * 30);
}
