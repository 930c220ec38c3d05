//! The technician's hardware routes: `GET /v1/hardware`, `GET /v1/hardware/printer-status`,
//! `POST /v1/hardware/print-test`, `POST /v1/hardware/read-card`; and the card read of
//! staff-assisted enrollment, `POST /v1/id-card/read`.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{NaiveDate, Utc};
use hardware::{Backend, DateOfBirth, IdCardError, ReaderError, Receipt, Uid};

use super::auth::{require_staff, require_technician_once_provisioned};
use super::error::{ApiError, OptionalJsonBody};
use super::ApiState;
use crate::peripherals::devices::PrintError;
use crate::peripherals::id_card_read::{ChipError, ChooseError, IdCardRead, ReadError, ReadMethod};
use crate::peripherals::printer_monitor::announce_printer_state;
use local_api::display::Conventions;

use crate::peripherals::receipts::{format_time, language};
use crate::terminal::Terminal;

pub use local_api::{CardAccess, CardName, CardRead, Hardware, HardwareBackend, PrinterReport, Printed, ReadIdCard};

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
        Some(uid) => {
            drop(_armed);
            Ok(Json(CardRead { uid: uid.to_string(), national_id: None, date_of_birth: None, name: None, badge_return_s: badge_return_s(terminal) }))
        }
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

/// How to read the ID card for the configured profile and the key the kiosk sent; 422 when
/// the chip needs a key and none (or no valid one) was given.
pub fn read_method(terminal: &Terminal, access: Option<&CardAccess>) -> Result<ReadMethod, ApiError> {
    ReadMethod::choose(terminal.devices.id_card_profile(), access).map_err(|e| match e {
        ChooseError::KeyRequired => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "card_access_required", e.to_string()),
        ChooseError::Key(e) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", e.to_string()),
    })
}

/// Waits for an ID card (any card but the session's badge) and reads its holder's national ID
/// number and date of birth (and, from a chip, the name) from it by `method`; answers the
/// card's UID too.
pub async fn read_id_card_data(terminal: &Terminal, method: ReadMethod) -> Result<(Uid, IdCardRead), ApiError> {
    let badge = terminal.sessions.badge();
    let _armed = terminal.sessions.arm_card_read();
    // A card swapped for another a moment ago may still be the one the reader loop last
    // reported; its read then finds a different card (`NoCard`), and the loop's next polls
    // bring the new one. A few tries cover that; a card really taken off stays an error.
    // The method (with the chip's key) goes to the reader loop with each try, so it is kept
    // here as long as a retry may need it.
    let mut method = Some(method);
    let mut tries = 0;
    loop {
        tries += 1;
        let uid = terminal.devices.wait_for_card(CARD_WAIT, |uid| Some(*uid) != badge).await.ok_or_else(no_card)?;
        let this_try = match method.take() {
            Some(m) => m,
            None => return Err(id_card_error(ReaderError::NoCard.into())),
        };
        let retry = this_try.clone();
        match terminal.devices.read_id_card(uid, this_try, ID_CARD_READ_LIMIT).await {
            Ok(data) => return Ok((uid, data)),
            Err(e) if matches!(e.reader(), Some(ReaderError::NoCard)) && tries < 3 => {
                method = Some(retry);
                tokio::time::sleep(3 * crate::peripherals::reader_loop::POLL_INTERVAL).await;
            }
            Err(e) => return Err(id_card_error(e)),
        }
    }
}

/// Seconds left for the session's badge to come back, when it is off after a read.
fn badge_return_s(terminal: &Terminal) -> Option<u64> {
    terminal.sessions.badge_return_left().map(|left| left.as_secs())
}

/// What the kiosk is told when an ID card could not be read: what happened and what to do.
/// Never the card's contents, never the key.
fn id_card_error(error: ReadError) -> ApiError {
    let unprocessable = |code: &'static str, message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
    if let Some(reader) = error.reader() {
        return match reader {
            ReaderError::NoCard => {
                ApiError::new(StatusCode::CONFLICT, "card_moved", "the card left the reader while it was being read: hold it still on the reader and try again")
            }
            ReaderError::Collision => {
                ApiError::new(StatusCode::CONFLICT, "several_cards", "more than one card is on the reader: leave only the ID card and try again")
            }
            ReaderError::NotIsoDep => unprocessable(
                "not_an_id_card",
                "this card is not a national ID card (it has no chip application to read): put the ID card on the reader, or type the number".into(),
            ),
            e => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "reader_fault",
                format!("the card reader could not read the card ({e}): try again, or ask a technician"),
            ),
        };
    }
    match error {
        ReadError::Open(IdCardError::NotAnIdCard) => unprocessable(
            "not_an_id_card",
            "this card is not a national ID card (it has no beneficiary ID application): put the ID card on the reader, or type the number".into(),
        ),
        ReadError::Open(IdCardError::Locked) => unprocessable("card_locked", "the ID card refused to give its number (locked): type the number instead".into()),
        ReadError::Open(IdCardError::Malformed(what)) => unprocessable("card_unreadable", format!("the ID card's data could not be read ({what}): type the number instead")),
        ReadError::Open(IdCardError::Status(sw)) => unprocessable("card_unreadable", format!("the ID card answered {sw:04X}: type the number instead")),
        ReadError::Chip(ChipError::AccessRefused) => unprocessable(
            "card_access_refused",
            "the card refused the access number: check the six digits printed on the card (or the code on its back) and try again".into(),
        ),
        ReadError::Chip(ChipError::NotEmrtd) => unprocessable(
            "not_an_id_card",
            "this card is not a national ID card (it has no ICAO passport application): put the national ID card on the reader, or type the number".into(),
        ),
        ReadError::Chip(ChipError::Unsupported(what)) => unprocessable(
            "card_not_supported",
            format!("this terminal cannot read this kind of ID card ({what}): type the number instead, and tell a technician"),
        ),
        ReadError::Chip(ChipError::SecureMessaging(_)) => {
            ApiError::new(StatusCode::CONFLICT, "card_moved", "the connection to the card broke off during the read: hold the card still on the reader and try again")
        }
        ReadError::Chip(ChipError::NotGenuine(group)) => unprocessable(
            "card_not_genuine",
            format!("the card's data failed its integrity check ({group}): do not use this card; the applicant should see staff"),
        ),
        ReadError::Chip(ChipError::Malformed(what)) => unprocessable("card_unreadable", format!("the ID card's data could not be read ({what}): type the number instead")),
        // Reader errors were answered above.
        ReadError::Open(IdCardError::Reader(e)) | ReadError::Chip(ChipError::Reader(e)) => ApiError::new(
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

/// `POST /v1/id-card/read`: the applicant's national ID number and date of birth (and, from
/// the chip, the name) from their ID card, for staff-assisted enrollment. The body, when
/// there is one, carries the chip's key.
pub async fn read_id_card(State(state): State<ApiState>, OptionalJsonBody(body): OptionalJsonBody<ReadIdCard>) -> Result<Json<CardRead>, ApiError> {
    let terminal = &state.terminal;
    require_staff(terminal, "reading an ID card")?;
    let method = read_method(terminal, body.unwrap_or_default().access.as_ref())?;
    let (uid, card) = read_id_card_data(terminal, method).await?;
    Ok(Json(CardRead {
        uid: uid.to_string(),
        national_id: Some(card.national_id.as_str().to_owned()),
        date_of_birth: card.date_of_birth.and_then(calendar_date),
        name: card.name.as_deref().map(card_name),
        badge_return_s: badge_return_s(terminal),
    }))
}

/// A chip's name (DG11: ICAO style, the surname, `<<`, the given names), in reading order, with
/// its parts for the form when it is in Arabic script: the given names as first, father's and
/// grandfather's names, the surname as family name.
fn card_name(chip: &str) -> CardName {
    let clean = |s: &str| s.split(['<', ' ']).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    let (surname, given) = match chip.split_once("<<") {
        Some((surname, given)) => (clean(surname), clean(given)),
        None => (String::new(), clean(chip)),
    };
    let full = [given.as_str(), surname.as_str()].iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(" ");
    let mut name = CardName { full, first: None, father: None, grandfather: None, family: None };
    if !name.full.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)) {
        return name;
    }
    let mut parts = arabic_name_parts(&given).into_iter();
    if surname.is_empty() {
        // No marked surname: a name of three or four parts reads as the form's.
        let all: Vec<String> = parts.collect();
        if (3..=4).contains(&all.len()) {
            let mut all = all.into_iter();
            name.first = all.next();
            name.father = all.next();
            name.grandfather = all.next();
            name.family = all.next();
        }
        return name;
    }
    name.first = parts.next();
    name.father = parts.next();
    name.grandfather = parts.next();
    name.family = Some(surname);
    name
}

/// The parts of an Arabic full name as written (not folded: the form gets the chip's
/// spelling), compound names kept in one part: عبد and أبو with the word after them, الله,
/// الدين, الهدى, الزهراء, العابدين with the word before them.
fn arabic_name_parts(full: &str) -> Vec<String> {
    const JOINS_NEXT: &[&str] = &["عبد", "ابو", "أبو", "بن"];
    const JOINS_PREVIOUS: &[&str] = &["الله", "الدين", "الهدى", "الزهراء", "العابدين", "الإسلام"];
    let mut parts: Vec<String> = Vec::new();
    let mut join_next = false;
    for word in full.split_whitespace() {
        match parts.last_mut() {
            Some(last) if join_next || JOINS_PREVIOUS.contains(&word) => {
                last.push(' ');
                last.push_str(word);
            }
            _ => parts.push(word.to_owned()),
        }
        join_next = JOINS_NEXT.contains(&word);
    }
    parts
}

/// A card's date of birth as a calendar date (`DateOfBirth::parse` admits only real dates).
fn calendar_date(date: DateOfBirth) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
}

#[cfg(test)]
mod tests {
    use super::card_name;

    #[test]
    fn a_chip_name_splits_into_the_form_parts_only_in_arabic_script() {
        let name = card_name("زينب  كاظم عبد الله العبيدي");
        assert_eq!(name.full, "زينب كاظم عبد الله العبيدي");
        assert_eq!(
            (name.first.as_deref(), name.father.as_deref(), name.grandfather.as_deref(), name.family.as_deref()),
            (Some("زينب"), Some("كاظم"), Some("عبد الله"), Some("العبيدي"))
        );
        let icao = card_name("الزبيدي<<فاطمة<علي<حسن");
        assert_eq!(icao.full, "فاطمة علي حسن الزبيدي");
        assert_eq!(
            (icao.first.as_deref(), icao.father.as_deref(), icao.grandfather.as_deref(), icao.family.as_deref()),
            (Some("فاطمة"), Some("علي"), Some("حسن"), Some("الزبيدي"))
        );
        let short = card_name("الهاشمي<<أحمد");
        assert_eq!((short.first.as_deref(), short.father, short.family.as_deref()), (Some("أحمد"), None, Some("الهاشمي")));
        let latin = card_name("AL HASHIMI<<AHMED");
        assert_eq!((latin.full.as_str(), latin.first), ("AHMED AL HASHIMI", None));
        assert_eq!(card_name("زينب كاظم").first, None, "two parts without a marked surname fill nothing");
    }
}
