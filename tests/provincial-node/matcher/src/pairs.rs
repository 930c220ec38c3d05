//! Scoring pairs from a file: what `provincial-node match --pairs FILE.tsv --json` does.
//!
//! The input is tab-separated with the header `name_a dob_a mother_a name_b dob_b mother_b`;
//! names are full names of three or four parts in one field, dates as people write them (read
//! with [`normalisation::parse_birth_date`]); an empty date or mother's name is allowed. The
//! output is one JSON object a line: `{"decision":…,"score":…,"explanation":[…]}`.

use std::io::{BufRead, Write};

use serde::Serialize;

use crate::{compare_pair, Comparison, Person};

/// The header the file must start with.
pub const HEADER: [&str; 6] = ["name_a", "dob_a", "mother_a", "name_b", "dob_b", "mother_b"];

/// Why a pairs file could not be scored.
#[derive(Debug, thiserror::Error)]
pub enum PairsError {
    /// Reading the input or writing the output failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The first line is not the header.
    #[error("line 1: the header must be the six tab-separated columns `{}`, found `{found}`", HEADER.join("\\t"))]
    Header {
        /// What the first line held.
        found: String,
    },
    /// A line has the wrong number of columns.
    #[error("line {line}: expected 6 tab-separated columns ({}), found {found}; separate the columns with one tab each, leaving a column empty if unknown", HEADER.join(", "))]
    Columns {
        /// 1-based line number.
        line: usize,
        /// How many columns it had.
        found: usize,
    },
    /// A name is empty or has fewer than two parts.
    #[error("line {line}, column {column}: the full name `{found}` has {parts} part(s); write the first, father's and grandfather's names (and the family name if known), separated by spaces")]
    Name {
        /// 1-based line number.
        line: usize,
        /// The column's name.
        column: &'static str,
        /// The name as written.
        found: String,
        /// How many parts it had.
        parts: usize,
    },
    /// A date of birth could not be read.
    #[error("line {line}, column {column}: {reason}")]
    Date {
        /// 1-based line number.
        line: usize,
        /// The column's name.
        column: &'static str,
        /// What the date reader said (with the form to write).
        reason: normalisation::BirthDateError,
    },
}

#[derive(Serialize)]
struct Output<'a> {
    decision: crate::Decision,
    score: f64,
    explanation: &'a [crate::FieldEvidence],
}

fn person(line: usize, columns: &[&str], offset: usize) -> Result<Person, PairsError> {
    let (name, dob, mother) = (columns[offset], columns[offset + 1], columns[offset + 2]);
    let name_column = HEADER[offset];
    let parts = normalisation::name_parts(name).len();
    if parts < 2 {
        return Err(PairsError::Name {
            line,
            column: name_column,
            found: name.to_owned(),
            parts,
        });
    }
    let birth_date = if dob.trim().is_empty() {
        None
    } else {
        Some(
            normalisation::parse_birth_date(dob).map_err(|reason| PairsError::Date {
                line,
                column: HEADER[offset + 1],
                reason,
            })?,
        )
    };
    let mother = (!mother.trim().is_empty()).then_some(mother);
    Ok(Person::from_full_name(name, birth_date, mother))
}

/// Scores every pair of `input`, writing one JSON line per pair to `output`; returns how many.
pub fn score_pairs(input: impl BufRead, mut output: impl Write) -> Result<usize, PairsError> {
    let mut count = 0;
    let mut header_seen = false;
    for (index, line) in input.lines().enumerate() {
        let line_number = index + 1;
        let line = line?;
        let line = line.trim_end_matches('\r');
        if index == 0 {
            let header: Vec<&str> = line
                .trim_start_matches('\u{feff}')
                .split('\t')
                .map(str::trim)
                .collect();
            if header != HEADER {
                return Err(PairsError::Header {
                    found: line.to_owned(),
                });
            }
            header_seen = true;
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let columns: Vec<&str> = line.split('\t').collect();
        if columns.len() != HEADER.len() {
            return Err(PairsError::Columns {
                line: line_number,
                found: columns.len(),
            });
        }
        let a = person(line_number, &columns, 0)?;
        let b = person(line_number, &columns, 3)?;
        let Comparison {
            decision,
            score,
            explanation,
        } = compare_pair(&a, &b);
        serde_json::to_writer(
            &mut output,
            &Output {
                decision,
                score,
                explanation: &explanation,
            },
        )
        .map_err(std::io::Error::from)?;
        output.write_all(b"\n")?;
        count += 1;
    }
    if !header_seen {
        return Err(PairsError::Header {
            found: String::new(),
        });
    }
    Ok(count)
}
