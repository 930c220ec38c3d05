//! `/v1/simulator/…`: controls of the simulated devices, for the demo, the tests and a
//! technician's fault drills. They exist only with `[hardware] backend = "simulated"`; with
//! real devices every one of them answers 404, so nothing can fake a card on a real terminal.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use hardware::field::{EmrtdApplicant, EmrtdChip};
use hardware::{NationalId, PaperLevel, SimulatedCard, Simulation, Uid};

use super::error::{ApiError, JsonBody};
use super::ApiState;
use crate::events::PrinterEvent;
use crate::peripherals::printer_monitor::announce_printer_state;

pub use local_api::{Paper, PresentCard, PrinterDrill, SimulatedEmrtd, SimulatedScan};

fn simulation(state: &ApiState) -> Result<Simulation, ApiError> {
    state.terminal.devices.simulation().cloned().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_simulated", "the simulator routes exist only with [hardware] backend = \"simulated\"")
    })
}

/// `POST /v1/simulator/card`: puts a card on the simulated reader (taking any other off: one
/// card at a time, as a person would).
pub async fn present_card(State(state): State<ApiState>, JsonBody(body): JsonBody<PresentCard>) -> Result<StatusCode, ApiError> {
    let sim = simulation(&state)?;
    let uid = Uid::from_hex(body.uid.trim())
        .ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_uid", "uid must be 4, 7 or 10 bytes in hex, e.g. \"04A1B2C3D4E580\""))?;
    let card = match (body.national_id, body.date_of_birth, body.emrtd) {
        (Some(national_id), Some(date_of_birth), Some(chip)) => SimulatedCard::emrtd(uid, emrtd_chip(national_id.trim(), date_of_birth, chip)?),
        (_, _, Some(_)) => {
            return Err(invalid("an eMRTD card holds a national ID number and a date of birth: give national_id and date_of_birth too"));
        }
        (Some(national_id), date_of_birth, None) => {
            let national_id = national_id.trim();
            if NationalId::new(national_id).is_none() {
                return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_national_id", "national_id must be the 12 digits of a national ID number"));
            }
            let date_of_birth = date_of_birth.map(|d| d.format("%Y%m%d").to_string());
            SimulatedCard::id_card(uid, national_id, date_of_birth.as_deref())
        }
        (None, Some(_), None) => {
            return Err(invalid("date_of_birth goes on an ID card: give national_id too"));
        }
        (None, None, None) => SimulatedCard::new(uid),
    };
    sim.field.clear();
    sim.field.present(card);
    Ok(StatusCode::NO_CONTENT)
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message)
}

/// The simulated chip of a national ID card for this holder.
fn emrtd_chip(national_id: &str, date_of_birth: NaiveDate, chip: SimulatedEmrtd) -> Result<EmrtdChip, ApiError> {
    if NationalId::new(national_id).is_none() {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_national_id", "national_id must be the 12 digits of a national ID number"));
    }
    if chip.can.len() != 6 || !chip.can.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("emrtd.can must be six digits"));
    }
    let document_number = chip.document_number.trim().to_ascii_uppercase();
    if document_number.is_empty() || document_number.len() > 9 || !document_number.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid("emrtd.document_number must be up to nine letters and digits"));
    }
    if chip.forged_data_group.is_some_and(|dg| dg != 1 && dg != 11) {
        return Err(invalid("emrtd.forged_data_group is 1 or 11, the data groups the card carries"));
    }
    let full_name = chip.full_name.unwrap_or_default();
    // The MRZ's name in Latin letters is not read by the terminal: a fixed one will do.
    let applicant = EmrtdApplicant {
        document_number,
        can: chip.can,
        date_of_birth: date_of_birth.format("%y%m%d").to_string(),
        full_date_of_birth: date_of_birth.format("%Y%m%d").to_string(),
        date_of_expiry: chip.date_of_expiry.format("%y%m%d").to_string(),
        sex: '<',
        mrz_surname: "SAMPLE".into(),
        mrz_given_names: "APPLICANT".into(),
        national_number: national_id.to_owned(),
        full_name,
        place_of_birth: String::new(),
    };
    let chip_of = EmrtdChip::new(applicant);
    Ok(match chip.forged_data_group {
        Some(dg) => chip_of.forged(dg),
        None => chip_of,
    })
}

/// `DELETE /v1/simulator/card`: takes the card off.
pub async fn remove_card(State(state): State<ApiState>) -> Result<StatusCode, ApiError> {
    simulation(&state)?.field.clear();
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/simulator/printer`: paper and cover of the simulated printer.
pub async fn set_printer(State(state): State<ApiState>, JsonBody(body): JsonBody<PrinterDrill>) -> Result<Json<PrinterEvent>, ApiError> {
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
    Ok(Json(PrinterEvent { state: now }))
}

/// `POST /v1/simulator/scan`: holds a code under the simulated barcode scanner; the scanner
/// loop reads it through the real HID decoder and publishes a `scan` event. Exists only with
/// `[hardware.scanner] kind = "simulated"` (whatever the board backend), 404 otherwise.
pub async fn scan(State(state): State<ApiState>, JsonBody(body): JsonBody<SimulatedScan>) -> Result<StatusCode, ApiError> {
    let scanner = state.terminal.devices.scanner_simulation().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_simulated", "the simulated scan exists only with [hardware.scanner] kind = \"simulated\"")
    })?;
    if body.text.is_empty() || body.text.contains(['\r', '\n']) {
        return Err(invalid("text is what one code holds: not empty, and one line (the scanner ends it with Enter)"));
    }
    scanner.scan(&body.text);
    Ok(StatusCode::NO_CONTENT)
}
