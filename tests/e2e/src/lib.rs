//! End-to-end harness: real `provincial-node` and `terminal-service` processes on loopback.
//!
//! The tests in `tests/e2e/tests/it/` (one module per property the issue asks for, all in one
//! test binary) and the demo (`src/bin/demo.rs`) are built from four pieces, read them in this
//! order:
//! - [`processes`]: finding the workspace's binaries, and the [`processes::NodeProcess`] and
//!   [`processes::TerminalProcess`] that start, stop and `kill -9` them;
//! - [`local_api`]: a client of the terminal's local API over its Unix socket;
//! - [`sample`]: valid answers generated from whatever form definition the node serves, so the
//!   tests follow the node's forms instead of hard-coding them;
//! - [`cluster`]: one node and one provisioned terminal, the arrangement most tests start from;
//! - [`openapi`]: validation of real requests and answers against the OpenAPI documents;
//! - [`fault_proxy`]: an HTTP proxy between terminal and node that injects the faults of a
//!   bad network: errors, `Retry-After`, timeouts and acknowledgements lost after the node
//!   committed;
//! - [`qemu`]: a built terminal image booted under QEMU, driven through its serial console and
//!   QEMU's monitor (the boot test, `src/bin/boot-test.rs`, run by `images/boot-test`);
//! - [`fleet`]: many terminals (terminal-service's library, each with its own identity and
//!   outbox) reconnecting to the node after an outage (`src/bin/fleet.rs`);
//! - [`soak`]: one terminal for a long while with the link flapping, the paper running out and
//!   cards coming and going, its memory, descriptors and outbox sampled (`src/bin/soak.rs`).
//!
//! Everything listens on 127.0.0.1 or on Unix sockets in temporary directories, every wait is
//! bounded, and every child process is killed when its handle is dropped.

pub mod cluster;
pub mod fault_proxy;
pub mod fleet;
pub mod local_api;
pub mod openapi;
pub mod processes;
pub mod qemu;
pub mod sample;
pub mod soak;

use std::time::{Duration, Instant};

/// Polls `check` every `step` until it returns `Some`, or fails after `limit` with `what`.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, step: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if start.elapsed() > limit {
            anyhow::bail!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(step).await;
    }
}
