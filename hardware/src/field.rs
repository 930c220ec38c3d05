//! A simulated RF field with ISO/IEC 14443-3 Type A cards in it: what the simulated readers
//! "see". Tests and the demo put cards on the reader and take them off through a shared
//! [`SimulatedField`] handle while the real driver code polls.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::card::{Card, Uid};
use crate::iso14443::{self, CASCADE_TAG, NVB_ANTICOLLISION, NVB_SELECT, SAK_CASCADE, SEL_CL};

/// A card that can be put into a [`SimulatedField`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedCard {
    uid: Uid,
    atqa: u16,
    sak: u8,
    state: CardState,
    woken_from_halt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CardState {
    Idle,
    /// Answered REQA/WUPA; taking part in anticollision at this cascade level (0-based).
    Ready(usize),
    /// Selected.
    Active,
    Halt,
}

impl SimulatedCard {
    /// A card with this UID. Its ATQA encodes the UID size (ISO/IEC 14443-3 §6.4.2); its SAK
    /// is that of a MIFARE Classic 1K badge for 4-byte UIDs and of an ISO/IEC 14443-4 card
    /// (an ID card) otherwise.
    pub fn new(uid: Uid) -> Self {
        let size_bits: u16 = match uid.as_bytes().len() {
            4 => 0b00,
            7 => 0b01,
            _ => 0b10,
        };
        let sak = if uid.as_bytes().len() == 4 { 0x08 } else { 0x20 };
        SimulatedCard { uid, atqa: 0x0004 | (size_bits << 6), sak, state: CardState::Idle, woken_from_halt: false }
    }

    /// Overrides the SAK of the last cascade level.
    pub fn with_sak(mut self, sak: u8) -> Self {
        self.sak = sak;
        self
    }

    /// The card as a reader reports it.
    pub fn card(&self) -> Card {
        Card { uid: self.uid, atqa: self.atqa, sak: self.sak }
    }

    fn levels(&self) -> usize {
        match self.uid.as_bytes().len() {
            4 => 1,
            7 => 2,
            _ => 3,
        }
    }

    /// The four UID bytes sent at cascade level `level`, cascade tag included.
    fn uid_part(&self, level: usize) -> [u8; 4] {
        let uid = self.uid.as_bytes();
        let last = level + 1 == self.levels();
        let start = level * 3;
        if last {
            [uid[start], uid[start + 1], uid[start + 2], uid[start + 3]]
        } else {
            [CASCADE_TAG, uid[start], uid[start + 1], uid[start + 2]]
        }
    }

    /// ISO/IEC 14443-3 §6.3: an unexpected frame sends the card back to IDLE, or to HALT when
    /// it had been woken from HALT.
    fn reset_after_error(&mut self) {
        self.state = if self.woken_from_halt { CardState::Halt } else { CardState::Idle };
    }

    /// The card's answer to a frame of `bytes` whose last byte has `last_bits` valid bits
    /// (0 = all 8); `None` when the card stays silent.
    fn answer(&mut self, bytes: &[u8], last_bits: u8) -> Option<Vec<u8>> {
        if last_bits == 7 && bytes.len() == 1 {
            let wakes = match bytes[0] {
                iso14443::REQA => self.state == CardState::Idle,
                iso14443::WUPA => matches!(self.state, CardState::Idle | CardState::Halt),
                _ => false,
            };
            if wakes {
                self.woken_from_halt = self.state == CardState::Halt;
                self.state = CardState::Ready(0);
                return Some(self.atqa.to_le_bytes().to_vec());
            }
            if !matches!(self.state, CardState::Idle | CardState::Halt) {
                self.reset_after_error();
            }
            return None;
        }
        match self.state {
            CardState::Ready(level) if bytes.len() == 2 && bytes == [SEL_CL[level], NVB_ANTICOLLISION] => {
                let part = self.uid_part(level);
                let mut answer = part.to_vec();
                answer.push(iso14443::bcc(&part));
                Some(answer)
            }
            CardState::Ready(level)
                if bytes.len() == 9
                    && bytes[0] == SEL_CL[level]
                    && bytes[1] == NVB_SELECT
                    && iso14443::crc_a_ok(bytes) =>
            {
                let part = self.uid_part(level);
                if bytes[2..6] != part || bytes[6] != iso14443::bcc(&part) {
                    // Another card's UID is being selected: this one drops out.
                    self.reset_after_error();
                    return None;
                }
                let sak = if level + 1 == self.levels() {
                    self.state = CardState::Active;
                    self.sak & !SAK_CASCADE
                } else {
                    self.state = CardState::Ready(level + 1);
                    SAK_CASCADE
                };
                Some(iso14443::with_crc_a(&[sak]))
            }
            CardState::Active if bytes == iso14443::hlta_frame().as_slice() => {
                self.state = CardState::Halt;
                None
            }
            CardState::Idle | CardState::Halt => None,
            _ => {
                self.reset_after_error();
                None
            }
        }
    }
}

/// What the reader's receiver gets back after sending a frame into the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// No card answered.
    Silent,
    /// One answer (or several identical ones).
    Frame(Vec<u8>),
    /// Cards answered with different bits: a collision. Carries the bitwise OR the receiver
    /// would see, as a real receiver keeps bits after the collision.
    Collision(Vec<u8>),
}

/// The field in front of a simulated reader. Cheap to clone: clones share the same cards.
#[derive(Debug, Clone, Default)]
pub struct SimulatedField {
    cards: Arc<Mutex<Vec<SimulatedCard>>>,
}

impl SimulatedField {
    /// An empty field.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<SimulatedCard>> {
        // A panic elsewhere while holding the lock leaves the card list consistent (every
        // update is a single push/retain), so a poisoned lock is still usable.
        self.cards.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts a card on the reader (it arrives in the IDLE state, as when it enters the field).
    pub fn present(&self, card: SimulatedCard) {
        let mut cards = self.lock();
        cards.retain(|c| c.uid != card.uid);
        cards.push(SimulatedCard { state: CardState::Idle, woken_from_halt: false, ..card });
    }

    /// Takes the card with this UID off the reader; whether it was there.
    pub fn remove(&self, uid: &Uid) -> bool {
        let mut cards = self.lock();
        let before = cards.len();
        cards.retain(|c| &c.uid != uid);
        cards.len() != before
    }

    /// Takes every card off the reader.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The cards in the field.
    pub fn cards(&self) -> Vec<Card> {
        self.lock().iter().map(SimulatedCard::card).collect()
    }

    /// Sends a frame into the field and collects what the cards answer.
    pub fn exchange(&self, bytes: &[u8], last_bits: u8) -> Answer {
        let mut cards = self.lock();
        let answers: Vec<Vec<u8>> = cards.iter_mut().filter_map(|c| c.answer(bytes, last_bits)).collect();
        match answers.split_first() {
            None => Answer::Silent,
            Some((first, rest)) if rest.iter().all(|a| a == first) => Answer::Frame(first.clone()),
            Some((first, rest)) => {
                let mut merged = first.clone();
                for answer in rest {
                    for (m, b) in merged.iter_mut().zip(answer) {
                        *m |= b;
                    }
                }
                Answer::Collision(merged)
            }
        }
    }
}
