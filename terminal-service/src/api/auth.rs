//! Who may call what: the role checks of the local API.
//!
//! The socket's file mode already limits callers to the kiosk's user; these checks decide
//! what a *person* at the kiosk may do. Applicants need no login; staff routes need the
//! session a badge and PIN opened (`POST /v1/sessions`); technician routes need a technician.
//! Every authorised request counts as activity and pushes the idle timeout back.

use axum::http::StatusCode;
use node_protocol::StaffRole;

use super::error::ApiError;
use crate::staff::session::SessionView;
use crate::terminal::Terminal;

/// Any staff member (staff or technician), for `what` (named in the refusal).
pub fn require_staff(terminal: &Terminal, what: &str) -> Result<SessionView, ApiError> {
    terminal.sessions.touch().ok_or_else(|| ApiError::login_required(what))
}

/// A technician, for `what`.
pub fn require_technician(terminal: &Terminal, what: &str) -> Result<SessionView, ApiError> {
    let session = require_staff(terminal, what)?;
    if session.role != StaffRole::Technician {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "technician_required",
            format!("{what} is for technicians; {} is logged in as staff: a technician must log in with their badge", session.staff_id),
        ));
    }
    Ok(session)
}

/// A technician once the terminal is provisioned; anyone before (a fresh terminal has no
/// roster yet, so nobody could log in).
pub fn require_technician_once_provisioned(terminal: &Terminal, what: &str) -> Result<Option<SessionView>, ApiError> {
    if terminal.provisioned().is_none() {
        return Ok(None);
    }
    require_technician(terminal, what).map(Some)
}
