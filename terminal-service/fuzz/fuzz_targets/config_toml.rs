//! terminal-service's configuration file (`/etc/terminal-service/config.toml`): any text gives a
//! configuration or an error naming the file (and the key), never a panic; an accepted
//! configuration's derived values (durations, the hardware backend) can all be computed.
#![no_main]

use std::path::Path;

use terminal_service::startup::config::{Config, ConfigError};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let origin = Path::new("/etc/terminal-service/config.toml");
    match Config::parse(text, origin) {
        Ok(config) => {
            let _ = config.hardware_backend();
            let _ = config.sync.backoff_initial();
            let _ = config.sync.backoff_max();
            let _ = config.sync.request_timeout();
            let _ = config.sync.heartbeat_interval();
            let _ = config.kiosk.idle_timeout();
        }
        Err(error) => {
            let message = error.to_string();
            assert!(message.contains("config.toml"), "the error names the file: {message}");
            let _: &ConfigError = &error;
        }
    }
});
