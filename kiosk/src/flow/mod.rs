//! The kiosk's behaviour: what each touch does, which local API call it makes, and what the
//! screen shows afterwards.
//!
//! [`Kiosk`] lives on the UI thread. Each screen reports touches through its own global of typed
//! callbacks (`StatusActions`, `FormActions`, … declared beside the screen in `kiosk/ui/`), and
//! the window's own (idle timeout, language switch, demo keys) through `KioskActions`. One module
//! here per screen connects its callbacks (`connect`), holds what they do (methods of [`Kiosk`])
//! and pushes its part of [`State`] to the window (`render`): `language`, `home`, `status`,
//! `form` (with review and receipt; `targeting` adds the node's targeting questionnaire after an
//! application's steps), `duplicate_warning` (between review and receipt), `referral` (a
//! partner's referral, typed or scanned, before the application), `services` (the services a
//! household may use, after a status check or an application, and a referral slip to one),
//! `staff` (login, staff home, queue), `technician` and `hardware`. Every callback changes [`State`], then [`Kiosk::render`] pushes the whole state to
//! the window. Screens, modes and states are the Slint enums of `kiosk/ui/types.slint`, used here
//! as the generated Rust enums (`Screen::StaffLogin`), so a misspelt one does not compile.
//!
//! API calls run on the tokio runtime and their answers come back to the UI thread through
//! `slint::spawn_local`; an answer that arrives after the session it belongs to has ended is
//! dropped (see `generation`).
//!
//! Which language the first screen speaks after a start: with `KioskOptions::state_dir`, the
//! one that was on screen before the restart ([`RememberedLanguage`]), even if the service's
//! settings name another default, because someone may be standing in front of the screen;
//! otherwise Arabic. Once a session ends, the default language comes back (and is remembered).
//!
//! On an unprovisioned terminal the first health answer opens the technician's set-up screen
//! instead of the language screen, unless someone touched the screen before it arrived.

/// Connects callback `setter` (`on_…`) of a screen's global to the kiosk:
/// `on!(kiosk, actions, on_key, |k, text| k.status_key(&text))`. Each call is a touch: the
/// first-boot set-up screen may no longer replace the screen, and the window shows the state
/// afterwards. The kiosk is held weakly: the window must not keep it alive.
macro_rules! on {
    ($kiosk:expr, $global:expr, $setter:ident, |$k:ident $(, $arg:pat_param)*| $body:expr) => {{
        let weak = ::std::rc::Rc::downgrade($kiosk);
        $global.$setter(move |$($arg),*| {
            if let Some($k) = weak.upgrade() {
                $k.touched();
                $body;
                $k.render();
            }
        });
    }};
}

mod card_access;
mod duplicate_warning;
mod form;
mod hardware;
mod home;
mod language;
mod referral;
mod services;
mod staff;
mod status;
mod targeting;
mod technician;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::path::PathBuf;
use std::rc::Rc;

use chrono::NaiveDate;
use local_api::display::{self, Conventions};
use node_protocol::{DigitsByLanguage, StatusResponse, SubmissionKind};
use slint::{ComponentHandle, Global, SharedString};

use crate::api::{Captured, Forms, LocalApi, ServiceEvent, StaffSession};
use crate::forms::FormSession;
use crate::remembered_language::RememberedLanguage;
use crate::ui::{
    AppWindow, Connectivity, DemoCard, HardwareTest, KeyboardKind, KioskActions, LoginProblem, Messages, OverrideReason, PrintJob, PrinterState,
    Provisioning, Screen, Session, StaffCardRead, StatusInfo, StatusMode, TechInput, TechTab, Theme,
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
pub const DEMO_CARDS: [(DemoCard, &str); 3] =
    [(DemoCard::Staff, "04A1B2C3D4E580"), (DemoCard::Technician, "04112233445566"), (DemoCard::Applicant, "08A1B2C3")];

/// What the demo's applicant ID card holds: a sample applicant the reference node knows
/// (national ID number, date of birth).
pub const DEMO_ID_CARD: (&str, &str) = ("199001234567", "1985-03-14");

/// Everything the screens show. Applicant data lives here only, and only for one session.
/// The default is the state of a fresh start: the language screen, nothing typed.
#[derive(Debug, Default)]
pub struct State {
    /// `ar`, `ckb` or `en`.
    pub language: String,
    /// The digits each language shows dates and numbers in (the node's configuration).
    pub digits: DigitsByLanguage,
    /// Language a new session starts in.
    pub default_language: String,
    /// Current screen.
    pub screen: Screen,
    /// Bumped when a session ends; answers for an older one are dropped.
    pub generation: u64,

    /// From `/v1/health` and events.
    pub connectivity: Connectivity,
    /// Unsent submissions.
    pub queue_depth: u64,
    /// The receipt printer.
    pub printer: PrinterState,
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
    pub status_mode: StatusMode,
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
    pub status_slip: PrintJob,

    /// Which ID card the terminal reads (`GET /v1/kiosk`): with `emrtd` a card read asks for
    /// the card access number first.
    pub id_card_profile: crate::api::IdCardProfile,
    /// The card access screen.
    pub card_access: card_access::CardAccessState,
    /// Seconds the staff badge had to come back after the last card read; 0 once a card
    /// (the badge) is back on the reader.
    pub badge_return_s: u64,

    /// The form being filled in.
    pub form: Option<FormSession>,
    /// The targeting questionnaire asked after the application (see `targeting`).
    pub targeting: targeting::Questionnaire,
    /// Its field with the keyboard.
    pub active_field: Option<usize>,
    /// Keyboard chosen with the Arabic ⇄ Kurdish switch.
    pub keyboard: Option<KeyboardKind>,
    /// Problem shown above the form.
    pub form_problem: String,
    /// Submitting.
    pub review_busy: bool,
    /// Problem shown on review.
    pub review_problem: String,
    /// The early duplicate warning is being asked.
    pub precheck_busy: bool,
    /// Its answer, for the application on screen.
    pub precheck: Option<crate::api::Precheck>,
    /// The reason staff chose to submit despite the warning.
    pub override_reason: OverrideReason,
    /// Problem shown on the warning screen (a submission that failed from there).
    pub duplicate_problem: String,
    /// A barcode scanner is configured (`GET /v1/kiosk`): the referral screen offers the QR.
    pub scanner: bool,
    /// The referral screen.
    pub referral: referral::ReferralState,
    /// The referral the application being filled in comes with.
    pub taken_referral: Option<referral::TakenReferral>,
    /// The last capture.
    pub captured: Option<(SubmissionKind, Captured)>,
    /// The governorate and district the last application gave, for its services.
    pub household_area: Option<local_api::ServicesQuery>,
    /// The services screen.
    pub services: services::ServicesState,
    /// Receipt printing.
    pub receipt_print: PrintJob,

    /// PIN typed.
    pub login_pin: String,
    /// Why the last login did not go through.
    pub login_problem: LoginProblem,
    /// From `wrong_pin`.
    pub login_attempts_left: u32,
    /// Login in flight.
    pub login_busy: bool,
    /// The staff member logged in.
    pub staff: Option<StaffSession>,
    /// ID-card read for assisted enrollment.
    pub staff_card: StaffCardRead,
    /// Queue view.
    pub queue: Option<crate::api::Queue>,

    /// Technician tab.
    pub tech_tab: TechTab,
    /// Node URL typed.
    pub tech_node_url: String,
    /// Enrollment code typed.
    pub tech_code: String,
    /// Which of the two has the keyboard.
    pub tech_input: TechInput,
    /// Provisioning state.
    pub tech_provisioning: Provisioning,
    /// Provisioning problem (technical, from the service).
    pub tech_problem: String,
    /// Sync state and recent events.
    pub diagnostics: Option<crate::api::Diagnostics>,
    /// Hardware tests.
    pub hw_card_state: HardwareTest,
    /// Card id read by the test.
    pub hw_card_id: String,
    /// Print test.
    pub hw_print_state: HardwareTest,
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

/// The local API's printer state as the screens show it (`Unknown` is the kiosk's own: nothing
/// heard yet).
fn printer_state(state: local_api::PrinterState) -> PrinterState {
    match state {
        local_api::PrinterState::Ok => PrinterState::Ok,
        local_api::PrinterState::PaperLow => PrinterState::PaperLow,
        local_api::PrinterState::PaperOut => PrinterState::PaperOut,
        local_api::PrinterState::CoverOpen => PrinterState::CoverOpen,
        local_api::PrinterState::Offline => PrinterState::Offline,
        local_api::PrinterState::Absent => PrinterState::Absent,
    }
}

/// The local API's connectivity as the status bar shows it.
fn connectivity(state: local_api::ConnectivityState) -> Connectivity {
    match state {
        local_api::ConnectivityState::Online => Connectivity::Online,
        local_api::ConnectivityState::Offline => Connectivity::Offline,
    }
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
                provisioned: true,
                ..State::default()
            }),
            clock: RefCell::new(None),
            remembered_language: RefCell::new(remembered_language),
            setup_on_first_health: Cell::new(true),
        });
        kiosk.connect_window(ui);
        language::connect(ui, &kiosk);
        home::connect(ui, &kiosk);
        status::connect(ui, &kiosk);
        card_access::connect(ui, &kiosk);
        form::connect(ui, &kiosk);
        referral::connect(ui, &kiosk);
        services::connect(ui, &kiosk);
        duplicate_warning::connect(ui, &kiosk);
        staff::connect(ui, &kiosk);
        technician::connect(ui, &kiosk);
        hardware::connect(ui, &kiosk);
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

    /// What the window reports whatever the screen: the idle timeout, the status bar's language
    /// switch, the demo keys.
    fn connect_window(self: &Rc<Self>, ui: &AppWindow) {
        let actions = ui.global::<KioskActions>();
        on!(self, actions, on_idle_expired, |k| k.end_session());
        on!(self, actions, on_language_chosen, |k, code| k.set_language(&code));
        on!(self, actions, on_demo_card, |k, card| k.demo_card(card));
    }

    /// Someone is using the screen: the first-boot set-up screen must not replace theirs.
    fn touched(&self) {
        self.setup_on_first_health.set(false);
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
                        if k.setup_on_first_health.replace(false) && !h.provisioned && s.screen == Screen::Language {
                            s.screen = Screen::Technician;
                            s.tech_tab = TechTab::Setup;
                        }
                        s.connectivity = connectivity(h.connectivity.state);
                        s.queue_depth = h.queue.depth;
                        s.provisioned = h.provisioned;
                        s.terminal = h.terminal_id.clone().unwrap_or_default();
                        s.province = h.province.unwrap_or_default();
                        s.service_version = h.version;
                    }
                    Err(e) => {
                        s.connectivity = Connectivity::Offline;
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
                    s.digits = settings.digits;
                    s.id_card_profile = settings.id_card_profile;
                    s.scanner = settings.scanner;
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
        let mut scanned = None;
        {
            let mut s = self.state.borrow_mut();
            match event {
                ServiceEvent::Queue(queue) => s.queue_depth = queue.depth,
                ServiceEvent::Connectivity(c) => s.connectivity = connectivity(c.state),
                ServiceEvent::Printer(printer) => s.printer = printer_state(printer.state),
                ServiceEvent::Session(session) => end = session.state == local_api::SessionState::Ended && s.staff.is_some(),
                // An applicant who taps their card while being asked how to identify
                // themselves has answered the question.
                ServiceEvent::Card(card) => {
                    read_card = card.state == local_api::CardState::Present && s.screen == Screen::Status && s.status_mode == StatusMode::Choose;
                    // The staff badge back on the reader after the applicant's card.
                    if card.state == local_api::CardState::Present && s.staff.is_some() {
                        s.badge_return_s = 0;
                    }
                }
                ServiceEvent::Submission(_) => {}
                // A referral slip's QR code under the scanner; only the referral screen takes it
                // (opened for it from the home screen).
                ServiceEvent::Scan(scan) => scanned = Some(scan),
            }
        }
        if let Some(scan) = scanned {
            self.referral_scanned(scan);
        }
        if end {
            self.end_session();
        } else if read_card {
            self.status_use_card();
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
            let screen = if s.provisioned { Screen::Language } else { Screen::Technician };
            let keep = State {
                language: s.default_language.clone(),
                default_language: s.default_language.clone(),
                screen,
                generation: s.generation + 1,
                connectivity: s.connectivity,
                queue_depth: s.queue_depth,
                printer: s.printer,
                terminal: std::mem::take(&mut s.terminal),
                provisioned: s.provisioned,
                service_version: std::mem::take(&mut s.service_version),
                province: std::mem::take(&mut s.province),
                forms: s.forms.take(),
                id_card_profile: s.id_card_profile,
                scanner: s.scanner,
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

    /// Demo only: puts a simulated card on the reader (or takes it off).
    fn demo_card(self: &Rc<Self>, card: DemoCard) {
        if !self.options.demo_keys {
            return;
        }
        let api = self.api.clone();
        let uid = DEMO_CARDS.iter().find(|(c, _)| *c == card).map(|(_, uid)| (*uid).to_owned());
        self.call(
            async move {
                match (card, uid) {
                    (DemoCard::Applicant, Some(uid)) => api.simulator_present_id_card(&uid, DEMO_ID_CARD.0, DEMO_ID_CARD.1).await,
                    (_, Some(uid)) => api.simulator_present_card(&uid).await,
                    (_, None) => api.simulator_remove_card().await,
                }
            },
            |_, r| {
                if let Err(e) = r {
                    eprintln!("kiosk: demo card: {e}");
                }
            },
        );
    }

    /// Pushes the whole state to the window: the screen, the status bar, then each screen's part.
    pub fn render(&self) {
        let Some(ui) = self.ui.upgrade() else { return };
        let s = self.state.borrow();
        let messages = Messages::get(&ui);
        let clock = self.options.fixed_clock.clone().unwrap_or_else(|| chrono::Local::now().format("%H:%M").to_string());
        ui.set_screen(s.screen);
        ui.set_provisioned(s.provisioned);
        ui.set_forms_ready(s.forms.is_some());
        ui.set_status_info(StatusInfo {
            connectivity: s.connectivity,
            queue_depth: s.queue_depth as i32,
            printer: s.printer,
            time: shared(&clock),
            terminal: shared(&if s.province.is_empty() { s.terminal.clone() } else { format!("{} · {}", s.terminal, s.province) }),
            provisioned: s.provisioned,
        });
        status::render(&ui, &s, &messages);
        card_access::render(&ui, &s, &messages);
        form::render(&ui, &s, &messages);
        referral::render(&ui, &s);
        services::render(&ui, &s);
        duplicate_warning::render(&ui, &s, &messages);
        staff::render(&ui, &s);
        technician::render(&ui, &s);
        hardware::render(&ui, &s);
    }
}

impl State {
    /// How the language on screen shows dates and numbers.
    pub fn conventions(&self) -> Conventions {
        Conventions::for_language(&self.digits, &self.language)
    }
}

/// `2026-11-24T10:31:07.123Z` → `24/11/2026 13:31` (Iraq's time), as `conventions` write it.
fn short_time(at: &chrono::DateTime<chrono::Utc>, conventions: Conventions) -> String {
    conventions.date_time(&at.with_timezone(&display::iraq_time()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values of `enum: [...]` on the first line after `after` in the local API's OpenAPI
    /// document, so the mappings are checked against the contract, not against a copy of it.
    pub(super) fn openapi_enum(after: &str) -> Vec<String> {
        let doc = include_str!("../../../terminal-service/openapi/local-v1.yaml");
        let start = doc.find(after).unwrap_or_else(|| panic!("{after} is in local-v1.yaml"));
        let list = doc[start..].split("enum: [").nth(1).and_then(|l| l.split(']').next()).expect("an enum list");
        list.split(',').map(|v| v.trim().to_owned()).collect()
    }

    #[test]
    fn every_printer_state_of_the_local_api_has_its_own_value() {
        let states = openapi_enum("    PrinterState:");
        assert_eq!(states.len(), 6, "{states:?}");
        let mapped: Vec<PrinterState> = states.iter().map(|s| printer_state(from_wire(s))).collect();
        for (i, state) in mapped.iter().enumerate() {
            assert!(!matches!(state, PrinterState::Unknown | PrinterState::Testing), "{} reads as {state:?}", states[i]);
            assert!(!mapped[..i].contains(state), "{} reads as another state's {state:?}", states[i]);
        }
    }

    /// A value of a local-api enum from its name in the document.
    pub(super) fn from_wire<T: serde::de::DeserializeOwned>(name: &str) -> T {
        serde_json::from_value(serde_json::Value::String(name.to_owned())).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn connectivity_follows_the_local_api() {
        let states = openapi_enum("    Connectivity:");
        assert_eq!(states, ["online", "offline"]);
        assert_eq!(connectivity(from_wire("online")), Connectivity::Online);
        assert_eq!(connectivity(from_wire("offline")), Connectivity::Offline);
    }
}
