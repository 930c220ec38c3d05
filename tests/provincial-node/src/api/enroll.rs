//! `POST /v1/terminals/enroll`: a one-time code and a public key become a terminal id.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use node_protocol::{EnrollRequest, EnrollResponse};
use rand::RngCore;
use rusqlite::params;

use crate::api::{blocking, parse_json, ApiError};
use crate::codes::{self, CodeError};
use crate::node::Node;

/// Registers the terminal and uses up the code, in one transaction.
///
/// Idempotent for the same code and key: if the answer to an enrollment was lost (the node
/// committed, the terminal never heard), the technician's retry with the same code gets the
/// same terminal id, because the terminal keeps its unconfirmed key and sends it again. A used
/// code with any other key is still refused (`enrollment_code_used`): the code is what a thief
/// would need, the key is what only the first terminal has.
pub async fn enroll(State(node): State<Arc<Node>>, body: Bytes) -> Result<Json<EnrollResponse>, ApiError> {
    let request: EnrollRequest = parse_json(&body)?;
    for (name, value, max) in [("terminal_name", &request.terminal_name, 100), ("software_version", &request.software_version, 64)] {
        if value.trim().is_empty() || value.chars().count() > max {
            return Err(ApiError::bad_body(format!("{name} must be 1 to {max} characters")));
        }
    }
    // The middleware already decoded and checked the key against the signature.
    let public_key = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, request.public_key.trim())
        .map_err(|_| ApiError::bad_body("public_key is not standard base64"))?;
    let terminal_id = blocking(&node, move |node| {
        let mut conn = node.db();
        let tx = conn.transaction()?;
        if let Some(enrolled) = codes::enrolled_by(&tx, &request.code)? {
            let same_key: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM terminals WHERE terminal_id = ?1 AND public_key = ?2)",
                params![enrolled, public_key],
                |r| r.get(0),
            )?;
            if same_key {
                tracing::info!(terminal_id = enrolled, "enrollment repeated with the same code and key; answering as before");
                return Ok(enrolled);
            }
        }
        let terminal_id = loop {
            let mut bytes = [0u8; 4];
            rand::thread_rng().fill_bytes(&mut bytes);
            let id = format!("T-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
            let taken: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM terminals WHERE terminal_id = ?1)", [&id], |r| r.get(0))?;
            if !taken {
                break id;
            }
        };
        let now = chrono::Utc::now();
        if let Err(refused) = codes::redeem(&tx, &request.code, &terminal_id, now.timestamp())? {
            let (status, code) = match refused {
                CodeError::Unknown => (StatusCode::UNAUTHORIZED, "enrollment_code_unknown"),
                CodeError::Used => (StatusCode::FORBIDDEN, "enrollment_code_used"),
                CodeError::Expired => (StatusCode::FORBIDDEN, "enrollment_code_expired"),
            };
            return Err(ApiError::new(status, code, refused.to_string()));
        }
        tx.execute(
            "INSERT INTO terminals (terminal_id, public_key, name, software_version, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![terminal_id, public_key, request.terminal_name, request.software_version, now.to_rfc3339()],
        )?;
        tx.commit()?;
        Ok(terminal_id)
    })
    .await?;
    tracing::info!(terminal_id, "terminal enrolled");
    Ok(Json(EnrollResponse {
        terminal_id,
        province: node.province.name.en.clone(),
        node_id: node.node_id.clone(),
        sealing_recipient: node.identity.recipient(),
        heartbeat_interval_s: node.heartbeat_interval_s,
        config_version: node.config().version.clone(),
    }))
}
