//! Headquarters' HTTP surface: `GET /`, the signed `POST /v1/persons/check` and
//! `POST /v1/persons/registered`.
//!
//! One check at a time: the registry connection's lock is held from matching to the commit and
//! the index update, so two provinces filing the same person at the same moment cannot miss
//! each other (the second sees the first). A check is milliseconds; nodes send whole batches.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::VerifyingKey;
use matcher::PersonIndex;
use node_protocol::digest::CONTENT_DIGEST;
use node_protocol::signature::{ParsedRequestSignature, RequestParts, SignatureError, MAX_CLOCK_SKEW_S, SIGNATURE, SIGNATURE_INPUT};
use tokio::net::TcpListener;

use super::{
    registry, CheckRequest, CheckResponse, CheckResult, ClaimRequest, ClaimResponse, ClaimResult, RegisteredMatch,
    RegisteredRequest, RegisteredResponse, CHECK_PATH, CLAIM_PATH, MAX_CHECK, REGISTERED_PATH,
};
use crate::api::{parse_json, ApiError};
use crate::duplicates::province_of;

/// A node headquarters trusts: its province code (the signature's `keyid`) and public key.
#[derive(Debug, Clone)]
pub struct TrustedNode {
    /// Governorate code, e.g. `BGD`.
    pub province: String,
    /// The node's Ed25519 public key.
    pub key: VerifyingKey,
}

impl std::str::FromStr for TrustedNode {
    type Err = String;

    /// Parses `CODE=PUBLIC_KEY`, as printed by `provincial-node headquarters node-key`.
    fn from_str(text: &str) -> Result<TrustedNode, String> {
        let bad = || format!("'{text}' is not CODE=PUBLIC_KEY: give what `provincial-node headquarters node-key --data DIR` prints");
        let (province, key) = text.split_once('=').ok_or_else(bad)?;
        let bytes: [u8; 32] = STANDARD.decode(key.trim()).map_err(|_| bad())?.try_into().map_err(|_| bad())?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| bad())?;
        let province = province.trim().to_ascii_uppercase();
        if province.is_empty() || !province.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(bad());
        }
        Ok(TrustedNode { province, key })
    }
}

/// What every headquarters request shares.
pub struct Headquarters {
    registry: tokio::sync::Mutex<tokio_postgres::Client>,
    index: RwLock<PersonIndex>,
    trusted: HashMap<String, VerifyingKey>,
    seen_nonces: Mutex<HashMap<(String, String), i64>>,
}

impl Headquarters {
    /// Connects to the registry at `postgres_url` and loads every person into the index.
    pub async fn open(postgres_url: &str, trusted: Vec<TrustedNode>) -> Result<Headquarters, registry::RegistryError> {
        let client = registry::connect(postgres_url).await?;
        let index = registry::load_index(&client).await?;
        tracing::info!(persons = index.len(), "loaded the person index");
        Ok(Headquarters {
            registry: tokio::sync::Mutex::new(client),
            index: RwLock::new(index),
            trusted: trusted.into_iter().map(|t| (t.province, t.key)).collect(),
            seen_nonces: Mutex::new(HashMap::new()),
        })
    }

    /// How many persons the index holds.
    pub fn persons(&self) -> usize {
        self.index.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// False if `(keyid, nonce)` was seen within twice the clock skew (a replay).
    fn fresh_nonce(&self, keyid: &str, nonce: &str, now: i64) -> bool {
        let mut seen = self.seen_nonces.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, at| *at >= now - 2 * MAX_CLOCK_SKEW_S);
        seen.insert((keyid.to_string(), nonce.to_string()), now).is_none()
    }
}

/// The router of headquarters.
pub fn router(headquarters: Arc<Headquarters>) -> Router {
    Router::new()
        .route("/", get(root))
        .route(CHECK_PATH, post(check))
        .route(REGISTERED_PATH, post(registered))
        .route(CLAIM_PATH, post(claim))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no such call: headquarters answers POST {CHECK_PATH}, POST {REGISTERED_PATH} and POST {CLAIM_PATH}"),
            )
        })
        .with_state(headquarters)
}

/// Serves headquarters on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    headquarters: Arc<Headquarters>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(headquarters)).with_graceful_shutdown(shutdown).await
}

async fn root(State(headquarters): State<Arc<Headquarters>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "role": "headquarters", "persons": headquarters.persons(), "version": crate::node::NODE_VERSION }))
}

fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// Verifies the node's signature of a request to `path` and returns its province code.
fn verify(headquarters: &Headquarters, path: &str, headers: &HeaderMap, body: &[u8]) -> Result<String, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let refusal = |e: SignatureError| unauthorized("signature_invalid", e.to_string());
    if header(CONTENT_DIGEST).is_none() {
        return Err(refusal(SignatureError::MissingHeader(CONTENT_DIGEST)));
    }
    let signature = ParsedRequestSignature::parse(header(SIGNATURE_INPUT), header(SIGNATURE)).map_err(refusal)?;
    let key = headquarters.trusted.get(&signature.keyid).ok_or_else(|| {
        unauthorized(
            "unknown_key",
            format!("no node of province '{}' is trusted here: start headquarters with --trust-node CODE=KEY from `provincial-node headquarters node-key`", signature.keyid),
        )
    })?;
    let pairs: Vec<(&str, &str)> = headers.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
    let parts = RequestParts { method: "POST", authority: "", path, headers: &pairs };
    let now = chrono::Utc::now().timestamp();
    signature.verify(key, &parts, body, now).map_err(refusal)?;
    if !headquarters.fresh_nonce(&signature.keyid, &signature.nonce, now) {
        return Err(unauthorized("replayed", "this request's nonce was already used: every request needs a fresh nonce"));
    }
    Ok(signature.keyid)
}

/// `POST /v1/persons/check`: matches each applicant against every province, records it under
/// its case number (committed before the answer), and answers the matches.
async fn check(
    State(headquarters): State<Arc<Headquarters>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<CheckResponse>, ApiError> {
    let province = verify(&headquarters, CHECK_PATH, &headers, &body)?;
    let request: CheckRequest = parse_json(&body)?;
    if request.persons.is_empty() || request.persons.len() > MAX_CHECK {
        return Err(ApiError::bad_body(format!("a check holds 1 to {MAX_CHECK} persons, this one has {}", request.persons.len())));
    }
    if let Some(foreign) = request.persons.iter().find(|p| province_of(&p.case_number) != province) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "foreign_case",
            format!("case '{}' is not of province {province}: a node records only its own cases", foreign.case_number),
        ));
    }

    let mut registry = headquarters.registry.lock().await;
    let checked: Vec<_> = {
        let index = headquarters.index.read().unwrap_or_else(|p| p.into_inner());
        let mut earlier_in_batch = PersonIndex::new();
        request
            .persons
            .into_iter()
            .map(|person| {
                let mut matches: Vec<RegisteredMatch> = crate::duplicates::check_in(&index, &person)
                    .into_iter()
                    .chain(crate::duplicates::check_in(&earlier_in_batch, &person))
                    .map(|m| RegisteredMatch { case_number: m.case_number, province: m.province, comparison: m.comparison })
                    .collect();
                matches.sort_by(|a, b| b.comparison.score.total_cmp(&a.comparison.score));
                matches.truncate(crate::duplicates::MAX_MATCHES);
                earlier_in_batch.insert(person.clone());
                (person, matches)
            })
            .collect()
    };
    let new = registry::record(&mut registry, &province, &checked).await.map_err(ApiError::internal)?;
    {
        let mut index = headquarters.index.write().unwrap_or_else(|p| p.into_inner());
        for ((person, _), new) in checked.iter().zip(&new) {
            if *new {
                index.insert(person.clone());
            }
        }
    }
    drop(registry);
    let results = checked.into_iter().map(|(person, matches)| CheckResult { case_number: person.case_number, matches }).collect();
    Ok(Json(CheckResponse { results }))
}

/// `POST /v1/persons/registered`: whether any province registered this national id. The answer
/// is one boolean, and nothing logs the id.
async fn registered(
    State(headquarters): State<Arc<Headquarters>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<RegisteredResponse>, ApiError> {
    verify(&headquarters, REGISTERED_PATH, &headers, &body)?;
    let request: RegisteredRequest = parse_json(&body)?;
    let Some(national_id) = normalisation::national_id(&request.national_id).filter(|id| id.len() == 12) else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_national_id", "national_id must be the 12 digits of the unified national ID card"));
    };
    let registry = headquarters.registry.lock().await;
    let registered = registry::has_national_id(&registry, &national_id).await.map_err(ApiError::internal)?;
    Ok(Json(RegisteredResponse { registered }))
}

/// `POST /v1/referrals/claim`: records each referral for the claiming case unless a case of
/// any province holds it already, and answers who holds each (committed before the answer).
/// Serialised with the checks, so two provinces claiming one referral at once see each other.
async fn claim(State(headquarters): State<Arc<Headquarters>>, headers: HeaderMap, body: Bytes) -> Result<Json<ClaimResponse>, ApiError> {
    let province = verify(&headquarters, CLAIM_PATH, &headers, &body)?;
    let request: ClaimRequest = parse_json(&body)?;
    if request.claims.is_empty() || request.claims.len() > MAX_CHECK {
        return Err(ApiError::bad_body(format!("a claim holds 1 to {MAX_CHECK} referrals, this one has {}", request.claims.len())));
    }
    if let Some(foreign) = request.claims.iter().find(|c| province_of(&c.case_number) != province) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "foreign_case",
            format!("case '{}' is not of province {province}: a node claims referrals only for its own cases", foreign.case_number),
        ));
    }
    let mut registry = headquarters.registry.lock().await;
    let holders = registry::claim_referrals(&mut registry, &province, &request.claims).await.map_err(ApiError::internal)?;
    drop(registry);
    let results = request.claims.into_iter().zip(holders).map(|(c, used_by)| ClaimResult { case_number: c.case_number, used_by }).collect();
    Ok(Json(ClaimResponse { results }))
}
