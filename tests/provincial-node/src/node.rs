//! A node's data directory and the state every request shares.
//!
//! [`Node::open`] is the one way in, used by `serve` and by every CLI command: it creates the
//! directory on first use (sealing identity, database, node id, staff roster) and loads it
//! afterwards, so `issue-code` works before `serve` ever ran and while it runs.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use node_protocol::{DigitsByLanguage, Governorate, NodeConfig, StaffRoster};
use rand::RngCore;
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use matcher::PersonIndex;

use crate::headquarters::client::HeadquartersClient;
use crate::identity::{IdentityError, SealingIdentity};
use crate::{forms, geography, seed, store};

/// Version of this node software, reported by `GET /`.
pub const NODE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Seconds between heartbeats the node asks terminals for.
pub const HEARTBEAT_INTERVAL_S: u64 = 60;
/// Province served when `--province` is not given.
pub const DEFAULT_PROVINCE: &str = "Baghdad";

/// Why the data directory could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The directory cannot be created or written.
    #[error("data directory {path} is not usable: {source} (choose a directory this user can write, e.g. --data ./node-data)")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The sealing identity.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The database.
    #[error("database {path}: {source}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// `--province` names no governorate.
    #[error("unknown province '{0}': use a governorate code or English name, one of {1}")]
    UnknownProvince(String, String),
    /// The targeting questionnaire or formula file.
    #[error(transparent)]
    Targeting(#[from] crate::targeting::TargetingError),
    /// The service directory file.
    #[error(transparent)]
    Services(#[from] crate::services::DirectoryFileError),
    /// The slip key file.
    #[error(transparent)]
    SlipKey(#[from] crate::slips::SlipKeyError),
    /// The stored roster is unreadable or could not be built.
    #[error("staff roster: {0}")]
    Roster(String),
}

/// Everything a running node shares between requests.
pub struct Node {
    db: Mutex<Connection>,
    dir: PathBuf,
    /// Opens sealed submissions.
    pub identity: SealingIdentity,
    /// Stable random id of this node.
    pub node_id: String,
    /// The governorate served; its code prefixes case numbers.
    pub province: Governorate,
    /// What `GET /v1/config` answers, but for the targeting questionnaire (see [`Node::config`]).
    base_config: NodeConfig,
    /// The targeting questionnaire and formula as last read from the data directory.
    targeting: Mutex<crate::targeting::Loaded>,
    /// [`Node::config`] as last built; rebuilt when the targeting files change.
    served: Mutex<Option<Arc<NodeConfig>>>,
    /// This province's persons for duplicate checks; `None` until first used (built from
    /// SQLite by [`Node::persons`]), and again after a failed filing (rebuilt then).
    persons: Mutex<Option<PersonIndex>>,
    /// Headquarters, when `serve --headquarters` gives one.
    pub headquarters: Option<HeadquartersClient>,
    /// At most this many batches filed at once (`serve --max-concurrent-batches`).
    pub batch_limit: Option<crate::api::overload::BatchLimit>,
    /// The service directory as last read (see [`crate::services`]).
    services: Mutex<crate::services::Loaded>,
    /// Endorses terminals' keys for referral slips (see [`crate::slips`]).
    slip_key: ed25519_dalek::SigningKey,
    /// Seconds between heartbeats asked of terminals at enrollment (`serve
    /// --heartbeat-seconds`, default [`HEARTBEAT_INTERVAL_S`]).
    pub heartbeat_interval_s: u64,
}

impl Node {
    /// Opens the data directory `dir`, creating and seeding it on first use. `province`
    /// (code or name) defaults to [`DEFAULT_PROVINCE`].
    pub fn open(dir: &Path, province: Option<&str>) -> Result<Node, OpenError> {
        let dir_error = |source| OpenError::Directory { path: dir.to_path_buf(), source };
        std::fs::create_dir_all(dir).map_err(dir_error)?;
        // Fail early and plainly on a read-only directory rather than deep inside SQLite.
        let probe = dir.join(".write-test");
        std::fs::write(&probe, b"").map_err(dir_error)?;
        let _ = std::fs::remove_file(&probe);

        let province_name = province.unwrap_or(DEFAULT_PROVINCE);
        let province = geography::find_governorate(province_name).ok_or_else(|| {
            OpenError::UnknownProvince(province_name.into(), geography::governorate_names().join(", "))
        })?;

        let identity = SealingIdentity::load_or_create(dir)?;
        let db_path = dir.join(store::DATABASE_FILE);
        let db_error = |source| OpenError::Database { path: db_path.clone(), source };
        let conn = store::open(dir).map_err(db_error)?;

        let mut id_bytes = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut id_bytes);
        let fresh_id = format!("N-{}", id_bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let node_id = store::meta_get_or_insert(&conn, "node_id", &fresh_id).map_err(db_error)?;
        let staff = Self::roster(&conn).map_err(|e| match e {
            RosterLoad::Db(source) => db_error(source),
            RosterLoad::Other(detail) => OpenError::Roster(detail),
        })?;

        let mut config = NodeConfig {
            version: String::new(),
            province: province.name.en.clone(),
            forms: forms::all(),
            master_data: geography::master_data(),
            staff,
            digits: DigitsByLanguage::default(),
            // Read once, like the roster: a partner added while the node serves reaches the
            // kiosks' offline checks at its next start (the node's own checks read the table
            // every time).
            referral_partners: crate::referrals::partners(&conn)
                .map_err(db_error)?
                .into_iter()
                .map(|p| node_protocol::ReferralPartner { code: p.code, name: p.name, public_keys: p.keys })
                .collect(),
        };
        config.version = config_version(&config);
        crate::targeting::write_defaults(dir)?;
        let targeting = crate::targeting::load(dir)?;
        let services = crate::services::Loaded::open(&dir.join(crate::services::DIRECTORY_FILE), true, &config.master_data)?;
        let slip_key = crate::slips::load_or_create_key(dir)?;
        Ok(Node {
            db: Mutex::new(conn),
            dir: dir.to_path_buf(),
            identity,
            node_id,
            province,
            base_config: config,
            targeting: Mutex::new(targeting),
            served: Mutex::new(None),
            persons: Mutex::new(None),
            headquarters: None,
            batch_limit: None,
            services: Mutex::new(services),
            slip_key,
            heartbeat_interval_s: HEARTBEAT_INTERVAL_S,
        })
    }

    /// The node serving the service directory in `path` (`serve --service-directory`) instead
    /// of the data directory's; the file must exist and check.
    pub fn with_service_directory(self, path: &Path) -> Result<Node, OpenError> {
        let loaded = crate::services::Loaded::open(path, false, &self.base_config.master_data)?;
        *self.services.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = loaded;
        Ok(self)
    }

    /// The service directory now (read again when its file changed).
    pub fn service_directory(&self) -> node_protocol::service_directory::ServiceDirectory {
        let mut loaded = self.services.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        loaded.refresh(&self.base_config.master_data);
        loaded.directory.clone()
    }

    /// Where the service directory is read from.
    pub fn service_directory_path(&self) -> PathBuf {
        self.services.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).path.clone()
    }

    /// `PROVINCE=KEY` of the node's slip key, for partners' `slip-verify --node-key`.
    pub fn slip_node_key(&self) -> String {
        crate::slips::node_key_line(&self.province.code, &self.slip_key)
    }

    /// A slip certificate for terminal `terminal_id` holding `public_key` (its 32 bytes, as
    /// stored at enrollment), from `today`.
    pub fn slip_certificate(&self, terminal_id: &str, public_key: &[u8], today: chrono::NaiveDate) -> Option<node_protocol::slip::EndorsedCertificate> {
        crate::slips::certificate(&self.slip_key, &self.province.code, terminal_id, public_key, today)
    }

    /// The node with its terminals told to show dates and numbers in `digits` (a setting of the
    /// running node, like the province: `serve --eastern-digits`).
    pub fn with_digits(mut self, digits: DigitsByLanguage) -> Node {
        self.base_config.digits = digits;
        self.served = Mutex::new(None);
        self
    }

    /// What `GET /v1/config` answers now: the forms, master data and roster of the start, and
    /// the targeting questionnaire as the operator's file holds it (read again when it
    /// changed), with a version that changes whenever any of it does, so terminals fetch it.
    pub fn config(&self) -> Arc<NodeConfig> {
        let mut loaded = self.targeting.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let changed = loaded.refresh(&self.dir);
        let mut served = self.served.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*served {
            Some(config) if !changed => Arc::clone(config),
            _ => {
                // After the application and grievance forms, so terminals that pick the first
                // form of a kind keep finding the application.
                let mut config = self.base_config.clone();
                config.forms.push(loaded.questionnaire.clone());
                config.version = String::new();
                config.version = config_version(&config);
                let config = Arc::new(config);
                *served = Some(Arc::clone(&config));
                config
            }
        }
    }

    /// The targeting questionnaire and formula now (read again when their files changed).
    pub fn targeting(&self) -> crate::targeting::Loaded {
        let mut loaded = self.targeting.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        loaded.refresh(&self.dir);
        loaded.clone()
    }

    /// The node answering `503 overloaded` with `Retry-After: retry_after_s` to batches past
    /// `max` being filed at once (see [`crate::api::overload`]).
    pub fn with_batch_limit(mut self, max: usize, retry_after_s: u64) -> Node {
        self.batch_limit = Some(crate::api::overload::BatchLimit::new(max, retry_after_s));
        self
    }

    /// The node checking new applications against headquarters too.
    pub fn with_headquarters(mut self, headquarters: HeadquartersClient) -> Node {
        self.headquarters = Some(headquarters);
        self
    }

    /// This province's person index, built from `conn` on first use. Hold the database lock
    /// (`conn` is its guard) while using it, so filings and the index stay in step.
    pub fn persons(&self, conn: &Connection) -> rusqlite::Result<MutexGuard<'_, Option<PersonIndex>>> {
        let mut persons = self.persons.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if persons.is_none() {
            *persons = Some(crate::duplicates::load_index(conn)?);
        }
        Ok(persons)
    }

    /// Forgets the person index (after a filing that did not commit): the next use rebuilds it.
    pub fn forget_persons(&self) {
        *self.persons.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    /// The stored roster, built (badge key and PIN hashes) on first use.
    fn roster(conn: &Connection) -> Result<StaffRoster, RosterLoad> {
        if let Some(json) = store::meta_get(conn, "staff_roster")? {
            return serde_json::from_str(&json).map_err(|e| RosterLoad::Other(format!("stored roster is unreadable: {e}")));
        }
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        let members = seed::staff_members(&key).map_err(|e| RosterLoad::Other(e.to_string()))?;
        let roster = StaffRoster { badge_hash_key: STANDARD.encode(key), members };
        let json = serde_json::to_string(&roster).map_err(|e| RosterLoad::Other(e.to_string()))?;
        let stored = store::meta_get_or_insert(conn, "staff_roster", &json)?;
        serde_json::from_str(&stored).map_err(|e| RosterLoad::Other(format!("stored roster is unreadable: {e}")))
    }

    /// The database connection. One connection serves every request: SQLite has one writer
    /// anyway, and batching each request into one transaction is what makes it fast.
    pub fn db(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the transaction rolls back
        // on drop), so a poisoned lock is safe to take over.
        self.db.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Issues a one-time enrollment code valid for `ttl_minutes`.
    pub fn issue_code(&self, ttl_minutes: u32) -> rusqlite::Result<String> {
        crate::codes::issue(&self.db(), ttl_minutes, chrono::Utc::now().timestamp())
    }

    /// Issues the one-time code `code`, chosen by the operator (see [`crate::codes::issue_given`]).
    pub fn issue_given_code(&self, code: &str, ttl_minutes: u32) -> Result<String, crate::codes::IssueError> {
        crate::codes::issue_given(&self.db(), code, ttl_minutes, chrono::Utc::now().timestamp())
    }
}

enum RosterLoad {
    Db(rusqlite::Error),
    Other(String),
}

impl From<rusqlite::Error> for RosterLoad {
    fn from(e: rusqlite::Error) -> Self {
        RosterLoad::Db(e)
    }
}

/// A short hash of the configuration, so terminals notice any change.
fn config_version(config: &NodeConfig) -> String {
    let json = serde_json::to_vec(config).unwrap_or_default();
    let digest = Sha256::digest(&json);
    format!("cfg-{}", digest[..8].iter().map(|b| format!("{b:02x}")).collect::<String>())
}
