//! What the node has received, for operators and end-to-end tests (`provincial-node stats`
//! and `provincial-node submissions`).

use std::collections::BTreeMap;
use std::fmt::Write;

use rusqlite::Connection;
use serde::Serialize;

use crate::store::counter;

/// Accepted submissions by kind.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct SubmissionCounts {
    /// Accepted applications.
    pub application: i64,
    /// Accepted grievances.
    pub grievance: i64,
}

/// Counts printed by `stats --json`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Accepted submissions by kind.
    pub submissions: SubmissionCounts,
    /// Distinct submission ids stored (accepted and rejected).
    pub distinct_ids: i64,
    /// Every envelope received, repeats included.
    pub deliveries: i64,
    /// Repeats of accepted envelopes, answered `duplicate`.
    pub duplicate_deliveries: i64,
    /// Distinct submission ids answered `rejected`.
    pub rejected_submissions: i64,
    /// Enrolled terminals.
    pub terminals: i64,
    /// Refused requests (4xx/5xx answers on `/v1`).
    pub rejected_requests: i64,
    /// The same, by error code.
    pub rejected_requests_by_reason: BTreeMap<String, i64>,
    /// Heartbeats received.
    pub heartbeats: i64,
}

/// Reads the counts.
pub fn stats(conn: &Connection) -> rusqlite::Result<Stats> {
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
    let mut by_reason = BTreeMap::new();
    let mut statement = conn.prepare("SELECT reason, count FROM refused_requests ORDER BY reason")?;
    for row in statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (reason, n) = row?;
        by_reason.insert(reason, n);
    }
    Ok(Stats {
        submissions: SubmissionCounts {
            application: count("SELECT COUNT(*) FROM submissions WHERE outcome = 'accepted' AND kind = 'application'")?,
            grievance: count("SELECT COUNT(*) FROM submissions WHERE outcome = 'accepted' AND kind = 'grievance'")?,
        },
        distinct_ids: count("SELECT COUNT(*) FROM submissions")?,
        deliveries: counter(conn, "deliveries")?,
        duplicate_deliveries: counter(conn, "duplicate_deliveries")?,
        rejected_submissions: count("SELECT COUNT(*) FROM submissions WHERE outcome = 'rejected'")?,
        terminals: count("SELECT COUNT(*) FROM terminals")?,
        rejected_requests: by_reason.values().sum(),
        rejected_requests_by_reason: by_reason,
        heartbeats: counter(conn, "heartbeats")?,
    })
}

/// The counts as a table for people.
pub fn render_table(stats: &Stats) -> String {
    let mut out = String::new();
    let mut row = |name: &str, value: i64| {
        let _ = writeln!(out, "{name:<32} {value:>10}");
    };
    row("applications accepted", stats.submissions.application);
    row("grievances accepted", stats.submissions.grievance);
    row("distinct submission ids", stats.distinct_ids);
    row("deliveries (incl. repeats)", stats.deliveries);
    row("duplicate deliveries", stats.duplicate_deliveries);
    row("rejected submissions", stats.rejected_submissions);
    row("terminals enrolled", stats.terminals);
    row("heartbeats", stats.heartbeats);
    row("rejected requests", stats.rejected_requests);
    for (reason, n) in &stats.rejected_requests_by_reason {
        row(&format!("  {reason}"), *n);
    }
    out
}

/// One accepted submission, as `submissions --json` lists it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct StoredSubmission {
    /// Submission id.
    pub id: String,
    /// `application` or `grievance`.
    pub kind: String,
    /// Case number given.
    pub case_number: Option<String>,
    /// Terminal that delivered it first.
    pub terminal_id: String,
    /// When it was first received (RFC 3339).
    pub received_at: String,
    /// How many times it was delivered (1 = exactly once).
    pub deliveries: i64,
}

/// Every accepted submission, oldest first.
pub fn submissions(conn: &Connection) -> rusqlite::Result<Vec<StoredSubmission>> {
    let mut statement = conn.prepare(
        "SELECT id, kind, case_number, terminal_id, received_at, deliveries FROM submissions
         WHERE outcome = 'accepted' ORDER BY received_at, id",
    )?;
    let rows = statement.query_map([], |r| {
        Ok(StoredSubmission {
            id: r.get(0)?,
            kind: r.get(1)?,
            case_number: r.get(2)?,
            terminal_id: r.get(3)?,
            received_at: r.get(4)?,
            deliveries: r.get(5)?,
        })
    })?;
    rows.collect()
}
