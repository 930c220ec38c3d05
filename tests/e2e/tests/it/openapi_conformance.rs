//! What a real terminal and a real node say to each other, and what the local API answers,
//! match the OpenAPI documents: the contract other implementers build against.

use std::time::Duration;

use e2e::cluster::Cluster;
use e2e::openapi::ApiDocument;
use e2e::sample::Applicant;
use e2e::wait_for;
use node_protocol::SubmissionKind;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_traffic_and_local_answers_match_the_openapi_documents() -> anyhow::Result<()> {
    let sync = "heartbeat_interval_s = 5\nrequest_timeout_ms = 2000\nbackoff_initial_ms = 50\nbackoff_max_ms = 500\n";
    let cluster = Cluster::start(sync, Some(&["/nothing-faulty"])).await?;
    let api = cluster.api()?;
    let proxy = cluster.proxy.as_ref().expect("proxy");

    cluster.submit_one(&api, SubmissionKind::Application, &Applicant::default()).await?;
    cluster.submit_one(&api, SubmissionKind::Grievance, &Applicant::default()).await?;
    cluster.wait_drained(Duration::from_secs(30)).await?;
    let status_query = serde_json::json!({"query": {"by": "national_id", "national_id": "100000000001"}});
    let (status, text) = api.raw("POST", "/v1/status-checks", Some("application/json"), serde_json::to_vec(&status_query)?).await?;
    assert_eq!(status, 200, "status check through the node: {text}");
    wait_for("a heartbeat", Duration::from_secs(20), Duration::from_millis(200), || {
        let n = proxy.seen().iter().filter(|s| s.path == "/v1/heartbeat").count();
        async move { (n > 0).then_some(()) }
    })
    .await?;

    let node_doc = ApiDocument::load("node-v1.yaml")?;
    let mut covered = std::collections::BTreeSet::new();
    for seen in proxy.seen() {
        if !seen.body.is_empty() {
            let body: Value = serde_json::from_slice(&seen.body)?;
            node_doc.validate_request(&seen.method, &seen.path, &body)?;
        }
        let (status, answer) = seen.response.clone().expect("forwarded without faults, so answered");
        let answer: Value = serde_json::from_slice(&answer)?;
        node_doc.validate_response(&seen.method, &seen.path, status, &answer)?;
        covered.insert(format!("{} {}", seen.method, seen.path));
    }
    for call in ["POST /v1/terminals/enroll", "GET /v1/config", "POST /v1/submissions", "POST /v1/status", "POST /v1/heartbeat"] {
        assert!(covered.contains(call), "{call} was not exercised; saw {covered:?}");
    }

    let local_doc = ApiDocument::load("local-v1.yaml")?;
    for path in ["/v1/health", "/v1/kiosk", "/v1/forms", "/v1/queue", "/v1/diagnostics"] {
        let body = api.get_json(path).await?;
        local_doc.validate_response("GET", path, 200, &body)?;
    }
    local_doc.validate_response("POST", "/v1/status-checks", 200, &serde_json::from_str(&text)?)?;
    let form = cluster.forms.form(SubmissionKind::Application)?;
    let request = serde_json::json!({"language": "ckb", "answers": e2e::sample::answers(form, &cluster.forms.master_data, &Applicant::default())});
    local_doc.validate_request("POST", "/v1/applications", &request)?;
    let (status, text) = api.raw("POST", "/v1/applications", Some("application/json"), serde_json::to_vec(&request)?).await?;
    local_doc.validate_response("POST", "/v1/applications", status, &serde_json::from_str(&text)?)?;
    let (status, text) = api.raw("POST", "/v1/applications", Some("application/json"), b"{}".to_vec()).await?;
    local_doc.validate_response("POST", "/v1/applications", status, &serde_json::from_str(&text)?)?;
    Ok(())
}
