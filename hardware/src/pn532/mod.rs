//! Driver for the NXP PN532 NFC controller over I2C.
//!
//! User manual: <https://www.nxp.com/docs/en/user-guide/141520.pdf> (UM0701-02);
//! I2C interface in §6.2.4.
//!
//! Written here rather than taken from the `pn532` crate (0.5, embedded-hal 0.2 era traits and
//! an SPI-first design) so it runs on embedded-hal 1.0 `I2c`, bounds every wait, reports 4-,
//! 7- and 10-byte UIDs alike, and returns the same reader error as the MFRC522.
//!
//! APDUs go through InDataExchange: the PN532 firmware speaks ISO/IEC 14443-4 itself (RATS
//! in InListPassiveTarget, blocks, chaining, WTX), so the driver only lists the card again
//! and checks the status byte. Commands and answers are at most [`MAX_EXCHANGE_DATA`] bytes,
//! what one normal frame carries.
//!
//! ```
//! use hardware::pn532::{Pn532, SimulatedPn532};
//! use hardware::{SimulatedCard, SimulatedField, Uid};
//!
//! let field = SimulatedField::new();
//! field.present(SimulatedCard::new(Uid::from_hex("04112233445566").unwrap()));
//! let mut reader = Pn532::new(SimulatedPn532::new(field), hardware::pn532::NoDelay);
//! reader.init().unwrap();
//! let card = reader.poll().unwrap().unwrap();
//! assert_eq!(card.uid.to_string(), "04112233445566");
//! ```

pub mod frame;
mod simulator;

use core::fmt::Debug;

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;

use crate::card::{Activation, Card, CardReader, ReaderError, Uid};
use crate::iso_dep::SAK_ISO_DEP;
use frame::{command, Decoded, FrameError, TFI_HOST, TFI_PN532};
pub use simulator::SimulatedPn532;

/// The PN532's 7-bit I2C address.
pub const DEFAULT_ADDRESS: u8 = 0x24;
/// Status polls before giving up on an answer, 1 ms apart.
pub const MAX_READY_POLLS: u32 = 200;
/// Bytes read for an answer: the status byte and a frame with up to 55 data bytes, enough for
/// InListPassiveTarget with a 10-byte UID and a 20-byte ATS.
pub const RESPONSE_READ_LEN: usize = 64;
/// Status byte when the PN532 has an answer ready (§6.2.4: RDY).
pub const READY: u8 = 0x01;
/// Longest command or response APDU one InDataExchange carries in a normal frame (LEN ≤ 255:
/// TFI, command code, Tg or status, then the data).
pub const MAX_EXCHANGE_DATA: usize = 252;
/// Bytes read for an InDataExchange answer: the status byte and a full normal frame
/// (preamble, start code, LEN, LCS, 255 bytes, DCS, postamble).
pub const EXCHANGE_READ_LEN: usize = 1 + 5 + 255 + 2;
/// Status polls, 1 ms apart, while the PN532 exchanges with the card. The firmware waits the
/// card's frame waiting time and grants its WTX requests on its own, so this bounds the whole
/// exchange: 2 s, against a card stuck asking for more time.
pub const EXCHANGE_READY_POLLS: u32 = 2_000;
/// Target number the PN532 gives the one card InListPassiveTarget lists.
const TARGET: u8 = 0x01;

/// A delay that does not wait, for simulators that answer at once.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDelay;

impl DelayNs for NoDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}

/// PN532 errors.
#[derive(Debug, thiserror::Error)]
pub enum Error<E> {
    /// The I2C bus failed.
    #[error("I2C error: {0:?}")]
    I2c(E),
    /// The PN532 never became ready.
    #[error("the PN532 did not answer in time")]
    Timeout,
    /// The PN532 did not acknowledge the command frame.
    #[error("the PN532 did not acknowledge the command")]
    NoAck,
    /// The PN532 answered with its error frame.
    #[error("the PN532 rejected the command")]
    Rejected,
    /// A frame failed its checks.
    #[error("bad frame from the PN532: {0:?}")]
    Frame(FrameError),
    /// The answer does not fit the command.
    #[error("unexpected answer: {0}")]
    Unexpected(&'static str),
    /// GetFirmwareVersion names another IC.
    #[error("IC code {0:#04x}: not a PN532")]
    UnknownChip(u8),
    /// No card to exchange with: the last poll found none, or another card took its place.
    #[error("no card on the reader")]
    NoCard,
    /// The card does not speak ISO/IEC 14443-4 (SAK bit 6 clear).
    #[error("the card does not support ISO/IEC 14443-4")]
    NotIsoDep,
    /// InDataExchange failed: the error code of its status byte (UM0701-02 Table 4), e.g.
    /// 0x01 when the card did not answer.
    #[error("the PN532 reports error {0:#04x} exchanging with the card")]
    Status(u8),
}

impl<E: Debug> From<Error<E>> for ReaderError {
    fn from(e: Error<E>) -> Self {
        match e {
            Error::I2c(e) => ReaderError::Bus(format!("{e:?}")),
            Error::Timeout => ReaderError::Timeout,
            Error::NoAck => ReaderError::Protocol("PN532 did not acknowledge"),
            Error::Rejected => ReaderError::Protocol("PN532 rejected a command"),
            Error::Frame(_) => ReaderError::Protocol("bad PN532 frame"),
            Error::Unexpected(what) => ReaderError::Protocol(what),
            Error::UnknownChip(ic) => ReaderError::UnknownChip(format!("PN53x IC {ic:#04x}")),
            Error::NoCard => ReaderError::NoCard,
            Error::NotIsoDep => ReaderError::NotIsoDep,
            // Time out (the card did not answer), target released, card disappeared, no such
            // target: all say the card is gone.
            Error::Status(0x01 | 0x27 | 0x29 | 0x2B) => ReaderError::NoCard,
            Error::Status(0x02 | 0x03 | 0x05 | 0x0B | 0x13) => {
                ReaderError::Protocol("the PN532 reports a garbled exchange with the card")
            }
            Error::Status(_) => ReaderError::Protocol("the PN532 reports an error exchanging with the card"),
        }
    }
}

/// Firmware version from GetFirmwareVersion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Firmware {
    /// IC: 0x32 for the PN532.
    pub ic: u8,
    /// Version.
    pub version: u8,
    /// Revision.
    pub revision: u8,
    /// Supported protocols bit field.
    pub support: u8,
}

/// A PN532 on an I2C bus.
#[derive(Debug)]
pub struct Pn532<I2C, D> {
    i2c: I2C,
    delay: D,
    address: u8,
    firmware: Option<Firmware>,
    /// The card the last poll found: the one `exchange` talks to.
    selected: Option<Card>,
    /// It is listed as target 1 (and activated, RATS included) in the PN532.
    listed: bool,
    /// The ATS in the last poll's InListPassiveTarget answer, for diagnostics.
    ats: Option<Vec<u8>>,
}

impl<I2C, D, E> Pn532<I2C, D>
where
    I2C: I2c<Error = E>,
    D: DelayNs,
{
    /// Takes the bus and a delay; no traffic until [`init`](Self::init).
    pub fn new(i2c: I2C, delay: D) -> Self {
        Pn532 { i2c, delay, address: DEFAULT_ADDRESS, firmware: None, selected: None, listed: false, ats: None }
    }

    /// Gives the bus and the delay back.
    pub fn release(self) -> (I2C, D) {
        (self.i2c, self.delay)
    }

    /// The firmware read by [`init`](Self::init).
    pub fn firmware(&self) -> Option<Firmware> {
        self.firmware
    }

    /// Wakes the SAM in normal mode, checks the firmware is a PN532's, and limits passive
    /// activation retries so a poll with no card returns instead of waiting forever.
    pub fn init(&mut self) -> Result<Firmware, Error<E>> {
        self.command(command::SAM_CONFIGURATION, &[0x01, 0x14, 0x00])?;
        let fw = self.command(command::GET_FIRMWARE_VERSION, &[])?;
        let [ic, version, revision, support] = fw[..] else {
            return Err(Error::Unexpected("firmware version is not 4 bytes"));
        };
        if ic != 0x32 {
            return Err(Error::UnknownChip(ic));
        }
        // CfgItem 5 (MaxRetries): MxRtyATR 0xFF, MxRtyPSL 0x01, MxRtyPassiveActivation 0x02.
        self.command(command::RF_CONFIGURATION, &[0x05, 0xFF, 0x01, 0x02])?;
        let firmware = Firmware { ic, version, revision, support };
        self.firmware = Some(firmware);
        Ok(firmware)
    }

    /// Looks for one ISO/IEC 14443 Type A card at 106 kbit/s (InListPassiveTarget), then
    /// releases it so the next poll activates it afresh.
    pub fn poll(&mut self) -> Result<Option<Card>, Error<E>> {
        self.selected = None;
        if self.listed {
            // Listed by an exchange: release it (S(DESELECT)) before listing again.
            self.listed = false;
            self.command(command::IN_RELEASE, &[0x00])?;
        }
        self.ats = None;
        let data = self.command(command::IN_LIST_PASSIVE_TARGET, &[0x01, 0x00])?;
        let Some(card) = Self::target(&data)? else { return Ok(None) };
        self.ats = Self::target_ats(&data);
        self.command(command::IN_RELEASE, &[0x00])?;
        self.selected = Some(card);
        Ok(Some(card))
    }

    /// Sends a command APDU to the card the last poll found and returns its response APDU
    /// (InDataExchange). The first exchange after a poll lists the card again, which for an
    /// ISO/IEC 14443-4 card includes RATS.
    pub fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>, Error<E>> {
        let card = self.selected.ok_or(Error::NoCard)?;
        if card.sak.is_none_or(|sak| sak & SAK_ISO_DEP == 0) {
            return Err(Error::NotIsoDep);
        }
        if apdu.len() > MAX_EXCHANGE_DATA {
            return Err(Error::Unexpected("command APDU longer than one InDataExchange frame"));
        }
        if !self.listed {
            let data = self.command(command::IN_LIST_PASSIVE_TARGET, &[0x01, 0x00])?;
            match Self::target(&data)? {
                Some(found) if found.uid == card.uid => self.listed = true,
                Some(_) => {
                    self.command(command::IN_RELEASE, &[0x00])?;
                    return Err(Error::NoCard);
                }
                None => return Err(Error::NoCard),
            }
        }
        let mut params = Vec::with_capacity(apdu.len() + 1);
        params.push(TARGET);
        params.extend_from_slice(apdu);
        let result = self
            .command_waiting(command::IN_DATA_EXCHANGE, &params, EXCHANGE_READ_LEN, EXCHANGE_READY_POLLS)
            .and_then(|data| match data.split_first() {
                Some((0x00, response)) => Ok(response.to_vec()),
                // MI (more information) or NAD: neither is used, a card answer this long is not
                // expected.
                Some((status, _)) if status & 0x3F == 0 => Err(Error::Unexpected("InDataExchange status with MI or NAD")),
                Some((status, _)) => Err(Error::Status(status & 0x3F)),
                None => Err(Error::Unexpected("InDataExchange answer without status")),
            });
        if result.is_err() {
            // The target's state in the PN532 is unknown now: release it so the next exchange
            // lists it afresh. The exchange's own error is the one worth reporting.
            self.listed = false;
            let _ = self.command(command::IN_RELEASE, &[0x00]);
        }
        result
    }

    /// The card in an InListPassiveTarget answer, if any (the ATS after the UID is the
    /// firmware's business).
    fn target(data: &[u8]) -> Result<Option<Card>, Error<E>> {
        match data {
            [0, ..] => Ok(None),
            [1, _tg, atqa_hi, atqa_lo, sak, uid_len, rest @ ..] if rest.len() >= usize::from(*uid_len) => {
                let uid = Uid::new(&rest[..usize::from(*uid_len)]).ok_or(Error::Unexpected("UID length"))?;
                Ok(Some(Card { uid, atqa: Some(u16::from_be_bytes([*atqa_hi, *atqa_lo])), sak: Some(*sak) }))
            }
            _ => Err(Error::Unexpected("InListPassiveTarget answer")),
        }
    }

    /// The ATS after the UID in an InListPassiveTarget answer (TL first), if the firmware
    /// activated ISO/IEC 14443-4 and it is whole.
    fn target_ats(data: &[u8]) -> Option<Vec<u8>> {
        let [1, _tg, _atqa_hi, _atqa_lo, _sak, uid_len, rest @ ..] = data else { return None };
        let ats = rest.get(usize::from(*uid_len)..)?;
        let tl = usize::from(*ats.first()?);
        (tl >= 1 && ats.len() >= tl).then(|| ats[..tl].to_vec())
    }

    /// Sends a command with its parameters and returns the answer's data (after the answer
    /// code).
    pub fn command(&mut self, code: u8, params: &[u8]) -> Result<Vec<u8>, Error<E>> {
        self.command_waiting(code, params, RESPONSE_READ_LEN, MAX_READY_POLLS)
    }

    /// [`command`](Self::command) reading `read_len` bytes for the answer and waiting up to
    /// `ready_polls` ms for it. A command that times out is aborted with an ACK frame
    /// (§6.2.1.3), so the PN532 is ready for the next one.
    fn command_waiting(&mut self, code: u8, params: &[u8], read_len: usize, ready_polls: u32) -> Result<Vec<u8>, Error<E>> {
        let mut payload = Vec::with_capacity(params.len() + 1);
        payload.push(code);
        payload.extend_from_slice(params);
        self.i2c.write(self.address, &frame::encode(TFI_HOST, &payload)).map_err(Error::I2c)?;

        self.wait_ready(MAX_READY_POLLS)?;
        let mut ack = [0u8; 1 + frame::ACK.len()];
        self.i2c.read(self.address, &mut ack).map_err(Error::I2c)?;
        if ack[1..] != frame::ACK {
            return Err(Error::NoAck);
        }

        if let Err(e) = self.wait_ready(ready_polls) {
            if matches!(e, Error::Timeout) {
                self.i2c.write(self.address, &frame::ACK).map_err(Error::I2c)?;
            }
            return Err(e);
        }
        let mut answer = vec![0u8; read_len];
        self.i2c.read(self.address, &mut answer).map_err(Error::I2c)?;
        match frame::decode(&answer[1..]).map_err(Error::Frame)? {
            Decoded::Information(TFI_PN532, mut data) if data.first() == Some(&code.wrapping_add(1)) => {
                data.remove(0);
                Ok(data)
            }
            Decoded::Error => Err(Error::Rejected),
            _ => Err(Error::Unexpected("answer to another command")),
        }
    }

    /// Reads the status byte until RDY, 1 ms apart, at most `polls` times.
    fn wait_ready(&mut self, polls: u32) -> Result<(), Error<E>> {
        for _ in 0..polls {
            let mut status = [0u8];
            self.i2c.read(self.address, &mut status).map_err(Error::I2c)?;
            if status[0] & READY != 0 {
                return Ok(());
            }
            self.delay.delay_ms(1);
        }
        Err(Error::Timeout)
    }
}

impl<I2C, D> CardReader for Pn532<I2C, D>
where
    I2C: I2c + Send,
    I2C::Error: Debug,
    D: DelayNs + Send,
{
    fn describe(&self) -> String {
        match self.firmware {
            Some(fw) => format!("PN532 firmware {}.{}", fw.version, fw.revision),
            None => "PN532 (not initialised)".into(),
        }
    }

    fn poll(&mut self) -> Result<Option<Card>, ReaderError> {
        Pn532::poll(self).map_err(ReaderError::from)
    }

    fn exchange(&mut self, command: &[u8]) -> Result<Vec<u8>, ReaderError> {
        Pn532::exchange(self, command).map_err(ReaderError::from)
    }

    fn activation(&self) -> Activation {
        Activation { ats: self.ats.clone(), atr: None }
    }
}
