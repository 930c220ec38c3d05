//! The keyed hash behind the "already submitted from this terminal" warning.
//!
//! The outbox must not hold national ids in clear, yet the kiosk should warn when the same
//! person applies twice at the same terminal. So the outbox stores HMAC-SHA256 of the national
//! id under a random secret that never leaves the terminal (`applicant-key.secret`, mode 0600):
//! equal ids give equal keys, and without the secret the keys reveal nothing, not even to
//! someone who tries all 10^12 possible ids.

use std::path::Path;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::startup::durable::write_file_atomically;

/// File name of the secret in the storage directory.
pub const SECRET_FILE: &str = "applicant-key.secret";

/// Computes applicant keys with this terminal's secret.
#[derive(Clone)]
pub struct ApplicantKeyer {
    secret: [u8; 32],
}

impl std::fmt::Debug for ApplicantKeyer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApplicantKeyer(..)")
    }
}

impl ApplicantKeyer {
    /// Loads the secret from `dir`, creating it on first use.
    pub fn load_or_create(dir: &Path) -> std::io::Result<ApplicantKeyer> {
        let path = dir.join(SECRET_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let secret: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{}: expected 32 bytes; delete it to start a new one (only the duplicate warning for earlier submissions is lost)", path.display()),
                    )
                })?;
                Ok(ApplicantKeyer { secret })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut secret);
                write_file_atomically(&path, &secret, 0o600)?;
                Ok(ApplicantKeyer { secret })
            }
            Err(e) => Err(e),
        }
    }

    /// The key for one national id, lower-case hex.
    pub fn key_for(&self, national_id: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC accepts any key length");
        mac.update(national_id.trim().as_bytes());
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_per_secret_and_differ_across_terminals() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let ka = ApplicantKeyer::load_or_create(a.path()).unwrap();
        let ka2 = ApplicantKeyer::load_or_create(a.path()).unwrap();
        let kb = ApplicantKeyer::load_or_create(b.path()).unwrap();
        assert_eq!(ka.key_for("199012345678"), ka2.key_for("199012345678"));
        assert_ne!(ka.key_for("199012345678"), kb.key_for("199012345678"));
        assert_ne!(ka.key_for("199012345678"), ka.key_for("199012345679"));
        assert!(!ka.key_for("199012345678").contains("199012345678"));
    }
}
