//! Properties of the generated population the evaluation relies on.

use std::collections::{HashMap, HashSet};

use matcher::{Person, Sex};
use population::names::{is_kurdish_script, near_name};
use population::{generate, Config, DuplicateKind, HardNegativeKind, Label, Population, Record};

fn population() -> Population {
    generate(&Config::new(20_000, 11))
}

#[test]
fn the_same_seed_gives_the_same_population_and_another_seed_another() {
    let a = generate(&Config::new(3_000, 5));
    let b = generate(&Config::new(3_000, 5));
    let c = generate(&Config::new(3_000, 6));
    assert_eq!(a, b);
    assert_ne!(a.registry, c.registry);
    assert_eq!(a.registry.len(), 3_000);
    assert_eq!(a.applications.len(), 300);
}

fn year(p: &Person) -> u16 {
    p.birth_date.expect("generated persons have a date of birth").year
}

#[test]
fn children_carry_their_parents_names() {
    let population = population();
    let mut households: HashMap<u64, Vec<&Record>> = HashMap::new();
    for r in population.registry.iter().filter(|r| r.truth.label == Label::Original) {
        households.entry(r.truth.household_id).or_default().push(r);
    }
    let (mut fathers, mut mothers) = (0, 0);
    for members in households.values() {
        for child in members {
            let c = &child.person;
            for parent in members {
                let p = &parent.person;
                let sibling = p.father_name == c.father_name && p.grandfather_name == c.grandfather_name;
                if sibling || year(p) + 15 > year(c) {
                    continue;
                }
                if p.sex == Some(Sex::Male) && p.first_name == c.father_name {
                    assert_eq!(c.grandfather_name, p.father_name, "{c:?} is not the son of {p:?}");
                    assert_eq!(c.family_name, p.family_name, "{c:?} is not the son of {p:?}");
                    fathers += 1;
                }
                if p.sex == Some(Sex::Female) && c.mother_name.as_deref() == Some(&format!("{} {}", p.first_name, p.father_name)) {
                    mothers += 1;
                }
            }
        }
    }
    // About 2.2 children a household; most households have both parents.
    assert!(fathers > 5_000 && mothers > 6_000, "fathers {fathers}, mothers {mothers}");
}

fn differing_name_fields(a: &Person, b: &Person) -> Vec<(String, String)> {
    let fields = |p: &Person| {
        [
            p.first_name.clone(),
            p.father_name.clone(),
            p.grandfather_name.clone(),
            p.family_name.clone().unwrap_or_default(),
            p.mother_name.clone().unwrap_or_default(),
        ]
    };
    fields(a).into_iter().zip(fields(b)).filter(|(x, y)| x != y).collect()
}

/// Checks that `dup` carries the change its kind names, and no other name change.
fn assert_duplicate_kind(kind: DuplicateKind, original: &Person, dup: &Person) {
    let diff = differing_name_fields(original, dup);
    let one = |what: &str| {
        assert_eq!(diff.len(), 1, "{kind:?} changes one name field: {original:?} → {dup:?}");
        let (before, after) = &diff[0];
        assert!(!before.is_empty(), "{what}: {before} → {after}");
        (before.clone(), after.clone())
    };
    let len = |s: &str| s.chars().count();
    match kind {
        DuplicateKind::OtherProvince => {
            assert!(diff.is_empty());
            assert_ne!(original.governorate, dup.governorate);
        }
        DuplicateKind::Hamza => {
            let (b, a) = one("hamza");
            assert!(b.contains(['أ', 'إ', 'آ', 'ؤ']) && len(&b) == len(&a));
        }
        DuplicateKind::TaaMarbuta => {
            let (b, a) = one("taa marbuta");
            assert!(b.contains('ة') && !a.contains('ة'));
        }
        DuplicateKind::AlefMaqsura => {
            let (b, a) = one("alef maqsura");
            assert_eq!(b.replace('ى', "ي"), a.replace('ى', "ي"));
        }
        DuplicateKind::CompoundSpacing => {
            let (b, a) = one("compound");
            assert_eq!(b.replace(' ', ""), a.replace(' ', ""));
            assert!(b.contains("عبد") || b.contains(" ال") || a.contains("عبد"), "{b} → {a}");
        }
        DuplicateKind::OtherScript => {
            assert!(diff.iter().any(|(b, a)| is_kurdish_script(b) != is_kurdish_script(a)), "{diff:?}");
        }
        DuplicateKind::FamilyNameDropped => {
            assert!(original.family_name.is_some() && dup.family_name.is_none());
            assert_eq!(original.grandfather_name, dup.grandfather_name);
        }
        DuplicateKind::GrandfatherOmitted => {
            assert_eq!(original.family_name.as_ref(), Some(&dup.grandfather_name));
            assert!(dup.family_name.is_none());
        }
        DuplicateKind::TypoSubstitute => {
            let (b, a) = one("substitute");
            assert_eq!(len(&b), len(&a));
        }
        DuplicateKind::TypoDrop => {
            let (b, a) = one("drop");
            assert_eq!(len(&b), len(&a) + 1);
        }
        DuplicateKind::TypoDouble => {
            let (b, a) = one("double");
            assert_eq!(len(&b) + 1, len(&a));
        }
        DuplicateKind::DayMonthSwapped => {
            let (o, d) = (original.birth_date.unwrap(), dup.birth_date.unwrap());
            assert!(diff.is_empty());
            assert_eq!((o.year, o.month, o.day), (d.year, d.day, d.month));
            assert_ne!(o, d);
        }
        DuplicateKind::YearOnly => {
            let (o, d) = (original.birth_date.unwrap(), dup.birth_date.unwrap());
            assert!(diff.is_empty() && o.year == d.year && o.month.is_some() && d.month.is_none());
        }
        DuplicateKind::NationalIdMissing => {
            assert!(original.national_id.is_some());
            let mut same = dup.clone();
            same.national_id = original.national_id.clone();
            same.case_number = original.case_number.clone();
            assert_eq!(&same, original);
        }
    }
    if kind != DuplicateKind::DayMonthSwapped && kind != DuplicateKind::YearOnly {
        assert_eq!(original.birth_date, dup.birth_date, "{kind:?} keeps the date of birth");
    }
}

fn assert_hard_negative_kind(kind: HardNegativeKind, o: &Person, n: &Person) {
    match kind {
        HardNegativeKind::Twin => {
            assert_ne!(o.first_name, n.first_name);
            assert_eq!((&o.father_name, &o.grandfather_name, &o.family_name), (&n.father_name, &n.grandfather_name, &n.family_name));
            assert_eq!((&o.mother_name, o.birth_date), (&n.mother_name, n.birth_date));
        }
        HardNegativeKind::NearNameBrother => {
            assert_eq!(near_name(&o.first_name), Some(n.first_name.as_str()));
            assert_eq!((&o.father_name, &o.mother_name), (&n.father_name, &n.mother_name));
            assert_ne!(year(o), year(n));
        }
        HardNegativeKind::Namesake => {
            assert_eq!((&o.first_name, &o.father_name, &o.grandfather_name), (&n.first_name, &n.father_name, &n.grandfather_name));
            assert_eq!(o.birth_date, n.birth_date);
            assert_ne!(o.mother_name, n.mother_name);
            let date = n.birth_date.unwrap();
            assert_eq!((date.month, date.day), (Some(1), Some(1)));
        }
        HardNegativeKind::GenerationApart => {
            assert_eq!(o.first_name, n.first_name);
            assert_eq!(n.grandfather_name, o.first_name);
            assert_eq!(o.family_name, n.family_name);
            assert!(year(n) >= year(o) + 40);
            assert_ne!(o.mother_name, n.mother_name);
        }
    }
}

#[test]
fn every_injected_kind_is_present_and_carries_the_change_its_label_names() {
    let population = population();
    let registry = &population.registry;
    let registry_ids: HashSet<u64> = registry.iter().map(|r| r.truth.person_id).collect();
    let mut duplicates: HashMap<(bool, DuplicateKind), usize> = HashMap::new();
    let mut hard: HashMap<HardNegativeKind, usize> = HashMap::new();
    for (in_registry, records) in [(true, registry), (false, &population.applications)] {
        for r in records {
            match r.truth.label {
                Label::Original => {
                    if !in_registry {
                        assert!(!registry_ids.contains(&r.truth.person_id), "a new application is someone registered");
                    }
                }
                Label::Duplicate { kind, of } => {
                    let original = &registry[of];
                    assert_eq!(original.truth.label, Label::Original);
                    assert_eq!(r.truth.person_id, original.truth.person_id);
                    assert_duplicate_kind(kind, &original.person, &r.person);
                    *duplicates.entry((in_registry, kind)).or_default() += 1;
                }
                Label::HardNegative { kind, of } => {
                    assert!(!in_registry);
                    assert!(!registry_ids.contains(&r.truth.person_id), "a hard non-duplicate is someone registered");
                    assert_hard_negative_kind(kind, &registry[of].person, &r.person);
                    if matches!(kind, HardNegativeKind::Twin | HardNegativeKind::NearNameBrother) {
                        let sibling = registry.iter().find(|s| {
                            s.truth.household_id == r.truth.household_id && s.person.first_name == r.person.first_name
                        });
                        assert!(sibling.is_none(), "{kind:?} {:?} takes the name of {sibling:?}", r.person);
                    }
                    *hard.entry(kind).or_default() += 1;
                }
            }
        }
    }
    for kind in DuplicateKind::ALL {
        for in_registry in [true, false] {
            assert!(duplicates.get(&(in_registry, kind)).copied().unwrap_or(0) > 0, "{kind:?} missing (registry: {in_registry})");
        }
    }
    for kind in HardNegativeKind::ALL {
        assert!(hard.get(&kind).copied().unwrap_or(0) > 0, "{kind:?} missing");
    }
    let dup_share = duplicates.iter().filter(|((reg, _), _)| !reg).map(|(_, n)| n).sum::<usize>() as f64
        / population.applications.len() as f64;
    assert!((0.01..=0.03).contains(&dup_share), "{dup_share} of applications are duplicates");
}

#[test]
fn kurdistan_region_names_are_mostly_in_kurdish_script_and_the_south_s_are_not() {
    let population = population();
    let share = |codes: &[&str]| {
        let persons: Vec<&Person> = population
            .registry
            .iter()
            .filter(|r| r.truth.label == Label::Original)
            .map(|r| &r.person)
            .filter(|p| codes.contains(&p.governorate.as_deref().unwrap_or("")))
            .collect();
        let kurdish = persons
            .iter()
            .filter(|p| [&p.first_name, &p.father_name, &p.grandfather_name].iter().any(|n| is_kurdish_script(n)))
            .count();
        (kurdish as f64 / persons.len() as f64, persons.len())
    };
    let (kurdistan, n) = share(&["ERB", "SUL", "DHK", "HLB"]);
    assert!(kurdistan > 0.8 && n > 1_000, "{kurdistan} of {n}");
    let (south, n) = share(&["BSR", "NJF", "KRB", "DHQ", "MYS", "QAD", "MTH"]);
    assert!(south < 0.02 && n > 1_000, "{south} of {n}");
}

#[test]
fn national_ids_are_unique_and_most_have_one_and_birth_dates_heap_on_1_january_and_1_july() {
    let population = population();
    let originals: Vec<&Person> =
        population.registry.iter().filter(|r| r.truth.label == Label::Original).map(|r| &r.person).collect();
    let ids: Vec<&String> = originals.iter().filter_map(|p| p.national_id.as_ref()).collect();
    let unique: HashSet<&&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    let with_id = ids.len() as f64 / originals.len() as f64;
    assert!((0.7..0.95).contains(&with_id), "{with_id}");
    let heaped = originals
        .iter()
        .filter(|p| matches!(p.birth_date, Some(d) if d.day == Some(1) && matches!(d.month, Some(1) | Some(7))))
        .count() as f64
        / originals.len() as f64;
    assert!((0.15..0.4).contains(&heaped), "{heaped}");
}
