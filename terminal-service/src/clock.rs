//! Whether the terminal's own clock can be believed.
//!
//! A Raspberry Pi has no real-time clock. On the image, systemd-timesyncd restores the last
//! time it saved (on `/data`) at boot, so a terminal without network time usually starts
//! minutes or days behind; with that file lost it starts at 1970. A time before
//! [`EARLIEST_TRUE_TIME_S`] — before this software was released — cannot be true: receipts then
//! print "time not set" instead of a false date, and the audit log's `service_started` entry
//! says `clock_set: false`. A clock days behind but after that floor cannot be told from the
//! local clock alone; the node tells it ([`crate::delivery::node_clock`]): its `Date` header
//! teaches the offset (recorded once in the audit log), and a request it accepts confirms the
//! clock. So every time the terminal records has a [`ClockStatus`]: until the node has
//! accepted a request since boot the clock is *unverified*; receipts print such a time with
//! "(unverified)" and audit entries carry `"clock": "unverified"` (or `"not_set"`) in their
//! detail, so no time is presented as true that was not checked.

use chrono::{DateTime, Utc};

/// What can be said of a time the terminal recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockStatus {
    /// Before [`EARLIEST_TRUE_TIME_S`]: the clock was not set at all (a Pi booted at 1970).
    NotSet,
    /// Plausible, but the node had not confirmed the clock yet when it was recorded.
    Unverified,
    /// Recorded after the node accepted a signature made with this clock (within its
    /// ±150 s allowance).
    Verified,
}

impl ClockStatus {
    /// The word used in audit details: `not_set`, `unverified`, `verified`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockStatus::NotSet => "not_set",
            ClockStatus::Unverified => "unverified",
            ClockStatus::Verified => "verified",
        }
    }
}

/// 2026-01-01T00:00:00Z: no true time on a running terminal is earlier than this release.
pub const EARLIEST_TRUE_TIME_S: i64 = 1_767_225_600;

/// Whether `at`, read from the local clock, can be a true time.
pub fn is_set(at: DateTime<Utc>) -> bool {
    at.timestamp() >= EARLIEST_TRUE_TIME_S
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_the_first_of_january_2026() {
        assert_eq!(DateTime::from_timestamp(EARLIEST_TRUE_TIME_S, 0).unwrap().to_rfc3339(), "2026-01-01T00:00:00+00:00");
    }

    #[test]
    fn the_epoch_is_not_set_and_now_is() {
        assert!(!is_set(DateTime::from_timestamp(12, 0).unwrap()));
        assert!(!is_set(DateTime::from_timestamp(EARLIEST_TRUE_TIME_S - 1, 0).unwrap()));
        assert!(is_set(DateTime::from_timestamp(EARLIEST_TRUE_TIME_S, 0).unwrap()));
        assert!(is_set(Utc::now()));
    }
}
