//! `GET /v1/referrals/{code}`: a kiosk online looks up the referral a household typed the short
//! code of, to prefill the application and attach the whole signed referral to it. Signed by the
//! terminal like every terminal call; answers only what the slip itself says, and whether it is
//! usable today (an expired or already used referral is answered, with the reason, so staff can
//! tell the household before it fills the form).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use node_protocol::referral::ShortCode;
use node_protocol::ReferralLookup;

use crate::api::{blocking, ApiError, Caller};
use crate::node::Node;
use crate::referrals;

/// Answers the referral recorded under `code`.
pub async fn lookup(
    State(node): State<Arc<Node>>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
) -> Result<Json<ReferralLookup>, ApiError> {
    if !matches!(caller, Caller::Terminal(_)) {
        return Err(ApiError::bad_body("referral look-ups come from enrolled terminals"));
    }
    let code = ShortCode::parse(&code).map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, "invalid_referral_code", error.to_string()))?;
    let found = blocking(&node, move |node| Ok(referrals::lookup(&node.db(), &code, referrals::today())?.ok_or(code))).await?;
    found.map(Json).map_err(|code| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "referral_unknown",
            format!("no referral {code} was issued through this node: check the code on the slip, or scan its QR code"),
        )
    })
}
