//! The partners' API: a partner records the referrals it signed (`POST /v1/partners/referrals`)
//! and reads its report (`GET /v1/partners/report`).
//!
//! Authenticated like terminals, with an RFC 9421 Ed25519 signature (same profile, same replay
//! protection), but by the partner's own referral key: `keyid` is the partner's code and the key
//! must be one the node trusts for it (`provincial-node partners add`). A partner is another
//! organisation on another host, so the node operators' loopback admin listener is not for it;
//! and the key it already holds to sign referrals proves who it is, so it needs no second
//! secret. The two uses cannot be confused: a referral signature covers
//! `node_protocol::referral::SIGNING_CONTEXT` and a body, a request signature an RFC 9421
//! signature base, which never begins with that context. A partner sees only its own report.
//!
//! The node never holds a partner's private key, so "issuing" through the API is the partner
//! signing a referral (`node_protocol::referral`, or `provincial-node referrals issue --node`)
//! and the node recording it: only then can its short code be looked up by kiosks.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::Json;
use node_protocol::digest::CONTENT_DIGEST;
use node_protocol::referral::{ReferralError, SignedReferral};
use node_protocol::signature::{ParsedRequestSignature, RequestParts, SignatureError, SIGNATURE, SIGNATURE_INPUT};
use serde::{Deserialize, Serialize};

use crate::api::{blocking, parse_json, ApiError};
use crate::node::Node;
use crate::referrals::{self, PartnerReport, RecordError};

/// Path of the partner's referral recording call.
pub const REFERRALS_PATH: &str = "/v1/partners/referrals";
/// Path of the partner's report.
pub const REPORT_PATH: &str = "/v1/partners/report";

/// `POST /v1/partners/referrals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRequest {
    /// The signed referral, as its QR code carries it.
    pub payload: String,
}

/// Answer to `POST /v1/partners/referrals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordResponse {
    /// The short code to print on the slip.
    pub code: String,
    /// The payload as recorded (canonical).
    pub payload: String,
}

fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// Verifies a partner's signature of the request and returns the partner's code.
async fn verify_partner(node: &Arc<Node>, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<String, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let refusal = |e: SignatureError| {
        let code = match &e {
            SignatureError::MissingHeader(_) => "signature_missing",
            SignatureError::DigestMismatch => "digest_mismatch",
            SignatureError::Stale { .. } => "signature_stale",
            _ => "signature_invalid",
        };
        unauthorized(code, e.to_string())
    };
    if header(CONTENT_DIGEST).is_none() {
        return Err(refusal(SignatureError::MissingHeader(CONTENT_DIGEST)));
    }
    let signature = ParsedRequestSignature::parse(header(SIGNATURE_INPUT), header(SIGNATURE)).map_err(refusal)?;
    let partner = signature.keyid.clone();
    let lookup = partner.clone();
    let keys: Vec<_> = blocking(node, move |node| Ok(referrals::trusted(&node.db())?))
        .await?
        .into_iter()
        .filter(|t| t.code == lookup)
        .collect();
    if keys.is_empty() {
        return Err(unauthorized(
            "unknown_key",
            format!("no partner '{partner}' is trusted at this node: its operator adds it with `provincial-node partners add {partner} --key KEY`"),
        ));
    }
    let pairs: Vec<(&str, &str)> = headers.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
    let parts = RequestParts { method: method.as_str(), authority: uri.authority().map_or("", |a| a.as_str()), path: uri.path(), headers: &pairs };
    let now = chrono::Utc::now().timestamp();
    // Any of the partner's keys (it may be rotating); the last error is the one reported.
    let mut verdict = Err(SignatureError::BadSignature(partner.clone()));
    for key in &keys {
        verdict = signature.verify(&key.key, &parts, body, now);
        if verdict.is_ok() {
            break;
        }
    }
    verdict.map_err(refusal)?;
    let (keyid, nonce) = (format!("partner:{partner}"), signature.nonce.clone());
    let fresh = blocking(node, move |node| Ok(crate::store::remember_nonce(&node.db(), &keyid, &nonce, now)?)).await?;
    if !fresh {
        return Err(unauthorized("replayed", "this request's nonce was already used: every request needs a fresh nonce"));
    }
    Ok(partner)
}

/// Records a referral the calling partner signed.
pub async fn record(
    State(node): State<Arc<Node>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<RecordResponse>), ApiError> {
    let partner = verify_partner(&node, &method, &uri, &headers, &body).await?;
    let request: RecordRequest = parse_json(&body)?;
    let invalid = |error: ReferralError| ApiError::new(StatusCode::BAD_REQUEST, "invalid_referral", error.to_string());
    let signed = SignedReferral::parse(&request.payload).map_err(invalid)?;
    if signed.referral.partner != partner {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "foreign_partner",
            format!("the referral is partner {}'s, the request partner {partner}'s: a partner records only its own referrals", signed.referral.partner),
        ));
    }
    let payload = signed.payload();
    let recorded = blocking(&node, move |node| Ok(referrals::record(&node.db(), &signed, "api"))).await?;
    match recorded {
        Ok(code) => Ok((StatusCode::CREATED, Json(RecordResponse { code, payload }))),
        Err(RecordError::Referral(error)) => Err(invalid(error)),
        Err(error @ RecordError::UnknownGovernorate(_)) => Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_referral", error.to_string())),
        Err(error @ RecordError::SerialUsed { .. }) => Err(ApiError::new(StatusCode::CONFLICT, "serial_used", error.to_string())),
        Err(RecordError::Database(error)) => Err(error.into()),
        Err(error @ RecordError::BadKey) => Err(ApiError::internal(error)),
    }
}

/// The calling partner's report.
pub async fn report(
    State(node): State<Arc<Node>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<PartnerReport>, ApiError> {
    let partner = verify_partner(&node, &method, &uri, &headers, &body).await?;
    let code = partner.clone();
    let lines = blocking(&node, move |node| Ok(referrals::report(&node.db(), Some(&code))?)).await?;
    lines.into_iter().find(|l| l.partner == partner).map(Json).ok_or_else(|| ApiError::internal("a trusted partner has no report line"))
}
