//! The fleet view: every enrolled terminal, when it was last heard from and last delivered,
//! and which are stale (`provincial-node terminals [--stale]`).
//!
//! A terminal is stale when its last heartbeat says its deliveries are overdue (the oldest
//! submission it holds has waited longer than its `[sync] max_days_without_delivery`; it
//! tells its staff too), or when it has been silent — no heartbeat, and no submission, for
//! more than the given number of days (counting from its enrollment if it never sent one).
//! Either way someone should visit it: work may be sitting on it that no one at the node sees.

use std::fmt::Write;

use chrono::{DateTime, Duration, Utc};
use node_protocol::Heartbeat;
use rusqlite::Connection;
use serde::Serialize;

/// Days of silence after which a terminal is listed as stale, unless told otherwise.
pub const DEFAULT_STALE_DAYS: u32 = 7;

/// Why a terminal is listed as stale.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StaleReason {
    /// Its last heartbeat said deliveries are overdue.
    DeliveryOverdue,
    /// Nothing heard (heartbeat or submission) for more than the given days.
    Silent,
}

/// One terminal as `terminals --json` prints it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TerminalView {
    /// The id the node gave it.
    pub terminal_id: String,
    /// The host name it gave at enrollment.
    pub name: String,
    /// When it enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When its last heartbeat arrived.
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// When the node last received a submission from it.
    pub last_delivery_at: Option<DateTime<Utc>>,
    /// Submissions waiting on it, as of its last heartbeat.
    pub queue_depth: Option<u64>,
    /// Age in seconds of its oldest waiting submission, as of its last heartbeat.
    pub oldest_unsent_age_s: Option<u64>,
    /// Why it is stale; empty when it is not.
    pub stale: Vec<StaleReason>,
}

fn parse_time(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

/// Every enrolled terminal, stale ones first, judged at `now` with `stale_days` of silence
/// allowed.
pub fn list(conn: &Connection, now: DateTime<Utc>, stale_days: u32) -> rusqlite::Result<Vec<TerminalView>> {
    let mut statement = conn.prepare(
        "SELECT t.terminal_id, t.name, t.enrolled_at, h.received_at, h.last,
                (SELECT MAX(s.received_at) FROM submissions s WHERE s.terminal_id = t.terminal_id)
         FROM terminals t LEFT JOIN heartbeats h ON h.terminal_id = t.terminal_id
         ORDER BY t.terminal_id",
    )?;
    let rows = statement.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let silence = Duration::days(i64::from(stale_days));
    let mut out = Vec::new();
    for row in rows {
        let (terminal_id, name, enrolled_at, heartbeat_at, last, delivery_at) = row?;
        let enrolled_at = parse_time(&enrolled_at)?;
        let last_heartbeat_at = heartbeat_at.as_deref().map(parse_time).transpose()?;
        let last_delivery_at = delivery_at.as_deref().map(parse_time).transpose()?;
        // A heartbeat stored by this node parses; one that does not (an older schema) is
        // treated as absent rather than failing the whole list.
        let beat: Option<Heartbeat> = last.as_deref().and_then(|l| serde_json::from_str(l).ok());
        let mut stale = Vec::new();
        if beat.as_ref().is_some_and(|b| b.delivery_overdue) {
            stale.push(StaleReason::DeliveryOverdue);
        }
        let heard = [Some(enrolled_at), last_heartbeat_at, last_delivery_at].into_iter().flatten().max().unwrap_or(enrolled_at);
        if now - heard > silence {
            stale.push(StaleReason::Silent);
        }
        out.push(TerminalView {
            terminal_id,
            name,
            enrolled_at,
            last_heartbeat_at,
            last_delivery_at,
            queue_depth: beat.as_ref().map(|b| b.queue_depth),
            oldest_unsent_age_s: beat.as_ref().and_then(|b| b.oldest_unsent_age_s),
            stale,
        });
    }
    out.sort_by_key(|t| t.stale.is_empty());
    Ok(out)
}

/// The list as a table for people.
pub fn render_table(terminals: &[TerminalView]) -> String {
    let mut out = String::new();
    let when = |t: &Option<DateTime<Utc>>| t.map_or_else(|| "-".to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string());
    let _ = writeln!(out, "{:<12} {:<20} {:<17} {:<17} {:>6}  stale", "terminal", "name", "last heartbeat", "last delivery", "queue");
    for t in terminals {
        let stale: Vec<&str> = t
            .stale
            .iter()
            .map(|r| match r {
                StaleReason::DeliveryOverdue => "delivery overdue",
                StaleReason::Silent => "silent",
            })
            .collect();
        let _ = writeln!(
            out,
            "{:<12} {:<20} {:<17} {:<17} {:>6}  {}",
            t.terminal_id,
            t.name.chars().take(20).collect::<String>(),
            when(&t.last_heartbeat_at),
            when(&t.last_delivery_at),
            t.queue_depth.map_or_else(|| "-".to_string(), |d| d.to_string()),
            if stale.is_empty() { "-".to_string() } else { stale.join(", ") }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::params;

    fn enrol(conn: &Connection, id: &str, at: DateTime<Utc>) {
        conn.execute(
            "INSERT INTO terminals (terminal_id, public_key, name, software_version, enrolled_at) VALUES (?1, x'00', ?1, 't', ?2)",
            params![id, at.to_rfc3339()],
        )
        .unwrap();
    }

    fn beat(conn: &Connection, id: &str, at: DateTime<Utc>, overdue: bool) {
        let heartbeat = Heartbeat {
            software_version: "t".into(),
            queue_depth: 4,
            oldest_unsent_age_s: Some(9 * 86_400),
            dead_letters: 0,
            printer: "ok".into(),
            reader: "ok".into(),
            disk_free_bytes: 1,
            sent_at: at,
            delivery_overdue: overdue,
        };
        conn.execute(
            "INSERT INTO heartbeats (terminal_id, last, received_at, count) VALUES (?1, ?2, ?3, 1)",
            params![id, serde_json::to_string(&heartbeat).unwrap(), at.to_rfc3339()],
        )
        .unwrap();
    }

    #[test]
    fn overdue_and_silent_terminals_are_stale_and_listed_first() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let now = Utc::now();
        let days = |d: i64| now - Duration::days(d);
        enrol(&conn, "T-fine", days(30));
        beat(&conn, "T-fine", days(0), false);
        enrol(&conn, "T-overdue", days(30));
        beat(&conn, "T-overdue", days(0), true);
        enrol(&conn, "T-silent", days(30));
        beat(&conn, "T-silent", days(8), false);
        enrol(&conn, "T-never", days(9));
        enrol(&conn, "T-new", days(1));

        let list = list(&conn, now, 7).unwrap();
        let stale: Vec<(&str, &[StaleReason])> = list.iter().filter(|t| !t.stale.is_empty()).map(|t| (t.terminal_id.as_str(), t.stale.as_slice())).collect();
        assert_eq!(
            stale,
            vec![("T-never", &[StaleReason::Silent][..]), ("T-overdue", &[StaleReason::DeliveryOverdue][..]), ("T-silent", &[StaleReason::Silent][..])]
        );
        assert_eq!(list.len(), 5);
        assert!(list[3..].iter().all(|t| t.stale.is_empty()), "fresh ones last");
        let overdue = list.iter().find(|t| t.terminal_id == "T-overdue").unwrap();
        assert_eq!((overdue.queue_depth, overdue.oldest_unsent_age_s), (Some(4), Some(9 * 86_400)));
        // A longer allowance clears the silent ones, never the overdue one.
        let lenient = super::list(&conn, now, 10).unwrap();
        assert_eq!(lenient.iter().filter(|t| !t.stale.is_empty()).count(), 1);
        let table = render_table(&list);
        assert!(table.contains("delivery overdue") && table.contains("silent"), "{table}");
    }
}
