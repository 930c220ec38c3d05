//! Referrals out across real processes (issue 14): the reference node serves its service
//! directory and endorses the terminal's key; the real terminal-service caches both at its
//! first heartbeat, lists the services of a district, and prints a referral slip on the
//! simulated printer; the QR code read back from the printed page verifies with the partners'
//! `slip-verify` binary and the key `provincial-node slips node-key` prints, and is refused
//! under another province's name.

use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use e2e::cluster::{Cluster, FAST_SYNC};
use e2e::processes::binary;
use e2e::sample::Applicant;
use e2e::wait_for;
use node_protocol::SubmissionKind;
use serde_json::{json, Value};

/// The QR codes on a printed page (the simulated printer's 1-bit PNG).
fn qr_codes(png_path: &str) -> Result<Vec<String>> {
    let mut decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png_path).with_context(|| format!("opening {png_path}"))?));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info()?;
    let mut buf = vec![0; reader.output_buffer_size().context("PNG too large")?];
    let info = reader.next_frame(&mut buf)?;
    ensure!(info.color_type == png::ColorType::Grayscale && info.bit_depth == png::BitDepth::Eight, "{png_path}: {:?} {:?}", info.color_type, info.bit_depth);
    let (width, height) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_bitmap(width, height, |x, y| buf[y * width + x] < 128);
    Ok(image.detect_grids().into_iter().filter_map(|g| g.decode().ok().map(|(_, text)| text)).collect())
}

fn slip_verify(node_key: &str, payload: &str) -> Result<(Option<i32>, Value)> {
    let out = Command::new(binary("slip-verify")?).args(["--node-key", node_key, "--json", payload]).output()?;
    let printed = serde_json::from_slice(&out.stdout).with_context(|| format!("slip-verify printed: {}", String::from_utf8_lossy(&out.stdout)))?;
    Ok((out.status.code(), printed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slip_printed_at_the_kiosk_verifies_offline_with_the_partners_cli() -> Result<()> {
    let cluster = Cluster::start(FAST_SYNC, None).await?;
    let api = cluster.api()?;

    // The first heartbeat brings the directory (the node's sample; Baghdad by default).
    let services = wait_for("the service directory at the terminal", Duration::from_secs(30), Duration::from_millis(100), || {
        let api = &api;
        async move { api.get_json("/v1/services?district=RSF").await.ok() }
    })
    .await?;
    assert_eq!(services["governorate"], "BGD", "{services}");
    let local_doc = e2e::openapi::ApiDocument::load("local-v1.yaml")?;
    local_doc.validate_response("GET", "/v1/services", 200, &services)?;
    let ids: Vec<&str> = services["services"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"BGD-H-0001") && ids.contains(&"BGD-L-0001") && !ids.contains(&"BGD-E-0001"), "{ids:?}: Resafa's and the whole governorate's, not Karkh's");
    assert_eq!(api.raw("GET", "/v1/services?governorate=XYZ", None, vec![]).await?.0, 422);

    // After an application: the slip carries its short reference.
    let id = cluster.submit_one(&api, SubmissionKind::Application, &Applicant::default()).await?;
    let slip = |body: Value| {
        let api = &api;
        async move { api.raw("POST", "/v1/referral-slips", Some("application/json"), body.to_string().into_bytes()).await }
    };
    let (status, printed) = slip(json!({"service_id": "BGD-H-0001", "language": "ckb", "submission_id": id})).await?;
    ensure!(status == 201, "{status}: {printed}");
    let printed: Value = serde_json::from_str(&printed)?;
    let codes = qr_codes(printed["png"].as_str().context("the simulated printer's page")?)?;
    ensure!(codes.len() == 1, "one QR code on the slip, read {codes:?}");
    let payload = &codes[0];
    ensure!(payload.starts_with("S1.BGD."), "{payload}");

    let node_key = String::from_utf8(
        Command::new(binary("provincial-node")?).args(["slips", "node-key", "--data"]).arg(&cluster.node.data).output()?.stdout,
    )?;
    let (code, verdict) = slip_verify(node_key.trim(), payload)?;
    assert_eq!(code, Some(0), "{verdict}");
    assert_eq!(verdict["slip"]["service"], "BGD-H-0001");
    assert_eq!(verdict["slip"]["reference"], node_protocol::reference::short_reference(&id));
    let (code, verdict) = slip_verify(&node_key.trim().replacen("BGD=", "ERB=", 1), payload)?;
    assert_eq!((code, verdict["error"].as_str()), (Some(1), Some("wrong_node")), "{verdict}");

    // Refusals the kiosk shows: an unknown service, two references at once.
    assert_eq!(slip(json!({"service_id": "NOPE-1", "language": "ar"})).await?.0, 404);
    assert_eq!(slip(json!({"service_id": "BGD-H-0001", "language": "ar", "submission_id": id, "reference": "7K2QX-M4B9R"})).await?.0, 422);
    Ok(())
}
