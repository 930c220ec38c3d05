//! The running terminal: everything the API, the sync engine and the heartbeat share.
//!
//! One `Arc<Terminal>` is handed to each task. Its parts are locked independently and briefly:
//! the identity and cached node configuration sit behind `std::sync::RwLock`s that are only
//! held to clone an `Arc` out (never across an `.await`), so a provisioning that replaces them
//! cannot stall a request in flight — that request keeps the identity it started with.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use node_protocol::{FormDefinition, NodeConfig, SubmissionKind};
use thiserror::Error;
use tokio::sync::Notify;

use crate::capture::applicant_key::ApplicantKeyer;
use crate::startup::config::Config;
use crate::peripherals::devices::Devices;
use crate::staff::session::Sessions;
use crate::events::{Connectivity, ConnectivityState, Event, Events};
use crate::startup::identity::{Enrollment, IdentityError, TerminalKey};
use crate::delivery::node_client::{http_client, NodeClient, NodeError};
use crate::startup::node_config::{load_cached, store_cached, NodeConfigError};
use crate::startup::referrals_out;
use node_protocol::service_directory::ServiceDirectory;
use node_protocol::slip::EndorsedCertificate;
use crate::rate_limit::RateLimit;
use crate::capture::seal::{SealError, Sealer};
use crate::capture::storage::{Storage, StorageError};
use crate::delivery::sync::SyncDiagnostics;

/// Errors opening the terminal's state.
#[derive(Debug, Error)]
pub enum TerminalError {
    /// Databases.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Key or enrollment record.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Cached node configuration.
    #[error(transparent)]
    NodeConfig(#[from] NodeConfigError),
    /// Cached service directory or slip certificate.
    #[error(transparent)]
    ReferralsOut(#[from] crate::startup::referrals_out::CacheError),
    /// The enrollment names a sealing key that is not an age recipient.
    #[error("enrollment record: {0}; provision again with --force")]
    Seal(#[from] SealError),
    /// Node URL or HTTP client.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The applicant-key secret.
    #[error("applicant key secret: {0}")]
    Secret(std::io::Error),
}

/// What a provisioned terminal needs to talk to its node.
#[derive(Clone)]
pub struct Provisioned {
    /// What the node said at enrollment.
    pub enrollment: Enrollment,
    /// Signed client for the pinned node, as this terminal.
    pub client: NodeClient,
    /// Seals to the node's recipient.
    pub sealer: Arc<Sealer>,
    /// The terminal's key (it signs referral slips; the client signs requests with it).
    pub key: Arc<TerminalKey>,
}

/// The shared state of a running terminal.
pub struct Terminal {
    /// The configuration the service started with.
    pub config: Config,
    /// Outbox and audit log.
    pub storage: Storage,
    /// Live events for the kiosk.
    pub events: Events,
    /// Wakes the sync engine: notified after every enqueue and after provisioning. A `Notify`
    /// keeps one permit when nobody waits, so a wake-up during a send is not lost.
    pub sync_wake: Notify,
    /// What the sync engine and heartbeat last did, for diagnostics.
    pub diagnostics: Mutex<SyncDiagnostics>,
    /// Serialises provisioning: two at once would race on the key and enrollment files.
    pub provisioning: tokio::sync::Mutex<()>,
    /// The card reader and the printer.
    pub devices: Arc<Devices>,
    /// The staff session and PIN lockouts.
    pub sessions: Sessions,
    http: reqwest::Client,
    identity: RwLock<Option<Provisioned>>,
    node_config: RwLock<Option<Arc<NodeConfig>>>,
    service_directory: RwLock<Option<Arc<ServiceDirectory>>>,
    slip_certificate: RwLock<Option<EndorsedCertificate>>,
    applicant_keyer: ApplicantKeyer,
    connectivity: Mutex<Connectivity>,
    status_limit: Mutex<RateLimit>,
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read().unwrap_or_else(|p| p.into_inner()).clone()
}

fn write<T>(lock: &RwLock<T>, value: T) {
    *lock.write().unwrap_or_else(|p| p.into_inner()) = value;
}

impl Terminal {
    /// Opens the storage directory named by `config` and whatever identity it holds.
    pub fn open(config: Config) -> Result<Arc<Terminal>, TerminalError> {
        let storage = Storage::open(&config.storage.dir)?;
        let http = http_client(Duration::from_millis(config.sync.request_timeout_ms))?;
        let applicant_keyer = ApplicantKeyer::load_or_create(&config.storage.dir).map_err(TerminalError::Secret)?;
        let node_config = load_cached(&config.storage.dir)?.map(Arc::new);
        let service_directory = referrals_out::load_directory(&config.storage.dir)?.map(Arc::new);
        let slip_certificate = referrals_out::load_certificate(&config.storage.dir)?;
        let terminal = Terminal {
            storage,
            events: Events::new(),
            sync_wake: Notify::new(),
            diagnostics: Mutex::new(SyncDiagnostics::default()),
            provisioning: tokio::sync::Mutex::new(()),
            devices: Devices::open(config.hardware_backend()),
            sessions: Sessions::new(config.kiosk.idle_timeout()),
            http,
            identity: RwLock::new(None),
            node_config: RwLock::new(node_config),
            service_directory: RwLock::new(service_directory),
            slip_certificate: RwLock::new(slip_certificate),
            applicant_keyer,
            connectivity: Mutex::new(Connectivity { state: ConnectivityState::Offline, since: Utc::now() }),
            status_limit: Mutex::new(RateLimit::new(config.kiosk.status_checks_per_minute as usize, Duration::from_secs(60))),
            config,
        };
        terminal.reload_identity()?;
        Ok(Arc::new(terminal))
    }

    /// Re-reads the key and enrollment record (at start and after provisioning).
    pub fn reload_identity(&self) -> Result<(), TerminalError> {
        let dir = &self.config.storage.dir;
        let provisioned = match Enrollment::load(dir)? {
            None => None,
            Some(enrollment) => {
                let key = Arc::new(TerminalKey::load(dir)?);
                // Pinned to the node's certificate when the enrollment recorded one.
                let client = NodeClient::for_enrollment(&self.http, &enrollment, key.clone(), Duration::from_millis(self.config.sync.request_timeout_ms))?
                    .with_clock(self.storage.clock().clone());
                let sealer = Arc::new(Sealer::new(&enrollment.sealing_recipient)?);
                Some(Provisioned { enrollment, client, sealer, key })
            }
        };
        write(&self.identity, provisioned);
        Ok(())
    }

    /// The HTTP client for node calls.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The identity, if provisioned.
    pub fn provisioned(&self) -> Option<Provisioned> {
        read(&self.identity)
    }

    /// The cached node configuration, if any.
    pub fn node_config(&self) -> Option<Arc<NodeConfig>> {
        read(&self.node_config)
    }

    /// The cached form for `kind`, if any.
    pub fn form(&self, kind: SubmissionKind) -> Option<(Arc<NodeConfig>, FormDefinition)> {
        let config = self.node_config()?;
        let form = config.forms.iter().find(|f| f.kind == kind && f.id != node_protocol::TARGETING_FORM_ID)?.clone();
        Some((config, form))
    }

    /// Replaces the cached node configuration, on disk first.
    pub fn set_node_config(&self, config: NodeConfig) -> Result<(), NodeConfigError> {
        store_cached(&self.config.storage.dir, &config)?;
        write(&self.node_config, Some(Arc::new(config)));
        Ok(())
    }

    /// Keyed hash of a national id, for the duplicate warning.
    pub fn applicant_key(&self, national_id: &str) -> String {
        self.applicant_keyer.key_for(national_id)
    }

    /// Current connectivity.
    pub fn connectivity(&self) -> Connectivity {
        *self.connectivity.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records whether the node was just reached; publishes an event when that changes.
    pub fn mark_connectivity(&self, state: ConnectivityState) {
        let changed = {
            let mut current = self.connectivity.lock().unwrap_or_else(|p| p.into_inner());
            if current.state == state {
                None
            } else {
                *current = Connectivity { state, since: Utc::now() };
                Some(*current)
            }
        };
        if let Some(c) = changed {
            tracing::info!(state = ?c.state, "node connectivity changed");
            self.events.publish(Event::Connectivity(c));
        }
    }

    /// Counts one status check against the per-terminal limit.
    pub fn check_status_rate(&self) -> Result<(), Duration> {
        self.status_limit.lock().unwrap_or_else(|p| p.into_inner()).check(Instant::now())
    }

    /// The cached service directory, if the node has sent one.
    pub fn service_directory(&self) -> Option<Arc<ServiceDirectory>> {
        read(&self.service_directory)
    }

    /// Replaces the cached service directory (file first, then memory).
    pub fn set_service_directory(&self, directory: ServiceDirectory) -> Result<(), referrals_out::CacheError> {
        referrals_out::store_directory(&self.config.storage.dir, &directory)?;
        write(&self.service_directory, Some(Arc::new(directory)));
        Ok(())
    }

    /// The node's current endorsement of this terminal's key for referral slips, if any.
    pub fn slip_certificate(&self) -> Option<EndorsedCertificate> {
        read(&self.slip_certificate)
    }

    /// Replaces the cached slip certificate (file first, then memory).
    pub fn set_slip_certificate(&self, certificate: EndorsedCertificate) -> Result<(), referrals_out::CacheError> {
        referrals_out::store_certificate(&self.config.storage.dir, &certificate)?;
        write(&self.slip_certificate, Some(certificate));
        Ok(())
    }

    /// The terminal id for receipts: the enrolled one, or `unprovisioned`.
    pub fn terminal_id(&self) -> String {
        self.provisioned().map_or_else(|| "unprovisioned".to_string(), |p| p.enrollment.terminal_id)
    }

    /// Publishes the current queue counts (best effort: a failure only skips the event).
    pub async fn publish_queue(&self) {
        match self.storage.outbox(|o| o.stats()).await {
            Ok(stats) => self.events.publish(Event::queue(&stats)),
            Err(e) => tracing::warn!(error = %e, "cannot read queue counts"),
        }
    }
}
