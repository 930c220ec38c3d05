//! Home: check a status, apply, complain, or bring a partner's referral; staff and technicians
//! enter from the corner.

use std::rc::Rc;

use node_protocol::SubmissionKind;
use slint::ComponentHandle;

use super::Kiosk;
use crate::ui::{AppWindow, HomeActions, Screen, StatusMode};

pub(super) fn connect(ui: &AppWindow, kiosk: &Rc<Kiosk>) {
    let actions = ui.global::<HomeActions>();
    on!(kiosk, actions, on_check_status, |k| k.home_check_status());
    on!(kiosk, actions, on_apply, |k| k.open_form(SubmissionKind::Application, None));
    on!(kiosk, actions, on_grievance, |k| k.open_form(SubmissionKind::Grievance, None));
    on!(kiosk, actions, on_staff, |k| k.home_staff());
    on!(kiosk, actions, on_referral, |k| k.open_referral());
}

impl Kiosk {
    fn home_check_status(&self) {
        let mut s = self.state.borrow_mut();
        s.screen = Screen::Status;
        s.status_mode = StatusMode::Choose;
    }

    /// Staff login; on an unprovisioned terminal, where no badge can be checked, the set-up screen.
    fn home_staff(&self) {
        let mut s = self.state.borrow_mut();
        s.screen = if s.provisioned { Screen::StaffLogin } else { Screen::Technician };
    }
}
