//! Enrollment with one-time codes.

use crate::common::*;
use node_protocol::signature::ENROLL_KEY_ID;

#[tokio::test]
async fn a_fresh_code_enrols_once_and_only_once() {
    let code = node().node.issue_code(60).unwrap();
    let key = new_key();
    let (status, body) = try_enroll(&code, &key).await;
    assert_eq!(status, 200, "{body}");
    let id = body["terminal_id"].as_str().unwrap();
    assert!(id.starts_with("T-") && id.len() == 10 && id[2..].bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(body["province"], "Baghdad");
    assert_eq!(body["node_id"], node().node.node_id);
    assert_eq!(body["sealing_recipient"], node().node.identity.recipient());
    assert!(body["sealing_recipient"].as_str().unwrap().starts_with("age1"));
    assert_eq!(body["config_version"], node().node.config().version);

    // The same code again with another key: used.
    let (status, body) = try_enroll(&code, &new_key()).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("enrollment_code_used")), "{body}");
}

#[tokio::test]
async fn the_same_code_and_key_again_get_the_first_answer() {
    // What a terminal does when the first answer was lost: the same key, the same code.
    let code = node().node.issue_code(60).unwrap();
    let key = new_key();
    let (status, first) = try_enroll(&code, &key).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = try_enroll(&code, &key).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["terminal_id"], first["terminal_id"]);
    let registered: i64 = node()
        .node
        .db()
        .query_row("SELECT COUNT(*) FROM terminals WHERE terminal_id = ?1", [first["terminal_id"].as_str().unwrap()], |r| r.get(0))
        .unwrap();
    assert_eq!(registered, 1, "registered once");
    let (status, body) = try_enroll(&code, &new_key()).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("enrollment_code_used")), "{body}");
}

#[tokio::test]
async fn expired_and_unknown_codes_are_refused() {
    let expired = node().node.issue_code(0).unwrap();
    let (status, body) = try_enroll(&expired, &new_key()).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("enrollment_code_expired")), "{body}");

    let (status, body) = try_enroll("ZZZZ-ZZZZ-ZZZZ", &new_key()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("enrollment_code_unknown")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("issue-code"));
}

#[tokio::test]
async fn enrollment_must_be_signed_by_the_key_in_the_body() {
    let code = node().node.issue_code(60).unwrap();
    let key = new_key();
    let body = serde_json::to_vec(&enroll_request(&code, &key)).unwrap();
    // Signed by another key than the one being enrolled.
    let (status, answer) = json(send_signed(&new_key(), ENROLL_KEY_ID, "POST", "/v1/terminals/enroll", &body).await).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("signature_invalid")), "{answer}");
    // The code was not used up by the refused attempt.
    let (status, answer) = try_enroll(&code, &key).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn enroll_keyid_is_refused_on_other_calls() {
    let key = new_key();
    let (status, body) = json(send_signed(&key, ENROLL_KEY_ID, "GET", "/v1/config", b"").await).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unknown_key")), "{body}");
}
