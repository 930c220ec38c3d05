//! The service directory (issue 14, referrals out): the services beyond cash this node's
//! terminals may refer households to, as an operator-edited JSON file.
//!
//! Like the targeting questionnaire: the file ([`DIRECTORY_FILE`] in the data directory, or the
//! one `serve --service-directory FILE` names) is written with a sample on first start for the
//! operator to replace, read again whenever it changes on disk, and served to terminals
//! (`GET /v1/service-directory`, its version in every heartbeat answer, so terminals fetch a new
//! version within a heartbeat). A file that does not check (JSON, or a rule of
//! [`node_protocol::service_directory::ServiceDirectory::problems`] against the node's master
//! data) is reported and the last good version kept; at start it stops the node, naming the
//! file. `provincial-node services check FILE` runs the same checks before a file goes live.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use node_protocol::service_directory::ServiceDirectory;
use node_protocol::MasterData;
use thiserror::Error;

/// The directory, in the data directory (unless `serve --service-directory` names another file).
pub const DIRECTORY_FILE: &str = "service-directory.json";

/// The sample written on first start: fictional services in Baghdad, Erbil and Nineveh.
pub const SAMPLE: &str = include_str!("../data/service-directory.sample.json");

/// Problems with the operator's file; each names the file and what to fix.
#[derive(Debug, Error)]
pub enum DirectoryFileError {
    /// Cannot read or write the file.
    #[error("service directory {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a valid directory.
    #[error("service directory {path}: {message}; fix the file (`provincial-node services check FILE` lists every problem)")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Reads and checks a directory file against `master_data`.
pub fn load(path: &Path, master_data: &MasterData) -> Result<ServiceDirectory, DirectoryFileError> {
    let bytes = std::fs::read(path).map_err(|source| DirectoryFileError::Io { path: path.into(), source })?;
    ServiceDirectory::parse(&bytes, Some(master_data)).map_err(|e| DirectoryFileError::Invalid { path: path.into(), message: e.to_string() })
}

/// Writes the sample to `path` when there is no file there yet.
pub fn write_sample(path: &Path) -> Result<(), DirectoryFileError> {
    if path.exists() {
        return Ok(());
    }
    std::fs::write(path, SAMPLE).map_err(|source| DirectoryFileError::Io { path: path.into(), source })
}

/// The directory as last read, and the file's stamp then (modification time and length).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Where it is read from.
    pub path: PathBuf,
    /// What is served.
    pub directory: ServiceDirectory,
    stamp: Option<(SystemTime, u64)>,
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

impl Loaded {
    /// Loads `path` (writing the sample there first when it is the data directory's own file
    /// and missing: an operator's `--service-directory` must exist).
    pub fn open(path: &Path, sample_if_missing: bool, master_data: &MasterData) -> Result<Loaded, DirectoryFileError> {
        if sample_if_missing {
            write_sample(path)?;
        }
        let stamp = stamp(path);
        Ok(Loaded { path: path.into(), directory: load(path, master_data)?, stamp })
    }

    /// Reads the file again when it changed; a file that no longer checks is reported on
    /// stderr and the last good version kept (the node must keep serving).
    pub fn refresh(&mut self, master_data: &MasterData) {
        let now = stamp(&self.path);
        if now.is_none() || now == self.stamp {
            return;
        }
        self.stamp = now;
        match load(&self.path, master_data) {
            Ok(fresh) => self.directory = fresh,
            Err(e) => eprintln!("services: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_checks_against_the_master_data_and_covers_each_category() {
        let directory = ServiceDirectory::parse(SAMPLE.as_bytes(), Some(&crate::geography::master_data())).unwrap();
        for category in &directory.categories {
            assert!(directory.services.iter().any(|s| s.category == category.id), "no sample service for {}", category.id);
        }
        assert!(!directory.serving("BGD", Some("RSF")).is_empty());
    }

    #[test]
    fn a_broken_edit_keeps_the_last_good_version_and_a_good_one_is_served() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DIRECTORY_FILE);
        let master = crate::geography::master_data();
        let mut loaded = Loaded::open(&path, true, &master).unwrap();
        let first = loaded.directory.clone();
        std::fs::write(&path, "{ not json").unwrap();
        loaded.refresh(&master);
        assert_eq!(loaded.directory, first);
        let mut next = first.clone();
        next.version = "2027.1".into();
        next.services.truncate(1);
        std::fs::write(&path, serde_json::to_string(&next).unwrap()).unwrap();
        loaded.refresh(&master);
        assert_eq!(loaded.directory, next);
        // At start, a broken file stops the node, naming it.
        std::fs::write(&path, "[]").unwrap();
        let message = Loaded::open(&path, true, &master).unwrap_err().to_string();
        assert!(message.contains(&path.display().to_string()) && message.contains("services check"), "{message}");
    }
}
