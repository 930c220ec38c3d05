//! Provisioning: binding a fresh terminal to its provincial node.
//!
//! 1. generate the terminal's Ed25519 key (kept in a staging directory until enrollment
//!    succeeds, so a failed attempt never destroys a working identity);
//! 2. `POST /v1/terminals/enroll` with the one-time code, signed with `keyid="enroll"` by the
//!    new key, which proves possession of it;
//! 3. move the key into place and store the enrollment record (node URL, node id, terminal id,
//!    province, sealing recipient): from here on the terminal is provisioned and pinned;
//! 4. `GET /v1/config`, signed as the new terminal, and cache it for the forms.
//!
//! Every step is an audit entry. Provisioning an already provisioned terminal is refused unless
//! forced (a technician replacing or re-enrolling it), and the forcing is audited too.

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use node_protocol::signature::ENROLL_KEY_ID;
use node_protocol::{EnrollRequest, NodeConfig};
use serde::{Deserialize, Serialize};
use serde_json::json;
use thiserror::Error;

use crate::audit::AuditCategory;
use crate::config::Config;
use crate::durable::sync_directory;
use crate::identity::{Enrollment, IdentityError, TerminalKey, KEY_FILE};
use crate::node_client::{check_node_url, NodeClient, NodeError};
use crate::node_config::{store_cached, NodeConfigError};
use crate::seal::{SealError, Sealer};
use crate::storage::{Storage, StorageError};

/// Sub-directory where a new key waits for the node's answer.
const STAGING_DIR: &str = "provisioning";

/// What to provision against.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisionRequest {
    /// Node base URL.
    pub node_url: String,
    /// One-time enrollment code from the node operator.
    pub code: String,
    /// Replace an existing enrollment.
    #[serde(default)]
    pub force: bool,
}

/// The result, as the CLI prints it and the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionOutcome {
    /// Our terminal id.
    pub terminal_id: String,
    /// Province.
    pub province: String,
    /// The node's id (pinned).
    pub node_id: String,
    /// The node's URL.
    pub node_url: String,
    /// Version of the cached configuration, if it could be fetched.
    pub config_version: Option<String>,
    /// Something to follow up on (e.g. configuration not fetched yet).
    pub warning: Option<String>,
}

/// Why provisioning failed. Nothing already saved is lost by a failure.
#[derive(Debug, Error)]
pub enum ProvisionError {
    /// Already provisioned and not forced.
    #[error("this terminal is already provisioned as {terminal_id} ({province}): add --force to replace that enrollment")]
    AlreadyProvisioned {
        /// Current terminal id.
        terminal_id: String,
        /// Current province.
        province: String,
    },
    /// The node URL or the call failed.
    #[error("enrollment failed: {0}")]
    Node(#[from] NodeError),
    /// Key or enrollment files.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The node's sealing key is unusable.
    #[error("the node's sealing key is unusable: {0}")]
    Seal(#[from] SealError),
    /// Databases.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Files of the staging directory.
    #[error("{0}")]
    Io(String),
    /// The code is empty.
    #[error("the enrollment code is empty: ask the node operator for one (provincial-node issue-code)")]
    EmptyCode,
}

impl ProvisionError {
    /// Whether the problem is in what was asked (as opposed to the node or the disk).
    pub fn is_bad_request(&self) -> bool {
        matches!(self, ProvisionError::AlreadyProvisioned { .. } | ProvisionError::EmptyCode | ProvisionError::Node(NodeError::BadUrl { .. }))
    }
}

fn io(context: &str, path: &Path, e: std::io::Error) -> ProvisionError {
    ProvisionError::Io(format!("{context} {}: {e}", path.display()))
}

/// Provisions the terminal whose storage is `config.storage.dir`.
pub async fn provision(config: &Config, storage: &Storage, http: &reqwest::Client, request: &ProvisionRequest) -> Result<(ProvisionOutcome, Option<NodeConfig>), ProvisionError> {
    let dir = config.storage.dir.clone();
    let node_url = check_node_url(&request.node_url)?;
    let code = request.code.trim();
    if code.is_empty() {
        return Err(ProvisionError::EmptyCode);
    }
    let existing = Enrollment::load(&dir)?;
    if let Some(e) = &existing {
        if !request.force {
            return Err(ProvisionError::AlreadyProvisioned { terminal_id: e.terminal_id.clone(), province: e.province.clone() });
        }
        storage
            .audit(AuditCategory::Provisioning, "reprovision_forced", json!({"previous_terminal_id": e.terminal_id, "previous_node_id": e.node_id, "node_url": node_url}))
            .await?;
    }

    // A key without an enrollment is left from an attempt the node refused: reuse it (it never
    // left the device). Otherwise a new key waits in the staging directory.
    let staging = dir.join(STAGING_DIR);
    let reuse = existing.is_none() && dir.join(KEY_FILE).exists();
    let key = if reuse {
        Arc::new(TerminalKey::load(&dir)?)
    } else {
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| io("cannot clear", &staging, e))?;
        }
        std::fs::create_dir(&staging).map_err(|e| io("cannot create", &staging, e))?;
        let key = Arc::new(TerminalKey::generate(&staging)?);
        storage.audit(AuditCategory::Provisioning, "key_generated", json!({"public_key": key.public_key_base64()})).await?;
        key
    };

    let enroll = NodeClient::new(http.clone(), &node_url, Arc::clone(&key), ENROLL_KEY_ID)?;
    let answer = match enroll
        .enroll(&EnrollRequest {
            code: code.to_string(),
            public_key: key.public_key_base64(),
            terminal_name: host_name(),
            software_version: env!("CARGO_PKG_VERSION").into(),
        })
        .await
    {
        Ok(a) => a,
        Err(e) => {
            let _ = storage.audit(AuditCategory::Provisioning, "enroll_failed", json!({"node_url": node_url, "error": e.to_string()})).await;
            return Err(e.into());
        }
    };
    Sealer::new(&answer.sealing_recipient)?;

    if !reuse {
        let from = staging.join(KEY_FILE);
        let to = dir.join(KEY_FILE);
        std::fs::rename(&from, &to).map_err(|e| io("cannot move the new key to", &to, e))?;
        sync_directory(&dir).map_err(|e| io("cannot flush", &dir, e))?;
        let _ = std::fs::remove_dir_all(&staging);
    }
    let enrollment = Enrollment {
        node_url: node_url.clone(),
        node_id: answer.node_id.clone(),
        terminal_id: answer.terminal_id.clone(),
        province: answer.province.clone(),
        sealing_recipient: answer.sealing_recipient.clone(),
        heartbeat_interval_s: answer.heartbeat_interval_s,
        enrolled_at: Utc::now(),
    };
    enrollment.store(&dir)?;
    storage
        .audit(
            AuditCategory::Provisioning,
            "enrolled",
            json!({"terminal_id": enrollment.terminal_id, "province": enrollment.province, "node_id": enrollment.node_id, "node_url": node_url}),
        )
        .await?;
    tracing::info!(terminal_id = %enrollment.terminal_id, province = %enrollment.province, "terminal enrolled");

    // The enrollment code is spent now, so a configuration failure must not undo the above:
    // the heartbeat fetches the configuration later.
    let mut outcome = ProvisionOutcome {
        terminal_id: enrollment.terminal_id.clone(),
        province: enrollment.province.clone(),
        node_id: enrollment.node_id.clone(),
        node_url,
        config_version: None,
        warning: None,
    };
    let client = NodeClient::new(http.clone(), &enrollment.node_url, key, &enrollment.terminal_id)?;
    let fetched = match client.config().await {
        Ok(node_config) => match store_cached(&dir, &node_config) {
            Ok(()) => {
                storage.audit(AuditCategory::Provisioning, "config_cached", json!({"version": node_config.version})).await?;
                outcome.config_version = Some(node_config.version.clone());
                Some(node_config)
            }
            Err(e) => {
                outcome.warning = Some(cache_warning(&e));
                None
            }
        },
        Err(e) => {
            outcome.warning = Some(format!("enrolled, but the configuration could not be fetched yet ({e}); it is fetched at the next heartbeat"));
            None
        }
    };
    Ok((outcome, fetched))
}

fn cache_warning(e: &NodeConfigError) -> String {
    format!("enrolled, but the configuration could not be cached ({e})")
}

/// The host name, for the node's fleet view.
fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "terminal".into())
}
