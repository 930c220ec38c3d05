//! The `provincial-node` binary as scripts use it: `serve` on a port, `issue-code` while it
//! runs, `stats --json`, `submissions --json`, graceful stop on SIGTERM, and clear errors.

use std::process::Command;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use crate::common::{post_signed as post, run_cli as run, ServeProcess, application_answers, enroll_request, envelope_for, new_key, random_national_id};
use node_protocol::{SubmissionContent, SubmissionKind};
use serde_json::{json, Value};

fn serve(data: &str) -> ServeProcess {
    ServeProcess::start(&["--data", data, "--province", "Erbil"])
}

#[tokio::test]
async fn serve_issue_code_stats_and_submissions_work_together() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let data = data.to_str().unwrap();

    // issue-code before serve ever ran initialises the directory.
    let (ok, early_code, stderr) = run(&["issue-code", "--data", data, "--ttl-minutes", "5"]);
    assert!(ok, "{stderr}");
    assert_eq!(early_code.lines().count(), 1);
    assert!(dir.path().join("node/sealing-identity.txt").exists());

    let served = serve(data);
    let base = format!("http://{}", served.address());
    let root: Value = reqwest::get(format!("http://{}", served.address())).await.unwrap().json().await.unwrap();
    assert_eq!(root["province"], "Erbil");
    assert!(root["node_id"].as_str().unwrap().starts_with("N-"));
    assert!(root["version"].is_string());

    // issue-code while serve runs on the same directory.
    let (ok, code, stderr) = run(&["issue-code", "--data", data]);
    assert!(ok, "{stderr}");
    let code = code.trim();
    let key = new_key();
    let (status, enrolled) = post(&base, &key, "enroll", "/v1/terminals/enroll", &serde_json::to_value(enroll_request(code, &key)).unwrap()).await;
    assert_eq!(status, 200, "{enrolled}");
    let terminal_id = enrolled["terminal_id"].as_str().unwrap().to_string();
    let recipient = enrolled["sealing_recipient"].as_str().unwrap();

    let mut envelopes = Vec::new();
    for kind in [SubmissionKind::Application, SubmissionKind::Application, SubmissionKind::Grievance] {
        let id = uuid::Uuid::now_v7();
        let content = SubmissionContent {
            id,
            kind,
            form_id: kind.as_str().into(),
            form_version: provincial_node::forms::FORM_VERSION.into(),
            language: "ckb".into(),
            answers: application_answers(&random_national_id(), "1970-07-07").as_object().unwrap().clone(),
            assisted_by: Some("S-0001".into()),
            terminal_id: terminal_id.clone(),
            duplicate_override: None,
            referral: None,
            targeting: None,
        };
        envelopes.push(envelope_for(&content, recipient));
    }
    let mut undecryptable = envelopes[0].clone();
    undecryptable.id = uuid::Uuid::now_v7();
    undecryptable.sealed = STANDARD.encode(b"junk");
    let (status, first) = post(&base, &key, &terminal_id, "/v1/submissions", &json!({"envelopes": envelopes})).await;
    assert_eq!(status, 200, "{first}");
    assert!(first["results"][0]["case_number"].as_str().unwrap().starts_with("ERB-"));
    let (status, _) = post(&base, &key, &terminal_id, "/v1/submissions", &json!({"envelopes": [envelopes[0], undecryptable]})).await;
    assert_eq!(status, 200);
    let (status, _) = post(&base, &key, "T-deadbeef", "/v1/heartbeat", &json!({})).await;
    assert_eq!(status, 401);
    let beat = json!({"software_version":"0.1.0","queue_depth":0,"dead_letters":0,"printer":"ok","reader":"ok","disk_free_bytes":1,"sent_at":"2026-01-01T00:00:00Z"});
    assert_eq!(post(&base, &key, &terminal_id, "/v1/heartbeat", &beat).await.0, 200);

    let (ok, stats, stderr) = run(&["stats", "--data", data, "--json"]);
    assert!(ok, "{stderr}");
    let stats: Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(
        stats,
        json!({"submissions":{"application":2,"grievance":1},"distinct_ids":4,"deliveries":5,"duplicate_deliveries":1,
               "rejected_submissions":1,"terminals":1,"rejected_requests":1,"rejected_requests_by_reason":{"unknown_key":1},"heartbeats":1})
    );
    let (ok, table, _) = run(&["stats", "--data", data]);
    assert!(ok && table.contains("duplicate deliveries") && table.contains("unknown_key"), "{table}");

    let (ok, listed, stderr) = run(&["submissions", "--data", data, "--json"]);
    assert!(ok, "{stderr}");
    let listed: Vec<Value> = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.len(), 3);
    for (row, envelope) in listed.iter().zip(&envelopes) {
        assert_eq!(row["id"], envelope.id.to_string());
        assert_eq!(row["terminal_id"], terminal_id.as_str());
        assert!(row["case_number"].as_str().unwrap().starts_with("ERB-"));
        assert!(row["received_at"].is_string() && row["kind"].is_string());
    }
    assert_eq!(listed.iter().map(|r| r["deliveries"].as_i64().unwrap()).collect::<Vec<_>>(), [2, 1, 1]);

    // SIGTERM stops the server gracefully, with a success status.
    let mut served = served;
    let killed = Command::new("kill").args(["-TERM", &served.child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn bad_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let data = data.to_str().unwrap();
    let (ok, _, stderr) = run(&["serve", "--listen", "localhost", "--data", data]);
    assert!(!ok && stderr.contains("invalid --listen 'localhost'"), "{stderr}");
    let (ok, _, stderr) = run(&["serve", "--listen", "127.0.0.1:0", "--data", data, "--province", "Atlantis"]);
    assert!(!ok && stderr.contains("unknown province 'Atlantis'"), "{stderr}");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let (ok, _, stderr) = run(&["issue-code", "--data", file.join("sub").to_str().unwrap()]);
    assert!(!ok && stderr.contains("is not usable"), "{stderr}");
    let (ok, _, stderr) = run(&["submissions", "--data", data]);
    assert!(!ok && stderr.contains("--json"), "{stderr}");
}

#[test]
fn issue_code_issues_a_given_code_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let data = data.to_str().unwrap();
    let (ok, code, stderr) = run(&["issue-code", "--data", data, "--code", "7k2q xm4b 9r3t"]);
    assert!(ok, "{stderr}");
    assert_eq!(code, "7K2Q-XM4B-9R3T\n");
    let (ok, _, stderr) = run(&["issue-code", "--data", data, "--code", "7K2Q-XM4B-9R3T"]);
    assert!(!ok && stderr.contains("was issued before"), "{stderr}");
    let (ok, _, stderr) = run(&["issue-code", "--data", data, "--code", "K7Q2-9XMB-4T"]);
    assert!(!ok && stderr.contains("is not an enrollment code"), "{stderr}");
}

#[test]
fn match_scores_pairs_as_json_lines_and_names_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = dir.path().join("pairs.tsv");
    std::fs::write(
        &pairs,
        "name_a\tdob_a\tmother_a\tname_b\tdob_b\tmother_b\n\
         أحمد محمد علي حسين\t1985-03-12\tزينب كاظم\tاحمد محمد علي حسين\t12/03/1985\tزينب كاظم\n\
         أحمد محمد علي حسين\t1985-03-12\tزينب كاظم\tسعاد جبار كريم ناصر\t1962-10-01\tهدى رضا\n",
    )
    .unwrap();
    let (ok, stdout, stderr) = run(&["match", "--pairs", pairs.to_str().unwrap(), "--json"]);
    assert!(ok, "{stderr}");
    let rows: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert_eq!(rows[0]["decision"], "duplicate", "{}", rows[0]);
    assert_eq!(rows[1]["decision"], "distinct", "{}", rows[1]);
    assert!(rows[0]["score"].as_f64().unwrap() > rows[1]["score"].as_f64().unwrap());
    let fields: Vec<&str> = rows[0]["explanation"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"first_name") && fields.contains(&"birth_date"), "{fields:?}");

    std::fs::write(
        &pairs,
        "name_a\tdob_a\tmother_a\tname_b\tdob_b\tmother_b\nأحمد محمد علي\t31/02/1985\t\tاحمد محمد علي\t1985\t\n",
    )
    .unwrap();
    let (ok, _, stderr) = run(&["match", "--pairs", pairs.to_str().unwrap(), "--json"]);
    assert!(!ok && stderr.contains("line 2, column dob_a"), "{stderr}");
    let (ok, _, stderr) = run(&["match", "--pairs", dir.path().join("none.tsv").to_str().unwrap(), "--json"]);
    assert!(!ok && stderr.contains("cannot open --pairs"), "{stderr}");
}
