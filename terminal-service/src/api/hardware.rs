//! The technician's hardware routes: `GET /v1/hardware`, `GET /v1/hardware/printer-status`,
//! `POST /v1/hardware/print-test`, `POST /v1/hardware/read-card`; and the card read of
//! staff-assisted enrollment, `POST /v1/id-card/read`.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{NaiveDate, Utc};
use hardware::{Backend, DateOfBirth, IdCardData, IdCardError, ReaderError, Receipt, Uid};

use super::auth::{require_staff, require_technician_once_provisioned};
use super::error::ApiError;
use super::ApiState;
use crate::peripherals::devices::PrintError;
use crate::peripherals::printer_monitor::announce_printer_state;
use local_api::display::Conventions;

use crate::peripherals::receipts::{format_time, language};
use crate::terminal::Terminal;

pub use local_api::{CardRead, Hardware, HardwareBackend, PrinterReport, Printed};

/// How long a card read waits for a card.
pub const CARD_WAIT: Duration = Duration::from_secs(10);

/// The backend as the local API names it.
fn backend(backend: Backend) -> HardwareBackend {
    match backend {
        Backend::Simulated => HardwareBackend::Simulated,
        Backend::Rppal => HardwareBackend::Rppal,
        Backend::Linux => HardwareBackend::Linux,
    }
}

/// `GET /v1/hardware`.
pub async fn get(State(state): State<ApiState>) -> Json<Hardware> {
    let devices = &state.terminal.devices;
    Json(Hardware {
        backend: backend(devices.backend()),
        reader: devices.reader_report(),
        card_present: devices.card().uid.is_some(),
        printer: devices.printer_report(),
    })
}

/// `GET /v1/hardware/printer-status`: asks the printer now.
pub async fn printer_status(State(state): State<ApiState>) -> Json<PrinterReport> {
    let terminal = &state.terminal;
    let (_, now) = terminal.devices.poll_printer().await;
    announce_printer_state(terminal, now).await;
    Json(terminal.devices.printer_report())
}

/// Prints `receipt` and answers 201 `{printed, pages, png?}` or 409 `printer_not_ready`.
pub async fn print(terminal: &Terminal, receipt: Receipt) -> Result<(StatusCode, Json<Printed>), ApiError> {
    let result = terminal.devices.print(receipt).await;
    announce_printer_state(terminal, terminal.devices.printer_state()).await;
    match result {
        Ok(page) => Ok((StatusCode::CREATED, Json(Printed { printed: true, pages: page.pages, png: page.png.map(|p| p.display().to_string()) }))),
        Err(PrintError::NotReady(state)) => Err(ApiError::new(StatusCode::CONFLICT, "printer_not_ready", format!("the printer is not ready ({}): fix it, then print again", state.as_str()))
            .with_printer_state(state)),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// `POST /v1/hardware/print-test`: the test page, in the kiosk's first language.
pub async fn print_test(State(state): State<ApiState>) -> Result<(StatusCode, Json<Printed>), ApiError> {
    let terminal = &state.terminal;
    require_technician_once_provisioned(terminal, "the printer test")?;
    let lang = terminal.config.kiosk.languages.first().and_then(|l| language(l)).unwrap_or(hardware::Language::Arabic);
    print(terminal, Receipt::test_page(lang, &terminal.terminal_id(), &format_time(Utc::now(), Conventions::default()))).await
}

/// How long the reader loop may take over reading an ID card: a poll interval plus a few
/// APDUs, each bounded by the driver's frame waiting time (at most a second).
const ID_CARD_READ_LIMIT: Duration = Duration::from_secs(8);

/// Waits for a card other than the session's badge, with the badge's removal allowed.
async fn read_card(terminal: &Terminal) -> Result<Json<CardRead>, ApiError> {
    let badge = terminal.sessions.badge();
    let _armed = terminal.sessions.arm_card_read();
    match terminal.devices.wait_for_card(CARD_WAIT, |uid| Some(*uid) != badge).await {
        Some(uid) => Ok(Json(CardRead { uid: uid.to_string(), national_id: None, date_of_birth: None })),
        None => Err(no_card()),
    }
}

/// 408 `no_card`.
fn no_card() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "no_card",
        format!("no card was put on the reader within {} s: hold the card flat on the reader and try again", CARD_WAIT.as_secs()),
    )
}

/// Waits for an ID card (any card but the session's badge) and reads its holder's national ID
/// number and date of birth from it; answers the card's UID too.
pub async fn read_id_card_data(terminal: &Terminal) -> Result<(Uid, IdCardData), ApiError> {
    let badge = terminal.sessions.badge();
    let _armed = terminal.sessions.arm_card_read();
    // A card swapped for another a moment ago may still be the one the reader loop last
    // reported; its read then finds a different card (`NoCard`), and the loop's next polls
    // bring the new one. A few tries cover that; a card really taken off stays an error.
    let mut tries = 0;
    loop {
        tries += 1;
        let uid = terminal.devices.wait_for_card(CARD_WAIT, |uid| Some(*uid) != badge).await.ok_or_else(no_card)?;
        match terminal.devices.read_id_card(uid, ID_CARD_READ_LIMIT).await {
            Ok(data) => return Ok((uid, data)),
            Err(IdCardError::Reader(ReaderError::NoCard)) if tries < 3 => tokio::time::sleep(3 * crate::peripherals::reader_loop::POLL_INTERVAL).await,
            Err(e) => return Err(id_card_error(e)),
        }
    }
}

/// What the kiosk is told when an ID card could not be read. Never the card's contents.
fn id_card_error(error: IdCardError) -> ApiError {
    let unprocessable = |code: &'static str, message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
    match error {
        IdCardError::NotAnIdCard | IdCardError::Reader(ReaderError::NotIsoDep) => unprocessable(
            "not_an_id_card",
            "this card is not a national ID card (it has no beneficiary ID application): put the ID card on the reader, or type the number".into(),
        ),
        IdCardError::Locked => unprocessable("card_locked", "the ID card refused to give its number (locked): type the number instead".into()),
        IdCardError::Malformed(what) => unprocessable("card_unreadable", format!("the ID card's data could not be read ({what}): type the number instead")),
        IdCardError::Status(sw) => unprocessable("card_unreadable", format!("the ID card answered {sw:04X}: type the number instead")),
        IdCardError::Reader(ReaderError::NoCard) => {
            ApiError::new(StatusCode::CONFLICT, "card_moved", "the card left the reader while it was being read: hold it still on the reader and try again")
        }
        IdCardError::Reader(ReaderError::Collision) => {
            ApiError::new(StatusCode::CONFLICT, "several_cards", "more than one card is on the reader: leave only the ID card and try again")
        }
        IdCardError::Reader(e) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "reader_fault",
            format!("the card reader could not read the card ({e}): try again, or ask a technician"),
        ),
    }
}

/// `POST /v1/hardware/read-card`.
pub async fn read_card_test(State(state): State<ApiState>) -> Result<Json<CardRead>, ApiError> {
    require_technician_once_provisioned(&state.terminal, "the card reader test")?;
    read_card(&state.terminal).await
}

/// `POST /v1/id-card/read`: the applicant's national ID number and date of birth from their
/// ID card, for staff-assisted enrollment.
pub async fn read_id_card(State(state): State<ApiState>) -> Result<Json<CardRead>, ApiError> {
    require_staff(&state.terminal, "reading an ID card")?;
    let (uid, card) = read_id_card_data(&state.terminal).await?;
    Ok(Json(CardRead {
        uid: uid.to_string(),
        national_id: Some(card.national_id.as_str().to_owned()),
        date_of_birth: card.date_of_birth.and_then(calendar_date),
    }))
}

/// A card's date of birth as a calendar date (`DateOfBirth::parse` admits only real dates).
fn calendar_date(date: DateOfBirth) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
}
