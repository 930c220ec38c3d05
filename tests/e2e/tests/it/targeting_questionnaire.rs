//! The targeting questionnaire across processes (issue 14): the node serves version 1 from its
//! operator's file; the terminal serves it to the kiosk and checks answers against it (skip
//! logic: a hidden question is never required, and an answer to one is refused); the operator
//! changes the questionnaire (a new question) and the formula; the same terminal process picks
//! up version 2 at its next heartbeat and the next application arrives scored with the new
//! formula's version. No score ever crosses the local API.

use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use e2e::local_api::LocalApi;
use e2e::processes::{binary, free_port, NodeProcess, TerminalProcess};
use e2e::sample::{answers, Applicant};
use node_protocol::SubmissionKind;
use serde_json::{json, Value};

/// The targeting form among those the terminal serves the kiosk.
async fn served_questionnaire(api: &LocalApi) -> Result<Value> {
    let forms = api.get_json("/v1/forms").await?;
    forms["forms"].as_array().and_then(|f| f.iter().find(|f| f["id"] == "targeting")).cloned().context("the terminal serves no targeting questionnaire")
}

/// Posts an application as the kiosk does: the application's answers and the questionnaire's.
async fn apply(api: &LocalApi, answers: &Value, targeting: &Value) -> Result<(u16, Value)> {
    let body = json!({"language": "ckb", "answers": answers, "targeting": targeting});
    let (status, text) = api.raw("POST", "/v1/applications", Some("application/json"), serde_json::to_vec(&body)?).await?;
    Ok((status, serde_json::from_str(&text).with_context(|| format!("not JSON: {text}"))?))
}

/// The fields a 422 names.
fn refused_fields(answer: &Value) -> Vec<String> {
    answer["fields"].as_array().map(|f| f.iter().filter_map(|f| f["field"].as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// A household's answers to the built-in questionnaire (no one with a disability: the
/// follow-up is not asked).
fn household() -> Value {
    json!({
        "dwelling_type": "tent_or_caravan", "rooms": 1, "tenure": "informal",
        "has_fridge": "no", "has_car": "no", "has_generator_line": "yes", "has_livestock": "no",
        "main_income": "aid", "earners": 0,
        "members_under_5": 2, "members_5_17": 1, "members_18_59": 2, "members_60_plus": 0,
        "has_disability": "no", "displacement": "idp"
    })
}

/// `household()` changed by `change` (a null removes the answer).
fn household_with(change: Value) -> Value {
    let mut answers = household();
    if let (Some(answers), Some(change)) = (answers.as_object_mut(), change.as_object()) {
        for (k, v) in change {
            if v.is_null() {
                answers.remove(k);
            } else {
                answers.insert(k.clone(), v.clone());
            }
        }
    }
    answers
}

/// `provincial-node targeting scores --json`: what staff see at the node.
fn scores(node: &NodeProcess) -> Result<Vec<Value>> {
    let out = Command::new(binary("provincial-node")?).args(["targeting", "scores", "--json", "--data"]).arg(&node.data).output()?;
    if !out.status.success() {
        bail!("targeting scores: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(serde_json::from_slice::<Value>(&out.stdout)?.as_array().cloned().unwrap_or_default())
}

/// Fails when `text` (an answer of the local API) carries anything of a score.
fn assert_no_score(what: &str, text: &str) {
    for word in ["score", "formula", "pmt-formula"] {
        assert!(!text.to_lowercase().contains(word), "{what} carries '{word}': {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_questionnaire_and_formula_reach_the_terminal_without_an_update() -> Result<()> {
    let dir = tempfile::Builder::new().prefix("e2e-targeting-").tempdir()?;
    // Heartbeats every second: a new configuration is picked up at the next one.
    let node = NodeProcess::start_with(&dir.path().join("node"), free_port()?, &["--heartbeat-seconds", "1"]).await?;
    let sync = "request_timeout_ms = 1000\nbackoff_initial_ms = 50\nbackoff_max_ms = 500\n";
    let mut terminal = TerminalProcess::new(&dir.path().join("terminal"), &node.url(), sync)?;
    terminal.provision(&node.url(), &node.issue_code()?)?;
    terminal.start().await?;
    let pid = terminal.pid();
    let api = terminal.api()?;

    // Version 1, as the node wrote it on first start, reaches the kiosk through the terminal.
    let v1 = served_questionnaire(&api).await?;
    assert_eq!(v1["version"], "pmt-1");
    let forms: e2e::local_api::Forms = serde_json::from_value(api.get_json("/v1/forms").await?)?;
    let application = forms.forms.iter().find(|f| f.kind == SubmissionKind::Application && f.id != "targeting").context("an application form")?;
    let first = answers(application, &forms.master_data, &Applicant { national_id: Some("199055500001".into()), ..Applicant::default() });

    // The terminal checks the questionnaire against the version it holds, with a clear 422.
    for (why, targeting, field) in [
        ("a required question unanswered", household_with(json!({"displacement": null})), "targeting.displacement"),
        ("an answer to a question skip logic hides", household_with(json!({"members_with_disability": 2})), "targeting.members_with_disability"),
        ("a follow-up its condition asks, unanswered", household_with(json!({"has_disability": "yes"})), "targeting.members_with_disability"),
        ("a value the question does not offer", household_with(json!({"tenure": "castle"})), "targeting.tenure"),
    ] {
        let (status, answer) = apply(&api, &first, &targeting).await?;
        assert_eq!(status, 422, "{why}: {answer}");
        assert_eq!(answer["error"], "validation_failed", "{why}: {answer}");
        assert_eq!(refused_fields(&answer), [field], "{why}: {answer}");
        assert!(answer["fields"][0]["message"].as_str().is_some_and(|m| !m.is_empty()), "{why}: the refusal says what is wrong");
    }
    // A hidden follow-up is not required: accepted without it.
    let (status, captured) = apply(&api, &first, &household()).await?;
    assert_eq!(status, 201, "{captured}");
    assert_no_score("the capture answer", &captured.to_string());

    // Filed at the node with the version-1 formula.
    let scored = e2e::wait_for("the first application to be scored", Duration::from_secs(30), Duration::from_millis(100), || {
        let found = scores(&node).ok().filter(|s| s.len() == 1);
        async move { found }
    })
    .await?;
    assert_eq!(scored[0]["questionnaire_version"], "pmt-1");
    assert_eq!(scored[0]["formula_version"], "pmt-formula-1");

    // The operator adds a question and re-weighs the formula, checks both files with the
    // node's CLI and puts them in place; the running node reads them again.
    let data = &node.data;
    let mut questionnaire: Value = serde_json::from_slice(&std::fs::read(data.join("targeting-questionnaire.json"))?)?;
    questionnaire["version"] = json!("pmt-2");
    let income = questionnaire["steps"].as_array_mut().and_then(|s| s.iter_mut().find(|s| s["id"] == "income")).context("an income step")?;
    let mut question = income["fields"][1].clone();
    question["id"] = json!("months_without_work");
    question["label"] = json!({"ar": "أشهر بلا عمل", "ckb": "مانگەکانی بێکاری", "en": "Months without work"});
    income["fields"].as_array_mut().context("fields")?.push(question);
    let mut formula: Value = serde_json::from_slice(&std::fs::read(data.join("targeting-formula.json"))?)?;
    formula["version"] = json!("pmt-formula-2");
    formula["per_unit"]["months_without_work"] = json!(-0.05);
    let staged = dir.path().join("staged");
    std::fs::create_dir_all(&staged)?;
    std::fs::write(staged.join("q.json"), serde_json::to_vec_pretty(&questionnaire)?)?;
    std::fs::write(staged.join("f.json"), serde_json::to_vec_pretty(&formula)?)?;
    for args in [vec!["questionnaire", "check", "q.json"], vec!["formula", "check", "f.json", "--questionnaire", "q.json"]] {
        let out = Command::new(binary("provincial-node")?).arg("targeting").args(&args).current_dir(&staged).output()?;
        assert!(out.status.success(), "{args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    std::fs::copy(staged.join("q.json"), data.join("targeting-questionnaire.json"))?;
    std::fs::copy(staged.join("f.json"), data.join("targeting-formula.json"))?;

    // The same terminal process serves version 2 after a heartbeat: no new software.
    let v2 = e2e::wait_for("the terminal to serve version 2", Duration::from_secs(30), Duration::from_millis(200), || {
        let api = api.clone();
        async move { served_questionnaire(&api).await.ok().filter(|q| q["version"] == "pmt-2") }
    })
    .await?;
    assert!(v2.to_string().contains("months_without_work"));
    assert_eq!(terminal.pid(), pid, "the terminal was neither restarted nor replaced");

    // Version-1 answers now lack the new question; with it, they are taken.
    let second = answers(application, &forms.master_data, &Applicant { national_id: Some("199055500002".into()), ..Applicant::default() });
    let (status, answer) = apply(&api, &second, &household()).await?;
    assert_eq!((status, refused_fields(&answer)), (422, vec!["targeting.months_without_work".to_string()]), "{answer}");
    let (status, captured) = apply(&api, &second, &household_with(json!({"months_without_work": 6}))).await?;
    assert_eq!(status, 201, "{captured}");

    let scored = e2e::wait_for("the second application to be scored", Duration::from_secs(30), Duration::from_millis(100), || {
        let found = scores(&node).ok().filter(|s| s.len() == 2);
        async move { found }
    })
    .await?;
    let newest = scored.iter().find(|s| s["questionnaire_version"] == "pmt-2").context("a score of version 2")?;
    assert_eq!(newest["formula_version"], "pmt-formula-2");
    let (old, new) = (scored.iter().find(|s| s["questionnaire_version"] == "pmt-1").context("the first score")?, newest);
    let (old, new) = (old["score"].as_f64().unwrap_or(f64::NAN), new["score"].as_f64().unwrap_or(f64::NAN));
    assert!((old - new - 0.3).abs() < 1e-9, "the same household, six months without work at -0.05 each: {old} then {new}");

    // Nothing the kiosk can read carries the score: the forms, the queue, a status check.
    assert_no_score("the forms", &api.get_json("/v1/forms").await?.to_string());
    assert_no_score("the queue", &api.queue().await?.to_string());
    let query = json!({"query": {"by": "national_id", "national_id": "199055500002"}});
    let (status, text) = api.raw("POST", "/v1/status-checks", Some("application/json"), serde_json::to_vec(&query)?).await?;
    assert_eq!(status, 200, "{text}");
    assert_no_score("the status check", &text);
    Ok(())
}
