//! Technician tools: provisioning (node URL and enrollment code), the terminal's identity,
//! network and sync state with recent events.

use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::{shared, short_time, Kiosk, State};
use crate::ui::{AppWindow, DiagnosticLine, Provisioning, Screen, SyncState, TechInput, TechTab, TechnicianActions};

pub(super) fn connect(ui: &AppWindow, kiosk: &Rc<Kiosk>) {
    let actions = ui.global::<TechnicianActions>();
    on!(kiosk, actions, on_choose_tab, |k, tab| k.tech_choose_tab(tab));
    on!(kiosk, actions, on_select_input, |k, input| k.state.borrow_mut().tech_input = input);
    on!(kiosk, actions, on_key, |k, text| k.tech_edit(|field| {
        if field.len() < 200 {
            field.push_str(&text);
        }
    }));
    on!(kiosk, actions, on_backspace, |k| k.tech_edit(|field| {
        field.pop();
    }));
    on!(kiosk, actions, on_keyboard_done, |k| k.state.borrow_mut().tech_input = TechInput::None);
    on!(kiosk, actions, on_provision, |k| k.tech_provision());
    on!(kiosk, actions, on_hardware, |k| k.state.borrow_mut().screen = Screen::Hardware);
    on!(kiosk, actions, on_back, |k| k.tech_back());
}

impl Kiosk {
    /// Opens a tab; the network tab reads diagnostics and the queue again.
    fn tech_choose_tab(self: &Rc<Self>, tab: TechTab) {
        self.state.borrow_mut().tech_tab = tab;
        if tab == TechTab::Network {
            let api = self.api.clone();
            self.call(async move { (api.diagnostics().await, api.queue().await) }, |k, (d, q)| {
                let mut s = k.state.borrow_mut();
                s.diagnostics = d.ok();
                if let Ok(q) = q {
                    s.queue = Some(q);
                }
            });
        }
    }

    /// Changes the field that has the keyboard, if one has.
    fn tech_edit(&self, change: impl FnOnce(&mut String)) {
        let mut s = self.state.borrow_mut();
        let s = &mut *s;
        match s.tech_input {
            TechInput::Url => change(&mut s.tech_node_url),
            TechInput::Code => change(&mut s.tech_code),
            TechInput::None => {}
        }
    }

    fn tech_provision(self: &Rc<Self>) {
        let (url, code) = {
            let mut s = self.state.borrow_mut();
            s.tech_input = TechInput::None;
            s.tech_provisioning = Provisioning::Busy;
            (s.tech_node_url.trim().to_owned(), s.tech_code.trim().to_owned())
        };
        let api = self.api.clone();
        self.call(async move { api.provision(&url, &code).await }, |k, r| {
            {
                let mut s = k.state.borrow_mut();
                match r {
                    Ok(p) => {
                        s.tech_provisioning = Provisioning::Done;
                        s.provisioned = true;
                        s.terminal = p.terminal_id;
                        s.province = p.province;
                        s.tech_code.clear();
                    }
                    Err(e) => {
                        s.tech_provisioning = Provisioning::Error;
                        s.tech_problem = e.message();
                    }
                }
            }
            k.refresh_terminal();
        });
    }

    fn tech_back(&self) {
        let mut s = self.state.borrow_mut();
        s.tech_input = TechInput::None;
        s.screen = if s.staff.is_some() { Screen::StaffHome } else { Screen::Home };
    }
}

/// The sync engine's state of the local API's diagnostics.
fn sync_state(state: local_api::SyncPhase) -> SyncState {
    match state {
        local_api::SyncPhase::Starting => SyncState::Starting,
        local_api::SyncPhase::NotProvisioned => SyncState::NotProvisioned,
        local_api::SyncPhase::Idle => SyncState::Idle,
        local_api::SyncPhase::Sending => SyncState::Sending,
        local_api::SyncPhase::Waiting => SyncState::Waiting,
    }
}

pub(super) fn render(ui: &AppWindow, s: &State) {
    ui.set_tech_tab(s.tech_tab);
    ui.set_tech_node_url(shared(&s.tech_node_url));
    ui.set_tech_code(shared(&s.tech_code));
    ui.set_tech_input(s.tech_input);
    ui.set_tech_provisioning(s.tech_provisioning);
    ui.set_tech_problem(shared(&s.tech_problem));
    ui.set_tech_terminal_id(shared(&s.terminal));
    ui.set_tech_province(shared(&s.province));
    ui.set_tech_version(shared(&s.service_version));
    if let Some(d) = &s.diagnostics {
        ui.set_tech_sync(sync_state(d.sync.state));
        let mut recent: Vec<DiagnosticLine> = Vec::new();
        if let Some(err) = &d.sync.last_error {
            recent.push(DiagnosticLine {
                time: shared(&d.sync.last_error_at.as_ref().map(|t| short_time(t, s.conventions())).unwrap_or_default()),
                text: shared(&format!("sync error: {err}")),
            });
        }
        recent.extend(d.audit.iter().rev().map(|a| DiagnosticLine {
            time: shared(&short_time(&a.at, s.conventions())),
            text: shared(&format!("{} {}", a.category.as_str(), a.action)),
        }));
        ui.set_tech_recent(ModelRc::new(VecModel::from(recent)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sync_state_of_the_local_api_has_its_own_value() {
        let states = super::super::tests::openapi_enum("    SyncDiagnostics:");
        assert_eq!(states.len(), 5, "{states:?}");
        let mapped: Vec<SyncState> = states.iter().map(|s| sync_state(super::super::tests::from_wire(s))).collect();
        for (i, state) in mapped.iter().enumerate() {
            assert_ne!(*state, SyncState::Unknown, "{} is known", states[i]);
            assert!(!mapped[..i].contains(state), "{} reads as another state's {state:?}", states[i]);
        }
    }
}
