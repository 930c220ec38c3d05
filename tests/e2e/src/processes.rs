//! The workspace's binaries as child processes.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::local_api::LocalApi;
use crate::wait_for;

/// Path of a workspace binary, next to the test executable's target directory (or in
/// `$E2E_BIN_DIR`). The binaries are built by `cargo build --workspace --bins`, which the
/// README's test command runs before the tests.
pub fn binary(name: &str) -> Result<PathBuf> {
    let dir = match std::env::var_os("E2E_BIN_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            let exe = std::env::current_exe().context("locating the test executable")?;
            // target/<profile>/deps/<test> or target/<profile>/<bin>
            let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
            if dir.ends_with("deps") {
                dir.pop();
            }
            dir
        }
    };
    let path = dir.join(name);
    if !path.exists() {
        bail!("{} not found: run `cargo build --workspace --bins` first (or set E2E_BIN_DIR)", path.display());
    }
    Ok(path)
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests on one machine).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn run(cmd: &mut Command) -> Result<Output> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

/// One submission as the node stored it (`provincial-node submissions --json`).
#[derive(Debug, Clone, Deserialize)]
pub struct NodeSubmission {
    /// Submission id.
    pub id: uuid::Uuid,
    /// `application` or `grievance`.
    pub kind: String,
    /// Case number.
    pub case_number: String,
    /// How many times it was delivered (1 + repeats after lost acknowledgements).
    pub deliveries: u64,
}

/// A running reference node.
pub struct NodeProcess {
    child: Option<Child>,
    /// Data directory.
    pub data: PathBuf,
    /// Port on 127.0.0.1.
    pub port: u16,
    /// stderr/stdout of the node.
    pub log: PathBuf,
}

impl NodeProcess {
    /// Starts a node on `port` with data in `data`, and waits until it answers.
    pub async fn start(data: &Path, port: u16) -> Result<NodeProcess> {
        NodeProcess::start_with(data, port, &[]).await
    }

    /// As [`NodeProcess::start`], with more arguments for `serve` (e.g. `--eastern-digits ar`).
    pub async fn start_with(data: &Path, port: u16, serve_args: &[&str]) -> Result<NodeProcess> {
        let log = data.with_extension("log");
        let out = File::options().create(true).append(true).open(&log)?;
        let child = Command::new(binary("provincial-node")?)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .args(serve_args)
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context("starting provincial-node")?;
        let mut node = NodeProcess { child: Some(child), data: data.to_path_buf(), port, log };
        node.wait_ready().await?;
        Ok(node)
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let url = self.url();
        let http = reqwest::Client::new();
        let result = wait_for("provincial-node to answer", Duration::from_secs(30), Duration::from_millis(50), || {
            let http = http.clone();
            let url = url.clone();
            async move { http.get(&url).send().await.ok().filter(|r| r.status().is_success()).map(|_| ()) }
        })
        .await;
        if result.is_err() {
            bail!("provincial-node did not start: {}", tail(&self.log));
        }
        Ok(())
    }

    /// Base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A fresh one-time enrollment code.
    pub fn issue_code(&self) -> Result<String> {
        issue_code(&self.data, None)
    }

    /// Every submission the node stored.
    pub fn submissions(&self) -> Result<Vec<NodeSubmission>> {
        let out = run(Command::new(binary("provincial-node")?).args(["submissions", "--json", "--data"]).arg(&self.data))?;
        serde_json::from_slice(&out.stdout).context("parsing `provincial-node submissions --json`")
    }

    /// The node's counters (`provincial-node stats --json`).
    pub fn stats(&self) -> Result<serde_json::Value> {
        let out = run(Command::new(binary("provincial-node")?).args(["stats", "--json", "--data"]).arg(&self.data))?;
        serde_json::from_slice(&out.stdout).context("parsing `provincial-node stats --json`")
    }

    /// Stops the node (SIGKILL) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SIGTERM, then up to `grace` for the process to exit, then SIGKILL.
fn terminate(child: &mut Child, grace: Duration) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Headquarters (`provincial-node headquarters serve --postgres-temp`): every province's
/// persons on a PostgreSQL it starts itself, in a temporary directory.
pub struct HeadquartersProcess {
    child: Option<Child>,
    /// Port on 127.0.0.1.
    pub port: u16,
    /// stderr/stdout of headquarters.
    pub log: PathBuf,
}

impl HeadquartersProcess {
    /// Starts headquarters on `port`, trusting the node whose data directory is `node_data`
    /// for `province` (its key is created there if needed), and waits until it answers.
    pub async fn start(log: &Path, port: u16, node_data: &Path, province: &str) -> Result<HeadquartersProcess> {
        let trusted = run(Command::new(binary("provincial-node")?)
            .args(["headquarters", "node-key", "--province", province, "--data"])
            .arg(node_data))?;
        let trusted = String::from_utf8(trusted.stdout)?.trim().to_string();
        let out = File::options().create(true).append(true).open(log)?;
        let child = Command::new(binary("provincial-node")?)
            .args(["headquarters", "serve", "--listen", &format!("127.0.0.1:{port}"), "--postgres-temp", "--trust-node", &trusted])
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context("starting provincial-node headquarters")?;
        let headquarters = HeadquartersProcess { child: Some(child), port, log: log.to_path_buf() };
        let url = headquarters.url();
        let http = reqwest::Client::new();
        // initdb and the first start of PostgreSQL take a few seconds.
        let ready = wait_for("headquarters to answer", Duration::from_secs(60), Duration::from_millis(100), || {
            let (http, url) = (http.clone(), url.clone());
            async move { http.get(&url).send().await.ok().filter(|r| r.status().is_success()).map(|_| ()) }
        })
        .await;
        if ready.is_err() {
            bail!("headquarters did not start: {}", tail(log));
        }
        Ok(headquarters)
    }

    /// Base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for HeadquartersProcess {
    /// SIGTERM, so headquarters stops its PostgreSQL and removes its directory.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child, Duration::from_secs(30));
        }
    }
}

/// Issues an enrollment code on a node data directory, with a lifetime in minutes.
pub fn issue_code(data: &Path, ttl_minutes: Option<u64>) -> Result<String> {
    let mut cmd = Command::new(binary("provincial-node")?);
    cmd.args(["issue-code", "--data"]).arg(data);
    if let Some(ttl) = ttl_minutes {
        cmd.args(["--ttl-minutes", &ttl.to_string()]);
    }
    let out = run(&mut cmd)?;
    let code = String::from_utf8(out.stdout)?.trim().to_string();
    if code.is_empty() {
        bail!("issue-code printed nothing");
    }
    Ok(code)
}

/// The last lines of a log file, for error messages.
pub fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// A terminal-service with its own config, storage directory and socket.
pub struct TerminalProcess {
    child: Option<Child>,
    /// Root of this terminal's files.
    pub root: PathBuf,
    /// The config file.
    pub config: PathBuf,
    /// Storage directory.
    pub storage: PathBuf,
    /// Local API socket.
    pub socket: PathBuf,
    /// stdout/stderr of every run, appended.
    pub log: PathBuf,
}

impl TerminalProcess {
    /// Writes a config under `root` for a node at `node_url`, with `extra` TOML appended to the
    /// `[sync]` section (e.g. `request_timeout_ms = 1000`).
    pub fn new(root: &Path, node_url: &str, sync_extra: &str) -> Result<TerminalProcess> {
        TerminalProcess::with_hardware(root, node_url, sync_extra, "")
    }

    /// As [`TerminalProcess::new`], with `hardware_extra` TOML appended to the `[hardware]`
    /// section (simulated backend), e.g. `id_card_profile = "emrtd"` for a deployment that reads
    /// the national ID card's chip.
    pub fn with_hardware(root: &Path, node_url: &str, sync_extra: &str, hardware_extra: &str) -> Result<TerminalProcess> {
        fs::create_dir_all(root)?;
        let storage = root.join("state");
        let socket = root.join("api.sock");
        let config = root.join("terminal.toml");
        fs::write(
            &config,
            format!(
                "[node]\nurl = \"{node_url}\"\n\n[storage]\ndir = \"{}\"\n\n[api]\nsocket = \"{}\"\n\n[hardware]\nbackend = \"simulated\"\n{hardware_extra}\n[sync]\n{sync_extra}\n",
                storage.display(),
                socket.display()
            ),
        )?;
        Ok(TerminalProcess { child: None, root: root.into(), config, storage, socket, log: root.join("terminal.log") })
    }

    /// Runs a CLI subcommand to completion; returns its output whatever the exit status.
    pub fn cli(&self, args: &[&str]) -> Result<Output> {
        Command::new(binary("terminal-service")?)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .context("running terminal-service")
    }

    /// `provision --node URL --code CODE`, which must succeed.
    pub fn provision(&self, node_url: &str, code: &str) -> Result<()> {
        let out = self.cli(&["provision", "--node", node_url, "--code", code])?;
        if !out.status.success() {
            bail!("provision failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    /// Starts `run` and waits until the local API answers.
    pub async fn start(&mut self) -> Result<()> {
        self.start_with_env(&[]).await
    }

    /// As [`TerminalProcess::start`], with more environment variables (e.g. `LD_PRELOAD` of
    /// libfaketime, for a terminal whose clock is wrong).
    pub async fn start_with_env(&mut self, env: &[(&str, &str)]) -> Result<()> {
        let out = File::options().create(true).append(true).open(&self.log)?;
        let child = Command::new(binary("terminal-service")?)
            .arg("--config")
            .arg(&self.config)
            .arg("run")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(out.try_clone()?)
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .context("starting terminal-service run")?;
        self.child = Some(child);
        let api = self.api()?;
        let ready = wait_for("terminal-service's local API", Duration::from_secs(30), Duration::from_millis(20), || {
            let api = api.clone();
            async move { api.health().await.ok() }
        })
        .await;
        if ready.is_err() {
            bail!("terminal-service did not start: {}", tail(&self.log));
        }
        Ok(())
    }

    /// A client of the local API.
    pub fn api(&self) -> Result<LocalApi> {
        LocalApi::new(&self.socket)
    }

    /// `kill -9`: no chance to flush or say goodbye.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL on Unix
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait (bounded), then SIGKILL.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            terminate(&mut c, Duration::from_secs(5));
        }
    }

    /// The process id of `run`, while it runs (for `/proc/PID/…`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }
}

impl Drop for TerminalProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A running reference node serving HTTPS (`serve --tls`): a self-signed certificate made on
/// first use in `DATA/tls-cert.pem` and `DATA/tls-key.pem`.
pub struct TlsNodeProcess {
    /// The node process (its `url()` is the plain one; use [`TlsNodeProcess::url`]).
    pub node: NodeProcess,
}

impl TlsNodeProcess {
    /// Starts `serve --tls` on `port` with data in `data`, and waits until it answers over HTTPS.
    pub async fn start(data: &Path, port: u16) -> Result<TlsNodeProcess> {
        let log = data.with_extension("log");
        let out = File::options().create(true).append(true).open(&log)?;
        let child = Command::new(binary("provincial-node")?)
            .args(["serve", "--tls", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context("starting provincial-node --tls")?;
        let node = TlsNodeProcess { node: NodeProcess { child: Some(child), data: data.to_path_buf(), port, log } };
        // Readiness only: the certificate is self-signed, and what the terminal accepts is
        // the terminal's business, so this probe accepts any.
        let http = reqwest::Client::builder().danger_accept_invalid_certs(true).build()?;
        let url = node.url();
        let ready = wait_for("provincial-node to answer over HTTPS", Duration::from_secs(30), Duration::from_millis(50), || {
            let (http, url) = (http.clone(), url.clone());
            async move { http.get(&url).send().await.ok().filter(|r| r.status().is_success()).map(|_| ()) }
        })
        .await;
        if ready.is_err() {
            bail!("provincial-node --tls did not start: {}", tail(&node.node.log));
        }
        Ok(node)
    }

    /// Base URL (https).
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.node.port)
    }

    /// `provincial-node fingerprint --data DIR`: the SHA-256 of the served certificate.
    pub fn fingerprint(&self) -> Result<String> {
        let out = run(Command::new(binary("provincial-node")?).args(["fingerprint", "--data"]).arg(&self.node.data))?;
        Ok(String::from_utf8(out.stdout)?.trim().to_string())
    }

    /// Stops the node (SIGKILL) and waits for it.
    pub fn stop(&mut self) {
        self.node.stop();
    }
}
