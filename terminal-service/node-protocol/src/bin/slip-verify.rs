//! `slip-verify`: the receiving service's check of a referral slip, offline.
//!
//! ```text
//! slip-verify --node-key BGD=<base64 key> [--node-key ERB=…] [--node-keys FILE] [--today YYYY-MM-DD] [--json] [QR-TEXT | -]
//! ```
//!
//! The QR text comes as the argument, or on standard input (`-` or no argument: what a 2D
//! scanner or a phone app pasted). The node keys are what `provincial-node slips node-key`
//! prints (`PROVINCE=KEY`), given with `--node-key` or one a line in a file (`#` comments).
//! Prints `verified` and the slip, or `refused: KIND` and why; exit status 0 verified,
//! 1 refused, 2 when the command itself is wrong. Deliberately tiny (no server, no network, no
//! argument-parsing crate): partners run it on whatever computer is at the service's desk.

use std::io::Read;
use std::process::ExitCode;

use chrono::NaiveDate;
use node_protocol::slip::{self, SignedSlip, TrustedNode};

const USAGE: &str = "usage: slip-verify --node-key PROVINCE=KEY [--node-key …] [--node-keys FILE] [--today YYYY-MM-DD] [--json] [QR-TEXT | -]";

struct Args {
    nodes: Vec<TrustedNode>,
    today: Option<NaiveDate>,
    json: bool,
    payload: Option<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args { nodes: Vec::new(), today: None, json: false, payload: None };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--node-key" => parsed.nodes.push(value("--node-key")?.parse::<TrustedNode>()?),
            "--node-keys" => {
                let file = value("--node-keys")?;
                let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read --node-keys {file}: {e}"))?;
                for (n, line) in text.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    parsed.nodes.push(line.parse::<TrustedNode>().map_err(|e| format!("{file} line {}: {e}", n + 1))?);
                }
            }
            "--today" => {
                let text = value("--today")?;
                parsed.today = Some(NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| format!("--today '{text}' is not a date YYYY-MM-DD"))?);
            }
            "--json" => parsed.json = true,
            "-h" | "--help" => return Err(String::new()),
            "-" => parsed.payload = None,
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            other => {
                if parsed.payload.is_some() {
                    return Err("give one QR text (quote it), or none to read standard input".into());
                }
                parsed.payload = Some(other.to_string());
            }
        }
    }
    if parsed.nodes.is_empty() {
        return Err("give the node's key: --node-key PROVINCE=KEY (from `provincial-node slips node-key`)".into());
    }
    Ok(parsed)
}

/// Today in Iraq (UTC+3, no daylight saving), the calendar slips are dated in.
fn iraq_today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(3)).date_naive()
}

fn describe(signed: &SignedSlip) -> serde_json::Value {
    let certificate = &signed.certificate.certificate;
    serde_json::json!({
        "service": signed.slip.service,
        "reference": signed.slip.reference,
        "issued_on": signed.slip.issued_on,
        "serial": signed.payload().split('.').nth(7),
        "province": certificate.province,
        "terminal_id": certificate.terminal_id,
        "endorsed_from": certificate.valid_from,
        "endorsed_until": certificate.valid_until,
    })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("slip-verify: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let payload = match args.payload {
        Some(payload) => payload,
        None => {
            let mut text = String::new();
            // A QR payload is a few hundred bytes; read a little more so that anything longer is
            // refused as too long rather than read without bound.
            if let Err(e) = std::io::stdin().take(64 * 1024).read_to_string(&mut text) {
                eprintln!("slip-verify: cannot read the QR text from standard input: {e}");
                return ExitCode::from(2);
            }
            text
        }
    };
    let today = args.today.unwrap_or_else(iraq_today);
    match slip::verify(&payload, &args.nodes, Some(today)) {
        Ok(signed) => {
            let slip = describe(&signed);
            if args.json {
                println!("{}", serde_json::json!({ "verdict": "verified", "slip": slip }));
            } else {
                println!("verified");
                for (key, value) in slip.as_object().into_iter().flatten() {
                    println!("{key}: {}", value.as_str().map_or_else(|| value.to_string(), str::to_string));
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            if args.json {
                println!("{}", serde_json::json!({ "verdict": "refused", "error": error.kind(), "field": error.field(), "message": error.to_string() }));
            } else {
                println!("refused: {}", error.kind());
                println!("{error}");
            }
            ExitCode::from(1)
        }
    }
}
