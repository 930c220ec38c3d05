//! Retry delays: exponential backoff with full jitter.
//!
//! After the n-th consecutive failure the engine sleeps a uniformly random time in
//! `[0, min(max, initial · 2^n)]` ("full jitter"). The randomness is the point: after a
//! province-wide outage a thousand terminals come back at once, and without jitter they would
//! retry in lockstep and knock the node over again. A success resets the sequence.

use std::time::Duration;

use rand::Rng;

/// The state of one retry sequence.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
    jitter: bool,
}

impl Backoff {
    /// A sequence starting at `initial`, never above `max`.
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff { initial, max: max.max(initial), failures: 0, jitter: true }
    }

    /// The same sequence without randomness: every delay is the ceiling. Only to measure what
    /// jitter is worth (`[sync] backoff_jitter = false`): terminals that failed together retry
    /// together.
    pub fn without_jitter(mut self) -> Backoff {
        self.jitter = false;
        self
    }

    /// How long to wait when the node asked for `retry_after`: never less, plus a random
    /// share of as much again (none without jitter). Without the added share, every terminal
    /// the node turned away in the same second would come back in the same second: the
    /// node's `Retry-After` would re-synchronise the herd the backoff's jitter had spread.
    /// Counts as a failure, like [`Backoff::next_delay`].
    pub fn after_retry_after(&mut self, retry_after: Duration) -> Duration {
        let own = self.next_delay();
        if !self.jitter {
            return retry_after.max(own);
        }
        let millis = u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX);
        let spread = Duration::from_millis(rand::thread_rng().gen_range(0..=millis));
        (retry_after + spread).max(own)
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The upper bound of the next delay: `min(max, initial · 2^failures)`.
    pub fn ceiling(&self) -> Duration {
        // Saturating: 2^failures overflows long before a terminal stops retrying.
        let factor = 1u32.checked_shl(self.failures.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// Records a failure and returns how long to wait before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        self.next_delay_with(&mut rand::thread_rng())
    }

    /// As [`Backoff::next_delay`], drawing from `rng` (tests use a seeded one).
    pub fn next_delay_with<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Duration {
        let ceiling = self.ceiling();
        self.failures = self.failures.saturating_add(1);
        if !self.jitter {
            return ceiling;
        }
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.gen_range(0..=millis))
    }

    /// Forgets past failures after a success.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let mut rng = StdRng::seed_from_u64(7);
        let mut ceilings = Vec::new();
        for _ in 0..6 {
            ceilings.push(b.ceiling().as_millis());
            b.next_delay_with(&mut rng);
        }
        assert_eq!(ceilings, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn delays_stay_within_zero_and_the_ceiling_and_are_spread() {
        let mut rng = StdRng::seed_from_u64(42);
        let mut seen_low = false;
        let mut seen_high = false;
        for _ in 0..2000 {
            let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(300));
            for _ in 0..3 {
                b.next_delay_with(&mut rng);
            }
            let ceiling = b.ceiling();
            assert_eq!(ceiling, Duration::from_millis(4000));
            let d = b.next_delay_with(&mut rng);
            assert!(d <= ceiling, "{d:?} above {ceiling:?}");
            seen_low |= d < ceiling / 4;
            seen_high |= d > ceiling * 3 / 4;
        }
        assert!(seen_low && seen_high, "full jitter covers the whole range");
    }

    #[test]
    fn retry_after_is_never_shortened_and_is_spread_with_jitter() {
        let asked = Duration::from_secs(2);
        let mut lowest = Duration::MAX;
        let mut highest = Duration::ZERO;
        for _ in 0..500 {
            let mut b = Backoff::new(Duration::from_millis(10), Duration::from_millis(100));
            let d = b.after_retry_after(asked);
            assert!(d >= asked && d <= asked * 2, "{d:?}");
            assert_eq!(b.failures(), 1);
            lowest = lowest.min(d);
            highest = highest.max(d);
        }
        assert!(lowest < asked + asked / 4 && highest > asked + asked * 3 / 4, "spread over [2 s, 4 s]: {lowest:?}..{highest:?}");
        let mut plain = Backoff::new(Duration::from_millis(10), Duration::from_secs(10)).without_jitter();
        assert_eq!(plain.after_retry_after(asked), asked);
        assert_eq!(plain.next_delay(), Duration::from_millis(20), "without jitter each delay is the ceiling");
        assert_eq!(plain.next_delay(), Duration::from_millis(40));
    }

    #[test]
    fn reset_starts_over_and_huge_failure_counts_do_not_overflow() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(300));
        for _ in 0..200 {
            assert!(b.next_delay() <= Duration::from_secs(300));
        }
        assert_eq!(b.ceiling(), Duration::from_secs(300));
        b.reset();
        assert_eq!(b.failures(), 0);
        assert_eq!(b.ceiling(), Duration::from_millis(500));
    }
}
