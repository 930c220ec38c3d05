//! The person index: checks, frequencies from its own content, blocking, de-duplication.

mod common;

use common::{date, person, with_case};
use matcher::{blocking, Decision, Field, PersonIndex, Sex};

fn registry() -> PersonIndex {
    let mut index = PersonIndex::new();
    let people = [
        (
            "BGD-1",
            "BGD",
            person(
                "علي حسن كاظم الساعدي",
                date(1990, 5, 20),
                "فاطمة جاسم",
                Sex::Male,
            ),
        ),
        (
            "BGD-2",
            "BGD",
            person("زينب عادل فاضل", date(1992, 4, 11), "سارة", Sex::Female),
        ),
        (
            "BSR-1",
            "BSR",
            person(
                "حسن علي عباس التميمي",
                date(1990, 3, 1),
                "زينب مهدي",
                Sex::Male,
            ),
        ),
        (
            "BSR-2",
            "BSR",
            person(
                "حسين علي عباس التميمي",
                date(1993, 9, 12),
                "زينب مهدي",
                Sex::Male,
            ),
        ),
        (
            "SUL-1",
            "SUL",
            person("کاروان ئازاد عومەر", date(1983, 2, 7), "ئامینە", Sex::Male),
        ),
        // The same woman registered again in another province, a typo in her father's name.
        (
            "NIN-1",
            "NIN",
            person("زينب عادل فاظل", date(1992, 4, 11), "سارة", Sex::Female),
        ),
    ];
    for (case, gov, p) in people {
        index.insert(with_case(p, case, gov));
    }
    index
}

#[test]
fn an_applicant_registered_in_another_province_is_found() {
    let index = registry();
    let applicant = with_case(
        person("علي حسن كاظم", date(1990, 5, 20), "فاطمة", Sex::Male),
        "",
        "KRB",
    );
    let matches = index.check(&applicant);
    assert_eq!(matches.len(), 1, "{matches:?}");
    assert_eq!(matches[0].case_number, "BGD-1");
    assert_eq!(matches[0].comparison.decision, Decision::Duplicate);
}

#[test]
fn a_new_person_matches_nobody() {
    let index = registry();
    let applicant = person("سامان رزگار احمد", date(1991, 2, 14), "گوڵاڵە", Sex::Male);
    assert!(index.check(&applicant).is_empty());
    assert!(index.candidates(&applicant).is_empty());
}

#[test]
fn the_brother_is_not_taken_for_the_applicant() {
    let index = registry();
    let applicant = person(
        "حسين علي عباس التميمي",
        date(1993, 9, 12),
        "زينب مهدي",
        Sex::Male,
    );
    let matches = index.check(&applicant);
    assert_eq!(matches.len(), 1, "{matches:?}");
    assert_eq!(matches[0].case_number, "BSR-2");
    // The brother shares a block (father, grandfather, mother) but scores distinct.
    assert!(index.candidates(&applicant).contains(&2));
}

#[test]
fn name_frequencies_come_from_the_registry() {
    // A name nobody's prior knows, made common by the registry itself, weighs less than when rare.
    let rare_name = "هاوڕێ";
    let applicant = person(
        &format!("{rare_name} جمال نوري"),
        date(1977, 6, 9),
        "",
        Sex::Male,
    );
    let weight_in = |index: &PersonIndex| {
        let m = index.check(&applicant);
        let e = m[0]
            .comparison
            .explanation
            .iter()
            .find(|e| e.field == Field::FirstName)
            .unwrap();
        e.weight
    };
    let mut small = PersonIndex::new();
    small.insert(with_case(applicant.clone(), "A-0", "SUL"));
    let mut large = PersonIndex::new();
    large.insert(with_case(applicant.clone(), "A-0", "SUL"));
    for i in 0..20_000 {
        let p = person(
            &format!("{rare_name} شوان{i} کەریم"),
            date(1950 + (i % 50) as u16, 3, 3),
            "",
            Sex::Male,
        );
        large.insert(with_case(p, &format!("A-{}", i + 1), "SUL"));
    }
    assert!(
        weight_in(&large) + 3.0 < weight_in(&small),
        "{} vs {}",
        weight_in(&large),
        weight_in(&small)
    );
}

#[test]
fn deduplication_clusters_the_same_person_across_provinces() {
    let clusters = registry().deduplicate();
    assert_eq!(clusters.len(), 1, "{clusters:?}");
    assert_eq!(clusters[0].case_numbers, ["BGD-2", "NIN-1"]);
    assert_eq!(clusters[0].decision, Decision::Duplicate);
}

#[test]
fn heap_bytes_grow_with_the_persons() {
    let mut index = PersonIndex::new();
    let empty = index.heap_bytes();
    for i in 0..1_000u16 {
        let p = person(
            &format!("علي{i} حسن كاظم"),
            date(1950 + i % 60, 1 + (i % 12) as u8, 2),
            "فاطمة",
            Sex::Male,
        );
        index.insert(with_case(p, &format!("C-{i}"), "BGD"));
    }
    let full = index.heap_bytes();
    // Per person: a record (40 bytes), its case number, its block entries and a new name.
    assert!(full > empty + 1_000 * 100, "{full}");
    assert!(full < empty + 1_000 * 2_000, "{full}");
    assert_eq!(index.len(), 1_000);
}

#[test]
fn one_typo_or_one_missing_part_still_shares_a_block() {
    let base = person(
        "مصطفى كريم هادي الربيعي",
        date(1995, 11, 30),
        "مريم سلمان",
        Sex::Male,
    );
    let variants = [
        person(
            "مصطفى كريم هادي",
            date(1995, 11, 30),
            "مريم سلمان",
            Sex::Male,
        ),
        person(
            "مصطفا كريم هادي الربيعي",
            date(1995, 11, 30),
            "مريم سلمان",
            Sex::Male,
        ),
        person(
            "مصطفى كرين هادي الربيعي",
            date(1995, 11, 30),
            "مريم سلمان",
            Sex::Male,
        ),
        person("مصطفى كريم هادي الربيعي", date(1996, 11, 30), "", Sex::Male),
        person("مصطفى كريم الربيعي", None, "مريم", Sex::Male),
        person("مصطفى هادي الربيعي", date(1995, 11, 30), "", Sex::Male),
    ];
    for v in &variants {
        assert!(blocking::shares_block(&base, v), "{v:?}");
    }
    let stranger = person(
        "سامان رزگار احمد",
        date(1995, 11, 30),
        "مريم سلمان",
        Sex::Male,
    );
    assert!(!blocking::shares_block(&base, &stranger));
}

#[test]
fn twins_in_the_registry_form_a_possible_cluster_not_a_duplicate() {
    let mut index = PersonIndex::new();
    let twin = |first: &str| {
        person(
            &format!("{first} كريم جاسم الزبيدي"),
            date(2004, 8, 17),
            "فاطمة حسن",
            Sex::Male,
        )
    };
    index.insert(with_case(twin("حسن"), "BSR-7", "BSR"));
    index.insert(with_case(twin("حسين"), "BSR-8", "BSR"));
    index.insert(with_case(
        person("سامان رزگار احمد", date(1991, 2, 14), "گوڵاڵە", Sex::Male),
        "SUL-9",
        "SUL",
    ));
    let clusters = index.deduplicate();
    assert!(
        clusters.iter().all(|c| c.decision != Decision::Duplicate),
        "{clusters:?}"
    );
}

#[test]
fn the_same_national_id_in_eastern_digits_is_found() {
    let mut index = registry();
    let mut registered = person("ڤیان گۆران محەمەد", date(1977, 10, 25), "", Sex::Female);
    registered.national_id = Some("197710251234".into());
    index.insert(with_case(registered, "SUL-2", "SUL"));
    let mut applicant = person("سعاد جبار كريم", date(1962, 10, 1), "", Sex::Female);
    applicant.national_id = Some("١٩٧٧ ١٠٢٥ ١٢٣٤".into());
    let matches = index.check(&applicant);
    assert_eq!(matches.len(), 1, "{matches:?}");
    assert_eq!(matches[0].case_number, "SUL-2");
    assert_eq!(matches[0].comparison.decision, Decision::Duplicate);
}

#[test]
fn a_registered_person_checked_again_is_not_their_own_duplicate() {
    let index = registry();
    let registered = with_case(
        person("زينب عادل فاضل", date(1992, 4, 11), "سارة", Sex::Female),
        "BGD-2",
        "BGD",
    );
    let matches = index.check(&registered);
    assert!(
        matches.iter().all(|m| m.case_number != "BGD-2"),
        "{matches:?}"
    );
    // Her other registration is still found.
    assert!(
        matches.iter().any(|m| m.case_number == "NIN-1"),
        "{matches:?}"
    );
}
