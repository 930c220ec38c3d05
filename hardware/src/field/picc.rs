//! The card's half of ISO/IEC 14443-4 (the PICC rules of §7.5.4): answers RATS with the ATS,
//! reassembles chained commands, chains answers larger than the reader's FSD or its own FSC,
//! retransmits after R(NAK), and asks for waiting time extensions when told to.

use super::Application;
use crate::iso_dep::{frame_size, Ats, Block};

/// Longest command the card reassembles from chained blocks; more is dropped, as a card with a
/// small buffer would.
const MAX_COMMAND_LEN: usize = 1_024;

#[derive(Debug, Clone)]
pub(crate) struct Picc {
    pub(crate) ats: Ats,
    pub(crate) application: Application,
    /// S(WTX) requests still to send, one before each answer.
    pub(crate) wtx_requests: u32,
    /// The reader's FSD from RATS.
    fsd: usize,
    block_number: u8,
    /// A command being received in chained blocks.
    command: Vec<u8>,
    /// The part of the answer not sent yet.
    answer: Vec<u8>,
    /// An answer held back while a waiting time extension is asked for.
    held: Option<Vec<u8>>,
    /// The last frame sent, for retransmission.
    last: Vec<u8>,
}

impl Picc {
    pub(crate) fn new(ats: Ats, application: Application) -> Self {
        Picc {
            ats,
            application,
            wtx_requests: 0,
            fsd: frame_size(0),
            block_number: 1,
            command: Vec::new(),
            answer: Vec::new(),
            held: None,
            last: Vec::new(),
        }
    }

    /// RATS with this FSDI: starts a session and returns the ATS (without CRC_A).
    pub(crate) fn activate(&mut self, fsdi: u8) -> Vec<u8> {
        self.fsd = frame_size(fsdi);
        // Rule C: the card's block number starts at 1.
        self.block_number = 1;
        self.command.clear();
        self.answer.clear();
        self.held = None;
        self.last.clear();
        self.application.reset();
        self.ats.to_bytes()
    }

    /// The answer to a valid block (S(DESELECT) is the card's business); `None` to stay
    /// silent.
    pub(crate) fn receive(&mut self, block: Block) -> Option<Vec<u8>> {
        match block {
            Block::I { chaining, inf, .. } => {
                // Rule D: toggle on every I-block.
                self.block_number ^= 1;
                self.answer.clear();
                if self.command.len() + inf.len() <= MAX_COMMAND_LEN {
                    self.command.extend_from_slice(&inf);
                }
                if chaining {
                    return Some(self.send(Block::Ack { block_number: self.block_number }));
                }
                let command = std::mem::take(&mut self.command);
                let answer = self.application.respond(&command);
                Some(self.answer_or_wait(answer))
            }
            // The reader's S(WTX) response: the extension is granted.
            Block::Wtx { .. } => {
                let answer = self.held.take()?;
                Some(self.answer_or_wait(answer))
            }
            // Rule 11: the reader did not get our last block.
            Block::Ack { block_number } | Block::Nak { block_number } if block_number == self.block_number => {
                Some(self.last.clone())
            }
            // Rule 13: chaining continues.
            Block::Ack { .. } if !self.answer.is_empty() => {
                self.block_number ^= 1;
                Some(self.next_piece())
            }
            // Rule 12.
            Block::Nak { .. } => Some(self.send(Block::Ack { block_number: self.block_number })),
            Block::Ack { .. } | Block::Deselect => None,
        }
    }

    /// Sends the answer, or first asks for more time if still told to.
    fn answer_or_wait(&mut self, answer: Vec<u8>) -> Vec<u8> {
        if self.wtx_requests > 0 {
            self.wtx_requests -= 1;
            self.held = Some(answer);
            return self.send(Block::Wtx { inf: 0x01 });
        }
        self.answer = answer;
        self.next_piece()
    }

    /// The next I-block of the answer, chaining if the rest does not fit.
    fn next_piece(&mut self) -> Vec<u8> {
        let max_inf = self.fsd.min(self.ats.fsc()) - 3;
        let n = self.answer.len().min(max_inf);
        let inf: Vec<u8> = self.answer.drain(..n).collect();
        let chaining = !self.answer.is_empty();
        self.send(Block::I { block_number: self.block_number, chaining, inf })
    }

    fn send(&mut self, block: Block) -> Vec<u8> {
        self.last = block.encode();
        self.last.clone()
    }
}
