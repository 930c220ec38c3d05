//! `terminal-service`: the daemon (`run`) and the technician's commands.
//!
//! Exit codes: 0 success, 1 failure (printed as `error: …` with what to do), 2 usage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use terminal_service::startup::config::{Config, DEFAULT_CONFIG_PATH};
use terminal_service::startup::provision::{provision, ProvisionRequest};
use terminal_service::capture::storage::Storage;
use terminal_service::startup::privileges::{act_as_storage_owner, Outcome};
use terminal_service::{api, delivery::node_client, report, service};

/// Enrollment terminal service: durable outbox, sync to the provincial node, local API.
#[derive(Debug, Parser)]
#[command(name = "terminal-service", version, about)]
struct Cli {
    /// Configuration file (built-in defaults when the default path does not exist).
    #[arg(long, global = true, value_name = "FILE", default_value = DEFAULT_CONFIG_PATH)]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon (local API, sync engine, heartbeat) until SIGTERM.
    Run,
    /// Enroll this terminal with its provincial node.
    Provision {
        /// Node base URL (overrides [node] url).
        #[arg(long, value_name = "URL")]
        node: Option<String>,
        /// One-time enrollment code from the node operator.
        #[arg(long, value_name = "CODE")]
        code: String,
        /// Replace an existing enrollment.
        #[arg(long)]
        force: bool,
        /// SHA-256 of the node's TLS certificate, from the node operator (`provincial-node
        /// fingerprint`). Without it, the certificate the node presents now is trusted and
        /// pinned (trust on first use): compare the printed fingerprint with the operator's.
        #[arg(long, value_name = "SHA256HEX")]
        node_fingerprint: Option<String>,
        /// Allow plain http:// to a node that is not on this machine (unencrypted; only for a
        /// trusted test network).
        #[arg(long)]
        allow_insecure_http: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show enrollment, queue and audit state.
    Status {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List waiting submissions (never their content) and dead letters.
    Queue {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Audit log commands.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Hardware tests (card reader, printer).
    Hw {
        #[command(subcommand)]
        command: HwCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print the effective one as TOML.
    Check,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify the whole hash chain.
    Verify {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum HwCommand {
    /// Wait for a card and print its UID (only the UID: nothing else is read from the card).
    ReadCard {
        /// Seconds to wait for a card.
        #[arg(long, value_name = "SECONDS", default_value_t = 10)]
        timeout: u64,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Wait for a card and report what a technician sends back about it: ATQA/SAK or ATR, ATS
    /// (frame size, waiting time), UID length (never the UID), EF.CardAccess (the PACE
    /// protocols the chip offers), whether the eMRTD and beneficiary ID applications answer,
    /// and the time of each step; with --can/--mrz, each PACE option and BAC tried, and the
    /// files' sizes and read times. Reports no personal data (files read are dropped unseen).
    CardReport {
        /// Seconds to wait for a card.
        #[arg(long, value_name = "SECONDS", default_value_t = 10)]
        timeout: u64,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        /// Ask for the card access number (read from the terminal, never an argument, so it
        /// stays out of shell history) and try PACE with it; the report shows only outcomes.
        #[arg(long)]
        can: bool,
        /// Ask for the MRZ key (document number, date of birth, date of expiry) and try PACE
        /// and BAC with it.
        #[arg(long)]
        mrz: bool,
    },
    /// Print the test receipt (with the simulated printer, also says where its PNG is).
    PrintTest {
        /// Language of the test page: ar, ckb or en (default: the first of [kiosk] languages).
        #[arg(long, value_name = "LANG")]
        language: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the printer's state; exits 1 unless it can print (ok or paper_low).
    PrinterStatus {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(matches!(cli.command, Command::Run));
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(daemon: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if daemon { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // To stderr: journald collects it under systemd, and command output on stdout stays clean.
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

/// The configuration: the file if given or present, else the built-in defaults.
fn load_config(path: &Path) -> Result<Config> {
    if path == Path::new(DEFAULT_CONFIG_PATH) && !path.exists() {
        return Ok(Config::default());
    }
    Ok(Config::load(path)?)
}

/// The configuration, for a command that uses storage: run as root, the process first becomes
/// the owner of `[storage] dir`, so that nothing it creates there is root's and out of the
/// daemon's reach (see `terminal_service::startup::privileges`). Called before the async runtime starts
/// any thread.
fn load_config_as_storage_owner(path: &Path) -> Result<Config> {
    let config = load_config(path)?;
    let outcome = act_as_storage_owner(&config.storage.dir)?;
    if let Outcome::Switched(id) = &outcome {
        tracing::info!(uid = id.uid, gid = id.gid, user = id.user.as_deref().unwrap_or("-"), "running as the owner of the storage directory");
    }
    if let Some(warning) = outcome.warning() {
        eprintln!("warning: {warning}");
    }
    Ok(config)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Config { command: ConfigCommand::Check } => {
            let config = load_config(&cli.config)?;
            print!("{}", toml::to_string(&config).context("cannot print the configuration")?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Run => {
            let config = load_config_as_storage_owner(&cli.config)?;
            runtime()?.block_on(service::run(config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Provision { node, code, force, node_fingerprint, allow_insecure_http, json } => {
            let config = load_config_as_storage_owner(&cli.config)?;
            let request = ProvisionRequest { node_url: node.unwrap_or_else(|| config.node.url.clone()), code, force, node_fingerprint, allow_insecure_http };
            let outcome = runtime()?.block_on(async {
                let storage = Storage::open(&config.storage.dir)?;
                let http = node_client::http_client(std::time::Duration::from_millis(config.sync.request_timeout_ms))?;
                anyhow::Ok(provision(&config, &storage, &http, &request).await?.0)
            })?;
            if json {
                print_json(&outcome)?;
            } else {
                println!("terminal id: {}", outcome.terminal_id);
                println!("province: {}", outcome.province);
                println!("node: {} ({})", outcome.node_url, outcome.node_id);
                println!("config version: {}", outcome.config_version.as_deref().unwrap_or("not fetched yet"));
                match (&outcome.node_certificate_sha256, outcome.trusted_on_first_use) {
                    (Some(pin), true) => {
                        println!("node certificate SHA-256: {pin} (pinned on first use)");
                        eprintln!("check: this fingerprint must equal the one the node operator gave you (provincial-node fingerprint); if it does not, someone may be intercepting the link: re-provision with --force --node-fingerprint HEX");
                    }
                    (Some(pin), false) => println!("node certificate SHA-256: {pin} (matches --node-fingerprint, pinned)"),
                    (None, _) => {}
                }
                if let Some(w) = &outcome.warning {
                    eprintln!("warning: {w}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json } => {
            let config = load_config_as_storage_owner(&cli.config)?;
            let status = runtime()?.block_on(async {
                let storage = Storage::open(&config.storage.dir)?;
                anyhow::Ok(report::status(&config, &storage).await?)
            })?;
            if json {
                print_json(&status)?;
            } else {
                let or_dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
                println!("provisioned: {}", if status.provisioned { "yes" } else { "no" });
                println!("terminal id: {}", or_dash(&status.terminal_id));
                println!("province: {}", or_dash(&status.province));
                println!("node url: {}", status.node_url);
                println!("node id: {}", or_dash(&status.node_id));
                if let Some(pin) = &status.node_certificate_sha256 {
                    println!("node certificate SHA-256: {pin} (pinned)");
                }
                println!("config version: {}", or_dash(&status.config_version));
                let q = &status.queue;
                let oldest = q.oldest_created_at.map_or_else(|| "-".into(), |t| t.to_rfc3339());
                println!("queue: {} waiting (oldest {}), {} dead letters, {} delivered", q.depth, oldest, q.dead_letters, q.delivered);
                match (&status.audit.entries, &status.audit.head, &status.audit.error) {
                    (Some(n), Some(h), _) => println!("audit: {n} entries, head {h}"),
                    (_, _, Some(e)) => println!("audit: BROKEN: {e}"),
                    _ => println!("audit: -"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Queue { json } => {
            let config = load_config_as_storage_owner(&cli.config)?;
            let queue = runtime()?.block_on(async {
                let storage = Storage::open(&config.storage.dir)?;
                anyhow::Ok(api::queue::read(&storage, config.sync.max_days_without_delivery).await?)
            })?;
            if json {
                print_json(&queue)?;
            } else {
                println!("pending: {} (showing {})", queue.stats.depth, queue.pending.len());
                if let Some(days) = queue.delivery_overdue_days {
                    println!("warning: the oldest pending submission has waited more than {days} days ([sync] max_days_without_delivery): check the link to the node");
                }
                for p in &queue.pending {
                    let last = p.last_attempt_at.map_or_else(|| "-".into(), |t| t.to_rfc3339());
                    println!("  {}  {}  created {}  attempts {}  last attempt {}", p.id, p.kind.as_str(), p.created_at.to_rfc3339(), p.attempts, last);
                }
                println!("dead letters: {}", queue.dead_letters.len());
                for d in &queue.dead_letters {
                    println!("  {}  {}  created {}  rejected {}  reason: {}", d.id, d.kind.as_str(), d.created_at.to_rfc3339(), d.rejected_at.to_rfc3339(), d.reason);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Verify { json } } => {
            let config = load_config_as_storage_owner(&cli.config)?;
            match report::verify_audit(&config) {
                Ok(summary) => {
                    if json {
                        print_json(&serde_json::json!({"ok": true, "entries": summary.entries, "head": summary.head}))?;
                    } else {
                        println!("audit log ok: {} entries, head {}", summary.entries, summary.head);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(terminal_service::audit::AuditError::Broken { seq, reason }) => {
                    if json {
                        print_json(&serde_json::json!({"ok": false, "seq": seq, "reason": reason}))?;
                    }
                    eprintln!("error: audit log broken at entry {seq}: {reason}");
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Hw { command } => {
            let config = load_config_as_storage_owner(&cli.config)?;
            hw(&config, command)
        }
    }
}

fn hw(config: &Config, command: HwCommand) -> Result<ExitCode> {
    use terminal_service::peripherals::hw as commands;
    match command {
        HwCommand::ReadCard { timeout, json } => {
            let uid = commands::read_card(config, std::time::Duration::from_secs(timeout))?;
            if json {
                print_json(&serde_json::json!({"uid": uid.to_string()}))?;
            } else {
                println!("{uid}");
            }
            Ok(ExitCode::SUCCESS)
        }
        HwCommand::CardReport { timeout, json, can, mrz } => {
            let keys = commands::read_access_keys(can, mrz, &mut std::io::stdin().lock(), &mut std::io::stderr())?;
            let report = commands::card_report(config, std::time::Duration::from_secs(timeout), &keys)?;
            if json {
                print_json(&report)?;
            } else {
                print!("{}", commands::format_card_report(&report));
            }
            Ok(ExitCode::SUCCESS)
        }
        HwCommand::PrintTest { language, json } => {
            let tag = language.or_else(|| config.kiosk.languages.first().cloned()).unwrap_or_else(|| "ar".into());
            let language = terminal_service::peripherals::receipts::language(&tag).with_context(|| format!("--language {tag}: use ar, ckb or en"))?;
            let printed = commands::print_test(config, language)?;
            if json {
                print_json(&serde_json::json!({"printed": true, "pages": printed.pages, "png": printed.png}))?;
            } else {
                println!("test page printed");
                if let Some(png) = &printed.png {
                    println!("simulated printer: page image {}", png.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        HwCommand::PrinterStatus { json } => {
            let report = commands::printer_status(config)?;
            if json {
                print_json(&report)?;
            } else {
                println!("printer: {}", report.description.as_deref().unwrap_or("not found"));
                println!("state: {}", report.state.as_str());
                if let Some(problem) = &report.problem {
                    println!("problem: {problem}");
                }
            }
            Ok(if report.state.can_print() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
