//! `serve --max-concurrent-batches N`: the node's answer when it is overloaded.
//!
//! After a province-wide outage a thousand terminals reconnect at once. Past `N` batches being
//! filed at the same time, a new one is answered `503 overloaded` with `Retry-After` at once,
//! before any work, instead of queueing behind the others until every terminal times out and
//! resends. Terminals treat a 503 as transient and send nothing before `Retry-After` has
//! elapsed (`terminal-service/src/delivery/sync.rs`). Without the option there is no limit.
//!
//! With `--busy-retry-after-max M` (above `--busy-retry-after B`) the wait grows with the load:
//! over the last two windows of B seconds the node counts the batches it admitted (S) and
//! refused (R); R refused batches need about R/S windows to be served, so the node asks for
//! `B × R/S` seconds (at least B, at most M), and the terminals, adding their 0–100 % jitter,
//! come back spread over that time instead of all within the next B to 2B seconds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use node_protocol::ErrorBody;
use tokio::sync::Semaphore;

use crate::node::Node;

/// How many batches may be filed at once, and what to tell the others.
#[derive(Debug)]
pub struct BatchLimit {
    permits: Arc<Semaphore>,
    max: usize,
    retry_after_s: u64,
    /// Longest load-dependent `Retry-After` (equal to `retry_after_s`: a fixed one).
    retry_after_max_s: u64,
    refused: AtomicU64,
    load: Mutex<Load>,
}

/// Batches admitted and refused in the current window and the one before it.
#[derive(Debug)]
struct Load {
    started: Instant,
    admitted: [u64; 2],
    refused: [u64; 2],
}

impl Load {
    /// Moves to a new window when `window` has passed (a window without traffic forgets both).
    fn roll(&mut self, window: Duration) {
        let elapsed = self.started.elapsed();
        if elapsed >= window * 2 {
            *self = Load { started: Instant::now(), admitted: [0; 2], refused: [0; 2] };
        } else if elapsed >= window {
            self.admitted = [self.admitted[1], 0];
            self.refused = [self.refused[1], 0];
            self.started += window;
        }
    }
}

impl BatchLimit {
    /// At most `max` (at least 1) batches at once; the others are asked to come back after
    /// `retry_after_s` seconds (at least 1).
    pub fn new(max: usize, retry_after_s: u64) -> BatchLimit {
        let max = max.max(1);
        let retry_after_s = retry_after_s.max(1);
        BatchLimit {
            permits: Arc::new(Semaphore::new(max)),
            max,
            retry_after_s,
            retry_after_max_s: retry_after_s,
            refused: AtomicU64::new(0),
            load: Mutex::new(Load { started: Instant::now(), admitted: [0; 2], refused: [0; 2] }),
        }
    }

    /// A `Retry-After` that grows with the load up to `max_s` (see the module documentation).
    pub fn growing_up_to(mut self, max_s: u64) -> BatchLimit {
        self.retry_after_max_s = max_s.max(self.retry_after_s);
        self
    }

    /// Counts one batch admitted (`true`) or refused; for a refusal, answers the seconds to ask for.
    fn count(&self, admitted: bool) -> u64 {
        let mut load = self.load.lock().unwrap_or_else(|p| p.into_inner());
        load.roll(Duration::from_secs(self.retry_after_s));
        if admitted {
            load.admitted[1] += 1;
            return self.retry_after_s;
        }
        load.refused[1] += 1;
        let (admitted, refused) = (load.admitted.iter().sum::<u64>().max(1), load.refused.iter().sum::<u64>());
        retry_after_for(self.retry_after_s, self.retry_after_max_s, admitted, refused)
    }

    /// Batches answered `503 overloaded` since the node started.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// The limit.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Takes one filing slot, as a batch being filed does, until the guard is dropped; `None`
    /// when every slot is taken. Lets a test (or an operator's drill) make the node overloaded
    /// for certain, instead of hoping concurrent batches overlap on a busy machine.
    pub fn occupy(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        Arc::clone(&self.permits).try_acquire_owned().ok()
    }
}

/// Route layer of `POST /v1/submissions`: a permit for the whole filing, or `503` with
/// `Retry-After`. Refusals are counted in memory, not in SQLite: writing each one down would
/// add disk work exactly when the node has too much.
pub async fn limit_batches(State(node): State<Arc<Node>>, request: Request, next: Next) -> Response {
    let Some(limit) = node.batch_limit.as_ref() else { return next.run(request).await };
    let Ok(_permit) = Arc::clone(&limit.permits).try_acquire_owned() else {
        let retry_after_s = limit.count(false);
        let refused = limit.refused.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(refused, "batch refused: overloaded");
        let body = ErrorBody {
            error: "overloaded".into(),
            message: format!(
                "the node is filing {} batches already; nothing of this batch was stored, send it again after Retry-After ({} s)",
                limit.max, retry_after_s
            ),
        };
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        response.headers_mut().insert("retry-after", HeaderValue::from(retry_after_s));
        return response;
    };
    limit.count(true);
    next.run(request).await
}

/// `base × refused / admitted` seconds, rounded up, between `base` and `max`.
fn retry_after_for(base: u64, max: u64, admitted: u64, refused: u64) -> u64 {
    (base.saturating_mul(refused).div_ceil(admitted.max(1))).clamp(base, max.max(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_grows_with_the_refused_share_between_base_and_max() {
        assert_eq!(retry_after_for(2, 2, 4, 400), 2, "without a max above the base it is fixed");
        assert_eq!(retry_after_for(2, 30, 4, 2), 2, "fewer refused than admitted: the base");
        assert_eq!(retry_after_for(2, 30, 4, 20), 10, "five windows' worth of refused batches");
        assert_eq!(retry_after_for(2, 30, 4, 400), 30, "capped");
        assert_eq!(retry_after_for(2, 30, 0, 7), 14, "nothing admitted counts as one");
    }

    #[test]
    fn a_limit_counts_the_load_of_its_windows() {
        let limit = BatchLimit::new(1, 1).growing_up_to(60);
        for _ in 0..2 {
            limit.count(true);
        }
        let asks: Vec<u64> = (0..10).map(|_| limit.count(false)).collect();
        assert_eq!(asks.first(), Some(&1));
        assert_eq!(asks.last(), Some(&5), "10 refused for 2 admitted: 5 windows of 1 s");
    }
}
