//! The node's side of referral slips (issue 14, referrals out): the node's slip key, and the
//! terminal certificates it endorses with it.
//!
//! A terminal prints slips offline, signed with its own key; what makes them verifiable by a
//! receiving service holding only this node's public key is the node's endorsement of that key
//! ([`node_protocol::slip`]). The node renews each terminal's certificate in every heartbeat
//! answer: valid from today through [`CERTIFICATE_DAYS`] days later, the same bytes all day
//! (Ed25519 is deterministic), so a terminal stops issuing slips a verifier accepts at most that
//! long after it stops reaching its node (stolen, decommissioned). The key is
//! [`SLIP_KEY_FILE`] in the data directory, mode 0600; partners get its public half from
//! `provincial-node slips node-key`.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::NaiveDate;
use ed25519_dalek::{SigningKey, VerifyingKey};
use node_protocol::slip::{EndorsedCertificate, TerminalCertificate, TrustedNode};
use rand::RngCore;

/// The node's slip key (base64 seed), in the data directory.
pub const SLIP_KEY_FILE: &str = "slip-key.txt";

/// Days a terminal certificate is valid after the day it is issued.
pub const CERTIFICATE_DAYS: u64 = 30;

/// The slip key file cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[error("slip key {path}: {detail} (a damaged key file must be restored from backup: partners verify slips with its public key)")]
pub struct SlipKeyError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub detail: String,
}

/// Loads the node's slip key from `dir`, creating it on first use.
pub fn load_or_create_key(dir: &Path) -> Result<SigningKey, SlipKeyError> {
    let path = dir.join(SLIP_KEY_FILE);
    let error = |detail: String| SlipKeyError { path: path.clone(), detail };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes: [u8; 32] = STANDARD
                .decode(text.trim())
                .map_err(|e| error(format!("not base64 ({e})")))?
                .try_into()
                .map_err(|_| error("not 32 bytes".into()))?;
            Ok(SigningKey::from_bytes(&bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut seed = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut seed);
            let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(|e| error(e.to_string()))?;
            file.write_all(format!("{}\n", STANDARD.encode(seed)).as_bytes()).and_then(|()| file.sync_all()).map_err(|e| error(e.to_string()))?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) => Err(error(e.to_string())),
    }
}

/// `PROVINCE=KEY`, what partners give `slip-verify --node-key`.
pub fn node_key_line(province_code: &str, key: &SigningKey) -> String {
    TrustedNode { province: province_code.into(), key: key.verifying_key() }.line()
}

/// The certificate of terminal `terminal_id` holding `public_key` (its 32 bytes, as stored at
/// enrollment), valid from `today` for [`CERTIFICATE_DAYS`]; `None` when the stored key or id
/// cannot go into a certificate (logged: that terminal prints no verifiable slips).
pub fn certificate(key: &SigningKey, province_code: &str, terminal_id: &str, public_key: &[u8], today: NaiveDate) -> Option<EndorsedCertificate> {
    let terminal_key = <[u8; 32]>::try_from(public_key).ok().and_then(|b| VerifyingKey::from_bytes(&b).ok());
    let Some(terminal_key) = terminal_key else {
        tracing::error!(terminal_id, "the terminal's stored public key is not an Ed25519 key: no slip certificate");
        return None;
    };
    let certificate = TerminalCertificate {
        province: province_code.into(),
        terminal_id: terminal_id.to_ascii_uppercase(),
        terminal_key,
        valid_from: today,
        valid_until: today.checked_add_days(chrono::Days::new(CERTIFICATE_DAYS))?,
    };
    match certificate.endorse(key) {
        Ok(endorsed) => Some(endorsed),
        Err(e) => {
            tracing::error!(terminal_id, error = %e, "no slip certificate for this terminal");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_created_once_private_and_certificates_verify_with_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = load_or_create_key(dir.path()).unwrap();
        assert_eq!(load_or_create_key(dir.path()).unwrap().to_bytes(), key.to_bytes());
        let mode = std::fs::metadata(dir.path().join(SLIP_KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let terminal = SigningKey::from_bytes(&[5u8; 32]);
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let endorsed = certificate(&key, "BGD", "T-0a1b2c3d", terminal.verifying_key().as_bytes(), today).unwrap();
        assert_eq!(endorsed.certificate.terminal_id, "T-0A1B2C3D");
        assert_eq!(endorsed.certificate.valid_until, NaiveDate::from_ymd_opt(2027, 1, 2).unwrap());
        let trusted: TrustedNode = node_key_line("BGD", &key).parse().unwrap();
        endorsed.verify(&trusted.key).unwrap();
        assert!(certificate(&key, "BGD", "T-1", b"not a key", today).is_none());
        std::fs::write(dir.path().join(SLIP_KEY_FILE), "garbage").unwrap();
        assert!(load_or_create_key(dir.path()).unwrap_err().to_string().contains(SLIP_KEY_FILE));
    }
}
