//! Building persons for the tests.
#![allow(dead_code)]

use matcher::{Person, Sex};
use normalisation::BirthDate;

pub fn date(year: u16, month: u8, day: u8) -> Option<BirthDate> {
    Some(BirthDate {
        year,
        month: Some(month),
        day: Some(day),
    })
}

pub fn year(year: u16) -> Option<BirthDate> {
    Some(BirthDate {
        year,
        month: None,
        day: None,
    })
}

/// A person from a full name of three or four parts, a date, a mother's name and a sex.
pub fn person(full_name: &str, birth: Option<BirthDate>, mother: &str, sex: Sex) -> Person {
    let mut p = Person::from_full_name(full_name, birth, (!mother.is_empty()).then_some(mother));
    p.sex = Some(sex);
    p
}

pub fn with_case(mut p: Person, case: &str, governorate: &str) -> Person {
    p.case_number = case.to_owned();
    p.governorate = Some(governorate.to_owned());
    p
}
