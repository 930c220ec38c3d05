//! `POST /v1/precheck`: is this national id already registered? The kiosk's early warning.
//!
//! The answer is one word, `registered` or `not_found`: never whose record, which case or
//! where, so a terminal (or someone at it) learns no more than the warning needs. Nothing here
//! logs the national id, not even on a refusal.
//!
//! [`precheck_answer`] is the one place the answer is decided: this province's own records
//! ([`registered_in_province`]) first, then, when the node has headquarters
//! (`serve --headquarters`), the other provinces through it. Headquarters unreachable or slow
//! (1.5 s): the province's answer stands, and the node's log says headquarters was not asked.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use node_protocol::{PrecheckRequest, PrecheckResponse, PrecheckResult};
use rusqlite::OptionalExtension;

use super::status::ascii_digits;
use crate::api::{blocking, parse_json, ApiError};
use crate::node::Node;
use crate::seed::SAMPLE_APPLICANTS;

/// Answers a pre-check.
pub async fn precheck(State(node): State<Arc<Node>>, body: Bytes) -> Result<Json<PrecheckResponse>, ApiError> {
    let request: PrecheckRequest = parse_json(&body)?;
    let national_id = ascii_digits(&request.national_id);
    if national_id.len() != 12 || !national_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_national_id",
            "national_id must be the 12 digits of the unified national ID card",
        ));
    }
    let result = precheck_answer(&node, national_id).await?;
    Ok(Json(PrecheckResponse { result }))
}

/// The pre-check's answer for `national_id` (12 ASCII digits): the one place every source of
/// "already registered" goes through. This province answers first; headquarters (every
/// province's registry) is asked when the province says `not_found`.
pub async fn precheck_answer(node: &Arc<Node>, national_id: String) -> Result<PrecheckResult, ApiError> {
    let id = national_id.clone();
    let mut registered = blocking(node, move |node| registered_in_province(node, &id)).await?;
    if !registered {
        if let Some(headquarters) = &node.headquarters {
            match headquarters.registered(&national_id).await {
                Ok(elsewhere) => registered = elsewhere,
                Err(error) => tracing::warn!(%error, "pre-check answered from this province only"),
            }
        }
    }
    Ok(if registered { PrecheckResult::Registered } else { PrecheckResult::NotFound })
}

/// Whether this node knows `national_id`: one of the programme's records it holds (the seeded
/// sample applicants, as `POST /v1/status` answers them), or an application it accepted.
/// Grievances do not count: filing a complaint does not register anyone.
pub fn registered_in_province(node: &Node, national_id: &str) -> Result<bool, ApiError> {
    if SAMPLE_APPLICANTS.iter().any(|a| a.national_id == national_id) {
        return Ok(true);
    }
    let found = node
        .db()
        .prepare_cached(
            "SELECT 1 FROM submissions
             WHERE national_id = ?1 AND kind = 'application' AND outcome = 'accepted' LIMIT 1",
        )?
        .query_row([national_id], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}
