//! The time the terminal signs with: its own clock, corrected by what the node's clock says.
//!
//! A Raspberry Pi has no real-time clock. Booted without network time it starts at 1970 (or at
//! the last time `fake-hwclock` saved, possibly days behind), and every signature's `created`
//! is then outside the node's ±[`MAX_CLOCK_SKEW_S`]: the node refuses everything, forever.
//! The node's `Date` header on that refusal says what time the node thinks it is; the
//! difference becomes an offset added to `created` from then on. The `Date` header is chosen
//! over time sync (NTP) because the node is the only server the terminal's network policy lets
//! it reach, its clock is the one the signatures are checked against, and it comes with every
//! answer, so no other service or port has to be opened.
//!
//! The offset is only learned from a refusal whose `Date` is far from the `created` that was
//! refused, so a refusal for another reason does not move it; and it corrects itself the same
//! way once the local clock is set right (the corrected `created` is refused in turn, and the
//! new offset is about zero). It never changes the system clock.
//!
//! The same clock is the terminal's time for what it records ([`NodeClock::now`]: capture
//! times, audit entries, receipts), so that once the node has taught the offset those times are
//! true too; and it knows whether it can be believed ([`NodeClock::status_at`], see
//! [`crate::clock`]): from boot it is *unverified*, and it becomes *verified* when the node
//! accepts a request signed with it — the node checks `created` against its own clock within
//! ±[`MAX_CLOCK_SKEW_S`], so an accepted signature is the node's word that the time is right
//! (after learning the offset, or because it was right all along).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use node_protocol::signature::MAX_CLOCK_SKEW_S;

use crate::clock::{is_set, ClockStatus};

/// How far from the node's `Date` a refused `created` must be for the refusal to be put down
/// to the clock: half the node's allowance, so network delay between the node's check and its
/// `Date` cannot hide a clock error, and a refusal of a `created` the node would accept is
/// never mistaken for one.
pub const CLOCK_REFUSAL_THRESHOLD_S: i64 = MAX_CLOCK_SKEW_S / 2;

/// The signing clock shared by every clone of one node client.
#[derive(Clone, Default)]
pub struct NodeClock {
    /// Node time minus local time, in seconds (0 until a refusal teaches otherwise).
    offset_s: Arc<AtomicI64>,
    /// The offset last written to the audit log ([`NodeClock::unaudited_offset`]).
    audited_s: Arc<AtomicI64>,
    /// Whether the node accepted a signature made with this clock since boot.
    verified: Arc<AtomicBool>,
    /// This clock's time (Unix seconds) when it became verified: what was recorded before it
    /// stays unverified.
    verified_since_s: Arc<AtomicI64>,
}

impl std::fmt::Debug for NodeClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeClock").field("offset_s", &self.offset_s()).finish()
    }
}

impl NodeClock {
    /// Node time minus local time, in seconds, as last learned.
    pub fn offset_s(&self) -> i64 {
        self.offset_s.load(Ordering::Relaxed)
    }

    /// The `created` to sign with when the local clock reads `local_now` (Unix seconds).
    pub fn created(&self, local_now: i64) -> i64 {
        local_now.saturating_add(self.offset_s())
    }

    /// The terminal's time: the local clock plus the offset the node taught (none yet: the
    /// local clock as it is).
    pub fn now(&self) -> DateTime<Utc> {
        let local = Utc::now();
        local.checked_add_signed(chrono::Duration::seconds(self.offset_s())).unwrap_or(local)
    }

    /// The node accepted a request signed with this clock: from now on its times are true
    /// (within the node's allowance). Called on every accepted request; only the first counts.
    pub fn mark_verified(&self) {
        if !self.verified.load(Ordering::Relaxed) {
            self.verified_since_s.store(self.now().timestamp(), Ordering::Relaxed);
            self.verified.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the node has accepted a signature made with this clock since boot.
    pub fn is_verified(&self) -> bool {
        self.verified.load(Ordering::Relaxed)
    }

    /// What can be said of `at`, a time this clock gave ([`NodeClock::now`]): not set (before
    /// this software existed), unverified (before the node confirmed the clock, or recorded
    /// before it did), or verified.
    pub fn status_at(&self, at: DateTime<Utc>) -> ClockStatus {
        if !is_set(at) {
            ClockStatus::NotSet
        } else if self.is_verified() && at.timestamp() >= self.verified_since_s.load(Ordering::Relaxed) {
            ClockStatus::Verified
        } else {
            ClockStatus::Unverified
        }
    }

    /// The offset learned since the last call, once: the sync engine writes it to the audit
    /// log, which says from then on that the times of entries before it came from a local
    /// clock that was off by that much (the entries themselves keep the local time).
    pub fn unaudited_offset(&self) -> Option<i64> {
        let offset = self.offset_s();
        (self.audited_s.swap(offset, Ordering::Relaxed) != offset).then_some(offset)
    }

    /// After the node refused a request signed with `created`: if its `Date` header
    /// (`node_date`) shows the refusal was about the clock, learns the new offset against
    /// `local_now` and returns it (the caller then signs again, once). `None` when the refusal
    /// was not about the clock, or the `Date` header is missing or unreadable.
    pub fn learn_from_refusal(&self, created: i64, node_date: Option<&str>, local_now: i64) -> Option<i64> {
        let node_now = parse_http_date_s(node_date?)?;
        if (node_now - created).abs() <= CLOCK_REFUSAL_THRESHOLD_S {
            return None;
        }
        let offset = node_now - local_now;
        self.offset_s.store(offset, Ordering::Relaxed);
        Some(offset)
    }
}

/// An HTTP date (RFC 9110 §5.6.7) as Unix seconds; dates before 1970 are refused.
fn parse_http_date_s(value: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(value.trim()).ok()?;
    i64::try_from(at.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE_NOW: i64 = 1_796_126_400; // Tue, 01 Dec 2026 12:00:00 GMT
    const NODE_DATE: &str = "Tue, 01 Dec 2026 12:00:00 GMT";

    #[test]
    fn the_date_is_read_as_unix_seconds() {
        assert_eq!(parse_http_date_s(NODE_DATE), Some(NODE_NOW));
        assert_eq!(parse_http_date_s("yesterday"), None);
    }

    #[test]
    fn a_clock_three_days_behind_learns_the_offset_and_signs_in_the_nodes_time() {
        let clock = NodeClock::default();
        let local = NODE_NOW - 3 * 86_400;
        assert_eq!(clock.created(local), local);
        assert_eq!(clock.learn_from_refusal(clock.created(local), Some(NODE_DATE), local), Some(3 * 86_400));
        assert_eq!(clock.created(local + 10), NODE_NOW + 10);
    }

    #[test]
    fn a_learned_offset_is_audited_once() {
        let clock = NodeClock::default();
        assert_eq!(clock.unaudited_offset(), None, "nothing learned yet");
        clock.learn_from_refusal(12, Some(NODE_DATE), 12);
        assert_eq!(clock.unaudited_offset(), Some(NODE_NOW - 12));
        assert_eq!(clock.unaudited_offset(), None, "once");
    }

    #[test]
    fn a_clock_at_1970_learns_the_offset() {
        let clock = NodeClock::default();
        assert_eq!(clock.learn_from_refusal(12, Some(NODE_DATE), 12), Some(NODE_NOW - 12));
        assert_eq!(clock.created(20), NODE_NOW + 8);
    }

    #[test]
    fn the_clock_is_unverified_until_the_node_accepts_it_and_earlier_times_stay_so() {
        let clock = NodeClock::default();
        let before = clock.now();
        assert_eq!(clock.status_at(before), ClockStatus::Unverified);
        assert_eq!(clock.status_at(DateTime::from_timestamp(12, 0).unwrap()), ClockStatus::NotSet);
        clock.mark_verified();
        let after = clock.now();
        assert_eq!(clock.status_at(after), ClockStatus::Verified);
        assert_eq!(clock.status_at(before - chrono::Duration::seconds(5)), ClockStatus::Unverified, "recorded before the node confirmed");
        assert_eq!(clock.status_at(DateTime::from_timestamp(12, 0).unwrap()), ClockStatus::NotSet, "a 1970 time is never verified");
    }

    #[test]
    fn the_terminals_time_includes_the_learned_offset() {
        let clock = NodeClock::default();
        let local = Utc::now().timestamp();
        clock.learn_from_refusal(local - 9 * 86_400, Some(&httpdate::fmt_http_date(SystemTime::now() + std::time::Duration::from_secs(9 * 86_400))), local);
        let ahead = clock.now().timestamp() - Utc::now().timestamp();
        assert!((9 * 86_400 - 2..=9 * 86_400 + 2).contains(&ahead), "{ahead}");
    }

    #[test]
    fn a_refusal_within_the_allowance_is_not_about_the_clock() {
        let clock = NodeClock::default();
        let created = NODE_NOW - CLOCK_REFUSAL_THRESHOLD_S;
        assert_eq!(clock.learn_from_refusal(created, Some(NODE_DATE), created), None);
        assert_eq!(clock.offset_s(), 0);
    }

    #[test]
    fn no_or_garbled_date_teaches_nothing() {
        let clock = NodeClock::default();
        assert_eq!(clock.learn_from_refusal(12, None, 12), None);
        assert_eq!(clock.learn_from_refusal(12, Some("soon"), 12), None);
        assert_eq!(clock.offset_s(), 0);
    }

    #[test]
    fn once_the_local_clock_is_set_right_the_offset_returns_to_zero() {
        let clock = NodeClock::default();
        let behind = NODE_NOW - 3 * 86_400;
        clock.learn_from_refusal(behind, Some(NODE_DATE), behind);
        // Time sync fixed the local clock: the corrected `created` is now 3 days ahead.
        let created = clock.created(NODE_NOW);
        assert_eq!(clock.learn_from_refusal(created, Some(NODE_DATE), NODE_NOW), Some(0));
        assert_eq!(clock.created(NODE_NOW), NODE_NOW);
    }
}
