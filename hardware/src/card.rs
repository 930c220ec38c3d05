//! What the rest of the terminal sees of a card reader: a [`CardReader`] that can be polled for
//! the card in its field and exchange APDUs with it, and [`CardPresence`], which turns polls
//! into presented/removed events.

use core::fmt;

/// The UID of a contactless card: 4, 7 or 10 bytes (ISO/IEC 14443-3 single, double and triple
/// size).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Uid {
    bytes: [u8; 10],
    len: u8,
}

impl Uid {
    /// A UID from its bytes, `None` unless there are 4, 7 or 10 of them.
    pub fn new(bytes: &[u8]) -> Option<Self> {
        if !matches!(bytes.len(), 4 | 7 | 10) {
            return None;
        }
        let mut buf = [0; 10];
        buf[..bytes.len()].copy_from_slice(bytes);
        Some(Uid { bytes: buf, len: bytes.len() as u8 })
    }

    /// Parses hexadecimal (`"04A2249A4B5E80"`, also with `:` or space separators).
    pub fn from_hex(text: &str) -> Option<Self> {
        let digits: Vec<u8> = text
            .bytes()
            .filter(|c| !matches!(c, b':' | b' ' | b'-'))
            .collect();
        if digits.len() % 2 != 0 {
            return None;
        }
        let bytes = digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(core::str::from_utf8(pair).ok()?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        Uid::new(&bytes)
    }

    /// The UID bytes, most significant (first transmitted) first.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Upper-case hexadecimal without separators, e.g. `04A2249A4B5E80`.
impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_bytes().iter().try_for_each(|b| write!(f, "{b:02X}"))
    }
}

impl fmt::Debug for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uid({self})")
    }
}

/// A card found in the reader's field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Card {
    /// Its UID.
    pub uid: Uid,
    /// ATQA (answer to request), as the 16-bit value of ISO/IEC 14443-3; `None` when the
    /// reader does not show it: a PC/SC reader keeps ISO/IEC 14443-3 to itself and shows an
    /// ATR instead ([`Activation::atr`]).
    pub atqa: Option<u16>,
    /// SAK (select acknowledge) of the last cascade level: says which protocols it speaks;
    /// `None` when the reader does not show it (PC/SC, as for `atqa`).
    pub sak: Option<u8>,
}

/// How the card now in the field was activated, as far as the reader shows it: what a
/// technician's report (`terminal-service hw card-report`) prints. None of it is personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activation {
    /// The ATS (TL first, without CRC_A) the card answered RATS with, once the reader has
    /// activated ISO/IEC 14443-4 (after the first exchange with an MFRC522; at the poll with a
    /// PN532, whose firmware sends RATS itself).
    pub ats: Option<Vec<u8>>,
    /// The ATR a PC/SC reader composes for a contactless card (PC/SC part 3, §3.1.3.2.3): for
    /// an ISO/IEC 14443-4 card it carries the ATS's historical bytes (Type A) or ATQB's
    /// application data (Type B), see [`crate::pcsc::ContactlessAtr`].
    pub atr: Option<Vec<u8>>,
}

/// Why a card reader could not answer.
///
/// The chip drivers have their own `Error<E>` generic over the bus error; this is what is left
/// of it behind `dyn CardReader`, for logs, health reports and the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReaderError {
    /// The bus (SPI, I2C) failed.
    #[error("card reader bus error: {0}")]
    Bus(String),
    /// The chip did not finish a command in time: unplugged, unpowered or hung.
    #[error("card reader did not answer in time")]
    Timeout,
    /// Something answered, but it is not the chip that was configured.
    #[error("card reader not recognised: {0}")]
    UnknownChip(String),
    /// More than one card is in the field.
    #[error("more than one card in the reader's field")]
    Collision,
    /// A frame from the chip or the card failed a check (CRC, BCC, parity, framing), or the
    /// card broke the ISO/IEC 14443-4 protocol.
    #[error("garbled answer from the card or reader: {0}")]
    Protocol(&'static str),
    /// No card to talk to: the last poll found none, another card took its place, or it left
    /// the field (stopped answering) during the exchange.
    #[error("no card on the reader")]
    NoCard,
    /// The card does not speak ISO/IEC 14443-4 (SAK bit 6 clear), so it carries no APDU
    /// application: a MIFARE Classic badge, an Ultralight ticket.
    #[error("the card does not support ISO/IEC 14443-4")]
    NotIsoDep,
}

/// A contactless card reader, whatever its chip and bus.
pub trait CardReader: Send {
    /// The chip, for diagnostics (e.g. `"MFRC522 v2.0"`).
    fn describe(&self) -> String;

    /// Looks once for a card in the field: `Ok(None)` when none answers.
    ///
    /// A card left on the reader is found again by every poll.
    fn poll(&mut self) -> Result<Option<Card>, ReaderError>;

    /// Sends one ISO/IEC 7816-4 command APDU to the card that the last `poll` found, over
    /// ISO/IEC 14443-4, and returns the response APDU (data followed by SW1 SW2).
    /// The first exchange after a poll activates ISO-DEP (RATS); a card that does not speak
    /// ISO/IEC 14443-4 (SAK bit 6 clear) gives `ReaderError::NotIsoDep`.
    fn exchange(&mut self, command: &[u8]) -> Result<Vec<u8>, ReaderError>;

    /// How the card the last poll found was activated, for diagnostics; empty by default, for
    /// readers that show nothing beyond the [`Card`].
    fn activation(&self) -> Activation {
        Activation::default()
    }
}

impl<R: CardReader + ?Sized> CardReader for Box<R> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn poll(&mut self) -> Result<Option<Card>, ReaderError> {
        (**self).poll()
    }
    fn exchange(&mut self, command: &[u8]) -> Result<Vec<u8>, ReaderError> {
        (**self).exchange(command)
    }
    fn activation(&self) -> Activation {
        (**self).activation()
    }
}

/// A change of the card in the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardEvent {
    /// A card was put on the reader.
    Presented(Card),
    /// The card with this UID left the field.
    Removed(Uid),
}

/// Turns polls of a [`CardReader`] into [`CardEvent`]s.
///
/// A card at the edge of the field can miss a single poll, and ending a staff session on such a
/// glitch would be wrong, so removal is reported only after `misses_before_removal` consecutive
/// empty polls (2 by default).
pub struct CardPresence<R> {
    reader: R,
    present: Option<Card>,
    misses: u8,
    misses_before_removal: u8,
}

impl<R: CardReader> CardPresence<R> {
    /// Watches `reader`, starting with an empty field.
    pub fn new(reader: R) -> Self {
        CardPresence { reader, present: None, misses: 0, misses_before_removal: 2 }
    }

    /// Sets how many consecutive empty polls mean the card was removed (at least 1).
    pub fn with_misses_before_removal(mut self, misses: u8) -> Self {
        self.misses_before_removal = misses.max(1);
        self
    }

    /// The card currently on the reader, if any.
    pub fn current(&self) -> Option<&Card> {
        self.present.as_ref()
    }

    /// Polls the reader once and reports what changed since the last poll.
    ///
    /// A different card replacing the first one gives `Removed` now and `Presented` on the next
    /// poll, so listeners always see a removal before a new card.
    pub fn poll(&mut self) -> Result<Option<CardEvent>, ReaderError> {
        let found = self.reader.poll()?;
        match (self.present, found) {
            (None, Some(card)) => {
                self.present = Some(card);
                self.misses = 0;
                Ok(Some(CardEvent::Presented(card)))
            }
            (Some(old), Some(card)) if old.uid == card.uid => {
                self.misses = 0;
                Ok(None)
            }
            (Some(old), Some(_)) => {
                self.present = None;
                self.misses = 0;
                Ok(Some(CardEvent::Removed(old.uid)))
            }
            (Some(old), None) => {
                self.misses += 1;
                if self.misses >= self.misses_before_removal {
                    self.present = None;
                    self.misses = 0;
                    Ok(Some(CardEvent::Removed(old.uid)))
                } else {
                    Ok(None)
                }
            }
            (None, None) => Ok(None),
        }
    }

    /// The reader, e.g. to describe it.
    pub fn reader(&mut self) -> &mut R {
        &mut self.reader
    }
}
