//! HTTPS for the node: its certificate, that certificate's fingerprint, and a TLS listener
//! that `axum::serve` can use.
//!
//! Terminals do not check the node against the web PKI: they pin the SHA-256 of the node's
//! certificate at enrollment (given by the operator, or trusted on first use). So a
//! self-signed certificate is the normal case, and `serve --tls` makes one on first use in the
//! data directory (`tls-cert.pem`, and `tls-key.pem` with mode 0600), valid for `127.0.0.1`,
//! `localhost` and the listen host. `provincial-node fingerprint` prints what the operator hands
//! to the technician with the enrollment code. Deleting both files makes a new certificate at
//! the next start — which every enrolled terminal will then refuse, as it should.

use std::fs;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// The certificate file inside the data directory.
pub const CERT_FILE: &str = "tls-cert.pem";
/// The private key file inside the data directory (mode 0600).
pub const KEY_FILE: &str = "tls-key.pem";

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the node's TLS identity could not be loaded, created or used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Reading or writing a file failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What we tried.
        action: &'static str,
        /// Which file.
        path: PathBuf,
        /// Why it failed.
        source: io::Error,
    },
    /// A file holds no usable certificate or key.
    #[error("{path}: {message}")]
    Invalid {
        /// Which file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// Only one of the two files exists (e.g. a crash while creating them).
    #[error("{present} exists but {missing} does not: restore the missing file, or delete {present} to make a new certificate (enrolled terminals will then refuse the node until re-provisioned)")]
    HalfPresent {
        /// The file that exists.
        present: PathBuf,
        /// The file that is missing.
        missing: PathBuf,
    },
    /// No certificate in the data directory yet.
    #[error("{path} does not exist: start the node once with `serve --tls` (it creates the certificate), or pass --tls-cert FILE")]
    NoCertificate {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// Generating the certificate failed.
    #[error("cannot generate a certificate: {0}")]
    Generate(String),
    /// rustls refused the certificate and key.
    #[error("cannot use the certificate and key: {0}")]
    Config(#[from] rustls::Error),
}

/// The node's certificate chain and private key.
pub struct NodeCertificate {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for NodeCertificate {
    // Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeCertificate").field("sha256", &self.fingerprint()).finish()
    }
}

impl NodeCertificate {
    /// Loads `dir/tls-cert.pem` and `dir/tls-key.pem`, or creates a self-signed pair valid for
    /// 127.0.0.1, localhost and `listen_host` when neither exists. Returns whether it created.
    pub fn load_or_generate(dir: &Path, listen_host: Option<&str>) -> Result<(NodeCertificate, bool), TlsError> {
        let (cert, key) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
        match (cert.exists(), key.exists()) {
            (true, true) => Ok((NodeCertificate::load(&cert, &key)?, false)),
            (true, false) => Err(TlsError::HalfPresent { present: cert, missing: key }),
            (false, true) => Err(TlsError::HalfPresent { present: key, missing: cert }),
            (false, false) => Ok((NodeCertificate::generate(dir, listen_host)?, true)),
        }
    }

    /// Loads a PEM certificate chain (end-entity first) and a PEM private key.
    pub fn load(cert: &Path, key: &Path) -> Result<NodeCertificate, TlsError> {
        let chain = read_chain(cert)?;
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_error(key, "a PEM private key (PKCS#8, PKCS#1 or SEC1)", e))?;
        Ok(NodeCertificate { chain, key: key_der })
    }

    fn generate(dir: &Path, listen_host: Option<&str>) -> Result<NodeCertificate, TlsError> {
        let mut names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        if let Some(host) = listen_host.filter(|h| !is_unspecified(h)) {
            if !names.iter().any(|n| n == host) {
                names.push(host.to_string());
            }
        }
        let certified = rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Generate(e.to_string()))?;
        // The key first: a crash before the certificate is written leaves a state that
        // `load_or_generate` names plainly, never a certificate without its key.
        let key_pem = certified.signing_key.serialize_pem();
        publish(dir, &dir.join(KEY_FILE), key_pem.as_bytes(), 0o600)?;
        publish(dir, &dir.join(CERT_FILE), certified.cert.pem().as_bytes(), 0o644)?;
        let key = PrivateKeyDer::try_from(certified.signing_key.serialize_der()).map_err(|e| TlsError::Generate(e.to_string()))?;
        Ok(NodeCertificate { chain: vec![certified.cert.der().clone()], key })
    }

    /// SHA-256 of the end-entity certificate's DER, as 64 lowercase hex digits: what terminals pin.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.chain[0])
    }

    /// The rustls server configuration (ring, TLS 1.2 and 1.3, http/1.1).
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The fingerprint of the first certificate in the PEM file `cert`.
pub fn fingerprint_of_file(cert: &Path) -> Result<String, TlsError> {
    if !cert.exists() {
        return Err(TlsError::NoCertificate { path: cert.to_path_buf() });
    }
    Ok(fingerprint_of(&read_chain(cert)?[0]))
}

/// SHA-256 of a DER certificate, lowercase hex.
pub fn fingerprint_of(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02x}")).collect()
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(path, "PEM certificates", e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, "PEM certificates", e))?;
    if chain.is_empty() {
        return Err(TlsError::Invalid { path: path.to_path_buf(), message: "holds no CERTIFICATE block; give the node's certificate in PEM".into() });
    }
    Ok(chain)
}

fn pem_error(path: &Path, expected: &str, e: rustls::pki_types::pem::Error) -> TlsError {
    match e {
        rustls::pki_types::pem::Error::Io(source) => TlsError::Io { action: "read", path: path.to_path_buf(), source },
        other => TlsError::Invalid { path: path.to_path_buf(), message: format!("expected {expected} ({other:?})") },
    }
}

fn is_unspecified(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_unspecified())
}

/// Writes `bytes` under a temporary name with `mode`, syncs, then renames into `path`.
fn publish(dir: &Path, path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
    let io_error = |action, source| TlsError::Io { action, path: path.to_path_buf(), source };
    let temporary = dir.join(format!(".{}.{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("tls"), std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut file = options.open(&temporary).map_err(|e| io_error("write", e))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| io_error("write", e))?;
    drop(file);
    fs::rename(&temporary, path).map_err(|e| io_error("publish", e))?;
    Ok(())
}

/// A TCP listener that hands `axum::serve` connections with the TLS handshake done.
///
/// Handshakes run in their own tasks (bounded by a timeout), so a slow or silent client cannot
/// hold up the others; failed handshakes are logged at debug level and dropped.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    /// Starts accepting on `listener` with `config`.
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let tls = TlsAcceptor::from(config);
        let acceptor = tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (tls, tx) = (tls.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let _ = tx.send((stream, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { ready, local, acceptor })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The acceptor task only ends when aborted by our own Drop; never hand out nothing.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_made_once_and_loaded_afterwards() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = NodeCertificate::load_or_generate(dir.path(), Some("10.1.2.3")).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let (again, created) = NodeCertificate::load_or_generate(dir.path(), Some("10.1.2.3")).unwrap();
        assert!(!created);
        assert_eq!(again.fingerprint(), first.fingerprint());
        assert_eq!(fingerprint_of_file(&dir.path().join(CERT_FILE)).unwrap(), first.fingerprint());
        assert_eq!(first.fingerprint().len(), 64);
        again.server_config().unwrap();
        assert!(!format!("{again:?}").contains("PRIVATE"));
    }

    #[test]
    fn half_a_pair_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        NodeCertificate::load_or_generate(dir.path(), None).unwrap();
        fs::remove_file(dir.path().join(CERT_FILE)).unwrap();
        let err = NodeCertificate::load_or_generate(dir.path(), None).unwrap_err();
        assert!(matches!(err, TlsError::HalfPresent { .. }), "{err:?}");
        assert!(err.to_string().contains(CERT_FILE), "{err}");
    }

    #[test]
    fn fingerprint_without_a_certificate_says_how_to_make_one() {
        let dir = tempfile::tempdir().unwrap();
        let err = fingerprint_of_file(&dir.path().join(CERT_FILE)).unwrap_err();
        assert!(err.to_string().contains("serve --tls"), "{err}");
        fs::write(dir.path().join(CERT_FILE), "not pem").unwrap();
        assert!(matches!(fingerprint_of_file(&dir.path().join(CERT_FILE)).unwrap_err(), TlsError::Invalid { .. }));
    }
}
