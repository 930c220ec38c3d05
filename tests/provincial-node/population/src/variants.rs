//! The ways one name gets written differently: spelling variants people and clerks produce on
//! purpose or by habit, and the typos a touchscreen Arabic keyboard produces by accident.
//!
//! Each function returns `None` when it does not apply to the given name part, so the caller can
//! label a duplicate with exactly the change it carries.

use rand::seq::SliceRandom;
use rand::Rng;

use crate::names::is_kurdish_script;

/// Hamza forms written as bare alef (أحمد → احمد, إبراهيم → ابراهيم, آمنة → امنة) or on waw
/// dropped (مؤيد → مويد), as on a keyboard without the shift layer.
pub fn hamza(part: &str) -> Option<String> {
    let mut changed = false;
    let out: String = part
        .chars()
        .map(|c| match c {
            'أ' | 'إ' | 'آ' if !changed => {
                changed = true;
                'ا'
            }
            'ؤ' if !changed => {
                changed = true;
                'و'
            }
            c => c,
        })
        .collect();
    changed.then_some(out)
}

/// Taa marbuta written as haa (فاطمة → فاطمه), the commonest spelling variant of female names.
pub fn taa_marbuta(part: &str) -> Option<String> {
    part.contains('ة').then(|| part.replace('ة', "ه"))
}

/// Alef maqsura and yaa confused at the end of a word, both ways (مصطفى → مصطفي, علي → على,
/// الجبوري → الجبورى).
pub fn alef_maqsura(part: &str) -> Option<String> {
    let mut words: Vec<String> = part.split(' ').map(str::to_owned).collect();
    for word in words.iter_mut() {
        if let Some(stem) = word.strip_suffix('ى') {
            *word = format!("{stem}ي");
            return Some(words.join(" "));
        }
        if let Some(stem) = word.strip_suffix('ي') {
            *word = format!("{stem}ى");
            return Some(words.join(" "));
        }
    }
    None
}

/// The words that open a compound name (عبد الله, أبو بكر).
const COMPOUND_OPENERS: &[&str] = &["عبد", "أبو", "ابو"];

/// Compound names written with or without their space (عبد الله ↔ عبدالله, نور الهدى ↔ نورالهدى,
/// سيف الدين ↔ سيفالدين). Only the space inside a compound is touched, never the one between two
/// names (the mother's first name and her father's).
pub fn compound_spacing(part: &str) -> Option<String> {
    let words: Vec<&str> = part.split(' ').collect();
    for i in 0..words.len().saturating_sub(1) {
        if COMPOUND_OPENERS.contains(&words[i]) || words[i + 1].starts_with("ال") {
            let mut out: Vec<String> = words[..i].iter().map(|w| (*w).to_owned()).collect();
            out.push(format!("{}{}", words[i], words[i + 1]));
            out.extend(words[i + 2..].iter().map(|w| (*w).to_owned()));
            return Some(out.join(" "));
        }
    }
    // Written together: open it up.
    let (i, stem) = words.iter().enumerate().find_map(|(i, w)| Some((i, w.strip_prefix("عبد")?)))?;
    if !(stem.starts_with("ال") && stem.chars().count() > 3) {
        return None;
    }
    let mut out: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    out[i] = format!("عبد {stem}");
    Some(out.join(" "))
}

/// Arabic-origin names and their Kurdish Sorani spellings, as clerks of the two languages write them.
const SCRIPT_PAIRS: &[(&str, &str)] = &[
    ("محەمەد", "محمد"),
    ("ئەحمەد", "أحمد"),
    ("عومەر", "عمر"),
    ("عەلی", "علي"),
    ("حەسەن", "حسن"),
    ("حوسێن", "حسين"),
    ("کەریم", "كريم"),
    ("عەبدوڵڵا", "عبد الله"),
    ("مەحموود", "محمود"),
    ("جەمال", "جمال"),
    ("سەلاح", "صلاح"),
    ("ئیبراهیم", "إبراهيم"),
    ("یاسین", "ياسين"),
    ("فاتیمە", "فاطمة"),
    ("زەینەب", "زينب"),
    ("ئامینە", "آمنة"),
    ("خەدیجە", "خديجة"),
    ("تاڵەبانی", "طالباني"),
];

/// A Kurdish-script name as an Arabic-keyboard clerk writes it (ڕێباز → ريباز, هەژار → هزار,
/// شنە → شنه), or an Arabic-script name as a Kurdish-keyboard clerk writes it (علي → عەلی,
/// كريم → کریم). Known Arabic-origin names take their usual spelling in the other script.
pub fn other_script(part: &str) -> Option<String> {
    let words: Vec<String> = if is_kurdish_script(part) || part.starts_with('ئ') {
        part.split(' ').map(kurdish_to_arabic).collect()
    } else {
        part.split(' ').map(arabic_to_kurdish).collect()
    };
    let out = words.join(" ");
    (out != part).then_some(out)
}

fn kurdish_to_arabic(word: &str) -> String {
    if let Some((_, arabic)) = SCRIPT_PAIRS.iter().find(|(k, _)| *k == word) {
        return (*arabic).to_owned();
    }
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let last = i + 1 == chars.len();
        match c {
            // Initial ئا is written آ in Arabic (ئازاد → آزاد).
            'ئ' if i == 0 && chars.get(1) == Some(&'ا') => {
                out.push('آ');
                i += 1;
            }
            // Arabic script leaves the short vowel ە unwritten inside a word.
            'ە' if last => out.push('ه'),
            'ە' => {}
            'ی' | 'ێ' => out.push('ي'),
            'ک' | 'گ' => out.push('ك'),
            'ۆ' => out.push('و'),
            'و' if chars.get(i + 1) == Some(&'و') => {
                out.push('و');
                i += 1;
            }
            'ڕ' => out.push('ر'),
            'ڵ' if chars.get(i + 1) == Some(&'ڵ') => {
                out.push('ل');
                i += 1;
            }
            'ڵ' => out.push('ل'),
            'ڤ' => out.push('ف'),
            'چ' => out.push('ج'),
            'پ' => out.push('ب'),
            'ژ' => out.push('ز'),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn arabic_to_kurdish(word: &str) -> String {
    if let Some((kurdish, _)) = SCRIPT_PAIRS.iter().find(|(_, a)| *a == word) {
        return (*kurdish).to_owned();
    }
    let n = word.chars().count();
    word.chars()
        .enumerate()
        .map(|(i, c)| match c {
            'ي' | 'ى' => 'ی',
            'ك' => 'ک',
            'ة' => 'ە',
            'ه' if i + 1 == n => 'ە',
            'أ' | 'إ' if i == 0 => 'ئ',
            c => c,
        })
        .collect()
}

/// The Arabic (101) touchscreen keyboard, row by row; `\0` stands for the لا key, which types two
/// letters and is left out of typos.
const KEYBOARD: [&[char]; 3] = [
    &['ض', 'ص', 'ث', 'ق', 'ف', 'غ', 'ع', 'ه', 'خ', 'ح', 'ج', 'د'],
    &['ش', 'س', 'ي', 'ب', 'ل', 'ا', 'ت', 'ن', 'م', 'ك', 'ط'],
    &['ئ', 'ء', 'ؤ', 'ر', '\0', 'ى', 'ة', 'و', 'ز', 'ظ'],
];

/// The keys next to `c` on the keyboard: left and right, and the two touching it on the rows
/// above and below (rows are staggered by half a key).
pub fn adjacent_keys(c: char) -> Vec<char> {
    let Some((row, col)) =
        KEYBOARD.iter().enumerate().find_map(|(r, keys)| keys.iter().position(|&k| k == c).map(|i| (r, i)))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |r: usize, i: isize| {
        if i >= 0 {
            if let Some(&k) = KEYBOARD[r].get(i as usize) {
                if k != '\0' {
                    out.push(k);
                }
            }
        }
    };
    let col = col as isize;
    push(row, col - 1);
    push(row, col + 1);
    if row > 0 {
        push(row - 1, col);
        push(row - 1, col + 1);
    }
    if row < 2 {
        push(row + 1, col - 1);
        push(row + 1, col);
    }
    out
}

/// One letter replaced by a key next to it.
pub fn typo_substitute<R: Rng>(rng: &mut R, part: &str) -> Option<String> {
    let chars: Vec<char> = part.chars().collect();
    let candidates: Vec<usize> = (0..chars.len()).filter(|&i| !adjacent_keys(chars[i]).is_empty()).collect();
    let &i = candidates.choose(rng)?;
    let &k = adjacent_keys(chars[i]).choose(rng)?;
    let mut out = chars;
    out[i] = k;
    Some(out.into_iter().collect())
}

/// One letter left out (names of three letters or more, so something recognisable remains).
pub fn typo_drop<R: Rng>(rng: &mut R, part: &str) -> Option<String> {
    let chars: Vec<char> = part.chars().collect();
    if chars.iter().filter(|c| **c != ' ').count() < 3 {
        return None;
    }
    let candidates: Vec<usize> = (0..chars.len()).filter(|&i| chars[i] != ' ').collect();
    let &i = candidates.choose(rng)?;
    let mut out = chars;
    out.remove(i);
    Some(out.into_iter().collect())
}

/// One letter typed twice.
pub fn typo_double<R: Rng>(rng: &mut R, part: &str) -> Option<String> {
    let chars: Vec<char> = part.chars().collect();
    let candidates: Vec<usize> = (0..chars.len()).filter(|&i| chars[i] != ' ').collect();
    let &i = candidates.choose(rng)?;
    let mut out = chars;
    out.insert(i, out[i]);
    Some(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn spelling_variants_change_what_they_name() {
        assert_eq!(hamza("أحمد").as_deref(), Some("احمد"));
        assert_eq!(hamza("مؤيد").as_deref(), Some("مويد"));
        assert_eq!(hamza("علي"), None);
        assert_eq!(taa_marbuta("فاطمة").as_deref(), Some("فاطمه"));
        assert_eq!(alef_maqsura("علي").as_deref(), Some("على"));
        assert_eq!(alef_maqsura("مصطفى").as_deref(), Some("مصطفي"));
        assert_eq!(compound_spacing("عبد الله").as_deref(), Some("عبدالله"));
        assert_eq!(compound_spacing("عبدالله").as_deref(), Some("عبد الله"));
        assert_eq!(compound_spacing("عباس"), None);
        assert_eq!(compound_spacing("غفران أيوب"), None);
        assert_eq!(compound_spacing("ليلى عبد الله").as_deref(), Some("ليلى عبدالله"));
        assert_eq!(compound_spacing("نور الهدى محمد").as_deref(), Some("نورالهدى محمد"));
    }

    #[test]
    fn other_script_goes_both_ways() {
        assert_eq!(other_script("ڕێباز").as_deref(), Some("ريباز"));
        assert_eq!(other_script("هەژار").as_deref(), Some("هزار"));
        assert_eq!(other_script("ئازاد").as_deref(), Some("آزاد"));
        assert_eq!(other_script("عەبدوڵڵا").as_deref(), Some("عبد الله"));
        assert_eq!(other_script("علي").as_deref(), Some("عەلی"));
        assert_eq!(other_script("كريم").as_deref(), Some("کەریم"));
        assert_eq!(other_script("الجبوري").as_deref(), Some("الجبوری"));
    }

    #[test]
    fn typos_are_one_keystroke_away() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        assert!(adjacent_keys('ب').contains(&'ل'));
        assert!(adjacent_keys('ب').contains(&'ي'));
        assert!(adjacent_keys('ڕ').is_empty());
        for _ in 0..50 {
            let s = typo_substitute(&mut rng, "حسين").unwrap();
            assert_eq!(s.chars().count(), 4);
            assert_ne!(s, "حسين");
            assert_eq!(typo_drop(&mut rng, "حسين").unwrap().chars().count(), 3);
            assert_eq!(typo_double(&mut rng, "حسين").unwrap().chars().count(), 5);
        }
        assert_eq!(typo_drop(&mut rng, "طه"), None);
    }
}
