//! What the rest of the terminal sees of a receipt printer: a [`ReceiptPrinter`] that prints
//! pages and receipts and reports its paper and cover.

use serde::{Deserialize, Serialize};

use crate::receipt::{render_receipt, Receipt, RenderError};
use crate::Raster;

/// Width of the paper roll. Thermal printers print 8 dots per millimetre (203 dpi).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum PaperWidth {
    /// 58 mm roll, 48 mm (384 dots) printable.
    #[default]
    #[serde(rename = "58mm")]
    Mm58,
    /// 80 mm roll, 72 mm (576 dots) printable.
    #[serde(rename = "80mm")]
    Mm80,
}

impl PaperWidth {
    /// Printable width in dots.
    pub const fn dots(self) -> usize {
        match self {
            PaperWidth::Mm58 => 384,
            PaperWidth::Mm80 => 576,
        }
    }
}

/// How much paper is left, from the roll sensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PaperLevel {
    /// Enough paper.
    #[default]
    Ok,
    /// The near-end sensor sees the end of the roll: a few receipts left.
    NearEnd,
    /// No paper: the printer stops.
    Out,
}

/// The printer's state, from its real-time status bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PrinterStatus {
    /// The printer accepts print data.
    pub online: bool,
    /// The paper cover is open.
    pub cover_open: bool,
    /// Paper left.
    pub paper: PaperLevel,
    /// The printer reports an error (cutter jam, head overheated…).
    pub error: bool,
}

impl PrinterStatus {
    /// Whether a receipt printed now would come out.
    pub fn can_print(&self) -> bool {
        self.online && !self.cover_open && self.paper != PaperLevel::Out && !self.error
    }
}

/// What printing a page took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintReport {
    /// Bytes sent to the printer.
    pub bytes_sent: usize,
    /// Height of the page in dot rows.
    pub rows: usize,
}

/// Why a printer could not print or answer.
#[derive(Debug, thiserror::Error)]
pub enum PrinterError {
    /// The byte stream to the printer failed.
    #[error("printer I/O error: {0}")]
    Io(String),
    /// The printer did not answer a status request.
    #[error("the printer did not answer")]
    NoAnswer,
    /// The printer answered something that is not a status byte.
    #[error("unexpected status byte {0:#04x} from the printer")]
    BadStatus(u8),
    /// The printer cannot print now (no paper, cover open, offline).
    #[error("the printer is not ready: {0:?}")]
    NotReady(PrinterStatus),
    /// The receipt could not be rendered.
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// A receipt printer, whatever its connection.
pub trait ReceiptPrinter: Send {
    /// The printer, for diagnostics.
    fn describe(&self) -> String;

    /// The paper it is loaded with.
    fn paper_width(&self) -> PaperWidth;

    /// Asks the printer for its state.
    fn status(&mut self) -> Result<PrinterStatus, PrinterError>;

    /// Prints a page and cuts it off, after checking the printer can print it.
    fn print_page(&mut self, page: &Raster) -> Result<PrintReport, PrinterError>;

    /// Renders a receipt for this printer's paper and prints it.
    fn print_receipt(&mut self, receipt: &Receipt) -> Result<PrintReport, PrinterError> {
        let page = render_receipt(receipt, self.paper_width())?;
        self.print_page(&page)
    }
}

impl<P: ReceiptPrinter + ?Sized> ReceiptPrinter for Box<P> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn paper_width(&self) -> PaperWidth {
        (**self).paper_width()
    }
    fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        (**self).status()
    }
    fn print_page(&mut self, page: &Raster) -> Result<PrintReport, PrinterError> {
        (**self).print_page(page)
    }
    fn print_receipt(&mut self, receipt: &Receipt) -> Result<PrintReport, PrinterError> {
        (**self).print_receipt(receipt)
    }
}
