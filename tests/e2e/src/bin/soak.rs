//! `soak`: terminal-service against the reference node for a long while, with the link
//! flapping, the paper running out and cards coming and going; samples memory, descriptors and
//! outbox into `OUT/samples.csv`, judges them and writes `OUT/summary.json` (see `e2e::soak`).
//! Exit status 1 when a check failed.
//!
//! Run: `tests/scripts/soak` (`SOAK_SECONDS`, default 7200; `--help` lists the rest).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Parser;
use e2e::soak::{run, SoakOptions};

#[derive(Parser)]
#[command(about = "Soak terminal-service against the reference node with the link flapping")]
struct Args {
    /// Length of the run in seconds (the final drain comes after).
    #[arg(long, env = "SOAK_SECONDS", default_value_t = 7200)]
    seconds: u64,
    /// Directory for samples.csv, summary.json and the processes' logs.
    #[arg(long, default_value = "soak-out")]
    out: PathBuf,
    /// Seconds between samples (default: the run's length / 60, between 1 and 10).
    #[arg(long)]
    sample_every: Option<f64>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut options = SoakOptions::for_duration(Duration::from_secs(args.seconds), args.out);
    if let Some(s) = args.sample_every {
        options.sample_every = Duration::from_secs_f64(s.max(0.1));
    }
    eprintln!("soak: {} s, samples every {:.1} s, writing to {}", args.seconds, options.sample_every.as_secs_f64(), options.out_dir.display());
    let report = run(&options).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if !report.passed {
        bail!("the soak failed: {}", report.failures.join("; "));
    }
    Ok(())
}
