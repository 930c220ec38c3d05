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
//! Over https, the node's certificate is pinned here: either the operator's fingerprint
//! (`--node-fingerprint`, checked before anything is sent) or, without one, the certificate the
//! node presents now (trust on first use; the outcome shows it so the technician can compare it
//! with the operator's). The pin goes into the enrollment record and every later request accepts
//! only that certificate (see [`crate::delivery::node_client::trust`]). Plain http works, with a warning,
//! and only to this machine unless `allow_insecure_http` says the network is trusted.
//!
//! Every step is an audit entry. Provisioning an already provisioned terminal is refused unless
//! forced (a technician replacing or re-enrolling it), and the forcing is audited too.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use node_protocol::signature::ENROLL_KEY_ID;
use node_protocol::{EnrollRequest, NodeConfig};
use serde_json::json;
use thiserror::Error;

use crate::audit::AuditCategory;
use crate::startup::config::Config;
use crate::startup::durable::sync_directory;
use crate::startup::identity::{Enrollment, IdentityError, TerminalKey, KEY_FILE};
use crate::delivery::node_client::trust::{BadFingerprint, CertificateFingerprint, FirstUse, NodeTrust};
use crate::delivery::node_client::{check_node_url, pinned_http_client, NodeClient, NodeError};
use crate::startup::node_config::{store_cached, NodeConfigError};
use crate::capture::seal::{SealError, Sealer};
use crate::capture::storage::{Storage, StorageError};

/// Sub-directory where a new key waits for the node's answer.
const STAGING_DIR: &str = "provisioning";

// What to provision against and the result (as the CLI prints it and the API returns it) are
// the local API's.
pub use local_api::{ProvisionOutcome, ProvisionRequest};

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
    /// `--node-fingerprint` is not a fingerprint.
    #[error("--node-fingerprint: {0}")]
    BadFingerprint(#[from] BadFingerprint),
    /// A fingerprint was given for a plain http URL, where there is no certificate to check.
    #[error("--node-fingerprint pins the node's TLS certificate, but {url} is plain http: use the node's https:// URL")]
    FingerprintNeedsHttps {
        /// The node URL.
        url: String,
    },
    /// Plain http to another machine, not allowed.
    #[error("refusing plain http to {host}: the enrollment and everything after it would cross the network unencrypted and the node could not be verified. Use the node's https:// URL, or add --allow-insecure-http if this network is trusted")]
    InsecureHttp {
        /// The node's host.
        host: String,
    },
    /// The node's certificate is not the one the operator named. Nothing was enrolled.
    #[error("node certificate mismatch: the node presented SHA-256 {presented}, but --node-fingerprint is {given}. Nothing was enrolled. Check the URL and the fingerprint with the node operator (provincial-node fingerprint); someone may be intercepting the connection")]
    FingerprintMismatch {
        /// The fingerprint given.
        given: CertificateFingerprint,
        /// What the node presented.
        presented: CertificateFingerprint,
    },
}

impl ProvisionError {
    /// Whether the problem is in what was asked (as opposed to the node or the disk).
    pub fn is_bad_request(&self) -> bool {
        matches!(
            self,
            ProvisionError::AlreadyProvisioned { .. }
                | ProvisionError::EmptyCode
                | ProvisionError::Node(NodeError::BadUrl { .. })
                | ProvisionError::BadFingerprint(_)
                | ProvisionError::FingerprintNeedsHttps { .. }
                | ProvisionError::InsecureHttp { .. }
                | ProvisionError::FingerprintMismatch { .. }
        )
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
    let request_timeout = Duration::from_millis(config.sync.request_timeout_ms);
    let trust = node_trust(&node_url, request)?;
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
    //
    // A key already waiting in the staging directory is from an attempt whose answer never
    // came (the node may have committed it and the answer been lost on the way back): send the
    // same key again, so that the node, which enrols the same code and key idempotently,
    // answers as it did the first time. A new key would find the code used.
    let staged = if reuse { None } else { load_staged(&staging) };
    let key = if reuse {
        Arc::new(TerminalKey::load(&dir)?)
    } else if let Some(key) = staged {
        storage.audit(AuditCategory::Provisioning, "key_reused", json!({"public_key": key.public_key_base64()})).await?;
        key
    } else {
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| io("cannot clear", &staging, e))?;
        }
        std::fs::create_dir(&staging).map_err(|e| io("cannot create", &staging, e))?;
        let key = Arc::new(TerminalKey::generate(&staging)?);
        storage.audit(AuditCategory::Provisioning, "key_generated", json!({"public_key": key.public_key_base64()})).await?;
        key
    };

    let enroll_http = match &trust {
        Some(trust) => pinned_http_client(request_timeout, trust)?,
        None => http.clone(),
    };
    let enroll = NodeClient::new(enroll_http, &node_url, Arc::clone(&key), ENROLL_KEY_ID)?;
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
            let e = match e {
                NodeError::CertificateChanged { expected, got } if matches!(trust, Some(NodeTrust::Pinned(_))) => {
                    ProvisionError::FingerprintMismatch { given: expected, presented: got }
                }
                other => other.into(),
            };
            tracing::warn!(error = %e, "enrollment failed");
            let _ = storage.audit(AuditCategory::Provisioning, "enroll_failed", json!({"node_url": node_url, "error": e.to_string()})).await;
            return Err(e);
        }
    };
    let pin = match &trust {
        None => None,
        Some(NodeTrust::Pinned(pin)) => Some(*pin),
        Some(NodeTrust::FirstUse(first_use)) => Some(
            first_use
                .presented()
                .ok_or_else(|| ProvisionError::Io("the node answered over https but no certificate was seen to pin; try again".into()))?,
        ),
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
        node_certificate_sha256: pin,
    };
    let trusted_on_first_use = matches!(trust, Some(NodeTrust::FirstUse(_)));
    let certificate_trust = match &trust {
        None => "none (plain http)",
        Some(NodeTrust::Pinned(_)) => "operator fingerprint",
        Some(NodeTrust::FirstUse(_)) => "first use",
    };
    enrollment.store(&dir)?;
    storage
        .audit(
            AuditCategory::Provisioning,
            "enrolled",
            json!({
                "terminal_id": enrollment.terminal_id,
                "province": enrollment.province,
                "node_id": enrollment.node_id,
                "node_url": node_url,
                "node_certificate_sha256": pin.map(|p| p.to_string()),
                "certificate_trust": certificate_trust,
            }),
        )
        .await?;
    tracing::info!(
        terminal_id = %enrollment.terminal_id,
        province = %enrollment.province,
        node_certificate_sha256 = %pin.map_or_else(|| "none".to_string(), |p| p.to_string()),
        certificate_trust,
        "terminal enrolled"
    );

    // The enrollment code is spent now, so a configuration failure must not undo the above:
    // the heartbeat fetches the configuration later.
    let mut outcome = ProvisionOutcome {
        terminal_id: enrollment.terminal_id.clone(),
        province: enrollment.province.clone(),
        node_id: enrollment.node_id.clone(),
        node_url,
        config_version: None,
        warning: None,
        node_certificate_sha256: pin.map(|p| p.to_string()),
        trusted_on_first_use,
    };
    if trust.is_none() {
        outcome.warning = Some(PLAIN_HTTP_WARNING.into());
    }
    let client = NodeClient::for_enrollment(http, &enrollment, key, request_timeout)?;
    let fetched = match client.config().await {
        Ok(node_config) => match store_cached(&dir, &node_config) {
            Ok(()) => {
                storage.audit(AuditCategory::Provisioning, "config_cached", json!({"version": node_config.version})).await?;
                outcome.config_version = Some(node_config.version.clone());
                Some(node_config)
            }
            Err(e) => {
                add_warning(&mut outcome.warning, cache_warning(&e));
                None
            }
        },
        Err(e) => {
            add_warning(&mut outcome.warning, format!("enrolled, but the configuration could not be fetched yet ({e}); it is fetched at the next heartbeat"));
            None
        }
    };
    Ok((outcome, fetched))
}

/// The key waiting in `staging` from an unanswered attempt, if there is a readable one (an
/// unreadable one is replaced: it never enrolled anything this terminal could use).
fn load_staged(staging: &Path) -> Option<Arc<TerminalKey>> {
    if !staging.join(KEY_FILE).exists() {
        return None;
    }
    match TerminalKey::load(staging) {
        Ok(key) => Some(Arc::new(key)),
        Err(e) => {
            tracing::warn!(error = %e, "the staged key of an earlier attempt is unreadable; generating a new one");
            None
        }
    }
}

/// What a technician is told after enrolling over plain http.
const PLAIN_HTTP_WARNING: &str = "the link to the node is plain http: not encrypted, and the node's identity is not checked; use the node's https:// URL outside a test bench";

/// How the node's certificate is to be trusted during enrollment: `None` for plain http.
fn node_trust(node_url: &str, request: &ProvisionRequest) -> Result<Option<NodeTrust>, ProvisionError> {
    let given = request.node_fingerprint.as_deref().filter(|f| !f.trim().is_empty()).map(CertificateFingerprint::parse).transpose()?;
    let url = url::Url::parse(node_url).map_err(|e| NodeError::BadUrl { url: node_url.into(), reason: e.to_string() })?;
    if url.scheme() == "https" {
        return Ok(Some(match given {
            Some(pin) => NodeTrust::Pinned(pin),
            None => NodeTrust::FirstUse(FirstUse::new()),
        }));
    }
    if given.is_some() {
        return Err(ProvisionError::FingerprintNeedsHttps { url: node_url.into() });
    }
    if !is_this_machine(&url) && !request.allow_insecure_http {
        return Err(ProvisionError::InsecureHttp { host: url.host_str().unwrap_or_default().to_string() });
    }
    tracing::warn!(node_url, "{PLAIN_HTTP_WARNING}");
    Ok(None)
}

/// Whether the URL's host is this machine (loopback), where plain http never crosses a network.
fn is_this_machine(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn add_warning(warning: &mut Option<String>, more: String) {
    *warning = Some(match warning.take() {
        Some(w) => format!("{w}; {more}"),
        None => more,
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str, fingerprint: Option<&str>, allow_insecure_http: bool) -> ProvisionRequest {
        ProvisionRequest { node_url: url.into(), code: "C".into(), force: false, node_fingerprint: fingerprint.map(Into::into), allow_insecure_http }
    }

    fn trust(url: &str, fingerprint: Option<&str>, allow: bool) -> Result<Option<NodeTrust>, ProvisionError> {
        node_trust(url, &request(url, fingerprint, allow))
    }

    #[test]
    fn https_pins_the_given_fingerprint_or_trusts_on_first_use() {
        let hex = "ab".repeat(32);
        assert!(matches!(trust("https://10.0.0.5:8443", Some(&hex), false), Ok(Some(NodeTrust::Pinned(p))) if p.to_string() == hex));
        assert!(matches!(trust("https://10.0.0.5:8443", None, false), Ok(Some(NodeTrust::FirstUse(_)))));
        assert!(matches!(trust("https://10.0.0.5:8443", Some("  "), false), Ok(Some(NodeTrust::FirstUse(_)))), "blank means none");
        let err = trust("https://10.0.0.5:8443", Some("abc"), false).unwrap_err();
        assert!(matches!(err, ProvisionError::BadFingerprint(_)) && err.is_bad_request(), "{err}");
    }

    #[test]
    fn plain_http_only_to_this_machine_unless_allowed() {
        for local in ["http://127.0.0.1:8700", "http://localhost:8700", "http://[::1]:8700", "http://127.8.9.10"] {
            assert!(matches!(trust(local, None, false), Ok(None)), "{local}");
        }
        let err = trust("http://10.0.0.5:8700", None, false).unwrap_err();
        assert!(matches!(err, ProvisionError::InsecureHttp { .. }) && err.is_bad_request(), "{err}");
        assert!(err.to_string().contains("--allow-insecure-http"), "{err}");
        assert!(matches!(trust("http://10.0.0.5:8700", None, true), Ok(None)));
        let err = trust("http://127.0.0.1:8700", Some(&"ab".repeat(32)), false).unwrap_err();
        assert!(matches!(err, ProvisionError::FingerprintNeedsHttps { .. }), "{err}");
    }
}
