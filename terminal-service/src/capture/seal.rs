//! Sealing personal data to the node's age X25519 recipient before it touches the disk.
//!
//! The terminal may write personal data but must not be able to read it back: a stolen
//! terminal's disk then holds nothing readable. So each submission is encrypted to the node's
//! public key (learnt at enrollment) in memory, and only the ciphertext reaches the outbox.
//! The format is plain binary age (no ASCII armour: it travels base64-encoded in the JSON
//! envelope anyway, and armour would only add a third of its size) so that the node, or an
//! auditor with the node's identity file, opens it with the standard `age -d` tool.

use std::str::FromStr;

use thiserror::Error;

/// Errors while sealing.
#[derive(Debug, Error)]
pub enum SealError {
    /// The recipient string is not an age X25519 recipient.
    #[error("invalid sealing recipient '{0}': expected an age X25519 recipient (age1…)")]
    Recipient(String),
    /// Encryption failed.
    #[error("sealing failed: {0}")]
    Encrypt(String),
}

/// Seals plaintext so that only the node can open it.
pub struct Sealer {
    recipient: age::x25519::Recipient,
}

impl Sealer {
    /// A sealer for `recipient` (`age1…`).
    pub fn new(recipient: &str) -> Result<Sealer, SealError> {
        let recipient = age::x25519::Recipient::from_str(recipient.trim()).map_err(|_| SealError::Recipient(recipient.to_string()))?;
        Ok(Sealer { recipient })
    }

    /// The recipient, in its `age1…` form.
    pub fn recipient(&self) -> String {
        self.recipient.to_string()
    }

    /// The binary age format of `plaintext`, encrypted to the recipient.
    pub fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        age::encrypt(&self.recipient, plaintext).map_err(|e| SealError::Encrypt(e.to_string()))
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer").field("recipient", &self.recipient.to_string()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    const PLAINTEXT: &[u8] = "{\"national_id\":\"199012345678\",\"name\":\"زينب علي حسين\"}".as_bytes();

    #[test]
    fn sealed_data_opens_with_the_identity() {
        let identity = age::x25519::Identity::generate();
        let sealer = Sealer::new(&identity.to_public().to_string()).unwrap();
        let sealed = sealer.seal(PLAINTEXT).unwrap();
        assert!(sealed.starts_with(b"age-encryption.org/v1\n"), "binary age header");
        assert!(!sealed.windows(12).any(|w| w == b"199012345678"), "plaintext must not show");
        assert_eq!(age::decrypt(&identity, &sealed).unwrap(), PLAINTEXT);
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let identity = age::x25519::Identity::generate();
        let sealer = Sealer::new(&identity.to_public().to_string()).unwrap();
        assert_ne!(sealer.seal(PLAINTEXT).unwrap(), sealer.seal(PLAINTEXT).unwrap());
    }

    #[test]
    fn another_identity_cannot_open_it() {
        let node = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let sealed = Sealer::new(&node.to_public().to_string()).unwrap().seal(PLAINTEXT).unwrap();
        assert!(age::decrypt(&other, &sealed).is_err());
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let identity = age::x25519::Identity::generate();
        let sealed = Sealer::new(&identity.to_public().to_string()).unwrap().seal(b"").unwrap();
        assert_eq!(age::decrypt(&identity, &sealed).unwrap(), b"");
    }

    #[test]
    fn a_wrong_recipient_is_refused() {
        let identity = age::x25519::Identity::generate();
        let secret = identity.to_string().expose_secret().to_string();
        let public = identity.to_public().to_string();
        let truncated = &public[..public.len() - 3];
        for bad in ["", "age1", "not a key", truncated, secret.as_str(), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA"] {
            match Sealer::new(bad) {
                Err(SealError::Recipient(s)) => assert_eq!(s, bad),
                other => panic!("{bad}: expected a recipient error, got {other:?}"),
            }
        }
        let message = Sealer::new("age1nope").unwrap_err().to_string();
        assert!(message.contains("age1nope") && message.contains("X25519"), "{message}");
    }

    #[test]
    fn surrounding_whitespace_is_tolerated() {
        let identity = age::x25519::Identity::generate();
        let public = identity.to_public().to_string();
        let sealer = Sealer::new(&format!(" {public}\n")).unwrap();
        assert_eq!(sealer.recipient(), public);
    }

    /// Interoperability: what the terminal seals opens with the standard `age` tool.
    #[test]
    fn the_age_command_line_tool_opens_it() {
        let Ok(age_cli) = which_age() else {
            eprintln!("note: `age` command not found; skipping the command-line interoperability check");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let identity = age::x25519::Identity::generate();
        let identity_file = dir.path().join("node.key");
        std::fs::write(&identity_file, format!("{}\n", identity.to_string().expose_secret())).unwrap();
        let sealed_file = dir.path().join("submission.age");
        let sealed = Sealer::new(&identity.to_public().to_string()).unwrap().seal(PLAINTEXT).unwrap();
        std::fs::write(&sealed_file, sealed).unwrap();

        let output = std::process::Command::new(age_cli)
            .arg("-d")
            .arg("-i")
            .arg(&identity_file)
            .arg(&sealed_file)
            .output()
            .unwrap();
        assert!(output.status.success(), "age -d failed: {}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.stdout, PLAINTEXT);
    }

    fn which_age() -> Result<std::path::PathBuf, ()> {
        let path = std::env::var_os("PATH").ok_or(())?;
        std::env::split_paths(&path).map(|d| d.join("age")).find(|p| p.is_file()).ok_or(())
    }
}
