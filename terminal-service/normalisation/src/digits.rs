//! Digits of every script.
//!
//! Iraqi forms and keyboards mix three digit sets: ASCII (`0123`), Eastern Arabic (`٠١٢٣`,
//! U+0660–U+0669, the Arabic keyboard's) and Persian (`۰۱۲۳`, U+06F0–U+06F9, the Kurdish
//! keyboard's; ٤٥٦ and ۴۵۶ differ in shape and code point). Everything we compare uses ASCII.

/// The ASCII digit for an Eastern Arabic (`٣` → `3`) or Persian (`۳` → `3`) digit, or `None`
/// for any other character (ASCII digits included: callers keep those as they are).
#[inline]
pub fn ascii_digit(c: char) -> Option<char> {
    match c {
        '\u{0660}'..='\u{0669}' => char::from_u32('0' as u32 + (c as u32 - 0x0660)),
        '\u{06F0}'..='\u{06F9}' => char::from_u32('0' as u32 + (c as u32 - 0x06F0)),
        _ => None,
    }
}

/// `text` with Eastern Arabic (٠–٩) and Persian (۰–۹) digits replaced by ASCII digits; every
/// other character is kept. `"١٢/٣/۱۹۸۵"` → `"12/3/1985"`.
pub fn ascii_digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        out.push(ascii_digit(c).unwrap_or(c));
    }
    out
}

/// A national ID as typed, reduced to its ASCII digits: digits of any of the three scripts are
/// kept, spaces, dashes, dots and slashes (how people group long numbers) and invisible
/// direction marks are removed. `None` when nothing is left or when anything else is in it (a
/// letter means the wrong field, not a typo to silently drop). The length is not checked here:
/// what a valid ID looks like is the caller's rule.
///
/// `"١٩٨ ٥٠٣-١٢٣٤"` → `Some("1985031234")`, `"12A4"` → `None`.
pub fn national_id(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '0'..='9' => out.push(c),
            ' ' | '-' | '.' | '/' | '_' | '\u{00A0}' | '\u{2010}'..='\u{2015}' => {}
            c if crate::fold::is_invisible(c) => {}
            c => out.push(ascii_digit(c)?),
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eastern_arabic_and_persian_digits_become_ascii() {
        assert_eq!(ascii_digits("٠١٢٣٤٥٦٧٨٩"), "0123456789");
        assert_eq!(ascii_digits("۰۱۲۳۴۵۶۷۸۹"), "0123456789");
        assert_eq!(ascii_digits("١٢/٣/۱۹۸۵"), "12/3/1985");
    }

    #[test]
    fn other_characters_are_kept() {
        assert_eq!(ascii_digits("علي 42"), "علي 42");
        assert_eq!(ascii_digit('5'), None);
    }

    #[test]
    fn national_id_keeps_digits_of_any_script_and_drops_grouping() {
        assert_eq!(national_id("١٩٨ ٥٠٣-١٢٣٤"), Some("1985031234".to_owned()));
        assert_eq!(national_id(" 1985.0312.34 "), Some("1985031234".to_owned()));
        assert_eq!(national_id("\u{200F}۱۲۳۴"), Some("1234".to_owned()));
    }

    #[test]
    fn national_id_refuses_letters_and_empty_text() {
        assert_eq!(national_id("12A4"), None);
        assert_eq!(national_id("١٢س٤"), None);
        assert_eq!(national_id(" - "), None);
        assert_eq!(national_id(""), None);
    }
}
