//! Every /v1 request is signed; the node refuses unsigned, unknown-key, altered, stale and
//! replayed requests with a precise code.

use crate::common::*;
use node_protocol::signature::{sign_request, MAX_CLOCK_SKEW_S};

const HEARTBEAT: &str = r#"{"software_version":"0.1.0","queue_depth":0,"dead_letters":0,"printer":"ok","reader":"ok","disk_free_bytes":1000,"sent_at":"2026-01-01T00:00:00Z"}"#;

async fn raw(headers: &[(&str, String)], path: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let mut request = http().post(format!("{}{}", node().base, path));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    json(request.body(body.to_vec()).send().await.unwrap()).await
}

fn signed_headers(terminal: &Terminal, path: &str, body: &[u8], created: i64, nonce: &str) -> Vec<(&'static str, String)> {
    sign_request(&terminal.key, &terminal.id, "POST", path, body, created, nonce)
        .pairs()
        .iter()
        .map(|(n, v)| (*n, v.to_string()))
        .collect()
}

#[tokio::test]
async fn a_signed_heartbeat_is_accepted() {
    let terminal = enroll().await;
    let (status, body) = terminal.post("/v1/heartbeat", &serde_json::from_str(HEARTBEAT).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["config_version"], node().node.config().version);
    let _: node_protocol::HeartbeatResponse = serde_json::from_value(body).unwrap();
}

#[tokio::test]
async fn tampered_body_is_a_digest_mismatch() {
    let terminal = enroll().await;
    let headers = signed_headers(&terminal, "/v1/heartbeat", HEARTBEAT.as_bytes(), now(), &nonce());
    let tampered = HEARTBEAT.replace("\"queue_depth\":0", "\"queue_depth\":9");
    let (status, body) = raw(&headers, "/v1/heartbeat", tampered.as_bytes()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("digest_mismatch")), "{body}");
}

#[tokio::test]
async fn a_replayed_request_is_refused() {
    let terminal = enroll().await;
    let headers = signed_headers(&terminal, "/v1/heartbeat", HEARTBEAT.as_bytes(), now(), &nonce());
    let (status, body) = raw(&headers, "/v1/heartbeat", HEARTBEAT.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = raw(&headers, "/v1/heartbeat", HEARTBEAT.as_bytes()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("replayed")), "{body}");
}

#[tokio::test]
async fn an_unknown_keyid_is_refused() {
    let stranger = new_key();
    let (status, body) = json(send_signed(&stranger, "T-00000000", "POST", "/v1/heartbeat", HEARTBEAT.as_bytes()).await).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unknown_key")), "{body}");
}

#[tokio::test]
async fn stale_and_future_signatures_are_refused() {
    let terminal = enroll().await;
    for created in [now() - MAX_CLOCK_SKEW_S - 30, now() + MAX_CLOCK_SKEW_S + 30] {
        let headers = signed_headers(&terminal, "/v1/heartbeat", HEARTBEAT.as_bytes(), created, &nonce());
        let (status, body) = raw(&headers, "/v1/heartbeat", HEARTBEAT.as_bytes()).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("signature_stale")), "{body}");
    }
}

#[tokio::test]
async fn missing_headers_are_refused() {
    let terminal = enroll().await;
    let full = signed_headers(&terminal, "/v1/heartbeat", HEARTBEAT.as_bytes(), now(), &nonce());
    for missing in ["content-digest", "signature-input", "signature"] {
        let headers: Vec<_> = full.iter().filter(|(n, _)| *n != missing).cloned().collect();
        let (status, body) = raw(&headers, "/v1/heartbeat", HEARTBEAT.as_bytes()).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("signature_missing")), "without {missing}: {body}");
        assert!(body["message"].as_str().unwrap().contains(missing), "{body}");
    }
    let (status, body) = raw(&[], "/v1/heartbeat", HEARTBEAT.as_bytes()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("signature_missing")), "{body}");
}

#[tokio::test]
async fn a_signature_by_another_key_or_for_another_path_is_invalid() {
    let terminal = enroll().await;
    let impostor = Terminal { id: terminal.id.clone(), key: new_key(), enrollment: terminal.enrollment.clone() };
    let headers = signed_headers(&impostor, "/v1/heartbeat", HEARTBEAT.as_bytes(), now(), &nonce());
    let (status, body) = raw(&headers, "/v1/heartbeat", HEARTBEAT.as_bytes()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("signature_invalid")), "{body}");

    let headers = signed_headers(&terminal, "/v1/heartbeat", HEARTBEAT.as_bytes(), now(), &nonce());
    let (status, body) = raw(&headers, "/v1/status", HEARTBEAT.as_bytes()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("signature_invalid")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_413() {
    let terminal = enroll().await;
    let (status, answer) = tokio::task::block_in_place(|| oversized_request("/v1/submissions", &terminal));
    assert_eq!((status, answer["error"].as_str()), (413, Some("body_too_large")), "{answer}");
}

#[tokio::test]
async fn refusals_are_counted_by_reason() {
    let _ = raw(&[], "/v1/heartbeat", HEARTBEAT.as_bytes()).await;
    let stats = provincial_node::stats::stats(&node().node.db()).unwrap();
    assert!(stats.rejected_requests_by_reason.get("signature_missing").copied().unwrap_or(0) >= 1, "{stats:?}");
    assert_eq!(stats.rejected_requests, stats.rejected_requests_by_reason.values().sum::<i64>());
}
