//! Renders every screen in Arabic, Kurdish and English with Slint's software renderer, reached
//! through the real flows against the fake service, and compares each render with the reviewed
//! reference image `kiosk/tests/screenshots/<lang>/<screen>.png`.
//!
//! `KIOSK_UPDATE_SCREENSHOTS=1 cargo test -p kiosk --test screenshots` rewrites the references;
//! look at every changed image before committing it. Renders of a failed comparison are written
//! to `target/kiosk-screenshots/<lang>/<screen>.png` next to the reference for inspection.

mod common;

use common::shots::Shots;
use common::{fill_application, tr, Harness};
use kiosk::ui::{HardwareTest, LoginProblem, PrintJob, PrinterState, Provisioning, Screen, ServicesMode, StaffCardRead, StatusMode};

#[test]
fn every_screen_in_three_languages() {
    common::init_backend();
    let mut failures = Vec::new();
    let mut taken = Vec::new();
    for language in ["ar", "ckb", "en"] {
        let mut shots = Shots::new(language);
        walk(language, &mut shots);
        duplicate_warnings(language, &mut shots);
        first_boot(language, &mut shots);
        card_access(language, &mut shots);
        questionnaire(language, &mut shots);
        referrals(language, &mut shots);
        services(language, &mut shots);
        failures.extend(shots.failures);
        taken.extend(shots.taken);
    }
    assert!(taken.len() >= 3 * 25, "every screen is rendered: {taken:?}");
    assert!(failures.is_empty(), "screens differ from their reviewed references:\n{}", failures.join("\n"));
}

/// Text typed into Arabic-script fields, in the keyboard of each language.
fn sample_name(language: &str) -> (&'static str, &'static str) {
    match language {
        "ckb" => ("ڕێژنە", "ئاڵۆز"),
        _ => ("زينب", "علي حسن"),
    }
}

/// The node's targeting questionnaire after an application: its first step with the line
/// saying what it is for, and a follow-up question shown by skip logic. The application's own
/// steps are on their screenshots already: the walk goes straight to the questionnaire.
fn questionnaire(lang: &str, shots: &mut Shots) {
    let form = provincial_node::targeting::questionnaire_v1();
    let h = Harness::launch(common::test_options(), |f| f.questionnaire = Some(form.clone())).loaded();
    h.choose_language(lang);
    h.tap_tr("Apply for support");
    assert!(h.kiosk.state.borrow_mut().begin_questionnaire(), "the questionnaire follows the application");
    h.kiosk.render();
    let option = |step: usize, field: usize, n: usize| form.steps[step].fields[field].options[n].label.get(lang).to_owned();
    h.tap(&option(0, 0, 3));
    h.tap(form.steps[0].fields[1].label.get(lang));
    h.type_keys("2");
    h.tap_tr("Done");
    shots.take(&h, "questionnaire");
    h.tap(&option(0, 2, 2));
    h.tap_tr("Next");
    h.tap_nth(&option(1, 0, 0), 0);
    for n in 1..4 {
        h.tap_nth(&option(1, n, 1), n);
    }
    h.tap_tr("Next");
    h.tap(&option(2, 0, 2));
    h.tap(form.steps[2].fields[1].label.get(lang));
    h.type_keys("1");
    h.tap_tr("Done");
    h.tap_tr("Next");
    for field in &form.steps[3].fields[..4] {
        h.tap(field.label.get(lang));
        h.type_keys("1");
        h.tap_tr("Done");
    }
    // Yes: the number with a disability is asked.
    h.tap(&option(3, 4, 0));
    h.scroll(-2000.0); // to the bottom
    shots.take(&h, "questionnaire-follow-up");
}

/// The national card's access number (`id_card_profile = "emrtd"`): as an applicant types it,
/// refused, and staff typing the code on the card's back; the badge's way back after a read.
fn card_access(lang: &str, shots: &mut Shots) {
    let h = Harness::launch(common::test_options(), |f| {
        f.id_card_profile = Some("emrtd".into());
        f.chip_can = Some("493817".into());
    })
    .loaded();
    h.choose_language(lang);
    h.tap_tr("Check my status");
    h.tap_tr("Tap my ID card on the reader");
    h.type_keys("4938");
    shots.take(&h, "card-access");
    h.type_keys("10");
    h.tap_tr("Read the card");
    h.wait_until("the refusal", |h| !h.ui.get_access_problem().is_empty());
    shots.take(&h, "card-access-refused");
    h.kiosk.end_session();
    h.pump();

    h.choose_language(lang);
    h.tap_tr("Staff login");
    h.type_keys("2468");
    h.tap_tr("Log in");
    h.wait_until("staff home", |h| h.screen() == Screen::StaffHome);
    h.tap_tr("Enrol a household (read the applicant's ID card)");
    h.tap_tr("Type the code from the back of the card instead");
    h.type_keys("A1234567");
    shots.take(&h, "card-access-mrz");
    h.type_keys("8");
    h.tap_tr("Next");
    h.tap_tr("Next");
    shots.take(&h, "card-access-mrz-date");
    h.tap_tr("Back");
    h.tap_tr("Type the card access number instead");
    h.type_keys("493817");
    h.tap_tr("Read the card");
    h.wait_until("the form", |h| h.screen() == Screen::Form);
    shots.take(&h, "form-after-card-read");
}

/// A partner's referral: the code being typed (with the scanner offered), a refusal, the
/// provincial office unreachable, the application it fills in, and a refusal on delivery in
/// the staff queue.
fn referrals(lang: &str, shots: &mut Shots) {
    let h = Harness::launch(common::test_options(), |f| {
        f.scanner = true;
        f.referral_refusals = serde_json::json!([{"id": "0193a0c4-7b1e-7000-8000-00000000000d", "reference": "7K2QX-M4B9R",
            "case_number": "BGD-2026-000124", "code": common::VALID_REFERRAL.0, "reason": "already_used", "refused_at": "2026-11-24T10:40:00Z"}]);
    })
    .loaded();
    h.choose_language(lang);
    h.tap_tr("I have a referral");
    h.type_keys("WFP-79E-7X4");
    shots.take(&h, "referral");
    h.kiosk.end_session();
    h.pump();
    h.choose_language(lang);
    h.tap_tr("I have a referral");
    h.type_keys(common::EXPIRED_REFERRAL);
    h.tap_tr("Check the referral");
    h.wait_until("the refusal", |h| h.ui.get_referral_problem() != kiosk::ui::ReferralProblem::None);
    shots.take(&h, "referral-refused");
    h.kiosk.on_event(kiosk::api::ServiceEvent::Scan(local_api::ScanEvent::read(common::VALID_REFERRAL.1.into())));
    h.wait_until("the application", |h| h.screen() == Screen::Form);
    shots.take(&h, "form-referral");
    h.kiosk.end_session();
    h.pump();

    h.fake.lock().expect("fake").node_online = false;
    h.choose_language(lang);
    h.tap_tr("I have a referral");
    h.type_keys(common::VALID_REFERRAL.0);
    h.tap_tr("Check the referral");
    h.wait_until("the unchecked answer", |h| h.ui.get_referral_mode() == kiosk::ui::ReferralMode::Unchecked);
    shots.take(&h, "referral-unchecked");
    h.kiosk.end_session();
    h.pump();

    h.choose_language(lang);
    h.tap_tr("Staff login");
    h.type_keys("2468");
    h.tap_tr("Log in");
    h.wait_until("staff home", |h| h.screen() == Screen::StaffHome);
    h.tap_tr("Unsent submissions");
    h.wait_until("the refusal", |h| slint::Model::row_count(&h.ui.get_queue_referral_refusals()) == 1);
    shots.take(&h, "staff-queue-referral-refused");
}

/// Services you may use after a status check: the list (with the hint that it goes on
/// below), one service, its slip refused and printed; and a terminal without a directory yet.
/// Arabic and Kurdish in Eastern digits, as Iraq prints them: the phone numbers must still read
/// left to right.
fn services(lang: &str, shots: &mut Shots) {
    let h = Harness::launch(common::test_options(), |f| f.digits = Some(serde_json::json!({"ar": "eastern", "ckb": "eastern"}))).loaded();
    h.choose_language(lang);
    h.tap_tr("Check my status");
    h.tap_tr("Tap my ID card on the reader");
    h.wait_until("the status", |h| h.ui.get_status_mode() == StatusMode::Result);
    h.tap_tr("Services you may use");
    h.wait_until("the services", |h| h.ui.get_services_mode() == ServicesMode::List);
    shots.take(&h, "services");
    let directory = node_protocol::service_directory::ServiceDirectory::parse(provincial_node::services::SAMPLE.as_bytes(), None).expect("the sample");
    let clinic = directory.services.iter().find(|s| s.id == "BGD-H-0001").expect("a sample service");
    h.tap(clinic.name.get(lang));
    shots.take(&h, "services-service");
    h.fake.lock().expect("fake").refuse_next_slip = Some("slip_certificate_missing".into());
    h.tap_tr("Print a referral slip");
    h.wait_until("the refusal", |h| h.ui.get_services_slip() == PrintJob::Failed);
    shots.take(&h, "services-slip-refused");
    h.tap_tr("Try again");
    h.wait_until("the slip", |h| h.ui.get_services_slip() == PrintJob::Printed);
    shots.take(&h, "services-slip-printed");

    let h = Harness::launch(common::test_options(), |f| f.no_service_directory = true).loaded();
    h.choose_language(lang);
    h.tap_tr("Check my status");
    h.tap_tr("Tap my ID card on the reader");
    h.wait_until("the status", |h| h.ui.get_status_mode() == StatusMode::Result);
    h.tap_tr("Services you may use");
    h.wait_until("the answer", |h| h.ui.get_services_mode() == ServicesMode::Unavailable);
    shots.take(&h, "services-unavailable");
}

/// The early duplicate warning as an applicant and as staff see it, and the receipt's quiet
/// note when the provincial office could not be asked.
fn duplicate_warnings(lang: &str, shots: &mut Shots) {
    let h = Harness::new();
    let (name, relative) = sample_name(lang);
    h.fake.lock().expect("fake").precheck = serde_json::json!({"sent_from_this_terminal": true, "node": "registered"});
    h.choose_language(lang);
    h.tap_tr("Apply for support");
    fill_application(&h, name, relative);
    h.tap_tr("Submit");
    h.wait_until("the warning", |h| h.screen() == Screen::DuplicateWarning);
    shots.take(&h, "duplicate-warning");
    h.tap_tr("Finish");

    h.fake.lock().expect("fake").precheck = serde_json::json!({"sent_from_this_terminal": false, "node": "could_not_check"});
    h.choose_language(lang);
    h.tap_tr("Apply for support");
    fill_application(&h, name, relative);
    h.tap_tr("Submit");
    h.wait_until("the receipt", |h| h.screen() == Screen::Receipt && h.ui.get_receipt_print() == PrintJob::Printed);
    shots.take(&h, "receipt-not-checked");
    h.tap_tr("Finish");

    h.fake.lock().expect("fake").precheck = serde_json::json!({"sent_from_this_terminal": false, "node": "registered"});
    h.choose_language(lang);
    h.tap_tr("Staff login");
    h.type_keys("2468");
    h.tap_tr("Log in");
    h.wait_until("staff home", |h| h.screen() == Screen::StaffHome);
    h.tap_tr("Enrol a household (read the applicant's ID card)");
    h.wait_until("the form", |h| h.screen() == Screen::Form);
    fill_application(&h, name, relative);
    h.tap_tr("Submit");
    h.wait_until("the warning", |h| h.screen() == Screen::DuplicateWarning);
    h.tap_tr("Moved from another province");
    shots.take(&h, "duplicate-warning-staff");
}

/// A fresh card's first screen: the set-up screen of an unprovisioned terminal, before anyone
/// touched it. The image's boot test compares the first frame on the QEMU display with it.
fn first_boot(lang: &str, shots: &mut Shots) {
    let h = Harness::launch(common::test_options(), |fake| fake.provisioned = false);
    // The printer's state comes on the event stream, not with the health answer that opens the
    // set-up screen: without waiting for it the status bar may still say "Printer: unknown".
    h.wait_until("the set-up screen and the printer's state", |h| {
        h.screen() == Screen::Technician && h.kiosk.state.borrow().printer == PrinterState::Ok
    });
    if lang != "ar" {
        h.tap(if lang == "ckb" { "کوردی" } else { "English" });
    }
    assert_eq!(h.ui.get_language(), lang);
    shots.take(&h, "setup-first-boot");
}

fn walk(lang: &str, shots: &mut Shots) {
    let h = Harness::new();
    // The first screen, with this language highlighted in the status bar.
    h.tap(match lang {
        "ar" => "عربي",
        "ckb" => "کوردی",
        _ => "English",
    });
    shots.take(&h, "language");
    h.choose_language(lang);
    shots.take(&h, "home");
    h.tap_tr("Larger text");
    shots.take(&h, "home-large-text");
    h.tap_tr("Larger text");

    // Status check.
    h.tap_tr("Check my status");
    shots.take(&h, "status-choose");
    // A card that is not an ID card, tapped: what the applicant is told.
    let id_card = h.fake.lock().expect("fake").card.replace("badge".into());
    h.tap_tr("Tap my ID card on the reader");
    h.wait_until("the not-an-ID-card message", |h| h.ui.get_status_mode() == StatusMode::Error);
    shots.take(&h, "status-not-id-card");
    h.tap_tr("Back");
    h.fake.lock().expect("fake").card = id_card.clone();
    h.tap_tr("Type my reference number");
    h.type_keys("7K2QXM4B");
    // On this panel the date of birth comes up in place of the keyboard.
    h.tap(&tr(lang, "Date of birth"));
    h.tap(&format!("{} +", tr(lang, "Day")));
    h.tap(&format!("{} -", tr(lang, "Year")));
    h.tap(&format!("{} +", tr(lang, "Month")));
    shots.take(&h, "status-reference");
    h.tap(&tr(lang, "Reference number (on your receipt)"));
    h.type_keys("9R");
    h.tap_tr("Check status");
    h.wait_until("the status", |h| h.ui.get_status_mode() == StatusMode::Result);
    shots.take(&h, "status-result");
    h.tap_tr("Finish");
    h.fake.lock().expect("fake").node_online = false;
    h.choose_language(lang);
    h.tap_tr("Check my status");
    h.tap_tr("Tap my ID card on the reader");
    h.wait_until("offline", |h| h.ui.get_status_mode() == StatusMode::Offline);
    shots.take(&h, "status-offline");
    h.fake.lock().expect("fake").node_online = true;
    h.tap_tr("Finish");

    // Application.
    h.choose_language(lang);
    h.tap_tr("Apply for support");
    let form = provincial_node::forms::application();
    let label = |step: usize, id: &str| form.steps[step].fields.iter().find(|f| f.id == id).map(|f| f.label.get(lang).to_owned()).unwrap_or_default();
    let (name, relative) = sample_name(lang);
    h.tap_tr("Next");
    shots.take(&h, "form-errors");
    h.tap(&label(0, "national_id"));
    h.type_keys("199012345678");
    h.tap_tr("Done");
    h.tap(&label(0, "first_name"));
    h.type_keys(name);
    shots.take(&h, "form-typing");
    h.tap_tr("Done");
    for id in ["father_name", "grandfather_name", "mother_name"] {
        h.tap(&label(0, id));
        h.type_keys(relative);
        h.tap_tr("Done");
    }
    h.tap(&format!("{} -10", tr(lang, "Year")));
    h.tap(form.steps[0].fields[7].options[0].label.get(lang));
    h.scroll(-2000.0); // to the bottom
    shots.take(&h, "form-applicant");
    h.tap_tr("Next");
    let master = provincial_node::geography::master_data();
    h.tap(master.governorates[0].name.get(lang));
    h.tap(master.governorates[0].districts[1].name.get(lang));
    h.tap(&label(1, "phone"));
    h.type_keys("07701234567");
    shots.take(&h, "form-digits");
    h.tap_tr("Done");
    h.scroll(-2000.0); // to the bottom
    shots.take(&h, "form-address");
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
    h.scroll(-2000.0); // to the bottom
    shots.take(&h, "form-member");
    h.tap_tr("Save member");
    h.scroll(-2000.0);
    shots.take(&h, "form-household");
    h.tap_tr("Review");
    shots.take(&h, "review");
    h.tap_tr("Submit");
    h.wait_until("the receipt", |h| h.screen() == Screen::Receipt && h.ui.get_receipt_print() == PrintJob::Printed);
    shots.take(&h, "receipt");
    h.tap_tr("Finish");

    // Grievance.
    h.choose_language(lang);
    h.tap_tr("Make a complaint");
    let grievance = provincial_node::forms::grievance();
    h.tap(grievance.steps[0].fields[1].label.get(lang));
    h.type_keys(relative);
    h.tap_tr("Done");
    h.tap(&format!("{} +", tr(lang, "Year")));
    h.tap_tr("Next");
    h.tap_tr("Review");
    shots.take(&h, "grievance");
    h.tap_tr("Back");
    h.tap_tr("Back");

    // Staff.
    h.tap_tr("Staff login");
    h.type_keys("1111");
    h.tap_tr("Log in");
    h.wait_until("the wrong PIN", |h| h.ui.get_login_problem() == LoginProblem::WrongPin);
    h.type_keys("24");
    shots.take(&h, "staff-login");
    h.type_keys("68");
    h.tap_tr("Log in");
    h.wait_until("staff home", |h| h.screen() == Screen::StaffHome);
    shots.take(&h, "staff-home");
    h.fake.lock().expect("fake").card = Some("badge".into());
    h.tap_tr("Enrol a household (read the applicant's ID card)");
    h.wait_until("the not-an-ID-card notice", |h| h.ui.get_staff_card() == StaffCardRead::NotAnIdCard);
    shots.take(&h, "staff-home-not-id-card");
    h.fake.lock().expect("fake").card = id_card;
    h.tap_tr("Unsent submissions");
    h.wait_until("the queue", |h| slint::Model::row_count(&h.ui.get_queue_lines()) == 3);
    shots.take(&h, "staff-queue");
    h.tap_tr("Back");

    // Technician.
    h.tap_tr("Technician tools");
    h.tap(&tr(lang, "Provincial office address (URL)"));
    h.tap("abc");
    h.type_keys("https://node.bgd.iq");
    shots.take(&h, "technician-setup");
    h.tap_tr("Done");
    h.tap(&tr(lang, "Enrollment code"));
    h.type_keys("K7Q2-99XM");
    h.tap_tr("Done");
    h.tap_tr("Connect terminal");
    h.wait_until("provisioned", |h| h.ui.get_tech_provisioning() == Provisioning::Done);
    shots.take(&h, "technician-provisioned");
    h.tap_tr("Network and sync");
    h.wait_until("diagnostics", |h| slint::Model::row_count(&h.ui.get_tech_recent()) == 3);
    shots.take(&h, "technician-network");
    h.tap_tr("Hardware tests");
    h.tap_tr("Card reader: read a card");
    h.wait_until("the card test", |h| h.ui.get_hw_card_state() == HardwareTest::Ok);
    h.tap_tr("Printer: print a test page");
    h.wait_until("the print test", |h| h.ui.get_hw_print_state() == HardwareTest::Ok);
    h.tap_tr("Printer: paper and cover state");
    h.wait_until("the printer state", |h| h.ui.get_hw_printer_state() == PrinterState::PaperLow);
    shots.take(&h, "hardware");

    // The idle countdown.
    h.idle(75);
    shots.take(&h, "idle-warning");
}
