//! Every decision rule of the scoring, on Arabic and Kurdish examples.

mod common;

use common::{date, person, year};
use matcher::{compare_pair, Agreement, Comparison, Decision, Field, Sex};

fn evidence(c: &Comparison, field: Field) -> (Agreement, f64) {
    let e = c
        .explanation
        .iter()
        .find(|e| e.field == field)
        .expect("every field is explained");
    (e.agreement, e.weight)
}

#[test]
fn a_hamza_variant_of_the_same_person_is_a_duplicate() {
    let a = person(
        "أحمد محمد علي حسين",
        date(1985, 3, 12),
        "زينب كاظم",
        Sex::Male,
    );
    let b = person(
        "احمد محمد علي حسين",
        date(1985, 3, 12),
        "زينب كاظم",
        Sex::Male,
    );
    assert_eq!(compare_pair(&a, &b).decision, Decision::Duplicate);
}

#[test]
fn unrelated_persons_are_distinct() {
    let a = person(
        "أحمد محمد علي حسين",
        date(1985, 3, 12),
        "زينب كاظم",
        Sex::Male,
    );
    let b = person(
        "سعاد جبار كريم ناصر",
        date(1962, 10, 1),
        "هدى رضا",
        Sex::Female,
    );
    let c = compare_pair(&a, &b);
    assert_eq!(c.decision, Decision::Distinct);
    assert!(c.score < 0.0, "{c:?}");
}

#[test]
fn every_field_is_explained_and_the_weights_add_up_to_the_score() {
    let a = person(
        "علي حسن كاظم الساعدي",
        date(1990, 5, 20),
        "فاطمة جاسم",
        Sex::Male,
    );
    let b = person("علي حسن كاظم", date(1990, 5, 20), "فاطمة", Sex::Male);
    let c = compare_pair(&a, &b);
    assert_eq!(c.explanation.len(), 9);
    let sum: f64 = c.explanation.iter().map(|e| e.weight).sum();
    assert!((sum - c.score).abs() < 1e-9, "{sum} vs {}", c.score);
}

#[test]
fn the_same_national_id_is_always_a_duplicate() {
    let mut a = person("كاروان ئازاد عمر", date(1979, 8, 2), "", Sex::Male);
    let mut b = person("سامان رزگار احمد", date(1991, 2, 14), "", Sex::Male);
    a.national_id = Some("199012345678".into());
    b.national_id = Some("1990 1234 5678".into());
    let c = compare_pair(&a, &b);
    assert_eq!(c.decision, Decision::Duplicate);
    assert_eq!(evidence(&c, Field::NationalId).0, Agreement::Exact);
}

#[test]
fn different_national_ids_are_strong_evidence_against() {
    let mut a = person(
        "حيدر عباس جاسم التميمي",
        date(1988, 4, 9),
        "رقية مهدي",
        Sex::Male,
    );
    let mut b = a.clone();
    let same = compare_pair(&a, &b);
    a.national_id = Some("198800011122".into());
    b.national_id = Some("197755566677".into());
    let c = compare_pair(&a, &b);
    assert_eq!(evidence(&c, Field::NationalId).0, Agreement::Disagree);
    assert!(evidence(&c, Field::NationalId).1 <= -10.0);
    assert!(c.score < same.score - 10.0);
    assert_ne!(c.decision, Decision::Duplicate);
}

#[test]
fn a_missing_family_name_is_missing_not_disagreeing() {
    let a = person(
        "مصطفى كريم هادي الربيعي",
        date(1995, 11, 30),
        "مريم سلمان",
        Sex::Male,
    );
    let b = person(
        "مصطفى كريم هادي",
        date(1995, 11, 30),
        "مريم سلمان",
        Sex::Male,
    );
    let c = compare_pair(&a, &b);
    assert_eq!(evidence(&c, Field::FamilyName), (Agreement::Missing, 0.0));
    assert_eq!(c.decision, Decision::Duplicate);
}

#[test]
fn an_omitted_grandfather_shifts_the_family_name() {
    // The three-part name is first, father, family: the grandfather was left out.
    let a = person(
        "نور حسين جعفر الخفاجي",
        date(2001, 6, 15),
        "زهراء",
        Sex::Female,
    );
    let b = person("نور حسين الخفاجي", date(2001, 6, 15), "زهراء", Sex::Female);
    let c = compare_pair(&a, &b);
    assert_eq!(evidence(&c, Field::GrandfatherName).0, Agreement::Missing);
    assert_eq!(evidence(&c, Field::FamilyName).0, Agreement::Exact);
    assert_eq!(c.decision, Decision::Duplicate);
}

#[test]
fn a_touchscreen_typo_in_the_first_name_is_still_a_duplicate() {
    // ظ and ض are neighbours on the Arabic keyboard.
    let a = person("كاظم جبار ناصر", date(1970, 9, 23), "خديجة علي", Sex::Male);
    let b = person("كاضم جبار ناصر", date(1970, 9, 23), "خديجة علي", Sex::Male);
    let c = compare_pair(&a, &b);
    assert!(matches!(
        evidence(&c, Field::FirstName).0,
        Agreement::Typo | Agreement::Phonetic
    ));
    assert_eq!(c.decision, Decision::Duplicate);
}

#[test]
fn a_kurdish_spelling_of_the_same_name_is_a_duplicate() {
    // Kurdish kaf ک and yeh ی against Arabic ك and ي.
    let a = person("کاروان ڕەحیم عومەر", date(1983, 2, 7), "ئامینە", Sex::Male);
    let b = person("كاروان رحيم عومر", date(1983, 2, 7), "ئامینە", Sex::Male);
    let c = compare_pair(&a, &b);
    assert_ne!(
        evidence(&c, Field::FirstName).0,
        Agreement::Disagree,
        "{c:?}"
    );
    assert_eq!(c.decision, Decision::Duplicate, "{c:?}");
}

#[test]
fn day_and_month_swapped_agree_partly() {
    let a = person("زينب عادل فاضل", date(1992, 4, 11), "سارة", Sex::Female);
    let b = person("زينب عادل فاضل", date(1992, 11, 4), "سارة", Sex::Female);
    let c = compare_pair(&a, &b);
    assert_eq!(evidence(&c, Field::BirthDate).0, Agreement::Partial);
    assert!(evidence(&c, Field::BirthDate).1 > 0.0);
    assert_eq!(c.decision, Decision::Duplicate);
}

#[test]
fn a_year_only_date_agrees_partly_with_a_full_one() {
    let a = person(
        "رقية صالح يوسف",
        date(1960, 3, 3),
        "عائشة محمود",
        Sex::Female,
    );
    let b = person("رقية صالح يوسف", year(1960), "عائشة محمود", Sex::Female);
    let c = compare_pair(&a, &b);
    assert_eq!(evidence(&c, Field::BirthDate).0, Agreement::Partial);
    assert!(evidence(&c, Field::BirthDate).1 > 0.0);
    assert_ne!(c.decision, Decision::Distinct);
}

#[test]
fn a_year_off_by_one_is_a_typo_not_a_disagreement() {
    let a = person(
        "عمر خالد ابراهيم الدليمي",
        date(1987, 12, 19),
        "ايمان",
        Sex::Male,
    );
    let b = person(
        "عمر خالد ابراهيم الدليمي",
        date(1988, 12, 19),
        "ايمان",
        Sex::Male,
    );
    let c = compare_pair(&a, &b);
    assert_eq!(evidence(&c, Field::BirthDate).0, Agreement::Typo);
    assert_eq!(c.decision, Decision::Duplicate);
}

#[test]
fn placeholder_dates_agree_more_weakly_than_ordinary_dates() {
    let base = |d| person("سعد قاسم رضا", d, "امل", Sex::Male);
    let jan = compare_pair(&base(date(1975, 1, 1)), &base(date(1975, 1, 1)));
    let jul = compare_pair(&base(date(1975, 7, 1)), &base(date(1975, 7, 1)));
    let ordinary = compare_pair(&base(date(1975, 3, 14)), &base(date(1975, 3, 14)));
    let (_, w_jan) = evidence(&jan, Field::BirthDate);
    let (_, w_jul) = evidence(&jul, Field::BirthDate);
    let (_, w_ordinary) = evidence(&ordinary, Field::BirthDate);
    assert!(
        w_jan > 0.0 && w_jan < w_ordinary - 4.0,
        "{w_jan} vs {w_ordinary}"
    );
    assert!(
        w_jul > 0.0 && w_jul < w_ordinary - 4.0,
        "{w_jul} vs {w_ordinary}"
    );
}

#[test]
fn a_common_name_agreeing_weighs_less_than_a_rare_one() {
    let a = person("محمد شيرزاد هاوكار", None, "", Sex::Male);
    let b = person("محمد شيرزاد هاوكار", None, "", Sex::Male);
    let c = compare_pair(&a, &b);
    let (_, common) = evidence(&c, Field::FirstName);
    let (_, rare) = evidence(&c, Field::FatherName);
    assert!(common + 3.0 < rare, "محمد {common}, شيرزاد {rare}");
}

#[test]
fn a_different_governorate_is_not_evidence_against() {
    let mut a = person(
        "حسين علي جعفر الموسوي",
        date(1966, 10, 5),
        "فاطمة",
        Sex::Male,
    );
    let mut b = a.clone();
    a.governorate = Some("BGD".into());
    b.governorate = Some("NIN".into());
    let c = compare_pair(&a, &b);
    assert_eq!(evidence(&c, Field::Governorate), (Agreement::Disagree, 0.0));
    assert_eq!(c.decision, Decision::Duplicate);
    b.governorate = Some("BGD".into());
    let same = compare_pair(&a, &b);
    let (_, w) = evidence(&same, Field::Governorate);
    assert!(
        w > 0.0 && w <= 1.0,
        "agreement on the governorate is weak: {w}"
    );
}

#[test]
fn a_different_sex_rules_out_a_duplicate() {
    let a = person("نور محمد حسن", date(1999, 2, 2), "هدى", Sex::Female);
    let b = person("نور محمد حسن", date(1999, 2, 2), "هدى", Sex::Male);
    let c = compare_pair(&a, &b);
    assert_eq!(evidence(&c, Field::Sex).0, Agreement::Disagree);
    assert_ne!(c.decision, Decision::Duplicate);
}

#[test]
fn twins_are_not_duplicates() {
    // Same parents and date of birth, different first names.
    for (first_a, first_b) in [("حسن", "حسين"), ("محمد", "علي"), ("سامان", "کاروان")]
    {
        let a = person(
            &format!("{first_a} كريم جاسم الزبيدي"),
            date(2004, 8, 17),
            "فاطمة حسن",
            Sex::Male,
        );
        let b = person(
            &format!("{first_b} كريم جاسم الزبيدي"),
            date(2004, 8, 17),
            "فاطمة حسن",
            Sex::Male,
        );
        let c = compare_pair(&a, &b);
        assert_ne!(
            c.decision,
            Decision::Duplicate,
            "twins {first_a}/{first_b}: {c:?}"
        );
    }
}

#[test]
fn brothers_with_near_names_are_distinct() {
    let a = person(
        "حسن علي عباس التميمي",
        date(1990, 3, 1),
        "زينب مهدي",
        Sex::Male,
    );
    let b = person(
        "حسين علي عباس التميمي",
        date(1993, 9, 12),
        "زينب مهدي",
        Sex::Male,
    );
    let c = compare_pair(&a, &b);
    assert_eq!(
        evidence(&c, Field::FirstName).0,
        Agreement::Disagree,
        "حسن and حسين are two names, not a typo"
    );
    assert_eq!(c.decision, Decision::Distinct, "{c:?}");
}

#[test]
fn namesakes_with_a_common_name_and_1_january_are_not_duplicates() {
    let a = person("محمد علي حسين", date(1980, 1, 1), "فاطمة", Sex::Male);
    let b = person("محمد علي حسين", date(1980, 1, 1), "زينب", Sex::Male);
    let c = compare_pair(&a, &b);
    assert_ne!(c.decision, Decision::Duplicate, "{c:?}");
    // Without the mothers' names, still not sure enough to refuse someone.
    let a = person("محمد علي حسين", date(1980, 1, 1), "", Sex::Male);
    let b = person("محمد علي حسين", date(1980, 1, 1), "", Sex::Male);
    assert_ne!(compare_pair(&a, &b).decision, Decision::Duplicate);
}

#[test]
fn a_grandson_named_after_his_grandfather_is_distinct() {
    let grandfather = person(
        "جاسم محمد كاظم العبيدي",
        date(1940, 1, 1),
        "خديجة",
        Sex::Male,
    );
    let grandson = person(
        "جاسم حيدر جاسم العبيدي",
        date(1998, 5, 27),
        "مريم",
        Sex::Male,
    );
    assert_eq!(
        compare_pair(&grandfather, &grandson).decision,
        Decision::Distinct
    );
}

#[test]
fn a_different_maternal_grandfather_rules_out_a_duplicate() {
    // Same names and date; the mothers share the common first name فاطمة but not her father.
    let a = person(
        "علي عبد الأمير أسامة الكناني",
        date(1988, 1, 1),
        "فاطمة مهدي",
        Sex::Male,
    );
    let b = person(
        "علي عبد الأمير أسامة الكناني",
        date(1988, 1, 1),
        "فاطمة جاسم",
        Sex::Male,
    );
    let c = compare_pair(&a, &b);
    assert_eq!(evidence(&c, Field::MotherName).0, Agreement::Exact);
    assert_ne!(c.decision, Decision::Duplicate, "{c:?}");
    let same_mother = person(
        "علي عبد الأمير أسامة الكناني",
        date(1988, 1, 1),
        "فاطمة مهدي",
        Sex::Male,
    );
    assert_eq!(compare_pair(&a, &same_mother).decision, Decision::Duplicate);
}

#[test]
fn a_different_father_rules_out_a_duplicate() {
    // Cousins: same first name, grandfather, family, mother's first name and date of birth.
    let a = person(
        "يوسف كريم سلمان الربيعي",
        date(2003, 9, 14),
        "زهراء",
        Sex::Male,
    );
    let b = person(
        "يوسف ناصر سلمان الربيعي",
        date(2003, 9, 14),
        "زهراء",
        Sex::Male,
    );
    let c = compare_pair(&a, &b);
    assert_eq!(evidence(&c, Field::FatherName).0, Agreement::Disagree);
    assert_ne!(c.decision, Decision::Duplicate, "{c:?}");
}

#[test]
fn a_mothers_name_written_without_its_space_still_agrees() {
    let a = person(
        "شوان ئەحمەد ئەحمەد زەنگەنە",
        date(1982, 8, 8),
        "شیلان ئەحمەد",
        Sex::Male,
    );
    let b = person(
        "شوان ئەحمەد ئەحمەد زەنگەنە",
        date(1982, 8, 8),
        "شیلانئەحمەد",
        Sex::Male,
    );
    let c = compare_pair(&a, &b);
    assert_eq!(evidence(&c, Field::MotherName).0, Agreement::Exact);
    assert_eq!(c.decision, Decision::Duplicate);
}

#[test]
fn a_swapped_date_through_a_placeholder_agrees_partly() {
    // 7 January typed as 1 July.
    let a = person("حيدر جعفر مهدي", date(1979, 1, 7), "رقية", Sex::Male);
    let b = person("حيدر جعفر مهدي", date(1979, 7, 1), "رقية", Sex::Male);
    let c = compare_pair(&a, &b);
    assert_eq!(evidence(&c, Field::BirthDate).0, Agreement::Partial);
    assert!(evidence(&c, Field::BirthDate).1 >= 8.0);
}

#[test]
fn thresholds_rise_with_the_registry() {
    use matcher::Thresholds;
    let small = Thresholds::for_registry(10_000);
    let large = Thresholds::for_registry(1_800_000);
    assert_eq!(small, Thresholds::PAIR);
    let bits = matcher::weights::BITS_PER_DOUBLING * (1_800_000f64 / 200_000.0).log2();
    assert!((large.duplicate_at - small.duplicate_at - bits).abs() < 1e-9);
    assert!(large.possible_at > small.possible_at);
}

#[test]
fn a_compound_name_with_or_without_its_space_is_the_same_name() {
    let a = person("عبد الله حسن علي", date(1993, 10, 3), "مريم", Sex::Male);
    let mut b = a.clone();
    b.first_name = "عبدالله".into();
    let c = compare_pair(&a, &b);
    assert_eq!(evidence(&c, Field::FirstName).0, Agreement::Exact);
    assert_eq!(c.decision, Decision::Duplicate);
}
