//! Normalisation of what people type about a person, so that the node, the headquarters and the
//! terminal compare the same things: names in Arabic and Kurdish Sorani script folded to one
//! canonical spelling ([`fold`]), split into name parts with compounds kept whole ([`parts`]), a
//! looser key that also joins Kurdish letters with their Arabic spellings ([`phonetic`]), digits
//! of every script ([`digits`]) and dates of birth in the forms people write them ([`birth_date`]).
//!
//! SKELETON: the rules are being written; signatures are the contract.

#![warn(missing_docs)]

pub mod birth_date;
pub mod digits;
pub mod fold;
pub mod parts;
pub mod phonetic;

pub use birth_date::{parse_birth_date, BirthDate, BirthDateError};
pub use digits::ascii_digits;
pub use fold::fold;
pub use parts::name_parts;
pub use phonetic::phonetic_key;
