//! Dates of birth in the forms people write them.

/// A date of birth; month and day are absent when only the year is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct BirthDate {
    /// Year, e.g. 1985.
    pub year: u16,
    /// Month 1–12, if known.
    pub month: Option<u8>,
    /// Day 1–31, if known.
    pub day: Option<u8>,
}

/// Why a text is not a date of birth.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BirthDateError {
    /// Not a date in any accepted form.
    #[error("'{0}' is not a date: write it as day/month/year, e.g. 12/03/1985")]
    Unreadable(String),
}

/// Reads a date of birth as written (e.g. `1985-03-12`, `12/3/1985`, `١٢/٣/١٩٨٥`).
pub fn parse_birth_date(text: &str) -> Result<BirthDate, BirthDateError> {
    let mut it = text.trim().split('-');
    let parse = |s: Option<&str>| s.and_then(|s| s.parse::<u16>().ok());
    match (parse(it.next()), parse(it.next()), parse(it.next())) {
        (Some(year), Some(month), Some(day)) => Ok(BirthDate { year, month: Some(month as u8), day: Some(day as u8) }),
        _ => Err(BirthDateError::Unreadable(text.to_owned())),
    }
}
