//! The first screen: the applicant chooses the language of their session.

use std::rc::Rc;

use slint::ComponentHandle;

use super::Kiosk;
use crate::ui::{AppWindow, LanguageActions, Screen};

pub(super) fn connect(ui: &AppWindow, kiosk: &Rc<Kiosk>) {
    let actions = ui.global::<LanguageActions>();
    on!(kiosk, actions, on_start, |k, code| k.start_session(&code));
}

impl Kiosk {
    /// A session starts in language `code`, on the home screen.
    fn start_session(self: &Rc<Self>, code: &str) {
        self.set_language(code);
        self.state.borrow_mut().screen = Screen::Home;
        self.refresh_terminal();
    }
}
