//! Services you may use (issue 14, referrals out): "Services you may use" on the status check's
//! answer and on an application's receipt opens the list of services beyond cash near the
//! household, from the terminal's copy of the node's service directory
//! (`GET /v1/services`, which works offline): after an application, those of the governorate
//! and district it gave; after a status check, those of the terminal's province. Each is shown
//! in the language on screen, grouped by category in the directory's order.
//!
//! Tapping a service shows it large with "Print a referral slip" (`POST /v1/referral-slips`):
//! the slip carries the household's reference (the application's, or the reference or case
//! number of the status check) and a QR code signed by the terminal, which the service checks
//! offline. A refusal is said in words that say what to do (`SlipWords` in
//! `ui/services.slint`). Back goes from a service to the list, and from the list to the screen
//! the household came from, whatever happened (also when the terminal has no directory yet).

use std::rc::Rc;

use local_api::{ReferralSlipRequest, ServiceList, ServicesQuery};
use node_protocol::service_directory::{Service, ServiceCategory};
use node_protocol::MasterData;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use uuid::Uuid;

use super::{shared, Kiosk, State};
use crate::ui::{AppWindow, PrintJob, Screen, ServiceIcon, ServiceLine, ServicesActions, ServicesMode, SlipProblem};

/// The household's reference a slip carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SlipReference {
    /// None known (an offline status check by card).
    #[default]
    None,
    /// The application captured on this terminal (the service prints its short reference).
    Submission(Uuid),
    /// A receipt's reference, or the node's case number, from a status check.
    Reference(String),
}

/// The services screen.
#[derive(Debug, Default)]
pub struct ServicesState {
    /// Loading, the list, one service, or why there is no list.
    pub mode: ServicesMode,
    /// The place asked for.
    pub query: ServicesQuery,
    /// The answer.
    pub list: Option<ServiceList>,
    /// The id of the service on screen (mode `service`).
    pub chosen: Option<String>,
    /// Its slip.
    pub slip: PrintJob,
    /// Why the slip was not printed.
    pub slip_problem: SlipProblem,
    /// The reference the slip carries.
    pub reference: SlipReference,
    /// Where Back leads from the list.
    pub came_from: Screen,
}

/// One line of the list: a category heading or a service.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Entry<'a> {
    Category(&'a ServiceCategory),
    Service(&'a Service),
}

/// The list's lines: each category of the answer in its order, with its services under it;
/// a service of a category the answer does not name comes last, under no heading.
fn entries(list: &ServiceList) -> Vec<Entry<'_>> {
    let mut out = Vec::with_capacity(list.categories.len() + list.services.len());
    for category in &list.categories {
        out.push(Entry::Category(category));
        out.extend(list.services.iter().filter(|s| s.category == category.id).map(Entry::Service));
    }
    out.extend(list.services.iter().filter(|s| !list.categories.iter().any(|c| c.id == s.category)).map(Entry::Service));
    out
}

/// The mark of a category: the sample directory's ids, and words that say the same.
fn icon(category: &str) -> ServiceIcon {
    match category {
        "health" | "medical" | "nutrition" => ServiceIcon::Health,
        "education" | "school" | "schooling" => ServiceIcon::Education,
        "employment" | "work" | "livelihoods" | "vocational_training" => ServiceIcon::Employment,
        "legal_aid" | "legal" | "documentation" | "civil_documentation" => ServiceIcon::LegalAid,
        _ => ServiceIcon::Other,
    }
}

/// The governorate and district an application gave (codes of the master data), as the
/// services of its area are asked for.
pub fn area_of(answers: &serde_json::Map<String, serde_json::Value>) -> ServicesQuery {
    let code = |id: &str| answers.get(id).and_then(|v| v.as_str()).map(str::to_owned).filter(|v| !v.is_empty());
    let governorate = code("governorate");
    // A district means something only within its governorate.
    let district = governorate.as_ref().and(code("district"));
    ServicesQuery { governorate, district }
}

/// How a refusal of `POST /v1/referral-slips` is told.
pub fn slip_problem(code: &str) -> SlipProblem {
    match code {
        "unknown_service" => SlipProblem::UnknownService,
        "unknown_submission" => SlipProblem::UnknownSubmission,
        "printer_not_ready" => SlipProblem::PrinterNotReady,
        "clock_not_set" => SlipProblem::ClockNotSet,
        "slip_certificate_missing" => SlipProblem::CertificateMissing,
        "slip_certificate_expired" => SlipProblem::CertificateExpired,
        "service_directory_unavailable" => SlipProblem::DirectoryUnavailable,
        "unreachable" => SlipProblem::Unreachable,
        _ => SlipProblem::Other,
    }
}

/// "Baghdad, Resafa": the place of the list in `language`, from the master data.
fn area_name(list: &ServiceList, master: Option<&MasterData>, language: &str) -> String {
    let Some(governorate) = master.and_then(|m| m.governorates.iter().find(|g| g.code == list.governorate)) else {
        return list.governorate.clone();
    };
    let district = list.district.as_ref().and_then(|d| governorate.districts.iter().find(|k| &k.code == d));
    match district {
        // The Arabic comma in Arabic script.
        Some(d) => format!("{}{} {}", governorate.name.get(language), if language == "en" { "," } else { "،" }, d.name.get(language)),
        None => governorate.name.get(language).to_owned(),
    }
}

pub(super) fn connect(ui: &AppWindow, kiosk: &Rc<Kiosk>) {
    let actions = ui.global::<ServicesActions>();
    on!(kiosk, actions, on_choose, |k, line| k.services_choose(line));
    on!(kiosk, actions, on_print_slip, |k| k.services_print_slip());
    on!(kiosk, actions, on_back, |k| k.services_back());
}

impl Kiosk {
    /// Opens the list of services for `query`'s area, whose slips carry `reference`; Back
    /// leads to the screen on display now.
    pub(super) fn open_services(self: &Rc<Self>, query: ServicesQuery, reference: SlipReference) {
        {
            let mut s = self.state.borrow_mut();
            let came_from = s.screen;
            s.services = ServicesState { query: query.clone(), reference, came_from, ..ServicesState::default() };
            s.screen = Screen::Services;
        }
        let api = self.api.clone();
        self.call(async move { api.services(&query).await }, |k, answer| {
            let mut s = k.state.borrow_mut();
            if s.screen != Screen::Services || s.services.mode != ServicesMode::Loading {
                return;
            }
            match answer {
                Ok(list) => {
                    s.services.list = Some(list);
                    s.services.mode = ServicesMode::List;
                }
                Err(e) if e.code() == "service_directory_unavailable" => s.services.mode = ServicesMode::Unavailable,
                Err(e) => {
                    eprintln!("kiosk: services: {e}");
                    s.services.mode = ServicesMode::Failed;
                }
            }
        });
    }

    /// From the status check's answer: the terminal's province, the reference typed or the
    /// node's case number.
    pub(super) fn open_services_after_status(self: &Rc<Self>) {
        let reference = {
            let s = self.state.borrow();
            let case = s.status_result.as_ref().and_then(|r| r.case_number.clone());
            match (s.status_checked_reference.is_empty(), case) {
                (false, _) => SlipReference::Reference(s.status_checked_reference.clone()),
                (true, Some(case)) => SlipReference::Reference(case),
                (true, None) => SlipReference::None,
            }
        };
        self.open_services(ServicesQuery::default(), reference);
    }

    /// From an application's receipt: the area it gave, its own reference.
    pub(super) fn open_services_after_application(self: &Rc<Self>) {
        let (query, reference) = {
            let s = self.state.borrow();
            let Some((_, captured)) = &s.captured else { return };
            (s.household_area.clone().unwrap_or_default(), SlipReference::Submission(captured.id))
        };
        self.open_services(query, reference);
    }

    fn services_choose(&self, line: i32) {
        let mut s = self.state.borrow_mut();
        let s = &mut *s;
        if s.services.mode != ServicesMode::List {
            return;
        }
        let Some(list) = &s.services.list else { return };
        let entry = usize::try_from(line).ok().and_then(|i| entries(list).get(i).copied());
        if let Some(Entry::Service(service)) = entry {
            s.services.chosen = Some(service.id.clone());
            s.services.slip = PrintJob::None;
            s.services.slip_problem = SlipProblem::None;
            s.services.mode = ServicesMode::Service;
        }
    }

    fn services_print_slip(self: &Rc<Self>) {
        let request = {
            let mut s = self.state.borrow_mut();
            let language = s.language.clone();
            let v = &mut s.services;
            let Some(service_id) = v.chosen.clone().filter(|_| v.mode == ServicesMode::Service && v.slip != PrintJob::Printing) else { return };
            v.slip = PrintJob::Printing;
            v.slip_problem = SlipProblem::None;
            let (submission_id, reference) = match &v.reference {
                SlipReference::None => (None, None),
                SlipReference::Submission(id) => (Some(*id), None),
                SlipReference::Reference(r) => (None, Some(r.clone())),
            };
            ReferralSlipRequest { service_id, language, submission_id, reference }
        };
        let api = self.api.clone();
        let service_id = request.service_id.clone();
        self.call(async move { api.print_referral_slip(&request).await }, move |k, printed| {
            let mut s = k.state.borrow_mut();
            let v = &mut s.services;
            // Gone back to the list meanwhile: the slip still printed, nothing to show.
            if v.mode != ServicesMode::Service || v.chosen.as_deref() != Some(service_id.as_str()) {
                return;
            }
            match printed {
                Ok(_) => v.slip = PrintJob::Printed,
                Err(e) => {
                    eprintln!("kiosk: referral slip: {e}");
                    v.slip = PrintJob::Failed;
                    v.slip_problem = slip_problem(e.code());
                }
            }
        });
    }

    fn services_back(&self) {
        let mut s = self.state.borrow_mut();
        if s.services.mode == ServicesMode::Service {
            s.services.mode = ServicesMode::List;
            s.services.chosen = None;
            return;
        }
        s.screen = s.services.came_from;
        s.services = ServicesState::default();
    }
}

/// Left-to-right mark: a strong left-to-right character of no width.
const LRM: char = '\u{200E}';

/// A phone number in the language's digits, laid out left to right as one unit inside Arabic
/// or Kurdish text: `+964 770 000 0101`, not `0101 000 770 964+`. Slint's text layout ignores
/// the isolates of `local_api::display::isolate` (kept for renderers that honour them), so each
/// separator is held between marks that make it, and the groups around it, left to right
/// (Western digits after a mark read left to right; Eastern ones need the mark on both sides of
/// every space).
fn phone_shown(phone: &str, conventions: local_api::display::Conventions) -> String {
    let mut out = String::with_capacity(phone.len() * 3);
    out.push(LRM);
    for c in conventions.digits(phone).chars() {
        if c == ' ' || c == '-' {
            out.extend([LRM, c, LRM]);
        } else {
            out.push(c);
        }
    }
    local_api::display::isolate(&out)
}

/// A service as the screen shows it, in `language`.
fn line_of(service: &Service, s: &State) -> ServiceLine {
    let lang = s.language.as_str();
    ServiceLine {
        heading: false,
        icon: icon(&service.category),
        name: shared(service.name.get(lang)),
        eligibility: shared(service.eligibility.get(lang)),
        address: shared(service.address.get(lang)),
        hours: shared(service.hours.get(lang)),
        phone: shared(&phone_shown(&service.phone, s.conventions())),
    }
}

pub(super) fn render(ui: &AppWindow, s: &State) {
    let v = &s.services;
    let lang = s.language.as_str();
    ui.set_services_mode(v.mode);
    ui.set_services_slip(v.slip);
    ui.set_services_slip_problem(v.slip_problem);
    let Some(list) = v.list.as_ref().filter(|_| s.screen == Screen::Services) else {
        ui.set_services_lines(ModelRc::default());
        ui.set_services_area(SharedString::new());
        ui.set_services_chosen(ServiceLine::default());
        ui.set_services_chosen_category(SharedString::new());
        return;
    };
    let lines: Vec<ServiceLine> = entries(list)
        .into_iter()
        .map(|e| match e {
            Entry::Category(c) => ServiceLine { heading: true, icon: icon(&c.id), name: shared(c.name.get(lang)), ..ServiceLine::default() },
            Entry::Service(service) => line_of(service, s),
        })
        .collect();
    ui.set_services_lines(ModelRc::new(VecModel::from(lines)));
    ui.set_services_area(shared(&area_name(list, s.forms.as_ref().map(|f| &f.master_data), lang)));
    let chosen = v.chosen.as_ref().and_then(|id| list.services.iter().find(|x| &x.id == id));
    ui.set_services_chosen(chosen.map(|c| line_of(c, s)).unwrap_or_default());
    let category = chosen.and_then(|c| list.categories.iter().find(|k| k.id == c.category));
    ui.set_services_chosen_category(category.map(|c| shared(c.name.get(lang))).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use node_protocol::LocalizedText;

    fn service(id: &str, category: &str) -> Service {
        let t = LocalizedText::new(id, id, id);
        Service {
            id: id.into(),
            category: category.into(),
            governorate: "BGD".into(),
            district: None,
            name: t.clone(),
            eligibility: t.clone(),
            address: t.clone(),
            hours: t,
            phone: "+964 770 000 0101".into(),
        }
    }

    #[test]
    fn services_come_under_their_category_in_the_directorys_order() {
        let category = |id: &str| ServiceCategory { id: id.into(), name: LocalizedText::new(id, id, id) };
        let list = ServiceList {
            version: "v".into(),
            governorate: "BGD".into(),
            district: None,
            categories: vec![category("legal_aid"), category("health")],
            services: vec![service("H-1", "health"), service("L-1", "legal_aid"), service("X-1", "unlisted"), service("H-2", "health")],
        };
        let names: Vec<String> = entries(&list)
            .iter()
            .map(|e| match e {
                Entry::Category(c) => format!("[{}]", c.id),
                Entry::Service(s) => s.id.clone(),
            })
            .collect();
        assert_eq!(names, ["[legal_aid]", "L-1", "[health]", "H-1", "H-2", "X-1"]);
    }

    #[test]
    fn every_refusal_of_a_slip_in_the_contract_has_its_own_words() {
        let doc = include_str!("../../../terminal-service/openapi/local-v1.yaml");
        let section = &doc[doc.find("  /v1/referral-slips:").expect("the slip's path")..];
        let section = &section[..section.find("\n  /v1/hardware:").expect("the next path")];
        let codes = ["unknown_service", "unknown_submission", "printer_not_ready", "clock_not_set", "slip_certificate_missing", "slip_certificate_expired", "service_directory_unavailable"];
        let words: Vec<SlipProblem> = codes.iter().map(|c| slip_problem(c)).collect();
        for (i, w) in words.iter().enumerate() {
            assert!(section.contains(&format!("`{}`", codes[i])), "{} is a refusal of POST /v1/referral-slips in local-v1.yaml", codes[i]);
            assert!(!matches!(w, SlipProblem::None | SlipProblem::Other), "{} has no words of its own", codes[i]);
            assert!(!words[..i].contains(w), "{} reads as another refusal's {w:?}", codes[i]);
        }
    }

    #[test]
    fn a_phone_number_is_one_left_to_right_unit_in_the_languages_digits() {
        let shown = |digits: &str| {
            let table: node_protocol::DigitsByLanguage = serde_json::from_value(serde_json::json!({ "ar": digits })).expect("digits");
            phone_shown("+964 770-0101", local_api::display::Conventions::for_language(&table, "ar"))
        };
        assert_eq!(shown("western"), "\u{2066}\u{200E}+964\u{200E} \u{200E}770\u{200E}-\u{200E}0101\u{2069}");
        assert_eq!(local_api::display::without_isolates(&shown("eastern")).replace(LRM, ""), "+٩٦٤ ٧٧٠-٠١٠١");
    }

    #[test]
    fn the_area_of_an_application_is_its_governorate_and_district() {
        let answers = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(
            area_of(&answers(serde_json::json!({"governorate": "BGD", "district": "RSF", "phone": "0770"}))),
            ServicesQuery { governorate: Some("BGD".into()), district: Some("RSF".into()) }
        );
        assert_eq!(area_of(&answers(serde_json::json!({"district": "RSF"}))), ServicesQuery::default(), "a district alone names no place");
    }
}
