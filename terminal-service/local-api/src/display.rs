//! How dates, times and numbers are shown to people: one rule for the kiosk's screens and the
//! printed receipts, so an applicant reads the same date on both.
//!
//! **Order: day/month/year, in every language** (`01/09/2025`). It is the order Iraqis write
//! dates in, and the order in which the kiosk asks for a date of birth (day, month, year); ISO's
//! year-first order is unfamiliar to most applicants and, with digits alone, easy to misread as
//! a phone or case number. Slashes, not hyphens: a hyphen is also a minus sign.
//!
//! **Isolated** between U+2066 LEFT-TO-RIGHT ISOLATE and U+2069 POP DIRECTIONAL ISOLATE. In
//! Arabic or Kurdish text, digits that follow Arabic letters become "Arabic numbers" (rule W2 of
//! the Unicode bidirectional algorithm, UAX #9) and a separator between two of them does not
//! join them, so `2025-09-01` came out as `01-09-2025`. Inside an isolate the date is laid out
//! left to right as one unit, whatever surrounds it, and the surrounding text is laid out as if
//! the date were one neutral character.
//!
//! **Digits**: Western (`0`–`9`) or Eastern Arabic (`٠`–`٩`, U+0660–U+0669, the digits of Iraqi
//! Arabic and Kurdish Sorani print) per language, as the node's configuration says
//! ([`Digits`]); Western when it says nothing. Whatever is shown, what is stored and sent stays
//! ISO 8601 with Western digits.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use node_protocol::{Digits, DigitsByLanguage};

/// U+2066 LEFT-TO-RIGHT ISOLATE.
const LRI: char = '\u{2066}';
/// U+2069 POP DIRECTIONAL ISOLATE.
const PDI: char = '\u{2069}';

/// Iraq's time zone: UTC+3 all year (no daylight saving since 2008). Screens and receipts show
/// the applicant's clock, whatever the terminal's system time zone.
pub fn iraq_time() -> FixedOffset {
    // 3 hours is within ±24 h, so this cannot be refused.
    FixedOffset::east_opt(3 * 3600).unwrap_or_else(|| Utc.fix())
}

/// How one language shows dates and numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Conventions {
    /// Which digits.
    pub digits: Digits,
}

impl Conventions {
    /// The conventions of `language` (`ar`, `ckb`, `en`) under the node's configuration.
    pub fn for_language(digits: &DigitsByLanguage, language: &str) -> Self {
        Conventions { digits: digits.for_language(language) }
    }

    /// `01/09/2025`, isolated.
    pub fn date(&self, date: NaiveDate) -> String {
        isolate(&self.digits(&date.format("%d/%m/%Y").to_string()))
    }

    /// `01/09/2025 14:05` in `zone`, isolated as one unit (day first, then the time).
    pub fn date_time<Tz: TimeZone>(&self, at: &DateTime<Tz>) -> String
    where
        Tz::Offset: std::fmt::Display,
    {
        isolate(&self.digits(&at.format("%d/%m/%Y %H:%M").to_string()))
    }

    /// A number (a count, an amount), isolated.
    pub fn number(&self, n: impl std::fmt::Display) -> String {
        isolate(&self.digits(&n.to_string()))
    }

    /// `text` with its Western digits written in this language's digits.
    pub fn digits(&self, text: &str) -> String {
        match self.digits {
            Digits::Western => text.to_string(),
            Digits::Eastern => text
                .chars()
                .map(|c| match c.to_digit(10) {
                    Some(d) if c.is_ascii_digit() => char::from_u32(0x0660 + d).unwrap_or(c),
                    _ => c,
                })
                .collect(),
        }
    }
}

/// `text` between LRI and PDI: laid out left to right as one unit inside any paragraph. For
/// what must stay as typed, such as a receipt's reference (it is typed back, and its QR code
/// holds Western digits), and as the last step of [`Conventions::date`] and the others.
pub fn isolate(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 6);
    out.push(LRI);
    out.push_str(text);
    out.push(PDI);
    out
}

/// `text` without the isolates this module adds: for logs and tests that compare plain text.
pub fn without_isolates(text: &str) -> String {
    text.chars().filter(|c| *c != LRI && *c != PDI).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eastern() -> Conventions {
        Conventions { digits: Digits::Eastern }
    }

    #[test]
    fn a_date_is_day_month_year_between_isolates() {
        let d = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
        assert_eq!(Conventions::default().date(d), "\u{2066}01/09/2025\u{2069}");
        assert_eq!(eastern().date(d), "\u{2066}٠١/٠٩/٢٠٢٥\u{2069}");
    }

    #[test]
    fn a_time_is_shown_in_the_zone_it_is_given() {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 11, 5, 0).unwrap();
        let iraq = iraq_time();
        assert_eq!(without_isolates(&Conventions::default().date_time(&at.with_timezone(&iraq))), "24/11/2026 14:05");
        assert_eq!(without_isolates(&eastern().date_time(&at.with_timezone(&iraq))), "٢٤/١١/٢٠٢٦ ١٤:٠٥");
    }

    #[test]
    fn only_western_digits_change_and_other_text_stays() {
        assert_eq!(eastern().digits("07701234567 ٣"), "٠٧٧٠١٢٣٤٥٦٧ ٣");
        assert_eq!(isolate("7K2QX-M4B9R"), "\u{2066}7K2QX-M4B9R\u{2069}");
        assert_eq!(without_isolates(&Conventions::default().number(1_774_204)), "1774204");
    }

    #[test]
    fn each_language_takes_its_digits_from_the_node_and_western_is_the_default() {
        let mut by = DigitsByLanguage::default();
        assert_eq!(Conventions::for_language(&by, "ar").digits, Digits::Western);
        by.ar = Digits::Eastern;
        assert_eq!(Conventions::for_language(&by, "ar").digits, Digits::Eastern);
        assert_eq!(Conventions::for_language(&by, "ckb").digits, Digits::Western);
        assert_eq!(Conventions::for_language(&by, "fr").digits, Digits::Western);
    }
}
