//! Blocking: which registered persons a check compares the applicant with.
//!
//! Every person gets several block keys, each a combination of phonetic name keys and parts of
//! the date of birth, chosen so that one typing error, one omitted name part, a missing mother's
//! name or a wrong year still leaves the two records of one person sharing at least one key, while
//! combining fields keeps the blocks of common names (محمد علي …) small:
//!
//! | key | survives |
//! | --- | --- |
//! | national ID | everything but a wrong ID |
//! | first + father + grandfather | wrong or missing date, mother, family |
//! | first + father + birth year | grandfather mistyped or omitted, mother |
//! | first + grandfather + birth year | father mistyped |
//! | father + grandfather + mother's first | first name mistyped, wrong or missing date |
//! | first + mother's first + birth year | father and grandfather mistyped or shifted |
//! | first + full date (not 1 Jan / 1 Jul) | everything after the first name |
//! | first + father + mother's first | grandfather mistyped and date missing |
//! | first + father + family | grandfather omitted and date missing |
//!
//! Keys are built from phonetic keys, so Kurdish and Arabic spellings of a name share them.

use crate::prepared::{fnv, Folded, View, FAMILY, FATHER, FIRST, GRANDFATHER, MOTHER_FIRST};
use crate::Person;

/// Most keys a person has.
pub const MAX_KEYS: usize = 9;

/// A person's block keys (hashes).
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockKeys {
    keys: [u64; MAX_KEYS],
    len: usize,
}

impl BlockKeys {
    fn push(&mut self, kind: u64, parts: &[u64]) {
        let mut bytes = [0u8; 8 * 4];
        for (i, p) in parts.iter().enumerate() {
            bytes[i * 8..i * 8 + 8].copy_from_slice(&p.to_le_bytes());
        }
        let h = fnv(&bytes[..parts.len() * 8], kind.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        self.keys[self.len] = finish(h);
        self.len += 1;
    }

    /// The keys.
    pub fn as_slice(&self) -> &[u64] {
        &self.keys[..self.len]
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

/// The block keys of a viewed person.
pub(crate) fn keys(v: &View<'_>) -> BlockKeys {
    let mut k = BlockKeys::default();
    let p = |slot: usize| v.names[slot].map(|n| n.phonetic);
    let year = v.birth.map(|b| u64::from(b.year));
    let full_date = v.birth.and_then(|b| match (b.month, b.day) {
        (Some(m), Some(d)) if !crate::frequency::is_placeholder(m, d) => {
            Some(u64::from(b.year) << 16 | u64::from(m) << 8 | u64::from(d))
        }
        _ => None,
    });
    if let Some(id) = &v.national_id {
        k.push(1, &[fnv(id.as_str().as_bytes(), 0)]);
    }
    let (first, father, grandfather, family, mother) = (p(FIRST), p(FATHER), p(GRANDFATHER), p(FAMILY), p(MOTHER_FIRST));
    if let (Some(f), Some(fa), Some(g)) = (first, father, grandfather) {
        k.push(2, &[f, fa, g]);
    }
    if let (Some(f), Some(fa), Some(y)) = (first, father, year) {
        k.push(3, &[f, fa, y]);
    }
    if let (Some(f), Some(g), Some(y)) = (first, grandfather, year) {
        k.push(4, &[f, g, y]);
    }
    if let (Some(fa), Some(g), Some(m)) = (father, grandfather, mother) {
        k.push(5, &[fa, g, m]);
    }
    if let (Some(f), Some(m), Some(y)) = (first, mother, year) {
        k.push(6, &[f, m, y]);
    }
    if let (Some(f), Some(d)) = (first, full_date) {
        k.push(7, &[f, d]);
    }
    if let (Some(f), Some(fa), Some(m)) = (first, father, mother) {
        k.push(8, &[f, fa, m]);
    }
    if let (Some(f), Some(fa), Some(fam)) = (first, father, family) {
        k.push(9, &[f, fa, fam]);
    }
    k
}

/// The block keys of a person.
pub fn block_keys(person: &Person) -> BlockKeys {
    let folded = Folded::new(person);
    keys(&folded.view_with_prior())
}

/// Whether two persons share a block key, i.e. whether a check of one would compare it with the
/// other (blocking recall is the share of true pairs for which this holds).
pub fn shares_block(a: &Person, b: &Person) -> bool {
    let (ka, kb) = (block_keys(a), block_keys(b));
    ka.as_slice().iter().any(|k| kb.as_slice().contains(k))
}
