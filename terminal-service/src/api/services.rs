//! Referrals out (issue 14): `GET /v1/services` lists the services of a place from the node's
//! service directory cached here ([`crate::startup::referrals_out`]), and
//! `POST /v1/referral-slips` prints a slip for one of them with a QR code signed by this
//! terminal under the node's endorsement ([`node_protocol::slip`]), which the receiving service
//! verifies offline with the node's public key (`slip-verify`).
//!
//! Both work offline: the directory and the node's certificate are cached, the signature is
//! the terminal's own. A slip is refused (409) rather than printed with a QR code no verifier
//! would accept: when the clock is not set (the slip's date is signed), and when the terminal
//! holds no certificate covering today (it has not reached its node for weeks).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use local_api::{Printed, ReferralSlipRequest, ServiceList};
use node_protocol::slip::Slip;
use node_protocol::MasterData;

use super::error::{ApiError, JsonBody};
use super::hardware::print;
use super::ApiState;
use crate::peripherals::receipts::{for_referral_slip, iraq_time, language, SlipContent};

fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "service_directory_unavailable",
        "this terminal has no service directory yet: it fetches it from the node at the next heartbeat once the network is back",
    )
}

fn invalid(error: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error, message)
}

/// The governorate code of `name_or_code` (a code, or a name in any language) in `master`.
fn governorate_code(master: &MasterData, name_or_code: &str) -> Option<String> {
    master
        .governorates
        .iter()
        .find(|g| g.code.eq_ignore_ascii_case(name_or_code) || [&g.name.ar, &g.name.ckb, &g.name.en].iter().any(|n| n.as_str() == name_or_code))
        .map(|g| g.code.clone())
}

/// `GET /v1/services?governorate=BGD&district=RSF`.
pub async fn list(State(state): State<ApiState>, RawQuery(query): RawQuery) -> Result<Json<ServiceList>, ApiError> {
    let terminal = &state.terminal;
    let (mut governorate, mut district) = (None, None);
    for pair in query.as_deref().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = Some(value.trim().to_ascii_uppercase()).filter(|v| !v.is_empty());
        match key {
            "governorate" => governorate = value,
            "district" => district = value,
            other => {
                return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", format!("unknown query parameter '{other}': use governorate and district (codes of the master data)")));
            }
        }
    }
    let directory = terminal.service_directory().ok_or_else(unavailable)?;
    let config = terminal.node_config();
    let master = config.as_ref().map(|c| &c.master_data);
    let governorate = match (governorate, master, terminal.provisioned()) {
        (Some(code), _, _) => code,
        (None, Some(master), Some(p)) => governorate_code(master, &p.enrollment.province)
            .ok_or_else(|| invalid("invalid_query", "give governorate: the terminal's province is not in the master data"))?,
        _ => return Err(invalid("invalid_query", "give governorate (a code of the master data, e.g. BGD)")),
    };
    if let Some(master) = master {
        let Some(known) = master.governorates.iter().find(|g| g.code == governorate) else {
            return Err(invalid("unknown_governorate", format!("governorate '{governorate}' is not in the node's master data: use a code from GET /v1/forms")));
        };
        if let Some(d) = &district {
            if !known.districts.iter().any(|k| &k.code == d) {
                return Err(invalid("unknown_district", format!("district '{d}' is not a district of {governorate} in the node's master data")));
            }
        }
    }
    let services: Vec<_> = directory.serving(&governorate, district.as_deref()).into_iter().cloned().collect();
    let categories = directory.categories.iter().filter(|c| services.iter().any(|s| s.category == c.id)).cloned().collect();
    Ok(Json(ServiceList { version: directory.version.clone(), governorate, district, categories, services }))
}

/// The household reference a slip carries: a captured submission's short reference, or a
/// typed reference (a receipt's, normalised) or case number.
async fn reference_of(state: &ApiState, body: &ReferralSlipRequest) -> Result<Option<String>, ApiError> {
    match (body.submission_id, &body.reference) {
        (Some(_), Some(_)) => Err(invalid("invalid_body", "give submission_id or reference, not both")),
        (Some(id), None) => {
            let found = state.terminal.storage.outbox(move |o| o.find(id)).await.map_err(ApiError::internal)?;
            match found {
                Some(record) => Ok(Some(node_protocol::reference::short_reference(&record.id))),
                None => Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_submission", format!("no submission {id} was captured on this terminal; check the id the capture answered"))),
            }
        }
        (None, Some(typed)) => {
            if let Some(reference) = node_protocol::reference::normalise_reference(typed) {
                return Ok(Some(reference));
            }
            let case = typed.trim().to_ascii_uppercase();
            let ok = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-';
            if (1..=node_protocol::slip::MAX_REFERENCE_LEN).contains(&case.len()) && case.bytes().all(ok) {
                Ok(Some(case))
            } else {
                Err(invalid("invalid_body", format!("reference: a receipt's reference (e.g. 7K2QX-M4B9R) or a case number of at most {} characters A-Z, 0-9 and '-'", node_protocol::slip::MAX_REFERENCE_LEN)))
            }
        }
        (None, None) => Ok(None),
    }
}

/// `POST /v1/referral-slips`.
pub async fn print_slip(State(state): State<ApiState>, JsonBody(body): JsonBody<ReferralSlipRequest>) -> Result<(StatusCode, Json<Printed>), ApiError> {
    let terminal = &state.terminal;
    let languages = &terminal.config.kiosk.languages;
    let lang = Some(&body.language)
        .filter(|l| languages.contains(l))
        .and_then(|l| language(l))
        .ok_or_else(|| invalid("invalid_body", format!("language: use one of {}", languages.join(", "))))?;
    let provisioned = terminal.provisioned().ok_or_else(ApiError::not_provisioned)?;
    let directory = terminal.service_directory().ok_or_else(unavailable)?;
    let service_id = body.service_id.trim().to_ascii_uppercase();
    let service = directory.service(&service_id).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "unknown_service", format!("no service '{service_id}' in the service directory {}: choose one from GET /v1/services", directory.version))
    })?;
    let reference = reference_of(&state, &body).await?;

    let clock = terminal.storage.clock();
    let now = clock.now();
    let clock_status = clock.status_at(now);
    if !crate::clock::is_set(now) || clock_status == crate::clock::ClockStatus::NotSet {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "clock_not_set",
            "the terminal's clock is not set, and a slip's date is signed: slips print again once the terminal has reached its node",
        ));
    }
    let today = now.with_timezone(&iraq_time()).date_naive();
    let certificate = terminal.slip_certificate().ok_or_else(|| {
        ApiError::new(StatusCode::CONFLICT, "slip_certificate_missing", "the node has not yet endorsed this terminal for referral slips: it does at the next heartbeat once the network is back")
    })?;
    if !certificate.covers(today) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "slip_certificate_expired",
            format!(
                "the node's endorsement of this terminal for referral slips covers {} to {}, not today ({today}): connect the terminal to the network so the node renews it",
                certificate.certificate.valid_from, certificate.certificate.valid_until
            ),
        ));
    }
    let slip = Slip { serial: rand::random::<u64>() & node_protocol::slip::MAX_SERIAL, service: service.id.clone(), reference: reference.clone(), issued_on: today };
    let signed = provisioned
        .key
        .sign_slip(slip, &certificate)
        .map_err(|e| ApiError::new(StatusCode::CONFLICT, "slip_certificate_missing", e.to_string()))?;
    let category = directory.categories.iter().find(|c| c.id == service.category).map(|c| &c.name);
    let conventions = super::receipts::conventions(terminal, &body.language);
    let content = SlipContent { service, category, reference: reference.as_deref(), payload: signed.payload() };
    let receipt = for_referral_slip(content, lang, conventions, &terminal.terminal_id(), now, clock_status);
    // The service's id only: the household's reference stays out of the log.
    tracing::info!(service = %service.id, "referral slip printed");
    print(terminal, receipt).await
}

#[cfg(test)]
mod tests {
    use super::governorate_code;
    use node_protocol::{Governorate, LocalizedText, MasterData};

    #[test]
    fn the_terminals_province_is_found_by_code_or_any_name() {
        let master = MasterData { governorates: vec![Governorate { code: "ERB".into(), name: LocalizedText::new("أربيل", "هەولێر", "Erbil"), districts: vec![] }] };
        assert_eq!(governorate_code(&master, "Erbil").as_deref(), Some("ERB"));
        assert_eq!(governorate_code(&master, "هەولێر").as_deref(), Some("ERB"));
        assert_eq!(governorate_code(&master, "erb").as_deref(), Some("ERB"));
        assert_eq!(governorate_code(&master, "Atlantis"), None);
    }
}
