//! `POST /v1/submissions`: files a batch of sealed envelopes, exactly once each.
//!
//! Idempotency is by envelope id. A repeat of a known id gets the first answer again
//! (`duplicate` with the first case number, or the same `rejected`); a known id with different
//! content is refused and the stored submission is left alone. The whole batch is one SQLite
//! transaction, committed before the answer leaves, so an acknowledged envelope is on disk and
//! a crash before the commit leaves nothing half-filed.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{Datelike, NaiveDate, SecondsFormat};
use node_protocol::reference::short_reference;
use matcher::Person;
use node_protocol::{
    AttachedReferral, BatchResponse, Envelope, HeadquartersCheck, SubmissionBatch, SubmissionContent, SubmissionOutcome, SubmissionResult,
    MAX_BATCH,
};
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::api::{blocking, parse_json, ApiError, Caller};
use crate::{duplicates, referrals, targeting};
use crate::node::Node;
use crate::store;

/// Reason given when a known id arrives with other content.
pub const ID_REUSED: &str = "id reused with different content";

/// Files the batch and answers one result per envelope, in order.
pub async fn submit(
    State(node): State<Arc<Node>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<BatchResponse>, ApiError> {
    let batch: SubmissionBatch = parse_json(&body)?;
    if batch.envelopes.is_empty() || batch.envelopes.len() > MAX_BATCH {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "batch_size",
            format!("a batch holds 1 to {MAX_BATCH} envelopes, this one has {}: split it", batch.envelopes.len()),
        ));
    }
    let Caller::Terminal(terminal_id) = caller else {
        return Err(ApiError::bad_body("submissions come from enrolled terminals"));
    };
    let (mut results, applicants, claims) = blocking(&node, move |node| {
        let filed = file_batch(node, &terminal_id, batch.envelopes);
        if filed.is_err() {
            // Applicants of a batch that did not commit may be in the index: rebuild it.
            node.forget_persons();
        }
        filed
    })
    .await?;
    // Headquarters is asked after the commit: the applications are filed whatever it answers.
    let persons = applicants.iter().map(|(_, person)| person.clone()).collect();
    if let Some(merged) = duplicates::check_at_headquarters(&node, persons, false).await {
        for (position, person) in &applicants {
            if let (Some(matches), SubmissionOutcome::Accepted { duplicate_check, .. }) =
                (merged.get(&person.case_number), &mut results[*position].outcome)
            {
                *duplicate_check = Some(duplicates::wire_check(matches, HeadquartersCheck::Checked));
            }
        }
    }
    // Referrals used here are claimed across provinces after the commit too; one already used
    // elsewhere turns `refused` (`already_used`), the application stays filed.
    let claimed: Vec<(usize, String)> = claims.iter().map(|(position, claim)| (*position, claim.case_number.clone())).collect();
    if let Some(checks) = referrals::claim_at_headquarters(&node, claims.into_iter().map(|(_, claim)| claim).collect(), false).await {
        for (position, case_number) in claimed {
            if let (Some(check), SubmissionOutcome::Accepted { referral_check, .. }) =
                (checks.get(&case_number), &mut results[position].outcome)
            {
                *referral_check = Some(check.clone());
            }
        }
    }
    Ok(Json(BatchResponse { results }))
}

/// A stored submission's content hash, outcome, case number and rejection reason.
type StoredVerdict = (Vec<u8>, String, Option<String>, Option<String>);

/// What the node keeps from an opened submission, for status queries.
struct Filed {
    reference: String,
    national_id: Option<String>,
    full_name: Option<String>,
    date_of_birth: Option<NaiveDate>,
    answers: String,
    /// The answers as fields, for the duplicate check.
    fields: serde_json::Map<String, serde_json::Value>,
    /// The partner referral the application carried.
    referral: Option<AttachedReferral>,
    /// The targeting questionnaire the application carried, scored at filing.
    targeting: Option<node_protocol::QuestionnaireAnswers>,
}

/// Newly filed applicants (their position in the results, the person) for headquarters.
type Applicants = Vec<(usize, Person)>;

/// Referrals accepted here (their position in the results, the claim) for headquarters.
type Claims = Vec<(usize, referrals::Claim)>;

fn file_batch(
    node: &Node,
    terminal_id: &str,
    envelopes: Vec<Envelope>,
) -> Result<(Vec<SubmissionResult>, Applicants, Claims), ApiError> {
    // Opening sealed content is the costly part (X25519 per envelope), so it happens first, on
    // every core and without holding the database: only envelopes not yet stored are opened.
    let known: HashSet<Uuid> = {
        let conn = node.db();
        let mut exists = conn.prepare_cached("SELECT 1 FROM submissions WHERE id = ?1")?;
        let mut known = HashSet::new();
        for envelope in &envelopes {
            if exists.exists([envelope.id.to_string()])? {
                known.insert(envelope.id);
            }
        }
        known
    };
    let mut opened = open_all(node, &envelopes, &known);

    let now = chrono::Utc::now();
    let received_at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let prefix = &node.province.code;
    let year = now.year();
    let sequence_name = format!("case_seq:{prefix}:{year}");

    let mut conn = node.db();
    let mut persons = node.persons(&conn)?;
    let persons = persons.get_or_insert_with(matcher::PersonIndex::new);
    let headquarters_status =
        if node.headquarters.is_some() { HeadquartersCheck::NotChecked } else { HeadquartersCheck::NotConfigured };
    let mut applicants = Vec::new();
    let mut claims = Vec::new();
    let today = referrals::today();
    // The formula in force when the batch is filed scores every questionnaire in it.
    let targeting_now = node.targeting();
    let tx = conn.transaction()?;
    let first_sequence = store::counter(&tx, &sequence_name)?;
    let mut sequence = first_sequence;
    let mut duplicates = 0i64;
    let mut results = Vec::with_capacity(envelopes.len());
    {
        let mut find = tx.prepare_cached(
            "SELECT content_sha256, outcome, case_number, reason FROM submissions WHERE id = ?1",
        )?;
        let mut redelivered = tx.prepare_cached("UPDATE submissions SET deliveries = deliveries + 1 WHERE id = ?1")?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO submissions (id, kind, content_sha256, terminal_id, created_at, form_version, received_at,
                 outcome, case_number, reason, deliveries, reference, national_id, full_name, date_of_birth, answers)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?12, ?13, ?14, ?15)",
        )?;
        for (index, envelope) in envelopes.into_iter().enumerate() {
            let id = envelope.id.to_string();
            let hash = content_hash(&envelope);
            let known: Option<StoredVerdict> = find
                .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?;
            let outcome = match known {
                Some((stored_hash, _, _, _)) if stored_hash != hash.as_slice() => {
                    tracing::warn!(submission = %id, terminal_id, "{ID_REUSED}; the stored submission is kept");
                    SubmissionOutcome::Rejected { reason: ID_REUSED.into() }
                }
                Some((_, outcome, case_number, reason)) => {
                    redelivered.execute([&id])?;
                    match (outcome.as_str(), case_number) {
                        ("accepted", Some(case_number)) => {
                            duplicates += 1;
                            SubmissionOutcome::Duplicate { case_number }
                        }
                        _ => SubmissionOutcome::Rejected { reason: reason.unwrap_or_default() },
                    }
                }
                None => {
                    let created_at = envelope.created_at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
                    // Another request may have filed this id since the check above; the lookup
                    // in this transaction is the one that counts, and a missing opening is done now.
                    let verdict = opened[index].take().unwrap_or_else(|| open(node, &envelope));
                    // One row either way: the filing with its case number, or the refusal with
                    // its reason, so the same id again gets the same answer.
                    let (status, case_number, reason, filed) = match verdict {
                        Ok(filed) => {
                            sequence += 1;
                            ("accepted", Some(format!("{prefix}-{year}-{sequence:06}")), None, Some(filed))
                        }
                        Err(reason) => {
                            tracing::info!(submission = %id, terminal_id, reason, "submission rejected");
                            ("rejected", None, Some(reason), None)
                        }
                    };
                    insert.execute(params![
                        id,
                        envelope.kind.as_str(),
                        hash.as_slice(),
                        terminal_id,
                        created_at,
                        envelope.form_version,
                        received_at,
                        status,
                        case_number,
                        reason,
                        filed.as_ref().map_or_else(|| short_reference(&envelope.id), |f| f.reference.clone()),
                        filed.as_ref().and_then(|f| f.national_id.as_deref()),
                        filed.as_ref().and_then(|f| f.full_name.as_deref()),
                        filed.as_ref().and_then(|f| f.date_of_birth).map(|d| d.to_string()),
                        filed.as_ref().map(|f| f.answers.as_str()),
                    ])?;
                    // The duplicate check is stored with the filing, in the same transaction.
                    let applicant = match (&case_number, &filed) {
                        (Some(case_number), Some(filed)) if envelope.kind == node_protocol::SubmissionKind::Application => {
                            duplicates::person_from_answers(case_number, &filed.fields)
                        }
                        _ => None,
                    };
                    let duplicate_check = match applicant {
                        Some(person) => {
                            let matches = duplicates::check_in(persons, &person);
                            duplicates::store_check(&tx, &person.case_number, &matches, headquarters_status)?;
                            persons.insert(person.clone());
                            applicants.push((index, person));
                            Some(duplicates::wire_check(&matches, headquarters_status))
                        }
                        None => None,
                    };
                    // The referral is checked and recorded with the filing; a bad one is
                    // refused with its reason, the application filed all the same.
                    let referral_check = match (&case_number, filed.as_ref().and_then(|f| f.referral.as_ref())) {
                        (Some(case_number), Some(attached)) if envelope.kind == node_protocol::SubmissionKind::Application => {
                            let (check, claim) = referrals::check_and_record(&tx, attached, case_number, today, headquarters_status)?;
                            if let Some(claim) = claim {
                                claims.push((index, claim));
                            }
                            Some(check)
                        }
                        _ => None,
                    };
                    // The PMT score stays here: the outcome the terminal gets carries none.
                    if let (Some(case_number), Some(answers)) = (&case_number, filed.as_ref().and_then(|f| f.targeting.as_ref())) {
                        if envelope.kind == node_protocol::SubmissionKind::Application {
                            targeting::record(&tx, case_number, &answers.form_version, &targeting_now.formula, &answers.answers)?;
                        }
                    }
                    match (case_number, reason) {
                        (Some(case_number), _) => SubmissionOutcome::Accepted { case_number, duplicate_check, referral_check },
                        (None, reason) => SubmissionOutcome::Rejected { reason: reason.unwrap_or_default() },
                    }
                }
            };
            results.push(SubmissionResult { id: envelope.id, outcome });
        }
    }
    store::bump_counter(&tx, &sequence_name, sequence - first_sequence)?;
    store::bump_counter(&tx, "deliveries", results.len() as i64)?;
    store::bump_counter(&tx, "duplicate_deliveries", duplicates)?;
    tx.commit()?;
    Ok((results, applicants, claims))
}

/// Opens every envelope not in `known`, spread over the available cores.
fn open_all(node: &Node, envelopes: &[Envelope], known: &HashSet<Uuid>) -> Vec<Option<Result<Filed, String>>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let chunk = envelopes.len().div_ceil(workers).max(1);
    let open_chunk = |part: &[Envelope]| -> Vec<Option<Result<Filed, String>>> {
        part.iter().map(|e| (!known.contains(&e.id)).then(|| open(node, e))).collect()
    };
    if workers == 1 || envelopes.len() < 16 {
        return open_chunk(envelopes);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = envelopes.chunks(chunk).map(|part| scope.spawn(move || open_chunk(part))).collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

/// SHA-256 over what identifies an envelope's content: kind, creation time (normalised),
/// form version and the sealed bytes as sent.
fn content_hash(envelope: &Envelope) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in [
        envelope.kind.as_str(),
        &envelope.created_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        &envelope.form_version,
        &envelope.sealed,
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().into()
}

/// Opens a new envelope and checks it can be filed; `Err` is the rejection reason.
fn open(node: &Node, envelope: &Envelope) -> Result<Filed, String> {
    let sealed = STANDARD
        .decode(envelope.sealed.trim())
        .map_err(|_| "sealed is not standard base64".to_string())?;
    let plaintext = node.identity.open(&sealed).map_err(|e| {
        format!("sealed content cannot be opened with this node's key ({e}); seal to the recipient the node gave at enrollment")
    })?;
    let content: SubmissionContent = serde_json::from_slice(&plaintext)
        .map_err(|e| format!("sealed content is not a valid SubmissionContent: {e}"))?;
    if content.id != envelope.id {
        return Err(format!("sealed content belongs to submission {}, not to this envelope", content.id));
    }
    if content.kind != envelope.kind {
        return Err(format!(
            "envelope kind '{}' does not match the sealed content's kind '{}'",
            envelope.kind.as_str(),
            content.kind.as_str()
        ));
    }
    if content.form_version != envelope.form_version {
        return Err("envelope form_version does not match the sealed content's form_version".into());
    }
    let config = node.config();
    let form = config
        .forms
        .iter()
        .filter(|f| f.id != node_protocol::TARGETING_FORM_ID)
        .find(|f| f.id == content.form_id)
        .ok_or_else(|| format!("unknown form '{}': this node has application and grievance", content.form_id))?;
    if form.kind != content.kind {
        return Err(format!("form '{}' is not a {} form", form.id, content.kind.as_str()));
    }
    if form.version != content.form_version {
        return Err(format!(
            "form '{}' version '{}' is not known here (current: '{}'); fetch GET /v1/config",
            form.id, content.form_version, form.version
        ));
    }
    let answer = |key: &str| content.answers.get(key).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty());
    let full_name = answer("full_name").map(str::to_owned).or_else(|| {
        let parts: Vec<&str> = ["first_name", "father_name", "grandfather_name", "family_name"]
            .into_iter()
            .filter_map(answer)
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    Ok(Filed {
        reference: short_reference(&envelope.id),
        national_id: answer("national_id").map(crate::api::status::ascii_digits),
        full_name,
        date_of_birth: answer("date_of_birth").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        answers: serde_json::Value::Object(content.answers.clone()).to_string(),
        fields: content.answers,
        referral: content.referral,
        // Scored whatever questionnaire version it follows: a terminal offline across a change
        // of questions still delivers, and the score records which version it answered.
        targeting: content.targeting.filter(|t| t.form_id == node_protocol::TARGETING_FORM_ID),
    })
}
