//! An HTTP proxy that puts a bad network between a terminal and its node.
//!
//! The terminal's `[node] url` points at the proxy; the proxy forwards to the real node, except
//! when a fault is due. Faults come from a script (one per request, in order) or, once the
//! script is empty, from a seeded random mix, and apply only to the paths chosen (typically
//! `/v1/submissions`). Because it forwards the path, the signature headers and the body
//! untouched, the node still verifies every request: the faults are the network's, not a
//! forger's. It also keeps a copy of each request it forwarded, which the signature tests
//! replay and tamper with.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::oneshot;

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward and return the node's answer.
    Pass,
    /// Answer 500 without forwarding.
    ServerError,
    /// Answer 503 with `Retry-After: n` without forwarding.
    RetryAfter(u64),
    /// Hold the request without forwarding for this long (the client times out).
    Hang(Duration),
    /// Forward (the node commits), then break the connection in the middle of the answer:
    /// the acknowledgement is lost.
    DropAck,
    /// Forward (the node commits), then hold the answer for this long (the client times out).
    AckTooLate(Duration),
}

/// Probabilities of each random fault; the rest pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct FaultMix {
    /// Share of 500 answers.
    pub server_error: f64,
    /// Share of 503 + Retry-After answers, and the seconds they ask for.
    pub retry_after: (f64, u64),
    /// Share of requests held without forwarding, and for how long.
    pub hang: (f64, Duration),
    /// Share of lost acknowledgements.
    pub drop_ack: f64,
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// When it arrived.
    pub at: Instant,
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// What the proxy did.
    pub fault: Fault,
    /// Headers as received.
    pub headers: HeaderMap,
    /// Body as received.
    pub body: Bytes,
    /// The node's answer (status, body), when the request was forwarded and answered.
    pub response: Option<(u16, Bytes)>,
    /// When the node's answer reached the proxy (before it went on to the terminal).
    pub answered_at: Option<Instant>,
    /// The node's `Retry-After`, in seconds, when it sent one.
    pub retry_after: Option<u64>,
}

struct Plan {
    script: VecDeque<Fault>,
    mix: FaultMix,
    rng: StdRng,
    paths: Vec<String>,
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    plan: Mutex<Plan>,
    seen: Mutex<Vec<Seen>>,
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (e.g. `http://127.0.0.1:8700`) on a free loopback port,
    /// injecting faults only on requests whose path starts with one of `paths`.
    pub async fn start(upstream: &str, paths: &[&str], seed: u64) -> Result<FaultProxy> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
            plan: Mutex::new(Plan {
                script: VecDeque::new(),
                mix: FaultMix::default(),
                rng: StdRng::seed_from_u64(seed),
                paths: paths.iter().map(|p| p.to_string()).collect(),
            }),
            seen: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new().fallback(forward).with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(FaultProxy { addr, shared, stop: Some(stop) })
    }

    /// The URL to give the terminal.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Faults for the next matching requests, in order.
    pub fn script(&self, faults: &[Fault]) {
        lock(&self.shared.plan).script.extend(faults.iter().copied());
    }

    /// The random mix used once the script is empty.
    pub fn set_mix(&self, mix: FaultMix) {
        lock(&self.shared.plan).mix = mix;
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.shared.seen).clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn choose(plan: &mut Plan, path: &str) -> Fault {
    if !plan.paths.iter().any(|p| path.starts_with(p.as_str())) {
        return Fault::Pass;
    }
    if let Some(f) = plan.script.pop_front() {
        return f;
    }
    let mix = plan.mix;
    let x: f64 = plan.rng.gen();
    let mut edge = mix.server_error;
    if x < edge {
        return Fault::ServerError;
    }
    edge += mix.retry_after.0;
    if x < edge {
        return Fault::RetryAfter(mix.retry_after.1);
    }
    edge += mix.hang.0;
    if x < edge {
        return Fault::Hang(mix.hang.1);
    }
    edge += mix.drop_ack;
    if x < edge {
        return Fault::DropAck;
    }
    Fault::Pass
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    // When the request's head arrived: reading a large body takes a while on a loaded machine,
    // and the fleet's Retry-After check compares this time with the answers of other requests.
    let arrived = Instant::now();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let body = match axum::body::to_bytes(body, 16 << 20).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("proxy: cannot read body: {e}")).into_response(),
    };
    let fault = choose(&mut lock(&shared.plan), &path);
    let index = {
        let mut seen = lock(&shared.seen);
        seen.push(Seen {
            at: arrived,
            method: parts.method.to_string(),
            path: path.clone(),
            fault,
            headers: parts.headers.clone(),
            body: body.clone(),
            response: None,
            answered_at: None,
            retry_after: None,
        });
        seen.len() - 1
    };
    match fault {
        Fault::ServerError => return (StatusCode::INTERNAL_SERVER_ERROR, "injected server error").into_response(),
        Fault::RetryAfter(s) => {
            let mut r = (StatusCode::SERVICE_UNAVAILABLE, "injected overload").into_response();
            r.headers_mut().insert("retry-after", HeaderValue::from(s));
            return r;
        }
        Fault::Hang(d) => {
            tokio::time::sleep(d).await;
            return (StatusCode::GATEWAY_TIMEOUT, "injected hang").into_response();
        }
        _ => {}
    }
    let (status, headers, answer) = match relay(&shared, &parts.method, &path, &parts.headers, body).await {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("proxy: upstream failed: {e:#}")).into_response(),
    };
    if let Some(s) = lock(&shared.seen).get_mut(index) {
        s.response = Some((status, answer.clone()));
        s.answered_at = Some(Instant::now());
        s.retry_after = headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    }
    let mut upstream = Response::builder().status(status);
    for (name, value) in &headers {
        upstream = upstream.header(name, value);
    }
    let upstream = upstream.body(Body::from(answer)).unwrap_or_default();
    match fault {
        Fault::DropAck => {
            // Headers go out, then the body fails: hyper aborts the connection, and the client
            // never learns what the node committed.
            let broken = futures_util::stream::once(async { Err::<Bytes, std::io::Error>(std::io::Error::other("injected: acknowledgement lost")) });
            Response::builder().status(StatusCode::OK).body(Body::from_stream(broken)).unwrap_or_default()
        }
        Fault::AckTooLate(d) => {
            tokio::time::sleep(d).await;
            upstream
        }
        _ => upstream,
    }
}

/// Forwards one request and returns the node's status, headers and body.
async fn relay(shared: &Shared, method: &axum::http::Method, path: &str, headers: &HeaderMap, body: Bytes) -> Result<(u16, HeaderMap, Bytes)> {
    let method = reqwest::Method::from_bytes(method.as_str().as_bytes())?;
    let mut req = shared.http.request(method, format!("{}{}", shared.upstream, path)).body(body);
    for (name, value) in headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection" | "transfer-encoding") {
            req = req.header(name.as_str(), value.as_bytes());
        }
    }
    let resp = req.send().await.context("forwarding to the node")?;
    let status = resp.status().as_u16();
    let mut out = HeaderMap::new();
    for (name, value) in resp.headers() {
        if !matches!(name.as_str(), "content-length" | "connection" | "transfer-encoding") {
            if let (Ok(n), Ok(v)) = (axum::http::HeaderName::from_bytes(name.as_str().as_bytes()), HeaderValue::from_bytes(value.as_bytes())) {
                out.append(n, v);
            }
        }
    }
    let bytes = resp.bytes().await.context("reading the node's answer")?;
    Ok((status, out, bytes))
}
