//! A partner's referral (issue 14, referrals in): "I have a referral" on the home screen, or
//! "Enrol with a partner's referral" on the staff home, opens the referral screen. The short
//! code is typed on the Latin keyboard, or the slip's QR code is shown to the scanner: a `scan`
//! event arriving while the screen is open is checked at once, and one arriving on the home
//! screen opens the referral screen and checks it there (a household holding its slip under the
//! scanner has said what it came for). Anywhere else it is ignored, so a slip waved at the
//! scanner never moves anyone off a screen they are busy with.
//!
//! The service checks (`POST /v1/referrals/check`); what its answer means here:
//! * `valid`: the application opens, filled in with the household size and the governorate the
//!   referral carries, and its submission carries the referral ([`TakenReferral`]);
//! * `invalid`: the reason in words (`ReferralWords` in `ui/referral.slint`); the household may
//!   correct the code, scan again, or apply without the referral;
//! * `unchecked` (the provincial office unreachable for a typed code, or the terminal's clock
//!   not set): the household may go on; the node checks the referral on delivery, and a refusal
//!   then reaches staff in the queue details (`referral_refusals`), never the void.

use std::rc::Rc;

use local_api::{ReferralCheckStatus, ScanEvent};
use node_protocol::{AttachedReferral, ReferralRefusal, SubmissionKind};
use slint::ComponentHandle;

use super::{shared, Kiosk, State};
use crate::api::{ReferralCheckAnswer, ReferralCheckRequest, ReferralPrefill};
use crate::ui::{AppWindow, ReferralActions, ReferralMode, ReferralProblem, Screen};

/// Longest code kept from the keyboard: a short code is at most 6 letters, a dash and 9
/// characters in groups, with room for a stray dash.
const MAX_CODE_LEN: usize = 20;

/// The referral screen.
#[derive(Debug, Default)]
pub struct ReferralState {
    /// Typing, checking, or not checked now.
    pub mode: ReferralMode,
    /// The code as typed, or as the service read it from a scan.
    pub code: String,
    /// Why the last check refused it.
    pub problem: ReferralProblem,
    /// `unchecked` because the terminal's clock is not set.
    pub clock_not_set: bool,
    /// An `unchecked` referral, taken if the household goes on.
    pending: Option<TakenReferral>,
}

/// The referral an application comes with, for this session only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenReferral {
    /// The canonical short code.
    pub code: String,
    /// The signed payload, when scanned or looked up at the node.
    pub payload: Option<String>,
    /// What it fills in, when its signature could be checked.
    pub prefill: Option<ReferralPrefill>,
}

impl TakenReferral {
    fn of(answer: ReferralCheckAnswer, typed: &str) -> TakenReferral {
        TakenReferral { code: answer.code.unwrap_or_else(|| typed.to_owned()), payload: answer.payload, prefill: answer.prefill }
    }

    /// As `POST /v1/applications` takes it.
    pub fn attached(&self) -> AttachedReferral {
        AttachedReferral { code: self.code.clone(), payload: self.payload.clone() }
    }
}

/// The words for a reason code of the local API (a check's `reason_code`, the node's refusal).
pub fn problem_of(reason_code: &str) -> ReferralProblem {
    match reason_code {
        "not_found" => ReferralProblem::UnknownCode,
        code => match ReferralRefusal::from_wire(code) {
            ReferralRefusal::Malformed => ReferralProblem::Malformed,
            ReferralRefusal::UnknownPartner => ReferralProblem::UnknownPartner,
            ReferralRefusal::SignatureInvalid => ReferralProblem::SignatureInvalid,
            ReferralRefusal::NotYetValid => ReferralProblem::NotYetValid,
            ReferralRefusal::Expired => ReferralProblem::Expired,
            ReferralRefusal::AlreadyUsed => ReferralProblem::AlreadyUsed,
            ReferralRefusal::UnknownCode => ReferralProblem::UnknownCode,
            ReferralRefusal::Other => ReferralProblem::Other,
        },
    }
}

pub(super) fn connect(ui: &AppWindow, kiosk: &Rc<Kiosk>) {
    let actions = ui.global::<ReferralActions>();
    on!(kiosk, actions, on_key, |k, text| k.referral_key(&text));
    on!(kiosk, actions, on_backspace, |k| k.referral_backspace());
    on!(kiosk, actions, on_check, |k| k.referral_check_typed());
    on!(kiosk, actions, on_proceed, |k| k.referral_proceed());
    on!(kiosk, actions, on_without_referral, |k| k.open_form(SubmissionKind::Application, None));
    on!(kiosk, actions, on_back, |k| k.referral_back());
}

impl Kiosk {
    /// The referral screen, empty.
    pub(super) fn open_referral(&self) {
        let mut s = self.state.borrow_mut();
        s.referral = ReferralState::default();
        s.screen = Screen::Referral;
    }

    fn referral_key(&self, text: &str) {
        let mut s = self.state.borrow_mut();
        if s.referral.mode != ReferralMode::Entering {
            return;
        }
        for c in text.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-') {
            if s.referral.code.len() < MAX_CODE_LEN {
                s.referral.code.push(c.to_ascii_uppercase());
            }
        }
        s.referral.problem = ReferralProblem::None;
    }

    fn referral_backspace(&self) {
        let mut s = self.state.borrow_mut();
        if s.referral.mode == ReferralMode::Entering {
            s.referral.code.pop();
            s.referral.problem = ReferralProblem::None;
        }
    }

    fn referral_back(&self) {
        let mut s = self.state.borrow_mut();
        s.referral = ReferralState::default();
        s.screen = if s.staff.is_some() { Screen::StaffHome } else { Screen::Home };
    }

    fn referral_check_typed(self: &Rc<Self>) {
        let code = {
            let mut s = self.state.borrow_mut();
            if s.referral.mode != ReferralMode::Entering {
                return;
            }
            if s.referral.code.trim_matches('-').is_empty() {
                s.referral.problem = ReferralProblem::Empty;
                return;
            }
            s.referral.code.clone()
        };
        self.referral_check(ReferralCheckRequest { code: Some(code), payload: None });
    }

    /// A `scan` event: checked when the referral screen is open and not already checking, or
    /// on the home screen (where "I have a referral" is offered), which opens the referral
    /// screen first.
    pub(super) fn referral_scanned(self: &Rc<Self>, scan: ScanEvent) {
        let from_home = {
            let s = self.state.borrow();
            s.screen == Screen::Home && s.provisioned && s.forms.is_some()
        };
        if from_home {
            self.open_referral();
        }
        {
            let mut s = self.state.borrow_mut();
            if s.screen != Screen::Referral || s.referral.mode == ReferralMode::Checking {
                return;
            }
            s.referral.mode = ReferralMode::Entering;
            s.referral.pending = None;
            if scan.payload.is_none() {
                s.referral.problem = ReferralProblem::UnreadableScan;
                return;
            }
        }
        if let Some(payload) = scan.payload {
            self.referral_check(ReferralCheckRequest { code: None, payload: Some(payload) });
        }
    }

    fn referral_check(self: &Rc<Self>, request: ReferralCheckRequest) {
        {
            let mut s = self.state.borrow_mut();
            s.referral.mode = ReferralMode::Checking;
            s.referral.problem = ReferralProblem::None;
        }
        let api = self.api.clone();
        self.call(async move { api.check_referral(&request).await }, |k, answer| {
            let valid = {
                let mut s = k.state.borrow_mut();
                // Gone back meanwhile: the answer is for a screen no longer shown.
                if s.screen != Screen::Referral || s.referral.mode != ReferralMode::Checking {
                    return;
                }
                let typed = std::mem::take(&mut s.referral.code);
                let r = &mut s.referral;
                r.mode = ReferralMode::Entering;
                match answer {
                    Ok(a) => {
                        r.code = a.code.clone().unwrap_or(typed.clone());
                        match a.status {
                            ReferralCheckStatus::Valid => Some(TakenReferral::of(a, &typed)),
                            ReferralCheckStatus::Unchecked => {
                                r.mode = ReferralMode::Unchecked;
                                r.clock_not_set = a.reason_code.as_deref() == Some("clock_not_set");
                                r.pending = Some(TakenReferral::of(a, &typed));
                                None
                            }
                            ReferralCheckStatus::Invalid => {
                                r.problem = problem_of(a.reason_code.as_deref().unwrap_or("other"));
                                None
                            }
                        }
                    }
                    Err(e) => {
                        eprintln!("kiosk: referral check: {e}");
                        r.code = typed;
                        r.problem = ReferralProblem::Unreachable;
                        None
                    }
                }
            };
            if let Some(taken) = valid {
                k.referral_start_application(taken);
            }
        });
    }

    /// Not checked now: the household goes on with the referral.
    fn referral_proceed(&self) {
        let pending = self.state.borrow_mut().referral.pending.take();
        if let Some(taken) = pending {
            self.referral_start_application(taken);
        }
    }

    /// The application, filled in with what the referral carries, submitted with it.
    fn referral_start_application(&self, taken: TakenReferral) {
        self.open_form(SubmissionKind::Application, None);
        let mut s = self.state.borrow_mut();
        let Some(form) = s.form.as_mut() else { return };
        if let Some(prefill) = &taken.prefill {
            form.prefill("household_size", &prefill.household_size.to_string());
            form.prefill("governorate", &prefill.governorate);
        }
        s.referral = ReferralState::default();
        s.taken_referral = Some(taken);
    }
}

/// The referral screen, and the note on the application that comes with one.
pub(super) fn render(ui: &AppWindow, s: &State) {
    let r = &s.referral;
    ui.set_referral_mode(r.mode);
    ui.set_referral_code(shared(&r.code));
    ui.set_referral_problem(r.problem);
    ui.set_referral_scanner(s.scanner);
    ui.set_referral_clock_not_set(r.clock_not_set);
    let taken = s.taken_referral.as_ref().filter(|_| s.form.is_some());
    ui.set_form_referral_code(taken.map(|t| shared(&t.code)).unwrap_or_default());
    let prefill = taken.and_then(|t| t.prefill.as_ref());
    ui.set_form_referral_partner(prefill.map(|p| shared(&p.partner)).unwrap_or_default());
    ui.set_form_referral_case(prefill.map(|p| shared(&p.partner_case_number)).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_of_the_local_api_has_its_own_words() {
        let reasons = super::super::tests::openapi_enum("    ReferralRefusal:");
        assert_eq!(reasons.len(), ReferralRefusal::ALL.len(), "{reasons:?}");
        let mapped: Vec<ReferralProblem> = reasons.iter().map(|r| problem_of(r)).collect();
        for (i, p) in mapped.iter().enumerate() {
            assert!(!matches!(p, ReferralProblem::None | ReferralProblem::Empty | ReferralProblem::UnreadableScan), "{} reads as {p:?}", reasons[i]);
            assert!(!mapped[..i].contains(p), "{} reads as another reason's {p:?}", reasons[i]);
        }
        assert_eq!(problem_of("not_found"), ReferralProblem::UnknownCode, "the node's look-up knows no such code");
    }
}
