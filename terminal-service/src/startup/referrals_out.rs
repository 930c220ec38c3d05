//! What the terminal keeps for referrals out (issue 14): the node's service directory and the
//! node's endorsement of this terminal's key for signing referral slips, both cached for
//! offline use like the node configuration ([`crate::startup::node_config`]).
//!
//! - `service-directory.json`: the last `GET /v1/service-directory` answer, replaced when a
//!   heartbeat answer names another `service_directory_version`;
//! - `slip-certificate.txt`: the last `terminal_certificate` of a heartbeat answer that
//!   certifies this terminal's own key and id ([`check_certificate`]); a certificate for
//!   another key (a re-enrolled terminal answered for the old one) is never stored.
//!
//! Both written atomically. A damaged file stops start-up with a message naming it, as the
//! node configuration does: silently starting without it would hide a failing disk.

use std::path::{Path, PathBuf};

use node_protocol::service_directory::ServiceDirectory;
use node_protocol::slip::EndorsedCertificate;
use thiserror::Error;

use crate::startup::durable::write_file_atomically;

/// File name of the cached service directory in the storage directory.
pub const SERVICE_DIRECTORY_FILE: &str = "service-directory.json";
/// File name of the cached slip certificate in the storage directory.
pub const SLIP_CERTIFICATE_FILE: &str = "slip-certificate.txt";

/// Errors reading or writing the caches.
#[derive(Debug, Error)]
pub enum CacheError {
    /// I/O.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Not what the file should hold.
    #[error("{path}: {what} is damaged ({message}); the service does not start with it. Move it aside (e.g. rename it to {name}.damaged) and start again: it is fetched from the node anew at the next heartbeat (nothing captured is lost; until then {until})")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Its file name.
        name: &'static str,
        /// What the file holds.
        what: &'static str,
        /// What the terminal cannot do until it has a new copy.
        until: &'static str,
        /// What is wrong.
        message: String,
    },
}

fn read(dir: &Path, name: &str) -> Result<Option<(PathBuf, Vec<u8>)>, CacheError> {
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some((path, bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CacheError::Io { path, source }),
    }
}

/// Reads the cached service directory; `Ok(None)` when there is none yet.
pub fn load_directory(dir: &Path) -> Result<Option<ServiceDirectory>, CacheError> {
    let Some((path, bytes)) = read(dir, SERVICE_DIRECTORY_FILE)? else { return Ok(None) };
    // The master data was checked by the node and when it was stored; here only the shape and
    // the rules that need no master data.
    ServiceDirectory::parse(&bytes, None).map(Some).map_err(|e| CacheError::Corrupt {
        path,
        name: SERVICE_DIRECTORY_FILE,
        what: "the cached service directory",
        until: "the kiosk shows no services",
        message: e.to_string(),
    })
}

/// Replaces the cached service directory durably.
pub fn store_directory(dir: &Path, directory: &ServiceDirectory) -> Result<(), CacheError> {
    let path = dir.join(SERVICE_DIRECTORY_FILE);
    let bytes = serde_json::to_vec_pretty(directory).map_err(|e| CacheError::Io { path: path.clone(), source: e.into() })?;
    write_file_atomically(&path, &bytes, 0o644).map_err(|source| CacheError::Io { path, source })
}

/// Reads the cached slip certificate; `Ok(None)` when there is none yet.
pub fn load_certificate(dir: &Path) -> Result<Option<EndorsedCertificate>, CacheError> {
    let Some((path, bytes)) = read(dir, SLIP_CERTIFICATE_FILE)? else { return Ok(None) };
    let corrupt = |message: String| CacheError::Corrupt {
        path: path.clone(),
        name: SLIP_CERTIFICATE_FILE,
        what: "the node's slip certificate",
        until: "referral slips are not printed",
        message,
    };
    let text = String::from_utf8(bytes).map_err(|e| corrupt(e.to_string()))?;
    EndorsedCertificate::parse(&text).map(Some).map_err(|e| corrupt(e.to_string()))
}

/// Replaces the cached slip certificate durably.
pub fn store_certificate(dir: &Path, certificate: &EndorsedCertificate) -> Result<(), CacheError> {
    let path = dir.join(SLIP_CERTIFICATE_FILE);
    write_file_atomically(&path, format!("{}\n", certificate.text()).as_bytes(), 0o644).map_err(|source| CacheError::Io { path, source })
}

/// Reads a heartbeat's `terminal_certificate` and checks it certifies this terminal: its id
/// (the node writes it in upper case) and its public key. The node's signature is not checked:
/// the terminal trusts its pinned node, and has no other copy of the node's slip key.
pub fn check_certificate(text: &str, terminal_id: &str, key: &ed25519_dalek::VerifyingKey) -> Result<EndorsedCertificate, String> {
    let endorsed = EndorsedCertificate::parse(text).map_err(|e| e.to_string())?;
    let certificate = &endorsed.certificate;
    if !certificate.terminal_id.eq_ignore_ascii_case(terminal_id) {
        return Err(format!("the node's slip certificate names terminal {}, not this terminal ({terminal_id})", certificate.terminal_id));
    }
    if &certificate.terminal_key != key {
        return Err("the node's slip certificate is for another key than this terminal's (re-enrolled?)".into());
    }
    Ok(endorsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use node_protocol::slip::TerminalCertificate;

    fn certificate(terminal: &SigningKey) -> EndorsedCertificate {
        TerminalCertificate {
            province: "BGD".into(),
            terminal_id: "T-0A1B2C3D".into(),
            terminal_key: terminal.verifying_key(),
            valid_from: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            valid_until: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        }
        .endorse(&SigningKey::from_bytes(&[1u8; 32]))
        .unwrap()
    }

    #[test]
    fn damaged_caches_are_refused_naming_the_file_and_left_in_place() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_directory(dir.path()).unwrap().is_none());
        assert!(load_certificate(dir.path()).unwrap().is_none());
        for (name, damaged) in [(SERVICE_DIRECTORY_FILE, &b"{\"version\": \"1\", \"categ"[..]), (SLIP_CERTIFICATE_FILE, &b"BGD.T-1.XYZ"[..])] {
            let path = dir.path().join(name);
            std::fs::write(&path, damaged).unwrap();
            let message = if name == SERVICE_DIRECTORY_FILE {
                load_directory(dir.path()).unwrap_err().to_string()
            } else {
                load_certificate(dir.path()).unwrap_err().to_string()
            };
            assert!(message.contains(&path.display().to_string()) && message.contains("Move it aside"), "{message}");
            assert_eq!(std::fs::read(&path).unwrap(), damaged, "not reset");
        }
        // A directory breaking a rule (an unknown category) is damaged too.
        let bad = r#"{"version":"1","categories":[],"services":[{"id":"X","category":"health","governorate":"BGD","name":{"ar":"a","ckb":"b","en":"c"},"eligibility":{"ar":"","ckb":"","en":""},"address":{"ar":"a","ckb":"b","en":"c"},"hours":{"ar":"a","ckb":"b","en":"c"},"phone":"12345"}]}"#;
        std::fs::write(dir.path().join(SERVICE_DIRECTORY_FILE), bad).unwrap();
        assert!(load_directory(dir.path()).unwrap_err().to_string().contains("category 'health'"));
    }

    #[test]
    fn a_certificate_round_trips_and_only_one_for_this_terminal_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let terminal = SigningKey::from_bytes(&[2u8; 32]);
        let endorsed = certificate(&terminal);
        store_certificate(dir.path(), &endorsed).unwrap();
        assert_eq!(load_certificate(dir.path()).unwrap(), Some(endorsed.clone()));
        assert!(check_certificate(&endorsed.text(), "T-0a1b2c3d", &terminal.verifying_key()).is_ok());
        assert!(check_certificate(&endorsed.text(), "T-99999999", &terminal.verifying_key()).unwrap_err().contains("names terminal"));
        let other = SigningKey::from_bytes(&[3u8; 32]).verifying_key();
        assert!(check_certificate(&endorsed.text(), "T-0A1B2C3D", &other).unwrap_err().contains("another key"));
    }
}
