//! `POST /v1/receipts`: prints the receipt of a submission captured here, or a status-check
//! slip. Calling it again reprints (the UI offers that after a `printer_not_ready`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use local_api::display::Conventions;
use local_api::{PrintReceipt, Printed};

use super::error::{ApiError, JsonBody};
use super::hardware::print;
use super::ApiState;
use crate::peripherals::receipts::{check_slip, for_status_slip, for_submission, language};
use crate::terminal::Terminal;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message)
}

/// The province as the receipt's reader says it: the governorate's name in `language` from the
/// node's master data, matched by code or by any of its names; as enrolled when not found.
fn province_name(config: Option<&node_protocol::NodeConfig>, enrolled: &str, language: &str) -> String {
    config
        .and_then(|c| {
            c.master_data.governorates.iter().find(|g| {
                g.code.eq_ignore_ascii_case(enrolled) || [&g.name.ar, &g.name.ckb, &g.name.en].iter().any(|n| n.as_str() == enrolled)
            })
        })
        .map(|g| g.name.get(language).to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| enrolled.to_string())
}

/// How `language` shows dates and numbers under the node's configuration.
pub(crate) fn conventions(terminal: &Terminal, language: &str) -> Conventions {
    let digits = terminal.node_config().map(|c| c.digits).unwrap_or_default();
    Conventions::for_language(&digits, language)
}

/// `POST /v1/receipts`.
pub async fn post(State(state): State<ApiState>, JsonBody(body): JsonBody<PrintReceipt>) -> Result<(StatusCode, Json<Printed>), ApiError> {
    let terminal = &state.terminal;
    let languages = &terminal.config.kiosk.languages;
    let receipt = match (body.submission_id, body.status_slip) {
        (Some(id), None) => {
            let tag = body.language.clone().or_else(|| languages.first().cloned()).unwrap_or_default();
            let lang = Some(&tag).filter(|t| languages.contains(t)).and_then(|t| language(t)).ok_or_else(|| invalid(format!("language: use one of {}", languages.join(", "))))?;
            let record = terminal.storage.outbox(move |o| o.find(id)).await.map_err(ApiError::internal)?;
            let (Some(record), Some(provisioned)) = (record, terminal.provisioned()) else {
                return Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_submission", format!("no submission {id} was captured on this terminal; check the id the capture answered")));
            };
            let province = province_name(terminal.node_config().as_deref(), &provisioned.enrollment.province, &tag);
            let clock = terminal.storage.clock().status_at(record.created_at);
            for_submission(&record, clock, lang, conventions(terminal, &tag), &provisioned.enrollment.terminal_id, &province)
        }
        (None, Some(slip)) => {
            if body.language.is_some() {
                return Err(invalid("language goes inside status_slip"));
            }
            let lang = check_slip(&slip, languages).map_err(invalid)?;
            let now = terminal.storage.clock().now();
            for_status_slip(&slip, lang, conventions(terminal, &slip.language), &terminal.terminal_id(), now, terminal.storage.clock().status_at(now))
        }
        _ => return Err(invalid("give exactly one of submission_id (a captured submission) and status_slip")),
    };
    print(terminal, receipt).await
}

#[cfg(test)]
mod tests {
    use super::province_name;
    use node_protocol::{Governorate, LocalizedText, MasterData, NodeConfig, StaffRoster};

    #[test]
    fn the_province_is_named_in_the_receipt_language() {
        let config = NodeConfig {
            version: "1".into(),
            province: "Erbil".into(),
            forms: vec![],
            master_data: MasterData {
                governorates: vec![Governorate { code: "ERB".into(), name: LocalizedText::new("أربيل", "هەولێر", "Erbil"), districts: vec![] }],
            },
            staff: StaffRoster { badge_hash_key: String::new(), members: vec![] },
            digits: Default::default(),
            referral_partners: vec![],
        };
        assert_eq!(province_name(Some(&config), "Erbil", "ckb"), "هەولێر");
        assert_eq!(province_name(Some(&config), "ERB", "ar"), "أربيل");
        assert_eq!(province_name(Some(&config), "Erbil", "en"), "Erbil");
        assert_eq!(province_name(Some(&config), "Atlantis", "ar"), "Atlantis");
        assert_eq!(province_name(None, "Erbil", "ar"), "Erbil");
    }
}
