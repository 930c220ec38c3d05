//! Partner referrals across processes (issue 14): a partner's key trusted by the node, referrals
//! issued with the CLI and through the partners' signed API, looked up by a terminal, carried by
//! applications as a terminal sends them, and counted per partner; refused (never the
//! application) when expired, forged, of an unknown partner, or used before — in another
//! province too, through headquarters on a real PostgreSQL, claimed late when headquarters was
//! down at filing time.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use node_protocol::referral::Referral;
use node_protocol::AttachedReferral;
use pg_cluster::TemporaryCluster;
use serde_json::{json, Value};

use crate::common::{json as read_json, new_key, nonce, now, post_signed, random_national_id, run_cli, run_ok, send_signed_to, EnrolledNode, ServeProcess};

/// Files one application carrying `referral`, assisted by staff, as a terminal seals and
/// signs it (always `accepted`: a referral never refuses an application).
async fn file(node: &EnrolledNode, first_name: &str, referral: Option<AttachedReferral>) -> Value {
    let answers = json!({
        "national_id": random_national_id(),
        "first_name": first_name, "father_name": "جبار", "grandfather_name": "كريم", "family_name": "الساعدي",
        "mother_name": "هدى رضا", "date_of_birth": "1979-04-02", "gender": "female",
        "governorate": "BGD", "district": "KDH", "category": "poor_household", "household_size": 5
    });
    node.file(answers, Some("S-0001"), referral).await
}

/// The terminal's look-up of a referral code.
async fn lookup(node: &EnrolledNode, code: &str) -> (u16, Value) {
    let path = format!("/v1/referrals/{code}");
    read_json(send_signed_to(&node.base, &node.key, &node.terminal_id, "GET", &path, b"", now(), &nonce()).await).await
}

/// A partner key made with the CLI, trusted by the node at `data`: (key file, public key).
fn trusted_partner(dir: &Path, code: &str, data: &str) -> (String, String) {
    let key_file = dir.join(format!("{code}.key")).to_str().unwrap().to_string();
    let public = run_ok(&["partners", "new-key", "--key-file", &key_file]).trim().to_string();
    let (ok, _, stderr) = run_cli(&["partners", "new-key", "--key-file", &key_file]);
    assert!(!ok && stderr.contains("never overwritten"), "an existing key is kept: {stderr}");
    run_ok(&["partners", "add", code, "--key", &public, "--name", "World Food Programme", "--data", data]);
    (key_file, public)
}

/// `referrals issue --json` with `args` after the partner's: (code, payload).
fn issue(data: &str, partner: &str, key_file: &str, args: &[&str]) -> (String, String) {
    let mut all = vec!["referrals", "issue", "--data", data, "--partner", partner, "--key-file", key_file, "--json"];
    all.extend_from_slice(args);
    let issued: Value = serde_json::from_str(&run_ok(&all)).expect("issue --json prints JSON");
    (issued["code"].as_str().unwrap().to_string(), issued["payload"].as_str().unwrap().to_string())
}

fn attached(code: &str, payload: Option<&str>) -> Option<AttachedReferral> {
    Some(AttachedReferral { code: code.to_string(), payload: payload.map(str::to_string) })
}

fn report(data: &str) -> Value {
    serde_json::from_str(&run_ok(&["referrals", "report", "--data", data, "--json"])).expect("report --json prints JSON")
}

fn line<'a>(report: &'a Value, partner: &str) -> &'a Value {
    report.as_array().unwrap().iter().find(|l| l["partner"] == partner).unwrap_or_else(|| panic!("no {partner} in {report}"))
}

fn signed_by(key: &SigningKey, partner: &str, issued_on: NaiveDate) -> (String, String) {
    let signed = Referral {
        partner: partner.into(),
        serial: rand::random::<u64>() & node_protocol::referral::MAX_SERIAL,
        issued_on,
        expires_on: issued_on + chrono::Days::new(60),
        household_size: 3,
        governorate: "BGD".into(),
        partner_case: "CASE-77".into(),
    }
    .sign(key)
    .unwrap();
    (signed.referral.short_code(), signed.payload())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referrals_are_issued_used_once_counted_and_refused_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let data = data.to_str().unwrap();
    let (wfp_key_file, _) = trusted_partner(dir.path(), "WFP", data);
    let wfp_key = provincial_node::referrals::load_key_file(Path::new(&wfp_key_file)).unwrap();
    let baghdad = EnrolledNode::start(data, &["--province", "Baghdad"]).await;

    // Issued with the partner's CLI while the node runs, with its QR code as an image.
    let png = dir.path().join("referral.png");
    let (code, payload) = issue(
        data,
        "WFP",
        &wfp_key_file,
        &["--household-size", "5", "--governorate", "BGD", "--case-number", "irq-bgd-0001", "--valid-days", "30", "--qr-png", png.to_str().unwrap()],
    );
    assert!(code.starts_with("WFP-") && payload.starts_with("R1.WFP.") && payload.contains(".5.BGD.IRQ-BGD-0001."), "{code} {payload}");
    let image = std::fs::read(&png).expect("the QR image is written");
    assert_eq!(&image[..8], b"\x89PNG\r\n\x1a\n");

    // The node's configuration carries the partners' keys: a kiosk verifies a scanned slip offline.
    let (status, config) = read_json(send_signed_to(&baghdad.base, &baghdad.key, &baghdad.terminal_id, "GET", "/v1/config", b"", now(), &nonce()).await).await;
    assert_eq!(status, 200, "{config}");
    let config: node_protocol::NodeConfig = serde_json::from_value(config).unwrap();
    let trusted = node_protocol::ReferralPartner::trusted(&config.referral_partners);
    let offline = node_protocol::referral::verify(&payload.to_lowercase(), &trusted, provincial_node::referrals::today()).expect("verifies offline");
    assert_eq!((offline.referral.household_size, offline.referral.short_code()), (5, code.clone()));

    // A kiosk online looks the typed code up to prefill the application.
    let (status, found) = lookup(&baghdad, &code.to_lowercase()).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!((found["usable"].as_bool(), found["household_size"].as_u64()), (Some(true), Some(5)), "{found}");
    assert_eq!((found["governorate"].as_str(), found["partner_case"].as_str()), (Some("BGD"), Some("IRQ-BGD-0001")));
    assert_eq!(found["payload"], payload.as_str());
    let never_issued = node_protocol::referral::ShortCode { partner: "WFP".into(), serial: 1 }.to_string();
    let (status, body) = lookup(&baghdad, &never_issued).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("referral_unknown")), "{body}");
    let (status, body) = lookup(&baghdad, "nonsense").await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_referral_code")), "{body}");

    // Typed at the kiosk offline (code only): the node finds it, and it is used once.
    let used = file(&baghdad, "سعاد", attached(&code.to_lowercase(), None)).await;
    assert_eq!(used["referral_check"], json!({ "code": code, "status": "accepted", "headquarters": "not_configured" }), "{used}");
    let again = file(&baghdad, "مريم", attached(&code, Some(&payload))).await;
    assert_eq!(again["referral_check"]["status"], "refused", "{again}");
    assert_eq!(again["referral_check"]["reason"], "already_used", "{again}");
    // Both answers are what node-v1.yaml documents.
    let doc = crate::openapi::document();
    for result in [&used, &again] {
        crate::openapi::validate(&doc, &json!({ "$ref": "#/components/schemas/SubmissionResult" }), result, "a result with a referral check");
    }
    let (_, found) = lookup(&baghdad, &code).await;
    assert_eq!((found["usable"].as_bool(), found["reason"].as_str()), (Some(false), Some("already_used")), "{found}");

    // Expired: issued long ago for ten days.
    let (old_code, old_payload) = issue(
        data,
        "WFP",
        &wfp_key_file,
        &["--household-size", "2", "--governorate", "BGD", "--case-number", "IRQ-OLD-1", "--valid-days", "10", "--issued-on", "2025-01-05"],
    );
    let expired = file(&baghdad, "نور", attached(&old_code, Some(&old_payload))).await;
    assert_eq!((expired["referral_check"]["status"].as_str(), expired["referral_check"]["reason"].as_str()), (Some("refused"), Some("expired")), "{expired}");

    // Forged: a WFP referral signed by someone else's key. The node will not record it either.
    let forger = new_key();
    let today = provincial_node::referrals::today();
    let (forged_code, forged_payload) = signed_by(&forger, "WFP", today);
    let forged = file(&baghdad, "هدى", attached(&forged_code, Some(&forged_payload))).await;
    assert_eq!(forged["referral_check"]["reason"], "signature_invalid", "{forged}");
    let forger_file = dir.path().join("forger.key");
    std::fs::write(&forger_file, format!("{}\n", STANDARD.encode(forger.to_bytes()))).unwrap();
    let (ok, _, stderr) = run_cli(&[
        "referrals", "issue", "--data", data, "--partner", "WFP", "--key-file", forger_file.to_str().unwrap(),
        "--household-size", "1", "--governorate", "BGD", "--case-number", "X-1",
    ]);
    assert!(!ok && stderr.contains("signature is not partner WFP's"), "{stderr}");

    // Unknown partner: signed by a partner this node does not trust.
    let (stranger_code, stranger_payload) = signed_by(&new_key(), "UNHCR", today);
    let stranger = file(&baghdad, "زهراء", attached(&stranger_code, Some(&stranger_payload))).await;
    assert_eq!(stranger["referral_check"]["reason"], "unknown_partner", "{stranger}");

    // An application without a referral, as older terminals send, gets no referral check.
    let plain = file(&baghdad, "رقية", None).await;
    assert!(plain.get("referral_check").is_none(), "{plain}");

    // The partners' API, signed with the partner's referral key.
    let (api_code, api_payload) = signed_by(&wfp_key, "WFP", today);
    let (status, recorded) = post_signed(&baghdad.base, &wfp_key, "WFP", "/v1/partners/referrals", &json!({ "payload": api_payload })).await;
    assert_eq!((status, recorded["code"].as_str()), (201, Some(api_code.as_str())), "{recorded}");
    let (status, body) = post_signed(&baghdad.base, &wfp_key, "WFP", "/v1/partners/referrals", &json!({ "payload": api_payload })).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("serial_used")), "{body}");
    let (status, body) = post_signed(&baghdad.base, &wfp_key, "WFP", "/v1/partners/referrals", &json!({ "payload": stranger_payload })).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("foreign_partner")), "{body}");
    let (status, body) = post_signed(&baghdad.base, &forger, "WFP", "/v1/partners/referrals", &json!({ "payload": forged_payload })).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("signature_invalid")), "{body}");
    let (status, body) = post_signed(&baghdad.base, &new_key(), "UNHCR", "/v1/partners/referrals", &json!({ "payload": stranger_payload })).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unknown_key")), "{body}");
    // The partner's CLI over that API.
    let issued_remotely = run_ok(&[
        "referrals", "issue", "--node", &baghdad.base, "--partner", "WFP", "--key-file", &wfp_key_file,
        "--household-size", "7", "--governorate", "NIN", "--case-number", "IRQ-NIN-9",
    ]);
    let remote_code = issued_remotely.lines().next().unwrap().to_string();
    assert_eq!(lookup(&baghdad, &remote_code).await.1["household_size"], 7, "{issued_remotely}");

    // The report, per partner: four issued (CLI twice, API, CLI over the API), one used (and
    // transitioned: its applicant matched nobody), refusals by reason.
    let report = report(data);
    let wfp = line(&report, "WFP");
    assert_eq!((wfp["issued"].as_u64(), wfp["used"].as_u64(), wfp["transitioned"].as_u64(), wfp["refused"].as_u64()), (Some(4), Some(1), Some(1), Some(3)), "{report}");
    assert_eq!(wfp["refused_by_reason"], json!({ "already_used": 1, "expired": 1, "signature_invalid": 1 }), "{report}");
    let unhcr = line(&report, "UNHCR");
    assert_eq!((unhcr["issued"].as_u64(), unhcr["refused_by_reason"].clone()), (Some(0), json!({ "unknown_partner": 1 })), "{report}");
    let (status, own) = read_json(send_signed_to(&baghdad.base, &wfp_key, "WFP", "GET", "/v1/partners/report", b"", now(), &nonce()).await).await;
    assert_eq!((status, &own), (200, wfp), "a partner reads its own line");
    let table = run_ok(&["referrals", "report", "--data", data, "--partner", "wfp"]);
    assert!(table.lines().nth(1).is_some_and(|l| l.starts_with("WFP")) && !table.contains("UNHCR"), "{table}");

    let shown: Value = serde_json::from_str(&run_ok(&["referrals", "show", &code, "--data", data])).unwrap();
    assert_eq!(shown["recorded"]["partner_case"], "IRQ-BGD-0001", "{shown}");
    let uses: Vec<(&str, Option<&str>)> =
        shown["uses"].as_array().unwrap().iter().map(|u| (u["status"].as_str().unwrap(), u["reason"].as_str())).collect();
    assert_eq!(uses, [("accepted", None), ("refused", Some("already_used"))], "{shown}");
    let (ok, _, stderr) = run_cli(&["referrals", "show", &never_issued, "--data", data]);
    assert!(!ok && stderr.contains("neither issued nor seen"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_used_in_one_province_is_refused_in_another_through_headquarters() {
    let cluster = TemporaryCluster::start().expect("PostgreSQL 15 (postgresql-15) starts");
    let postgres = cluster.create_database("headquarters").expect("create the registry");
    let dir = tempfile::tempdir().unwrap();
    let basra_data = dir.path().join("basra");
    let nineveh_data = dir.path().join("nineveh");
    let (basra_data, nineveh_data) = (basra_data.to_str().unwrap(), nineveh_data.to_str().unwrap());
    let basra_key = run_ok(&["headquarters", "node-key", "--data", basra_data, "--province", "Basra"]);
    let nineveh_key = run_ok(&["headquarters", "node-key", "--data", nineveh_data, "--province", "Nineveh"]);
    let hq_address = format!("127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    let hq_url = format!("http://{hq_address}");

    // Both provinces trust WFP; the referral is issued through Basra's node.
    let (key_file, public) = trusted_partner(dir.path(), "WFP", basra_data);
    run_ok(&["partners", "add", "WFP", "--key", &public, "--data", nineveh_data]);
    let (code, payload) = issue(basra_data, "WFP", &key_file, &["--household-size", "4", "--governorate", "NIN", "--case-number", "IRQ-NIN-42"]);
    let recheck = ["--recheck-seconds", "1"];
    let basra = EnrolledNode::start(basra_data, &["--province", "Basra", "--headquarters", &hq_url, recheck[0], recheck[1]]).await;
    let nineveh = EnrolledNode::start(nineveh_data, &["--province", "Nineveh", "--headquarters", &hq_url, recheck[0], recheck[1]]).await;

    // The household moved: Nineveh's kiosk scans the QR code first, while headquarters is down.
    // The referral is taken, not yet confirmed across provinces.
    let first = file(&nineveh, "سعاد", attached(&code, Some(&payload))).await;
    assert_eq!(first["referral_check"], json!({ "code": code, "status": "accepted", "headquarters": "not_checked" }), "{first}");
    let _headquarters = ServeProcess::start_command(&[
        "headquarters", "serve", "--listen", &hq_address, "--postgres", &postgres,
        "--trust-node", basra_key.trim(), "--trust-node", nineveh_key.trim(),
    ]);
    // Nineveh claims it again (every second here) once headquarters is up.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let shown: Value = serde_json::from_str(&run_ok(&["referrals", "show", &code, "--data", nineveh_data])).unwrap();
        if shown["uses"][0]["headquarters"] == "checked" {
            assert_eq!(shown["uses"][0]["status"], "accepted", "{shown}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "Nineveh's referral was never claimed at headquarters: {shown}");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }

    // Basra knows nothing of that use locally; headquarters does.
    let second = file(&basra, "مريم", attached(&code, None)).await;
    assert_eq!(
        second["referral_check"],
        json!({ "code": code, "status": "refused", "reason": "already_used", "headquarters": "checked" }),
        "{second}"
    );

    let basra_wfp = report(&basra.data);
    let basra_wfp = line(&basra_wfp, "WFP");
    assert_eq!((basra_wfp["issued"].as_u64(), basra_wfp["used"].as_u64()), (Some(1), Some(0)), "{basra_wfp}");
    assert_eq!(basra_wfp["refused_by_reason"], json!({ "already_used": 1 }), "{basra_wfp}");
    let nineveh_wfp = report(&nineveh.data);
    let nineveh_wfp = line(&nineveh_wfp, "WFP");
    assert_eq!((nineveh_wfp["issued"].as_u64(), nineveh_wfp["used"].as_u64()), (Some(0), Some(1)), "{nineveh_wfp}");
}
