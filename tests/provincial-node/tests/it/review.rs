//! Staff review from the command line: a province's second application of one person is
//! filed and flagged (no headquarters: `not_configured`), listed with its explanation, and
//! dismissed once with a reason that the audit log keeps.

use crate::common::{post_signed as post, run_cli as run, enroll_request, envelope_for, new_key, random_national_id, ServeProcess};
use node_protocol::{SubmissionContent, SubmissionKind};
use serde_json::{json, Value};

#[tokio::test]
async fn a_flag_is_listed_with_its_explanation_and_decided_once_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let data = data.to_str().unwrap();
    let admin_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let admin = format!("http://127.0.0.1:{admin_port}");
    let served = ServeProcess::start(&["--data", data, "--province", "Najaf", "--admin-listen", &format!("127.0.0.1:{admin_port}")]);
    let base = format!("http://{}", served.address());
    let (ok, code, stderr) = run(&["issue-code", "--data", data]);
    assert!(ok, "{stderr}");
    let key = new_key();
    let (status, enrolled) = post(&base, &key, "enroll", "/v1/terminals/enroll", &serde_json::to_value(enroll_request(code.trim(), &key)).unwrap()).await;
    assert_eq!(status, 200, "{enrolled}");
    let terminal_id = enrolled["terminal_id"].as_str().unwrap();
    let national_id = random_national_id();
    let person = json!({
        "national_id": national_id, "first_name": "حيدر", "father_name": "عباس", "grandfather_name": "مهدي",
        "mother_name": "رقية جواد", "date_of_birth": "1990-06-20", "gender": "male",
        "governorate": "NJF", "district": "KUF", "category": "poor_household", "household_size": 3
    });
    // The same national ID twice in one batch: the second is filed and flagged `duplicate`.
    let envelopes: Vec<_> = (0..2)
        .map(|_| {
            let content = SubmissionContent {
                id: uuid::Uuid::now_v7(),
                kind: SubmissionKind::Application,
                form_id: "application".into(),
                form_version: provincial_node::forms::FORM_VERSION.into(),
                language: "ar".into(),
                answers: person.as_object().unwrap().clone(),
                assisted_by: None,
                duplicate_override: None,
                referral: None,
                terminal_id: terminal_id.into(),
                targeting: None,
            };
            envelope_for(&content, enrolled["sealing_recipient"].as_str().unwrap())
        })
        .collect();
    let (status, body) = post(&base, &key, terminal_id, "/v1/submissions", &json!({ "envelopes": envelopes })).await;
    assert_eq!(status, 200, "{body}");
    let (first, second) = (&body["results"][0], &body["results"][1]);
    assert_eq!((first["outcome"].as_str(), second["outcome"].as_str()), (Some("accepted"), Some("accepted")), "never refused: {body}");
    assert_eq!(first["duplicate_check"], json!({ "decision": "distinct", "matches": [], "headquarters": "not_configured" }));
    let (first_case, second_case) = (first["case_number"].as_str().unwrap(), second["case_number"].as_str().unwrap());
    assert_eq!(second["duplicate_check"]["decision"], "duplicate", "{body}");
    assert_eq!(second["duplicate_check"]["matches"][0], json!({ "case_number": first_case, "province": "NJF", "decision": "duplicate" }));

    let (ok, listed, stderr) = run(&["review", "list", "--data", data, "--json"]);
    assert!(ok, "{stderr}");
    let flags: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(flags.as_array().unwrap().len(), 1, "{flags}");
    assert_eq!(flags[0]["case_number"], second_case);
    assert_eq!(flags[0]["review"], Value::Null);
    let explanation = flags[0]["matches"][0]["comparison"]["explanation"].as_array().unwrap();
    assert!(explanation.iter().any(|e| e["field"] == "national_id"), "{explanation:?}");
    let (ok, table, _) = run(&["review", "list", "--data", data]);
    assert!(ok && table.contains(second_case) && table.contains(first_case) && table.contains("waiting for review"), "{table}");

    // The review API on the loopback admin listener answers the same list.
    let http = reqwest::Client::new();
    let by_api: Value = http.get(format!("{admin}/v1/review")).send().await.unwrap().json().await.unwrap();
    assert_eq!(by_api, flags);
    let decide = |case: &str, body: Value| {
        let request = http.post(format!("{admin}/v1/review/{case}")).json(&body);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = decide(second_case, json!({ "verdict": "maybe", "reason": "x", "staff_id": "S-0001" })).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_body")), "{body}");
    let (status, body) = decide(first_case, json!({ "verdict": "confirmed", "reason": "x", "staff_id": "S-0001" })).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_flagged")), "{body}");

    // Refusals name what is wrong.
    let (ok, _, stderr) = run(&["review", "dismiss", "--data", data, "--case", second_case, "--reason", "  "]);
    assert!(!ok && stderr.contains("give a reason"), "{stderr}");
    let (ok, _, stderr) = run(&["review", "confirm", "--data", data, "--case", first_case, "--reason", "x"]);
    assert!(!ok && stderr.contains("not flagged"), "{stderr}");

    let (ok, decided, stderr) = run(&["review", "dismiss", "--data", data, "--case", second_case, "--reason", "twin brother, birth certificates seen", "--by", "S-0002"]);
    assert!(ok, "{stderr}");
    assert_eq!(serde_json::from_str::<Value>(&decided).unwrap()["verdict"], "dismissed");
    let (ok, _, stderr) = run(&["review", "confirm", "--data", data, "--case", second_case, "--reason", "changed my mind"]);
    assert!(!ok && stderr.contains("already dismissed by S-0002"), "{stderr}");

    let (status, body) = decide(second_case, json!({ "verdict": "confirmed", "reason": "same photo", "staff_id": "S-0001" })).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("already_decided")), "{body}");
    let by_api: Value = http.get(format!("{admin}/v1/review")).send().await.unwrap().json().await.unwrap();
    assert_eq!(by_api[0]["review"]["verdict"], "dismissed");

    let (ok, undecided, _) = run(&["review", "list", "--data", data, "--json", "--undecided"]);
    assert!(ok);
    assert_eq!(undecided.trim(), "[]");
    let node = provincial_node::Node::open(std::path::Path::new(data), None).unwrap();
    let audit = provincial_node::review::audit_log(&node.db()).unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!((audit[0].actor.as_str(), audit[0].action.as_str()), ("S-0002", "review.dismissed"));
    assert_eq!(audit[0].case_number.as_deref(), Some(second_case));
    assert_eq!(audit[0].detail["reason"], "twin brother, birth certificates seen");
    assert!(!audit[0].detail.to_string().contains("حيدر"), "no names in the audit log");
}

#[test]
fn the_review_api_listens_on_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let (ok, _, stderr) = run(&["serve", "--listen", "127.0.0.1:0", "--data", data.to_str().unwrap(), "--admin-listen", "0.0.0.0:0"]);
    assert!(!ok);
    assert!(stderr.contains("not a loopback address"), "{stderr}");
}
