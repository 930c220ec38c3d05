//! The referral test vectors partners check their software against
//! (`tests/vectors/referrals/*.json`, written by `examples/referral_vectors.rs`): every payload
//! reaches its recorded verdict, every valid one re-signs to the same bytes with the seed it
//! names, and every short code reads as recorded.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::NaiveDate;
use ed25519_dalek::{SigningKey, VerifyingKey};
use node_protocol::referral::{self, Referral, ShortCode, TrustedPartner};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/referrals")
}

fn payload_vectors() -> Vec<(String, Value)> {
    let mut vectors: Vec<(String, Value)> = std::fs::read_dir(vectors_dir())
        .expect("the vectors directory")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json") && !path.ends_with("short-codes.json"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable vector");
            (path.file_name().unwrap().to_string_lossy().into_owned(), serde_json::from_str(&text).expect("vector is JSON"))
        })
        .collect();
    vectors.sort_by(|a, b| a.0.cmp(&b.0));
    vectors
}

fn trusted(vector: &Value) -> Vec<TrustedPartner> {
    vector["partners"]
        .as_array()
        .expect("partners")
        .iter()
        .map(|p| {
            let bytes: [u8; 32] = STANDARD.decode(p["public_key"].as_str().unwrap()).unwrap().try_into().unwrap();
            TrustedPartner { code: p["code"].as_str().unwrap().into(), key: VerifyingKey::from_bytes(&bytes).unwrap() }
        })
        .collect()
}

#[test]
fn every_payload_vector_reaches_its_verdict() {
    let vectors = payload_vectors();
    let mut verdicts = std::collections::BTreeMap::new();
    for (name, vector) in &vectors {
        let today: NaiveDate = serde_json::from_value(vector["today"].clone()).expect("today");
        let expected = &vector["expected"];
        let verdict = referral::verify(vector["payload"].as_str().expect("payload"), &trusted(vector), today);
        match (expected["verdict"].as_str(), verdict) {
            (Some("valid"), Ok(signed)) => {
                let want: Referral = serde_json::from_value(expected["referral"].clone()).expect("referral");
                assert_eq!(signed.referral, want, "{name}");
                assert_eq!(signed.referral.short_code(), expected["short_code"].as_str().unwrap(), "{name}");
            }
            (Some("refused"), Err(error)) => {
                assert_eq!(error.kind(), expected["error"].as_str().unwrap(), "{name}: {error}");
                assert_eq!(error.code(), expected["reason"].as_str().unwrap(), "{name}");
                assert_eq!(error.field(), expected["field"].as_str(), "{name}");
            }
            (want, got) => panic!("{name}: expected {want:?}, got {got:?}"),
        }
        *verdicts.entry(expected.get("error").and_then(Value::as_str).unwrap_or("valid").to_string()).or_insert(0) += 1;
    }
    // The set covers each way a referral is refused, not only the happy path.
    for kind in ["valid", "expired", "not_yet_valid", "signature_invalid", "unknown_partner", "malformed", "unsupported_version"] {
        assert!(verdicts.contains_key(kind), "no vector for {kind}: {verdicts:?}");
    }
}

#[test]
fn valid_vectors_re_sign_to_the_same_payload() {
    let mut signed = 0;
    for (name, vector) in payload_vectors() {
        let Some(signing) = vector.get("signing") else { continue };
        let seed_hex = signing["secret_key_seed_hex"].as_str().unwrap();
        let seed: Vec<u8> = (0..seed_hex.len()).step_by(2).map(|i| u8::from_str_radix(&seed_hex[i..i + 2], 16).unwrap()).collect();
        let key = SigningKey::from_bytes(&seed.try_into().unwrap());
        let referral: Referral = serde_json::from_value(vector["expected"]["referral"].clone()).expect("referral");
        assert_eq!(referral.sign(&key).unwrap().payload(), vector["payload"].as_str().unwrap(), "{name}");
        signed += 1;
    }
    assert!(signed >= 2, "vectors with a signing seed: {signed}");
}

#[test]
fn short_code_vectors_read_as_recorded() {
    let text = std::fs::read_to_string(vectors_dir().join("short-codes.json")).expect("short-codes.json");
    let file: Value = serde_json::from_str(&text).unwrap();
    let cases = file["short_codes"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for case in cases {
        let typed = case["typed"].as_str().unwrap();
        let expected = &case["expected"];
        match (ShortCode::parse(typed), expected.get("error")) {
            (Ok(code), None) => {
                assert_eq!(code.partner, expected["partner"].as_str().unwrap(), "{typed}");
                assert_eq!(code.serial, expected["serial"].as_u64().unwrap(), "{typed}");
                assert_eq!(code.to_string(), expected["canonical"].as_str().unwrap(), "{typed}");
            }
            (Err(error), Some(kind)) => assert_eq!(error.kind(), kind.as_str().unwrap(), "{typed}"),
            (got, _) => panic!("{typed}: expected {expected}, got {got:?}"),
        }
    }
}
