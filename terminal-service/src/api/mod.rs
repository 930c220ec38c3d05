//! The local API: HTTP/JSON over a Unix socket, for the kiosk UI and the technician screen.
//!
//! Routes (all under `/v1`, documented in `terminal-service/openapi/local-v1.yaml`):
//!
//! | route | file |
//! | --- | --- |
//! | `GET /v1/health` | [`health`] |
//! | `GET /v1/kiosk` | [`kiosk`] |
//! | `GET /v1/forms` | [`forms`] |
//! | `POST /v1/applications`, `POST /v1/grievances` | [`submissions`] |
//! | `POST /v1/applications/precheck` | [`precheck`] |
//! | `POST /v1/status-checks` | [`status_checks`] |
//! | `GET /v1/queue`, `GET /v1/queue/details` (staff) | [`queue`] |
//! | `GET /v1/events` (SSE) | [`events`] |
//! | `POST /v1/provisioning` (technician once provisioned) | [`provisioning`] |
//! | `GET /v1/diagnostics` | [`diagnostics`] |
//! | `POST /v1/sessions`, `GET`/`DELETE /v1/sessions/current` | [`sessions`] |
//! | `POST /v1/receipts` | [`receipts`] |
//! | `GET /v1/services`, `POST /v1/referral-slips` | [`services`] |
//! | `GET /v1/hardware`, `GET /v1/hardware/printer-status`, `POST /v1/hardware/print-test`, `POST /v1/hardware/read-card` (technician once provisioned), `POST /v1/id-card/read` (staff) | [`hardware`] |
//! | `POST`/`DELETE /v1/simulator/card`, `POST /v1/simulator/printer` (simulated backend only), `POST /v1/simulator/scan` (simulated scanner only) | [`simulator`] |
//!
//! Who may call what is decided in [`auth`].
//!
//! A Unix socket rather than TCP because the only clients are on the same machine, and file
//! permissions (mode 0660, group `kiosk` set by the unit) decide who may talk to it — no port is
//! exposed to the network. Every error is a JSON body (see [`error`]); bodies are limited to
//! 1 MiB.

pub mod auth;
pub mod diagnostics;
pub mod error;
pub mod events;
pub mod forms;
pub mod hardware;
pub mod health;
pub mod kiosk;
pub mod precheck;
pub mod provisioning;
pub mod queue;
pub mod receipts;
pub mod referrals;
pub mod services;
pub mod sessions;
pub mod simulator;
pub mod status_checks;
pub mod submissions;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};
use axum::Router;
use thiserror::Error;
use tokio::net::UnixListener;
use tokio::sync::watch;

use crate::terminal::Terminal;
use error::ApiError;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler gets.
#[derive(Clone)]
pub struct ApiState {
    /// The running terminal.
    pub terminal: Arc<Terminal>,
    /// Turns true when the service stops; ends SSE streams.
    pub shutdown: watch::Receiver<bool>,
}

/// The router of the local API.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/health", get(health::get))
        .route("/v1/kiosk", get(kiosk::get))
        .route("/v1/forms", get(forms::get))
        .route("/v1/applications", post(submissions::post_application))
        .route("/v1/applications/precheck", post(precheck::post))
        .route("/v1/referrals/check", post(referrals::post))
        .route("/v1/grievances", post(submissions::post_grievance))
        .route("/v1/status-checks", post(status_checks::post))
        .route("/v1/queue", get(queue::get))
        .route("/v1/queue/details", get(queue::get_details))
        .route("/v1/sessions", post(sessions::post))
        .route("/v1/sessions/current", get(sessions::get_current).delete(sessions::delete_current))
        .route("/v1/receipts", post(receipts::post))
        .route("/v1/services", get(services::list))
        .route("/v1/referral-slips", post(services::print_slip))
        .route("/v1/hardware", get(hardware::get))
        .route("/v1/hardware/printer-status", get(hardware::printer_status))
        .route("/v1/hardware/print-test", post(hardware::print_test))
        .route("/v1/hardware/read-card", post(hardware::read_card_test))
        .route("/v1/id-card/read", post(hardware::read_id_card))
        .route("/v1/simulator/card", post(simulator::present_card).delete(simulator::remove_card))
        .route("/v1/simulator/printer", post(simulator::set_printer))
        .route("/v1/simulator/scan", post(simulator::scan))
        .route("/v1/events", get(events::get))
        .route("/v1/provisioning", post(provisioning::post))
        .route("/v1/diagnostics", get(diagnostics::get))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The limit is enforced by `JsonBody`, which answers 413 without breaking the pipe.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no route {}: see terminal-service/openapi/local-v1.yaml for the routes", uri.path()))
}

async fn method_not_allowed(uri: Uri) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("{} does not accept this method: see local-v1.yaml", uri.path()))
}

/// Errors binding the socket.
#[derive(Debug, Error)]
pub enum BindError {
    /// Something other than a socket is in the way.
    #[error("{0}: exists and is not a socket; remove it or change [api] socket")]
    NotASocket(PathBuf),
    /// Another process answers on the socket.
    #[error("{0}: another terminal-service is already listening there; stop it first")]
    InUse(PathBuf),
    /// I/O.
    #[error("{path}: {source} (check [api] socket and the permissions of its directory)")]
    Io {
        /// The socket path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Binds the socket: creates its directory, replaces a stale socket left by a crash (but not a
/// live one, nor anything that is not a socket), and sets mode 0660.
pub async fn bind(path: &Path) -> Result<UnixListener, BindError> {
    let io = |source| BindError::Io { path: path.to_path_buf(), source };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if tokio::net::UnixStream::connect(path).await.is_ok() {
                return Err(BindError::InUse(path.to_path_buf()));
            }
            std::fs::remove_file(path).map_err(io)?;
        }
        Ok(_) => return Err(BindError::NotASocket(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
    Ok(listener)
}

/// Serves the API on `listener` until `shutdown` turns true, then finishes open requests.
pub async fn serve(listener: UnixListener, state: ApiState) -> std::io::Result<()> {
    let mut shutdown = state.shutdown.clone();
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await
}
