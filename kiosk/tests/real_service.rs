//! The kiosk's local API client against the real terminal-service and reference node (the
//! other kiosk tests use a fake service): every call the screens make decodes what the real
//! service answers, so the two cannot drift apart unnoticed.
//!
//! Needs the workspace's binaries (`cargo build --workspace --bins`, as `tests/run.sh` does).

use std::time::Duration;

use e2e::cluster::{Cluster, FAST_SYNC};
use e2e::sample::{answers, Applicant};
use kiosk::api::{LocalApi, Submission};
use kiosk::flow::{DEMO_CARDS, DEMO_ID_CARD};
use kiosk::ui::DemoCard;
use node_protocol::{BenefitState, StatusQuery, SubmissionKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_call_decodes_the_real_service() -> anyhow::Result<()> {
    let cluster = Cluster::start(FAST_SYNC, None).await?;
    let api = LocalApi::new(&cluster.terminal.socket).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let fail = |what: &str| {
        let what = what.to_string();
        move |e: kiosk::api::ApiError| anyhow::anyhow!("{what}: {e:?}")
    };

    let health = api.health().await.map_err(fail("health"))?;
    assert!(health.provisioned, "the cluster provisioned the terminal");
    let settings = api.kiosk_settings().await.map_err(fail("kiosk settings"))?;
    assert_eq!(settings.languages, ["ar", "ckb", "en"]);
    let forms = api.forms().await.map_err(fail("forms"))?;

    // The event stream: a new one starts with where things stand, each event typed.
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    let follower = tokio::spawn({
        let api = api.clone();
        async move { api.follow_events(move |e| drop(sender.send(e))).await }
    });
    let mut first = Vec::new();
    for _ in 0..3 {
        let event = tokio::time::timeout(Duration::from_secs(10), received.recv()).await?.expect("the stream stays open");
        first.push(event.name());
    }
    assert_eq!(first, ["connectivity", "printer", "queue"]);
    follower.abort();

    // An applicant applies in Kurdish and gets a receipt.
    let form = forms.forms.iter().find(|f| f.kind == SubmissionKind::Application).expect("an application form");
    let filled = answers(form, &forms.master_data, &Applicant::default());
    let submission = Submission { language: "ckb".into(), answers: filled.as_object().cloned().unwrap_or_default(), referral: None, assisted_by: None, duplicate_override: None, targeting: None };
    let captured = api.submit(SubmissionKind::Application, &submission).await.map_err(fail("submit"))?;
    assert_eq!(captured.reference.len(), 11, "XXXXX-XXXXX: {}", captured.reference);
    api.print_receipt(&captured.id, "ckb").await.map_err(fail("receipt"))?;

    // A status check by national id, and its printed slip.
    let status = api
        .status_check(StatusQuery::NationalId { national_id: "199001234567".into() })
        .await
        .map_err(fail("status check"))?;
    assert_eq!(status.state, BenefitState::Active);
    api.print_status_slip(Some(&status), None, "ar").await.map_err(fail("status slip"))?;

    // The same applicant taps their ID card: the service reads the number from the card
    // (ISO/IEC 14443-4 through the simulated MFRC522) and asks the node.
    let (_, card_uid) = DEMO_CARDS.iter().find(|(who, _)| *who == DemoCard::Applicant).expect("the demo's applicant card");
    api.simulator_present_id_card(card_uid, DEMO_ID_CARD.0, DEMO_ID_CARD.1).await.map_err(fail("present ID card"))?;
    let by_card = api.status_check_by_card(None).await.map_err(fail("status check by card"))?;
    assert_eq!(by_card.state, BenefitState::Active);
    assert_eq!(by_card.case_number, status.case_number, "the card names the same applicant");
    // A staff badge is no ID card: a clear refusal, not a guess.
    api.simulator_present_card("04A1B2C3D4E580").await.map_err(fail("present badge"))?;
    let refused = api.status_check_by_card(None).await.expect_err("a badge is not an ID card");
    assert_eq!(refused.code(), "not_an_id_card", "{refused:?}");
    api.simulator_remove_card().await.map_err(fail("remove badge"))?;
    // Receipts just came out of the simulated printer.
    assert!(api.printer_status().await.map_err(fail("printer status"))?.can_print());

    // Staff: badge on the (simulated) reader, PIN, the queue, logout.
    api.simulator_present_card("04A1B2C3D4E580").await.map_err(fail("present badge"))?;
    let session = e2e::wait_for("the badge to be seen by the reader", Duration::from_secs(10), Duration::from_millis(100), || {
        let api = api.clone();
        async move { api.login("2468").await.ok() }
    })
    .await?;
    assert_eq!(session.staff_id, "S-0001");
    // Assisted enrollment: staff ask for a read, then swap the badge for the applicant's card.
    let read = tokio::spawn({
        let api = api.clone();
        async move { api.read_id_card(None).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    api.simulator_present_id_card(card_uid, DEMO_ID_CARD.0, DEMO_ID_CARD.1).await.map_err(fail("present ID card"))?;
    let card = read.await?.map_err(fail("read ID card"))?;
    assert_eq!(card.national_id.as_deref(), Some(DEMO_ID_CARD.0));
    assert_eq!(card.date_of_birth.map(|d| d.to_string()).as_deref(), Some(DEMO_ID_CARD.1));
    api.simulator_present_card("04A1B2C3D4E580").await.map_err(fail("badge back"))?;
    let queue = api.queue().await.map_err(fail("queue details"))?;
    assert!(queue.stats.depth + queue.stats.delivered >= 1, "the application is queued or delivered: {queue:?}");
    api.diagnostics().await.map_err(fail("diagnostics"))?;
    api.logout().await.map_err(fail("logout"))?;
    api.simulator_remove_card().await.map_err(fail("remove badge"))?;
    Ok(())
}
