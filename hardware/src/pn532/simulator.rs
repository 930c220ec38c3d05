//! A simulated PN532 on I2C: checks host frames, acknowledges them, and answers the commands the
//! driver uses from the cards in a [`SimulatedField`].
//!
//! Its firmware part talks to the cards through the field as the real one does over the air:
//! InListPassiveTarget selects a card and sends RATS to an ISO/IEC 14443-4 one, InDataExchange
//! runs the reader's half of ISO-DEP ([`crate::iso_dep::Link`]: blocks, chaining, WTX), and
//! InRelease deselects or halts the card.

use std::collections::VecDeque;

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation, SevenBitAddress};

use super::frame::{self, command, Decoded, TFI_HOST, TFI_PN532};
use super::{DEFAULT_ADDRESS, MAX_EXCHANGE_DATA};
use crate::card::Card;
use crate::field::{Answer, SimulatedField};
use crate::iso14443;
use crate::iso_dep::{self, Ats, Link, Reception, SAK_ISO_DEP};

/// FSDI the firmware sends in RATS: 256-byte frames, its buffer being larger.
const FSDI: u8 = 8;

/// A simulated PN532 (firmware 1.6) in front of `field`.
#[derive(Debug)]
pub struct SimulatedPn532 {
    field: SimulatedField,
    /// Frames waiting for the host to read them: the ACK, then the answer.
    outbox: VecDeque<Vec<u8>>,
    commands: Vec<u8>,
    /// The listed target, with its ISO-DEP link if it has one.
    target: Option<(Card, Option<Link>)>,
}

impl SimulatedPn532 {
    /// A PN532 at the default address looking at `field`.
    pub fn new(field: SimulatedField) -> Self {
        SimulatedPn532 { field, outbox: VecDeque::new(), commands: Vec::new(), target: None }
    }

    /// Command codes received so far.
    pub fn commands(&self) -> &[u8] {
        &self.commands
    }

    fn receive(&mut self, bytes: &[u8]) {
        // A corrupt frame gets no ACK (§6.2.1.3); the host times out and may retry.
        let Ok(Decoded::Information(TFI_HOST, payload)) = frame::decode(bytes) else { return };
        let Some((&code, params)) = payload.split_first() else { return };
        self.commands.push(code);
        self.outbox.push_back(frame::ACK.to_vec());
        let data: Option<Vec<u8>> = match code {
            command::GET_FIRMWARE_VERSION => Some(vec![0x32, 0x01, 0x06, 0x07]),
            command::SAM_CONFIGURATION | command::RF_CONFIGURATION => Some(vec![]),
            command::IN_LIST_PASSIVE_TARGET if params.len() >= 2 && params[1] == 0x00 => Some(self.list_target()),
            command::IN_DATA_EXCHANGE => params.split_first().map(|(&tg, data)| self.data_exchange(tg, data)),
            command::IN_RELEASE => {
                self.release();
                Some(vec![0x00])
            }
            _ => None,
        };
        match data {
            Some(data) => {
                let mut payload = vec![code.wrapping_add(1)];
                payload.extend_from_slice(&data);
                self.outbox.push_back(frame::encode(TFI_PN532, &payload));
            }
            None => self.outbox.push_back(frame::SYNTAX_ERROR.to_vec()),
        }
    }

    /// InListPassiveTarget of one 106 kbit/s Type A target: `NbTg, Tg, SENS_RES, SEL_RES,
    /// NFCIDLength, NFCID1, ATS` (the ATS only for an ISO/IEC 14443-4 card).
    fn list_target(&mut self) -> Vec<u8> {
        self.release();
        let Some(card) = self.field.select_first() else { return vec![0x00] };
        let uid = card.uid.as_bytes();
        let mut d = vec![0x01, 0x01];
        // A simulated card always has both: only PC/SC readers hide them.
        let sak = card.sak.unwrap_or_default();
        d.extend_from_slice(&card.atqa.unwrap_or_default().to_be_bytes());
        d.push(sak);
        d.push(uid.len() as u8);
        d.extend_from_slice(uid);
        let mut link = None;
        if sak & SAK_ISO_DEP != 0 {
            if let Answer::Frame(ats) = self.field.exchange(&iso_dep::rats_frame(FSDI, 0), 0) {
                if iso14443::crc_a_ok(&ats) {
                    let ats = &ats[..ats.len() - 2];
                    if let Ok(parsed) = Ats::parse(ats) {
                        link = Some(Link::new(&parsed, iso_dep::frame_size(FSDI)));
                        d.extend_from_slice(ats);
                    }
                }
            }
        }
        self.target = Some((card, link));
        d
    }

    /// InDataExchange: the status byte (UM0701-02 Table 4) and the card's answer.
    fn data_exchange(&mut self, tg: u8, data: &[u8]) -> Vec<u8> {
        let field = self.field.clone();
        let Some((_, link)) = self.target.as_mut().filter(|_| tg == 0x01) else {
            // No such target: "command not acceptable in the current context".
            return vec![0x27];
        };
        let answer = match link {
            Some(link) => link.exchange(data, |frame, _wait_us| {
                Ok::<_, core::convert::Infallible>(match field.exchange(frame, 0) {
                    Answer::Silent => Reception::Silence,
                    Answer::Frame(bytes) => Reception::Frame(bytes),
                    Answer::Collision(_) => Reception::Garbled,
                })
            }),
            // A card without ISO-DEP gets the bytes as they are, with CRC_A (MIFARE commands).
            None => match field.exchange(&iso14443::with_crc_a(data), 0) {
                Answer::Frame(bytes) if iso14443::crc_a_ok(&bytes) => Ok(bytes[..bytes.len() - 2].to_vec()),
                Answer::Silent => Err(iso_dep::Error::NoAnswer),
                _ => Err(iso_dep::Error::Protocol("garbled")),
            },
        };
        match answer {
            Ok(answer) if answer.len() <= MAX_EXCHANGE_DATA => {
                let mut d = vec![0x00];
                d.extend_from_slice(&answer);
                d
            }
            // More than a normal frame holds: "internal buffer overflow" here, as the
            // extended frames that would carry it are not simulated.
            Ok(_) => vec![0x0E],
            // Time out: the target has not answered.
            Err(iso_dep::Error::NoAnswer) => vec![0x01],
            // RF protocol error.
            Err(_) => vec![0x0B],
        }
    }

    /// InRelease: S(DESELECT) to an ISO-DEP target, HLTA to another.
    fn release(&mut self) {
        match self.target.take() {
            Some((_, Some(_))) => {
                self.field.exchange(&iso_dep::deselect_frame(), 0);
            }
            Some((_, None)) => {
                self.field.exchange(&iso14443::hlta_frame(), 0);
            }
            None => {}
        }
    }

    /// Fills `buf` as an I2C read does: status byte, then the waiting frame, then zeros.
    /// A read of the status byte alone leaves the frame waiting.
    fn send(&mut self, buf: &mut [u8]) {
        buf.fill(0);
        let Some(first) = buf.first_mut() else { return };
        if self.outbox.is_empty() {
            return;
        }
        *first = super::READY;
        if buf.len() > 1 {
            if let Some(frame) = self.outbox.pop_front() {
                let n = frame.len().min(buf.len() - 1);
                buf[1..=n].copy_from_slice(&frame[..n]);
            }
        }
    }
}

impl ErrorType for SimulatedPn532 {
    type Error = ErrorKind;
}

impl I2c<SevenBitAddress> for SimulatedPn532 {
    fn transaction(&mut self, address: u8, operations: &mut [Operation<'_>]) -> Result<(), Self::Error> {
        if address != DEFAULT_ADDRESS {
            return Err(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address));
        }
        for op in operations {
            match op {
                Operation::Write(bytes) => self.receive(bytes),
                Operation::Read(buf) => self.send(buf),
            }
        }
        Ok(())
    }
}
