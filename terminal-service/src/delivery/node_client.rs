//! The client side of the node API: every call signed, every failure classified.
//!
//! Each request is signed with the terminal's Ed25519 key (RFC 9421, over method, path and
//! `content-digest`). What matters to the callers is not the exact failure but what to do about
//! it, so failures come in two kinds:
//!
//! - **transient** (`NodeError::is_transient`): the node was not reached or could not answer
//!   now — connection refused, timeout, 5xx, 408, 429. Try again later, no sooner than the
//!   node's `Retry-After` if it gave one. Because submissions are idempotent by id, retrying a
//!   batch whose answer was lost is always safe. A connect this machine's own network policy
//!   forbids (systemd `IPAddressAllow=`, see [`blocked_by_network_policy`]) is transient too —
//!   nothing is dropped, and it works once the node is allowed — but its message says how to
//!   allow the node instead of "cannot connect".
//! - **permanent**: the node answered and refused (4xx with an error body). Retrying the same
//!   request will not help; a person has to look.
//! - **certificate changed** (`NodeError::CertificateChanged`): over https the node presented a
//!   certificate other than the one pinned at enrollment ([`trust`]). Nothing is sent; the
//!   outbox keeps everything until a technician re-provisions (or the real node is back).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use node_protocol::{
    BatchResponse, EnrollRequest, EnrollResponse, ErrorBody, Heartbeat, HeartbeatResponse, NodeConfig, PrecheckRequest, PrecheckResponse,
    StatusRequest, StatusResponse, SubmissionBatch,
};
use chrono::Utc;
use reqwest::header::{HeaderMap, CONTENT_TYPE, DATE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::delivery::node_clock::NodeClock;
use crate::startup::identity::{Enrollment, TerminalKey};

pub mod trust;

use trust::{CertificateFingerprint, NodeTrust};

/// A failed call to the node.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The node URL cannot be used.
    #[error("invalid node URL '{url}': {reason} (expected e.g. https://node.example or http://127.0.0.1:8700)")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Not reached or not able to answer now; try again later.
    #[error("node unreachable: {message}")]
    Transient {
        /// What happened (connection refused, timeout, HTTP 503…).
        message: String,
        /// The node's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// The node answered and refused; retrying will not help.
    #[error("node refused the request (HTTP {status}, {}): {}", body.error, body.message)]
    Refused {
        /// HTTP status.
        status: u16,
        /// The node's error body (or one made up from the status when it sent none).
        body: ErrorBody,
    },
    /// The node answered 2xx with a body that is not what the contract says.
    #[error("node sent an unexpected answer: {0}")]
    BadAnswer(String),
    /// Over https, the node presented a certificate other than the pinned one: it may be an
    /// impostor, or a node rebuilt with a new certificate. Nothing was sent.
    #[error("node certificate changed: expected SHA-256 {expected}, got {got}; re-provision with --force if the node was legitimately replaced")]
    CertificateChanged {
        /// The fingerprint pinned at enrollment.
        expected: CertificateFingerprint,
        /// What the node presented.
        got: CertificateFingerprint,
    },
}

impl NodeError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        // A garbled 2xx answer is treated as transient: it is most likely a proxy or a
        // truncated response, and resending is harmless because the node is idempotent by id.
        matches!(self, NodeError::Transient { .. } | NodeError::BadAnswer(_))
    }

    /// The node's `Retry-After`, for transient failures that carried one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            NodeError::Transient { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP date (RFC 9110 §10.2.3), relative to
/// `now`. A date in the past means "now" (zero); anything unparseable is ignored (`None`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Clamp absurd values to a day; a node asking for more is misconfigured.
        return Some(Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX).min(86_400)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether an HTTP status means "try again later".
pub fn is_transient_status(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::TOO_MANY_REQUESTS
}

/// A signed connection to one node, as one terminal (or as `enroll` during enrollment).
#[derive(Clone)]
pub struct NodeClient {
    http: reqwest::Client,
    base: String,
    key: Arc<TerminalKey>,
    keyid: String,
    clock: NodeClock,
}

impl std::fmt::Debug for NodeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeClient").field("base", &self.base).field("keyid", &self.keyid).finish()
    }
}

/// The HTTP client for nodes without a pin (http:// URLs, and https enrollments recorded
/// before pinning, which keep the web PKI), with the request timeout from `[sync]`.
pub fn http_client(request_timeout: Duration) -> Result<reqwest::Client, NodeError> {
    builder(request_timeout).build().map_err(|e| NodeError::BadAnswer(format!("cannot build the HTTP client: {e}")))
}

/// The HTTP client for an https node trusted as `trust` says (see [`trust`]).
pub fn pinned_http_client(request_timeout: Duration, trust: &NodeTrust) -> Result<reqwest::Client, NodeError> {
    let tls = trust::client_config(trust).map_err(|e| NodeError::BadAnswer(format!("cannot configure TLS: {e}")))?;
    builder(request_timeout)
        .use_preconfigured_tls(tls)
        // A pinned client must never fall back to plain http, even if redirected there.
        .https_only(true)
        .build()
        .map_err(|e| NodeError::BadAnswer(format!("cannot build the HTTP client: {e}")))
}

fn builder(request_timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(request_timeout)
        .connect_timeout(request_timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("terminal-service/", env!("CARGO_PKG_VERSION")))
}

/// Checks a node base URL: absolute http(s), no query or fragment.
pub fn check_node_url(url: &str) -> Result<String, NodeError> {
    let bad = |reason: &str| NodeError::BadUrl { url: url.into(), reason: reason.into() };
    let parsed = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(bad("the scheme must be http or https"));
    }
    if parsed.host_str().is_none() {
        return Err(bad("it has no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

impl NodeClient {
    /// A client for the node at `base_url`, signing with `key` under `keyid` (the terminal id,
    /// or `node_protocol::signature::ENROLL_KEY_ID` to enroll).
    pub fn new(http: reqwest::Client, base_url: &str, key: Arc<TerminalKey>, keyid: &str) -> Result<NodeClient, NodeError> {
        Ok(NodeClient { http, base: check_node_url(base_url)?, key, keyid: keyid.into(), clock: NodeClock::default() })
    }

    /// The client a provisioned terminal uses: to the enrolled node, as the enrolled terminal,
    /// accepting only the certificate pinned at enrollment when there is one (else `http`).
    pub fn for_enrollment(http: &reqwest::Client, enrollment: &Enrollment, key: Arc<TerminalKey>, request_timeout: Duration) -> Result<NodeClient, NodeError> {
        let http = match enrollment.node_certificate_sha256 {
            Some(pin) => pinned_http_client(request_timeout, &NodeTrust::Pinned(pin))?,
            None => http.clone(),
        };
        NodeClient::new(http, &enrollment.node_url, key, &enrollment.terminal_id)
    }

    /// This client signing with `clock` (the terminal's, [`crate::capture::storage::Storage::clock`])
    /// instead of its own: what the node teaches it is then the terminal's time too.
    pub fn with_clock(mut self, clock: NodeClock) -> NodeClient {
        self.clock = clock;
        self
    }

    /// The node's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The clock this client signs with (the local clock plus what the node's `Date` taught).
    pub fn clock(&self) -> &NodeClock {
        &self.clock
    }

    /// `POST /v1/terminals/enroll`.
    pub async fn enroll(&self, request: &EnrollRequest) -> Result<EnrollResponse, NodeError> {
        self.call(Method::POST, "/v1/terminals/enroll", Some(request)).await
    }

    /// `POST /v1/submissions`.
    pub async fn submit(&self, batch: &SubmissionBatch) -> Result<BatchResponse, NodeError> {
        self.call(Method::POST, "/v1/submissions", Some(batch)).await
    }

    /// `POST /v1/status`.
    pub async fn status(&self, request: &StatusRequest) -> Result<StatusResponse, NodeError> {
        self.call(Method::POST, "/v1/status", Some(request)).await
    }

    /// `POST /v1/precheck`.
    pub async fn precheck(&self, request: &PrecheckRequest) -> Result<PrecheckResponse, NodeError> {
        self.call(Method::POST, "/v1/precheck", Some(request)).await
    }

    /// `POST /v1/heartbeat`.
    pub async fn heartbeat(&self, heartbeat: &Heartbeat) -> Result<HeartbeatResponse, NodeError> {
        self.call(Method::POST, "/v1/heartbeat", Some(heartbeat)).await
    }

    /// `GET /v1/referrals/{code}`: the referral recorded under a short code, given in its
    /// canonical spelling (`WFP-79E-7X4-DM0`: letters, digits and `-`, safe in a path).
    pub async fn lookup_referral(&self, code: &str) -> Result<node_protocol::ReferralLookup, NodeError> {
        self.call::<(), _>(Method::GET, &format!("/v1/referrals/{code}"), None).await
    }

    /// `GET /v1/config`.
    pub async fn config(&self) -> Result<NodeConfig, NodeError> {
        self.call::<(), _>(Method::GET, "/v1/config", None).await
    }

    /// `GET /v1/service-directory`.
    pub async fn service_directory(&self) -> Result<node_protocol::service_directory::ServiceDirectory, NodeError> {
        self.call::<(), _>(Method::GET, "/v1/service-directory", None).await
    }

    async fn call<B: serde::Serialize, R: DeserializeOwned>(&self, method: Method, path: &str, body: Option<&B>) -> Result<R, NodeError> {
        let url = format!("{}{}", self.base, path);
        // The signed path is the URL's path, which includes any prefix the base URL has.
        let signed_path = url::Url::parse(&url)
            .map_err(|e| NodeError::BadUrl { url: url.clone(), reason: e.to_string() })?
            .path()
            .to_string();
        let bytes = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| NodeError::BadAnswer(format!("cannot encode request: {e}")))?,
            None => Vec::new(),
        };
        let created = self.clock.created(Utc::now().timestamp());
        let text = match self.send_signed(&method, &url, &signed_path, body.is_some(), &bytes, created).await {
            Ok(text) => text,
            // A refusal whose `Date` shows the terminal's clock is off (no real-time clock, no
            // network time): sign again, once, in the node's time. The same bytes go again, so
            // ids and sealed envelopes are unchanged and exactly-once holds; a second refusal is
            // returned as it is, so nothing is resent in a loop.
            Err(Failure { error: error @ NodeError::Refused { status: 401, .. }, node_date: Some(date) }) => {
                let local_now = Utc::now().timestamp();
                let Some(offset) = self.clock.learn_from_refusal(created, Some(&date), local_now) else { return Err(error) };
                tracing::warn!(offset_s = offset, node_date = %date, "the node refused a signature for its time: the terminal clock is off by {offset} s; signing in the node's time from now on");
                let created = self.clock.created(local_now);
                self.send_signed(&method, &url, &signed_path, body.is_some(), &bytes, created).await.map_err(|f| f.error)?
            }
            Err(failure) => return Err(failure.error),
        };
        // The node checked `created` against its own clock and accepted it.
        self.clock.mark_verified();
        serde_json::from_slice(&text).map_err(|e| NodeError::BadAnswer(format!("{path}: {e}")))
    }

    /// Sends one request signed with `created`.
    async fn send_signed(&self, method: &Method, url: &str, signed_path: &str, has_body: bool, bytes: &[u8], created: i64) -> Result<Vec<u8>, Failure> {
        let signed = self.key.sign_at(&self.keyid, method.as_str(), signed_path, bytes, created);
        let mut request = self.http.request(method.clone(), url);
        for (name, value) in signed.pairs() {
            request = request.header(name, value);
        }
        if has_body {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let response = request.body(bytes.to_vec()).send().await.map_err(|e| {
            Failure::from(match trust::find_mismatch(&e) {
                Some(m) => NodeError::CertificateChanged { expected: m.expected, got: m.presented },
                None => NodeError::Transient { message: describe_reqwest_error(&e, &self.base), retry_after: None },
            })
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.bytes().await.map_err(|e| {
            Failure::from(NodeError::Transient { message: format!("answer cut short: {}", describe_reqwest_error(&e, &self.base)), retry_after: None })
        })?;
        if status.is_success() {
            return Ok(text.to_vec());
        }
        let body: ErrorBody = serde_json::from_slice(&text).unwrap_or_else(|_| ErrorBody {
            error: format!("http_{}", status.as_u16()),
            message: status.canonical_reason().unwrap_or("no reason given").to_string(),
        });
        let error = if is_transient_status(status) {
            NodeError::Transient {
                message: format!("HTTP {} ({}): {}", status.as_u16(), body.error, body.message),
                retry_after: retry_after_header(&headers),
            }
        } else {
            NodeError::Refused { status: status.as_u16(), body }
        };
        let node_date = headers.get(DATE).and_then(|v| v.to_str().ok()).map(str::to_string);
        Err(Failure { error, node_date })
    }
}

/// A failed request, with the node's `Date` when it answered with one.
struct Failure {
    error: NodeError,
    node_date: Option<String>,
}

impl From<NodeError> for Failure {
    fn from(error: NodeError) -> Failure {
        Failure { error, node_date: None }
    }
}

fn retry_after_header(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// A one-line description without the URL's query (there is none) or any body. `node_url` is
/// the node's base URL, named in advice.
fn describe_reqwest_error(e: &reqwest::Error, node_url: &str) -> String {
    if e.is_timeout() {
        "request timed out".into()
    } else if let Some(tls) = tls_failure(e) {
        // Say why, or a technician chases a network fault that is a certificate problem.
        format!("TLS handshake failed: {tls}")
    } else if e.is_connect() && blocked_by_network_policy(e) {
        // "cannot connect" would send the technician after cables and routers, while the
        // refusal came from this very machine and has a one-line fix.
        network_policy_message(node_url)
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        let mut message = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        message
    }
}

/// Whether the kernel refused to connect at all (`EPERM` or `EACCES`, `PermissionDenied`)
/// somewhere in `error`'s chain.
///
/// On the terminal that is the unit's network policy: `IPAddressDeny=any`, with only loopback
/// and the node's addresses in `IPAddressAllow=`, makes `connect()` to any other address fail
/// with `EPERM` before a packet leaves. (A local firewall rule dropping the packet looks the
/// same, and needs the same kind of fix.) Nothing outside this machine gives that error to a
/// connect, so it is not confused with a node or network that is down.
pub fn blocked_by_network_policy(error: &(dyn std::error::Error + 'static)) -> bool {
    trust::find_in_chain(error, &mut |link| link.downcast_ref::<std::io::Error>().filter(|io| io.kind() == std::io::ErrorKind::PermissionDenied).map(|_| ())).is_some()
}

/// What a technician is told when [`blocked_by_network_policy`]: the cause and the fix. The
/// helper script ships with the Debian package, as `/usr/sbin/terminal-service-allow-node`.
pub fn network_policy_message(node_url: &str) -> String {
    format!(
        "the terminal's network policy (systemd IPAddressAllow) does not allow this node's address (connect: operation not permitted); add it with `terminal-service-allow-node {node_url}` and restart the service (systemctl restart terminal-service)"
    )
}

/// The rustls error behind a failed request, if the TLS handshake is what failed.
fn tls_failure(e: &reqwest::Error) -> Option<String> {
    trust::find_in_chain(e, &mut |link| link.downcast_ref::<rustls::Error>().map(ToString::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("999999999999999999999", now), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn retry_after_as_an_http_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), Some(Duration::from_secs(30)));
        // In the past: retry now.
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_garbage_is_ignored() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("1.5", now), None);
    }

    #[test]
    fn statuses_are_classified() {
        for s in [500, 502, 503, 504, 408, 429] {
            assert!(is_transient_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 413, 422] {
            assert!(!is_transient_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }

    #[test]
    fn node_urls_are_checked() {
        assert_eq!(check_node_url("http://127.0.0.1:8700/").unwrap(), "http://127.0.0.1:8700");
        assert_eq!(check_node_url("https://node.example/prefix").unwrap(), "https://node.example/prefix");
        assert!(check_node_url("ftp://x").is_err());
        assert!(check_node_url("node.example").is_err());
        assert!(check_node_url("http://x/?a=b").is_err());
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A node that answers every request 401 with a `Date` of `ahead_s` from now, counting them.
    async fn refusing_node(ahead_s: u64) -> (String, Arc<AtomicUsize>) {
        let count = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&count);
        let app = axum::Router::new().fallback(move || {
            let seen = Arc::clone(&seen);
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(ahead_s));
                (StatusCode::UNAUTHORIZED, [(DATE, date)], axum::Json(ErrorBody { error: "signature_invalid".into(), message: "test".into() }))
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, count)
    }

    fn client(url: &str, key_dir: &std::path::Path) -> NodeClient {
        let key = Arc::new(TerminalKey::generate(key_dir).unwrap());
        NodeClient::new(http_client(Duration::from_secs(5)).unwrap(), url, key, "T-1").unwrap()
    }

    /// A node that refuses even the request signed in its own time: one more try, then the
    /// refusal, so a call never loops.
    #[tokio::test]
    async fn a_clock_refusal_is_signed_again_once_and_no_more() {
        let (url, count) = refusing_node(3 * 86_400).await;
        let dir = tempfile::tempdir().unwrap();
        let client = client(&url, dir.path());
        let err = client.call::<(), serde_json::Value>(Method::GET, "/v1/config", None).await.unwrap_err();
        assert!(matches!(err, NodeError::Refused { status: 401, .. }), "{err:?}");
        assert_eq!(count.load(Ordering::SeqCst), 2, "the first try and one in the node's time");
        assert!((client.clock().offset_s() - 3 * 86_400).abs() <= 2, "offset {}", client.clock().offset_s());
    }

    /// A refusal from a node whose clock agrees with the terminal's is not about the clock:
    /// not retried, and the offset stays zero.
    #[tokio::test]
    async fn a_refusal_with_the_same_time_is_not_retried() {
        let (url, count) = refusing_node(0).await;
        let dir = tempfile::tempdir().unwrap();
        let client = client(&url, dir.path());
        let err = client.call::<(), serde_json::Value>(Method::GET, "/v1/config", None).await.unwrap_err();
        assert!(matches!(err, NodeError::Refused { status: 401, .. }), "{err:?}");
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert_eq!(client.clock().offset_s(), 0);
    }
}

#[cfg(test)]
mod network_policy_tests {
    use super::*;
    use std::fmt;

    /// A link of an error chain that only points further, as hyper's connector errors do.
    #[derive(Debug)]
    struct Link(&'static str, Box<dyn std::error::Error + Send + Sync>);

    impl fmt::Display for Link {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Link {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.1)
        }
    }

    /// The shape of what reqwest returns for a failed connect: its error, then hyper-util's
    /// "client error (Connect)", then its `ConnectError` ("tcp connect error"), then the
    /// `io::Error` from `connect()`.
    fn connect_failure(errno: i32) -> Link {
        Link("error sending request", Box::new(Link("client error (Connect)", Box::new(Link("tcp connect error", Box::new(std::io::Error::from_raw_os_error(errno)))))))
    }

    #[test]
    fn eperm_or_eacces_on_connect_is_the_network_policy() {
        assert!(blocked_by_network_policy(&connect_failure(libc::EPERM)));
        assert!(blocked_by_network_policy(&connect_failure(libc::EACCES)));
        // Also when the io::Error is wrapped in another one, as TLS connectors do.
        let wrapped = Link("error sending request", Box::new(std::io::Error::other(std::io::Error::from_raw_os_error(libc::EPERM))));
        assert!(blocked_by_network_policy(&wrapped));
    }

    #[test]
    fn other_connect_failures_are_not_the_network_policy() {
        for errno in [libc::ECONNREFUSED, libc::ETIMEDOUT, libc::ENETUNREACH, libc::EHOSTUNREACH] {
            assert!(!blocked_by_network_policy(&connect_failure(errno)), "errno {errno}");
        }
        assert!(!blocked_by_network_policy(&Link("error sending request", Box::new(std::fmt::Error))));
    }

    #[test]
    fn the_message_names_the_policy_the_helper_the_url_and_the_restart() {
        let message = network_policy_message("https://10.20.0.5:8443");
        assert!(message.contains("network policy (systemd IPAddressAllow)"), "{message}");
        assert!(message.contains("`terminal-service-allow-node https://10.20.0.5:8443`"), "{message}");
        assert!(message.contains("restart the service"), "{message}");
    }

    fn client(url: &str, key_dir: &std::path::Path) -> NodeClient {
        let key = Arc::new(TerminalKey::generate(key_dir).unwrap());
        NodeClient::new(http_client(Duration::from_secs(5)).unwrap(), url, key, "T-1").unwrap()
    }

    /// The control: a port nobody listens on is refused by the peer (ECONNREFUSED), which stays
    /// a plain "cannot connect", not advice about the policy.
    #[tokio::test]
    async fn a_refused_connection_is_not_blamed_on_the_policy() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let dir = tempfile::tempdir().unwrap();
        let err = client(&format!("http://127.0.0.1:{port}"), dir.path()).call::<(), serde_json::Value>(Method::GET, "/v1/x", None).await.unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert_eq!(err.to_string(), "node unreachable: cannot connect");
    }

    /// Set in the child process in which `connect()` is forbidden.
    #[cfg(target_os = "linux")]
    const CHILD_ENV: &str = "TERMINAL_SERVICE_TEST_FORBID_CONNECT";

    /// A real `EPERM` from `connect()` through reqwest, as systemd's `IPAddressDeny=` produces
    /// it. systemd does it with a cgroup BPF program, which needs root and a systemd to set
    /// up; a seccomp filter makes the same system call fail with the same errno, needs neither,
    /// and cannot be removed, so it runs in a child process (the test binary, running this test
    /// again).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_connect_forbidden_by_the_kernel_is_transient_and_names_the_fix() {
        if std::env::var_os(CHILD_ENV).is_some() {
            child_with_connect_forbidden();
            return;
        }
        let name = format!("{}::a_connect_forbidden_by_the_kernel_is_transient_and_names_the_fix", module_path!());
        let output = crate::test_support::rerun_in_child(&name, &[(CHILD_ENV, std::ffi::OsStr::new("1"))]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "child failed: {}\n{stdout}\n{stderr}", output.status);
        let message = crate::test_support::child_report(&stdout).unwrap_or_else(|| panic!("the child did not report (did it run the test?):\n{stdout}\n{stderr}"));
        assert!(message.starts_with("node unreachable: the terminal's network policy (systemd IPAddressAllow)"), "{message}");
        assert!(message.contains("terminal-service-allow-node http://127.0.0.1:"), "{message}");
    }

    /// The child's half: a node listening on loopback, `connect()` forbidden, one request.
    #[cfg(target_os = "linux")]
    fn child_with_connect_forbidden() {
        let dir = tempfile::tempdir().unwrap();
        // Listening, so that without the filter the connection would succeed: whatever fails
        // below is the filter's doing, not a closed port's.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let client = client(&url, dir.path());
        forbid_connect();
        let raw = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap_err();
        assert_eq!(raw.raw_os_error(), Some(libc::EPERM), "the filter is in place: {raw}");

        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let err = runtime.block_on(client.call::<(), serde_json::Value>(Method::GET, "/v1/x", None)).unwrap_err();
        assert!(matches!(err, NodeError::Transient { retry_after: None, .. }), "{err:?}");
        assert!(err.is_transient());
        let message = err.to_string();
        assert_eq!(message, format!("node unreachable: {}", network_policy_message(&url)));
        println!("{}{message}", crate::test_support::CHILD_MARKER);
    }

    /// Makes every later `connect()` of this thread, and of threads it starts, fail with EPERM.
    ///
    /// The filter does not check the architecture field: it only has to catch this process's
    /// own native calls, and a foreign-ABI call it also caught would only fail a test.
    #[cfg(target_os = "linux")]
    fn forbid_connect() {
        // SAFETY: BPF_STMT and BPF_JUMP only build structs.
        let filter = unsafe {
            [
                // A = seccomp_data.nr (offset 0)
                libc::BPF_STMT((libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16, 0),
                libc::BPF_JUMP((libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16, libc::SYS_connect as u32, 0, 1),
                libc::BPF_STMT((libc::BPF_RET | libc::BPF_K) as u16, libc::SECCOMP_RET_ERRNO | (libc::EPERM as u32 & libc::SECCOMP_RET_DATA)),
                libc::BPF_STMT((libc::BPF_RET | libc::BPF_K) as u16, libc::SECCOMP_RET_ALLOW),
            ]
        };
        let program = libc::sock_fprog { len: filter.len() as u16, filter: filter.as_ptr().cast_mut() };
        // SAFETY: prctl with these options reads only `program`, which points at `filter`; both
        // live across the call and the kernel copies the program.
        unsafe {
            // Required for an unprivileged process to install a filter; harmless for root.
            assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0, "PR_SET_NO_NEW_PRIVS: {}", std::io::Error::last_os_error());
            assert_eq!(libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &program as *const libc::sock_fprog), 0, "PR_SET_SECCOMP: {}", std::io::Error::last_os_error());
        }
    }
}

#[cfg(test)]
mod tls_tests {
    use super::*;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-certificate HTTPS server on loopback answering every request with `{}`.
    async fn https_server() -> (String, CertificateDer<'static>) {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        let cert = certified.cert.der().clone();
        let key = PrivateKeyDer::try_from(certified.signing_key.serialize_der()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                    let mut buf = vec![0u8; 8192];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}").await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        (url, cert)
    }

    fn client(url: &str, pin: CertificateFingerprint) -> NodeClient {
        let dir = tempfile::tempdir().unwrap();
        let key = Arc::new(TerminalKey::generate(dir.path()).unwrap());
        let http = pinned_http_client(Duration::from_secs(5), &NodeTrust::Pinned(pin)).unwrap();
        NodeClient::new(http, url, key, "T-1").unwrap()
    }

    #[tokio::test]
    async fn the_pinned_node_is_reached_and_another_certificate_is_a_typed_error() {
        let (url, cert) = https_server().await;
        let answer: Result<serde_json::Value, _> = client(&url, CertificateFingerprint::of(&cert)).call::<(), _>(Method::GET, "/v1/x", None).await;
        assert_eq!(answer.unwrap(), serde_json::json!({}));

        let wrong = CertificateFingerprint::of(b"another certificate");
        let err = client(&url, wrong).call::<(), serde_json::Value>(Method::GET, "/v1/x", None).await.unwrap_err();
        match &err {
            NodeError::CertificateChanged { expected, got } => {
                assert_eq!(*expected, wrong);
                assert_eq!(*got, CertificateFingerprint::of(&cert));
            }
            other => panic!("expected CertificateChanged, got {other:?}"),
        }
        assert!(!err.is_transient());
        let message = err.to_string();
        assert!(message.starts_with("node certificate changed: expected SHA-256 "), "{message}");
        assert!(message.contains("re-provision with --force"), "{message}");
    }
}
