//! Delivering what was captured: the sync engine that drains the outbox exactly once, its
//! backoff, the signed node client and the heartbeat.

pub mod backoff;
pub mod heartbeat;
pub mod node_client;
pub mod node_clock;
pub mod sync;
