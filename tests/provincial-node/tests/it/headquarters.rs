//! Two provinces and one headquarters on a real PostgreSQL 15, all separate processes: a person
//! registered in Basra applies again in Baghdad under a spelling variant and comes back
//! flagged `duplicate` with Basra's case number; an unrelated person is `distinct`; while
//! headquarters is down an application is filed `not_checked` and sent again once it is up; a
//! terminal's pre-check in one province finds a national id registered in another.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{new_key, nonce, now, post_signed as post, random_national_id, run_cli as run, run_ok, EnrolledNode, ServeProcess};
use node_protocol::signature::sign_request;
use pg_cluster::TemporaryCluster;
use serde_json::{json, Value};

/// A province: a node process with one enrolled terminal, pointed at headquarters.
async fn province(data: &str, province: &str, headquarters: &str) -> EnrolledNode {
    EnrolledNode::start(data, &["--province", province, "--headquarters", headquarters, "--recheck-seconds", "1"]).await
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn deduplicate(postgres: &str) -> Value {
    serde_json::from_str(&run_ok(&["headquarters", "deduplicate", "--postgres", postgres, "--json"])).expect("deduplicate prints JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_registered_in_one_province_is_flagged_in_another_with_the_first_case() {
    let cluster = TemporaryCluster::start().expect("PostgreSQL 15 (postgresql-15) starts");
    let postgres = cluster.create_database("headquarters").expect("create the registry");
    let dir = tempfile::tempdir().unwrap();
    let basra_data = dir.path().join("basra");
    let baghdad_data = dir.path().join("baghdad");
    let (basra_data, baghdad_data) = (basra_data.to_str().unwrap(), baghdad_data.to_str().unwrap());
    let basra_key = run_ok(&["headquarters", "node-key", "--data", basra_data, "--province", "Basra"]);
    let baghdad_key = run_ok(&["headquarters", "node-key", "--data", baghdad_data, "--province", "Baghdad"]);
    assert!(basra_key.starts_with("BSR="), "{basra_key}");

    // Headquarters is not up yet: Basra files its applicant without it.
    let hq_address = format!("127.0.0.1:{}", free_port());
    let hq_url = format!("http://{hq_address}");
    let basra = province(basra_data, "Basra", &hq_url).await;
    let basra_national_id = random_national_id();
    let registered = basra
        .file(json!({
            "national_id": basra_national_id,
            "first_name": "أحمد", "father_name": "محمد", "grandfather_name": "علي", "family_name": "الحسيني",
            "mother_name": "فاطمة كاظم", "date_of_birth": "1985-03-12", "gender": "male",
            "governorate": "BSR", "district": "ZBR", "category": "poor_household", "household_size": 5
        }), None, None)
        .await;
    let basra_case = registered["case_number"].as_str().unwrap().to_string();
    assert!(basra_case.starts_with("BSR-"), "{basra_case}");
    assert_eq!(registered["duplicate_check"]["headquarters"], "not_checked", "{registered}");
    assert_eq!(registered["duplicate_check"]["decision"], "distinct", "{registered}");

    let start_headquarters = || {
        ServeProcess::start_command(&[
            "headquarters", "serve", "--listen", &hq_address, "--postgres", &postgres,
            "--trust-node", basra_key.trim(), "--trust-node", baghdad_key.trim(),
        ])
    };
    let headquarters = start_headquarters();
    // Basra sends its pending applicant again (every second here) once headquarters is up.
    let deadline = Instant::now() + Duration::from_secs(30);
    while deduplicate(&postgres)["persons"] != 1 {
        assert!(Instant::now() < deadline, "Basra's pending applicant never reached headquarters");
        std::thread::sleep(Duration::from_millis(300));
    }
    // Killed and started again, headquarters loads its index from PostgreSQL.
    drop(headquarters);
    let _headquarters = start_headquarters();
    let root: Value = reqwest::get(&hq_url).await.unwrap().json().await.unwrap();
    assert_eq!(root["persons"], 1, "{root}");

    // The same man in Baghdad, without his card: no hamza on the alef, taa marbuta written as
    // haa in his mother's name, three-part name (no family name).
    let baghdad = province(baghdad_data, "Baghdad", &hq_url).await;
    // The kiosk's pre-check in Baghdad knows the Basra card through headquarters, and only that.
    let precheck = |national_id: String| {
        let baghdad = &baghdad;
        async move {
            let (status, body) = post(&baghdad.base, &baghdad.key, &baghdad.terminal_id, "/v1/precheck", &json!({ "national_id": national_id })).await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    assert_eq!(precheck(basra_national_id.clone()).await, json!({ "result": "registered" }));
    assert_eq!(precheck(random_national_id()).await, json!({ "result": "not_found" }));
    let variant = baghdad
        .file(json!({
            "first_name": "احمد", "father_name": "محمد", "grandfather_name": "علي",
            "mother_name": "فاطمه كاظم", "date_of_birth": "12/03/1985", "gender": "male",
            "governorate": "BGD", "district": "KDH", "category": "poor_household", "household_size": 5
        }), None, None)
        .await;
    let check = &variant["duplicate_check"];
    assert_eq!(check["headquarters"], "checked", "{variant}");
    assert_eq!(check["decision"], "duplicate", "{variant}");
    assert_eq!(check["matches"][0]["case_number"], basra_case.as_str(), "{variant}");
    assert_eq!(check["matches"][0]["province"], "BSR", "{variant}");
    let variant_case = variant["case_number"].as_str().unwrap().to_string();

    let unrelated = baghdad
        .file(json!({
            "national_id": random_national_id(),
            "first_name": "سعاد", "father_name": "جبار", "grandfather_name": "كريم", "family_name": "ناصر",
            "mother_name": "هدى رضا", "date_of_birth": "1962-10-01", "gender": "female",
            "governorate": "BGD", "district": "KDH", "category": "widow", "household_size": 2
        }), None, None)
        .await;
    assert_eq!(unrelated["duplicate_check"]["decision"], "distinct", "{unrelated}");
    assert_eq!(unrelated["duplicate_check"]["headquarters"], "checked", "{unrelated}");
    assert_eq!(unrelated["duplicate_check"]["matches"], json!([]), "{unrelated}");

    // Baghdad's staff see the flag with the matcher's explanation.
    let flags: Value = serde_json::from_str(&run_ok(&["review", "list", "--data", &baghdad.data, "--json"])).unwrap();
    let flags = flags.as_array().unwrap();
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(flags[0]["case_number"], variant_case.as_str());
    assert_eq!(flags[0]["matches"][0]["case_number"], basra_case.as_str());
    assert!(!flags[0]["matches"][0]["comparison"]["explanation"].as_array().unwrap().is_empty(), "{flags:?}");

    // Headquarters holds all three and its batch de-duplication finds the pair.
    let report = deduplicate(&postgres);
    assert_eq!(report["persons"], 3, "{report}");
    let clusters = report["clusters"].as_array().unwrap();
    assert!(
        clusters.iter().any(|c| c["case_numbers"] == json!([basra_case.as_str(), variant_case.as_str()])
            || c["case_numbers"] == json!([variant_case.as_str(), basra_case.as_str()])),
        "{report}"
    );
}

#[test]
fn headquarters_refuses_an_unknown_node_and_needs_a_registry() {
    let (ok, _, stderr) = run(&["headquarters", "serve", "--listen", "127.0.0.1:0"]);
    assert!(!ok);
    assert!(stderr.contains("--postgres"), "{stderr}");
    let (ok, _, stderr) = run(&["headquarters", "serve", "--listen", "127.0.0.1:0", "--postgres-temp", "--trust-node", "BGD=not-a-key"]);
    assert!(!ok);
    assert!(stderr.contains("CODE=PUBLIC_KEY"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headquarters_answers_only_trusted_nodes_for_their_own_cases() {
    let basra = new_key();
    let trusted = format!("BSR={}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, basra.verifying_key().to_bytes()));
    // --postgres-temp: headquarters starts its own PostgreSQL, and stops it on SIGTERM.
    let mut served = ServeProcess::start_command(&["headquarters", "serve", "--listen", "127.0.0.1:0", "--postgres-temp", "--trust-node", &trusted]);
    let base = format!("http://{}", served.address());
    let person = |case: &str| json!({ "persons": [{ "case_number": case, "first_name": "أحمد", "father_name": "محمد", "grandfather_name": "علي" }] });

    let (status, body) = post(&base, &new_key(), "BSR", "/v1/persons/check", &person("BSR-2026-000001")).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("signature_invalid")), "{body}");
    let (status, body) = post(&base, &new_key(), "NIN", "/v1/persons/check", &person("NIN-2026-000001")).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unknown_key")), "{body}");
    let (status, body) = post(&base, &basra, "BSR", "/v1/persons/check", &person("BGD-2026-000001")).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("foreign_case")), "{body}");
    let (status, body) = post(&base, &basra, "BSR", "/v1/persons/check", &person("BSR-2026-000001")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["case_number"], "BSR-2026-000001");
    assert_eq!(body["results"][0]["matches"], json!([]));
    let root: Value = reqwest::get(&base).await.unwrap().json().await.unwrap();
    assert_eq!(root["persons"], 1, "{root}");

    // The pre-check's question: signed by a trusted node, one boolean back.
    let question = json!({ "national_id": "199012345678" });
    let (status, body) = post(&base, &new_key(), "BSR", "/v1/persons/registered", &question).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("signature_invalid")), "{body}");
    let (status, body) = post(&base, &basra, "BSR", "/v1/persons/registered", &question).await;
    assert_eq!((status, body), (200, json!({ "registered": false })));
    let (status, body) = post(&base, &basra, "BSR", "/v1/persons/registered", &json!({ "national_id": "12-34" })).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_national_id")), "{body}");

    // A captured request sent again is refused.
    let bytes = person("BSR-2026-000002").to_string().into_bytes();
    let signed = sign_request(&basra, "BSR", "POST", "/v1/persons/check", &bytes, now(), &nonce());
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let mut request = reqwest::Client::new().post(format!("{base}/v1/persons/check")).header("content-type", "application/json");
        for (name, value) in signed.pairs() {
            request = request.header(name, value);
        }
        statuses.push(request.body(bytes.clone()).send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [200, 401]);

    let stopped = Command::new("kill").args(["-TERM", &served.child.id().to_string()]).status().unwrap();
    assert!(stopped.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            assert!(status.success(), "headquarters exited with {status}");
            break;
        }
        assert!(Instant::now() < deadline, "headquarters did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}
