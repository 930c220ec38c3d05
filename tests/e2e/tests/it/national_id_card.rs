//! The Iraqi national ID card (ICAO 9303 eMRTD chip) across the real processes: a
//! terminal-service deployed with `[hardware] id_card_profile = "emrtd"` and the simulated
//! chip on its simulated reader, the reference node, and the local API called with the
//! kiosk's own request types (`local_api`), as the card-access screen sends them. The chip is
//! opened with PACE from the card access number; a wrong number, a forged card and an answer
//! that comes from the node are each told apart, and staff's enrollment by card reaches the
//! node.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use e2e::cluster::{Cluster, FAST_SYNC};
use e2e::local_api::LocalApi;
use e2e::sample::{answers, Applicant};
use e2e::wait_for;
use local_api::{CardAccess, ReadIdCard, StatusQuery, StatusRequest};
use node_protocol::SubmissionKind;
use serde_json::{json, Value};

/// The applicant the reference node knows as active (its seeded population).
const KNOWN_NATIONAL_ID: &str = "199001234567";
/// The card access number printed on the simulated cards.
const CAN: &str = "493817";
/// The reference node's sample staff member (README): badge and PIN.
const STAFF_BADGE: &str = "04A1B2C3D4E580";
const STAFF_PIN: &str = "2468";

/// A national ID card with a chip for `national_id` that opens with [`CAN`].
fn national_card(uid: &str, national_id: &str, date_of_birth: &str, forged_data_group: Option<u8>) -> Value {
    e2e::sample::national_card(uid, national_id, date_of_birth, CAN, forged_data_group)
}

async fn call(api: &LocalApi, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value)> {
    let (content_type, bytes) = match &body {
        Some(b) => (Some("application/json"), serde_json::to_vec(b)?),
        None => (None, Vec::new()),
    };
    let (status, text) = api.raw(method, path, content_type, bytes).await?;
    let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).with_context(|| format!("{path}: not JSON: {text}"))? };
    Ok((status, value))
}

/// Puts `card` on the simulated reader.
async fn present(api: &LocalApi, card: Value) -> Result<()> {
    let (status, body) = call(api, "POST", "/v1/simulator/card", Some(card)).await?;
    if status != 204 {
        bail!("the simulator refused the card with {status}: {body}");
    }
    Ok(())
}

/// `POST /v1/status-checks` with the card on the reader and the kiosk's request body.
async fn status_by_card(api: &LocalApi, access: Option<CardAccess>) -> Result<(u16, Value)> {
    let request = StatusRequest { query: StatusQuery::IdCard { access } };
    call(api, "POST", "/v1/status-checks", Some(serde_json::to_value(&request)?)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_national_card_opened_by_its_access_number_gets_the_nodes_answer_a_wrong_number_or_a_forged_card_does_not_and_staff_enrol_from_it() -> Result<()> {
    let cluster = Cluster::start_with_hardware(FAST_SYNC, None, "id_card_profile = \"emrtd\"").await?;
    let api = cluster.api()?;
    let settings = api.get_json("/v1/kiosk").await?;
    assert_eq!(settings["id_card_profile"], "emrtd", "the kiosk learns from the service to ask for the access number: {settings}");

    // The node's answer for the number typed, to compare the card's with.
    let typed = StatusRequest { query: StatusQuery::NationalId { national_id: KNOWN_NATIONAL_ID.into() } };
    let (status, by_number) = call(&api, "POST", "/v1/status-checks", Some(serde_json::to_value(&typed)?)).await?;
    assert_eq!(status, 200, "{by_number}");
    assert!(by_number["case_number"].is_string(), "the node knows its sample applicant: {by_number}");

    present(&api, national_card("08C3D2E1", KNOWN_NATIONAL_ID, "1985-03-14", None)).await?;
    // The chip opens only with its key: the kiosk is told to ask for it.
    let (status, body) = status_by_card(&api, None).await?;
    assert_eq!((status, body["error"].as_str()), (422, Some("card_access_required")), "{body}");
    // A wrong access number: PACE fails on the chip, and the message says what to check.
    let (status, body) = status_by_card(&api, Some(CardAccess::Can("111111".into()))).await?;
    assert_eq!((status, body["error"].as_str()), (422, Some("card_access_refused")), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("six digits")), "{body}");

    // The right one: the number read from the chip goes to the node, whose answer comes back.
    let (status, by_card) = status_by_card(&api, Some(CardAccess::Can(CAN.into()))).await?;
    assert_eq!(status, 200, "{by_card}\n{}", e2e::processes::tail(&cluster.terminal.log));
    assert_eq!((&by_card["case_number"], &by_card["state"]), (&by_number["case_number"], &by_number["state"]), "the node's answer for the card's holder");
    assert!(!by_card.to_string().contains(KNOWN_NATIONAL_ID), "the number stays between the card and the node: {by_card}");

    // A forged card: DG1 does not match the signed hashes. Nothing from it is believed.
    present(&api, national_card("08C3D2E2", KNOWN_NATIONAL_ID, "1985-03-14", Some(1))).await?;
    let (status, body) = status_by_card(&api, Some(CardAccess::Can(CAN.into()))).await?;
    assert_eq!((status, body["error"].as_str()), (422, Some("card_not_genuine")), "{body}");

    // Staff enrol an applicant on the same terminal (one node and one terminal started for
    // both parts keeps CI short): badge on the reader (seen within a poll), then the PIN.
    present(&api, json!({"uid": STAFF_BADGE})).await?;
    let session = wait_for("the badge to be seen by the reader", Duration::from_secs(10), Duration::from_millis(100), || {
        let api = &api;
        async move { call(api, "POST", "/v1/sessions", Some(json!({"pin": STAFF_PIN}))).await.ok().filter(|(s, _)| *s == 201).map(|(_, b)| b) }
    })
    .await?;
    let staff_id = session["staff_id"].as_str().context("a session names its staff member")?.to_owned();

    // Staff type the applicant's CAN and ask for the read, then the applicant's card goes on
    // the reader in place of the badge (the armed read keeps the session; a swap before it
    // would end it, as a badge taken away does).
    let national_id = "200107230019";
    let read = serde_json::to_value(ReadIdCard { access: Some(CardAccess::Can(CAN.into())) })?;
    let (answer, presented) = tokio::join!(call(&api, "POST", "/v1/id-card/read", Some(read)), async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        present(&api, national_card("08C3D2E3", national_id, "2001-07-23", None)).await
    });
    presented?;
    let (status, card) = answer?;
    assert_eq!(status, 200, "{card}");
    assert_eq!((card["national_id"].as_str(), card["date_of_birth"].as_str()), (Some(national_id), Some("2001-07-23")), "{card}");
    assert_eq!(card["name"]["full"], "زينب كاظم حسن العبيدي", "DG11's name prefills the form: {card}");

    // The application, with the number from the chip, assisted by the logged-in staff member.
    let form = cluster.forms.form(SubmissionKind::Application)?;
    let filled = answers(form, &cluster.forms.master_data, &Applicant { national_id: card["national_id"].as_str().map(String::from), ..Applicant::default() });
    let body = json!({"language": "ar", "answers": filled, "assisted_by": staff_id});
    let (status, ack) = call(&api, "POST", "/v1/applications", Some(body)).await?;
    assert!(status == 201 || status == 200, "{status}: {ack}");
    let id: uuid::Uuid = serde_json::from_value(ack["id"].clone()).context("the acknowledgement's id")?;
    cluster.wait_drained(Duration::from_secs(30)).await?;
    let stored = cluster.node.submissions()?;
    assert!(stored.iter().any(|s| s.id == id && s.kind == "application"), "the node holds the application: {stored:?}");
    Ok(())
}
