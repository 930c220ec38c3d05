//! A simulated PN532 on I2C: checks host frames, acknowledges them, and answers the commands the
//! driver uses from the cards in a [`SimulatedField`].

use std::collections::VecDeque;

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation, SevenBitAddress};

use super::frame::{self, command, Decoded, TFI_HOST, TFI_PN532};
use super::DEFAULT_ADDRESS;
use crate::field::SimulatedField;

/// A simulated PN532 (firmware 1.6) in front of `field`.
#[derive(Debug)]
pub struct SimulatedPn532 {
    field: SimulatedField,
    /// Frames waiting for the host to read them: the ACK, then the answer.
    outbox: VecDeque<Vec<u8>>,
    commands: Vec<u8>,
}

impl SimulatedPn532 {
    /// A PN532 at the default address looking at `field`.
    pub fn new(field: SimulatedField) -> Self {
        SimulatedPn532 { field, outbox: VecDeque::new(), commands: Vec::new() }
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
            command::IN_LIST_PASSIVE_TARGET if params.len() >= 2 && params[1] == 0x00 => {
                Some(match self.field.cards().first() {
                    None => vec![0x00],
                    Some(card) => {
                        let uid = card.uid.as_bytes();
                        let mut d = vec![0x01, 0x01];
                        d.extend_from_slice(&card.atqa.to_be_bytes());
                        d.push(card.sak);
                        d.push(uid.len() as u8);
                        d.extend_from_slice(uid);
                        d
                    }
                })
            }
            command::IN_RELEASE => Some(vec![0x00]),
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
