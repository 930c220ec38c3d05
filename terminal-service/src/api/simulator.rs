//! `/v1/simulator/…`: controls of the simulated devices, for the demo, the tests and a
//! technician's fault drills. They exist only with `[hardware] backend = "simulated"`; with
//! real devices every one of them answers 404, so nothing can fake a card on a real terminal.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use hardware::{NationalId, PaperLevel, SimulatedCard, Simulation, Uid};
use serde::{Deserialize, Serialize};

use super::error::{ApiError, JsonBody};
use super::ApiState;
use crate::devices::PrinterState;
use crate::printer_monitor::announce_printer_state;

fn simulation(state: &ApiState) -> Result<Simulation, ApiError> {
    state.terminal.devices.simulation().cloned().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_simulated", "the simulator routes exist only with [hardware] backend = \"simulated\"")
    })
}

/// Body of `POST /v1/simulator/card`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresentCard {
    /// UID in hex: 4, 7 or 10 bytes.
    pub uid: String,
    /// Makes it an ID card holding this national ID number (12 digits).
    #[serde(default)]
    pub national_id: Option<String>,
    /// With `national_id`: the holder's date of birth, `YYYY-MM-DD`.
    #[serde(default)]
    pub date_of_birth: Option<NaiveDate>,
}

/// `POST /v1/simulator/card`: puts a card on the simulated reader (taking any other off: one
/// card at a time, as a person would).
pub async fn present_card(State(state): State<ApiState>, JsonBody(body): JsonBody<PresentCard>) -> Result<StatusCode, ApiError> {
    let sim = simulation(&state)?;
    let uid = Uid::from_hex(body.uid.trim())
        .ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_uid", "uid must be 4, 7 or 10 bytes in hex, e.g. \"04A1B2C3D4E580\""))?;
    let card = match (body.national_id, body.date_of_birth) {
        (Some(national_id), date_of_birth) => {
            let national_id = national_id.trim();
            if NationalId::new(national_id).is_none() {
                return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_national_id", "national_id must be the 12 digits of a national ID number"));
            }
            let date_of_birth = date_of_birth.map(|d| d.format("%Y%m%d").to_string());
            SimulatedCard::id_card(uid, national_id, date_of_birth.as_deref())
        }
        (None, Some(_)) => {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", "date_of_birth goes on an ID card: give national_id too"));
        }
        (None, None) => SimulatedCard::new(uid),
    };
    sim.field.clear();
    sim.field.present(card);
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/simulator/card`: takes the card off.
pub async fn remove_card(State(state): State<ApiState>) -> Result<StatusCode, ApiError> {
    simulation(&state)?.field.clear();
    Ok(StatusCode::NO_CONTENT)
}

/// Paper level as the API spells it.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    /// Enough.
    Ok,
    /// Nearly out.
    #[serde(alias = "near-end")]
    NearEnd,
    /// None.
    Out,
}

/// Body of `POST /v1/simulator/printer`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterDrill {
    /// Paper level; unchanged when absent.
    #[serde(default)]
    pub paper: Option<Paper>,
    /// Cover; unchanged when absent.
    #[serde(default)]
    pub cover_open: Option<bool>,
}

/// Answer of `POST /v1/simulator/printer`.
#[derive(Debug, Serialize)]
pub struct PrinterDrillAnswer {
    /// The printer's state after the change.
    pub state: PrinterState,
}

/// `POST /v1/simulator/printer`: paper and cover of the simulated printer.
pub async fn set_printer(State(state): State<ApiState>, JsonBody(body): JsonBody<PrinterDrill>) -> Result<Json<PrinterDrillAnswer>, ApiError> {
    let sim = simulation(&state)?;
    if let Some(paper) = body.paper {
        sim.printer.set_paper(match paper {
            Paper::Ok => PaperLevel::Ok,
            Paper::NearEnd => PaperLevel::NearEnd,
            Paper::Out => PaperLevel::Out,
        });
    }
    if let Some(open) = body.cover_open {
        sim.printer.set_cover_open(open);
    }
    // Announce now rather than at the next poll, so the kiosk and tests see it at once.
    let (_, now) = state.terminal.devices.poll_printer().await;
    announce_printer_state(&state.terminal, now).await;
    Ok(Json(PrinterDrillAnswer { state: now }))
}
