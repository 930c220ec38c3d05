//! The kiosk: the touchscreen application of the enrollment terminal.
//!
//! It holds no data and no keys; everything goes through terminal-service's local API on its
//! Unix socket. The Slint UI (language choice, status check, applications, grievances, staff
//! and technician screens) is issue 6; until it lands this binary checks that the local API
//! answers and prints what the first screen would show: the terminal, its province, its
//! connectivity and its queue.

use std::path::PathBuf;

use anyhow::{Context, Result};

const DEFAULT_SOCKET: &str = "/run/terminal-service/api.sock";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let mut socket = PathBuf::from(DEFAULT_SOCKET);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--socket" => socket = PathBuf::from(args.next().context("--socket needs a path")?),
            "-h" | "--help" => {
                println!("usage: kiosk [--socket PATH]   (default {DEFAULT_SOCKET})");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument '{other}': usage: kiosk [--socket PATH]"),
        }
    }
    let http = reqwest::Client::builder().unix_socket(socket.as_path()).build()?;
    let health: serde_json::Value = http
        .get("http://localhost/v1/health")
        .send()
        .await
        .with_context(|| format!("the local API at {} does not answer: is terminal-service running?", socket.display()))?
        .json()
        .await
        .context("the local API answered something that is not JSON")?;
    println!("{}", serde_json::to_string_pretty(&health)?);
    Ok(())
}
