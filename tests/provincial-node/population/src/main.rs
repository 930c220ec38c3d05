//! `population`: writes a synthetic Iraqi population with labelled duplicates and hard
//! non-duplicates as a tab-separated file, for evaluating duplicate detection.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

/// Generates a synthetic population (registry and applications) as TSV.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Registry records to generate.
    #[arg(long, default_value_t = 20_000)]
    persons: usize,
    /// Applications to generate (default: one for every ten registry records, at most 20,000).
    #[arg(long)]
    applications: Option<usize>,
    /// Seed: the same seed gives the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Share of applications that duplicate a registered person.
    #[arg(long)]
    duplicate_rate: Option<f64>,
    /// Share of applications that are hard non-duplicates.
    #[arg(long)]
    hard_negative_rate: Option<f64>,
    /// Where to write the TSV.
    #[arg(long)]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = population::Config::new(args.persons, args.seed);
    if let Some(n) = args.applications {
        config.applications = n;
    }
    for (rate, name, slot) in [
        (args.duplicate_rate, "--duplicate-rate", &mut config.application_duplicate_rate),
        (args.hard_negative_rate, "--hard-negative-rate", &mut config.application_hard_negative_rate),
    ] {
        if let Some(r) = rate {
            anyhow::ensure!((0.0..=1.0).contains(&r), "{name} {r} is not a share: give a number from 0 to 1, e.g. 0.02");
            *slot = r;
        }
    }
    anyhow::ensure!(
        config.application_duplicate_rate + config.application_hard_negative_rate <= 1.0,
        "--duplicate-rate and --hard-negative-rate add up to more than 1: lower one of them"
    );
    anyhow::ensure!(args.persons > 0, "--persons 0: give at least one registry record");
    let population = population::generate(&config);
    let file = File::create(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut out = BufWriter::new(file);
    population::tsv::write_tsv(&population, &mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "wrote {} registry records and {} applications to {}",
        population.registry.len(),
        population.applications.len(),
        args.out.display()
    );
    Ok(())
}
