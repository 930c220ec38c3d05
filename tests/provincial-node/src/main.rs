//! `provincial-node`: the command line of the reference provincial node. Read `lib.rs` for
//! the tour; this file only parses arguments and prints.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use provincial_node::tls::{self, NodeCertificate};
use node_protocol::{Digits, DigitsByLanguage};
use provincial_node::headquarters::{api as hq_api, client, registry};
use provincial_node::{admin, duplicates, referrals, review, server, stats, Node};
use node_protocol::referral::{Referral, ShortCode};

#[derive(Parser)]
#[command(name = "provincial-node", version, about = "Reference provincial node for enrollment terminals")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the node API; creates DIR on first run.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port; the log says which).
        #[arg(long)]
        listen: String,
        /// Data directory (sealing identity, database).
        #[arg(long)]
        data: PathBuf,
        /// Governorate served: code or English name.
        #[arg(long, default_value = provincial_node::node::DEFAULT_PROVINCE)]
        province: String,
        /// Serve HTTPS with DIR/tls-cert.pem and DIR/tls-key.pem, creating a self-signed pair
        /// on first use (valid for 127.0.0.1, localhost and the --listen host).
        #[arg(long)]
        tls: bool,
        /// Serve HTTPS with this PEM certificate chain (end-entity first); needs --tls-key.
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Languages whose terminals show dates and numbers in Eastern Arabic digits (٠١٢…),
        /// comma-separated, e.g. `ar,ckb`; the others show Western digits.
        #[arg(long, value_delimiter = ',', value_parser = ["ar", "ckb", "en"])]
        eastern_digits: Vec<String>,
        /// Check new applications against every province at this headquarters, e.g.
        /// http://127.0.0.1:9000 (signed with DIR/headquarters-key.txt: give headquarters
        /// `provincial-node headquarters node-key`). Unreachable: filed anyway, checked later.
        #[arg(long, value_name = "URL")]
        headquarters: Option<String>,
        /// Seconds between re-sending, to headquarters, the applicants it has not checked yet.
        #[arg(long, value_name = "SECONDS", default_value_t = duplicates::RECHECK_INTERVAL.as_secs(), requires = "headquarters")]
        recheck_seconds: u64,
        /// Also serve the staff review API (GET /v1/review, POST /v1/review/{case}) here;
        /// loopback addresses only, e.g. 127.0.0.1:8081 (port 0 picks one; the log says which).
        #[arg(long, value_name = "ADDR")]
        admin_listen: Option<String>,
        /// File at most N batches at once; past that, answer `503 overloaded` with
        /// `Retry-After` (see --busy-retry-after) at once. Default: no limit.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        max_concurrent_batches: Option<u32>,
        /// Seconds an overloaded node asks terminals to wait (`Retry-After`).
        #[arg(long, value_name = "SECONDS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=3600), requires = "max_concurrent_batches")]
        busy_retry_after: u64,
        /// Let `Retry-After` grow with the load, up to this many seconds: the share of batches
        /// refused over those admitted in the last windows (src/api/overload.rs). Default: fixed.
        #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600), requires = "max_concurrent_batches")]
        busy_retry_after_max: Option<u64>,
        /// Serve this service directory file (JSON, see `services check`) instead of
        /// DIR/service-directory.json (written with a sample on first start); read again
        /// whenever it changes.
        #[arg(long, value_name = "FILE")]
        service_directory: Option<PathBuf>,
        /// Seconds between heartbeats asked of terminals enrolled from now on; a heartbeat is
        /// when a terminal picks up a new configuration (forms, targeting questionnaire).
        #[arg(long, value_name = "SECONDS", default_value_t = provincial_node::node::HEARTBEAT_INTERVAL_S, value_parser = clap::value_parser!(u64).range(1..=86400))]
        heartbeat_seconds: u64,
    },
    /// Print the SHA-256 fingerprint of the node's TLS certificate, for the technician who
    /// provisions terminals (`terminal-service provision --node-fingerprint`).
    Fingerprint {
        /// Data directory (reads DIR/tls-cert.pem).
        #[arg(long, required_unless_present = "tls_cert")]
        data: Option<PathBuf>,
        /// A certificate file instead of the data directory's.
        #[arg(long, value_name = "FILE")]
        tls_cert: Option<PathBuf>,
    },
    /// Print one new one-time enrollment code.
    IssueCode {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// Minutes until the code expires.
        #[arg(long, default_value_t = 60)]
        ttl_minutes: u32,
        /// Issue this code instead of a random one (12 characters, e.g. 7K2Q-XM4B-9R3T), for
        /// test benches replaying a documented example. Each code is issued once.
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
    },
    /// Print what the node has received.
    Stats {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print every accepted submission.
    Submissions {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// Print a JSON array (the only format).
        #[arg(long)]
        json: bool,
    },
    /// List the enrolled terminals: last heartbeat, last delivery, queue; stale ones first.
    Terminals {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// Only the stale ones: deliveries overdue (as their heartbeat says) or silent for
        /// more than --days.
        #[arg(long)]
        stale: bool,
        /// Days without a heartbeat or a submission after which a terminal is stale.
        #[arg(long, value_name = "N", default_value_t = provincial_node::terminals::DEFAULT_STALE_DAYS)]
        days: u32,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Headquarters: every province's persons on PostgreSQL, checked by the nodes.
    Headquarters {
        #[command(subcommand)]
        command: HeadquartersCommand,
    },
    /// The partners (WFP, UNHCR, NGOs) whose referral keys this node trusts.
    Partners {
        #[command(subcommand)]
        command: PartnersCommand,
    },
    /// Partner referrals: issue (the partner's CLI), report per partner, show one.
    Referrals {
        #[command(subcommand)]
        command: ReferralsCommand,
    },
    /// The PMT targeting questionnaire's scores (seen only here, never at a kiosk), and checks
    /// of the operator's questionnaire and formula files before they go live.
    Targeting {
        #[command(subcommand)]
        command: TargetingCommand,
    },
    /// The service directory terminals refer households to: check a file before it goes live.
    Services {
        #[command(subcommand)]
        command: ServicesCommand,
    },
    /// Referral slips: the node key partners verify slips with (`slip-verify --node-key`).
    Slips {
        #[command(subcommand)]
        command: SlipsCommand,
    },
    /// Staff review of applications flagged as possible duplicates.
    Review {
        #[command(subcommand)]
        command: ReviewCommand,
    },
    /// Score pairs of persons with the matcher, one JSON object a line (decision, score,
    /// per-field explanation), for checking the matcher's decisions by hand or in bulk.
    Match {
        /// Tab-separated file with the header `name_a dob_a mother_a name_b dob_b mother_b`
        /// (full names of three or four parts, dates as written); `-` reads standard input.
        #[arg(long, value_name = "FILE.tsv")]
        pairs: PathBuf,
        /// Print JSON lines (the only format).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum HeadquartersCommand {
    /// Serve headquarters' check call to the nodes.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:9000 (port 0 picks a free port; the log says which).
        #[arg(long)]
        listen: String,
        /// PostgreSQL URL of the registry, e.g. postgresql://hq@127.0.0.1:5432/registry.
        #[arg(long, value_name = "URL", required_unless_present = "postgres_temp", conflicts_with = "postgres_temp")]
        postgres: Option<String>,
        /// Start a throw-away PostgreSQL 15 in a temporary directory (for the demo; deleted on exit).
        #[arg(long)]
        postgres_temp: bool,
        /// A node allowed to check and record persons: CODE=PUBLIC_KEY as printed by
        /// `provincial-node headquarters node-key`; repeat for each province.
        #[arg(long = "trust-node", value_name = "CODE=KEY")]
        trust_node: Vec<provincial_node::headquarters::api::TrustedNode>,
    },
    /// Run the full batch de-duplication of the registry and print the clusters.
    Deduplicate {
        /// PostgreSQL URL of the registry.
        #[arg(long, value_name = "URL")]
        postgres: String,
        /// Print JSON (the only format).
        #[arg(long)]
        json: bool,
    },
    /// Print this node's CODE=PUBLIC_KEY for headquarters' --trust-node (creates the key).
    NodeKey {
        /// Data directory of the node.
        #[arg(long)]
        data: PathBuf,
        /// Governorate the node serves (as given to `serve --province`).
        #[arg(long, default_value = provincial_node::node::DEFAULT_PROVINCE)]
        province: String,
    },
}

#[derive(Subcommand)]
enum TargetingCommand {
    /// Every stored score: case, questionnaire version, formula version, score.
    Scores {
        /// Data directory of the node.
        #[arg(long)]
        data: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check a questionnaire file (`targeting-questionnaire.json`).
    Questionnaire {
        #[command(subcommand)]
        command: CheckCommand,
    },
    /// Check a formula file (`targeting-formula.json`) against a questionnaire.
    Formula {
        #[command(subcommand)]
        command: CheckCommand,
    },
}

#[derive(Subcommand)]
enum ServicesCommand {
    /// Read FILE (a service directory) and report every problem against the node's master
    /// data; exit status 1 when there is one.
    Check {
        /// The file to check.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum SlipsCommand {
    /// Print PROVINCE=KEY, the node's slip public key, for partners' `slip-verify --node-key`
    /// (creates the key on first use).
    NodeKey {
        /// Data directory of the node.
        #[arg(long)]
        data: PathBuf,
        /// Governorate the node serves (as given to `serve --province`).
        #[arg(long, default_value = provincial_node::node::DEFAULT_PROVINCE)]
        province: String,
    },
}

#[derive(Subcommand)]
enum CheckCommand {
    /// Read FILE and report every problem; exit status 1 when there is one.
    Check {
        /// The file to check.
        file: PathBuf,
        /// For a formula: the questionnaire it weighs (default: the built-in one).
        #[arg(long, value_name = "QUESTIONNAIRE.json")]
        questionnaire: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum PartnersCommand {
    /// Trust a partner's referral key (a second key for the same partner is kept beside the first).
    Add {
        /// The partner's code, 2 to 6 letters, e.g. WFP (prefixes its referrals' short codes).
        code: String,
        /// Its Ed25519 public key, standard base64 (what `partners new-key` printed).
        #[arg(long)]
        key: String,
        /// Its name, for reports.
        #[arg(long, default_value = "")]
        name: String,
        /// Data directory of the node.
        #[arg(long)]
        data: PathBuf,
    },
    /// List the trusted partners and their keys.
    List {
        /// Data directory of the node.
        #[arg(long)]
        data: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Create a partner's signing key in FILE (mode 0600; refused if FILE exists) and print its
    /// public key, for `partners add --key`.
    NewKey {
        /// Where to write the private key (base64 seed).
        #[arg(long, value_name = "FILE")]
        key_file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ReferralsCommand {
    /// Sign a referral with the partner's key and record it at the node (--data here, or --node
    /// over the partners' API); print its short code and QR payload.
    Issue(IssueArgs),
    /// Per partner: issued, used, transitioned, refused (with reasons).
    Report {
        /// Data directory of the node.
        #[arg(long)]
        data: PathBuf,
        /// Only this partner.
        #[arg(long, value_name = "CODE")]
        partner: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print what the node knows of one referral (JSON): as recorded, and every use.
    Show {
        /// The referral's short code, e.g. WFP-79E-7X4-DM0.
        code: String,
        /// Data directory of the node.
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(clap::Args)]
struct IssueArgs {
    /// Record at the node whose data directory this is (on the node's host).
    #[arg(long, required_unless_present = "node", conflicts_with = "node")]
    data: Option<PathBuf>,
    /// Record at this node over the partners' API, e.g. http://127.0.0.1:8080 (signed with --key-file).
    #[arg(long, value_name = "URL")]
    node: Option<String>,
    /// The partner's code, e.g. WFP.
    #[arg(long, value_name = "CODE")]
    partner: String,
    /// The partner's signing key (from `partners new-key`).
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// Members of the household.
    #[arg(long, value_name = "N")]
    household_size: u8,
    /// Governorate code of the household (the node's master data), e.g. NIN.
    #[arg(long, value_name = "CODE")]
    governorate: String,
    /// The partner's own case number (A-Z, 0-9, '-', '/').
    #[arg(long, value_name = "X")]
    case_number: String,
    /// Days after the issue date it may still be used.
    #[arg(long, value_name = "D", default_value_t = 90)]
    valid_days: u32,
    /// Issue date (YYYY-MM-DD); default today in Iraq.
    #[arg(long, value_name = "DATE")]
    issued_on: Option<chrono::NaiveDate>,
    /// The serial (default: a random one).
    #[arg(long)]
    serial: Option<u64>,
    /// Also write the QR code as a PNG.
    #[arg(long, value_name = "FILE")]
    qr_png: Option<PathBuf>,
    /// Print JSON ({"code","payload","referral"}) instead of two lines.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum ReviewCommand {
    /// List the flagged applications with the matcher's explanations.
    List {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Only those still waiting for a decision.
        #[arg(long)]
        undecided: bool,
    },
    /// Confirm that a flagged applicant is the matched person.
    Confirm(ReviewDecisionArgs),
    /// Dismiss a flag: not the same person.
    Dismiss(ReviewDecisionArgs),
}

#[derive(clap::Args)]
struct ReviewDecisionArgs {
    /// Data directory.
    #[arg(long)]
    data: PathBuf,
    /// The flagged application's case number.
    #[arg(long = "case", value_name = "CASE")]
    case_number: String,
    /// Why (goes to the audit log).
    #[arg(long)]
    reason: String,
    /// Who decides (default: cli:$USER).
    #[arg(long, value_name = "STAFF")]
    by: Option<String>,
}

fn main() -> std::process::ExitCode {
    // Print the error chain plainly (no backtrace noise) for operators and scripts.
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            listen,
            data,
            province,
            tls,
            tls_cert,
            tls_key,
            eastern_digits,
            headquarters,
            recheck_seconds,
            admin_listen,
            max_concurrent_batches,
            busy_retry_after,
            busy_retry_after_max,
            service_directory,
            heartbeat_seconds,
        } => {
            let address: SocketAddr = listen
                .parse()
                .with_context(|| format!("invalid --listen '{listen}': expected IP:PORT, e.g. 127.0.0.1:8080"))?;
            let mut digits = DigitsByLanguage::default();
            for language in &eastern_digits {
                match language.as_str() {
                    "ar" => digits.ar = Digits::Eastern,
                    "ckb" => digits.ckb = Digits::Eastern,
                    _ => digits.en = Digits::Eastern,
                }
            }
            let mut node = Node::open(&data, Some(&province)).context("cannot open the node's data directory")?.with_digits(digits);
            if let Some(path) = &service_directory {
                node = node.with_service_directory(path).context("cannot serve --service-directory")?;
            }
            node.heartbeat_interval_s = heartbeat_seconds;
            if let Some(max) = max_concurrent_batches {
                node = node.with_batch_limit(max as usize, busy_retry_after);
                if let Some(up_to) = busy_retry_after_max {
                    node.batch_limit = node.batch_limit.take().map(|limit| limit.growing_up_to(up_to));
                }
            }
            if let Some(url) = headquarters {
                let key = client::load_or_create_key(&data)?;
                let hq = client::HeadquartersClient::new(&url, &node.province.code, key)?;
                node = node.with_headquarters(hq);
            }
            let certificate = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(NodeCertificate::load(&cert, &key).context("cannot load --tls-cert/--tls-key")?),
                _ if tls => {
                    let host = address.ip().to_string();
                    let (certificate, created) =
                        NodeCertificate::load_or_generate(&data, Some(&host)).context("cannot set up the node's TLS certificate")?;
                    if created {
                        tracing::info!("created a self-signed certificate in {}", data.join(tls::CERT_FILE).display());
                    }
                    Some(certificate)
                }
                _ => None,
            };
            let tls_config = certificate.as_ref().map(NodeCertificate::server_config).transpose()?;
            let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(address)
                    .await
                    .with_context(|| format!("cannot listen on {address} (is the port in use or privileged?)"))?;
                let bound = listener.local_addr().context("cannot read the bound address")?;
                let scheme = if tls_config.is_some() { "https" } else { "http" };
                tracing::info!(
                    node_id = %node.node_id,
                    province = %node.province.name.en,
                    data = %data.display(),
                    tls_certificate_sha256 = %certificate.as_ref().map_or_else(|| "none (plain http)".to_string(), NodeCertificate::fingerprint),
                    "listening on {bound} ({scheme})"
                );
                let node = Arc::new(node);
                if let Some(admin) = admin_listen {
                    let address: SocketAddr =
                        admin.parse().with_context(|| format!("invalid --admin-listen '{admin}': expected 127.0.0.1:PORT"))?;
                    admin::check_loopback(address).map_err(anyhow::Error::msg)?;
                    let listener = tokio::net::TcpListener::bind(address)
                        .await
                        .with_context(|| format!("cannot listen on {address} for the review API"))?;
                    tracing::info!("review API on {} (loopback only)", listener.local_addr().context("cannot read the bound address")?);
                    tokio::spawn(admin::serve(listener, node.clone(), server::termination_signal()));
                }
                if node.headquarters.is_some() {
                    tokio::spawn(recheck_forever(node.clone(), std::time::Duration::from_secs(recheck_seconds.max(1))));
                }
                match tls_config {
                    Some(config) => server::serve_tls(listener, config, node, server::termination_signal()).await,
                    None => server::serve(listener, node, server::termination_signal()).await,
                }
                .context("server failed")?;
                tracing::info!("stopped");
                Ok(())
            })
        }
        Command::Fingerprint { data, tls_cert } => {
            let cert = match (tls_cert, data) {
                (Some(cert), _) => cert,
                (None, Some(data)) => data.join(tls::CERT_FILE),
                (None, None) => bail!("give --data DIR or --tls-cert FILE"),
            };
            println!("{}", tls::fingerprint_of_file(&cert)?);
            Ok(())
        }
        Command::IssueCode { data, ttl_minutes, code } => {
            let node = Node::open(&data, None).context("cannot open the node's data directory")?;
            let code = match code {
                Some(code) => node.issue_given_code(&code, ttl_minutes).context("cannot issue that code")?,
                None => node.issue_code(ttl_minutes).context("cannot store the new code")?,
            };
            println!("{code}");
            Ok(())
        }
        Command::Stats { data, json } => {
            let node = Node::open(&data, None).context("cannot open the node's data directory")?;
            let counts = stats::stats(&node.db()).context("cannot read the counts")?;
            if json {
                println!("{}", serde_json::to_string(&counts)?);
            } else {
                print!("{}", stats::render_table(&counts));
            }
            Ok(())
        }
        Command::Submissions { data, json } => {
            if !json {
                bail!("submissions prints JSON only: add --json");
            }
            let node = Node::open(&data, None).context("cannot open the node's data directory")?;
            let list = stats::submissions(&node.db()).context("cannot read the submissions")?;
            println!("{}", serde_json::to_string(&list)?);
            Ok(())
        }
        Command::Terminals { data, stale, days, json } => {
            let node = Node::open(&data, None).context("cannot open the node's data directory")?;
            let mut list = provincial_node::terminals::list(&node.db(), chrono::Utc::now(), days).context("cannot read the terminals")?;
            if stale {
                list.retain(|t| !t.stale.is_empty());
            }
            if json {
                println!("{}", serde_json::to_string(&list)?);
            } else {
                print!("{}", provincial_node::terminals::render_table(&list));
            }
            Ok(())
        }
        Command::Headquarters { command } => headquarters_command(command),
        Command::Review { command } => review_command(command),
        Command::Services { command: ServicesCommand::Check { file } } => {
            let directory = provincial_node::services::load(&file, &provincial_node::geography::master_data())?;
            println!("{}: service directory {} is valid ({} categories, {} services)", file.display(), directory.version, directory.categories.len(), directory.services.len());
            Ok(())
        }
        Command::Slips { command: SlipsCommand::NodeKey { data, province } } => {
            let governorate = provincial_node::geography::find_governorate(&province)
                .with_context(|| format!("unknown province '{province}': use a governorate code or English name"))?;
            std::fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
            let key = provincial_node::slips::load_or_create_key(&data)?;
            println!("{}", provincial_node::slips::node_key_line(&governorate.code, &key));
            Ok(())
        }
        Command::Targeting { command } => targeting_command(command),
        Command::Partners { command } => partners_command(command),
        Command::Referrals { command } => referrals_command(command),
        Command::Match { pairs, json } => {
            if !json {
                bail!("match prints JSON lines only: add --json");
            }
            let stdout = std::io::stdout().lock();
            let scored = if pairs.as_os_str() == "-" {
                matcher::pairs::score_pairs(std::io::stdin().lock(), stdout)
            } else {
                let file = std::fs::File::open(&pairs)
                    .with_context(|| format!("cannot open --pairs {}", pairs.display()))?;
                matcher::pairs::score_pairs(std::io::BufReader::new(file), stdout)
            }
            .with_context(|| format!("cannot score the pairs in {}", pairs.display()))?;
            tracing::debug!(scored, "pairs scored");
            Ok(())
        }
    }
}

/// Re-sends the applicants headquarters has not checked, every `interval`.
async fn recheck_forever(node: Arc<Node>, interval: std::time::Duration) {
    loop {
        let checked = duplicates::recheck_pending(&node).await;
        if checked > 0 {
            tracing::info!(checked, "headquarters checked applicants filed while it was unreachable");
        }
        let claimed = provincial_node::referrals::reclaim_pending(&node).await;
        if claimed > 0 {
            tracing::info!(claimed, "headquarters answered for referrals used while it was unreachable");
        }
        tokio::time::sleep(interval).await;
    }
}

fn headquarters_command(command: HeadquartersCommand) -> anyhow::Result<()> {
    match command {
        HeadquartersCommand::Serve { listen, postgres, postgres_temp, trust_node } => {
            let address: SocketAddr = listen
                .parse()
                .with_context(|| format!("invalid --listen '{listen}': expected IP:PORT, e.g. 127.0.0.1:9000"))?;
            if trust_node.is_empty() {
                tracing::warn!("no --trust-node given: every node's check will be refused");
            }
            // The temporary cluster lives as long as this function: dropping it stops PostgreSQL.
            let (url, _cluster) = match (postgres, postgres_temp) {
                (Some(url), _) => (url, None),
                (None, false) => bail!("give --postgres URL or --postgres-temp"),
                (None, true) => {
                    let cluster = pg_cluster::TemporaryCluster::start().context("cannot start a temporary PostgreSQL")?;
                    let url = cluster.create_database("headquarters").context("cannot create the registry database")?;
                    tracing::info!(postgres = %url, "started a temporary PostgreSQL (deleted on exit)");
                    (url, Some(cluster))
                }
            };
            let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(async move {
                let headquarters = Arc::new(hq_api::Headquarters::open(&url, trust_node).await?);
                let listener = tokio::net::TcpListener::bind(address)
                    .await
                    .with_context(|| format!("cannot listen on {address} (is the port in use or privileged?)"))?;
                let bound = listener.local_addr().context("cannot read the bound address")?;
                tracing::info!(persons = headquarters.persons(), "headquarters listening on {bound} (http)");
                hq_api::serve(listener, headquarters, server::termination_signal()).await.context("server failed")?;
                tracing::info!("stopped");
                anyhow::Ok(())
            })
        }
        HeadquartersCommand::Deduplicate { postgres, json } => {
            if !json {
                bail!("deduplicate prints JSON only: add --json");
            }
            let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let index = runtime.block_on(async {
                let client = registry::connect(&postgres).await?;
                registry::load_index(&client).await
            })?;
            let started = std::time::Instant::now();
            let clusters = index.deduplicate();
            let report = serde_json::json!({
                "persons": index.len(),
                "seconds": started.elapsed().as_secs_f64(),
                "clusters": clusters,
            });
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        HeadquartersCommand::NodeKey { data, province } => {
            let governorate = provincial_node::geography::find_governorate(&province)
                .with_context(|| format!("unknown province '{province}': use a governorate code or English name"))?;
            std::fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
            let key = client::load_or_create_key(&data)?;
            println!("{}", client::trust_line(&governorate.code, &key));
            Ok(())
        }
    }
}

fn review_command(command: ReviewCommand) -> anyhow::Result<()> {
    let decide = |args: ReviewDecisionArgs, verdict: review::Verdict| -> anyhow::Result<()> {
        let node = Node::open(&args.data, None).context("cannot open the node's data directory")?;
        let by = args.by.unwrap_or_else(|| format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into())));
        let decision = review::decide(&mut node.db(), &args.case_number, verdict, &args.reason, &by)?;
        println!("{}", serde_json::to_string(&decision)?);
        Ok(())
    };
    match command {
        ReviewCommand::List { data, json, undecided } => {
            let node = Node::open(&data, None).context("cannot open the node's data directory")?;
            let flags = review::list(&node.db(), undecided).context("cannot read the flags")?;
            if json {
                println!("{}", serde_json::to_string(&flags)?);
            } else {
                print!("{}", review::render_table(&flags));
            }
            Ok(())
        }
        ReviewCommand::Confirm(args) => decide(args, review::Verdict::Confirmed),
        ReviewCommand::Dismiss(args) => decide(args, review::Verdict::Dismissed),
    }
}

fn targeting_command(command: TargetingCommand) -> anyhow::Result<()> {
    use provincial_node::targeting;
    match command {
        TargetingCommand::Scores { data, json } => {
            let node = Node::open(&data, None).context("cannot open the node's data directory")?;
            let scores = targeting::scores(&node.db()).context("cannot read the targeting scores")?;
            if json {
                println!("{}", serde_json::to_string(&scores)?);
            } else {
                println!("{:<24} {:<16} {:<20} {:>8}", "case", "questionnaire", "formula", "score");
                for s in &scores {
                    println!("{:<24} {:<16} {:<20} {:>8.3}", s.case_number, s.questionnaire_version, s.formula_version, s.score);
                }
            }
            Ok(())
        }
        TargetingCommand::Questionnaire { command: CheckCommand::Check { file, .. } } => {
            let form = targeting::load_questionnaire(&file)?;
            println!("{}: questionnaire {} is valid ({} steps)", file.display(), form.version, form.steps.len());
            Ok(())
        }
        TargetingCommand::Formula { command: CheckCommand::Check { file, questionnaire } } => {
            let form = match &questionnaire {
                Some(path) => targeting::load_questionnaire(path)?,
                None => targeting::questionnaire_v1(),
            };
            let formula = targeting::load_formula(&file, &form)?;
            println!("{}: formula {} is valid against questionnaire {}", file.display(), formula.version, form.version);
            Ok(())
        }
    }
}

fn partners_command(command: PartnersCommand) -> anyhow::Result<()> {
    match command {
        PartnersCommand::Add { code, key, name, data } => {
            let node = Node::open(&data, None).context("cannot open the node's data directory")?;
            let key = referrals::parse_key(&key)?;
            let added = referrals::add_partner(&node.db(), &code, &name, &key)?;
            let code = code.to_ascii_uppercase();
            println!("{}", if added { format!("partner {code} trusted with this key") } else { format!("partner {code} already trusted with this key") });
            Ok(())
        }
        PartnersCommand::List { data, json } => {
            let node = Node::open(&data, None).context("cannot open the node's data directory")?;
            let partners = referrals::partners(&node.db()).context("cannot read the partners")?;
            if json {
                println!("{}", serde_json::to_string(&partners)?);
            } else {
                for p in &partners {
                    println!("{:<8} {:<32} {}", p.code, p.name, p.keys.join(" "));
                }
            }
            Ok(())
        }
        PartnersCommand::NewKey { key_file } => {
            let key = referrals::create_key_file(&key_file)?;
            println!("{}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key.verifying_key().to_bytes()));
            Ok(())
        }
    }
}

fn referrals_command(command: ReferralsCommand) -> anyhow::Result<()> {
    match command {
        ReferralsCommand::Issue(args) => issue_referral(args),
        ReferralsCommand::Report { data, partner, json } => {
            let node = Node::open(&data, None).context("cannot open the node's data directory")?;
            let lines = referrals::report(&node.db(), partner.as_deref()).context("cannot read the referrals")?;
            if let Some(partner) = &partner {
                if lines.is_empty() {
                    bail!("partner '{partner}' is neither trusted here nor named by any referral: `provincial-node partners list` shows the partners");
                }
            }
            if json {
                println!("{}", serde_json::to_string(&lines)?);
            } else {
                print!("{}", referrals::render_report(&lines));
            }
            Ok(())
        }
        ReferralsCommand::Show { code, data } => {
            let parsed = ShortCode::parse(&code).with_context(|| format!("'{code}' is not a referral's short code"))?;
            let node = Node::open(&data, None).context("cannot open the node's data directory")?;
            let record = referrals::show(&node.db(), &parsed)?
                .with_context(|| format!("this node has neither issued nor seen referral {parsed}"))?;
            println!("{}", serde_json::to_string_pretty(&record)?);
            Ok(())
        }
    }
}

fn issue_referral(args: IssueArgs) -> anyhow::Result<()> {
    let key = referrals::load_key_file(&args.key_file)?;
    let issued_on = args.issued_on.unwrap_or_else(referrals::today);
    let expires_on = issued_on
        .checked_add_days(chrono::Days::new(u64::from(args.valid_days)))
        .context("--valid-days goes past the calendar's end")?;
    let serial = args.serial.unwrap_or_else(|| rand::random::<u64>() & node_protocol::referral::MAX_SERIAL);
    let signed = Referral {
        partner: args.partner.trim().to_ascii_uppercase(),
        serial,
        issued_on,
        expires_on,
        household_size: args.household_size,
        governorate: args.governorate.trim().to_ascii_uppercase(),
        partner_case: args.case_number.trim().to_ascii_uppercase(),
    }
    .sign(&key)?;
    let code = match (&args.data, &args.node) {
        (Some(data), _) => {
            let node = Node::open(data, None).context("cannot open the node's data directory")?;
            let code = referrals::record(&node.db(), &signed, "cli")?;
            code
        }
        (None, Some(url)) => {
            let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(referrals::record_at(url, &key, &signed))?
        }
        (None, None) => bail!("give --data DIR (on the node's host) or --node URL"),
    };
    if let Some(path) = &args.qr_png {
        referrals::write_qr_png(&signed.payload(), path)?;
    }
    if args.json {
        println!("{}", serde_json::json!({ "code": code, "payload": signed.payload(), "referral": signed.referral }));
    } else {
        println!("{code}");
        println!("{}", signed.payload());
    }
    Ok(())
}
