//! Every request example of `node-v1.yaml`, sent as written to a real reference node, gets the
//! answer the document promises: its success status and a body that matches the schema of
//! that status. An implementer who copies an example gets what the document says.
//!
//! The examples are found by walking the document (every path × method with a request
//! example), so an example added without being sent here fails
//! [`every_request_example_is_sent_and_gets_the_documented_answer`].
//!
//! Nothing in a body is substituted: the node of this test is set up so the examples hold as
//! written. Its sealing identity is the published test identity the `sealed` example is sealed
//! to, the enrollment example's code is issued on it, and the enrollment example's key is RFC
//! 8032's first test key, whose secret is public. What a request carries besides its body, the
//! signature headers, is made per request: signed with `keyid="enroll"` by that key for the
//! enrollment, then under the terminal id the enrollment answered for the other calls.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::common::{json, nonce, now, send_signed_to, serve_on_loopback};
use crate::openapi::{document, resolve, validate};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::SigningKey;
use node_protocol::signature::ENROLL_KEY_ID;
use provincial_node::identity::IDENTITY_FILE;
use provincial_node::Node;
use serde_json::Value;

/// The sealing identity of the test bench node: the `sealed` example of `POST /v1/submissions`
/// is sealed to its recipient (`age1mmlf7xpu…`, the enrollment example's `sealing_recipient`).
/// Published in node-v1.yaml, so it protects nothing.
const EXAMPLE_SEALING_IDENTITY: &str = "AGE-SECRET-KEY-1Q0J0UHDTCFMP506H2WV3RK6FJTY3050KXR9A20T5X2H6F7NQMD2Q8LFKUM";

/// RFC 8032 section 7.1, TEST 1: the secret key whose public key the enrollment example enrols.
const RFC8032_TEST1_SECRET: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

/// The operations whose request examples are sent, in sending order: the enrollment first, as
/// its terminal signs the rest.
const SENT: [(&str, &str); 5] = [
    ("post", "/v1/terminals/enroll"),
    ("post", "/v1/submissions"),
    ("post", "/v1/status"),
    ("post", "/v1/precheck"),
    ("post", "/v1/heartbeat"),
];

/// Every request example in the document: method, path and the example body.
fn request_examples(doc: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let Some(content) = operation.pointer("/requestBody/content").and_then(Value::as_object) else { continue };
            for (media, body) in content {
                assert!(body.get("examples").is_none(), "{method} {path} {media}: this test reads `example`; teach it `examples`");
                if let Some(example) = body.get("example") {
                    found.push((method.clone(), path.clone(), example.clone()));
                }
            }
        }
    }
    found
}

/// The one 2xx status an operation documents, and the response object behind it.
fn success<'a>(doc: &'a Value, method: &str, path: &str) -> (u16, &'a Value) {
    let responses = doc["paths"][path][method]["responses"].as_object().expect("responses");
    let successes: Vec<(&String, &Value)> = responses.iter().filter(|(status, _)| status.starts_with('2')).collect();
    assert_eq!(successes.len(), 1, "{method} {path} documents one success status, not {:?}", responses.keys());
    let (status, response) = successes[0];
    (status.parse().expect("numeric status"), resolve(doc, response))
}

/// A reference node on loopback whose data directory holds the example's sealing identity.
fn example_node(dir: &std::path::Path) -> (String, Arc<Node>) {
    std::fs::create_dir_all(dir).expect("data directory");
    std::fs::write(
        dir.join(IDENTITY_FILE),
        format!("# the published test identity of node-v1.yaml's examples\n{EXAMPLE_SEALING_IDENTITY}\n"),
    )
    .expect("write the sealing identity");
    let node = Arc::new(Node::open(dir, Some("Baghdad")).expect("open node"));
    (serve_on_loopback(node.clone()), node)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_example_is_sent_and_gets_the_documented_answer() {
    let doc = document();
    let examples = request_examples(&doc);
    let documented: BTreeSet<(String, String)> = examples.iter().map(|(m, p, _)| (m.clone(), p.clone())).collect();
    let sent: BTreeSet<(String, String)> = SENT.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, sent, "each request example must be sent by this test (add it to SENT and give it what it needs)");
    let example =
        |method: &str, path: &str| -> &Value { &examples.iter().find(|(m, p, _)| m == method && p == path).expect("listed above").2 };

    let dir = tempfile::tempdir().expect("temp dir");
    let (base, node) = example_node(&dir.path().join("node"));
    let enroll = example("post", "/v1/terminals/enroll");
    let code = enroll["code"].as_str().expect("the example has a code");
    node.issue_given_code(code, 60).expect("the node issues the example's code");
    let seed: [u8; 32] = provincial_node::seed::decode_hex(RFC8032_TEST1_SECRET).expect("hex").try_into().expect("32 bytes");
    let key = SigningKey::from_bytes(&seed);
    assert_eq!(
        enroll["public_key"].as_str(),
        Some(STANDARD.encode(key.verifying_key().to_bytes()).as_str()),
        "the enrollment example's public_key is RFC 8032's test key 1, which this test signs with"
    );

    let mut keyid = ENROLL_KEY_ID.to_string();
    for (method, path) in SENT {
        let body = serde_json::to_vec(example(method, path)).expect("JSON");
        let (status, answer) = json(send_signed_to(&base, &key, &keyid, &method.to_uppercase(), path, &body, now(), &nonce()).await).await;
        let (expected, response) = success(&doc, method, path);
        assert_eq!(status, expected, "the example of {method} {path} got {status}: {answer:#}");
        let media = &response["content"]["application/json"];
        let what = format!("answer to the example of {method} {path}");
        validate(&doc, &media["schema"], &answer, &what);
        // Beyond the schema: what the documented answer says about these very examples.
        let promised = &media["example"];
        match path {
            "/v1/terminals/enroll" => {
                assert_eq!(answer["sealing_recipient"], promised["sealing_recipient"], "{what}: the example node's recipient");
                assert_eq!(answer["province"], promised["province"], "{what}");
                keyid = answer["terminal_id"].as_str().expect("terminal_id").to_string();
            }
            "/v1/submissions" => {
                let sent_id = &example(method, path)["envelopes"][0]["id"];
                assert_eq!(promised["results"][0]["id"], *sent_id, "the documented answer is about the example's envelope");
                assert_eq!(answer["results"][0]["id"], *sent_id, "{what}");
                assert_eq!(
                    answer["results"][0]["outcome"], promised["results"][0]["outcome"],
                    "{what}: the sealed example opens with the example identity and is filed: {answer:#}"
                );
            }
            "/v1/status" => {
                assert_eq!(answer["state"], promised["state"], "{what}: the example names a seeded applicant");
                assert_eq!(answer["case_number"], promised["case_number"], "{what}");
            }
            "/v1/precheck" => {
                assert_eq!(answer["result"], promised["result"], "{what}: the example names a seeded applicant");
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn the_example_code_is_refused_where_it_was_not_issued() {
    // The enrollment example succeeds above only because its code was issued: on a node that
    // never issued it, the same request is refused as the document says (401).
    let doc = document();
    let examples = request_examples(&doc);
    let enroll = &examples.iter().find(|(m, p, _)| m == "post" && p == "/v1/terminals/enroll").expect("enroll example").2;
    let dir = tempfile::tempdir().expect("temp dir");
    let (base, _node) = example_node(&dir.path().join("node"));
    let seed: [u8; 32] = provincial_node::seed::decode_hex(RFC8032_TEST1_SECRET).expect("hex").try_into().expect("32 bytes");
    let body = serde_json::to_vec(enroll).expect("JSON");
    let key = SigningKey::from_bytes(&seed);
    let (status, answer) =
        json(send_signed_to(&base, &key, ENROLL_KEY_ID, "POST", "/v1/terminals/enroll", &body, now(), &nonce()).await).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("enrollment_code_unknown")), "{answer}");
}
