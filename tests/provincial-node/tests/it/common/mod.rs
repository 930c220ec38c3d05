//! Shared test harness: a real node on 127.0.0.1 (port 0), real Ed25519 terminal keys and
//! real age sealing.
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::SigningKey;
use node_protocol::signature::{sign_request, ENROLL_KEY_ID};
use node_protocol::{EnrollRequest, EnrollResponse, Envelope, SubmissionContent, SubmissionKind};
use provincial_node::Node;
use rand::RngCore;
use std::str::FromStr;
use uuid::Uuid;

/// A node serving on loopback for the whole test binary (its data directory is shared, so
/// every test enrols its own terminal and uses its own ids).
pub struct TestNode {
    pub base: String,
    pub node: Arc<Node>,
    _dir: tempfile::TempDir,
}

static SHARED: OnceLock<TestNode> = OnceLock::new();

/// The node of this test binary, started on first use. It runs on its own thread and runtime
/// so that it outlives each `#[tokio::test]` runtime; it stops when the test process exits.
pub fn node() -> &'static TestNode {
    SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let node = Arc::new(Node::open(&dir.path().join("node"), Some("Baghdad")).expect("open node"));
        let base = serve_on_loopback(node.clone());
        TestNode { base, node, _dir: dir }
    })
}

/// Serves `node` on a free loopback port from its own thread and runtime (so it outlives each
/// `#[tokio::test]` runtime; it stops when the test process exits) and returns its base URL.
pub fn serve_on_loopback(node: Arc<Node>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            provincial_node::server::serve(listener, node, std::future::pending()).await.expect("serve");
        });
    });
    base
}

pub fn nonce() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().expect("client")
}

/// Sends a request signed by `key` under `keyid`, with explicit `created` and `nonce`.
pub async fn send_signed_at(
    key: &SigningKey,
    keyid: &str,
    method: &str,
    path: &str,
    body: &[u8],
    created: i64,
    nonce: &str,
) -> reqwest::Response {
    send_signed_to(&node().base, key, keyid, method, path, body, created, nonce).await
}

/// Sends a request signed by `key` under `keyid` to the node at `base`.
#[allow(clippy::too_many_arguments)]
pub async fn send_signed_to(
    base: &str,
    key: &SigningKey,
    keyid: &str,
    method: &str,
    path: &str,
    body: &[u8],
    created: i64,
    nonce: &str,
) -> reqwest::Response {
    let headers = sign_request(key, keyid, method, path, body, created, nonce);
    let mut request = http().request(method.parse().expect("method"), format!("{base}{path}"));
    for (name, value) in headers.pairs() {
        request = request.header(name, value);
    }
    if method == "POST" {
        request = request.header("content-type", "application/json");
    }
    request.body(body.to_vec()).send().await.expect("request reaches the node")
}

/// Sends a freshly signed request.
pub async fn send_signed(key: &SigningKey, keyid: &str, method: &str, path: &str, body: &[u8]) -> reqwest::Response {
    send_signed_at(key, keyid, method, path, body, now(), &nonce()).await
}

/// The node binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_provincial-node");

/// Runs `provincial-node ARGS…`: whether it succeeded, its stdout and its stderr.
pub fn run_cli(args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(BIN).args(args).output().expect("run provincial-node");
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// POSTs `body` to `base` + `path`, freshly signed by `key` as `keyid`: status and JSON answer.
pub async fn post_signed(base: &str, key: &SigningKey, keyid: &str, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    json(send_signed_to(base, key, keyid, "POST", path, body.to_string().as_bytes(), now(), &nonce()).await).await
}

/// Status and JSON body of a response.
pub async fn json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"));
    (status, value)
}

/// An enrolled terminal.
pub struct Terminal {
    pub id: String,
    pub key: SigningKey,
    pub enrollment: EnrollResponse,
}

impl Terminal {
    pub async fn post(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        json(send_signed(&self.key, &self.id, "POST", path, body.to_string().as_bytes()).await).await
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        json(send_signed(&self.key, &self.id, "GET", path, b"").await).await
    }

    /// An envelope sealed to the node, with `answers`.
    pub fn envelope(&self, kind: SubmissionKind, answers: serde_json::Value) -> Envelope {
        let id = Uuid::now_v7();
        let content = SubmissionContent {
            id,
            kind,
            form_id: kind.as_str().into(),
            form_version: provincial_node::forms::FORM_VERSION.into(),
            language: "ar".into(),
            answers: answers.as_object().cloned().unwrap_or_default(),
            assisted_by: None,
            terminal_id: self.id.clone(),
            duplicate_override: None,
            referral: None,
            targeting: None,
        };
        envelope_for(&content, &self.enrollment.sealing_recipient)
    }
}

/// Seals `content` to `recipient` and wraps it in an envelope.
pub fn envelope_for(content: &SubmissionContent, recipient: &str) -> Envelope {
    let recipient = age::x25519::Recipient::from_str(recipient).expect("recipient");
    let sealed = age::encrypt(&recipient, &serde_json::to_vec(content).expect("json")).expect("seal");
    Envelope {
        id: content.id,
        kind: content.kind,
        created_at: chrono::Utc::now(),
        form_version: content.form_version.clone(),
        sealed: STANDARD.encode(sealed),
    }
}

pub fn new_key() -> SigningKey {
    let mut seed = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut seed);
    SigningKey::from_bytes(&seed)
}

pub fn enroll_request(code: &str, key: &SigningKey) -> EnrollRequest {
    EnrollRequest {
        code: code.into(),
        public_key: STANDARD.encode(key.verifying_key().to_bytes()),
        terminal_name: "kiosk-test".into(),
        software_version: "0.1.0".into(),
    }
}

/// Sends an enrollment request for `code`, signed by `key`.
pub async fn try_enroll(code: &str, key: &SigningKey) -> (u16, serde_json::Value) {
    let body = serde_json::to_vec(&enroll_request(code, key)).expect("json");
    json(send_signed(key, ENROLL_KEY_ID, "POST", "/v1/terminals/enroll", &body).await).await
}

/// A freshly enrolled terminal.
pub async fn enroll() -> Terminal {
    let code = node().node.issue_code(60).expect("issue code");
    let key = new_key();
    let (status, body) = try_enroll(&code, &key).await;
    assert_eq!(status, 200, "enrollment failed: {body}");
    let enrollment: EnrollResponse = serde_json::from_value(body).expect("EnrollResponse");
    Terminal { id: enrollment.terminal_id.clone(), key, enrollment }
}

/// Answers of a complete application.
pub fn application_answers(national_id: &str, date_of_birth: &str) -> serde_json::Value {
    serde_json::json!({
        "national_id": national_id,
        "first_name": "زينب",
        "father_name": "علي",
        "grandfather_name": "حسين",
        "mother_name": "فاطمة كاظم جواد",
        "date_of_birth": date_of_birth,
        "gender": "female",
        "governorate": "BGD",
        "district": "KDH",
        "category": "widow",
        "household_size": 4
    })
}

/// A random 12-digit national id no other test uses.
pub fn random_national_id() -> String {
    let mut b = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut b);
    format!("3{:011}", u64::from_le_bytes(b) % 100_000_000_000)
}

/// Announces a body larger than the node's limit on a raw connection and reads the answer
/// without sending the body: the node must refuse from the declared length alone. (Sending the
/// whole body would race the node closing the connection after its early answer.)
pub fn oversized_request(path: &str, terminal: &Terminal) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let address = node().base.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&address).expect("connect");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).expect("timeout");
    let length = provincial_node::auth::MAX_BODY_BYTES + 1;
    let signed = sign_request(&terminal.key, &terminal.id, "POST", path, b"", now(), &nonce());
    let mut head = format!("POST {path} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n");
    for (name, value) in signed.pairs() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e) => panic!("reading the answer failed: {e}"),
        }
        let text = String::from_utf8_lossy(&answer);
        if let Some((headers, body)) = text.split_once("\r\n\r\n") {
            let declared = headers
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)));
            if declared.is_some_and(|n| body.len() >= n) {
                break;
            }
        }
    }
    let text = String::from_utf8(answer).expect("utf-8 answer");
    let (headers, body) = text.split_once("\r\n\r\n").expect("a complete HTTP answer");
    let status: u16 = headers.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status line");
    (status, serde_json::from_str(body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {body}")))
}

/// A `provincial-node serve` child process, killed when dropped.
pub struct ServeProcess {
    /// The process, for tests that signal it themselves.
    pub child: std::process::Child,
    /// The line it logged once listening (`listening on ADDRESS …`).
    pub listening: String,
}

impl ServeProcess {
    /// Starts `provincial-node serve` on a free loopback port with `args` after `serve`, and
    /// waits (at most a minute) until it logs where it listens.
    pub fn start(args: &[&str]) -> ServeProcess {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        ServeProcess::start_command(&all)
    }

    /// Starts `provincial-node ARGS` (a serving command) and waits (at most a minute) until it
    /// logs where it listens.
    pub fn start_command(args: &[&str]) -> ServeProcess {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_provincial-node"))
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn provincial-node serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening on ") {
                    let _ = tx.send(line);
                }
            }
        });
        let listening = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("serve logs its address");
        ServeProcess { child, listening }
    }

    /// `IP:PORT` from the listening line.
    pub fn address(&self) -> &str {
        self.listening.split("listening on ").nth(1).and_then(|a| a.split_whitespace().next()).unwrap_or("")
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `provincial-node ARGS`, which must succeed: its standard output.
pub fn run_ok(args: &[&str]) -> String {
    let (ok, stdout, stderr) = run_cli(args);
    assert!(ok, "provincial-node {args:?} failed: {stderr}");
    stdout
}

/// A `provincial-node serve` process with one terminal enrolled, as the cross-process tests
/// (headquarters, referrals) drive it.
pub struct EnrolledNode {
    _served: ServeProcess,
    /// `http://IP:PORT`.
    pub base: String,
    /// Its data directory.
    pub data: String,
    /// The enrolled terminal.
    pub terminal_id: String,
    /// The enrolled terminal's key.
    pub key: SigningKey,
    /// The node's sealing recipient.
    pub recipient: String,
}

impl EnrolledNode {
    /// Serves `--data data` with `extra` arguments and enrols a terminal with a code from the CLI.
    pub async fn start(data: &str, extra: &[&str]) -> EnrolledNode {
        let mut args = vec!["--data", data];
        args.extend_from_slice(extra);
        let served = ServeProcess::start(&args);
        let base = format!("http://{}", served.address());
        let code = run_ok(&["issue-code", "--data", data]);
        let key = new_key();
        let enroll = serde_json::to_value(enroll_request(code.trim(), &key)).unwrap();
        let (status, enrolled) = post_signed(&base, &key, "enroll", "/v1/terminals/enroll", &enroll).await;
        assert_eq!(status, 200, "{enrolled}");
        EnrolledNode {
            _served: served,
            base,
            data: data.to_string(),
            terminal_id: enrolled["terminal_id"].as_str().unwrap().to_string(),
            recipient: enrolled["sealing_recipient"].as_str().unwrap().to_string(),
            key,
        }
    }

    /// Files one application as the terminal seals and signs it and returns its result, which
    /// must be `accepted`: neither a duplicate nor a bad referral refuses an application.
    pub async fn file(&self, answers: serde_json::Value, assisted_by: Option<&str>, referral: Option<node_protocol::AttachedReferral>) -> serde_json::Value {
        let content = SubmissionContent {
            id: uuid::Uuid::now_v7(),
            kind: node_protocol::SubmissionKind::Application,
            form_id: "application".into(),
            form_version: provincial_node::forms::FORM_VERSION.into(),
            language: "ar".into(),
            answers: answers.as_object().expect("answers are an object").clone(),
            assisted_by: assisted_by.map(str::to_string),
            terminal_id: self.terminal_id.clone(),
            duplicate_override: None,
            referral,
            targeting: None,
        };
        let batch = serde_json::json!({ "envelopes": [envelope_for(&content, &self.recipient)] });
        let (status, body) = post_signed(&self.base, &self.key, &self.terminal_id, "/v1/submissions", &batch).await;
        assert_eq!(status, 200, "{body}");
        let result = body["results"][0].clone();
        assert_eq!(result["outcome"], "accepted", "an application is always filed: {result}");
        result
    }
}
