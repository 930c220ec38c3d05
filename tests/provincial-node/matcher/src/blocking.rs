//! Blocking: which registered persons a check compares the applicant with.
//!
//! Every person is filed under several block keys, each a combination of phonetic name keys and
//! (mostly) the year of birth, chosen so that one typing error, one omitted name part, a missing
//! mother's name or a missing date still leaves the two records of one person sharing a key,
//! while combining fields keeps the blocks of common names (محمد علي …) small:
//!
//! | kind | key | survives |
//! | --- | --- | --- |
//! | 1 | national ID | everything but a wrong ID |
//! | 2 | first + father + grandfather + year | mother, family, date (year ±1 probed) |
//! | 3 | first + father + year | grandfather mistyped or omitted, mother |
//! | 4 | first + grandfather + year | father mistyped |
//! | 5 | father + grandfather + mother's first + year | first name mistyped |
//! | 6 | first + mother's first + year | father and grandfather mistyped or shifted |
//! | 7 | first + full date (not 1 Jan / 1 Jul) | everything after the first name |
//! | 8 | first + father + grandfather + mother's first | a wrong year |
//!
//! A person whose year of birth is unknown is filed under an "unknown year" in the keys with a
//! year. A check probes its own year and the unknown year (and, in kind 2, the years either
//! side); with no year of its own it probes every year. Probing is symmetric, so two persons
//! are compared whichever of them is checked against the other. Keys are built from phonetic
//! keys, so Kurdish and Arabic spellings of a name share them.

use normalisation::birth_date::{EARLIEST_YEAR, LATEST_YEAR};

use crate::prepared::{fnv, Folded, View, FATHER, FIRST, GRANDFATHER, MOTHER_FIRST};
use crate::Person;

/// The year component of a key when the year of birth is unknown.
const UNKNOWN_YEAR: u64 = 0xFFFF;

/// Block keys (hashes) with their kind (the table in the module documentation).
#[derive(Debug, Clone, Default)]
pub struct BlockKeys {
    keys: Vec<(u8, u64)>,
}

impl BlockKeys {
    fn push(&mut self, kind: u8, parts: &[u64]) {
        let mut bytes = [0u8; 8 * 5];
        for (i, p) in parts.iter().enumerate() {
            bytes[i * 8..i * 8 + 8].copy_from_slice(&p.to_le_bytes());
        }
        let h = fnv(
            &bytes[..parts.len() * 8],
            u64::from(kind).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        self.keys.push((kind, finish(h)));
    }

    /// The keys.
    pub fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.keys.iter().map(|(_, k)| *k)
    }

    /// The keys with their kind.
    pub fn with_kinds(&self) -> impl Iterator<Item = (u8, u64)> + '_ {
        self.keys.iter().copied()
    }

    /// Whether `key` is one of these.
    pub fn contains(&self, key: u64) -> bool {
        self.keys.iter().any(|(_, k)| *k == key)
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when there are none (a person with no names and no ID).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Spreads a hash's bits over all 64 (hash tables index by some bits, compare by others).
fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Which years a key is built with.
#[derive(Clone, Copy)]
enum Years {
    /// The person's own (or unknown) year: where it is filed.
    Filed,
    /// What a check probes.
    Probed,
}

fn build(v: &View<'_>, years: Years) -> BlockKeys {
    let mut k = BlockKeys::default();
    let p = |slot: usize| v.names[slot].map(|n| n.phonetic);
    let own_year = v.birth.map(|b| u64::from(b.year));
    // The years a key with a year is built with, and those of kind 2 (which also takes ±1).
    let (plain, wide): (Vec<u64>, Vec<u64>) = match (years, own_year) {
        (Years::Filed, Some(y)) => (vec![y], vec![y]),
        (Years::Filed, None) => (vec![UNKNOWN_YEAR], vec![UNKNOWN_YEAR]),
        (Years::Probed, Some(y)) => (
            vec![y, UNKNOWN_YEAR],
            vec![y.saturating_sub(1), y, y + 1, UNKNOWN_YEAR],
        ),
        (Years::Probed, None) => {
            let all: Vec<u64> = (u64::from(EARLIEST_YEAR)..=u64::from(LATEST_YEAR))
                .chain([UNKNOWN_YEAR])
                .collect();
            (all.clone(), all)
        }
    };
    let full_date = v.birth.and_then(|b| match (b.month, b.day) {
        (Some(m), Some(d)) if !crate::frequency::is_placeholder(m, d) => {
            Some(u64::from(b.year) << 16 | u64::from(m) << 8 | u64::from(d))
        }
        _ => None,
    });
    if let Some(id) = &v.national_id {
        k.push(1, &[fnv(id.as_str().as_bytes(), 0)]);
    }
    let (first, father, grandfather, mother) =
        (p(FIRST), p(FATHER), p(GRANDFATHER), p(MOTHER_FIRST));
    if let (Some(f), Some(fa), Some(g)) = (first, father, grandfather) {
        for y in &wide {
            k.push(2, &[f, fa, g, *y]);
        }
    }
    for y in &plain {
        if let (Some(f), Some(fa)) = (first, father) {
            k.push(3, &[f, fa, *y]);
        }
        if let (Some(f), Some(g)) = (first, grandfather) {
            k.push(4, &[f, g, *y]);
        }
        if let (Some(fa), Some(g), Some(m)) = (father, grandfather, mother) {
            k.push(5, &[fa, g, m, *y]);
        }
        if let (Some(f), Some(m)) = (first, mother) {
            k.push(6, &[f, m, *y]);
        }
    }
    if let (Some(f), Some(d)) = (first, full_date) {
        k.push(7, &[f, d]);
    }
    if let (Some(f), Some(fa), Some(g), Some(m)) = (first, father, grandfather, mother) {
        k.push(8, &[f, fa, g, m]);
    }
    k
}

/// The keys a viewed person is filed under.
pub(crate) fn keys(v: &View<'_>) -> BlockKeys {
    build(v, Years::Filed)
}

/// The keys a check of a viewed person probes.
pub(crate) fn probes(v: &View<'_>) -> BlockKeys {
    build(v, Years::Probed)
}

/// The keys a person is filed under.
pub fn block_keys(person: &Person) -> BlockKeys {
    keys(&Folded::new(person).view_with_prior())
}

/// The keys a check of a person probes.
pub fn probe_keys(person: &Person) -> BlockKeys {
    probes(&Folded::new(person).view_with_prior())
}

/// Whether a check of `a` would compare it with `b` (and, probing being symmetric, the other
/// way round): blocking recall is the share of true pairs for which this holds. (An index also
/// skips blocks over [`crate::index::MAX_BLOCK`] persons.)
pub fn shares_block(a: &Person, b: &Person) -> bool {
    let filed = block_keys(b);
    probe_keys(a).keys().any(|k| filed.contains(k))
}
