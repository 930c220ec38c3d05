//! 2D barcode scanners (the QR code on a partner's referral slip): what the terminal sees of
//! one is a [`BarcodeScanner`] that hands over each scan as one line of text.
//!
//! Two kinds are common and both are here:
//!
//! * [`hid`]: USB HID scanners that "type" the scan like a keyboard, read from their Linux
//!   evdev node (`/dev/input/by-id/*-event-kbd`), grabbed so the text does not also reach the
//!   kiosk's UI, decoded with a US keymap (Shift and Caps Lock handled);
//! * [`serial`]: scanners that send a line per scan over a tty (`/dev/ttyACM0`, CDC-ACM or
//!   RS-232), ending in CR, LF or CR LF;
//!
//! and a simulated scanner ([`SimulatedScanner`]) that types the text as evdev key events into
//! the [`hid`] decoder, so tests and the demo run the real decoding code.
//!
//! Errors come at the end of a line, never in the middle: a garbled or over-long scan is
//! refused as a whole ([`ScannerError::Garbled`], [`ScannerError::TooLong`]) and the next scan
//! starts clean.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod hid;
pub mod serial;
mod simulator;

pub use hid::HidScanner;
pub use serial::SerialScanner;
pub use simulator::{SimulatedScanner, SimulatedScannerHandle};

/// The longest scan accepted, in characters. A referral payload is at most 173
/// (`node_protocol::referral::MAX_PAYLOAD_LEN`); the margin leaves room for other codes staff
/// may scan, and anything longer is not a code this terminal reads.
pub const MAX_SCAN_LEN: usize = 512;

/// A 2D barcode scanner: each scan arrives as one line of text.
pub trait BarcodeScanner: Send {
    /// What the scanner is, for logs and health reports (kind and device node).
    fn describe(&self) -> String;

    /// Waits up to `timeout` for a complete scan: `Ok(None)` when none finished in time (a
    /// scan in progress is kept for the next call), `Ok(Some(text))` without its line ending.
    fn read_scan(&mut self, timeout: Duration) -> Result<Option<String>, ScannerError>;
}

impl<T: BarcodeScanner + ?Sized> BarcodeScanner for Box<T> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn read_scan(&mut self, timeout: Duration) -> Result<Option<String>, ScannerError> {
        (**self).read_scan(timeout)
    }
}

/// Why a scanner gave no scan.
#[derive(Debug, thiserror::Error)]
pub enum ScannerError {
    /// Reading the device failed.
    #[error("reading the barcode scanner {device} failed: {source}; check that it is plugged in and that the service may read it")]
    Io {
        /// The device node.
        device: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The device went away (unplugged): reopen it to go on.
    #[error("the barcode scanner {device} is gone (unplugged?); plug it in again, the service reopens it")]
    Disconnected {
        /// The device node.
        device: String,
    },
    /// The scan was longer than [`MAX_SCAN_LEN`]; the whole line was dropped.
    #[error("scan refused: {len} characters is longer than any code this terminal reads ({max}); scan the referral's QR code, not another barcode")]
    TooLong {
        /// Characters received before the line ended.
        len: usize,
        /// [`MAX_SCAN_LEN`].
        max: usize,
    },
    /// The scan held something that is not text (a control byte, a key with no character on
    /// a US keymap, bytes that are not ASCII); the whole line was dropped.
    #[error("scan refused: {0}; set the scanner to a US keyboard layout and plain text (no prefix or suffix codes), then scan again")]
    Garbled(String),
}

/// Collects a line of scanned characters, refusing it as a whole when anything was wrong.
#[derive(Debug, Default)]
pub(crate) struct LineAssembler {
    text: String,
    len: usize,
    garbled: Option<String>,
}

impl LineAssembler {
    /// Adds a character; characters past [`MAX_SCAN_LEN`] are counted, not kept.
    pub(crate) fn push(&mut self, c: char) {
        self.len += 1;
        if self.len <= MAX_SCAN_LEN {
            self.text.push(c);
        }
    }

    /// Marks the line as garbled (the first reason is kept).
    pub(crate) fn garble(&mut self, reason: String) {
        self.garbled.get_or_insert(reason);
    }

    /// Whether nothing was received since the last line.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0 && self.garbled.is_none()
    }

    /// Ends the line: the text, `None` for an empty line, or why it is refused.
    pub(crate) fn finish(&mut self) -> Result<Option<String>, ScannerError> {
        let line = std::mem::take(self);
        if let Some(reason) = line.garbled {
            return Err(ScannerError::Garbled(reason));
        }
        if line.len > MAX_SCAN_LEN {
            return Err(ScannerError::TooLong { len: line.len, max: MAX_SCAN_LEN });
        }
        Ok(Some(line.text).filter(|t| !t.is_empty()))
    }
}

/// A byte stream read with a timeout: `Ok(0)` when nothing came in time, an
/// [`io::ErrorKind::UnexpectedEof`] error when the device is gone.
pub trait TimedSource: Send {
    /// Reads what is available, waiting up to `timeout` for the first byte.
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
}

/// Recorded bytes (tests): once read through, nothing more comes (`Ok(0)`).
impl<T: AsRef<[u8]> + Send> TimedSource for io::Cursor<T> {
    fn read_timeout(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<usize> {
        io::Read::read(self, buf)
    }
}

/// Which scanner the terminal has (`[hardware.scanner] kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScannerKind {
    /// No scanner: referrals are typed as short codes.
    #[default]
    None,
    /// A USB HID (keyboard-emulating) scanner, read from its evdev node.
    Hid,
    /// A serial scanner, a line per scan.
    Serial,
    /// The simulated scanner (tests, demo).
    Simulated,
}

impl ScannerKind {
    /// The value as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            ScannerKind::None => "none",
            ScannerKind::Hid => "hid",
            ScannerKind::Serial => "serial",
            ScannerKind::Simulated => "simulated",
        }
    }
}

/// `[hardware.scanner]`.
///
/// ```
/// let config: hardware::ScannerConfig = toml::from_str(r#"
///     kind = "hid"
///     device = "/dev/input/by-id/usb-Netum_Scanner-event-kbd"
/// "#).unwrap();
/// assert_eq!(config.kind, hardware::ScannerKind::Hid);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScannerConfig {
    /// `"none"` (default), `"hid"`, `"serial"` or `"simulated"`.
    pub kind: ScannerKind,
    /// `hid`: the evdev node (prefer the stable `/dev/input/by-id/…-event-kbd` link);
    /// `serial`: the tty (`/dev/ttyACM0`). Required for both.
    pub device: Option<PathBuf>,
    /// `serial`: line speed. Default 9600, the factory setting of most serial scanners.
    pub baud: u32,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig { kind: ScannerKind::None, device: None, baud: 9_600 }
    }
}

impl ScannerConfig {
    /// Checks what deserialising cannot: `hid` and `serial` need a `device`. The message names
    /// the key.
    pub fn check(&self) -> Result<(), String> {
        match self.kind {
            ScannerKind::Hid | ScannerKind::Serial if self.device.is_none() => Err(format!(
                "hardware.scanner.device is required with kind = \"{}\": set it to the scanner's device node ({})",
                self.kind.as_str(),
                if self.kind == ScannerKind::Hid { "/dev/input/by-id/…-event-kbd" } else { "/dev/ttyACM0" }
            )),
            ScannerKind::Serial if self.baud == 0 => {
                Err("hardware.scanner.baud = 0: set the scanner's line speed (9600 for most)".into())
            }
            _ => Ok(()),
        }
    }
}

/// An opened scanner, with the simulated scanner's controls when it is simulated.
pub type OpenedScanner = (Box<dyn BarcodeScanner>, Option<SimulatedScannerHandle>);

/// Opens the configured scanner: `Ok(None)` for kind `"none"`; with `"simulated"`, also its
/// handle to "scan" text.
pub fn open_scanner(config: &ScannerConfig) -> Result<Option<OpenedScanner>, crate::OpenError> {
    config.check().map_err(|reason| scanner_error("configuration", reason))?;
    let device = config.device.clone().unwrap_or_default();
    Ok(match config.kind {
        ScannerKind::None => None,
        ScannerKind::Simulated => {
            let scanner = SimulatedScanner::new();
            let handle = scanner.handle();
            Some((Box::new(scanner), Some(handle)))
        }
        ScannerKind::Hid => {
            let scanner = HidScanner::open(&device).map_err(|e| scanner_error(device.display(), e))?;
            Some((Box::new(scanner), None))
        }
        ScannerKind::Serial => {
            let scanner = SerialScanner::open(&device, config.baud).map_err(|e| scanner_error(device.display(), e))?;
            Some((Box::new(scanner), None))
        }
    })
}

fn scanner_error(path: impl core::fmt::Display, e: impl core::fmt::Display) -> crate::OpenError {
    crate::OpenError { device: "barcode scanner", path: path.to_string(), reason: e.to_string() }
}
