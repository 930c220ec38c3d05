//! Board backends: which bus drivers the chip drivers run on, chosen at run time from
//! configuration (`[hardware]` in the terminal's config file).
//!
//! * `simulated`: register-level simulators, on any machine (tests, demo, CI).
//! * `rppal`: a Raspberry Pi's SPI, I2C and UART through `rppal`.
//! * `linux`: any Linux board's `/dev/spidev*`, `/dev/i2c-*` and serial or USB printer device
//!   nodes through `linux-embedded-hal`.
//!
//! The card reader may instead be a USB reader through PC/SC (`[hardware.reader] chip =
//! "pcsc"`, [`crate::pcsc`]) with any of them: pcscd runs on every Linux.
//!
//! Bus paths, pins and speeds are configuration, not code.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::card::{CardReader, Uid};
use crate::escpos::{EscPosPrinter, SimulatedPrinter, SimulatedPrinterHandle};
use crate::field::{SimulatedCard, SimulatedField};
use crate::mfrc522::{Mfrc522, SimulatedMfrc522};
use crate::pn532::{NoDelay, Pn532, SimulatedPn532};
use crate::printer::{PaperLevel, PaperWidth, ReceiptPrinter};

/// Which board backend drives the devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Simulated devices.
    #[default]
    Simulated,
    /// Raspberry Pi peripherals through `rppal`.
    Rppal,
    /// Linux device nodes through `linux-embedded-hal`.
    Linux,
}

/// The card reader chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReaderChip {
    /// NXP MFRC522 on SPI.
    #[default]
    Mfrc522,
    /// NXP PN532 on I2C.
    Pn532,
    /// A USB reader (ACR122U-style) through pcscd, with any backend ([`crate::pcsc`]).
    Pcsc,
}

/// Which application an applicant's ID card is read with (`[hardware] id_card_profile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdCardProfile {
    /// The ICAO 9303 eMRTD application of the Iraqi national card, opened with BAC or PACE
    /// from the card access number or MRZ that staff type.
    Emrtd,
    /// The project's open beneficiary ID profile ([`crate::id_card`]). The default for now:
    /// every terminal deployed so far reads it, and an eMRTD read needs an access key typed at
    /// the kiosk, which its screens do not ask for yet.
    #[default]
    Open,
    /// eMRTD when an access key (CAN or MRZ) is given for the read, the open profile
    /// otherwise.
    Both,
}

impl IdCardProfile {
    /// The value as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            IdCardProfile::Emrtd => "emrtd",
            IdCardProfile::Open => "open",
            IdCardProfile::Both => "both",
        }
    }
}

/// How the printer is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrinterConnection {
    /// USB printer class device node (`/dev/usb/lp0`).
    #[default]
    Usb,
    /// Serial port (`/dev/serial0`, `/dev/ttyUSB0`), 8N1 at `baud`.
    Serial,
}

/// The `[hardware]` section of the terminal's configuration. Every key has a default; with
/// none set it opens the simulated devices.
///
/// ```
/// let config: hardware::BackendConfig = toml::from_str(r#"
///     backend = "linux"
///     [reader]
///     chip = "pn532"
///     i2c_device = "/dev/i2c-3"
///     [printer]
///     connection = "serial"
///     device = "/dev/ttyS1"
///     paper = "80mm"
/// "#).unwrap();
/// assert_eq!(config.backend, hardware::Backend::Linux);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackendConfig {
    /// `"simulated"` (default), `"rppal"` or `"linux"`.
    pub backend: Backend,
    /// `"open"` (default), `"emrtd"` or `"both"`: see [`IdCardProfile`].
    pub id_card_profile: IdCardProfile,
    /// The card reader.
    pub reader: ReaderConfig,
    /// The receipt printer.
    pub printer: PrinterConfig,
    /// The 2D barcode scanner (referral slips); none by default.
    pub scanner: crate::scanner::ScannerConfig,
    /// The simulated devices (backend `"simulated"`).
    pub simulator: SimulatorConfig,
}

impl BackendConfig {
    /// Whether the card reader is simulated (and so belongs to the process that opened it):
    /// the simulated backend without a PC/SC reader.
    pub fn reader_is_simulated(&self) -> bool {
        self.backend == Backend::Simulated && self.reader.chip != ReaderChip::Pcsc
    }
}

/// `[hardware.reader]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReaderConfig {
    /// `"mfrc522"` (default, SPI), `"pn532"` (I2C) or `"pcsc"` (a USB reader through pcscd).
    pub chip: ReaderChip,
    /// `pcsc`: use the first reader whose name contains this (as `pcsc_scan` lists them,
    /// e.g. `"ACR122"`); the first reader when unset.
    pub pcsc_reader: Option<String>,
    /// `linux`: the MFRC522's spidev node. Default `/dev/spidev0.0`.
    pub spi_device: PathBuf,
    /// `rppal`: SPI bus number (0–6). Default 0.
    pub spi_bus: u8,
    /// `rppal`: chip select (0–2). Default 0.
    pub spi_chip_select: u8,
    /// SPI clock. Default 1 MHz (the MFRC522 takes up to 10 MHz; long wires do not).
    pub spi_clock_hz: u32,
    /// `linux`: the PN532's I2C bus node. Default `/dev/i2c-1`.
    pub i2c_device: PathBuf,
    /// `rppal`: I2C bus number. Default 1.
    pub i2c_bus: u8,
}

impl Default for ReaderConfig {
    fn default() -> Self {
        ReaderConfig {
            chip: ReaderChip::Mfrc522,
            pcsc_reader: None,
            spi_device: "/dev/spidev0.0".into(),
            spi_bus: 0,
            spi_chip_select: 0,
            spi_clock_hz: 1_000_000,
            i2c_device: "/dev/i2c-1".into(),
            i2c_bus: 1,
        }
    }
}

/// `[hardware.printer]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrinterConfig {
    /// `"58mm"` (default) or `"80mm"`.
    pub paper: PaperWidth,
    /// `"usb"` (default) or `"serial"`.
    pub connection: PrinterConnection,
    /// Device node. Default `/dev/usb/lp0`.
    pub device: PathBuf,
    /// Serial speed. Default 19200, the factory setting of most receipt printers.
    pub baud: u32,
    /// How long to wait for a status answer, in milliseconds. Default 1000.
    pub timeout_ms: u64,
}

impl Default for PrinterConfig {
    fn default() -> Self {
        PrinterConfig {
            paper: PaperWidth::Mm58,
            connection: PrinterConnection::Usb,
            device: "/dev/usb/lp0".into(),
            baud: 19_200,
            timeout_ms: 1_000,
        }
    }
}

/// `[hardware.simulator]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulatorConfig {
    /// Where the simulated printer writes each printed page as a PNG. Default
    /// `printed-receipts` (relative to the working directory: set it under the state
    /// directory).
    pub output_dir: PathBuf,
    /// UID (hex) of a card lying on the simulated reader from the start; none by default.
    pub card: Option<String>,
    /// Paper level the simulated printer starts with. Default `"ok"`.
    pub paper: PaperLevel,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig { output_dir: "printed-receipts".into(), card: None, paper: PaperLevel::Ok }
    }
}

/// A device could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the {device} ({path}): {reason}")]
pub struct OpenError {
    /// `"card reader"` or `"printer"`.
    pub device: &'static str,
    /// The bus or device node, as configured.
    pub path: String,
    /// What went wrong.
    pub reason: String,
}

/// Controls of the simulated devices, for tests, the demo and a technician's fault drills.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// The simulated reader's field: put cards on it and take them off.
    pub field: SimulatedField,
    /// The simulated printer: paper, cover, printed pages.
    pub printer: SimulatedPrinterHandle,
}

/// The terminal's devices, opened from configuration.
pub struct Devices {
    /// The card reader, initialised.
    pub reader: Box<dyn CardReader>,
    /// The receipt printer.
    pub printer: Box<dyn ReceiptPrinter>,
    /// With the simulated backend, its controls.
    pub simulation: Option<Simulation>,
}

impl core::fmt::Debug for Devices {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Devices")
            .field("reader", &self.reader.describe())
            .field("printer", &self.printer.describe())
            .field("simulation", &self.simulation)
            .finish()
    }
}

impl Devices {
    /// Opens and initialises the reader and the printer of `config.backend`; fails if either
    /// fails (use [`open_reader`] and [`open_printer`] to keep one when the other is missing).
    pub fn open(config: &BackendConfig) -> Result<Devices, OpenError> {
        let (reader, field) = open_reader(config)?;
        let (printer, printer_handle) = open_printer(config)?;
        let simulation = match (field, printer_handle) {
            (Some(field), Some(printer)) => Some(Simulation { field, printer }),
            _ => None,
        };
        Ok(Devices { reader, printer, simulation })
    }
}

/// Opens and initialises the card reader alone, e.g. to keep reading staff badges while the
/// printer is unplugged. With the simulated backend, also returns the simulated field (none
/// with a PC/SC reader, whatever the backend).
pub fn open_reader(config: &BackendConfig) -> Result<(Box<dyn CardReader>, Option<SimulatedField>), OpenError> {
    if config.reader.chip == ReaderChip::Pcsc {
        let filter = config.reader.pcsc_reader.as_deref();
        let path = match filter {
            Some(filter) => format!("PC/SC reader matching {filter:?}"),
            None => "first PC/SC reader".into(),
        };
        let reader = crate::pcsc::PcscReader::open(filter).map_err(|e| reader_error(path, e))?;
        return Ok((Box::new(reader), None));
    }
    match config.backend {
        Backend::Simulated => {
            let field = simulated_field(&config.simulator)?;
            Ok((simulated_reader(config.reader.chip, &field)?, Some(field)))
        }
        Backend::Rppal => Ok((rppal_reader(&config.reader)?, None)),
        Backend::Linux => Ok((linux_reader(&config.reader)?, None)),
    }
}

/// Opens the receipt printer alone. With the simulated backend, also returns its handle.
pub fn open_printer(config: &BackendConfig) -> Result<(Box<dyn ReceiptPrinter>, Option<SimulatedPrinterHandle>), OpenError> {
    match config.backend {
        Backend::Simulated => {
            let sim = SimulatedPrinter::new(config.printer.paper).with_output_dir(&config.simulator.output_dir);
            let handle = sim.handle();
            handle.set_paper(config.simulator.paper);
            Ok((Box::new(EscPosPrinter::new(sim, config.printer.paper)), Some(handle)))
        }
        Backend::Rppal => Ok((rppal_printer(&config.printer)?, None)),
        Backend::Linux => Ok((linux_printer(&config.printer)?, None)),
    }
}

fn simulated_field(config: &SimulatorConfig) -> Result<SimulatedField, OpenError> {
    let field = SimulatedField::new();
    if let Some(hex) = &config.card {
        let uid = Uid::from_hex(hex).ok_or_else(|| OpenError {
            device: "card reader",
            path: "simulator".into(),
            reason: format!("hardware.simulator.card = {hex:?} is not a 4, 7 or 10-byte hex UID"),
        })?;
        field.present(SimulatedCard::new(uid));
    }
    Ok(field)
}

fn simulated_reader(chip: ReaderChip, field: &SimulatedField) -> Result<Box<dyn CardReader>, OpenError> {
    Ok(match chip {
        ReaderChip::Pcsc => return Err(reader_error("simulator", "a PC/SC reader is not simulated (open_reader opens it)")),
        ReaderChip::Mfrc522 => {
            let mut chip = Mfrc522::new(SimulatedMfrc522::new(field.clone()));
            chip.init().map_err(|e| reader_error("simulator", e))?;
            Box::new(chip)
        }
        ReaderChip::Pn532 => {
            let mut chip = Pn532::new(SimulatedPn532::new(field.clone()), NoDelay);
            chip.init().map_err(|e| reader_error("simulator", e))?;
            Box::new(chip)
        }
    })
}

fn reader_error(path: impl Into<String>, e: impl core::fmt::Display) -> OpenError {
    OpenError { device: "card reader", path: path.into(), reason: e.to_string() }
}

fn printer_error(path: &std::path::Path, e: impl core::fmt::Display) -> OpenError {
    OpenError { device: "printer", path: path.display().to_string(), reason: e.to_string() }
}

fn rppal_reader(config: &ReaderConfig) -> Result<Box<dyn CardReader>, OpenError> {
    use rppal::spi::{Bus, Mode, SimpleHalSpiDevice, SlaveSelect, Spi};
    match config.chip {
        ReaderChip::Pcsc => Err(reader_error("rppal", "a PC/SC reader is opened by open_reader")),
        ReaderChip::Mfrc522 => {
            let path = format!("SPI{} CE{}", config.spi_bus, config.spi_chip_select);
            let bus = match config.spi_bus {
                0 => Bus::Spi0,
                1 => Bus::Spi1,
                2 => Bus::Spi2,
                3 => Bus::Spi3,
                4 => Bus::Spi4,
                5 => Bus::Spi5,
                6 => Bus::Spi6,
                n => return Err(reader_error(path, format!("hardware.reader.spi_bus = {n}: use 0 to 6"))),
            };
            let ss = match config.spi_chip_select {
                0 => SlaveSelect::Ss0,
                1 => SlaveSelect::Ss1,
                2 => SlaveSelect::Ss2,
                n => return Err(reader_error(path, format!("hardware.reader.spi_chip_select = {n}: use 0 to 2"))),
            };
            let spi = Spi::new(bus, ss, config.spi_clock_hz, Mode::Mode0).map_err(|e| reader_error(path.clone(), e))?;
            let mut chip = Mfrc522::new(SimpleHalSpiDevice::new(spi));
            chip.init().map_err(|e| reader_error(path, e))?;
            Ok(Box::new(chip))
        }
        ReaderChip::Pn532 => {
            let path = format!("I2C{}", config.i2c_bus);
            let i2c = rppal::i2c::I2c::with_bus(config.i2c_bus).map_err(|e| reader_error(path.clone(), e))?;
            let mut chip = Pn532::new(i2c, rppal::hal::Delay::new());
            chip.init().map_err(|e| reader_error(path, e))?;
            Ok(Box::new(chip))
        }
    }
}

fn linux_reader(config: &ReaderConfig) -> Result<Box<dyn CardReader>, OpenError> {
    use linux_embedded_hal::spidev::{SpiModeFlags, SpidevOptions};
    match config.chip {
        ReaderChip::Pcsc => Err(reader_error("linux", "a PC/SC reader is opened by open_reader")),
        ReaderChip::Mfrc522 => {
            let path = config.spi_device.display().to_string();
            let mut spi = linux_embedded_hal::SpidevDevice::open(&config.spi_device).map_err(|e| reader_error(path.clone(), e))?;
            let options = SpidevOptions::new()
                .bits_per_word(8)
                .max_speed_hz(config.spi_clock_hz)
                .mode(SpiModeFlags::SPI_MODE_0)
                .build();
            spi.configure(&options).map_err(|e| reader_error(path.clone(), e))?;
            let mut chip = Mfrc522::new(spi);
            chip.init().map_err(|e| reader_error(path, e))?;
            Ok(Box::new(chip))
        }
        ReaderChip::Pn532 => {
            let path = config.i2c_device.display().to_string();
            let i2c = linux_embedded_hal::I2cdev::new(&config.i2c_device).map_err(|e| reader_error(path.clone(), e))?;
            let mut chip = Pn532::new(i2c, linux_embedded_hal::Delay);
            chip.init().map_err(|e| reader_error(path, e))?;
            Ok(Box::new(chip))
        }
    }
}

fn open_usb_printer(config: &PrinterConfig) -> Result<StdStream<File>, OpenError> {
    let file = OpenOptions::new().read(true).write(true).open(&config.device).map_err(|e| printer_error(&config.device, e))?;
    Ok(StdStream(file))
}

fn rppal_printer(config: &PrinterConfig) -> Result<Box<dyn ReceiptPrinter>, OpenError> {
    match config.connection {
        PrinterConnection::Usb => Ok(Box::new(EscPosPrinter::new(open_usb_printer(config)?, config.paper))),
        PrinterConnection::Serial => {
            use rppal::uart::{Parity, Uart};
            let mut uart = Uart::with_path(&config.device, config.baud, Parity::None, 8, 1).map_err(|e| printer_error(&config.device, e))?;
            uart.set_read_mode(0, Duration::from_millis(config.timeout_ms)).map_err(|e| printer_error(&config.device, e))?;
            uart.set_write_mode(true).map_err(|e| printer_error(&config.device, e))?;
            Ok(Box::new(EscPosPrinter::new(RppalUart(uart), config.paper)))
        }
    }
}

fn linux_printer(config: &PrinterConfig) -> Result<Box<dyn ReceiptPrinter>, OpenError> {
    match config.connection {
        PrinterConnection::Usb => Ok(Box::new(EscPosPrinter::new(open_usb_printer(config)?, config.paper))),
        PrinterConnection::Serial => {
            let builder = linux_embedded_hal::serialport::new(config.device.display().to_string(), config.baud)
                .timeout(Duration::from_millis(config.timeout_ms));
            let serial = linux_embedded_hal::Serial::open_from_builder(builder).map_err(|e| printer_error(&config.device, e))?;
            Ok(Box::new(EscPosPrinter::new(StdStream(serial.0), config.paper)))
        }
    }
}

/// An `embedded-io` stream over a `std::io` one (a device node, a serial port).
#[derive(Debug)]
pub struct StdStream<T>(pub T);

impl<T> embedded_io::ErrorType for StdStream<T> {
    type Error = io::Error;
}

impl<T: io::Read> embedded_io::Read for StdStream<T> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        self.0.read(buf)
    }
}

impl<T: io::Write> embedded_io::Write for StdStream<T> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> Result<(), io::Error> {
        self.0.flush()
    }
}

/// An `embedded-io` stream over a Raspberry Pi UART.
struct RppalUart(rppal::uart::Uart);

impl embedded_io::ErrorType for RppalUart {
    type Error = io::Error;
}

impl embedded_io::Read for RppalUart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        match self.0.read(buf).map_err(io::Error::other)? {
            // The read timed out with nothing: say so rather than report end of stream.
            0 if !buf.is_empty() => Err(io::Error::new(io::ErrorKind::TimedOut, "printer did not answer")),
            n => Ok(n),
        }
    }
}

impl embedded_io::Write for RppalUart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        self.0.write(buf).map_err(io::Error::other)
    }
    fn flush(&mut self) -> Result<(), io::Error> {
        self.0.drain().map_err(io::Error::other)
    }
}
