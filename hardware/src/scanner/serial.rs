//! Serial barcode scanners: a line of text per scan over a tty (USB CDC-ACM `/dev/ttyACM0`,
//! a USB-serial adapter or RS-232), ended by CR, LF or CR LF as the scanner is set.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use super::{BarcodeScanner, LineAssembler, ScannerError, TimedSource};

/// A serial barcode scanner (or any [`TimedSource`] of its bytes: tests).
pub struct SerialScanner<S = SerialPort> {
    source: S,
    device: String,
    line: LineAssembler,
    /// The last line ended with CR: a LF right after it is the same line ending.
    after_cr: bool,
    pending: Vec<u8>,
}

impl SerialScanner<SerialPort> {
    /// Opens the tty at `baud`, 8N1, through the serial support the printer uses.
    pub fn open(path: &Path, baud: u32) -> io::Result<SerialScanner<SerialPort>> {
        let port = linux_embedded_hal::serialport::new(path.display().to_string(), baud)
            .timeout(Duration::from_millis(100))
            .open_native()
            .map_err(io::Error::from)?;
        Ok(SerialScanner::with_source(SerialPort(port), path.display().to_string()))
    }
}

impl<S: TimedSource> SerialScanner<S> {
    /// A scanner over `source`, named `device` in messages.
    pub fn with_source(source: S, device: impl Into<String>) -> SerialScanner<S> {
        SerialScanner { source, device: device.into(), line: LineAssembler::default(), after_cr: false, pending: Vec::new() }
    }

    /// Consumes `pending` up to the first line end; the line, if one ended.
    fn decode_pending(&mut self) -> Option<Result<Option<String>, ScannerError>> {
        let mut used = 0;
        let mut ended = None;
        for &byte in &self.pending {
            used += 1;
            let after_cr = std::mem::replace(&mut self.after_cr, byte == b'\r');
            match byte {
                b'\n' if after_cr => {}
                b'\r' | b'\n' => {
                    ended = Some(self.line.finish());
                    break;
                }
                0x20..=0x7E => self.line.push(byte as char),
                other => self.line.garble(format!("byte 0x{other:02X} is not printable ASCII")),
            }
        }
        self.pending.drain(..used);
        ended
    }
}

impl<S: TimedSource> BarcodeScanner for SerialScanner<S> {
    fn describe(&self) -> String {
        format!("serial barcode scanner {}", self.device)
    }

    fn read_scan(&mut self, timeout: Duration) -> Result<Option<String>, ScannerError> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.decode_pending() {
                Some(Ok(None)) => continue, // an empty line: not a scan
                Some(result) => return result,
                None => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let mut buf = [0; 256];
            match self.source.read_timeout(&mut buf, left) {
                Ok(0) => return Ok(None),
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof || e.kind() == io::ErrorKind::BrokenPipe => {
                    return Err(ScannerError::Disconnected { device: self.device.clone() })
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => return Err(ScannerError::Io { device: self.device.clone(), source }),
            }
        }
    }
}

/// An open serial port.
pub struct SerialPort(linux_embedded_hal::serialport::TTYPort);

impl TimedSource for SerialPort {
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if !super::hid::poll_readable(&self.0, timeout)? {
            return Ok(0);
        }
        match io::Read::read(&mut self.0, buf) {
            Ok(0) => Err(io::ErrorKind::UnexpectedEof.into()),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(0),
            other => other,
        }
    }
}
