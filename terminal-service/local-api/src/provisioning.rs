//! `POST /v1/provisioning`: enrolls the terminal with its node, as `terminal-service provision`
//! does (the CLI prints the same [`ProvisionOutcome`]).

use serde::{Deserialize, Serialize};

/// Body of `POST /v1/provisioning`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisionRequest {
    /// Node base URL (http or https).
    pub node_url: String,
    /// One-time enrollment code from the node operator.
    pub code: String,
    /// Replace an existing enrollment (audited).
    #[serde(default)]
    pub force: bool,
    /// SHA-256 of the node's TLS certificate as the operator gave it (`provincial-node
    /// fingerprint`: 64 hex digits, colons allowed); without it, an https node's certificate
    /// is trusted on first use.
    #[serde(default)]
    pub node_fingerprint: Option<String>,
    /// Allow plain http:// to a node that is not on this machine (unencrypted, unauthenticated
    /// link: only for a trusted test network).
    #[serde(default)]
    pub allow_insecure_http: bool,
}

impl ProvisionRequest {
    /// Enrollment at `node_url` with `code`, nothing forced, the certificate trusted on first
    /// use.
    pub fn new(node_url: impl Into<String>, code: impl Into<String>) -> ProvisionRequest {
        ProvisionRequest { node_url: node_url.into(), code: code.into(), force: false, node_fingerprint: None, allow_insecure_http: false }
    }
}

/// Answer of `POST /v1/provisioning` (201): the enrollment now pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionOutcome {
    /// Our terminal id.
    pub terminal_id: String,
    /// Province.
    pub province: String,
    /// The node's id, pinned from now on.
    pub node_id: String,
    /// The node's URL.
    pub node_url: String,
    /// Version of the cached configuration, if it could be fetched.
    pub config_version: Option<String>,
    /// Something to follow up on (e.g. configuration not fetched yet, plain http).
    pub warning: Option<String>,
    /// SHA-256 of the node's TLS certificate (64 lower-case hex digits), pinned from now on;
    /// `None` over plain http.
    #[serde(default)]
    pub node_certificate_sha256: Option<String>,
    /// Whether that pin was taken from the node itself (no fingerprint given): the technician
    /// should compare it with the one the node operator has.
    #[serde(default)]
    pub trusted_on_first_use: bool,
}
