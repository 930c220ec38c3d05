//! A synthetic population of Iraq for evaluating duplicate detection: households with Iraqi
//! Arabic and Kurdish Sorani names at realistic frequencies, spread over the governorates by
//! population, with duplicates of the kinds seen in practice and the hard non-duplicates
//! (twins, brothers with near names, namesakes, a generation apart) injected and labelled.
//!
//! Records are the matcher's own [`matcher::Person`]; the truth (who each record really is and
//! what was done to it) travels beside it in [`Record::truth`]. Everything is deterministic for
//! a seed.

#![warn(missing_docs)]

pub mod generate;
pub mod governorate;
pub mod household;
pub mod label;
pub mod names;
pub mod tsv;
pub mod variants;

pub use generate::{generate, Config, Population};
pub use label::{DuplicateKind, HardNegativeKind, Label, Record, Truth};
