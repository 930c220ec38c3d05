//! The node's sealing identity: the age X25519 key that opens what terminals seal.
//!
//! It lives in `DIR/sealing-identity.txt`, written exactly as `age-keygen` writes one, so an
//! operator can open a sealed blob by hand with `age -d -i DIR/sealing-identity.txt`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use age::x25519;

/// File name of the identity inside the data directory.
pub const IDENTITY_FILE: &str = "sealing-identity.txt";

/// Why the identity could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Reading or writing the file failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What we tried.
        action: &'static str,
        /// Which file.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The file holds no usable key.
    #[error("{path} holds no valid AGE-SECRET-KEY-1 line: restore it from backup or move it away to create a new node")]
    Invalid {
        /// Which file.
        path: PathBuf,
    },
}

/// The node's age identity.
pub struct SealingIdentity {
    identity: x25519::Identity,
}

impl SealingIdentity {
    /// Loads `dir/sealing-identity.txt`, or creates it (mode 0600) if it does not exist.
    pub fn load_or_create(dir: &Path) -> Result<Self, IdentityError> {
        let path = dir.join(IDENTITY_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text).ok_or(IdentityError::Invalid { path }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let identity = x25519::Identity::generate();
                let text = format!(
                    "# created: {}\n# public key: {}\n{}\n",
                    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    identity.to_public(),
                    identity.to_string().expose_secret()
                );
                if publish_private(dir, &path, text.as_bytes())
                    .map_err(|source| IdentityError::Io { action: "write", path: path.clone(), source })?
                {
                    Ok(SealingIdentity { identity })
                } else {
                    // Another process created it first: theirs is the node's key.
                    let text = fs::read_to_string(&path)
                        .map_err(|source| IdentityError::Io { action: "read", path: path.clone(), source })?;
                    Self::parse(&text).ok_or(IdentityError::Invalid { path })
                }
            }
            Err(source) => Err(IdentityError::Io { action: "read", path, source }),
        }
    }

    /// Parses an identity file's text (comments and blank lines ignored).
    pub fn parse(text: &str) -> Option<Self> {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
            .and_then(|l| x25519::Identity::from_str(l).ok())
            .map(|identity| SealingIdentity { identity })
    }

    /// The recipient (`age1…`) terminals seal to.
    pub fn recipient(&self) -> String {
        self.identity.to_public().to_string()
    }

    /// Opens an age-encrypted blob sealed to this identity.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, String> {
        age::decrypt(&self.identity, sealed).map_err(|e| e.to_string())
    }
}

/// Writes `bytes` to `path` with mode 0600 (the key must never be readable by others), all at
/// once: the file is written and synced under a temporary name, then linked into place, which
/// fails if `path` exists. Returns false if another process published its file first, so two
/// first starts on one directory cannot end up with two keys.
fn publish_private(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    let temporary = dir.join(format!(".{IDENTITY_FILE}.{}", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    let linked = fs::hard_link(&temporary, path);
    let _ = fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_identity_reloads_and_opens_what_is_sealed_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = SealingIdentity::load_or_create(dir.path()).unwrap();
        let again = SealingIdentity::load_or_create(dir.path()).unwrap();
        assert_eq!(first.recipient(), again.recipient());
        let recipient = x25519::Recipient::from_str(&first.recipient()).unwrap();
        let sealed = age::encrypt(&recipient, b"hello").unwrap();
        assert_eq!(again.open(&sealed).unwrap(), b"hello");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(IDENTITY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = fs::read_to_string(dir.path().join(IDENTITY_FILE)).unwrap();
        assert!(text.starts_with("# created: "));
        assert!(text.contains(&format!("# public key: {}\n", first.recipient())));
    }
}
