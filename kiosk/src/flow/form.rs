//! An application or a grievance: the form's steps, the review of every answer, the submission
//! and the receipt with its reference.

use std::rc::Rc;

use chrono::Datelike;
use node_protocol::{FormDefinition, SubmissionKind};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::{shared, Kiosk, State};
use crate::api::{ApiError, IdCard, Submission};
use crate::forms::{default_date, DatePart, Entry, FieldError, FormSession};
use crate::ui::{
    AppWindow, ChoiceView, FieldKind, FieldView, FormActions, FormKind, KeyboardKind, Messages, PrintJob, ReceiptActions, ReviewActions,
    ReviewLine, Screen,
};

pub(super) fn connect(ui: &AppWindow, kiosk: &Rc<Kiosk>) {
    let actions = ui.global::<FormActions>();
    on!(kiosk, actions, on_select_field, |k, field| k.form_select_field(field));
    on!(kiosk, actions, on_type, |k, text| k.form_type(&text));
    on!(kiosk, actions, on_backspace, |k| k.form_backspace());
    on!(kiosk, actions, on_keyboard_done, |k| k.state.borrow_mut().active_field = None);
    on!(kiosk, actions, on_switch_keyboard, |k, keyboard| k.state.borrow_mut().keyboard = Some(keyboard));
    on!(kiosk, actions, on_choose, |k, field, value| k.with_form(|form| form.choose(index(field), &value)));
    on!(kiosk, actions, on_date_adjust, |k, field, part, delta| k.form_date_adjust(field, part, delta));
    on!(kiosk, actions, on_add_member, |k, field| k.form_add_member(field));
    on!(kiosk, actions, on_remove_member, |k, field, member| k.with_form(|form| form.remove_member(index(field), index(member))));
    on!(kiosk, actions, on_member_save, |k| k.form_member_done(true));
    on!(kiosk, actions, on_member_cancel, |k| k.form_member_done(false));
    on!(kiosk, actions, on_back, |k| k.form_back());
    on!(kiosk, actions, on_next, |k| k.form_next());

    let actions = ui.global::<ReviewActions>();
    on!(kiosk, actions, on_edit_step, |k, step| k.review_edit_step(step));
    on!(kiosk, actions, on_back, |k| k.state.borrow_mut().screen = Screen::Form);
    on!(kiosk, actions, on_submit, |k| k.submit());

    let actions = ui.global::<ReceiptActions>();
    on!(kiosk, actions, on_reprint, |k| k.print_receipt());
    on!(kiosk, actions, on_services, |k| k.open_services_after_application());
    on!(kiosk, actions, on_finish, |k| k.receipt_finish());
}

/// A field or member number from the screen; a negative one matches nothing.
fn index(n: i32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl Kiosk {
    /// Opens form `kind`, prefilled from an ID card read for assisted enrollment.
    pub(super) fn open_form(&self, kind: SubmissionKind, prefill: Option<IdCard>) {
        let mut s = self.state.borrow_mut();
        let Some(forms) = &s.forms else {
            s.status_problem = "not_provisioned".into();
            return;
        };
        // The targeting questionnaire is an application form too: it comes after the application.
        let Some(def) = forms.forms.iter().find(|f| f.kind == kind && f.id != node_protocol::TARGETING_FORM_ID).cloned() else { return };
        let mut session = FormSession::new(def, forms.master_data.clone());
        session.digits = s.digits;
        if let Some(card) = prefill {
            if let Some(id) = &card.national_id {
                session.prefill("national_id", id);
            }
            if let Some(born) = card.date_of_birth {
                session.prefill("date_of_birth", &born.to_string());
            }
            // The name from a national card's chip, where it came in the form's parts.
            if let Some(name) = &card.name {
                for (field, part) in [("first_name", &name.first), ("father_name", &name.father), ("grandfather_name", &name.grandfather), ("family_name", &name.family)] {
                    if let Some(part) = part {
                        session.prefill(field, part);
                    }
                }
            }
        }
        s.form = Some(session);
        s.targeting = Default::default();
        // A referral is taken only by `referral::referral_start_application`, after this.
        s.taken_referral = None;
        s.precheck = None;
        s.active_field = None;
        s.keyboard = None;
        s.form_problem.clear();
        s.review_problem.clear();
        s.screen = Screen::Form;
    }

    /// Runs `change` on the form being filled in (the application or its questionnaire), if
    /// there is one.
    fn with_form(&self, change: impl FnOnce(&mut FormSession)) {
        if let Some(form) = self.state.borrow_mut().filling_mut() {
            change(form);
        }
    }

    fn form_select_field(&self, field: i32) {
        let mut s = self.state.borrow_mut();
        if s.filling().is_some() {
            s.active_field = Some(index(field));
            s.keyboard = None;
        }
    }

    fn form_type(&self, text: &str) {
        let mut s = self.state.borrow_mut();
        let s = &mut *s;
        if let (Some(i), Some(form)) = (s.active_field, s.filling_mut()) {
            form.type_text(i, text);
        }
    }

    fn form_backspace(&self) {
        let mut s = self.state.borrow_mut();
        let s = &mut *s;
        if let (Some(i), Some(form)) = (s.active_field, s.filling_mut()) {
            form.backspace(i);
        }
    }

    fn form_date_adjust(&self, field: i32, part: DatePart, delta: i32) {
        self.with_form(|form| form.adjust_date(index(field), part, delta));
    }

    fn form_add_member(&self, field: i32) {
        let mut s = self.state.borrow_mut();
        if let Some(form) = s.filling_mut() {
            form.start_member(index(field));
            s.active_field = None;
        }
    }

    /// The household member being added is saved or dropped.
    fn form_member_done(&self, save: bool) {
        let mut s = self.state.borrow_mut();
        if let Some(form) = s.filling_mut() {
            if save {
                form.save_member();
            } else {
                form.cancel_member();
            }
            s.active_field = None;
        }
    }

    /// The step before (skipping steps not asked); from the questionnaire's first, the
    /// application's last; from the application's first, away from the form, which forgets it.
    fn form_back(&self) {
        let mut s = self.state.borrow_mut();
        let s = &mut *s;
        s.active_field = None;
        s.form_problem.clear();
        if s.leave_questionnaire() {
            return;
        }
        let Some(form) = s.filling_mut() else { return };
        if let Some(previous) = form.previous_step() {
            form.step = previous;
        } else {
            s.form = None;
            s.targeting = Default::default();
            s.screen = if s.staff.is_some() { Screen::StaffHome } else { Screen::Home };
        }
    }

    /// The next step asked once this one's answers pass; after the application's last, its
    /// targeting questionnaire if the node serves one; after the last of all, the review.
    fn form_next(&self) {
        let mut s = self.state.borrow_mut();
        let s = &mut *s;
        s.active_field = None;
        s.form_problem.clear();
        let Some(form) = s.filling_mut() else { return };
        if !form.check_step() {
            return;
        }
        if let Some(next) = form.next_step() {
            form.step = next;
        } else if !s.begin_questionnaire() {
            s.review_problem.clear();
            s.screen = Screen::Review;
        }
    }

    fn review_edit_step(&self, step: i32) {
        let mut s = self.state.borrow_mut();
        s.edit_step(index(step));
        s.screen = Screen::Form;
    }

    /// Sends the answers (after the early duplicate warning, see `duplicate_warning`), with
    /// staff's `duplicate_override` when they submit despite it.
    pub(super) fn send_submission(self: &Rc<Self>, duplicate_override: Option<local_api::DuplicateOverride>) {
        let (kind, submission) = {
            let mut s = self.state.borrow_mut();
            if s.review_busy {
                return;
            }
            let Some(form) = &s.form else { return };
            let kind = form.form().kind;
            let submission = Submission {
                language: s.language.clone(),
                answers: form.answers_json(),
                assisted_by: s.staff.as_ref().map(|st| st.staff_id.clone()),
                duplicate_override,
                // The partner referral the application comes with (flow/referral.rs).
                referral: s.taken_referral.as_ref().filter(|_| kind == SubmissionKind::Application).map(|r| r.attached()),
                // The targeting questionnaire's answers, when the node serves one (flow/targeting.rs).
                targeting: s.targeting_answers(),
            };
            s.review_busy = true;
            s.review_problem.clear();
            s.duplicate_problem.clear();
            (kind, submission)
        };
        let api = self.api.clone();
        self.call(async move { api.submit(kind, &submission).await }, move |k, r| {
            {
                let mut s = k.state.borrow_mut();
                let s = &mut *s;
                s.review_busy = false;
                match r {
                    Ok(captured) => {
                        // The area its services are listed for (flow/services.rs).
                        s.household_area = s.form.as_ref().map(|f| super::services::area_of(&f.answers_json()));
                        // Saved on the terminal: the answers are no longer needed here.
                        s.form = None;
                        s.targeting = Default::default();
                        s.captured = Some((kind, captured));
                        s.screen = Screen::Receipt;
                    }
                    Err(ApiError::Refused { code, fields, .. }) if code == "validation_failed" => {
                        // On the application or on its questionnaire (`targeting.*`).
                        let on_form = s.apply_service_problems(&fields);
                        if on_form {
                            s.form_problem = code;
                            s.screen = Screen::Form;
                        } else if s.screen == Screen::DuplicateWarning {
                            s.duplicate_problem = code;
                        } else {
                            s.review_problem = code;
                        }
                    }
                    Err(e) if s.screen == Screen::DuplicateWarning => s.duplicate_problem = e.code().to_owned(),
                    Err(e) => s.review_problem = e.code().to_owned(),
                }
            }
            if k.state.borrow().captured.is_some() && k.state.borrow().screen == Screen::Receipt {
                k.print_receipt();
            }
        });
    }

    fn print_receipt(self: &Rc<Self>) {
        let (id, language) = {
            let mut s = self.state.borrow_mut();
            let Some((_, c)) = &s.captured else { return };
            let id = c.id;
            s.receipt_print = PrintJob::Printing;
            (id, s.language.clone())
        };
        let api = self.api.clone();
        self.call(async move { api.print_receipt(&id, &language).await }, |k, r| {
            if let Err(e) = &r {
                eprintln!("kiosk: receipt: {e}");
            }
            k.state.borrow_mut().receipt_print = if r.is_ok() { PrintJob::Printed } else { PrintJob::Failed };
        });
    }

    /// An applicant's session ends with the receipt; staff go back to their home screen.
    fn receipt_finish(self: &Rc<Self>) {
        let staff = self.state.borrow().staff.is_some();
        if staff {
            let mut s = self.state.borrow_mut();
            s.form = None;
            s.targeting = Default::default();
            s.captured = None;
            s.household_area = None;
            s.precheck = None;
            s.staff_card = Default::default();
            s.screen = Screen::StaffHome;
        } else {
            self.end_session();
        }
    }
}

/// The keyboard a field gets: its script's, Kurdish for Arabic script in a Kurdish session,
/// or the one chosen with the switch.
fn keyboard_for(entry: Entry, language: &str, chosen: Option<KeyboardKind>) -> KeyboardKind {
    match entry {
        Entry::Digits => KeyboardKind::Digits,
        Entry::Text { latin: true } => KeyboardKind::Latin,
        _ => match chosen {
            Some(k @ (KeyboardKind::Kurdish | KeyboardKind::Arabic)) => k,
            _ if language == "ckb" => KeyboardKind::Kurdish,
            _ => KeyboardKind::Arabic,
        },
    }
}

fn field_kind(entry: Entry) -> FieldKind {
    match entry {
        Entry::Text { .. } => FieldKind::Text,
        Entry::Digits => FieldKind::Digits,
        Entry::Date => FieldKind::Date,
        Entry::Choice => FieldKind::Choice,
        Entry::Members => FieldKind::Members,
    }
}

/// The form, the review and the receipt.
pub(super) fn render(ui: &AppWindow, s: &State, messages: &Messages) {
    let lang = s.language.as_str();
    if let (Some(application), Some(form)) = (&s.form, s.filling()) {
        let def: &FormDefinition = form.form();
        // The review is the application's, questionnaire included.
        let title = if s.screen == Screen::Form { &def.title } else { &application.form().title };
        ui.set_form_title(shared(title.get(lang)));
        ui.set_form_step_title(shared(def.steps.get(form.step).map(|st| st.title.get(lang)).unwrap_or("")));
        ui.set_form_last_step(form.next_step().is_none() && !s.questionnaire_follows());
        ui.set_form_questionnaire(s.targeting.on_screen);
        ui.set_form_step(form.step as i32);
        ui.set_form_step_count(form.step_count() as i32);
        let states = form.field_states(lang);
        let active = s.active_field.filter(|i| *i < states.len());
        if let Some(i) = active {
            ui.set_form_keyboard(keyboard_for(states[i].entry, lang, s.keyboard));
        }
        ui.set_form_active_field(active.map(|i| i as i32).unwrap_or(-1));
        let views: Vec<FieldView> = states
            .iter()
            .map(|f| {
                let (code, n) = f.error.as_ref().map(|e| e.code()).unwrap_or(("", 0));
                let server = match &f.error {
                    Some(FieldError::Server(m)) => m.clone(),
                    _ => String::new(),
                };
                let date = f.date.unwrap_or_else(default_date);
                FieldView {
                    id: shared(&f.id),
                    label: shared(&f.label),
                    kind: field_kind(f.entry),
                    keyboard: keyboard_for(f.entry, lang, None),
                    value: shared(&f.text),
                    error: if code.is_empty() { SharedString::new() } else { messages.invoke_field_error(shared(code), n as i32, shared(&server)) },
                    hint: shared(&f.hint),
                    required: f.required,
                    ltr: matches!(f.entry, Entry::Digits | Entry::Text { latin: true }),
                    options: ModelRc::new(VecModel::from(
                        f.options
                            .iter()
                            .map(|o| ChoiceView { value: shared(&o.value), label: shared(&o.label), selected: o.selected })
                            .collect::<Vec<_>>(),
                    )),
                    day: date.day() as i32,
                    month: date.month() as i32,
                    year: date.year(),
                    date_set: f.date.is_some(),
                    members: ModelRc::new(VecModel::from(f.members.iter().map(|m| shared(m)).collect::<Vec<_>>())),
                }
            })
            .collect();
        ui.set_form_fields(ModelRc::new(VecModel::from(views)));
        ui.set_form_editing_member(form.editing_member());
        let mut lines = Vec::new();
        for (step, title, fields) in s.review_steps(lang) {
            lines.push(ReviewLine { step: step as i32, label: SharedString::new(), value: shared(&title), heading: true });
            for (label, value) in fields {
                lines.push(ReviewLine { step: step as i32, label: shared(&label), value: shared(&value), heading: false });
            }
        }
        ui.set_review_lines(ModelRc::new(VecModel::from(lines)));
    } else {
        ui.set_form_fields(ModelRc::default());
        ui.set_review_lines(ModelRc::default());
        ui.set_form_active_field(-1);
        ui.set_form_editing_member(false);
    }
    ui.set_form_assisted(s.staff.is_some());
    ui.set_form_problem(if s.form_problem.is_empty() { SharedString::new() } else { messages.invoke_problem(shared(&s.form_problem), SharedString::new()) });
    ui.set_review_busy(s.review_busy);
    ui.set_review_problem(if s.review_problem.is_empty() {
        SharedString::new()
    } else {
        messages.invoke_problem(shared(&s.review_problem), shared(&s.review_problem))
    });
    match &s.captured {
        Some((kind, c)) => {
            ui.set_receipt_kind(if *kind == SubmissionKind::Grievance { FormKind::Grievance } else { FormKind::Application });
            ui.set_receipt_reference(shared(&c.reference));
            ui.set_receipt_duplicate(if c.duplicate_warning {
                messages.invoke_problem(shared("duplicate"), SharedString::new())
            } else {
                SharedString::new()
            });
        }
        None => {
            ui.set_receipt_reference(SharedString::new());
            ui.set_receipt_duplicate(SharedString::new());
        }
    }
    ui.set_receipt_print(s.receipt_print);
}
