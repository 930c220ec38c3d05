//! Referrals out at the node, across processes: `serve --service-directory FILE` serves the
//! operator's directory and names its version in every heartbeat answer, picks an edit up
//! without a restart (and keeps the last good version when an edit breaks the file), and renews
//! the terminal's slip certificate in the heartbeat answer, which verifies with the key
//! `slips node-key` prints for partners.

use crate::common::*;
use node_protocol::service_directory::ServiceDirectory;
use node_protocol::slip::{EndorsedCertificate, TrustedNode};
use serde_json::{json, Value};

async fn heartbeat(node: &EnrolledNode) -> Value {
    let beat = json!({"software_version":"0.1.0","queue_depth":0,"dead_letters":0,"printer":"ok","reader":"ok","disk_free_bytes":1,"sent_at":"2026-01-01T00:00:00Z"});
    let (status, body) = post_signed(&node.base, &node.key, &node.terminal_id, "/v1/heartbeat", &beat).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn directory(node: &EnrolledNode) -> ServiceDirectory {
    let response = send_signed_to(&node.base, &node.key, &node.terminal_id, "GET", "/v1/service-directory", b"", now(), &nonce()).await;
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).expect("a ServiceDirectory")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_directory_is_served_versioned_and_the_terminal_is_endorsed_for_slips() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let file = dir.path().join("operator-services.json");
    let mut operator: ServiceDirectory = serde_json::from_str(provincial_node::services::SAMPLE).unwrap();
    operator.version = "op-1".into();
    std::fs::write(&file, serde_json::to_string_pretty(&operator).unwrap()).unwrap();
    let node = EnrolledNode::start(data.to_str().unwrap(), &["--service-directory", file.to_str().unwrap()]).await;

    let answer = heartbeat(&node).await;
    assert_eq!(answer["service_directory_version"], "op-1", "{answer}");
    assert_eq!(directory(&node).await, operator);

    // The certificate endorses this terminal's key, for 30 days from today, under the key
    // partners are given.
    let certificate = EndorsedCertificate::parse(answer["terminal_certificate"].as_str().expect("a certificate")).unwrap();
    let line = run_ok(&["slips", "node-key", "--data", data.to_str().unwrap()]);
    let trusted: TrustedNode = line.trim().parse().unwrap();
    assert_eq!(trusted.province, "BGD");
    certificate.verify(&trusted.key).expect("endorsed by the node's slip key");
    assert_eq!(certificate.certificate.terminal_key, node.key.verifying_key());
    assert_eq!(certificate.certificate.terminal_id, node.terminal_id.to_ascii_uppercase());
    let today = provincial_node::referrals::today();
    assert!(certificate.covers(today) && certificate.covers(today + chrono::Days::new(30)) && !certificate.covers(today + chrono::Days::new(31)));

    // An edit reaches the next heartbeat; a broken edit keeps the last good version.
    operator.version = "op-2".into();
    operator.services.retain(|s| s.governorate == "BGD");
    std::fs::write(&file, serde_json::to_string_pretty(&operator).unwrap()).unwrap();
    assert_eq!(heartbeat(&node).await["service_directory_version"], "op-2");
    std::fs::write(&file, r#"{"version": "op-3", "categories": [], "services": [{"id": "x"}]}"#).unwrap();
    assert_eq!(heartbeat(&node).await["service_directory_version"], "op-2");
    assert_eq!(directory(&node).await, operator);

    // The operator's check names the file and every problem; the sample passes.
    let (ok, _, stderr) = run_cli(&["services", "check", file.to_str().unwrap()]);
    assert!(!ok && stderr.contains(file.to_str().unwrap()) && stderr.contains("not a service directory"), "{stderr}");
    let mut unknown_district = operator.clone();
    unknown_district.services[0].district = Some("ZZZ".into());
    std::fs::write(&file, serde_json::to_string(&unknown_district).unwrap()).unwrap();
    let (ok, _, stderr) = run_cli(&["services", "check", file.to_str().unwrap()]);
    assert!(!ok && stderr.contains("district 'ZZZ': not a district of BGD"), "{stderr}");
    let sample = dir.path().join("sample.json");
    std::fs::write(&sample, provincial_node::services::SAMPLE).unwrap();
    assert!(run_ok(&["services", "check", sample.to_str().unwrap()]).contains("is valid"));
}

#[test]
fn a_missing_operator_file_stops_the_node_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.json");
    let (ok, _, stderr) = run_cli(&["serve", "--listen", "127.0.0.1:0", "--data", dir.path().join("node").to_str().unwrap(), "--service-directory", missing.to_str().unwrap()]);
    assert!(!ok && stderr.contains(missing.to_str().unwrap()) && stderr.contains("--service-directory"), "{stderr}");
}
