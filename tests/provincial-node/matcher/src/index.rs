//! The person index: one province's or the whole registry's persons in memory, for checks in
//! milliseconds and batch de-duplication.
//!
//! Compact by construction, because the headquarters holds every province (1.8 million persons
//! and more): name parts are interned once and records hold their `u32` ids; case numbers live
//! in one text arena; each block key maps to the ordinals of its persons. Name and date
//! frequencies are counted as persons are inserted, so an exact agreement on a name weighs what
//! that name's rarity in this registry says.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use normalisation::BirthDate;
use serde::{Deserialize, Serialize};

use crate::blocking::{self, BlockKeys};
use crate::compare::{score, Scored, Thresholds};
use crate::prepared::{Folded, IdText, Name, View, FAMILY, SLOTS};
use crate::{frequency, Comparison, Decision, Person, Sex};

/// A registered person the applicant may be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    /// The registered person's case number.
    pub case_number: String,
    /// Why.
    pub comparison: Comparison,
}

/// Persons that batch de-duplication found to be one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// Their case numbers, sorted.
    pub case_numbers: Vec<String>,
    /// `duplicate` if every link is a duplicate, else `possible`.
    pub decision: Decision,
}

/// Blocks larger than this are not scanned: a key that common (it takes thousands of persons
/// sharing first name, father's name and birth year) says little, and the person's other keys
/// still find their duplicates.
pub const MAX_BLOCK: usize = 4_000;

/// No name part.
const NONE: u32 = u32::MAX;
/// National ID not given.
const NO_ID: u64 = 0;
/// National ID that is not all digits: in [`PersonIndex::odd_ids`].
const ODD_ID: u64 = u64::MAX;

/// Block keys are already hashes: use them as they are.
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Blocks = HashMap<u64, Vec<u32>, BuildHasherDefault<KeyHasher>>;

/// One registered person, compact.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// Interned folded names in slot order ([`NONE`] when absent).
    names: [u32; SLOTS],
    /// Year << 16 | month << 8 | day; 0 when unknown.
    birth: u32,
    /// `1` followed by the ID's digits, [`NO_ID`] or [`ODD_ID`].
    national_id: u64,
    /// Index into the governorates, `u16::MAX` when unknown.
    governorate: u16,
    /// 0 unknown, 1 female, 2 male.
    sex: u8,
}

/// Interned folded name parts with their phonetic key hashes and counts.
#[derive(Debug, Default)]
struct Names {
    ids: HashMap<Box<str>, u32>,
    texts: Vec<Box<str>>,
    phonetic: Vec<u64>,
    /// Whether each is written with Kurdish-only letters.
    kurdish: Vec<bool>,
    /// The built-in prior share of each as a given name and as a family name (looked up once
    /// here rather than for every comparison).
    prior_given: Vec<f64>,
    prior_family: Vec<f64>,
    /// Occurrences in given-name slots (first, father, grandfather, mother).
    given: Vec<u32>,
    /// Occurrences as a family name.
    family: Vec<u32>,
    given_total: u64,
    family_total: u64,
}

impl Names {
    fn intern(&mut self, text: &str, phonetic: u64) -> u32 {
        if let Some(id) = self.ids.get(text) {
            return *id;
        }
        let id = self.texts.len() as u32;
        self.ids.insert(text.into(), id);
        self.texts.push(text.into());
        self.phonetic.push(phonetic);
        self.kurdish
            .push(crate::prepared::has_kurdish_letters(text));
        self.prior_given.push(frequency::prior_given(text));
        self.prior_family.push(frequency::prior_family(text));
        self.given.push(0);
        self.family.push(0);
        id
    }

    fn share(&self, slot: usize, id: Option<u32>, text: &str) -> f64 {
        match id {
            Some(id) => self.share_of(slot, id),
            None if slot == FAMILY => {
                frequency::smoothed(0, self.family_total, frequency::prior_family(text))
            }
            None => frequency::smoothed(0, self.given_total, frequency::prior_given(text)),
        }
    }

    #[inline]
    fn share_of(&self, slot: usize, id: u32) -> f64 {
        let i = id as usize;
        if slot == FAMILY {
            frequency::smoothed(self.family[i], self.family_total, self.prior_family[i])
        } else {
            frequency::smoothed(self.given[i], self.given_total, self.prior_given[i])
        }
    }
}

/// The persons of a registry, indexed for matching.
#[derive(Debug, Default)]
pub struct PersonIndex {
    names: Names,
    records: Vec<Record>,
    case_text: String,
    case_ends: Vec<u32>,
    governorates: Vec<Box<str>>,
    odd_ids: HashMap<u32, Box<str>>,
    /// Persons born on each full date, at [`date_slot`].
    dates: Vec<u32>,
    dated_total: u64,
    blocks: Blocks,
}

fn pack_birth(b: &BirthDate) -> u32 {
    u32::from(b.year) << 16 | u32::from(b.month.unwrap_or(0)) << 8 | u32::from(b.day.unwrap_or(0))
}

/// Years of birth whose full dates are counted (others count as unseen).
const FIRST_COUNTED_YEAR: u16 = 1880;
const DATE_SLOTS: usize = 160 * 12 * 31;

/// Where a full date's count lives in [`PersonIndex::dates`].
fn date_slot(b: &BirthDate) -> Option<usize> {
    let (month, day) = (b.month?, b.day?);
    let year = b.year.checked_sub(FIRST_COUNTED_YEAR)?;
    let slot = (usize::from(year) * 12 + usize::from(month.clamp(1, 12)) - 1) * 31
        + usize::from(day.clamp(1, 31))
        - 1;
    (slot < DATE_SLOTS).then_some(slot)
}

fn unpack_birth(packed: u32) -> Option<BirthDate> {
    if packed == 0 {
        return None;
    }
    let nonzero = |v: u32| (v != 0).then_some(v as u8);
    Some(BirthDate {
        year: (packed >> 16) as u16,
        month: nonzero(packed >> 8 & 0xff),
        day: nonzero(packed & 0xff),
    })
}

fn encode_id(id: &str) -> u64 {
    if !id.is_empty() && id.len() <= 18 && id.bytes().all(|b| b.is_ascii_digit()) {
        format!("1{id}").parse().unwrap_or(ODD_ID)
    } else {
        ODD_ID
    }
}

impl PersonIndex {
    /// An empty index.
    pub fn new() -> PersonIndex {
        PersonIndex::default()
    }

    /// Adds a registered person.
    pub fn insert(&mut self, person: Person) {
        let ordinal = self.records.len() as u32;
        let folded = Folded::new(&person);
        let mut names = [NONE; SLOTS];
        for (slot, value) in folded.names.iter().enumerate() {
            if let Some((text, phonetic)) = value {
                let id = self.names.intern(text, *phonetic);
                names[slot] = id;
                if slot == FAMILY {
                    self.names.family[id as usize] += 1;
                    self.names.family_total += 1;
                } else {
                    self.names.given[id as usize] += 1;
                    self.names.given_total += 1;
                }
            }
        }
        let birth = folded.birth.as_ref().map_or(0, pack_birth);
        if let Some(slot) = folded.birth.as_ref().and_then(date_slot) {
            if self.dates.is_empty() {
                self.dates = vec![0; DATE_SLOTS];
            }
            self.dates[slot] += 1;
            self.dated_total += 1;
        }
        let national_id = match folded.national_id.as_deref() {
            None => NO_ID,
            Some(id) => {
                let code = encode_id(id);
                if code == ODD_ID {
                    self.odd_ids.insert(ordinal, id.into());
                }
                code
            }
        };
        let governorate = match folded.governorate.as_deref() {
            None => u16::MAX,
            Some(g) => match self.governorates.iter().position(|x| &**x == g) {
                Some(i) => i as u16,
                None => {
                    self.governorates.push(g.into());
                    (self.governorates.len() - 1) as u16
                }
            },
        };
        let sex = match folded.sex {
            None => 0,
            Some(Sex::Female) => 1,
            Some(Sex::Male) => 2,
        };
        self.records.push(Record {
            names,
            birth,
            national_id,
            governorate,
            sex,
        });
        self.case_text.push_str(&person.case_number);
        self.case_ends.push(self.case_text.len() as u32);
        let keys = blocking::keys(&folded.view_with_prior());
        for key in keys.keys() {
            self.blocks.entry(key).or_default().push(ordinal);
        }
    }

    /// How many persons it holds.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when it holds nobody.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Bytes of memory the index holds (its allocations by capacity, plus an estimate of the
    /// allocator's and hash tables' overhead).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        // A hash table slot is its entry plus one control byte, at 7/8 load at most.
        fn table<K, V>(capacity: usize) -> usize {
            capacity * (size_of::<(K, V)>() + 1) * 8 / 7
        }
        const ALLOCATION_OVERHEAD: usize = 16;
        let names = table::<Box<str>, u32>(self.names.ids.capacity())
            + self
                .names
                .texts
                .iter()
                .map(|t| 2 * (t.len() + ALLOCATION_OVERHEAD))
                .sum::<usize>()
            + self.names.texts.capacity() * size_of::<Box<str>>()
            + self.names.phonetic.capacity() * 8
            + self.names.kurdish.capacity()
            + (self.names.given.capacity() + self.names.family.capacity()) * 4
            + (self.names.prior_given.capacity() + self.names.prior_family.capacity()) * 8;
        let blocks = table::<u64, Vec<u32>>(self.blocks.capacity())
            + self
                .blocks
                .values()
                .map(|v| v.capacity() * 4 + ALLOCATION_OVERHEAD)
                .sum::<usize>();
        names
            + blocks
            + self.records.capacity() * size_of::<Record>()
            + self.case_text.capacity()
            + self.case_ends.capacity() * 4
            + self.dates.capacity() * 4
            + table::<u32, Box<str>>(self.odd_ids.capacity())
            + self
                .odd_ids
                .values()
                .map(|v| v.len() + ALLOCATION_OVERHEAD)
                .sum::<usize>()
    }

    /// The decision thresholds for this registry's size.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds::for_registry(self.records.len())
    }

    /// The case number of the person at `ordinal` (insertion order).
    pub fn case_number(&self, ordinal: usize) -> &str {
        let start = if ordinal == 0 {
            0
        } else {
            self.case_ends[ordinal - 1] as usize
        };
        &self.case_text[start..self.case_ends[ordinal] as usize]
    }

    fn date_share(&self, b: &BirthDate) -> f64 {
        match (b.month, b.day) {
            (Some(m), Some(d)) => {
                let count = date_slot(b)
                    .and_then(|i| self.dates.get(i))
                    .copied()
                    .unwrap_or(0);
                frequency::smoothed(count, self.dated_total, frequency::prior_date(m, d))
            }
            _ => 1.0,
        }
    }

    /// The applicant folded and viewed with this registry's frequencies.
    fn applicant_view<'a>(&self, folded: &'a Folded) -> View<'a> {
        folded.view(
            |slot, text| {
                self.names
                    .share(slot, self.names.ids.get(text).copied(), text)
            },
            |b| self.date_share(b),
        )
    }

    fn record_view(&self, ordinal: usize) -> View<'_> {
        let r = &self.records[ordinal];
        let mut names: [Option<Name<'_>>; SLOTS] = [None; SLOTS];
        let mut kurdish_script = false;
        for (slot, id) in r.names.iter().enumerate() {
            if *id != NONE {
                kurdish_script |= self.names.kurdish[*id as usize];
                let text: &str = &self.names.texts[*id as usize];
                names[slot] = Some(Name {
                    text,
                    phonetic: self.names.phonetic[*id as usize],
                    share: self.names.share_of(slot, *id),
                });
            }
        }
        let birth = unpack_birth(r.birth);
        let national_id = match r.national_id {
            NO_ID => None,
            ODD_ID => self.odd_ids.get(&(ordinal as u32)).map(|t| IdText::new(t)),
            code => {
                let digits = code.to_string();
                Some(IdText::new(&digits[1..]))
            }
        };
        View {
            names,
            birth,
            birth_share: birth.as_ref().map_or(1.0, |b| self.date_share(b)),
            sex: match r.sex {
                1 => Some(Sex::Female),
                2 => Some(Sex::Male),
                _ => None,
            },
            governorate: self
                .governorates
                .get(usize::from(r.governorate))
                .map(|g| &**g),
            national_id,
            kurdish_script,
        }
    }

    /// Ordinals of the persons sharing a block with `keys`, above `after` if given, sorted and
    /// without repeats, into `out`.
    fn gather(&self, keys: &BlockKeys, after: Option<u32>, out: &mut Vec<u32>) {
        out.clear();
        for key in keys.keys() {
            let Some(block) = self.blocks.get(&key) else {
                continue;
            };
            if block.len() > MAX_BLOCK {
                continue;
            }
            let from = after.map_or(0, |a| block.partition_point(|o| *o <= a));
            out.extend_from_slice(&block[from..]);
        }
        out.sort_unstable();
        out.dedup();
    }

    /// The ordinals (insertion order) of the registered persons a check of `applicant` compares
    /// it with: what blocking keeps. Its recall is measured with this.
    pub fn candidates(&self, applicant: &Person) -> Vec<usize> {
        let folded = Folded::new(applicant);
        let keys = blocking::probes(&self.applicant_view(&folded));
        let mut out = Vec::new();
        self.gather(&keys, None, &mut out);
        out.into_iter().map(|o| o as usize).collect()
    }

    /// The size of each of `applicant`'s blocks, by key kind (see [`BlockKeys::with_kinds`]):
    /// for tuning the keys.
    pub fn block_sizes(&self, applicant: &Person) -> Vec<(u8, usize)> {
        let folded = Folded::new(applicant);
        let keys = blocking::probes(&self.applicant_view(&folded));
        keys.with_kinds()
            .map(|(kind, key)| (kind, self.blocks.get(&key).map_or(0, Vec::len)))
            .collect()
    }

    /// The comparison of `applicant` with the registered person at `ordinal`, with this
    /// registry's frequencies, whatever the decision (for evaluation and review).
    pub fn compare(&self, applicant: &Person, ordinal: usize) -> Comparison {
        let folded = Folded::new(applicant);
        score(
            &self.applicant_view(&folded),
            &self.record_view(ordinal),
            &self.thresholds(),
            true,
        )
        .into_comparison()
    }

    /// The registered persons `applicant` may be, best first; `distinct` ones are left out, and
    /// so is the applicant's own record when it carries a case number already in the index.
    pub fn check(&self, applicant: &Person) -> Vec<Match> {
        let folded = Folded::new(applicant);
        let view = self.applicant_view(&folded);
        let keys = blocking::probes(&view);
        let mut candidates = Vec::new();
        self.gather(&keys, None, &mut candidates);
        let thresholds = self.thresholds();
        let mut scored: Vec<(u32, Scored)> = candidates
            .into_iter()
            .filter_map(|o| {
                let quick = score(&view, &self.record_view(o as usize), &thresholds, false);
                // Scored again in full for its explanation (few candidates get this far).
                let own_record = !applicant.case_number.is_empty()
                    && self.case_number(o as usize) == applicant.case_number;
                (quick.decision != Decision::Distinct && !own_record).then(|| {
                    (
                        o,
                        score(&view, &self.record_view(o as usize), &thresholds, true),
                    )
                })
            })
            .collect();
        scored.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
        scored
            .into_iter()
            .map(|(o, s)| Match {
                case_number: self.case_number(o as usize).to_owned(),
                comparison: s.into_comparison(),
            })
            .collect()
    }

    /// Links (lower ordinal, higher ordinal, is duplicate) from the persons `ordinals`.
    fn links(&self, ordinals: impl Iterator<Item = usize>) -> Vec<(u32, u32, bool)> {
        let mut links = Vec::new();
        let mut candidates = Vec::new();
        let thresholds = self.thresholds();
        for i in ordinals {
            let view = self.record_view(i);
            let keys = blocking::probes(&view);
            self.gather(&keys, Some(i as u32), &mut candidates);
            for &j in &candidates {
                let s = score(&view, &self.record_view(j as usize), &thresholds, false);
                if s.decision != Decision::Distinct {
                    links.push((i as u32, j, s.decision == Decision::Duplicate));
                }
            }
        }
        links
    }

    /// Every group of registered persons that are one person (or may be): the connected
    /// components of the pairs scored `duplicate` or `possible` within blocks, compared on all
    /// available cores.
    pub fn deduplicate(&self) -> Vec<Cluster> {
        let n = self.records.len();
        let threads = std::thread::available_parallelism()
            .map_or(1, |p| p.get())
            .max(1);
        let links: Vec<(u32, u32, bool)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| scope.spawn(move || self.links((t..n).step_by(threads))))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut parent: Vec<u32> = (0..n as u32).collect();
        fn root(parent: &mut [u32], mut x: u32) -> u32 {
            while parent[x as usize] != x {
                let up = parent[parent[x as usize] as usize];
                parent[x as usize] = up;
                x = up;
            }
            x
        }
        for &(i, j, _) in &links {
            let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
            if ri != rj {
                parent[ri.max(rj) as usize] = ri.min(rj);
            }
        }
        let mut members: HashMap<u32, (Vec<u32>, bool)> = HashMap::new();
        for &(i, j, duplicate) in &links {
            let r = root(&mut parent, i);
            let entry = members.entry(r).or_insert_with(|| (Vec::new(), true));
            entry.0.push(i);
            entry.0.push(j);
            entry.1 &= duplicate;
        }
        let mut clusters: Vec<Cluster> = members
            .into_values()
            .map(|(mut ordinals, all_duplicate)| {
                ordinals.sort_unstable();
                ordinals.dedup();
                let mut case_numbers: Vec<String> = ordinals
                    .iter()
                    .map(|o| self.case_number(*o as usize).to_owned())
                    .collect();
                case_numbers.sort();
                Cluster {
                    case_numbers,
                    decision: if all_duplicate {
                        Decision::Duplicate
                    } else {
                        Decision::Possible
                    },
                }
            })
            .collect();
        clusters.sort_by(|a, b| a.case_numbers.cmp(&b.case_numbers));
        clusters
    }
}
