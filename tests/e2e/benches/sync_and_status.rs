//! Benchmarks of the terminal against the reference node on loopback, each as a ratio to a
//! baseline measured in the same run (these machines are noisy; ratios travel, seconds don't).
//!
//! - Sync drain: N submissions queued while the node is down are drained when it comes back;
//!   the rate is compared with the node's own ingestion rate when the same number of envelopes
//!   is posted to it directly, signed, in batches of the same size (the best any terminal could
//!   do). Target from the design: ≥ 5,000 submissions/s.
//! - Status check: p50/p99 of a status check through the terminal's local API, against the same
//!   query signed and sent straight to the node. Target: the terminal adds < 5 ms at p99.
//!
//! Run: `cargo build --release --workspace --bins && cargo bench -p e2e --bench sync_and_status`
//! (`E2E_BENCH_N` sets the number of submissions, default 10000).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use e2e::cluster::Cluster;
use e2e::processes::{issue_code, NodeProcess};
use e2e::sample::Applicant;
use ed25519_dalek::SigningKey;
use node_protocol::signature::{sign_request, ENROLL_KEY_ID};
use node_protocol::{Envelope, SubmissionBatch, SubmissionKind};

const BATCH: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct DirectTerminal {
    key: SigningKey,
    id: String,
    url: String,
    http: reqwest::Client,
}

impl DirectTerminal {
    async fn enroll(node: &NodeProcess) -> Result<DirectTerminal> {
        let key = SigningKey::from_bytes(&rand::random());
        let http = reqwest::Client::new();
        let public_key = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(key.verifying_key().to_bytes())
        };
        let body = serde_json::to_vec(&serde_json::json!({
            "code": issue_code(&node.data, None)?,
            "public_key": public_key,
            "terminal_name": "bench-baseline",
            "software_version": "bench",
        }))?;
        let answer: serde_json::Value = Self::post_with(&http, &key, ENROLL_KEY_ID, &node.url(), "/v1/terminals/enroll", body).await?;
        let id = answer["terminal_id"].as_str().context("terminal id")?.to_string();
        Ok(DirectTerminal { key, id, url: node.url(), http })
    }

    async fn post_with(http: &reqwest::Client, key: &SigningKey, keyid: &str, url: &str, path: &str, body: Vec<u8>) -> Result<serde_json::Value> {
        let nonce = format!("{:032x}", rand::random::<u128>());
        let h = sign_request(key, keyid, "POST", path, &body, chrono::Utc::now().timestamp(), &nonce);
        let mut req = http.post(format!("{url}{path}")).header("content-type", "application/json").body(body);
        for (k, v) in h.pairs() {
            req = req.header(k, v);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status}: {text}");
        Ok(serde_json::from_str(&text)?)
    }

    async fn post(&self, path: &str, body: Vec<u8>) -> Result<serde_json::Value> {
        Self::post_with(&self.http, &self.key, &self.id, &self.url, path, body).await
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let n: usize = std::env::var("E2E_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    // The [sync] table is the config file's last, so a [kiosk] table can follow it here: the
    // status-check rate limit (30/min by default) would otherwise be what gets measured.
    let sync = format!("batch_size = {BATCH}\nbackoff_initial_ms = 50\nbackoff_max_ms = 200\nrequest_timeout_ms = 10000\n\n[kiosk]\nstatus_checks_per_minute = 10000\n");
    let mut cluster = Cluster::start(&sync, None).await?;
    let api = cluster.api()?;
    let (data, port) = (cluster.node.data.clone(), cluster.node.port);

    // ---- sync drain ---------------------------------------------------------------------
    cluster.node.stop();
    let fill = Instant::now();
    let anyone = Applicant::default();
    let mut done = 0;
    while done < n {
        let k = (n - done).min(16);
        let futs = (0..k).map(|_| cluster.submit_one(&api, SubmissionKind::Application, &anyone));
        for r in futures_util::future::join_all(futs).await {
            r?;
        }
        done += k;
    }
    let fill = fill.elapsed();
    cluster.node = NodeProcess::start(&data, port).await?;
    let drain = Instant::now();
    cluster.wait_drained(Duration::from_secs(600)).await?;
    let drain = drain.elapsed();
    let terminal_rate = n as f64 / drain.as_secs_f64();

    // Baseline: the node's own ingestion of the same number of envelopes, posted directly.
    let direct = DirectTerminal::enroll(&cluster.node).await?;
    // Sealed for real, like the terminal does, so the node does the same work per envelope.
    let recipient: age::x25519::Recipient = std::fs::read_to_string(data.join("sealing-identity.txt"))?
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .context("public key comment in the identity file")?
        .trim()
        .parse()
        .map_err(|e| anyhow::anyhow!("node recipient: {e}"))?;
    let form = cluster.forms.form(SubmissionKind::Application)?.clone();
    let mut envelopes = Vec::with_capacity(n);
    for _ in 0..n {
        use base64::Engine;
        let id = uuid::Uuid::now_v7();
        let answers = e2e::sample::answers(&form, &cluster.forms.master_data, &anyone);
        let content = node_protocol::SubmissionContent {
            id,
            kind: SubmissionKind::Application,
            form_id: form.id.clone(),
            form_version: form.version.clone(),
            language: "ar".into(),
            answers: answers.as_object().cloned().unwrap_or_default(),
            assisted_by: None,
            terminal_id: direct.id.clone(),
            duplicate_override: None,
            referral: None,
            targeting: None,
        };
        let plaintext = serde_json::to_vec(&content)?;
        let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut sealed = Vec::new();
        let mut w = encryptor.wrap_output(&mut sealed)?;
        std::io::Write::write_all(&mut w, &plaintext)?;
        w.finish()?;
        envelopes.push(Envelope {
            id,
            kind: SubmissionKind::Application,
            created_at: chrono::Utc::now(),
            form_version: form.version.clone(),
            sealed: base64::engine::general_purpose::STANDARD.encode(sealed),
        });
    }
    let base = Instant::now();
    for chunk in envelopes.chunks(BATCH) {
        direct.post("/v1/submissions", serde_json::to_vec(&SubmissionBatch { envelopes: chunk.to_vec() })?).await?;
    }
    let base = base.elapsed();
    let direct_rate = n as f64 / base.as_secs_f64();

    println!("sync drain: {n} submissions (queued in {:.1} s through the local API)", fill.as_secs_f64());
    println!("  terminal drained to the node: {:>9.0} submissions/s ({:.2} s)", terminal_rate, drain.as_secs_f64());
    println!("  baseline, posted directly:    {:>9.0} envelopes/s ({:.2} s)", direct_rate, base.as_secs_f64());
    println!("  ratio terminal/baseline:      {:>9.2}", terminal_rate / direct_rate);

    // ---- status check latency ---------------------------------------------------------------
    let query = serde_json::json!({"query": {"by": "national_id", "national_id": "100000000001"}});
    let body = serde_json::to_vec(&query)?;
    let rounds = 300;
    let mut via_terminal = Vec::with_capacity(rounds);
    let mut via_direct = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        let (status, text) = api.raw("POST", "/v1/status-checks", Some("application/json"), body.clone()).await?;
        anyhow::ensure!(status == 200, "status check: {status} {text}");
        via_terminal.push(t.elapsed());
        let t = Instant::now();
        direct.post("/v1/status", body.clone()).await?;
        via_direct.push(t.elapsed());
    }
    via_terminal.sort();
    via_direct.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("status check: {rounds} queries, interleaved");
    println!("  direct to node   p50 {:.2} ms  p99 {:.2} ms", ms(percentile(&via_direct, 0.5)), ms(percentile(&via_direct, 0.99)));
    println!("  via the terminal p50 {:.2} ms  p99 {:.2} ms", ms(percentile(&via_terminal, 0.5)), ms(percentile(&via_terminal, 0.99)));
    println!(
        "  added by the terminal at p99: {:.2} ms (ratio {:.2})",
        ms(percentile(&via_terminal, 0.99)) - ms(percentile(&via_direct, 0.99)),
        ms(percentile(&via_terminal, 0.99)) / ms(percentile(&via_direct, 0.99))
    );
    Ok(())
}
