//! Comparing two persons field by field.

use serde::{Deserialize, Serialize};

use crate::Person;

/// What the matcher concludes about a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The same person: refuse a second registration.
    Duplicate,
    /// Perhaps the same person: staff review.
    Possible,
    /// Different persons.
    Distinct,
}

/// A compared field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// National ID number.
    NationalId,
    /// First name.
    FirstName,
    /// Father's name.
    FatherName,
    /// Grandfather's name.
    GrandfatherName,
    /// Family name.
    FamilyName,
    /// Mother's name.
    MotherName,
    /// Date of birth.
    BirthDate,
    /// Sex.
    Sex,
    /// Governorate.
    Governorate,
}

/// How one field's values relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// Equal after folding.
    Exact,
    /// Equal by the phonetic key (Kurdish and Arabic spellings, hamza…).
    Phonetic,
    /// Within a typing error or two.
    Typo,
    /// Partly equal (a date with day and month swapped, a name part of a compound).
    Partial,
    /// One side does not have it.
    Missing,
    /// Different.
    Disagree,
}

/// One field's part in a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldEvidence {
    /// The field.
    pub field: Field,
    /// How the two values relate.
    pub agreement: Agreement,
    /// Its weight in the score (log2 of the likelihood ratio): positive for evidence of the
    /// same person, negative against.
    pub weight: f64,
}

/// The decision on a pair, with its score and per-field explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The decision.
    pub decision: Decision,
    /// The total weight (sum of the fields' weights).
    pub score: f64,
    /// One entry per compared field.
    pub explanation: Vec<FieldEvidence>,
}

/// Compares two persons with no registry behind them (built-in name frequencies).
pub fn compare_pair(a: &Person, b: &Person) -> Comparison {
    let fold = |s: &str| normalisation::fold(s);
    let mut explanation = Vec::new();
    let mut score = 0.0;
    for (field, x, y) in [
        (Field::FirstName, fold(&a.first_name), fold(&b.first_name)),
        (Field::FatherName, fold(&a.father_name), fold(&b.father_name)),
        (Field::GrandfatherName, fold(&a.grandfather_name), fold(&b.grandfather_name)),
    ] {
        let (agreement, weight) = if x == y { (Agreement::Exact, 4.0) } else { (Agreement::Disagree, -4.0) };
        score += weight;
        explanation.push(FieldEvidence { field, agreement, weight });
    }
    let decision = if score > 10.0 { Decision::Duplicate } else { Decision::Distinct };
    Comparison { decision, score, explanation }
}
