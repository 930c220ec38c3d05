//! `GET /v1/hardware`, `GET /v1/hardware/printer-status`, `POST /v1/hardware/read-card` and
//! `POST /v1/id-card/read`: the card reader and the receipt printer as the kiosk sees them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Answer of `GET /v1/hardware`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hardware {
    /// Where the devices are: simulated, or on the board.
    pub backend: HardwareBackend,
    /// The card reader.
    pub reader: ReaderReport,
    /// Whether a card is on the reader now.
    pub card_present: bool,
    /// The printer.
    pub printer: PrinterReport,
}

/// How the service reaches its devices (`[hardware] backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HardwareBackend {
    /// Simulated reader and printer (demo, tests).
    Simulated,
    /// A Raspberry Pi's SPI, I2C and serial ports.
    Rppal,
    /// Any Linux board's spidev, i2c-dev and serial devices.
    Linux,
}

/// One device's description and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceReport<S> {
    /// The chip or printer, e.g. `MFRC522 v2.0`; `None` when it never opened.
    pub description: Option<String>,
    /// Its state.
    pub state: S,
    /// Why it is not `ok`, when known (bus or device error; never card data).
    pub problem: Option<String>,
}

/// The card reader, described (`GET /v1/hardware`).
pub type ReaderReport = DeviceReport<ReaderState>;

/// The printer, described (`GET /v1/hardware`, `GET /v1/hardware/printer-status`).
pub type PrinterReport = DeviceReport<PrinterState>;

/// The printer's state as the kiosk, the heartbeat and the audit log name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterState {
    /// Ready.
    Ok,
    /// Prints, but the roll is nearly empty.
    PaperLow,
    /// No paper.
    PaperOut,
    /// The paper cover is open.
    CoverOpen,
    /// Connected but not answering or not accepting data.
    Offline,
    /// Not found at start-up (not configured, unplugged, wrong device node).
    Absent,
}

impl PrinterState {
    /// The wire name (`ok`, `paper_low`, …), as in the heartbeat.
    pub fn as_str(self) -> &'static str {
        match self {
            PrinterState::Ok => "ok",
            PrinterState::PaperLow => "paper_low",
            PrinterState::PaperOut => "paper_out",
            PrinterState::CoverOpen => "cover_open",
            PrinterState::Offline => "offline",
            PrinterState::Absent => "absent",
        }
    }

    /// Whether a receipt printed now comes out.
    pub fn can_print(self) -> bool {
        matches!(self, PrinterState::Ok | PrinterState::PaperLow)
    }
}

/// The card reader's state, as in the heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReaderState {
    /// Polling.
    Ok,
    /// Opened, but polls fail (bus errors, timeouts).
    Fault,
    /// Could not be opened.
    Absent,
}

impl ReaderState {
    /// The wire name (`ok`, `fault`, `absent`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReaderState::Ok => "ok",
            ReaderState::Fault => "fault",
            ReaderState::Absent => "absent",
        }
    }
}

/// Answer of a card read: the technician's read test (`uid` only) or an ID card read for
/// staff-assisted enrollment (with what the card holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardRead {
    /// The card's UID, upper-case hex (4, 7 or 10 bytes).
    pub uid: String,
    /// From an ID card: its holder's national ID number (12 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national_id: Option<String>,
    /// From an ID card that carries it: the holder's date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<NaiveDate>,
}
