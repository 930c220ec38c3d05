//! The referral-slip test vectors partners check their verifiers against
//! (`tests/vectors/slips/vectors.json`, written by `examples/slip_vectors.rs`): every payload
//! reaches its recorded verdict through the library and through the `slip-verify` binary, and
//! every valid one re-signs to the same bytes with the seeds the file names.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use node_protocol::slip::{self, EndorsedCertificate, Slip, TrustedNode};
use serde_json::Value;

fn document() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/slips/vectors.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("the vectors file")).expect("vectors are JSON")
}

fn nodes(doc: &Value) -> Vec<TrustedNode> {
    doc["node_keys"].as_array().expect("node_keys").iter().map(|k| k.as_str().unwrap().parse().expect("a node key line")).collect()
}

fn today(doc: &Value) -> NaiveDate {
    serde_json::from_value(doc["today"].clone()).expect("today")
}

fn seed(doc: &Value, name: &str) -> SigningKey {
    let hex = doc["signing"][name].as_str().expect("seed");
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    SigningKey::from_bytes(&bytes.try_into().expect("32 bytes"))
}

/// The verdict as the vectors write it.
fn verdict(result: &Result<slip::SignedSlip, slip::SlipError>) -> (String, Option<String>) {
    match result {
        Ok(_) => ("verified".into(), None),
        Err(e) => (e.kind().into(), e.field().map(Into::into)),
    }
}

fn expected(vector: &Value) -> (String, Option<String>) {
    let e = &vector["expected"];
    match e["verdict"].as_str().unwrap() {
        "verified" => ("verified".into(), None),
        _ => (e["error"].as_str().unwrap().into(), e["field"].as_str().map(Into::into)),
    }
}

#[test]
fn every_vector_reaches_its_verdict_and_the_set_covers_every_refusal() {
    let doc = document();
    let (nodes, today) = (nodes(&doc), today(&doc));
    let mut kinds = std::collections::BTreeSet::new();
    for vector in doc["vectors"].as_array().unwrap() {
        let name = vector["name"].as_str().unwrap();
        let result = slip::verify(vector["payload"].as_str().unwrap(), &nodes, Some(today));
        assert_eq!(verdict(&result), expected(vector), "vector {name}");
        if let Ok(signed) = &result {
            let slip: Slip = serde_json::from_value(vector["expected"]["slip"].clone()).unwrap();
            assert_eq!(signed.slip, slip, "vector {name}");
            assert_eq!(signed.certificate.certificate.terminal_id, vector["expected"]["terminal_id"].as_str().unwrap());
        }
        kinds.insert(expected(vector).0);
    }
    for kind in ["verified", "malformed", "unsupported_version", "wrong_node", "endorsement_invalid", "endorsement_expired", "endorsement_not_yet_valid", "signature_invalid", "dated_in_future"] {
        assert!(kinds.contains(kind), "no vector for {kind}: {kinds:?}");
    }
}

#[test]
fn the_valid_vectors_re_sign_to_the_same_bytes() {
    let doc = document();
    let certificate = EndorsedCertificate::parse(doc["signing"]["certificate"].as_str().unwrap()).unwrap();
    certificate.verify(&seed(&doc, "node_seed").verifying_key()).expect("the node seed endorsed the certificate");
    let terminal = seed(&doc, "terminal_seed");
    let mut resigned = 0;
    for vector in doc["vectors"].as_array().unwrap().iter().filter(|v| v["expected"]["verdict"] == "verified") {
        let slip: Slip = serde_json::from_value(vector["expected"]["slip"].clone()).unwrap();
        let payload = slip.sign(&certificate, &terminal).unwrap().payload();
        assert_eq!(payload, vector["payload"].as_str().unwrap().to_ascii_uppercase(), "vector {}", vector["name"]);
        resigned += 1;
    }
    assert!(resigned >= 3);
}

/// The partners' binary agrees with the library on every vector: as an argument, and the
/// first valid one on standard input as a scanner or a paste gives it.
#[test]
fn the_slip_verify_binary_prints_every_vectors_verdict() {
    let doc = document();
    let keys: Vec<String> = doc["node_keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_string()).collect();
    let run = |payload: Option<&str>, stdin: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_slip-verify"));
        for key in &keys {
            command.args(["--node-key", key]);
        }
        command.args(["--today", doc["today"].as_str().unwrap(), "--json"]).args(payload);
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("slip-verify runs");
        child.stdin.take().unwrap().write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), printed)
    };
    for vector in doc["vectors"].as_array().unwrap() {
        let (code, printed) = run(Some(vector["payload"].as_str().unwrap()), None);
        let (want, field) = expected(vector);
        if want == "verified" {
            assert_eq!((code, printed["verdict"].as_str()), (Some(0), Some("verified")), "{}: {printed}", vector["name"]);
            assert_eq!(printed["slip"]["service"], vector["expected"]["slip"]["service"]);
            assert_eq!(printed["slip"]["reference"], vector["expected"]["slip"]["reference"]);
        } else {
            assert_eq!(code, Some(1), "{}: {printed}", vector["name"]);
            assert_eq!(printed["error"].as_str(), Some(want.as_str()), "{}: {printed}", vector["name"]);
            assert_eq!(printed["field"].as_str(), field.as_deref(), "{}", vector["name"]);
            assert!(!printed["message"].as_str().unwrap().is_empty());
        }
    }
    let valid = doc["vectors"][0]["payload"].as_str().unwrap();
    let (code, printed) = run(None, Some(&format!("{valid}\r\n")));
    assert_eq!((code, printed["verdict"].as_str()), (Some(0), Some("verified")), "{printed}");
}

#[test]
fn the_slip_verify_binary_refuses_a_wrong_command_with_its_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_slip-verify")).arg("S1.X").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--node-key PROVINCE=KEY") && stderr.contains("usage:"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_slip-verify")).args(["--node-key", "BGD=short", "S1.X"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("32 bytes"));
}
