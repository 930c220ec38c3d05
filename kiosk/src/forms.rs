//! A form being filled in: the node's [`FormDefinition`] walked step by step, the answers typed so
//! far, and the checks made before the service is asked to capture it.
//!
//! Everything here lives only as long as the applicant's session: [`FormSession`] is dropped
//! (and with it every answer) when the session ends or times out. Text only ever grows or
//! shrinks at its end, which is all the kiosk's keyboards can do.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use local_api::display::Conventions;
use node_protocol::{DigitsByLanguage, FieldType, FormDefinition, FormField, MasterData, Script};
use serde_json::{Map, Value};

/// One step of the review screen: its index, its title, and each field's label and answer.
pub type ReviewStep = (usize, String, Vec<(String, String)>);

/// The part of a date the screens' − and + buttons change (declared in `ui/types.slint`).
pub use crate::ui::DatePart;

/// One answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Text, digits, or the value of a choice.
    Text(String),
    /// A date being set with the steppers.
    Date(NaiveDate),
    /// Household members, each a set of answers.
    Members(Vec<BTreeMap<String, Answer>>),
}

/// Why a field is not accepted: a code the UI turns into words (`Messages.field-error`), and a
/// number some codes need; `Server` carries the service's own words.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldError {
    /// Required and empty.
    Required,
    /// Fewer characters than `min_length`.
    TooShort(u32),
    /// More than `max_length`.
    TooLong(u32),
    /// Below `min`.
    TooSmall(i64),
    /// Above `max`.
    TooLarge(i64),
    /// Not 12 digits.
    NationalId,
    /// Not 11 digits starting 07.
    Phone,
    /// Fewer members than `min`.
    TooFewMembers(i64),
    /// Does not match the form's pattern.
    Pattern,
    /// The service refused it with these words.
    Server(String),
}

impl FieldError {
    /// Code and number for the UI.
    pub fn code(&self) -> (&str, i64) {
        match self {
            FieldError::Required => ("required", 0),
            FieldError::TooShort(n) => ("too_short", *n as i64),
            FieldError::TooLong(n) => ("too_long", *n as i64),
            FieldError::TooSmall(n) => ("too_small", *n),
            FieldError::TooLarge(n) => ("too_large", *n),
            FieldError::NationalId => ("national_id", 0),
            FieldError::Phone => ("phone", 0),
            FieldError::TooFewMembers(n) => ("too_few_members", *n),
            FieldError::Pattern => ("pattern", 0),
            FieldError::Server(_) => ("server", 0),
        }
    }
}

/// How a field is entered on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Letters with a keyboard; `latin` or Arabic script.
    Text { latin: bool },
    /// Digits with the numeric pad.
    Digits,
    /// Day, month, year steppers.
    Date,
    /// One of several buttons.
    Choice,
    /// Household members, added one at a time.
    Members,
}

/// How a field's type is entered.
pub fn entry_of(field: &FormField) -> Entry {
    match field.field_type {
        FieldType::Text => match field.script {
            Some(Script::Digits) => Entry::Digits,
            Some(Script::Latin) => Entry::Text { latin: true },
            _ => Entry::Text { latin: false },
        },
        FieldType::Number | FieldType::NationalId | FieldType::Phone => Entry::Digits,
        FieldType::Date => Entry::Date,
        FieldType::Choice | FieldType::Governorate | FieldType::District => Entry::Choice,
        FieldType::HouseholdMembers => Entry::Members,
    }
}

/// A choice as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceState {
    /// Stored value.
    pub value: String,
    /// Label in the session's language.
    pub label: String,
    /// Currently chosen.
    pub selected: bool,
}

/// One field as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldState {
    /// Field id.
    pub id: String,
    /// Label in the session's language.
    pub label: String,
    /// Help in the session's language.
    pub hint: String,
    /// How it is entered.
    pub entry: Entry,
    /// Text typed so far (text and digits).
    pub text: String,
    /// Date, once set.
    pub date: Option<NaiveDate>,
    /// Options (choice, governorate, district).
    pub options: Vec<ChoiceState>,
    /// One line per household member.
    pub members: Vec<String>,
    /// Required.
    pub required: bool,
    /// What is wrong, if anything.
    pub error: Option<FieldError>,
}

/// A member being added.
#[derive(Debug, Clone)]
struct MemberDraft {
    field: String,
    answers: BTreeMap<String, Answer>,
    errors: BTreeMap<String, FieldError>,
}

/// An application or grievance being filled in.
#[derive(Debug, Clone)]
pub struct FormSession {
    form: FormDefinition,
    master: MasterData,
    /// Current step.
    pub step: usize,
    answers: BTreeMap<String, Answer>,
    errors: BTreeMap<String, FieldError>,
    member: Option<MemberDraft>,
    /// The digits each language shows answers in (the node's configuration).
    pub digits: DigitsByLanguage,
}

/// The date the steppers start from when a date is first touched.
pub fn default_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1980, 1, 1).unwrap_or_default()
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let next = if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(year, month + 1, 1) };
    next.and_then(|n| n.pred_opt()).map(|d| d.day()).unwrap_or(28)
}

/// Moves one part of a date by `delta`, wrapping days and months, clamping the day to the month.
pub fn adjust_date(date: NaiveDate, part: DatePart, delta: i32) -> NaiveDate {
    let (mut y, mut m, mut d) = (date.year(), date.month() as i32, date.day() as i32);
    match part {
        DatePart::Day => {
            let n = days_in_month(y, m as u32) as i32;
            d = (d - 1 + delta).rem_euclid(n) + 1;
        }
        DatePart::Month => m = (m - 1 + delta).rem_euclid(12) + 1,
        DatePart::Year => y = (y + delta).clamp(1900, 2100),
    }
    let d = d.min(days_in_month(y, m as u32) as i32);
    NaiveDate::from_ymd_opt(y, m as u32, d as u32).unwrap_or(date)
}

/// Whether `c` may be typed into a field entered as `entry`.
fn accepts(entry: Entry, c: char) -> bool {
    match entry {
        Entry::Digits => c.is_ascii_digit(),
        Entry::Text { latin: true } => c.is_ascii_alphanumeric() || " -'.".contains(c),
        Entry::Text { latin: false } => c == ' ' || ('\u{0600}'..='\u{06FF}').contains(&c),
        _ => false,
    }
}

impl FormSession {
    /// Starts `form` at its first step with no answers.
    pub fn new(form: FormDefinition, master: MasterData) -> FormSession {
        FormSession { form, master, step: 0, answers: BTreeMap::new(), errors: BTreeMap::new(), member: None, digits: DigitsByLanguage::default() }
    }

    /// How `language` shows dates and numbers.
    fn conventions(&self, language: &str) -> Conventions {
        Conventions::for_language(&self.digits, language)
    }

    /// The definition.
    pub fn form(&self) -> &FormDefinition {
        &self.form
    }

    /// Number of steps.
    pub fn step_count(&self) -> usize {
        self.form.steps.len()
    }

    /// Whether step `step` is asked given the answers so far: a step whose own condition does
    /// not hold, or all of whose questions are hidden, is skipped by Next and Back.
    pub fn step_asked(&self, step: usize) -> bool {
        !self.step_fields(step).is_empty()
    }

    /// The first step asked after the current one, if any (the form ends otherwise).
    pub fn next_step(&self) -> Option<usize> {
        (self.step + 1..self.step_count()).find(|&i| self.step_asked(i))
    }

    /// The last step asked before the current one, if any.
    pub fn previous_step(&self) -> Option<usize> {
        (0..self.step).rev().find(|&i| self.step_asked(i))
    }

    /// The first step asked (the first step when none is).
    pub fn first_step(&self) -> usize {
        (0..self.step_count()).find(|&i| self.step_asked(i)).unwrap_or(0)
    }

    /// Whether a household member is being added.
    pub fn editing_member(&self) -> bool {
        self.member.is_some()
    }

    /// The fields on screen: the current step's, or the member fields while adding a member.
    pub fn current_fields(&self) -> Vec<FormField> {
        if let Some(m) = &self.member {
            let fields = self.find_field(&m.field).map(|f| f.member_fields.clone()).unwrap_or_default();
            let scope = to_json(&fields, &m.answers);
            return fields.into_iter().filter(|f| f.shown(&scope)).collect();
        }
        self.step_fields(self.step)
    }

    /// The fields of step `step` asked given the answers so far (skip logic): none when the
    /// step's own condition does not hold.
    fn step_fields(&self, step: usize) -> Vec<FormField> {
        let scope = self.answers_json();
        match self.form.steps.get(step) {
            Some(s) if s.shown(&scope) => s.fields.iter().filter(|f| f.shown(&scope)).cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Drops the answers (and marks) of questions no longer asked, after any change of an
    /// answer: a question disappears with its answer when its condition stops holding, so
    /// nothing hidden is submitted or shown on the review. Repeats while that hides more (a
    /// follow-up of a follow-up), at most once per question.
    fn drop_hidden(&mut self) {
        let all = self.form.steps.iter().map(|s| s.fields.len()).sum::<usize>() + 1;
        for _ in 0..all {
            let scope = to_json(&self.all_fields(), &self.answers);
            let hidden: Vec<String> = self
                .form
                .steps
                .iter()
                .flat_map(|s| s.fields.iter().map(move |f| (s, f)))
                .filter(|(s, f)| !s.shown(&scope) || !f.shown(&scope))
                .map(|(_, f)| f.id.clone())
                .filter(|id| self.answers.contains_key(id) || self.errors.contains_key(id))
                .collect();
            if hidden.is_empty() {
                break;
            }
            for id in hidden {
                self.answers.remove(&id);
                self.errors.remove(&id);
            }
        }
        if let Some(m) = &mut self.member {
            let fields = self.form.steps.iter().flat_map(|s| s.fields.iter()).find(|f| f.id == m.field).map(|f| f.member_fields.clone()).unwrap_or_default();
            for _ in 0..=fields.len() {
                let scope = to_json(&fields, &m.answers);
                let hidden: Vec<&FormField> = fields.iter().filter(|f| !f.shown(&scope) && m.answers.contains_key(&f.id)).collect();
                if hidden.is_empty() {
                    break;
                }
                for f in hidden {
                    m.answers.remove(&f.id);
                    m.errors.remove(&f.id);
                }
            }
        }
    }

    fn all_fields(&self) -> Vec<FormField> {
        self.form.steps.iter().flat_map(|s| s.fields.iter().cloned()).collect()
    }

    fn find_field(&self, id: &str) -> Option<&FormField> {
        self.form.steps.iter().flat_map(|s| s.fields.iter()).find(|f| f.id == id)
    }

    fn scope(&self) -> &BTreeMap<String, Answer> {
        self.member.as_ref().map(|m| &m.answers).unwrap_or(&self.answers)
    }

    fn scope_mut(&mut self) -> (&mut BTreeMap<String, Answer>, &mut BTreeMap<String, FieldError>) {
        match &mut self.member {
            Some(m) => (&mut m.answers, &mut m.errors),
            None => (&mut self.answers, &mut self.errors),
        }
    }

    fn field_at(&self, index: usize) -> Option<FormField> {
        self.current_fields().into_iter().nth(index)
    }

    /// The fields on screen, in `language`.
    pub fn field_states(&self, language: &str) -> Vec<FieldState> {
        let scope = self.scope();
        let errors = self.member.as_ref().map(|m| &m.errors).unwrap_or(&self.errors);
        let fields = self.current_fields();
        // The governorate chosen in this scope filters the districts.
        let governorate = fields
            .iter()
            .find(|f| f.field_type == FieldType::Governorate)
            .and_then(|f| match scope.get(&f.id) {
                Some(Answer::Text(code)) => Some(code.clone()),
                _ => None,
            });
        fields
            .iter()
            .map(|f| {
                let text = match scope.get(&f.id) {
                    Some(Answer::Text(t)) => t.clone(),
                    _ => String::new(),
                };
                let options: Vec<(String, String)> = match f.field_type {
                    FieldType::Choice => f.options.iter().map(|o| (o.value.clone(), o.label.get(language).to_owned())).collect(),
                    FieldType::Governorate => {
                        self.master.governorates.iter().map(|g| (g.code.clone(), g.name.get(language).to_owned())).collect()
                    }
                    FieldType::District => self
                        .master
                        .governorates
                        .iter()
                        .filter(|g| Some(&g.code) == governorate.as_ref())
                        .flat_map(|g| g.districts.iter())
                        .map(|d| (d.code.clone(), d.name.get(language).to_owned()))
                        .collect(),
                    _ => Vec::new(),
                };
                let members = match scope.get(&f.id) {
                    Some(Answer::Members(ms)) => ms.iter().map(|m| member_summary(&f.member_fields, m, self.conventions(language))).collect(),
                    _ => Vec::new(),
                };
                FieldState {
                    id: f.id.clone(),
                    label: f.label.get(language).to_owned(),
                    hint: f.hint.as_ref().map(|h| h.get(language).to_owned()).unwrap_or_default(),
                    entry: entry_of(f),
                    options: options
                        .into_iter()
                        .map(|(value, label)| ChoiceState { selected: value == text, value, label })
                        .collect(),
                    date: match scope.get(&f.id) {
                        Some(Answer::Date(d)) => Some(*d),
                        _ => None,
                    },
                    text,
                    members,
                    required: f.required,
                    error: errors.get(&f.id).cloned(),
                }
            })
            .collect()
    }

    /// Appends what a key typed to field `index`; ignores characters the field does not take and
    /// anything beyond its longest length.
    pub fn type_text(&mut self, index: usize, typed: &str) {
        let Some(field) = self.field_at(index) else { return };
        let entry = entry_of(&field);
        let limit = field.max_length.map(|m| m as usize).unwrap_or(match field.field_type {
            FieldType::NationalId => 12,
            FieldType::Phone => 11,
            FieldType::Number => 6,
            _ => 80,
        });
        let (answers, errors) = self.scope_mut();
        let mut text = match answers.get(&field.id) {
            Some(Answer::Text(t)) => t.clone(),
            _ => String::new(),
        };
        for c in typed.chars() {
            // No leading space and no double space: both are invisible mistakes on a kiosk.
            if c == ' ' && (text.is_empty() || text.ends_with(' ')) {
                continue;
            }
            if accepts(entry, c) && text.chars().count() < limit {
                text.push(c);
            }
        }
        errors.remove(&field.id);
        answers.insert(field.id, Answer::Text(text));
        self.drop_hidden();
    }

    /// Deletes the last character of field `index`.
    pub fn backspace(&mut self, index: usize) {
        let Some(field) = self.field_at(index) else { return };
        let (answers, _) = self.scope_mut();
        if let Some(Answer::Text(t)) = answers.get_mut(&field.id) {
            t.pop();
        }
        self.drop_hidden();
    }

    /// Chooses `value` for field `index`; choosing another governorate clears the district.
    pub fn choose(&mut self, index: usize, value: &str) {
        let Some(field) = self.field_at(index) else { return };
        let districts: Vec<String> =
            self.current_fields().iter().filter(|f| f.field_type == FieldType::District).map(|f| f.id.clone()).collect();
        let (answers, errors) = self.scope_mut();
        if field.field_type == FieldType::Governorate {
            let changed = !matches!(answers.get(&field.id), Some(Answer::Text(v)) if v == value);
            if changed {
                for d in districts {
                    answers.remove(&d);
                }
            }
        }
        errors.remove(&field.id);
        answers.insert(field.id, Answer::Text(value.to_owned()));
        self.drop_hidden();
    }

    /// Moves one part of date field `index`; the first touch sets it to [`default_date`] first.
    pub fn adjust_date(&mut self, index: usize, part: DatePart, delta: i32) {
        let Some(field) = self.field_at(index) else { return };
        let (answers, errors) = self.scope_mut();
        let date = match answers.get(&field.id) {
            Some(Answer::Date(d)) => adjust_date(*d, part, delta),
            _ => default_date(),
        };
        errors.remove(&field.id);
        answers.insert(field.id, Answer::Date(date));
        self.drop_hidden();
    }

    /// Starts adding a member to household field `index`.
    pub fn start_member(&mut self, index: usize) {
        if self.member.is_some() {
            return;
        }
        if let Some(field) = self.field_at(index) {
            self.errors.remove(&field.id);
            self.member = Some(MemberDraft { field: field.id, answers: BTreeMap::new(), errors: BTreeMap::new() });
        }
    }

    /// Drops the member being added.
    pub fn cancel_member(&mut self) {
        self.member = None;
    }

    /// Checks the member being added and, if it passes, adds it. Returns whether it was added.
    pub fn save_member(&mut self) -> bool {
        let Some(mut draft) = self.member.take() else { return false };
        let fields = self.find_field(&draft.field).map(|f| f.member_fields.clone()).unwrap_or_default();
        draft.errors = check(&fields, &draft.answers);
        if !draft.errors.is_empty() {
            self.member = Some(draft);
            return false;
        }
        let entry = self.answers.entry(draft.field).or_insert(Answer::Members(Vec::new()));
        if let Answer::Members(ms) = entry {
            ms.push(draft.answers);
        }
        self.drop_hidden();
        true
    }

    /// Removes member `member` of household field `index`.
    pub fn remove_member(&mut self, index: usize, member: usize) {
        let Some(field) = self.field_at(index) else { return };
        if let Some(Answer::Members(ms)) = self.answers.get_mut(&field.id) {
            if member < ms.len() {
                ms.remove(member);
            }
        }
        self.drop_hidden();
    }

    /// Checks the current step; returns whether it passes (and marks the fields that do not).
    pub fn check_step(&mut self) -> bool {
        // Only the questions asked: a hidden one is never required.
        let fields = self.step_fields(self.step);
        let found = check(&fields, &self.answers);
        for f in self.form.steps.get(self.step).map(|s| s.fields.as_slice()).unwrap_or_default() {
            self.errors.remove(&f.id);
        }
        let ok = found.is_empty();
        self.errors.extend(found);
        ok
    }

    /// Marks the fields the service refused and moves to the first step holding one. Returns
    /// whether any refused field belongs to this form.
    pub fn apply_service_problems(&mut self, problems: &[crate::api::FieldProblem]) -> bool {
        let mut first_step = None;
        for p in problems {
            // `members[2].name` belongs to the `members` field.
            let id = p.field.split(['[', '.']).next().unwrap_or(&p.field).to_owned();
            if let Some(step) = self.form.steps.iter().position(|s| s.fields.iter().any(|f| f.id == id)) {
                first_step = Some(first_step.map_or(step, |s: usize| s.min(step)));
                self.errors.insert(id, FieldError::Server(p.message.clone()));
            }
        }
        if let Some(s) = first_step {
            self.step = s;
            self.member = None;
        }
        first_step.is_some()
    }

    /// The answers as the service takes them: text, numbers as numbers, dates `YYYY-MM-DD`,
    /// members as a list of objects. Empty answers are left out.
    /// Answers of questions hidden by skip logic are never among them.
    pub fn answers_json(&self) -> Map<String, Value> {
        let all = self.all_fields();
        let mut out = to_json(&all, &self.answers);
        let scope = out.clone();
        for s in &self.form.steps {
            for f in &s.fields {
                if !s.shown(&scope) || !f.shown(&scope) {
                    out.remove(&f.id);
                }
            }
        }
        out
    }

    /// Review: per step, its title and each field's label and answer in `language`.
    pub fn review(&self, language: &str) -> Vec<ReviewStep> {
        self.form
            .steps
            .iter()
            .enumerate()
            // A step or question skipped by its condition is not on the review.
            .filter(|(i, _)| !self.step_fields(*i).is_empty())
            .map(|(i, s)| {
                let lines = self
                    .step_fields(i)
                    .iter()
                    .map(|f| (f.label.get(language).to_owned(), self.display(f, &self.answers, language)))
                    .collect();
                (i, s.title.get(language).to_owned(), lines)
            })
            .collect()
    }

    fn display(&self, f: &FormField, answers: &BTreeMap<String, Answer>, language: &str) -> String {
        match answers.get(&f.id) {
            None => String::new(),
            Some(Answer::Date(d)) => self.conventions(language).date(*d),
            Some(Answer::Members(ms)) => {
                ms.iter().map(|m| member_summary(&f.member_fields, m, self.conventions(language))).collect::<Vec<_>>().join(" · ")
            }
            Some(Answer::Text(t)) => match f.field_type {
                FieldType::Choice => f.options.iter().find(|o| &o.value == t).map(|o| o.label.get(language).to_owned()).unwrap_or_default(),
                FieldType::Governorate => {
                    self.master.governorates.iter().find(|g| &g.code == t).map(|g| g.name.get(language).to_owned()).unwrap_or_default()
                }
                FieldType::District => self
                    .master
                    .governorates
                    .iter()
                    .flat_map(|g| g.districts.iter())
                    .find(|d| &d.code == t)
                    .map(|d| d.name.get(language).to_owned())
                    .unwrap_or_default(),
                _ => t.clone(),
            },
        }
    }

    /// Sets an answer directly (e.g. the national ID read from the applicant's card).
    ///
    /// A date field takes `YYYY-MM-DD`; a value it cannot take is left out, for staff to enter.
    pub fn prefill(&mut self, field_id: &str, value: &str) {
        let answer = match self.find_field(field_id).map(|f| f.field_type) {
            None => return,
            Some(FieldType::Date) => match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
                Ok(date) => Answer::Date(date),
                Err(_) => return,
            },
            Some(_) => Answer::Text(value.to_owned()),
        };
        self.answers.insert(field_id.to_owned(), answer);
        self.drop_hidden();
    }

    /// Whether nothing has been entered.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty() && self.member.is_none()
    }
}

fn member_summary(fields: &[FormField], m: &BTreeMap<String, Answer>, conventions: Conventions) -> String {
    fields
        .iter()
        .filter_map(|f| match m.get(&f.id) {
            Some(Answer::Text(t)) if !t.is_empty() && f.field_type != FieldType::Choice => Some(t.clone()),
            Some(Answer::Date(d)) => Some(conventions.date(*d)),
            _ => None,
        })
        .take(3)
        .collect::<Vec<_>>()
        .join(", ")
}

fn to_json(fields: &[FormField], answers: &BTreeMap<String, Answer>) -> Map<String, Value> {
    let mut out = Map::new();
    for f in fields {
        let value = match answers.get(&f.id) {
            None => continue,
            Some(Answer::Text(t)) if t.trim().is_empty() => continue,
            Some(Answer::Text(t)) if f.field_type == FieldType::Number => match t.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => Value::String(t.clone()),
            },
            Some(Answer::Text(t)) => Value::String(t.trim().to_owned()),
            Some(Answer::Date(d)) => Value::String(d.format("%Y-%m-%d").to_string()),
            Some(Answer::Members(ms)) => Value::Array(ms.iter().map(|m| Value::Object(to_json(&f.member_fields, m))).collect()),
        };
        out.insert(f.id.clone(), value);
    }
    out
}

/// The kiosk's checks of `fields` (the service checks again, and decides).
fn check(fields: &[FormField], answers: &BTreeMap<String, Answer>) -> BTreeMap<String, FieldError> {
    let mut errors = BTreeMap::new();
    for f in fields {
        let problem = match answers.get(&f.id) {
            None => f.required.then_some(FieldError::Required),
            Some(Answer::Text(t)) if t.trim().is_empty() => f.required.then_some(FieldError::Required),
            Some(Answer::Members(ms)) => {
                let min = f.min.unwrap_or(if f.required { 1 } else { 0 });
                ((ms.len() as i64) < min).then_some(if ms.is_empty() && f.required { FieldError::Required } else { FieldError::TooFewMembers(min) })
            }
            Some(Answer::Date(_)) => None,
            Some(Answer::Text(t)) => {
                let t = t.trim();
                let len = t.chars().count() as u32;
                match f.field_type {
                    FieldType::NationalId if len != 12 => Some(FieldError::NationalId),
                    FieldType::Phone if len != 11 || !t.starts_with("07") => Some(FieldError::Phone),
                    FieldType::Number => match t.parse::<i64>() {
                        Ok(n) if f.min.is_some_and(|m| n < m) => f.min.map(FieldError::TooSmall),
                        Ok(n) if f.max.is_some_and(|m| n > m) => f.max.map(FieldError::TooLarge),
                        Ok(_) => None,
                        Err(_) => Some(FieldError::Pattern),
                    },
                    _ if f.min_length.is_some_and(|m| len < m) => f.min_length.map(FieldError::TooShort),
                    _ if f.max_length.is_some_and(|m| len > m) => f.max_length.map(FieldError::TooLong),
                    _ => None,
                }
            }
        };
        if f.field_type == FieldType::HouseholdMembers && answers.get(&f.id).is_none() && f.required {
            errors.insert(f.id.clone(), FieldError::Required);
            continue;
        }
        if let Some(p) = problem {
            errors.insert(f.id.clone(), p);
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_wrap_and_clamp() {
        let d = NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
        assert_eq!(adjust_date(d, DatePart::Month, 1), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        assert_eq!(adjust_date(d, DatePart::Day, 1), NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
        assert_eq!(adjust_date(d, DatePart::Month, -1), NaiveDate::from_ymd_opt(2024, 12, 31).unwrap());
        assert_eq!(adjust_date(d, DatePart::Year, -10), NaiveDate::from_ymd_opt(2014, 1, 31).unwrap());
    }

    fn question(id: &str, field_type: FieldType, show_when: Option<node_protocol::ShowWhen>) -> FormField {
        let t = node_protocol::LocalizedText::new("س", "پ", id);
        FormField {
            min: Some(0),
            max: Some(50),
            options: ["resident", "idp"].iter().map(|v| node_protocol::ChoiceOption { value: (*v).into(), label: t.clone() }).collect(),
            show_when,
            ..FormField::new(id, t.clone(), field_type)
        }
    }

    /// Displacement always; years displaced only of IDPs; a second step only for large households.
    fn questionnaire() -> FormSession {
        let when_idp = node_protocol::ShowWhen { field: "displacement".into(), equals: Some("idp".into()), one_of: vec![], at_least: None };
        let large = node_protocol::ShowWhen { field: "people".into(), equals: None, one_of: vec![], at_least: Some(6) };
        let step = |id: &str, fields, show_when| node_protocol::FormStep { id: id.into(), title: node_protocol::LocalizedText::new(id, id, id), fields, show_when };
        let form = FormDefinition {
            id: "targeting".into(),
            kind: node_protocol::SubmissionKind::Application,
            version: "t1".into(),
            title: node_protocol::LocalizedText::default(),
            steps: vec![
                step(
                    "first",
                    vec![
                        question("displacement", FieldType::Choice, None),
                        question("years_displaced", FieldType::Number, Some(when_idp)),
                        question("people", FieldType::Number, None),
                    ],
                    None,
                ),
                step("crowding", vec![question("rooms", FieldType::Number, None)], Some(large)),
            ],
        };
        FormSession::new(form, MasterData { governorates: vec![] })
    }

    fn ids(session: &FormSession) -> Vec<String> {
        session.current_fields().into_iter().map(|f| f.id).collect()
    }

    #[test]
    fn a_follow_up_question_appears_with_its_condition_and_leaves_with_its_answer() {
        let mut s = questionnaire();
        assert_eq!(ids(&s), ["displacement", "people"]);
        s.choose(0, "idp");
        assert_eq!(ids(&s), ["displacement", "years_displaced", "people"]);
        assert_eq!(s.field_states("en")[1].id, "years_displaced");
        s.type_text(1, "4");
        s.type_text(2, "3");
        assert_eq!(s.answers_json().get("years_displaced"), Some(&Value::from(4)));
        assert!(s.check_step());

        // Another answer hides the follow-up: its answer is dropped, and it is not required.
        s.choose(0, "resident");
        assert_eq!(ids(&s), ["displacement", "people"]);
        assert_eq!(s.answers_json().get("years_displaced"), None);
        assert_eq!(s.answers_json().get("people"), Some(&Value::from(3)), "the field now at index 1 kept its answer");
        assert!(s.check_step());
        assert!(s.review("en")[0].2.iter().all(|(label, _)| label != "years_displaced"));

        // Back to IDP: asked again, empty, and required.
        s.choose(0, "idp");
        assert_eq!(s.field_states("en")[1].text, "");
        assert!(!s.check_step());
        assert_eq!(s.field_states("en")[1].error, Some(FieldError::Required));
    }

    #[test]
    fn a_step_with_a_condition_is_asked_only_when_it_holds() {
        let mut s = questionnaire();
        s.choose(0, "resident");
        s.type_text(1, "4");
        assert_eq!(s.next_step(), None, "Next skips the step: the form ends");
        s.step = 1;
        assert!(ids(&s).is_empty());
        assert!(s.check_step(), "a skipped step requires nothing");
        assert_eq!(s.previous_step(), Some(0));
        assert_eq!(s.review("en").len(), 1);
        s.step = 0;
        s.backspace(1);
        s.type_text(1, "7");
        assert_eq!(s.next_step(), Some(1));
        s.step = 1;
        assert_eq!(ids(&s), ["rooms"]);
        assert!(!s.check_step());
        s.type_text(0, "2");
        assert_eq!(s.answers_json().get("rooms"), Some(&Value::from(2)));
        // The household shrinks: the step and its answer go.
        s.step = 0;
        s.backspace(1);
        s.type_text(1, "2");
        assert_eq!(s.answers_json().get("rooms"), None);
        assert_eq!(s.review("en").len(), 1);
    }

    #[test]
    fn fields_take_only_their_script() {
        assert!(accepts(Entry::Text { latin: false }, 'ڵ'));
        assert!(!accepts(Entry::Text { latin: false }, 'a'));
        assert!(accepts(Entry::Digits, '7'));
        assert!(!accepts(Entry::Digits, '٧'));
        assert!(!accepts(Entry::Text { latin: true }, 'ب'));
    }
}
