//! The early duplicate warning: before an application is sent, the service is asked whether its
//! national ID number was already used for an application at this kiosk or is known to the
//! provincial office (`POST /v1/applications/precheck`; it never says whose record). Found:
//! this screen, which sends an applicant to the staff desk and lets staff submit anyway with a
//! reason. Not found: the application goes straight on. The office could not be asked: it goes
//! on too, and the receipt says so quietly.

use std::rc::Rc;

use node_protocol::{FieldType, SubmissionKind};
use slint::{ComponentHandle, SharedString};

use super::{shared, Kiosk, State};
use crate::api::{NodeFinding, Precheck};
use crate::forms::FormSession;
use crate::ui::{AppWindow, DuplicateActions, Messages, OverrideReason, Screen};

pub(super) fn connect(ui: &AppWindow, kiosk: &Rc<Kiosk>) {
    let actions = ui.global::<DuplicateActions>();
    on!(kiosk, actions, on_back, |k| k.duplicate_back());
    on!(kiosk, actions, on_finish, |k| k.end_session());
    on!(kiosk, actions, on_choose_reason, |k, reason| k.state.borrow_mut().override_reason = reason);
    on!(kiosk, actions, on_submit_anyway, |k| k.submit_anyway());
}

/// The national ID number an application's answers hold, if it is one and has one.
fn national_id(form: &FormSession) -> Option<String> {
    let def = form.form();
    if def.kind != SubmissionKind::Application {
        return None;
    }
    let answers = form.answers_json();
    def.steps
        .iter()
        .flat_map(|s| s.fields.iter())
        .filter(|f| f.field_type == FieldType::NationalId)
        .find_map(|f| answers.get(&f.id).and_then(|v| v.as_str()).map(str::to_owned))
        .filter(|id| !id.trim().is_empty())
}

/// The local API's reason for the one chosen on screen (`None` before a choice).
fn wire_reason(reason: OverrideReason) -> Option<local_api::OverrideReason> {
    match reason {
        OverrideReason::None => None,
        OverrideReason::PreviousApplicationRefused => Some(local_api::OverrideReason::PreviousApplicationRefused),
        OverrideReason::MovedFromAnotherProvince => Some(local_api::OverrideReason::MovedFromAnotherProvince),
        OverrideReason::DataCorrection => Some(local_api::OverrideReason::DataCorrection),
        OverrideReason::Other => Some(local_api::OverrideReason::Other),
    }
}

impl Kiosk {
    /// Submit on the review: an application with a national ID number is pre-checked first.
    pub(super) fn submit(self: &Rc<Self>) {
        let national_id = {
            let mut s = self.state.borrow_mut();
            if s.review_busy || s.precheck_busy {
                return;
            }
            let Some(form) = &s.form else { return };
            let national_id = national_id(form);
            s.precheck = None;
            s.review_problem.clear();
            if national_id.is_some() {
                s.precheck_busy = true;
            }
            national_id
        };
        let Some(national_id) = national_id else {
            self.send_submission(None);
            return;
        };
        let api = self.api.clone();
        self.call(async move { api.precheck(&national_id).await }, |k, answer| {
            let precheck = answer.unwrap_or_else(|e| {
                // The warning is advice: without it the application goes on, as when offline.
                eprintln!("kiosk: duplicate pre-check: {e}");
                Precheck { sent_from_this_terminal: false, node: NodeFinding::CouldNotCheck }
            });
            let warn = {
                let mut s = k.state.borrow_mut();
                s.precheck_busy = false;
                s.precheck = Some(precheck);
                if precheck.warns() {
                    s.override_reason = OverrideReason::None;
                    s.duplicate_problem.clear();
                    s.screen = Screen::DuplicateWarning;
                }
                precheck.warns()
            };
            if !warn {
                k.send_submission(None);
            }
        });
    }

    /// Back to the review (to correct the number, or not to submit): asked again on Submit.
    fn duplicate_back(&self) {
        let mut s = self.state.borrow_mut();
        if s.review_busy {
            return;
        }
        s.precheck = None;
        s.duplicate_problem.clear();
        s.screen = Screen::Review;
    }

    /// Staff submit despite the warning, with the reason they chose.
    fn submit_anyway(self: &Rc<Self>) {
        let reason = {
            let s = self.state.borrow();
            if s.staff.is_none() {
                return;
            }
            wire_reason(s.override_reason)
        };
        if let Some(reason) = reason {
            self.send_submission(Some(local_api::DuplicateOverride { reason }));
        }
    }
}

/// The warning screen, and the review's "Checking…".
pub(super) fn render(ui: &AppWindow, s: &State, messages: &Messages) {
    let precheck = s.precheck.unwrap_or(Precheck { sent_from_this_terminal: false, node: NodeFinding::NotFound });
    ui.set_review_checking(s.precheck_busy);
    ui.set_duplicate_sent_here(precheck.sent_from_this_terminal);
    ui.set_duplicate_registered(precheck.node == NodeFinding::Registered);
    ui.set_duplicate_node_unchecked(precheck.node == NodeFinding::CouldNotCheck);
    ui.set_duplicate_reason(s.override_reason);
    ui.set_duplicate_problem(if s.duplicate_problem.is_empty() {
        SharedString::new()
    } else {
        messages.invoke_problem(shared(&s.duplicate_problem), shared(&s.duplicate_problem))
    });
    ui.set_receipt_precheck_unchecked(s.captured.is_some() && precheck.node == NodeFinding::CouldNotCheck);
}
