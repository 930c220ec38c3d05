//! The node's targeting questionnaire after an application (issue 14): asked on the form screen
//! with its skip logic, reviewed, sent in the application's `targeting` field, and replaced by
//! a new version served by the node without a new kiosk.

use node_protocol::{FormDefinition, FormField};
use crate::common::{fill_application_steps, Harness};
use kiosk::ui::Screen;
use slint::{ComponentHandle, Model};

/// The questionnaire as the reference node serves it on first start.
pub fn served() -> FormDefinition {
    provincial_node::targeting::questionnaire_v1()
}

fn field<'a>(form: &'a FormDefinition, id: &str) -> &'a FormField {
    form.steps.iter().flat_map(|s| s.fields.iter()).find(|f| f.id == id).unwrap_or_else(|| panic!("the questionnaire asks {id}"))
}

/// A kiosk whose terminal serves `questionnaire`, in `language`, on the questionnaire's first
/// step after a filled application.
pub fn on_questionnaire(language: &str, questionnaire: FormDefinition) -> Harness {
    let h = Harness::launch(crate::common::test_options(), |f| f.questionnaire = Some(questionnaire)).loaded();
    h.choose_language(language);
    h.tap_tr("Apply for support");
    // Names in the keyboard's letters (Kurdish writes ی where Arabic writes ي).
    let (name, relative) = if language == "ckb" { ("ڕێژنە", "ئاڵۆز") } else { ("زينب", "علي") };
    fill_application_steps(&h, name, relative);
    assert_eq!(h.ui.get_form_step(), 2);
    assert!(!h.ui.get_form_last_step(), "the application's last step leads on to the questionnaire");
    h.tap_tr("Next");
    assert_eq!(h.screen(), Screen::Form);
    assert!(h.ui.get_form_questionnaire(), "the questionnaire follows the application");
    h
}

/// Touches option `value` of choice question `id`; `nth` counts earlier questions on screen
/// with the same option labels (the yes/no questions).
fn choose(h: &Harness, form: &FormDefinition, id: &str, value: &str, nth: usize) {
    let lang = h.ui.get_language().to_string();
    let f = field(form, id);
    let label = f.options.iter().find(|o| o.value == value).unwrap_or_else(|| panic!("{id} offers {value}")).label.get(&lang).to_owned();
    h.tap_nth(&label, nth);
}

/// Whether question `id` is among the fields on screen.
fn asked(h: &Harness, id: &str) -> bool {
    h.ui.get_form_fields().iter().any(|f| f.id == id)
}

fn type_number(h: &Harness, form: &FormDefinition, id: &str, digits: &str) {
    let lang = h.ui.get_language().to_string();
    h.tap(field(form, id).label.get(&lang));
    h.type_keys(digits);
    h.tap_tr("Done");
}

/// Answers the built-in questionnaire from its first step to the review; `disability` answers
/// the question whose follow-up appears only on yes.
pub fn answer(h: &Harness, form: &FormDefinition, disability: bool) {
    let lang = h.ui.get_language().to_string();
    assert_eq!(h.ui.get_form_title(), form.title.get(&lang));
    // Housing.
    assert_eq!(h.ui.get_form_step(), 0);
    h.tap_tr("Next");
    assert_eq!(h.ui.get_form_step(), 0, "required questions stop the step");
    choose(h, form, "dwelling_type", "unfinished", 0);
    type_number(h, form, "rooms", "2");
    choose(h, form, "tenure", "hosted", 0);
    h.tap_tr("Next");
    // Assets: four yes/no questions, in order.
    assert_eq!(h.ui.get_form_step(), 1);
    for (i, id) in ["has_fridge", "has_car", "has_generator_line", "has_livestock"].into_iter().enumerate() {
        choose(h, form, id, if i == 0 { "yes" } else { "no" }, i);
    }
    h.tap_tr("Next");
    // Income.
    assert_eq!(h.ui.get_form_step(), 2);
    choose(h, form, "main_income", "daily_labour", 0);
    type_number(h, form, "earners", "1");
    // The question a later version adds (see `a_new_version_from_the_node_is_asked_…`).
    if form.steps[2].fields.iter().any(|f| f.id == "months_without_work") {
        h.tap_tr("Next");
        assert_eq!(h.ui.get_form_step(), 2, "the new question is required");
        type_number(h, form, "months_without_work", "7");
    }
    h.tap_tr("Next");
    // Household: the number with a disability is asked only after a yes.
    assert_eq!(h.ui.get_form_step(), 3);
    assert!(!asked(h, "members_with_disability"), "the follow-up question is hidden until its condition holds");
    for (id, n) in [("members_under_5", "1"), ("members_5_17", "2"), ("members_18_59", "2"), ("members_60_plus", "0")] {
        type_number(h, form, id, n);
    }
    choose(h, form, "has_disability", "yes", 0);
    assert!(asked(h, "members_with_disability"), "a yes shows the follow-up question");
    h.tap_tr("Next");
    assert_eq!(h.ui.get_form_step(), 3, "the follow-up, now asked, is required");
    if disability {
        type_number(h, form, "members_with_disability", "1");
    } else {
        // No after all: the follow-up leaves, and with it the requirement.
        choose(h, form, "has_disability", "no", 0);
        assert!(!asked(h, "members_with_disability"));
    }
    h.tap_tr("Next");
    // Displacement: the last step says Review.
    assert_eq!(h.ui.get_form_step(), 4);
    assert!(h.ui.get_form_last_step());
    choose(h, form, "displacement", "idp", 0);
    h.tap_tr("Review");
    assert_eq!(h.screen(), Screen::Review);
}

/// In Kurdish: the application, then the questionnaire with a follow-up shown by skip logic;
/// the review lists both; the answers go in `targeting`, numbers as numbers.
pub fn questionnaire_after_the_application_in_kurdish() {
    let form = served();
    let h = on_questionnaire("ckb", form.clone());
    // Back from its first step: the application's last; Next again: the questionnaire.
    h.tap_tr("Back");
    assert!(!h.ui.get_form_questionnaire());
    assert_eq!(h.ui.get_form_step(), 2);
    h.tap_tr("Next");
    assert!(h.ui.get_form_questionnaire());
    answer(&h, &form, true);
    let review: Vec<String> = h.ui.get_review_lines().iter().filter(|l| l.heading).map(|l| l.value.to_string()).collect();
    let application = provincial_node::forms::application();
    assert_eq!(review.len(), application.steps.len() + form.steps.len(), "{review:?}");
    assert_eq!(review.last().map(String::as_str), form.steps.last().map(|s| s.title.get("ckb")));
    assert_eq!(h.ui.get_form_title(), application.title.get("ckb"), "the review is the application's");

    // Change on a questionnaire step goes back to it.
    let housing = h.ui.get_review_lines().iter().find(|l| l.heading && l.value == form.steps[0].title.get("ckb")).expect("the housing step is reviewed");
    // Its Change button, as the list would offer it once scrolled to.
    h.ui.global::<kiosk::ui::ReviewActions>().invoke_edit_step(housing.step);
    h.pump();
    assert_eq!(h.screen(), Screen::Form);
    assert!(h.ui.get_form_questionnaire());
    assert_eq!(h.ui.get_form_step(), 0);
    for _ in 0..form.steps.len() - 1 {
        h.tap_tr("Next");
    }
    h.tap_tr("Review");

    h.tap_tr("Submit");
    h.wait_until("the receipt screen", |h| h.screen() == Screen::Receipt);
    let sent = h.requests("POST /v1/applications");
    assert_eq!(sent.len(), 1);
    let t = &sent[0]["targeting"];
    assert_eq!(t["dwelling_type"], "unfinished");
    assert_eq!(t["rooms"], 2, "numbers are sent as numbers");
    assert_eq!(t["has_fridge"], "yes");
    assert_eq!(t["has_livestock"], "no");
    assert_eq!(t["members_5_17"], 2);
    assert_eq!(t["members_with_disability"], 1);
    assert_eq!(t["displacement"], "idp");
    assert_eq!(sent[0]["answers"]["first_name"], "ڕێژنە", "the application's answers stay apart");
    assert!(sent[0]["answers"].get("rooms").is_none());
    assert!(h.kiosk.state.borrow().targeting.session.is_none(), "the questionnaire's answers are dropped once captured");
}

/// The node's operator changes the questionnaire (a new question): the kiosk asks the new
/// version at its next refresh of the terminal's forms, with no new kiosk. A follow-up
/// answered then hidden is not sent; a question the service refuses brings the questionnaire
/// back on screen at its step.
pub fn a_new_version_from_the_node_is_asked_without_a_new_kiosk() {
    let mut v2 = served();
    v2.version = "pmt-2".into();
    let question = FormField {
        min: Some(0),
        max: Some(99),
        ..FormField::new("months_without_work", node_protocol::LocalizedText::new("أشهر بلا عمل", "مانگەکانی بێکاری", "Months without work"), node_protocol::FieldType::Number)
    };
    v2.steps[2].fields.push(question);
    let h = on_questionnaire("en", served());
    choose(&h, &v2, "dwelling_type", "house", 0);
    // The served version changes (as the terminal's config sync brings it) and the kiosk reads
    // the forms again, as it does every 30 seconds.
    h.fake.lock().expect("fake").questionnaire = Some(v2.clone());
    h.kiosk.refresh_terminal();
    h.wait_until("the new version is in", |h| {
        h.kiosk.state.borrow().forms.as_ref().is_some_and(|f| f.forms.iter().any(|f| f.version == "pmt-2"))
    });
    // Back to the application and on again: the new version, asked afresh.
    h.tap_tr("Back");
    assert_eq!(h.ui.get_form_step(), 2);
    assert!(!h.ui.get_form_questionnaire());
    h.tap_tr("Next");
    assert!(h.ui.get_form_questionnaire());
    let version = h.kiosk.state.borrow().targeting.session.as_ref().map(|q| q.form().version.clone());
    assert_eq!(version.as_deref(), Some("pmt-2"));
    assert!(h.kiosk.state.borrow().filling().is_some_and(|q| q.answers_json().is_empty()), "the old version's answers are not carried over");
    answer(&h, &v2, false);
    assert!(h.ui.get_review_lines().iter().any(|l| l.label == "Months without work"), "the new question is reviewed");

    h.fake.lock().expect("fake").refuse_next = Some(("targeting.rooms".into(), "more rooms than the dwelling type allows".into()));
    h.tap_tr("Submit");
    h.wait_until("back on the form", |h| h.screen() == Screen::Form);
    assert!(h.ui.get_form_questionnaire());
    assert_eq!(h.ui.get_form_step(), 0, "rooms is on the housing step");
    let rooms = h.ui.get_form_fields().iter().find(|f| f.id == "rooms").expect("rooms is on screen");
    assert!(rooms.error.contains("more rooms than the dwelling type allows"), "{}", rooms.error);
    assert!(!h.ui.get_form_problem().is_empty());
    let refused = h.requests("POST /v1/applications");
    assert_eq!(refused[0]["targeting"]["has_disability"], "no");
    assert_eq!(refused[0]["targeting"].get("members_with_disability"), None, "a hidden question's answer is never sent");

    for _ in 1..v2.steps.len() {
        h.tap_tr("Next");
    }
    h.tap_tr("Review");
    h.tap_tr("Submit");
    h.wait_until("the receipt screen", |h| h.screen() == Screen::Receipt);
    let sent = h.requests("POST /v1/applications");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1]["targeting"]["months_without_work"], 7);
    assert_eq!(sent[1]["targeting"]["rooms"], 2);
}
