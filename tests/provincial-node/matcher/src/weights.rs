//! The weights of the score and the thresholds of the decisions.
//!
//! Each weight is log2(m/u) in Fellegi–Sunter terms (as Splink computes them): m is the chance
//! of that agreement level when the two records are one person, u when they are two. The u of
//! an exact name or date agreement is the value's own share ([`crate::frequency`]): محمد agrees
//! by chance far more often than a rare name, 1 January far more often than 12 March. The other
//! levels carry fixed weights from m and u we estimated for touchscreen entry at a service point
//! (a typo in one field of one application in twenty-five; family names omitted on about a
//! third of applications; mothers' names fairly reliable), then checked against the hard cases
//! in the tests (twins, brothers with near names, namesakes, a generation apart).
//!
//! The fields are not independent within a family: siblings share father, grandfather, family
//! and mother. So that lineage cannot outvote a different first name or date of birth, its sum
//! counts at most [`LINEAGE_CAP`]; and `duplicate` also requires the identity fields (first
//! name, date of birth, sex) not to disagree — otherwise the best a pair can get is `possible`.

/// Per-slot weights of a name.
#[derive(Debug, Clone, Copy)]
pub struct NameWeights {
    /// m of an exact agreement (its u is the value's share).
    pub m_exact: f64,
    /// Weight of a typo-level agreement (also the floor of an exact agreement's weight).
    pub typo: f64,
    /// Weight of two different names that are each common (حسن and حسين): near in letters,
    /// but more likely two persons.
    pub near_known: f64,
    /// Weight of a disagreement: log2(m/u) with m the chance the same person's two records
    /// disagree beyond a typo (about 2 %) and u close to 1.
    pub disagree: f64,
}

/// First name: m(exact) 0.92; typo log2(0.04/0.0025); disagree log2(0.02/0.98).
pub const FIRST: NameWeights = NameWeights {
    m_exact: 0.92,
    typo: 4.0,
    near_known: -2.5,
    disagree: -5.6,
};
/// Father's name.
pub const FATHER: NameWeights = NameWeights {
    m_exact: 0.92,
    typo: 4.0,
    near_known: -2.5,
    disagree: -5.0,
};
/// Grandfather's name: mistyped and omitted more often.
pub const GRANDFATHER: NameWeights = NameWeights {
    m_exact: 0.85,
    typo: 3.5,
    near_known: -2.0,
    disagree: -4.0,
};
/// Family (tribe or clan) name: people write one clan or another, so disagreement is weaker.
pub const FAMILY: NameWeights = NameWeights {
    m_exact: 0.80,
    typo: 3.0,
    near_known: -1.5,
    disagree: -3.0,
};
/// Mother's first name.
pub const MOTHER: NameWeights = NameWeights {
    m_exact: 0.88,
    typo: 3.5,
    near_known: -2.0,
    disagree: -4.5,
};
/// Her father's name (the second part of the mother's name) agreeing, when both sides give it.
pub const MOTHER_REST_AGREES: f64 = 2.0;
/// Her father's name disagreeing, when both sides give it: log2(0.1 / 0.9) or so, as it is
/// left out or written differently more often than her own name.
pub const MOTHER_REST_DISAGREES: f64 = -3.0;

/// Shares below this are taken as this (an unseen name is not infinitely telling).
pub const MIN_SHARE: f64 = 1e-5;
/// Cap of one name's weight.
pub const MAX_NAME: f64 = 12.0;
/// A phonetic agreement counts as an exact one on the commoner spelling, less this.
pub const PHONETIC_PENALTY: f64 = 1.0;
/// A name at least this common is a name in its own right, not a typo of a neighbour.
pub const KNOWN_NAME_SHARE: f64 = 0.000_5;
/// Cost of reading a three-part name with a middle part omitted.
pub const OMITTED_PART_PENALTY: f64 = 1.0;
/// Most the lineage (father, grandfather, family, mother) may add: what siblings share.
pub const LINEAGE_CAP: f64 = 16.0;

/// m of an exact date of birth (its u is the date's share).
pub const BIRTH_M_EXACT: f64 = 0.85;
/// Most a shared placeholder date (1 January, 1 July) or a shared bare year may add.
pub const BIRTH_PLACEHOLDER_MAX: f64 = 7.0;
/// Day and month swapped, same year: log2(0.02 / (1/(365·60))) ≈ 8.8.
pub const BIRTH_SWAPPED: f64 = 8.5;
/// Same year and month or same year and day: one of them mistyped.
pub const BIRTH_DAY_OR_MONTH_MISTYPED: f64 = 2.5;
/// Same day and month, years one apart.
pub const BIRTH_YEAR_PLUS_MINUS_ONE: f64 = 5.0;
/// One side knows only the year (or has a placeholder), same year: log2(0.9 / (1/60)) less a
/// margin for the year being guessed.
pub const BIRTH_YEAR_ONLY: f64 = 5.0;
/// A placeholder date (1 January, 1 July) against another day of the same year.
pub const BIRTH_PLACEHOLDER_VS_DATE: f64 = 1.5;
/// One side knows only the year, years one apart.
pub const BIRTH_YEAR_ONLY_APART_ONE: f64 = 0.5;
/// Same year, day and month both different.
pub const BIRTH_SAME_YEAR_ONLY: f64 = -1.0;
/// Full dates a year apart, day and month different.
pub const BIRTH_YEAR_APART_ONE: f64 = -3.0;
/// Years two or more apart: log2(0.015 / 0.95).
pub const BIRTH_APART: f64 = -6.0;
/// A date of birth given on both sides must weigh at least this for a `duplicate` (a bare
/// year agreeing does; a placeholder against another day, or years apart, do not).
pub const BIRTH_GATE: f64 = 2.0;

/// Same sex: log2(0.97 / 0.5).
pub const SEX_AGREES: f64 = 0.95;
/// Different sex: log2(0.01 / 0.5).
pub const SEX_DISAGREES: f64 = -5.6;
/// Same governorate: weak (a different one is no evidence against).
pub const GOVERNORATE_AGREES: f64 = 0.5;

/// The same national ID: always `duplicate`.
pub const NATIONAL_ID_EXACT: f64 = 20.0;
/// National IDs one digit apart: a typo or two persons.
pub const NATIONAL_ID_TYPO: f64 = -2.0;
/// Two different national IDs: strong evidence of two persons.
pub const NATIONAL_ID_DISAGREE: f64 = -12.0;

/// The registry size the thresholds below are set for; larger registries raise them by
/// log2(persons / this) ([`crate::compare::Thresholds::for_registry`]).
pub const REFERENCE_REGISTRY: usize = 200_000;
/// How much the thresholds rise per doubling of the registry. Fellegi–Sunter's prior odds
/// would say one bit; measured on the synthetic population (200 thousand and 1.8 million
/// persons), half a bit keeps precision and loses less recall, because the name weights already
/// follow the registry's own frequencies.
pub const BITS_PER_DOUBLING: f64 = 0.5;
/// Scores from here are `duplicate` (when the identity fields agree).
pub const DUPLICATE_AT: f64 = 25.0;
/// Scores from here are `possible`.
pub const POSSIBLE_AT: f64 = 20.0;
