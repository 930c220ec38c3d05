//! The population as a tab-separated file, one record a line, truth included.

use std::io::{self, Write};

use matcher::Sex;
use normalisation::BirthDate;

use crate::label::Label;
use crate::Population;

/// The header line's columns.
pub const COLUMNS: &[&str] = &[
    "set",
    "case_number",
    "person_id",
    "household_id",
    "label",
    "of_case_number",
    "national_id",
    "first_name",
    "father_name",
    "grandfather_name",
    "family_name",
    "mother_name",
    "birth_date",
    "sex",
    "governorate",
];

/// A date as `YYYY-MM-DD`, or `YYYY` when only the year is known.
pub fn birth_date_text(date: &BirthDate) -> String {
    match (date.month, date.day) {
        (Some(m), Some(d)) => format!("{:04}-{m:02}-{d:02}", date.year),
        (Some(m), None) => format!("{:04}-{m:02}", date.year),
        _ => format!("{:04}", date.year),
    }
}

/// Writes the registry then the applications, with a header line.
pub fn write_tsv<W: Write>(population: &Population, mut out: W) -> io::Result<()> {
    writeln!(out, "{}", COLUMNS.join("\t"))?;
    for (set, records) in [("registry", &population.registry), ("application", &population.applications)] {
        for r in records {
            let p = &r.person;
            let of = match r.truth.label {
                Label::Original => "",
                Label::Duplicate { of, .. } | Label::HardNegative { of, .. } => {
                    population.registry[of].person.case_number.as_str()
                }
            };
            let sex = match p.sex {
                Some(Sex::Male) => "male",
                Some(Sex::Female) => "female",
                None => "",
            };
            writeln!(
                out,
                "{set}\t{}\t{}\t{}\t{}\t{of}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{sex}\t{}",
                p.case_number,
                r.truth.person_id,
                r.truth.household_id,
                r.truth.label.text(),
                p.national_id.as_deref().unwrap_or(""),
                p.first_name,
                p.father_name,
                p.grandfather_name,
                p.family_name.as_deref().unwrap_or(""),
                p.mother_name.as_deref().unwrap_or(""),
                p.birth_date.as_ref().map(birth_date_text).unwrap_or_default(),
                p.governorate.as_deref().unwrap_or(""),
            )?;
        }
    }
    Ok(())
}
