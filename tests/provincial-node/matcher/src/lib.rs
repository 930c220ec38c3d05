//! The matcher: is this applicant someone already registered? Used by the reference node (its
//! own province) and by the headquarters (every province).
//!
//! Fellegi–Sunter scoring over folded Arabic and Kurdish name parts ([`compare`], weights in
//! [`weights`], value frequencies in [`frequency`]), blocking so that a check compares an
//! applicant with a handful of registered persons rather than all of them ([`blocking`]), the
//! in-memory index of a registry ([`index`]) and the pair-scoring file format of
//! `provincial-node match --pairs` ([`pairs`]).

#![warn(missing_docs)]

pub mod blocking;
pub mod compare;
pub mod distance;
pub mod frequency;
pub mod index;
pub mod pairs;
pub mod person;
mod prepared;
pub mod weights;

pub use compare::{
    compare_pair, Agreement, Comparison, Decision, Field, FieldEvidence, Thresholds,
};
pub use index::{Cluster, Match, PersonIndex};
pub use person::{Person, Sex};
