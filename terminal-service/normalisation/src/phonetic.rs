//! A looser key than [`crate::fold()`]: the consonant skeleton of a name part, in Arabic letters,
//! so that the Kurdish and the Arabic spelling of the same name agree.
//!
//! Kurdish writes every vowel (حەسەن, عومەر, خالید) and spells Arabic names by their sound
//! (ڕەزا for رضا, فاتمە for فاطمة, ساڵح for صالح); Arabic writes long vowels only. The key keeps
//! what both scripts write the same way: consonants, grouped by sound, and the long `ا`.
//!
//! | rule | in | out |
//! | --- | --- | --- |
//! | Kurdish letters → their Arabic spelling: ڵ→ل ڕ→ر گ→ك چ→ج پ→ب ژ→ز ڤ→ف, ۆ→و ێ→ي | `ساڵح` `گوڵاڵە` | `سالح` `كلاله` |
//! | Kurdish ە (a short vowel Arabic does not write) dropped | `حەسەن` | `حسن` |
//! | emphatic and interdental letters → the plain letter Kurdish and Iraqi speech use: ص ث→س, ط→ت, ض ظ ذ→ز, ق→ك | `فاطمه` `رضا` `عثمان` `طارق` | `فاتمه` `رزا` `عسمان` `تارك` |
//! | compounds: `…الله` → `…لا` (Kurdish `…ڵڵا`), `…ةالله` → `…تلا` (Kurdish `…ەتوڵڵا`), the article inside compounds dropped (`عبدال…`, Kurdish `عەبدول…`, `…الدين`, Kurdish `…ەدین`) | `عبدالله` `عەبدوڵڵا` `نورالدين` `نورەدین` | `عبدلا` `عبدلا` `نردن` `نردن` |
//! | leading article `ال` dropped (not in الياس, الهام, الفت, الماس) | `الجبوري` | `جبرا` |
//! | defective spellings written in full: `رحمن`→`رحمان`, `اسحق`→`اسحاق` | `عبدالرحمن` | `عبدرحمان` |
//! | doubled letters collapsed (shadda written out, Kurdish doubled vowels) | `عەبباس` `یووسف` | `عباس` `يسف` |
//! | و and ي inside the word dropped (Kurdish short vowels, Arabic long ones); the first and last letter kept; ا kept | `عومەر` `خالید` `حسين` | `عمر` `خالد` `حسن` |
//! | a final ي written ا (Arabic ى is pronounced ā: مصطفى / مستەفا) | `مصطفي` `علي` | `مستفا` `علا` |
//!
//! **What the key collapses** (the matcher must not treat key equality as name equality):
//! names that differ only by an inner long vowel (`حسن`/`حسين`, `محمد`/`محمود`, `سعد`/`سعيد`,
//! `نصر`/`نصير`, `كرم`/`كريم`), masculine and feminine forms ending in ي/ا (`علي`/`علا`/`عليا`),
//! names differing only in a standalone hamza (`علاء`/`علا`, done by [`crate::fold()`]), and the
//! letter groups above (`ناظم`/`نازم`, `قاسم`/`كاسم`). Use it for blocking and as a middle
//! agreement level between fold equality and a typo score on the folded parts.
//!
//! The key of a text with several words is the keys of its words, separated by one space.

use crate::fold::{is_arabic_mark, is_invisible};

const ALEF: char = 'ا';
const WAW: char = 'و';
const YEH: char = 'ي';

/// Names starting with ا + ل that are not the article.
const NOT_ARTICLE: &[&str] = &["الياس", "الهام", "الفت", "الماس"];

/// Spellings without a written long ā (a dagger alef in the Quranic spelling) and their full
/// spelling, which Kurdish and many Iraqis write. Matched at the end of a key.
const DEFECTIVE: &[(&str, &str)] = &[("رحمن", "رحمان"), ("اسحك", "اسحاك")];

/// The phonetic key of a folded name part (an item of [`crate::name_parts`], or [`crate::fold()`]
/// output): its consonant skeleton in Arabic letters, the same for the Kurdish and the Arabic
/// spelling of a name. See the [module documentation](self) for the rules and what it collapses.
///
/// `phonetic_key("فاتمە") == phonetic_key("فاطمة")`, both `"فاتمه"`.
pub fn phonetic_key(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len());
    let mut letters: Vec<char> = Vec::with_capacity(24);
    for word in folded.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        letters.clear();
        // Kurdish word-initial ئ is the vowel carrier Arabic writes ا (fold does the same).
        let mut chars = word.chars().peekable();
        if chars.next_if_eq(&'ئ').is_some() {
            letters.push(ALEF);
        }
        letters.extend(chars.filter_map(key_letter));
        skeleton(&mut letters);
        if letters.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(letters.iter());
    }
    out
}

/// The key's letter for `c`, or `None` when `c` carries no consonant (Kurdish ە, hamza,
/// diacritics, invisible controls). Also folds what [`crate::fold()`] folds, so an unfolded part
/// gets the same key.
#[inline]
fn key_letter(c: char) -> Option<char> {
    Some(match c {
        '\u{06D5}' | '\u{0621}' => return None,
        c if is_arabic_mark(c) || is_invisible(c) => return None,
        // Kurdish letters → Arabic spelling.
        'ڵ' => 'ل',
        'ڕ' | 'ڒ' => 'ر',
        'ۆ' | 'ؤ' => WAW,
        'ێ' | 'ی' | 'ى' | 'ئ' => YEH,
        'چ' => 'ج',
        'پ' => 'ب',
        'ڤ' => 'ف',
        // Sound groups.
        'ص' | 'ث' => 'س',
        'ط' => 'ت',
        'ض' | 'ظ' | 'ذ' | 'ژ' => 'ز',
        'ق' | 'گ' | 'ک' | 'ڪ' => 'ك',
        // What fold does, for unfolded input.
        'ة' | 'ھ' | 'ہ' | 'ۀ' => 'ه',
        'أ' | 'إ' | 'آ' | 'ٱ' => ALEF,
        c => crate::digits::ascii_digit(c).unwrap_or(c),
    })
}

fn skeleton(letters: &mut Vec<char>) {
    compounds(letters);
    for (short, full) in DEFECTIVE {
        if ends_with(letters, short) {
            let keep = letters.len() - short.chars().count();
            letters.truncate(keep);
            letters.extend(full.chars());
        }
    }
    letters.dedup();
    let last = letters.len().saturating_sub(1);
    let mut index = 0;
    letters.retain(|&c| {
        let inner = index != 0 && index != last;
        index += 1;
        !(inner && (c == WAW || c == YEH))
    });
    if letters.len() > 1 && letters.last() == Some(&YEH) {
        letters.pop();
        letters.push(ALEF);
    }
}

/// The article inside compound names, which Kurdish spells by its sound (عەبدول…, …ەدین,
/// …وڵڵا) and Arabic by its letters (عبدال…, …الدين, …الله), and the leading article.
fn compounds(letters: &mut Vec<char>) {
    let len = letters.len();
    // A teh marbuta before الله is pronounced t, and Kurdish writes it so: هبة الله / هیبەتوڵڵا.
    if len > 5 && ends_with(letters, "هالله") {
        letters.truncate(len - 5);
        letters.extend(['ت', 'ل', ALEF]);
    // Allāh: Arabic …الله, Kurdish …وڵڵا (فەتحوڵڵا) or, after عەبد, also عەبدوڵا.
    } else if len > 4 && (ends_with(letters, "الله") || ends_with(letters, "وللا")) {
        letters.truncate(len - 4);
        letters.extend(['ل', ALEF]);
    } else if letters.iter().copied().eq("عبدولا".chars()) {
        letters.truncate(3);
        letters.extend(['ل', ALEF]);
    } else if let Some(suffix) = crate::parts::JOINS_PREVIOUS
        .iter()
        .map(|s| s.chars().count())
        .zip(crate::parts::JOINS_PREVIOUS)
        .find(|(n, s)| len > *n && ends_with(letters, s))
    {
        let at = len - suffix.0;
        letters.drain(at..at + 2);
    }
    if letters.len() > 5 && (starts_with(letters, "عبدال") || starts_with(letters, "عبدول"))
    {
        letters.drain(3..5);
    } else if letters.len() >= 5
        && starts_with(letters, "ال")
        && !NOT_ARTICLE
            .iter()
            .any(|name| letters.iter().copied().eq(name.chars()))
    {
        letters.drain(0..2);
    }
}

fn ends_with(letters: &[char], suffix: &str) -> bool {
    let n = suffix.chars().count();
    letters.len() >= n
        && letters[letters.len() - n..]
            .iter()
            .copied()
            .eq(suffix.chars())
}

fn starts_with(letters: &[char], prefix: &str) -> bool {
    let n = prefix.chars().count();
    letters.len() >= n && letters[..n].iter().copied().eq(prefix.chars())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold;

    fn key(name: &str) -> String {
        phonetic_key(&fold(name))
    }

    #[test]
    fn kurdish_letters_take_their_arabic_spelling() {
        assert_eq!(key("ساڵح"), key("صالح"));
        assert_eq!(key("ڕەشید"), key("رشيد"));
        assert_eq!(key("گوڵاڵە"), "كلاله");
        assert_eq!(key("چنار"), "جنار");
        assert_eq!(key("پەری"), "برا");
        assert_eq!(key("ژینا"), "زنا");
        assert_eq!(key("ڤیان"), "فان");
        assert_eq!(key("شێرکۆ"), "شركو");
    }

    #[test]
    fn sound_groups_merge() {
        assert_eq!(key("فاطمة"), "فاتمه");
        assert_eq!(key("رضا"), "رزا");
        assert_eq!(key("ناظم"), key("نازم"));
        assert_eq!(key("نذير"), key("نزير"));
        assert_eq!(key("عثمان"), "عسمان");
        assert_eq!(key("طارق"), "تارك");
        assert_eq!(key("قاسم"), key("كاسم"));
    }

    #[test]
    fn kurdish_short_vowel_ae_is_dropped() {
        assert_eq!(key("حەسەن"), "حسن");
        assert_eq!(key("محەمەد"), "محمد");
    }

    #[test]
    fn inner_waw_and_yeh_are_dropped_but_alef_is_kept() {
        assert_eq!(key("عومەر"), "عمر");
        assert_eq!(key("خالید"), "خالد");
        assert_eq!(key("حسين"), "حسن");
        assert_eq!(key("يوسف"), "يسف");
        assert_eq!(key("سالم"), "سالم");
    }

    #[test]
    fn doubled_letters_collapse() {
        assert_eq!(key("عەبباس"), "عباس");
        assert_eq!(key("یووسف"), "يسف");
        assert_eq!(key("محەممەد"), "محمد");
    }

    #[test]
    fn final_yeh_is_written_alef() {
        assert_eq!(key("مصطفى"), "مستفا");
        assert_eq!(key("مستەفا"), "مستفا");
        assert_eq!(key("علي"), "علا");
    }

    #[test]
    fn compound_articles_follow_the_kurdish_sound() {
        assert_eq!(key("عبدالله"), "عبدلا");
        assert_eq!(key("عەبدوڵڵا"), "عبدلا");
        assert_eq!(key("عەبدوڵا"), "عبدلا");
        assert_eq!(
            key("هیبەتوڵڵا"),
            phonetic_key(&crate::name_parts("هبة الله")[0])
        );
        assert_eq!(
            key("نیعمەتوڵڵا"),
            phonetic_key(&crate::name_parts("نعمة الله")[0])
        );
        assert_eq!(
            key("فەتحوڵڵا"),
            phonetic_key(&crate::name_parts("فتح الله")[0])
        );
        assert_eq!(key("نورالدين"), "نردن");
        assert_eq!(key("نورەدین"), "نردن");
        assert_eq!(key("عبدالرحمن"), "عبدرحمان");
        assert_eq!(key("عەبدولڕەحمان"), "عبدرحمان");
        let arabic = crate::name_parts("علاء الدين");
        assert_eq!(phonetic_key(&arabic[0]), key("عەلائەدین"));
        assert_eq!(key("عەلائەدین"), "علادن");
    }

    #[test]
    fn leading_article_is_dropped_except_in_names() {
        assert_eq!(key("الجبوري"), key("جبوري"));
        assert_eq!(key("الياس"), "الاس");
        assert_eq!(key("الهام"), "الهام");
    }

    #[test]
    fn a_text_of_several_words_keys_each_word() {
        assert_eq!(phonetic_key("حەسەن  عومەر"), "حسن عمر");
        assert_eq!(phonetic_key(""), "");
        assert_eq!(phonetic_key("ء"), "");
    }

    #[test]
    fn unfolded_input_gets_the_same_key() {
        for name in ["فاطمة", "أحمد", "مُحَمَّد", "کەریم", "مصطفى", "ئەحمەد"]
        {
            assert_eq!(phonetic_key(name), key(name), "{name}");
        }
    }
}
