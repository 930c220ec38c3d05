//! Splitting a full name into its parts.
//!
//! An Iraqi full name is first name, father's first name, grandfather's first name and often a
//! family or tribe name (`احمد محمد علي الجبوري`); [`name_parts`] keeps that order. A part may be
//! written as two words: the parts come out folded and joined without a space, so every spacing
//! people type gives the same part.
//!
//! | rule | in | out |
//! | --- | --- | --- |
//! | `عبد` joins the word after it | `عبد الله` `عبدالله` `عبد اللّه` | `عبدالله` |
//! | … whatever that word is | `عبد علي` `عبد الزهرة` | `عبدعلي` `عبدالزهره` |
//! | the second halves of compound first names join the word before them: `الدين` `الله` `الهدى` `الزهراء` `الاسلام` `العابدين` `الايمان` | `نور الهدى` `نورالهدى` | `نورالهدي` |
//! | particles `أبو` `أم` `بن`/`ابن` `آل` `البو` join the word after them (`ابن` written `بن`) | `أبو بكر` `ابن خلدون` `آل ياسين` | `ابوبكر` `بنخلدون` `الياسين` |
//! | Kurdish spellings of `عبد`, `عبدول` and `أبو` join the same way | `عەبدول ڕەحمان` | `عەبدولرەحمان` |
//! | a family name starting with `ال` stays its own part | `علي حسين الجبوري` | `علي`, `حسين`, `الجبوري` |
//!
//! Fold-level equality across spacings holds for Arabic spellings. A Kurdish compound typed in
//! two words can differ at fold level from the same compound typed as one word in its
//! positional letters (word-initial ر versus inner ڕ, final ه versus inner ە); their
//! [`crate::phonetic_key`]s agree.

use crate::fold;

/// Words that are the first half of a compound part: the word after them belongs to them.
/// Folded spellings; `ابن` and `بن` are one particle (written `بن` in the joined part).
const JOINS_NEXT: &[&str] = &[
    "عبد",
    "عبدال",
    "ابو",
    "ام",
    "بن",
    "ابن",
    "ال",
    "البو",
    "عەبد",
    "عەبدول",
    "عبدول",
    "اەبو",
];

/// Second halves of compound first names: they belong to the word before them. Folded
/// spellings (`الهدى` folds to `الهدي`, `الزهراء` to `الزهرا`). Family and tribe names also
/// start with `ال` (الجبوري), so this is a closed list, not a rule about the article.
pub(crate) const JOINS_PREVIOUS: &[&str] = &[
    "الدين",
    "الله",
    "الهدي",
    "الزهرا",
    "الاسلام",
    "العابدين",
    "الايمان",
];

/// The folded parts of a full name (first, father, grandfather, family…), in the order written,
/// with compound names (عبد ال…, نور الهدى) and particles (أبو, بن) kept with the part they
/// belong to, whatever spacing was typed. Empty for a name with no letters.
///
/// `"عبد الله  محمد نور الهدى"` → `["عبدالله", "محمد", "نورالهدي"]`.
pub fn name_parts(full_name: &str) -> Vec<String> {
    let folded = fold(full_name);
    let mut parts: Vec<String> = Vec::with_capacity(5);
    let mut join_next = false;
    for word in folded.split(' ').filter(|w| !w.is_empty()) {
        let starts_compound = JOINS_NEXT.contains(&word);
        match parts.last_mut() {
            Some(last) if join_next || JOINS_PREVIOUS.contains(&word) => last.push_str(word),
            _ if starts_compound && word == "ابن" => parts.push("بن".to_owned()),
            _ => parts.push(word.to_owned()),
        }
        // A particle before عبد (ابو عبد الله) keeps the compound open for one more word.
        join_next = starts_compound;
    }
    parts
}

/// One name part as a field holds it (a first name, a father's name), folded with its compound
/// joined: the parts of [`name_parts`] without spaces between them. Use this, not
/// [`crate::fold()`], on a field that holds a single part, so that `عبد الله` and `عبدالله` give
/// the same text (and the same [`crate::phonetic_key`]).
///
/// `"عبد الله"` → `"عبدالله"`, `"نور الهدى"` → `"نورالهدي"`.
pub fn fold_part(part: &str) -> String {
    name_parts(part).concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(full_name: &str) -> Vec<String> {
        name_parts(full_name)
    }

    #[test]
    fn plain_four_part_name_keeps_its_order() {
        assert_eq!(
            parts("أحمد محمد علي الجبوري"),
            ["احمد", "محمد", "علي", "الجبوري"]
        );
        assert_eq!(parts("ئەحمەد محەمەد عەلی"), ["اەحمەد", "محەمەد", "عەلي"]);
    }

    #[test]
    fn abd_joins_the_next_word_whatever_the_spacing() {
        let expected = ["عبدالله", "محمد"];
        assert_eq!(parts("عبد الله محمد"), expected);
        assert_eq!(parts("عبدالله محمد"), expected);
        assert_eq!(parts("عبد اللّه محمد"), expected);
        assert_eq!(parts("عبد  الله\u{200F} محمد"), expected);
        assert_eq!(parts("علي عبد الحسين كاظم"), ["علي", "عبدالحسين", "كاظم"]);
        assert_eq!(parts("حسين عبد علي"), ["حسين", "عبدعلي"]);
        assert_eq!(parts("حسين عبدال رحمن"), ["حسين", "عبدالرحمن"]);
    }

    #[test]
    fn second_halves_of_compounds_join_the_word_before() {
        assert_eq!(parts("نور الهدى علي"), ["نورالهدي", "علي"]);
        assert_eq!(parts("نورالهدى علي"), ["نورالهدي", "علي"]);
        assert_eq!(parts("صلاح الدين"), parts("صلاح‌الدين"));
        assert_eq!(parts("فاطمة الزهراء حسن"), ["فاطمهالزهرا", "حسن"]);
        assert_eq!(parts("زين العابدين"), ["زينالعابدين"]);
        assert_eq!(parts("فتح الله كريم"), ["فتحالله", "كريم"]);
    }

    #[test]
    fn particles_join_the_next_word() {
        assert_eq!(parts("أبو بكر"), ["ابوبكر"]);
        assert_eq!(parts("ابوبكر"), ["ابوبكر"]);
        assert_eq!(parts("أم كلثوم"), ["امكلثوم"]);
        assert_eq!(parts("محمد بن علي"), ["محمد", "بنعلي"]);
        assert_eq!(parts("محمد ابن علي"), ["محمد", "بنعلي"]);
        assert_eq!(parts("حسن آل ياسين"), ["حسن", "الياسين"]);
        assert_eq!(parts("ابو عبد الله"), ["ابوعبدالله"]);
    }

    #[test]
    fn kurdish_compound_spellings_join() {
        assert_eq!(parts("عەبدول ڕەحمان ئەحمەد"), ["عەبدولرەحمان", "اەحمەد"]);
        assert_eq!(parts("ئەبو بەکر"), ["اەبوبەكر"]);
    }

    #[test]
    fn a_single_part_field_folds_with_its_compound_joined() {
        assert_eq!(fold_part("عبد الله"), fold_part("عبدالله"));
        assert_eq!(fold_part("عبد الله"), "عبدالله");
        assert_eq!(fold_part(" نور الهدى "), "نورالهدي");
        assert_eq!(fold_part("أحمد"), "احمد");
        assert_eq!(fold_part(""), "");
    }

    #[test]
    fn family_names_with_the_article_stay_separate() {
        assert_eq!(parts("علي حسين الساعدي"), ["علي", "حسين", "الساعدي"]);
    }

    #[test]
    fn a_particle_at_the_end_stays_a_part_and_nothing_is_lost() {
        assert_eq!(parts("محمد عبد"), ["محمد", "عبد"]);
        assert_eq!(parts("الله"), ["الله"]);
        assert!(parts("  ، ").is_empty());
    }
}
