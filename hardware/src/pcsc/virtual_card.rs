//! The card side of Debian's virtual PC/SC reader `vsmartcard-vpcd`: a [`VirtualCard`] puts a
//! [`SimulatedCard`] into a vpcd reader, so pcscd, and every PC/SC program on the machine, sees
//! it as a contactless card on a USB reader.
//!
//! vpcd is pcscd's driver for the reader; it listens on a TCP port per reader slot (35963 and
//! 35964 with Debian's `/etc/reader.conf.d/vpcd`), and a card emulator ("vicc") connects to it:
//! a connected emulator is a card in the reader, closing the connection takes it off. Every
//! message either way is a 2-byte big-endian length and the payload. From vpcd, a 1-byte
//! payload is a control code — 0 power off, 1 power on, 2 reset, 4 "send your ATR" — and a
//! longer one a command APDU; the card answers the ATR to 4, a response APDU to an APDU, and
//! nothing to the others.
//!
//! Here the emulator plays both the card and the contactless front-end of a PC/SC reader
//! such as the ACR122U, since that is what vpcd leaves out:
//!
//! - the ATR is the one PC/SC part 3 has a reader compose ([`ContactlessAtr`]): the ATS's
//!   historical bytes for an ISO/IEC 14443-4 card, the storage-card form for a badge;
//! - the pseudo-APDU GET DATA (`FF CA`) is answered with the UID (P1 = 00) or the ATS's
//!   historical bytes (P1 = 01), as such a reader does; other `FF` commands get 6A81;
//! - every other APDU goes to the card's application ([`SimulatedCard::respond_apdu`]).
//!
//! Power on and reset put the card back as it was inserted (a power cycle loses what its RAM
//! held, such as the selected file).
//!
//! ```no_run
//! use hardware::pcsc::virtual_card::VirtualCard;
//! use hardware::{SimulatedCard, Uid};
//!
//! // With pcscd and vsmartcard-vpcd installed: the card appears in "Virtual PCD 00 00".
//! let uid = Uid::from_hex("04A2249A4B5E80").unwrap();
//! let card = SimulatedCard::id_card(uid, "199012344567", Some("19900101"));
//! let mut reader = VirtualCard::new(([127, 0, 0, 1], 35963).into());
//! reader.insert(card).unwrap();
//! // … read it through PC/SC …
//! reader.remove();
//! ```

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::ContactlessAtr;
use crate::field::SimulatedCard;

/// The port of vpcd's first slot in Debian's `/etc/reader.conf.d/vpcd` (0x8C7B); the second
/// slot is the next port.
pub const DEFAULT_PORT: u16 = 35963;

/// vpcd's control codes.
const POWER_OFF: u8 = 0;
const POWER_ON: u8 = 1;
const RESET: u8 = 2;
const GET_ATR: u8 = 4;

/// How long connecting to vpcd may take: it is on this machine, so a refusal is immediate
/// and a longer wait means something else is listening there.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a card stays off the reader before it can be put back: pcscd asks vpcd whether a
/// card is there every 400 ms, and a card back before it asked again is never seen to have
/// left (pcscd then keeps the state of the card it lost). A hand is slower than this anyway.
pub const MIN_ABSENCE: Duration = Duration::from_secs(1);

/// A slot of a vpcd reader, into which a simulated card can be put and taken off again.
#[derive(Debug)]
pub struct VirtualCard {
    address: SocketAddr,
    inserted: Option<Inserted>,
    removed_at: Option<Instant>,
}

#[derive(Debug)]
struct Inserted {
    stream: TcpStream,
    server: JoinHandle<()>,
    card: Arc<Mutex<SimulatedCard>>,
}

impl VirtualCard {
    /// The slot whose vpcd listens at `address` (e.g. `127.0.0.1:35963`); empty.
    pub fn new(address: SocketAddr) -> Self {
        VirtualCard { address, inserted: None, removed_at: None }
    }

    /// Where vpcd listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Puts `card` into the reader (taking off the one there): connects to vpcd and answers it
    /// from a thread until [`remove`](Self::remove). Fails when vpcd does not listen there,
    /// i.e. pcscd is not running with a vpcd reader on that port. A card taken off less than
    /// [`MIN_ABSENCE`] ago is put back only once that has passed.
    pub fn insert(&mut self, card: SimulatedCard) -> io::Result<()> {
        self.remove();
        if let Some(wait) = self.removed_at.and_then(|at| MIN_ABSENCE.checked_sub(at.elapsed())) {
            std::thread::sleep(wait);
        }
        let stream = TcpStream::connect_timeout(&self.address, CONNECT_TIMEOUT).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot connect to vpcd at {} ({e}): is pcscd running with a vsmartcard-vpcd reader on that port (apt install pcscd vsmartcard-vpcd)?",
                    self.address
                ),
            )
        })?;
        stream.set_nodelay(true)?;
        let card = Arc::new(Mutex::new(card));
        let server = {
            let stream = stream.try_clone()?;
            let card = Arc::clone(&card);
            std::thread::Builder::new().name("virtual-card".into()).spawn(move || serve(stream, &card))?
        };
        self.inserted = Some(Inserted { stream, server, card });
        Ok(())
    }

    /// Takes the card off the reader (closes the connection, which vpcd reports to pcscd as
    /// the card's removal). Nothing happens if there is none.
    pub fn remove(&mut self) {
        if let Some(inserted) = self.inserted.take() {
            // Shutting the socket down wakes the server thread from its read, so the join is
            // bounded.
            let _ = inserted.stream.shutdown(Shutdown::Both);
            let _ = inserted.server.join();
            self.removed_at = Some(Instant::now());
        }
    }

    /// Whether a card is in the reader (and vpcd has not closed the connection).
    pub fn is_inserted(&self) -> bool {
        self.inserted.as_ref().is_some_and(|i| !i.server.is_finished())
    }

    /// Runs `f` on the inserted card, e.g. to look at its state; `None` without one.
    pub fn with_card<T>(&self, f: impl FnOnce(&mut SimulatedCard) -> T) -> Option<T> {
        let inserted = self.inserted.as_ref()?;
        let mut card = inserted.card.lock().unwrap_or_else(PoisonError::into_inner);
        Some(f(&mut card))
    }
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The ATR a PC/SC reader composes for this card (PC/SC part 3 §3.1.3.2.3).
pub fn atr_of(card: &SimulatedCard) -> Vec<u8> {
    let kind = match card.ats() {
        Some(ats) => ContactlessAtr::IsoDep { historical: ats.historical.clone() },
        None => ContactlessAtr::StorageCard {
            standard: super::STANDARD_ISO14443A_3,
            card_name: ContactlessAtr::card_name_for_sak(card.card().sak.unwrap_or_default()),
        },
    };
    kind.to_atr()
}

/// What the reader front-end and the card answer to a command APDU.
pub fn respond(card: &mut SimulatedCard, apdu: &[u8]) -> Vec<u8> {
    match apdu {
        // GET DATA, PC/SC part 3 §3.2.2.1.3: P1 00 the UID, 01 the historical bytes.
        [0xFF, 0xCA, p1 @ (0x00 | 0x01), 0x00, rest @ ..] if rest.len() <= 1 => {
            let data = if *p1 == 0 {
                card.card().uid.as_bytes().to_vec()
            } else {
                match card.ats() {
                    Some(ats) => ats.historical.clone(),
                    None => return vec![0x6A, 0x81],
                }
            };
            let le = rest.first().copied().unwrap_or(0);
            if le != 0 && usize::from(le) < data.len() {
                // Wrong length: SW2 says how many bytes there are.
                return vec![0x6C, data.len() as u8];
            }
            let mut answer = data;
            answer.extend_from_slice(&[0x90, 0x00]);
            answer
        }
        // The reader's other pseudo-APDUs (load keys, MIFARE authentication…): not offered.
        [0xFF, ..] => vec![0x6A, 0x81],
        // A badge without ISO/IEC 14443-4 takes no APDU: the reader says it cannot.
        _ => card.respond_apdu(apdu).unwrap_or_else(|| vec![0x6A, 0x81]),
    }
}

/// Answers vpcd until it or [`VirtualCard::remove`] closes the connection.
fn serve(mut stream: TcpStream, card: &Mutex<SimulatedCard>) {
    let fresh = card.lock().unwrap_or_else(PoisonError::into_inner).clone();
    // Each round reads one message or ends: bounded by the connection's life.
    while let Ok(message) = read_message(&mut stream) {
        let answer = {
            let mut card = card.lock().unwrap_or_else(PoisonError::into_inner);
            match message.as_slice() {
                [GET_ATR] => Some(atr_of(&card)),
                [POWER_ON | RESET] => {
                    *card = fresh.clone();
                    None
                }
                [POWER_OFF] | [_] => None,
                apdu => Some(respond(&mut card, apdu)),
            }
        };
        if let Some(answer) = answer {
            if write_message(&mut stream, &answer).is_err() {
                break;
            }
        }
    }
}

fn read_message(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut length = [0; 2];
    stream.read_exact(&mut length)?;
    let mut message = vec![0; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut message)?;
    Ok(message)
}

fn write_message(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let length = u16::try_from(payload.len()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "answer longer than 65535 bytes"))?;
    let mut message = length.to_be_bytes().to_vec();
    message.extend_from_slice(payload);
    stream.write_all(&message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Uid;

    #[test]
    fn the_reader_front_end_answers_get_data_and_passes_the_rest_on() {
        let uid = Uid::from_hex("04A2249A4B5E80").unwrap();
        let mut card = SimulatedCard::id_card(uid, "199012344567", None);
        assert_eq!(respond(&mut card, &[0xFF, 0xCA, 0x00, 0x00, 0x00]), [0x04, 0xA2, 0x24, 0x9A, 0x4B, 0x5E, 0x80, 0x90, 0x00]);
        assert_eq!(respond(&mut card, &[0xFF, 0xCA, 0x00, 0x00, 0x04]), [0x6C, 0x07]);
        assert_eq!(respond(&mut card, &[0xFF, 0x82, 0x00, 0x00, 0x06, 1, 2, 3, 4, 5, 6]), [0x6A, 0x81]);
        let select = [0x00, 0xA4, 0x04, 0x0C, 0x06, 0xF0, 0x53, 0x50, 0x49, 0x44, 0x01];
        assert_eq!(respond(&mut card, &select), [0x90, 0x00]);
        let atr = atr_of(&card);
        assert_eq!(ContactlessAtr::parse(&atr), ContactlessAtr::IsoDep { historical: card.ats().unwrap().historical.clone() });

        let mut badge = SimulatedCard::new(Uid::from_hex("DEADBEEF").unwrap());
        assert_eq!(ContactlessAtr::parse(&atr_of(&badge)), ContactlessAtr::StorageCard { standard: 0x03, card_name: 0x0001 });
        assert_eq!(respond(&mut badge, &select), [0x6A, 0x81]);
        assert_eq!(respond(&mut badge, &[0xFF, 0xCA, 0x00, 0x00, 0x00]), [0xDE, 0xAD, 0xBE, 0xEF, 0x90, 0x00]);
    }
}
