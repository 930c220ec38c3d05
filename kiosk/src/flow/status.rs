//! Status check: by ID card (the service reads it) or by reference number and date of birth;
//! the answer in plain words and a printed slip.

use std::rc::Rc;

use chrono::Datelike;
use node_protocol::{StatusQuery, StatusResponse};
use slint::{ComponentHandle, SharedString};

use super::card_access::Purpose;
use super::{shared, Kiosk, State};
use crate::api::{ApiError, CardAccess};
use crate::forms::{adjust_date, default_date, DatePart};
use crate::ui::{AppWindow, BenefitState, Messages, PrintJob, Screen, StatusActions, StatusMode, StatusResult};

pub(super) fn connect(ui: &AppWindow, kiosk: &Rc<Kiosk>) {
    let actions = ui.global::<StatusActions>();
    on!(kiosk, actions, on_use_card, |k| k.status_use_card());
    on!(kiosk, actions, on_use_reference, |k| k.state.borrow_mut().status_mode = StatusMode::Reference);
    on!(kiosk, actions, on_key, |k, text| k.status_key(&text));
    on!(kiosk, actions, on_backspace, |k| k.status_backspace());
    on!(kiosk, actions, on_dob_adjust, |k, part, delta| k.status_dob_adjust(part, delta));
    on!(kiosk, actions, on_submit_reference, |k| k.status_submit_reference());
    on!(kiosk, actions, on_print_slip, |k| k.status_print_slip());
    on!(kiosk, actions, on_services, |k| k.open_services_after_status());
    on!(kiosk, actions, on_finish, |k| k.end_session());
    on!(kiosk, actions, on_back, |k| k.status_back());
}

impl Kiosk {
    /// Checks the status by the ID card on the reader (also when a card is tapped while the screen
    /// asks how to identify).
    /// With `id_card_profile = "emrtd"` the card access number is asked for first.
    pub(super) fn status_use_card(self: &Rc<Self>) {
        if self.state.borrow().id_card_profile.asks_for_access() {
            self.ask_card_access(Purpose::Status);
        } else {
            self.status_read_card(None);
        }
    }

    /// Checks the status by the card on the reader, opened with `access` if it is a chip.
    pub(super) fn status_read_card(self: &Rc<Self>, access: Option<CardAccess>) {
        {
            let mut s = self.state.borrow_mut();
            s.screen = Screen::Status;
            s.status_mode = StatusMode::Card;
        }
        let api = self.api.clone();
        self.call(async move { api.status_check_by_card(access).await }, |k, r| match r {
            Err(e) if k.access_refused(&e, Purpose::Status) => {}
            r => k.show_status(r),
        });
    }

    /// Letters and digits of the reference, uppercased, with the dash after the fifth.
    fn status_key(&self, text: &str) {
        let mut s = self.state.borrow_mut();
        for c in text.chars().filter(|c| c.is_ascii_alphanumeric()) {
            let plain: String = s.status_reference.chars().filter(|c| *c != '-').collect();
            if plain.len() >= 10 {
                break;
            }
            if plain.len() == 5 {
                s.status_reference.push('-');
            }
            s.status_reference.push(c.to_ascii_uppercase());
        }
        s.status_reference_error.clear();
    }

    fn status_backspace(&self) {
        let mut s = self.state.borrow_mut();
        s.status_reference.pop();
        if s.status_reference.ends_with('-') {
            s.status_reference.pop();
        }
    }

    /// The first touch sets the usual date; the next ones move it.
    fn status_dob_adjust(&self, part: DatePart, delta: i32) {
        let mut s = self.state.borrow_mut();
        s.status_dob = Some(match s.status_dob {
            Some(d) => adjust_date(d, part, delta),
            None => default_date(),
        });
        s.status_dob_error.clear();
    }

    fn status_submit_reference(self: &Rc<Self>) {
        let (reference, dob) = {
            let mut s = self.state.borrow_mut();
            let plain: String = s.status_reference.chars().filter(|c| *c != '-').collect();
            s.status_reference_error = if plain.len() == 10 { String::new() } else { "reference_format".into() };
            s.status_dob_error = if s.status_dob.is_some() { String::new() } else { "dob_missing".into() };
            if !s.status_reference_error.is_empty() || !s.status_dob_error.is_empty() {
                return;
            }
            s.status_mode = StatusMode::Busy;
            s.status_checked_reference = s.status_reference.clone();
            (s.status_reference.clone(), s.status_dob.unwrap_or_else(default_date))
        };
        let api = self.api.clone();
        self.call(
            async move { api.status_check(StatusQuery::Reference { reference, date_of_birth: dob }).await },
            |k, r| k.show_status(r),
        );
    }

    fn status_print_slip(self: &Rc<Self>) {
        let (result, reference, language) = {
            let mut s = self.state.borrow_mut();
            s.status_slip = PrintJob::Printing;
            let reference = (!s.status_checked_reference.is_empty()).then(|| s.status_checked_reference.clone());
            (s.status_result.clone(), reference, s.language.clone())
        };
        let api = self.api.clone();
        self.call(async move { api.print_status_slip(result.as_ref(), reference.as_deref(), &language).await }, |k, r| {
            k.state.borrow_mut().status_slip = if r.is_ok() { PrintJob::Printed } else { PrintJob::Failed };
        });
    }

    /// Back to the question, or from the question to the home screen.
    fn status_back(&self) {
        let mut s = self.state.borrow_mut();
        if s.status_mode == StatusMode::Choose {
            s.screen = Screen::Home;
        } else {
            s.status_mode = StatusMode::Choose;
            s.status_problem.clear();
        }
    }

    fn show_status(&self, r: Result<StatusResponse, ApiError>) {
        let mut s = self.state.borrow_mut();
        s.status_slip = PrintJob::None;
        match r {
            Ok(answer) => {
                s.status_result = Some(answer);
                s.status_mode = StatusMode::Result;
                s.status_reference.clear();
                s.status_dob = None;
            }
            Err(e) if e.code() == "node_unreachable" => {
                s.status_result = None;
                s.status_mode = StatusMode::Offline;
            }
            Err(e) => {
                s.status_problem = match e.code() {
                    "unreachable" | "rate_limited" | "no_card" | "not_an_id_card" | "card_moved" | "several_cards" | "card_not_genuine" | "card_not_supported" => {
                        e.code().to_owned()
                    }
                    "malformed" | "card_locked" | "card_unreadable" | "reader_fault" => "card_unreadable".to_owned(),
                    other => other.to_owned(),
                };
                s.status_mode = StatusMode::Error;
            }
        }
    }
}

/// The node's benefit state as the screen's enum.
fn benefit_state(state: node_protocol::BenefitState) -> BenefitState {
    match state {
        node_protocol::BenefitState::Received => BenefitState::Received,
        node_protocol::BenefitState::UnderReview => BenefitState::UnderReview,
        node_protocol::BenefitState::Active => BenefitState::Active,
        node_protocol::BenefitState::Suspended => BenefitState::Suspended,
        node_protocol::BenefitState::Rejected => BenefitState::Rejected,
        node_protocol::BenefitState::NotFound => BenefitState::NotFound,
    }
}

pub(super) fn render(ui: &AppWindow, s: &State, messages: &Messages) {
    let problem = |code: &str| if code.is_empty() { SharedString::new() } else { messages.invoke_problem(shared(code), SharedString::new()) };
    ui.set_status_mode(s.status_mode);
    ui.set_status_reference(shared(&s.status_reference));
    ui.set_status_reference_error(problem(&s.status_reference_error));
    ui.set_status_dob_error(problem(&s.status_dob_error));
    let dob = s.status_dob.unwrap_or_else(default_date);
    ui.set_status_dob_day(dob.day() as i32);
    ui.set_status_dob_month(dob.month() as i32);
    ui.set_status_dob_year(dob.year());
    ui.set_status_dob_set(s.status_dob.is_some());
    ui.set_status_result(match &s.status_result {
        Some(r) => StatusResult {
            state: benefit_state(r.state),
            message: shared(r.message.get(&s.language)),
            case_number: shared(r.case_number.as_deref().unwrap_or("")),
            updated_on: shared(&r.updated_on.map(|d| s.conventions().date(d)).unwrap_or_default()),
            next_payment_on: shared(&r.next_payment_on.map(|d| s.conventions().date(d)).unwrap_or_default()),
        },
        None => StatusResult::default(),
    });
    ui.set_status_problem(messages.invoke_problem(shared(&s.status_problem), shared(&s.status_problem)));
    ui.set_status_slip(s.status_slip);
}
