//! Validation of a kiosk's answers against the node's form definition.
//!
//! The node checks again (it decides), but the terminal checks first so the applicant can fix a
//! mistake while still at the screen, and so nothing obviously broken is sealed and queued. All
//! problems are reported at once, one per field, with a message a person can act on.
//!
//! Text fields hold one script each (the on-screen keyboard offers one): Arabic-script fields
//! accept the Arabic alphabet and the extra letters of Kurdish Sorani (ڕ ڵ ۆ ێ ە ڤ چ پ گ ژ),
//! diacritics, tatweel and the zero-width non-joiner Kurdish uses, but no Latin letters and no
//! digits; Latin fields the reverse; digit fields only 0–9.

use std::collections::HashSet;

use chrono::NaiveDate;
use node_protocol::{FieldType, FormDefinition, FormField, MasterData, Script};
use serde_json::{Map, Value};

/// Most household members one application may list when the form sets no `max`.
pub const DEFAULT_MAX_MEMBERS: i64 = 30;

// Field problems are what a 422 `validation_failed` carries: the local API's type.
pub use local_api::FieldError;

/// Checks `answers` against `form`; `Err` lists every problem found.
///
/// Skip logic (`show_when` on a step or field) is honoured: a hidden field is never required,
/// and an answer to it is refused ("not asked") rather than silently dropped. The kiosk drops
/// such answers itself when their condition stops holding, so one arriving here means a client
/// out of step with the form, and keeping it would file, and score, an answer the applicant was
/// never shown; refusing tells that client which field to remove.
pub fn validate(form: &FormDefinition, master: &MasterData, answers: &Map<String, Value>) -> Result<(), Vec<FieldError>> {
    let fields: Vec<&FormField> = form.steps.iter().flat_map(|s| s.fields.iter()).collect();
    let hidden_steps: HashSet<&str> =
        form.steps.iter().filter(|s| !s.shown(answers)).flat_map(|s| s.fields.iter().map(|f| f.id.as_str())).collect();
    let mut errors = Vec::new();
    check_fields_in(&fields, &hidden_steps, master, answers, "", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The national id answered on `form`, if any (the first national-id field at the top level).
pub fn national_id<'a>(form: &FormDefinition, answers: &'a Map<String, Value>) -> Option<&'a str> {
    form.steps
        .iter()
        .flat_map(|s| s.fields.iter())
        .filter(|f| f.field_type == FieldType::NationalId)
        .find_map(|f| answers.get(&f.id).and_then(Value::as_str))
}

fn check_fields(fields: &[&FormField], master: &MasterData, answers: &Map<String, Value>, prefix: &str, errors: &mut Vec<FieldError>) {
    check_fields_in(fields, &HashSet::new(), master, answers, prefix, errors)
}

/// [`check_fields`] where the fields named in `hidden_steps` sit on steps skipped by their own
/// condition.
fn check_fields_in(
    fields: &[&FormField],
    hidden_steps: &HashSet<&str>,
    master: &MasterData,
    answers: &Map<String, Value>,
    prefix: &str,
    errors: &mut Vec<FieldError>,
) {
    let known: HashSet<&str> = fields.iter().map(|f| f.id.as_str()).collect();
    let mut unknown: Vec<&String> = answers.keys().filter(|k| !known.contains(k.as_str())).collect();
    unknown.sort();
    for key in unknown {
        errors.push(FieldError {
            field: format!("{prefix}{key}"),
            message: "unknown field: this form has no such field; remove it".into(),
        });
    }
    // The governorate chosen in this scope constrains its districts.
    let governorate = fields
        .iter()
        .find(|f| f.field_type == FieldType::Governorate)
        .and_then(|f| answers.get(&f.id))
        .and_then(Value::as_str)
        .and_then(|code| master.governorates.iter().find(|g| g.code == code));
    for field in fields {
        let name = format!("{prefix}{}", field.id);
        let value = answers.get(&field.id);
        if hidden_steps.contains(field.id.as_str()) || !field.shown(answers) {
            if value.is_some_and(|v| !v.is_null()) {
                errors.push(FieldError {
                    field: name,
                    message: "not asked: the answers given do not lead to this question (skip logic); remove this answer".into(),
                });
            }
            continue;
        }
        let absent = match value {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(Value::Array(a)) => a.is_empty() && field.field_type == FieldType::HouseholdMembers && field.required,
            _ => false,
        };
        if absent {
            if field.required {
                errors.push(FieldError { field: name, message: "required: please answer this field".into() });
            }
            continue;
        }
        let Some(value) = value else { continue };
        if let Err(message) = check_value(field, master, governorate.map(|g| g.code.as_str()), value, &name, errors) {
            errors.push(FieldError { field: name, message });
        }
    }
}

fn check_value(
    field: &FormField,
    master: &MasterData,
    governorate: Option<&str>,
    value: &Value,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Result<(), String> {
    match field.field_type {
        FieldType::Text => {
            let text = as_text(value)?;
            check_script(field.script, text)?;
            check_length(field, text)?;
            check_pattern(field, text)
        }
        FieldType::Number => {
            let n = value.as_i64().ok_or("must be a whole number")?;
            if let Some(min) = field.min {
                if n < min {
                    return Err(format!("must be at least {min}"));
                }
            }
            if let Some(max) = field.max {
                if n > max {
                    return Err(format!("must be at most {max}"));
                }
            }
            Ok(())
        }
        FieldType::Date => {
            let text = as_text(value)?;
            let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| "must be a date written YYYY-MM-DD, e.g. 1980-02-29")?;
            if text.len() != 10 {
                return Err("must be a date written YYYY-MM-DD, e.g. 1980-02-29".into());
            }
            use chrono::Datelike;
            if !(1900..=2100).contains(&date.year()) {
                return Err("the year must be between 1900 and 2100".into());
            }
            Ok(())
        }
        FieldType::Choice => {
            let text = as_text(value)?;
            if field.options.iter().any(|o| o.value == text) {
                Ok(())
            } else {
                let values: Vec<&str> = field.options.iter().map(|o| o.value.as_str()).collect();
                Err(format!("must be one of: {}", values.join(", ")))
            }
        }
        FieldType::Governorate => {
            let code = as_text(value)?;
            if master.governorates.iter().any(|g| g.code == code) {
                Ok(())
            } else {
                Err("unknown governorate code: choose one from the master data".into())
            }
        }
        FieldType::District => {
            let code = as_text(value)?;
            let found = match governorate {
                Some(g) => master.governorates.iter().filter(|x| x.code == g).any(|x| x.districts.iter().any(|d| d.code == code)),
                None => master.governorates.iter().any(|x| x.districts.iter().any(|d| d.code == code)),
            };
            if found {
                Ok(())
            } else if governorate.is_some() {
                Err("this district is not in the chosen governorate".into())
            } else {
                Err("unknown district code: choose one from the master data".into())
            }
        }
        FieldType::NationalId => {
            let text = as_text(value)?;
            if text.len() != 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err("must be the 12 digits of the national ID card (0-9)".into());
            }
            check_pattern(field, text)
        }
        FieldType::Phone => {
            let text = as_text(value)?;
            if text.len() != 11 || !text.starts_with("07") || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err("must be an Iraqi mobile number: 11 digits starting with 07".into());
            }
            check_pattern(field, text)
        }
        FieldType::HouseholdMembers => {
            let members = value.as_array().ok_or("must be a list of household members")?;
            let min = field.min.unwrap_or(0);
            let max = field.max.unwrap_or(DEFAULT_MAX_MEMBERS);
            let count = members.len() as i64;
            if count < min {
                return Err(format!("list at least {min} household members"));
            }
            if count > max {
                return Err(format!("list at most {max} household members"));
            }
            let member_fields: Vec<&FormField> = field.member_fields.iter().collect();
            for (i, member) in members.iter().enumerate() {
                let prefix = format!("{name}[{i}].");
                match member.as_object() {
                    Some(answers) => check_fields(&member_fields, master, answers, &prefix, errors),
                    None => errors.push(FieldError { field: format!("{name}[{i}]"), message: "each household member must be an object of answers".into() }),
                }
            }
            Ok(())
        }
    }
}

fn as_text(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| "must be text (a JSON string)".to_string())
}

fn check_length(field: &FormField, text: &str) -> Result<(), String> {
    let chars = text.trim().chars().count() as u64;
    if let Some(min) = field.min_length {
        if chars < u64::from(min) {
            return Err(format!("too short: at least {min} characters"));
        }
    }
    if let Some(max) = field.max_length {
        if chars > u64::from(max) {
            return Err(format!("too long: at most {max} characters"));
        }
    }
    Ok(())
}

fn check_pattern(field: &FormField, text: &str) -> Result<(), String> {
    let Some(pattern) = &field.pattern else { return Ok(()) };
    // The pattern must match the whole answer, whatever anchors the node wrote.
    let anchored = format!("^(?:{pattern})$");
    match regex::Regex::new(&anchored) {
        Ok(re) if re.is_match(text) => Ok(()),
        Ok(_) => Err("does not have the expected format".into()),
        Err(_) => {
            // A broken pattern is the node's mistake, not the applicant's: accept, and say so.
            tracing::warn!(field = %field.id, "form pattern is not a valid regular expression; not applied");
            Ok(())
        }
    }
}

/// Whether `c` is a letter or mark of the Arabic script (Arabic and Kurdish Sorani).
pub fn is_arabic_letter(c: char) -> bool {
    matches!(c,
        '\u{0621}'..='\u{063A}'   // hamza … ghain
        | '\u{0640}'..='\u{065F}' // tatweel, letters fa … yeh, harakat
        | '\u{0670}'..='\u{06D3}' // superscript alef, extended letters (پ چ ژ ڤ گ ڕ ڵ ۆ ێ …)
        | '\u{06D5}'              // ae (ە)
        | '\u{06EE}'..='\u{06EF}'
        | '\u{06FA}'..='\u{06FC}'
        | '\u{0750}'..='\u{077F}' // Arabic supplement
        | '\u{FB50}'..='\u{FDFF}' // presentation forms A (as some keyboards emit them)
        | '\u{FE70}'..='\u{FEFC}' // presentation forms B
        | '\u{200C}'              // zero-width non-joiner, used in Kurdish
    )
}

fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || (('\u{00C0}'..='\u{024F}').contains(&c) && c != '\u{00D7}' && c != '\u{00F7}')
}

/// Punctuation allowed in letter fields: spaces, hyphen, apostrophe, full stop, and the Arabic
/// comma and question mark.
fn is_text_punctuation(c: char) -> bool {
    matches!(c, ' ' | '-' | '\'' | '.' | ',' | '،' | '؟' | '?' | '(' | ')' | '/' | '\n')
}

fn check_script(script: Option<Script>, text: &str) -> Result<(), String> {
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err("contains control characters; type the text again".into());
    }
    match script {
        None => Ok(()),
        Some(Script::Arabic) => {
            if let Some(bad) = text.chars().find(|&c| !is_arabic_letter(c) && !is_text_punctuation(c)) {
                Err(format!("use Arabic or Kurdish letters only ('{bad}' is not allowed here)"))
            } else {
                Ok(())
            }
        }
        Some(Script::Latin) => {
            // Digits are allowed here (case numbers such as BGD-2026-000123): in a
            // left-to-right field they raise no bidirectional-editing problem.
            if let Some(bad) = text.chars().find(|&c| !is_latin_letter(c) && !c.is_ascii_digit() && !is_text_punctuation(c)) {
                Err(format!("use Latin letters and digits only ('{bad}' is not allowed here)"))
            } else {
                Ok(())
            }
        }
        Some(Script::Digits) => {
            if text.bytes().all(|b| b.is_ascii_digit()) {
                Ok(())
            } else {
                Err("use the digits 0-9 only".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use node_protocol::{ChoiceOption, District, FormStep, Governorate, LocalizedText, SubmissionKind};
    use serde_json::json;

    fn field(id: &str, t: FieldType) -> FormField {
        FormField {
            id: id.into(),
            label: LocalizedText::new("x", "x", "x"),
            field_type: t,
            required: false,
            script: None,
            min_length: None,
            max_length: None,
            pattern: None,
            min: None,
            max: None,
            options: vec![],
            member_fields: vec![],
            hint: None,
            show_when: None,
        }
    }

    fn form() -> FormDefinition {
        let mut name = field("full_name", FieldType::Text);
        name.required = true;
        name.script = Some(Script::Arabic);
        name.min_length = Some(3);
        name.max_length = Some(20);
        let mut latin = field("name_latin", FieldType::Text);
        latin.script = Some(Script::Latin);
        let mut code = field("code", FieldType::Text);
        code.script = Some(Script::Digits);
        code.pattern = Some("[0-9]{4}".into());
        let mut age = field("age", FieldType::Number);
        age.min = Some(0);
        age.max = Some(120);
        let mut sex = field("sex", FieldType::Choice);
        sex.options = vec![
            ChoiceOption { value: "f".into(), label: LocalizedText::default() },
            ChoiceOption { value: "m".into(), label: LocalizedText::default() },
        ];
        let mut nid = field("national_id", FieldType::NationalId);
        nid.required = true;
        let mut member_name = field("name", FieldType::Text);
        member_name.required = true;
        member_name.script = Some(Script::Arabic);
        let mut members = field("members", FieldType::HouseholdMembers);
        members.max = Some(2);
        members.member_fields = vec![member_name, field("birth_date", FieldType::Date)];
        FormDefinition {
            id: "application".into(),
            kind: SubmissionKind::Application,
            version: "1".into(),
            title: LocalizedText::default(),
            steps: vec![FormStep {
                id: "s".into(),
                title: LocalizedText::default(),
                fields: vec![
                    name,
                    latin,
                    code,
                    age,
                    sex,
                    nid,
                    field("phone", FieldType::Phone),
                    field("birth_date", FieldType::Date),
                    field("governorate", FieldType::Governorate),
                    field("district", FieldType::District),
                    members,
                ],
                show_when: None,
            }],
        }
    }

    fn master() -> MasterData {
        let d = |c: &str| District { code: c.into(), name: LocalizedText::default() };
        MasterData {
            governorates: vec![
                Governorate { code: "BGD".into(), name: LocalizedText::default(), districts: vec![d("BGD-01"), d("BGD-02")] },
                Governorate { code: "ERB".into(), name: LocalizedText::default(), districts: vec![d("ERB-01")] },
            ],
        }
    }

    fn check(answers: Value) -> Result<(), Vec<FieldError>> {
        validate(&form(), &master(), answers.as_object().unwrap())
    }

    fn errors_for(answers: Value) -> Vec<String> {
        check(answers).unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_application_in_arabic_passes() {
        check(json!({
            "full_name": "فاطمة علي حسين",
            "name_latin": "Fatima Ali",
            "code": "1234",
            "age": 44,
            "sex": "f",
            "national_id": "199012345678",
            "phone": "07701234567",
            "birth_date": "1980-02-29",
            "governorate": "BGD",
            "district": "BGD-02",
            "members": [{"name": "زينب", "birth_date": "2010-05-01"}]
        }))
        .unwrap();
    }

    #[test]
    fn kurdish_sorani_letters_are_arabic_script() {
        for name in ["ڕێبوار ئەحمەد", "هەڵۆ", "ژیان گۆران", "ڤیان چیا پەری", "کوردستان"] {
            check(json!({"full_name": name, "national_id": "199012345678"})).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        }
        // Tatweel and diacritics too.
        check(json!({"full_name": "مُحَمَّـد", "national_id": "199012345678"})).unwrap();
    }

    #[test]
    fn latin_and_digits_are_refused_in_arabic_fields() {
        assert_eq!(errors_for(json!({"full_name": "Fatima Ali", "national_id": "199012345678"})), vec!["full_name"]);
        assert_eq!(errors_for(json!({"full_name": "فاطمة 12", "national_id": "199012345678"})), vec!["full_name"]);
        assert_eq!(errors_for(json!({"full_name": "فاطمة", "name_latin": "فاطمة", "national_id": "199012345678"})), vec!["name_latin"]);
        // Latin fields take ASCII digits (case numbers), not Arabic-Indic ones.
        check(json!({"full_name": "فاطمة", "name_latin": "BGD-2026-000123", "national_id": "199012345678"})).unwrap();
        assert_eq!(errors_for(json!({"full_name": "فاطمة", "name_latin": "BGD-٢٠٢٦", "national_id": "199012345678"})), vec!["name_latin"]);
    }

    #[test]
    fn required_missing_and_blank_are_reported_together() {
        let errors = check(json!({"full_name": "   "})).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors.iter().all(|e| e.message.contains("required")));
    }

    #[test]
    fn each_rule_is_applied() {
        let base = |k: &str, v: Value| {
            let mut m = json!({"full_name": "فاطمة", "national_id": "199012345678"});
            m[k] = v;
            errors_for(m)
        };
        assert_eq!(base("full_name", json!("فا")), vec!["full_name"], "min_length");
        assert_eq!(base("full_name", json!("ف".repeat(21))), vec!["full_name"], "max_length");
        assert_eq!(base("full_name", json!(5)), vec!["full_name"], "type");
        assert_eq!(base("code", json!("123")), vec!["code"], "pattern");
        assert_eq!(base("code", json!("12a4")), vec!["code"], "digits");
        assert_eq!(base("age", json!(121)), vec!["age"], "max");
        assert_eq!(base("age", json!(-1)), vec!["age"], "min");
        assert_eq!(base("age", json!("40")), vec!["age"], "number type");
        assert_eq!(base("age", json!(4.5)), vec!["age"], "whole number");
        assert_eq!(base("sex", json!("x")), vec!["sex"], "choice");
        assert_eq!(base("national_id", json!("19901234567")), vec!["national_id"], "11 digits");
        assert_eq!(base("national_id", json!("١٩٩٠١٢٣٤٥٦٧٨")), vec!["national_id"], "Arabic-Indic digits");
        assert_eq!(base("phone", json!("0770123456")), vec!["phone"], "phone length");
        assert_eq!(base("phone", json!("08701234567")), vec!["phone"], "phone prefix");
        assert_eq!(base("birth_date", json!("1980-02-30")), vec!["birth_date"], "no such day");
        assert_eq!(base("birth_date", json!("29/02/1980")), vec!["birth_date"], "format");
        assert_eq!(base("birth_date", json!("1850-01-01")), vec!["birth_date"], "year");
        assert_eq!(base("governorate", json!("XXX")), vec!["governorate"], "governorate");
        assert_eq!(base("district", json!("ZZZ-01")), vec!["district"], "district");
        assert_eq!(base("nickname", json!("x")), vec!["nickname"], "unknown field");
    }

    #[test]
    fn districts_must_belong_to_the_chosen_governorate() {
        let ok = json!({"full_name": "فاطمة", "national_id": "199012345678", "governorate": "ERB", "district": "ERB-01"});
        check(ok).unwrap();
        let bad = json!({"full_name": "فاطمة", "national_id": "199012345678", "governorate": "ERB", "district": "BGD-01"});
        let errors = check(bad).unwrap_err();
        assert_eq!(errors[0].field, "district");
        assert!(errors[0].message.contains("governorate"));
    }

    #[test]
    fn household_members_are_checked_one_by_one() {
        let errors = errors_for(json!({
            "full_name": "فاطمة", "national_id": "199012345678",
            "members": [{"name": "زينب"}, {"name": "Zainab", "birth_date": "x", "extra": 1}]
        }));
        assert_eq!(errors, vec!["members[1].extra", "members[1].name", "members[1].birth_date"]);
        let too_many = errors_for(json!({
            "full_name": "فاطمة", "national_id": "199012345678",
            "members": [{"name": "أ"}, {"name": "ب"}, {"name": "ج"}]
        }));
        assert_eq!(too_many, vec!["members"]);
        assert_eq!(errors_for(json!({"full_name": "فاطمة", "national_id": "199012345678", "members": ["x"]})), vec!["members[0]"]);
    }

    #[test]
    fn national_id_is_found_for_the_duplicate_warning() {
        let answers = json!({"full_name": "فاطمة", "national_id": "199012345678"});
        assert_eq!(national_id(&form(), answers.as_object().unwrap()), Some("199012345678"));
    }
}

#[cfg(test)]
mod skip_logic_tests {
    use super::*;
    use node_protocol::{ChoiceOption, FormStep, LocalizedText, ShowWhen, SubmissionKind};
    use serde_json::json;

    fn field(id: &str, t: FieldType, required: bool, show_when: Option<ShowWhen>) -> FormField {
        FormField {
            id: id.into(),
            label: LocalizedText::new("x", "x", "x"),
            field_type: t,
            required,
            script: None,
            min_length: None,
            max_length: None,
            pattern: None,
            min: Some(0),
            max: Some(20),
            options: ["resident", "idp", "returnee", "refugee"]
                .iter()
                .filter(|_| t == FieldType::Choice)
                .map(|v| ChoiceOption { value: (*v).into(), label: LocalizedText::default() })
                .collect(),
            member_fields: vec![],
            hint: None,
            show_when,
        }
    }

    fn when(field: &str, one_of: &[&str]) -> Option<ShowWhen> {
        Some(ShowWhen { field: field.into(), equals: None, one_of: one_of.iter().map(|s| (*s).into()).collect(), at_least: None })
    }

    /// Displacement asked always; years displaced only of IDPs and refugees; a whole step on
    /// rooms only when the household has at least 3 people.
    fn questionnaire() -> FormDefinition {
        FormDefinition {
            id: "targeting".into(),
            kind: SubmissionKind::Application,
            version: "t1".into(),
            title: LocalizedText::default(),
            steps: vec![
                FormStep {
                    id: "displacement".into(),
                    title: LocalizedText::default(),
                    fields: vec![
                        field("displacement", FieldType::Choice, true, None),
                        field("years_displaced", FieldType::Number, true, when("displacement", &["idp", "refugee"])),
                        field("people", FieldType::Number, true, None),
                    ],
                    show_when: None,
                },
                FormStep {
                    id: "housing".into(),
                    title: LocalizedText::default(),
                    fields: vec![field("rooms", FieldType::Number, true, None)],
                    show_when: Some(ShowWhen { field: "people".into(), equals: None, one_of: vec![], at_least: Some(3) }),
                },
            ],
        }
    }

    fn problems(answers: serde_json::Value) -> Vec<(String, String)> {
        let master = MasterData { governorates: vec![] };
        match validate(&questionnaire(), &master, answers.as_object().expect("object")) {
            Ok(()) => vec![],
            Err(errors) => errors.into_iter().map(|e| (e.field, e.message)).collect(),
        }
    }

    #[test]
    fn a_follow_up_question_is_required_only_when_its_condition_holds() {
        assert_eq!(problems(json!({"displacement": "resident", "people": 2})), vec![]);
        let missing = problems(json!({"displacement": "idp", "people": 2}));
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert_eq!(missing[0].0, "years_displaced");
        assert!(missing[0].1.starts_with("required"), "{missing:?}");
        assert_eq!(problems(json!({"displacement": "refugee", "years_displaced": 4, "people": 2})), vec![]);
    }

    #[test]
    fn an_answer_to_a_hidden_question_is_refused_naming_the_field() {
        let refused = problems(json!({"displacement": "resident", "years_displaced": 4, "people": 2}));
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].0, "years_displaced");
        assert!(refused[0].1.contains("not asked") && refused[0].1.contains("remove"), "{refused:?}");
    }

    #[test]
    fn a_step_with_a_condition_is_asked_and_required_only_when_it_holds() {
        assert_eq!(problems(json!({"displacement": "resident", "people": 2})), vec![]);
        let missing = problems(json!({"displacement": "resident", "people": 3}));
        assert_eq!(missing.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), vec!["rooms"]);
        assert_eq!(problems(json!({"displacement": "resident", "people": 5, "rooms": 2})), vec![]);
        let refused = problems(json!({"displacement": "resident", "people": 2, "rooms": 2}));
        assert_eq!(refused.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), vec!["rooms"]);
    }

    #[test]
    fn the_range_of_a_shown_number_is_still_checked() {
        let out = problems(json!({"displacement": "idp", "years_displaced": 21, "people": 2}));
        assert_eq!(out, vec![("years_displaced".to_string(), "must be at most 20".to_string())]);
    }
}
