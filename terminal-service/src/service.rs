//! `terminal-service run`: the daemon, wired together.
//!
//! Opens the storage, identity and devices, binds the local API socket, starts the sync
//! engine, the heartbeat, the card reader loop, the barcode scanner loop, the printer monitor and the session idle timer, and tells systemd it is ready (`READY=1`) only once the socket accepts
//! connections, so the kiosk unit ordered after it never finds it missing. While running it
//! pings the watchdog at half of `WATCHDOG_USEC` and keeps `STATUS=` current. SIGTERM or SIGINT
//! flips one `watch` channel that every task listens to: the API finishes requests in flight
//! (SSE streams end), the sync engine stops between batches — a batch cut short is simply sent
//! again at the next start, with the same ids.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use thiserror::Error;
use tokio::sync::watch;

use crate::api::{self, ApiState, BindError};
use crate::audit::AuditCategory;
use crate::startup::config::Config;
use crate::events::ConnectivityState;
use crate::terminal::{Terminal, TerminalError};
use crate::{delivery::heartbeat, peripherals::printer_monitor, peripherals::reader_loop, peripherals::scanner_loop, staff::session, delivery::sync};

/// How long tasks get to finish after a stop signal.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Why the daemon could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum ServiceError {
    /// Storage, identity or configuration cache.
    #[error(transparent)]
    Terminal(#[from] TerminalError),
    /// The API socket.
    #[error(transparent)]
    Bind(#[from] BindError),
    /// Signal handlers.
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
}

fn notify(states: &[sd_notify::NotifyState]) {
    // Not under systemd, NOTIFY_SOCKET is unset and this is a no-op; a failure only loses a
    // status line, so it is logged, not fatal.
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(config: Config) -> Result<(), ServiceError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigterm = signal(SignalKind::terminate()).map_err(ServiceError::Signals)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(ServiceError::Signals)?;

    let socket = config.api.socket.clone();
    let terminal = Terminal::open(config)?;
    let (stop, stopped) = watch::channel(false);
    let listener = api::bind(&socket).await?;
    tracing::info!(socket = %socket.display(), provisioned = terminal.provisioned().is_some(), "local API listening");

    let mut tasks = tokio::task::JoinSet::new();
    let state = ApiState { terminal: Arc::clone(&terminal), shutdown: stopped.clone() };
    tasks.spawn(async move {
        if let Err(e) = api::serve(listener, state).await {
            tracing::error!(error = %e, "local API stopped");
        }
    });
    tasks.spawn(sync::run(Arc::clone(&terminal), stopped.clone()));
    tasks.spawn(heartbeat::run(Arc::clone(&terminal), stopped.clone()));
    tasks.spawn(keep_systemd_informed(Arc::clone(&terminal), stopped.clone()));
    tasks.spawn(printer_monitor::run(Arc::clone(&terminal), stopped.clone()));
    tasks.spawn(session::run_idle_timer(Arc::clone(&terminal), stopped.clone()));
    let reader = reader_loop::spawn(Arc::clone(&terminal), stopped.clone());
    tasks.spawn(async move {
        let _ = reader.await;
    });
    if let Some(scanner) = scanner_loop::spawn(Arc::clone(&terminal), stopped.clone()) {
        tasks.spawn(async move {
            let _ = scanner.await;
        });
    }

    let _ = terminal.storage.audit(AuditCategory::Provisioning, "service_started", json!({"version": env!("CARGO_PKG_VERSION"), "clock_set": crate::clock::is_set(chrono::Utc::now())})).await;
    notify(&[sd_notify::NotifyState::Ready, sd_notify::NotifyState::Status("ready")]);

    tokio::select! {
        _ = sigterm.recv() => tracing::info!("SIGTERM: stopping"),
        _ = sigint.recv() => tracing::info!("SIGINT: stopping"),
    }
    notify(&[sd_notify::NotifyState::Stopping, sd_notify::NotifyState::Status("stopping")]);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(STOP_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("tasks did not stop within {} s; exiting anyway (the outbox is consistent)", STOP_GRACE.as_secs());
        tasks.abort_all();
    }
    let _ = terminal.storage.audit(AuditCategory::Provisioning, "service_stopped", json!({})).await;
    let _ = std::fs::remove_file(&socket);
    tracing::info!("stopped");
    Ok(())
}

/// Pings the watchdog (when systemd asks for it) and keeps `STATUS=` up to date.
async fn keep_systemd_informed(terminal: Arc<Terminal>, mut stopped: watch::Receiver<bool>) {
    let mut usec = 0u64;
    let watchdog = sd_notify::watchdog_enabled(false, &mut usec);
    // Half the watchdog period, as systemd recommends; without a watchdog, status only.
    let period = if watchdog && usec > 0 { Duration::from_micros(usec / 2) } else { Duration::from_secs(15) };
    loop {
        // The ping comes from the same runtime that serves the API and runs sync: a wedged
        // runtime stops pinging and systemd restarts the service.
        let stats = terminal.storage.outbox(|o| o.stats()).await;
        let online = terminal.connectivity().state == ConnectivityState::Online;
        let status = match stats {
            Ok(s) => format!("{} queued, {} dead letters, node {}", s.depth, s.dead_letters, if online { "online" } else { "offline" }),
            Err(_) => "outbox unreadable".to_string(),
        };
        if watchdog {
            notify(&[sd_notify::NotifyState::Watchdog, sd_notify::NotifyState::Status(&status)]);
        } else {
            notify(&[sd_notify::NotifyState::Status(&status)]);
        }
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stopped.wait_for(|s| *s) => break,
        }
    }
}
