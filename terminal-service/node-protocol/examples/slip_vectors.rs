//! Writes the referral-slip test vectors (`tests/vectors/slips/vectors.json`) for partners who
//! build their own verifier, or check the `slip-verify` binary:
//!
//! ```sh
//! cargo run -p node-protocol --example slip_vectors -- terminal-service/node-protocol/tests/vectors/slips/vectors.json
//! ```
//!
//! The keys are fixed seeds and Ed25519 signatures are deterministic, so running it again
//! writes the same file; `tests/slip_vectors.rs` checks every vector against
//! `node_protocol::slip` and the `slip-verify` binary, and re-signs the valid ones.

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use node_protocol::slip::{self, EndorsedCertificate, Slip, TerminalCertificate, TrustedNode};
use serde_json::{json, Value};

const BAGHDAD_NODE_SEED: [u8; 32] = [0x42; 32];
const ERBIL_NODE_SEED: [u8; 32] = [0x45; 32];
const TERMINAL_SEED: [u8; 32] = [0x54; 32];
const FORGER_SEED: [u8; 32] = [0x46; 32];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
}

fn certificate(province: &str, node_seed: [u8; 32], terminal_seed: [u8; 32]) -> EndorsedCertificate {
    TerminalCertificate {
        province: province.into(),
        terminal_id: "T-5A1C07E2".into(),
        terminal_key: SigningKey::from_bytes(&terminal_seed).verifying_key(),
        valid_from: day(2026, 12, 1),
        valid_until: day(2026, 12, 31),
    }
    .endorse(&SigningKey::from_bytes(&node_seed))
    .expect("a valid certificate")
}

fn slip(reference: Option<&str>, issued_on: NaiveDate) -> Slip {
    Slip { serial: 0x3A_5C7E_91B4, service: "BGD-H-0001".into(), reference: reference.map(Into::into), issued_on }
}

fn nodes() -> Vec<TrustedNode> {
    vec![TrustedNode { province: "BGD".into(), key: SigningKey::from_bytes(&BAGHDAD_NODE_SEED).verifying_key() }]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path: PathBuf = std::env::args().nth(1).ok_or("give the output file, e.g. tests/vectors/slips/vectors.json")?.into();
    let today = day(2026, 12, 20);
    let good = certificate("BGD", BAGHDAD_NODE_SEED, TERMINAL_SEED);
    let terminal = SigningKey::from_bytes(&TERMINAL_SEED);
    let valid = slip(Some("7K2QX-M4B9R"), day(2026, 12, 3)).sign(&good, &terminal)?.payload();
    let mut cases: Vec<(&str, String)> = vec![
        ("valid", valid.clone()),
        ("valid-lower-case", valid.to_lowercase()),
        ("valid-case-number-today", slip(Some("BGD-2025-000142"), day(2026, 12, 20)).sign(&good, &terminal)?.payload()),
        ("valid-without-reference", slip(None, day(2026, 12, 1)).sign(&good, &terminal)?.payload()),
        ("wrong-node", slip(Some("7K2QX-M4B9R"), day(2026, 12, 3)).sign(&certificate("ERB", ERBIL_NODE_SEED, TERMINAL_SEED), &terminal)?.payload()),
        ("forged-endorsement", slip(Some("7K2QX-M4B9R"), day(2026, 12, 3)).sign(&certificate("BGD", FORGER_SEED, TERMINAL_SEED), &terminal)?.payload()),
        ("extended-endorsement", valid.replacen(".20261231.", ".20271231.", 1)),
        ("expired-endorsement", slip(Some("7K2QX-M4B9R"), day(2027, 1, 2)).sign(&good, &terminal)?.payload()),
        ("before-endorsement", slip(Some("7K2QX-M4B9R"), day(2026, 11, 30)).sign(&good, &terminal)?.payload()),
        ("altered-service", valid.replacen(".BGD-H-0001.", ".BGD-E-0001.", 1)),
        ("altered-reference", valid.replacen(".7K2QX-M4B9R.", ".7K2QX-M4B9S.", 1)),
        ("dated-in-future", slip(Some("7K2QX-M4B9R"), day(2026, 12, 21)).sign(&good, &terminal)?.payload()),
        ("unsupported-version", valid.replacen("S1.", "S2.", 1)),
        ("malformed-truncated", valid[..valid.len() - 10].to_string()),
        ("malformed-field-count", valid.replacen(".7K2QX-M4B9R.", ".7K2QX.M4B9R.", 1)),
        ("malformed-date", valid.replacen(".20261203.", ".20261232.", 1)),
        ("malformed-character", valid.replacen(".BGD-H-0001.", ".BGD_H_0001.", 1)),
        ("not-a-slip", "https://example.org/?ref=7K2QX-M4B9R".into()),
        ("a-receipt-reference", "7K2QX-M4B9R".into()),
    ];
    // A slip signed by a terminal key other than the certified one (a stolen certificate).
    let stolen = slip(Some("7K2QX-M4B9R"), day(2026, 12, 3)).sign(&certificate("BGD", BAGHDAD_NODE_SEED, FORGER_SEED), &SigningKey::from_bytes(&FORGER_SEED))?.payload();
    let good_certificate = good.text();
    let stolen_certificate = stolen.split('.').skip(1).take(6).collect::<Vec<_>>().join(".");
    cases.push(("stolen-certificate", stolen.replacen(&stolen_certificate, &good_certificate, 1)));
    let vectors: Vec<Value> = cases
        .into_iter()
        .map(|(name, payload)| {
            let expected = match slip::verify(&payload, &nodes(), Some(today)) {
                Ok(signed) => json!({ "verdict": "verified", "slip": signed.slip, "terminal_id": signed.certificate.certificate.terminal_id, "province": signed.certificate.certificate.province }),
                Err(e) => json!({ "verdict": "refused", "error": e.kind(), "field": e.field() }),
            };
            json!({ "name": name, "payload": payload, "expected": expected })
        })
        .collect();
    let document = json!({
        "about": "Referral slip test vectors: verify each payload with the node keys below on `today`; the format is documented in terminal-service/node-protocol/src/slip.rs. Keys are test keys that protect nothing.",
        "today": today,
        "node_keys": nodes().iter().map(TrustedNode::line).collect::<Vec<_>>(),
        "signing": {
            "node_seed": hex(&BAGHDAD_NODE_SEED),
            "terminal_seed": hex(&TERMINAL_SEED),
            "terminal_public_key": STANDARD.encode(terminal.verifying_key().to_bytes()),
            "certificate": good_certificate,
        },
        "vectors": vectors,
    });
    std::fs::write(&path, serde_json::to_string_pretty(&document)? + "\n")?;
    println!("wrote {}", path.display());
    Ok(())
}
