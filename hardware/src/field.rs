//! A simulated RF field with ISO/IEC 14443-3 Type A cards in it: what the simulated readers
//! "see". Tests and the demo put cards on the reader and take them off through a shared
//! [`SimulatedField`] handle while the real driver code polls.
//!
//! A card can also speak ISO/IEC 14443-4 (answer RATS, then blocks: `picc`) and hold
//! applications with files that answer SELECT and READ BINARY (`applet`), such as an ID card
//! with the beneficiary ID profile ([`SimulatedCard::id_card`]), or another
//! [`CardApplication`] such as the simulated eMRTD chip of a national ID card ([`EmrtdChip`],
//! [`SimulatedCard::emrtd`]).

mod applet;
mod emrtd;
mod picc;

use core::fmt;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::card::{Card, Uid};
use crate::iso14443::{self, CASCADE_TAG, NVB_ANTICOLLISION, NVB_SELECT, SAK_CASCADE, SEL_CL};
use crate::iso_dep::{self, Ats, Block, SAK_ISO_DEP};
use applet::Applet;
pub use emrtd::{EmrtdApplicant, EmrtdChip};
use picc::Picc;

/// The APDU side of a simulated ISO/IEC 14443-4 card: answers command APDUs once ISO-DEP is
/// up. The file applet of [`SimulatedCard::with_application`] is one; [`EmrtdChip`] another;
/// other crates may add their own (e.g. to drive a virtual PC/SC reader).
pub trait CardApplication: Send + fmt::Debug {
    /// The response APDU (data then SW1 SW2) to a command APDU.
    fn respond(&mut self, command_apdu: &[u8]) -> Vec<u8>;
    /// The card was (re)activated: forget selections and sessions, as a real chip does when it
    /// loses power.
    fn reset(&mut self);
    /// A copy, so [`SimulatedCard`] stays `Clone`.
    fn clone_box(&self) -> Box<dyn CardApplication>;
}

impl Clone for Box<dyn CardApplication> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// What answers a card's APDUs.
#[derive(Debug, Clone)]
pub(crate) enum Application {
    /// Applications of transparent files ([`SimulatedCard::with_application`]).
    Files(Applet),
    /// Anything else.
    Other(Box<dyn CardApplication>),
}

impl Application {
    pub(crate) fn respond(&mut self, apdu: &[u8]) -> Vec<u8> {
        match self {
            Application::Files(applet) => applet.process(apdu),
            Application::Other(app) => app.respond(apdu),
        }
    }

    pub(crate) fn reset(&mut self) {
        match self {
            Application::Files(applet) => applet.reset(),
            Application::Other(app) => app.reset(),
        }
    }
}

/// A card that can be put into a [`SimulatedField`].
#[derive(Debug, Clone)]
pub struct SimulatedCard {
    uid: Uid,
    atqa: u16,
    sak: u8,
    state: CardState,
    woken_from_halt: bool,
    /// The ISO/IEC 14443-4 side, for cards that speak it.
    iso_dep: Option<Picc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CardState {
    Idle,
    /// Answered REQA/WUPA; taking part in anticollision at this cascade level (0-based).
    Ready(usize),
    /// Selected.
    Active,
    Halt,
    /// Activated with RATS: only ISO/IEC 14443-4 blocks are answered (§5.4 of part 4).
    Protocol,
}

impl SimulatedCard {
    /// A card with this UID that does not speak ISO/IEC 14443-4: a staff badge. Its ATQA
    /// encodes the UID size (ISO/IEC 14443-3 §6.4.2); its SAK is that of a MIFARE Classic 1K
    /// for 4-byte UIDs (0x08) and of a MIFARE Ultralight otherwise (0x00).
    pub fn new(uid: Uid) -> Self {
        let size_bits: u16 = match uid.as_bytes().len() {
            4 => 0b00,
            7 => 0b01,
            _ => 0b10,
        };
        let sak = if uid.as_bytes().len() == 4 { 0x08 } else { 0x00 };
        SimulatedCard {
            uid,
            atqa: 0x0004 | (size_bits << 6),
            sak,
            state: CardState::Idle,
            woken_from_halt: false,
            iso_dep: None,
        }
    }

    /// An ISO/IEC 14443-4 card (SAK 0x20) with no application: it answers RATS with an ATS
    /// (64-byte frames, FWI 7) and every SELECT with 6A82, like a bank or transit card
    /// without the beneficiary ID application.
    pub fn iso_dep(uid: Uid) -> Self {
        let ats = Ats { fsci: 5, fwi: 7, ..Ats::default() };
        SimulatedCard { sak: SAK_ISO_DEP, iso_dep: Some(Picc::new(ats, Application::Files(Applet::default()))), ..Self::new(uid) }
    }

    /// An ID card with the beneficiary ID profile ([`crate::id_card`]): the application
    /// `F0 53 50 49 44 01` with EF `01 01` holding `national_id` and, if given, the date of
    /// birth (`YYYYMMDD`). The strings are stored as given, so tests can make malformed cards.
    pub fn id_card(uid: Uid, national_id: &str, date_of_birth: Option<&str>) -> Self {
        let ef = crate::id_card::encode_ef(national_id, date_of_birth);
        Self::iso_dep(uid).with_application(&crate::id_card::APPLICATION_ID, &[(crate::id_card::EF_ID, ef)])
    }

    /// Adds an application (selected by `aid`) holding transparent files, each with its file
    /// identifier and contents. Makes the card an ISO/IEC 14443-4 card if it was not one.
    pub fn with_application(self, aid: &[u8], files: &[([u8; 2], Vec<u8>)]) -> Self {
        let mut card = if self.iso_dep.is_some() { self } else { Self::iso_dep(self.uid) };
        if let Some(Picc { application: Application::Files(applet), .. }) = card.iso_dep.as_mut() {
            applet.add_application(aid, files);
        }
        card
    }

    /// An ISO/IEC 14443-4 card whose APDUs `application` answers (ATS as [`iso_dep`](Self::iso_dep)).
    pub fn with_card_application(uid: Uid, application: impl CardApplication + 'static) -> Self {
        let mut card = Self::iso_dep(uid);
        if let Some(picc) = card.iso_dep.as_mut() {
            picc.application = Application::Other(Box::new(application));
        }
        card
    }

    /// A national ID card (or passport) chip: ICAO 9303 eMRTD with BAC and/or PACE, secure
    /// messaging and the LDS files of [`EmrtdChip`]. ATS with 256-byte frames (FSCI 8), as
    /// eMRTD chips have.
    pub fn emrtd(uid: Uid, chip: EmrtdChip) -> Self {
        Self::with_card_application(uid, chip).with_ats(Ats { fsci: 8, fwi: 8, ..Ats::default() })
    }

    /// Lets the card's application answer a command APDU directly, outside the RF field (for a
    /// virtual PC/SC reader driven by the same simulated card); `None` for a card that does not
    /// speak ISO/IEC 14443-4.
    pub fn respond_apdu(&mut self, apdu: &[u8]) -> Option<Vec<u8>> {
        self.iso_dep.as_mut().map(|picc| picc.application.respond(apdu))
    }

    /// Resets the card's application as a new activation would (a virtual reader's power-up).
    pub fn reset_application(&mut self) {
        if let Some(picc) = self.iso_dep.as_mut() {
            picc.application.reset();
        }
    }

    /// Replaces the ATS the card sends: e.g. FSCI 0 makes it accept and send frames of 16
    /// bytes only, so APDUs are chained both ways. Ignored by a card that does not speak
    /// ISO/IEC 14443-4.
    pub fn with_ats(mut self, ats: Ats) -> Self {
        if let Some(picc) = self.iso_dep.as_mut() {
            picc.ats = ats;
        }
        self
    }

    /// Makes the card ask for a waiting time extension (S(WTX), WTXM 1) before each of its
    /// next `count` answers; `u32::MAX` makes it ask forever.
    pub fn with_wtx_requests(mut self, count: u32) -> Self {
        if let Some(picc) = self.iso_dep.as_mut() {
            picc.wtx_requests = count;
        }
        self
    }

    /// Protects the card's files: READ BINARY answers 6982 (security status not satisfied),
    /// as a card whose files need authentication first.
    pub fn locked(mut self) -> Self {
        if let Some(Picc { application: Application::Files(applet), .. }) = self.iso_dep.as_mut() {
            applet.locked = true;
        }
        self
    }

    /// Overrides the SAK of the last cascade level.
    pub fn with_sak(mut self, sak: u8) -> Self {
        self.sak = sak;
        self
    }

    /// The ATS the card answers RATS with; `None` for a card that does not speak
    /// ISO/IEC 14443-4.
    pub fn ats(&self) -> Option<&Ats> {
        self.iso_dep.as_ref().map(|picc| &picc.ats)
    }

    /// The card as a reader reports it.
    pub fn card(&self) -> Card {
        Card { uid: self.uid, atqa: Some(self.atqa), sak: Some(self.sak) }
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
            if !matches!(self.state, CardState::Idle | CardState::Halt | CardState::Protocol) {
                self.reset_after_error();
            }
            return None;
        }
        match self.state {
            CardState::Active
                if bytes.len() == 4 && bytes[0] == iso_dep::RATS && iso14443::crc_a_ok(bytes) && self.iso_dep.is_some() =>
            {
                let ats = self.iso_dep.as_mut()?.activate(bytes[1] >> 4);
                self.state = CardState::Protocol;
                Some(iso14443::with_crc_a(&ats))
            }
            CardState::Protocol => match Block::parse(bytes)? {
                Block::Deselect => {
                    self.state = CardState::Halt;
                    Some(iso_dep::deselect_frame())
                }
                block => self.iso_dep.as_mut()?.receive(block),
            },
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

/// One frame sent into the field and what came back, as recorded by
/// [`SimulatedField::record`].
pub type Exchange = (Vec<u8>, Answer);

/// The field in front of a simulated reader. Cheap to clone: clones share the same cards.
#[derive(Debug, Clone, Default)]
pub struct SimulatedField {
    inner: Arc<Mutex<FieldState>>,
}

#[derive(Debug, Default)]
struct FieldState {
    cards: Vec<SimulatedCard>,
    /// Frames and answers, while recording.
    transcript: Option<Vec<Exchange>>,
}

impl SimulatedField {
    /// An empty field.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, FieldState> {
        // A panic elsewhere while holding the lock leaves the card list consistent (every
        // update is a single push/retain), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts recording every frame sent into the field and its answer, forgetting what was
    /// recorded before. Off by default, so a demo running for days does not grow.
    pub fn record(&self) {
        self.lock().transcript = Some(Vec::new());
    }

    /// What was recorded since [`record`](Self::record), oldest first.
    pub fn transcript(&self) -> Vec<Exchange> {
        self.lock().transcript.clone().unwrap_or_default()
    }

    /// What a reader IC's firmware does to list one target (the PN532's InListPassiveTarget):
    /// wakes the first card in the field and runs it through anticollision and SELECT, so it
    /// is ACTIVE. The others drop out as they would on seeing another card's UID selected.
    pub(crate) fn select_first(&self) -> Option<Card> {
        let mut state = self.lock();
        let card = state.cards.first_mut()?;
        card.woken_from_halt = card.state == CardState::Halt;
        card.state = CardState::Active;
        Some(card.card())
    }

    /// Puts a card on the reader (it arrives in the IDLE state, as when it enters the field).
    pub fn present(&self, card: SimulatedCard) {
        let cards = &mut self.lock().cards;
        cards.retain(|c| c.uid != card.uid);
        cards.push(SimulatedCard { state: CardState::Idle, woken_from_halt: false, ..card });
    }

    /// Takes the card with this UID off the reader; whether it was there.
    pub fn remove(&self, uid: &Uid) -> bool {
        let cards = &mut self.lock().cards;
        let before = cards.len();
        cards.retain(|c| &c.uid != uid);
        cards.len() != before
    }

    /// Takes every card off the reader.
    pub fn clear(&self) {
        self.lock().cards.clear();
    }

    /// The cards in the field.
    pub fn cards(&self) -> Vec<Card> {
        self.lock().cards.iter().map(SimulatedCard::card).collect()
    }

    /// Sends a frame into the field and collects what the cards answer.
    pub fn exchange(&self, bytes: &[u8], last_bits: u8) -> Answer {
        let mut state = self.lock();
        let answers: Vec<Vec<u8>> = state.cards.iter_mut().filter_map(|c| c.answer(bytes, last_bits)).collect();
        let answer = Self::merge(answers);
        if let Some(transcript) = state.transcript.as_mut() {
            transcript.push((bytes.to_vec(), answer.clone()));
        }
        answer
    }

    /// What the receiver makes of the cards' answers.
    fn merge(answers: Vec<Vec<u8>>) -> Answer {
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
