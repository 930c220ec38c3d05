//! The hardware crate's tests in one binary (one link instead of eleven): the drivers against
//! datasheet byte sequences and bus mocks, the simulated devices, receipts, barcode scanners and
//! the eMRTD protocol with ICAO 9303's worked examples. Run one part with its module's name, e.g.
//! `cargo test -p hardware --test it emrtd_vectors::`.
//!
//! The PC/SC tests stay binaries of their own (`tests/pcsc*.rs`): each runs a private pcscd
//! found through the process's environment, which tests sharing a process cannot each set.

#[path = "../common/mod.rs"]
mod common;

mod backend;
mod emrtd;
mod emrtd_vectors;
mod escpos;
mod garbage;
mod id_card;
mod iso14443;
mod mfrc522;
mod pn532;
mod receipt;
mod scanner;
