//! The enrollment terminal's daemon, as a library; `main.rs` is its thin command line.
//!
//! placeholder tour: rewritten when the modules land.

pub mod audit;
pub mod config;
pub mod durable;
pub mod identity;
pub mod outbox;
pub mod seal;
