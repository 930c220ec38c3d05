//! Staff review of flagged applications: the `duplicate` and `possible` results of the
//! duplicate checks ([`crate::duplicates`]), listed with the matcher's explanations, each
//! confirmed or dismissed once with a reason. Every decision is written with an `audit_log`
//! row in the same transaction; the log holds case numbers and the reason, never names.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::duplicates::{decision_text, headquarters_from_text, FlaggedMatch};

/// A staff verdict on a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The applicant is the matched person: the programme follows up (e.g. closes one case).
    Confirmed,
    /// Not the same person: the application goes on as any other.
    Dismissed,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Confirmed => "confirmed",
            Verdict::Dismissed => "dismissed",
        }
    }
}

/// A decision already taken on a flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewDecision {
    /// Confirmed or dismissed.
    pub verdict: Verdict,
    /// Why, as staff wrote it.
    pub reason: String,
    /// Who decided.
    pub decided_by: String,
    /// When (RFC 3339).
    pub decided_at: String,
}

/// A flagged application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    /// The flagged application's case number.
    pub case_number: String,
    /// `duplicate` or `possible`.
    pub decision: matcher::Decision,
    /// The registered cases it may be, with the matcher's per-field explanations.
    pub matches: Vec<FlaggedMatch>,
    /// Whether headquarters took part in the check.
    pub headquarters: node_protocol::HeadquartersCheck,
    /// When the check was made (or last completed).
    pub checked_at: String,
    /// Staff's decision, if taken.
    pub review: Option<ReviewDecision>,
}

/// Why a review decision was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// No flag for that case.
    #[error("case '{0}' is not flagged as a possible duplicate: `provincial-node review list` shows the flagged cases")]
    NotFlagged(String),
    /// Decided before.
    #[error("case '{case_number}' was already {verdict} by {decided_by}: a review decision is final and audited")]
    AlreadyDecided {
        /// The case.
        case_number: String,
        /// What was decided.
        verdict: &'static str,
        /// By whom.
        decided_by: String,
    },
    /// An empty reason.
    #[error("give a reason (--reason TEXT): it is what the audit shows")]
    NoReason,
    /// The database.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
}

/// Every flag, oldest case first; with `undecided_only`, those still waiting for staff.
pub fn list(conn: &Connection, undecided_only: bool) -> rusqlite::Result<Vec<Flag>> {
    let mut statement = conn.prepare(
        "SELECT c.case_number, c.decision, c.matches, c.headquarters, c.checked_at,
                r.verdict, r.reason, r.decided_by, r.decided_at
         FROM duplicate_checks c LEFT JOIN review_decisions r ON r.case_number = c.case_number
         WHERE c.decision IN ('duplicate', 'possible') AND (?1 = 0 OR r.case_number IS NULL)
         ORDER BY c.case_number",
    )?;
    let rows = statement.query_map([i64::from(undecided_only)], |r| {
        let decision: String = r.get(1)?;
        let matches: String = r.get(2)?;
        let headquarters: String = r.get(3)?;
        let verdict: Option<String> = r.get(5)?;
        let json_error = |e: serde_json::Error| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e));
        Ok(Flag {
            case_number: r.get(0)?,
            decision: if decision == "duplicate" { matcher::Decision::Duplicate } else { matcher::Decision::Possible },
            matches: serde_json::from_str(&matches).map_err(json_error)?,
            headquarters: headquarters_from_text(&headquarters),
            checked_at: r.get(4)?,
            review: match verdict {
                Some(verdict) => Some(ReviewDecision {
                    verdict: if verdict == "confirmed" { Verdict::Confirmed } else { Verdict::Dismissed },
                    reason: r.get(6)?,
                    decided_by: r.get(7)?,
                    decided_at: r.get(8)?,
                }),
                None => None,
            },
        })
    })?;
    rows.collect()
}

/// Records staff's `verdict` on the flag of `case_number`, with its audit row, in one
/// transaction. `decided_by` names the member of staff (or `cli:USER` for the CLI).
pub fn decide(
    conn: &mut Connection,
    case_number: &str,
    verdict: Verdict,
    reason: &str,
    decided_by: &str,
) -> Result<ReviewDecision, ReviewError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ReviewError::NoReason);
    }
    let tx = conn.transaction()?;
    let flagged: Option<String> = tx
        .query_row(
            "SELECT decision FROM duplicate_checks WHERE case_number = ?1 AND decision IN ('duplicate', 'possible')",
            [case_number],
            |r| r.get(0),
        )
        .optional()?;
    if flagged.is_none() {
        return Err(ReviewError::NotFlagged(case_number.to_string()));
    }
    let earlier: Option<(String, String)> = tx
        .query_row("SELECT verdict, decided_by FROM review_decisions WHERE case_number = ?1", [case_number], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((verdict, decided_by)) = earlier {
        let verdict = if verdict == "confirmed" { "confirmed" } else { "dismissed" };
        return Err(ReviewError::AlreadyDecided { case_number: case_number.to_string(), verdict, decided_by });
    }
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    tx.execute(
        "INSERT INTO review_decisions (case_number, verdict, reason, decided_by, decided_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![case_number, verdict.as_str(), reason, decided_by, now],
    )?;
    let detail = serde_json::json!({ "flag": flagged, "reason": reason }).to_string();
    tx.execute(
        "INSERT INTO audit_log (at, actor, action, case_number, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![now, decided_by, format!("review.{}", verdict.as_str()), case_number, detail],
    )?;
    tx.commit()?;
    Ok(ReviewDecision { verdict, reason: reason.to_string(), decided_by: decided_by.to_string(), decided_at: now })
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What, e.g. `review.dismissed`.
    pub action: String,
    /// The case concerned.
    pub case_number: Option<String>,
    /// Details (JSON).
    pub detail: serde_json::Value,
}

/// The audit log, oldest first.
pub fn audit_log(conn: &Connection) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut statement = conn.prepare("SELECT at, actor, action, case_number, detail FROM audit_log ORDER BY id")?;
    let rows = statement.query_map([], |r| {
        let detail: String = r.get(4)?;
        Ok(AuditEntry {
            at: r.get(0)?,
            actor: r.get(1)?,
            action: r.get(2)?,
            case_number: r.get(3)?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        })
    })?;
    rows.collect()
}

/// A plain table of `flags` for the terminal of a member of staff.
pub fn render_table(flags: &[Flag]) -> String {
    let mut out = String::new();
    if flags.is_empty() {
        out.push_str("no flagged applications\n");
    }
    for flag in flags {
        let status = match &flag.review {
            Some(review) => format!("{} by {}: {}", review.verdict.as_str(), review.decided_by, review.reason),
            None => "waiting for review".into(),
        };
        out.push_str(&format!("{}  {}  ({status})\n", flag.case_number, decision_text(flag.decision)));
        for m in &flag.matches {
            out.push_str(&format!(
                "    may be {} ({}): {}, score {:.1}\n",
                m.case_number,
                m.province,
                decision_text(m.comparison.decision),
                m.comparison.score
            ));
            for evidence in &m.comparison.explanation {
                let (field, agreement) = (wire_name(evidence.field), wire_name(evidence.agreement));
                out.push_str(&format!("        {field}: {agreement} ({:+.1})\n", evidence.weight));
            }
        }
    }
    out
}

/// A field or agreement level as the JSON explanation spells it (`first_name`, `phonetic`), so
/// the table and `--json` use the same words.
fn wire_name(value: impl Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
