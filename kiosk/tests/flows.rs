//! Every flow of the kiosk driven through its screens (Slint's testing backend: elements found by
//! accessible label, touched through their default action) against a fake terminal-service on a
//! Unix socket, through the real HTTP client. Arabic and Kurdish are typed into every text field.

mod common;
mod questionnaire;

use common::{fill_application, test_options, tr, Harness, EXPIRED_REFERRAL, VALID_REFERRAL};
use kiosk::flow::KioskOptions;
use kiosk::ui::{
    BenefitState, CardAccessStep, HardwareTest, KeyboardKind, LoginProblem, OverrideReason, PrintJob, PrinterState, Provisioning, ReferralMode, ReferralProblem,
    Screen, ServicesMode, SlipProblem, StaffCardRead, StatusMode, SyncState, TechTab,
};
use serde_json::{json, Value};

#[test]
fn kiosk_flows() {
    common::init_backend();
    referral_refused_then_scanned_starts_a_prefilled_application_that_carries_it();
    referral_scanned_on_the_home_screen_opens_the_referral_screen_and_checks_it();
    referral_typed_while_the_node_is_offline_goes_on_unchecked();
    staff_queue_shows_referrals_the_node_refused_with_the_reason();
    services_after_a_status_check_and_a_referral_slip_refused_then_printed();
    services_after_an_application_are_those_of_its_district_and_carry_it();
    services_without_a_directory_say_so_and_lead_back();
    status_check_by_reference_then_slip();
    status_check_by_card_while_node_offline();
    status_check_by_a_national_card_asks_for_its_access_number();
    staff_read_a_national_card_by_its_access_number_or_the_code_on_its_back();
    application_in_kurdish();
    application_refused_field_goes_back_to_its_step();
    early_duplicate_warning_sends_an_applicant_to_the_staff_desk();
    early_duplicate_warning_that_could_not_ask_the_node_lets_the_application_through();
    staff_submit_despite_the_early_duplicate_warning_with_a_reason();
    grievance_in_arabic();
    staff_login_lockout_assisted_enrollment_queue_logout();
    staff_home_warns_when_nothing_was_delivered_for_days();
    technician_provisioning_and_hardware();
    idle_timeout_wipes_what_was_typed();
    language_switch_mirrors_the_layout();
    first_boot_unprovisioned_opens_the_set_up_screen();
    first_boot_leaves_a_touched_screen_alone();
    dates_read_day_first_in_the_digits_the_node_chose();
    an_idle_set_up_screen_of_an_unprovisioned_terminal_comes_back_empty();
    language_on_screen_survives_a_restart();
    a_language_file_the_kiosk_did_not_write_means_the_default();
    questionnaire::questionnaire_after_the_application_in_kurdish();
    questionnaire::a_new_version_from_the_node_is_asked_without_a_new_kiosk();
}

/// The reference node's sample service directory, as the fake serves it.
fn sample_directory() -> node_protocol::service_directory::ServiceDirectory {
    node_protocol::service_directory::ServiceDirectory::parse(provincial_node::services::SAMPLE.as_bytes(), None).expect("the sample directory")
}

fn services_after_a_status_check_and_a_referral_slip_refused_then_printed() {
    let h = Harness::new();
    let directory = sample_directory();
    let name = |id: &str| directory.services.iter().find(|s| s.id == id).map(|s| s.name.ar.clone()).expect("a sample service");
    h.choose_language("ar");
    h.tap_tr("Check my status");
    h.tap_tr("Tap my ID card on the reader");
    h.wait_until("the status", |h| h.ui.get_status_mode() == StatusMode::Result);
    h.tap_tr("Services you may use");
    h.wait_until("the services", |h| h.ui.get_services_mode() == ServicesMode::List);
    // After a status check: the terminal's own province (no query), every district's services.
    assert_eq!(h.requests("GET /v1/services"), [json!("")]);
    let lines = h.ui.get_services_lines();
    let shown: Vec<(bool, String)> = lines.iter().map(|l| (l.heading, l.name.to_string())).collect();
    let category = |id: &str| directory.categories.iter().find(|c| c.id == id).map(|c| c.name.ar.clone()).expect("a sample category");
    assert_eq!(
        shown,
        [
            (true, category("health")),
            (false, name("BGD-H-0001")),
            (true, category("education")),
            (false, name("BGD-E-0001")),
            (true, category("employment")),
            (false, name("BGD-J-0001")),
            (true, category("legal_aid")),
            (false, name("BGD-L-0001")),
        ],
        "by category in the directory's order, in Arabic"
    );
    let legal_aid = lines.row_data(7).expect("the legal aid clinic");
    // One left-to-right unit inside Arabic: marks around it and its spaces (flow/services.rs).
    assert_eq!(legal_aid.phone.replace(['\u{2066}', '\u{2069}', '\u{200E}'], ""), "+964 770 000 0104");
    assert!(legal_aid.phone.starts_with("\u{2066}\u{200E}+964\u{200E} "), "{:?}", legal_aid.phone);
    assert!(legal_aid.address.contains("بغداد"), "{}", legal_aid.address);
    assert_eq!(h.ui.get_services_area(), "بغداد");
    // A service tapped: shown large, with its slip. The printer is not ready: said in words.
    h.tap(&name("BGD-L-0001"));
    assert_eq!(h.ui.get_services_mode(), ServicesMode::Service);
    assert_eq!(h.ui.get_services_chosen().name, name("BGD-L-0001"));
    h.fake.lock().expect("fake").refuse_next_slip = Some("printer_not_ready".into());
    h.tap_tr("Print a referral slip");
    h.wait_until("the refusal", |h| h.ui.get_services_slip() == PrintJob::Failed);
    assert_eq!(h.ui.get_services_slip_problem(), SlipProblem::PrinterNotReady);
    assert!(h.shows(&tr("ar", "The printer is not ready (no paper, or its cover is open). Please ask a staff member, then try again. You can also write down the address and phone number above.")));
    h.tap_tr("Try again");
    h.wait_until("the slip", |h| h.ui.get_services_slip() == PrintJob::Printed);
    assert!(h.shows(&tr("ar", "Take your referral slip from the printer and show it at the service.")));
    let slips = h.requests("POST /v1/referral-slips");
    assert_eq!(slips.len(), 2);
    // By card: the node's case number is the household's reference on the slip.
    assert_eq!(slips[1], json!({"service_id": "BGD-L-0001", "language": "ar", "reference": "BGD-2026-000123"}));
    // Back to the list, back to the answer, which is still there.
    h.tap_tr("Back to the list");
    assert_eq!(h.ui.get_services_mode(), ServicesMode::List);
    h.tap_tr("Back");
    assert_eq!((h.screen(), h.ui.get_status_mode()), (Screen::Status, StatusMode::Result));
    h.tap_tr("Finish");
    assert_eq!(h.screen(), Screen::Language);
}

fn services_after_an_application_are_those_of_its_district_and_carry_it() {
    let h = Harness::new();
    h.choose_language("en");
    h.tap_tr("Apply for support");
    fill_application(&h, "زينب", "علي");
    h.tap_tr("Submit");
    h.wait_until("the receipt", |h| h.screen() == Screen::Receipt && h.ui.get_receipt_print() == PrintJob::Printed);
    h.tap_tr("Services you may use");
    h.wait_until("the services", |h| h.ui.get_services_mode() == ServicesMode::List);
    // The governorate and district the application gave: Resafa's and all Baghdad's, not Karkh's.
    assert_eq!(h.requests("GET /v1/services"), [json!("governorate=BGD&district=RSF")]);
    let names: Vec<String> = h.ui.get_services_lines().iter().filter(|l| !l.heading).map(|l| l.name.to_string()).collect();
    assert_eq!(names, ["Resafa primary health care centre", "Baghdad employment and vocational training centre", "Free legal aid clinic"]);
    assert_eq!(h.ui.get_services_area(), "Baghdad, Resafa");
    h.tap("Resafa primary health care centre");
    // Each refusal in words that say what to do.
    for (code, problem, words) in [
        ("clock_not_set", SlipProblem::ClockNotSet, "This terminal's clock is not set, so it cannot print a referral slip now. Please write down the address and phone number above, or ask a staff member."),
        ("slip_certificate_missing", SlipProblem::CertificateMissing, "This terminal cannot print referral slips until it has connected to the provincial office. Please write down the address and phone number above, or come back later."),
        ("unknown_submission", SlipProblem::UnknownSubmission, "Your application was not found on this terminal, so the slip cannot carry its number. Please ask a staff member."),
    ] {
        h.fake.lock().expect("fake").refuse_next_slip = Some(code.into());
        let label = if h.ui.get_services_slip() == PrintJob::Failed { "Try again" } else { "Print a referral slip" };
        h.tap(label);
        h.wait_until("the refusal", |h| h.ui.get_services_slip() == PrintJob::Failed && h.ui.get_services_slip_problem() == problem);
        assert!(h.shows(words), "{code}");
    }
    h.tap("Try again");
    h.wait_until("the slip", |h| h.ui.get_services_slip() == PrintJob::Printed);
    let slips = h.requests("POST /v1/referral-slips");
    assert_eq!(slips.last(), Some(&json!({"service_id": "BGD-H-0001", "language": "en", "submission_id": "0193a0c4-7b1e-7000-8000-000000000001"})));
    h.tap("Back to the list");
    h.tap("Back");
    assert_eq!(h.screen(), Screen::Receipt, "back to the receipt, whose Finish ends the session");
    h.tap("Finish");
    assert_eq!(h.screen(), Screen::Language);
    assert!(h.kiosk.state.borrow().household_area.is_none(), "the area of the application is forgotten with it");
}

fn services_without_a_directory_say_so_and_lead_back() {
    let h = Harness::launch(test_options(), |f| {
        f.no_service_directory = true;
        f.node_online = false;
    })
    .loaded();
    h.choose_language("ckb");
    h.tap_tr("Check my status");
    h.tap_tr("Tap my ID card on the reader");
    h.wait_until("offline", |h| h.ui.get_status_mode() == StatusMode::Offline);
    // Offline, from the terminal's copy of the directory: none yet, said so.
    h.tap_tr("Services you may use");
    h.wait_until("the answer", |h| h.ui.get_services_mode() != ServicesMode::Loading);
    assert_eq!(h.ui.get_services_mode(), ServicesMode::Unavailable);
    assert!(h.shows(&tr("ckb", "The list of services is not on this terminal yet: it arrives when the terminal next connects to the provincial office. Please ask a staff member, or come back later.")));
    assert!(h.find(&tr("ckb", "Print a referral slip")).is_empty(), "nothing to print a slip for");
    h.tap_tr("Back");
    assert_eq!((h.screen(), h.ui.get_status_mode()), (Screen::Status, StatusMode::Offline));
    // A service that fails otherwise: said so, and Back still leads back.
    {
        let mut f = h.fake.lock().expect("fake");
        f.no_service_directory = false;
        f.services_fail = true;
    }
    h.tap_tr("Services you may use");
    h.wait_until("the answer", |h| h.ui.get_services_mode() != ServicesMode::Loading);
    assert_eq!(h.ui.get_services_mode(), ServicesMode::Failed);
    assert!(h.shows(&tr("ckb", "The list of services could not be shown. Please ask a staff member.")));
    h.tap_tr("Back");
    assert_eq!(h.screen(), Screen::Status);
}

fn status_check_by_reference_then_slip() {
    let h = Harness::new();
    h.choose_language("en");
    h.tap("Check my status");
    h.tap("Type my reference number");
    h.type_keys("7K2QXM4B9R");
    assert_eq!(h.field_value("Reference number (on your receipt)"), "7K2QX-M4B9R", "the dash is put in by the kiosk");
    // Without a date of birth the kiosk says so and asks nothing.
    h.tap("Check status");
    assert!(h.requests("POST /v1/status-checks").is_empty());
    assert!(!h.ui.get_status_dob_error().is_empty());
    // Where the date and the keyboard do not fit together, the date field brings the date up.
    h.tap("Date of birth");
    h.tap("Year -10"); // first touch sets 1980-01-01, the next ones move it
    h.tap("Year -10");
    h.tap("Month +");
    h.tap("Day +");
    h.tap("Check status");
    h.wait_until("the status is shown", |h| h.ui.get_status_mode() == StatusMode::Result);
    let sent = h.requests("POST /v1/status-checks");
    assert_eq!(sent[0]["query"]["by"], "reference");
    assert_eq!(sent[0]["query"]["reference"], "7K2QX-M4B9R");
    assert_eq!(sent[0]["query"]["date_of_birth"], "1970-02-02");
    assert_eq!(h.ui.get_status_result().state, BenefitState::UnderReview);
    assert!(h.ui.get_status_result().message.starts_with("Your application is being checked"));
    h.tap("Print a slip");
    h.wait_until("the slip is printed", |h| h.ui.get_status_slip() == PrintJob::Printed);
    let slip = &h.requests("POST /v1/receipts")[0]["status_slip"];
    assert_eq!(slip["status"]["state"], "under_review");
    assert_eq!(slip["reference"], "7K2QX-M4B9R");
    assert_eq!(slip["language"], "en");
    h.tap("Finish");
    assert_eq!(h.screen(), Screen::Language);
    assert!(h.kiosk.state.borrow().status_result.is_none());
}

fn dates_read_day_first_in_the_digits_the_node_chose() {
    let h = Harness::launch(test_options(), |f| f.digits = Some(json!({"ar": "eastern"}))).loaded();
    // The node said 2026-11-02: day first, isolated from the bidirectional algorithm so the
    // parts keep their order inside Arabic text; Eastern digits in Arabic, Western in English.
    for (language, shown) in [("ar", "\u{2066}٠٢/١١/٢٠٢٦\u{2069}"), ("en", "\u{2066}02/11/2026\u{2069}")] {
        h.choose_language(language);
        h.tap_tr("Check my status");
        h.tap_tr("Type my reference number");
        h.type_keys("7K2QXM4B9R");
        h.tap_tr("Date of birth");
        h.tap(&format!("{} -10", tr(language, "Year")));
        h.tap_tr("Check status");
        h.wait_until("the status is shown", |h| h.ui.get_status_mode() == StatusMode::Result);
        assert_eq!(h.ui.get_status_result().updated_on, shown, "{language}");
        h.tap_tr("Finish");
    }
}

fn status_check_by_card_while_node_offline() {
    let h = Harness::new();
    h.fake.lock().expect("fake").node_online = false;
    h.choose_language("ar");
    h.tap_tr("Check my status");
    h.tap_tr("Tap my ID card on the reader");
    h.wait_until("the offline message", |h| h.ui.get_status_mode() == StatusMode::Offline);
    // The service reads the card: the kiosk never sees the number.
    assert_eq!(h.requests("POST /v1/status-checks")[0]["query"], serde_json::json!({"by": "id_card"}));
    h.tap_tr("Print a slip");
    h.wait_until("the slip is printed", |h| h.ui.get_status_slip() == PrintJob::Printed);
    assert_eq!(h.requests("POST /v1/receipts")[0]["status_slip"]["status"], Value::Null);
    // No card on the reader: a clear problem, not a crash.
    h.fake.lock().expect("fake").card = None;
    h.tap_tr("Finish");
    h.choose_language("ar");
    h.tap_tr("Check my status");
    h.tap_tr("Tap my ID card on the reader");
    h.wait_until("the no-card message", |h| h.ui.get_status_mode() == StatusMode::Error);
    assert_eq!(h.ui.get_status_problem(), tr("ar", "No card was found on the reader. Hold your ID card flat on the reader and try again."));
    // Tapping a card while being asked how to identify starts the read; a badge is refused
    // with words that say what to do.
    h.fake.lock().expect("fake").card = Some("badge".into());
    h.tap_tr("Back");
    assert_eq!(h.ui.get_status_mode(), StatusMode::Choose);
    let card_event = || kiosk::api::ServiceEvent::Card(local_api::CardEvent { state: local_api::CardState::Present, uid_hash: "3f9a".into() });
    h.kiosk.on_event(card_event());
    h.wait_until("the not-an-ID-card message", |h| h.ui.get_status_mode() == StatusMode::Error);
    assert_eq!(
        h.ui.get_status_problem(),
        tr("ar", "This card is not a national ID card. Please use your national ID card, or type your reference number.")
    );
    // Elsewhere a card is left alone: the answer on screen is not replaced by a new read.
    h.kiosk.on_event(card_event());
    assert_eq!(h.ui.get_status_mode(), StatusMode::Error, "a card tapped on the answer screen starts nothing");
}

fn status_check_by_a_national_card_asks_for_its_access_number() {
    let h = Harness::launch(test_options(), |f| {
        f.id_card_profile = Some("emrtd".into());
        f.chip_can = Some("493817".into());
    })
    .loaded();
    h.choose_language("ckb");
    h.tap_tr("Check my status");
    h.tap_tr("Tap my ID card on the reader");
    assert_eq!((h.screen(), h.ui.get_access_step()), (Screen::CardAccess, CardAccessStep::Can), "the chip needs its number first");
    assert!(!h.ui.get_access_staff(), "an applicant is not offered the code on the back");
    // Five digits are not the number: said so, nothing asked.
    h.type_keys("49381");
    h.tap_tr("Read the card");
    assert_eq!(h.ui.get_access_field_error(), tr("ckb", "The card access number has six digits."));
    assert!(h.requests("POST /v1/status-checks").is_empty());
    // A mistyped sixth digit: the card refuses it, the screen comes back empty and says what to do.
    h.type_keys("0");
    assert_eq!(h.ui.get_access_can(), "493810");
    h.tap_tr("Read the card");
    h.wait_until("the refusal", |h| !h.ui.get_access_problem().is_empty());
    assert_eq!(h.screen(), Screen::CardAccess);
    assert_eq!(
        h.ui.get_access_problem(),
        tr("ckb", "The card did not accept this number. Check the six digits printed on the card (or the code on its back) and try again.")
    );
    assert_eq!(h.ui.get_access_can(), "", "a refused number is not kept");
    assert_eq!(h.requests("POST /v1/status-checks")[0]["query"], json!({"by": "id_card", "access": {"can": "493810"}}));
    // The right number: the status, the number from the chip never seen by the kiosk.
    h.type_keys("493817");
    h.tap_tr("Read the card");
    h.wait_until("the status", |h| h.ui.get_status_mode() == StatusMode::Result);
    assert_eq!(h.screen(), Screen::Status);
    assert_eq!(h.requests("POST /v1/status-checks")[1]["query"], json!({"by": "id_card", "access": {"can": "493817"}}));
    assert!(h.kiosk.state.borrow().card_access.can.is_empty(), "the number is dropped once sent");
    // A card tapped while the screen asks how to identify: the number is asked for first.
    h.tap_tr("Finish");
    h.choose_language("ar");
    h.tap_tr("Check my status");
    h.kiosk.on_event(kiosk::api::ServiceEvent::Card(local_api::CardEvent { state: local_api::CardState::Present, uid_hash: "3f9a".into() }));
    h.pump();
    assert_eq!(h.screen(), Screen::CardAccess);
    // Cancel goes back to the question; a forged card is named, in Arabic.
    h.tap_tr("Cancel");
    assert_eq!((h.screen(), h.ui.get_status_mode()), (Screen::Status, StatusMode::Choose));
    h.fake.lock().expect("fake").chip_forged = true;
    h.tap_tr("Tap my ID card on the reader");
    h.type_keys("493817");
    h.tap_tr("Read the card");
    h.wait_until("the problem", |h| h.ui.get_status_mode() == StatusMode::Error);
    assert_eq!(h.ui.get_status_problem(), tr("ar", "The data on this card failed its security check. Do not use this card: please see a staff member."));
}

fn staff_read_a_national_card_by_its_access_number_or_the_code_on_its_back() {
    let h = Harness::launch(test_options(), |f| {
        f.id_card_profile = Some("emrtd".into());
        f.chip_can = Some("493817".into());
        f.card = Some("199001234567".into());
    })
    .loaded();
    h.choose_language("en");
    h.tap("Staff login");
    h.type_keys("2468");
    h.tap("Log in");
    h.wait_until("staff home", |h| h.screen() == Screen::StaffHome);
    h.tap("Enrol a household (read the applicant's ID card)");
    assert_eq!(h.screen(), Screen::CardAccess);
    assert!(h.ui.get_access_staff());
    // Staff type the code from the card's back: document number, date of birth, date of expiry.
    h.tap("Type the code from the back of the card instead");
    assert_eq!(h.ui.get_access_step(), CardAccessStep::DocumentNumber);
    h.tap("Next");
    assert_eq!(h.ui.get_access_field_error(), "The document number has up to nine letters and digits.");
    h.type_keys("A12345678");
    assert_eq!(h.ui.get_access_document_number(), "A12345678");
    h.tap("Next");
    assert_eq!(h.ui.get_access_step(), CardAccessStep::DateOfBirth);
    h.tap("Next");
    assert_eq!(h.ui.get_access_field_error(), "Please set the date.", "no date, no next step");
    h.tap("Year +"); // the first touch sets 1980-01-01
    h.tap("Year +");
    h.tap("Month +");
    h.tap("Next");
    assert_eq!(h.ui.get_access_step(), CardAccessStep::DateOfExpiry);
    h.tap("Back");
    assert_eq!((h.ui.get_access_step(), h.ui.get_access_dob_year()), (CardAccessStep::DateOfBirth, 1981), "back keeps what was set");
    h.tap("Next");
    h.tap("Year +"); // 2030-01-01
    h.tap("Year +");
    h.tap("Read the card");
    h.wait_until("the form", |h| h.screen() == Screen::Form);
    let sent = &h.requests("POST /v1/id-card/read")[0];
    assert_eq!(sent["access"], json!({"mrz": {"document_number": "A12345678", "date_of_birth": "1981-02-01", "date_of_expiry": "2031-01-01"}}));
    // The chip's number, date of birth and name fill the form.
    assert_eq!(h.field_value("National ID number"), "199001234567");
    let answers = h.kiosk.state.borrow().form.as_ref().map(|f| f.answers_json()).unwrap_or_default();
    assert_eq!((answers["first_name"].as_str(), answers["father_name"].as_str()), (Some("زينب"), Some("كاظم")));
    assert_eq!((answers["grandfather_name"].as_str(), answers["family_name"].as_str()), (Some("حسن"), Some("العبيدي")));
    assert_eq!(answers["date_of_birth"], "1985-03-14");
    // One reader: the badge came off for the card and must go back.
    assert_eq!(h.ui.get_badge_return_s(), 60);
    assert!(h.shows("Put your staff badge back on the reader within 60 seconds, or you will be logged out."));
    h.kiosk.on_event(kiosk::api::ServiceEvent::Card(local_api::CardEvent { state: local_api::CardState::Present, uid_hash: "b4d9".into() }));
    assert_eq!(h.ui.get_badge_return_s(), 0, "the badge is back");
    // By the access number, on a forged card: named, and no form opens.
    h.tap("Back");
    h.fake.lock().expect("fake").chip_forged = true;
    h.tap("Enrol a household (read the applicant's ID card)");
    h.type_keys("493817");
    h.tap("Read the card");
    h.wait_until("the forged-card notice", |h| h.ui.get_staff_card() == StaffCardRead::NotGenuine);
    assert_eq!(h.screen(), Screen::StaffHome);
    assert_eq!(h.requests("POST /v1/id-card/read")[1]["access"], json!({"can": "493817"}));
}

fn early_duplicate_warning_sends_an_applicant_to_the_staff_desk() {
    let h = Harness::new();
    h.fake.lock().expect("fake").precheck = json!({"sent_from_this_terminal": true, "node": "registered"});
    h.choose_language("ckb");
    h.tap_tr("Apply for support");
    fill_application(&h, "ڕێژنە", "ئاڵۆز");
    h.tap_tr("Submit");
    h.wait_until("the warning", |h| h.screen() == Screen::DuplicateWarning);
    assert_eq!(h.requests("POST /v1/applications/precheck"), [json!({"national_id": "199012345678"})]);
    assert!(h.requests("POST /v1/applications").is_empty(), "nothing is submitted before the applicant decides");
    for said in [
        "You may have applied already",
        "This national ID number was already used for an application at this kiosk.",
        "The provincial office already has this national ID number.",
        "Please go to the staff desk. They will help you.",
    ] {
        assert!(h.shows(&tr("ckb", said)), "the warning says {said:?} in Kurdish");
    }
    assert!(!h.shows(&tr("ckb", "The provincial office could not be asked now.")));
    assert!(h.find(&tr("ckb", "Submit anyway")).is_empty(), "only staff may submit anyway");
    assert!(h.find(&tr("ckb", "Moved from another province")).is_empty());
    // Back to correct the number: Submit asks again.
    h.tap_tr("Back");
    assert_eq!(h.screen(), Screen::Review);
    h.tap_tr("Submit");
    h.wait_until("the warning again", |h| h.screen() == Screen::DuplicateWarning);
    assert_eq!(h.requests("POST /v1/applications/precheck").len(), 2);
    // Finish: off to the staff desk, and everything typed is forgotten.
    h.tap_tr("Finish");
    assert_eq!(h.screen(), Screen::Language);
    assert!(h.kiosk.state.borrow().form.is_none() && h.kiosk.state.borrow().precheck.is_none());
    assert!(h.requests("POST /v1/applications").is_empty());
}

fn early_duplicate_warning_that_could_not_ask_the_node_lets_the_application_through() {
    let h = Harness::new();
    h.fake.lock().expect("fake").precheck = json!({"sent_from_this_terminal": false, "node": "could_not_check"});
    h.choose_language("ar");
    h.tap_tr("Apply for support");
    fill_application(&h, "زينب", "علي حسن");
    h.tap_tr("Submit");
    h.wait_until("the receipt", |h| h.screen() == Screen::Receipt);
    let sent = h.requests("POST /v1/applications");
    assert_eq!(sent.len(), 1);
    assert!(sent[0].get("duplicate_override").is_none(), "{}", sent[0]);
    assert!(h.ui.get_receipt_precheck_unchecked());
    assert!(h.shows(&tr("ar", "We could not check now whether you applied before. The provincial office will check.")));
    h.tap_tr("Finish");

    // A service that fails the pre-check does not stop the application either; nothing found
    // means no note at all.
    for (answer, note) in [(Value::Null, true), (json!({"sent_from_this_terminal": false, "node": "not_found"}), false)] {
        h.fake.lock().expect("fake").precheck = answer;
        h.choose_language("en");
        h.tap("Apply for support");
        fill_application(&h, "زينب", "علي حسن");
        h.tap("Submit");
        h.wait_until("the receipt", |h| h.screen() == Screen::Receipt);
        assert_eq!(h.ui.get_receipt_precheck_unchecked(), note);
        h.tap("Finish");
    }
    assert_eq!(h.requests("POST /v1/applications").len(), 3);
}

fn staff_submit_despite_the_early_duplicate_warning_with_a_reason() {
    let h = Harness::new();
    h.fake.lock().expect("fake").precheck = json!({"sent_from_this_terminal": false, "node": "registered"});
    h.choose_language("en");
    h.tap("Staff login");
    h.type_keys("2468");
    h.tap("Log in");
    h.wait_until("staff home", |h| h.screen() == Screen::StaffHome);
    h.tap("Enrol a household (read the applicant's ID card)");
    h.wait_until("the form", |h| h.screen() == Screen::Form);
    fill_application(&h, "زينب", "علي حسن");
    h.tap("Submit");
    h.wait_until("the warning", |h| h.screen() == Screen::DuplicateWarning);
    assert!(h.shows("This applicant may be registered already"));
    assert!(h.shows("The provincial office already has this national ID number."));
    assert!(!h.shows("This national ID number was already used for an application at this kiosk."));
    assert!(h.find("Finish").is_empty(), "staff are not sent to the staff desk");
    // No reason, no submission.
    h.tap("Submit anyway");
    assert!(h.requests("POST /v1/applications").is_empty());
    h.tap("Other reason");
    h.tap("Moved from another province");
    assert_eq!(h.ui.get_duplicate_reason(), OverrideReason::MovedFromAnotherProvince, "the last choice counts");
    h.tap("Submit anyway");
    h.wait_until("the receipt", |h| h.screen() == Screen::Receipt);
    let sent = h.requests("POST /v1/applications");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["assisted_by"], "S-17");
    assert_eq!(sent[0]["duplicate_override"], json!({"reason": "moved_from_another_province"}));
    assert_eq!(sent[0]["answers"]["national_id"], "199012345678");
    h.tap("Finish");
    assert_eq!(h.screen(), Screen::StaffHome);

    // "Do not submit" goes back to the answers, and nothing is sent.
    h.tap("Enrol a household (read the applicant's ID card)");
    h.wait_until("the form", |h| h.screen() == Screen::Form);
    fill_application(&h, "زينب", "علي حسن");
    h.tap("Submit");
    h.wait_until("the warning", |h| h.screen() == Screen::DuplicateWarning);
    assert_eq!(h.ui.get_duplicate_reason(), OverrideReason::None, "each warning asks for its own reason");
    h.tap("Do not submit");
    assert_eq!(h.screen(), Screen::Review);
    assert_eq!(h.requests("POST /v1/applications").len(), 1);
}

fn application_in_kurdish() {
    let h = Harness::new();
    h.choose_language("ckb");
    h.tap_tr("Apply for support");
    assert_eq!(h.ui.get_form_keyboard(), KeyboardKind::Arabic, "no field has the keyboard yet");
    fill_application(&h, "ڕێژنە", "ئاڵۆز");
    assert_eq!(h.ui.get_form_keyboard(), KeyboardKind::Kurdish, "Arabic-script fields get the Kurdish keyboard in Kurdish");
    h.tap_tr("Submit");
    h.wait_until("the receipt screen", |h| h.screen() == Screen::Receipt);
    let sent = h.requests("POST /v1/applications");
    assert_eq!(sent.len(), 1);
    let body = &sent[0];
    assert_eq!(body["language"], "ckb");
    assert_eq!(body["assisted_by"], Value::Null);
    assert_eq!(body.get("targeting"), None, "no questionnaire served, none sent");
    let a = &body["answers"];
    assert_eq!(a["first_name"], "ڕێژنە");
    assert_eq!(a["national_id"], "199012345678");
    assert_eq!(a["date_of_birth"], "1980-01-01");
    assert_eq!(a["phone"], "07701234567");
    assert_eq!(a["household_size"], 2, "numbers are sent as numbers");
    assert_eq!(a["members"][0]["name"], "ئاڵۆز");
    assert_eq!(a["members"][0]["date_of_birth"], "1980-01-01");
    assert_eq!(h.ui.get_receipt_reference(), "7K2QX-M4B9R");
    h.wait_until("the receipt is printed", |h| h.ui.get_receipt_print() == PrintJob::Printed);
    assert_eq!(h.requests("POST /v1/receipts")[0]["submission_id"], "0193a0c4-7b1e-7000-8000-000000000001");
    assert!(h.kiosk.state.borrow().form.is_none(), "answers are dropped once captured");
    h.tap_tr("Finish");
    assert_eq!(h.screen(), Screen::Language);
}

fn application_refused_field_goes_back_to_its_step() {
    let h = Harness::new();
    h.choose_language("ar");
    h.tap_tr("Apply for support");
    // A required field left empty stops the step, with the message next to the field.
    h.tap_tr("Next");
    assert_eq!(h.ui.get_form_step(), 0);
    assert!(h.kiosk.state.borrow().form.as_ref().is_some_and(|f| f.field_states("ar").iter().any(|s| s.error.is_some())));
    fill_application(&h, "زينب", "علي");
    h.fake.lock().expect("fake").refuse_next = Some(("father_name".into(), "looks like a placeholder".into()));
    h.tap_tr("Submit");
    h.wait_until("back on the form", |h| h.screen() == Screen::Form);
    assert_eq!(h.ui.get_form_step(), 0);
    assert!(!h.ui.get_form_problem().is_empty());
    let states = h.kiosk.state.borrow().form.as_ref().map(|f| f.field_states("ar")).unwrap_or_default();
    let father = states.iter().find(|s| s.id == "father_name").expect("father_name");
    assert!(matches!(&father.error, Some(kiosk::forms::FieldError::Server(m)) if m == "looks like a placeholder"));
}

fn grievance_in_arabic() {
    // The node's targeting questionnaire goes with applications, never with a grievance.
    let h = Harness::launch(test_options(), |f| f.questionnaire = Some(provincial_node::targeting::questionnaire_v1())).loaded();
    h.choose_language("ar");
    h.tap_tr("Make a complaint");
    let form = provincial_node::forms::grievance();
    let label = |step: usize, id: &str| form.steps[step].fields.iter().find(|f| f.id == id).map(|f| f.label.get("ar").to_owned()).unwrap_or_default();
    h.tap(&label(0, "full_name"));
    h.type_keys("فاطمة حسن علي");
    assert_eq!(h.field_value(&label(0, "full_name")), "فاطمة حسن علي");
    // The last letter can be taken back; the cursor is always at the end.
    h.tap_tr("Delete");
    h.type_keys("ي");
    h.tap_tr("Done");
    h.tap(&format!("{} +", tr("ar", "Year")));
    h.tap_tr("Next");
    assert_eq!(h.ui.get_form_step(), 1);
    h.tap(form.steps[1].fields[0].options[0].label.get("ar"));
    h.tap(&label(1, "case_number"));
    assert_eq!(h.ui.get_form_keyboard(), KeyboardKind::Latin);
    h.type_keys("BGD-2026-000123");
    h.tap_tr("Done");
    h.tap(&label(1, "description"));
    h.type_keys("لم تصل الدفعة منذ شهرين");
    h.tap_tr("Done");
    h.tap_tr("Review");
    h.tap_tr("Submit");
    h.wait_until("the receipt screen", |h| h.screen() == Screen::Receipt);
    let body = &h.requests("POST /v1/grievances")[0];
    assert_eq!(body["answers"]["full_name"], "فاطمة حسن علي");
    assert_eq!(body["answers"]["case_number"], "BGD-2026-000123");
    assert_eq!(body["answers"]["description"], "لم تصل الدفعة منذ شهرين");
    assert_eq!(body["answers"]["category"], "payment_missing");
    assert_eq!(body.get("targeting"), None, "a grievance carries no questionnaire");
}

fn staff_home_warns_when_nothing_was_delivered_for_days() {
    const WARNING: &str = "Nothing has reached the provincial office for more than {0} days. Applications are kept safely here; call a technician to check the connection.";
    let h = Harness::new();
    h.choose_language("en");
    h.tap("Staff login");
    h.type_keys("2468");
    h.tap("Log in");
    h.wait_until("staff home", |h| h.screen() == Screen::StaffHome);
    assert_eq!(h.ui.get_staff_overdue_days(), 0);
    assert!(!h.shows(&WARNING.replace("{0}", "7")), "no warning while deliveries are on time");
    h.tap("Log out");

    for language in ["en", "ar", "ckb"] {
        let in_words = tr(language, WARNING).replace("{0}", "7");
        assert!(language == "en" || in_words != WARNING.replace("{0}", "7"), "{language} has a translation");
        let h = Harness::new();
        h.fake.lock().expect("fake").delivery_overdue_days = Some(7);
        h.choose_language(language);
        h.tap_tr("Staff login");
        h.type_keys("2468");
        h.tap_tr("Log in");
        h.wait_until("the warning", |h| h.ui.get_staff_overdue_days() == 7);
        assert_eq!(h.screen(), Screen::StaffHome);
        assert!(h.shows(&in_words), "the staff home says so in {language}");
        h.save_render(&format!("staff-home-delivery-overdue-{language}"));
    }
}

fn staff_login_lockout_assisted_enrollment_queue_logout() {
    let h = Harness::new();
    h.choose_language("en");
    h.tap("Staff login");
    assert_eq!(h.screen(), Screen::StaffLogin);
    h.type_keys("1111");
    h.tap("Log in");
    h.wait_until("the wrong PIN message", |h| h.ui.get_login_problem() == LoginProblem::WrongPin);
    assert_eq!(h.ui.get_login_attempts_left(), 2);
    assert_eq!(h.ui.get_login_pin(), "", "a refused PIN is cleared");
    h.type_keys("2468");
    h.tap("Log in");
    h.wait_until("staff home", |h| h.screen() == Screen::StaffHome);
    assert_eq!(h.ui.get_staff_name(), "Layla Hassan");
    // Assisted enrollment: the applicant's card fills the national ID.
    h.tap("Enrol a household (read the applicant's ID card)");
    h.wait_until("the form", |h| h.screen() == Screen::Form);
    assert!(h.ui.get_form_assisted());
    assert_eq!(h.field_value("National ID number"), "199012345678");
    let answers = h.kiosk.state.borrow().form.as_ref().map(|f| f.answers_json()).unwrap_or_default();
    assert_eq!(answers["date_of_birth"], "1985-03-14", "the card's date of birth fills the date field");
    h.tap("Back");
    // A staff badge is not an ID card: said so, and nothing opens.
    h.fake.lock().expect("fake").card = Some("badge".into());
    h.tap("Enrol a household (read the applicant's ID card)");
    h.wait_until("the not-an-ID-card notice", |h| h.ui.get_staff_card() == StaffCardRead::NotAnIdCard);
    assert_eq!(h.screen(), Screen::StaffHome);
    assert_eq!(h.screen(), Screen::StaffHome);
    h.tap("Unsent submissions");
    h.wait_until("the queue", |h| h.ui.get_queue_lines().iter().count() == 3);
    assert_eq!(h.ui.get_queue_depth(), 2);
    h.tap("Back");
    h.tap("Log out");
    assert_eq!(h.screen(), Screen::Language);
    h.wait_until("the session is closed at the service", |h| !h.requests("DELETE /v1/sessions/current").is_empty());
    // Three wrong PINs lock the badge.
    h.choose_language("en");
    h.tap("Staff login");
    for _ in 0..3 {
        h.type_keys("0000");
        h.tap("Log in");
        h.wait_until("an answer", |h| !h.ui.get_login_busy());
    }
    h.type_keys("2468");
    h.tap("Log in");
    h.wait_until("the lockout", |h| h.ui.get_login_problem() == LoginProblem::LockedOut);
    assert!(h.kiosk.state.borrow().staff.is_none());
}

fn technician_provisioning_and_hardware() {
    let h = Harness::new();
    h.choose_language("en");
    h.tap("Staff login");
    h.type_keys("2468");
    h.tap("Log in");
    h.wait_until("staff home", |h| h.screen() == Screen::StaffHome);
    h.tap("Technician tools");
    assert_eq!(h.screen(), Screen::Technician);
    h.tap("Provincial office address (URL)");
    h.tap("abc");
    h.type_keys("https://node.bgd.iq");
    h.tap("Done");
    h.tap("Enrollment code");
    h.type_keys("K7Q2-99XM");
    h.tap("Done");
    h.tap("Connect terminal");
    h.wait_until("provisioned", |h| h.ui.get_tech_provisioning() == Provisioning::Done);
    let body = &h.requests("POST /v1/provisioning")[0];
    assert_eq!(body["node_url"], "https://node.bgd.iq");
    assert_eq!(body["code"], "K7Q2-99XM");
    h.tap("Network and sync");
    h.wait_until("diagnostics", |h| h.ui.get_tech_recent().iter().count() == 3);
    assert_eq!(h.ui.get_tech_sync(), SyncState::Idle);
    h.tap("Hardware tests");
    assert_eq!(h.screen(), Screen::Hardware);
    h.tap("Card reader: read a card");
    h.wait_until("card read", |h| h.ui.get_hw_card_state() == HardwareTest::Ok);
    assert_eq!(h.ui.get_hw_card_id(), "04A1B2C3D4E5F6");
    h.tap("Printer: print a test page");
    h.wait_until("test page", |h| h.ui.get_hw_print_state() == HardwareTest::Ok);
    h.tap("Printer: paper and cover state");
    h.wait_until("printer state", |h| h.ui.get_hw_printer_state() == PrinterState::PaperLow);
}

fn idle_timeout_wipes_what_was_typed() {
    let h = Harness::new();
    h.choose_language("ckb");
    h.tap_tr("Apply for support");
    let label = provincial_node::forms::application().steps[0].fields[1].label.get("ckb").to_owned();
    h.tap(&label);
    h.type_keys("ڤیان");
    assert_eq!(h.field_value(&label), "ڤیان");
    h.idle(69);
    assert!(!h.shows(&tr("ckb", "Are you still there?")), "no warning before the last 20 s");
    h.idle(2);
    assert!(h.shows(&tr("ckb", "Are you still there?")), "the countdown warns");
    // A touch gives more time.
    h.tap(&tr("ckb", "I need more time"));
    h.idle(80);
    assert_eq!(h.screen(), Screen::Form);
    assert_eq!(h.field_value(&label), "ڤیان");
    h.idle(11);
    assert_eq!(h.screen(), Screen::Language, "the session ended");
    assert!(h.kiosk.state.borrow().form.is_none(), "the answers are gone from memory");
    assert_eq!(h.ui.get_form_fields().iter().count(), 0, "and from the screen's model");
    assert!(h.find(&label).is_empty());
    assert_eq!(h.ui.get_language(), "ar", "the next person starts in the default language");
}

fn an_idle_set_up_screen_of_an_unprovisioned_terminal_comes_back_empty() {
    let h = Harness::launch(test_options(), |fake| fake.provisioned = false);
    h.wait_until("the set-up screen", |h| h.screen() == Screen::Technician);
    h.tap(&tr("ar", "Provincial office address (URL)"));
    h.tap("abc");
    h.type_keys("https://node");
    assert_eq!(h.kiosk.state.borrow().tech_node_url, "https://node");
    h.idle(95);
    assert_eq!(h.screen(), Screen::Technician, "an unprovisioned terminal has nothing but set-up to show");
    assert_eq!(h.ui.get_tech_tab(), TechTab::Setup);
    assert!(h.kiosk.state.borrow().tech_node_url.is_empty(), "what was typed is gone, as at the end of any session");
}

fn language_switch_mirrors_the_layout() {
    let h = Harness::new();
    h.choose_language("en");
    assert!(!kiosk::ui::Theme::get(&h.ui).get_rtl());
    h.tap("کوردی");
    assert!(kiosk::ui::Theme::get(&h.ui).get_rtl());
    assert_eq!(h.ui.get_language(), "ckb");
    assert!(!h.find(&tr("ckb", "Check my status")).is_empty(), "the labels are Kurdish");
    h.tap("عربي");
    assert_eq!(h.ui.get_language(), "ar");
    assert!(!h.find(&tr("ar", "Check my status")).is_empty());
}

use kiosk::ui::Theme;
use slint::Global;
use slint::Model;

fn first_boot_unprovisioned_opens_the_set_up_screen() {
    let h = Harness::launch(test_options(), |fake| fake.provisioned = false);
    assert_eq!(h.screen(), Screen::Language, "until the service answers");
    h.wait_until("the set-up screen", |h| h.screen() == Screen::Technician);
    assert_eq!(h.ui.get_tech_tab(), TechTab::Setup);
    assert!(!h.ui.get_provisioned());
    assert!(h.shows(&tr("ar", "Not provisioned yet")));
    assert_eq!(h.ui.get_language(), "ar");
    // Provisioning goes on as it does from "Staff login" on an unprovisioned terminal.
    h.tap(&tr("ar", "Provincial office address (URL)"));
    h.tap("abc");
    h.type_keys("https://node.bgd.iq");
    h.tap_tr("Done");
    h.tap(&tr("ar", "Enrollment code"));
    h.type_keys("K7Q2-99XM");
    h.tap_tr("Done");
    h.tap_tr("Connect terminal");
    h.wait_until("provisioned", |h| h.ui.get_tech_provisioning() == Provisioning::Done);
    assert_eq!(h.requests("POST /v1/provisioning")[0]["code"], "K7Q2-99XM");
    h.wait_until("the forms of the node", |h| h.ui.get_forms_ready());
    assert_eq!(h.screen(), Screen::Technician, "the next health answer moves nobody");
    h.tap_tr("Back");
    assert_eq!(h.screen(), Screen::Home);
    assert!(h.ui.get_provisioned());
}

fn first_boot_leaves_a_touched_screen_alone() {
    let h = Harness::launch(test_options(), |fake| fake.provisioned = false);
    // Touched before the service's first answer is applied (`launch` pumps nothing): the status
    // bar's language switch, which leaves the language screen in place.
    h.tap("English");
    assert_eq!(h.ui.get_language(), "en");
    h.wait_until("the first health answer", |h| !h.kiosk.state.borrow().service_version.is_empty());
    assert!(!h.kiosk.state.borrow().provisioned, "the service said unprovisioned");
    assert_eq!(h.screen(), Screen::Language, "the person who touched the screen keeps it");
    // The way to the set-up screen is still there.
    h.choose_language("en");
    h.tap("Technician: set up this terminal");
    assert_eq!(h.screen(), Screen::Technician);
}

/// The files in a state directory and what each holds.
fn state_files(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("list the state directory")
        .map(|e| {
            let e = e.expect("directory entry");
            (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).expect("read a state file"))
        })
        .collect();
    files.sort();
    files
}

fn language_on_screen_survives_a_restart() {
    let state = tempfile::tempdir().expect("state dir");
    let options = || KioskOptions { state_dir: Some(state.path().to_owned()), ..test_options() };
    let remembered = |code: &str| vec![("language".to_owned(), format!("{code}\n"))];
    {
        let h = Harness::launch(options(), |_| {}).loaded();
        assert_eq!(h.ui.get_language(), "ar", "nothing remembered yet: the default");
        h.choose_language("en");
        assert_eq!(state_files(state.path()), remembered("en"));
        // What an applicant types is never written; the language stays the only file.
        h.tap("Apply for support");
        let label = provincial_node::forms::application().steps[0].fields[1].label.get("en").to_owned();
        h.tap(&label);
        h.type_keys("زينب");
        assert_eq!(h.field_value(&label), "زينب");
        assert_eq!(state_files(state.path()), remembered("en"));
        // The kiosk goes away mid-session, as in a crash.
    }
    let h = Harness::launch(options(), |_| {}).loaded();
    assert_eq!(h.screen(), Screen::Language);
    assert_eq!(h.ui.get_language(), "en", "the remembered language wins over the service's default (ar)");
    assert!(!Theme::get(&h.ui).get_rtl(), "laid out left to right");
    assert!(h.shows("Printer ready") && !h.shows(&tr("ar", "Printer ready")), "the status bar speaks English");
    // Changed from the status bar: remembered too.
    h.tap("کوردی");
    assert_eq!(h.ui.get_language(), "ckb");
    assert!(Theme::get(&h.ui).get_rtl());
    assert_eq!(state_files(state.path()), remembered("ckb"));
    h.choose_language("ckb");
    // When the session ends the default language comes back, and is what a restart shows.
    h.idle(91);
    assert_eq!(h.screen(), Screen::Language, "the session ended");
    assert_eq!(h.ui.get_language(), "ar");
    assert_eq!(state_files(state.path()), remembered("ar"));
    drop(h);
    let h = Harness::launch(options(), |_| {}).loaded();
    assert_eq!(h.ui.get_language(), "ar");
    assert!(Theme::get(&h.ui).get_rtl());
}

fn a_language_file_the_kiosk_did_not_write_means_the_default() {
    let state = tempfile::tempdir().expect("state dir");
    let file = state.path().join("language");
    for contents in ["", "english\n", "en\nckb\n", "EN\n", "fr\n"] {
        std::fs::write(&file, contents).expect("write the language file");
        let h = Harness::launch(KioskOptions { state_dir: Some(state.path().to_owned()), ..test_options() }, |_| {}).loaded();
        assert_eq!(h.ui.get_language(), "ar", "{contents:?} means the default");
        assert!(Theme::get(&h.ui).get_rtl());
        assert_eq!(std::fs::read_to_string(&file).ok().as_deref(), Some("ar\n"), "the file says again what is on screen");
    }
    // A state directory that cannot be written costs the memory, not the kiosk.
    let not_a_dir = state.path().join("not-a-dir");
    std::fs::write(&not_a_dir, "").expect("write");
    let h = Harness::launch(KioskOptions { state_dir: Some(not_a_dir), ..test_options() }, |_| {}).loaded();
    h.choose_language("en");
    h.tap("Check my status");
    assert_eq!(h.screen(), Screen::Status);
}

/// A scan event: what the service publishes when the scanner read `payload`.
fn scan(payload: Option<&str>) -> kiosk::api::ServiceEvent {
    kiosk::api::ServiceEvent::Scan(match payload {
        Some(p) => local_api::ScanEvent::read(p.into()),
        None => local_api::ScanEvent::unreadable(local_api::ScanProblem::Garbled),
    })
}

fn referral_refused_then_scanned_starts_a_prefilled_application_that_carries_it() {
    let h = Harness::launch(test_options(), |f| f.scanner = true).loaded();
    h.choose_language("ar");
    h.tap_tr("I have a referral");
    assert_eq!(h.screen(), Screen::Referral);
    assert!(h.ui.get_referral_scanner(), "the scanner is offered");
    h.tap_tr("Check the referral");
    assert_eq!(h.ui.get_referral_problem(), ReferralProblem::Empty);
    assert!(h.requests("POST /v1/referrals/check").is_empty(), "nothing typed, nothing asked");
    h.type_keys(EXPIRED_REFERRAL);
    assert_eq!(h.ui.get_referral_code(), EXPIRED_REFERRAL);
    h.tap_tr("Check the referral");
    h.wait_until("the refusal", |h| h.ui.get_referral_problem() == ReferralProblem::Expired);
    assert!(h.shows(&tr("ar", "This referral has expired. Please ask the organisation that gave it to you for a new one.")), "the reason, in words");
    assert_eq!(h.requests("POST /v1/referrals/check")[0], json!({"code": EXPIRED_REFERRAL}));
    // A garbled scan says so; a good one is checked at once and opens the application.
    h.kiosk.on_event(scan(None));
    assert_eq!(h.ui.get_referral_problem(), ReferralProblem::UnreadableScan);
    h.kiosk.on_event(scan(Some(VALID_REFERRAL.1)));
    h.wait_until("the application", |h| h.screen() == Screen::Form);
    assert_eq!(h.requests("POST /v1/referrals/check")[1], json!({"payload": VALID_REFERRAL.1}));
    assert_eq!(h.ui.get_form_referral_code(), VALID_REFERRAL.0);
    assert_eq!((h.ui.get_form_referral_partner().as_str(), h.ui.get_form_referral_case().as_str()), ("WFP", "IRQ-BGD-2026-004217"));
    let answers = h.kiosk.state.borrow().form.as_ref().map(|f| f.answers_json()).expect("a form");
    assert_eq!((answers["household_size"].clone(), answers["governorate"].clone()), (json!(6), json!("BGD")), "{answers:?}");
    fill_application(&h, "زينب", "علي حسن");
    h.tap_tr("Submit");
    h.wait_until("the receipt", |h| h.screen() == Screen::Receipt);
    let sent = &h.requests("POST /v1/applications")[0];
    assert_eq!(sent["referral"], json!({"code": VALID_REFERRAL.0, "payload": VALID_REFERRAL.1}));
    assert_eq!(sent["answers"]["household_size"], json!(6), "the referral's size stands");
    h.tap_tr("Finish");

    // Refused, the household may apply all the same: without the referral.
    h.choose_language("en");
    h.tap("I have a referral");
    h.type_keys(EXPIRED_REFERRAL);
    h.tap("Check the referral");
    h.wait_until("the refusal", |h| h.ui.get_referral_problem() == ReferralProblem::Expired);
    h.tap("Apply without the referral");
    assert_eq!(h.screen(), Screen::Form);
    assert_eq!(h.ui.get_form_referral_code(), "");
    assert!(h.kiosk.state.borrow().taken_referral.is_none());
    // A slip shown on the form is not taken either.
    h.kiosk.on_event(scan(Some(VALID_REFERRAL.1)));
    h.pump();
    assert_eq!((h.screen(), h.requests("POST /v1/referrals/check").len()), (Screen::Form, 3));
}

fn referral_scanned_on_the_home_screen_opens_the_referral_screen_and_checks_it() {
    let h = Harness::launch(test_options(), |f| f.scanner = true).loaded();
    // Before a language is chosen, and on a screen someone is busy with, a slip moves nobody.
    h.kiosk.on_event(scan(Some(VALID_REFERRAL.1)));
    h.pump();
    assert_eq!(h.screen(), Screen::Language);
    h.choose_language("ckb");
    h.tap_tr("Check my status");
    h.kiosk.on_event(scan(Some(VALID_REFERRAL.1)));
    h.pump();
    assert_eq!(h.screen(), Screen::Status);
    assert!(h.requests("POST /v1/referrals/check").is_empty());
    // On the home screen a garbled scan opens the referral screen and says so.
    h.tap_tr("Back");
    assert_eq!(h.screen(), Screen::Home);
    h.kiosk.on_event(scan(None));
    h.pump();
    assert_eq!((h.screen(), h.ui.get_referral_problem()), (Screen::Referral, ReferralProblem::UnreadableScan));
    h.tap_tr("Back");
    // A good one is checked at once and opens the application it fills in.
    h.kiosk.on_event(scan(Some(VALID_REFERRAL.1)));
    h.wait_until("the application", |h| h.screen() == Screen::Form);
    assert_eq!(h.requests("POST /v1/referrals/check"), [json!({"payload": VALID_REFERRAL.1})]);
    assert_eq!(h.ui.get_form_referral_code(), VALID_REFERRAL.0);
}

fn referral_typed_while_the_node_is_offline_goes_on_unchecked() {
    let h = Harness::new();
    h.fake.lock().expect("fake").node_online = false;
    h.choose_language("ckb");
    h.tap_tr("I have a referral");
    assert!(!h.ui.get_referral_scanner(), "no scanner: only the code is asked for");
    h.type_keys(VALID_REFERRAL.0);
    h.tap_tr("Check the referral");
    h.wait_until("the unchecked answer", |h| h.ui.get_referral_mode() == ReferralMode::Unchecked);
    assert!(!h.ui.get_referral_clock_not_set());
    h.tap_tr("Continue to the application");
    assert_eq!(h.screen(), Screen::Form);
    assert_eq!((h.ui.get_form_referral_code().as_str(), h.ui.get_form_referral_partner().as_str()), (VALID_REFERRAL.0, ""));
    fill_application(&h, "ڕێژنە", "ئاڵۆز");
    h.tap_tr("Submit");
    h.wait_until("the receipt", |h| h.screen() == Screen::Receipt);
    // Only the code: the node looks it up and checks it on delivery.
    assert_eq!(h.requests("POST /v1/applications")[0]["referral"], json!({"code": VALID_REFERRAL.0}));
}

fn staff_queue_shows_referrals_the_node_refused_with_the_reason() {
    let h = Harness::launch(test_options(), |f| {
        f.referral_refusals = json!([{"id": "0193a0c4-7b1e-7000-8000-00000000000d", "reference": "7K2QX-M4B9R", "case_number": "BGD-2026-000124",
            "code": VALID_REFERRAL.0, "reason": "already_used", "refused_at": "2026-11-24T10:40:00Z"}]);
    })
    .loaded();
    h.choose_language("en");
    h.tap("Staff login");
    h.type_keys("2468");
    h.tap("Log in");
    h.wait_until("staff home", |h| h.screen() == Screen::StaffHome);
    h.tap("Unsent submissions");
    h.wait_until("the queue", |h| slint::Model::row_count(&h.ui.get_queue_referral_refusals()) == 1);
    let line = slint::Model::row_data(&h.ui.get_queue_referral_refusals(), 0).expect("a line");
    assert_eq!((line.code.as_str(), line.reference.as_str(), line.case_number.as_str(), line.reason), (VALID_REFERRAL.0, "7K2QX-M4B9R", "BGD-2026-000124", ReferralProblem::AlreadyUsed));
    let words = kiosk::ui::ReferralWords::get(&h.ui).invoke_problem(line.reason);
    assert_eq!(words, "This referral was already used for an application. Each referral can be used once.");
    // Staff enrol with a referral from their home screen too, and come back to it.
    h.tap("Back");
    h.tap("Enrol with a partner's referral");
    assert_eq!(h.screen(), Screen::Referral);
    h.tap("Back");
    assert_eq!(h.screen(), Screen::StaffHome);
}
