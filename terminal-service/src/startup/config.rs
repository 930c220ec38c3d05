//! The terminal's one TOML configuration file (`/etc/terminal-service/config.toml`).
//!
//! Every key has a default that works for the demo, so a file holds only what differs, and a
//! partial file (some sections, some keys) is completed from the defaults.
//!
//! A wrong file stops start-up, so the message must let a technician fix it without reading
//! code: it names the dotted key (`sync.batch_size`) and, for an unknown key, lists the valid
//! ones. serde's own errors from a whole-document parse do not name the section a key sits in,
//! so [`Config::parse`] parses the text into a generic TOML table first and then checks it one
//! section and one key at a time against the field names the section structs declare. Those
//! names are read through serde itself (see `field_names`), so extending a section is only
//! adding a field with a default to its struct: there is no second list of keys to keep in
//! step. `[hardware]` is the hardware crate's own `BackendConfig`; its sub-tables
//! (`[hardware.reader]`, `[hardware.printer]`, `[hardware.simulator]`) are checked the same
//! way, one key at a time, so an error names `hardware.printer.device`. Values that are well-typed but
//! unacceptable (a URL without a host, a batch larger than the node takes) are caught by
//! [`Config::validate`], which names the key the same way.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Where the service looks when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/terminal-service/config.toml";

/// Languages the kiosk has translations for: Arabic, Kurdish Sorani, English.
pub const SUPPORTED_LANGUAGES: [&str; 3] = ["ar", "ckb", "en"];

/// Shortest accepted `kiosk.idle_timeout_s`: less would end a session while someone reads.
pub const MIN_IDLE_TIMEOUT_S: u64 = 15;
/// Longest accepted `kiosk.idle_timeout_s`: more would leave a session open to the next person.
pub const MAX_IDLE_TIMEOUT_S: u64 = 3600;
/// Shortest accepted `sync.request_timeout_ms`.
pub const MIN_REQUEST_TIMEOUT_MS: u64 = 100;
/// Shortest accepted `sync.heartbeat_interval_s`.
pub const MIN_HEARTBEAT_INTERVAL_S: u64 = 5;

/// The whole configuration. Every key has a default that works for the demo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[node]`
    pub node: NodeSection,
    /// `[storage]`
    pub storage: StorageSection,
    /// `[api]`
    pub api: ApiSection,
    /// `[hardware]` with `[hardware.reader]`, `[hardware.printer]`, `[hardware.scanner]`, `[hardware.simulator]`:
    /// the hardware crate's configuration. A relative `simulator.output_dir` is resolved
    /// against `[storage] dir` (see [`Config::hardware_backend`]).
    pub hardware: hardware::BackendConfig,
    /// `[kiosk]`
    pub kiosk: KioskSection,
    /// `[sync]`
    pub sync: SyncSection,
}

/// `[node]`: the provincial node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeSection {
    /// Base URL, e.g. `https://node.baghdad.example` (default `http://127.0.0.1:8700`).
    pub url: String,
}

/// `[storage]`: where the outbox, keys and audit log live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSection {
    /// Directory (default `/var/lib/terminal-service`).
    pub dir: PathBuf,
}

/// `[api]`: the local API for the kiosk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSection {
    /// Unix socket path (default `/run/terminal-service/api.sock`).
    pub socket: PathBuf,
}

/// Board backend: `simulated`, `rppal` or `linux` (the hardware crate's own type, so the
/// `[hardware]` section is exactly what [`hardware::BackendConfig`] reads).
pub use hardware::Backend;

/// Default `[hardware.simulator] output_dir`, relative to `[storage] dir`.
pub const DEFAULT_PRINTED_DIR: &str = "printed";

/// `[kiosk]`: settings the UI reads through the local API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KioskSection {
    /// Seconds without a touch before the idle countdown (default 90).
    pub idle_timeout_s: u64,
    /// Offered languages, first is the default (default `["ar", "ckb", "en"]`).
    pub languages: Vec<String>,
    /// Status checks this terminal forwards per minute, all applicants together (default 30):
    /// a kiosk must not become a way to probe the node for who is registered.
    pub status_checks_per_minute: u32,
}

/// `[sync]`: how the outbox is forwarded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncSection {
    /// Envelopes per batch (default 200, at most node_protocol::MAX_BATCH).
    pub batch_size: usize,
    /// First retry delay in milliseconds (default 500).
    pub backoff_initial_ms: u64,
    /// Cap of the retry delay in milliseconds (default 300000).
    pub backoff_max_ms: u64,
    /// Timeout of one request to the node in milliseconds (default 10000).
    pub request_timeout_ms: u64,
    /// Seconds between heartbeats (default 60; the node's enrollment answer may set it).
    pub heartbeat_interval_s: u64,
    /// Randomise retry delays (default true: full jitter, see `delivery::backoff`). `false`
    /// makes every terminal retry on the same schedule; it exists to measure what jitter
    /// saves (`tests/e2e/src/bin/fleet.rs`), never for the field.
    pub backoff_jitter: bool,
    /// Days without a delivery to the node, while submissions wait, after which staff are
    /// told on screen and the node in the heartbeat (default 7; 0 turns the warning off).
    pub max_days_without_delivery: u32,
}

impl Default for NodeSection {
    fn default() -> Self {
        NodeSection { url: "http://127.0.0.1:8700".into() }
    }
}

impl Default for StorageSection {
    fn default() -> Self {
        StorageSection { dir: PathBuf::from("/var/lib/terminal-service") }
    }
}

impl Default for ApiSection {
    fn default() -> Self {
        ApiSection { socket: PathBuf::from("/run/terminal-service/api.sock") }
    }
}

impl Default for Config {
    fn default() -> Self {
        let mut hardware = hardware::BackendConfig::default();
        hardware.simulator.output_dir = PathBuf::from(DEFAULT_PRINTED_DIR);
        Config {
            node: NodeSection::default(),
            storage: StorageSection::default(),
            api: ApiSection::default(),
            hardware,
            kiosk: KioskSection::default(),
            sync: SyncSection::default(),
        }
    }
}

impl Config {
    /// The `[hardware]` configuration to open devices with: a relative
    /// `simulator.output_dir` resolved against `[storage] dir`, never the working directory
    /// (a service's working directory is `/`, a technician's shell is anywhere).
    pub fn hardware_backend(&self) -> hardware::BackendConfig {
        let mut backend = self.hardware.clone();
        if backend.simulator.output_dir.is_relative() {
            backend.simulator.output_dir = self.storage.dir.join(&backend.simulator.output_dir);
        }
        backend
    }
}

impl Default for KioskSection {
    fn default() -> Self {
        KioskSection {
            idle_timeout_s: 90,
            languages: SUPPORTED_LANGUAGES.iter().map(|l| l.to_string()).collect(),
            status_checks_per_minute: 30,
        }
    }
}

impl Default for SyncSection {
    fn default() -> Self {
        SyncSection {
            batch_size: 200,
            backoff_initial_ms: 500,
            backoff_max_ms: 300_000,
            request_timeout_ms: 10_000,
            heartbeat_interval_s: 60,
            backoff_jitter: true,
            max_days_without_delivery: 7,
        }
    }
}

impl SyncSection {
    /// `backoff_initial_ms` as a duration.
    pub fn backoff_initial(&self) -> Duration {
        Duration::from_millis(self.backoff_initial_ms)
    }

    /// `backoff_max_ms` as a duration.
    pub fn backoff_max(&self) -> Duration {
        Duration::from_millis(self.backoff_max_ms)
    }

    /// `request_timeout_ms` as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// `heartbeat_interval_s` as a duration.
    pub fn heartbeat_interval(&self) -> Duration {
        Duration::from_secs(self.heartbeat_interval_s)
    }
}

impl KioskSection {
    /// `idle_timeout_s` as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_s)
    }
}

/// Why a configuration was refused; the message names the key and the fix.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key, or a value of the wrong type.
    #[error("{path}: {message}\n(the service does not start with this file: correct it, or restore the packaged one from /usr/share/doc/terminal-service or the image; `terminal-service config check` reads it again without starting)")]
    Parse {
        /// The file.
        path: PathBuf,
        /// toml's message, which names the key and position.
        message: String,
    },
    /// A value is well-typed but not acceptable.
    #[error("{path}: invalid value for `{key}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Dotted key, e.g. `sync.batch_size`.
        key: String,
        /// What is wrong and what to do.
        message: String,
    },
}

impl Config {
    /// Reads and validates a configuration file.
    ///
    /// A file that does not exist is an error: whoever names a file expects it to be used.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        // A damaged file (a bad sector, a cut write) is a file to correct, like a syntax error.
        let text = String::from_utf8(bytes)
            .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: format!("not UTF-8 text ({e})") })?;
        Config::parse(&text, path)
    }

    /// Reads `path` if given; otherwise [`DEFAULT_CONFIG_PATH`] if it exists, else the defaults
    /// (a demo machine has no file at all).
    pub fn load_or_default(path: Option<&Path>) -> Result<Config, ConfigError> {
        match path {
            Some(path) => Config::load(path),
            None => {
                let default = Path::new(DEFAULT_CONFIG_PATH);
                match std::fs::read_to_string(default) {
                    Ok(text) => Config::parse(&text, default),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
                    Err(source) => Err(ConfigError::Read { path: default.to_path_buf(), source }),
                }
            }
        }
    }

    /// Parses and validates configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let parse_error = |message: String| ConfigError::Parse { path: origin.to_path_buf(), message };
        let document: toml::Table = toml::from_str(text).map_err(|e| parse_error(e.to_string().trim_end().to_string()))?;

        let sections = field_names::<Config>();
        let mut config = Config::default();
        for (name, value) in document {
            if !sections.contains(&name.as_str()) {
                return Err(parse_error(format!(
                    "unknown section `[{name}]`; the sections are {}",
                    list(sections.iter().map(|s| format!("[{s}]")))
                )));
            }
            let toml::Value::Table(table) = value else {
                return Err(parse_error(format!(
                    "`{name}` must be a section (`[{name}]` followed by its keys), not a {}",
                    value.type_str()
                )));
            };
            match name.as_str() {
                "node" => config.node = section(&name, table).map_err(parse_error)?,
                "storage" => config.storage = section(&name, table).map_err(parse_error)?,
                "api" => config.api = section(&name, table).map_err(parse_error)?,
                "hardware" => config.hardware = hardware_section(table).map_err(parse_error)?,
                "kiosk" => config.kiosk = section(&name, table).map_err(parse_error)?,
                "sync" => config.sync = section(&name, table).map_err(parse_error)?,
                // `field_names` and this match are both derived from `Config`'s fields; a
                // section missing here is a programming error a unit test catches.
                other => return Err(parse_error(format!("section `[{other}]` is known but not handled: report this bug"))),
            }
        }
        config.validate(origin)?;
        Ok(config)
    }

    /// Checks values that are well-typed but not acceptable.
    pub fn validate(&self, origin: &Path) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid { path: origin.to_path_buf(), key: key.into(), message };

        check_node_url(&self.node.url).map_err(|m| invalid("node.url", m))?;

        if !self.storage.dir.is_absolute() {
            return Err(invalid(
                "storage.dir",
                format!("'{}' is a relative path; give an absolute one, e.g. \"/var/lib/terminal-service\"", self.storage.dir.display()),
            ));
        }
        if !self.api.socket.is_absolute() {
            return Err(invalid(
                "api.socket",
                format!("'{}' is a relative path; give an absolute one, e.g. \"/run/terminal-service/api.sock\"", self.api.socket.display()),
            ));
        }

        if let Some(card) = &self.hardware.simulator.card {
            if hardware::Uid::from_hex(card).is_none() {
                return Err(invalid(
                    "hardware.simulator.card",
                    format!("'{card}' is not a card UID; give 4, 7 or 10 bytes in hex, e.g. \"04A1B2C3D4E580\""),
                ));
            }
        }
        if self.hardware.printer.timeout_ms == 0 {
            return Err(invalid("hardware.printer.timeout_ms", "0 would never wait for the printer's answer; use e.g. 1000".into()));
        }
        if self.hardware.printer.baud == 0 {
            return Err(invalid("hardware.printer.baud", "0 is not a serial speed; use the printer's, e.g. 19200".into()));
        }
        let scanner = &self.hardware.scanner;
        if matches!(scanner.kind, hardware::ScannerKind::Hid | hardware::ScannerKind::Serial) && scanner.device.is_none() {
            return Err(invalid(
                "hardware.scanner.device",
                format!(
                    "kind = \"{}\" needs the scanner's device node: set it (e.g. {}), or kind = \"none\" to type referral codes instead",
                    scanner.kind.as_str(),
                    if scanner.kind == hardware::ScannerKind::Hid { "\"/dev/input/by-id/usb-…-event-kbd\"" } else { "\"/dev/ttyACM0\"" }
                ),
            ));
        }
        if scanner.kind == hardware::ScannerKind::Serial && scanner.baud == 0 {
            return Err(invalid("hardware.scanner.baud", "0 is not a serial speed; use the scanner's, e.g. 9600".into()));
        }
        if self.hardware.reader.spi_clock_hz == 0 {
            return Err(invalid("hardware.reader.spi_clock_hz", "0 Hz cannot clock the bus; use e.g. 1000000".into()));
        }
        if self.hardware.reader.pcsc_reader.as_deref().is_some_and(|name| name.trim().is_empty()) {
            return Err(invalid(
                "hardware.reader.pcsc_reader",
                "an empty name matches every reader; give part of the reader's name as pcsc_scan lists it (e.g. \"ACR122\"), or remove the key to use the first reader".into(),
            ));
        }

        let idle = self.kiosk.idle_timeout_s;
        if !(MIN_IDLE_TIMEOUT_S..=MAX_IDLE_TIMEOUT_S).contains(&idle) {
            return Err(invalid(
                "kiosk.idle_timeout_s",
                format!("{idle} is out of range; use {MIN_IDLE_TIMEOUT_S} to {MAX_IDLE_TIMEOUT_S} seconds"),
            ));
        }
        check_languages(&self.kiosk.languages).map_err(|m| invalid("kiosk.languages", m))?;
        if !(1..=10_000).contains(&self.kiosk.status_checks_per_minute) {
            return Err(invalid(
                "kiosk.status_checks_per_minute",
                format!("{} is out of range; use 1 to 10000 (default 30)", self.kiosk.status_checks_per_minute),
            ));
        }

        let sync = &self.sync;
        if !(1..=node_protocol::MAX_BATCH).contains(&sync.batch_size) {
            return Err(invalid(
                "sync.batch_size",
                format!("{} is out of range; use 1 to {} (the most a node accepts in one batch)", sync.batch_size, node_protocol::MAX_BATCH),
            ));
        }
        if sync.backoff_initial_ms == 0 {
            return Err(invalid("sync.backoff_initial_ms", "0 would retry without pause; use at least 1 millisecond".into()));
        }
        if sync.backoff_initial_ms > sync.backoff_max_ms {
            return Err(invalid(
                "sync.backoff_initial_ms",
                format!(
                    "{} is larger than sync.backoff_max_ms ({}); the first delay cannot exceed the cap: lower it or raise sync.backoff_max_ms",
                    sync.backoff_initial_ms, sync.backoff_max_ms
                ),
            ));
        }
        if sync.request_timeout_ms < MIN_REQUEST_TIMEOUT_MS {
            return Err(invalid(
                "sync.request_timeout_ms",
                format!("{} is too short for any network; use at least {MIN_REQUEST_TIMEOUT_MS}", sync.request_timeout_ms),
            ));
        }
        if sync.max_days_without_delivery > 365 {
            return Err(invalid(
                "sync.max_days_without_delivery",
                format!("{} days is over a year; use 1 to 365 (0 turns the warning off)", sync.max_days_without_delivery),
            ));
        }
        if sync.heartbeat_interval_s < MIN_HEARTBEAT_INTERVAL_S {
            return Err(invalid(
                "sync.heartbeat_interval_s",
                format!("{} would flood the node; use at least {MIN_HEARTBEAT_INTERVAL_S} seconds", sync.heartbeat_interval_s),
            ));
        }
        Ok(())
    }
}

/// Deserializes one section, checking each key on its own so that the error names it.
fn section<T: serde::de::DeserializeOwned>(name: &str, table: toml::Table) -> Result<T, String> {
    let known = field_names::<T>();
    for (key, value) in &table {
        if !known.contains(&key.as_str()) {
            let hint = closest(key, known).map(|k| format!(" (did you mean `{name}.{k}`?)")).unwrap_or_default();
            return Err(format!(
                "unknown key `{name}.{key}`{hint}; the keys of [{name}] are {}",
                list(known.iter().map(|k| format!("`{k}`")))
            ));
        }
        // Every section struct is `#[serde(default)]`, so a table holding only this key
        // deserializes exactly when this key's value has the right type.
        let single: toml::Table = std::iter::once((key.clone(), value.clone())).collect();
        if let Err(e) = T::deserialize(single) {
            return Err(format!("wrong value for `{name}.{key}`: {}", readable(e.message())));
        }
    }
    T::deserialize(table).map_err(|e| format!("in [{name}]: {}", readable(e.message())))
}

/// `[hardware]`: its own keys (`backend`) and three sub-tables, each checked key by key like
/// a section so that an error names `hardware.printer.devcie`, not just "unknown field".
fn hardware_section(mut table: toml::Table) -> Result<hardware::BackendConfig, String> {
    let mut subsections = Vec::new();
    for name in ["reader", "printer", "scanner", "simulator"] {
        match table.remove(name) {
            Some(toml::Value::Table(sub)) => subsections.push((name, sub)),
            Some(other) => {
                return Err(format!(
                    "`hardware.{name}` must be a section (`[hardware.{name}]` followed by its keys), not a {}",
                    other.type_str()
                ))
            }
            None => {}
        }
    }
    let mut config: hardware::BackendConfig = section("hardware", table)?;
    let mut output_dir_given = false;
    for (name, sub) in subsections {
        let dotted = format!("hardware.{name}");
        match name {
            "reader" => config.reader = section(&dotted, sub)?,
            "printer" => config.printer = section(&dotted, sub)?,
            "scanner" => config.scanner = section(&dotted, sub)?,
            _ => {
                output_dir_given = sub.contains_key("output_dir");
                config.simulator = section(&dotted, sub)?;
            }
        }
    }
    if !output_dir_given {
        // The hardware crate's default is relative to the working directory; ours is
        // relative to the storage directory.
        config.simulator.output_dir = PathBuf::from(DEFAULT_PRINTED_DIR);
    }
    Ok(config)
}

/// The field names a struct declares to serde: the keys it accepts.
///
/// `Deserialize` for a struct hands its field list to `deserialize_struct`; a deserializer
/// that records that list and stops is the one place the names are known without repeating
/// them by hand.
fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct FieldNames<'a>(&'a mut &'static [&'static str]);

    impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
        type Error = serde::de::value::Error;

        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(serde::de::Error::custom("field names recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    // The error is the expected way out: only the recorded names matter.
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

/// serde names Rust types in its messages; a technician reads TOML.
fn readable(message: &str) -> String {
    let mut out = message.trim_end().to_string();
    for (rust, toml_word) in [
        ("expected usize", "expected a whole number (0 or more)"),
        ("expected u64", "expected a whole number (0 or more)"),
        ("expected u32", "expected a whole number (0 or more)"),
        ("expected a sequence", "expected an array, e.g. [\"ar\", \"ckb\", \"en\"]"),
        ("expected path string", "expected a path as a string"),
        ("expected a string", "expected a string in quotes"),
    ] {
        out = out.replace(rust, toml_word);
    }
    out
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// The known key a mistyped one most likely meant (small edit distance), if any.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

fn check_node_url(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("'{text}' is not a URL ({e}); write it like \"https://node.baghdad.example\""))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("'{text}' uses the scheme '{}'; use http:// or https://", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{text}' has no host; write it like \"https://node.baghdad.example\""));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("'{text}' has a query or fragment; give only the node's base URL"));
    }
    Ok(())
}

fn check_languages(languages: &[String]) -> Result<(), String> {
    let supported = list(SUPPORTED_LANGUAGES.iter().map(|l| format!("\"{l}\"")));
    if languages.is_empty() {
        return Err(format!("the list is empty; give at least one of {supported} (the first is the default)"));
    }
    for (i, language) in languages.iter().enumerate() {
        if !SUPPORTED_LANGUAGES.contains(&language.as_str()) {
            return Err(format!("'{language}' is not a supported language; use {supported}"));
        }
        if languages[..i].contains(language) {
            return Err(format!("'{language}' is listed twice; list each language once"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/terminal-service/config.toml"))
    }

    fn parse_message(text: &str) -> String {
        match parse(text) {
            Err(e @ ConfigError::Parse { .. }) => e.to_string(),
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    fn invalid(text: &str) -> (String, String) {
        match parse(text) {
            Err(ref e @ ConfigError::Invalid { ref key, .. }) => (key.clone(), e.to_string()),
            other => panic!("expected an invalid value, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::default();
        assert_eq!(c.node.url, "http://127.0.0.1:8700");
        assert_eq!(c.storage.dir, PathBuf::from("/var/lib/terminal-service"));
        assert_eq!(c.api.socket, PathBuf::from("/run/terminal-service/api.sock"));
        assert_eq!(c.hardware.backend, Backend::Simulated);
        assert_eq!(c.kiosk.idle_timeout_s, 90);
        assert_eq!(c.kiosk.languages, vec!["ar", "ckb", "en"]);
        assert_eq!(c.sync.batch_size, 200);
        assert_eq!(c.sync.backoff_initial_ms, 500);
        assert_eq!(c.sync.backoff_max_ms, 300_000);
        assert_eq!(c.sync.request_timeout_ms, 10_000);
        assert_eq!(c.sync.heartbeat_interval_s, 60);
        assert!(c.sync.backoff_jitter);
        assert_eq!(c.sync.max_days_without_delivery, 7);
        assert_eq!(c.sync.request_timeout(), Duration::from_secs(10));
        c.validate(Path::new("defaults")).unwrap();
    }

    #[test]
    fn empty_file_is_the_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
        assert_eq!(parse("# only a comment\n").unwrap(), Config::default());
    }

    #[test]
    fn partial_file_keeps_defaults_for_the_rest() {
        let c = parse("[node]\nurl = \"https://node.baghdad.example\"\n[sync]\nbatch_size = 50\n[hardware]\nbackend = \"rppal\"\n").unwrap();
        assert_eq!(c.node.url, "https://node.baghdad.example");
        assert_eq!(c.sync.batch_size, 50);
        assert_eq!(c.sync.backoff_max_ms, 300_000);
        assert_eq!(c.hardware.backend, Backend::Rppal);
        assert_eq!(c.kiosk, KioskSection::default());
        assert_eq!(c.storage, StorageSection::default());
    }

    #[test]
    fn full_file_round_trips_through_serialization() {
        let mut c = Config::default();
        c.hardware.backend = Backend::Linux;
        c.kiosk.languages = vec!["ckb".into(), "ar".into()];
        let text = toml::to_string(&c).unwrap();
        assert_eq!(parse(&text).unwrap(), c);
    }

    #[test]
    fn every_section_is_handled() {
        let sections = field_names::<Config>();
        assert_eq!(sections, ["node", "storage", "api", "hardware", "kiosk", "sync"]);
        for s in sections {
            parse(&format!("[{s}]\n")).unwrap();
        }
    }

    #[test]
    fn unknown_key_names_the_dotted_key_and_the_valid_ones() {
        let m = parse_message("[node]\nulr = \"http://x\"\n");
        assert!(m.contains("`node.ulr`"), "{m}");
        assert!(m.contains("did you mean `node.url`"), "{m}");
        assert!(m.contains("the keys of [node] are `url`"), "{m}");
        assert!(m.starts_with("/etc/terminal-service/config.toml: "), "{m}");

        let m = parse_message("[sync]\nbatch = 3\n");
        assert!(m.contains("`sync.batch`"), "{m}");
        for key in ["batch_size", "backoff_initial_ms", "backoff_max_ms", "request_timeout_ms", "heartbeat_interval_s"] {
            assert!(m.contains(&format!("`{key}`")), "{m}");
        }
    }

    #[test]
    fn unknown_key_as_a_dotted_top_level_key_is_found_too() {
        let m = parse_message("kiosk.idle = 30\n");
        assert!(m.contains("`kiosk.idle`"), "{m}");
        assert!(m.contains("`idle_timeout_s`") && m.contains("`languages`"), "{m}");
    }

    #[test]
    fn unknown_section_lists_the_sections() {
        let m = parse_message("[nodes]\nurl = \"http://x\"\n");
        assert!(m.contains("`[nodes]`"), "{m}");
        assert!(m.contains("[node], [storage], [api], [hardware], [kiosk], [sync]"), "{m}");
    }

    #[test]
    fn a_section_given_as_a_value_is_refused() {
        let m = parse_message("node = \"http://x\"\n");
        assert!(m.contains("`node` must be a section"), "{m}");
    }

    #[test]
    fn wrong_type_names_the_key_and_the_expected_type() {
        let m = parse_message("[sync]\nbatch_size = \"200\"\n");
        assert!(m.contains("`sync.batch_size`"), "{m}");
        assert!(m.contains("whole number"), "{m}");

        let m = parse_message("[kiosk]\nlanguages = \"ar\"\n");
        assert!(m.contains("`kiosk.languages`"), "{m}");
        assert!(m.contains("array"), "{m}");

        let m = parse_message("[node]\nurl = 8700\n");
        assert!(m.contains("`node.url`") && m.contains("string"), "{m}");

        let m = parse_message("[sync]\nheartbeat_interval_s = -5\n");
        assert!(m.contains("`sync.heartbeat_interval_s`"), "{m}");
    }

    #[test]
    fn unknown_backend_lists_the_backends() {
        let m = parse_message("[hardware]\nbackend = \"raspberry\"\n");
        assert!(m.contains("`hardware.backend`"), "{m}");
        assert!(m.contains("simulated") && m.contains("rppal") && m.contains("linux"), "{m}");
    }

    #[test]
    fn hardware_subsections_are_read() {
        let c = parse(
            "[hardware]\nbackend = \"linux\"\n[hardware.reader]\nchip = \"pn532\"\ni2c_device = \"/dev/i2c-3\"\n\
             [hardware.printer]\nconnection = \"serial\"\ndevice = \"/dev/ttyS1\"\npaper = \"80mm\"\n\
             [hardware.simulator]\ncard = \"04A1B2C3D4E580\"\npaper = \"near-end\"\n",
        )
        .unwrap();
        assert_eq!(c.hardware.backend, Backend::Linux);
        assert_eq!(c.hardware.reader.chip, hardware::ReaderChip::Pn532);
        assert_eq!(c.hardware.reader.i2c_device, PathBuf::from("/dev/i2c-3"));
        assert_eq!(c.hardware.printer.connection, hardware::PrinterConnection::Serial);
        assert_eq!(c.hardware.printer.paper, hardware::PaperWidth::Mm80);
        assert_eq!(c.hardware.simulator.card.as_deref(), Some("04A1B2C3D4E580"));
        assert_eq!(c.hardware.simulator.paper, hardware::PaperLevel::NearEnd);
        // Keys not given keep their defaults.
        assert_eq!(c.hardware.printer.baud, 19_200);
        assert_eq!(c.hardware.simulator.output_dir, PathBuf::from(DEFAULT_PRINTED_DIR));
    }

    #[test]
    fn simulator_output_dir_is_resolved_against_the_storage_dir() {
        let c = parse("[storage]\ndir = \"/srv/ts\"\n").unwrap();
        assert_eq!(c.hardware_backend().simulator.output_dir, PathBuf::from("/srv/ts/printed"));
        let c = parse("[storage]\ndir = \"/srv/ts\"\n[hardware.simulator]\noutput_dir = \"pages\"\n").unwrap();
        assert_eq!(c.hardware_backend().simulator.output_dir, PathBuf::from("/srv/ts/pages"));
        let c = parse("[hardware.simulator]\noutput_dir = \"/tmp/pages\"\n").unwrap();
        assert_eq!(c.hardware_backend().simulator.output_dir, PathBuf::from("/tmp/pages"));
        assert_eq!(Config::default().hardware_backend().simulator.output_dir, PathBuf::from("/var/lib/terminal-service/printed"));
    }

    #[test]
    fn unknown_hardware_keys_are_named_with_their_table() {
        let m = parse_message("[hardware.printer]\ndevcie = \"/dev/usb/lp0\"\n");
        assert!(m.contains("`hardware.printer.devcie`"), "{m}");
        assert!(m.contains("did you mean `hardware.printer.device`"), "{m}");
        assert!(m.contains("the keys of [hardware.printer] are"), "{m}");
        let m = parse_message("[hardware.reader]\nspi_speed = 5\n");
        assert!(m.contains("`hardware.reader.spi_speed`") && m.contains("`spi_clock_hz`"), "{m}");
        let m = parse_message("[hardware.simulator]\npaper_level = \"ok\"\n");
        assert!(m.contains("`hardware.simulator.paper_level`"), "{m}");
        let m = parse_message("[hardware]\nbackend = \"linux\"\nprinter_device = \"/dev/usb/lp0\"\n");
        assert!(m.contains("`hardware.printer_device`"), "{m}");
        let m = parse_message("[hardware]\nprinter = \"usb\"\n");
        assert!(m.contains("`hardware.printer` must be a section"), "{m}");
        let m = parse_message("[hardware.printer]\npaper = \"57mm\"\n");
        assert!(m.contains("`hardware.printer.paper`") && m.contains("58mm"), "{m}");
        let m = parse_message("[hardware.printer]\nbaud = \"fast\"\n");
        assert!(m.contains("`hardware.printer.baud`") && m.contains("whole number"), "{m}");
    }

    #[test]
    fn scanner_section_is_read_and_checked_key_by_key() {
        let c = parse("[hardware.scanner]\nkind = \"hid\"\ndevice = \"/dev/input/by-id/usb-Scanner-event-kbd\"\n").unwrap();
        assert_eq!(c.hardware.scanner.kind, hardware::ScannerKind::Hid);
        assert_eq!(parse("").unwrap().hardware.scanner.kind, hardware::ScannerKind::None);
        let (key, m) = invalid("[hardware.scanner]\nkind = \"serial\"\n");
        assert_eq!(key, "hardware.scanner.device");
        assert!(m.contains("/dev/ttyACM0"), "{m}");
        assert_eq!(invalid("[hardware.scanner]\nkind = \"serial\"\ndevice = \"/dev/ttyACM0\"\nbaud = 0\n").0, "hardware.scanner.baud");
        let m = parse_message("[hardware.scanner]\ndevcie = \"/dev/ttyACM0\"\n");
        assert!(m.contains("`hardware.scanner.devcie`") && m.contains("`hardware.scanner.device`"), "{m}");
        let m = parse_message("[hardware.scanner]\nkind = \"usb\"\n");
        assert!(m.contains("`hardware.scanner.kind`") && m.contains("hid"), "{m}");
        parse("[hardware.scanner]\nkind = \"simulated\"\n").unwrap();
    }

    #[test]
    fn hardware_values_are_checked() {
        let (key, m) = invalid("[hardware.simulator]\ncard = \"04A1B2\"\n");
        assert_eq!(key, "hardware.simulator.card");
        assert!(m.contains("4, 7 or 10 bytes"), "{m}");
        assert_eq!(invalid("[hardware.printer]\ntimeout_ms = 0\n").0, "hardware.printer.timeout_ms");
        assert_eq!(invalid("[hardware.printer]\nbaud = 0\n").0, "hardware.printer.baud");
        assert_eq!(invalid("[hardware.reader]\nspi_clock_hz = 0\n").0, "hardware.reader.spi_clock_hz");
        parse("[hardware.simulator]\ncard = \"DEADBEEF\"\n").unwrap();
    }

    #[test]
    fn a_pcsc_reader_goes_with_any_backend() {
        for backend in ["simulated", "rppal", "linux"] {
            let c = parse(&format!("[hardware]\nbackend = \"{backend}\"\n[hardware.reader]\nchip = \"pcsc\"\npcsc_reader = \"ACR122\"\n")).unwrap();
            assert_eq!(c.hardware.reader.chip, hardware::ReaderChip::Pcsc);
            assert_eq!(c.hardware.reader.pcsc_reader.as_deref(), Some("ACR122"));
            assert!(!c.hardware.reader_is_simulated());
        }
        assert_eq!(parse("[hardware.reader]\nchip = \"pcsc\"\n").unwrap().hardware.reader.pcsc_reader, None);
        let (key, m) = invalid("[hardware.reader]\nchip = \"pcsc\"\npcsc_reader = \" \"\n");
        assert_eq!(key, "hardware.reader.pcsc_reader");
        assert!(m.contains("remove the key"), "{m}");
        let m = parse_message("[hardware.reader]\nchip = \"acr122\"\n");
        assert!(m.contains("`hardware.reader.chip`") && m.contains("`pcsc`"), "{m}");
        let m = parse_message("[hardware.reader]\npcsc_readr = \"ACR122\"\n");
        assert!(m.contains("did you mean `hardware.reader.pcsc_reader`"), "{m}");
    }

    #[test]
    fn the_id_card_profile_is_one_of_three() {
        assert_eq!(Config::default().hardware.id_card_profile, hardware::IdCardProfile::Open);
        for (text, profile) in [("emrtd", hardware::IdCardProfile::Emrtd), ("open", hardware::IdCardProfile::Open), ("both", hardware::IdCardProfile::Both)] {
            let c = parse(&format!("[hardware]\nbackend = \"simulated\"\nid_card_profile = \"{text}\"\n")).unwrap();
            assert_eq!(c.hardware.id_card_profile, profile);
            assert_eq!(profile.as_str(), text);
        }
        let m = parse_message("[hardware]\nid_card_profile = \"icao\"\n");
        assert!(m.contains("`hardware.id_card_profile`"), "{m}");
        assert!(m.contains("`emrtd`") && m.contains("`open`") && m.contains("`both`"), "{m}");
        let m = parse_message("[hardware.reader]\nid_card_profile = \"emrtd\"\n");
        assert!(m.contains("`hardware.reader.id_card_profile`"), "{m}");
    }

    #[test]
    fn syntax_error_gives_the_line() {
        let m = parse_message("[node]\nurl = \"http://x\n");
        assert!(m.contains("line 2"), "{m}");
    }

    #[test]
    fn node_url_must_be_http_with_a_host() {
        for (url, expect) in [
            ("node.example", "not a URL"),
            ("ftp://node.example", "scheme 'ftp'"),
            ("file:///etc/passwd", "scheme 'file'"),
            ("http://node.example/?x=1", "query"),
        ] {
            let (key, m) = invalid(&format!("[node]\nurl = \"{url}\"\n"));
            assert_eq!(key, "node.url");
            assert!(m.contains(expect), "{url}: {m}");
            assert!(m.contains("invalid value for `node.url`"), "{m}");
        }
        parse("[node]\nurl = \"https://10.0.0.5:8443/base\"\n").unwrap();
    }

    #[test]
    fn batch_size_is_bounded_by_the_protocol() {
        assert_eq!(invalid("[sync]\nbatch_size = 0\n").0, "sync.batch_size");
        let (key, m) = invalid(&format!("[sync]\nbatch_size = {}\n", node_protocol::MAX_BATCH + 1));
        assert_eq!(key, "sync.batch_size");
        assert!(m.contains(&format!("1 to {}", node_protocol::MAX_BATCH)), "{m}");
        parse(&format!("[sync]\nbatch_size = {}\n", node_protocol::MAX_BATCH)).unwrap();
        parse("[sync]\nbatch_size = 1\n").unwrap();
    }

    #[test]
    fn backoff_initial_cannot_exceed_the_cap() {
        let (key, m) = invalid("[sync]\nbackoff_initial_ms = 5000\nbackoff_max_ms = 1000\n");
        assert_eq!(key, "sync.backoff_initial_ms");
        assert!(m.contains("sync.backoff_max_ms"), "{m}");
        parse("[sync]\nbackoff_initial_ms = 1000\nbackoff_max_ms = 1000\n").unwrap();
        assert_eq!(invalid("[sync]\nbackoff_initial_ms = 0\n").0, "sync.backoff_initial_ms");
    }

    #[test]
    fn request_timeout_and_heartbeat_have_floors() {
        assert_eq!(invalid("[sync]\nrequest_timeout_ms = 99\n").0, "sync.request_timeout_ms");
        parse("[sync]\nrequest_timeout_ms = 100\n").unwrap();
        let (key, m) = invalid("[sync]\nheartbeat_interval_s = 4\n");
        assert_eq!(key, "sync.heartbeat_interval_s");
        assert!(m.contains("at least 5"), "{m}");
        parse("[sync]\nheartbeat_interval_s = 5\n").unwrap();
    }

    #[test]
    fn idle_timeout_is_bounded() {
        for bad in [0, 14, 3601] {
            let (key, m) = invalid(&format!("[kiosk]\nidle_timeout_s = {bad}\n"));
            assert_eq!(key, "kiosk.idle_timeout_s");
            assert!(m.contains("15 to 3600"), "{m}");
        }
        parse("[kiosk]\nidle_timeout_s = 15\n").unwrap();
        parse("[kiosk]\nidle_timeout_s = 3600\n").unwrap();
    }

    #[test]
    fn languages_must_be_a_non_empty_subset_without_repeats() {
        let (key, m) = invalid("[kiosk]\nlanguages = []\n");
        assert_eq!(key, "kiosk.languages");
        assert!(m.contains("empty"), "{m}");
        let (_, m) = invalid("[kiosk]\nlanguages = [\"ar\", \"fr\"]\n");
        assert!(m.contains("'fr'") && m.contains("\"ckb\""), "{m}");
        let (_, m) = invalid("[kiosk]\nlanguages = [\"en\", \"en\"]\n");
        assert!(m.contains("twice"), "{m}");
        assert_eq!(parse("[kiosk]\nlanguages = [\"ckb\"]\n").unwrap().kiosk.languages, vec!["ckb"]);
    }

    #[test]
    fn paths_must_be_absolute() {
        let (key, m) = invalid("[storage]\ndir = \"var/lib/ts\"\n");
        assert_eq!(key, "storage.dir");
        assert!(m.contains("relative"), "{m}");
        assert_eq!(invalid("[api]\nsocket = \"api.sock\"\n").0, "api.socket");
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let err = Config::load(&path).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
        assert!(err.to_string().contains(&path.display().to_string()), "{err}");
        assert!(Config::load_or_default(Some(&path)).is_err());
    }

    #[test]
    fn load_reads_the_file_and_names_it_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[kiosk]\nidle_timeout_s = 120\n").unwrap();
        assert_eq!(Config::load(&path).unwrap().kiosk.idle_timeout_s, 120);
        std::fs::write(&path, "[kiosk]\nidle_timeout_s = 1\n").unwrap();
        let err = Config::load(&path).unwrap_err();
        assert!(err.to_string().starts_with(&path.display().to_string()), "{err}");
    }

    #[test]
    fn a_truncated_or_corrupt_file_stops_start_up_naming_it_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let whole = "[storage]\ndir = \"/var/lib/terminal-service\"\n\n[sync]\nbatch_size = 100\n";
        // Cut in the middle of a value, garbage bytes from a bad sector, a file of zeros.
        for damaged in [&whole.as_bytes()[..20], &b"[storage]\ndir = \"/var/lib\xff\xfe\x00"[..], &[0u8; 64][..]] {
            std::fs::write(&path, damaged).unwrap();
            let err = Config::load(&path).unwrap_err();
            let message = err.to_string();
            assert!(message.starts_with(&path.display().to_string()), "{message}");
            assert!(message.contains("correct it"), "{message}");
            assert_eq!(std::fs::read(&path).unwrap(), damaged, "the file was changed");
        }
    }

    #[test]
    fn edit_distance_suggests_only_close_keys() {
        assert_eq!(closest("ulr", &["url"]), Some("url"));
        assert_eq!(closest("batchsize", &["batch_size", "backoff_max_ms"]), Some("batch_size"));
        assert_eq!(closest("printer", &["backend"]), None);
    }
}
