//! The population: a registry of households with injected duplicates, and a stream of new
//! applications to check against it (some duplicates of registered persons, some hard
//! non-duplicates, most new people).

use std::collections::HashMap;

use matcher::{Person, Sex};
use normalisation::BirthDate;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::governorate::GovernorateDraw;
use crate::household::{heaped_birth_date, national_id, HouseholdContext, Ids, LAST_YEAR};
use crate::label::{DuplicateKind, HardNegativeKind, Label, Record, Truth};
use crate::names::{is_kurdish_script, near_name, Names, Script, ScriptNames};
use crate::variants;

/// What to generate. Rates are shares of the registry or of the applications.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Records in the registry (originals and their duplicates).
    pub persons: usize,
    /// New applications to check against the registry.
    pub applications: usize,
    /// The seed: the same seed gives the same population.
    pub seed: u64,
    /// Share of registry records that are duplicates of another registry record.
    pub registry_duplicate_rate: f64,
    /// Share of applications that are duplicates of a registered person.
    pub application_duplicate_rate: f64,
    /// Share of applications that are hard non-duplicates of a registered person.
    pub application_hard_negative_rate: f64,
    /// Chance that a duplicate still carries the national ID (it is then trivially caught).
    pub duplicate_keeps_national_id: f64,
    /// Chance that a duplicate (of a kind other than `other-province`) is also in another province.
    pub duplicate_in_other_province: f64,
    /// Share of adults with a national ID.
    pub adult_id_rate: f64,
    /// Share of children under 15 with a national ID.
    pub child_id_rate: f64,
}

impl Config {
    /// The defaults for `persons` registry records: 1.5 % of the registry and 2 % of the
    /// applications are duplicates, 2 % of applications hard non-duplicates, and one application
    /// for every ten registry records (at most 20,000).
    pub fn new(persons: usize, seed: u64) -> Config {
        Config {
            persons,
            applications: (persons / 10).clamp(1, 20_000),
            seed,
            registry_duplicate_rate: 0.015,
            application_duplicate_rate: 0.02,
            application_hard_negative_rate: 0.02,
            duplicate_keeps_national_id: 0.2,
            duplicate_in_other_province: 0.5,
            adult_id_rate: 0.92,
            child_id_rate: 0.6,
        }
    }
}

/// The generated data.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    /// The registry, with case numbers.
    pub registry: Vec<Record>,
    /// The applications (case numbers `APP-…`, not registered).
    pub applications: Vec<Record>,
}

/// Generates the population `config` describes.
pub fn generate(config: &Config) -> Population {
    Generator::new(config).run()
}

struct Generator<'a> {
    config: &'a Config,
    rng: ChaCha8Rng,
    names: Names,
    draw: GovernorateDraw,
    ids: Ids,
}

impl<'a> Generator<'a> {
    fn new(config: &'a Config) -> Self {
        Generator {
            config,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            names: Names::iraqi(),
            draw: GovernorateDraw::default(),
            ids: Ids::default(),
        }
    }

    fn households(&mut self, persons: usize) -> Vec<Record> {
        let context = HouseholdContext {
            names: &self.names,
            adult_id_rate: self.config.adult_id_rate,
            child_id_rate: self.config.child_id_rate,
        };
        let mut out = Vec::with_capacity(persons + 8);
        while out.len() < persons {
            let governorate = self.draw.sample(&mut self.rng);
            out.extend(context.household(&mut self.rng, &mut self.ids, governorate));
        }
        out.truncate(persons);
        out
    }

    fn run(mut self) -> Population {
        let config = self.config;
        let duplicates = (config.persons as f64 * config.registry_duplicate_rate).round() as usize;
        let mut registry = self.households(config.persons.saturating_sub(duplicates));
        let originals = registry.len();
        for kind in DuplicateKind::ALL.iter().cycle().take(duplicates) {
            if let Some(record) = self.duplicate_of_some(&registry[..originals], *kind) {
                registry.push(record);
            }
        }
        // Shuffle so that nothing can rely on duplicates sitting after their originals.
        let mut order: Vec<usize> = (0..registry.len()).collect();
        order.shuffle(&mut self.rng);
        let mut position = vec![0; registry.len()];
        for (new, &old) in order.iter().enumerate() {
            position[old] = new;
        }
        let mut registry: Vec<Record> = order.iter().map(|&old| registry[old].clone()).collect();
        for (i, record) in registry.iter_mut().enumerate() {
            if let Label::Duplicate { of, .. } = &mut record.truth.label {
                *of = position[*of];
            }
            let gov = record.person.governorate.clone().unwrap_or_default();
            record.person.case_number = format!("{gov}-{:08}", i + 1);
        }

        let n_dup = (config.applications as f64 * config.application_duplicate_rate).round() as usize;
        let n_hard = (config.applications as f64 * config.application_hard_negative_rate).round() as usize;
        let mut applications = Vec::with_capacity(config.applications);
        for kind in DuplicateKind::ALL.iter().cycle().take(n_dup) {
            if let Some(record) = self.duplicate_of_some(&registry, *kind) {
                applications.push(record);
            }
        }
        // First names in use in each household: a made-up twin or brother must not take a
        // sibling's name (he would be that sibling).
        let mut household_names: HashMap<u64, Vec<String>> = HashMap::new();
        for r in &registry {
            household_names.entry(r.truth.household_id).or_default().push(r.person.first_name.clone());
        }
        for kind in HardNegativeKind::ALL.iter().cycle().take(n_hard) {
            if let Some(record) = self.hard_negative_of_some(&registry, &household_names, *kind) {
                applications.push(record);
            }
        }
        let n_new = config.applications.saturating_sub(applications.len());
        applications.extend(self.households(n_new));
        applications.shuffle(&mut self.rng);
        for (i, record) in applications.iter_mut().enumerate() {
            record.person.case_number = format!("APP-{:07}", i + 1);
        }
        Population { registry, applications }
    }

    /// A duplicate of `kind` of a random original record of `registry`, if one can be made.
    fn duplicate_of_some(&mut self, registry: &[Record], kind: DuplicateKind) -> Option<Record> {
        for _ in 0..10_000 {
            let of = self.rng.gen_range(0..registry.len());
            let original = &registry[of];
            if original.truth.label != Label::Original {
                continue;
            }
            if let Some(person) = self.duplicate(&original.person, kind) {
                return Some(Record {
                    person,
                    truth: Truth { label: Label::Duplicate { kind, of }, ..original.truth },
                });
            }
        }
        None
    }

    fn duplicate(&mut self, original: &Person, kind: DuplicateKind) -> Option<Person> {
        let rng = &mut self.rng;
        let mut p = original.clone();
        p.case_number.clear();
        match kind {
            DuplicateKind::OtherProvince => {}
            DuplicateKind::Hamza => vary_one_part(rng, &mut p, true, |_, s| variants::hamza(s))?,
            DuplicateKind::TaaMarbuta => vary_one_part(rng, &mut p, true, |_, s| variants::taa_marbuta(s))?,
            DuplicateKind::AlefMaqsura => vary_one_part(rng, &mut p, true, |_, s| variants::alef_maqsura(s))?,
            DuplicateKind::CompoundSpacing => {
                vary_one_part(rng, &mut p, true, |_, s| variants::compound_spacing(s))?
            }
            DuplicateKind::OtherScript => {
                // A clerk of the other language writes the whole name in their script.
                let kurdish = |p: &mut Person| parts_mut(p, true).iter().any(|s| is_kurdish_script(s));
                let before = kurdish(&mut p);
                for part in parts_mut(&mut p, true) {
                    if let Some(v) = variants::other_script(part) {
                        *part = v;
                    }
                }
                // Only a change of script counts (a lone hamza seat ئ is not one).
                if kurdish(&mut p) == before {
                    return None;
                }
            }
            DuplicateKind::FamilyNameDropped => {
                p.family_name.take()?;
            }
            DuplicateKind::GrandfatherOmitted => {
                p.grandfather_name = p.family_name.take()?;
            }
            DuplicateKind::TypoSubstitute => vary_one_part(rng, &mut p, false, variants::typo_substitute)?,
            DuplicateKind::TypoDrop => vary_one_part(rng, &mut p, false, variants::typo_drop)?,
            DuplicateKind::TypoDouble => vary_one_part(rng, &mut p, false, variants::typo_double)?,
            DuplicateKind::DayMonthSwapped => {
                let date = p.birth_date?;
                let (month, day) = (date.month?, date.day?);
                if day > 12 || day == month {
                    return None;
                }
                p.birth_date = Some(BirthDate { year: date.year, month: Some(day), day: Some(month) });
            }
            DuplicateKind::YearOnly => {
                let date = p.birth_date?;
                date.month?;
                p.birth_date = Some(BirthDate { year: date.year, month: None, day: None });
            }
            DuplicateKind::NationalIdMissing => {
                p.national_id.take()?;
                return Some(p);
            }
        }
        if kind == DuplicateKind::OtherProvince || rng.gen_bool(self.config.duplicate_in_other_province) {
            p.governorate = Some(self.draw.sample_other(rng, p.governorate.as_deref()).code.to_owned());
        }
        if !rng.gen_bool(self.config.duplicate_keeps_national_id) {
            p.national_id = None;
        }
        Some(p)
    }

    /// A hard non-duplicate of `kind` of a random original record of `registry`, if one can be made.
    fn hard_negative_of_some(
        &mut self,
        registry: &[Record],
        household_names: &HashMap<u64, Vec<String>>,
        kind: HardNegativeKind,
    ) -> Option<Record> {
        for _ in 0..10_000 {
            let of = self.rng.gen_range(0..registry.len());
            let original = &registry[of];
            if original.truth.label != Label::Original {
                continue;
            }
            let siblings: Vec<&str> = household_names
                .get(&original.truth.household_id)
                .map(|names| names.iter().map(String::as_str).collect())
                .unwrap_or_default();
            if let Some((person, same_household)) = self.hard_negative(&original.person, &siblings, kind) {
                let person_id = self.ids.person();
                let household_id = if same_household { original.truth.household_id } else { self.ids.household() };
                return Some(Record {
                    person,
                    truth: Truth { person_id, household_id, label: Label::HardNegative { kind, of } },
                });
            }
        }
        None
    }

    /// The look-alike, and whether it belongs to the original's household.
    fn hard_negative(&mut self, o: &Person, siblings: &[&str], kind: HardNegativeKind) -> Option<(Person, bool)> {
        let script = if [&o.first_name, &o.father_name, &o.grandfather_name].iter().any(|s| is_kurdish_script(s)) {
            Script::Kurdish
        } else {
            Script::Arabic
        };
        let rng = &mut self.rng;
        let names = self.names.of(script);
        let date = o.birth_date?;
        // The look-alike's own national ID, often not given (the hard case).
        let id = |rng: &mut ChaCha8Rng| rng.gen_bool(0.4).then(|| national_id(rng.gen_range(5_000_000_000..9_000_000_000)));
        let mut p = Person { case_number: String::new(), national_id: id(rng), ..o.clone() };
        match kind {
            HardNegativeKind::Twin => {
                let sex = if rng.gen_bool(0.5) { Sex::Male } else { Sex::Female };
                let table = if sex == Sex::Male { &names.male } else { &names.female };
                p.first_name = table.sample_avoiding(rng, siblings).to_owned();
                p.sex = Some(sex);
                Some((p, true))
            }
            HardNegativeKind::NearNameBrother => {
                if o.sex != Some(Sex::Male) {
                    return None;
                }
                let name = near_name(&o.first_name)?;
                if siblings.contains(&name) {
                    return None;
                }
                p.first_name = name.to_owned();
                let gap = rng.gen_range(1..=6u16);
                let year = if rng.gen_bool(0.5) && date.year + gap <= LAST_YEAR { date.year + gap } else { date.year - gap };
                p.birth_date = Some(heaped_birth_date(rng, year));
                Some((p, true))
            }
            HardNegativeKind::Namesake => {
                let table = if o.sex == Some(Sex::Female) { &names.female } else { &names.male };
                if (date.month, date.day) != (Some(1), Some(1)) || !table.is_among_most_common(&o.first_name, 10) {
                    return None;
                }
                if rng.gen_bool(0.5) {
                    p.family_name = rng.gen_bool(0.8).then(|| names.family.sample(rng).to_owned());
                }
                p.mother_name = Some(another_mother(rng, names, o.mother_name.as_deref()));
                p.governorate = Some(self.draw.sample(rng).code.to_owned());
                Some((p, false))
            }
            HardNegativeKind::GenerationApart => {
                if o.sex != Some(Sex::Male) || date.year > LAST_YEAR - 40 {
                    return None;
                }
                let year = (date.year + rng.gen_range(40..=55)).min(LAST_YEAR);
                p.father_name = names.male.sample_avoiding(rng, &[o.first_name.as_str()]).to_owned();
                p.grandfather_name = o.first_name.clone();
                p.mother_name = Some(another_mother(rng, names, o.mother_name.as_deref()));
                p.birth_date = Some(heaped_birth_date(rng, year));
                if rng.gen_bool(0.3) {
                    p.governorate = Some(self.draw.sample_other(rng, o.governorate.as_deref()).code.to_owned());
                }
                Some((p, false))
            }
        }
    }
}

/// A mother's name (first name and her father's) other than `not`: a look-alike from another
/// family has another mother, or nothing could tell the two apart.
fn another_mother<R: Rng>(rng: &mut R, names: &ScriptNames, not: Option<&str>) -> String {
    loop {
        let mother = format!("{} {}", names.female.sample(rng), names.male.sample(rng));
        if Some(mother.as_str()) != not {
            return mother;
        }
    }
}

/// The name fields of `p` that can be varied: the four name parts, and the mother's name.
fn parts_mut(p: &mut Person, with_mother: bool) -> Vec<&mut String> {
    let mut parts = vec![&mut p.first_name, &mut p.father_name, &mut p.grandfather_name];
    if let Some(family) = p.family_name.as_mut() {
        parts.push(family);
    }
    if with_mother {
        if let Some(mother) = p.mother_name.as_mut() {
            parts.push(mother);
        }
    }
    parts
}

/// Applies `vary` to one name field of `p` chosen at random among those it applies to.
fn vary_one_part<R: Rng>(
    rng: &mut R,
    p: &mut Person,
    with_mother: bool,
    mut vary: impl FnMut(&mut R, &str) -> Option<String>,
) -> Option<()> {
    let mut parts = parts_mut(p, with_mother);
    parts.shuffle(rng);
    for part in parts {
        if let Some(v) = vary(rng, part) {
            *part = v;
            return Some(());
        }
    }
    None
}
