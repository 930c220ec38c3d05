//! The enrollment terminal's daemon, as a library; `main.rs` is its thin command line.
//!
//! A kiosk at a One-Stop-Shop captures applications and grievances while the network comes
//! and goes. This crate keeps every captured submission safe on the terminal and delivers it
//! to the provincial node exactly once. A guided tour, in the order data flows:
//!
//! **Start-up and identity** ([`startup`])
//! - [`config`](startup::config): the one TOML file (`[node]`, `[storage]`, `[api]`,
//!   `[hardware]`, `[kiosk]`, `[sync]`); every key has a default, a wrong key stops start-up
//!   naming it.
//! - [`provision`](startup::provision): binds a fresh terminal to its node (key, enrollment,
//!   configuration), using [`identity`](startup::identity) (the Ed25519 key and the pinned
//!   enrollment record) and [`durable`](startup::durable) (atomic small files).
//! - [`node_config`](startup::node_config): the node's forms, master data and roster, cached
//!   for offline use.
//!
//! **Capturing a submission** ([`capture`]; `POST /v1/applications`)
//! - [`forms`](capture::forms): checks answers against the cached form (scripts, lengths,
//!   codes, …).
//! - [`submission`](capture::submission): builds the content, seals it with
//!   [`seal`](capture::seal) (age, to the node's key) and commits it to the
//!   [`outbox`](capture::outbox) through [`storage`](capture::storage) — the kiosk hears
//!   "saved" only after the durable commit. [`applicant_key`](capture::applicant_key) provides
//!   the keyed hash behind the duplicate warning.
//!
//! **Delivering it** ([`delivery`])
//! - [`sync`](delivery::sync): the engine that drains the outbox in batches, with
//!   [`backoff`](delivery::backoff) (full jitter) and `Retry-After`, through
//!   [`node_client`](delivery::node_client) (signed requests, failures classified).
//! - [`heartbeat`](delivery::heartbeat): terminal health every minute; picks up new node
//!   configuration.
//!
//! **Hardware and staff** ([`peripherals`], [`staff`])
//! - [`devices`](peripherals::devices): the card reader and printer (through the `hardware`
//!   crate), never fatal when missing; [`reader_loop`](peripherals::reader_loop) polls the
//!   reader every 100 ms, [`printer_monitor`](peripherals::printer_monitor) the printer every
//!   few seconds; [`receipts`](peripherals::receipts) says what a receipt shows.
//! - [`staff`] (badge hash, Argon2 PIN) and [`session`](staff::session): staff login, lockout,
//!   idle timeout, end on badge removal.
//!
//! **Around it**
//! - [`api`]: the local HTTP API over a Unix socket for the kiosk and the technician screen;
//!   [`events`] feeds its server-sent events; [`rate_limit`] guards status checks.
//! - [`audit`]: the append-only hash chain of provisioning, sync and error events.
//! - [`terminal`]: the state the API, sync engine and heartbeat share.
//! - [`service`]: `terminal-service run` — everything above wired together under systemd.
//! - [`report`]: what the technician commands `status`, `queue` and `audit verify` print;
//!   [`hw`](peripherals::hw): the `hw read-card`, `print-test` and `printer-status` commands;
//!   [`privileges`](startup::privileges): run with `sudo`, they first become the storage
//!   directory's owner, so root never leaves files there that the daemon cannot open.

pub mod api;
pub mod audit;
pub mod capture;
pub mod clock;
pub mod delivery;
pub mod events;
pub mod peripherals;
pub mod rate_limit;
pub mod referrals;
pub mod report;
pub mod service;
pub mod staff;
pub mod startup;
pub mod terminal;
#[cfg(test)]
mod test_support;
