//! Driver for the NXP MFRC522 contactless reader IC over SPI.
//!
//! Datasheet: <https://www.nxp.com/docs/en/data-sheet/MFRC522.pdf>
//!
//! Written here rather than taken from the `mfrc522` crate because the terminal needs double
//! and triple size UIDs (national ID cards carry 7-byte UIDs), a bounded wait on every command
//! (a reader unplugged at a service point must give an error, not hang the daemon), and an
//! error type that says what went wrong. The ISO/IEC 14443-3 frames are built in
//! [`crate::iso14443`], CRC_A in software, so the chip's CRC coprocessor is not used.
//!
//! ```
//! use hardware::mfrc522::{Mfrc522, SimulatedMfrc522};
//! use hardware::{SimulatedCard, SimulatedField, Uid};
//!
//! let field = SimulatedField::new();
//! let mut reader = Mfrc522::new(SimulatedMfrc522::new(field.clone()));
//! reader.init().unwrap();
//! assert_eq!(reader.poll().unwrap(), None);
//! field.present(SimulatedCard::new(Uid::from_hex("04A2249A4B5E80").unwrap()));
//! let card = reader.poll().unwrap().unwrap();
//! assert_eq!(card.uid.to_string(), "04A2249A4B5E80");
//! ```

mod register_access;
mod simulator;

use core::fmt::Debug;

use embedded_hal::spi::SpiDevice;

use crate::card::{Card, CardReader, ReaderError, Uid};
use crate::iso14443::{self, CASCADE_TAG, NVB_ANTICOLLISION, NVB_SELECT, SAK_CASCADE, SEL_CL};
pub use register_access::{bits, command, init_values, Register};
pub use simulator::SimulatedMfrc522;

/// How many times the driver reads a status register before giving up on the chip. Each read is
/// a 2-byte SPI transfer (≥ 16 µs at 1 MHz), so 2,000 reads outlast the chip's own 15 ms card
/// timeout: reaching the limit means the chip itself is not responding.
pub const MAX_STATUS_POLLS: u32 = 2_000;

/// MFRC522 errors.
#[derive(Debug, thiserror::Error)]
pub enum Error<E> {
    /// The SPI bus failed.
    #[error("SPI error: {0:?}")]
    Spi(E),
    /// The chip did not finish a command within [`MAX_STATUS_POLLS`] status reads.
    #[error("the MFRC522 did not finish its command in time")]
    Timeout,
    /// VersionReg holds a value no MFRC522 has: wrong chip, or nothing on the bus.
    #[error("VersionReg reads {0:#04x}: not an MFRC522")]
    UnknownVersion(u8),
    /// Several cards answered with different bits.
    #[error("more than one card in the field")]
    Collision,
    /// A frame failed a check.
    #[error("garbled frame: {0}")]
    Protocol(&'static str),
}

impl<E: Debug> From<Error<E>> for ReaderError {
    fn from(e: Error<E>) -> Self {
        match e {
            Error::Spi(e) => ReaderError::Bus(format!("{e:?}")),
            Error::Timeout => ReaderError::Timeout,
            Error::UnknownVersion(v) => ReaderError::UnknownChip(format!("MFRC522 VersionReg {v:#04x}")),
            Error::Collision => ReaderError::Collision,
            Error::Protocol(what) => ReaderError::Protocol(what),
        }
    }
}

/// Chip versions found in VersionReg (datasheet §9.3.4.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// 0x91
    V1_0,
    /// 0x92
    V2_0,
    /// 0x88: Fudan FM17522, the compatible chip on many cheap modules.
    Fm17522,
}

impl Version {
    fn from_register(value: u8) -> Option<Self> {
        match value {
            0x91 => Some(Version::V1_0),
            0x92 => Some(Version::V2_0),
            0x88 => Some(Version::Fm17522),
            _ => None,
        }
    }
}

/// A frame received from a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The bytes, as read from the FIFO.
    pub bytes: Vec<u8>,
    /// Valid bits in the last byte (0 = all 8).
    pub last_bits: u8,
}

/// An MFRC522 on an SPI device.
#[derive(Debug)]
pub struct Mfrc522<SPI> {
    spi: SPI,
    version: Option<Version>,
}

impl<SPI, E> Mfrc522<SPI>
where
    SPI: SpiDevice<u8, Error = E>,
{
    /// Takes the SPI device; no bus traffic until [`init`](Self::init).
    pub fn new(spi: SPI) -> Self {
        Mfrc522 { spi, version: None }
    }

    /// Gives the SPI device back.
    pub fn release(self) -> SPI {
        self.spi
    }

    /// The version read by [`init`](Self::init).
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// Soft-resets the chip, checks its version, sets the timer that bounds every card exchange
    /// and 100 % ASK, and turns the antenna on.
    pub fn init(&mut self) -> Result<Version, Error<E>> {
        self.write(Register::Command, command::SOFT_RESET)?;
        self.wait_until(Register::Command, |v| v & bits::POWER_DOWN == 0)?;
        let raw = self.read(Register::Version)?;
        let version = Version::from_register(raw).ok_or(Error::UnknownVersion(raw))?;
        self.write(Register::TMode, init_values::T_MODE)?;
        self.write(Register::TPrescaler, init_values::T_PRESCALER)?;
        let [reload_h, reload_l] = init_values::T_RELOAD.to_be_bytes();
        self.write(Register::TReloadH, reload_h)?;
        self.write(Register::TReloadL, reload_l)?;
        self.write(Register::TxAsk, init_values::TX_ASK)?;
        self.write(Register::Mode, init_values::MODE)?;
        self.antenna_on()?;
        self.version = Some(version);
        Ok(version)
    }

    /// Drives the antenna (TX1 and TX2), if not already.
    pub fn antenna_on(&mut self) -> Result<(), Error<E>> {
        let value = self.read(Register::TxControl)?;
        if value & bits::TX1_TX2_RF_EN != bits::TX1_TX2_RF_EN {
            self.write(Register::TxControl, value | bits::TX1_TX2_RF_EN)?;
        }
        Ok(())
    }

    /// Stops driving the antenna: no card can be read and the field draws no power.
    pub fn antenna_off(&mut self) -> Result<(), Error<E>> {
        let value = self.read(Register::TxControl)?;
        self.write(Register::TxControl, value & !bits::TX1_TX2_RF_EN)
    }

    /// Looks for one card: WUPA, anticollision and SELECT through every cascade level, then HLTA
    /// so the next poll finds it again. `Ok(None)` when no card answers.
    pub fn poll(&mut self) -> Result<Option<Card>, Error<E>> {
        let Some(atqa) = self.wake_up()? else { return Ok(None) };
        // A card that answered WUPA but then fell silent has left the field mid-way.
        let Some((uid, sak)) = self.select()? else { return Ok(None) };
        self.halt()?;
        Ok(Some(Card { uid, atqa, sak }))
    }

    /// Sends WUPA; the ATQA of the cards in the field, or `None` when there is none.
    pub fn wake_up(&mut self) -> Result<Option<u16>, Error<E>> {
        match self.transceive(&[iso14443::WUPA], 7)? {
            None => Ok(None),
            Some(frame) if frame.bytes.len() == 2 && frame.last_bits == 0 => {
                Ok(Some(u16::from_le_bytes([frame.bytes[0], frame.bytes[1]])))
            }
            Some(_) => Err(Error::Protocol("ATQA is not 16 bits")),
        }
    }

    /// Anticollision and SELECT at each cascade level of a card that answered WUPA: its UID and
    /// final SAK, or `None` when it stopped answering.
    pub fn select(&mut self) -> Result<Option<(Uid, u8)>, Error<E>> {
        let mut uid = Vec::with_capacity(10);
        for sel in SEL_CL {
            let Some(frame) = self.transceive(&[sel, NVB_ANTICOLLISION], 0)? else { return Ok(None) };
            let part: [u8; 4] = match frame.bytes.as_slice() {
                [a, b, c, d, check] if frame.last_bits == 0 => {
                    if iso14443::bcc(&[*a, *b, *c, *d]) != *check {
                        return Err(Error::Protocol("UID check byte (BCC) mismatch"));
                    }
                    [*a, *b, *c, *d]
                }
                _ => return Err(Error::Protocol("anticollision answer is not 5 bytes")),
            };
            let mut select = vec![sel, NVB_SELECT];
            select.extend_from_slice(&frame.bytes);
            let Some(answer) = self.transceive(&iso14443::with_crc_a(&select), 0)? else { return Ok(None) };
            if answer.bytes.len() != 3 || !iso14443::crc_a_ok(&answer.bytes) {
                return Err(Error::Protocol("SAK fails its CRC_A"));
            }
            let sak = answer.bytes[0];
            if sak & SAK_CASCADE == 0 {
                uid.extend_from_slice(&part);
                return Uid::new(&uid).map(|uid| Some((uid, sak))).ok_or(Error::Protocol("UID length"));
            }
            if part[0] != CASCADE_TAG {
                return Err(Error::Protocol("cascade bit set without cascade tag"));
            }
            uid.extend_from_slice(&part[1..]);
        }
        Err(Error::Protocol("UID longer than three cascade levels"))
    }

    /// Sends HLTA to the selected card; a card does not answer HLTA.
    pub fn halt(&mut self) -> Result<(), Error<E>> {
        match self.transceive(&iso14443::hlta_frame(), 0)? {
            None => Ok(()),
            Some(_) => Err(Error::Protocol("card answered HLTA")),
        }
    }

    /// Sends `data` to the card (its last byte holding `tx_last_bits` bits, 0 = 8) with the
    /// Transceive command and returns the answer, or `None` when the chip's timer ran out
    /// without one.
    pub fn transceive(&mut self, data: &[u8], tx_last_bits: u8) -> Result<Option<Frame>, Error<E>> {
        let framing = tx_last_bits & 0x07;
        self.write(Register::Command, command::IDLE)?;
        self.write(Register::ComIrq, !bits::SET1)?;
        self.write(Register::FifoLevel, bits::FLUSH_BUFFER)?;
        self.write_fifo(data)?;
        self.write(Register::BitFraming, framing)?;
        self.write(Register::Command, command::TRANSCEIVE)?;
        self.write(Register::BitFraming, framing | bits::START_SEND)?;
        let irq = self.wait_until(Register::ComIrq, |v| v & (bits::RX_IRQ | bits::IDLE_IRQ | bits::TIMER_IRQ) != 0)?;
        if irq & (bits::RX_IRQ | bits::IDLE_IRQ) == 0 {
            return Ok(None);
        }
        let error = self.read(Register::Error)?;
        if error & bits::COLL_ERR != 0 {
            return Err(Error::Collision);
        }
        if error & bits::BUFFER_OVFL != 0 {
            return Err(Error::Protocol("FIFO overflow"));
        }
        if error & (bits::PARITY_ERR | bits::PROTOCOL_ERR) != 0 {
            return Err(Error::Protocol("parity or framing error"));
        }
        let len = self.read(Register::FifoLevel)? & 0x7F;
        let bytes = self.read_fifo(usize::from(len))?;
        let last_bits = self.read(Register::Control)? & bits::RX_LAST_BITS;
        Ok(Some(Frame { bytes, last_bits }))
    }

    /// Reads a register.
    pub fn read(&mut self, reg: Register) -> Result<u8, Error<E>> {
        let mut buf = [reg.read_address(), 0];
        self.spi.transfer_in_place(&mut buf).map_err(Error::Spi)?;
        Ok(buf[1])
    }

    /// Writes a register.
    pub fn write(&mut self, reg: Register, value: u8) -> Result<(), Error<E>> {
        self.spi.write(&[reg.write_address(), value]).map_err(Error::Spi)
    }

    /// Writes `data` to the FIFO in one SPI write (the address stays on FIFODataReg).
    fn write_fifo(&mut self, data: &[u8]) -> Result<(), Error<E>> {
        let mut buf = Vec::with_capacity(data.len() + 1);
        buf.push(Register::FifoData.write_address());
        buf.extend_from_slice(data);
        self.spi.write(&buf).map_err(Error::Spi)
    }

    /// Reads `len` bytes from the FIFO in one SPI transaction: the FIFO address repeated, then
    /// 0x00 to end (datasheet §8.1.2.1).
    fn read_fifo(&mut self, len: usize) -> Result<Vec<u8>, Error<E>> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let mut buf = vec![Register::FifoData.read_address(); len + 1];
        buf[len] = 0;
        self.spi.transfer_in_place(&mut buf).map_err(Error::Spi)?;
        buf.remove(0);
        Ok(buf)
    }

    fn wait_until(&mut self, reg: Register, done: impl Fn(u8) -> bool) -> Result<u8, Error<E>> {
        for _ in 0..MAX_STATUS_POLLS {
            let value = self.read(reg)?;
            if done(value) {
                return Ok(value);
            }
        }
        Err(Error::Timeout)
    }
}

impl<SPI> CardReader for Mfrc522<SPI>
where
    SPI: SpiDevice<u8> + Send,
    SPI::Error: Debug,
{
    fn describe(&self) -> String {
        match self.version {
            Some(Version::V1_0) => "MFRC522 v1.0".into(),
            Some(Version::V2_0) => "MFRC522 v2.0".into(),
            Some(Version::Fm17522) => "FM17522 (MFRC522 compatible)".into(),
            None => "MFRC522 (not initialised)".into(),
        }
    }

    fn poll(&mut self) -> Result<Option<Card>, ReaderError> {
        Mfrc522::poll(self).map_err(ReaderError::from)
    }
}
