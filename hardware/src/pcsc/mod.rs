//! USB desk readers (ACR122U-style) through PC/SC: a [`PcscReader`] is a [`CardReader`] over
//! `pcscd`, for a staff desk whose reader sits on a USB port rather than on the Pi's pins.
//!
//! PC/SC puts the reader's own firmware between the terminal and the card: the reader runs
//! ISO/IEC 14443-3 and -4 (anticollision, RATS, chaining, waiting time extensions) and shows
//! the host a card with an ATR, to which it sends APDUs (`SCardTransmit`). So:
//!
//! - [`CardReader::poll`] asks whether a card is in the configured reader (connecting to it,
//!   exclusively: see [`PcscReader`]), and reads its UID with the PC/SC 2.01 part 3
//!   pseudo-APDU GET DATA (`FF CA 00 00 00`), which the reader answers itself;
//! - ATQA and SAK stay inside the reader: [`Card::atqa`] and [`Card::sak`] are `None`, and
//!   the ATR ([`CardReader::activation`]) says instead what the card is, in the form PC/SC
//!   part 3 §3.1.3.2.3 gives contactless cards ([`ContactlessAtr`]): a storage card
//!   (MIFARE Classic, Ultralight) by name, or an ISO/IEC 14443-4 card with its ATS's
//!   historical bytes;
//! - [`CardReader::exchange`] is `SCardTransmit`; a card taken off the reader gives
//!   [`ReaderError::NoCard`], a storage card [`ReaderError::NotIsoDep`], as with the
//!   MFRC522 and PN532 drivers.
//!
//! Selected with `[hardware.reader] chip = "pcsc"` (with any backend: pcscd runs on every
//! Linux), optionally `pcsc_reader = "ACR122"` to pick the reader whose name contains it.
//!
//! [`virtual_card`] is the card side for tests and the demo: a simulated card behind Debian's
//! virtual reader `vsmartcard-vpcd`; [`daemon`] starts a private `pcscd` for tests.

pub mod daemon;
pub mod virtual_card;

use std::ffi::CString;

use crate::card::{Activation, Card, CardReader, ReaderError, Uid};

/// The PC/SC 2.01 part 3 pseudo-APDU GET DATA for the card's UID (Type A) or PUPI (Type B),
/// which the reader answers itself.
pub const GET_UID: [u8; 5] = [0xFF, 0xCA, 0x00, 0x00, 0x00];

/// Bytes of every contactless ATR of PC/SC part 3 before the historical bytes: TS (direct
/// convention), then T0 (`0x80` ored with the number of historical bytes), TD1 (T=0, TD2
/// follows) and TD2 (T=1).
const ATR_PREFIX: [u8; 4] = [0x3B, 0x80, 0x80, 0x01];
/// The historical bytes of a storage card's ATR before its standard and card name: category
/// indicator `80`, application identifier presence indicator `4F`, length `0C`, and the PC/SC
/// workgroup's RID `A0 00 00 03 06`.
const STORAGE_CARD_PREFIX: [u8; 8] = [0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06];
/// PC/SC part 3's "standard" byte for ISO/IEC 14443 Type A part 3 storage cards.
pub const STANDARD_ISO14443A_3: u8 = 0x03;

/// What a PC/SC reader's ATR says of a contactless card (PC/SC part 3 v2.01, §3.1.3.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactlessAtr {
    /// A memory card without ISO/IEC 14443-4 (MIFARE Classic, Ultralight): no APDUs.
    StorageCard {
        /// The standard it follows (`0x03`: ISO/IEC 14443 A part 3).
        standard: u8,
        /// PC/SC part 3's card name: `0x0001` MIFARE Classic 1K, `0x0002` 4K, `0x0003`
        /// Ultralight, `0x0026` MIFARE Mini.
        card_name: u16,
    },
    /// An ISO/IEC 14443-4 card, with its historical bytes: a Type A card's ATS historical
    /// bytes, or a Type B card's ATQB application data, protocol info and MBLI.
    IsoDep {
        /// The historical bytes (at most 15).
        historical: Vec<u8>,
    },
    /// Not a contactless ATR of PC/SC part 3: a contact card in a dual reader, or a reader
    /// that makes up its own. Such a card is sent APDUs all the same.
    Other,
}

impl ContactlessAtr {
    /// Reads an ATR.
    pub fn parse(atr: &[u8]) -> ContactlessAtr {
        let Some((&[ts, t0, td1, td2], rest)) = atr.split_first_chunk::<4>() else { return ContactlessAtr::Other };
        let count = usize::from(t0 & 0x0F);
        let well_formed = [ts, t0 & 0xF0, td1, td2] == ATR_PREFIX
            && rest.len() == count + 1
            && atr[1..].iter().fold(0, |x, b| x ^ b) == 0;
        if !well_formed {
            return ContactlessAtr::Other;
        }
        let historical = &rest[..count];
        match historical.strip_prefix(&STORAGE_CARD_PREFIX[..]) {
            Some([standard, name_hi, name_lo, 0, 0, 0, 0]) => {
                ContactlessAtr::StorageCard { standard: *standard, card_name: u16::from_be_bytes([*name_hi, *name_lo]) }
            }
            _ => ContactlessAtr::IsoDep { historical: historical.to_vec() },
        }
    }

    /// The ATR of this card as a PC/SC reader composes it (historical bytes past 15 are cut:
    /// T0 has four bits for their number).
    pub fn to_atr(&self) -> Vec<u8> {
        let historical: Vec<u8> = match self {
            ContactlessAtr::StorageCard { standard, card_name } => {
                let mut h = STORAGE_CARD_PREFIX.to_vec();
                h.push(*standard);
                h.extend_from_slice(&card_name.to_be_bytes());
                h.extend_from_slice(&[0; 4]);
                h
            }
            ContactlessAtr::IsoDep { historical } => historical.iter().copied().take(15).collect(),
            // Nothing to compose: the shortest ATR of part 3's form.
            ContactlessAtr::Other => Vec::new(),
        };
        let mut atr = ATR_PREFIX.to_vec();
        atr[1] |= historical.len() as u8;
        atr.extend_from_slice(&historical);
        let tck = atr[1..].iter().fold(0, |x, b| x ^ b);
        atr.push(tck);
        atr
    }

    /// Whether the card takes APDUs (everything but a storage card).
    pub fn takes_apdus(&self) -> bool {
        !matches!(self, ContactlessAtr::StorageCard { .. })
    }

    /// PC/SC part 3's card name for a Type A storage card with this SAK: `0x0001` MIFARE
    /// Classic 1K (SAK 08), `0x0002` 4K (18), `0x0003` Ultralight (00), `0x0026` Mini (09);
    /// `0x0000` otherwise.
    pub fn card_name_for_sak(sak: u8) -> u16 {
        match sak {
            0x08 => 0x0001,
            0x18 => 0x0002,
            0x00 => 0x0003,
            0x09 => 0x0026,
            _ => 0x0000,
        }
    }
}

/// What the technician is told when pcscd does not answer.
pub const NO_SERVICE: &str =
    "pcscd is not running: install and start it (apt install pcscd; systemctl enable --now pcscd.socket)";

/// Why a PC/SC reader could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PcscError {
    /// pcscd does not answer on its socket.
    #[error("{NO_SERVICE}")]
    NoService,
    /// pcscd knows no reader at all.
    #[error("pcscd sees no card reader: plug the USB reader in (pcsc_scan, from pcsc-tools, lists what pcscd sees)")]
    NoReader,
    /// No reader's name contains the configured text.
    #[error("no PC/SC reader's name contains {filter:?} (hardware.reader.pcsc_reader); pcscd sees {}: set pcsc_reader to part of one of them, or remove it to use the first", list(.readers))]
    NoMatchingReader {
        /// `hardware.reader.pcsc_reader`.
        filter: String,
        /// The readers pcscd sees.
        readers: Vec<String>,
    },
    /// Any other PC/SC failure.
    #[error("PC/SC failed: {0}")]
    Other(String),
}

fn list(readers: &[String]) -> String {
    readers.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>().join(", ")
}

/// The names of the readers pcscd sees.
pub fn list_readers() -> Result<Vec<String>, PcscError> {
    let context = establish()?;
    reader_names(&context)
}

fn establish() -> Result<pcsc::Context, PcscError> {
    pcsc::Context::establish(pcsc::Scope::User).map_err(|e| match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => PcscError::NoService,
        e => PcscError::Other(e.to_string()),
    })
}

fn reader_names(context: &pcsc::Context) -> Result<Vec<String>, PcscError> {
    match context.list_readers_owned() {
        Ok(names) => Ok(names.iter().map(|n| n.to_string_lossy().into_owned()).collect()),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(pcsc::Error::NoService | pcsc::Error::ServiceStopped) => Err(PcscError::NoService),
        Err(e) => Err(PcscError::Other(e.to_string())),
    }
}

/// The first reader whose name contains `filter` (any reader without one).
fn choose_reader(context: &pcsc::Context, filter: Option<&str>) -> Result<CString, PcscError> {
    let names = reader_names(context)?;
    if names.is_empty() {
        return Err(PcscError::NoReader);
    }
    let chosen = match filter {
        None => names.first(),
        Some(filter) => names.iter().find(|name| name.contains(filter)),
    };
    match chosen {
        Some(name) => CString::new(name.as_str()).map_err(|_| PcscError::Other(format!("reader name {name:?} holds a NUL byte"))),
        None => Err(PcscError::NoMatchingReader { filter: filter.unwrap_or_default().to_string(), readers: names }),
    }
}

/// A card reader behind pcscd.
///
/// It connects to the card exclusively: on a staff desk's PC other programs (a browser's
/// smart-card module, OpenSC) probe every card that appears, and an APDU of theirs between
/// two of ours would break a secure-messaging session. The connection is kept while the card
/// stays, so polling does not reset the card; it is reset when the card is left
/// (`SCardDisconnect` with `SCARD_RESET_CARD`, as pcsc's `Card` does on drop).
///
/// pcscd stopping, or the reader being unplugged, is an error of that poll; the next poll
/// connects afresh, so the reader comes back when pcscd or the reader does.
pub struct PcscReader {
    filter: Option<String>,
    context: Option<pcsc::Context>,
    reader: Option<CString>,
    connection: Option<Connection>,
}

struct Connection {
    handle: pcsc::Card,
    card: Card,
    atr: Vec<u8>,
    kind: ContactlessAtr,
}

impl core::fmt::Debug for PcscReader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PcscReader").field("reader", &self.reader).field("card_present", &self.connection.is_some()).finish()
    }
}

impl PcscReader {
    /// Connects to pcscd and picks the first reader whose name contains `filter` (the first
    /// reader without one).
    pub fn open(filter: Option<&str>) -> Result<PcscReader, PcscError> {
        let context = establish()?;
        let reader = choose_reader(&context, filter)?;
        Ok(PcscReader { filter: filter.map(str::to_string), context: Some(context), reader: Some(reader), connection: None })
    }

    /// The reader's name as pcscd gives it.
    pub fn reader_name(&self) -> Option<String> {
        self.reader.as_deref().map(|n| n.to_string_lossy().into_owned())
    }

    /// The ATR of the card the last poll found.
    pub fn atr(&self) -> Option<&[u8]> {
        self.connection.as_ref().map(|c| c.atr.as_slice())
    }

    /// The context and reader name, establishing and choosing them again after a failure.
    fn reader(&mut self) -> Result<(&pcsc::Context, CString), ReaderError> {
        if self.context.is_none() {
            self.context = Some(establish().map_err(open_failure)?);
        }
        let context = self.context.as_ref().ok_or(ReaderError::Bus(NO_SERVICE.into()))?;
        if self.reader.is_none() {
            self.reader = Some(choose_reader(context, self.filter.as_deref()).map_err(open_failure)?);
        }
        let name = self.reader.clone().ok_or(ReaderError::Bus("no PC/SC reader chosen".into()))?;
        Ok((context, name))
    }

    /// Turns a PC/SC error into a reader error, forgetting what it made stale.
    fn failure(&mut self, e: pcsc::Error) -> ReaderError {
        match e {
            pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::InvalidHandle | pcsc::Error::CommError => {
                self.connection = None;
                self.reader = None;
                self.context = None;
                ReaderError::Bus(format!("pcscd stopped answering ({e}): start it again (systemctl start pcscd.socket)"))
            }
            pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable | pcsc::Error::NoReadersAvailable => {
                let name = self.reader_name().unwrap_or_default();
                self.connection = None;
                self.reader = None;
                ReaderError::Bus(format!("the PC/SC reader {name:?} is gone: plug it in again"))
            }
            pcsc::Error::SharingViolation => ReaderError::Bus(
                "another program holds the card on the PC/SC reader (a browser's smart-card module, pcsc_scan, OpenSC): close it".into(),
            ),
            pcsc::Error::Timeout => ReaderError::Timeout,
            e => ReaderError::Bus(format!("PC/SC: {e}")),
        }
    }

    /// Connects to the card in the reader, if there is one.
    fn connect(&mut self) -> Result<Option<Connection>, ReaderError> {
        let (context, name) = self.reader()?;
        let handle = match context.connect(&name, pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY) {
            Ok(handle) => handle,
            // No card, or one that does not answer (at the edge of the field): nothing there yet.
            Err(e) if card_gone(e) || e == pcsc::Error::UnresponsiveCard => return Ok(None),
            Err(e) => return Err(self.failure(e)),
        };
        // The status carries the ATR with every driver (the ATR attribute is the driver's
        // business, and vpcd does not answer it).
        let atr = match handle.status2_owned() {
            Ok(status) => status.atr().to_vec(),
            Err(e) if card_gone(e) => return Ok(None),
            Err(e) => return Err(self.failure(e)),
        };
        let mut buffer = [0; pcsc::MAX_BUFFER_SIZE];
        let answer = match handle.transmit(&GET_UID, &mut buffer) {
            Ok(answer) => answer,
            Err(e) if card_gone(e) => return Ok(None),
            Err(e) => return Err(self.failure(e)),
        };
        let uid = match answer.split_last_chunk::<2>() {
            Some((uid, [0x90, 0x00])) => Uid::new(uid),
            _ => None,
        };
        let Some(uid) = uid else {
            let status = answer.split_last_chunk::<2>().map(|(_, sw)| format!("{:02X}{:02X}", sw[0], sw[1])).unwrap_or_default();
            return Err(ReaderError::Bus(format!(
                "the PC/SC reader gave no 4, 7 or 10-byte UID for GET DATA (FF CA 00 00 00): {} bytes, status {status:?}; the reader may not support PC/SC part 3",
                answer.len()
            )));
        };
        let kind = ContactlessAtr::parse(&atr);
        Ok(Some(Connection { handle, card: Card { uid, atqa: None, sak: None }, atr, kind }))
    }
}

/// PC/SC errors that mean the card is no longer there (or was reset under us by another
/// program, which loses its session all the same).
fn card_gone(e: pcsc::Error) -> bool {
    matches!(e, pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard | pcsc::Error::ResetCard | pcsc::Error::UnpoweredCard)
}

fn open_failure(e: PcscError) -> ReaderError {
    ReaderError::Bus(e.to_string())
}

impl CardReader for PcscReader {
    fn describe(&self) -> String {
        match self.reader_name() {
            Some(name) => format!("PC/SC reader {name:?}"),
            None => "PC/SC reader (none chosen yet)".into(),
        }
    }

    fn poll(&mut self) -> Result<Option<Card>, ReaderError> {
        if let Some(connection) = &self.connection {
            match connection.handle.status2_owned() {
                Ok(status) if status.status().contains(pcsc::Status::PRESENT) => return Ok(Some(connection.card)),
                Ok(_) => self.connection = None,
                Err(e) if card_gone(e) => self.connection = None,
                Err(e) => return Err(self.failure(e)),
            }
        }
        self.connection = self.connect()?;
        Ok(self.connection.as_ref().map(|c| c.card))
    }

    fn exchange(&mut self, command: &[u8]) -> Result<Vec<u8>, ReaderError> {
        let connection = self.connection.as_ref().ok_or(ReaderError::NoCard)?;
        if !connection.kind.takes_apdus() {
            return Err(ReaderError::NotIsoDep);
        }
        let mut buffer = [0; pcsc::MAX_BUFFER_SIZE];
        match connection.handle.transmit(command, &mut buffer) {
            Ok(answer) if answer.len() >= 2 => Ok(answer.to_vec()),
            // vpcd, and some readers, answer nothing when the card left mid-exchange: ask
            // whether it is still there before calling the answer garbled.
            Ok(_) => match connection.handle.status2_owned() {
                Ok(status) if status.status().contains(pcsc::Status::PRESENT) => {
                    Err(ReaderError::Protocol("response APDU shorter than its status word"))
                }
                _ => {
                    self.connection = None;
                    Err(ReaderError::NoCard)
                }
            },
            // pcsc-lite answers "not transacted" when the reader's driver could not reach the
            // card: it stopped answering mid-exchange, which is a card that left the field.
            Err(e) if card_gone(e) || e == pcsc::Error::NotTransacted => {
                self.connection = None;
                Err(ReaderError::NoCard)
            }
            Err(e) => Err(self.failure(e)),
        }
    }

    fn activation(&self) -> Activation {
        Activation { ats: None, atr: self.connection.as_ref().map(|c| c.atr.clone()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contactless_atrs_round_trip() {
        // An ACR122U's ATR for a MIFARE Classic 1K (PC/SC part 3 example).
        let classic = [0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x6A];
        let parsed = ContactlessAtr::parse(&classic);
        assert_eq!(parsed, ContactlessAtr::StorageCard { standard: 0x03, card_name: 0x0001 });
        assert_eq!(parsed.to_atr(), classic);
        assert!(!parsed.takes_apdus());

        let iso = ContactlessAtr::IsoDep { historical: vec![0x80, 0x31, 0x80, 0x65, 0xB0] };
        let atr = iso.to_atr();
        assert_eq!(&atr[..4], &[0x3B, 0x85, 0x80, 0x01]);
        assert_eq!(ContactlessAtr::parse(&atr), iso);
        // No historical bytes at all is still ISO-DEP.
        assert_eq!(ContactlessAtr::parse(&[0x3B, 0x80, 0x80, 0x01, 0x01]), ContactlessAtr::IsoDep { historical: vec![] });
    }

    #[test]
    fn other_atrs_are_not_taken_for_contactless_ones() {
        let mut atr = ContactlessAtr::IsoDep { historical: vec![1, 2, 3] }.to_atr();
        *atr.last_mut().unwrap() ^= 1; // wrong TCK
        assert_eq!(ContactlessAtr::parse(&atr), ContactlessAtr::Other);
        // A contact card (T=0, no TCK).
        assert_eq!(ContactlessAtr::parse(&[0x3B, 0x65, 0x00, 0x00, 0x9C, 0x11, 0x01, 0x01, 0x03]), ContactlessAtr::Other);
        assert_eq!(ContactlessAtr::parse(&[]), ContactlessAtr::Other);
        assert!(ContactlessAtr::Other.takes_apdus());
    }
}
