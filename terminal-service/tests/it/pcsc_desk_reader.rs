//! The service with a USB desk reader (`[hardware.reader] chip = "pcsc"`) and the national ID
//! card profile (`id_card_profile = "emrtd"`): the real PC/SC stack — a private pcscd with
//! Debian's virtual reader vsmartcard-vpcd — and the simulated Iraqi card's chip answering
//! from a [`VirtualCard`], read by the service's own reader loop and local API: a status check
//! by the card access number reaches the node, and staff's assisted enrollment read by the MRZ
//! key returns the number, date of birth and name that prefill the form.
//!
//! The only test of this binary that speaks PC/SC: the PC/SC client reads the private
//! daemon's socket path once per process. A private pcscd needs root (a mount namespace); as
//! another user the test says why and passes without running, like `hardware/tests/pcsc*.rs`
//! (CI runs as root).

use std::sync::Arc;
use std::time::Duration;

use crate::common::stub_node::StubNode;
use crate::common::{eventually, Fixture};
use crate::hardware_and_sessions::{assert_no_secret_in_details, start, Running, STAFF_BADGE};
use hardware::field::{EmrtdApplicant, EmrtdChip};
use hardware::pcsc::daemon::{self, PrivatePcscd};
use hardware::pcsc::virtual_card::VirtualCard;
use hardware::{ReaderChip, SimulatedCard, Uid};
use serde_json::{json, Value};

/// The friendly name of the private daemon's virtual reader, which the config selects.
const DESK_READER: &str = "Desk Reader";
const CHIP_UID: &str = "08A1B2C3";

/// Puts `card` on the virtual reader and waits until the service's reader loop sees it.
async fn put_on(api: &Running, reader: &mut VirtualCard, card: SimulatedCard) {
    let expected = Some(card.card().uid);
    reader.insert(card).unwrap_or_else(|e| panic!("virtual card: {e}"));
    let devices = Arc::clone(&api.terminal.devices);
    eventually("the service's PC/SC reader to see the card", Duration::from_secs(8), || {
        let seen = devices.card().uid;
        async move { seen == expected }
    })
    .await;
}

/// Takes the card off the virtual reader and waits until the service sees it gone.
async fn take_off(api: &Running, reader: &mut VirtualCard) {
    reader.remove();
    let devices = Arc::clone(&api.terminal.devices);
    eventually("the service's PC/SC reader to see the card leave", Duration::from_secs(8), || {
        let seen = devices.card().uid;
        async move { seen.is_none() }
    })
    .await;
}

fn chip_card(person: &EmrtdApplicant) -> SimulatedCard {
    SimulatedCard::emrtd(Uid::from_hex(CHIP_UID).unwrap(), EmrtdChip::new(person.clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_national_card_on_a_pcsc_desk_reader_is_read_by_can_for_a_status_check_and_by_mrz_for_enrollment() {
    if let Some(why) = daemon::unavailable() {
        eprintln!("skipped: {why}");
        return;
    }
    // Declared before the daemon, so dropped after it, even when an assertion fails: pcscd
    // stops, then its directory goes.
    let pcscd_dir = tempfile::Builder::new().prefix("ts-it-pcscd-").tempdir().unwrap();
    let pcscd = PrivatePcscd::start(pcscd_dir.path(), DESK_READER).unwrap_or_else(|e| panic!("private pcscd: {e}"));
    let mut reader = VirtualCard::new(pcscd.readers()[0].address);

    let identity = age::x25519::Identity::generate();
    let stub = StubNode::start(identity.clone()).await;
    let mut fixture = Fixture::provisioned_for(&stub.url, identity);
    fixture.config.hardware.id_card_profile = hardware::IdCardProfile::Emrtd;
    fixture.config.hardware.reader.chip = ReaderChip::Pcsc;
    fixture.config.hardware.reader.pcsc_reader = Some(DESK_READER.into());
    let api = start(fixture, 300).await;
    assert!(api.terminal.devices.simulation().is_none(), "a PC/SC reader is real, whatever the backend");

    // An applicant at the kiosk: the card on the desk reader, the six digits printed on it.
    let person = EmrtdApplicant::samples().remove(0);
    put_on(&api, &mut reader, chip_card(&person)).await;
    let (status, body) = api.call("POST", "/v1/status-checks", Some(json!({"query": {"by": "id_card", "access": {"can": "000000"}}}))).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("card_access_refused")), "{body}\npcscd:\n{}", pcscd.log());
    assert!(stub.status_queries().is_empty(), "nothing reaches the node from an unopened card");
    let (status, body) = api.call("POST", "/v1/status-checks", Some(json!({"query": {"by": "id_card", "access": {"can": person.can}}}))).await;
    assert_eq!(status, 200, "{body}\npcscd:\n{}", pcscd.log());
    assert!(!body.to_string().contains(&person.national_number), "the number stays between the card and the node: {body}");
    assert_eq!(
        stub.status_queries(),
        vec![node_protocol::StatusQuery::NationalId { national_id: person.national_number.clone() }],
        "the node is asked with the number read from the chip"
    );

    // Staff enrol the applicant at the same desk: badge on the reader, PIN; the read by the
    // MRZ key waits while the badge comes off and the applicant's card goes on.
    put_on(&api, &mut reader, SimulatedCard::new(Uid::from_hex(STAFF_BADGE).unwrap())).await;
    let (status, body) = api.login("2468").await;
    assert_eq!(status, 201, "{body}");
    let mrz = json!({"access": {"mrz": {"document_number": person.document_number, "date_of_birth": "1990-01-01", "date_of_expiry": "2031-01-01"}}});
    let reading = {
        let client = api.client.clone();
        tokio::spawn(async move {
            let resp = client.post("http://localhost/v1/id-card/read").json(&mrz).send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    take_off(&api, &mut reader).await;
    put_on(&api, &mut reader, chip_card(&person)).await;
    let (status, card) = tokio::time::timeout(Duration::from_secs(20), reading).await.expect("the read answers").unwrap();
    assert_eq!(status, 200, "{card}\npcscd:\n{}", pcscd.log());
    // What prefills the enrollment form.
    assert_eq!((card["national_id"].as_str(), card["date_of_birth"].as_str()), (Some(person.national_number.as_str()), Some("1990-01-01")), "{card}");
    assert_eq!(card["name"]["full"], "أحمد الهاشمي", "{card}");
    assert_eq!((card["name"]["first"].as_str(), card["name"]["family"].as_str()), (Some("أحمد"), Some("الهاشمي")), "{card}");
    assert!(card["badge_return_s"].as_u64().is_some(), "the badge is off: the answer says how long it has: {card}");

    let actions = api.audit_actions().await;
    assert_no_secret_in_details(&actions, &[&person.can, &person.document_number, &person.national_number, "900101", "310101"]);
}
