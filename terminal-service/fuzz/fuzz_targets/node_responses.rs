//! A node's answer, as the terminal reads it (`delivery::node_client`: the body read with serde
//! into node-protocol's types, an error body read leniently, `Retry-After` parsed): the first
//! byte picks the answer, the rest is the body. A hostile or broken node gets a typed error,
//! never a panic; what is accepted serialises and reads back to the same value, as the terminal
//! caches the node's configuration by writing it back out.
#![no_main]

use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::Serialize;

fn read<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(body: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(body) {
        let again: T = serde_json::from_slice(&serde_json::to_vec(&value).expect("an accepted answer serialises")).expect("a serialised answer reads back");
        assert_eq!(again, value);
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    match which % 9 {
        0 => read::<node_protocol::BatchResponse>(body),
        1 => read::<node_protocol::EnrollResponse>(body),
        2 => read::<node_protocol::StatusResponse>(body),
        3 => read::<node_protocol::PrecheckResponse>(body),
        4 => read::<node_protocol::HeartbeatResponse>(body),
        5 => read::<node_protocol::NodeConfig>(body),
        6 => read::<node_protocol::ErrorBody>(body),
        7 => {
            // A `Retry-After` header: never more than a day, whatever the node writes.
            if let Ok(value) = std::str::from_utf8(body) {
                if let Some(wait) = terminal_service::delivery::node_client::parse_retry_after(value, SystemTime::now()) {
                    if value.trim().bytes().all(|b| b.is_ascii_digit()) {
                        assert!(wait <= Duration::from_secs(86_400));
                    }
                }
            }
        }
        _ => {
            // The node's URL as the operator or the enrollment gives it.
            if let Ok(value) = std::str::from_utf8(body) {
                let _ = terminal_service::delivery::node_client::check_node_url(value);
            }
        }
    }
});
