//! Staff: the login (badge on the reader, PIN on the pad), the staff home screen with assisted
//! enrollment, and the queue of unsent submissions.

use std::rc::Rc;

use node_protocol::SubmissionKind;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::card_access::Purpose;
use super::{shared, short_time, Kiosk, State};
use crate::api::ApiError;
use crate::ui::{AppWindow, FormKind, LoginActions, LoginProblem, QueueActions, QueueLine, RefusalLine, Screen, StaffActions};

pub(super) fn connect(ui: &AppWindow, kiosk: &Rc<Kiosk>) {
    let actions = ui.global::<LoginActions>();
    on!(kiosk, actions, on_key, |k, text| k.login_key(&text));
    on!(kiosk, actions, on_backspace, |k| {
        k.state.borrow_mut().login_pin.pop();
    });
    on!(kiosk, actions, on_submit, |k| k.login_submit());
    on!(kiosk, actions, on_cancel, |k| k.login_cancel());

    let actions = ui.global::<StaffActions>();
    on!(kiosk, actions, on_enrol, |k| k.staff_enrol());
    on!(kiosk, actions, on_grievance, |k| k.open_form(SubmissionKind::Grievance, None));
    on!(kiosk, actions, on_referral, |k| k.open_referral());
    on!(kiosk, actions, on_queue, |k| k.show_queue());
    on!(kiosk, actions, on_technician_tools, |k| k.state.borrow_mut().screen = Screen::Technician);
    on!(kiosk, actions, on_logout, |k| k.end_session());

    let actions = ui.global::<QueueActions>();
    on!(kiosk, actions, on_refresh, |k| k.show_queue());
    on!(kiosk, actions, on_back, |k| k.state.borrow_mut().screen = Screen::StaffHome);
}

impl Kiosk {
    /// Digits of the PIN, at most 8.
    fn login_key(&self, text: &str) {
        let mut s = self.state.borrow_mut();
        if s.login_pin.len() < 8 {
            s.login_pin.extend(text.chars().filter(char::is_ascii_digit));
        }
    }

    fn login_cancel(&self) {
        let mut s = self.state.borrow_mut();
        s.login_pin.clear();
        s.login_problem = LoginProblem::None;
        s.screen = Screen::Home;
    }

    /// Logs in with the badge on the reader and the PIN typed; the PIN is forgotten either way.
    fn login_submit(self: &Rc<Self>) {
        let pin = {
            let mut s = self.state.borrow_mut();
            if s.login_busy || s.login_pin.is_empty() {
                return;
            }
            s.login_busy = true;
            std::mem::take(&mut s.login_pin)
        };
        let api = self.api.clone();
        self.call(async move { api.login(&pin).await }, |k, r| {
            let mut s = k.state.borrow_mut();
            s.login_busy = false;
            match r {
                Ok(session) => {
                    s.login_problem = LoginProblem::None;
                    s.staff = Some(session);
                    s.screen = Screen::StaffHome;
                    drop(s);
                    // The staff home warns when nothing has been delivered for too long
                    // (`delivery_overdue_days`), which the queue details carry.
                    k.read_queue();
                }
                Err(ApiError::Refused { code, attempts_left, .. }) if code == "wrong_pin" => {
                    s.login_problem = LoginProblem::WrongPin;
                    s.login_attempts_left = attempts_left.unwrap_or(0);
                }
                Err(ApiError::Unreachable(_)) => s.login_problem = LoginProblem::Unreachable,
                Err(e) if e.code() == "locked_out" => s.login_problem = LoginProblem::LockedOut,
                Err(e) if e.code() == "unknown_badge" => s.login_problem = LoginProblem::UnknownBadge,
                Err(_) => s.login_problem = LoginProblem::NoBadge,
            }
        });
    }

    /// Assisted enrollment: the service reads the applicant's ID card (with
    /// `id_card_profile = "emrtd"`, once staff typed its access number), then the application
    /// form opens with what the card holds.
    fn staff_enrol(self: &Rc<Self>) {
        if self.state.borrow().id_card_profile.asks_for_access() {
            self.ask_card_access(Purpose::Enrol);
        } else {
            self.staff_read_card(None);
        }
    }

    /// The queue screen, with the queue read again.
    fn show_queue(self: &Rc<Self>) {
        self.state.borrow_mut().screen = Screen::StaffQueue;
        self.read_queue();
    }

    /// Reads the queue details (staff only) into the state, whatever screen is shown.
    fn read_queue(self: &Rc<Self>) {
        let api = self.api.clone();
        self.call(async move { api.queue().await }, |k, r| {
            if let Ok(q) = r {
                let mut s = k.state.borrow_mut();
                s.queue_depth = q.stats.depth;
                s.queue = Some(q);
            }
        });
    }
}

/// A submission kind of the local API (`application`, `grievance`).
fn form_kind(kind: &SubmissionKind) -> FormKind {
    match kind {
        SubmissionKind::Application => FormKind::Application,
        SubmissionKind::Grievance => FormKind::Grievance,
    }
}

/// The login, the staff home screen and the queue.
pub(super) fn render(ui: &AppWindow, s: &State) {
    ui.set_login_pin(shared(&s.login_pin));
    ui.set_login_problem(s.login_problem);
    ui.set_login_attempts_left(s.login_attempts_left as i32);
    ui.set_login_busy(s.login_busy);
    ui.set_staff_name(shared(s.staff.as_ref().map(|st| st.display_name.as_str()).unwrap_or("")));
    ui.set_staff_technician(s.staff.as_ref().is_some_and(|st| st.role == node_protocol::StaffRole::Technician));
    ui.set_staff_card(s.staff_card);
    ui.set_staff_overdue_days(s.queue.as_ref().and_then(|q| q.delivery_overdue_days).map_or(0, |d| d as i32));
    if let Some(q) = &s.queue {
        ui.set_queue_depth(q.stats.depth as i32);
        ui.set_queue_oldest(shared(&q.stats.oldest_created_at.as_ref().map(|t| short_time(t, s.conventions())).unwrap_or_default()));
        ui.set_queue_delivered(q.stats.delivered as i32);
        ui.set_queue_dead(q.stats.dead_letters as i32);
        let mut lines: Vec<QueueLine> = q
            .pending
            .iter()
            .map(|p| QueueLine {
                kind: form_kind(&p.kind),
                created_at: shared(&short_time(&p.created_at, s.conventions())),
                attempts: p.attempts as i32,
                dead: false,
                reason: SharedString::new(),
            })
            .collect();
        lines.extend(q.dead_letters.iter().map(|d| QueueLine {
            kind: form_kind(&d.kind),
            created_at: shared(&short_time(&d.created_at, s.conventions())),
            attempts: 0,
            dead: true,
            reason: shared(&d.reason),
        }));
        ui.set_queue_lines(ModelRc::new(VecModel::from(lines)));
        // Referrals the node refused on delivery: the applications were filed without them.
        let refusals: Vec<RefusalLine> = q
            .referral_refusals
            .iter()
            .map(|r| RefusalLine {
                reference: shared(&r.reference),
                case_number: shared(&r.case_number),
                code: shared(&r.code),
                reason: super::referral::problem_of(r.reason.as_str()),
                refused_at: shared(&short_time(&r.refused_at, s.conventions())),
            })
            .collect();
        ui.set_queue_referral_refusals(ModelRc::new(VecModel::from(refusals)));
    }
}
