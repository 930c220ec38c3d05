//! Staff sessions: who is logged in at this terminal, and the PIN lockout.
//!
//! One terminal, one card reader, so at most one session at a time: a new login replaces the
//! old one. A session ends when its badge leaves the reader, on logout, or after
//! `[kiosk] idle_timeout_s` without an authenticated request. The exception is a card read
//! the staff asked for (`POST /v1/id-card/read`, the technician's read test): with one reader,
//! the badge must come off for the applicant's card to go on, so while such a read is armed
//! the badge's removal does not end the session (the idle timeout still does). Once the read
//! is over, a badge that left during it has [`BADGE_RETURN_GRACE`] to come back before the
//! session ends (`badge_removed`), as if it had just been taken off.
//!
//! Why a grace period and not a second reader: a second reader costs money and desk space at
//! every terminal and puts two fields side by side, where a badge left on one would be read
//! when an applicant taps the other; with one field only one card is ever in it, which is what
//! the 13.56 MHz readers handle best. The grace keeps the rule "the badge leaves, the session
//! ends" for a member of staff who walks away: the session outlives the badge by at most the
//! wait for the card (10 s) plus the grace. 60 s lets staff take the applicant's card off,
//! hand it back and put the badge down without haste, and is shorter than the idle timeout.
//!
//! The state is small and every update is a few field writes, so it sits behind a
//! `std::sync::Mutex` that is never held across an `.await`. Logins are serialised by an async
//! mutex instead ([`Sessions::login`]): the Argon2 check takes a fraction of a second, and two
//! concurrent attempts with the same badge must not both pass the lockout check before either
//! records its failure.
//!
//! Failures and lockouts are kept in memory: a restart clears them. The audit log keeps every
//! failure, so a technician still sees the attempts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hardware::Uid;
use node_protocol::StaffRole;
use serde_json::json;
use tokio::sync::watch;

use crate::audit::AuditCategory;
use crate::events::{Event, SessionEvent};
use crate::terminal::Terminal;

/// Wrong PINs in a row, for one badge, before it is locked out.
pub const MAX_PIN_FAILURES: u32 = 5;
/// How long a badge stays locked out.
pub const LOCKOUT: Duration = Duration::from_secs(5 * 60);
/// How long after a staff-requested card read the badge may stay off the reader (see the
/// module documentation).
pub const BADGE_RETURN_GRACE: Duration = Duration::from_secs(60);

// A logged-in staff member as the API shows it, and why sessions end, are the local API's.
pub use local_api::{EndReason, Session as SessionView};

/// A session being started.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Roster staff id.
    pub staff_id: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: StaffRole,
    /// The badge it was opened with.
    pub badge: Uid,
}

#[derive(Debug, Clone)]
struct Session {
    view: SessionView,
    badge: Uid,
    last_activity: Instant,
}

#[derive(Debug, Default)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
}

#[derive(Debug, Default)]
struct Inner {
    current: Option<Session>,
    /// Badge hash → recent failures.
    failures: HashMap<String, Failures>,
    armed_reads: u32,
    /// The session's badge left the reader during an armed read and has not come back.
    badge_off: bool,
    /// When the session ends if the badge is still off (set when the last armed read ends).
    badge_return_by: Option<Instant>,
}

/// What a wrong PIN led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// More attempts are allowed.
    AttemptsLeft(u32),
    /// The badge is now locked out for this long.
    LockedOut(Duration),
}

/// The terminal's staff session and lockouts.
#[derive(Debug)]
pub struct Sessions {
    idle: Duration,
    badge_grace: Duration,
    inner: Mutex<Inner>,
    /// Held for the whole of a login attempt (see the module documentation).
    pub login: tokio::sync::Mutex<()>,
}

/// Keeps a card read armed until dropped (see the module documentation).
#[derive(Debug)]
pub struct ArmedRead<'a>(&'a Sessions);

impl Drop for ArmedRead<'_> {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        inner.armed_reads = inner.armed_reads.saturating_sub(1);
        if inner.armed_reads == 0 && inner.badge_off {
            inner.badge_return_by = Some(Instant::now() + self.0.badge_grace);
        }
    }
}

impl Sessions {
    /// No session; sessions end after `idle` without activity.
    pub fn new(idle: Duration) -> Sessions {
        Sessions::with_badge_grace(idle, BADGE_RETURN_GRACE)
    }

    /// No session; sessions end after `idle` without activity, and `badge_grace` after an
    /// armed read if the badge has not come back.
    pub fn with_badge_grace(idle: Duration, badge_grace: Duration) -> Sessions {
        Sessions { idle, badge_grace, inner: Mutex::new(Inner::default()), login: tokio::sync::Mutex::new(()) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn expires_at(&self, last_activity: Instant, now: Instant) -> DateTime<Utc> {
        let left = (last_activity + self.idle).saturating_duration_since(now);
        Utc::now() + chrono::Duration::from_std(left).unwrap_or_default()
    }

    /// The live session, without counting this as activity.
    pub fn current(&self) -> Option<SessionView> {
        let now = Instant::now();
        let inner = self.lock();
        let s = inner.current.as_ref().filter(|s| now < s.last_activity + self.idle)?;
        let mut view = s.view.clone();
        view.expires_at = self.expires_at(s.last_activity, now);
        Some(view)
    }

    /// The live session, counting this as activity (an authenticated request).
    pub fn touch(&self) -> Option<SessionView> {
        let now = Instant::now();
        let mut inner = self.lock();
        let s = inner.current.as_mut().filter(|s| now < s.last_activity + self.idle)?;
        s.last_activity = now;
        s.view.expires_at = self.expires_at(now, now);
        Some(s.view.clone())
    }

    /// Starts a session; returns the one it replaced, if any.
    pub fn start(&self, new: NewSession) -> (SessionView, Option<SessionView>) {
        let now = Instant::now();
        let view = SessionView {
            staff_id: new.staff_id,
            display_name: new.display_name,
            role: new.role,
            started_at: Utc::now(),
            expires_at: self.expires_at(now, now),
        };
        let mut inner = self.lock();
        let previous = inner.current.replace(Session { view: view.clone(), badge: new.badge, last_activity: now });
        // Logging in puts the new badge on the reader.
        inner.badge_off = false;
        inner.badge_return_by = None;
        (view, previous.map(|s| s.view))
    }

    /// Ends the session, if any.
    pub fn end(&self) -> Option<SessionView> {
        self.lock().current.take().map(|s| s.view)
    }

    /// Ends the session if it has been idle too long.
    pub fn end_if_idle(&self) -> Option<SessionView> {
        let now = Instant::now();
        let mut inner = self.lock();
        if inner.current.as_ref().is_some_and(|s| now >= s.last_activity + self.idle) {
            inner.current.take().map(|s| s.view)
        } else {
            None
        }
    }

    /// A card left the reader: ends the session if it was its badge and no card read is
    /// armed; during an armed read, notes that the badge is off.
    pub fn card_removed(&self, uid: &Uid) -> Option<SessionView> {
        let mut inner = self.lock();
        if !inner.current.as_ref().is_some_and(|s| &s.badge == uid) {
            return None;
        }
        if inner.armed_reads > 0 {
            inner.badge_off = true;
            None
        } else {
            inner.badge_off = false;
            inner.badge_return_by = None;
            inner.current.take().map(|s| s.view)
        }
    }

    /// A card came onto the reader: the session's badge coming back ends its grace.
    pub fn card_presented(&self, uid: &Uid) {
        let mut inner = self.lock();
        if inner.current.as_ref().is_some_and(|s| &s.badge == uid) {
            inner.badge_off = false;
            inner.badge_return_by = None;
        }
    }

    /// How long the badge has left to come back after an armed read, if it is off.
    pub fn badge_return_left(&self) -> Option<Duration> {
        let inner = self.lock();
        inner.current.as_ref()?;
        inner.badge_return_by.map(|by| by.saturating_duration_since(Instant::now()))
    }

    /// Ends the session if its badge did not come back within the grace after an armed read.
    pub fn end_if_badge_gone(&self) -> Option<SessionView> {
        self.end_if_badge_gone_at(Instant::now())
    }

    fn end_if_badge_gone_at(&self, now: Instant) -> Option<SessionView> {
        let mut inner = self.lock();
        if inner.armed_reads == 0 && inner.badge_off && inner.badge_return_by.is_some_and(|by| now >= by) {
            inner.badge_off = false;
            inner.badge_return_by = None;
            inner.current.take().map(|s| s.view)
        } else {
            None
        }
    }

    /// The badge of the live session.
    pub fn badge(&self) -> Option<Uid> {
        self.lock().current.as_ref().map(|s| s.badge)
    }

    /// Arms a card read until the returned guard is dropped.
    pub fn arm_card_read(&self) -> ArmedRead<'_> {
        self.lock().armed_reads += 1;
        ArmedRead(self)
    }

    /// How long `badge_hash` stays locked out, if it is.
    pub fn locked_out(&self, badge_hash: &str) -> Option<Duration> {
        let now = Instant::now();
        let inner = self.lock();
        let until = inner.failures.get(badge_hash)?.locked_until?;
        Some(until.saturating_duration_since(now)).filter(|d| !d.is_zero())
    }

    /// Counts a wrong PIN for `badge_hash`.
    pub fn record_failure(&self, badge_hash: &str) -> Failure {
        let now = Instant::now();
        let mut inner = self.lock();
        let entry = inner.failures.entry(badge_hash.to_string()).or_default();
        if entry.locked_until.is_some_and(|until| until <= now) {
            // A lockout that ran out starts a fresh count.
            *entry = Failures::default();
        }
        entry.count += 1;
        if entry.count >= MAX_PIN_FAILURES {
            entry.locked_until = Some(now + LOCKOUT);
            Failure::LockedOut(LOCKOUT)
        } else {
            Failure::AttemptsLeft(MAX_PIN_FAILURES - entry.count)
        }
    }

    /// Forgets the failures of `badge_hash` (after a good PIN).
    pub fn clear_failures(&self, badge_hash: &str) {
        self.lock().failures.remove(badge_hash);
    }
}

/// Publishes and audits the end of a session.
pub async fn announce_end(terminal: &Terminal, ended: &SessionView, reason: EndReason) {
    tracing::info!(staff_id = %ended.staff_id, reason = reason.as_str(), "staff session ended");
    // Recorded first, then announced: whoever reacts to the event finds the entry in the log.
    let _ = terminal
        .storage
        .audit(AuditCategory::Staff, "session_ended", json!({"staff_id": ended.staff_id, "reason": reason.as_str()}))
        .await;
    terminal.events.publish(Event::Session(SessionEvent::ended(reason)));
}

/// Ends sessions that went idle, once a second, until `shutdown` turns true.
pub async fn run_idle_timer(terminal: Arc<Terminal>, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Some(ended) = terminal.sessions.end_if_idle() {
            announce_end(&terminal, &ended, EndReason::IdleTimeout).await;
        }
        if let Some(ended) = terminal.sessions.end_if_badge_gone() {
            announce_end(&terminal, &ended, EndReason::BadgeRemoved).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.wait_for(|s| *s) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn badge() -> Uid {
        Uid::from_hex("04A1B2C3D4E580").unwrap()
    }

    fn new_session() -> NewSession {
        NewSession { staff_id: "S-0001".into(), display_name: "Zainab Kadhim".into(), role: StaffRole::Staff, badge: badge() }
    }

    #[test]
    fn five_failures_lock_a_badge_out_and_a_success_clears_the_count() {
        let s = Sessions::new(Duration::from_secs(90));
        for left in (1..MAX_PIN_FAILURES).rev() {
            assert_eq!(s.record_failure("h"), Failure::AttemptsLeft(left));
        }
        assert_eq!(s.locked_out("h"), None);
        assert_eq!(s.record_failure("h"), Failure::LockedOut(LOCKOUT));
        let left = s.locked_out("h").unwrap();
        assert!(left > Duration::from_secs(290) && left <= LOCKOUT, "{left:?}");
        assert_eq!(s.locked_out("other"), None, "lockout is per badge");
        s.record_failure("g");
        s.clear_failures("g");
        assert_eq!(s.record_failure("g"), Failure::AttemptsLeft(MAX_PIN_FAILURES - 1));
    }

    #[test]
    fn removing_the_badge_ends_the_session_unless_a_read_is_armed() {
        let s = Sessions::new(Duration::from_secs(90));
        s.start(new_session());
        assert!(s.card_removed(&Uid::from_hex("DEADBEEF").unwrap()).is_none(), "another card");
        {
            let _armed = s.arm_card_read();
            assert!(s.card_removed(&badge()).is_none());
        }
        assert_eq!(s.current().unwrap().staff_id, "S-0001");
        assert_eq!(s.card_removed(&badge()).unwrap().staff_id, "S-0001");
        assert!(s.current().is_none());
    }

    #[test]
    fn a_badge_taken_off_for_an_armed_read_has_a_grace_to_come_back() {
        let s = Sessions::with_badge_grace(Duration::from_secs(300), Duration::from_secs(60));
        s.start(new_session());
        let armed = s.arm_card_read();
        assert!(s.card_removed(&badge()).is_none(), "the badge comes off for the applicant's card");
        assert!(s.end_if_badge_gone_at(Instant::now() + Duration::from_secs(600)).is_none(), "no deadline while the read is armed");
        assert_eq!(s.badge_return_left(), None);
        drop(armed);
        let left = s.badge_return_left().expect("the grace runs once the read is over");
        assert!(left <= Duration::from_secs(60) && left > Duration::from_secs(50), "{left:?}");
        let now = Instant::now();
        assert!(s.end_if_badge_gone_at(now).is_none(), "within the grace");
        assert_eq!(s.end_if_badge_gone_at(now + Duration::from_secs(61)).unwrap().staff_id, "S-0001", "grace over, badge still off");
        assert!(s.current().is_none());
    }

    #[test]
    fn the_badge_coming_back_ends_the_grace_and_a_new_read_restarts_it() {
        let s = Sessions::with_badge_grace(Duration::from_secs(300), Duration::from_secs(60));
        s.start(new_session());
        {
            let _armed = s.arm_card_read();
            s.card_removed(&badge());
        }
        // A second read (a mistyped CAN) while the badge is off: armed again, no deadline.
        {
            let _armed = s.arm_card_read();
            assert!(s.end_if_badge_gone_at(Instant::now() + Duration::from_secs(61)).is_none());
        }
        assert!(s.badge_return_left().is_some());
        s.card_presented(&Uid::from_hex("DEADBEEF").unwrap());
        assert!(s.badge_return_left().is_some(), "another card is not the badge");
        s.card_presented(&badge());
        assert_eq!(s.badge_return_left(), None);
        assert!(s.end_if_badge_gone_at(Instant::now() + Duration::from_secs(3600)).is_none(), "the badge is back");
        assert_eq!(s.current().unwrap().staff_id, "S-0001");
        // Back on the reader, its removal ends the session at once again.
        assert!(s.card_removed(&badge()).is_some());
    }

    #[test]
    fn a_read_with_the_badge_left_on_sets_no_deadline() {
        let s = Sessions::with_badge_grace(Duration::from_secs(300), Duration::from_secs(60));
        s.start(new_session());
        drop(s.arm_card_read());
        assert_eq!(s.badge_return_left(), None);
        assert!(s.end_if_badge_gone_at(Instant::now() + Duration::from_secs(3600)).is_none());
    }

    #[test]
    fn idle_sessions_end_and_activity_keeps_them() {
        let s = Sessions::new(Duration::from_millis(80));
        let (view, previous) = s.start(new_session());
        assert!(previous.is_none());
        assert!(view.expires_at > view.started_at);
        std::thread::sleep(Duration::from_millis(50));
        assert!(s.touch().is_some());
        std::thread::sleep(Duration::from_millis(50));
        assert!(s.end_if_idle().is_none(), "touched 50 ms ago");
        std::thread::sleep(Duration::from_millis(60));
        assert!(s.current().is_none() && s.touch().is_none());
        assert!(s.end_if_idle().is_some());
        assert!(s.end_if_idle().is_none());
        let (_, replaced) = {
            s.start(new_session());
            s.start(new_session())
        };
        assert!(replaced.is_some());
    }
}
