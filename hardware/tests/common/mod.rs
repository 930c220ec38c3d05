//! Shared test helpers: expected SPI/I2C transactions written from the datasheets, a scripted
//! byte stream, and sample receipts.
#![allow(dead_code)] // each test file uses a part

pub mod pcscd;
pub mod readers;

use embedded_hal_mock::eh1::spi::Transaction as Spi;
use hardware::{Language, Receipt, ReceiptKind, ReceiptLine};

// MFRC522 SPI address bytes (datasheet §8.1.2.3: `1 aaaaaa 0` to read, `0 aaaaaa 0` to write),
// written out rather than computed so a wrong register map fails.
pub const W_COMMAND: u8 = 0x02;
pub const R_COMMAND: u8 = 0x82;
pub const W_COM_IRQ: u8 = 0x08;
pub const R_COM_IRQ: u8 = 0x88;
pub const R_ERROR: u8 = 0x8C;
pub const W_FIFO_DATA: u8 = 0x12;
pub const R_FIFO_DATA: u8 = 0x92;
pub const W_FIFO_LEVEL: u8 = 0x14;
pub const R_FIFO_LEVEL: u8 = 0x94;
pub const R_CONTROL: u8 = 0x98;
pub const W_BIT_FRAMING: u8 = 0x1A;
pub const W_MODE: u8 = 0x22;
pub const W_TX_CONTROL: u8 = 0x28;
pub const R_TX_CONTROL: u8 = 0xA8;
pub const W_TX_ASK: u8 = 0x2A;
pub const W_T_MODE: u8 = 0x54;
pub const W_T_PRESCALER: u8 = 0x56;
pub const W_T_RELOAD_H: u8 = 0x58;
pub const W_T_RELOAD_L: u8 = 0x5A;
pub const R_VERSION: u8 = 0xEE;

/// A register write: one SPI transaction of two bytes.
pub fn write(addr: u8, value: u8) -> Vec<Spi<u8>> {
    vec![Spi::transaction_start(), Spi::write_vec(vec![addr, value]), Spi::transaction_end()]
}

/// A register read: address, then 0x00; the value comes back in the second byte.
pub fn read(addr: u8, value: u8) -> Vec<Spi<u8>> {
    vec![Spi::transaction_start(), Spi::transfer_in_place(vec![addr, 0x00], vec![0x00, value]), Spi::transaction_end()]
}

/// The init sequence of a v2.0 chip: soft reset, version, timer 0x8D/0x3E/30, 100 % ASK,
/// ModeReg 0x3D, antenna on.
pub fn init_sequence() -> Vec<Spi<u8>> {
    [
        write(W_COMMAND, 0x0F),
        read(R_COMMAND, 0x20),
        read(R_VERSION, 0x92),
        write(W_T_MODE, 0x8D),
        write(W_T_PRESCALER, 0x3E),
        write(W_T_RELOAD_H, 0x00),
        write(W_T_RELOAD_L, 0x1E),
        write(W_TX_ASK, 0x40),
        write(W_MODE, 0x3D),
        read(R_TX_CONTROL, 0x80),
        write(W_TX_CONTROL, 0x83),
    ]
    .concat()
}

/// What the driver does before the card answers a Transceive of `tx` with `bits` valid bits in
/// its last byte: idle, clear interrupts, flush, fill the FIFO, set framing, start.
pub fn transceive_start(tx: &[u8], bits: u8) -> Vec<Spi<u8>> {
    let mut fifo = vec![W_FIFO_DATA];
    fifo.extend_from_slice(tx);
    [
        write(W_COMMAND, 0x00),
        write(W_COM_IRQ, 0x7F),
        write(W_FIFO_LEVEL, 0x80),
        vec![Spi::transaction_start(), Spi::write_vec(fifo), Spi::transaction_end()],
        write(W_BIT_FRAMING, bits),
        write(W_COMMAND, 0x0C),
        write(W_BIT_FRAMING, 0x80 | bits),
    ]
    .concat()
}

/// A Transceive the card answers with `rx` (RxIRq after `polls_before` idle status reads).
pub fn transceive(tx: &[u8], bits: u8, rx: &[u8]) -> Vec<Spi<u8>> {
    let mut fifo_out = vec![R_FIFO_DATA; rx.len()];
    fifo_out.push(0x00);
    let mut fifo_in = vec![0x00];
    fifo_in.extend_from_slice(rx);
    [
        transceive_start(tx, bits),
        read(R_COM_IRQ, 0x44), // TxIRq, still receiving
        read(R_COM_IRQ, 0x64), // RxIRq
        read(R_ERROR, 0x00),
        read(R_FIFO_LEVEL, rx.len() as u8),
        vec![Spi::transaction_start(), Spi::transfer_in_place(fifo_out, fifo_in), Spi::transaction_end()],
        read(R_CONTROL, 0x10),
    ]
    .concat()
}

/// A Transceive nobody answers: the chip's timer fires (TimerIRq).
pub fn transceive_silent(tx: &[u8], bits: u8) -> Vec<Spi<u8>> {
    [transceive_start(tx, bits), read(R_COM_IRQ, 0x45)].concat()
}

/// A receipt with every field filled.
pub fn sample_receipt(language: Language) -> Receipt {
    let (label, value) = match language {
        Language::Arabic => ("المحافظة", "البصرة"),
        Language::Kurdish => ("پارێزگا", "هەولێر"),
        Language::English => ("Governorate", "Basra"),
    };
    Receipt {
        language,
        kind: ReceiptKind::Application,
        reference: "K7QX-4M2P".into(),
        submission_id: Some("019ab6f2-7c1e-7d3a-9b2f-5e8c1a4d7f60".into()),
        issued_at: "2026-11-24 14:05".into(),
        terminal: "BSR-0042".into(),
        lines: vec![ReceiptLine { label: label.into(), value: value.into() }],
        qr: Some("https://spn.example.iq/s/K7QX-4M2P".into()),
    }
}

/// A byte stream that records what is written and answers reads from a script.
#[derive(Debug, Default)]
pub struct ScriptedStream {
    pub written: Vec<u8>,
    pub answers: std::collections::VecDeque<u8>,
}

impl ScriptedStream {
    pub fn answering(answers: &[u8]) -> Self {
        ScriptedStream { written: Vec::new(), answers: answers.iter().copied().collect() }
    }
}

impl embedded_io::ErrorType for ScriptedStream {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for ScriptedStream {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        match self.answers.pop_front() {
            Some(b) if !buf.is_empty() => {
                buf[0] = b;
                Ok(1)
            }
            Some(_) => Ok(0),
            // Like a closed stream: end of file.
            None => Ok(0),
        }
    }
}

impl embedded_io::Write for ScriptedStream {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
