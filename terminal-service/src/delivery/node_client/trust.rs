//! Which TLS certificate the terminal accepts from its node: the one pinned at enrollment.
//!
//! Provincial nodes run on ministry premises, usually behind an IP address and with a
//! self-signed certificate, so the web PKI has nothing to say about them. What the terminal
//! trusts instead is the SHA-256 fingerprint of the node's end-entity certificate (its DER
//! bytes), learnt once when the technician enrolls the terminal:
//!
//! - given by the operator (`provision --node-fingerprint HEX`, printed on the node by
//!   `provincial-node fingerprint`): [`NodeTrust::Pinned`] from the first byte;
//! - or trust on first use: [`NodeTrust::FirstUse`] accepts the certificate the node presents
//!   during enrollment and records it (the technician is shown it to compare).
//!
//! From then on every request uses [`NodeTrust::Pinned`]: exactly that certificate and nothing
//! else, not even one a public CA would vouch for — the pin *is* the trust. The host name is not
//! checked, on purpose: the pin already names one certificate, and nodes are often reached by IP.
//! Expiry is not checked either: a node that replaces its certificate is a node the terminals
//! must be re-enrolled with, whatever the dates say. The handshake signatures are still checked
//! against the certificate's key, so a peer that merely replays the certificate is refused.
//!
//! A refusal surfaces as a [`CertificateMismatch`] inside the rustls error; [`find_mismatch`]
//! digs it out of whatever error chain the HTTP client wraps it in.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, OtherError, SignatureScheme};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// SHA-256 of a certificate's DER encoding; shown as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertificateFingerprint([u8; 32]);

/// A fingerprint that could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("'{given}' is not a SHA-256 certificate fingerprint: expected 64 hex digits (colons and spaces allowed), as `provincial-node fingerprint` prints it")]
pub struct BadFingerprint {
    /// The text as given.
    pub given: String,
}

impl CertificateFingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of(der: &[u8]) -> CertificateFingerprint {
        CertificateFingerprint(Sha256::digest(der).into())
    }

    /// Reads 64 hex digits, in either case, ignoring `:` and whitespace (so `openssl x509
    /// -fingerprint -sha256` output pastes as is).
    pub fn parse(text: &str) -> Result<CertificateFingerprint, BadFingerprint> {
        let bad = || BadFingerprint { given: text.to_string() };
        let digits: Vec<u8> = text.bytes().filter(|b| *b != b':' && !b.is_ascii_whitespace()).collect();
        if digits.len() != 64 {
            return Err(bad());
        }
        let mut bytes = [0u8; 32];
        for (i, pair) in digits.chunks(2).enumerate() {
            let hex = std::str::from_utf8(pair).map_err(|_| bad())?;
            bytes[i] = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
        }
        Ok(CertificateFingerprint(bytes))
    }
}

impl fmt::Display for CertificateFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for CertificateFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertificateFingerprint({self})")
    }
}

impl FromStr for CertificateFingerprint {
    type Err = BadFingerprint;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CertificateFingerprint::parse(s)
    }
}

impl Serialize for CertificateFingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CertificateFingerprint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CertificateFingerprint::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The node presented a certificate other than the one expected.
#[derive(Debug, Clone, Error)]
#[error("the node presented a certificate with SHA-256 {presented}, not the expected {expected}")]
pub struct CertificateMismatch {
    /// The pinned (or, during enrollment, the first seen) fingerprint.
    pub expected: CertificateFingerprint,
    /// What the node presented.
    pub presented: CertificateFingerprint,
}

/// What the terminal accepts from the node's TLS endpoint.
#[derive(Debug, Clone)]
pub enum NodeTrust {
    /// Exactly the certificate with this fingerprint.
    Pinned(CertificateFingerprint),
    /// Enrollment without a fingerprint: accept the first certificate and record it.
    FirstUse(Arc<FirstUse>),
}

/// The certificate seen during a trust-on-first-use enrollment.
#[derive(Debug, Default)]
pub struct FirstUse {
    seen: Mutex<Option<CertificateFingerprint>>,
}

impl FirstUse {
    /// A fresh recorder, nothing seen yet.
    pub fn new() -> Arc<FirstUse> {
        Arc::new(FirstUse::default())
    }

    /// The certificate the node presented, once a handshake got that far.
    pub fn presented(&self) -> Option<CertificateFingerprint> {
        *self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records `presented` if nothing was seen yet; afterwards only the same one passes, so a
    /// node cannot switch certificates between the connections of one enrollment.
    fn accept(&self, presented: CertificateFingerprint) -> Result<(), CertificateMismatch> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match *seen {
            None => {
                *seen = Some(presented);
                Ok(())
            }
            Some(expected) if expected == presented => Ok(()),
            Some(expected) => Err(CertificateMismatch { expected, presented }),
        }
    }
}

/// The rustls client configuration that enforces `trust` (ring provider, TLS 1.2 and 1.3).
pub fn client_config(trust: &NodeTrust) -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(TrustVerifier { trust: trust.clone(), algorithms: provider.signature_verification_algorithms });
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        // Not dangerous here: the verifier is stricter than the web PKI one (see the module doc).
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The [`ServerCertVerifier`] behind [`client_config`].
#[derive(Debug)]
struct TrustVerifier {
    trust: NodeTrust,
    algorithms: WebPkiSupportedAlgorithms,
}

impl TrustVerifier {
    fn check(&self, end_entity: &CertificateDer<'_>) -> Result<(), CertificateMismatch> {
        let presented = CertificateFingerprint::of(end_entity.as_ref());
        match &self.trust {
            NodeTrust::Pinned(expected) if *expected == presented => Ok(()),
            NodeTrust::Pinned(expected) => Err(CertificateMismatch { expected: *expected, presented }),
            NodeTrust::FirstUse(first_use) => first_use.accept(presented),
        }
    }
}

impl ServerCertVerifier for TrustVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check(end_entity)
            .map(|()| ServerCertVerified::assertion())
            .map_err(|m| rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(m)))))
    }

    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The [`CertificateMismatch`] somewhere in `error`'s source chain, if that is why it failed.
pub fn find_mismatch(error: &(dyn std::error::Error + 'static)) -> Option<CertificateMismatch> {
    find_in_chain(error, &mut mismatch_in)
}

/// The first `Some` that `look` returns for a link of `error`'s chain.
///
/// rustls errors reach us inside `std::io::Error`s (nested, even: the HTTP connector wraps the
/// TLS stream's own), and `io::Error::source()` skips the error it wraps, so each `io::Error`
/// is also opened with `get_ref`.
pub fn find_in_chain<T>(error: &(dyn std::error::Error + 'static), look: &mut dyn FnMut(&(dyn std::error::Error + 'static)) -> Option<T>) -> Option<T> {
    let mut link = Some(error);
    while let Some(e) = link {
        if let Some(found) = look(e) {
            return Some(found);
        }
        if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if let Some(found) = find_in_chain(inner, look) {
                return Some(found);
            }
        }
        link = e.source();
    }
    None
}

fn mismatch_in(e: &(dyn std::error::Error + 'static)) -> Option<CertificateMismatch> {
    if let Some(m) = e.downcast_ref::<CertificateMismatch>() {
        return Some(m.clone());
    }
    match e.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) => inner.downcast_ref::<CertificateMismatch>().cloned(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(name: &str) -> CertificateDer<'static> {
        let certified = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
        certified.cert.der().clone()
    }

    fn verify(trust: NodeTrust, cert: &CertificateDer<'_>) -> Result<ServerCertVerified, rustls::Error> {
        let algorithms = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        let verifier = TrustVerifier { trust, algorithms };
        let name = ServerName::try_from("node.example").unwrap();
        verifier.verify_server_cert(cert, &[], &name, &[], UnixTime::now())
    }

    #[test]
    fn the_pinned_certificate_is_accepted() {
        let cert = self_signed("node.example");
        verify(NodeTrust::Pinned(CertificateFingerprint::of(&cert)), &cert).unwrap();
    }

    #[test]
    fn another_certificate_for_the_same_name_is_refused() {
        let pinned = self_signed("node.example");
        let impostor = self_signed("node.example");
        let err = verify(NodeTrust::Pinned(CertificateFingerprint::of(&pinned)), &impostor).unwrap_err();
        let m = find_mismatch(&err).expect("the refusal carries the mismatch");
        assert_eq!(m.expected, CertificateFingerprint::of(&pinned));
        assert_eq!(m.presented, CertificateFingerprint::of(&impostor));
        // Wrapped the way the HTTP client hands it over (an io::Error in an io::Error), it is
        // still found.
        let wrapped = std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, err));
        assert_eq!(find_mismatch(&wrapped).unwrap().presented, CertificateFingerprint::of(&impostor));
    }

    #[test]
    fn first_use_records_the_first_certificate_and_holds_to_it() {
        let first = self_signed("node.example");
        let second = self_signed("node.example");
        let recorder = FirstUse::new();
        assert_eq!(recorder.presented(), None);
        verify(NodeTrust::FirstUse(Arc::clone(&recorder)), &first).unwrap();
        assert_eq!(recorder.presented(), Some(CertificateFingerprint::of(&first)));
        verify(NodeTrust::FirstUse(Arc::clone(&recorder)), &first).unwrap();
        let err = verify(NodeTrust::FirstUse(Arc::clone(&recorder)), &second).unwrap_err();
        assert_eq!(find_mismatch(&err).unwrap().expected, CertificateFingerprint::of(&first));
    }

    #[test]
    fn fingerprints_parse_from_what_operators_paste() {
        let cert = self_signed("node.example");
        let fp = CertificateFingerprint::of(&cert);
        let hex = fp.to_string();
        assert_eq!(hex.len(), 64);
        assert_eq!(CertificateFingerprint::parse(&hex).unwrap(), fp);
        let colons: Vec<String> = hex.as_bytes().chunks(2).map(|p| String::from_utf8_lossy(p).to_uppercase()).collect();
        assert_eq!(CertificateFingerprint::parse(&format!(" {} \n", colons.join(":"))).unwrap(), fp);
        for bad in ["", "abc", &hex[..62], &format!("{}zz", &hex[..62]), &format!("{hex}00")] {
            let err = CertificateFingerprint::parse(bad).unwrap_err();
            assert!(err.to_string().contains("64 hex digits"), "{err}");
        }
        let json = serde_json::to_string(&fp).unwrap();
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(serde_json::from_str::<CertificateFingerprint>(&json).unwrap(), fp);
        assert!(serde_json::from_str::<CertificateFingerprint>("\"nope\"").is_err());
    }
}
