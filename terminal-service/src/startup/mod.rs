//! Start-up and identity: the configuration file, the terminal's key and the node it is bound
//! to, and the node's configuration (and, for referrals out, its service directory and slip
//! certificate) cached for offline use.

pub mod config;
pub mod durable;
pub mod identity;
pub mod node_config;
pub mod privileges;
pub mod provision;
pub mod referrals_out;
