//! The proxy-means-test (PMT) targeting questionnaire: a versioned form the operator edits, and
//! the linear scoring formula applied when an application carrying it is filed.
//!
//! Both live in the data directory as JSON the operator edits: [`QUESTIONNAIRE_FILE`] (a
//! [`FormDefinition`] with id `targeting`, served in `GET /v1/config` after the application
//! and grievance forms) and [`FORMULA_FILE`] (a [`Formula`]). They are written with the
//! built-in version 1 on first start, and read again whenever they change on disk, so a change
//! of questions reaches the terminals at their next heartbeat (the configuration version
//! changes) without new terminal software, and a new formula scores the next filing. The score
//! and the versions it came from are stored with the case (`targeting_scores`) and shown only
//! at the node (`provincial-node targeting scores`): never in an answer to a terminal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use node_protocol::{ChoiceOption, FieldType, FormDefinition, FormField, FormStep, LocalizedText, ShowWhen, SubmissionKind, TARGETING_FORM_ID};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

/// The questionnaire, in the data directory.
pub const QUESTIONNAIRE_FILE: &str = "targeting-questionnaire.json";
/// The scoring formula, in the data directory.
pub const FORMULA_FILE: &str = "targeting-formula.json";

/// A linear PMT formula: `score = intercept + Σ weight(answer)`, as in the World Bank's proxy
/// means tests (the weights come from a consumption regression; a lower score is poorer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Formula {
    /// Recorded with every score it produced.
    pub version: String,
    /// Constant term.
    pub intercept: f64,
    /// Choice answers: field id → answer value → weight. A value not listed adds nothing.
    #[serde(default)]
    pub choices: BTreeMap<String, BTreeMap<String, f64>>,
    /// Number answers (and household-member lists, by their count): field id → weight per unit.
    #[serde(default)]
    pub per_unit: BTreeMap<String, f64>,
}

/// Problems with the operator's files; each names the file and what to fix.
#[derive(Debug, Error)]
pub enum TargetingError {
    /// Cannot read or write the file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not what it should be.
    #[error("{path}: {message}; fix the file (the node keeps serving and scoring with the last good version)")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Formula {
    /// The score of `answers` (the questionnaire's answers).
    pub fn score(&self, answers: &Map<String, Value>) -> f64 {
        let mut score = self.intercept;
        for (field, weights) in &self.choices {
            if let Some(weight) = answers.get(field).and_then(Value::as_str).and_then(|v| weights.get(v)) {
                score += weight;
            }
        }
        for (field, weight) in &self.per_unit {
            let units = match answers.get(field) {
                Some(Value::Array(members)) => members.len() as f64,
                Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
                _ => 0.0,
            };
            score += weight * units;
        }
        score
    }

    /// Problems of this formula against `questionnaire`: weights of fields or values it does
    /// not have (a typo would silently weigh nothing).
    pub fn problems(&self, questionnaire: &FormDefinition) -> Vec<String> {
        let fields: Vec<&FormField> = questionnaire.steps.iter().flat_map(|s| s.fields.iter()).collect();
        let mut problems = Vec::new();
        if self.version.trim().is_empty() {
            problems.push("version is empty: give the formula a version string".to_string());
        }
        for (id, weights) in &self.choices {
            match fields.iter().find(|f| &f.id == id) {
                Some(f) if f.field_type == FieldType::Choice => {
                    for value in weights.keys().filter(|v| !f.options.iter().any(|o| &o.value == *v)) {
                        problems.push(format!("choices.{id}.{value}: the question '{id}' has no option '{value}'"));
                    }
                }
                Some(_) => problems.push(format!("choices.{id}: '{id}' is not a choice question; weigh it under per_unit")),
                None => problems.push(format!("choices.{id}: the questionnaire has no question '{id}'")),
            }
        }
        for id in self.per_unit.keys() {
            match fields.iter().find(|f| &f.id == id) {
                Some(f) if matches!(f.field_type, FieldType::Number | FieldType::HouseholdMembers) => {}
                Some(_) => problems.push(format!("per_unit.{id}: '{id}' is not a number or member list; weigh it under choices")),
                None => problems.push(format!("per_unit.{id}: the questionnaire has no question '{id}'")),
            }
        }
        problems
    }
}

/// Problems of a questionnaire as an operator wrote it.
pub fn questionnaire_problems(form: &FormDefinition) -> Vec<String> {
    let mut problems = Vec::new();
    if form.id != TARGETING_FORM_ID {
        problems.push(format!("id is '{}': the questionnaire's id must be '{TARGETING_FORM_ID}'", form.id));
    }
    if form.kind != SubmissionKind::Application {
        problems.push("kind must be 'application' (the questionnaire travels with an application)".into());
    }
    if form.version.trim().is_empty() {
        problems.push("version is empty: give the questionnaire a version string".into());
    }
    let mut earlier: Vec<&str> = Vec::new();
    for step in &form.steps {
        let mut conditions: Vec<(&str, &ShowWhen)> = step.show_when.iter().map(|c| (step.id.as_str(), c)).collect();
        conditions.extend(step.fields.iter().filter_map(|f| f.show_when.as_ref().map(|c| (f.id.as_str(), c))));
        for field in &step.fields {
            if field.field_type == FieldType::Choice && field.options.is_empty() {
                problems.push(format!("{}: a choice question needs options", field.id));
            }
        }
        // A condition may look only at questions asked before it, so no answer can hide the
        // question it depends on.
        let mut seen = earlier.clone();
        for field in &step.fields {
            if let Some(c) = &field.show_when {
                if !seen.contains(&c.field.as_str()) {
                    problems.push(format!("{}: show_when looks at '{}', which is not an earlier question", field.id, c.field));
                }
            }
            seen.push(&field.id);
        }
        if let Some(c) = &step.show_when {
            if !earlier.contains(&c.field.as_str()) {
                problems.push(format!("step {}: show_when looks at '{}', which is not a question of an earlier step", step.id, c.field));
            }
        }
        problems.extend(conditions.iter().filter_map(|(_, c)| c.problem()));
        earlier = seen;
    }
    problems
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, TargetingError> {
    let bytes = std::fs::read(path).map_err(|source| TargetingError::Io { path: path.into(), source })?;
    serde_json::from_slice(&bytes).map_err(|e| TargetingError::Invalid { path: path.into(), message: format!("not valid JSON for this file ({e})") })
}

/// Reads and checks the questionnaire file.
pub fn load_questionnaire(path: &Path) -> Result<FormDefinition, TargetingError> {
    let form: FormDefinition = read_json(path)?;
    let problems = questionnaire_problems(&form);
    if problems.is_empty() {
        Ok(form)
    } else {
        Err(TargetingError::Invalid { path: path.into(), message: problems.join("; ") })
    }
}

/// Reads the formula file and checks it against `questionnaire`.
pub fn load_formula(path: &Path, questionnaire: &FormDefinition) -> Result<Formula, TargetingError> {
    let formula: Formula = read_json(path)?;
    let problems = formula.problems(questionnaire);
    if problems.is_empty() {
        Ok(formula)
    } else {
        Err(TargetingError::Invalid { path: path.into(), message: problems.join("; ") })
    }
}

/// Writes the built-in questionnaire and formula into `dir` where they are missing, for the
/// operator to edit.
pub fn write_defaults(dir: &Path) -> Result<(), TargetingError> {
    let write = |name: &str, json: String| {
        let path = dir.join(name);
        if path.exists() {
            return Ok(());
        }
        std::fs::write(&path, json).map_err(|source| TargetingError::Io { path, source })
    };
    write(QUESTIONNAIRE_FILE, serde_json::to_string_pretty(&questionnaire_v1()).unwrap_or_default())?;
    write(FORMULA_FILE, serde_json::to_string_pretty(&formula_v1()).unwrap_or_default())
}

/// What the files held when last read, and when that was (modification time and length).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The questionnaire served.
    pub questionnaire: FormDefinition,
    /// The formula scoring new filings.
    pub formula: Formula,
    stamp: Option<(std::time::SystemTime, u64, std::time::SystemTime, u64)>,
}

fn stamp(dir: &Path) -> Option<(std::time::SystemTime, u64, std::time::SystemTime, u64)> {
    let q = std::fs::metadata(dir.join(QUESTIONNAIRE_FILE)).ok()?;
    let f = std::fs::metadata(dir.join(FORMULA_FILE)).ok()?;
    Some((q.modified().ok()?, q.len(), f.modified().ok()?, f.len()))
}

/// Loads both files of `dir`.
pub fn load(dir: &Path) -> Result<Loaded, TargetingError> {
    let stamp = stamp(dir);
    let questionnaire = load_questionnaire(&dir.join(QUESTIONNAIRE_FILE))?;
    let formula = load_formula(&dir.join(FORMULA_FILE), &questionnaire)?;
    Ok(Loaded { questionnaire, formula, stamp })
}

impl Loaded {
    /// Reads the files again when they changed since; a file that no longer checks is
    /// reported on stderr and the last good version kept (the node must keep serving).
    /// Returns whether anything changed.
    pub fn refresh(&mut self, dir: &Path) -> bool {
        let now = stamp(dir);
        if now.is_none() || now == self.stamp {
            return false;
        }
        match load(dir) {
            Ok(fresh) => {
                let changed = fresh.questionnaire != self.questionnaire || fresh.formula != self.formula;
                *self = fresh;
                changed
            }
            Err(e) => {
                eprintln!("targeting: {e}");
                self.stamp = now;
                false
            }
        }
    }
}

fn t(ar: &str, ckb: &str, en: &str) -> LocalizedText {
    LocalizedText::new(ar, ckb, en)
}

fn question(id: &str, label: LocalizedText, field_type: FieldType) -> FormField {
    FormField::new(id, label, field_type)
}

fn choice(id: &str, label: LocalizedText, options: &[(&str, &str, &str, &str)]) -> FormField {
    FormField {
        options: options.iter().map(|(v, ar, ckb, en)| ChoiceOption { value: (*v).into(), label: t(ar, ckb, en) }).collect(),
        ..question(id, label, FieldType::Choice)
    }
}

fn yes_no(id: &str, label: LocalizedText) -> FormField {
    choice(id, label, &[("yes", "نعم", "بەڵێ", "Yes"), ("no", "لا", "نەخێر", "No")])
}

fn count(id: &str, label: LocalizedText, max: i64) -> FormField {
    FormField { min: Some(0), max: Some(max), ..question(id, label, FieldType::Number) }
}

fn step(id: &str, title: LocalizedText, fields: Vec<FormField>) -> FormStep {
    FormStep { id: id.into(), title, fields, show_when: None }
}

/// The built-in questionnaire (version `pmt-1`), written to [`QUESTIONNAIRE_FILE`] on first start.
pub fn questionnaire_v1() -> FormDefinition {
    FormDefinition {
        id: TARGETING_FORM_ID.into(),
        kind: SubmissionKind::Application,
        version: "pmt-1".into(),
        title: t("استبيان الاستهداف", "پرسیارنامەی ئامانجگرتن", "Targeting questionnaire"),
        steps: vec![
            step("housing", t("السكن", "نیشتەجێبوون", "Housing"), vec![
                choice("dwelling_type", t("نوع المسكن", "جۆری نیشتەجێبوون", "Type of dwelling"), &[
                    ("house", "بيت", "خانوو", "House"),
                    ("apartment", "شقة", "شوقە", "Apartment"),
                    ("tent_or_caravan", "خيمة أو كرفان", "چادر یان کەرەڤان", "Tent or caravan"),
                    ("unfinished", "بناء غير مكتمل", "بینای تەواونەکراو", "Unfinished building"),
                ]),
                count("rooms", t("عدد الغرف", "ژمارەی ژوورەکان", "Number of rooms"), 20),
                choice("tenure", t("حيازة المسكن", "خاوەندارێتی نیشتەجێبوون", "Tenure"), &[
                    ("owned", "ملك", "موڵک", "Owned"),
                    ("rented", "إيجار", "کرێ", "Rented"),
                    ("hosted", "مستضاف", "میوان", "Hosted free"),
                    ("informal", "تجاوز", "نافەرمی", "Informal"),
                ]),
            ]),
            step("assets", t("الممتلكات", "موڵکەکان", "Assets"), vec![
                yes_no("has_fridge", t("ثلاجة", "سەلاجە", "Refrigerator")),
                yes_no("has_car", t("سيارة", "ئۆتۆمبێل", "Car")),
                yes_no("has_generator_line", t("اشتراك مولدة", "بەشداری مۆلیدە", "Generator subscription")),
                yes_no("has_livestock", t("مواشي", "ئاژەڵ", "Livestock")),
            ]),
            step("income", t("مصادر الدخل", "سەرچاوەکانی داهات", "Income"), vec![
                choice("main_income", t("مصدر الدخل الرئيسي", "سەرچاوەی سەرەکی داهات", "Main source of income"), &[
                    ("public_salary", "راتب حكومي", "مووچەی حکومی", "Government salary"),
                    ("private_work", "عمل خاص", "کاری تایبەت", "Private work"),
                    ("daily_labour", "عمل يومي", "کاری ڕۆژانە", "Daily labour"),
                    ("pension", "تقاعد", "خانەنشینی", "Pension"),
                    ("aid", "مساعدات", "یارمەتی", "Aid"),
                    ("none", "لا يوجد", "نییە", "None"),
                ]),
                count("earners", t("عدد العاملين في الأسرة", "ژمارەی کارکەران لە خێزان", "Earners in the household"), 20),
            ]),
            step("household", t("أفراد الأسرة", "ئەندامانی خێزان", "Household"), vec![
                count("members_under_5", t("أطفال دون 5 سنوات", "منداڵی خوار 5 ساڵ", "Children under 5"), 20),
                count("members_5_17", t("أفراد 5-17 سنة", "ئەندامانی 5-17 ساڵ", "Members aged 5-17"), 20),
                count("members_18_59", t("أفراد 18-59 سنة", "ئەندامانی 18-59 ساڵ", "Members aged 18-59"), 20),
                count("members_60_plus", t("أفراد 60 سنة فأكثر", "ئەندامانی 60 ساڵ و سەرووتر", "Members aged 60 or more"), 20),
                yes_no("has_disability", t("هل في الأسرة شخص ذو إعاقة؟", "کەسێکی خاوەن پێداویستی تایبەت لە خێزاندا هەیە؟", "Anyone with a disability?")),
                FormField {
                    show_when: Some(ShowWhen { field: "has_disability".into(), equals: Some("yes".into()), one_of: vec![], at_least: None }),
                    ..count("members_with_disability", t("عدد ذوي الإعاقة", "ژمارەی خاوەن پێداویستی تایبەت", "How many have a disability?"), 20)
                },
            ]),
            step("displacement", t("النزوح", "ئاوارەبوون", "Displacement"), vec![choice(
                "displacement",
                t("حالة النزوح", "دۆخی ئاوارەبوون", "Displacement status"),
                &[
                    ("resident", "مقيم", "نیشتەجێ", "Resident"),
                    ("idp", "نازح", "ئاوارەی ناوخۆ", "Internally displaced"),
                    ("returnee", "عائد", "گەڕاوە", "Returnee"),
                    ("refugee", "لاجئ", "پەنابەر", "Refugee"),
                ],
            )]),
        ],
    }
}

/// The built-in formula (version `pmt-formula-1`), written to [`FORMULA_FILE`] on first start.
/// Illustrative weights in the shape of a log-consumption PMT; an operator replaces them with
/// the programme's estimated ones.
pub fn formula_v1() -> Formula {
    let weights = |pairs: &[(&str, f64)]| pairs.iter().map(|(k, w)| ((*k).to_string(), *w)).collect::<BTreeMap<_, _>>();
    Formula {
        version: "pmt-formula-1".into(),
        intercept: 10.0,
        choices: [
            ("dwelling_type", weights(&[("house", 0.3), ("apartment", 0.4), ("tent_or_caravan", -0.6), ("unfinished", -0.4)])),
            ("tenure", weights(&[("owned", 0.3), ("rented", 0.0), ("hosted", -0.2), ("informal", -0.4)])),
            ("has_fridge", weights(&[("yes", 0.2)])),
            ("has_car", weights(&[("yes", 0.5)])),
            ("has_generator_line", weights(&[("yes", 0.2)])),
            ("has_livestock", weights(&[("yes", 0.1)])),
            ("main_income", weights(&[("public_salary", 0.6), ("private_work", 0.4), ("pension", 0.3), ("daily_labour", -0.1), ("aid", -0.4), ("none", -0.6)])),
            ("has_disability", weights(&[("yes", -0.2)])),
            ("displacement", weights(&[("idp", -0.3), ("returnee", -0.2), ("refugee", -0.3)])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
        per_unit: weights(&[
            ("rooms", 0.1),
            ("earners", 0.2),
            ("members_under_5", -0.15),
            ("members_5_17", -0.1),
            ("members_18_59", -0.05),
            ("members_60_plus", -0.1),
        ]),
    }
}

/// One stored score, for staff at the node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredScore {
    /// The case scored.
    pub case_number: String,
    /// Questionnaire version the answers followed.
    pub questionnaire_version: String,
    /// Formula version that produced the score.
    pub formula_version: String,
    /// The PMT score.
    pub score: f64,
    /// When it was scored (RFC 3339).
    pub scored_at: String,
}

/// Scores `answers` with `formula` and stores it with the case, in the filing's transaction.
pub fn record(tx: &rusqlite::Connection, case_number: &str, questionnaire_version: &str, formula: &Formula, answers: &Map<String, Value>) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO targeting_scores (case_number, questionnaire_version, formula_version, score, scored_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![case_number, questionnaire_version, formula.version, formula.score(answers), chrono::Utc::now().to_rfc3339()],
    )?;
    Ok(())
}

/// Every stored score, by case number.
pub fn scores(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<StoredScore>> {
    let mut stmt = conn.prepare("SELECT case_number, questionnaire_version, formula_version, score, scored_at FROM targeting_scores ORDER BY case_number")?;
    let rows = stmt.query_map([], |r| {
        Ok(StoredScore { case_number: r.get(0)?, questionnaire_version: r.get(1)?, formula_version: r.get(2)?, score: r.get(3)?, scored_at: r.get(4)? })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_built_in_questionnaire_and_formula_check_clean() {
        assert_eq!(questionnaire_problems(&questionnaire_v1()), Vec::<String>::new());
        assert_eq!(formula_v1().problems(&questionnaire_v1()), Vec::<String>::new());
    }

    #[test]
    fn a_score_is_the_intercept_plus_the_weights_of_the_answers() {
        let formula = formula_v1();
        let answers = json!({"dwelling_type": "tent_or_caravan", "rooms": 2, "has_car": "no", "displacement": "idp", "members_under_5": 3});
        let expected = 10.0 - 0.6 + 0.2 - 0.3 - 0.45;
        assert!((formula.score(answers.as_object().unwrap()) - expected).abs() < 1e-9);
        assert!((formula.score(&Map::new()) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn a_formula_weighing_unknown_questions_or_options_is_refused() {
        let mut formula = formula_v1();
        formula.choices.entry("displacement".into()).or_default().insert("nomad".into(), 1.0);
        formula.per_unit.insert("room".into(), 1.0);
        let problems = formula.problems(&questionnaire_v1());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("no option 'nomad'"), "{problems:?}");
        assert!(problems[1].contains("no question 'room'"), "{problems:?}");
    }

    #[test]
    fn a_condition_on_a_later_question_is_refused() {
        let mut form = questionnaire_v1();
        form.steps[0].fields[0].show_when = Some(ShowWhen { field: "displacement".into(), equals: Some("idp".into()), one_of: vec![], at_least: None });
        let problems = questionnaire_problems(&form);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("not an earlier question"), "{problems:?}");
    }
}
