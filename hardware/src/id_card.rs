//! Reading the applicant's national ID number from their contactless ID card: the project's
//! **beneficiary ID profile**.
//!
//! The chip of the Iraqi national card is an ICAO 9303 eMRTD: its data groups are read only
//! after BAC or PACE with a key derived from the printed MRZ or CAN, and the card's own
//! application and file layout are not public. So the terminal defines an open profile instead,
//! which a card issuer (or the programme's own card personalisation) can put on any
//! ISO/IEC 14443-4 card:
//!
//! - application AID `F0 53 50 49 44 01` ([`APPLICATION_ID`]): a proprietary AID, category
//!   `F` of ISO/IEC 7816-5 (no registration needed), "SPID" and version 1;
//! - in it, the transparent EF `01 01` ([`EF_ID`]) holding one BER-TLV template, tag `61`:
//!   - tag `80`: the national ID number, 12 ASCII digits (required);
//!   - tag `81`: the date of birth, 8 ASCII digits `YYYYMMDD` (optional);
//!   - other tags are skipped, so later versions of the profile can add fields.
//!
//! Reading it is SELECT of the application, SELECT of the EF, and READ BINARY: first the
//! template's tag and length, then the rest. No secret is involved, so nothing here protects
//! the data on the card; what it protects is the data on the terminal: [`NationalId`] and
//! [`DateOfBirth`] do not show themselves in `{:?}`, so they cannot end up in a log line by
//! accident.
//!
//! ```
//! use hardware::mfrc522::{Mfrc522, SimulatedMfrc522};
//! use hardware::{read_national_id, IdCardError, SimulatedCard, SimulatedField, Uid};
//!
//! let field = SimulatedField::new();
//! let uid = Uid::from_hex("04A2249A4B5E80").unwrap();
//! field.present(SimulatedCard::id_card(uid, "199012344567", Some("19900101")));
//! let mut reader = Mfrc522::new(SimulatedMfrc522::new(field.clone()));
//! reader.init().unwrap();
//! reader.poll().unwrap().expect("the card is on the reader");
//! let id = read_national_id(&mut reader).unwrap();
//! assert_eq!(id.as_str(), "199012344567");
//! assert_eq!(format!("{id:?}"), "NationalId(********4567)");
//!
//! // A staff badge does not speak ISO/IEC 14443-4.
//! field.clear();
//! field.present(SimulatedCard::new(Uid::from_hex("DEADBEEF").unwrap()));
//! reader.poll().unwrap();
//! assert_eq!(read_national_id(&mut reader), Err(IdCardError::NotAnIdCard));
//! ```

use core::fmt::{self, Write as _};

use crate::apdu::{self, ApduError, Command};
use crate::card::{CardReader, ReaderError};
use crate::tlv;

/// AID of the beneficiary ID application: proprietary category `F`, "SPID", version 1.
pub const APPLICATION_ID: [u8; 6] = [0xF0, 0x53, 0x50, 0x49, 0x44, 0x01];
/// File identifier of the EF holding the template.
pub const EF_ID: [u8; 2] = [0x01, 0x01];
/// Tag of the template.
pub const TAG_TEMPLATE: u8 = 0x61;
/// Tag of the national ID number.
pub const TAG_NATIONAL_ID: u8 = 0x80;
/// Tag of the date of birth.
pub const TAG_DATE_OF_BIRTH: u8 = 0x81;
/// Largest EF the reader accepts. The profile needs 26 bytes; a card claiming more than this
/// is not following it.
pub const MAX_EF_LEN: usize = 1_024;
/// READ BINARY's first Le: the template's tag and the longest length field the profile
/// allows (`82 xx xx`).
const HEADER_LEN: u16 = 4;
/// Bytes asked for by each following READ BINARY: small enough for a PN532's single frame.
const READ_CHUNK: usize = 128;

/// A 12-digit national ID number.
///
/// Personal data: `{}` and [`as_str`](Self::as_str) give it in full, for the form and the
/// sealed submission; `{:?}` shows only its last four digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NationalId([u8; 12]);

impl NationalId {
    /// The number from its 12 ASCII digits; `None` for anything else.
    pub fn new(digits: &str) -> Option<Self> {
        Self::from_bytes(digits.as_bytes())
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let digits: [u8; 12] = bytes.try_into().ok()?;
        digits.iter().all(u8::is_ascii_digit).then_some(NationalId(digits))
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits get in (`from_bytes`).
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `NationalId(********4567)`: enough to tell two cards apart in a test failure, not enough to
/// identify a person.
impl fmt::Debug for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NationalId(********")?;
        self.0[8..].iter().try_for_each(|&d| f.write_char(char::from(d)))?;
        f.write_str(")")
    }
}

/// A date of birth from the card.
///
/// Personal data: `{:?}` shows no part of it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateOfBirth {
    /// Year, e.g. 1990.
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31.
    pub day: u8,
}

impl DateOfBirth {
    /// Parses `YYYYMMDD`; `None` unless it is 8 digits naming a real date.
    pub fn parse(text: &str) -> Option<Self> {
        Self::from_bytes(text.as_bytes())
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 8 || !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let number = |range: core::ops::Range<usize>| bytes[range].iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        let (year, month, day) = (number(0..4), number(4..6) as u8, number(6..8) as u8);
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (year > 0 && (1..=days).contains(&day)).then_some(DateOfBirth { year, month, day })
    }
}

/// `YYYY-MM-DD`.
impl fmt::Display for DateOfBirth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for DateOfBirth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DateOfBirth(****-**-**)")
    }
}

/// What the beneficiary ID profile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdCardData {
    /// The national ID number.
    pub national_id: NationalId,
    /// The date of birth, when the card has it.
    pub date_of_birth: Option<DateOfBirth>,
}

/// Why no national ID could be read from the card.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdCardError {
    /// The reader failed, or the card left the field.
    #[error(transparent)]
    Reader(ReaderError),
    /// The card does not have the beneficiary ID application: a staff badge, a bank card.
    #[error("this card is not an ID card with the beneficiary ID application")]
    NotAnIdCard,
    /// The card refuses to give the file without authentication (SW 6982).
    #[error("the ID card does not allow reading its data (security status not satisfied)")]
    Locked,
    /// The card has the application but its data does not follow the profile.
    #[error("the ID card's data is malformed: {0}")]
    Malformed(&'static str),
    /// The card refused a command with a status word the profile does not expect.
    #[error("the ID card answered SW {0:04X}")]
    Status(u16),
}

impl From<ApduError> for IdCardError {
    fn from(e: ApduError) -> Self {
        match e {
            ApduError::Reader(ReaderError::NotIsoDep) => IdCardError::NotAnIdCard,
            ApduError::Reader(e) => IdCardError::Reader(e),
            ApduError::SecurityNotSatisfied => IdCardError::Locked,
            ApduError::FileNotFound => IdCardError::Status(0x6A82),
            ApduError::Status(sw) => IdCardError::Status(sw),
            ApduError::Truncated => IdCardError::Malformed("response APDU shorter than its status word"),
            ApduError::TooManyRounds => IdCardError::Malformed("the card kept answering 61xx or 6Cxx"),
            ApduError::InvalidCommand(what) => IdCardError::Malformed(what),
        }
    }
}

/// Reads the national ID number from the ID card the reader's last poll found.
///
/// A card that is not an ID card (a badge without ISO/IEC 14443-4, a card without the
/// application) gives [`IdCardError::NotAnIdCard`].
pub fn read_national_id<R: CardReader + ?Sized>(reader: &mut R) -> Result<NationalId, IdCardError> {
    read_id_card(reader).map(|data| data.national_id)
}

/// Reads everything the beneficiary ID profile holds from the card the reader's last poll found.
pub fn read_id_card<R: CardReader + ?Sized>(reader: &mut R) -> Result<IdCardData, IdCardError> {
    let select = Command::select_aid(&APPLICATION_ID)?;
    match apdu::transmit(reader, &select) {
        Ok(_) => {}
        // Not found, or a card that does not even know SELECT or the class byte.
        Err(ApduError::FileNotFound | ApduError::Status(0x6D00 | 0x6E00 | 0x6A81 | 0x6A86)) => {
            return Err(IdCardError::NotAnIdCard)
        }
        Err(e) => return Err(e.into()),
    }
    match apdu::transmit(reader, &Command::select_ef(EF_ID)) {
        Ok(_) => {}
        Err(ApduError::FileNotFound) => return Err(IdCardError::Malformed("the ID application has no EF 01 01")),
        Err(e) => return Err(e.into()),
    }

    let mut ef = apdu::transmit(reader, &Command::read_binary(0, HEADER_LEN)?)?;
    let (tag, header, value_len) = tag_and_length(&ef)?;
    if tag != u32::from(TAG_TEMPLATE) {
        return Err(IdCardError::Malformed("EF 01 01 does not start with the template (tag 61)"));
    }
    let total = header + value_len;
    if total > MAX_EF_LEN {
        return Err(IdCardError::Malformed("EF 01 01 is longer than the profile allows"));
    }
    // Each round adds at least one byte or stops, and `total` is bounded: a bounded loop.
    while ef.len() < total {
        let want = (total - ef.len()).min(READ_CHUNK) as u16;
        let chunk = match apdu::transmit(reader, &Command::read_binary(ef.len() as u16, want)?) {
            // Offset past the end, or end of file reached: the file is shorter than its TLV.
            Err(ApduError::Status(0x6B00 | 0x6282)) => Vec::new(),
            other => other?,
        };
        if chunk.is_empty() {
            return Err(IdCardError::Malformed("EF 01 01 ends before its template does"));
        }
        ef.extend_from_slice(&chunk);
    }
    ef.truncate(total);
    parse_ef(&ef)
}

/// Parses the contents of EF `01 01`.
pub fn parse_ef(bytes: &[u8]) -> Result<IdCardData, IdCardError> {
    let (tag, template, _padding) = next_tlv(bytes)?;
    if tag != u32::from(TAG_TEMPLATE) {
        return Err(IdCardError::Malformed("EF 01 01 does not start with the template (tag 61)"));
    }
    let (mut national_id, mut date_of_birth) = (None, None);
    let mut rest = template;
    while !rest.is_empty() {
        let (tag, value, after) = next_tlv(rest)?;
        rest = after;
        match tag {
            t if t == u32::from(TAG_NATIONAL_ID) => {
                if national_id.is_some() {
                    return Err(IdCardError::Malformed("the national ID (tag 80) appears twice"));
                }
                national_id = Some(
                    NationalId::from_bytes(value)
                        .ok_or(IdCardError::Malformed("the national ID (tag 80) is not 12 ASCII digits"))?,
                );
            }
            t if t == u32::from(TAG_DATE_OF_BIRTH) => {
                if date_of_birth.is_some() {
                    return Err(IdCardError::Malformed("the date of birth (tag 81) appears twice"));
                }
                date_of_birth = Some(
                    DateOfBirth::from_bytes(value)
                        .ok_or(IdCardError::Malformed("the date of birth (tag 81) is not a YYYYMMDD date"))?,
                );
            }
            _ => {}
        }
    }
    let national_id = national_id.ok_or(IdCardError::Malformed("no national ID (tag 80) in the template"))?;
    Ok(IdCardData { national_id, date_of_birth })
}

/// The contents of EF `01 01` for these values, as given (unchecked, so tests can build
/// malformed cards): what a card personalisation writes.
pub fn encode_ef(national_id: &str, date_of_birth: Option<&str>) -> Vec<u8> {
    let mut template = Vec::new();
    push_tlv(&mut template, TAG_NATIONAL_ID, national_id.as_bytes());
    if let Some(date) = date_of_birth {
        push_tlv(&mut template, TAG_DATE_OF_BIRTH, date.as_bytes());
    }
    let mut ef = Vec::new();
    push_tlv(&mut ef, TAG_TEMPLATE, &template);
    ef
}

/// Appends one TLV of the profile (a one-byte tag) in the crate's encoding ([`tlv::encode`]).
fn push_tlv(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.extend(tlv::encode(u32::from(tag), value));
}

/// A TLV's tag, the length of its tag and length fields, and its value's length, read with the
/// crate's BER-TLV reader ([`tlv::header`]); the value itself need not be there yet. The profile
/// allows lengths up to the `82 xx xx` form, where the reader goes to four length bytes.
fn tag_and_length(bytes: &[u8]) -> Result<(u32, usize, usize), IdCardError> {
    let (tag, header, len) = tlv::header(bytes).map_err(|e| IdCardError::Malformed(e.0))?;
    let tag_bytes = match tag {
        0..=0xFF => 1,
        0x100..=0xFFFF => 2,
        _ => 3,
    };
    if header - tag_bytes > 3 {
        return Err(IdCardError::Malformed("a TLV length uses a form the profile does not allow"));
    }
    Ok((tag, header, len))
}

/// One BER-TLV: its tag, its value and what follows it.
fn next_tlv(bytes: &[u8]) -> Result<(u32, &[u8], &[u8]), IdCardError> {
    let (tag, header, len) = tag_and_length(bytes)?;
    let value = bytes
        .get(header..header + len)
        .ok_or(IdCardError::Malformed("a TLV's length runs past the end of EF 01 01"))?;
    Ok((tag, value, &bytes[header + len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_round_trips() {
        let ef = encode_ef("199012344567", Some("19900231"));
        assert_eq!(&ef[..4], &[0x61, 0x18, 0x80, 0x0C]);
        // 31 February is not a date.
        assert_eq!(parse_ef(&ef), Err(IdCardError::Malformed("the date of birth (tag 81) is not a YYYYMMDD date")));
        let data = parse_ef(&encode_ef("199012344567", Some("20000229"))).unwrap();
        assert_eq!(data.national_id.as_str(), "199012344567");
        assert_eq!(data.date_of_birth.unwrap().to_string(), "2000-02-29");
        assert_eq!(parse_ef(&encode_ef("199012344567", None)).unwrap().date_of_birth, None);
    }

    #[test]
    fn debug_hides_personal_data() {
        let id = NationalId::new("199012344567").unwrap();
        assert_eq!(format!("{id:?}"), "NationalId(********4567)");
        assert_eq!(id.to_string(), "199012344567");
        let data = IdCardData { national_id: id, date_of_birth: DateOfBirth::parse("19900101") };
        let shown = format!("{data:?}");
        assert!(!shown.contains("1990") && !shown.contains("0101"), "{shown}");
    }

    #[test]
    fn unknown_tags_and_long_forms_are_read() {
        // Template with an 81-form length, a 2-byte unknown tag 5F 20 before the ID.
        let mut inner = vec![0x5F, 0x20, 0x02, b'X', b'Y'];
        inner.extend_from_slice(&[0x80, 0x0C]);
        inner.extend_from_slice(b"000000000001");
        let mut ef = vec![0x61, 0x81, inner.len() as u8];
        ef.extend_from_slice(&inner);
        ef.extend_from_slice(&[0xFF, 0xFF]); // padding after the template
        assert_eq!(parse_ef(&ef).unwrap().national_id.as_str(), "000000000001");
    }

    #[test]
    fn tag_and_length_reads_every_form() {
        assert_eq!(tag_and_length(&[0x61, 0x18]).unwrap(), (0x61, 2, 0x18));
        assert_eq!(tag_and_length(&[0x61, 0x81, 0x80]).unwrap(), (0x61, 3, 0x80));
        assert_eq!(tag_and_length(&[0x61, 0x82, 0x01, 0x00]).unwrap(), (0x61, 4, 0x100));
        assert_eq!(tag_and_length(&[0x5F, 0x20, 0x02]).unwrap(), (0x5F20, 3, 2));
        assert!(tag_and_length(&[0x61, 0x83, 0, 0, 1]).is_err());
        assert!(tag_and_length(&[0x5F, 0x80, 0x80, 0x01, 0x00]).is_err());
        assert!(tag_and_length(&[0x61]).is_err());
    }
}
