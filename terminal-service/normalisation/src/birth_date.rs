//! Dates of birth in the forms people write them.
//!
//! **Order.** Iraqi usage, on the national card and on paper forms, is day/month/year. A date
//! whose first number has four digits is read year/month/day (ISO `1985-03-12`, `1985/3/12`);
//! any other three-number date is read day/month/year (`12/3/1985`, `12-03-1985`,
//! `12.03.1985`). A month-first date (`3/25/1985`) is refused rather than silently swapped: the
//! person who wrote it would have the dates with a day ≤ 12 read wrongly, so they must be told.
//!
//! | form | example | read as |
//! | --- | --- | --- |
//! | ISO, year first, separators `-` `/` `.` | `1985-03-12` `1985/3/12` | 12 March 1985 |
//! | day first, separators `/` `-` `.` `\` `,` `،` `؍` `٫` `٬` `∕` or spaces | `12/3/1985` `12.03.1985` `12 3 1985` | 12 March 1985 |
//! | Eastern Arabic or Persian digits, bidi marks anywhere | `١٢/٣/١٩٨٥` `۱۲/۳/۱۹۸۵` | 12 March 1985 |
//! | eight digits, day first or year first | `12031985` `19850312` | 12 March 1985 |
//! | year only | `1985` | 1985 (month and day unknown) |
//! | month and year | `3/1985` `1985-03` | March 1985 |
//! | month names: Iraqi (كانون الثاني … كانون الأول, and ك2 ت1 ت2 ك1), Egyptian/Gulf (يناير … ديسمبر), English (January/Jan …) | `12 آذار 1985` `12 مارس 1985` `March 12, 1985` `12 mar 1985` | 12 March 1985 |
//!
//! Checked: a four-digit year (two-digit years are refused: 85 could be 1985 or 2085… or
//! 1885 for an older form), year 1900–2030, month 1–12, and a day that exists in that month
//! (29 February only in leap years).

use std::fmt;

use crate::digits::ascii_digit;
use crate::fold::is_invisible;

/// The earliest year of birth accepted.
pub const EARLIEST_YEAR: u16 = 1900;
/// The latest year of birth accepted.
pub const LATEST_YEAR: u16 = 2030;

/// A date of birth; month and day are absent when only the year is known.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct BirthDate {
    /// Year, e.g. 1985.
    pub year: u16,
    /// Month 1–12, if known.
    pub month: Option<u8>,
    /// Day 1–31, if known.
    pub day: Option<u8>,
}

impl BirthDate {
    /// ISO 8601 text of what is known: `1985-03-12`, `1985-03` or `1985`.
    pub fn to_iso(&self) -> String {
        self.to_string()
    }

    /// Whether day, month and year are all known.
    pub fn is_complete(&self) -> bool {
        self.month.is_some() && self.day.is_some()
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(month) = self.month {
            write!(f, "-{month:02}")?;
            if let Some(day) = self.day {
                write!(f, "-{day:02}")?;
            }
        }
        Ok(())
    }
}

/// Why a text is not a date of birth. Each message says what was wrong and the form to use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BirthDateError {
    /// Nothing was written.
    #[error("the date of birth is empty: write it as day/month/year, e.g. 12/03/1985, or the year alone, e.g. 1985")]
    Empty,
    /// Not a date in any accepted form.
    #[error("'{0}' is not a date: write it as day/month/year, e.g. 12/03/1985")]
    Unreadable(String),
    /// A year written with two digits.
    #[error("'{0}' has a two-digit year: write the year with four digits, day/month/year, e.g. 12/03/1985")]
    TwoDigitYear(String),
    /// A year outside [`EARLIEST_YEAR`]..=[`LATEST_YEAR`].
    #[error("year {year} is not a possible year of birth (1900–2030): check the year; dates are day/month/year, e.g. 12/03/1985")]
    YearOutOfRange {
        /// The year as read.
        year: u32,
    },
    /// A month number outside 1–12.
    #[error("there is no month {month}: dates are written day/month/year (day first), e.g. 25/03/1985 for 25 March 1985")]
    NoSuchMonth {
        /// The month as read.
        month: u32,
    },
    /// A day that does not exist in its month.
    #[error("there is no day {day} in month {month} of {year}: check the day; dates are day/month/year, e.g. 12/03/1985")]
    NoSuchDay {
        /// The year as read.
        year: u16,
        /// The month as read.
        month: u8,
        /// The day as read.
        day: u32,
    },
    /// Words that are not a month name.
    #[error(
        "'{0}' is not a month name: write the month as a number, day/month/year, e.g. 12/03/1985"
    )]
    UnknownMonthName(String),
}

/// Reads a date of birth as written (e.g. `1985-03-12`, `12/3/1985`, `١٢/٣/١٩٨٥`, `1985`,
/// `12 آذار 1985`): day/month/year unless the year comes first. See the
/// [module documentation](self) for every accepted form.
pub fn parse_birth_date(text: &str) -> Result<BirthDate, BirthDateError> {
    let tokens = tokens(text)?;
    let numbers: Vec<&str> = tokens.iter().filter_map(Token::number).collect();
    // "م" (ميلادي, of the common era) often follows the year: 12/3/1985م.
    let words: Vec<&str> = tokens
        .iter()
        .filter_map(Token::word)
        .filter(|w| !matches!(crate::fold(w).as_str(), "م" | "ميلادي" | "ad"))
        .collect();
    let unreadable = || BirthDateError::Unreadable(text.trim().to_owned());
    if tokens.is_empty() {
        return Err(BirthDateError::Empty);
    }
    if !words.is_empty() {
        let month = month_named(&words.join(" "))?.to_string();
        let month = Some(month.as_str());
        return match numbers.as_slice() {
            [year] => date(text, year, month, None),
            [a, b] if a.len() == 4 && b.len() <= 2 => date(text, a, month, Some(b)),
            [a, b] if a.len() <= 2 => date(text, b, month, Some(a)),
            _ => Err(unreadable()),
        };
    }
    match numbers.as_slice() {
        [eight] if eight.len() == 8 => {
            let year_first = date(text, &eight[0..4], Some(&eight[4..6]), Some(&eight[6..8]));
            let day_first = date(text, &eight[4..8], Some(&eight[2..4]), Some(&eight[0..2]));
            // At most one reading has a year in range and a month ≤ 12 (see the tests); when
            // neither is a date, the error of the reading the digits look like is the useful one.
            match (year_first, day_first) {
                (Ok(date), _) | (_, Ok(date)) => Ok(date),
                (Err(year_first), Err(_)) if eight.starts_with("19") || eight.starts_with("20") => {
                    Err(year_first)
                }
                (Err(_), Err(day_first)) => Err(day_first),
            }
        }
        [year] => date(text, year, None, None),
        [a, b] if a.len() == 4 && b.len() <= 2 => date(text, a, Some(b), None),
        [a, b] if a.len() <= 2 => date(text, b, Some(a), None),
        [a, b, c] if a.len() == 4 && b.len() <= 2 && c.len() <= 2 => {
            date(text, a, Some(b), Some(c))
        }
        [a, b, c] if a.len() <= 2 && b.len() <= 2 => date(text, c, Some(b), Some(a)),
        _ => Err(unreadable()),
    }
}

/// Checks and builds a date from its numbers as written.
fn date(
    text: &str,
    year: &str,
    month: Option<&str>,
    day: Option<&str>,
) -> Result<BirthDate, BirthDateError> {
    if year.len() <= 2 {
        return Err(BirthDateError::TwoDigitYear(text.trim().to_owned()));
    }
    let unreadable = || BirthDateError::Unreadable(text.trim().to_owned());
    let number = |s: &str| s.parse::<u32>().map_err(|_| unreadable());
    let year_number = number(year)?;
    let year = u16::try_from(year_number)
        .ok()
        .filter(|y| (EARLIEST_YEAR..=LATEST_YEAR).contains(y))
        .ok_or(BirthDateError::YearOutOfRange { year: year_number })?;
    let month = match month {
        None => {
            return Ok(BirthDate {
                year,
                month: None,
                day: None,
            })
        }
        Some(m) => {
            let m = number(m)?;
            u8::try_from(m)
                .ok()
                .filter(|m| (1..=12).contains(m))
                .ok_or(BirthDateError::NoSuchMonth { month: m })?
        }
    };
    let day = match day {
        None => {
            return Ok(BirthDate {
                year,
                month: Some(month),
                day: None,
            })
        }
        Some(d) => {
            let d = number(d)?;
            u8::try_from(d)
                .ok()
                .filter(|d| (1..=days_in_month(year, month)).contains(d))
                .ok_or(BirthDateError::NoSuchDay {
                    year,
                    month,
                    day: d,
                })?
        }
    };
    Ok(BirthDate {
        year,
        month: Some(month),
        day: Some(day),
    })
}

/// Days in `month` of `year` (Gregorian leap years).
pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

enum Token {
    Number(String),
    Word(String),
}

impl Token {
    fn number(&self) -> Option<&str> {
        match self {
            Token::Number(n) => Some(n),
            Token::Word(_) => None,
        }
    }

    fn word(&self) -> Option<&str> {
        match self {
            Token::Word(w) => Some(w),
            Token::Number(_) => None,
        }
    }
}

/// Splits a written date into its numbers (ASCII digits) and words, dropping separators and
/// invisible marks; anything else makes the date unreadable.
fn tokens(text: &str) -> Result<Vec<Token>, BirthDateError> {
    let mut tokens = Vec::with_capacity(3);
    for c in text.chars() {
        let c = ascii_digit(c).unwrap_or(c);
        let last = tokens.last_mut();
        match c {
            '0'..='9' => match last {
                Some(Token::Number(n)) => n.push(c),
                // Iraqi abbreviations: ك2 (كانون الثاني), ك1, ت1 (تشرين الأول), ت2.
                Some(Token::Word(w)) if matches!(w.as_str(), "ك" | "ک" | "ت") => w.push(c),
                _ => tokens.push(Token::Number(c.to_string())),
            },
            c if c.is_alphabetic() || crate::fold::is_arabic_mark(c) => match last {
                Some(Token::Word(w)) => w.push(c),
                _ => tokens.push(Token::Word(c.to_string())),
            },
            c if is_invisible(c) => {}
            c if c.is_whitespace() || is_separator(c) => {
                // A separator ends the word or number: two in a row are one.
                if !matches!(tokens.last(), Some(Token::Word(w)) | Some(Token::Number(w)) if w.is_empty())
                {
                    tokens.push(Token::Number(String::new()));
                }
            }
            _ => return Err(BirthDateError::Unreadable(text.trim().to_owned())),
        }
    }
    tokens.retain(|t| !matches!(t, Token::Number(n) | Token::Word(n) if n.is_empty()));
    Ok(tokens)
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        '/' | '-' | '.' | ',' | '\\' | '_' | '،' | '؍' | '٫' | '٬' | '∕' | '⁄' | '‐'..='―'
    )
}

/// The month number for a month name in Arabic (Iraqi and Levantine, or Egyptian and Gulf) or
/// English, compared after [`crate::fold()`] so spelling variants (آذار/اذار, أيار/ايار) agree.
fn month_named(words: &str) -> Result<u8, BirthDateError> {
    let folded = crate::fold(words);
    let name = folded.as_str();
    const NAMES: &[(&str, u8)] = &[
        ("كانون الثاني", 1),
        ("شباط", 2),
        ("اذار", 3),
        ("نيسان", 4),
        ("ايار", 5),
        ("حزيران", 6),
        ("تموز", 7),
        ("اب", 8),
        ("ايلول", 9),
        ("تشرين الاول", 10),
        ("تشرين الثاني", 11),
        ("كانون الاول", 12),
        ("ك2", 1),
        ("ت1", 10),
        ("ت2", 11),
        ("ك1", 12),
        ("يناير", 1),
        ("فبراير", 2),
        ("مارس", 3),
        ("ابريل", 4),
        ("مايو", 5),
        ("يونيو", 6),
        ("يونيه", 6),
        ("يوليو", 7),
        ("يوليه", 7),
        ("اغسطس", 8),
        ("سبتمبر", 9),
        ("اكتوبر", 10),
        ("نوفمبر", 11),
        ("ديسمبر", 12),
        ("january", 1),
        ("february", 2),
        ("march", 3),
        ("april", 4),
        ("may", 5),
        ("june", 6),
        ("july", 7),
        ("august", 8),
        ("september", 9),
        ("sept", 9),
        ("october", 10),
        ("november", 11),
        ("december", 12),
    ];
    NAMES
        .iter()
        .find(|(candidate, _)| {
            *candidate == name
                // English abbreviations: jan, feb, mar…
                || (candidate.is_ascii() && name.len() == 3 && candidate.starts_with(name))
        })
        .map(|&(_, month)| month)
        .ok_or_else(|| BirthDateError::UnknownMonthName(words.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(year: u16, month: u8, day: u8) -> BirthDate {
        BirthDate {
            year,
            month: Some(month),
            day: Some(day),
        }
    }

    #[test]
    fn iso_and_year_first_forms() {
        assert_eq!(parse_birth_date("1985-03-12"), Ok(full(1985, 3, 12)));
        assert_eq!(parse_birth_date("1985/3/12"), Ok(full(1985, 3, 12)));
        assert_eq!(parse_birth_date("1985.03.12"), Ok(full(1985, 3, 12)));
    }

    #[test]
    fn day_first_forms_are_iraqi_order() {
        for text in [
            "12/3/1985",
            "12-03-1985",
            "12.03.1985",
            "12 3 1985",
            "12\\3\\1985",
            "12،3،1985",
            "12٫3٫1985",
            " 12 / 03 / 1985 ",
        ] {
            assert_eq!(parse_birth_date(text), Ok(full(1985, 3, 12)), "{text}");
        }
        // Day ≤ 12 is still the day: 3 December, not 12 March.
        assert_eq!(parse_birth_date("3/12/1985"), Ok(full(1985, 12, 3)));
    }

    #[test]
    fn eastern_arabic_and_persian_digits_and_bidi_marks() {
        assert_eq!(parse_birth_date("١٢/٣/١٩٨٥"), Ok(full(1985, 3, 12)));
        assert_eq!(parse_birth_date("۱۲/۳/۱۹۸۵"), Ok(full(1985, 3, 12)));
        assert_eq!(
            parse_birth_date("\u{200F}١٢\u{200F}/٣/١٩٨٥"),
            Ok(full(1985, 3, 12))
        );
        assert_eq!(parse_birth_date("١٩٨٥-٠٣-١٢"), Ok(full(1985, 3, 12)));
    }

    #[test]
    fn eight_digits_either_order() {
        assert_eq!(parse_birth_date("12031985"), Ok(full(1985, 3, 12)));
        assert_eq!(parse_birth_date("19850312"), Ok(full(1985, 3, 12)));
        assert_eq!(parse_birth_date("20011990"), Ok(full(1990, 1, 20)));
        assert_eq!(parse_birth_date("20100112"), Ok(full(2010, 1, 12)));
    }

    #[test]
    fn partial_dates() {
        let year_only = BirthDate {
            year: 1985,
            month: None,
            day: None,
        };
        assert_eq!(parse_birth_date("1985"), Ok(year_only));
        assert_eq!(parse_birth_date("١٩٨٥"), Ok(year_only));
        let month_year = BirthDate {
            year: 1985,
            month: Some(3),
            day: None,
        };
        assert_eq!(parse_birth_date("3/1985"), Ok(month_year));
        assert_eq!(parse_birth_date("1985-03"), Ok(month_year));
    }

    #[test]
    fn month_names() {
        for text in [
            "12 آذار 1985",
            "12 اذار 1985",
            "12 مارس 1985",
            "March 12, 1985",
            "12 mar 1985",
            "12-Mar-1985",
            "١٢ آذار ١٩٨٥",
        ] {
            assert_eq!(parse_birth_date(text), Ok(full(1985, 3, 12)), "{text}");
        }
        assert_eq!(
            parse_birth_date("1 كانون الثاني 1990"),
            Ok(full(1990, 1, 1))
        );
        assert_eq!(parse_birth_date("12/3/1985م"), Ok(full(1985, 3, 12)));
        assert_eq!(parse_birth_date("12 ك2 1985"), Ok(full(1985, 1, 12)));
        assert_eq!(parse_birth_date("١٢ ت١ ١٩٨٥"), Ok(full(1985, 10, 12)));
        assert_eq!(parse_birth_date("12/ک1/1985"), Ok(full(1985, 12, 12)));
        assert_eq!(parse_birth_date("5 تشرين الأول 1970"), Ok(full(1970, 10, 5)));
        assert_eq!(
            parse_birth_date("أيار 1962"),
            Ok(BirthDate {
                year: 1962,
                month: Some(5),
                day: None
            })
        );
        assert_eq!(
            parse_birth_date("12 فلان 1985"),
            Err(BirthDateError::UnknownMonthName("فلان".to_owned()))
        );
    }

    #[test]
    fn impossible_dates_say_what_is_wrong() {
        assert_eq!(
            parse_birth_date("29/2/1985"),
            Err(BirthDateError::NoSuchDay {
                year: 1985,
                month: 2,
                day: 29
            })
        );
        assert_eq!(parse_birth_date("29/2/1984"), Ok(full(1984, 2, 29)));
        assert_eq!(parse_birth_date("29/2/2000"), Ok(full(2000, 2, 29)));
        assert_eq!(
            parse_birth_date("29/2/1900"),
            Err(BirthDateError::NoSuchDay {
                year: 1900,
                month: 2,
                day: 29
            })
        );
        assert_eq!(
            parse_birth_date("31/4/1985"),
            Err(BirthDateError::NoSuchDay {
                year: 1985,
                month: 4,
                day: 31
            })
        );
        assert_eq!(
            parse_birth_date("0/4/1985"),
            Err(BirthDateError::NoSuchDay {
                year: 1985,
                month: 4,
                day: 0
            })
        );
        assert_eq!(
            parse_birth_date("3/25/1985"),
            Err(BirthDateError::NoSuchMonth { month: 25 })
        );
        assert_eq!(
            parse_birth_date("12/0/1985"),
            Err(BirthDateError::NoSuchMonth { month: 0 })
        );
        assert_eq!(
            parse_birth_date("12/3/1885"),
            Err(BirthDateError::YearOutOfRange { year: 1885 })
        );
        assert_eq!(
            parse_birth_date("2031"),
            Err(BirthDateError::YearOutOfRange { year: 2031 })
        );
        assert_eq!(
            parse_birth_date("12/3/85"),
            Err(BirthDateError::TwoDigitYear("12/3/85".to_owned()))
        );
        assert_eq!(parse_birth_date(""), Err(BirthDateError::Empty));
        assert_eq!(parse_birth_date(" / "), Err(BirthDateError::Empty));
        assert_eq!(
            parse_birth_date("12/3/1985/4"),
            Err(BirthDateError::Unreadable("12/3/1985/4".to_owned()))
        );
        assert_eq!(
            parse_birth_date("12?3?1985"),
            Err(BirthDateError::Unreadable("12?3?1985".to_owned()))
        );
        assert_eq!(
            parse_birth_date("99999999"),
            Err(BirthDateError::YearOutOfRange { year: 9999 })
        );
        assert_eq!(
            parse_birth_date("19850231"),
            Err(BirthDateError::NoSuchDay {
                year: 1985,
                month: 2,
                day: 31
            })
        );
        assert_eq!(
            parse_birth_date("31041985"),
            Err(BirthDateError::NoSuchDay {
                year: 1985,
                month: 4,
                day: 31
            })
        );
    }

    #[test]
    fn error_messages_name_the_form_to_use() {
        for text in [
            "",
            "x",
            "3/25/1985",
            "31/4/1985",
            "12/3/85",
            "1885",
            "12 فلان 1985",
        ] {
            let message = parse_birth_date(text).unwrap_err().to_string();
            assert!(
                message.contains("12/03/1985") || message.contains("25/03/1985"),
                "{message}"
            );
        }
    }

    #[test]
    fn iso_text_of_what_is_known() {
        assert_eq!(full(1985, 3, 2).to_iso(), "1985-03-02");
        assert_eq!(
            BirthDate {
                year: 1985,
                month: Some(3),
                day: None
            }
            .to_string(),
            "1985-03"
        );
        assert_eq!(
            BirthDate {
                year: 1985,
                month: None,
                day: None
            }
            .to_string(),
            "1985"
        );
        assert!(full(1985, 3, 2).is_complete());
    }

    #[test]
    fn iso_text_parses_back() {
        for date in [
            full(1985, 3, 2),
            BirthDate {
                year: 1985,
                month: Some(3),
                day: None,
            },
            BirthDate {
                year: 1985,
                month: None,
                day: None,
            },
        ] {
            assert_eq!(parse_birth_date(&date.to_iso()), Ok(date));
        }
    }
}
