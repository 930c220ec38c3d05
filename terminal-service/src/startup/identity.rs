//! The terminal's identity: its Ed25519 key and what it learnt at enrollment.
//!
//! The key is generated on the terminal and never leaves it: the node only ever learns the
//! public half (at enrollment) and sees signatures. It is stored as one line of standard
//! base64 holding the 32-byte Ed25519 secret, in a file of mode 0600, so a technician can check
//! it exists without tools; [`TerminalKey::load`] refuses a key file that group or others can
//! read, because such a key must be presumed copied.
//!
//! Generating never replaces an existing key: a second provisioning would make the node's
//! record of this terminal useless, so it has to be a deliberate act (remove the old key file
//! first), and [`IdentityError::KeyExists`] tells the caller so.
//!
//! The enrollment record is not secret (it names the node, the terminal id and the node's
//! sealing key) and is pretty JSON so a technician can read it; both files are written through
//! [`crate::startup::durable`] so a power cut during provisioning leaves either nothing or a whole file.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey, SECRET_KEY_LENGTH};
use node_protocol::signature::SignedHeaders;
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::delivery::node_client::trust::CertificateFingerprint;

/// File name of the private key inside the storage directory (mode 0600).
pub const KEY_FILE: &str = "terminal.key";
/// File name of the enrollment record inside the storage directory.
pub const ENROLLMENT_FILE: &str = "enrollment.json";

/// Errors reading or writing identity files.
#[derive(Debug, Error)]
pub enum IdentityError {
    /// I/O on a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file exists but its contents are not valid.
    #[error("{path}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The terminal has not been provisioned.
    #[error("this terminal is not provisioned: run `terminal-service provision --node URL --code CODE`")]
    NotProvisioned,
    /// A key already exists where a new one was to be generated.
    #[error("{path}: a terminal key already exists; this terminal is already provisioned. To re-enrol it, move the old key and enrollment.json away first, then provision again")]
    KeyExists {
        /// The existing key file.
        path: PathBuf,
    },
    /// The key file can be read by other users, so the key must be presumed copied.
    #[error("{path}: the terminal key is readable by group or others (mode {mode:04o}); run `chmod 600 {path}` and check who read it; if in doubt, re-enrol the terminal")]
    InsecurePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

/// Length of the random nonce of each signature, in bytes (before base64).
const NONCE_BYTES: usize = 16;


/// The terminal's signing key. Never leaves the device.
pub struct TerminalKey {
    key: SigningKey,
}

impl TerminalKey {
    /// Generates a new key and stores it in `dir` (mode 0600), replacing none: fails if one exists.
    pub fn generate(dir: &Path) -> Result<TerminalKey, IdentityError> {
        let path = dir.join(KEY_FILE);
        if path.exists() {
            return Err(IdentityError::KeyExists { path });
        }
        let key = SigningKey::generate(&mut OsRng);
        let text = format!("{}\n", STANDARD.encode(key.to_bytes()));
        // `create_file_durably` refuses to replace, which also closes the race between the
        // check above and the write.
        crate::startup::durable::create_file_durably(&path, text.as_bytes(), 0o600).map_err(|source| {
            if source.kind() == io::ErrorKind::AlreadyExists {
                IdentityError::KeyExists { path: path.clone() }
            } else {
                IdentityError::Io { path: path.clone(), source }
            }
        })?;
        Ok(TerminalKey { key })
    }

    /// Signs a referral slip under the node's certificate of this key
    /// ([`node_protocol::slip::Slip::sign`]); refused when the certificate is for another key.
    pub fn sign_slip(&self, slip: node_protocol::slip::Slip, certificate: &node_protocol::slip::EndorsedCertificate) -> Result<node_protocol::slip::SignedSlip, node_protocol::slip::SlipError> {
        slip.sign(certificate, &self.key)
    }

    /// Loads the key from `dir`.
    pub fn load(dir: &Path) -> Result<TerminalKey, IdentityError> {
        let path = dir.join(KEY_FILE);
        let metadata = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(IdentityError::NotProvisioned),
            Err(source) => return Err(IdentityError::Io { path, source }),
        };
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(IdentityError::InsecurePermissions { path, mode });
        }
        let text = fs::read_to_string(&path).map_err(|source| IdentityError::Io { path: path.clone(), source })?;
        let corrupt = |message: String| IdentityError::Corrupt { path: path.clone(), message };
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| corrupt(format!("not a base64 key ({e}); restore the key from backup or re-enrol the terminal")))?;
        let secret: [u8; SECRET_KEY_LENGTH] = bytes.as_slice().try_into().map_err(|_| {
            corrupt(format!(
                "holds {} bytes, an Ed25519 key has {SECRET_KEY_LENGTH}; restore the key from backup or re-enrol the terminal",
                bytes.len()
            ))
        })?;
        Ok(TerminalKey { key: SigningKey::from_bytes(&secret) })
    }

    /// Public key, 32 bytes, standard base64 (as `EnrollRequest::public_key`).
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(self.key.verifying_key().as_bytes())
    }

    /// The public half, e.g. to check a signature in a test or a self-check.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Signs a request to the node (fresh nonce, current time).
    pub fn sign(&self, keyid: &str, method: &str, path: &str, body: &[u8]) -> SignedHeaders {
        self.sign_at(keyid, method, path, body, Utc::now().timestamp())
    }

    /// Signs a request with `created` as its creation time (Unix seconds) and a fresh nonce.
    pub fn sign_at(&self, keyid: &str, method: &str, path: &str, body: &[u8], created: i64) -> SignedHeaders {
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        node_protocol::signature::sign_request(&self.key, keyid, method, path, body, created, &URL_SAFE_NO_PAD.encode(nonce))
    }
}

impl std::fmt::Debug for TerminalKey {
    // Only the public half: a Debug print must never put the secret in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalKey").field("public_key", &self.public_key_base64()).finish()
    }
}

/// What the node told the terminal at enrollment; pinned: later answers from another node id
/// are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    /// Node base URL used at enrollment.
    pub node_url: String,
    /// The node's stable id.
    pub node_id: String,
    /// Our terminal id (the `keyid`).
    pub terminal_id: String,
    /// Province.
    pub province: String,
    /// age recipient personal data is sealed to.
    pub sealing_recipient: String,
    /// Seconds between heartbeats.
    pub heartbeat_interval_s: u64,
    /// When enrollment completed.
    pub enrolled_at: DateTime<Utc>,
    /// SHA-256 of the node's TLS certificate, pinned at enrollment: from then on the terminal
    /// talks only to a node presenting exactly that certificate. `None` for http:// nodes and
    /// for records written before pinning existed (which is why it defaults).
    #[serde(default)]
    pub node_certificate_sha256: Option<CertificateFingerprint>,
}

impl Enrollment {
    /// Reads `dir/enrollment.json`; `Ok(None)` when the terminal is not provisioned.
    pub fn load(dir: &Path) -> Result<Option<Enrollment>, IdentityError> {
        let path = dir.join(ENROLLMENT_FILE);
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(IdentityError::Io { path, source }),
        };
        serde_json::from_slice(&text).map(Some).map_err(|e| IdentityError::Corrupt {
            message: format!("not a valid enrollment record ({e}); re-enrol the terminal"),
            path,
        })
    }

    /// Writes `dir/enrollment.json` durably.
    pub fn store(&self, dir: &Path) -> Result<(), IdentityError> {
        let path = dir.join(ENROLLMENT_FILE);
        let mut text = serde_json::to_vec_pretty(self).map_err(|e| IdentityError::Io { path: path.clone(), source: e.into() })?;
        text.push(b'\n');
        crate::startup::durable::write_file_atomically(&path, &text, 0o640).map_err(|source| IdentityError::Io { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use node_protocol::digest::CONTENT_DIGEST;
    use node_protocol::signature::{ParsedRequestSignature, RequestParts};

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn generate_stores_a_private_key_that_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let key = TerminalKey::generate(dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE);
        assert_eq!(mode(&path), 0o600);
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(STANDARD.decode(text.trim()).unwrap().len(), SECRET_KEY_LENGTH);
        let loaded = TerminalKey::load(dir.path()).unwrap();
        assert_eq!(loaded.public_key_base64(), key.public_key_base64());
        assert_eq!(STANDARD.decode(key.public_key_base64()).unwrap().len(), 32);
    }

    #[test]
    fn two_terminals_get_different_keys() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        assert_ne!(
            TerminalKey::generate(a.path()).unwrap().public_key_base64(),
            TerminalKey::generate(b.path()).unwrap().public_key_base64()
        );
    }

    #[test]
    fn generate_refuses_to_replace_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let first = TerminalKey::generate(dir.path()).unwrap();
        let before = fs::read(dir.path().join(KEY_FILE)).unwrap();
        let err = TerminalKey::generate(dir.path()).unwrap_err();
        assert!(matches!(err, IdentityError::KeyExists { .. }), "{err:?}");
        assert!(err.to_string().contains("already provisioned"), "{err}");
        assert_eq!(fs::read(dir.path().join(KEY_FILE)).unwrap(), before);
        assert_eq!(TerminalKey::load(dir.path()).unwrap().public_key_base64(), first.public_key_base64());
    }

    #[test]
    fn load_without_a_key_says_not_provisioned() {
        let dir = tempfile::tempdir().unwrap();
        let err = TerminalKey::load(dir.path()).unwrap_err();
        assert!(matches!(err, IdentityError::NotProvisioned), "{err:?}");
        assert!(err.to_string().contains("terminal-service provision"), "{err}");
    }

    #[test]
    fn load_refuses_a_key_others_can_read() {
        let dir = tempfile::tempdir().unwrap();
        TerminalKey::generate(dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE);
        for bad in [0o640, 0o604, 0o644, 0o660] {
            fs::set_permissions(&path, fs::Permissions::from_mode(bad)).unwrap();
            let err = TerminalKey::load(dir.path()).unwrap_err();
            assert!(matches!(err, IdentityError::InsecurePermissions { mode, .. } if mode == bad), "{err:?}");
            assert!(err.to_string().contains(&format!("chmod 600 {}", path.display())), "{err}");
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        TerminalKey::load(dir.path()).unwrap();
    }

    #[test]
    fn load_reports_a_corrupt_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        for contents in ["not base64 at all!\n".to_string(), format!("{}\n", STANDARD.encode([7u8; 31]))] {
            crate::startup::durable::write_file_atomically(&path, contents.as_bytes(), 0o600).unwrap();
            let err = TerminalKey::load(dir.path()).unwrap_err();
            assert!(matches!(err, IdentityError::Corrupt { .. }), "{err:?}");
            assert!(err.to_string().contains(&path.display().to_string()), "{err}");
        }
    }

    #[test]
    fn signatures_verify_with_the_public_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = TerminalKey::generate(dir.path()).unwrap();
        let body = br#"{"envelopes":[]}"#;
        let headers = key.sign("T-0001", "POST", "/v1/submissions", body);
        let parsed = ParsedRequestSignature::parse(Some(&headers.signature_input), Some(&headers.signature)).unwrap();
        assert_eq!(parsed.keyid, "T-0001");
        assert!((parsed.created - Utc::now().timestamp()).abs() <= 2);
        assert_eq!(URL_SAFE_NO_PAD.decode(&parsed.nonce).unwrap().len(), NONCE_BYTES);

        let fields = [(CONTENT_DIGEST, headers.content_digest.as_str())];
        let request = RequestParts { method: "POST", authority: "node.example", path: "/v1/submissions", headers: &fields };
        let now = Utc::now().timestamp();
        parsed.verify(&key.verifying_key(), &request, body, now).unwrap();
        assert!(parsed.verify(&key.verifying_key(), &request, b"{\"envelopes\":[1]}", now).is_err(), "altered body");
        let other = RequestParts { path: "/v1/heartbeat", ..request };
        assert!(parsed.verify(&key.verifying_key(), &other, body, now).is_err(), "other path");
        let stranger = SigningKey::generate(&mut OsRng).verifying_key();
        assert!(parsed.verify(&stranger, &request, body, now).is_err(), "other key");
    }

    #[test]
    fn each_signature_has_a_fresh_nonce() {
        let dir = tempfile::tempdir().unwrap();
        let key = TerminalKey::generate(dir.path()).unwrap();
        let a = key.sign_at("T", "POST", "/v1/heartbeat", b"{}", 1_700_000_000);
        let b = key.sign_at("T", "POST", "/v1/heartbeat", b"{}", 1_700_000_000);
        assert_ne!(a.signature_input, b.signature_input);
        assert_ne!(a.signature, b.signature);
        assert!(a.signature_input.contains("created=1700000000"), "{}", a.signature_input);
    }

    #[test]
    fn debug_does_not_print_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let key = TerminalKey::generate(dir.path()).unwrap();
        let secret = fs::read_to_string(dir.path().join(KEY_FILE)).unwrap();
        let printed = format!("{key:?}");
        assert!(!printed.contains(secret.trim()), "{printed}");
        assert!(printed.contains(&key.public_key_base64()));
    }

    fn enrollment() -> Enrollment {
        Enrollment {
            node_url: "https://node.baghdad.example".into(),
            node_id: "node-bgd-1".into(),
            terminal_id: "T-0042".into(),
            province: "BGD".into(),
            sealing_recipient: "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p".into(),
            heartbeat_interval_s: 60,
            enrolled_at: DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z").unwrap().with_timezone(&Utc),
            node_certificate_sha256: Some(CertificateFingerprint::of(b"a certificate")),
        }
    }

    #[test]
    fn enrollment_round_trips_as_pretty_json() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Enrollment::load(dir.path()).unwrap(), None);
        let e = enrollment();
        e.store(dir.path()).unwrap();
        let text = fs::read_to_string(dir.path().join(ENROLLMENT_FILE)).unwrap();
        assert!(text.contains("\n  \"terminal_id\": \"T-0042\""), "{text}");
        assert_eq!(Enrollment::load(dir.path()).unwrap(), Some(e.clone()));

        let mut changed = e;
        changed.heartbeat_interval_s = 30;
        changed.store(dir.path()).unwrap();
        assert_eq!(Enrollment::load(dir.path()).unwrap(), Some(changed));
    }

    #[test]
    fn an_enrollment_written_before_pinning_loads_without_a_pin() {
        let dir = tempfile::tempdir().unwrap();
        let mut old = serde_json::to_value(enrollment()).unwrap();
        old.as_object_mut().unwrap().remove("node_certificate_sha256");
        fs::write(dir.path().join(ENROLLMENT_FILE), serde_json::to_vec(&old).unwrap()).unwrap();
        let loaded = Enrollment::load(dir.path()).unwrap().unwrap();
        assert_eq!(loaded.node_certificate_sha256, None);
        assert_eq!(loaded.terminal_id, "T-0042");
    }

    #[test]
    fn a_corrupt_pin_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut record = serde_json::to_value(enrollment()).unwrap();
        record["node_certificate_sha256"] = "not hex".into();
        fs::write(dir.path().join(ENROLLMENT_FILE), serde_json::to_vec(&record).unwrap()).unwrap();
        let err = Enrollment::load(dir.path()).unwrap_err();
        assert!(matches!(err, IdentityError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("64 hex digits"), "{err}");
    }

    #[test]
    fn a_corrupt_enrollment_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(ENROLLMENT_FILE), b"{\"node_url\": ").unwrap();
        let err = Enrollment::load(dir.path()).unwrap_err();
        assert!(matches!(err, IdentityError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains(ENROLLMENT_FILE), "{err}");
    }
}
