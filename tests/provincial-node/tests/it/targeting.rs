//! The targeting questionnaire across a change of questions and formula: the node serves v1,
//! scores a filing with formula v1, the operator edits both files, the terminal's heartbeat
//! sees a new configuration version, `GET /v1/config` serves v2 (a follow-up question shown
//! only to displaced households), and the next filing is scored with formula v2 while the old
//! score keeps its version. The score never reaches the terminal.

use std::sync::Arc;

use crate::common::*;
use node_protocol::signature::ENROLL_KEY_ID;
use node_protocol::{EnrollResponse, NodeConfig, QuestionnaireAnswers, ShowWhen, SubmissionContent, SubmissionKind, TARGETING_FORM_ID};
use provincial_node::targeting::{self, FORMULA_FILE, QUESTIONNAIRE_FILE};
use provincial_node::Node;
use serde_json::{json, Value};

struct Province {
    base: String,
    key: ed25519_dalek::SigningKey,
    enrollment: EnrollResponse,
}

impl Province {
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        post_signed(&self.base, &self.key, &self.enrollment.terminal_id, path, body).await
    }

    async fn config(&self) -> NodeConfig {
        let response = send_signed_to(&self.base, &self.key, &self.enrollment.terminal_id, "GET", "/v1/config", b"", now(), &nonce()).await;
        let (status, body) = json(response).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).expect("NodeConfig")
    }

    async fn heartbeat(&self) -> String {
        let beat = json!({"software_version":"0.1.0","queue_depth":0,"dead_letters":0,"printer":"ok","reader":"ok","disk_free_bytes":1,"sent_at":"2026-01-01T00:00:00Z"});
        let (status, body) = self.post("/v1/heartbeat", &beat).await;
        assert_eq!(status, 200, "{body}");
        body["config_version"].as_str().expect("config_version").to_owned()
    }

    /// Files one application carrying `answers` to the questionnaire version `version`; the
    /// node's whole answer and the case number.
    async fn apply(&self, version: &str, answers: Value) -> (Value, String) {
        let id = uuid::Uuid::now_v7();
        let content = SubmissionContent {
            id,
            kind: SubmissionKind::Application,
            form_id: "application".into(),
            form_version: provincial_node::forms::FORM_VERSION.into(),
            language: "ckb".into(),
            answers: application_answers(&random_national_id(), "1985-03-01").as_object().cloned().unwrap_or_default(),
            assisted_by: None,
            terminal_id: self.enrollment.terminal_id.clone(),
            duplicate_override: None,
            referral: None,
            targeting: Some(QuestionnaireAnswers {
                form_id: TARGETING_FORM_ID.into(),
                form_version: version.into(),
                answers: answers.as_object().cloned().unwrap_or_default(),
            }),
        };
        let envelope = envelope_for(&content, &self.enrollment.sealing_recipient);
        let (status, body) = self.post("/v1/submissions", &json!({"envelopes": [envelope]})).await;
        assert_eq!(status, 200, "{body}");
        let case = body["results"][0]["case_number"].as_str().unwrap_or_else(|| panic!("accepted: {body}")).to_owned();
        (body, case)
    }
}

fn v1_answers() -> Value {
    json!({
        "dwelling_type": "tent_or_caravan", "rooms": 1, "tenure": "informal",
        "has_fridge": "no", "has_car": "no", "has_generator_line": "yes", "has_livestock": "no",
        "main_income": "daily_labour", "earners": 1,
        "members_under_5": 2, "members_5_17": 1, "members_18_59": 2, "members_60_plus": 0,
        "has_disability": "no", "displacement": "idp"
    })
}

#[tokio::test]
async fn a_change_of_questions_and_formula_reaches_the_terminal_and_the_next_score_without_new_software() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("node");
    let node = Arc::new(Node::open(&data, Some("Erbil")).expect("open node"));
    let base = serve_on_loopback(node.clone());
    let key = new_key();
    let code = node.issue_code(60).expect("code");
    let (status, body) = post_signed(&base, &key, ENROLL_KEY_ID, "/v1/terminals/enroll", &serde_json::to_value(enroll_request(&code, &key)).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let province = Province { base, key, enrollment: serde_json::from_value(body).expect("EnrollResponse") };

    // v1 is served, after the application and grievance forms, in the three languages.
    let config = province.config().await;
    assert_eq!(config.forms.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), vec!["application", "grievance", TARGETING_FORM_ID]);
    let v1 = config.forms.last().expect("questionnaire").clone();
    assert_eq!(v1.version, "pmt-1");
    let displacement = v1.steps.iter().flat_map(|s| &s.fields).find(|f| f.id == "displacement").expect("displacement question");
    assert_eq!(displacement.options.iter().map(|o| o.value.as_str()).collect::<Vec<_>>(), ["resident", "idp", "returnee", "refugee"]);
    assert!(displacement.options.iter().all(|o| !o.label.ar.is_empty() && !o.label.ckb.is_empty() && !o.label.en.is_empty()));
    let version_1 = province.heartbeat().await;
    assert_eq!(version_1, config.version);

    // Filed and scored with formula v1; the terminal's answer carries no score.
    let (answer, first_case) = province.apply("pmt-1", v1_answers()).await;
    let text = answer.to_string();
    assert!(!text.contains("score") && !text.contains("pmt-formula") && !text.contains("targeting"), "{text}");
    let expected_1 = targeting::formula_v1().score(v1_answers().as_object().unwrap());
    let scores = targeting::scores(&node.db()).expect("scores");
    assert_eq!(scores.len(), 1);
    assert_eq!((scores[0].case_number.as_str(), scores[0].questionnaire_version.as_str(), scores[0].formula_version.as_str()), (first_case.as_str(), "pmt-1", "pmt-formula-1"));
    assert!((scores[0].score - expected_1).abs() < 1e-9, "{} vs {expected_1}", scores[0].score);

    // The operator adds a question asked only of displaced households, and a formula weighing it.
    let mut v2 = v1.clone();
    v2.version = "pmt-2".into();
    let mut in_camp = v2.steps.last().unwrap().fields[0].clone();
    in_camp.id = "lives_in_camp".into();
    in_camp.label = node_protocol::LocalizedText::new("هل تسكن في مخيم؟", "لە کەمپ دەژیت؟", "Do you live in a camp?");
    in_camp.options.truncate(0);
    in_camp.options.push(node_protocol::ChoiceOption { value: "yes".into(), label: node_protocol::LocalizedText::new("نعم", "بەڵێ", "Yes") });
    in_camp.options.push(node_protocol::ChoiceOption { value: "no".into(), label: node_protocol::LocalizedText::new("لا", "نەخێر", "No") });
    in_camp.show_when = Some(ShowWhen { field: "displacement".into(), equals: None, one_of: vec!["idp".into(), "refugee".into()], at_least: None });
    v2.steps.last_mut().unwrap().fields.push(in_camp);
    let mut formula_2 = targeting::formula_v1();
    formula_2.version = "pmt-formula-2".into();
    formula_2.choices.insert("lives_in_camp".into(), [("yes".to_string(), -0.5)].into_iter().collect());
    let staged = dir.path().join("formula-2.json");
    std::fs::write(&staged, serde_json::to_string_pretty(&formula_2).unwrap()).unwrap();
    let staged_questionnaire = dir.path().join("questionnaire-2.json");
    std::fs::write(&staged_questionnaire, serde_json::to_string_pretty(&v2).unwrap()).unwrap();
    // Checked before going live, with the node's CLI.
    let (ok, out, err) = run_cli(&["targeting", "formula", "check", staged.to_str().unwrap(), "--questionnaire", staged_questionnaire.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let (ok, _, err) = run_cli(&["targeting", "formula", "check", staged.to_str().unwrap()]);
    assert!(!ok && err.contains("no question 'lives_in_camp'"), "against v1 the new weight names an unknown question: {err}");
    std::fs::copy(&staged_questionnaire, data.join(QUESTIONNAIRE_FILE)).unwrap();
    std::fs::copy(&staged, data.join(FORMULA_FILE)).unwrap();

    // The terminal's next heartbeat names a new version; its config fetch gets v2.
    let version_2 = province.heartbeat().await;
    assert_ne!(version_2, version_1);
    let config = province.config().await;
    assert_eq!(config.version, version_2);
    let served = config.forms.iter().find(|f| f.id == TARGETING_FORM_ID).expect("questionnaire");
    assert_eq!(served, &v2);

    let mut v2_answers = v1_answers();
    v2_answers["lives_in_camp"] = json!("yes");
    let (answer, second_case) = province.apply("pmt-2", v2_answers.clone()).await;
    assert!(!answer.to_string().contains("score"), "{answer}");
    let scores = targeting::scores(&node.db()).expect("scores");
    let first = scores.iter().find(|s| s.case_number == first_case).expect("first score kept");
    let second = scores.iter().find(|s| s.case_number == second_case).expect("second score");
    assert_eq!((first.formula_version.as_str(), first.score), ("pmt-formula-1", expected_1));
    assert_eq!((second.questionnaire_version.as_str(), second.formula_version.as_str()), ("pmt-2", "pmt-formula-2"));
    assert!((second.score - (expected_1 - 0.5)).abs() < 1e-9, "{}", second.score);

    // Staff read the scores at the node.
    let (ok, out, err) = run_cli(&["targeting", "scores", "--data", data.to_str().unwrap(), "--json"]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
}

#[tokio::test]
async fn a_broken_questionnaire_file_keeps_the_last_good_version_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("node");
    let node = Node::open(&data, Some("Erbil")).expect("open node");
    let before = node.config();
    std::fs::write(data.join(QUESTIONNAIRE_FILE), b"{\"id\": \"targeting\", ").unwrap();
    let after = node.config();
    assert_eq!(after.version, before.version);
    let (ok, _, err) = run_cli(&["targeting", "questionnaire", "check", data.join(QUESTIONNAIRE_FILE).to_str().unwrap()]);
    assert!(!ok && err.contains(QUESTIONNAIRE_FILE) && err.contains("not valid JSON"), "{err}");
}
