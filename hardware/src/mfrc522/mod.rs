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
//! APDUs travel over ISO/IEC 14443-4 ([`crate::iso_dep`]): the driver sends RATS and the
//! blocks itself through Transceive, in frames of at most 64 bytes both ways (RATS asks for
//! FSD 64), because the FIFO holds 64 bytes and refilling it mid-frame would need interrupt
//! timing a polled SPI driver cannot promise. The chip's timer waits the card's frame waiting
//! time from its ATS, bounded by [`MAX_FRAME_WAIT_MS`].
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

use crate::card::{Activation, Card, CardReader, ReaderError, Uid};
use crate::iso14443::{self, CASCADE_TAG, NVB_ANTICOLLISION, NVB_SELECT, SAK_CASCADE, SEL_CL};
use crate::iso_dep::{self, Ats, Link, Reception, FSDI_64, SAK_ISO_DEP};
pub use register_access::{bits, command, init_values, Register};
pub use simulator::SimulatedMfrc522;

/// How many times the driver reads a status register before giving up on the chip. Each read is
/// a 2-byte SPI transfer (≥ 16 µs at 1 MHz), so 2,000 reads outlast the chip's own 15 ms card
/// timeout: reaching the limit means the chip itself is not responding.
pub const MAX_STATUS_POLLS: u32 = 2_000;

/// The longest the driver waits for a card's answer to an ISO/IEC 14443-4 block, whatever the
/// card's ATS or WTX asks for (up to 4.9 s). Reading the ID profile takes a card a few
/// milliseconds; an applicant waiting seconds at the kiosk for a card that has gone is worse
/// than a failed read they can retry.
pub const MAX_FRAME_WAIT_MS: u32 = 1_000;

/// The largest ISO/IEC 14443-4 frame the driver sends or accepts (PCB and CRC_A included): the
/// FIFO's size.
pub const FRAME_SIZE: usize = 64;

/// One tick of the timer as [`init`](Mfrc522::init) sets it, in µs (13.56 MHz / 6,781).
const TIMER_TICK_US: u32 = 500;

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
    /// A frame failed a check, or the card broke the ISO/IEC 14443-4 protocol.
    #[error("garbled frame: {0}")]
    Protocol(&'static str),
    /// No card to exchange with: the last poll found none, or the card stopped answering.
    #[error("no card on the reader")]
    NoCard,
    /// The card does not speak ISO/IEC 14443-4 (SAK bit 6 clear).
    #[error("the card does not support ISO/IEC 14443-4")]
    NotIsoDep,
}

impl<E: Debug> From<Error<E>> for ReaderError {
    fn from(e: Error<E>) -> Self {
        match e {
            Error::Spi(e) => ReaderError::Bus(format!("{e:?}")),
            Error::Timeout => ReaderError::Timeout,
            Error::UnknownVersion(v) => ReaderError::UnknownChip(format!("MFRC522 VersionReg {v:#04x}")),
            Error::Collision => ReaderError::Collision,
            Error::Protocol(what) => ReaderError::Protocol(what),
            Error::NoCard => ReaderError::NoCard,
            Error::NotIsoDep => ReaderError::NotIsoDep,
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
    /// The card the last poll found: the one `exchange` talks to.
    selected: Option<Card>,
    /// The ISO-DEP link with it, once activated.
    link: Option<Link>,
    /// The ATS of the selected card's last activation (TL first, no CRC_A), for diagnostics.
    ats: Option<Vec<u8>>,
    /// A card may be in the ISO/IEC 14443-4 PROTOCOL state, where it ignores WUPA: it must be
    /// deselected before the next poll, or a card left on the reader would look removed.
    in_protocol: bool,
    /// The timer reload value last written (ticks of [`TIMER_TICK_US`]).
    timer_reload: u16,
}

impl<SPI, E> Mfrc522<SPI>
where
    SPI: SpiDevice<u8, Error = E>,
{
    /// Takes the SPI device; no bus traffic until [`init`](Self::init).
    pub fn new(spi: SPI) -> Self {
        Mfrc522 { spi, version: None, selected: None, link: None, ats: None, in_protocol: false, timer_reload: init_values::T_RELOAD }
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
        self.wait_until(Register::Command, MAX_STATUS_POLLS, |v| v & bits::POWER_DOWN == 0)?;
        let raw = self.read(Register::Version)?;
        let version = Version::from_register(raw).ok_or(Error::UnknownVersion(raw))?;
        self.write(Register::TMode, init_values::T_MODE)?;
        self.write(Register::TPrescaler, init_values::T_PRESCALER)?;
        let [reload_h, reload_l] = init_values::T_RELOAD.to_be_bytes();
        self.write(Register::TReloadH, reload_h)?;
        self.write(Register::TReloadL, reload_l)?;
        self.timer_reload = init_values::T_RELOAD;
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
    ///
    /// A card activated by [`exchange`](Self::exchange) is deselected first (it would ignore
    /// WUPA), and the next exchange activates it afresh.
    pub fn poll(&mut self) -> Result<Option<Card>, Error<E>> {
        self.selected = None;
        self.ats = None;
        if self.in_protocol {
            self.deselect()?;
        }
        self.set_timer(init_values::T_RELOAD)?;
        let Some(atqa) = self.wake_up()? else { return Ok(None) };
        // A card that answered WUPA but then fell silent has left the field mid-way.
        let Some((uid, sak)) = self.select()? else { return Ok(None) };
        self.halt()?;
        let card = Card { uid, atqa: Some(atqa), sak: Some(sak) };
        self.selected = Some(card);
        Ok(Some(card))
    }

    /// Sends a command APDU to the card the last poll found and returns its response APDU,
    /// over ISO/IEC 14443-4. The first exchange after a poll wakes and selects that card again
    /// and activates ISO-DEP (RATS); later ones reuse the link.
    pub fn exchange(&mut self, command: &[u8]) -> Result<Vec<u8>, Error<E>> {
        let card = self.selected.ok_or(Error::NoCard)?;
        if card.sak.is_none_or(|sak| sak & SAK_ISO_DEP == 0) {
            return Err(Error::NotIsoDep);
        }
        let mut link = match self.link.take() {
            Some(link) => link,
            None => self.activate(&card)?,
        };
        match link.exchange(command, |frame, wait_us| self.transceive_block(frame, wait_us)) {
            Ok(response) => {
                self.link = Some(link);
                Ok(response)
            }
            // The link is dropped: its block numbers can no longer be trusted. The card may
            // still be in PROTOCOL state, so `in_protocol` stays set and the next poll or
            // exchange deselects it first.
            Err(iso_dep::Error::Reader(e)) => Err(e),
            Err(iso_dep::Error::NoAnswer) => Err(Error::NoCard),
            Err(iso_dep::Error::Protocol(what)) => Err(Error::Protocol(what)),
        }
    }

    /// Wakes and selects `card` again and sends RATS; the link its ATS describes.
    fn activate(&mut self, card: &Card) -> Result<Link, Error<E>> {
        if self.in_protocol {
            self.deselect()?;
        }
        // RATS is answered within FWT_ACTIVATION (4.8 ms), well inside the poll timer.
        self.set_timer(init_values::T_RELOAD)?;
        if self.wake_up()?.is_none() {
            return Err(Error::NoCard);
        }
        match self.select()? {
            Some((uid, _)) if uid == card.uid => {}
            Some(_) => {
                // Another card took its place: leave that one halted for the next poll.
                self.halt()?;
                return Err(Error::NoCard);
            }
            None => return Err(Error::NoCard),
        }
        let Some(answer) = self.transceive(&iso_dep::rats_frame(FSDI_64, 0), 0)? else {
            return Err(Error::NoCard);
        };
        self.in_protocol = true;
        if answer.last_bits != 0 || !iso14443::crc_a_ok(&answer.bytes) {
            return Err(Error::Protocol("ATS fails its CRC_A"));
        }
        let ats_bytes = &answer.bytes[..answer.bytes.len() - 2];
        let ats = Ats::parse(ats_bytes).map_err(Error::Protocol)?;
        self.ats = Some(ats_bytes.to_vec());
        self.wait_us(ats.start_up_guard_time_us())?;
        Ok(Link::new(&ats, FRAME_SIZE))
    }

    /// Sends S(DESELECT), after which the card rests in HALT. The answer does not matter: a
    /// card that has left the field cannot answer, and one that did not get it resets when it
    /// leaves the field (ISO/IEC 14443-4 rule 8 lets a reader ignore a card that does not
    /// answer S(DESELECT)).
    fn deselect(&mut self) -> Result<(), Error<E>> {
        self.link = None;
        self.in_protocol = false;
        match self.transceive(&iso_dep::deselect_frame(), 0) {
            Ok(_) | Err(Error::Protocol(_) | Error::Collision) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// One ISO-DEP frame out and its answer in, the timer set to wait `wait_us` (at least the
    /// poll timeout, at most [`MAX_FRAME_WAIT_MS`]).
    fn transceive_block(&mut self, frame: &[u8], wait_us: u32) -> Result<Reception, Error<E>> {
        self.set_timer(Self::ticks(wait_us))?;
        match self.transceive(frame, 0) {
            Ok(None) => Ok(Reception::Silence),
            Ok(Some(answer)) if answer.last_bits == 0 => Ok(Reception::Frame(answer.bytes)),
            // A corrupt frame is retransmitted by the ISO-DEP layer, not an error yet.
            Ok(Some(_)) | Err(Error::Protocol(_) | Error::Collision) => Ok(Reception::Garbled),
            Err(e) => Err(e),
        }
    }

    /// Waits `us` µs on the chip's timer (the start-up frame guard time after an ATS): the
    /// driver has no delay of its own, and the timer is exact where counting SPI reads is not.
    fn wait_us(&mut self, us: u32) -> Result<(), Error<E>> {
        if us == 0 {
            return Ok(());
        }
        self.set_timer(Self::ticks(us))?;
        self.write(Register::ComIrq, bits::TIMER_IRQ)?;
        self.write(Register::Control, bits::T_START_NOW)?;
        self.wait_until(Register::ComIrq, self.status_polls(), |v| v & bits::TIMER_IRQ != 0)?;
        Ok(())
    }

    /// Timer ticks for a wait of `us`, between the poll timeout and [`MAX_FRAME_WAIT_MS`].
    fn ticks(us: u32) -> u16 {
        let us = us.min(MAX_FRAME_WAIT_MS * 1_000);
        us.div_ceil(TIMER_TICK_US).max(u32::from(init_values::T_RELOAD)) as u16
    }

    /// Sets the timer's reload value, writing only when it changes.
    fn set_timer(&mut self, ticks: u16) -> Result<(), Error<E>> {
        if ticks != self.timer_reload {
            let [high, low] = ticks.to_be_bytes();
            self.write(Register::TReloadH, high)?;
            self.write(Register::TReloadL, low)?;
            self.timer_reload = ticks;
        }
        Ok(())
    }

    /// Status reads that outlast the timer as set: [`MAX_STATUS_POLLS`] per poll timeout.
    fn status_polls(&self) -> u32 {
        MAX_STATUS_POLLS * u32::from(self.timer_reload).div_ceil(u32::from(init_values::T_RELOAD))
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
        let irq = self.wait_until(Register::ComIrq, self.status_polls(), |v| {
            v & (bits::RX_IRQ | bits::IDLE_IRQ | bits::TIMER_IRQ) != 0
        })?;
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

    fn wait_until(&mut self, reg: Register, polls: u32, done: impl Fn(u8) -> bool) -> Result<u8, Error<E>> {
        for _ in 0..polls {
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

    fn exchange(&mut self, command: &[u8]) -> Result<Vec<u8>, ReaderError> {
        Mfrc522::exchange(self, command).map_err(ReaderError::from)
    }

    fn activation(&self) -> Activation {
        Activation { ats: self.ats.clone(), atr: None }
    }
}
