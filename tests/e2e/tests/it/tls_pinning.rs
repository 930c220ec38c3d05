//! TLS to the node with its certificate pinned at enrollment: a terminal provisioned over https
//! (trust on first use) delivers; once the node presents another certificate the terminal sends
//! nothing and says why, keeping every submission; re-provisioning to the new certificate
//! delivers them. A wrong `--node-fingerprint` stops provisioning before anything is sent.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use e2e::cluster::FAST_SYNC;
use e2e::local_api::LocalApi;
use e2e::processes::{free_port, TerminalProcess, TlsNodeProcess};
use e2e::sample::{answers, Applicant};
use e2e::wait_for;
use node_protocol::SubmissionKind;
use serde_json::Value;
use uuid::Uuid;

async fn submit_application(api: &LocalApi) -> Result<Uuid> {
    let forms = api.forms().await?;
    let body = answers(forms.form(SubmissionKind::Application)?, &forms.master_data, &Applicant::default());
    match api.submit(SubmissionKind::Application, "ar", &body).await? {
        Ok(ack) => Ok(ack.id),
        Err((status, text)) => anyhow::bail!("submission refused with {status}: {text}"),
    }
}

async fn wait_delivered(node: &TlsNodeProcess, id: Uuid) -> Result<()> {
    wait_for("the node to hold the submission", Duration::from_secs(30), Duration::from_millis(100), || {
        let found = node.node.submissions().ok().filter(|s| s.iter().any(|s| s.id == id)).map(|_| ());
        async move { found }
    })
    .await
}

fn output_text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn pinned_fingerprint(terminal: &TerminalProcess) -> Result<Value> {
    let text = std::fs::read_to_string(terminal.storage.join("enrollment.json")).context("reading enrollment.json")?;
    Ok(serde_json::from_str::<Value>(&text)?["node_certificate_sha256"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_node_certificate_stops_delivery_without_losing_anything() -> Result<()> {
    let dir = tempfile::Builder::new().prefix("e2e-tls-").tempdir()?;
    let data = dir.path().join("node");
    let port = free_port()?;
    let mut node = TlsNodeProcess::start(&data, port).await?;
    let original = node.fingerprint()?;

    // Provision over https without a fingerprint: trust on first use, shown to the technician.
    let mut terminal = TerminalProcess::new(&dir.path().join("terminal"), &node.url(), FAST_SYNC)?;
    let out = terminal.cli(&["provision", "--node", &node.url(), "--code", &node.node.issue_code()?])?;
    let text = output_text(&out);
    ensure!(out.status.success(), "provision failed: {text}");
    ensure!(text.contains(&format!("node certificate SHA-256: {original} (pinned on first use)")), "the pin is shown: {text}");
    ensure!(text.contains("operator"), "the technician is told to compare it: {text}");
    ensure!(pinned_fingerprint(&terminal)? == Value::String(original.clone()), "the enrollment record holds the pin");

    terminal.start().await?;
    let api = terminal.api()?;
    let first = submit_application(&api).await?;
    wait_delivered(&node, first).await?;

    // The node comes back on the same address with a new certificate (its files deleted).
    node.stop();
    std::fs::remove_file(data.join("tls-cert.pem"))?;
    std::fs::remove_file(data.join("tls-key.pem"))?;
    let mut node = TlsNodeProcess::start(&data, port).await?;
    let replaced = node.fingerprint()?;
    ensure!(replaced != original, "a new certificate was made");

    let second = submit_application(&api).await?;
    let error = wait_for("the sync engine to report the changed certificate", Duration::from_secs(20), Duration::from_millis(100), || {
        let api = api.clone();
        async move {
            let d = api.get_json("/v1/diagnostics").await.ok()?;
            d.pointer("/sync/last_error").and_then(Value::as_str).filter(|e| e.contains("node certificate changed")).map(str::to_string)
        }
    })
    .await?;
    ensure!(error.contains(&original) && error.contains(&replaced), "the error names both fingerprints: {error}");
    ensure!(error.contains("--force"), "the error says what to do: {error}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    ensure!(api.queue_depth().await? >= 1, "the submission stays queued");
    ensure!(!node.node.submissions()?.iter().any(|s| s.id == second), "nothing reached the impostor-looking node");
    let diagnostics = api.get_json("/v1/diagnostics").await?;
    let audited = diagnostics["audit"]
        .as_array()
        .is_some_and(|entries| entries.iter().any(|e| e["action"] == "sync_failed" && e["detail"].to_string().contains("node certificate changed")));
    ensure!(audited, "the refusal is audited: {diagnostics}");
    let log = std::fs::read_to_string(&terminal.log)?;
    ensure!(log.contains("node certificate changed"), "the refusal is logged");

    // The node was legitimately rebuilt: re-provision to its new certificate; the queue drains.
    terminal.stop();
    let out = terminal.cli(&["provision", "--force", "--node", &node.url(), "--code", &node.node.issue_code()?, "--node-fingerprint", &replaced])?;
    ensure!(out.status.success(), "re-provision failed: {}", output_text(&out));
    ensure!(pinned_fingerprint(&terminal)? == Value::String(replaced.clone()), "the new pin is recorded");
    terminal.start().await?;
    wait_delivered(&node, second).await?;
    let api = terminal.api()?;
    wait_for("the outbox to drain", Duration::from_secs(20), Duration::from_millis(100), || {
        let api = api.clone();
        async move { api.queue_depth().await.ok().filter(|d| *d == 0) }
    })
    .await?;
    let stored = node.node.submissions()?;
    ensure!(stored.iter().filter(|s| s.id == first || s.id == second).count() == 2, "each delivered once: {stored:?}");
    node.stop();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_node_fingerprint_stops_provisioning_before_anything_is_sent() -> Result<()> {
    let dir = tempfile::Builder::new().prefix("e2e-tls-").tempdir()?;
    let mut node = TlsNodeProcess::start(&dir.path().join("node"), free_port()?).await?;
    let actual = node.fingerprint()?;
    let terminal = TerminalProcess::new(&dir.path().join("terminal"), &node.url(), FAST_SYNC)?;
    let code = node.node.issue_code()?;
    let wrong = "ab".repeat(32);

    let out = terminal.cli(&["provision", "--node", &node.url(), "--code", &code, "--node-fingerprint", &wrong])?;
    let text = output_text(&out);
    ensure!(!out.status.success(), "provisioning must fail: {text}");
    ensure!(text.contains("node certificate mismatch"), "{text}");
    ensure!(text.contains(&actual) && text.contains(&wrong), "both fingerprints are named: {text}");
    ensure!(!terminal.storage.join("enrollment.json").exists(), "nothing was enrolled");

    // The code was never sent, so it still works with the right fingerprint (as the operator
    // would print it with colons, in capitals).
    let pretty: Vec<String> = actual.as_bytes().chunks(2).map(|p| String::from_utf8_lossy(p).to_uppercase()).collect();
    let out = terminal.cli(&["provision", "--node", &node.url(), "--code", &code, "--node-fingerprint", &pretty.join(":")])?;
    ensure!(out.status.success(), "provisioning with the right fingerprint: {}", output_text(&out));
    ensure!(output_text(&out).contains("matches --node-fingerprint"), "{}", output_text(&out));
    ensure!(pinned_fingerprint(&terminal)? == Value::String(actual), "pinned");
    node.stop();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_is_refused_off_this_machine_and_warned_about_on_it() -> Result<()> {
    let dir = tempfile::Builder::new().prefix("e2e-tls-").tempdir()?;
    let terminal = TerminalProcess::new(&dir.path().join("terminal"), "http://127.0.0.1:9", FAST_SYNC)?;
    // Refused before any connection is tried; `.invalid` never resolves, should that change.
    let out = terminal.cli(&["provision", "--node", "http://node.invalid:8700", "--code", "X"])?;
    let text = output_text(&out);
    ensure!(!out.status.success(), "{text}");
    ensure!(text.contains("--allow-insecure-http") && text.contains("https://"), "{text}");
    // A fingerprint makes no sense without TLS.
    let out = terminal.cli(&["provision", "--node", "http://127.0.0.1:9", "--code", "X", "--node-fingerprint", &"ab".repeat(32)])?;
    ensure!(!out.status.success() && output_text(&out).contains("https://"), "{}", output_text(&out));
    Ok(())
}
