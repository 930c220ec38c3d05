//! Every input from outside — bytes from the buses, the printer's stream, receipt text — gets a
//! clear error, never a panic or a hang. Deterministic pseudo-random inputs, so a failure
//! reproduces.

use crate::common;

use embedded_hal::i2c::{ErrorKind, ErrorType as I2cErrorType, I2c, Operation as I2cOp};
use embedded_hal::spi::{ErrorType as SpiErrorType, Operation as SpiOp, SpiDevice};
use hardware::escpos::{EscPosPrinter, SimulatedPrinter};
use hardware::mfrc522::Mfrc522;
use hardware::pn532::{frame, NoDelay, Pn532};
use hardware::iso_dep::{Ats, Block, Link, Reception};
use hardware::{id_card, render_receipt, Language, PaperWidth, Uid};

/// xorshift64*: small, deterministic, good enough to shake parsers.
struct Noise(u64);

impl Noise {
    fn byte(&mut self) -> u8 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
}

/// An SPI device whose MISO is noise, sometimes biased towards "interrupt pending" so the
/// driver gets past its waits and into the frame parsing.
struct NoisySpi(Noise);

impl SpiErrorType for NoisySpi {
    type Error = core::convert::Infallible;
}

impl SpiDevice<u8> for NoisySpi {
    fn transaction(&mut self, operations: &mut [SpiOp<'_, u8>]) -> Result<(), Self::Error> {
        for op in operations {
            match op {
                SpiOp::Read(buf) | SpiOp::TransferInPlace(buf) => buf.iter_mut().for_each(|b| *b = self.0.byte()),
                SpiOp::Transfer(read, _) => read.iter_mut().for_each(|b| *b = self.0.byte()),
                SpiOp::Write(_) | SpiOp::DelayNs(_) => {}
            }
        }
        Ok(())
    }
}

#[test]
fn mfrc522_survives_a_noisy_bus() {
    for seed in 1..300 {
        let mut reader = Mfrc522::new(NoisySpi(Noise(seed)));
        let _ = reader.init();
        for _ in 0..5 {
            // Any result is fine; a panic or a hang is not.
            let _ = reader.poll();
            let _ = reader.exchange(&[0x00, 0xA4, 0x04, 0x0C, 0x01, 0xF0]);
        }
    }
}

/// An I2C device answering noise that often starts with the RDY bit and a start code.
struct NoisyI2c(Noise);

impl I2cErrorType for NoisyI2c {
    type Error = ErrorKind;
}

impl I2c for NoisyI2c {
    fn transaction(&mut self, _address: u8, operations: &mut [I2cOp<'_>]) -> Result<(), Self::Error> {
        for op in operations {
            if let I2cOp::Read(buf) = op {
                buf.iter_mut().for_each(|b| *b = self.0.byte());
                if buf.len() > 6 && self.0.byte() < 128 {
                    let len = buf[4];
                    buf[..6].copy_from_slice(&[0x01, 0x00, 0x00, 0xFF, len, len.wrapping_neg()]);
                }
            }
        }
        Ok(())
    }
}

#[test]
fn pn532_survives_a_noisy_bus() {
    for seed in 1..300 {
        let mut reader = Pn532::new(NoisyI2c(Noise(seed)), NoDelay);
        let _ = reader.init();
        let _ = reader.poll();
        let _ = reader.exchange(&[0x00, 0xB0, 0x00, 0x00, 0x04]);
    }
}

#[test]
fn iso_dep_parsers_and_the_reader_side_take_any_bytes() {
    let mut noise = Noise(17);
    for len in 0..3000 {
        let bytes = noise.bytes(len % 40);
        let _ = Ats::parse(&bytes);
        let _ = Block::parse(&bytes);
        let _ = id_card::parse_ef(&bytes);
    }
    // A card answering noise (with a valid CRC_A half of the time): an answer or an error, in
    // a bounded number of frames.
    for seed in 1..200 {
        let mut noise = Noise(seed);
        let mut link = Link::new(&Ats { fsci: noise.byte() % 9, fwi: noise.byte() % 15, ..Ats::default() }, 64);
        let mut frames = 0;
        let _ = link.exchange(&noise.bytes(40), |_, _| {
            frames += 1;
            let len = usize::from(noise.byte() % 20);
            let bytes = noise.bytes(len);
            Ok::<_, ()>(if noise.byte() < 128 { Reception::Frame(hardware::iso14443::with_crc_a(&bytes)) } else { Reception::Frame(bytes) })
        });
        assert!(frames <= hardware::iso_dep::MAX_FRAMES);
    }
}

#[test]
fn pn532_frame_decoding_never_panics() {
    let mut noise = Noise(7);
    for len in 0..2000 {
        let mut bytes = noise.bytes(len % 80);
        if len % 2 == 0 && bytes.len() > 5 {
            bytes[..3].copy_from_slice(&[0x00, 0x00, 0xFF]);
        }
        let _ = frame::decode(&bytes);
    }
}

#[test]
fn the_printer_simulator_takes_any_byte_stream() {
    use embedded_io::Write;
    let mut noise = Noise(11);
    for _ in 0..50 {
        let mut sim = SimulatedPrinter::new(PaperWidth::Mm58);
        for _ in 0..20 {
            let n = usize::from(noise.byte());
            let chunk = noise.bytes(n);
            sim.write_all(&chunk).unwrap();
        }
    }
}

#[test]
fn printer_status_from_noise_is_a_status_or_a_clear_error() {
    let mut noise = Noise(13);
    for _ in 0..500 {
        let answers = noise.bytes(3);
        let mut printer = EscPosPrinter::new(common::ScriptedStream::answering(&answers), PaperWidth::Mm58);
        match printer.status() {
            Ok(_) => assert!(answers.iter().all(|b| b & 0x93 == 0x12)),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn uids_parse_only_from_4_7_or_10_hex_bytes() {
    assert!(Uid::from_hex("04:A2:24:9A").is_some());
    for bad in ["", "0", "04A224", "04A2249A4B", "zz112233", "04A2249A4B5E80FF", "٠٤١١٢٢٣٣"] {
        assert_eq!(Uid::from_hex(bad), None, "{bad}");
    }
}

#[test]
fn receipts_with_hostile_text_still_render_within_the_paper() {
    let mut receipt = common::sample_receipt(Language::Arabic);
    receipt.reference = "W".repeat(200); // one word wider than the paper
    receipt.terminal = "\u{202E}\u{0000}\u{FEFF}\u{200F}".into(); // bidi overrides, NUL, BOM
    receipt.lines[0].value = "ـــــ".repeat(100) + "\u{0651}\u{0651}\u{0651}";
    let page = render_receipt(&receipt, PaperWidth::Mm58).unwrap();
    assert_eq!(page.width(), 384);
    assert!(page.height() < 20_000);
}

/// Found by the `receipt_text` fuzz target (hardware/fuzz), its input as it crashed: a value with
/// Arabic, then U+001D and U+0085 (bidi paragraph separators that are not line breaks), then
/// Latin letters panicked inside cosmic-text's shaping ("assertion `left == right` failed").
#[test]
fn paragraph_separators_inside_a_right_to_left_value_do_not_panic_the_renderer() {
    let input: &[u8] = b"34\n\xff\xd8\xa3\xd8\xad\x1d\x85\xd8\xaf\x00\xd8\xb9\xd9\x84\xd9\x8a\x00\x00e/r/ABCN";
    let text = String::from_utf8_lossy(input);
    let mut parts = text.splitn(3, '\n');
    let receipt = hardware::Receipt {
        language: Language::Kurdish,
        kind: hardware::ReceiptKind::Application,
        reference: parts.next().unwrap_or_default().into(),
        submission_id: None,
        issued_at: String::new(),
        terminal: String::new(),
        lines: vec![hardware::ReceiptLine { label: String::new(), value: parts.next().unwrap_or_default().into() }],
        qr: parts.next().map(Into::into),
    };
    assert_eq!(render_receipt(&receipt, PaperWidth::Mm58).unwrap().width(), 384);
    // Each separator on its own, in every kind of receipt text.
    for separator in ['\u{1C}', '\u{1D}', '\u{1E}', '\u{85}', '\u{2029}'] {
        let mut receipt = common::sample_receipt(Language::Arabic);
        receipt.lines[0].value = format!("أحمد{separator}Ahmed");
        receipt.reference = format!("مرجع{separator}REF");
        assert_eq!(render_receipt(&receipt, PaperWidth::Mm58).unwrap().width(), 384, "U+{:04X}", separator as u32);
    }
}
