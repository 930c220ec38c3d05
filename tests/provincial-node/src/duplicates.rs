//! Duplicate checks of new applications: is the applicant already registered, in this province
//! or (through headquarters) in another?
//!
//! The invariant: **an application is never refused for being a possible duplicate; it is
//! filed and flagged.** A matcher can be wrong, and a refused application is a family left out;
//! a flagged one costs a member of staff a look (`provincial-node review`).
//!
//! How a new application is checked ([`crate::api`]'s submissions call):
//! 1. in the filing transaction, against this province's persons (a [`PersonIndex`] built from
//!    SQLite on first use and kept current), and the result stored in `duplicate_checks`
//!    with `headquarters = 'not_checked'` (or `'not_configured'`);
//! 2. after the commit, when the node has headquarters, the batch's applicants go to it in one
//!    signed call; its matches are merged in and the row becomes `'checked'`;
//! 3. headquarters unreachable: the answer says `not_checked`, and the rows stay on the pending
//!    list that `serve` re-sends every [`RECHECK_INTERVAL`].

use std::collections::HashMap;
use std::time::Duration;

use matcher::{Comparison, Decision, Person, PersonIndex, Sex};
use node_protocol::{DuplicateCheck, DuplicateDecision, HeadquartersCheck, MatchedCase};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

/// How often `serve` re-sends the applicants headquarters has not checked yet.
pub const RECHECK_INTERVAL: Duration = Duration::from_secs(30);

/// Most matches kept per applicant, strongest first: staff review a handful, and a name shared
/// by hundreds (or a test filing one name a thousand times) must not grow every check.
pub const MAX_MATCHES: usize = 10;

/// A registered case the applicant may be, with the matcher's explanation (kept at the node for
/// staff review; the terminal gets only case number, province and decision).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlaggedMatch {
    /// The registered case.
    pub case_number: String,
    /// Governorate code of the province that registered it.
    pub province: String,
    /// `duplicate` or `possible`, with the score and per-field explanation.
    pub comparison: Comparison,
}

/// The province a case number belongs to: case numbers are `<GOVERNORATE>-<year>-<sequence>`.
pub fn province_of(case_number: &str) -> String {
    case_number.split('-').next().unwrap_or_default().to_string()
}

/// The person an application's answers describe (names as typed), or `None` when the answers
/// lack the three name parts the matcher needs (a grievance, or a malformed application).
pub fn person_from_answers(case_number: &str, answers: &serde_json::Map<String, serde_json::Value>) -> Option<Person> {
    let text = |key: &str| answers.get(key).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    Some(Person {
        case_number: case_number.to_string(),
        national_id: text("national_id").and_then(|id| normalisation::national_id(&id)),
        first_name: text("first_name")?,
        father_name: text("father_name")?,
        grandfather_name: text("grandfather_name")?,
        family_name: text("family_name"),
        mother_name: text("mother_name"),
        birth_date: text("date_of_birth").and_then(|d| normalisation::parse_birth_date(&d).ok()),
        sex: match text("gender").as_deref() {
            Some("female") => Some(Sex::Female),
            Some("male") => Some(Sex::Male),
            _ => None,
        },
        governorate: text("governorate"),
    })
}

/// This province's persons, read from every accepted application in SQLite.
pub fn load_index(conn: &Connection) -> rusqlite::Result<PersonIndex> {
    let mut index = PersonIndex::new();
    let mut rows = conn.prepare(
        "SELECT case_number, answers FROM submissions
         WHERE outcome = 'accepted' AND kind = 'application' AND answers IS NOT NULL ORDER BY case_number",
    )?;
    let persons = rows.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in persons {
        let (case_number, answers) = row?;
        if let Ok(serde_json::Value::Object(answers)) = serde_json::from_str(&answers) {
            if let Some(person) = person_from_answers(&case_number, &answers) {
                index.insert(person);
            }
        }
    }
    Ok(index)
}

/// The matches of `applicant` in `index`, as flags (the applicant's own case left out).
pub fn check_in(index: &PersonIndex, applicant: &Person) -> Vec<FlaggedMatch> {
    index
        .check(applicant)
        .into_iter()
        .filter(|m| m.case_number != applicant.case_number && m.comparison.decision != Decision::Distinct)
        .take(MAX_MATCHES)
        .map(|m| FlaggedMatch { province: province_of(&m.case_number), case_number: m.case_number, comparison: m.comparison })
        .collect()
}

/// The strongest decision of `matches` (`distinct` when empty).
pub fn strongest(matches: &[FlaggedMatch]) -> Decision {
    let rank = |d: Decision| match d {
        Decision::Duplicate => 2,
        Decision::Possible => 1,
        Decision::Distinct => 0,
    };
    matches.iter().map(|m| m.comparison.decision).max_by_key(|d| rank(*d)).unwrap_or(Decision::Distinct)
}

/// Adds `more` to `matches` (a case already there keeps its first comparison), strongest first.
pub fn merge(matches: &mut Vec<FlaggedMatch>, more: Vec<FlaggedMatch>) {
    for candidate in more {
        if !matches.iter().any(|m| m.case_number == candidate.case_number) {
            matches.push(candidate);
        }
    }
    matches.sort_by(|a, b| b.comparison.score.total_cmp(&a.comparison.score));
    matches.truncate(MAX_MATCHES);
}

/// The wire form of a decision.
pub fn wire_decision(decision: Decision) -> DuplicateDecision {
    match decision {
        Decision::Duplicate => DuplicateDecision::Duplicate,
        Decision::Possible => DuplicateDecision::Possible,
        Decision::Distinct => DuplicateDecision::Distinct,
    }
}

/// The stored (and printed) text of a decision.
pub fn decision_text(decision: Decision) -> &'static str {
    match decision {
        Decision::Duplicate => "duplicate",
        Decision::Possible => "possible",
        Decision::Distinct => "distinct",
    }
}

/// The stored text of a headquarters status.
pub fn headquarters_text(status: HeadquartersCheck) -> &'static str {
    match status {
        HeadquartersCheck::Checked => "checked",
        HeadquartersCheck::NotChecked => "not_checked",
        HeadquartersCheck::NotConfigured => "not_configured",
    }
}

/// A stored headquarters status back (unknown text reads as `not_checked`, the safe side).
pub fn headquarters_from_text(text: &str) -> HeadquartersCheck {
    match text {
        "checked" => HeadquartersCheck::Checked,
        "not_configured" => HeadquartersCheck::NotConfigured,
        _ => HeadquartersCheck::NotChecked,
    }
}

/// What goes back to the terminal: decision, case numbers and provinces, no explanation.
pub fn wire_check(matches: &[FlaggedMatch], headquarters: HeadquartersCheck) -> DuplicateCheck {
    DuplicateCheck {
        decision: wire_decision(strongest(matches)),
        matches: matches
            .iter()
            .map(|m| MatchedCase {
                case_number: m.case_number.clone(),
                province: m.province.clone(),
                decision: wire_decision(m.comparison.decision),
            })
            .collect(),
        headquarters,
    }
}

/// Stores (or replaces) the check of `case_number`.
pub fn store_check(
    conn: &Connection,
    case_number: &str,
    matches: &[FlaggedMatch],
    headquarters: HeadquartersCheck,
) -> rusqlite::Result<()> {
    let json = serde_json::to_string(matches).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    conn.prepare_cached(
        "INSERT INTO duplicate_checks (case_number, decision, matches, headquarters, checked_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (case_number) DO UPDATE SET decision = excluded.decision, matches = excluded.matches,
             headquarters = excluded.headquarters, checked_at = excluded.checked_at",
    )?
    .execute(params![
        case_number,
        decision_text(strongest(matches)),
        json,
        headquarters_text(headquarters),
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    ])?;
    Ok(())
}

/// The stored matches of `case_number`.
pub fn stored_matches(conn: &Connection, case_number: &str) -> rusqlite::Result<Vec<FlaggedMatch>> {
    let json: String =
        conn.prepare_cached("SELECT matches FROM duplicate_checks WHERE case_number = ?1")?.query_row([case_number], |r| r.get(0))?;
    serde_json::from_str(&json).map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

/// Applicants headquarters has not checked yet (at most `limit`, oldest first), rebuilt from
/// their stored answers.
pub fn pending_headquarters(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<Person>> {
    let mut statement = conn.prepare_cached(
        "SELECT c.case_number, s.answers FROM duplicate_checks c JOIN submissions s ON s.case_number = c.case_number
         WHERE c.headquarters = 'not_checked' ORDER BY c.case_number LIMIT ?1",
    )?;
    let rows = statement.query_map([limit as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))?;
    let mut persons = Vec::new();
    for row in rows {
        let (case_number, answers) = row?;
        if let Some(serde_json::Value::Object(answers)) = answers.and_then(|a| serde_json::from_str(&a).ok()) {
            if let Some(person) = person_from_answers(&case_number, &answers) {
                persons.push(person);
            }
        }
    }
    Ok(persons)
}

/// Merges headquarters' matches into the stored checks, marks them checked, and returns each
/// case's merged matches.
pub fn record_headquarters_answers(
    conn: &mut Connection,
    answers: HashMap<String, Vec<FlaggedMatch>>,
) -> rusqlite::Result<HashMap<String, Vec<FlaggedMatch>>> {
    let tx = conn.transaction()?;
    let mut merged = HashMap::new();
    for (case_number, from_headquarters) in answers {
        let mut matches = stored_matches(&tx, &case_number)?;
        merge(&mut matches, from_headquarters);
        store_check(&tx, &case_number, &matches, HeadquartersCheck::Checked)?;
        merged.insert(case_number, matches);
    }
    tx.commit()?;
    Ok(merged)
}

/// Sends `persons` (filed here, each with its case number) to headquarters and stores the
/// merged result. `None` when the node has no headquarters or it could not be reached (the
/// rows stay `not_checked`, on the pending list). Unless `retrying`, a headquarters that
/// failed moments ago is not asked (the filing answers at once; the re-check loop retries).
pub async fn check_at_headquarters(
    node: &std::sync::Arc<crate::Node>,
    persons: Vec<Person>,
    retrying: bool,
) -> Option<HashMap<String, Vec<FlaggedMatch>>> {
    let headquarters = node.headquarters.as_ref()?;
    if persons.is_empty() {
        return Some(HashMap::new());
    }
    if !retrying && headquarters.recently_failed() {
        return None;
    }
    let count = persons.len();
    let answer = match headquarters.check(persons).await {
        Ok(answer) => answer,
        Err(error) => {
            tracing::warn!(%error, applicants = count, "headquarters not checked; filed anyway, will check again");
            return None;
        }
    };
    let answers: HashMap<String, Vec<FlaggedMatch>> = answer
        .results
        .into_iter()
        .map(|r| {
            let matches = r
                .matches
                .into_iter()
                .filter(|m| m.comparison.decision != Decision::Distinct)
                .map(|m| FlaggedMatch { case_number: m.case_number, province: m.province, comparison: m.comparison })
                .collect();
            (r.case_number, matches)
        })
        .collect();
    let stored = crate::api::blocking(node, move |node| Ok(record_headquarters_answers(&mut node.db(), answers)?)).await;
    match stored {
        Ok(merged) => Some(merged),
        Err(error) => {
            tracing::error!(code = error.code, "could not store headquarters' answer; it will be asked again");
            None
        }
    }
}

/// Sends the pending applicants to headquarters until none is left or it fails; returns how
/// many were checked.
pub async fn recheck_pending(node: &std::sync::Arc<crate::Node>) -> usize {
    let mut checked = 0;
    loop {
        let pending = crate::api::blocking(node, |node| Ok(pending_headquarters(&node.db(), crate::headquarters::MAX_CHECK)?)).await;
        let persons = match pending {
            Ok(persons) if !persons.is_empty() => persons,
            _ => return checked,
        };
        let count = persons.len();
        match check_at_headquarters(node, persons, true).await {
            Some(_) => checked += count,
            None => return checked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(json: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        json.as_object().unwrap().clone()
    }

    fn flagged(case_number: &str, decision: Decision, score: f64) -> FlaggedMatch {
        FlaggedMatch {
            case_number: case_number.into(),
            province: province_of(case_number),
            comparison: Comparison { decision, score, explanation: Vec::new() },
        }
    }

    #[test]
    fn an_application_becomes_a_person_and_a_grievance_does_not() {
        let person = person_from_answers(
            "BGD-2026-000001",
            &answers(serde_json::json!({
                "national_id": "١٩٩٠ ٠١٢٣ ٤٥٦٧", "first_name": " زينب ", "father_name": "علي", "grandfather_name": "حسين",
                "mother_name": "فاطمة", "date_of_birth": "1985-03-14", "gender": "female", "governorate": "BGD", "family_name": ""
            })),
        )
        .unwrap();
        assert_eq!(person.national_id.as_deref(), Some("199001234567"));
        assert_eq!(person.first_name, "زينب");
        assert_eq!(person.family_name, None, "an empty answer is no family name");
        assert_eq!(person.sex, Some(Sex::Female));
        assert_eq!(person.birth_date.map(|d| (d.year, d.month, d.day)), Some((1985, Some(3), Some(14))));
        assert_eq!(person.governorate.as_deref(), Some("BGD"));
        assert!(person_from_answers("BGD-2026-000002", &answers(serde_json::json!({ "full_name": "زينب علي حسين" }))).is_none());
    }

    #[test]
    fn merged_matches_keep_one_entry_per_case_strongest_first_and_at_most_ten() {
        let mut matches = vec![flagged("BGD-2026-000001", Decision::Possible, 21.0)];
        merge(&mut matches, vec![flagged("BGD-2026-000001", Decision::Duplicate, 30.0), flagged("BSR-2026-000009", Decision::Duplicate, 28.0)]);
        assert_eq!(matches.iter().map(|m| m.case_number.as_str()).collect::<Vec<_>>(), ["BSR-2026-000009", "BGD-2026-000001"]);
        assert_eq!(matches[1].comparison.decision, Decision::Possible, "a case already found keeps its first comparison");
        assert_eq!(strongest(&matches), Decision::Duplicate);
        assert_eq!(strongest(&[]), Decision::Distinct);
        merge(&mut matches, (10..30).map(|n| flagged(&format!("ERB-2026-{n:06}"), Decision::Possible, f64::from(n))).collect());
        assert_eq!(matches.len(), MAX_MATCHES);
        let wire = wire_check(&matches, HeadquartersCheck::Checked);
        assert_eq!(wire.decision, DuplicateDecision::Duplicate);
        assert_eq!(wire.matches[0].province, "ERB");
    }
}
