//! The node API v1 as Rust: what a terminal and a provincial node say to each other.
//!
//! Both sides of the wire depend on this crate, so a change here is a change to the contract
//! documented in `terminal-service/openapi/node-v1.yaml` (keep them in step; the tests of both
//! sides check bodies against that document).
//!
//! Read in this order:
//! - [`types`]: the request and response bodies of every `/v1` call, and the plaintext a
//!   terminal seals ([`types::SubmissionContent`]);
//! - [`digest`]: RFC 9530 `content-digest` (sha-256);
//! - [`signature`]: RFC 9421 HTTP Message Signatures with Ed25519, the only way a terminal
//!   authenticates to its node;
//! - [`reference`]: the short, human-friendly reference printed on receipts, derived from the
//!   submission id;
//! - [`referral`]: partner referrals (short code and signed QR payload), verified the same way
//!   by the node and, offline, by the kiosk;
//! - [`service_directory`]: the services beyond cash a household may be referred to;
//! - [`slip`]: referral slips out to those services, signed by the terminal under the node's
//!   endorsement and verified offline (the `slip-verify` binary, `src/bin/slip-verify.rs`).

pub mod digest;
pub mod reference;
pub mod referral;
pub mod service_directory;
pub mod slip;
pub mod signature;
pub mod types;

pub use types::*;
