//! The targeting questionnaire (issue 14): the node's proxy-means-test form (id
//! [`TARGETING_FORM_ID`] among the forms of `GET /v1/forms`), asked on the form screen after the
//! application's last step, with the same machinery ([`FormSession`]: skip logic, checks,
//! keyboards, review). Its questions, their translations, its skip logic and its version all
//! come from the node, so a new questionnaire reaches the kiosk with the terminal's next
//! configuration sync and needs no new kiosk software; its answers travel in the application's
//! `targeting` field, which the service checks against the same cached version. The score is
//! the node's alone: nothing here (nor in the local API) ever carries one.
//!
//! The questionnaire lives beside the application in [`State`] (never inside it), so
//! `flow/form.rs` only asks here which form is on screen ([`State::filling`]), what comes after
//! the application's last step ([`State::begin_questionnaire`]) and what the review lists.

use node_protocol::{FormDefinition, SubmissionKind, TARGETING_FORM_ID};
use serde_json::{Map, Value};

use super::State;
use crate::api::FieldProblem;
use crate::forms::{FormSession, ReviewStep};

/// The questionnaire of the application on screen.
#[derive(Debug, Default)]
pub struct Questionnaire {
    /// Its answers so far, once the application's steps were passed; kept while the applicant
    /// goes back into the application, forgotten with the application.
    pub session: Option<FormSession>,
    /// The form screen shows the questionnaire rather than the application.
    pub on_screen: bool,
}

/// Where a field refused by the service belongs: `targeting.rooms` to the questionnaire.
const PREFIX: &str = "targeting.";

impl State {
    /// The form on the form screen: the questionnaire while it is asked, else the application.
    pub fn filling(&self) -> Option<&FormSession> {
        if self.targeting.on_screen {
            self.targeting.session.as_ref()
        } else {
            self.form.as_ref()
        }
    }

    /// [`State::filling`], to change.
    pub fn filling_mut(&mut self) -> Option<&mut FormSession> {
        if self.targeting.on_screen {
            self.targeting.session.as_mut()
        } else {
            self.form.as_mut()
        }
    }

    /// The questionnaire the node serves for the application on screen, if any (a grievance
    /// has none).
    fn served_questionnaire(&self) -> Option<&FormDefinition> {
        let application = self.form.as_ref().is_some_and(|f| f.form().kind == SubmissionKind::Application);
        let forms = self.forms.as_ref().filter(|_| application)?;
        forms.forms.iter().find(|f| f.id == TARGETING_FORM_ID)
    }

    /// Whether a questionnaire follows the application's last step (the form screen then says
    /// Next rather than Review).
    pub fn questionnaire_follows(&self) -> bool {
        !self.targeting.on_screen && self.served_questionnaire().is_some()
    }

    /// After the last step asked of the form on screen: shows the questionnaire (its first
    /// step asked, keeping earlier answers) when the application has one still to come, and
    /// returns whether it did; otherwise the review comes next.
    pub fn begin_questionnaire(&mut self) -> bool {
        if self.targeting.on_screen {
            return false;
        }
        let Some(served) = self.served_questionnaire().cloned() else { return false };
        // A new version served meanwhile starts afresh: answers of the old questions would be
        // refused by the service, which checks against the version it now holds.
        let current = self.targeting.session.as_ref().is_some_and(|q| q.form() == &served);
        if !current {
            let master = self.forms.as_ref().map(|f| f.master_data.clone()).unwrap_or_else(|| node_protocol::MasterData { governorates: vec![] });
            let mut session = FormSession::new(served, master);
            session.digits = self.digits;
            self.targeting.session = Some(session);
        }
        if let Some(q) = self.targeting.session.as_mut() {
            q.step = q.first_step();
        }
        self.targeting.on_screen = true;
        true
    }

    /// Back from the questionnaire's first step asked: the application's last step asked.
    /// Returns whether that is where Back led.
    pub fn leave_questionnaire(&mut self) -> bool {
        if !self.targeting.on_screen || self.targeting.session.as_ref().is_some_and(|q| q.previous_step().is_some()) {
            return false;
        }
        self.targeting.on_screen = false;
        if let Some(f) = self.form.as_mut() {
            f.step = (0..f.step_count()).rev().find(|&i| f.step_asked(i)).unwrap_or(0);
        }
        true
    }

    /// The answers to send in the application's `targeting` field: the questionnaire's, once
    /// it was asked (skipped questions are never among them).
    pub fn targeting_answers(&self) -> Option<Map<String, Value>> {
        self.served_questionnaire()?;
        self.targeting.session.as_ref().map(FormSession::answers_json)
    }

    /// The review: the application's steps, then the questionnaire's, numbered after the
    /// application's so that Change finds them ([`State::edit_step`]).
    pub fn review_steps(&self, language: &str) -> Vec<ReviewStep> {
        let Some(form) = &self.form else { return Vec::new() };
        let mut steps = form.review(language);
        if let Some(q) = self.targeting.session.as_ref().filter(|_| self.served_questionnaire().is_some()) {
            let offset = form.step_count();
            steps.extend(q.review(language).into_iter().map(|(i, title, lines)| (i + offset, title, lines)));
        }
        steps
    }

    /// Change on the review: step `step` as numbered by [`State::review_steps`].
    pub fn edit_step(&mut self, step: usize) {
        let app_steps = self.form.as_ref().map(FormSession::step_count).unwrap_or(0);
        self.targeting.on_screen = step >= app_steps && self.targeting.session.is_some();
        let (form, step) = if self.targeting.on_screen { (self.targeting.session.as_mut(), step - app_steps) } else { (self.form.as_mut(), step) };
        if let Some(f) = form {
            f.step = step.min(f.step_count().saturating_sub(1));
        }
    }

    /// Marks the fields the service refused on the form they belong to (the application's
    /// first, then the questionnaire's `targeting.*`) and puts that form on screen. Returns
    /// whether any refused field belongs to either.
    pub fn apply_service_problems(&mut self, problems: &[FieldProblem]) -> bool {
        let (targeting, application): (Vec<FieldProblem>, Vec<FieldProblem>) = problems.iter().cloned().partition(|p| p.field.starts_with(PREFIX));
        if self.form.as_mut().is_some_and(|f| f.apply_service_problems(&application)) {
            self.targeting.on_screen = false;
            return true;
        }
        let targeting: Vec<FieldProblem> =
            targeting.into_iter().map(|p| FieldProblem { field: p.field[PREFIX.len()..].to_owned(), ..p }).collect();
        if self.targeting.session.as_mut().is_some_and(|q| q.apply_service_problems(&targeting)) {
            self.targeting.on_screen = true;
            return true;
        }
        // Refused against a version that arrived after these answers were given: the new
        // version is asked afresh.
        let outdated = self.targeting.session.as_ref().is_some_and(|q| Some(q.form()) != self.served_questionnaire());
        if !targeting.is_empty() && outdated {
            self.targeting.on_screen = false;
            return self.begin_questionnaire();
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Forms;

    fn state(kind: SubmissionKind, questionnaire: FormDefinition) -> State {
        let mut forms = provincial_node::forms::all();
        forms.push(questionnaire);
        let forms = Forms { version: "test".into(), province: "BGD".into(), forms, master_data: provincial_node::geography::master_data() };
        let def = forms.forms.iter().find(|f| f.kind == kind).cloned().expect("the form of that kind");
        let form = Some(FormSession::new(def, forms.master_data.clone()));
        State { forms: Some(forms), form, ..State::default() }
    }

    fn problem(field: &str) -> FieldProblem {
        FieldProblem { field: field.into(), message: "wrong".into() }
    }

    #[test]
    fn a_grievance_has_no_questionnaire() {
        let mut s = state(SubmissionKind::Grievance, provincial_node::targeting::questionnaire_v1());
        assert!(!s.questionnaire_follows());
        assert!(!s.begin_questionnaire());
        assert_eq!(s.targeting_answers(), None);
    }

    #[test]
    fn refusals_go_to_the_form_they_name() {
        let mut s = state(SubmissionKind::Application, provincial_node::targeting::questionnaire_v1());
        assert!(s.begin_questionnaire());
        s.targeting.on_screen = false;
        assert!(s.apply_service_problems(&[problem("targeting.tenure")]));
        assert!(s.targeting.on_screen, "the questionnaire is back on screen");
        assert_eq!(s.filling().map(|q| q.step), Some(0), "at the housing step");
        assert!(s.apply_service_problems(&[problem("targeting.tenure"), problem("phone")]));
        assert!(!s.targeting.on_screen, "the application's own problems first");
        assert!(!s.apply_service_problems(&[problem("targeting.no_such_question")]), "nothing to show it on");
    }

    #[test]
    fn a_refusal_against_a_newer_version_asks_the_new_one_afresh() {
        let mut s = state(SubmissionKind::Application, provincial_node::targeting::questionnaire_v1());
        assert!(s.begin_questionnaire());
        if let Some(q) = s.filling_mut() {
            q.choose(0, "house");
        }
        let mut v2 = provincial_node::targeting::questionnaire_v1();
        v2.version = "pmt-2".into();
        v2.steps[2].fields.push(node_protocol::FormField::new("months_without_work", node_protocol::LocalizedText::new("أشهر", "مانگ", "Months"), node_protocol::FieldType::Number));
        if let Some(forms) = s.forms.as_mut() {
            forms.forms.retain(|f| f.id != TARGETING_FORM_ID);
            forms.forms.push(v2.clone());
        }
        assert!(s.apply_service_problems(&[problem("targeting.months_without_work")]));
        assert!(s.targeting.on_screen);
        assert_eq!(s.filling().map(|q| q.form().version.as_str()), Some("pmt-2"));
        assert_eq!(s.targeting_answers(), Some(Map::new()), "the old version's answers are not carried over");
    }
}
