//! Which card an ID card read reads, with what key, and what it gives: the open beneficiary ID
//! profile (no key) or the Iraqi national card's ICAO 9303 chip (eMRTD, opened with the card
//! access number or the MRZ key), chosen by `[hardware] id_card_profile`.
//!
//! The key comes from the kiosk ([`local_api::CardAccess`]), is checked and turned into a
//! [`ChipKey`] here, travels to the reader loop inside the read request and is wiped when the
//! request is dropped. Everything derived from it (the PACE or BAC session keys) is made and
//! wiped inside `hardware::emrtd`, on the reader loop's thread: no key material leaves it.
//! Neither the key nor anything read from the card is ever logged or audited.

use hardware::emrtd::MrzKey;
use hardware::{read_emrtd, AccessKey, CardReader, DateOfBirth, EmrtdError, EmrtdRead, IdCardData, IdCardError, NationalId, ReadOptions, ReaderError};
use local_api::{CardAccess, IdCardProfile};
use zeroize::Zeroizing;

use crate::api::status_checks::ascii_digits;

/// A checked key for an eMRTD chip. Wiped on drop (copies too); its `Debug` names only its
/// kind.
#[derive(Clone)]
pub enum ChipKey {
    /// The six-digit card access number (PACE).
    Can(Zeroizing<String>),
    /// The MRZ key (PACE or BAC): document number as in the MRZ (A-Z, 0-9, padded with `<` to
    /// nine characters), dates as `YYMMDD`.
    Mrz {
        /// Document number.
        document_number: Zeroizing<String>,
        /// Date of birth, `YYMMDD`.
        date_of_birth: Zeroizing<String>,
        /// Date of expiry, `YYMMDD`.
        date_of_expiry: Zeroizing<String>,
    },
}

impl std::fmt::Debug for ChipKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChipKey::Can(_) => "ChipKey::Can(..)",
            ChipKey::Mrz { .. } => "ChipKey::Mrz(..)",
        })
    }
}

/// Why a key from the kiosk cannot be one. The messages never repeat what was typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not six digits.
    #[error("the card access number is the six digits printed on the front of the ID card: type all six")]
    Can,
    /// A document number with other characters or more than nine.
    #[error("the document number is up to nine letters and digits from the first line of the code on the back of the ID card: check it")]
    DocumentNumber,
}

impl ChipKey {
    /// Checks a key from the kiosk: the CAN is six digits (Arabic-Indic ones accepted), the
    /// document number letters and digits (lower case and spaces forgiven).
    pub fn from_access(access: &CardAccess) -> Result<ChipKey, KeyError> {
        match access {
            CardAccess::Can(can) => {
                let can = Zeroizing::new(ascii_digits(can.trim()));
                if can.len() == 6 && can.bytes().all(|b| b.is_ascii_digit()) {
                    Ok(ChipKey::Can(can))
                } else {
                    Err(KeyError::Can)
                }
            }
            CardAccess::Mrz(mrz) => {
                let mut number = Zeroizing::new(ascii_digits(mrz.document_number.trim()).to_ascii_uppercase().replace([' ', '-'], ""));
                if number.is_empty() || number.len() > 9 || !number.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) {
                    return Err(KeyError::DocumentNumber);
                }
                while number.len() < 9 {
                    number.push('<');
                }
                let yymmdd = |d: chrono::NaiveDate| Zeroizing::new(d.format("%y%m%d").to_string());
                Ok(ChipKey::Mrz { document_number: number, date_of_birth: yymmdd(mrz.date_of_birth), date_of_expiry: yymmdd(mrz.date_of_expiry) })
            }
        }
    }
}

/// How the reader loop is to read the card.
#[derive(Debug, Clone)]
pub enum ReadMethod {
    /// The open beneficiary ID profile.
    Open,
    /// The eMRTD chip, with its key.
    Emrtd(ChipKey),
}

impl ReadMethod {
    /// The method for `profile` with the key the kiosk sent, if any: `emrtd` needs a key,
    /// `both` uses the chip when one is given, `open` ignores any.
    pub fn choose(profile: IdCardProfile, access: Option<&CardAccess>) -> Result<ReadMethod, ChooseError> {
        match (profile, access) {
            (IdCardProfile::Open, _) | (IdCardProfile::Both, None) => Ok(ReadMethod::Open),
            (IdCardProfile::Emrtd, None) => Err(ChooseError::KeyRequired),
            (IdCardProfile::Emrtd | IdCardProfile::Both, Some(access)) => ChipKey::from_access(access).map(ReadMethod::Emrtd).map_err(ChooseError::Key),
        }
    }
}

/// Why no read method could be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChooseError {
    /// `emrtd` without a key.
    #[error("this terminal reads the national ID card's chip, which opens only with the six-digit card access number printed on the card: type it, then put the card on the reader")]
    KeyRequired,
    /// A key that cannot be one.
    #[error(transparent)]
    Key(KeyError),
}

/// What an ID card read gives the service: never logged (its `Debug` hides it all).
pub struct IdCardRead {
    /// The holder's national ID number.
    pub national_id: NationalId,
    /// The date of birth, when the card has it.
    pub date_of_birth: Option<DateOfBirth>,
    /// The holder's full name, from a chip's DG11.
    pub name: Option<String>,
}

impl std::fmt::Debug for IdCardRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdCardRead(..)")
    }
}

impl From<IdCardData> for IdCardRead {
    fn from(data: IdCardData) -> IdCardRead {
        IdCardRead { national_id: data.national_id, date_of_birth: data.date_of_birth, name: None }
    }
}

/// Why an eMRTD chip could not be read, as the service words it (from `hardware::emrtd`'s
/// error). Never holds card data or key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChipError {
    /// The reader failed, or the card left the field.
    #[error(transparent)]
    Reader(ReaderError),
    /// The chip refused the key: a wrong CAN or MRZ.
    #[error("the chip refused the access key")]
    AccessRefused,
    /// Not an eMRTD (no LDS1 application).
    #[error("the card has no ICAO 9303 application")]
    NotEmrtd,
    /// The chip needs a protocol or parameters the terminal does not speak.
    #[error("the chip needs what this terminal does not support: {0}")]
    Unsupported(String),
    /// Secure messaging broke down mid-read (a bad MAC, a lost counter).
    #[error("secure messaging with the chip failed: {0}")]
    SecureMessaging(String),
    /// A data group does not match its hash in the card's security object.
    #[error("data group {0} does not match the card's security object")]
    NotGenuine(String),
    /// The chip's data could not be parsed.
    #[error("the chip's data is malformed: {0}")]
    Malformed(String),
}

/// Why an ID card read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Reading the open profile failed.
    #[error(transparent)]
    Open(#[from] IdCardError),
    /// Reading the chip failed.
    #[error(transparent)]
    Chip(#[from] ChipError),
}

impl ReadError {
    /// A reader error, whichever profile was being read.
    pub fn reader(&self) -> Option<&ReaderError> {
        match self {
            ReadError::Open(IdCardError::Reader(e)) | ReadError::Chip(ChipError::Reader(e)) => Some(e),
            _ => None,
        }
    }
}

impl From<ReaderError> for ReadError {
    fn from(e: ReaderError) -> ReadError {
        ReadError::Open(IdCardError::Reader(e))
    }
}

/// Reads the card on `reader` by `method`. Runs on the reader loop's thread, which owns the
/// reader; the key and every session key stay on it.
pub fn read<R: CardReader + ?Sized>(reader: &mut R, method: &ReadMethod) -> Result<IdCardRead, ReadError> {
    match method {
        ReadMethod::Open => Ok(hardware::read_id_card(reader)?.into()),
        ReadMethod::Emrtd(key) => Ok(read_chip(reader, key)?),
    }
}

/// Reads the eMRTD chip with `key`: `hardware::emrtd::read_emrtd`, its DG1 giving the national
/// number (TD1 optional data) and date of birth, its DG11 the name (and the full date of birth
/// and personal number where DG1 lacks them).
fn read_chip<R: CardReader + ?Sized>(reader: &mut R, key: &ChipKey) -> Result<IdCardRead, ChipError> {
    let key = match key {
        ChipKey::Can(can) => AccessKey::can(can).ok_or(ChipError::Malformed("the card access number is not digits".into()))?,
        ChipKey::Mrz { document_number, date_of_birth, date_of_expiry } => AccessKey::Mrz(
            MrzKey::new(document_number, date_of_birth, date_of_expiry).map_err(|e| ChipError::Malformed(format!("MRZ key: {e}")))?,
        ),
    };
    let read = read_emrtd(reader, &key, &ReadOptions::default()).map_err(chip_error)?;
    tracing::info!(
        authentication = ?read.authentication,
        apdus = read.report.apdus,
        data_groups_checked = ?read.sod.data_groups_checked,
        "national ID card chip read"
    );
    id_card_read_of(&read)
}

/// The national number, date of birth and name from what the chip gave.
fn id_card_read_of(read: &EmrtdRead) -> Result<IdCardRead, ChipError> {
    let dg11 = read.dg11.as_ref();
    let national_id = read
        .dg1
        .national_number()
        .or_else(|| dg11.and_then(|d| d.personal_number.as_deref()).and_then(|n| NationalId::new(n.trim())))
        .ok_or_else(|| ChipError::Malformed("neither the MRZ nor DG11 holds a 12-digit national number".into()))?;
    let date_of_birth = dg11.and_then(|d| d.full_date_of_birth.as_deref()).and_then(DateOfBirth::parse).or_else(|| mrz_date_of_birth(read.dg1.date_of_birth()));
    let name = dg11.and_then(|d| d.full_name.clone()).filter(|n| !n.trim().is_empty());
    Ok(IdCardRead { national_id, date_of_birth, name })
}

/// An MRZ date of birth (`YYMMDD`, unknown parts `<`): the century is the one that puts it in
/// the past.
fn mrz_date_of_birth(yymmdd: &str) -> Option<DateOfBirth> {
    let yy: u16 = yymmdd.get(..2)?.parse().ok()?;
    let this_year = u16::try_from(chrono::Datelike::year(&chrono::Utc::now())).unwrap_or(2026);
    let century = if 2000 + yy > this_year { 1900 } else { 2000 };
    DateOfBirth::parse(&format!("{}{}", century + yy, yymmdd.get(2..6)?))
}

/// The chip library's error as the service words it.
fn chip_error(error: EmrtdError) -> ChipError {
    match error {
        EmrtdError::Reader(e) => ChipError::Reader(e),
        EmrtdError::WrongAccessKey { .. } => ChipError::AccessRefused,
        EmrtdError::NotAnEmrtd => ChipError::NotEmrtd,
        EmrtdError::Unsupported(what) => ChipError::Unsupported(what),
        EmrtdError::SecureMessaging(what) => ChipError::SecureMessaging(what),
        EmrtdError::HashMismatch { data_group } => ChipError::NotGenuine(format!("DG{data_group}")),
        EmrtdError::SodSignature(why) => ChipError::NotGenuine(format!("the security object's signature: {why}")),
        EmrtdError::Malformed(what) => ChipError::Malformed(what),
        EmrtdError::Status { command, sw } => ChipError::Malformed(format!("the card refused {command} (SW {sw:04X})")),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use local_api::MrzAccess;

    use super::*;

    #[test]
    fn a_can_is_six_digits_in_either_script_and_the_mrz_key_is_padded() {
        assert!(matches!(ChipKey::from_access(&CardAccess::Can(" ١٢٣٤٥٦ ".into())), Ok(ChipKey::Can(c)) if c.as_str() == "123456"));
        for bad in ["12345", "1234567", "12a456", ""] {
            assert_eq!(ChipKey::from_access(&CardAccess::Can(bad.into())).unwrap_err(), KeyError::Can, "{bad}");
        }
        let mrz = |n: &str| {
            CardAccess::Mrz(MrzAccess {
                document_number: n.into(),
                date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
                date_of_expiry: NaiveDate::from_ymd_opt(2031, 7, 1).unwrap(),
            })
        };
        match ChipKey::from_access(&mrz("a1234 5678")).unwrap() {
            ChipKey::Mrz { document_number, date_of_birth, date_of_expiry } => {
                assert_eq!((document_number.as_str(), date_of_birth.as_str(), date_of_expiry.as_str()), ("A12345678", "850314", "310701"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(ChipKey::from_access(&mrz("L898902C")).unwrap(), ChipKey::Mrz { document_number, .. } if document_number.as_str() == "L898902C<"));
        for bad in ["", "A123456789", "A1234/678"] {
            assert_eq!(ChipKey::from_access(&mrz(bad)).unwrap_err(), KeyError::DocumentNumber, "{bad}");
        }
    }

    #[test]
    fn the_profile_chooses_the_read_and_emrtd_needs_a_key() {
        let can = CardAccess::Can("123456".into());
        assert!(matches!(ReadMethod::choose(IdCardProfile::Open, Some(&can)), Ok(ReadMethod::Open)));
        assert!(matches!(ReadMethod::choose(IdCardProfile::Both, None), Ok(ReadMethod::Open)));
        assert!(matches!(ReadMethod::choose(IdCardProfile::Both, Some(&can)), Ok(ReadMethod::Emrtd(ChipKey::Can(_)))));
        assert!(matches!(ReadMethod::choose(IdCardProfile::Emrtd, Some(&can)), Ok(ReadMethod::Emrtd(_))));
        assert_eq!(ReadMethod::choose(IdCardProfile::Emrtd, None).unwrap_err(), ChooseError::KeyRequired);
        assert_eq!(ReadMethod::choose(IdCardProfile::Emrtd, Some(&CardAccess::Can("12".into()))).unwrap_err(), ChooseError::Key(KeyError::Can));
    }

    #[test]
    fn an_mrz_date_of_birth_is_put_in_the_past() {
        let born = mrz_date_of_birth("900101").unwrap();
        assert_eq!((born.year, born.month, born.day), (1990, 1, 1));
        assert_eq!(mrz_date_of_birth("100229").map(|d| d.year), None, "2010 was not a leap year");
        assert_eq!(mrz_date_of_birth("120229").map(|d| d.year), Some(2012));
        assert_eq!(mrz_date_of_birth("85<<<<"), None);
    }

    #[test]
    fn keys_and_reads_never_show_in_debug() {
        let key = ChipKey::from_access(&CardAccess::Can("493817".into())).unwrap();
        assert!(!format!("{key:?} {:?}", ReadMethod::Emrtd(key.clone())).contains("493817"));
        let read = IdCardRead { national_id: NationalId::new("199001234567").unwrap(), date_of_birth: None, name: Some("ZAINAB".into()) };
        let shown = format!("{read:?}");
        assert!(!shown.contains("1990") && !shown.contains("ZAINAB"), "{shown}");
    }
}
