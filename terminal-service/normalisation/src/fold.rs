//! The canonical folding of Arabic and Kurdish Sorani text.
//!
//! One folding for both scripts, so that a name typed on an Arabic keyboard and the same name
//! typed on a Kurdish keyboard fold to the same text. The canonical letters are the **Arabic**
//! ones (ا ي ه ك): most of the registry is Arabic-script Arabic (1.77 million persons before
//! Kurdistan's 0.75 million), an Arabic name folded this way is still that name correctly spelled
//! (only undotted for hamza and without vowel marks), and staff reading explanations see ordinary
//! Arabic. Letters that exist only in Kurdish (ڕ ڵ ۆ ێ ە and the Persian-Kurdish گ چ پ ژ ڤ) are
//! *kept*: they carry sounds Arabic has no letter for, and merging them here would merge distinct
//! Kurdish names. [`crate::phonetic_key`] is the looser key that maps them to Arabic letters.
//!
//! | rule | in | out |
//! | --- | --- | --- |
//! | alef with hamza, madda or wasla → alef | `أحمد` `إبراهيم` `آمنة` `ٱلله` | `احمد` `ابراهيم` `امنه` `الله` |
//! | waw with hamza → waw | `مؤمن` | `مومن` |
//! | yeh with hamza → yeh (inside a word) | `رائد` `هانئ` | `رايد` `هاني` |
//! | Kurdish word-initial ئ (silent vowel carrier) → alef | `ئەحمەد` `ئازاد` | `اەحمەد` `ازاد` |
//! | standalone hamza ء dropped | `علاء` `زهراء` | `علا` `زهرا` |
//! | teh marbuta, heh doachashmee, heh goal → heh | `فاطمة` `ھاوڕێ` | `فاطمه` `هاوڕێ` |
//! | Kurdish ە at the end of a word → heh | `فاتمە` | `فاتمه` |
//! | Kurdish ە inside a word kept (a vowel letter) | `حەسەن` | `حەسەن` |
//! | heh + ZWNJ (old Kurdish typing of ە) → ە | `ه‌` | `ە` (→ `ه` at word end) |
//! | alef maqsura, Farsi yeh → yeh | `مصطفى` `علی` | `مصطفي` `علي` |
//! | keheh (Kurdish/Persian kaf), swash kaf → kaf | `کریم` | `كريم` |
//! | reh with small v (ڒ) → ڕ; word-initial ڕ → ر | `ڕەزا` | `رەزا` |
//! | diacritics removed (harakat, tanwin, shadda, sukun, superscript alef, combining hamza and madda, Quranic marks) | `مُحَمَّد` | `محمد` |
//! | tatweel removed | `محـــمد` | `محمد` |
//! | zero-width (ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen) and bidi controls (LRM, RLM, ALM, LRE…RLO, LRI…PDI) removed | `\u{200F}علي\u{200E}` | `علي` |
//! | Eastern Arabic and Persian digits → ASCII | `١٩٨٥` `۱۹۸۵` | `1985` |
//! | punctuation → space; whitespace runs → one space; trimmed | ` علي ،  حسن. ` | `علي حسن` |
//! | Latin lowercased | `Ali HASSAN` | `ali hassan` |
//!
//! The folding is idempotent (`fold(fold(x)) == fold(x)`) and runs in one pass over the
//! characters into a pre-sized `String`, without regular expressions or tables on the heap.

const ALEF: char = '\u{0627}'; // ا
const WAW: char = '\u{0648}'; // و
const YEH: char = '\u{064A}'; // ي
const HEH: char = '\u{0647}'; // ه
const KAF: char = '\u{0643}'; // ك
const REH: char = '\u{0631}'; // ر
const RREH: char = '\u{0695}'; // ڕ
const AE: char = '\u{06D5}'; // ە
const ZWNJ: char = '\u{200C}';
const HAMZA_ABOVE: char = '\u{0654}';

/// Folds `text` to its canonical spelling: one letter for each family of variants, no
/// diacritics, tatweel, zero-width or bidirectional controls, ASCII digits, single spaces.
/// See the [module documentation](self) for every rule with an example.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Characters pushed in the word being written: 0 means the next letter starts a word.
    let mut word_len = 0usize;
    let mut space_pending = false;
    for c in text.chars() {
        let folded = match c {
            'a'..='z' | '0'..='9' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            // Alef with madda, hamza above, hamza below, wasla, wavy hamza, high hamza.
            '\u{0622}' | '\u{0623}' | '\u{0625}' | '\u{0671}' | '\u{0672}' | '\u{0673}'
            | '\u{0675}' => ALEF,
            // Waw with hamza above, high hamza waw.
            '\u{0624}' | '\u{0676}' | '\u{0677}' => WAW,
            // Yeh with hamza: Kurdish writes ئ before every word-initial vowel, where Arabic
            // writes an alef (ئەحمەد / أحمد); inside a word it is the yeh Iraqis also write
            // plainly (رائد / رايد).
            '\u{0626}' | '\u{0678}' => {
                if word_len == 0 {
                    ALEF
                } else {
                    YEH
                }
            }
            // Standalone hamza: dropped, see the README for why.
            '\u{0621}' => continue,
            // Alef maqsura, Farsi yeh, yeh with small v below is NOT here (ێ is a Kurdish vowel).
            '\u{0649}' | '\u{06CC}' => YEH,
            // Teh marbuta, heh doachashmee, heh goal, heh with yeh above, teh marbuta goal.
            '\u{0629}' | '\u{06BE}' | '\u{06C1}' | '\u{06C0}' | '\u{06C3}' => HEH,
            // Keheh, swash kaf.
            '\u{06A9}' | '\u{06AA}' => KAF,
            // Reh with small v (an old encoding of ڕ) and ڕ: word-initial r is always the trilled
            // one in Sorani, so writers use either letter there; Arabic spellings use ر.
            '\u{0692}' | '\u{0695}' => {
                if word_len == 0 {
                    REH
                } else {
                    RREH
                }
            }
            ZWNJ => {
                // Before Unicode had ە, Sorani was typed as heh + ZWNJ.
                if word_len > 0 && out.ends_with(HEH) {
                    out.pop();
                    out.push(AE);
                }
                continue;
            }
            HAMZA_ABOVE => {
                // A decomposed ئ (yeh + combining hamza) at the start of a word is the Kurdish
                // vowel carrier, like the precomposed one above.
                if word_len == 1 && out.ends_with(YEH) {
                    out.pop();
                    out.push(ALEF);
                }
                continue;
            }
            // Letters kept as they are: the Arabic block's plain letters and the Kurdish,
            // Persian and other extended letters not folded above.
            '\u{0628}'..='\u{063A}'
            | '\u{0641}'..='\u{064A}'
            | ALEF
            | '\u{0674}'
            | '\u{0679}'..='\u{06D3}'
            | AE => c,
            '\u{0660}'..='\u{0669}' => ascii(c as u32 - 0x0660),
            '\u{06F0}'..='\u{06F9}' => ascii(c as u32 - 0x06F0),
            c if is_arabic_mark(c) || is_invisible(c) => continue,
            c if c.is_whitespace() || is_punctuation(c) => {
                end_word(&mut out, word_len);
                space_pending |= word_len > 0;
                word_len = 0;
                continue;
            }
            c if c.is_control() => continue,
            c if c.is_uppercase() => {
                if std::mem::take(&mut space_pending) {
                    out.push(' ');
                }
                for lower in c.to_lowercase() {
                    out.push(lower);
                    word_len += 1;
                }
                continue;
            }
            c => c,
        };
        // Kurdish ئا (word-initial carrier + long a) is Arabic آ: one alef.
        if folded == ALEF && word_len == 1 && out.ends_with(ALEF) {
            continue;
        }
        if std::mem::take(&mut space_pending) {
            out.push(' ');
        }
        out.push(folded);
        word_len += 1;
    }
    end_word(&mut out, word_len);
    out
}

/// Kurdish ە at the end of a word is the same final vowel Arabic writes ة or ه (فاتمە / فاطمة):
/// it folds to ه there. Inside a word it is a vowel letter with no Arabic counterpart and stays.
#[inline]
fn end_word(out: &mut String, word_len: usize) {
    if word_len > 0 && out.ends_with(AE) {
        out.pop();
        out.push(HEH);
    }
}

#[inline]
fn ascii(offset: u32) -> char {
    char::from_digit(offset, 10).unwrap_or('0')
}

/// Arabic combining marks: harakat, tanwin, shadda, sukun, maddah and hamza above/below,
/// superscript (dagger) alef, Quranic annotation signs, and tatweel (not a mark, but as
/// meaningless in a name).
#[inline]
pub(crate) fn is_arabic_mark(c: char) -> bool {
    matches!(c,
        '\u{0610}'..='\u{061A}'
        | '\u{0640}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{06D6}'..='\u{06DC}'
        | '\u{06DF}'..='\u{06E4}'
        | '\u{06E7}'..='\u{06E8}'
        | '\u{06EA}'..='\u{06ED}'
        | '\u{08D3}'..='\u{08FF}')
}

/// Characters that take no room and carry no letter: zero-width space, non-joiner and joiner,
/// word joiner and invisible operators, byte-order mark, soft hyphen, combining grapheme
/// joiner, and the bidirectional controls (LRM, RLM, ALM, LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI,
/// PDI) that copy-paste from forms and phones leaves in names.
#[inline]
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{034F}'
        | '\u{061C}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}')
}

/// Punctuation that separates words in a name as a space would: ASCII punctuation, Arabic
/// comma, semicolon, question mark, full stop, percent and separators, guillemets and the
/// General Punctuation block (dashes, quotes, ellipsis).
#[inline]
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c,
            '\u{00AB}' | '\u{00BB}'
            | '\u{060C}'..='\u{060D}'
            | '\u{061B}'
            | '\u{061F}'
            | '\u{066A}'..='\u{066D}'
            | '\u{06D4}'
            | '\u{2010}'..='\u{2027}'
            | '\u{2030}'..='\u{205E}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alef_forms_fold_to_bare_alef() {
        assert_eq!(fold("أحمد"), "احمد");
        assert_eq!(fold("إبراهيم"), "ابراهيم");
        assert_eq!(fold("آمنة"), "امنه");
        assert_eq!(fold("ٱلله"), "الله");
    }

    #[test]
    fn hamza_carriers_fold_to_their_letter() {
        assert_eq!(fold("مؤمن"), "مومن");
        assert_eq!(fold("رائد"), fold("رايد"));
        assert_eq!(fold("هانئ"), "هاني");
        assert_eq!(fold("عائشة"), "عايشه");
    }

    #[test]
    fn kurdish_word_initial_yeh_with_hamza_is_an_alef() {
        assert_eq!(fold("ئەحمەد"), "اەحمەد");
        assert_eq!(fold("ئیبراهیم"), "ايبراهيم");
        assert_eq!(fold("ئازاد"), fold("آزاد"));
        assert_eq!(fold("ئازاد"), "ازاد");
        // Decomposed: yeh + combining hamza above.
        assert_eq!(fold("\u{064A}\u{0654}ەحمەد"), "اەحمەد");
        // Inside a word the decomposed form is a plain yeh.
        assert_eq!(fold("را\u{064A}\u{0654}د"), "رايد");
    }

    #[test]
    fn standalone_hamza_is_dropped() {
        assert_eq!(fold("علاء"), "علا");
        assert_eq!(fold("زهراء"), "زهرا");
        assert_eq!(fold("اسراء"), fold("اسرا"));
    }

    #[test]
    fn teh_marbuta_heh_forms_and_final_ae_fold_to_heh() {
        assert_eq!(fold("فاطمة"), "فاطمه");
        assert_eq!(fold("فاطمه"), "فاطمه");
        assert_eq!(fold("فاتمە"), "فاتمه");
        assert_eq!(fold("ھاشم"), "هاشم");
        assert_eq!(fold("ہاشم"), "هاشم");
        assert_eq!(fold("سمیرە حسن"), "سميره حسن");
    }

    #[test]
    fn kurdish_ae_inside_a_word_is_kept() {
        assert_eq!(fold("حەسەن"), "حەسەن");
        // ... and heh + ZWNJ, the old typing of ە, becomes ە.
        assert_eq!(fold("حه\u{200C}سه\u{200C}ن"), "حەسەن");
        assert_eq!(fold("فاتمه\u{200C}"), "فاتمه");
    }

    #[test]
    fn yeh_forms_fold_to_yeh() {
        assert_eq!(fold("مصطفى"), "مصطفي");
        assert_eq!(fold("علی"), "علي");
        assert_eq!(fold("على"), fold("علي"));
        // ێ is a Kurdish vowel, not a yeh variant: kept.
        assert_eq!(fold("شێرکۆ"), "شێركۆ");
    }

    #[test]
    fn kaf_forms_fold_to_arabic_kaf() {
        assert_eq!(fold("کریم"), "كريم");
        assert_eq!(fold("ڪريم"), "كريم");
        assert_eq!(fold("کەریم"), "كەريم");
    }

    #[test]
    fn reh_forms_fold_by_position() {
        assert_eq!(fold("ڕەزا"), "رەزا");
        assert_eq!(fold("ڒەزا"), "رەزا");
        assert_eq!(fold("کەڕ"), "كەڕ");
        assert_eq!(fold("کەڒ"), "كەڕ");
    }

    #[test]
    fn diacritics_and_tatweel_are_removed() {
        assert_eq!(fold("مُحَمَّد"), "محمد");
        assert_eq!(fold("عَبْدُ اللّٰهِ"), "عبد الله");
        assert_eq!(fold("كِتَابٌ"), "كتاب");
        assert_eq!(fold("محـــمد"), "محمد");
        assert_eq!(fold("الرَّحْمٰن"), "الرحمن");
        // Decomposed alef with hamza or madda folds like the precomposed letter.
        assert_eq!(fold("\u{0627}\u{0654}حمد"), "احمد");
        assert_eq!(fold("\u{0627}\u{0653}منة"), "امنه");
        assert_eq!(fold("ﷺمحمدۖ"), "ﷺمحمد");
    }

    #[test]
    fn invisible_characters_are_removed() {
        assert_eq!(fold("\u{200F}علي\u{200E}"), "علي");
        assert_eq!(fold("\u{FEFF}عل\u{200D}ي\u{200B}"), "علي");
        assert_eq!(
            fold("\u{202B}علي\u{202C} \u{2067}حسن\u{2069}\u{061C}"),
            "علي حسن"
        );
        assert_eq!(fold("عل\u{00AD}ي"), "علي");
    }

    #[test]
    fn digits_become_ascii() {
        assert_eq!(fold("١٩٨٥"), "1985");
        assert_eq!(fold("۱۹۸۵"), "1985");
    }

    #[test]
    fn spacing_and_punctuation_collapse_to_single_spaces() {
        assert_eq!(fold("  علي ،  حسن. "), "علي حسن");
        assert_eq!(fold("علي\t\n\u{00A0}حسن"), "علي حسن");
        assert_eq!(fold("علي-حسن"), "علي حسن");
        assert_eq!(fold(" \u{200F} "), "");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn latin_is_lowercased() {
        assert_eq!(fold("Ali HASSAN"), "ali hassan");
        assert_eq!(fold("ÉMILE"), "émile");
    }

    #[test]
    fn every_character_folds_idempotently_into_single_spaces() {
        for c in (0..=0xFFFF_u32).filter_map(char::from_u32) {
            for text in [
                format!("ب{c}ب"),
                format!("{c}ب {c}"),
                format!("ه{c}"),
                format!("ي{c}ا"),
            ] {
                let once = fold(&text);
                assert_eq!(fold(&once), once, "U+{:04X}", c as u32);
                assert!(
                    !once.starts_with(' ') && !once.ends_with(' '),
                    "U+{:04X}",
                    c as u32
                );
                assert!(!once.contains("  "), "U+{:04X}", c as u32);
            }
        }
    }

    #[test]
    fn folding_is_idempotent() {
        for text in [
            "أحمد محمد علي حسين",
            "ئەحمەد محەمەد عەلی حوسێن",
            "فاتمە ڕەزا",
            "حه\u{200C}سه\u{200C}ن",
            "ئازاد ،  Ali",
            "عَبْدُ اللّٰهِ",
            "\u{064A}\u{0654}ەحمەد",
        ] {
            let once = fold(text);
            assert_eq!(fold(&once), once, "{text}");
        }
    }
}
