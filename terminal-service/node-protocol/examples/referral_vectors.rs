//! Writes the referral test vectors (`tests/vectors/referrals/*.json`) for partners who build
//! their own issuing or verifying software:
//!
//! ```sh
//! cargo run -p node-protocol --example referral_vectors -- terminal-service/node-protocol/tests/vectors/referrals
//! ```
//!
//! The keys are fixed seeds and Ed25519 signatures are deterministic, so running it again
//! writes the same files; `tests/referral_vectors.rs` checks every file against
//! `node_protocol::referral` and re-signs the valid ones.

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use node_protocol::referral::{self, Referral, ShortCode, TrustedPartner};
use serde_json::{json, Value};

const WFP_SEED: [u8; 32] = [0x57; 32];
const UNHCR_SEED: [u8; 32] = [0x55; 32];
const FORGER_SEED: [u8; 32] = [0x46; 32];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
}

fn wfp_referral() -> Referral {
    Referral {
        partner: "WFP".into(),
        serial: 0x3A_5C7E_91B4,
        issued_on: day(2026, 12, 1),
        expires_on: day(2027, 2, 28),
        household_size: 6,
        governorate: "NIN".into(),
        partner_case: "IRQ-NIN-2026-004217".into(),
    }
}

fn partners() -> Value {
    json!([
        { "code": "WFP", "public_key": STANDARD.encode(SigningKey::from_bytes(&WFP_SEED).verifying_key().to_bytes()) },
        { "code": "UNHCR", "public_key": STANDARD.encode(SigningKey::from_bytes(&UNHCR_SEED).verifying_key().to_bytes()) },
    ])
}

fn trusted() -> Vec<TrustedPartner> {
    [("WFP", WFP_SEED), ("UNHCR", UNHCR_SEED)]
        .into_iter()
        .map(|(code, seed)| TrustedPartner { code: code.into(), key: SigningKey::from_bytes(&seed).verifying_key() })
        .collect()
}

/// One payload vector; the verdict is computed by the library and written down, and the test
/// checks the library still reaches it.
fn vector(description: &str, today: NaiveDate, payload: &str, signing: Option<(&str, [u8; 32])>) -> Value {
    let expected = match referral::verify(payload, &trusted(), today) {
        Ok(signed) => json!({
            "verdict": "valid",
            "referral": signed.referral,
            "short_code": signed.referral.short_code(),
        }),
        Err(error) => {
            let mut refused = json!({ "verdict": "refused", "error": error.kind(), "reason": error.code() });
            if let Some(field) = error.field() {
                refused["field"] = json!(field);
            }
            refused
        }
    };
    let mut v = json!({
        "description": description,
        "partners": partners(),
        "today": today,
        "payload": payload,
        "expected": expected,
    });
    if let Some((partner, seed)) = signing {
        v["signing"] = json!({ "partner": partner, "secret_key_seed_hex": hex(&seed) });
    }
    v
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("give the directory to write the vectors to")?);
    std::fs::create_dir_all(&dir)?;
    let wfp = SigningKey::from_bytes(&WFP_SEED);
    let valid = wfp_referral().sign(&wfp)?.payload();
    let today = day(2026, 12, 2);

    let unhcr = Referral {
        partner: "UNHCR".into(),
        serial: 7,
        issued_on: day(2026, 11, 15),
        expires_on: day(2026, 12, 15),
        household_size: 1,
        governorate: "DHK".into(),
        partner_case: "UNHCR/IRQ/26/0000071".into(),
    }
    .sign(&SigningKey::from_bytes(&UNHCR_SEED))?
    .payload();
    let forged = wfp_referral().sign(&SigningKey::from_bytes(&FORGER_SEED))?.payload();
    let unknown_partner = Referral { partner: "CWG".into(), ..wfp_referral() }.sign(&SigningKey::from_bytes(&FORGER_SEED))?.payload();
    let (body, signature) = valid.rsplit_once('.').ok_or("payload has fields")?;

    let vectors: Vec<(&str, Value)> = vec![
        ("valid-wfp", vector("A WFP referral, verified the day after issue.", today, &valid, Some(("WFP", WFP_SEED)))),
        ("valid-unhcr", vector("A UNHCR referral with the longest partner code and '/' in the case number.", today, &unhcr, Some(("UNHCR", UNHCR_SEED)))),
        ("valid-caps-lock", vector("The WFP payload as a keyboard-wedge scanner types it with Caps Lock on, followed by Enter: case and surrounding white space do not matter.", today, &format!("{}\r\n", valid.to_lowercase()), None)),
        ("valid-last-day", vector("Verified on its expiry date: still valid (dates are inclusive).", day(2027, 2, 28), &valid, None)),
        ("expired", vector("Verified the day after its expiry date.", day(2027, 3, 1), &valid, None)),
        ("not-yet-valid", vector("Verified the day before its issue date (a terminal clock in the past, or a forged date).", day(2026, 11, 30), &valid, None)),
        ("forged-signature", vector("The WFP referral signed by a key that is not WFP's.", today, &forged, None)),
        ("altered-household-size", vector("The WFP payload with the household size changed from 6 to 9; the signature is WFP's over the original.", today, &valid.replacen(".6.NIN.", ".9.NIN.", 1), None)),
        ("unknown-partner", vector("Signed by partner CWG, whom this verifier does not trust.", today, &unknown_partner, None)),
        ("malformed-truncated", vector("The payload cut short inside the signature (a partly scanned code).", today, &valid[..valid.len() - 10], None)),
        ("malformed-field-count", vector("The partner case number left out.", today, &valid.replacen(".IRQ-NIN-2026-004217", "", 1), None)),
        ("malformed-date", vector("An issue date that does not exist (20261301).", today, &valid.replacen(".20261201.", ".20261301.", 1), None)),
        ("malformed-non-canonical", vector("The household size written with a leading zero (06): one spelling per referral.", today, &valid.replacen(".6.NIN.", ".06.NIN.", 1), None)),
        ("malformed-character", vector("A '+' where a '.' belongs: not a character of a referral.", today, &format!("{body}+{signature}"), None)),
        ("unsupported-version", vector("A version this verifier does not read (R2).", today, &valid.replacen("R1.", "R2.", 1), None)),
        ("not-a-referral", vector("Some other QR code's content (a web address).", today, "HTTPS://EXAMPLE.ORG/A", None)),
    ];
    for (name, value) in &vectors {
        std::fs::write(dir.join(format!("{name}.json")), format!("{}\n", serde_json::to_string_pretty(value)?))?;
    }

    let code = wfp_referral().short_code();
    let typed = |text: &str, description: &str| {
        let expected = match ShortCode::parse(text) {
            Ok(parsed) => json!({ "partner": parsed.partner, "serial": parsed.serial, "canonical": parsed.to_string() }),
            Err(error) => json!({ "error": error.kind() }),
        };
        json!({ "typed": text, "description": description, "expected": expected })
    };
    let mut typo = code.clone().into_bytes();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == b'A' { b'B' } else { b'A' };
    let typo = String::from_utf8(typo)?;
    let mut swapped: Vec<char> = code.chars().collect();
    swapped.swap(4, 5);
    let swapped: String = swapped.into_iter().collect();
    let short_codes = json!({
        "description": "Short codes as people type them, and what a reader makes of them: the partner's code, '-' or a space, then 8 serial characters and 1 check character (Luhn mod 32) in Crockford base 32, in any case and grouping, O read as 0 and I or L as 1.",
        "short_codes": [
            typed(&code, "The canonical form printed on the slip."),
            typed(&code.to_lowercase().replace('-', " "), "Lower case, spaces for dashes."),
            typed(&code.replace('-', "").replacen("WFP", "WFP-", 1), "No grouping after the partner's code."),
            typed(&typo, "The check character mistyped."),
            typed(&swapped, "Two neighbouring characters swapped."),
            typed(&code.replace('-', ""), "No separator after the partner's code: cannot tell the partner from the serial."),
            typed("WFP-K7M-2Q9", "Too short."),
            typed("WFP-K7M-2Q9-XAU", "U is not in Crockford's alphabet."),
        ],
    });
    std::fs::write(dir.join("short-codes.json"), format!("{}\n", serde_json::to_string_pretty(&short_codes)?))?;
    println!("wrote {} vectors to {}", vectors.len() + 1, dir.display());
    Ok(())
}
