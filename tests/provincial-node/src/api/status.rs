//! `POST /v1/status`: where an applicant's benefit or application stands.
//!
//! By national id: the programme's records (the seeded sample applicants), then applications
//! received here. By reference: the seeded references and received submissions, and only if
//! the date of birth matches too; a wrong date answers `not_found` exactly like an unknown
//! reference, so the answer never tells which of the two was wrong.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{Datelike, NaiveDate};
use node_protocol::reference::normalise_reference;
use node_protocol::{BenefitState, LocalizedText, StatusQuery, StatusRequest, StatusResponse, SubmissionKind};
use rusqlite::OptionalExtension;
use uuid::Uuid;

use crate::api::{blocking, parse_json, ApiError};
use crate::node::Node;
use crate::seed::{SampleApplicant, SAMPLE_APPLICANTS};

/// Answers a status query.
pub async fn status(State(node): State<Arc<Node>>, body: Bytes) -> Result<Json<StatusResponse>, ApiError> {
    let request: StatusRequest = parse_json(&body)?;
    let answer = match request.query {
        StatusQuery::NationalId { national_id } => {
            let national_id = ascii_digits(&national_id);
            if national_id.len() != 12 || !national_id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_national_id",
                    "national_id must be the 12 digits of the unified national ID card",
                ));
            }
            match SAMPLE_APPLICANTS.iter().find(|a| a.national_id == national_id) {
                Some(applicant) => known(applicant),
                None => {
                    let found = blocking(&node, move |node| {
                        Ok(node
                            .db()
                            .prepare_cached(
                                "SELECT kind, case_number, received_at FROM submissions
                                 WHERE national_id = ?1 AND outcome = 'accepted'
                                 ORDER BY kind = 'application' DESC, received_at DESC LIMIT 1",
                            )?
                            .query_row([&national_id], received_row)
                            .optional()?)
                    })
                    .await?;
                    found.map(received).unwrap_or_else(not_found)
                }
            }
        }
        StatusQuery::Reference { reference, date_of_birth } => {
            let by_id = Uuid::parse_str(reference.trim()).ok();
            let short = match by_id {
                Some(id) => node_protocol::reference::short_reference(&id),
                None => normalise_reference(&reference).ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_reference",
                        "reference must be the 10 characters printed on the receipt (XXXXX-XXXXX) or the full submission id",
                    )
                })?,
            };
            let seeded = SAMPLE_APPLICANTS
                .iter()
                .find(|a| by_id.is_none() && a.reference == short && a.dob() == Some(date_of_birth));
            match seeded {
                Some(applicant) => known(applicant),
                None => {
                    let dob = date_of_birth.to_string();
                    let id = by_id.map(|id| id.to_string());
                    let found = blocking(&node, move |node| {
                        Ok(node
                            .db()
                            .prepare_cached(
                                "SELECT kind, case_number, received_at FROM submissions
                                 WHERE reference = ?1 AND date_of_birth = ?2 AND outcome = 'accepted'
                                   AND (?3 IS NULL OR id = ?3)
                                 ORDER BY received_at DESC LIMIT 1",
                            )?
                            .query_row(rusqlite::params![short, dob, id], received_row)
                            .optional()?)
                    })
                    .await?;
                    found.map(received).unwrap_or_else(not_found)
                }
            }
        }
    };
    Ok(Json(answer))
}

/// National id digits typed or read in Arabic-Indic or Persian digits become ASCII digits;
/// spaces and dashes are dropped.
pub fn ascii_digits(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| match c {
            '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
            '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
            other => other,
        })
        .collect()
}

type ReceivedRow = (String, Option<String>, String);

fn received_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ReceivedRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn received((kind, case_number, received_at): ReceivedRow) -> StatusResponse {
    let kind: SubmissionKind = kind.parse().unwrap_or(SubmissionKind::Application);
    let updated_on = chrono::DateTime::parse_from_rfc3339(&received_at).ok().map(|t| t.date_naive());
    StatusResponse {
        state: BenefitState::Received,
        case_number,
        updated_on,
        next_payment_on: None,
        message: match kind {
            SubmissionKind::Application => LocalizedText::new(
                "استلمنا طلبك. ستتم مراجعته قريباً، ولا يلزمك أي إجراء الآن.",
                "داواکارییەکەتمان وەرگرت. بەم زووانە پێداچوونەوەی بۆ دەکرێت، ئێستا پێویست ناکات هیچ بکەیت.",
                "We have received your application. It will be reviewed soon; you do not need to do anything now.",
            ),
            SubmissionKind::Grievance => LocalizedText::new(
                "استلمنا شكواك. سنتواصل معك بعد دراستها.",
                "سکاڵاکەتمان وەرگرت. دوای لێکۆڵینەوە پەیوەندیت پێوە دەکەین.",
                "We have received your complaint. We will contact you after looking into it.",
            ),
        },
    }
}

fn known(applicant: &SampleApplicant) -> StatusResponse {
    let message = match applicant.state {
        BenefitState::Active => LocalizedText::new(
            "إعانتك فعالة. موعد الدفعة القادمة ظاهر على الشاشة.",
            "یارمەتییەکەت چالاکە. بەرواری پارەدانی داهاتوو لەسەر شاشەکە دیارە.",
            "Your benefit is active. The date of the next payment is shown on the screen.",
        ),
        BenefitState::UnderReview => LocalizedText::new(
            "طلبك قيد التدقيق. لا يلزمك أي إجراء الآن.",
            "داواکارییەکەت لە پشکنیندایە. ئێستا پێویست ناکات هیچ بکەیت.",
            "Your application is being checked. You do not need to do anything now.",
        ),
        BenefitState::Suspended => LocalizedText::new(
            "دفعاتك متوقفة مؤقتاً. يرجى مراجعة مركز الخدمة مع بطاقتك الوطنية.",
            "پارەدانەکانت بە کاتی ڕاگیراون. تکایە لەگەڵ کارتی نیشتمانییەکەت سەردانی نووسینگەی خزمەتگوزاری بکە.",
            "Your payments are paused. Please visit the One-Stop-Shop with your national ID card.",
        ),
        BenefitState::Rejected => LocalizedText::new(
            "لم تتم الموافقة على طلبك. يمكنك تقديم شكوى من هذا الجهاز.",
            "داواکارییەکەت پەسەند نەکرا. دەتوانیت لەم ئامێرەوە سکاڵا تۆمار بکەیت.",
            "Your application was not approved. You can file a complaint at this kiosk.",
        ),
        BenefitState::Received | BenefitState::NotFound => LocalizedText::new(
            "استلمنا طلبك. ستتم مراجعته قريباً.",
            "داواکارییەکەتمان وەرگرت. بەم زووانە پێداچوونەوەی بۆ دەکرێت.",
            "We have received your application. It will be reviewed soon.",
        ),
    };
    StatusResponse {
        state: applicant.state,
        case_number: Some(applicant.case_number.into()),
        updated_on: applicant.updated(),
        next_payment_on: (applicant.state == BenefitState::Active).then(next_payment_day),
        message,
    }
}

/// Benefits are paid on the first of each month.
fn next_payment_day() -> NaiveDate {
    let today = chrono::Utc::now().date_naive();
    let (year, month) = if today.month() == 12 { (today.year() + 1, 1) } else { (today.year(), today.month() + 1) };
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(today)
}

fn not_found() -> StatusResponse {
    StatusResponse {
        state: BenefitState::NotFound,
        case_number: None,
        updated_on: None,
        next_payment_on: None,
        message: LocalizedText::new(
            "لم نجد سجلاً بهذه المعلومات. تأكد منها وحاول مرة أخرى، أو اسأل الموظف.",
            "هیچ تۆمارێک بەم زانیاریانە نەدۆزرایەوە. دڵنیابەرەوە و دووبارە هەوڵ بدەرەوە، یان پرسیار لە فەرمانبەر بکە.",
            "We found no record with these details. Check them and try again, or ask a member of staff.",
        ),
    }
}
