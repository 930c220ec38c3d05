//! Driver for ESC/POS thermal receipt printers over any `embedded-io` byte stream (a UART, or a
//! USB printer-class device node such as `/dev/usb/lp0`).
//!
//! Command reference: <https://download4.epson.biz/sec_pubs/pos/reference_en/escpos/>
//!
//! The `escpos` crate targets desktop printing and sends text in code pages; Arabic and Kurdish
//! need shaping that printers do not do. So pages are rendered to a [`Raster`] here and sent as
//! `GS v 0` bands, which every ESC/POS printer supports.
//!
//! ```
//! use hardware::escpos::{EscPosPrinter, SimulatedPrinter};
//! use hardware::{PaperWidth, Raster};
//!
//! let sim = SimulatedPrinter::new(PaperWidth::Mm58);
//! let handle = sim.handle();
//! let mut printer = EscPosPrinter::new(sim, PaperWidth::Mm58);
//! assert!(printer.status().unwrap().can_print());
//! let mut page = Raster::new(384, 40);
//! page.fill(10, 10, 100, 20);
//! printer.print(&page).unwrap();
//! assert_eq!(handle.pages().len(), 1);
//! ```

pub mod commands;
mod simulator;

use core::fmt::Debug;

use embedded_io::{Read, ReadExactError, Write};

use crate::printer::{PaperLevel, PaperWidth, PrintReport, PrinterError, PrinterStatus, ReceiptPrinter};
use crate::Raster;
use commands::{status_request, REALTIME_STATUS, STATUS_FIXED_MASK, STATUS_FIXED_VALUE};
pub use simulator::{PrintedPage, SimulatedPrinter, SimulatedPrinterHandle, SimulatorError, KEPT_PAGES};

/// ESC/POS driver errors.
#[derive(Debug, thiserror::Error)]
pub enum Error<E> {
    /// The byte stream failed.
    #[error("printer I/O error: {0:?}")]
    Io(E),
    /// The stream ended before the printer answered.
    #[error("the printer did not answer")]
    NoAnswer,
    /// A status answer without the fixed bits of a status byte.
    #[error("unexpected status byte {0:#04x}")]
    BadStatus(u8),
    /// The printer cannot print now.
    #[error("the printer is not ready: {0:?}")]
    NotReady(PrinterStatus),
}

impl<E: Debug> From<Error<E>> for PrinterError {
    fn from(e: Error<E>) -> Self {
        match e {
            Error::Io(e) => PrinterError::Io(format!("{e:?}")),
            Error::NoAnswer => PrinterError::NoAnswer,
            Error::BadStatus(b) => PrinterError::BadStatus(b),
            Error::NotReady(s) => PrinterError::NotReady(s),
        }
    }
}

/// An ESC/POS printer on a byte stream.
#[derive(Debug)]
pub struct EscPosPrinter<S> {
    port: S,
    paper: PaperWidth,
}

impl<S, E> EscPosPrinter<S>
where
    S: Read<Error = E> + Write<Error = E>,
{
    /// Takes the stream; no traffic until the first call.
    pub fn new(port: S, paper: PaperWidth) -> Self {
        EscPosPrinter { port, paper }
    }

    /// Gives the stream back.
    pub fn release(self) -> S {
        self.port
    }

    /// The paper this printer is loaded with.
    pub fn paper_width(&self) -> PaperWidth {
        self.paper
    }

    /// Reads the printer, offline-cause and roll-paper status bytes (`DLE EOT 1`, `2`, `4`).
    pub fn status(&mut self) -> Result<PrinterStatus, Error<E>> {
        let printer = self.realtime_status(status_request::PRINTER)?;
        let offline = self.realtime_status(status_request::OFFLINE_CAUSE)?;
        let roll = self.realtime_status(status_request::ROLL_PAPER)?;
        let paper = if roll & 0b0110_0000 != 0 {
            PaperLevel::Out
        } else if roll & 0b0000_1100 != 0 {
            PaperLevel::NearEnd
        } else {
            PaperLevel::Ok
        };
        Ok(PrinterStatus {
            online: printer & 0b0000_1000 == 0,
            cover_open: offline & 0b0000_0100 != 0,
            paper,
            error: offline & 0b0100_0000 != 0,
        })
    }

    /// Sends `DLE EOT n` and reads the answer byte, checking its fixed bits.
    pub fn realtime_status(&mut self, n: u8) -> Result<u8, Error<E>> {
        self.port.write_all(&REALTIME_STATUS).map_err(Error::Io)?;
        self.port.write_all(&[n]).map_err(Error::Io)?;
        self.port.flush().map_err(Error::Io)?;
        let mut answer = [0u8];
        self.port.read_exact(&mut answer).map_err(|e| match e {
            ReadExactError::UnexpectedEof => Error::NoAnswer,
            ReadExactError::Other(e) => Error::Io(e),
        })?;
        if answer[0] & STATUS_FIXED_MASK != STATUS_FIXED_VALUE {
            return Err(Error::BadStatus(answer[0]));
        }
        Ok(answer[0])
    }

    /// Checks the printer can print, then prints `page` and cuts it off
    /// (see [`commands::encode_page`]).
    pub fn print(&mut self, page: &Raster) -> Result<PrintReport, Error<E>> {
        let status = self.status()?;
        if !status.can_print() {
            return Err(Error::NotReady(status));
        }
        let bytes = commands::encode_page(page);
        self.port.write_all(&bytes).map_err(Error::Io)?;
        self.port.flush().map_err(Error::Io)?;
        Ok(PrintReport { bytes_sent: bytes.len(), rows: page.height() })
    }
}

impl<S> ReceiptPrinter for EscPosPrinter<S>
where
    S: Read + Write + Send,
    S::Error: Debug,
{
    fn describe(&self) -> String {
        let mm = match self.paper {
            PaperWidth::Mm58 => 58,
            PaperWidth::Mm80 => 80,
        };
        format!("ESC/POS printer, {mm} mm paper")
    }

    fn paper_width(&self) -> PaperWidth {
        self.paper
    }

    fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        EscPosPrinter::status(self).map_err(PrinterError::from)
    }

    fn print_page(&mut self, page: &Raster) -> Result<PrintReport, PrinterError> {
        self.print(page).map_err(PrinterError::from)
    }
}
