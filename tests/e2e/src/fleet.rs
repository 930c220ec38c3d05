//! A fleet of terminals reconnecting after a provincial outage, in one process.
//!
//! Each simulated terminal is terminal-service's own library over its own storage directory
//! (key, enrollment, outbox, audit log), enrolled with its own code through the real
//! `provisioning` code, capturing through `capture::submission` and delivering with the real
//! sync engine (`delivery::sync::run`). The node is the real reference node binary, behind the
//! e2e [`FaultProxy`] (all requests pass) which records when each request arrived, from which
//! terminal (the signature's `keyid`) and what the node answered.
//!
//! The scenario: power returns to a province and every terminal boots at the same moment with
//! work queued during the outage, while the node is still down; the node comes back after
//! `outage`. Reported: the node's peak request rate once it is back, the time until every
//! outbox is empty, losses and duplicates (the node's own list of submissions against what
//! the terminals acknowledged), how many batches the node refused as overloaded, and how many
//! requests came from a terminal before the `Retry-After` the node had given it elapsed.
//!
//! The long form is `cargo run --release -p e2e --bin fleet` (see BENCHMARKS.md); the short
//! form is the test `fleet::` in `tests/it`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures_util::{stream, StreamExt};
use node_protocol::SubmissionKind;
use terminal_service::capture::storage::Storage;
use terminal_service::capture::submission::{capture, CaptureRequest};
use terminal_service::delivery::sync;
use terminal_service::startup::config::Config;
use terminal_service::startup::provision::{provision, ProvisionRequest};
use terminal_service::terminal::Terminal;
use tokio::sync::watch;
use uuid::Uuid;

use crate::fault_proxy::{FaultProxy, Seen};
use crate::processes::{free_port, issue_code, NodeProcess};
use crate::sample::{answers, Applicant};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Number of terminals.
    pub terminals: usize,
    /// Applications each terminal queues during the outage.
    pub per_terminal: usize,
    /// `[sync] backoff_jitter`.
    pub jitter: bool,
    /// `[sync] batch_size`.
    pub batch_size: usize,
    /// `[sync] backoff_initial_ms`.
    pub backoff_initial_ms: u64,
    /// `[sync] backoff_max_ms`.
    pub backoff_max_ms: u64,
    /// `[sync] request_timeout_ms`.
    pub request_timeout_ms: u64,
    /// The node's `serve --max-concurrent-batches`.
    pub max_concurrent_batches: u32,
    /// The node's `serve --busy-retry-after` (seconds).
    pub busy_retry_after_s: u64,
    /// The node's `serve --busy-retry-after-max` (seconds): a `Retry-After` growing with the
    /// load up to this; `None` for a fixed one.
    pub busy_retry_after_max_s: Option<u64>,
    /// How long the node stays down after the terminals start.
    pub outage: Duration,
    /// Give up waiting for the drain after this long.
    pub drain_limit: Duration,
}

impl FleetOptions {
    /// The CI form: small and quick, same shape.
    pub fn short(jitter: bool) -> FleetOptions {
        FleetOptions {
            terminals: 40,
            per_terminal: 3,
            jitter,
            batch_size: 2,
            backoff_initial_ms: 200,
            backoff_max_ms: 1600,
            request_timeout_ms: 10_000,
            max_concurrent_batches: 2,
            busy_retry_after_s: 1,
            busy_retry_after_max_s: None,
            outage: Duration::from_secs(3),
            drain_limit: Duration::from_secs(60),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FleetReport {
    /// Terminals simulated.
    pub terminals: usize,
    /// Applications acknowledged by the terminals during the outage.
    pub submissions: usize,
    /// Whether the terminals randomised their retries.
    pub jitter: bool,
    /// Batches (`POST /v1/submissions`) sent once the node was started again.
    pub requests: usize,
    /// The most requests in any 100 ms, as a rate per second.
    pub peak_per_s_100ms: f64,
    /// The most requests in any whole second (1 s buckets from the node's return).
    pub peak_per_s_1s: usize,
    /// Whether every outbox was empty before `drain_limit`.
    pub drained: bool,
    /// From starting the node again to every outbox empty (or to `drain_limit`).
    pub drain_s: f64,
    /// Applications still waiting on their terminals at the end (0 when drained).
    pub still_queued: u64,
    /// Batches the node answered `503` with `Retry-After`.
    pub overloaded: usize,
    /// Requests that reached the node from a terminal before the `Retry-After` it had been given elapsed.
    pub early_retries: usize,
    /// `503`s that reached the proxy only after the terminal's request timeout had run out
    /// since the request arrived: the terminal had given up and never read them, so requests
    /// after them are not counted as early (see [`early_retries`]).
    pub refusals_after_timeout: usize,
    /// Of the early requests, those carrying none of the refused batch's envelopes: the other
    /// batch the terminal already had in flight (`MAX_IN_FLIGHT` = 2) reaching the proxy after
    /// the refusal of the first, sent before the terminal could know. The rest of
    /// `early_retries` resent refused envelopes too soon: those would be the terminal's fault.
    pub early_in_flight: usize,
    /// Acknowledged applications the node does not have.
    pub lost: usize,
    /// Ids the node holds more than once, or that no terminal acknowledged.
    pub duplicated: usize,
    /// Applications the node received again after a lost answer (answered `duplicate`, stored once).
    pub resent: u64,
}

struct Simulated {
    terminal: Arc<Terminal>,
}

/// Runs the scenario described in the module documentation.
pub async fn run(options: &FleetOptions) -> Result<FleetReport> {
    let dir = tempfile::Builder::new().prefix("e2e-fleet-").tempdir()?;
    let data = dir.path().join("node");
    let port = free_port()?;
    let max = options.max_concurrent_batches.to_string();
    let retry_after = options.busy_retry_after_s.to_string();
    let retry_after_max = options.busy_retry_after_max_s.map(|s| s.to_string());
    let mut serve_args = vec!["--max-concurrent-batches", max.as_str(), "--busy-retry-after", retry_after.as_str()];
    if let Some(up_to) = &retry_after_max {
        serve_args.extend(["--busy-retry-after-max", up_to.as_str()]);
    }
    let mut node = NodeProcess::start_with(&data, port, &serve_args).await?;
    let proxy = FaultProxy::start(&node.url(), &[], 0xf1ee7).await?;

    // Enrol every terminal with its own code and key, as a technician would.
    let mut codes = Vec::with_capacity(options.terminals);
    for _ in 0..options.terminals {
        codes.push(issue_code(&data, None)?);
    }
    let fleet: Vec<Simulated> = stream::iter(codes.into_iter().enumerate())
        .map(|(i, code)| {
            let root = dir.path().join(format!("terminal-{i:04}"));
            let url = proxy.url();
            async move { enrol(&root, &url, &code, options).await }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    let config = fleet[0].terminal.node_config().context("the node configuration was cached at enrollment")?;
    let form = config.forms.iter().find(|f| f.kind == SubmissionKind::Application).context("the node serves an application form")?.clone();

    // The node goes down; the terminals keep taking applications.
    node.stop();
    let acknowledged: Vec<Uuid> = stream::iter(fleet.iter().flat_map(|s| std::iter::repeat_n(&s.terminal, options.per_terminal)))
        .map(|terminal| {
            let body = answers(&form, &config.master_data, &Applicant::default());
            async move {
                let request = CaptureRequest {
                    language: "ar".into(),
                    answers: body.as_object().cloned().unwrap_or_default(),
                    assisted_by: None,
                    duplicate_override: None,
                    referral: None,
                    targeting: None,
                };
                capture(terminal, SubmissionKind::Application, request).await.map(|c| c.id).context("capturing an application")
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;

    // Power returns: every terminal starts its sync engine at once, against a node still down.
    let (stop, stopped) = watch::channel(false);
    let engines: Vec<_> = fleet.iter().map(|s| tokio::spawn(sync::run(Arc::clone(&s.terminal), stopped.clone()))).collect();
    tokio::time::sleep(options.outage).await;

    let back = Instant::now();
    let mut node = NodeProcess::start_with(&data, port, &serve_args).await?;
    let total = acknowledged.len() as u64;
    // A fleet that has not drained by `drain_limit` is reported as such (the herd without
    // jitter can take that long), not as an error: its figures are the point.
    let (drained, elapsed) = loop {
        let delivered: u64 = fleet.iter().map(|s| s.terminal.diagnostics.lock().unwrap_or_else(|p| p.into_inner()).delivered).sum();
        if delivered >= total {
            break (true, back.elapsed());
        }
        if back.elapsed() > options.drain_limit {
            break (false, back.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let _ = stop.send(true);
    for engine in engines {
        let _ = tokio::time::timeout(Duration::from_secs(15), engine).await;
    }
    let mut still_queued = 0u64;
    for s in &fleet {
        still_queued += s.terminal.storage.outbox(|o| o.stats()).await.context("reading a simulated terminal's outbox")?.depth;
    }

    // What the node holds, against what the terminals acknowledged.
    let stored = node.submissions()?;
    node.stop();
    let acked: HashSet<Uuid> = acknowledged.iter().copied().collect();
    let mut held: HashMap<Uuid, usize> = HashMap::new();
    for s in &stored {
        *held.entry(s.id).or_default() += 1;
    }
    // Not at the node and not still queued on its terminal: lost.
    let lost = acked.iter().filter(|id| !held.contains_key(id)).count().saturating_sub(still_queued as usize);
    let duplicated = held.iter().filter(|(id, n)| **n > 1 || !acked.contains(id)).count();
    let resent = stored.iter().map(|s| s.deliveries.saturating_sub(1)).sum();

    let seen: Vec<Seen> = proxy.seen().into_iter().filter(|s| s.path.starts_with("/v1/submissions") && s.at >= back).collect();
    let (peak_per_s_100ms, peak_per_s_1s) = peaks(&seen, back);
    Ok(FleetReport {
        terminals: options.terminals,
        submissions: acknowledged.len(),
        jitter: options.jitter,
        requests: seen.len(),
        peak_per_s_100ms,
        peak_per_s_1s,
        drained,
        drain_s: elapsed.as_secs_f64(),
        still_queued,
        overloaded: seen.iter().filter(|s| s.retry_after.is_some() && s.response.as_ref().is_some_and(|r| r.0 == 503)).count(),
        early_retries: early_retries(&seen, Duration::from_millis(options.request_timeout_ms)).0,
        early_in_flight: early_retries(&seen, Duration::from_millis(options.request_timeout_ms)).1,
        refusals_after_timeout: seen.iter().filter(|s| s.retry_after.is_some() && answered_after_timeout(s, Duration::from_millis(options.request_timeout_ms))).count(),
        lost,
        duplicated,
        resent,
    })
}

async fn enrol(root: &std::path::Path, node_url: &str, code: &str, options: &FleetOptions) -> Result<Simulated> {
    let mut config = Config::default();
    config.storage.dir = root.join("state");
    config.api.socket = root.join("api.sock");
    config.sync.batch_size = options.batch_size;
    config.sync.backoff_initial_ms = options.backoff_initial_ms;
    config.sync.backoff_max_ms = options.backoff_max_ms;
    config.sync.request_timeout_ms = options.request_timeout_ms;
    config.sync.backoff_jitter = options.jitter;
    std::fs::create_dir_all(&config.storage.dir)?;
    {
        let storage = Storage::open(&config.storage.dir)?;
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
        let request = ProvisionRequest {
            node_url: node_url.into(),
            code: code.into(),
            force: false,
            node_fingerprint: None,
            allow_insecure_http: false,
        };
        provision(&config, &storage, &http, &request).await.context("provisioning a simulated terminal")?;
    }
    let terminal = Terminal::open(config).context("opening a simulated terminal")?;
    Ok(Simulated { terminal })
}

/// The busiest 100 ms and the busiest second, counted from `from`.
fn peaks(seen: &[Seen], from: Instant) -> (f64, usize) {
    let mut tenths: HashMap<u128, usize> = HashMap::new();
    let mut seconds: HashMap<u128, usize> = HashMap::new();
    for s in seen {
        let ms = s.at.duration_since(from).as_millis();
        *tenths.entry(ms / 100).or_default() += 1;
        *seconds.entry(ms / 1000).or_default() += 1;
    }
    (tenths.values().copied().max().unwrap_or(0) as f64 * 10.0, seconds.values().copied().max().unwrap_or(0))
}

/// The terminal a request came from: the `keyid` of its signature.
fn keyid(seen: &Seen) -> Option<String> {
    let input = seen.headers.get("signature-input")?.to_str().ok()?;
    let start = input.find("keyid=\"")? + "keyid=\"".len();
    let len = input[start..].find('"')?;
    Some(input[start..start + len].to_string())
}

/// Whether the node's answer to `s` reached the proxy after `timeout` (the terminal's request
/// timeout) had passed since `s` arrived: the terminal, which started its clock before that
/// arrival, had already given up on it.
fn answered_after_timeout(s: &Seen, timeout: Duration) -> bool {
    s.answered_at.is_some_and(|answered| answered.duration_since(s.at) >= timeout)
}

/// Requests that reached the node from a terminal after it had been answered `Retry-After: r`
/// and before those r seconds passed. A refusal answered after the terminal's request
/// `timeout` is left out: the terminal never read it (it had timed out and was backing off on
/// its own), so it had no `Retry-After` to obey. Such late answers happen when the proxy and
/// node, sharing the CPU with hundreds of simulated terminals, fall behind (BENCHMARKS.md).
/// Answers (early requests, of which carrying none of the refused batch's envelopes).
fn early_retries(seen: &[Seen], timeout: Duration) -> (usize, usize) {
    let mut by_terminal: HashMap<String, Vec<&Seen>> = HashMap::new();
    for s in seen {
        if let Some(k) = keyid(s) {
            by_terminal.entry(k).or_default().push(s);
        }
    }
    let (mut early, mut in_flight) = (0, 0);
    for requests in by_terminal.values() {
        for refused in requests.iter().filter(|s| s.retry_after.is_some() && !answered_after_timeout(s, timeout)) {
            let (Some(answered), Some(after)) = (refused.answered_at, refused.retry_after) else { continue };
            let until = answered + Duration::from_secs(after);
            let refused_ids = envelope_ids(refused);
            for s in requests.iter().filter(|s| s.at > answered && s.at < until) {
                early += 1;
                if envelope_ids(s).is_disjoint(&refused_ids) {
                    in_flight += 1;
                }
            }
        }
    }
    (early, in_flight)
}

/// The envelope ids of a `POST /v1/submissions` body.
fn envelope_ids(s: &Seen) -> HashSet<String> {
    serde_json::from_slice::<serde_json::Value>(&s.body)
        .ok()
        .and_then(|b| b.get("envelopes").and_then(|e| e.as_array()).map(|e| e.iter().filter_map(|e| e.get("id")?.as_str().map(str::to_string)).collect()))
        .unwrap_or_default()
}
