//! Drivers for the enrollment terminal's devices — a contactless card reader and a thermal
//! receipt printer — on embedded-hal 1.0, with register-level simulators of each so the real
//! driver code runs in tests and in the demo.
//!
//! # Reading guide
//!
//! Start with [`card`] and [`printer`]: the two traits the terminal-service uses
//! ([`CardReader`], [`ReceiptPrinter`]). Then [`backend`], which opens them from the
//! `[hardware]` configuration ([`Devices::open`]). The chip drivers follow the shape of
//! eldruin's driver crates: one module each, generic over the embedded-hal bus it owns, with
//! an `Error<E>` wrapping the bus error and the register map in its own file.
//!
//! | module | device | bus | reference |
//! | --- | --- | --- | --- |
//! | [`mfrc522`] | NXP MFRC522 reader | SPI (`SpiDevice`) | [datasheet](https://www.nxp.com/docs/en/data-sheet/MFRC522.pdf) |
//! | [`pn532`] | NXP PN532 NFC controller | I2C (`I2c`) | [user manual UM0701-02](https://www.nxp.com/docs/en/user-guide/141520.pdf) |
//! | [`pcsc`] | USB reader (ACR122U-style) | PC/SC through pcscd (`pcsc` crate) | [PC/SC part 3](https://pcscworkgroup.com/specifications/) |
//! | [`escpos`] | ESC/POS thermal printer | byte stream (`embedded_io`) | [ESC/POS reference](https://download4.epson.biz/sec_pubs/pos/reference_en/escpos/) |
//! | [`scanner`] | 2D barcode scanner (referral QR codes) | evdev node (USB HID) or tty | `linux/input.h`, `input-event-codes.h` |
//!
//! [`iso14443`] holds the card-side protocol both readers speak (ISO/IEC 14443-3 Type A), and
//! [`field`] simulated cards. On top, [`iso_dep`] (ISO/IEC 14443-4 blocks) carries [`apdu`]s
//! through [`CardReader::exchange`], and [`id_card`] reads the applicant's national ID number
//! from their ID card ([`read_national_id`]) following the project's beneficiary ID profile. [`receipt`] renders receipts in Arabic, Kurdish (Sorani) and
//! English to a 1-bit [`Raster`], which [`escpos`] sends as `GS v 0` bands.
//!
//! # Features
//!
//! - MFRC522: 4-, 7- and 10-byte UIDs (all cascade levels), WUPA/HLTA polling so a card left
//!   on the reader stays present, bounded waits, typed errors, antenna on/off, ISO/IEC 14443-4
//!   (RATS, chaining, WTX) for APDUs.
//! - PN532: SAM configuration, firmware check, InListPassiveTarget with bounded retries,
//!   InDataExchange for APDUs.
//! - ESC/POS: real-time status (paper near end/out, cover, offline), raster printing that skips
//!   blank rows and trailing white bytes, partial cut.
//! - Receipts: shaped, bidi-ordered text with bundled Noto fonts (SIL OFL 1.1, see
//!   `fonts/OFL.txt`), QR code, 58 mm and 80 mm paper.
//! - Backends: `simulated`, `rppal` (Raspberry Pi), `linux` (any Linux board); with any of
//!   them, a USB reader through PC/SC ([`pcsc`]), tested against pcscd with Debian's virtual
//!   reader vsmartcard-vpcd driven by a simulated card ([`pcsc::virtual_card`]).
//!
//! # Usage
//!
//! ```
//! use hardware::{BackendConfig, CardEvent, CardPresence, Devices, Language, Receipt, SimulatedCard, Uid};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let mut config = BackendConfig::default(); // backend = "simulated"
//! config.simulator.output_dir = dir.path().to_path_buf();
//! let Devices { reader, mut printer, simulation } = Devices::open(&config).unwrap();
//! let sim = simulation.unwrap();
//!
//! // Card events: poll every ~100 ms from a blocking task.
//! let mut presence = CardPresence::new(reader);
//! let uid = Uid::from_hex("04A2249A4B5E80").unwrap();
//! sim.field.present(SimulatedCard::new(uid));
//! assert!(matches!(presence.poll().unwrap(), Some(CardEvent::Presented(card)) if card.uid == uid));
//!
//! // Receipts.
//! assert!(printer.status().unwrap().can_print());
//! printer.print_receipt(&Receipt::test_page(Language::Kurdish, "T-0001", "2026-11-24 14:05")).unwrap();
//! assert!(sim.printer.pages()[0].png.as_ref().unwrap().exists());
//! ```

#![deny(missing_docs)]

pub mod apdu;
pub mod backend;
pub mod card;
pub mod card_report;
pub mod emrtd;
pub mod escpos;
pub mod field;
pub mod id_card;
pub mod iso14443;
pub mod iso_dep;
pub mod mfrc522;
pub mod pcsc;
pub mod pn532;
pub mod printer;
mod raster;
pub mod receipt;
pub mod tlv;
pub mod scanner;

pub use backend::{open_printer, open_reader, Backend, BackendConfig, Devices, IdCardProfile, OpenError, PrinterConfig, PrinterConnection, ReaderChip, ReaderConfig, Simulation, SimulatorConfig, StdStream};
pub use card::{Activation, Card, CardEvent, CardPresence, CardReader, ReaderError, Uid};
pub use emrtd::{read_emrtd, AccessKey, EmrtdError, EmrtdRead, ReadOptions, ReadReport};
pub use escpos::{EscPosPrinter, SimulatedPrinter, SimulatedPrinterHandle};
pub use field::{SimulatedCard, SimulatedField};
pub use id_card::{read_id_card, read_national_id, DateOfBirth, IdCardData, IdCardError, NationalId};
pub use printer::{PaperLevel, PaperWidth, PrintReport, PrinterError, PrinterStatus, ReceiptPrinter};
pub use raster::Raster;
pub use scanner::{open_scanner, BarcodeScanner, ScannerConfig, ScannerError, ScannerKind, SimulatedScanner, SimulatedScannerHandle};
pub use receipt::{render_receipt, Language, Receipt, ReceiptKind, ReceiptLine, ReceiptRenderer, RenderError};
