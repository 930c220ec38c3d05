//! The kiosk on every common Raspberry Pi display: the 7" Touch Display (800×480), the 7" Touch
//! Display 2 in portrait (720×1280), a 10.1" 1280×800 panel and a 15.6" 1920×1080 one, each at
//! the scale factor that makes `1mm` a millimetre on its glass (`kiosk::panel`).
//!
//! For each panel and language it walks the main screens (language, home, status check with the
//! reference keyboard, a form step with the Arabic-script keyboard, review, the early duplicate
//! warning as an applicant and as staff see it, receipt, the services the household may use (a
//! list longer than the panel, at its top and scrolled to its end, and one service with its
//! printed referral slip), staff login with the PIN pad) and, on a
//! terminal that reads the national ID card's chip (`id_card_profile = "emrtd"`), the card-access
//! screen (the access number on the digit pad, its refusal, and staff's MRZ key: document number,
//! then dates), and checks that every touchable element (accessible role button or text
//! input) is at least 9 mm both ways on the glass, lies inside the window and overlaps no other.
//! On the panels other than 1280×800 (whose full set `tests/screenshots.rs` keeps) it also
//! compares these screens with `tests/screenshots/<W>x<H>/<lang>/<screen>.png`
//! (`KIOSK_UPDATE_SCREENSHOTS=1` rewrites them).

mod common;

use common::shots::Shots;
use common::{fill_application, test_options, tr, Harness};
use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery};
use kiosk::panel::{Panel, KNOWN_PANELS};
use kiosk::ui::{PrintJob, Screen, ServicesMode};
use slint::ComponentHandle;

/// The smallest touch target, in millimetres on the glass.
const TOUCH_MIN_MM: f32 = 9.0;

/// A touchable element as the checks see it: label and rectangle in logical pixels.
struct Target {
    label: String,
    x: f32,
    y: f32,
    w: f32,
    h: f32,
    /// Partly scrolled out of its list: its size is not checked, its place is.
    partly_hidden: bool,
}

/// Scrolling lists (Flickables) clip what they hold: the part of an element that has scrolled
/// past a list's edge is neither shown nor touchable, so it is cut off before the checks.
fn clip_to_lists(h: &Harness, found: &mut [Target]) {
    let lists: Vec<(f32, f32, f32, f32)> = ElementHandle::find_by_element_type_name(&h.ui, "Flickable")
        .map(|e| (e.absolute_position(), e.size()))
        .map(|(p, s)| (p.x, p.y, p.x + s.width, p.y + s.height))
        .collect();
    for t in found.iter_mut() {
        let inside = lists.iter().find(|(x0, y0, x1, y1)| t.x >= *x0 - 0.5 && t.x + t.w <= *x1 + 0.5 && t.y < *y1 && t.y + t.h > *y0);
        if let Some((_, y0, _, y1)) = inside {
            let (top, bottom) = (t.y.max(*y0), (t.y + t.h).min(*y1));
            // A sliver at the edge is still to be scrolled into view, not a target to measure.
            if bottom - top < t.h {
                t.h = bottom - top;
                t.y = top;
                t.partly_hidden = true;
            }
        }
    }
}

fn targets(h: &Harness) -> Vec<Target> {
    let mut found = Vec::new();
    for role in [AccessibleRole::Button, AccessibleRole::TextInput] {
        let elements: Vec<ElementHandle> = ElementQuery::from_root(&h.ui).match_descendants().match_accessible_role(role).find_all();
        for e in elements {
            let (p, s) = (e.absolute_position(), e.size());
            if s.width <= 0.0 || s.height <= 0.0 || e.computed_opacity() == 0.0 {
                continue;
            }
            let label = e.accessible_label().map(|l| l.to_string()).unwrap_or_default();
            let t = Target { label, x: p.x, y: p.y, w: s.width, h: s.height, partly_hidden: false };
            // One item stands for several elements where a component's root and its use merge
            // (`KioskButton { … }`): the query returns it once per element.
            if !found.iter().any(|f: &Target| f.label == t.label && (f.x, f.y, f.w, f.h) == (t.x, t.y, t.w, t.h)) {
                found.push(t);
            }
        }
    }
    clip_to_lists(h, &mut found);
    found
}

/// Checks the screen on display; what is wrong goes into `problems`.
fn check(h: &Harness, panel: &Panel, what: &str, problems: &mut Vec<String>) {
    h.pump();
    // As a frame on the panel would: pending `changed` handlers run before rendering.
    h.ui.window().take_snapshot().expect("the window renders");
    let scale = h.ui.window().scale_factor();
    let (per_mm_x, per_mm_y) = panel.px_per_mm();
    let size = h.ui.window().size();
    let (width, height) = (size.width as f32 / scale, size.height as f32 / scale);
    let found = targets(h);
    let before = problems.len();
    assert!(!found.is_empty(), "{what}: no touchable element found");
    for t in &found {
        let (w_mm, h_mm) = (t.w * scale / per_mm_x, t.h * scale / per_mm_y);
        if !t.partly_hidden && (w_mm < TOUCH_MIN_MM - 0.01 || h_mm < TOUCH_MIN_MM - 0.01) {
            problems.push(format!("{what}: {:?} is {w_mm:.1} × {h_mm:.1} mm", t.label));
        }
        let slack = 0.5;
        if t.x < -slack || t.y < -slack || t.x + t.w > width + slack || t.y + t.h > height + slack {
            problems.push(format!(
                "{what}: {:?} at {:.0},{:.0} ({:.0} × {:.0}) lies outside the {width:.0} × {height:.0} window",
                t.label, t.x, t.y, t.w, t.h
            ));
        }
    }
    for (i, a) in found.iter().enumerate() {
        for b in &found[i + 1..] {
            let overlap_w = (a.x + a.w).min(b.x + b.w) - a.x.max(b.x);
            let overlap_h = (a.y + a.h).min(b.y + b.h) - a.y.max(b.y);
            if overlap_w > 1.0 && overlap_h > 1.0 {
                problems.push(format!("{what}: {:?} and {:?} overlap", a.label, b.label));
            }
        }
    }
    if problems.len() > before {
        let name: String = what.chars().map(|c| if c.is_alphanumeric() { c } else { '-' }).collect();
        problems.push(format!("{what}: render in {}", h.save_render(&format!("displays/{name}"))));
    }
}

/// Text typed into Arabic-script fields, in the keyboard of each language.
fn sample_name(language: &str) -> (&'static str, &'static str) {
    match language {
        "ckb" => ("ڕێژنە", "ئاڵۆز"),
        _ => ("زينب", "علي حسن"),
    }
}

/// Walks the main screens in `lang`, calling `at` on each.
fn walk(h: &Harness, lang: &str, at: &mut dyn FnMut(&Harness, &str)) {
    h.tap(match lang {
        "ar" => "عربي",
        "ckb" => "کوردی",
        _ => "English",
    });
    at(h, "language");
    h.choose_language(lang);
    at(h, "home");

    h.tap_tr("Check my status");
    h.tap_tr("Type my reference number");
    h.type_keys("7K2QXM4B");
    at(h, "status-reference");
    h.tap_tr("Back");
    h.tap_tr("Back");

    h.tap_tr("I have a referral");
    h.type_keys("WFP-79E");
    at(h, "referral");
    h.tap_tr("Back");

    h.tap_tr("Apply for support");
    let form = provincial_node::forms::application();
    let label = |step: usize, id: &str| form.steps[step].fields.iter().find(|f| f.id == id).map(|f| f.label.get(lang).to_owned()).unwrap_or_default();
    let (name, relative) = sample_name(lang);
    h.tap(&label(0, "national_id"));
    h.type_keys("199012345678");
    h.tap_tr("Done");
    h.tap(&label(0, "first_name"));
    h.type_keys(name);
    at(h, "form-typing");
    h.tap_tr("Done");
    for id in ["father_name", "grandfather_name", "mother_name"] {
        h.tap(&label(0, id));
        h.type_keys(relative);
        h.tap_tr("Done");
    }
    h.tap(&format!("{} -10", tr(lang, "Year")));
    h.tap(form.steps[0].fields[7].options[0].label.get(lang));
    h.tap_tr("Next");
    let master = provincial_node::geography::master_data();
    h.tap(master.governorates[0].name.get(lang));
    h.tap(master.governorates[0].districts[1].name.get(lang));
    h.tap(&label(1, "phone"));
    h.type_keys("07701234567");
    h.tap_tr("Done");
    h.tap_tr("Next");
    h.tap(form.steps[2].fields[0].options[1].label.get(lang));
    h.tap(&label(2, "household_size"));
    h.type_keys("3");
    h.tap_tr("Done");
    h.tap_tr("Add a household member");
    let member_fields = &form.steps[2].fields[3].member_fields;
    h.tap(member_fields[0].label.get(lang));
    h.type_keys(relative);
    h.tap_tr("Done");
    h.tap(&format!("{} +", tr(lang, "Year")));
    h.tap(member_fields[2].options[1].label.get(lang));
    h.tap_tr("Save member");
    h.tap_tr("Review");
    assert_eq!(h.screen(), Screen::Review, "the application reaches its review");
    at(h, "review");
    // The early duplicate warning, as an applicant sees it; back, and the next check finds nothing.
    h.fake.lock().expect("fake").precheck = serde_json::json!({"sent_from_this_terminal": true, "node": "registered"});
    h.tap_tr("Submit");
    h.wait_until("the warning", |h| h.screen() == Screen::DuplicateWarning);
    at(h, "duplicate-warning");
    h.tap_tr("Back");
    h.fake.lock().expect("fake").precheck = serde_json::json!({"sent_from_this_terminal": false, "node": "not_found"});
    h.tap_tr("Submit");
    h.wait_until("the receipt", |h| h.screen() == Screen::Receipt && h.ui.get_receipt_print() == PrintJob::Printed);
    at(h, "receipt");
    // Services you may use: a list longer than any panel, then one service with its slip.
    h.fake.lock().expect("fake").extra_services = common::more_services();
    h.tap_tr("Services you may use");
    h.wait_until("the services", |h| h.ui.get_services_mode() == ServicesMode::List);
    at(h, "services");
    h.scroll(-4000.0); // to the bottom
    at(h, "services-end");
    let last = common::more_services().pop().expect("a service");
    h.tap(last.name.get(lang));
    h.tap_tr("Print a referral slip");
    h.wait_until("the slip", |h| h.ui.get_services_slip() == PrintJob::Printed);
    at(h, "services-service");
    h.tap_tr("Back to the list");
    h.tap_tr("Back");
    h.tap_tr("Finish");

    h.choose_language(lang);
    h.tap_tr("Staff login");
    h.type_keys("24");
    at(h, "staff-login");

    // The warning as staff see it: four reasons and "Submit anyway".
    h.type_keys("68");
    h.tap_tr("Log in");
    h.wait_until("staff home", |h| h.screen() == Screen::StaffHome);
    h.fake.lock().expect("fake").precheck = serde_json::json!({"sent_from_this_terminal": true, "node": "registered"});
    h.tap_tr("Enrol a household (read the applicant's ID card)");
    h.wait_until("the form", |h| h.screen() == Screen::Form);
    fill_application(h, name, relative);
    h.tap_tr("Submit");
    h.wait_until("the warning", |h| h.screen() == Screen::DuplicateWarning);
    h.tap_tr("Other reason");
    at(h, "duplicate-warning-staff");
}

/// The screens of the card-access flow in `lang` on `panel`, calling `at` on each: a kiosk
/// whose terminal reads the national card's chip, so it asks for the access number (CAN).
fn walk_card_access(panel: Panel, lang: &str, at: &mut dyn FnMut(&Harness, &str)) {
    let h = Harness::launch_on(panel, test_options(), |f| {
        f.id_card_profile = Some("emrtd".into());
        f.chip_can = Some("493817".into());
    })
    .loaded();
    h.choose_language(lang);
    // An applicant's status check by card: the six digits on the pad, then a wrong number.
    h.tap_tr("Check my status");
    h.tap_tr("Tap my ID card on the reader");
    h.type_keys("4938");
    assert_eq!(h.screen(), Screen::CardAccess, "the kiosk asks for the access number");
    at(&h, "card-access");
    h.type_keys("10");
    h.tap_tr("Read the card");
    h.wait_until("the refusal", |h| !h.ui.get_access_problem().is_empty());
    at(&h, "card-access-refused");
    h.kiosk.end_session();
    h.pump();

    // Staff enrolling a household type the MRZ key from the card's back instead.
    h.choose_language(lang);
    h.tap_tr("Staff login");
    h.type_keys("2468");
    h.tap_tr("Log in");
    h.wait_until("staff home", |h| h.screen() == Screen::StaffHome);
    h.tap_tr("Enrol a household (read the applicant's ID card)");
    h.tap_tr("Type the code from the back of the card instead");
    h.type_keys("A1234567");
    at(&h, "card-access-mrz");
    h.type_keys("8");
    h.tap_tr("Next");
    h.tap_tr("Next");
    at(&h, "card-access-mrz-date");
}

#[test]
fn main_screens_fit_every_panel_with_9_mm_touch_targets() {
    common::init_backend();
    let mut problems = Vec::new();
    let mut shot_failures = Vec::new();
    let mut checked = 0;
    for (name, panel) in KNOWN_PANELS {
        let size = format!("{}x{}", panel.width_px, panel.height_px);
        let with_shots = (panel.width_px, panel.height_px) != (1280, 800);
        for lang in ["ar", "ckb", "en"] {
            let h = Harness::on_panel(panel);
            let mut shots = Shots::new(&format!("{size}/{lang}"));
            let mut at = |h: &Harness, screen: &str| {
                check(h, &panel, &format!("{name} ({size}), {lang}, {screen}"), &mut problems);
                checked += 1;
                if with_shots {
                    shots.take(h, screen);
                }
            };
            walk(&h, lang, &mut at);
            walk_card_access(panel, lang, &mut at);
            shot_failures.extend(shots.failures);
        }
    }
    assert_eq!(checked, KNOWN_PANELS.len() * 3 * (13 + 4), "every main screen was checked");
    assert!(problems.is_empty(), "{} problems with touch targets:\n{}", problems.len(), problems.join("\n"));
    assert!(shot_failures.is_empty(), "screens differ from their reviewed references:\n{}", shot_failures.join("\n"));
}
