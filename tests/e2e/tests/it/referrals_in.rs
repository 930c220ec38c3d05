//! Referrals in (issue 14), across real processes: a partner's referrals issued by the
//! reference node (`provincial-node referrals issue`) are used at a real terminal — one shown
//! to the simulated barcode scanner (its `scan` event checked offline against the partner's
//! key the node configured), one typed (looked up at the node) — and the applications arrive
//! at the node linked to them and are counted in `provincial-node referrals report`. A third
//! application reusing the scanned referral is filed, and the node's refusal of the referral
//! reaches the staff's queue details with its reason.

use std::fs;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use e2e::cluster::FAST_SYNC;
use e2e::processes::{binary, free_port, NodeProcess, TerminalProcess};
use e2e::sample::{answers, Applicant};
use e2e::wait_for;
use node_protocol::SubmissionKind;
use serde_json::{json, Value};

/// Runs `provincial-node ARGS`, which must succeed; its stdout.
fn node_cli(args: &[&str]) -> Result<String> {
    let out = Command::new(binary("provincial-node")?).args(args).output().context("running provincial-node")?;
    if !out.status.success() {
        bail!("provincial-node {args:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Issues a WFP referral at the node; its (code, payload).
fn issue(data: &str, key_file: &str, case_number: &str) -> Result<(String, String)> {
    let issued: Value = serde_json::from_str(&node_cli(&[
        "referrals", "issue", "--data", data, "--partner", "WFP", "--key-file", key_file, "--household-size", "5", "--governorate", "BGD",
        "--case-number", case_number, "--json",
    ])?)?;
    Ok((issued["code"].as_str().context("a code")?.to_owned(), issued["payload"].as_str().context("a payload")?.to_owned()))
}

/// The local API over the terminal's socket, with the event stream (no overall timeout).
struct Api {
    http: reqwest::Client,
}

impl Api {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value)> {
        let mut request = self.http.request(method.parse()?, format!("http://localhost{path}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = tokio::time::timeout(Duration::from_secs(20), request.send()).await.context("an answer within 20 s")??;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).with_context(|| format!("{path}: {text}"))? }))
    }
}

/// The data of the next `scan` event of `events`, within 10 s.
async fn next_scan(events: &mut reqwest::Response, buffer: &mut String) -> Result<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if block.lines().any(|l| l.trim() == "event: scan") {
                let data = block.lines().find_map(|l| l.strip_prefix("data:")).context("a data line")?;
                return Ok(serde_json::from_str(data.trim())?);
            }
        }
        let chunk = tokio::time::timeout_at(deadline, events.chunk()).await.context("no scan event within 10 s")??.context("the stream ended")?;
        buffer.push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referrals_issued_by_the_node_are_used_scanned_and_typed_and_counted_and_a_refusal_reaches_staff() -> Result<()> {
    let dir = tempfile::Builder::new().prefix("e2e-referrals-").tempdir()?;
    let data = dir.path().join("node");
    let data_arg = data.to_str().context("a UTF-8 path")?;
    let key_file = dir.path().join("wfp.key");
    let key_arg = key_file.to_str().context("a UTF-8 path")?;
    // The partner's key, trusted by the node before the terminal enrols (its configuration
    // carries the key to the terminal, for the offline check of a scanned slip).
    let public = node_cli(&["partners", "new-key", "--key-file", key_arg])?.trim().to_owned();
    node_cli(&["partners", "add", "WFP", "--key", &public, "--name", "World Food Programme", "--data", data_arg])?;
    let node = NodeProcess::start(&data, free_port()?).await?;
    let (scanned_code, scanned_payload) = issue(data_arg, key_arg, "WFP-E2E-0001")?;
    let (typed_code, _) = issue(data_arg, key_arg, "WFP-E2E-0002")?;

    let mut terminal = TerminalProcess::new(&dir.path().join("terminal"), &node.url(), FAST_SYNC)?;
    let mut config = fs::read_to_string(&terminal.config)?;
    config.push_str("\n[hardware.scanner]\nkind = \"simulated\"\n");
    fs::write(&terminal.config, config)?;
    terminal.provision(&node.url(), &node.issue_code()?)?;
    terminal.start().await?;
    let forms = terminal.api()?.forms().await?;
    let api = Api { http: reqwest::Client::builder().unix_socket(terminal.socket.as_path()).build()? };

    // Answers as the kiosk sends them once the referral filled the form in.
    let form = forms.form(SubmissionKind::Application)?;
    let master = &forms.master_data;
    let application = |referral: Value| {
        let mut a = answers(form, master, &Applicant::default());
        let baghdad = master.governorates.iter().find(|g| g.code == "BGD").expect("Baghdad in the master data");
        a["household_size"] = json!(5);
        a["governorate"] = json!("BGD");
        a["district"] = json!(baghdad.districts[0].code);
        json!({"language": "ar", "answers": a, "referral": referral})
    };

    // Shown to the scanner: the scan event, checked offline with the key the node configured.
    let mut events = api.http.get("http://localhost/v1/events").send().await?;
    let mut buffer = String::new();
    let (status, body) = api.call("POST", "/v1/simulator/scan", Some(json!({"text": scanned_payload}))).await?;
    assert_eq!(status, 204, "{body}");
    let scan = next_scan(&mut events, &mut buffer).await?;
    assert_eq!(scan["payload"], json!(scanned_payload), "{scan}");
    let (_, check) = api.call("POST", "/v1/referrals/check", Some(json!({"payload": scan["payload"]}))).await?;
    assert_eq!((check["status"].as_str(), check["code"].as_str()), (Some("valid"), Some(scanned_code.as_str())), "{check}");
    assert_eq!((check["prefill"]["household_size"].as_u64(), check["prefill"]["partner_case_number"].as_str()), (Some(5), Some("WFP-E2E-0001")));
    let (status, scanned_ack) =
        api.call("POST", "/v1/applications", Some(application(json!({"code": check["code"], "payload": check["payload"]})))).await?;
    assert_eq!(status, 201, "{scanned_ack}");

    // Typed (any case): the node looks the code up and gives the payload to attach.
    let (_, check) = api.call("POST", "/v1/referrals/check", Some(json!({"code": typed_code.to_lowercase()}))).await?;
    assert_eq!((check["status"].as_str(), check["code"].as_str()), (Some("valid"), Some(typed_code.as_str())), "{check}");
    let (status, typed_ack) = api.call("POST", "/v1/applications", Some(application(json!({"code": check["code"], "payload": check["payload"]})))).await?;
    assert_eq!(status, 201, "{typed_ack}");

    // The scanned slip again, as if checked offline: filed, its referral refused by the node.
    let (status, reused_ack) = api.call("POST", "/v1/applications", Some(application(json!({"code": scanned_code, "payload": scanned_payload})))).await?;
    assert_eq!(status, 201, "{reused_ack}");

    let client = terminal.api()?;
    wait_for("the outbox to drain", Duration::from_secs(30), Duration::from_millis(100), || {
        let client = client.clone();
        async move { client.queue_depth().await.ok().filter(|d| *d == 0) }
    })
    .await?;

    // At the node, each application is linked to its referral.
    let stored = node.submissions()?;
    let case_of = |ack: &Value| -> Result<String> {
        let id: uuid::Uuid = ack["id"].as_str().context("an id")?.parse()?;
        Ok(stored.iter().find(|s| s.id == id).context("the application reached the node")?.case_number.clone())
    };
    let (scanned_case, typed_case, reused_case) = (case_of(&scanned_ack)?, case_of(&typed_ack)?, case_of(&reused_ack)?);
    let uses = |code: &str| -> Result<Vec<(String, String, Option<String>)>> {
        let shown: Value = serde_json::from_str(&node_cli(&["referrals", "show", code, "--data", data_arg])?)?;
        Ok(shown["uses"]
            .as_array()
            .context("uses")?
            .iter()
            .map(|u| (u["case_number"].as_str().unwrap_or_default().to_owned(), u["status"].as_str().unwrap_or_default().to_owned(), u["reason"].as_str().map(str::to_owned)))
            .collect())
    };
    let scanned_uses = uses(&scanned_code)?;
    assert!(scanned_uses.contains(&(scanned_case, "accepted".into(), None)), "{scanned_uses:?}");
    assert!(scanned_uses.contains(&(reused_case.clone(), "refused".into(), Some("already_used".into()))), "{scanned_uses:?}");
    assert_eq!(uses(&typed_code)?, [(typed_case, "accepted".into(), None)]);

    // Counted in the partner's report.
    let report: Value = serde_json::from_str(&node_cli(&["referrals", "report", "--data", data_arg, "--partner", "WFP", "--json"])?)?;
    let wfp = report.as_array().and_then(|lines| lines.iter().find(|l| l["partner"] == "WFP")).context("a WFP line")?;
    assert_eq!((wfp["issued"].as_u64(), wfp["used"].as_u64(), wfp["refused"].as_u64()), (Some(2), Some(2), Some(1)), "{report}");
    assert_eq!(wfp["refused_by_reason"], json!({"already_used": 1}), "{report}");

    // The refusal reaches staff (the sample staff badge on the simulated reader, PIN 2468).
    let (status, body) = api.call("POST", "/v1/simulator/card", Some(json!({"uid": "04A1B2C3D4E580"}))).await?;
    assert_eq!(status, 204, "{body}");
    wait_for("a staff login", Duration::from_secs(10), Duration::from_millis(100), || {
        let api = &api;
        async move { api.call("POST", "/v1/sessions", Some(json!({"pin": "2468"}))).await.ok().filter(|(s, _)| *s == 201) }
    })
    .await?;
    let (status, queue) = api.call("GET", "/v1/queue/details", None).await?;
    assert_eq!(status, 200, "{queue}");
    let refusals = queue["referral_refusals"].as_array().context("referral_refusals")?;
    assert_eq!(refusals.len(), 1, "{queue}");
    assert_eq!((refusals[0]["id"].clone(), refusals[0]["code"].clone(), refusals[0]["reason"].clone()), (reused_ack["id"].clone(), json!(scanned_code), json!("already_used")));
    assert_eq!((refusals[0]["case_number"].as_str(), refusals[0]["reference"].clone()), (Some(reused_case.as_str()), reused_ack["reference"].clone()));
    Ok(())
}
