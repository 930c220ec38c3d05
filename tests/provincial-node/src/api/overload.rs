//! `serve --max-concurrent-batches N`: the node's answer when it is overloaded.
//!
//! After a province-wide outage a thousand terminals reconnect at once. Past `N` batches being
//! filed at the same time, a new one is answered `503 overloaded` with `Retry-After` at once,
//! before any work, instead of queueing behind the others until every terminal times out and
//! resends. Terminals treat a 503 as transient and send nothing before `Retry-After` has
//! elapsed (`terminal-service/src/delivery/sync.rs`). Without the option there is no limit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
    refused: AtomicU64,
}

impl BatchLimit {
    /// At most `max` (at least 1) batches at once; the others are asked to come back after
    /// `retry_after_s` seconds (at least 1).
    pub fn new(max: usize, retry_after_s: u64) -> BatchLimit {
        let max = max.max(1);
        BatchLimit { permits: Arc::new(Semaphore::new(max)), max, retry_after_s: retry_after_s.max(1), refused: AtomicU64::new(0) }
    }

    /// Batches answered `503 overloaded` since the node started.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// The limit.
    pub fn max(&self) -> usize {
        self.max
    }
}

/// Route layer of `POST /v1/submissions`: a permit for the whole filing, or `503` with
/// `Retry-After`. Refusals are counted in memory, not in SQLite: writing each one down would
/// add disk work exactly when the node has too much.
pub async fn limit_batches(State(node): State<Arc<Node>>, request: Request, next: Next) -> Response {
    let Some(limit) = node.batch_limit.as_ref() else { return next.run(request).await };
    let Ok(_permit) = Arc::clone(&limit.permits).try_acquire_owned() else {
        let refused = limit.refused.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(refused, "batch refused: overloaded");
        let body = ErrorBody {
            error: "overloaded".into(),
            message: format!(
                "the node is filing {} batches already; nothing of this batch was stored, send it again after Retry-After ({} s)",
                limit.max, limit.retry_after_s
            ),
        };
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        response.headers_mut().insert("retry-after", HeaderValue::from(limit.retry_after_s));
        return response;
    };
    next.run(request).await
}
