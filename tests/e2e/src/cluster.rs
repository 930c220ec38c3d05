//! The usual arrangement: one node, one provisioned terminal, optionally a fault proxy between.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{bail, Result};
use node_protocol::SubmissionKind;
use tempfile::TempDir;
use uuid::Uuid;

use crate::fault_proxy::FaultProxy;
use crate::local_api::{Forms, LocalApi};
use crate::processes::{free_port, NodeProcess, TerminalProcess};
use crate::sample::{answers, Applicant};
use crate::wait_for;

/// Sync settings that make tests quick: short timeouts and backoff.
pub const FAST_SYNC: &str = "request_timeout_ms = 1000\nbackoff_initial_ms = 50\nbackoff_max_ms = 1000\nbatch_size = 100\n";

/// A node and a provisioned, running terminal.
pub struct Cluster {
    /// Temporary root; removed on drop.
    pub dir: TempDir,
    /// The node.
    pub node: NodeProcess,
    /// The terminal.
    pub terminal: TerminalProcess,
    /// The proxy, when the terminal talks to the node through one.
    pub proxy: Option<FaultProxy>,
    /// The forms the terminal serves.
    pub forms: Forms,
}

impl Cluster {
    /// Starts a node and a terminal provisioned to it; with `fault_paths`, the terminal talks
    /// to the node through a [`FaultProxy`] that injects faults on those paths.
    pub async fn start(sync_extra: &str, fault_paths: Option<&[&str]>) -> Result<Cluster> {
        Cluster::start_with_hardware(sync_extra, fault_paths, "").await
    }

    /// As [`Cluster::start`], with `hardware_extra` TOML in the terminal's `[hardware]`
    /// section (see [`TerminalProcess::with_hardware`]).
    pub async fn start_with_hardware(sync_extra: &str, fault_paths: Option<&[&str]>, hardware_extra: &str) -> Result<Cluster> {
        let dir = tempfile::Builder::new().prefix("e2e-").tempdir()?;
        let node = NodeProcess::start(&dir.path().join("node"), free_port()?).await?;
        let proxy = match fault_paths {
            Some(paths) => Some(FaultProxy::start(&node.url(), paths, 0x5eed).await?),
            None => None,
        };
        let url = proxy.as_ref().map(FaultProxy::url).unwrap_or_else(|| node.url());
        let mut terminal = TerminalProcess::with_hardware(&dir.path().join("terminal"), &url, sync_extra, hardware_extra)?;
        terminal.provision(&url, &node.issue_code()?)?;
        terminal.start().await?;
        let forms = terminal.api()?.forms().await?;
        Ok(Cluster { dir, node, terminal, proxy, forms })
    }

    /// Local API client.
    pub fn api(&self) -> Result<LocalApi> {
        self.terminal.api()
    }

    /// Generates and submits one valid application; returns the acknowledged id.
    pub async fn submit_one(&self, api: &LocalApi, kind: SubmissionKind, applicant: &Applicant) -> Result<Uuid> {
        let form = self.forms.form(kind)?;
        let body = answers(form, &self.forms.master_data, applicant);
        match api.submit(kind, "ar", &body).await? {
            Ok(ack) => Ok(ack.id),
            Err((status, text)) => bail!("submission refused with {status}: {text}"),
        }
    }

    /// Waits until the terminal's outbox is empty.
    pub async fn wait_drained(&self, limit: Duration) -> Result<()> {
        let api = self.api()?;
        wait_for("the outbox to drain", limit, Duration::from_millis(100), || {
            let api = api.clone();
            async move { api.queue_depth().await.ok().filter(|d| *d == 0) }
        })
        .await
        .map(|_| ())
    }

    /// Checks exactly-once delivery: the node holds every id in `acked`, each once, and
    /// nothing outside `acked ∪ maybe` (requests whose answer was lost to a crash).
    pub fn assert_exactly_once(&self, acked: &HashSet<Uuid>, maybe: &HashSet<Uuid>) -> Result<()> {
        let stored = self.node.submissions()?;
        let mut seen = HashSet::new();
        for s in &stored {
            if !seen.insert(s.id) {
                bail!("the node stored {} twice", s.id);
            }
            if !acked.contains(&s.id) && !maybe.contains(&s.id) {
                bail!("the node stored {} which the terminal never acknowledged nor attempted", s.id);
            }
        }
        let missing: Vec<_> = acked.iter().filter(|id| !seen.contains(id)).collect();
        if !missing.is_empty() {
            bail!("{} acknowledged submissions never reached the node, e.g. {}", missing.len(), missing[0]);
        }
        Ok(())
    }
}
