//! A person as the matcher sees them.

use normalisation::BirthDate;
use serde::{Deserialize, Serialize};

/// Sex as recorded in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
}

/// One person of the registry, or an applicant to check against it. Names are as typed; the
/// matcher normalises them itself.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Person {
    /// The case number under which the person is registered (empty for an applicant not yet filed).
    pub case_number: String,
    /// The national ID number, if known.
    pub national_id: Option<String>,
    /// First name.
    pub first_name: String,
    /// Father's name.
    pub father_name: String,
    /// Grandfather's name.
    pub grandfather_name: String,
    /// Family name (often omitted: three-part names).
    pub family_name: Option<String>,
    /// Mother's name (full or first only).
    pub mother_name: Option<String>,
    /// Date of birth.
    pub birth_date: Option<BirthDate>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Governorate code, e.g. `BGD`.
    pub governorate: Option<String>,
}

impl Person {
    /// A person from a full name of three or four parts as one string (first, father,
    /// grandfather, family), as the pair-scoring CLI reads them.
    pub fn from_full_name(
        full_name: &str,
        birth_date: Option<BirthDate>,
        mother_name: Option<&str>,
    ) -> Person {
        let parts = normalisation::name_parts(full_name);
        let part = |i: usize| parts.get(i).cloned().unwrap_or_default();
        Person {
            first_name: part(0),
            father_name: part(1),
            grandfather_name: part(2),
            family_name: (parts.len() > 3).then(|| parts[3..].join(" ")),
            mother_name: mother_name.map(str::to_owned),
            birth_date,
            ..Person::default()
        }
    }
}
