//! A person's fields folded once, and the borrowed view the scorer and the blocking work on.

use normalisation::BirthDate;

use crate::{frequency, Person, Sex};

/// The name slots, in the order of [`View::names`].
pub const FIRST: usize = 0;
/// Father's name slot.
pub const FATHER: usize = 1;
/// Grandfather's name slot.
pub const GRANDFATHER: usize = 2;
/// Family name slot.
pub const FAMILY: usize = 3;
/// Mother's first name slot.
pub const MOTHER_FIRST: usize = 4;
/// The second part of the mother's name (her father's name).
pub const MOTHER_REST: usize = 5;
/// How many name slots.
pub const SLOTS: usize = 6;

/// One folded name value with what the scorer needs to know about it.
#[derive(Debug, Clone, Copy)]
pub struct Name<'a> {
    /// Folded text.
    pub text: &'a str,
    /// Hash of its phonetic key.
    pub phonetic: u64,
    /// Its share among values of its kind (the `u` of an exact agreement).
    pub share: f64,
}

/// What the scorer and the blocking see of a person.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// First, father's, grandfather's, family, mother's first, mother's other names.
    pub names: [Option<Name<'a>>; SLOTS],
    /// Date of birth.
    pub birth: Option<BirthDate>,
    /// Share of persons born on exactly this full date.
    pub birth_share: f64,
    /// Sex.
    pub sex: Option<Sex>,
    /// Governorate code, folded.
    pub governorate: Option<&'a str>,
    /// National ID, ASCII digits.
    pub national_id: Option<IdText>,
    /// Some name part is written with letters only Kurdish has (ڕ ڵ ۆ ێ ە گ چ پ ژ ڤ): the
    /// record was typed in Kurdish script.
    pub kurdish_script: bool,
}

/// Whether folded text holds letters only Kurdish (and Persian) script has.
pub fn has_kurdish_letters(folded: &str) -> bool {
    folded
        .chars()
        .any(|c| matches!(c, 'ڕ' | 'ڵ' | 'ۆ' | 'ێ' | 'ە' | 'گ' | 'چ' | 'پ' | 'ژ' | 'ڤ'))
}

/// A national ID held inline (IDs are 12 digits; anything past 32 bytes is not compared), so
/// that a view of a registered person costs no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdText {
    bytes: [u8; 32],
    len: u8,
}

impl IdText {
    /// The ID from its text (cut at 32 bytes, on a character boundary).
    pub fn new(text: &str) -> IdText {
        let mut end = text.len().min(32);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; 32];
        bytes[..end].copy_from_slice(&text.as_bytes()[..end]);
        IdText {
            bytes,
            len: end as u8,
        }
    }

    /// The ID's text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// A person folded once (owning its text).
#[derive(Debug, Clone, Default)]
pub struct Folded {
    /// Folded names in slot order, with their phonetic key hashes.
    pub names: [Option<(String, u64)>; SLOTS],
    /// Date of birth.
    pub birth: Option<BirthDate>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Governorate code, trimmed and upper-cased.
    pub governorate: Option<String>,
    /// National ID, ASCII digits without spaces or dashes.
    pub national_id: Option<String>,
}

/// 64-bit FNV-1a: block keys and phonetic keys are hashed with it (stable across runs and
/// platforms, unlike `std`'s randomly seeded hasher).
pub fn fnv(bytes: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Hash of the phonetic key of a folded name.
pub fn phonetic_hash(folded: &str) -> u64 {
    fnv(normalisation::phonetic_key(folded).as_bytes(), 0)
}

/// A field holding one name part: folded with a compound's space removed (عبد الله, عبدالله).
fn name(text: &str) -> Option<(String, u64)> {
    folded_name(normalisation::fold_part(text))
}

/// A field that may hold several words (a family name such as آل بو محمد).
fn words(text: &str) -> Option<(String, u64)> {
    folded_name(normalisation::fold(text))
}

fn folded_name(folded: String) -> Option<(String, u64)> {
    if folded.is_empty() {
        return None;
    }
    let phonetic = phonetic_hash(&folded);
    Some((folded, phonetic))
}

impl Folded {
    /// Folds `person`'s fields.
    pub fn new(person: &Person) -> Folded {
        let mut names: [Option<(String, u64)>; SLOTS] = Default::default();
        names[FIRST] = name(&person.first_name);
        names[FATHER] = name(&person.father_name);
        names[GRANDFATHER] = name(&person.grandfather_name);
        names[FAMILY] = person.family_name.as_deref().and_then(words);
        if let Some(mother) = person.mother_name.as_deref() {
            let parts = normalisation::name_parts(mother);
            if let Some((first, rest)) = parts.split_first() {
                names[MOTHER_FIRST] = name(first);
                // Her father's name only: some write her grandfather's too.
                names[MOTHER_REST] = rest.first().and_then(|r| name(r));
            }
        }
        let governorate = person
            .governorate
            .as_deref()
            .map(|g| g.trim().to_uppercase())
            .filter(|g| !g.is_empty());
        // Digits of any script without grouping; an ID with letters in it is compared as typed.
        let national_id = person.national_id.as_deref().and_then(|id| {
            normalisation::national_id(id)
                .or_else(|| Some(id.trim().to_owned()).filter(|t| !t.is_empty()))
        });
        Folded {
            names,
            birth: person.birth_date,
            sex: person.sex,
            governorate,
            national_id,
        }
    }

    /// The view of this person with shares from the built-in prior.
    pub fn view_with_prior(&self) -> View<'_> {
        self.view(
            |slot, text| {
                if slot == FAMILY {
                    frequency::prior_family(text)
                } else {
                    frequency::prior_given(text)
                }
            },
            |b| match (b.month, b.day) {
                (Some(m), Some(d)) => frequency::prior_date(m, d),
                _ => 1.0,
            },
        )
    }

    /// The view of this person with shares from `share(slot, folded)` and `birth_share(date)`.
    pub fn view(
        &self,
        share: impl Fn(usize, &str) -> f64,
        birth_share: impl Fn(&BirthDate) -> f64,
    ) -> View<'_> {
        let mut names: [Option<Name<'_>>; SLOTS] = [None; SLOTS];
        for (slot, value) in self.names.iter().enumerate() {
            names[slot] = value.as_ref().map(|(text, phonetic)| Name {
                text,
                phonetic: *phonetic,
                share: share(slot, text),
            });
        }
        View {
            names,
            birth: self.birth,
            birth_share: self.birth.as_ref().map(birth_share).unwrap_or(1.0),
            sex: self.sex,
            governorate: self.governorate.as_deref(),
            national_id: self.national_id.as_deref().map(IdText::new),
            kurdish_script: self
                .names
                .iter()
                .flatten()
                .any(|(text, _)| has_kurdish_letters(text)),
        }
    }
}
