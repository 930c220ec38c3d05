//! A sliding-window limit on status checks.
//!
//! Status checks need only a reference number and a date of birth, so a terminal left alone
//! could be used to guess them. The terminal therefore forwards at most `limit` checks per
//! `window`; the node applies its own limits too.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Recent hits within one window.
#[derive(Debug)]
pub struct RateLimit {
    limit: usize,
    window: Duration,
    hits: VecDeque<Instant>,
}

impl RateLimit {
    /// At most `limit` hits in any `window`.
    pub fn new(limit: usize, window: Duration) -> RateLimit {
        RateLimit { limit: limit.max(1), window, hits: VecDeque::new() }
    }

    /// Counts a hit at `now`, or refuses it with how long until one is allowed.
    pub fn check(&mut self, now: Instant) -> Result<(), Duration> {
        while let Some(&first) = self.hits.front() {
            if now.duration_since(first) >= self.window {
                self.hits.pop_front();
            } else {
                break;
            }
        }
        if self.hits.len() >= self.limit {
            let first = self.hits.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(first)));
        }
        self.hits.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_above_the_limit_and_recovers_after_the_window() {
        let start = Instant::now();
        let mut limit = RateLimit::new(3, Duration::from_secs(60));
        for i in 0..3 {
            assert!(limit.check(start + Duration::from_secs(i)).is_ok());
        }
        let wait = limit.check(start + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(limit.check(start + Duration::from_secs(60)).is_ok());
        assert!(limit.check(start + Duration::from_secs(61)).is_ok());
        assert!(limit.check(start + Duration::from_secs(61)).is_err());
    }
}
