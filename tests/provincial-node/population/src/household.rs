//! Households: parents and children whose names follow the Iraqi chain (a child's father name is
//! the father's first name, the grandfather name the father's father name, the family name
//! shared; the mother's name is her first name and her father's name), with dates of birth as
//! registries hold them.

use matcher::{Person, Sex};
use normalisation::BirthDate;
use rand::Rng;

use crate::governorate::Governorate;
use crate::label::{Label, Record, Truth};
use crate::names::{Names, Script};

/// The last year of birth the generator produces.
pub const LAST_YEAR: u16 = 2025;

/// A date of birth in `year` with the heaping of real registries: people who do not know their
/// birthday are registered on 1 July or 1 January.
pub fn heaped_birth_date<R: Rng>(rng: &mut R, year: u16) -> BirthDate {
    let (month, day) = match rng.gen_range(0..100) {
        0..=14 => (7, 1),
        15..=26 => (1, 1),
        _ => {
            let month = rng.gen_range(1..=12u8);
            let days = match month {
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            (month, rng.gen_range(1..=days))
        }
    };
    BirthDate { year, month: Some(month), day: Some(day) }
}

/// A national ID number unique to `person_id` (12 digits).
pub fn national_id(person_id: u64) -> String {
    // An affine map modulo 10^11 with a multiplier coprime to 10 is a bijection: unique IDs
    // that do not look sequential.
    format!("1{:011}", (person_id.wrapping_mul(48_271).wrapping_add(12_345)) % 100_000_000_000)
}

/// Hands out person and household identifiers.
#[derive(Debug, Default)]
pub struct Ids {
    next_person: u64,
    next_household: u64,
}

impl Ids {
    /// A fresh person identifier.
    pub fn person(&mut self) -> u64 {
        self.next_person += 1;
        self.next_person
    }

    /// A fresh household identifier.
    pub fn household(&mut self) -> u64 {
        self.next_household += 1;
        self.next_household
    }
}

/// What a household generator needs.
pub struct HouseholdContext<'a> {
    /// Name tables.
    pub names: &'a Names,
    /// Share of adults with a national ID.
    pub adult_id_rate: f64,
    /// Share of children (under 15) with a national ID.
    pub child_id_rate: f64,
}

impl HouseholdContext<'_> {
    fn id_for<R: Rng>(&self, rng: &mut R, person_id: u64, year: u16) -> Option<String> {
        let rate = if year + 15 > LAST_YEAR { self.child_id_rate } else { self.adult_id_rate };
        rng.gen_bool(rate).then(|| national_id(person_id))
    }

    /// A household in `governorate`: both parents (or a widowed mother) and their children.
    pub fn household<R: Rng>(&self, rng: &mut R, ids: &mut Ids, governorate: &Governorate) -> Vec<Record> {
        let script = if rng.gen_bool(governorate.kurdish_share) { Script::Kurdish } else { Script::Arabic };
        let names = self.names.of(script);
        let household_id = ids.household();
        // Kurdish names are more often written without a family name.
        let family_rate = if script == Script::Kurdish { 0.6 } else { 0.85 };
        let family = rng.gen_bool(family_rate).then(|| names.family.sample(rng));
        let father_first = names.male.sample(rng);
        let father_father = names.male.sample_avoiding(rng, &[father_first]);
        let father_grandfather = names.male.sample(rng);
        let mother_first = names.female.sample(rng);
        let mother_father = names.male.sample(rng);
        let father_year = rng.gen_range(1950..=1998u16);
        let mother_year = (father_year + rng.gen_range(0..=8)).min(2000);
        let gov = Some(governorate.code.to_owned());
        let parent_mother = |rng: &mut R| format!("{} {}", names.female.sample(rng), names.male.sample(rng));
        let record = |person: Person, person_id: u64| Record {
            person,
            truth: Truth { person_id, household_id, label: Label::Original },
        };
        let mut out = Vec::new();
        let widowed = rng.gen_bool(0.15);
        if !widowed {
            let id = ids.person();
            out.push(record(
                Person {
                    national_id: self.id_for(rng, id, father_year),
                    first_name: father_first.to_owned(),
                    father_name: father_father.to_owned(),
                    grandfather_name: father_grandfather.to_owned(),
                    family_name: family.map(str::to_owned),
                    mother_name: Some(parent_mother(rng)),
                    birth_date: Some(heaped_birth_date(rng, father_year)),
                    sex: Some(Sex::Male),
                    governorate: gov.clone(),
                    ..Person::default()
                },
                id,
            ));
        }
        let id = ids.person();
        let mother_family = rng.gen_bool(family_rate).then(|| names.family.sample(rng));
        out.push(record(
            Person {
                national_id: self.id_for(rng, id, mother_year),
                first_name: mother_first.to_owned(),
                father_name: mother_father.to_owned(),
                grandfather_name: names.male.sample(rng).to_owned(),
                family_name: mother_family.map(str::to_owned),
                mother_name: Some(parent_mother(rng)),
                birth_date: Some(heaped_birth_date(rng, mother_year)),
                sex: Some(Sex::Female),
                governorate: gov.clone(),
                ..Person::default()
            },
            id,
        ));
        let children = [0, 0, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6][rng.gen_range(0..14)];
        let mut siblings: Vec<&str> = Vec::new();
        let mut year = mother_year + rng.gen_range(18..=24);
        let mut previous: Option<BirthDate> = None;
        for _ in 0..children {
            if year > LAST_YEAR {
                break;
            }
            let sex = if rng.gen_bool(0.5) { Sex::Male } else { Sex::Female };
            let table = if sex == Sex::Male { &names.male } else { &names.female };
            let first = table.sample_avoiding(rng, &siblings);
            siblings.push(first);
            // Twins share the date of birth of the previous child.
            let birth_date = match previous {
                Some(date) if rng.gen_bool(0.015) => date,
                _ => heaped_birth_date(rng, year),
            };
            previous = Some(birth_date);
            let id = ids.person();
            out.push(record(
                Person {
                    national_id: self.id_for(rng, id, birth_date.year),
                    first_name: first.to_owned(),
                    father_name: father_first.to_owned(),
                    grandfather_name: father_father.to_owned(),
                    family_name: family.map(str::to_owned),
                    mother_name: Some(format!("{mother_first} {mother_father}")),
                    birth_date: Some(birth_date),
                    sex: Some(sex),
                    governorate: gov.clone(),
                    ..Person::default()
                },
                id,
            ));
            year += rng.gen_range(1..=4);
        }
        out
    }
}
