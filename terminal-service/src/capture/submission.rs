//! Capturing one application or grievance: validate, seal, and commit it to the outbox.
//!
//! The order is the security model: the answers are checked against the cached form, turned
//! into a [`SubmissionContent`], sealed to the node's key, and only the ciphertext plus routing
//! metadata (id, kind, times, form version) is written. [`capture`] returns only after the
//! outbox transaction is durable, which is what lets the kiosk say "saved" and print a receipt.

use std::sync::Arc;

use serde_json::json;
use node_protocol::{QuestionnaireAnswers, SubmissionContent, SubmissionKind, TARGETING_FORM_ID};
use thiserror::Error;
use uuid::Uuid;

use crate::audit::AuditCategory;
use crate::events::{Event, SubmissionState};
use crate::capture::forms::{self, FieldError};
use crate::capture::outbox::NewSubmission;
use crate::capture::seal::SealError;
use crate::capture::storage::StorageError;
use crate::terminal::Terminal;

// What the kiosk sends and gets back are the local API's.
pub use local_api::{CaptureRequest, Captured};

/// Why a submission was not captured.
#[derive(Debug, Error)]
pub enum CaptureError {
    /// No enrollment yet.
    #[error("this terminal is not provisioned: a technician must provision it first")]
    NotProvisioned,
    /// No cached form of this kind.
    #[error("no {0} form is available yet: the terminal has not received its configuration from the node")]
    NoForm(&'static str),
    /// The answers do not satisfy the form.
    #[error("some answers are not valid: see fields")]
    Invalid(Vec<FieldError>),
    /// Sealing failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The outbox could not commit it; nothing was saved.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Validates, seals and durably queues one submission, then wakes the sync engine.
pub async fn capture(terminal: &Arc<Terminal>, kind: SubmissionKind, mut request: CaptureRequest) -> Result<Captured, CaptureError> {
    let provisioned = terminal.provisioned().ok_or(CaptureError::NotProvisioned)?;
    let (node_config, form) = terminal.form(kind).ok_or(CaptureError::NoForm(kind.as_str()))?;

    let mut problems = Vec::new();
    if !terminal.config.kiosk.languages.contains(&request.language) {
        problems.push(FieldError {
            field: "language".into(),
            message: format!("unknown language: use one of {}", terminal.config.kiosk.languages.join(", ")),
        });
    }
    if let Some(staff) = &request.assisted_by {
        if !node_config.staff.members.iter().any(|m| &m.staff_id == staff) {
            problems.push(FieldError { field: "assisted_by".into(), message: "not a staff id of this province's roster".into() });
        }
    }
    if request.duplicate_override.is_some() {
        if kind != SubmissionKind::Application {
            problems.push(FieldError { field: "duplicate_override".into(), message: "only an application can override the duplicate warning; leave it out".into() });
        } else if request.assisted_by.is_none() {
            problems.push(FieldError {
                field: "duplicate_override".into(),
                message: "only staff may submit despite the duplicate warning: log in and set assisted_by to your staff id".into(),
            });
        }
    }
    let referral = match request.referral.take() {
        Some(_) if kind != SubmissionKind::Application => {
            problems.push(FieldError { field: "referral".into(), message: "only an application comes with a partner referral; leave it out".into() });
            None
        }
        Some(attached) => match canonical_referral(attached) {
            Ok(attached) => Some(attached),
            Err(message) => {
                problems.push(FieldError { field: "referral".into(), message });
                None
            }
        },
        None => None,
    };
    if let Err(mut errors) = forms::validate(&form, &node_config.master_data, &request.answers) {
        problems.append(&mut errors);
    }
    // The targeting questionnaire travels with an application, checked against the version
    // of it cached now; the node scores it (the terminal never sees a score).
    let targeting = match request.targeting {
        None => None,
        Some(answers) => match node_config.forms.iter().find(|f| f.id == TARGETING_FORM_ID) {
            _ if kind != SubmissionKind::Application => {
                problems.push(FieldError { field: "targeting".into(), message: "only an application carries the targeting questionnaire; leave it out".into() });
                None
            }
            None => {
                problems.push(FieldError {
                    field: "targeting".into(),
                    message: "the node serves no targeting questionnaire (or the terminal has not received it yet): leave it out".into(),
                });
                None
            }
            Some(questionnaire) => {
                if let Err(errors) = forms::validate(questionnaire, &node_config.master_data, &answers) {
                    problems.extend(errors.into_iter().map(|e| FieldError { field: format!("targeting.{}", e.field), message: e.message }));
                }
                Some(QuestionnaireAnswers { form_id: questionnaire.id.clone(), form_version: questionnaire.version.clone(), answers })
            }
        },
    };
    if !problems.is_empty() {
        return Err(CaptureError::Invalid(problems));
    }

    let id = Uuid::now_v7();
    // The terminal's time: the local clock corrected by what the node taught, if it has.
    let created_at = terminal.storage.clock().now();
    let applicant_key = forms::national_id(&form, &request.answers).map(|n| terminal.applicant_key(n));
    let referral_code = referral.as_ref().map(|r| r.code.clone());
    let content = SubmissionContent {
        id,
        kind,
        form_id: form.id.clone(),
        form_version: form.version.clone(),
        language: request.language,
        answers: request.answers,
        assisted_by: request.assisted_by.clone(),
        terminal_id: provisioned.enrollment.terminal_id.clone(),
        duplicate_override: request.duplicate_override,
        referral,
        targeting,
    };
    // Sealing is CPU work (X25519 + ChaCha20-Poly1305); the plaintext lives only in this task.
    let sealer = Arc::clone(&provisioned.sealer);
    let sealed = tokio::task::spawn_blocking(move || {
        let plaintext = serde_json::to_vec(&content).map_err(|e| SealError::Encrypt(e.to_string()))?;
        sealer.seal(&plaintext)
    })
    .await
    .map_err(|e| StorageError::Task(e.to_string()))??;

    let submission = NewSubmission { id, kind, created_at, form_version: form.version.clone(), sealed, applicant_key };
    // The duplicate check and the insert run in one job of the group commit, so two captures
    // of the same person at the same time cannot both miss each other; the answer comes after
    // the commit that holds the row.
    let duplicate_warning = terminal
        .storage
        .write(move |group| {
            let seen = match &submission.applicant_key {
                Some(key) => group.has_applicant_key(key)?,
                None => false,
            };
            group.enqueue(&submission)?;
            Ok(seen)
        })
        .await?;

    tracing::info!(%id, kind = kind.as_str(), duplicate_warning, "submission queued");
    if let (Some(duplicate_override), Some(staff_id)) = (request.duplicate_override, &request.assisted_by) {
        // The submission is already durable: a failed audit append is logged (by `audit`) but
        // must not turn a saved application into an error the kiosk would retry.
        let _ = terminal
            .storage
            .audit(
                AuditCategory::Staff,
                "duplicate_override",
                json!({
                    "staff_id": staff_id,
                    "reason": duplicate_override.reason.as_str(),
                    "submission_id": id,
                    "sent_from_this_terminal": duplicate_warning,
                }),
            )
            .await;
    }
    if let Some(code) = referral_code {
        // The short code only: the payload holds the partner's case number.
        let _ = terminal
            .storage
            .audit(AuditCategory::Staff, "referral_used", json!({"code": code, "submission_id": id}))
            .await;
    }
    terminal.sync_wake.notify_one();
    terminal.events.publish(Event::submission(id, SubmissionState::Queued));
    terminal.publish_queue().await;
    Ok(Captured { id, reference: node_protocol::reference::short_reference(&id), created_at, duplicate_warning })
}

/// The attached referral in canonical form: the short code as the node spells it, and a
/// payload (when given) that is a referral whose short code is that code. The signature and
/// dates are the node's to judge on delivery (`referral_check`): the kiosk checked them first
/// with `POST /v1/referrals/check`.
fn canonical_referral(attached: node_protocol::AttachedReferral) -> Result<node_protocol::AttachedReferral, String> {
    use node_protocol::referral::{ShortCode, SignedReferral};
    let code = ShortCode::parse(&attached.code).map_err(|e| format!("code: {e}"))?.to_string();
    if let Some(payload) = &attached.payload {
        let signed = SignedReferral::parse(payload).map_err(|e| format!("payload: {e}"))?;
        if signed.referral.short_code() != code {
            return Err(format!("payload is referral {}, not {code}: send the code and payload of the same slip", signed.referral.short_code()));
        }
    }
    Ok(node_protocol::AttachedReferral { code, payload: attached.payload })
}
