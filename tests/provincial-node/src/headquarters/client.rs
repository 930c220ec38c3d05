//! The node's side of headquarters: its signing key and the check call.

use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::SigningKey;
use matcher::Person;
use node_protocol::signature::sign_request;
use rand::RngCore;

use super::{
    CheckRequest, CheckResponse, ClaimRequest, ClaimResponse, RegisteredRequest, RegisteredResponse, CHECK_PATH, CLAIM_PATH,
    REGISTERED_PATH,
};

/// File in the data directory holding the node's headquarters signing key (base64 seed).
pub const KEY_FILE: &str = "headquarters-key.txt";

/// How long a check may take before the node files without it.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// After a failed check, how long new filings skip headquarters (answering `not_checked` at
/// once instead of each batch waiting for a timeout); the re-check loop keeps trying meanwhile.
pub const SKIP_AFTER_FAILURE: Duration = Duration::from_secs(10);

/// How long the pre-check may wait for headquarters: the terminal gives the whole pre-check
/// 3 s, and the province's own answer must still reach it.
pub const REGISTERED_TIMEOUT: Duration = Duration::from_millis(1500);

/// Why headquarters could not check.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The key file is unreadable or malformed.
    #[error("headquarters key {path}: {detail} (delete it to create a new one, then give headquarters the new `node-key`)")]
    Key {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// Headquarters is unreachable or answered badly.
    #[error("headquarters at {url}: {detail}")]
    Unreachable {
        /// Its base URL.
        url: String,
        /// What happened.
        detail: String,
    },
}

/// Loads the node's headquarters key from `dir`, creating it on first use.
pub fn load_or_create_key(dir: &Path) -> Result<SigningKey, ClientError> {
    let path = dir.join(KEY_FILE);
    let key_error = |detail: String| ClientError::Key { path: path.display().to_string(), detail };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes: [u8; 32] = STANDARD
                .decode(text.trim())
                .map_err(|e| key_error(e.to_string()))?
                .try_into()
                .map_err(|_| key_error("not 32 bytes".into()))?;
            Ok(SigningKey::from_bytes(&bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut seed);
            write_private(&path, &format!("{}\n", STANDARD.encode(seed))).map_err(|e| key_error(e.to_string()))?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) => Err(key_error(e.to_string())),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// `CODE=PUBLIC_KEY`, what headquarters' `--trust-node` takes.
pub fn trust_line(province_code: &str, key: &SigningKey) -> String {
    format!("{province_code}={}", STANDARD.encode(key.verifying_key().to_bytes()))
}

/// A node's connection to headquarters.
pub struct HeadquartersClient {
    url: String,
    keyid: String,
    key: SigningKey,
    http: reqwest::Client,
    down_until: std::sync::Mutex<Option<std::time::Instant>>,
}

impl HeadquartersClient {
    /// A client of headquarters at `url` (e.g. `http://127.0.0.1:9000`), signing as province
    /// `province_code` with `key`.
    pub fn new(url: &str, province_code: &str, key: SigningKey) -> Result<HeadquartersClient, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(CHECK_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| ClientError::Unreachable { url: url.into(), detail: e.to_string() })?;
        Ok(HeadquartersClient {
            url: url.trim_end_matches('/').to_string(),
            keyid: province_code.to_string(),
            key,
            http,
            down_until: std::sync::Mutex::new(None),
        })
    }

    /// Headquarters' base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// True within [`SKIP_AFTER_FAILURE`] of a failed check.
    pub fn recently_failed(&self) -> bool {
        let down_until = *self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        down_until.is_some_and(|until| std::time::Instant::now() < until)
    }

    /// Checks `persons` (each with its case number) against every province and has
    /// headquarters record them.
    pub async fn check(&self, persons: Vec<Person>) -> Result<CheckResponse, ClientError> {
        let answer = self.send(persons).await;
        *self.down_until.lock().unwrap_or_else(|p| p.into_inner()) =
            answer.is_err().then(|| std::time::Instant::now() + SKIP_AFTER_FAILURE);
        answer
    }

    /// Whether any province registered `national_id` (12 ASCII digits): the other provinces'
    /// half of a terminal's pre-check. Within [`SKIP_AFTER_FAILURE`] of a failure it fails at
    /// once rather than make the kiosk wait.
    pub async fn registered(&self, national_id: &str) -> Result<bool, ClientError> {
        if self.recently_failed() {
            return Err(ClientError::Unreachable { url: self.url.clone(), detail: "failed moments ago; not asked".into() });
        }
        let request = RegisteredRequest { national_id: national_id.to_string() };
        let answer: RegisteredResponse = self.post(REGISTERED_PATH, &request, REGISTERED_TIMEOUT).await?;
        Ok(answer.registered)
    }

    /// Claims referrals used by this node's applications; headquarters answers who holds each.
    /// A failure marks headquarters down like a failed check.
    pub async fn claim_referrals(&self, claims: Vec<crate::referrals::Claim>) -> Result<ClaimResponse, ClientError> {
        let count = claims.len();
        let answer: Result<ClaimResponse, ClientError> = self.post(CLAIM_PATH, &ClaimRequest { claims }, CHECK_TIMEOUT).await;
        let answer = answer.and_then(|a| {
            if a.results.len() == count {
                Ok(a)
            } else {
                Err(ClientError::Unreachable { url: self.url.clone(), detail: format!("{} results for {count} claims", a.results.len()) })
            }
        });
        *self.down_until.lock().unwrap_or_else(|p| p.into_inner()) =
            answer.is_err().then(|| std::time::Instant::now() + SKIP_AFTER_FAILURE);
        answer
    }

    async fn send(&self, persons: Vec<Person>) -> Result<CheckResponse, ClientError> {
        let count = persons.len();
        let answer: CheckResponse = self.post(CHECK_PATH, &CheckRequest { persons }, CHECK_TIMEOUT).await?;
        if answer.results.len() != count {
            return Err(ClientError::Unreachable { url: self.url.clone(), detail: format!("{} results for {count} applicants", answer.results.len()) });
        }
        Ok(answer)
    }

    /// Signs and sends `request` to `path`, and reads the JSON answer.
    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        request: &impl serde::Serialize,
        timeout: Duration,
    ) -> Result<T, ClientError> {
        let unreachable = |detail: String| ClientError::Unreachable { url: self.url.clone(), detail };
        let body = serde_json::to_vec(request).map_err(|e| unreachable(e.to_string()))?;
        let mut nonce = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut nonce);
        let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        let signed = sign_request(&self.key, &self.keyid, "POST", path, &body, chrono::Utc::now().timestamp(), &nonce);
        let mut request =
            self.http.post(format!("{}{path}", self.url)).timeout(timeout).header("content-type", "application/json");
        for (name, value) in signed.pairs() {
            request = request.header(name, value);
        }
        let response = request.body(body).send().await.map_err(|e| unreachable(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(unreachable(format!("answered {status}: {text}")));
        }
        response.json().await.map_err(|e| unreachable(format!("unreadable answer: {e}")))
    }
}
