//! `provincial-node`: the command line of the reference provincial node. Read `lib.rs` for
//! the tour; this file only parses arguments and prints.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use provincial_node::tls::{self, NodeCertificate};
use node_protocol::{Digits, DigitsByLanguage};
use provincial_node::{server, stats, Node};

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
        Command::Serve { listen, data, province, tls, tls_cert, tls_key, eastern_digits } => {
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
            let node = Node::open(&data, Some(&province)).context("cannot open the node's data directory")?.with_digits(digits);
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
                match tls_config {
                    Some(config) => server::serve_tls(listener, config, Arc::new(node), server::termination_signal()).await,
                    None => server::serve(listener, Arc::new(node), server::termination_signal()).await,
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
    }
}
