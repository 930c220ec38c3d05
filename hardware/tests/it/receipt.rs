//! Receipt rendering: reviewed reference images in three languages, QR codes read back by a
//! decoder, layout direction, and speed.

use crate::common;

use std::path::PathBuf;

use common::sample_receipt;
use hardware::{render_receipt, Language, PaperWidth, Raster, ReceiptRenderer};

fn reference_path(language: Language, paper: PaperWidth) -> PathBuf {
    let mm = match paper {
        PaperWidth::Mm58 => 58,
        PaperWidth::Mm80 => 80,
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/reference/receipt-{}-{mm}mm.png", language.tag()))
}

/// Compares with the reviewed reference image; `UPDATE_REFERENCE=1` rewrites it (then look at
/// it before committing).
fn check_reference(raster: &Raster, path: &std::path::Path) {
    if std::env::var_os("UPDATE_REFERENCE").is_some() {
        raster.save_png(path).unwrap();
        return;
    }
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    let reference = Raster::read_png(file).unwrap();
    assert_eq!((raster.width(), raster.height()), (reference.width(), reference.height()), "{}", path.display());
    let differing = (0..raster.height())
        .flat_map(|y| (0..raster.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| raster.get(x, y) != reference.get(x, y))
        .count();
    assert_eq!(differing, 0, "{} dots differ from {}", differing, path.display());
}

#[test]
fn receipts_match_the_reviewed_reference_images() {
    for language in Language::ALL {
        for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
            let raster = render_receipt(&sample_receipt(language), paper).unwrap();
            assert_eq!(raster.width(), paper.dots());
            check_reference(&raster, &reference_path(language, paper));
        }
    }
}

fn decode_qr(raster: &Raster) -> Vec<String> {
    let mut img = rqrr::PreparedImage::prepare_from_bitmap(raster.width(), raster.height(), |x, y| raster.get(x, y));
    img.detect_grids().into_iter().filter_map(|g| g.decode().ok().map(|(_, text)| text)).collect()
}

/// A referral slip's QR code (a signed payload of up to 359 alphanumeric characters, version 11)
/// reads back on both papers, printed at 4 dots (0.5 mm) a module or more.
#[test]
fn a_slips_long_qr_code_is_printed_legibly_on_both_papers() {
    let payload: String = (0..359).map(|i| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ.-"[i * 7 % 34] as char).collect();
    for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
        let receipt = hardware::Receipt { qr: Some(payload.clone()), ..sample_receipt(Language::English) };
        let raster = render_receipt(&receipt, paper).unwrap();
        assert_eq!(decode_qr(&raster), vec![payload.clone()], "{paper:?}");
        let mut img = rqrr::PreparedImage::prepare_from_bitmap(raster.width(), raster.height(), |x, y| raster.get(x, y));
        let grids = img.detect_grids();
        let grid = &grids[0];
        let (meta, _) = grid.decode().unwrap();
        let side = 17 + 4 * meta.version.0;
        let module = (grid.bounds[1].x - grid.bounds[0].x) as f64 / side as f64;
        assert!(module >= 3.9, "{paper:?}: {module:.2} dots a module, less than 0.5 mm");
    }
}

#[test]
fn the_printed_qr_code_reads_back_as_its_payload() {
    for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
        let receipt = sample_receipt(Language::Arabic);
        let raster = render_receipt(&receipt, paper).unwrap();
        assert_eq!(decode_qr(&raster), vec![receipt.qr.clone().unwrap()]);
    }
}

/// Leftmost and rightmost black columns of rows `rows`.
fn ink_span(raster: &Raster, rows: std::ops::Range<usize>) -> (usize, usize) {
    let cols: Vec<usize> = rows.flat_map(|y| (0..raster.width()).filter(move |&x| raster.get(x, y))).collect();
    (*cols.iter().min().unwrap(), *cols.iter().max().unwrap())
}

/// Rows of the first "label: value" line: it follows the big reference number, so look for the
/// first band of ink below 45 % of the page that is not centred.
#[test]
fn label_lines_start_right_in_arabic_and_kurdish_and_left_in_english() {
    let mut renderer = ReceiptRenderer::new();
    for language in Language::ALL {
        let mut receipt = sample_receipt(language);
        receipt.qr = None;
        receipt.lines.clear();
        receipt.submission_id = None;
        receipt.terminal = "1".into();
        let raster = renderer.render(&receipt, PaperWidth::Mm80).unwrap();
        // The "terminal: 1" line is short: find it as the band just before the footer rule.
        let rule = (0..raster.height())
            .rev()
            .find(|&y| (8..raster.width() - 8).all(|x| raster.get(x, y)))
            .unwrap();
        let bottom = (0..rule).rev().find(|&y| !raster.is_row_blank(y)).unwrap();
        let top = (0..bottom).rev().find(|&y| raster.is_row_blank(y)).unwrap();
        let (left, right) = ink_span(&raster, top..bottom + 1);
        let (margin_left, margin_right) = (left, raster.width() - 1 - right);
        match language {
            Language::English => assert!(margin_left < 20 && margin_right > 200, "{language:?}: {left}..{right}"),
            _ => assert!(margin_right < 20 && margin_left > 200, "{language:?}: {left}..{right}"),
        }
    }
}

#[test]
fn every_language_renders_distinct_text() {
    let pages: Vec<Raster> =
        Language::ALL.iter().map(|&l| render_receipt(&sample_receipt(l), PaperWidth::Mm58).unwrap()).collect();
    assert_ne!(pages[0], pages[1]);
    assert_ne!(pages[1], pages[2]);
    for page in &pages {
        // A receipt is mostly paper: text, rules and a QR code, not a black slab or a blank page.
        let ratio = page.black_dots() as f64 / (page.width() * page.height()) as f64;
        assert!((0.03..0.35).contains(&ratio), "ink ratio {ratio}");
    }
}

#[test]
fn an_oversized_qr_payload_is_an_error() {
    let mut receipt = sample_receipt(Language::English);
    receipt.qr = Some("x".repeat(5000));
    assert!(render_receipt(&receipt, PaperWidth::Mm58).is_err());
}

