//! `fleet`: a thousand terminals reconnecting to the reference node after an outage, with and
//! without jitter; prints one JSON report per run and the ratios against the run without
//! jitter (the baseline, measured in the same invocation). See `e2e::fleet`.
//!
//! Run: `cargo build --release -p provincial-node -p e2e --bin fleet && target/release/fleet`
//! (`--terminals 1000 --per-terminal 10`; `--help` lists the rest). A release build: a debug
//! one cannot put a thousand terminals' requests on the wire together, so the baseline's herd
//! comes out spread over seconds and is no herd.
//!
//! The defaults give the backoff a 30 s cap and the outage a minute, long enough for every
//! terminal to reach the cap, as a real outage of hours does. The cap sets how fast a jittered
//! fleet comes back: each terminal tries once in every half cap on average, so a thousand
//! terminals at an 8 s cap still knock 250 times a second, at the node's return as all through
//! the outage. The product's default is 300 s (`[sync] backoff_max_ms`); 30 s keeps a run to
//! a few minutes.

use std::time::Duration;

use anyhow::Result;
use clap::Parser;
use e2e::fleet::{run, FleetOptions};

#[derive(Parser)]
#[command(about = "Simulate a fleet of terminals reconnecting after a node outage")]
struct Args {
    /// Number of terminals.
    #[arg(long, default_value_t = 1000)]
    terminals: usize,
    /// Applications each terminal queues during the outage.
    #[arg(long, default_value_t = 10)]
    per_terminal: usize,
    /// Envelopes per batch (`[sync] batch_size`).
    #[arg(long, default_value_t = 5)]
    batch_size: usize,
    /// `[sync] backoff_initial_ms`.
    #[arg(long, default_value_t = 500)]
    backoff_initial_ms: u64,
    /// `[sync] backoff_max_ms`.
    #[arg(long, default_value_t = 30_000)]
    backoff_max_ms: u64,
    /// The node's `--max-concurrent-batches`.
    #[arg(long, default_value_t = 4)]
    max_concurrent_batches: u32,
    /// The node's `--busy-retry-after` (seconds).
    #[arg(long, default_value_t = 2)]
    busy_retry_after: u64,
    /// The node's `--busy-retry-after-max` (seconds): `Retry-After` growing with the load.
    #[arg(long)]
    busy_retry_after_max: Option<u64>,
    /// `[sync] request_timeout_ms`.
    #[arg(long, default_value_t = 10_000)]
    request_timeout_ms: u64,
    /// Seconds the node stays down after the terminals start.
    #[arg(long, default_value_t = 60)]
    outage_s: u64,
    /// Seconds to wait for a drain before reporting how far it got.
    #[arg(long, default_value_t = 900)]
    drain_limit_s: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let options = |jitter| FleetOptions {
        terminals: args.terminals,
        per_terminal: args.per_terminal,
        jitter,
        batch_size: args.batch_size,
        backoff_initial_ms: args.backoff_initial_ms,
        backoff_max_ms: args.backoff_max_ms,
        request_timeout_ms: args.request_timeout_ms,
        max_concurrent_batches: args.max_concurrent_batches,
        busy_retry_after_s: args.busy_retry_after,
        busy_retry_after_max_s: args.busy_retry_after_max,
        outage: Duration::from_secs(args.outage_s),
        drain_limit: Duration::from_secs(args.drain_limit_s),
    };
    let baseline = run(&options(false)).await?;
    println!("{}", serde_json::to_string(&baseline)?);
    let jittered = run(&options(true)).await?;
    println!("{}", serde_json::to_string(&jittered)?);
    println!(
        "{}",
        serde_json::json!({
            "peak_100ms_ratio": jittered.peak_per_s_100ms / baseline.peak_per_s_100ms.max(1.0),
            "peak_1s_ratio": jittered.peak_per_s_1s as f64 / (baseline.peak_per_s_1s.max(1)) as f64,
            "drain_ratio": jittered.drain_s / baseline.drain_s,
            "baseline_drained": baseline.drained,
            "goal": "peak ratio <= 0.2, drain ratio <= 1.5, lost = duplicated = early_retries = 0",
        })
    );
    Ok(())
}
