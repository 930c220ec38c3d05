//! The node's integration tests, as one test binary.
//!
//! Every file directly in `tests/` is linked by Cargo into its own executable, each carrying
//! the whole node: one binary per topic cost hundreds of megabytes and minutes of linking.
//! Here each topic is a module of a single binary, `it` (run one topic with
//! `cargo test -p provincial-node --test it tls::`). The tests share one process: the node of
//! [`common::node`] serves them all, and anything else a test starts gets its own temporary
//! directory and a port chosen by the system.

mod common;

mod age_cli;
mod cli;
mod config;
mod contract_examples;
mod enroll;
mod fleet;
mod headquarters;
mod openapi;
mod precheck;
mod referrals;
mod review;
mod services;
mod signatures;
mod status;
mod submissions;
mod targeting;
mod throughput;
mod tls;
