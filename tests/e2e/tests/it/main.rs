//! The end-to-end tests, as one test binary.
//!
//! Every file directly in `tests/` is linked by Cargo into its own executable: one binary per
//! property cost hundreds of megabytes and minutes of linking. Here each property is a module
//! of a single binary, `it` (run one with `cargo test -p e2e --test it kill_nine::`). The
//! tests share one process but nothing else: each starts its own node and terminal processes
//! in its own temporary directory, on ports chosen by the system.

mod a_minute_of_flapping;
mod cli;
mod contract_examples;
mod demo;
mod display_digits;
mod enrollment_lost_answer;
mod fleet;
mod images;
mod kill_nine;
mod malformed_local_api;
mod network_faults;
mod no_clock;
mod no_personal_data_in_clear;
mod national_id_card;
mod offline_capture;
mod referrals_in;
mod openapi_conformance;
mod signatures;
mod referral_slips;
mod targeting_questionnaire;
mod tls_pinning;
