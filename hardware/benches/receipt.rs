//! Receipt and reader costs, each as a ratio against a baseline measured in the same run
//! (`cargo bench -p hardware --bench receipt`).
//!
//! * Rendering: milliseconds per receipt once fonts are loaded, against a cold renderer's
//!   first receipt.
//! * Bytes to the printer: `encode_page` against the minimum for the raster (every inked row at
//!   full width, blank rows free) and against the naive encoding (the whole page as one image).
//! * Card polling: SPI transactions per poll with and without a card.

use std::time::{Duration, Instant};

use hardware::escpos::commands;
use hardware::mfrc522::{Mfrc522, SimulatedMfrc522};
use hardware::{Language, PaperWidth, Receipt, ReceiptKind, ReceiptLine, ReceiptRenderer, SimulatedCard, SimulatedField, Uid};

fn receipt(language: Language) -> Receipt {
    Receipt {
        language,
        kind: ReceiptKind::Application,
        reference: "K7QX-4M2P".into(),
        submission_id: Some("019ab6f2-7c1e-7d3a-9b2f-5e8c1a4d7f60".into()),
        issued_at: "2026-11-24 14:05".into(),
        terminal: "BSR-0042".into(),
        lines: vec![ReceiptLine { label: "Governorate".into(), value: "Basra".into() }],
        qr: Some("https://spn.example.iq/s/K7QX-4M2P".into()),
    }
}

fn main() {
    // Baseline: a cold renderer's first receipt (fonts parsed, glyph cache empty), which is
    // what every receipt would cost without the process-wide renderer.
    let start = Instant::now();
    let mut renderer = ReceiptRenderer::new();
    renderer.render(&receipt(Language::Kurdish), PaperWidth::Mm58).expect("render");
    let font_load = start.elapsed();
    println!("cold first receipt (baseline): {:.1} ms", font_load.as_secs_f64() * 1e3);

    for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
        for language in Language::ALL {
            let r = receipt(language);
            let page = renderer.render(&r, paper).expect("render"); // warm the glyph cache
            let mut times: Vec<Duration> = (0..30)
                .map(|_| {
                    let t = Instant::now();
                    renderer.render(&r, paper).expect("render");
                    t.elapsed()
                })
                .collect();
            times.sort();
            let median = times[times.len() / 2];
            let sent = commands::encode_page(&page).len();
            let inked = (0..page.height()).filter(|&y| !page.is_row_blank(y)).count();
            let minimum = inked * page.bytes_per_row();
            let naive = 8 + page.height() * page.bytes_per_row();
            println!(
                "{paper:?} {:<3} render {:>6.2} ms (×{:.3} of cold) | {} bytes: ×{:.3} of raster minimum {}, ×{:.3} of naive {}",
                language.tag(),
                median.as_secs_f64() * 1e3,
                median.as_secs_f64() / font_load.as_secs_f64(),
                sent,
                sent as f64 / minimum as f64,
                minimum,
                sent as f64 / naive as f64,
                naive,
            );
        }
    }

    let field = SimulatedField::new();
    let mut reader = Mfrc522::new(SimulatedMfrc522::new(field.clone()));
    reader.init().expect("init");
    let before = reader_transactions(&mut reader, |r| {
        r.poll().expect("poll");
    });
    field.present(SimulatedCard::new(Uid::from_hex("04A2249A4B5E80").expect("uid")));
    let with_card = reader_transactions(&mut reader, |r| {
        r.poll().expect("poll");
    });
    println!("MFRC522 poll: {before} SPI transactions without a card (baseline), {with_card} with a 7-byte UID card (×{:.1})", with_card as f64 / before as f64);
}

fn reader_transactions(reader: &mut Mfrc522<SimulatedMfrc522>, f: impl FnOnce(&mut Mfrc522<SimulatedMfrc522>)) -> u64 {
    // The simulator counts transactions; borrow it back through release/new.
    let spi = std::mem::replace(reader, Mfrc522::new(SimulatedMfrc522::new(SimulatedField::new()))).release();
    let before = spi.transactions();
    let mut r = Mfrc522::new(spi);
    f(&mut r);
    let spi = r.release();
    let used = spi.transactions() - before;
    *reader = Mfrc522::new(spi);
    used
}
