//! `GET /v1/hardware`, `GET /v1/hardware/printer-status`, `POST /v1/hardware/read-card` and
//! `POST /v1/id-card/read`: the card reader and the receipt printer as the kiosk sees them, and
//! the key that opens a national ID card's chip ([`CardAccess`]).

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
    /// From a national ID card's chip that holds it (eMRTD DG11): the holder's name, for the
    /// form's name fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<CardName>,
    /// Set when the session's staff badge is off the reader after this read: the seconds left
    /// to put it back before the session ends (one reader for badge and ID card, see
    /// `POST /v1/id-card/read`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub badge_return_s: Option<u64>,
}

/// The holder's name as a national ID card's chip gives it (DG11, full name), and its parts
/// when it is written in Arabic script and splits into them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardName {
    /// The name as the chip holds it, `<` fillers turned into spaces.
    pub full: String,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    /// Father's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub father: Option<String>,
    /// Grandfather's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grandfather: Option<String>,
    /// Family name (the part after the grandfather's, when there is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
}

/// Body of `POST /v1/id-card/read` (optional: without it the card is read as the open
/// beneficiary ID profile).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadIdCard {
    /// The key that opens the national ID card's chip (ICAO 9303 eMRTD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<CardAccess>,
}

/// The key that opens an eMRTD chip: the six-digit card access number printed on the card
/// (PACE), or the MRZ key from the zone on its back (PACE or BAC).
///
/// It is a secret of the card's holder: its `Debug` shows which kind it is and nothing else,
/// and neither side ever logs or audits it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CardAccess {
    /// The card access number, six digits (Arabic-Indic digits accepted).
    Can(String),
    /// The MRZ key, typed by staff from the card's back.
    Mrz(MrzAccess),
}

impl std::fmt::Debug for CardAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CardAccess::Can(_) => f.write_str("CardAccess::Can(..)"),
            CardAccess::Mrz(_) => f.write_str("CardAccess::Mrz(..)"),
        }
    }
}

/// The MRZ key: what BAC and PACE derive the chip's keys from.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MrzAccess {
    /// The document number (on the Iraqi card, nine characters of the MRZ's first line).
    pub document_number: String,
    /// The holder's date of birth.
    pub date_of_birth: NaiveDate,
    /// The card's date of expiry.
    pub date_of_expiry: NaiveDate,
}

impl std::fmt::Debug for MrzAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MrzAccess(..)")
    }
}

/// Which card the terminal reads as an ID card (`[hardware] id_card_profile`), so the kiosk
/// knows whether to ask for the card access number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdCardProfile {
    /// The open beneficiary ID profile, read without a key.
    #[default]
    Open,
    /// The Iraqi national card's ICAO 9303 chip, opened with the CAN or the MRZ key.
    Emrtd,
    /// The chip when a key is given, else the open profile.
    Both,
}

impl IdCardProfile {
    /// The wire and configuration name (`open`, `emrtd`, `both`).
    pub fn as_str(self) -> &'static str {
        match self {
            IdCardProfile::Open => "open",
            IdCardProfile::Emrtd => "emrtd",
            IdCardProfile::Both => "both",
        }
    }

    /// Whether a card read should ask for the card access number first.
    pub fn asks_for_access(self) -> bool {
        self == IdCardProfile::Emrtd
    }
}
