//! The node refuses what a terminal did not sign, or signed for another request: tampered
//! bodies, replayed requests, unknown keys, stale signatures, spent or expired enrollment codes.

use std::collections::HashSet;

use e2e::cluster::{Cluster, FAST_SYNC};
use e2e::fault_proxy::Seen;
use e2e::processes::{issue_code, TerminalProcess};
use e2e::sample::Applicant;
use ed25519_dalek::SigningKey;
use node_protocol::signature::{sign_request, SignedHeaders, ENROLL_KEY_ID};
use node_protocol::SubmissionKind;
use serde_json::Value;

async fn send(url: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> anyhow::Result<(u16, Value)> {
    let mut req = reqwest::Client::new().post(format!("{url}{path}")).header("content-type", "application/json").body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
}

fn replay_headers(seen: &Seen) -> Vec<(String, String)> {
    ["content-digest", "signature-input", "signature"]
        .iter()
        .filter_map(|h| seen.headers.get(*h).and_then(|v| v.to_str().ok()).map(|v| (h.to_string(), v.to_string())))
        .collect()
}

fn signed(key: &SigningKey, keyid: &str, path: &str, body: &[u8], created: i64) -> SignedHeaders {
    sign_request(key, keyid, "POST", path, body, created, &format!("{:032x}", rand::random::<u128>()))
}

fn pairs(h: &SignedHeaders) -> Vec<(&str, &str)> {
    h.pairs().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_refuses_tampered_replayed_unknown_and_stale_requests() -> anyhow::Result<()> {
    let cluster = Cluster::start(FAST_SYNC, Some(&["/v1/submissions"])).await?;
    let api = cluster.api()?;
    let id = cluster.submit_one(&api, SubmissionKind::Application, &Applicant::default()).await?;
    cluster.wait_drained(std::time::Duration::from_secs(30)).await?;
    cluster.assert_exactly_once(&HashSet::from([id]), &HashSet::new())?;
    let node = cluster.node.url();

    // A real request the terminal sent, captured on the wire.
    let seen = cluster.proxy.as_ref().expect("proxy").seen();
    let original = seen.iter().find(|s| s.path == "/v1/submissions").expect("the terminal sent its submission");
    let headers = replay_headers(original);
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    // Replayed verbatim.
    let (status, body) = send(&node, "/v1/submissions", &header_refs, original.body.to_vec()).await?;
    assert_eq!(status, 401, "replay must be refused: {body}");
    assert_eq!(body["error"], "replayed", "{body}");

    // Same signature, one byte of the body changed.
    let mut tampered = original.body.to_vec();
    let pos = tampered.iter().rposition(|b| b.is_ascii_alphanumeric()).expect("body has text");
    tampered[pos] = if tampered[pos] == b'A' { b'B' } else { b'A' };
    let (status, body) = send(&node, "/v1/submissions", &header_refs, tampered).await?;
    assert_eq!(status, 401, "tampered body must be refused: {body}");
    assert_eq!(body["error"], "digest_mismatch", "{body}");

    // A key the node never enrolled.
    let stranger = SigningKey::from_bytes(&rand::random());
    let batch = br#"{"envelopes":[]}"#.to_vec();
    let h = signed(&stranger, "T-00000000", "/v1/submissions", &batch, chrono::Utc::now().timestamp());
    let (status, body) = send(&node, "/v1/submissions", &pairs(&h), batch.clone()).await?;
    assert_eq!(status, 401, "unknown key must be refused: {body}");
    assert_eq!(body["error"], "unknown_key", "{body}");

    // An enrolled key, but a signature from 20 minutes ago.
    let key = SigningKey::from_bytes(&rand::random());
    let code = issue_code(&cluster.node.data, None)?;
    let enroll = serde_json::to_vec(&serde_json::json!({
        "code": code,
        "public_key": base64_std(&key.verifying_key().to_bytes()),
        "terminal_name": "e2e-signature-test",
        "software_version": "test",
    }))?;
    let h = signed(&key, ENROLL_KEY_ID, "/v1/terminals/enroll", &enroll, chrono::Utc::now().timestamp());
    let (status, body) = send(&node, "/v1/terminals/enroll", &pairs(&h), enroll).await?;
    assert_eq!(status, 200, "enrollment with a fresh code: {body}");
    let terminal_id = body["terminal_id"].as_str().expect("terminal id").to_string();
    let h = signed(&key, &terminal_id, "/v1/heartbeat", b"{}", chrono::Utc::now().timestamp() - 1200);
    let (status, body) = send(&node, "/v1/heartbeat", &pairs(&h), b"{}".to_vec()).await?;
    assert_eq!(status, 401, "stale signature must be refused: {body}");
    assert_eq!(body["error"], "signature_stale", "{body}");

    // No signature at all.
    let (status, body) = send(&node, "/v1/submissions", &[], batch).await?;
    assert_eq!(status, 401, "{body}");

    let stats = cluster.node.stats()?;
    assert!(stats["rejected_requests"].as_u64().unwrap_or(0) >= 5, "refusals are counted: {stats}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_codes_are_single_use_and_expire() -> anyhow::Result<()> {
    let cluster = Cluster::start(FAST_SYNC, None).await?;
    let node = cluster.node.url();

    let expired = issue_code(&cluster.node.data, Some(0))?;
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let t = TerminalProcess::new(&cluster.dir.path().join("t-expired"), &node, "")?;
    let out = t.cli(&["provision", "--node", &node, "--code", &expired])?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "an expired code must not enroll: {text}");
    assert!(text.to_lowercase().contains("expired"), "the error must say the code expired: {text}");

    let code = issue_code(&cluster.node.data, None)?;
    let first = TerminalProcess::new(&cluster.dir.path().join("t-first"), &node, "")?;
    first.provision(&node, &code)?;
    let second = TerminalProcess::new(&cluster.dir.path().join("t-second"), &node, "")?;
    let out = second.cli(&["provision", "--node", &node, "--code", &code])?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "a used code must not enroll a second terminal: {text}");
    assert!(text.to_lowercase().contains("used"), "the error must say the code was used: {text}");
    Ok(())
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
