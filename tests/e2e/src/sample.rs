//! Valid sample answers for whatever forms the node serves.
//!
//! Generating answers from the form definition (instead of hard-coding field ids) keeps these
//! tests true to the contract: if the node changes a form, the samples follow, and a rule the
//! terminal enforces that the node's own definition does not state shows up as a failure.

use node_protocol::{FieldType, FormDefinition, FormField, MasterData, Script};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{Map, Value};

const ARABIC_NAMES: &[&str] = &["أحمد", "فاطمة", "حسين", "زهراء", "علي", "مريم", "عباس", "نور"];
const KURDISH_NAMES: &[&str] = &["ڕێژنە", "ئاڵا", "هۆشیار", "ژیان", "گەلاوێژ", "چیا", "پەیمان", "ڤیان"];
const LATIN_NAMES: &[&str] = &["Ahmed", "Fatima", "Hussein", "Zahra", "Ali", "Maryam"];

/// Choices for one generated applicant.
#[derive(Debug, Clone, Default)]
pub struct Applicant {
    /// Put this text into every Arabic-script text field (a tracer for "never in clear").
    pub name: Option<String>,
    /// Use this national id (12 digits) instead of a random one.
    pub national_id: Option<String>,
    /// Use this date (`YYYY-MM-DD`) for every date field.
    pub date: Option<String>,
}

/// Answers to every field of `form` that satisfy its rules.
pub fn answers(form: &FormDefinition, master: &MasterData, applicant: &Applicant) -> Value {
    let mut rng = rand::thread_rng();
    let mut out = Map::new();
    let mut governorate: Option<String> = None;
    for field in form.steps.iter().flat_map(|s| &s.fields) {
        // A free-text pattern (e.g. a case number) is beyond a sample name: leave such
        // optional fields out, as an applicant without one would.
        if field.field_type == FieldType::Text && field.pattern.is_some() && !field.required {
            continue;
        }
        let v = value(field, master, applicant, &mut governorate, &mut rng);
        out.insert(field.id.clone(), v);
    }
    Value::Object(out)
}

fn fit(text: String, field: &FormField) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let min = field.min_length.unwrap_or(0) as usize;
    let max = field.max_length.map(|m| m as usize).unwrap_or(usize::MAX);
    while chars.len() < min {
        chars.extend(text.chars().filter(|c| !c.is_whitespace()));
    }
    chars.truncate(max);
    chars.into_iter().collect::<String>().trim().to_string()
}

fn digits(rng: &mut impl Rng, n: usize) -> String {
    (0..n).map(|i| char::from(b'0' + if i == 0 { rng.gen_range(1..10) } else { rng.gen_range(0..10) })).collect()
}

fn value(field: &FormField, master: &MasterData, a: &Applicant, gov: &mut Option<String>, rng: &mut impl Rng) -> Value {
    match field.field_type {
        FieldType::Text => {
            let text = match field.script {
                Some(Script::Latin) => LATIN_NAMES.choose(rng).copied().unwrap_or("Ali").to_string(),
                Some(Script::Digits) => digits(rng, field.min_length.unwrap_or(4).max(1) as usize),
                _ => match &a.name {
                    Some(n) => n.clone(),
                    None => {
                        let pool = if rng.gen_bool(0.5) { ARABIC_NAMES } else { KURDISH_NAMES };
                        format!("{} {}", pool.choose(rng).copied().unwrap_or("علي"), pool.choose(rng).copied().unwrap_or("علي"))
                    }
                },
            };
            Value::String(fit(text, field))
        }
        FieldType::Number => {
            let lo = field.min.unwrap_or(0);
            let hi = field.max.unwrap_or(lo + 10).max(lo);
            Value::from(rng.gen_range(lo..=hi))
        }
        FieldType::Date => Value::String(a.date.clone().unwrap_or_else(|| {
            format!("{}-{:02}-{:02}", rng.gen_range(1950..2004), rng.gen_range(1..13), rng.gen_range(1..29))
        })),
        FieldType::Choice => Value::String(field.options.choose(rng).map(|o| o.value.clone()).unwrap_or_default()),
        FieldType::Governorate => {
            let g = master.governorates.choose(rng).map(|g| g.code.clone()).unwrap_or_default();
            *gov = Some(g.clone());
            Value::String(g)
        }
        FieldType::District => {
            let g = gov
                .as_ref()
                .and_then(|code| master.governorates.iter().find(|g| &g.code == code))
                .or_else(|| master.governorates.first());
            Value::String(g.and_then(|g| g.districts.choose(rng)).map(|d| d.code.clone()).unwrap_or_default())
        }
        FieldType::NationalId => Value::String(a.national_id.clone().unwrap_or_else(|| digits(rng, 12))),
        FieldType::Phone => Value::String(format!("07{}", (0..9).map(|_| char::from(b'0' + rng.gen_range(0..10))).collect::<String>())),
        FieldType::HouseholdMembers => {
            let n = rng.gen_range(1..=3);
            let members = (0..n)
                .map(|_| {
                    let mut m = Map::new();
                    let mut member_gov = gov.clone();
                    for f in &field.member_fields {
                        // Members get their own random ids, never the applicant's tracer id.
                        let plain = Applicant { name: a.name.clone(), national_id: None, date: a.date.clone() };
                        m.insert(f.id.clone(), value(f, master, &plain, &mut member_gov, rng));
                    }
                    Value::Object(m)
                })
                .collect();
            Value::Array(members)
        }
    }
}

/// The body of `POST /v1/simulator/card` for a national ID card whose chip opens with `can`
/// (the simulated Iraqi card: document A12345678, one sample holder's name in DG11), optionally
/// with a data group that does not match the hashes the card's issuer signed.
pub fn national_card(uid: &str, national_id: &str, date_of_birth: &str, can: &str, forged_data_group: Option<u8>) -> Value {
    let mut chip = serde_json::json!({"can": can, "document_number": "A12345678", "date_of_expiry": "2031-07-01", "full_name": "العبيدي<<زينب<كاظم<حسن"});
    if let Some(dg) = forged_data_group {
        chip["forged_data_group"] = serde_json::json!(dg);
    }
    serde_json::json!({"uid": uid, "national_id": national_id, "date_of_birth": date_of_birth, "emrtd": chip})
}
