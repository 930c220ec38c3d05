//! The reference provincial node: a real server implementing the node API v1
//! (`terminal-service/openapi/node-v1.yaml`) so terminals can be tested end to end.
//!
//! A guided tour:
//! - [`node`] first: the data directory (sealing identity, SQLite, node id, roster) and the
//!   state shared by every request;
//! - [`auth`]: how every `/v1` request's RFC 9421 signature is checked and replays refused;
//! - [`api`]: the router, errors, and one module per resource (enroll, submissions, status,
//!   heartbeat, config); `api::submissions` is where exactly-once filing happens;
//! - [`terminals`]: the fleet view, and which terminals are stale (overdue or silent);
//! - [`store`]: the schema and SQLite settings; [`codes`]: one-time enrollment codes;
//!   [`identity`]: the age key; [`stats`]: what the CLI reports;
//! - [`duplicates`]: every new application checked against this province and headquarters,
//!   filed and flagged, never refused; [`review`]: staff confirm or dismiss the flags (CLI, and
//!   [`admin`]'s loopback-only JSON API);
//! - [`referrals`]: partner referrals (issue 14): trusted partner keys, referrals issued
//!   through the node, each application's referral checked and used once, never refusing the
//!   application; the partners' signed API is [`api::partners`];
//! - [`services`] and [`slips`]: referrals out (issue 14): the operator's service directory
//!   served to terminals, and the node's endorsement of each terminal's key so the referral
//!   slips terminals print offline verify with the node's public key alone;
//! - [`headquarters`]: the `headquarters` mode of this binary, every province's persons on
//!   PostgreSQL, which nodes ask;
//! - [`tls`]: `serve --tls`, the node's (self-signed) certificate whose SHA-256 terminals pin;
//! - the demo data: [`forms`], [`geography`] (Iraq's governorates and districts), [`seed`]
//!   (staff badges and PINs, sample applicants; README.md lists them).
//!
//! The binary (`src/main.rs`) is a thin clap CLI over these modules.

#![warn(missing_docs)]

pub mod admin;
pub mod api;
pub mod auth;
pub mod codes;
pub mod duplicates;
pub mod forms;
pub mod geography;
pub mod headquarters;
pub mod identity;
pub mod node;
pub mod referrals;
pub mod review;
pub mod seed;
pub mod server;
pub mod services;
pub mod slips;
pub mod stats;
pub mod store;
pub mod targeting;
pub mod terminals;
pub mod tls;

pub use node::Node;
