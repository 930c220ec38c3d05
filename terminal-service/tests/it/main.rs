//! The service's integration tests, as one test binary.
//!
//! Every file directly in `tests/` is linked by Cargo into its own executable, each carrying
//! the whole service: one binary per topic cost hundreds of megabytes and minutes of linking.
//! Here each topic is a module of a single binary, `it` (run one topic with
//! `cargo test -p terminal-service --test it sync_engine::`). The tests share one process but
//! no state: each has its own temporary directory, socket and stub node on a system-chosen port.

mod common;

mod hardware_and_sessions;
mod local_api;
mod local_openapi;
mod pcsc_desk_reader;
mod power_loss;
mod provisioning;
mod sync_engine;
