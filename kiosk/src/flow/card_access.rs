//! The key of the national ID card's chip (`id_card_profile = "emrtd"`): the six-digit card
//! access number, typed by the applicant before a status check by card or by staff before
//! reading the applicant's card for assisted enrollment; staff may type the MRZ key instead
//! (document number, date of birth, date of expiry, one screen step each).
//!
//! The key lives in [`CardAccessState`] only until the read is sent (it is taken out of the
//! state then) and is never shown again: a refused key brings the screen back empty, with the
//! service's words for what to do.

use std::rc::Rc;

use chrono::{Datelike, NaiveDate};
use node_protocol::SubmissionKind;
use slint::{ComponentHandle, SharedString};

use super::{shared, Kiosk, State};
use crate::api::{ApiError, CardAccess, MrzAccess};
use crate::forms::{adjust_date, default_date, DatePart};
use crate::ui::{AppWindow, CardAccessActions, CardAccessStep, Messages, Screen, StaffCardRead, StatusMode};

/// Why the card is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Purpose {
    /// An applicant's status check by card.
    #[default]
    Status,
    /// Staff reading the applicant's card for assisted enrollment.
    Enrol,
}

/// What the card access screen holds.
#[derive(Debug, Default)]
pub struct CardAccessState {
    /// Why the card is read.
    pub purpose: Purpose,
    /// What is being typed.
    pub step: CardAccessStep,
    /// The access number typed (digits only).
    pub can: String,
    /// The document number typed (A-Z, 0-9).
    pub document_number: String,
    /// The date of birth set.
    pub date_of_birth: Option<NaiveDate>,
    /// The date of expiry set.
    pub date_of_expiry: Option<NaiveDate>,
    /// Problem code with the card or the key (from the service).
    pub problem: String,
    /// Problem code with what is typed at this step.
    pub field_error: String,
}

/// Where the expiry steppers start: within a few years of the cards in use (issued since 2016,
/// valid for ten years), and the same on every run.
fn default_expiry() -> NaiveDate {
    NaiveDate::from_ymd_opt(2030, 1, 1).unwrap_or_default()
}

pub(super) fn connect(ui: &AppWindow, kiosk: &Rc<Kiosk>) {
    let actions = ui.global::<CardAccessActions>();
    on!(kiosk, actions, on_key, |k, text| k.access_key(&text));
    on!(kiosk, actions, on_backspace, |k| k.access_backspace());
    on!(kiosk, actions, on_dob_adjust, |k, part, delta| k.access_adjust(part, delta, false));
    on!(kiosk, actions, on_expiry_adjust, |k, part, delta| k.access_adjust(part, delta, true));
    on!(kiosk, actions, on_use_mrz, |k, mrz| k.access_use_mrz(mrz));
    on!(kiosk, actions, on_next, |k| k.access_next());
    on!(kiosk, actions, on_back, |k| k.access_back());
}

impl Kiosk {
    /// Opens the card access screen for `purpose`, empty.
    pub(super) fn ask_card_access(&self, purpose: Purpose) {
        let mut s = self.state.borrow_mut();
        s.card_access = CardAccessState { purpose, ..CardAccessState::default() };
        s.screen = Screen::CardAccess;
    }

    fn access_key(&self, text: &str) {
        let mut s = self.state.borrow_mut();
        let a = &mut s.card_access;
        match a.step {
            CardAccessStep::Can => {
                // Eastern Arabic digits from the pad's small labels count as the same digits.
                for d in text.chars().filter_map(|c| c.to_digit(10).or_else(|| eastern_digit(c))) {
                    if a.can.len() < 6 {
                        a.can.push(char::from(b'0' + d as u8));
                    }
                }
            }
            CardAccessStep::DocumentNumber => {
                for c in text.chars().filter(char::is_ascii_alphanumeric) {
                    if a.document_number.len() < 9 {
                        a.document_number.push(c.to_ascii_uppercase());
                    }
                }
            }
            CardAccessStep::DateOfBirth | CardAccessStep::DateOfExpiry => {}
        }
        a.field_error.clear();
    }

    fn access_backspace(&self) {
        let mut s = self.state.borrow_mut();
        let a = &mut s.card_access;
        match a.step {
            CardAccessStep::Can => a.can.pop(),
            CardAccessStep::DocumentNumber => a.document_number.pop(),
            CardAccessStep::DateOfBirth | CardAccessStep::DateOfExpiry => None,
        };
    }

    /// The first touch sets the usual date; the next ones move it.
    fn access_adjust(&self, part: DatePart, delta: i32, expiry: bool) {
        let mut s = self.state.borrow_mut();
        let a = &mut s.card_access;
        let date = if expiry { &mut a.date_of_expiry } else { &mut a.date_of_birth };
        *date = Some(match *date {
            Some(d) => adjust_date(d, part, delta),
            None if expiry => default_expiry(),
            None => default_date(),
        });
        a.field_error.clear();
    }

    /// Staff switch between the access number and the MRZ key; what was typed is dropped.
    fn access_use_mrz(&self, mrz: bool) {
        let mut s = self.state.borrow_mut();
        let purpose = s.card_access.purpose;
        if purpose != Purpose::Enrol {
            return;
        }
        s.card_access = CardAccessState {
            purpose,
            step: if mrz { CardAccessStep::DocumentNumber } else { CardAccessStep::Can },
            ..CardAccessState::default()
        };
    }

    /// The next MRZ step, or the read with the key typed.
    fn access_next(self: &Rc<Self>) {
        let access = {
            let mut s = self.state.borrow_mut();
            let a = &mut s.card_access;
            a.problem.clear();
            match a.step {
                CardAccessStep::Can if a.can.len() != 6 => {
                    a.field_error = "can_format".into();
                    return;
                }
                CardAccessStep::Can => CardAccess::Can(std::mem::take(&mut a.can)),
                CardAccessStep::DocumentNumber => {
                    if a.document_number.is_empty() {
                        a.field_error = "document_number_format".into();
                    } else {
                        a.step = CardAccessStep::DateOfBirth;
                    }
                    return;
                }
                CardAccessStep::DateOfBirth => {
                    if a.date_of_birth.is_none() {
                        a.field_error = "date_missing".into();
                    } else {
                        a.step = CardAccessStep::DateOfExpiry;
                    }
                    return;
                }
                CardAccessStep::DateOfExpiry => {
                    let (Some(date_of_birth), Some(date_of_expiry)) = (a.date_of_birth, a.date_of_expiry) else {
                        a.field_error = "date_missing".into();
                        return;
                    };
                    CardAccess::Mrz(MrzAccess { document_number: std::mem::take(&mut a.document_number), date_of_birth, date_of_expiry })
                }
            }
        };
        let purpose = self.state.borrow().card_access.purpose;
        match purpose {
            Purpose::Status => self.status_read_card(Some(access)),
            Purpose::Enrol => self.staff_read_card(Some(access)),
        }
    }

    /// Back one MRZ step, or away from the screen to where it was opened from.
    fn access_back(&self) {
        let mut s = self.state.borrow_mut();
        let a = &mut s.card_access;
        a.field_error.clear();
        match a.step {
            CardAccessStep::DateOfExpiry => a.step = CardAccessStep::DateOfBirth,
            CardAccessStep::DateOfBirth => a.step = CardAccessStep::DocumentNumber,
            CardAccessStep::Can | CardAccessStep::DocumentNumber => {
                let purpose = a.purpose;
                s.card_access = CardAccessState::default();
                match purpose {
                    Purpose::Status => {
                        s.screen = Screen::Status;
                        s.status_mode = StatusMode::Choose;
                    }
                    Purpose::Enrol => {
                        s.screen = Screen::StaffHome;
                        s.staff_card = StaffCardRead::None;
                    }
                }
            }
        }
    }

    /// A read came back with `error`: a refused key (or none) brings the screen back, empty,
    /// saying so; returns whether it did.
    pub(super) fn access_refused(&self, error: &ApiError, purpose: Purpose) -> bool {
        if !matches!(error.code(), "card_access_refused" | "card_access_required") {
            return false;
        }
        let mut s = self.state.borrow_mut();
        s.card_access = CardAccessState { purpose, problem: error.code().to_owned(), ..CardAccessState::default() };
        s.screen = Screen::CardAccess;
        true
    }

    /// Staff read the applicant's card (assisted enrollment) with `access`, then the form opens
    /// with what the card holds.
    pub(super) fn staff_read_card(self: &Rc<Self>, access: Option<CardAccess>) {
        {
            let mut s = self.state.borrow_mut();
            s.staff_card = StaffCardRead::Reading;
            s.screen = Screen::StaffHome;
        }
        let api = self.api.clone();
        self.call(async move { api.read_id_card(access).await }, |k, r| match r {
            Ok(card) => {
                {
                    let mut s = k.state.borrow_mut();
                    s.staff_card = StaffCardRead::None;
                    s.badge_return_s = card.badge_return_s.unwrap_or(0);
                }
                k.open_form(SubmissionKind::Application, Some(card));
            }
            Err(e) if k.access_refused(&e, Purpose::Enrol) => {}
            Err(e) => {
                k.state.borrow_mut().staff_card = match e.code() {
                    "no_card" => StaffCardRead::NoCard,
                    "not_an_id_card" => StaffCardRead::NotAnIdCard,
                    "card_not_genuine" => StaffCardRead::NotGenuine,
                    "card_not_supported" => StaffCardRead::NotSupported,
                    _ => StaffCardRead::Failed,
                };
            }
        });
    }
}

/// An Eastern Arabic digit's value.
fn eastern_digit(c: char) -> Option<u32> {
    match c {
        '\u{0660}'..='\u{0669}' => Some(c as u32 - 0x0660),
        '\u{06F0}'..='\u{06F9}' => Some(c as u32 - 0x06F0),
        _ => None,
    }
}

pub(super) fn render(ui: &AppWindow, s: &State, messages: &Messages) {
    let words = |code: &str| if code.is_empty() { SharedString::new() } else { messages.invoke_problem(shared(code), shared(code)) };
    let a = &s.card_access;
    ui.set_access_step(a.step);
    ui.set_access_staff(a.purpose == Purpose::Enrol);
    ui.set_access_can(shared(&a.can));
    ui.set_access_document_number(shared(&a.document_number));
    let dob = a.date_of_birth.unwrap_or_else(default_date);
    ui.set_access_dob_day(dob.day() as i32);
    ui.set_access_dob_month(dob.month() as i32);
    ui.set_access_dob_year(dob.year());
    ui.set_access_dob_set(a.date_of_birth.is_some());
    let expiry = a.date_of_expiry.unwrap_or_else(default_expiry);
    ui.set_access_expiry_day(expiry.day() as i32);
    ui.set_access_expiry_month(expiry.month() as i32);
    ui.set_access_expiry_year(expiry.year());
    ui.set_access_expiry_set(a.date_of_expiry.is_some());
    ui.set_access_problem(words(&a.problem));
    ui.set_access_field_error(words(&a.field_error));
    ui.set_badge_return_s(s.badge_return_s.min(i32::MAX as u64) as i32);
}
