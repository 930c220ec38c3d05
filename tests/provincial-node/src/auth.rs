//! Request authentication: every `/v1` call is signed (RFC 9421, Ed25519) by a terminal.
//!
//! The checks, in order: the body fits the limit; the three headers are there and follow the
//! profile; the `keyid` names a registered terminal (or is `enroll` on the enroll call, checked
//! against the key in the body); `created` is fresh; `content-digest` matches the body; the
//! signature verifies; and the `(keyid, nonce)` pair was never seen. The replay check comes
//! last so that nobody can burn a terminal's nonces with forged requests. Seen nonces are kept
//! in SQLite for twice the allowed clock skew: after that a replay is refused as stale anyway.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::VerifyingKey;
use node_protocol::digest::CONTENT_DIGEST;
use node_protocol::signature::{
    ParsedRequestSignature, RequestParts, SignatureError, ENROLL_KEY_ID, SIGNATURE, SIGNATURE_INPUT,
};
use node_protocol::EnrollRequest;
use rusqlite::OptionalExtension;

use crate::api::{blocking, parse_json, ApiError, Caller};
use crate::node::Node;
use crate::store;

/// Largest request body accepted; beyond it the answer is 413.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Path of the one call signed with `keyid="enroll"`.
pub const ENROLL_PATH: &str = "/v1/terminals/enroll";

/// Axum middleware: verifies the request's signature, then hands the buffered request (with a
/// [`Caller`] extension) to the handler.
pub async fn require_signature(State(node): State<Arc<Node>>, request: Request, next: Next) -> Response {
    match verify(&node, request).await {
        Ok(request) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

fn refusal(error: SignatureError) -> ApiError {
    let code = match &error {
        SignatureError::MissingHeader(_) => "signature_missing",
        SignatureError::DigestMismatch => "digest_mismatch",
        SignatureError::Stale { .. } => "signature_stale",
        _ => "signature_invalid",
    };
    unauthorized(code, error.to_string())
}

async fn verify(node: &Arc<Node>, request: Request) -> Result<Request, ApiError> {
    let (mut parts, body) = request.into_parts();
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("request body is larger than {MAX_BODY_BYTES} bytes: send smaller batches"),
        )
    };
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let body: Bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| too_large())?;

    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if header(CONTENT_DIGEST).is_none() {
        return Err(refusal(SignatureError::MissingHeader(CONTENT_DIGEST)));
    }
    let signature = ParsedRequestSignature::parse(header(SIGNATURE_INPUT), header(SIGNATURE)).map_err(refusal)?;
    let path = parts.uri.path().to_owned();

    let (key, caller) = if signature.keyid == ENROLL_KEY_ID {
        if path != ENROLL_PATH {
            return Err(unauthorized(
                "unknown_key",
                format!("keyid \"{ENROLL_KEY_ID}\" is accepted only on POST {ENROLL_PATH}; sign with the terminal id you were given"),
            ));
        }
        let enroll: EnrollRequest = parse_json(&body)?;
        (enrolling_key(&enroll.public_key)?, Caller::Enrolling)
    } else {
        if path == ENROLL_PATH {
            return Err(unauthorized(
                "signature_invalid",
                format!("enrollment must be signed with keyid=\"{ENROLL_KEY_ID}\" by the key being enrolled"),
            ));
        }
        let keyid = signature.keyid.clone();
        let stored: Option<Vec<u8>> = blocking(node, move |node| {
            Ok(node
                .db()
                .prepare_cached("SELECT public_key FROM terminals WHERE terminal_id = ?1")?
                .query_row([&keyid], |r| r.get(0))
                .optional()?)
        })
        .await?;
        let unknown = || {
            unauthorized(
                "unknown_key",
                format!("no terminal '{}' is enrolled at this node: enrol the terminal again", signature.keyid),
            )
        };
        let bytes: [u8; 32] = stored.ok_or_else(unknown)?.try_into().map_err(|_| unknown())?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| unknown())?;
        (key, Caller::Terminal(signature.keyid.clone()))
    };

    let header_pairs: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| value.to_str().ok().map(|v| (name.as_str(), v)))
        .collect();
    let authority = parts.uri.authority().map(|a| a.as_str()).or_else(|| header("host")).unwrap_or("");
    let request_parts = RequestParts { method: parts.method.as_str(), authority, path: &path, headers: &header_pairs };
    let now = chrono::Utc::now().timestamp();
    signature.verify(&key, &request_parts, &body, now).map_err(refusal)?;

    let (keyid, nonce) = (signature.keyid.clone(), signature.nonce.clone());
    let fresh = blocking(node, move |node| Ok(store::remember_nonce(&node.db(), &keyid, &nonce, now)?)).await?;
    if !fresh {
        return Err(unauthorized(
            "replayed",
            "this request's nonce was already used: every request needs a fresh nonce (a replayed request is refused)",
        ));
    }

    parts.extensions.insert(caller);
    Ok(Request::from_parts(parts, Body::from(body)))
}

/// The Ed25519 key an enrollment request carries.
fn enrolling_key(public_key: &str) -> Result<VerifyingKey, ApiError> {
    let bad = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_public_key",
            "public_key must be a 32-byte Ed25519 public key in standard base64",
        )
    };
    let bytes: [u8; 32] = STANDARD.decode(public_key.trim()).map_err(|_| bad())?.try_into().map_err(|_| bad())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad())
}
