//! `POST /v1/referrals/check`: a partner referral checked before the form is filled in from
//! it (issue 14). The offline half is [`crate::referrals::check_offline`]; a typed code is
//! also looked up at the node within [`NODE_LOOKUP_TIMEOUT`], as the pre-check asks it.
//! Only the short code and the reason are audited, never the payload (it holds a partner
//! case number).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use local_api::{ReferralCheckAnswer, ReferralCheckRequest, ReferralCheckStatus, ReferralPrefill};
use serde_json::json;

use super::error::{ApiError, JsonBody};
use super::ApiState;
use crate::audit::AuditCategory;
use crate::events::ConnectivityState;
use crate::referrals::{check_offline, CheckStatus, ReferralCheck, ReferralInput};
use crate::terminal::Terminal;

/// The longest the node's look-up may take: staff and the household stand waiting.
pub const NODE_LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// `POST /v1/referrals/check`.
pub async fn post(State(state): State<ApiState>, JsonBody(body): JsonBody<ReferralCheckRequest>) -> Result<Json<ReferralCheckAnswer>, ApiError> {
    let terminal = &state.terminal;
    let input = match (body.code, body.payload) {
        (Some(code), None) => ReferralInput::Code(code),
        (None, Some(payload)) => ReferralInput::Payload(payload),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "give exactly one of code (the short code as typed) and payload (the scanned QR text)",
            ))
        }
    };
    let partners = terminal.node_config().map(|c| c.referral_partners.clone()).unwrap_or_default();
    let now = Utc::now();
    let check = check_offline(&input, &partners, now.date_naive(), crate::clock::is_set(now));
    let mut answer = to_answer(check);
    if matches!(input, ReferralInput::Code(_)) && answer.status == ReferralCheckStatus::Unchecked {
        if let Some(code) = answer.code.clone() {
            if let Some(looked_up) = ask_node(terminal, &code).await {
                answer = looked_up;
            }
        }
    }
    if answer.status == ReferralCheckStatus::Invalid {
        let _ = terminal
            .storage
            .audit(AuditCategory::Staff, "referral_check_refused", json!({"code": answer.code, "reason": answer.reason_code}))
            .await;
    }
    Ok(Json(answer))
}

fn to_answer(check: ReferralCheck) -> ReferralCheckAnswer {
    ReferralCheckAnswer {
        status: match check.status {
            CheckStatus::Valid => ReferralCheckStatus::Valid,
            CheckStatus::Invalid => ReferralCheckStatus::Invalid,
            CheckStatus::Unchecked => ReferralCheckStatus::Unchecked,
        },
        code: check.code,
        reason_code: check.reason_code.map(str::to_owned),
        reason: check.reason,
        prefill: check.prefill.map(|p| ReferralPrefill {
            household_size: p.household_size,
            governorate: p.governorate,
            partner: p.partner,
            partner_case_number: p.partner_case_number,
        }),
        payload: check.payload,
    }
}

/// The node's look-up of a typed code, within [`NODE_LOOKUP_TIMEOUT`]; `None` when it could
/// not answer (the offline verdict stands).
async fn ask_node(terminal: &Terminal, code: &str) -> Option<ReferralCheckAnswer> {
    let provisioned = terminal.provisioned()?;
    match tokio::time::timeout(NODE_LOOKUP_TIMEOUT, provisioned.client.lookup_referral(code)).await {
        Ok(Ok(found)) => {
            terminal.mark_connectivity(ConnectivityState::Online);
            let reason_code = found.reason.map(|r| r.as_str().to_owned());
            Some(ReferralCheckAnswer {
                status: if found.usable { ReferralCheckStatus::Valid } else { ReferralCheckStatus::Invalid },
                reason: reason_code.as_ref().map(|r| format!("the node refuses this referral ({r}); the household asks the partner")),
                reason_code,
                prefill: Some(ReferralPrefill {
                    household_size: found.household_size,
                    governorate: found.governorate,
                    partner: found.partner,
                    partner_case_number: found.partner_case,
                }),
                payload: Some(found.payload),
                code: Some(found.code),
            })
        }
        Ok(Err(e)) if e.is_transient() => {
            terminal.mark_connectivity(ConnectivityState::Offline);
            tracing::info!(error = %e, "referral look-up: the node cannot be reached");
            None
        }
        Ok(Err(e @ crate::delivery::node_client::NodeError::Refused { status: 404, .. })) => {
            // Not issued through this node (or mistyped past its check character).
            tracing::info!(error = %e, code, "referral look-up: the node does not know it");
            Some(ReferralCheckAnswer {
                status: ReferralCheckStatus::Invalid,
                code: Some(code.to_owned()),
                reason_code: Some("not_found".into()),
                reason: Some(format!("the node does not know referral {code}: check the code on the slip, or scan its QR code")),
                prefill: None,
                payload: None,
            })
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "referral look-up: the node refused the request");
            None
        }
        Err(_) => {
            tracing::info!(timeout_s = NODE_LOOKUP_TIMEOUT.as_secs(), "referral look-up: the node did not answer in time");
            None
        }
    }
}
