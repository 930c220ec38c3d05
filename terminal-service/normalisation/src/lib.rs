//! Normalisation of what people type about a person, so that the node, the headquarters and the
//! terminal compare the same things: names in Arabic and Kurdish Sorani script folded to one
//! canonical spelling ([`fold()`]), split into name parts with compounds kept whole ([`parts`]), a
//! looser key that also joins Kurdish letters with their Arabic spellings ([`phonetic`]), digits
//! of every script ([`digits`]) and dates of birth in the forms people write them ([`birth_date`]).
//!
//! Every rule, the choice of canonical letters and where the rules differ from Apache Lucene's
//! `ArabicNormalizer` and `SoraniNormalizer` are in the crate's README.md, with an example each;
//! each module's documentation has its own table.
//!
//! ```
//! use normalisation::{fold, name_parts, parse_birth_date, phonetic_key};
//!
//! assert_eq!(fold("أحمد"), fold("احمد"));
//! assert_eq!(name_parts("عبد الله محمد"), ["عبدالله", "محمد"]);
//! assert_eq!(phonetic_key(&fold("فاتمە")), phonetic_key(&fold("فاطمة")));
//! assert_eq!(parse_birth_date("١٢/٣/١٩٨٥").unwrap().to_iso(), "1985-03-12");
//! ```

#![warn(missing_docs)]

pub mod birth_date;
pub mod digits;
pub mod fold;
pub mod parts;
pub mod phonetic;

pub use birth_date::{parse_birth_date, BirthDate, BirthDateError};
pub use digits::{ascii_digits, national_id};
pub use fold::fold;
pub use parts::{fold_part, name_parts};
pub use phonetic::phonetic_key;
