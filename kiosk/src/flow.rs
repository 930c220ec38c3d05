//! The kiosk's behaviour: what each touch does, which local API call it makes, and what the
//! screen shows afterwards.
//!
//! [`Kiosk`] lives on the UI thread. Every screen reports touches through the window's one
//! `act(name, text, a, b)` callback; [`Kiosk::act`] changes [`State`] and [`Kiosk::render`] pushes
//! the whole state to the window. API calls run on the tokio runtime and their answers come back
//! to the UI thread through `slint::spawn_local`; an answer that arrives after the session it
//! belongs to has ended is dropped (see `generation`).
//!
//! Which language the first screen speaks after a start: with `KioskOptions::state_dir`, the
//! one that was on screen before the restart ([`RememberedLanguage`]), even if the service's
//! settings name another default, because someone may be standing in front of the screen;
//! otherwise Arabic. Once a session ends, the default language comes back (and is remembered).
//!
//! On an unprovisioned terminal the first health answer opens the technician's set-up screen
//! instead of the language screen, unless someone touched the screen before it arrived.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::path::PathBuf;
use std::rc::Rc;

use chrono::NaiveDate;
use node_protocol::{FormDefinition, StatusQuery, StatusResponse, SubmissionKind};
use slint::{ComponentHandle, Global, ModelRc, SharedString, VecModel};

use crate::api::{ApiError, Captured, Forms, LocalApi, ServiceEvent, StaffSession, Submission};
use crate::forms::{Entry, FormSession};
use crate::remembered_language::RememberedLanguage;
use crate::ui::{
    AppWindow, ChoiceView, DiagnosticLine, FieldView, Messages, QueueLine, ReviewLine, Session, StatusInfo, StatusResult, Theme,
};

/// How the kiosk runs.
#[derive(Debug, Clone)]
pub struct KioskOptions {
    /// Shown in the status bar instead of the clock (reproducible screenshots).
    pub fixed_clock: Option<String>,
    /// Seconds of inactivity before the session ends, until the service says otherwise.
    pub idle_timeout_s: u64,
    /// F1–F4 put simulated cards on the reader (the reference node's sample badges).
    pub demo_keys: bool,
    /// Where the language on screen is remembered across restarts (`--state-dir`); `None`
    /// remembers nothing and always starts in Arabic.
    pub state_dir: Option<PathBuf>,
}

impl Default for KioskOptions {
    fn default() -> Self {
        KioskOptions { fixed_clock: None, idle_timeout_s: 90, demo_keys: false, state_dir: None }
    }
}

/// The languages the kiosk speaks, by code; the first is the default on a new device.
pub const LANGUAGES: [&str; 3] = ["ar", "ckb", "en"];

/// Card UIDs the demo keys present: the reference node's sample staff badge and technician
/// badge, and an applicant's ID card.
pub const DEMO_CARDS: [(&str, &str); 3] = [("staff", "04A1B2C3D4E580"), ("technician", "04112233445566"), ("applicant", "08A1B2C3")];

/// What the demo's applicant ID card holds: a sample applicant the reference node knows
/// (national ID number, date of birth).
pub const DEMO_ID_CARD: (&str, &str) = ("199001234567", "1985-03-14");

/// Everything the screens show. Applicant data lives here only, and only for one session.
#[derive(Debug, Default)]
pub struct State {
    /// `ar`, `ckb` or `en`.
    pub language: String,
    /// Language a new session starts in.
    pub default_language: String,
    /// Current screen.
    pub screen: String,
    /// Bumped when a session ends; answers for an older one are dropped.
    pub generation: u64,

    /// From `/v1/health` and events.
    pub online: bool,
    /// Unsent submissions.
    pub queue_depth: u64,
    /// Printer state code.
    pub printer: String,
    /// Terminal name for the status bar.
    pub terminal: String,
    /// Enrolled with a node.
    pub provisioned: bool,
    /// Service version.
    pub service_version: String,
    /// Province.
    pub province: String,
    /// Forms and master data.
    pub forms: Option<Forms>,

    /// Status check.
    pub status_mode: String,
    /// Reference typed.
    pub status_reference: String,
    /// Date of birth set.
    pub status_dob: Option<NaiveDate>,
    /// Problem codes shown under the reference and date.
    pub status_reference_error: String,
    /// …
    pub status_dob_error: String,
    /// Answer of the node.
    pub status_result: Option<StatusResponse>,
    /// The reference the answer is for (printed on the slip).
    pub status_checked_reference: String,
    /// Code of the problem shown in `error` mode.
    pub status_problem: String,
    /// Slip printing.
    pub status_slip: String,

    /// The form being filled in.
    pub form: Option<FormSession>,
    /// Its field with the keyboard.
    pub active_field: Option<usize>,
    /// Keyboard chosen with the Arabic ⇄ Kurdish switch.
    pub keyboard: Option<String>,
    /// Problem shown above the form.
    pub form_problem: String,
    /// Submitting.
    pub review_busy: bool,
    /// Problem shown on review.
    pub review_problem: String,
    /// The last capture.
    pub captured: Option<(SubmissionKind, Captured)>,
    /// Receipt printing.
    pub receipt_print: String,

    /// PIN typed.
    pub login_pin: String,
    /// Login problem code.
    pub login_problem: String,
    /// From `wrong_pin`.
    pub login_attempts_left: u32,
    /// Login in flight.
    pub login_busy: bool,
    /// The staff member logged in.
    pub staff: Option<StaffSession>,
    /// ID-card read for assisted enrollment.
    pub staff_card: String,
    /// Queue view.
    pub queue: Option<crate::api::Queue>,

    /// Technician tab.
    pub tech_tab: String,
    /// Node URL typed.
    pub tech_node_url: String,
    /// Enrollment code typed.
    pub tech_code: String,
    /// Which of the two has the keyboard.
    pub tech_input: String,
    /// Provisioning state.
    pub tech_provisioning: String,
    /// Provisioning problem (technical, from the service).
    pub tech_problem: String,
    /// Sync state and recent events.
    pub diagnostics: Option<crate::api::Diagnostics>,
    /// Hardware tests.
    pub hw_card_state: String,
    /// Card id read by the test.
    pub hw_card_id: String,
    /// Print test.
    pub hw_print_state: String,
    /// Service words of the last failure.
    pub hw_detail: String,
    /// A test in flight.
    pub hw_busy: bool,
}

/// The controller. See the module documentation.
pub struct Kiosk {
    ui: slint::Weak<AppWindow>,
    api: LocalApi,
    runtime: tokio::runtime::Handle,
    options: KioskOptions,
    /// The state; borrowed only inside one call, never across an await.
    pub state: RefCell<State>,
    clock: RefCell<Option<slint::Timer>>,
    /// Only with `KioskOptions::state_dir`.
    remembered_language: RefCell<Option<RememberedLanguage>>,
    /// Whether the first health answer may still replace the language screen with the set-up
    /// screen: from the start until that answer arrives or someone touches the screen, whose
    /// screen is then never taken away.
    setup_on_first_health: Cell<bool>,
}

fn shared(s: &str) -> SharedString {
    SharedString::from(s)
}

impl Kiosk {
    /// Wires `ui` to the local API and shows the first screen. Call from the UI thread, with the
    /// Slint event loop about to run.
    pub fn start(ui: &AppWindow, api: LocalApi, runtime: tokio::runtime::Handle, options: KioskOptions) -> Rc<Kiosk> {
        let remembered_language = options.state_dir.as_deref().map(RememberedLanguage::open);
        let first_language = remembered_language.as_ref().and_then(RememberedLanguage::language).unwrap_or(LANGUAGES[0]);
        let kiosk = Rc::new(Kiosk {
            ui: ui.as_weak(),
            api,
            runtime,
            options,
            state: RefCell::new(State {
                language: LANGUAGES[0].into(),
                default_language: LANGUAGES[0].into(),
                screen: "language".into(),
                status_mode: "choose".into(),
                tech_tab: "setup".into(),
                provisioned: true,
                ..State::default()
            }),
            clock: RefCell::new(None),
            remembered_language: RefCell::new(remembered_language),
            setup_on_first_health: Cell::new(true),
        });
        let weak = Rc::downgrade(&kiosk);
        ui.on_act(move |name, text, a, b| {
            if let Some(k) = weak.upgrade() {
                k.act(&name, &text, a, b);
            }
        });
        ui.set_idle_timeout(kiosk.options.idle_timeout_s as i32);
        kiosk.set_language(first_language);
        kiosk.refresh_terminal();
        kiosk.follow_events();
        let timer = slint::Timer::default();
        let weak = Rc::downgrade(&kiosk);
        timer.start(slint::TimerMode::Repeated, std::time::Duration::from_secs(30), move || {
            if let Some(k) = weak.upgrade() {
                k.refresh_terminal();
            }
        });
        *kiosk.clock.borrow_mut() = Some(timer);
        kiosk.render();
        kiosk
    }

    /// Runs `work` on the runtime, then `done` on the UI thread with its result, unless the
    /// session ended meanwhile.
    fn call<T: Send + 'static>(
        self: &Rc<Self>,
        work: impl Future<Output = T> + Send + 'static,
        done: impl FnOnce(&Rc<Kiosk>, T) + 'static,
    ) {
        let generation = self.state.borrow().generation;
        let handle = self.runtime.spawn(work);
        let weak = Rc::downgrade(self);
        let spawned = slint::spawn_local(async move {
            let Ok(value) = handle.await else { return };
            let Some(k) = weak.upgrade() else { return };
            if k.state.borrow().generation == generation {
                done(&k, value);
                k.render();
            }
        });
        if let Err(e) = spawned {
            eprintln!("kiosk: cannot run a call on the UI thread: {e}");
        }
    }

    /// Reads health, settings and forms again.
    pub fn refresh_terminal(self: &Rc<Self>) {
        let api = self.api.clone();
        self.call(
            async move { (api.health().await, api.kiosk_settings().await, api.forms().await) },
            |k, (health, settings, forms)| {
                let mut s = k.state.borrow_mut();
                match health {
                    Ok(h) => {
                        // Only a technician can do anything on an unprovisioned terminal, so its
                        // first screen is theirs; later answers never move anyone.
                        if k.setup_on_first_health.replace(false) && !h.provisioned && s.screen == "language" {
                            s.screen = "technician".into();
                            s.tech_tab = "setup".into();
                        }
                        s.online = h.connectivity.state == local_api::ConnectivityState::Online;
                        s.queue_depth = h.queue.depth;
                        s.provisioned = h.provisioned;
                        s.terminal = h.terminal_id.clone().unwrap_or_default();
                        s.province = h.province.unwrap_or_default();
                        s.service_version = h.version;
                    }
                    Err(e) => {
                        s.online = false;
                        s.terminal = String::new();
                        eprintln!("kiosk: {e}");
                    }
                }
                if let Ok(settings) = settings {
                    if let Some(ui) = k.ui.upgrade() {
                        ui.set_idle_timeout(settings.idle_timeout_s.clamp(20, 3600) as i32);
                    }
                    if let Some(first) = settings.languages.first() {
                        s.default_language = first.clone();
                    }
                }
                if let Ok(forms) = forms {
                    s.forms = Some(forms);
                }
            },
        );
    }

    fn follow_events(self: &Rc<Self>) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ServiceEvent>();
        let api = self.api.clone();
        self.runtime.spawn(async move {
            loop {
                let result = api.follow_events(|e| {
                    let _ = tx.send(e);
                })
                .await;
                if tx.is_closed() {
                    return;
                }
                if let Err(e) = result {
                    eprintln!("kiosk: event stream: {e}; reconnecting");
                }
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
        });
        let weak = Rc::downgrade(self);
        let spawned = slint::spawn_local(async move {
            while let Some(event) = rx.recv().await {
                let Some(k) = weak.upgrade() else { return };
                k.on_event(event);
            }
        });
        if let Err(e) = spawned {
            eprintln!("kiosk: cannot follow events: {e}");
        }
    }

    /// Applies one event of the service.
    pub fn on_event(self: &Rc<Self>, event: ServiceEvent) {
        let mut end = false;
        let mut read_card = false;
        {
            let mut s = self.state.borrow_mut();
            match event {
                ServiceEvent::Queue(queue) => s.queue_depth = queue.depth,
                ServiceEvent::Connectivity(c) => s.online = c.state == local_api::ConnectivityState::Online,
                ServiceEvent::Printer(printer) => s.printer = printer.state.as_str().to_owned(),
                ServiceEvent::Session(session) => end = session.state == local_api::SessionState::Ended && s.staff.is_some(),
                // An applicant who taps their card while being asked how to identify
                // themselves has answered the question.
                ServiceEvent::Card(card) => read_card = card.state == local_api::CardState::Present && s.screen == "status" && s.status_mode == "choose",
                ServiceEvent::Submission(_) => {}
            }
        }
        if end {
            self.end_session();
        } else if read_card {
            self.act_status("card", "", 0);
        }
        self.render();
    }

    fn set_language(&self, code: &str) {
        let code = if LANGUAGES.contains(&code) { code } else { LANGUAGES[0] };
        self.state.borrow_mut().language = code.to_owned();
        if let Some(remembered) = self.remembered_language.borrow_mut().as_mut() {
            remembered.remember(code);
        }
        if let Some(ui) = self.ui.upgrade() {
            Theme::get(&ui).set_rtl(code != "en");
            ui.set_language(shared(code));
        }
        if let Err(e) = slint::select_bundled_translation(code) {
            eprintln!("kiosk: no translation for {code}: {e}");
        }
    }

    /// Ends the session: forgets every answer, logs staff out, back to the first screen.
    pub fn end_session(self: &Rc<Self>) {
        let was_staff = self.state.borrow().staff.is_some();
        if was_staff {
            let api = self.api.clone();
            self.runtime.spawn(async move { api.logout().await });
        }
        let default_language = {
            let mut s = self.state.borrow_mut();
            // An unprovisioned terminal is only of use to a technician: the end of their
            // session (an idle set-up screen) brings back the set-up screen, emptied.
            let screen = if s.provisioned { "language" } else { "technician" };
            let keep = State {
                language: s.default_language.clone(),
                default_language: s.default_language.clone(),
                screen: screen.into(),
                generation: s.generation + 1,
                online: s.online,
                queue_depth: s.queue_depth,
                printer: std::mem::take(&mut s.printer),
                terminal: std::mem::take(&mut s.terminal),
                provisioned: s.provisioned,
                service_version: std::mem::take(&mut s.service_version),
                province: std::mem::take(&mut s.province),
                forms: s.forms.take(),
                status_mode: "choose".into(),
                tech_tab: "setup".into(),
                ..State::default()
            };
            // Replacing the state drops the form, the typed reference, PIN and everything else.
            *s = keep;
            s.default_language.clone()
        };
        if let Some(ui) = self.ui.upgrade() {
            Session::get(&ui).set_idle_seconds(0);
            Theme::get(&ui).set_large_text(false);
        }
        self.set_language(&default_language);
        self.render();
    }

    fn open_form(self: &Rc<Self>, kind: SubmissionKind, prefill: Option<crate::api::IdCard>) {
        let mut s = self.state.borrow_mut();
        let Some(forms) = &s.forms else {
            s.status_problem = "not_provisioned".into();
            return;
        };
        let Some(def) = forms.forms.iter().find(|f| f.kind == kind).cloned() else { return };
        let mut session = FormSession::new(def, forms.master_data.clone());
        if let Some(card) = prefill {
            if let Some(id) = &card.national_id {
                session.prefill("national_id", id);
            }
            if let Some(born) = card.date_of_birth {
                session.prefill("date_of_birth", &born.to_string());
            }
        }
        s.form = Some(session);
        s.active_field = None;
        s.keyboard = None;
        s.form_problem.clear();
        s.review_problem.clear();
        s.screen = "form".into();
    }

    /// One touch, as reported by the window.
    pub fn act(self: &Rc<Self>, name: &str, text: &str, a: i32, b: i32) {
        // Someone is using the screen: the first-boot set-up screen must not replace theirs.
        self.setup_on_first_health.set(false);
        let a_index = usize::try_from(a).unwrap_or(usize::MAX);
        match name {
            "language.start" => {
                self.set_language(text);
                self.state.borrow_mut().screen = "home".into();
                self.refresh_terminal();
            }
            "language" => self.set_language(text),
            "session.expired" => {
                self.end_session();
                return;
            }
            "home.status" => {
                let mut s = self.state.borrow_mut();
                s.screen = "status".into();
                s.status_mode = "choose".into();
            }
            "home.apply" => self.open_form(SubmissionKind::Application, None),
            "home.grievance" => self.open_form(SubmissionKind::Grievance, None),
            "home.staff" => {
                let mut s = self.state.borrow_mut();
                s.screen = if s.provisioned { "staff-login".into() } else { "technician".into() };
            }
            n if n.starts_with("status.") => self.act_status(&n[7..], text, a),
            n if n.starts_with("form.") => self.act_form(&n[5..], text, a_index, b),
            "review.edit" => {
                let mut s = self.state.borrow_mut();
                if let Some(f) = s.form.as_mut() {
                    f.step = a_index.min(f.step_count().saturating_sub(1));
                }
                s.screen = "form".into();
            }
            "review.back" => self.state.borrow_mut().screen = "form".into(),
            "review.submit" => self.submit(),
            "receipt.reprint" => self.print_receipt(),
            "receipt.finish" => {
                let staff = self.state.borrow().staff.is_some();
                if staff {
                    let mut s = self.state.borrow_mut();
                    s.form = None;
                    s.captured = None;
                    s.staff_card.clear();
                    s.screen = "staff-home".into();
                } else {
                    self.end_session();
                    return;
                }
            }
            "demo.card" if self.options.demo_keys => {
                let api = self.api.clone();
                let card = DEMO_CARDS.iter().find(|(who, _)| *who == text).map(|(who, uid)| (*who, (*uid).to_owned()));
                self.call(
                    async move {
                        match card {
                            Some(("applicant", uid)) => api.simulator_present_id_card(&uid, DEMO_ID_CARD.0, DEMO_ID_CARD.1).await,
                            Some((_, uid)) => api.simulator_present_card(&uid).await,
                            None => api.simulator_remove_card().await,
                        }
                    },
                    |_, r| {
                        if let Err(e) = r {
                            eprintln!("kiosk: demo card: {e}");
                        }
                    },
                );
            }
            "demo.card" => {}
            n if n.starts_with("login.") => self.act_login(&n[6..], text),
            n if n.starts_with("staff.") || n.starts_with("queue.") => self.act_staff(name),
            n if n.starts_with("tech.") || n.starts_with("hw.") => self.act_technician(name, text),
            other => eprintln!("kiosk: unknown action {other}"),
        }
        self.render();
    }

    fn act_status(self: &Rc<Self>, what: &str, text: &str, delta: i32) {
        match what {
            "card" => {
                self.state.borrow_mut().status_mode = "card".into();
                let api = self.api.clone();
                self.call(async move { api.status_check_by_card().await }, |k, r| k.show_status(r));
            }
            "reference" => self.state.borrow_mut().status_mode = "reference".into(),
            "key" => {
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
            "backspace" => {
                let mut s = self.state.borrow_mut();
                s.status_reference.pop();
                if s.status_reference.ends_with('-') {
                    s.status_reference.pop();
                }
            }
            "dob" => {
                let mut s = self.state.borrow_mut();
                s.status_dob = Some(match s.status_dob {
                    Some(d) => crate::forms::adjust_date(d, text, delta),
                    None => crate::forms::default_date(),
                });
                s.status_dob_error.clear();
            }
            "submit" => {
                let (reference, dob) = {
                    let mut s = self.state.borrow_mut();
                    let plain: String = s.status_reference.chars().filter(|c| *c != '-').collect();
                    s.status_reference_error = if plain.len() == 10 { String::new() } else { "reference_format".into() };
                    s.status_dob_error = if s.status_dob.is_some() { String::new() } else { "dob_missing".into() };
                    if !s.status_reference_error.is_empty() || !s.status_dob_error.is_empty() {
                        return;
                    }
                    s.status_mode = "busy".into();
                    s.status_checked_reference = s.status_reference.clone();
                    (s.status_reference.clone(), s.status_dob.unwrap_or_else(crate::forms::default_date))
                };
                let api = self.api.clone();
                self.call(
                    async move { api.status_check(StatusQuery::Reference { reference, date_of_birth: dob }).await },
                    |k, r| k.show_status(r),
                );
            }
            "print" => {
                let (result, reference, language) = {
                    let mut s = self.state.borrow_mut();
                    s.status_slip = "printing".into();
                    let reference = (!s.status_checked_reference.is_empty()).then(|| s.status_checked_reference.clone());
                    (s.status_result.clone(), reference, s.language.clone())
                };
                let api = self.api.clone();
                self.call(async move { api.print_status_slip(result.as_ref(), reference.as_deref(), &language).await }, |k, r| {
                    k.state.borrow_mut().status_slip = if r.is_ok() { "printed".into() } else { "failed".into() };
                });
            }
            "finish" => self.end_session(),
            "back" => {
                let mut s = self.state.borrow_mut();
                if s.status_mode == "choose" {
                    s.screen = "home".into();
                } else {
                    s.status_mode = "choose".into();
                    s.status_problem.clear();
                }
            }
            _ => {}
        }
    }

    fn show_status(&self, r: Result<StatusResponse, ApiError>) {
        let mut s = self.state.borrow_mut();
        s.status_slip.clear();
        match r {
            Ok(answer) => {
                s.status_result = Some(answer);
                s.status_mode = "result".into();
                s.status_reference.clear();
                s.status_dob = None;
            }
            Err(e) if e.code() == "node_unreachable" => {
                s.status_result = None;
                s.status_mode = "offline".into();
            }
            Err(e) => {
                s.status_problem = match e.code() {
                    "unreachable" | "rate_limited" | "no_card" | "not_an_id_card" | "card_moved" => e.code().to_owned(),
                    "malformed" | "card_locked" | "card_unreadable" | "reader_fault" => "card_unreadable".to_owned(),
                    other => other.to_owned(),
                };
                s.status_mode = "error".into();
            }
        }
    }

    fn act_form(self: &Rc<Self>, what: &str, text: &str, index: usize, b: i32) {
        let mut s = self.state.borrow_mut();
        let s = &mut *s;
        let Some(form) = s.form.as_mut() else { return };
        match what {
            "tap" => {
                s.active_field = Some(index);
                s.keyboard = None;
            }
            "key" => {
                if let Some(i) = s.active_field {
                    form.type_text(i, text);
                }
            }
            "backspace" => {
                if let Some(i) = s.active_field {
                    form.backspace(i);
                }
            }
            "keyboard-done" => s.active_field = None,
            "layout" => s.keyboard = Some(text.to_owned()),
            "choose" => form.choose(index, text),
            "date" => form.adjust_date(index, text, b),
            "add-member" => {
                form.start_member(index);
                s.active_field = None;
            }
            "remove-member" => form.remove_member(index, usize::try_from(b).unwrap_or(usize::MAX)),
            "member-save" => {
                form.save_member();
                s.active_field = None;
            }
            "member-cancel" => {
                form.cancel_member();
                s.active_field = None;
            }
            "back" => {
                s.active_field = None;
                s.form_problem.clear();
                if form.step > 0 {
                    form.step -= 1;
                } else {
                    // Leaving the form forgets it.
                    s.form = None;
                    s.screen = if s.staff.is_some() { "staff-home".into() } else { "home".into() };
                }
            }
            "next" => {
                s.active_field = None;
                s.form_problem.clear();
                if form.check_step() {
                    if form.step + 1 < form.step_count() {
                        form.step += 1;
                    } else {
                        s.review_problem.clear();
                        s.screen = "review".into();
                    }
                }
            }
            _ => {}
        }
    }

    fn submit(self: &Rc<Self>) {
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
            };
            s.review_busy = true;
            s.review_problem.clear();
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
                        // Saved on the terminal: the answers are no longer needed here.
                        s.form = None;
                        s.captured = Some((kind, captured));
                        s.screen = "receipt".into();
                    }
                    Err(ApiError::Refused { code, fields, .. }) if code == "validation_failed" => {
                        let on_form = s.form.as_mut().is_some_and(|f| f.apply_service_problems(&fields));
                        if on_form {
                            s.form_problem = code;
                            s.screen = "form".into();
                        } else {
                            s.review_problem = code;
                        }
                    }
                    Err(e) => s.review_problem = e.code().to_owned(),
                }
            }
            if k.state.borrow().captured.is_some() && k.state.borrow().screen == "receipt" {
                k.print_receipt();
            }
        });
    }

    fn print_receipt(self: &Rc<Self>) {
        let (id, language) = {
            let mut s = self.state.borrow_mut();
            let Some((_, c)) = &s.captured else { return };
            let id = c.id.clone();
            s.receipt_print = "printing".into();
            (id, s.language.clone())
        };
        let api = self.api.clone();
        self.call(async move { api.print_receipt(&id, &language).await }, |k, r| {
            if let Err(e) = &r {
                eprintln!("kiosk: receipt: {e}");
            }
            k.state.borrow_mut().receipt_print = if r.is_ok() { "printed".into() } else { "failed".into() };
        });
    }

    fn act_login(self: &Rc<Self>, what: &str, text: &str) {
        match what {
            "key" => {
                let mut s = self.state.borrow_mut();
                if s.login_pin.len() < 8 {
                    s.login_pin.extend(text.chars().filter(char::is_ascii_digit));
                }
            }
            "backspace" => {
                self.state.borrow_mut().login_pin.pop();
            }
            "cancel" => {
                let mut s = self.state.borrow_mut();
                s.login_pin.clear();
                s.login_problem.clear();
                s.screen = "home".into();
            }
            "submit" => {
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
                            s.login_problem.clear();
                            s.staff = Some(session);
                            s.screen = "staff-home".into();
                        }
                        Err(ApiError::Refused { code, attempts_left, .. }) if code == "wrong_pin" => {
                            s.login_problem = code;
                            s.login_attempts_left = attempts_left.unwrap_or(0);
                        }
                        Err(ApiError::Unreachable(_)) => s.login_problem = "unreachable".into(),
                        Err(e) if e.code() == "locked_out" => s.login_problem = "locked_out".into(),
                        Err(e) if e.code() == "unknown_badge" => s.login_problem = "unknown_badge".into(),
                        Err(_) => s.login_problem = "no_badge".into(),
                    }
                });
            }
            _ => {}
        }
    }

    fn act_staff(self: &Rc<Self>, name: &str) {
        match name {
            "staff.enrol" => {
                self.state.borrow_mut().staff_card = "reading".into();
                let api = self.api.clone();
                self.call(async move { api.read_id_card().await }, |k, r| match r {
                    Ok(card) => {
                        k.state.borrow_mut().staff_card.clear();
                        k.open_form(SubmissionKind::Application, Some(card));
                    }
                    Err(e) => {
                        k.state.borrow_mut().staff_card = match e.code() {
                            code @ ("no_card" | "not_an_id_card") => code.into(),
                            _ => "failed".into(),
                        };
                    }
                });
            }
            "staff.grievance" => self.open_form(SubmissionKind::Grievance, None),
            "staff.queue" | "queue.refresh" => {
                self.state.borrow_mut().screen = "staff-queue".into();
                let api = self.api.clone();
                self.call(async move { api.queue().await }, |k, r| {
                    if let Ok(q) = r {
                        let mut s = k.state.borrow_mut();
                        s.queue_depth = q.stats.depth;
                        s.queue = Some(q);
                    }
                });
            }
            "staff.technician" => self.state.borrow_mut().screen = "technician".into(),
            "staff.logout" => self.end_session(),
            "queue.back" => self.state.borrow_mut().screen = "staff-home".into(),
            _ => {}
        }
    }

    fn act_technician(self: &Rc<Self>, name: &str, text: &str) {
        match name {
            "tech.tab" => {
                self.state.borrow_mut().tech_tab = text.to_owned();
                if text == "network" {
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
            "tech.input" => self.state.borrow_mut().tech_input = text.to_owned(),
            "tech.key" | "tech.backspace" => {
                let mut s = self.state.borrow_mut();
                let s = &mut *s;
                let target = match s.tech_input.as_str() {
                    "url" => &mut s.tech_node_url,
                    "code" => &mut s.tech_code,
                    _ => return,
                };
                if name == "tech.backspace" {
                    target.pop();
                } else if target.len() < 200 {
                    target.push_str(text);
                }
            }
            "tech.keyboard-done" => self.state.borrow_mut().tech_input.clear(),
            "tech.provision" => {
                let (url, code) = {
                    let mut s = self.state.borrow_mut();
                    s.tech_input.clear();
                    s.tech_provisioning = "busy".into();
                    (s.tech_node_url.trim().to_owned(), s.tech_code.trim().to_owned())
                };
                let api = self.api.clone();
                self.call(async move { api.provision(&url, &code).await }, |k, r| {
                    {
                        let mut s = k.state.borrow_mut();
                        match r {
                            Ok(p) => {
                                s.tech_provisioning = "done".into();
                                s.provisioned = true;
                                s.terminal = p.terminal_id;
                                s.province = p.province;
                                s.tech_code.clear();
                            }
                            Err(e) => {
                                s.tech_provisioning = "error".into();
                                s.tech_problem = e.message();
                            }
                        }
                    }
                    k.refresh_terminal();
                });
            }
            "tech.hardware" => self.state.borrow_mut().screen = "hardware".into(),
            "tech.back" => {
                let mut s = self.state.borrow_mut();
                s.tech_input.clear();
                s.screen = if s.staff.is_some() { "staff-home".into() } else { "home".into() };
            }
            "hw.back" => self.state.borrow_mut().screen = "technician".into(),
            "hw.read-card" => {
                {
                    let mut s = self.state.borrow_mut();
                    s.hw_card_state = "busy".into();
                    s.hw_busy = true;
                    s.hw_detail.clear();
                }
                let api = self.api.clone();
                self.call(async move { api.hardware_read_card().await }, |k, r| {
                    let mut s = k.state.borrow_mut();
                    s.hw_busy = false;
                    match r {
                        Ok(v) => {
                            s.hw_card_state = "ok".into();
                            s.hw_card_id = v.uid;
                        }
                        Err(e) if e.code() == "no_card" => s.hw_card_state = "none".into(),
                        Err(e) => {
                            s.hw_card_state = "error".into();
                            s.hw_detail = e.message();
                        }
                    }
                });
            }
            "hw.print-test" => {
                {
                    let mut s = self.state.borrow_mut();
                    s.hw_print_state = "busy".into();
                    s.hw_busy = true;
                    s.hw_detail.clear();
                }
                let api = self.api.clone();
                self.call(async move { api.hardware_print_test().await }, |k, r| {
                    let mut s = k.state.borrow_mut();
                    s.hw_busy = false;
                    match r {
                        Ok(_) => s.hw_print_state = "ok".into(),
                        Err(e) => {
                            s.hw_print_state = "error".into();
                            s.hw_detail = e.message();
                        }
                    }
                });
            }
            "hw.printer-status" => {
                self.state.borrow_mut().printer = "busy".into();
                let api = self.api.clone();
                self.call(async move { api.printer_status().await }, |k, r| {
                    let mut s = k.state.borrow_mut();
                    match r {
                        Ok(state) => s.printer = state.as_str().to_owned(),
                        Err(e) => {
                            s.printer = "offline".into();
                            s.hw_detail = e.message();
                        }
                    }
                });
            }
            _ => {}
        }
    }

    /// The keyboard a field gets: its script's, Kurdish for Arabic script in a Kurdish session,
    /// or the one chosen with the switch.
    fn keyboard_for(entry: Entry, language: &str, chosen: Option<&str>) -> &'static str {
        match entry {
            Entry::Digits => "digits",
            Entry::Text { latin: true } => "latin",
            _ => match chosen {
                Some("kurdish") => "kurdish",
                Some("arabic") => "arabic",
                _ if language == "ckb" => "kurdish",
                _ => "arabic",
            },
        }
    }

    /// Pushes the whole state to the window.
    pub fn render(&self) {
        let Some(ui) = self.ui.upgrade() else { return };
        let s = self.state.borrow();
        let messages = Messages::get(&ui);
        let lang = s.language.as_str();
        let clock = self.options.fixed_clock.clone().unwrap_or_else(|| chrono::Local::now().format("%H:%M").to_string());
        ui.set_screen(shared(&s.screen));
        ui.set_provisioned(s.provisioned);
        ui.set_forms_ready(s.forms.is_some());
        ui.set_status_info(StatusInfo {
            online: s.online,
            queue_depth: s.queue_depth as i32,
            printer: shared(&s.printer),
            time: shared(&clock),
            terminal: shared(&if s.province.is_empty() { s.terminal.clone() } else { format!("{} · {}", s.terminal, s.province) }),
            provisioned: s.provisioned,
        });

        // Status check.
        ui.set_status_mode(shared(&s.status_mode));
        ui.set_status_reference(shared(&s.status_reference));
        ui.set_status_reference_error(if s.status_reference_error.is_empty() {
            SharedString::new()
        } else {
            messages.invoke_problem(shared(&s.status_reference_error), SharedString::new())
        });
        ui.set_status_dob_error(if s.status_dob_error.is_empty() {
            SharedString::new()
        } else {
            messages.invoke_problem(shared(&s.status_dob_error), SharedString::new())
        });
        use chrono::Datelike;
        let dob = s.status_dob.unwrap_or_else(crate::forms::default_date);
        ui.set_status_dob_day(dob.day() as i32);
        ui.set_status_dob_month(dob.month() as i32);
        ui.set_status_dob_year(dob.year());
        ui.set_status_dob_set(s.status_dob.is_some());
        ui.set_status_result(match &s.status_result {
            Some(r) => StatusResult {
                state: shared(serde_json::to_value(r.state).ok().and_then(|v| v.as_str().map(str::to_owned)).as_deref().unwrap_or("not_found")),
                message: shared(r.message.get(lang)),
                case_number: shared(r.case_number.as_deref().unwrap_or("")),
                updated_on: shared(&r.updated_on.map(|d| d.to_string()).unwrap_or_default()),
                next_payment_on: shared(&r.next_payment_on.map(|d| d.to_string()).unwrap_or_default()),
            },
            None => StatusResult::default(),
        });
        ui.set_status_problem(messages.invoke_problem(shared(&s.status_problem), shared(&s.status_problem)));
        ui.set_status_slip(shared(&s.status_slip));

        // Form.
        if let Some(form) = &s.form {
            let def: &FormDefinition = form.form();
            ui.set_form_title(shared(def.title.get(lang)));
            ui.set_form_step_title(shared(def.steps.get(form.step).map(|st| st.title.get(lang)).unwrap_or("")));
            ui.set_form_step(form.step as i32);
            ui.set_form_step_count(form.step_count() as i32);
            let states = form.field_states(lang);
            let active = s.active_field.filter(|i| *i < states.len());
            if let Some(i) = active {
                ui.set_form_keyboard(shared(Self::keyboard_for(states[i].entry, lang, s.keyboard.as_deref())));
            }
            ui.set_form_active_field(active.map(|i| i as i32).unwrap_or(-1));
            let views: Vec<FieldView> = states
                .iter()
                .map(|f| {
                    let (code, n) = f.error.as_ref().map(|e| e.code()).unwrap_or(("", 0));
                    let server = match &f.error {
                        Some(crate::forms::FieldError::Server(m)) => m.clone(),
                        _ => String::new(),
                    };
                    let date = f.date.unwrap_or_else(crate::forms::default_date);
                    FieldView {
                        id: shared(&f.id),
                        label: shared(&f.label),
                        kind: shared(match f.entry {
                            Entry::Text { .. } => "text",
                            Entry::Digits => "digits",
                            Entry::Date => "date",
                            Entry::Choice => "choice",
                            Entry::Members => "members",
                        }),
                        keyboard: shared(Self::keyboard_for(f.entry, lang, None)),
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
            for (step, title, fields) in form.review(lang) {
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
                ui.set_receipt_kind(shared(kind.as_str()));
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
        ui.set_receipt_print(shared(&s.receipt_print));

        // Staff.
        ui.set_login_pin(shared(&s.login_pin));
        ui.set_login_problem(shared(&s.login_problem));
        ui.set_login_attempts_left(s.login_attempts_left as i32);
        ui.set_login_busy(s.login_busy);
        ui.set_staff_name(shared(s.staff.as_ref().map(|st| st.display_name.as_str()).unwrap_or("")));
        ui.set_staff_technician(s.staff.as_ref().is_some_and(|st| st.role == node_protocol::StaffRole::Technician));
        ui.set_staff_card(shared(&s.staff_card));
        if let Some(q) = &s.queue {
            ui.set_queue_depth(q.stats.depth as i32);
            ui.set_queue_oldest(shared(&q.stats.oldest_created_at.as_ref().map(short_time).unwrap_or_default()));
            ui.set_queue_delivered(q.stats.delivered as i32);
            ui.set_queue_dead(q.stats.dead_letters as i32);
            let mut lines: Vec<QueueLine> = q
                .pending
                .iter()
                .map(|p| QueueLine {
                    kind: shared(p.kind.as_str()),
                    created_at: shared(&short_time(&p.created_at)),
                    attempts: p.attempts as i32,
                    dead: false,
                    reason: SharedString::new(),
                })
                .collect();
            lines.extend(q.dead_letters.iter().map(|d| QueueLine {
                kind: shared(d.kind.as_str()),
                created_at: shared(&short_time(&d.created_at)),
                attempts: 0,
                dead: true,
                reason: shared(&d.reason),
            }));
            ui.set_queue_lines(ModelRc::new(VecModel::from(lines)));
        }

        // Technician.
        ui.set_tech_tab(shared(&s.tech_tab));
        ui.set_tech_node_url(shared(&s.tech_node_url));
        ui.set_tech_code(shared(&s.tech_code));
        ui.set_tech_input(shared(&s.tech_input));
        ui.set_tech_provisioning(shared(&s.tech_provisioning));
        ui.set_tech_problem(shared(&s.tech_problem));
        ui.set_tech_terminal_id(shared(&s.terminal));
        ui.set_tech_province(shared(&s.province));
        ui.set_tech_version(shared(&s.service_version));
        if let Some(d) = &s.diagnostics {
            ui.set_tech_sync(shared(d.sync.state.as_str()));
            let mut recent: Vec<DiagnosticLine> = Vec::new();
            if let Some(err) = &d.sync.last_error {
                recent.push(DiagnosticLine {
                    time: shared(&d.sync.last_error_at.as_ref().map(short_time).unwrap_or_default()),
                    text: shared(&format!("sync error: {err}")),
                });
            }
            recent.extend(d.audit.iter().rev().map(|a| DiagnosticLine {
                time: shared(&short_time(&a.at)),
                text: shared(&format!("{} {}", a.category.as_str(), a.action)),
            }));
            ui.set_tech_recent(ModelRc::new(VecModel::from(recent)));
        }
        ui.set_hw_card_state(shared(&s.hw_card_state));
        ui.set_hw_card_id(shared(&s.hw_card_id));
        ui.set_hw_print_state(shared(&s.hw_print_state));
        ui.set_hw_printer_state(shared(&s.printer));
        ui.set_hw_detail(shared(&s.hw_detail));
        ui.set_hw_busy(s.hw_busy);
    }
}

/// `2026-11-24T10:31:07.123Z` → `2026-11-24 10:31`.
fn short_time(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}
