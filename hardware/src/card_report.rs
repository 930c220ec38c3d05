//! What a technician sends back about a card on a real reader (`terminal-service hw
//! card-report`): how the card identifies itself, which applications answer, what
//! EF.CardAccess offers, and how long each step took — and no personal data.
//!
//! What the report holds, and why it is not personal data:
//!
//! - ATQA and SAK, or the ATR a PC/SC reader composes; the ATS (frame size, waiting time,
//!   historical bytes): the chip's make and configuration, the same on every card of a batch;
//! - the UID's length and whether it is random (a 4-byte UID starting `08`, as eMRTDs use so
//!   that a card cannot be tracked), never the UID itself;
//! - whether the LDS1 application (ICAO 9303 eMRTD, AID `A0 00 00 02 47 10 01`) and the open
//!   beneficiary ID application answer SELECT: SELECT only, no file of theirs is read;
//! - EF.CardAccess (file `01 1C` in the master file), which ICAO 9303 part 11 makes readable
//!   without authentication because it only lists the PACE protocols and domain parameters
//!   the chip offers: the raw bytes, and the protocol OIDs and parameter IDs decoded;
//! - the time each step took.
//!
//! With a CAN or an MRZ key typed by the technician ([`AccessKeys`]), [`authenticate`] tries
//! PACE with each option EF.CardAccess offers (naming its parameter ID) and, with the MRZ,
//! BAC, each as a full read through [`crate::emrtd`]; the report keeps per attempt the
//! protocol, parameter ID, cipher, outcome and time, and for the first read that succeeded
//! the READ BINARY size and each file's bytes and time — never the key or the files'
//! contents. Without keys it says authentication was not attempted and why
//! ([`Authentication::NotAttempted`]). A report never claims a result it did not measure.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::card::{Card, CardReader, ReaderError};
use crate::iso_dep::{frame_size, frame_waiting_time_us, Ats};
use crate::pcsc::ContactlessAtr;

/// AID of the ICAO 9303 LDS1 eMRTD application.
pub const LDS1_AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01];
/// File identifier of EF.CardAccess, in the master file.
pub const EF_CARD_ACCESS: [u8; 2] = [0x01, 0x1C];
/// Largest READ BINARY asked for (notes: PN532 frames, no extended length).
const READ_CHUNK: u8 = 0xDF;
/// Largest EF.CardAccess read: a card offering every PACE option fits in a few hundred bytes.
const MAX_CARD_ACCESS_LEN: usize = 2_048;

/// One step of the report and how long it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// What was done, e.g. `"SELECT LDS1 application"`.
    pub name: String,
    /// How long it took, in microseconds.
    pub micros: u64,
    /// What came of it: a status word (`"9000"`), or the reader's error.
    pub outcome: String,
}

/// The ATS, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AtsReport {
    /// The ATS as received (TL first), hex.
    pub raw: String,
    /// FSCI, and the frame size it means.
    pub fsci: u8,
    /// The largest frame the card accepts, in bytes.
    pub frame_size: usize,
    /// FWI, and the frame waiting time it means.
    pub fwi: u8,
    /// How long the card may take to answer a block, in microseconds.
    pub frame_waiting_time_us: u32,
    /// SFGI.
    pub sfgi: u8,
    /// The historical bytes, hex.
    pub historical: String,
}

/// What SELECT of an application got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// It answered 9000.
    pub answers: bool,
    /// The status word, or the reader's error.
    pub outcome: String,
}

/// One SecurityInfo of EF.CardAccess.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityInfo {
    /// The protocol's object identifier, dotted.
    pub oid: String,
    /// Its name, when it is one of ICAO 9303 part 11's.
    pub name: Option<&'static str>,
    /// The version or other first integer.
    pub version: Option<u64>,
    /// The standardized domain parameter ID (PACEInfo), when given.
    pub parameter_id: Option<u64>,
    /// What that parameter ID names (12 = NIST P-256, 13 = brainpoolP256r1…).
    pub parameter: Option<&'static str>,
}

/// EF.CardAccess as read without authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardAccess {
    /// Whether it could be read.
    pub read: bool,
    /// Why not (status word or reader error), when it could not.
    pub outcome: String,
    /// Its bytes, hex (empty when not read).
    pub raw: String,
    /// The SecurityInfos decoded from it; empty when it could not be decoded.
    pub security_infos: Vec<SecurityInfo>,
}

/// Authentication with the card: PACE and BAC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Authentication {
    /// Not attempted; why.
    NotAttempted {
        /// Why not, for the technician.
        reason: String,
    },
    /// Attempted with the keys given.
    Attempted {
        /// Each attempt, in order.
        attempts: Vec<AttemptReport>,
        /// The first attempt that opened the card, e.g. `PACE parameter 13 (brainpoolP256r1) AES-128 with the CAN`.
        opened_with: Option<String>,
        /// The largest READ BINARY asked for, in bytes.
        max_read: usize,
        /// The files read after the first successful authentication.
        files: Vec<FileRead>,
        /// How that read ended: `ok`, or the error (no personal data).
        read_outcome: Option<String>,
    },
}

/// One authentication attempt, without the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptReport {
    /// `PACE` or `BAC`.
    pub protocol: &'static str,
    /// `CAN` or `MRZ`.
    pub password: &'static str,
    /// PACE's standardized domain parameter ID (none for BAC).
    pub parameter_id: Option<u64>,
    /// What that parameter ID names.
    pub parameter: Option<&'static str>,
    /// The protocol OID from EF.CardAccess (PACE), dotted.
    pub oid: Option<String>,
    /// The secure messaging cipher (`3DES`, `AES-128`…), when known.
    pub cipher: Option<&'static str>,
    /// `ok`, `wrong_key`, `unsupported`, `refused` or `error`.
    pub outcome: &'static str,
    /// The card's status word when it refused (`63C2`, `6A80`…).
    pub status_word: Option<String>,
    /// More about a refusal or error: the step, the message.
    pub detail: Option<String>,
    /// How long the attempt took, in microseconds.
    pub micros: u64,
}

/// One file read after authentication: its size and time, never its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRead {
    /// `EF.COM`, `DG1`, `DG11`, `EF.SOD`, `EF.CardAccess`.
    pub file: &'static str,
    /// Its length in bytes.
    pub bytes: usize,
    /// READ BINARY commands sent.
    pub reads: u32,
    /// The largest chunk the card gave in one READ BINARY.
    pub largest_chunk: usize,
    /// From SELECT to the last byte, in microseconds.
    pub micros: u64,
}

/// The keys the technician typed, to try on the card. Secret: `{:?}` shows neither.
#[derive(Debug, Default)]
pub struct AccessKeys {
    /// The card access number (PACE).
    pub can: Option<crate::emrtd::AccessKey>,
    /// The MRZ key (PACE and BAC).
    pub mrz: Option<crate::emrtd::MrzKey>,
}

impl AccessKeys {
    /// Neither key.
    pub fn is_empty(&self) -> bool {
        self.can.is_none() && self.mrz.is_none()
    }
}

/// Everything the report found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardReport {
    /// The reader, as it describes itself.
    pub reader: String,
    /// ATQA (hex), when the reader shows it.
    pub atqa: Option<String>,
    /// SAK (hex), when the reader shows it.
    pub sak: Option<String>,
    /// The ATR a PC/SC reader composed (hex).
    pub atr: Option<String>,
    /// What the ATR says the card is (PC/SC part 3).
    pub atr_kind: Option<String>,
    /// The UID's length in bytes (never the UID).
    pub uid_length: usize,
    /// A random UID (4 bytes starting 08): changes at every activation.
    pub random_uid: bool,
    /// The ATS, when the reader shows it.
    pub ats: Option<AtsReport>,
    /// EF.CardAccess.
    pub card_access: CardAccess,
    /// SELECT of the LDS1 (eMRTD) application.
    pub lds1: Selection,
    /// SELECT of the open beneficiary ID application.
    pub open_profile: Selection,
    /// Authentication with the keys typed, or why it was not attempted.
    pub authentication: Authentication,
    /// Every step, in order, with its time.
    pub steps: Vec<Step>,
}

/// Probes the card the reader's last poll found (`card`); `poll_time` is how long finding it
/// took, reported as the first step.
pub fn probe<R: CardReader + ?Sized>(reader: &mut R, card: Card, poll_time: Duration) -> CardReport {
    let mut steps = vec![Step { name: "poll (card found)".into(), micros: micros(poll_time), outcome: "found".into() }];
    let card_access = read_card_access(reader, &mut steps);
    let lds1 = select(reader, &mut steps, "SELECT LDS1 application (A0 00 00 02 47 10 01)", &LDS1_AID);
    let open_profile = select(reader, &mut steps, "SELECT beneficiary ID application (F0 53 50 49 44 01)", &crate::id_card::APPLICATION_ID);
    // The MFRC522 knows the ATS only once an exchange has activated ISO-DEP: ask now.
    let activation = reader.activation();
    let atr_kind = activation.atr.as_deref().map(ContactlessAtr::parse);
    let ats = activation.ats.as_deref().and_then(|raw| {
        let ats = Ats::parse(raw).ok()?;
        Some(AtsReport {
            raw: hex(raw),
            fsci: ats.fsci,
            frame_size: frame_size(ats.fsci),
            fwi: ats.fwi,
            frame_waiting_time_us: frame_waiting_time_us(ats.fwi),
            sfgi: ats.sfgi,
            historical: hex(&ats.historical),
        })
    });
    let uid = card.uid.as_bytes();
    CardReport {
        reader: reader.describe(),
        atqa: card.atqa.map(|a| format!("{a:04X}")),
        sak: card.sak.map(|s| format!("{s:02X}")),
        atr: activation.atr.as_deref().map(hex),
        atr_kind: atr_kind.map(|kind| match kind {
            ContactlessAtr::StorageCard { standard, card_name } => {
                format!("storage card without ISO/IEC 14443-4 (standard {standard:02X}, card name {card_name:04X})")
            }
            ContactlessAtr::IsoDep { historical } if historical.is_empty() => "ISO/IEC 14443-4 card, no historical bytes".into(),
            ContactlessAtr::IsoDep { historical } => format!("ISO/IEC 14443-4 card, historical bytes {}", hex(&historical)),
            ContactlessAtr::Other => "not a contactless ATR of PC/SC part 3".into(),
        }),
        uid_length: uid.len(),
        random_uid: uid.len() == 4 && uid[0] == 0x08,
        ats,
        card_access,
        lds1,
        open_profile,
        authentication: Authentication::NotAttempted {
            reason: "no CAN or MRZ was given (hw card-report --can or --mrz asks for them)".into(),
        },
        steps,
    }
}

/// [`probe`], then [`authenticate`] with `keys` when any is given.
pub fn probe_and_authenticate<R: CardReader + ?Sized>(reader: &mut R, card: Card, poll_time: Duration, keys: &AccessKeys) -> CardReport {
    let mut report = probe(reader, card, poll_time);
    if !keys.is_empty() {
        report.authentication = authenticate(reader, keys, &mut rand::rngs::OsRng);
    }
    report
}

/// Tries each way into the card with `keys`: PACE with every option EF.CardAccess offers,
/// with the CAN and with the MRZ key, then BAC with the MRZ key. Each attempt is a whole read
/// (DG1, DG11, EF.SOD), so a card that authenticates but fails later shows where; the
/// contents are dropped unseen.
pub fn authenticate<R: CardReader + ?Sized>(reader: &mut R, keys: &AccessKeys, rng: &mut dyn rand::RngCore) -> Authentication {
    use crate::emrtd::{self, AccessKey, ReadOptions};
    if keys.is_empty() {
        return Authentication::NotAttempted { reason: "no CAN or MRZ was given".into() };
    }
    let offered = match emrtd::read_card_access(reader) {
        Ok(access) => access.map(|a| a.pace).unwrap_or_default(),
        Err(e) => return Authentication::NotAttempted { reason: format!("EF.CardAccess could not be read: {e}") },
    };
    let mrz = keys.mrz.clone().map(AccessKey::Mrz);
    let mut tries: Vec<(&AccessKey, ReadOptions, Option<&emrtd::PaceInfo>)> = Vec::new();
    for key in [keys.can.as_ref(), mrz.as_ref()].into_iter().flatten() {
        for info in &offered {
            tries.push((key, ReadOptions { pace_option: Some(info.clone()), ..ReadOptions::default() }, Some(info)));
        }
    }
    if let Some(key) = mrz.as_ref() {
        tries.push((key, ReadOptions { try_pace: false, ..ReadOptions::default() }, None));
    }
    let mut attempts = Vec::new();
    let (mut opened_with, mut files, mut read_outcome) = (None, Vec::new(), None);
    let mut max_read = usize::from(emrtd::MAX_READ);
    for (key, options, info) in tries {
        let password = if matches!(key, AccessKey::Can(_)) { "CAN" } else { "MRZ" };
        let (result, read) = emrtd::read_emrtd_reporting(reader, key, &options, rng);
        let Some(attempt) = read.attempts.last() else {
            // Refused before any protocol ran (no LDS1 application, a CAN on a BAC-only card).
            let (outcome, detail) = match &result {
                Err(emrtd::EmrtdError::Unsupported(why)) => ("unsupported", why.clone()),
                Err(e) => ("error", e.to_string()),
                Ok(_) => ("error", "the card opened without authentication".into()),
            };
            attempts.push(AttemptReport {
                protocol: if info.is_some() { "PACE" } else { "BAC" },
                password,
                parameter_id: info.and_then(|i| i.parameter_id),
                parameter: info.and_then(|i| i.parameter_id).and_then(parameter_name),
                oid: info.map(|i| crate::emrtd::lds::oid_to_string(&i.protocol)),
                cipher: if info.is_some() { info.and_then(|i| i.cipher()).map(|c| c.name()) } else { Some("3DES") },
                outcome,
                status_word: None,
                detail: Some(detail),
                micros: 0,
            });
            continue;
        };
        let (outcome, status_word, detail) = match &attempt.outcome {
            emrtd::AttemptOutcome::Succeeded => ("ok", None, None),
            emrtd::AttemptOutcome::WrongKey { sw } => ("wrong_key", Some(format!("{sw:04X}")), None),
            emrtd::AttemptOutcome::Refused { step, sw } => ("refused", Some(format!("{sw:04X}")), Some(format!("at {step}"))),
            emrtd::AttemptOutcome::Failed(why) if why.contains("not implemented") => ("unsupported", None, Some(why.clone())),
            emrtd::AttemptOutcome::Failed(why) => ("error", None, Some(why.clone())),
        };
        let cipher = match info {
            Some(info) => info.cipher().map(|c| c.name()),
            None => Some("3DES"),
        };
        let parameter_id = info.and_then(|i| i.parameter_id);
        let entry = AttemptReport {
            protocol: if info.is_some() { "PACE" } else { "BAC" },
            password,
            parameter_id,
            parameter: parameter_id.and_then(parameter_name),
            oid: info.map(|i| crate::emrtd::lds::oid_to_string(&i.protocol)),
            cipher,
            outcome,
            status_word,
            detail,
            micros: micros(attempt.duration),
        };
        if outcome == "ok" && opened_with.is_none() {
            opened_with = Some(match parameter_id {
                Some(id) => format!("PACE parameter {id} ({}) {} with the {password}", parameter_name(id).unwrap_or("unknown"), cipher.unwrap_or("?")),
                None => format!("{} with the {password}", entry.protocol),
            });
            max_read = read.max_read;
            files = read
                .files
                .iter()
                .map(|f| FileRead { file: f.file, bytes: f.bytes, reads: f.reads, largest_chunk: f.largest_chunk, micros: micros(f.duration) })
                .collect();
            read_outcome = Some(match &result {
                Ok(_) => "ok".to_string(),
                Err(e) => e.to_string(),
            });
        }
        attempts.push(entry);
        // A card that lost power or left the field makes every later attempt fail alike.
        if matches!(result, Err(emrtd::EmrtdError::Reader(_))) {
            break;
        }
    }
    Authentication::Attempted { attempts, opened_with, max_read, files, read_outcome }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Sends one APDU, timing it; the response data and status word.
fn send<R: CardReader + ?Sized>(reader: &mut R, steps: &mut Vec<Step>, name: &str, apdu: &[u8]) -> Result<(Vec<u8>, u16), ReaderError> {
    let started = Instant::now();
    let result = reader.exchange(apdu);
    let elapsed = started.elapsed();
    let (outcome, answer) = match result {
        Ok(response) if response.len() >= 2 => {
            let (data, sw) = response.split_at(response.len() - 2);
            let sw = u16::from_be_bytes([sw[0], sw[1]]);
            (format!("{sw:04X}"), Ok((data.to_vec(), sw)))
        }
        Ok(_) => ("answer shorter than a status word".to_string(), Err(ReaderError::Protocol("response APDU shorter than its status word"))),
        Err(e) => (e.to_string(), Err(e)),
    };
    steps.push(Step { name: name.into(), micros: micros(elapsed), outcome });
    answer
}

fn select<R: CardReader + ?Sized>(reader: &mut R, steps: &mut Vec<Step>, name: &str, aid: &[u8]) -> Selection {
    let mut apdu = vec![0x00, 0xA4, 0x04, 0x0C, aid.len() as u8];
    apdu.extend_from_slice(aid);
    match send(reader, steps, name, &apdu) {
        Ok((_, sw)) => Selection { answers: sw == 0x9000, outcome: format!("{sw:04X}") },
        Err(e) => Selection { answers: false, outcome: e.to_string() },
    }
}

/// SELECT MF, SELECT EF.CardAccess, READ BINARY in chunks of at most 0xDF bytes.
fn read_card_access<R: CardReader + ?Sized>(reader: &mut R, steps: &mut Vec<Step>) -> CardAccess {
    let failed = |outcome: String| CardAccess { read: false, outcome, raw: String::new(), security_infos: Vec::new() };
    // The MF is selected after activation on most chips; selecting it again is harmless, and
    // a chip that refuses (6A86, 6D00) is still asked for the EF.
    if let Err(e) = send(reader, steps, "SELECT MF (3F 00)", &[0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00]) {
        return failed(e.to_string());
    }
    match send(reader, steps, "SELECT EF.CardAccess (01 1C)", &[0x00, 0xA4, 0x02, 0x0C, 0x02, EF_CARD_ACCESS[0], EF_CARD_ACCESS[1]]) {
        Ok((_, 0x9000)) => {}
        Ok((_, sw)) => return failed(format!("{sw:04X}")),
        Err(e) => return failed(e.to_string()),
    }
    let mut contents = Vec::new();
    let mut le = READ_CHUNK;
    let mut outcome = "9000".to_string();
    // Each round adds bytes or stops; bounded by MAX_CARD_ACCESS_LEN and by 6Cxx retries.
    for _ in 0..(MAX_CARD_ACCESS_LEN / 8) {
        if contents.len() >= MAX_CARD_ACCESS_LEN {
            break;
        }
        let offset = contents.len() as u16;
        let [p1, p2] = offset.to_be_bytes();
        let name = format!("READ BINARY offset {offset} length {le}");
        match send(reader, steps, &name, &[0x00, 0xB0, p1 & 0x7F, p2, le]) {
            Ok((data, 0x9000)) => {
                let full = data.len() == usize::from(le);
                contents.extend_from_slice(&data);
                if !full || data.is_empty() {
                    break;
                }
                le = READ_CHUNK;
            }
            // Wrong length: the card says how many bytes are left.
            Ok((_, sw)) if sw >> 8 == 0x6C && sw & 0xFF != 0 && le != (sw & 0xFF) as u8 => le = (sw & 0xFF) as u8,
            // End of file reached (offset past the end, or fewer bytes than asked).
            Ok((data, 0x6282 | 0x6B00)) if !contents.is_empty() => {
                contents.extend_from_slice(&data);
                break;
            }
            Ok((_, sw)) => {
                outcome = format!("{sw:04X}");
                break;
            }
            Err(e) => {
                outcome = e.to_string();
                break;
            }
        }
    }
    if contents.is_empty() {
        return failed(outcome);
    }
    let security_infos = decode_card_access(&contents).unwrap_or_default();
    CardAccess { read: true, outcome, raw: hex(&contents), security_infos }
}

/// Hex, upper case, bytes separated by spaces.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

/// One DER element: tag, value, rest.
fn der(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        n if n < 0x80 => (usize::from(n), rest),
        0x81 => (usize::from(*rest.first()?), &rest[1..]),
        0x82 => (usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?])), rest.get(2..)?),
        _ => return None,
    };
    let value = rest.get(..len)?;
    Some((tag, value, &rest[len..]))
}

/// EF.CardAccess's SecurityInfos: a SET (31) of SEQUENCEs (30) of an OID and integers.
/// `None` when it is not shaped so.
pub fn decode_card_access(bytes: &[u8]) -> Option<Vec<SecurityInfo>> {
    let (tag, mut set, _) = der(bytes)?;
    if tag != 0x31 {
        return None;
    }
    let mut infos = Vec::new();
    while !set.is_empty() {
        let (tag, sequence, rest) = der(set)?;
        set = rest;
        if tag != 0x30 {
            return None;
        }
        let (tag, oid, mut fields) = der(sequence)?;
        if tag != 0x06 {
            return None;
        }
        let oid = decode_oid(oid)?;
        let mut integers = Vec::new();
        while !fields.is_empty() {
            let (tag, value, rest) = der(fields)?;
            fields = rest;
            if tag == 0x02 && value.len() <= 8 {
                integers.push(value.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)));
            }
        }
        let parameter_id = if oid.starts_with(PACE) { integers.get(1).copied() } else { None };
        infos.push(SecurityInfo {
            name: oid_name(&oid),
            oid,
            version: integers.first().copied(),
            parameter_id,
            parameter: parameter_id.and_then(parameter_name),
        });
    }
    Some(infos)
}

/// id-PACE (BSI TR-03110, ICAO 9303 part 11).
const PACE: &str = "0.4.0.127.0.7.2.2.4.";

fn decode_oid(bytes: &[u8]) -> Option<String> {
    let (&first, rest) = bytes.split_first()?;
    let mut arcs = vec![u64::from(first / 40).min(2), u64::from(first) - 40 * u64::from(first / 40).min(2)];
    let mut value = 0u64;
    for &b in rest {
        value = value.checked_mul(128)? | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            arcs.push(value);
            value = 0;
        }
    }
    Some(arcs.iter().map(u64::to_string).collect::<Vec<_>>().join("."))
}

fn oid_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "0.4.0.127.0.7.2.2.4.1.1" => "id-PACE-DH-GM-3DES-CBC-CBC",
        "0.4.0.127.0.7.2.2.4.1.2" => "id-PACE-DH-GM-AES-CBC-CMAC-128",
        "0.4.0.127.0.7.2.2.4.1.3" => "id-PACE-DH-GM-AES-CBC-CMAC-192",
        "0.4.0.127.0.7.2.2.4.1.4" => "id-PACE-DH-GM-AES-CBC-CMAC-256",
        "0.4.0.127.0.7.2.2.4.2.1" => "id-PACE-ECDH-GM-3DES-CBC-CBC",
        "0.4.0.127.0.7.2.2.4.2.2" => "id-PACE-ECDH-GM-AES-CBC-CMAC-128",
        "0.4.0.127.0.7.2.2.4.2.3" => "id-PACE-ECDH-GM-AES-CBC-CMAC-192",
        "0.4.0.127.0.7.2.2.4.2.4" => "id-PACE-ECDH-GM-AES-CBC-CMAC-256",
        "0.4.0.127.0.7.2.2.4.3.1" => "id-PACE-DH-IM-3DES-CBC-CBC",
        "0.4.0.127.0.7.2.2.4.3.2" => "id-PACE-DH-IM-AES-CBC-CMAC-128",
        "0.4.0.127.0.7.2.2.4.3.3" => "id-PACE-DH-IM-AES-CBC-CMAC-192",
        "0.4.0.127.0.7.2.2.4.3.4" => "id-PACE-DH-IM-AES-CBC-CMAC-256",
        "0.4.0.127.0.7.2.2.4.4.1" => "id-PACE-ECDH-IM-3DES-CBC-CBC",
        "0.4.0.127.0.7.2.2.4.4.2" => "id-PACE-ECDH-IM-AES-CBC-CMAC-128",
        "0.4.0.127.0.7.2.2.4.4.3" => "id-PACE-ECDH-IM-AES-CBC-CMAC-192",
        "0.4.0.127.0.7.2.2.4.4.4" => "id-PACE-ECDH-IM-AES-CBC-CMAC-256",
        "0.4.0.127.0.7.2.2.4.6.2" => "id-PACE-ECDH-CAM-AES-CBC-CMAC-128",
        "0.4.0.127.0.7.2.2.4.6.3" => "id-PACE-ECDH-CAM-AES-CBC-CMAC-192",
        "0.4.0.127.0.7.2.2.4.6.4" => "id-PACE-ECDH-CAM-AES-CBC-CMAC-256",
        "0.4.0.127.0.7.2.2.4.1" => "id-PACE-DH-GM (domain parameters)",
        "0.4.0.127.0.7.2.2.4.2" => "id-PACE-ECDH-GM (domain parameters)",
        "0.4.0.127.0.7.2.2.4.3" => "id-PACE-DH-IM (domain parameters)",
        "0.4.0.127.0.7.2.2.4.4" => "id-PACE-ECDH-IM (domain parameters)",
        "0.4.0.127.0.7.2.2.4.6" => "id-PACE-ECDH-CAM (domain parameters)",
        "0.4.0.127.0.7.2.2.3.1.1" | "0.4.0.127.0.7.2.2.3.2.1" => "id-CA (3DES)",
        "0.4.0.127.0.7.2.2.3.1.2" | "0.4.0.127.0.7.2.2.3.2.2" => "id-CA (AES-128)",
        "0.4.0.127.0.7.2.2.3.1.3" | "0.4.0.127.0.7.2.2.3.2.3" => "id-CA (AES-192)",
        "0.4.0.127.0.7.2.2.3.1.4" | "0.4.0.127.0.7.2.2.3.2.4" => "id-CA (AES-256)",
        "0.4.0.127.0.7.2.2.2" => "id-TA",
        "2.23.136.1.1.5" => "id-icao-mrtd-security-efDir",
        _ => return None,
    })
}

/// A standardised domain parameter's name (ICAO 9303 Part 11 Table 6), `None` when the id is not one.
fn parameter_name(id: u64) -> Option<&'static str> {
    Some(crate::emrtd::lds::parameter_name(id)).filter(|name| *name != "unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pace_info_decodes() {
        // An EF.CardAccess with one PACEInfo: ECDH generic mapping with AES-128 (OID
        // 0.4.0.127.0.7.2.2.4.2.2), version 2, standardized parameter ID 13.
        let bytes = [
            0x31, 0x14, 0x30, 0x12, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02, 0x02, 0x01, 0x02,
            0x02, 0x01, 0x0D,
        ];
        let infos = decode_card_access(&bytes).unwrap();
        assert_eq!(
            infos,
            [SecurityInfo {
                oid: "0.4.0.127.0.7.2.2.4.2.2".into(),
                name: Some("id-PACE-ECDH-GM-AES-CBC-CMAC-128"),
                version: Some(2),
                parameter_id: Some(13),
                parameter: Some("brainpoolP256r1"),
            }]
        );
        assert_eq!(decode_card_access(&[0x30, 0x00]), None);
        assert_eq!(decode_card_access(&bytes[..10]), None);
    }
}
