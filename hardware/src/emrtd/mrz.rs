//! The machine readable zone: the TD1 layout of an ID card (ICAO 9303 Part 5: three lines of
//! 30 characters) as DG1 holds it, its check digits, and the MRZ access key (document number,
//! date of birth, date of expiry, each with its check digit) that BAC and PACE derive keys from.
//!
//! On the Iraqi national card the 12-digit national number is in the optional data of the first
//! line ([`Mrz::national_number`]).

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::id_card::NationalId;

/// Why an MRZ or MRZ key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    /// A character outside `0-9`, `A-Z` and `<`.
    #[error("the MRZ has a character other than 0-9, A-Z and '<' in the {0}: check what was typed")]
    BadCharacter(&'static str),
    /// A field has the wrong length.
    #[error("the {0} has the wrong length: check what was typed")]
    WrongLength(&'static str),
    /// A check digit does not match its field.
    #[error("the check digit of the {0} does not match: a character was mistyped or misread")]
    CheckDigit(&'static str),
    /// The zone is not a TD1 MRZ.
    #[error("the MRZ is not the three 30-character lines of an ID card (TD1): {0}")]
    NotTd1(&'static str),
}

/// The ICAO 9303 Part 3 check digit: weights 7, 3, 1 over the characters' values (`0-9` as is,
/// `A-Z` as 10 to 35, `<` as 0), modulo 10. `None` for any other character.
pub fn check_digit(field: &[u8]) -> Option<u8> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0u32;
    for (i, &c) in field.iter().enumerate() {
        let value = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'<' => 0,
            _ => return None,
        };
        sum += value * WEIGHTS[i % 3];
    }
    Some(b'0' + (sum % 10) as u8)
}

fn mrz_chars(field: &[u8], what: &'static str) -> Result<(), MrzError> {
    if field.iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase() || *c == b'<') {
        Ok(())
    } else {
        Err(MrzError::BadCharacter(what))
    }
}

fn date_field(date: &str, what: &'static str) -> Result<[u8; 6], MrzError> {
    let bytes: [u8; 6] = date.as_bytes().try_into().map_err(|_| MrzError::WrongLength(what))?;
    if !bytes.iter().all(u8::is_ascii_digit) {
        return Err(MrzError::BadCharacter(what));
    }
    Ok(bytes)
}

/// The MRZ access key: what BAC and PACE with the MRZ derive their keys from.
///
/// Secret: zeroized on drop, and `{:?}` shows nothing of it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct MrzKey {
    /// Document number, `<`-padded to at least 9 characters.
    document_number: Vec<u8>,
    date_of_birth: [u8; 6],
    date_of_expiry: [u8; 6],
}

impl MrzKey {
    /// The key from the three fields as printed: document number (letters and digits; filler
    /// `<` added to 9 characters), date of birth and date of expiry as `YYMMDD`.
    pub fn new(document_number: &str, date_of_birth: &str, date_of_expiry: &str) -> Result<MrzKey, MrzError> {
        let mut number: Vec<u8> = document_number.trim().to_ascii_uppercase().into_bytes();
        while number.last() == Some(&b'<') {
            number.pop();
        }
        if number.is_empty() || number.len() > 22 {
            return Err(MrzError::WrongLength("document number"));
        }
        mrz_chars(&number, "document number")?;
        number.resize(number.len().max(9), b'<');
        Ok(MrzKey {
            document_number: number,
            date_of_birth: date_field(date_of_birth, "date of birth")?,
            date_of_expiry: date_field(date_of_expiry, "date of expiry")?,
        })
    }

    /// The key from the 24 characters of "MRZ information" with its check digits, e.g.
    /// `L898902C<369080619406236` (ICAO 9303 Part 11 Appendix D.1): each check digit is checked,
    /// so a mistyped key is caught here rather than as a refused authentication.
    pub fn from_key_string(key: &str) -> Result<MrzKey, MrzError> {
        let k = key.trim().as_bytes();
        if k.len() != 24 {
            return Err(MrzError::WrongLength("MRZ key (24 characters)"));
        }
        mrz_chars(k, "MRZ key")?;
        for (field, digit, what) in [(&k[0..9], k[9], "document number"), (&k[10..16], k[16], "date of birth"), (&k[17..23], k[23], "date of expiry")] {
            if check_digit(field) != Some(digit) {
                return Err(MrzError::CheckDigit(what));
            }
        }
        let text = |r: core::ops::Range<usize>| core::str::from_utf8(&k[r]).unwrap_or_default();
        MrzKey::new(text(0..9), text(10..16), text(17..23))
    }

    /// The key printed in a card's MRZ.
    pub fn from_mrz(mrz: &Mrz) -> MrzKey {
        MrzKey {
            document_number: mrz.document_number.clone().into_bytes(),
            date_of_birth: mrz.date_of_birth,
            date_of_expiry: mrz.date_of_expiry,
        }
        .padded()
    }

    fn padded(mut self) -> MrzKey {
        let len = self.document_number.len().max(9);
        self.document_number.resize(len, b'<');
        self
    }

    /// "MRZ information" (ICAO 9303 Part 11 §9.7.2): document number, date of birth and date
    /// of expiry, each followed by its check digit. SHA-1 of it seeds BAC and is PACE's
    /// password.
    pub fn information(&self) -> Zeroizing<Vec<u8>> {
        let mut info = Zeroizing::new(Vec::with_capacity(self.document_number.len() + 15));
        for field in [&self.document_number[..], &self.date_of_birth, &self.date_of_expiry] {
            info.extend_from_slice(field);
            // Only MRZ characters get in (constructors), so there is a check digit.
            info.push(check_digit(field).unwrap_or(b'0'));
        }
        info
    }
}

impl fmt::Debug for MrzKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MrzKey(<redacted>)")
    }
}

/// A TD1 MRZ as DG1 holds it, check digits verified.
///
/// Personal data: `{:?}` shows only the document code and issuing state.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Mrz {
    /// The 90 characters.
    raw: String,
    document_number: String,
    date_of_birth: [u8; 6],
    date_of_expiry: [u8; 6],
}

/// TD1: three lines of 30.
pub const TD1_LEN: usize = 90;

impl Mrz {
    /// Parses the 90 characters of a TD1 MRZ (the three lines run together, as DG1 stores
    /// them), checking the document number, date of birth, date of expiry and composite
    /// check digits.
    pub fn parse_td1(text: &[u8]) -> Result<Mrz, MrzError> {
        if text.len() != TD1_LEN {
            return Err(MrzError::NotTd1("it is not 90 characters long"));
        }
        mrz_chars(text, "MRZ")?;
        let l1 = &text[0..30];
        let l2 = &text[30..60];
        // Document number: positions 6-14 with its check digit at 15; a longer number puts '<'
        // there and continues in the optional data, its check digit after it (Part 5 §4.2.4).
        let document_number: Vec<u8> = if l1[14] == b'<' && l1[15] != b'<' {
            let optional = &l1[15..30];
            let end = optional.iter().position(|&c| c == b'<').unwrap_or(optional.len());
            if end < 2 {
                return Err(MrzError::NotTd1("a long document number has no continuation"));
            }
            let mut number = l1[5..14].to_vec();
            number.extend_from_slice(&optional[..end - 1]);
            if check_digit(&number) != Some(optional[end - 1]) {
                return Err(MrzError::CheckDigit("document number"));
            }
            number
        } else {
            if check_digit(&l1[5..14]) != Some(l1[14]) {
                return Err(MrzError::CheckDigit("document number"));
            }
            l1[5..14].to_vec()
        };
        if check_digit(&l2[0..6]) != Some(l2[6]) {
            return Err(MrzError::CheckDigit("date of birth"));
        }
        if check_digit(&l2[8..14]) != Some(l2[14]) {
            return Err(MrzError::CheckDigit("date of expiry"));
        }
        let mut composite = l1[5..30].to_vec();
        composite.extend_from_slice(&l2[0..7]);
        composite.extend_from_slice(&l2[8..15]);
        composite.extend_from_slice(&l2[18..29]);
        if check_digit(&composite) != Some(l2[29]) {
            return Err(MrzError::CheckDigit("MRZ (composite)"));
        }
        let text_of = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let mut number = text_of(&document_number);
        while number.ends_with('<') {
            number.pop();
        }
        Ok(Mrz {
            raw: text_of(text),
            document_number: number,
            date_of_birth: l2[0..6].try_into().map_err(|_| MrzError::NotTd1("date of birth"))?,
            date_of_expiry: l2[8..14].try_into().map_err(|_| MrzError::NotTd1("date of expiry"))?,
        })
    }

    /// The 90 characters.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The three lines.
    pub fn lines(&self) -> [&str; 3] {
        [&self.raw[0..30], &self.raw[30..60], &self.raw[60..90]]
    }

    /// Document code, e.g. `ID` or `I<`.
    pub fn document_code(&self) -> &str {
        &self.raw[0..2]
    }

    /// Issuing state, e.g. `IRQ`.
    pub fn issuing_state(&self) -> &str {
        &self.raw[2..5]
    }

    /// Document number, without filler.
    pub fn document_number(&self) -> &str {
        &self.document_number
    }

    /// Optional data of the first line (positions 16-30), filler included.
    pub fn optional_data(&self) -> &str {
        &self.raw[15..30]
    }

    /// Date of birth as printed, `YYMMDD` (the century is not in the MRZ; `<` for unknown
    /// parts).
    pub fn date_of_birth(&self) -> &str {
        &self.raw[30..36]
    }

    /// `M`, `F` or `<`.
    pub fn sex(&self) -> char {
        char::from(self.raw.as_bytes()[37])
    }

    /// Date of expiry, `YYMMDD`.
    pub fn date_of_expiry(&self) -> &str {
        &self.raw[38..44]
    }

    /// Nationality, e.g. `IRQ`.
    pub fn nationality(&self) -> &str {
        &self.raw[45..48]
    }

    /// Optional data of the second line (positions 19-29).
    pub fn optional_data_2(&self) -> &str {
        &self.raw[48..59]
    }

    /// The name as the MRZ writes it: primary identifier (surname), then the secondary
    /// identifier (given names), `<` read as spaces.
    pub fn name(&self) -> (String, String) {
        let line = &self.raw[60..90];
        let (primary, secondary) = line.split_once("<<").unwrap_or((line, ""));
        let clean = |s: &str| s.split('<').filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ");
        (clean(primary), clean(secondary))
    }

    /// The 12-digit national number the Iraqi card puts at the start of the first line's
    /// optional data; `None` when the optional data does not start with 12 digits.
    pub fn national_number(&self) -> Option<NationalId> {
        let optional = self.optional_data();
        let digits = optional.get(..12)?;
        let after = optional.as_bytes().get(12).copied().unwrap_or(b'<');
        (!after.is_ascii_digit()).then(|| NationalId::new(digits)).flatten()
    }

    /// The access key printed in this MRZ.
    pub fn key(&self) -> MrzKey {
        MrzKey::from_mrz(self)
    }
}

impl fmt::Debug for Mrz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mrz({} {}, <redacted>)", self.document_code(), self.issuing_state())
    }
}

/// Builds the 90 characters of a TD1 MRZ with correct check digits, for simulated cards and
/// tests. Fields are upper-cased, `<`-padded and cut to their lengths; names are the MRZ's
/// transliteration (`A-Z` and `<`).
#[allow(clippy::too_many_arguments)]
pub fn build_td1(
    issuing_state: &str,
    document_number: &str,
    optional_data: &str,
    date_of_birth: &str,
    sex: char,
    date_of_expiry: &str,
    nationality: &str,
    primary_identifier: &str,
    secondary_identifier: &str,
) -> String {
    fn field(text: &str, len: usize) -> Vec<u8> {
        let mut f: Vec<u8> =
            text.to_ascii_uppercase().bytes().map(|c| if c == b' ' { b'<' } else { c }).take(len).collect();
        f.resize(len, b'<');
        f
    }
    let number = field(document_number, 9);
    let optional = field(optional_data, 15);
    let mut l1 = b"I".to_vec();
    l1.push(b'D');
    l1.extend(field(issuing_state, 3));
    l1.extend(&number);
    l1.push(check_digit(&number).unwrap_or(b'0'));
    l1.extend(&optional);
    let dob = field(date_of_birth, 6);
    let doe = field(date_of_expiry, 6);
    let mut l2 = dob.clone();
    l2.push(check_digit(&dob).unwrap_or(b'0'));
    l2.push(sex as u8);
    l2.extend(&doe);
    l2.push(check_digit(&doe).unwrap_or(b'0'));
    l2.extend(field(nationality, 3));
    l2.extend(field("", 11));
    let mut composite = l1[5..30].to_vec();
    composite.extend_from_slice(&l2[0..7]);
    composite.extend_from_slice(&l2[8..15]);
    composite.extend_from_slice(&l2[18..29]);
    l2.push(check_digit(&composite).unwrap_or(b'0'));
    let mut name = field(primary_identifier, 30);
    let primary_len = primary_identifier.len().min(28);
    let secondary = field(secondary_identifier, 30 - primary_len - 2);
    name.truncate(primary_len);
    name.extend_from_slice(b"<<");
    name.extend(secondary);
    let mut all = l1;
    all.extend(l2);
    all.extend(name);
    String::from_utf8_lossy(&all).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_of_the_icao_specimen() {
        // ICAO 9303 Part 11 Appendix D.1: L898902C< 3, 690806 1, 940623 6.
        assert_eq!(check_digit(b"L898902C<"), Some(b'3'));
        assert_eq!(check_digit(b"690806"), Some(b'1'));
        assert_eq!(check_digit(b"940623"), Some(b'6'));
        assert_eq!(check_digit(b"l"), None);
    }

    #[test]
    fn td1_round_trips_and_finds_the_national_number() {
        let text = build_td1("IRQ", "A12345678", "199012344567", "900101", 'M', "310101", "IRQ", "AL HASHIMI", "AHMED");
        assert_eq!(text.len(), 90);
        let mrz = Mrz::parse_td1(text.as_bytes()).unwrap();
        assert_eq!(mrz.document_number(), "A12345678");
        assert_eq!(mrz.national_number().unwrap().as_str(), "199012344567");
        assert_eq!(mrz.date_of_birth(), "900101");
        assert_eq!(mrz.name(), ("AL HASHIMI".to_string(), "AHMED".to_string()));
        assert_eq!(format!("{mrz:?}"), "Mrz(ID IRQ, <redacted>)");
        let mut bad = text.into_bytes();
        bad[31] = b'8';
        assert_eq!(Mrz::parse_td1(&bad), Err(MrzError::CheckDigit("date of birth")));
    }

    #[test]
    fn keys_check_their_digits_and_hide_themselves() {
        let key = MrzKey::from_key_string("L898902C<369080619406236").unwrap();
        assert_eq!(&key.information()[..], b"L898902C<369080619406236");
        assert_eq!(MrzKey::new("L898902C", "690806", "940623").unwrap(), key);
        assert_eq!(MrzKey::from_key_string("L898902C<469080619406236"), Err(MrzError::CheckDigit("document number")));
        assert_eq!(format!("{key:?}"), "MrzKey(<redacted>)");
    }
}
