//! The node's configuration (forms, master data, staff roster), cached on the terminal.
//!
//! Forms must work offline, so the last `GET /v1/config` answer is kept in
//! `node-config.json` (written atomically) and replaced whenever a heartbeat answer names
//! another version.

use std::path::{Path, PathBuf};

use node_protocol::NodeConfig;
use thiserror::Error;

use crate::startup::durable::write_file_atomically;

/// File name of the cached configuration in the storage directory.
pub const NODE_CONFIG_FILE: &str = "node-config.json";

/// Errors reading or writing the cache.
#[derive(Debug, Error)]
pub enum NodeConfigError {
    /// I/O.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Not a node configuration.
    #[error("{path}: not a valid node configuration ({message}); the service does not start with it. Move it aside (e.g. rename it to node-config.json.damaged) and start again: the configuration is fetched from the node anew (nothing captured is lost; until then no forms are offered)")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Reads the cached configuration; `Ok(None)` when there is none yet.
pub fn load_cached(dir: &Path) -> Result<Option<NodeConfig>, NodeConfigError> {
    let path = dir.join(NODE_CONFIG_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(NodeConfigError::Io { path, source }),
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| NodeConfigError::Corrupt { path, message: e.to_string() })
}

/// Replaces the cached configuration durably. Mode 0600: it holds the staff roster's hashes.
pub fn store_cached(dir: &Path, config: &NodeConfig) -> Result<(), NodeConfigError> {
    let path = dir.join(NODE_CONFIG_FILE);
    let bytes = serde_json::to_vec_pretty(config).map_err(|e| NodeConfigError::Corrupt { path: path.clone(), message: e.to_string() })?;
    write_file_atomically(&path, &bytes, 0o600).map_err(|source| NodeConfigError::Io { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_or_corrupt_cache_is_refused_naming_the_file_and_left_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(NODE_CONFIG_FILE);
        for damaged in [&b"{\"version\": \"2026.1\", \"forms\": ["[..], &b"\x00\x00\x00garbage"[..], &b""[..]] {
            std::fs::write(&path, damaged).unwrap();
            let err = load_cached(dir.path()).unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, NodeConfigError::Corrupt { .. }), "{message}");
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains("Move it aside"), "{message}");
            // Not reset: the damaged file is still there for whoever looks into it.
            assert_eq!(std::fs::read(&path).unwrap(), damaged);
        }
        std::fs::remove_file(&path).unwrap();
        assert!(load_cached(dir.path()).unwrap().is_none());
    }
}
