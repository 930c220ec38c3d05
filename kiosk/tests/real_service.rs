//! The kiosk against the real terminal-service and reference node (the other kiosk tests use a
//! fake service): every call the screens make decodes what the real service answers, so the two
//! cannot drift apart unnoticed; and a referral slip printed from a touch on the kiosk's screen
//! carries a QR code that the partners' `slip-verify` accepts with the node's key alone.
//!
//! One cluster for both (starting one takes seconds). Needs the workspace's binaries
//! (`cargo build --workspace --bins`, as `tests/run.sh` does).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context};
use common::Harness;
use e2e::cluster::{Cluster, FAST_SYNC};
use e2e::sample::{answers, Applicant};
use kiosk::api::{LocalApi, ServicesQuery, Submission};
use kiosk::flow::{DEMO_CARDS, DEMO_ID_CARD};
use kiosk::ui::{DemoCard, PrintJob, ServicesMode, StatusMode};
use local_api::ReferralSlipRequest;
use node_protocol::{BenefitState, StatusQuery, SubmissionKind};

#[test]
fn the_real_service_answers_every_screen_and_a_slip_printed_by_touch_verifies() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let cluster = runtime.block_on(Cluster::start(FAST_SYNC, None))?;
    runtime.block_on(every_screen_call_decodes_the_real_service(&cluster))?;
    a_referral_slip_printed_by_touch_verifies_with_the_partners_cli(&cluster, &runtime)
}

async fn every_screen_call_decodes_the_real_service(cluster: &Cluster) -> anyhow::Result<()> {
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

    // Services the household may use (the directory arrives with the first heartbeat), and a
    // referral slip to one of them carrying the application.
    let near = ServicesQuery { governorate: None, district: Some("RSF".into()) };
    let services = e2e::wait_for("the service directory at the terminal", Duration::from_secs(30), Duration::from_millis(100), || {
        let (api, near) = (api.clone(), near.clone());
        async move { api.services(&near).await.ok() }
    })
    .await?;
    assert_eq!((services.governorate.as_str(), services.district.as_deref()), ("BGD", Some("RSF")));
    let ids: Vec<&str> = services.services.iter().map(|s| s.id.as_str()).collect();
    assert!(ids.contains(&"BGD-H-0001") && !ids.contains(&"BGD-E-0001"), "Resafa's and all Baghdad's, not Karkh's: {ids:?}");
    assert!(services.categories.iter().all(|c| !c.name.ckb.is_empty()), "every category named in Kurdish");
    let everywhere = api.services(&ServicesQuery { governorate: Some("BGD".into()), district: None }).await.map_err(fail("services of BGD"))?;
    assert!(everywhere.services.len() > services.services.len(), "every district's: {everywhere:?}");
    let slip = |service_id: &str| ReferralSlipRequest { service_id: service_id.into(), language: "ckb".into(), submission_id: Some(captured.id), reference: None };
    let printed = api.print_referral_slip(&slip("BGD-H-0001")).await.map_err(fail("referral slip"))?;
    assert!(printed.png.is_some(), "the simulated printer's page: {printed:?}");
    let refused = api.print_referral_slip(&slip("NOPE-1")).await.expect_err("no such service");
    assert_eq!(refused.code(), "unknown_service", "{refused:?}");

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

/// Every page the simulated printer wrote under `root`.
fn printed_pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    // Bounded: the terminal's directory is a few levels deep.
    for _ in 0..10_000 {
        let Some(dir) = dirs.pop() else { break };
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "png") {
                pages.push(path);
            }
        }
    }
    pages
}

/// The QR codes on a printed page (the simulated printer's 1-bit PNG).
fn qr_codes(page: &Path) -> anyhow::Result<Vec<String>> {
    let mut decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(page).with_context(|| format!("opening {}", page.display()))?));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info()?;
    let mut buf = vec![0; reader.output_buffer_size().context("page too large")?];
    let info = reader.next_frame(&mut buf)?;
    ensure!(info.color_type == png::ColorType::Grayscale && info.bit_depth == png::BitDepth::Eight, "{}: {:?} {:?}", page.display(), info.color_type, info.bit_depth);
    let (width, height) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_bitmap(width, height, |x, y| buf[y * width + x] < 128);
    Ok(image.detect_grids().into_iter().filter_map(|g| g.decode().ok().map(|(_, text)| text)).collect())
}

/// An applicant taps their ID card, sees their status, opens the services, taps the legal aid
/// clinic and prints its referral slip, all on the kiosk's screen; the page that came out of the
/// simulated printer holds a QR code the partners' CLI verifies with the node's key.
fn a_referral_slip_printed_by_touch_verifies_with_the_partners_cli(cluster: &Cluster, runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    common::init_backend();
    let api = LocalApi::new(&cluster.terminal.socket).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (_, card_uid) = DEMO_CARDS.iter().find(|(who, _)| *who == DemoCard::Applicant).context("the demo's applicant card")?;
    runtime.block_on(api.simulator_present_id_card(card_uid, DEMO_ID_CARD.0, DEMO_ID_CARD.1)).map_err(|e| anyhow::anyhow!("present ID card: {e:?}"))?;

    let h = Harness::against_service(&cluster.terminal.socket).loaded();
    h.choose_language("en");
    h.tap("Check my status");
    h.tap("Tap my ID card on the reader");
    h.wait_until("the status", |h| h.ui.get_status_mode() != StatusMode::Card);
    ensure!(h.ui.get_status_mode() == StatusMode::Result, "the status check: {:?} {}", h.ui.get_status_mode(), h.ui.get_status_problem());
    let case_number = h.ui.get_status_result().case_number.to_string();
    h.tap("Services you may use");
    h.wait_until("the services", |h| h.ui.get_services_mode() != ServicesMode::Loading);
    ensure!(h.ui.get_services_mode() == ServicesMode::List, "the services: {:?}", h.ui.get_services_mode());
    h.tap("Free legal aid clinic");
    let before = printed_pages(&cluster.terminal.root);
    h.tap("Print a referral slip");
    h.wait_until("the slip", |h| h.ui.get_services_slip() != PrintJob::Printing);
    ensure!(h.ui.get_services_slip() == PrintJob::Printed, "the slip: {:?} {:?}", h.ui.get_services_slip(), h.ui.get_services_slip_problem());
    let page = printed_pages(&cluster.terminal.root).into_iter().find(|p| !before.contains(p)).context("the slip's page from the simulated printer")?;

    let codes = qr_codes(&page)?;
    ensure!(codes.len() == 1, "one QR code on the slip, read {codes:?}");
    let node_key = Command::new(e2e::processes::binary("provincial-node")?).args(["slips", "node-key", "--data"]).arg(&cluster.node.data).output()?;
    let node_key = String::from_utf8(node_key.stdout)?;
    let verify = Command::new(e2e::processes::binary("slip-verify")?).args(["--node-key", node_key.trim(), "--json", &codes[0]]).output()?;
    let verdict: serde_json::Value = serde_json::from_slice(&verify.stdout).with_context(|| format!("slip-verify printed: {}", String::from_utf8_lossy(&verify.stdout)))?;
    assert_eq!(verify.status.code(), Some(0), "{verdict}");
    assert_eq!(verdict["slip"]["service"], "BGD-L-0001", "{verdict}");
    assert_eq!(verdict["slip"]["reference"], case_number.as_str(), "the status check's case number: {verdict}");
    Ok(())
}
