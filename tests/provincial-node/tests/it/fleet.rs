//! The node facing a fleet: an overloaded node answers `503 overloaded` with `Retry-After` and
//! stores nothing of a refused batch; `terminals --stale` lists the terminals whose heartbeat
//! says their deliveries are overdue.

use std::process::Command;
use std::sync::Arc;

use crate::common::*;
use node_protocol::signature::ENROLL_KEY_ID;
use node_protocol::{EnrollResponse, SubmissionKind};
use provincial_node::Node;

const BIN: &str = env!("CARGO_BIN_EXE_provincial-node");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_batch_limit_the_node_answers_503_with_retry_after_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let node = Arc::new(Node::open(&dir.path().join("node"), None).unwrap().with_batch_limit(1, 3));
    let base = serve_on_loopback(node.clone());
    let key = new_key();
    let body = serde_json::to_vec(&enroll_request(&node.issue_code(60).unwrap(), &key)).unwrap();
    let (status, answer) = json(send_signed_to(&base, &key, ENROLL_KEY_ID, "POST", "/v1/terminals/enroll", &body, now(), &nonce()).await).await;
    assert_eq!(status, 200, "{answer}");
    let enrollment: EnrollResponse = serde_json::from_value(answer).unwrap();
    let terminal = Terminal { id: enrollment.terminal_id.clone(), key, enrollment };

    // Sixteen batches of fifty at once, to a node that files one at a time and is busy filing
    // one already (the slot is held here, so the overload does not depend on how the machine
    // schedules the sixteen).
    let busy = node.batch_limit.as_ref().unwrap().occupy().expect("a free slot");
    let mut sends = Vec::new();
    for _ in 0..16 {
        let envelopes: Vec<_> = (0..50).map(|_| terminal.envelope(SubmissionKind::Grievance, grievance())).collect();
        let ids: Vec<_> = envelopes.iter().map(|e| e.id).collect();
        let body = serde_json::to_vec(&serde_json::json!({"envelopes": envelopes})).unwrap();
        let (base, key, id) = (base.clone(), terminal.key.clone(), terminal.id.clone());
        sends.push(tokio::spawn(async move {
            let response = send_signed_to(&base, &key, &id, "POST", "/v1/submissions", &body, now(), &nonce()).await;
            let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
            let (status, answer) = json(response).await;
            (ids, status, retry_after, answer)
        }));
    }
    let mut refused = 0;
    for send in sends {
        let (ids, status, retry_after, answer) = send.await.unwrap();
        let stored: i64 = node
            .db()
            .query_row(&format!("SELECT COUNT(*) FROM submissions WHERE id IN ({})", ids.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(",")), [], |r| r.get(0))
            .unwrap();
        match status {
            200 => assert_eq!(stored, 50, "an answered batch is filed whole"),
            503 => {
                refused += 1;
                assert_eq!(answer["error"], "overloaded", "{answer}");
                assert!(answer["message"].as_str().unwrap().contains("Retry-After"), "{answer}");
                assert_eq!(retry_after.as_deref(), Some("3"));
                assert_eq!(stored, 0, "nothing of a refused batch is stored");
            }
            other => panic!("unexpected {other}: {answer}"),
        }
    }
    assert_eq!(refused, 16, "every batch sent while the node's one slot is taken is refused");
    assert_eq!(node.batch_limit.as_ref().unwrap().refused(), refused);

    // Once the slot is free, a batch sent again is filed whole.
    drop(busy);
    let envelopes: Vec<_> = (0..50).map(|_| terminal.envelope(SubmissionKind::Grievance, grievance())).collect();
    let body = serde_json::to_vec(&serde_json::json!({"envelopes": envelopes})).unwrap();
    let (status, answer) = json(send_signed_to(&base, &terminal.key, &terminal.id, "POST", "/v1/submissions", &body, now(), &nonce()).await).await;
    assert_eq!(status, 200, "{answer}");
    let stored: i64 = node.db().query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 50, "only the batch sent after the overload is stored");
}

fn grievance() -> serde_json::Value {
    serde_json::json!({"full_name": "فاطمة علي حسين", "phone": "07701234567", "category": "payment", "description": "لم يصل"})
}

#[tokio::test]
async fn terminals_stale_lists_those_whose_heartbeat_says_delivery_is_overdue() {
    let overdue = enroll().await;
    let fine = enroll().await;
    for (terminal, late) in [(&overdue, true), (&fine, false)] {
        let mut beat = serde_json::json!({
            "software_version": "0.1.0", "queue_depth": 12, "oldest_unsent_age_s": 9 * 86_400, "dead_letters": 0,
            "printer": "ok", "reader": "ok", "disk_free_bytes": 1_000_000, "sent_at": chrono::Utc::now(),
        });
        if late {
            beat["delivery_overdue"] = true.into();
        }
        let (status, answer) = terminal.post("/v1/heartbeat", &beat).await;
        assert_eq!(status, 200, "{answer}");
    }
    let out = Command::new(BIN).args(["terminals", "--stale", "--json", "--data"]).arg(node().node.dir()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed: Vec<&str> = list.as_array().unwrap().iter().map(|t| t["terminal_id"].as_str().unwrap()).collect();
    assert!(listed.contains(&overdue.id.as_str()), "{list}");
    assert!(!listed.contains(&fine.id.as_str()), "{list}");
    let entry = list.as_array().unwrap().iter().find(|t| t["terminal_id"] == overdue.id.as_str()).unwrap();
    assert_eq!(entry["stale"], serde_json::json!(["delivery_overdue"]));
    assert_eq!(entry["queue_depth"], 12);

    let table = Command::new(BIN).args(["terminals", "--data"]).arg(node().node.dir()).output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains(&overdue.id) && table.contains(&fine.id) && table.contains("delivery overdue"), "{table}");
}
