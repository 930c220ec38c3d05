//! The matcher: is this applicant someone already registered? Used by the reference node (its
//! own province) and by the headquarters (every province).
//!
//! SKELETON: the public API below is the contract the node, the headquarters and the evaluation
//! code against; the scoring is being written.

#![warn(missing_docs)]

pub mod compare;
pub mod index;
pub mod person;

pub use compare::{compare_pair, Agreement, Comparison, Decision, Field, FieldEvidence};
pub use index::{Cluster, Match, PersonIndex};
pub use person::{Person, Sex};
