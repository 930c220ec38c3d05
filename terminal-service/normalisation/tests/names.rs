//! Tables of common Iraqi names: the Arabic and the Kurdish spelling of one name must agree,
//! different names must not.

use normalisation::{fold, name_parts, phonetic_key};

/// The phonetic key of a full name: the keys of its parts, in order.
fn key(full_name: &str) -> Vec<String> {
    name_parts(full_name)
        .iter()
        .map(|part| phonetic_key(part))
        .collect()
}

/// The same name in Arabic script and in Kurdish Sorani script.
const ARABIC_AND_KURDISH: &[(&str, &str)] = &[
    ("محمد", "محەمەد"),
    ("محمد", "موحەممەد"),
    ("أحمد", "ئەحمەد"),
    ("علي", "عەلی"),
    ("حسن", "حەسەن"),
    ("حسين", "حوسێن"),
    ("حسين", "حوسەین"),
    ("عمر", "عومەر"),
    ("فاطمة", "فاتمە"),
    ("رضا", "ڕەزا"),
    ("عثمان", "عوسمان"),
    ("إبراهيم", "ئیبراهیم"),
    ("إسماعيل", "ئیسماعیل"),
    ("يوسف", "یووسف"),
    ("مصطفى", "مستەفا"),
    ("موسى", "مووسا"),
    ("عيسى", "عیسا"),
    ("يحيى", "یەحیا"),
    ("صالح", "ساڵح"),
    ("خالد", "خالید"),
    ("عادل", "عادیل"),
    ("كريم", "کەریم"),
    ("عبد الكريم", "عەبدولکەریم"),
    ("عبد الله", "عەبدوڵڵا"),
    ("عبدالله", "عەبدوڵا"),
    ("عبد الرحمن", "عەبدولڕەحمان"),
    ("عبد الحسين", "عەبدولحوسێن"),
    ("نور الدين", "نورەدین"),
    ("صلاح الدين", "سەلاحەدین"),
    ("علاء الدين", "عەلائەدین"),
    ("زينب", "زەینەب"),
    ("مريم", "مەریەم"),
    ("خديجة", "خەدیجە"),
    ("عائشة", "عایشە"),
    ("كاظم", "کازم"),
    ("طارق", "تاریق"),
    ("رشيد", "ڕەشید"),
    ("جعفر", "جەعفەر"),
    ("ستار", "سەتتار"),
    ("عباس", "عەبباس"),
    ("حيدر", "حەیدەر"),
    ("جمال", "جەمال"),
    ("هدى", "هودا"),
    ("زهراء", "زەهرا"),
    ("أسامة", "ئوسامە"),
    ("سعاد", "سوعاد"),
    ("رقية", "ڕوقەییە"),
    ("ليلى", "لەیلا"),
    ("آزاد", "ئازاد"),
    ("أبو بكر", "ئەبووبەکر"),
    ("ناظم", "نازم"),
    ("أحمد محمد علي حسين", "ئەحمەد محەمەد عەلی حوسێن"),
];

/// The same name typed on an Arabic and on a Kurdish keyboard, or written with the variants
/// Arabic writers mix: these must fold equal, not only key equal.
const SAME_FOLD: &[(&str, &str)] = &[
    ("أحمد", "احمد"),
    ("إبراهيم", "ابراهيم"),
    ("فاطمة", "فاطمه"),
    ("فاطمة", "فاطمە"),
    ("مصطفى", "مصطفي"),
    ("علي", "علی"),
    ("كريم", "کریم"),
    ("رائد", "رايد"),
    ("مُحَمَّد", "محمد"),
    ("محـــمد", "محمد"),
    ("آزاد", "ئازاد"),
    ("علاء", "علا"),
    ("\u{200F}زينب\u{200E}", "زينب"),
    ("سمية", "سمیە"),
    ("هاشم", "ھاشم"),
];

/// Different names. `key_collides` records the documented collisions of the phonetic key
/// (names differing only by an inner long vowel or a final ي/ا); the test checks both ways.
const DIFFERENT: &[(&str, &str, bool)] = &[
    ("علي", "عمر", false),
    ("محمد", "احمد", false),
    ("حامد", "احمد", false),
    ("سالم", "سليم", false),
    ("ناصر", "نصير", false),
    ("صالح", "صلاح", false),
    ("كريم", "كاظم", false),
    ("جاسم", "قاسم", false),
    ("زينب", "زهراء", false),
    ("ماجد", "مجيد", false),
    ("رضا", "رياض", false),
    ("مهدي", "هادي", false),
    ("يوسف", "يونس", false),
    ("عمار", "عامر", false),
    ("كاظم", "ناظم", false),
    ("عادل", "عدنان", false),
    ("حسن", "حسين", true),
    ("محمد", "محمود", true),
    ("سعد", "سعيد", true),
    ("علي", "علا", true),
];

#[test]
fn arabic_and_kurdish_spellings_of_one_name_have_one_key() {
    let mismatches: Vec<String> = ARABIC_AND_KURDISH
        .iter()
        .filter(|(arabic, kurdish)| key(arabic) != key(kurdish))
        .map(|(arabic, kurdish)| {
            format!("{arabic} {:?} / {kurdish} {:?}", key(arabic), key(kurdish))
        })
        .collect();
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn keyboard_and_writing_variants_fold_equal() {
    for (a, b) in SAME_FOLD {
        assert_eq!(fold(a), fold(b), "{a} / {b}");
    }
}

#[test]
fn different_names_do_not_fold_equal_and_collide_on_the_key_only_as_documented() {
    for &(a, b, key_collides) in DIFFERENT {
        assert_ne!(fold(a), fold(b), "{a} / {b}");
        assert_eq!(
            key(a) == key(b),
            key_collides,
            "{a} {:?} / {b} {:?}",
            key(a),
            key(b)
        );
    }
}

#[test]
fn different_names_in_kurdish_script_stay_apart_from_other_names() {
    // Kurdish spelling of one name against the Arabic spelling of another.
    for (kurdish, other) in [
        ("عومەر", "عمار"),
        ("حەیدەر", "حامد"),
        ("ڕەزا", "رياض"),
        ("فاتمە", "فاضل"),
    ] {
        assert_ne!(key(kurdish), key(other), "{kurdish} / {other}");
    }
}

#[test]
fn every_spacing_of_a_compound_gives_one_part() {
    for spellings in [
        &["عبد الله", "عبدالله", "عبد اللّه", "عبد  اللة"][..],
        &["نور الهدى", "نورالهدى", "نور الهدي"],
        &["أبو بكر", "ابوبكر", "ابو  بكر"],
        &["زين العابدين", "زين‌العابدين"],
    ] {
        let first = name_parts(spellings[0]);
        assert_eq!(first.len(), 1, "{first:?}");
        for spelling in spellings {
            assert_eq!(name_parts(spelling), first, "{spelling}");
        }
    }
}
