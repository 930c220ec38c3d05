//! `POST /v1/sessions`, `GET /v1/sessions/current`, `DELETE /v1/sessions/current`: staff login
//! with the badge on the reader and a PIN, and logout.
//!
//! The order of checks is the security model: the badge must be on the reader now (the
//! service knows it from the reader loop; the UI never sends a UID), its keyed hash must be in
//! the roster, the badge must not be locked out, and only then is the PIN checked — with
//! Argon2 on the blocking pool, since it is slow by design. Every outcome is audited with the
//! staff id or, for an unknown badge, the badge hash; never the PIN.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use local_api::Login;
use serde_json::json;

use super::error::{ApiError, JsonBody};
use super::ApiState;
use crate::audit::AuditCategory;
use crate::events::{Event, SessionEvent};
use crate::staff::session::{announce_end, EndReason, Failure, NewSession, SessionView};
use crate::staff::{find_member, roster_badge_hash, verify_pin};

/// Longest PIN accepted (the roster's are 4 to 8 digits; anything longer is not a PIN).
pub const MAX_PIN_LENGTH: usize = 32;

/// `POST /v1/sessions`.
pub async fn post(State(state): State<ApiState>, JsonBody(login): JsonBody<Login>) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let terminal = &state.terminal;
    let pin = super::status_checks::ascii_digits(login.pin.trim());
    if pin.is_empty() || pin.chars().count() > MAX_PIN_LENGTH {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", format!("pin must be the staff PIN (1 to {MAX_PIN_LENGTH} digits)")));
    }
    let config = terminal.node_config().ok_or_else(ApiError::not_provisioned)?;
    // One login at a time: the lockout check and the failure count of concurrent attempts
    // must not interleave (see `session`).
    let _one_at_a_time = terminal.sessions.login.lock().await;

    let Some(uid) = terminal.devices.card().uid else {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "no_badge", "no badge on the card reader: put the staff badge on the reader, then enter the PIN"));
    };
    let badge_hash = roster_badge_hash(&config.staff, uid.as_bytes()).map_err(ApiError::internal)?;
    let Some(member) = find_member(&config.staff, &badge_hash).cloned() else {
        let _ = terminal.storage.audit(AuditCategory::Staff, "login_unknown_badge", json!({"badge_hash": badge_hash})).await;
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "unknown_badge", "this card is not a staff badge of this province's roster; use your own badge"));
    };
    if let Some(left) = terminal.sessions.locked_out(&badge_hash) {
        return Err(locked_out(left.as_secs().max(1)));
    }

    let checked = {
        let member = member.clone();
        tokio::task::spawn_blocking(move || verify_pin(&member, &pin)).await.map_err(ApiError::internal)?
    };
    let correct = checked.map_err(ApiError::internal)?;
    if !correct {
        return match terminal.sessions.record_failure(&badge_hash) {
            Failure::AttemptsLeft(left) => {
                let _ = terminal.storage.audit(AuditCategory::Staff, "login_failed", json!({"staff_id": member.staff_id, "attempts_left": left})).await;
                Err(ApiError::new(StatusCode::UNAUTHORIZED, "wrong_pin", format!("wrong PIN; {left} attempt(s) left before this badge is locked for 5 minutes"))
                    .with_attempts_left(left))
            }
            Failure::LockedOut(duration) => {
                let seconds = duration.as_secs();
                let _ = terminal.storage.audit(AuditCategory::Staff, "login_failed", json!({"staff_id": member.staff_id, "attempts_left": 0})).await;
                let _ = terminal.storage.audit(AuditCategory::Staff, "login_locked_out", json!({"staff_id": member.staff_id, "retry_after_s": seconds})).await;
                tracing::warn!(staff_id = %member.staff_id, "badge locked out after repeated wrong PINs");
                Err(locked_out(seconds))
            }
        };
    }
    // The badge must still be the one on the reader after the slow check.
    if terminal.devices.card().uid != Some(uid) {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "no_badge", "the badge left the reader during the login: put it back and enter the PIN again"));
    }
    terminal.sessions.clear_failures(&badge_hash);
    let (session, replaced) = terminal.sessions.start(NewSession {
        staff_id: member.staff_id.clone(),
        display_name: member.display_name.clone(),
        role: member.role,
        badge: uid,
    });
    if let Some(previous) = replaced {
        announce_end(terminal, &previous, EndReason::Replaced).await;
    }
    let role = serde_json::to_value(member.role).unwrap_or_default();
    let _ = terminal.storage.audit(AuditCategory::Staff, "login", json!({"staff_id": member.staff_id, "role": role})).await;
    tracing::info!(staff_id = %member.staff_id, "staff session started");
    terminal.events.publish(Event::Session(SessionEvent::started(session.clone())));
    Ok((StatusCode::CREATED, Json(session)))
}

fn locked_out(retry_after_s: u64) -> ApiError {
    let mut error = ApiError::new(
        StatusCode::LOCKED,
        "locked_out",
        format!("too many wrong PINs: this badge is locked for {} more minute(s)", retry_after_s.div_ceil(60)),
    );
    error.body.retry_after_s = Some(retry_after_s);
    error.retry_after = Some(retry_after_s);
    error
}

/// `GET /v1/sessions/current`.
pub async fn get_current(State(state): State<ApiState>) -> Result<Json<SessionView>, ApiError> {
    state.terminal.sessions.current().map(Json).ok_or_else(no_session)
}

/// `DELETE /v1/sessions/current`.
pub async fn delete_current(State(state): State<ApiState>) -> Result<StatusCode, ApiError> {
    let ended = state.terminal.sessions.end().ok_or_else(no_session)?;
    announce_end(&state.terminal, &ended, EndReason::Logout).await;
    Ok(StatusCode::NO_CONTENT)
}

fn no_session() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_session", "nobody is logged in at this terminal")
}
