//! A simulated ESC/POS printer: an `embedded-io` byte stream that parses the commands the
//! driver sends, "prints" raster images onto a page, writes each cut page as a PNG, and answers
//! real-time status requests from paper and cover states that tests and the demo control
//! through a [`SimulatedPrinterHandle`].

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use embedded_io::{ErrorKind, ErrorType, Read, Write};

use crate::printer::{PaperLevel, PaperWidth};
use crate::Raster;

/// Rows an `LF` feeds (the default 1/6-inch line spacing at 203 dpi).
const LINE_FEED_ROWS: usize = 30;

/// Cut pages kept in memory, the newest ones: a receipt's raster is 50–150 KB, and a
/// simulated terminal running for hours (the soak, the demo) printed thousands; kept all, they
/// were the service's only growing memory, and [`SimulatedPrinterHandle::pages`] copied them
/// all on every print. [`SimulatedPrinterHandle::pages_cut`] still counts every page.
pub const KEPT_PAGES: usize = 32;

/// A page the simulated printer cut off.
#[derive(Debug, Clone)]
pub struct PrintedPage {
    /// The page as printed.
    pub raster: Raster,
    /// Where its PNG was written, if the printer has an output directory.
    pub png: Option<PathBuf>,
}

/// Errors of the simulated stream.
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    /// A read found no answer waiting (a real printer would time out).
    #[error("no answer from the printer")]
    NoAnswer,
    /// Writing a printed page's PNG failed.
    #[error("could not write the printed page: {0}")]
    Output(#[from] std::io::Error),
}

impl embedded_io::Error for SimulatorError {
    fn kind(&self) -> ErrorKind {
        match self {
            SimulatorError::NoAnswer => ErrorKind::TimedOut,
            SimulatorError::Output(_) => ErrorKind::Other,
        }
    }
}

#[derive(Debug)]
struct State {
    paper_width: PaperWidth,
    paper: PaperLevel,
    cover_open: bool,
    output_dir: Option<PathBuf>,
    page: Raster,
    pages: VecDeque<PrintedPage>,
    pages_cut: usize,
    pending: Vec<u8>,
    answers: VecDeque<u8>,
    bytes_received: usize,
    protocol_errors: Vec<String>,
}

/// The simulated printer's byte stream; hand it to [`EscPosPrinter`](super::EscPosPrinter).
#[derive(Debug)]
pub struct SimulatedPrinter {
    state: Arc<Mutex<State>>,
}

/// Controls and inspects a [`SimulatedPrinter`] from outside. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SimulatedPrinterHandle {
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // Every update leaves the state consistent, so a panic elsewhere does not spoil it.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SimulatedPrinter {
    /// A printer loaded with `paper`, keeping printed pages in memory only.
    pub fn new(paper: PaperWidth) -> Self {
        SimulatedPrinter {
            state: Arc::new(Mutex::new(State {
                paper_width: paper,
                paper: PaperLevel::Ok,
                cover_open: false,
                output_dir: None,
                page: Raster::new(paper.dots(), 0),
                pages: VecDeque::new(),
                pages_cut: 0,
                pending: Vec::new(),
                answers: VecDeque::new(),
                bytes_received: 0,
                protocol_errors: Vec::new(),
            })),
        }
    }

    /// Also writes each cut page as a PNG into `dir` (created if missing).
    pub fn with_output_dir(self, dir: impl Into<PathBuf>) -> Self {
        lock(&self.state).output_dir = Some(dir.into());
        self
    }

    /// A handle to control paper and cover and to look at printed pages.
    pub fn handle(&self) -> SimulatedPrinterHandle {
        SimulatedPrinterHandle { state: Arc::clone(&self.state) }
    }
}

impl SimulatedPrinterHandle {
    /// Sets the paper level the roll sensors report. With no paper nothing prints.
    pub fn set_paper(&self, paper: PaperLevel) {
        lock(&self.state).paper = paper;
    }

    /// Opens or closes the paper cover. With the cover open nothing prints.
    pub fn set_cover_open(&self, open: bool) {
        lock(&self.state).cover_open = open;
    }

    /// The pages cut so far, oldest first: the last [`KEPT_PAGES`] of them.
    pub fn pages(&self) -> Vec<PrintedPage> {
        lock(&self.state).pages.iter().cloned().collect()
    }

    /// How many pages were cut since the printer was made (kept in memory or not).
    pub fn pages_cut(&self) -> usize {
        lock(&self.state).pages_cut
    }

    /// The page cut last, if any.
    pub fn last_page(&self) -> Option<PrintedPage> {
        lock(&self.state).pages.back().cloned()
    }

    /// Bytes received so far.
    pub fn bytes_received(&self) -> usize {
        lock(&self.state).bytes_received
    }

    /// Bytes the printer did not understand, described; empty when the driver sent only valid
    /// ESC/POS.
    pub fn protocol_errors(&self) -> Vec<String> {
        lock(&self.state).protocol_errors.clone()
    }
}

impl State {
    fn printing(&self) -> bool {
        !self.cover_open && self.paper != PaperLevel::Out
    }

    fn status_byte(&self, n: u8) -> Option<u8> {
        let fixed = super::commands::STATUS_FIXED_VALUE;
        let out = self.paper == PaperLevel::Out;
        Some(match n {
            1 => fixed | if self.printing() { 0 } else { 0x08 },
            2 => fixed | if self.cover_open { 0x04 } else { 0 } | if out { 0x20 } else { 0 },
            3 => fixed,
            4 => {
                fixed
                    | match self.paper {
                        PaperLevel::Ok => 0,
                        PaperLevel::NearEnd => 0x0C,
                        PaperLevel::Out => 0x6C,
                    }
            }
            _ => return None,
        })
    }

    fn feed(&mut self, rows: usize) {
        if self.printing() {
            let blank = Raster::new(self.page.width(), rows);
            self.page.append(&blank);
        }
    }

    fn cut(&mut self) -> Result<(), std::io::Error> {
        if !self.printing() {
            return Ok(());
        }
        let raster = std::mem::replace(&mut self.page, Raster::new(self.paper_width.dots(), 0));
        let png = match &self.output_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
                let path = dir.join(format!("receipt-{millis}-{:03}.png", self.pages_cut + 1));
                raster.save_png(&path)?;
                Some(path)
            }
            None => None,
        };
        if self.pages.len() >= KEPT_PAGES {
            self.pages.pop_front();
        }
        self.pages.push_back(PrintedPage { raster, png });
        self.pages_cut += 1;
        Ok(())
    }

    /// Executes complete commands at the front of `pending`; leaves an incomplete one there.
    fn run(&mut self) -> Result<(), std::io::Error> {
        let mut at = 0;
        let input = std::mem::take(&mut self.pending);
        let base = self.bytes_received - input.len();
        while at < input.len() {
            let rest = &input[at..];
            let used = match rest {
                [0x1B, 0x40, ..] => 2,
                [0x1B, 0x4A, n, ..] => {
                    self.feed(usize::from(*n));
                    3
                }
                [0x0A, ..] => {
                    self.feed(LINE_FEED_ROWS);
                    1
                }
                [0x1D, 0x76, 0x30, _m, xl, xh, yl, yh, ..] => {
                    let width = usize::from(u16::from_le_bytes([*xl, *xh]));
                    let height = usize::from(u16::from_le_bytes([*yl, *yh]));
                    let len = 8 + width * height;
                    if rest.len() < len {
                        break;
                    }
                    self.raster(width, height, &rest[8..len], base + at);
                    len
                }
                [0x1D, 0x56, 0 | 1 | 48 | 49, ..] => {
                    self.cut()?;
                    3
                }
                [0x1D, 0x56, 65 | 66, n, ..] => {
                    self.feed(usize::from(*n));
                    self.cut()?;
                    4
                }
                [0x10, 0x04, n, ..] => {
                    match self.status_byte(*n) {
                        Some(b) => self.answers.push_back(b),
                        None => self.protocol_errors.push(format!("DLE EOT {n} at byte {}", base + at)),
                    }
                    3
                }
                // A known command cut short: wait for the rest.
                [0x1B] | [0x1B, 0x4A] | [0x1D] | [0x1D, 0x76] | [0x1D, 0x76, 0x30, ..] | [0x1D, 0x56] | [0x1D, 0x56, 65 | 66] | [0x10] | [0x10, 0x04] => break,
                [b, ..] => {
                    self.protocol_errors.push(format!("unknown byte {b:#04x} at byte {}", base + at));
                    1
                }
                [] => break,
            };
            at += used;
        }
        self.pending = input[at..].to_vec();
        Ok(())
    }

    fn raster(&mut self, width: usize, height: usize, data: &[u8], at: usize) {
        let page_bytes = self.page.bytes_per_row();
        if width > page_bytes {
            self.protocol_errors.push(format!(
                "GS v 0 {width} bytes wide on a {page_bytes}-byte paper at byte {at}"
            ));
        }
        if !self.printing() {
            return;
        }
        let mut rows = vec![0u8; page_bytes * height];
        let copy = width.min(page_bytes);
        for y in 0..height {
            rows[y * page_bytes..y * page_bytes + copy].copy_from_slice(&data[y * width..y * width + copy]);
        }
        self.page.push_rows(&rows);
    }
}

impl ErrorType for SimulatedPrinter {
    type Error = SimulatorError;
}

impl Write for SimulatedPrinter {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let mut state = lock(&self.state);
        state.pending.extend_from_slice(buf);
        state.bytes_received += buf.len();
        state.run()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl Read for SimulatedPrinter {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut state = lock(&self.state);
        let mut n = 0;
        while n < buf.len() {
            match state.answers.pop_front() {
                Some(b) => {
                    buf[n] = b;
                    n += 1;
                }
                None => break,
            }
        }
        if n == 0 {
            return Err(SimulatorError::NoAnswer);
        }
        Ok(n)
    }
}
