//! The examples of `local-v1.yaml` work: every request example, sent to a real terminal-service
//! (simulated hardware) provisioned against the reference node, gets the answer the document
//! promises, its success status and a body matching the schema of that status; and every
//! response example matches its own schema. A client written from the contract succeeds on its
//! first request.
//!
//! The request examples are found by walking the document (every path × method with a request
//! example), so an example that is not sent here fails the test. Each is sent as written,
//! except the values in [`SUBSTITUTIONS`]; what an example needs beforehand (the node's
//! enrollment code, a badge on the reader, a staff session, a captured submission) is arranged
//! around it, never by editing it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use e2e::cluster::FAST_SYNC;
use e2e::local_api::LocalApi;
use e2e::openapi::{pointer_escape, ApiDocument};
use e2e::processes::{binary, free_port, NodeProcess, TerminalProcess};
use e2e::wait_for;
use serde_json::{json, Value};

const DOCUMENT: &str = "local-v1.yaml";

/// The national number on the applicant's card the ID card example reads.
const ID_CARD_NUMBER: &str = "200107230019";

/// The operations whose request examples are sent, in sending order: provisioning first (the
/// terminal starts unprovisioned), the card example before the login (a new card on the
/// reader takes the badge off), the application before the receipt that prints it, the
/// printer drill last (it leaves the printer out of paper until restored), the application's
/// pre-check after the application (its example asks about the number just submitted), the
/// referral check after provisioning (it asks the node about a typed code), the referral slip
/// after the receipt (a printout like it, for a service of the node's sample directory); the scan
/// (the terminal has the simulated scanner) anywhere; the ID card read under the staff session
/// the login example opened (the applicant's national card in place of the badge, which comes
/// back after).
const SENT: [(&str, &str); 13] = [
    ("post", "/v1/provisioning"),
    ("post", "/v1/applications"),
    ("post", "/v1/applications/precheck"),
    ("post", "/v1/referrals/check"),
    ("post", "/v1/simulator/card"),
    ("post", "/v1/sessions"),
    ("post", "/v1/id-card/read"),
    ("post", "/v1/grievances"),
    ("post", "/v1/status-checks"),
    ("post", "/v1/receipts"),
    ("post", "/v1/referral-slips"),
    ("post", "/v1/simulator/printer"),
    ("post", "/v1/simulator/scan"),
];

/// A value of an example that cannot be sent as written.
struct Substitution {
    /// Path of the operation (all are `POST`).
    path: &'static str,
    /// JSON pointer of the value inside the example.
    pointer: &'static str,
    /// Why, and what is sent instead.
    why: &'static str,
}

/// Every value this test sends differently from the document, in one place. The document's
/// request descriptions tell a client to replace the same values.
const SUBSTITUTIONS: [Substitution; 2] = [
    Substitution {
        path: "/v1/provisioning",
        pointer: "/node_url",
        why: "the example's node (a public host name) cannot be reached from a test on loopback: the URL of this test's reference node",
    },
    Substitution {
        path: "/v1/receipts",
        pointer: "/submission_id",
        why: "a submission id is chosen by the terminal at capture: the id the application example's capture answered",
    },
];

/// The reference node's sample roster (tests/provincial-node/README.md, `seed::SAMPLE_STAFF`):
/// staff id, badge card UID, PIN. The examples' staff id and PIN are looked up here to know
/// which badge to put on the simulated reader.
const SAMPLE_STAFF: [(&str, &str, &str); 3] =
    [("S-0001", "04A1B2C3D4E580", "2468"), ("S-0002", "DEADBEEF", "1357"), ("TECH-01", "04112233445566", "9024")];

/// Every request example in the document: method, path and body.
fn request_examples(doc: &Value) -> Result<Vec<(String, String, Value)>> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().context("paths")? {
        for (method, operation) in item.as_object().context("path item")? {
            let Some(content) = operation.pointer("/requestBody/content").and_then(Value::as_object) else { continue };
            for (media, body) in content {
                ensure!(body.get("examples").is_none(), "{method} {path} {media}: this test reads `example`; teach it `examples`");
                if let Some(example) = body.get("example") {
                    found.push((method.clone(), path.clone(), example.clone()));
                }
            }
        }
    }
    Ok(found)
}

/// The one 2xx status `method path` documents, and the JSON pointer of its response object.
fn success(doc: &Value, method: &str, path: &str) -> Result<(u16, String)> {
    let pointer = format!("/paths/{}/{method}/responses", pointer_escape(path));
    let responses = doc.pointer(&pointer).and_then(Value::as_object).with_context(|| format!("{method} {path}: no responses"))?;
    let successes: Vec<&String> = responses.keys().filter(|status| status.starts_with('2')).collect();
    ensure!(successes.len() == 1, "{method} {path} should document one success status, not {successes:?}");
    let status = successes[0];
    let mut response = format!("{pointer}/{status}");
    if let Some(target) = doc.pointer(&response).and_then(|r| r.get("$ref")).and_then(Value::as_str) {
        response = target.trim_start_matches('#').to_string();
    }
    Ok((status.parse()?, response))
}

/// Checks an answer against the documented success response of `method path`.
fn check_answer(api_doc: &ApiDocument, method: &str, path: &str, status: u16, text: &str) -> Result<Value> {
    let doc = api_doc.document();
    let (expected, response) = success(doc, method, path)?;
    ensure!(status == expected, "the example of {method} {path} got {status}, the document promises {expected}: {text}");
    let schema = format!("{response}/content/application~1json/schema");
    if doc.pointer(&schema).is_none() {
        ensure!(text.is_empty(), "{method} {path} {status} documents no body, but got {text}");
        return Ok(Value::Null);
    }
    let answer: Value = serde_json::from_str(text).with_context(|| format!("{method} {path} {status}: not JSON: {text}"))?;
    api_doc.validate_schema(&schema, &answer, &format!("answer to the example of {method} {path}"))?;
    Ok(answer)
}

/// Puts a card on the simulated reader and waits until the service has seen it.
async fn place_card(api: &LocalApi, card: &Value) -> Result<()> {
    take_card_off(api).await?;
    let (status, text) = api.raw("POST", "/v1/simulator/card", Some("application/json"), serde_json::to_vec(card)?).await?;
    ensure!(status == 204, "placing {card} on the reader: {status} {text}");
    card_present(api, true).await
}

async fn take_card_off(api: &LocalApi) -> Result<()> {
    let (status, text) = api.raw("DELETE", "/v1/simulator/card", None, Vec::new()).await?;
    ensure!(status == 204, "taking the card off: {status} {text}");
    card_present(api, false).await
}

async fn card_present(api: &LocalApi, present: bool) -> Result<()> {
    wait_for("the reader to see the card change", Duration::from_secs(10), Duration::from_millis(50), || {
        let api = api.clone();
        async move { api.get_json("/v1/hardware").await.ok().filter(|h| h["card_present"] == present).map(|_| ()) }
    })
    .await
}

/// Makes `staff_id` the staff member logged in at the terminal: badge on the reader, PIN.
async fn log_in(api: &LocalApi, staff_id: &str) -> Result<()> {
    let current = api.get_json("/v1/sessions/current").await.ok();
    if current.as_ref().is_some_and(|s| s["staff_id"] == staff_id) {
        return Ok(());
    }
    let (_, badge, pin) = SAMPLE_STAFF
        .iter()
        .find(|(id, _, _)| *id == staff_id)
        .with_context(|| format!("{staff_id} is not on the reference node's roster"))?;
    place_card(api, &json!({"uid": badge})).await?;
    let (status, text) = api.raw("POST", "/v1/sessions", Some("application/json"), serde_json::to_vec(&json!({"pin": pin}))?).await?;
    ensure!(status == 201, "logging {staff_id} in: {status} {text}");
    Ok(())
}

/// What each example needs before it is sent.
async fn prepare(path: &str, example: &Value, api: &LocalApi, node: &NodeProcess) -> Result<()> {
    match path {
        "/v1/provisioning" => {
            // The node operator issues the example's code.
            let code = example["code"].as_str().context("the example has a code")?;
            let out = std::process::Command::new(binary("provincial-node")?)
                .args(["issue-code", "--code", code, "--data"])
                .arg(&node.data)
                .output()?;
            ensure!(out.status.success(), "issue-code --code {code}: {}", String::from_utf8_lossy(&out.stderr));
        }
        "/v1/sessions" => {
            // The badge of the staff member whose PIN the example types.
            let pin = example["pin"].as_str().context("the example has a PIN")?;
            let (_, badge, _) =
                SAMPLE_STAFF.iter().find(|(_, _, p)| *p == pin).with_context(|| format!("no sample staff has PIN {pin}"))?;
            place_card(api, &json!({"uid": badge})).await?;
        }
        "/v1/referral-slips" => {
            // The node's directory and its endorsement of the terminal's key arrive with the
            // first heartbeat after provisioning.
            wait_for("the service directory at the terminal", Duration::from_secs(20), Duration::from_millis(100), || {
                let api = api.clone();
                async move { api.get_json("/v1/services").await.ok() }
            })
            .await?;
        }
        "/v1/id-card/read" => {
            // Staff ask for the read first (the request arms it: the badge may then leave the
            // reader without ending the session); a moment later the applicant's national card,
            // whose chip opens with the example's access number (the terminal reads both card
            // profiles), goes on the reader in the badge's place. A card swapped before the read
            // is armed ends the session, as a badge taken away does.
            let can = example.pointer("/access/can").and_then(Value::as_str).context("the example opens the chip with a CAN")?;
            let card = e2e::sample::national_card("08C3D2E3", ID_CARD_NUMBER, "2001-07-23", can, None);
            let api = api.clone();
            // If the card never arrives, the read answers 408 `no_card` and the test says so.
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                api.raw("POST", "/v1/simulator/card", Some("application/json"), serde_json::to_vec(&card).unwrap_or_default()).await
            });
        }
        "/v1/applications" | "/v1/grievances" => {
            if let Some(staff_id) = example["assisted_by"].as_str() {
                log_in(api, staff_id).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_example_gets_the_documented_answer() -> Result<()> {
    let api_doc = ApiDocument::load(DOCUMENT)?;
    let doc = api_doc.document();
    let examples = request_examples(doc)?;
    let documented: BTreeSet<(String, String)> = examples.iter().map(|(m, p, _)| (m.clone(), p.clone())).collect();
    let sent: BTreeSet<(String, String)> = SENT.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    ensure!(documented == sent, "each request example must be sent by this test (add it to SENT and give it what it needs): documented {documented:?}, sent {sent:?}");

    // A reference node and a terminal that is not provisioned yet: the provisioning example
    // enrols it.
    let dir = tempfile::Builder::new().prefix("e2e-examples-").tempdir()?;
    let node = NodeProcess::start(&dir.path().join("node"), free_port()?).await?;
    // Both card profiles: the card example is an open-profile card, the ID card read a chip.
    let mut terminal = TerminalProcess::with_hardware(&dir.path().join("terminal"), &node.url(), FAST_SYNC, "id_card_profile = \"both\"")?;
    // The simulated barcode scanner, for the scan example.
    let config = std::fs::read_to_string(&terminal.config)? + "\n[hardware.scanner]\nkind = \"simulated\"\n";
    std::fs::write(&terminal.config, config)?;
    terminal.start().await?;
    let api = terminal.api()?;

    // Values known only while the test runs, by (path, pointer) of SUBSTITUTIONS.
    let mut replacements: BTreeMap<(&str, &str), Value> = BTreeMap::new();
    replacements.insert(("/v1/provisioning", "/node_url"), Value::String(node.url()));
    let mut substituted = BTreeSet::new();
    let mut captured = Vec::new();

    for (method, path) in SENT {
        let mut body = examples.iter().find(|(m, p, _)| m == method && p == path).map(|(_, _, e)| e.clone()).context("listed")?;
        prepare(path, &body, &api, &node).await?;
        for substitution in SUBSTITUTIONS.iter().filter(|s| s.path == path) {
            let value = replacements
                .get(&(substitution.path, substitution.pointer))
                .with_context(|| format!("{path}{}: no replacement yet ({})", substitution.pointer, substitution.why))?;
            let slot =
                body.pointer_mut(substitution.pointer).with_context(|| format!("the example of {path} has no {}", substitution.pointer))?;
            *slot = value.clone();
            substituted.insert((substitution.path, substitution.pointer));
        }
        let request_schema = format!("/paths/{}/{method}/requestBody/content/application~1json/schema", pointer_escape(path));
        api_doc.validate_schema(&request_schema, &body, &format!("the example of {method} {path} as sent"))?;
        let (status, text) = api.raw(&method.to_uppercase(), path, Some("application/json"), serde_json::to_vec(&body)?).await?;
        let answer = check_answer(&api_doc, method, path, status, &text)?;

        // What follows from each answer, and what the example should have achieved.
        match path {
            "/v1/provisioning" => {
                wait_for("the forms after provisioning", Duration::from_secs(20), Duration::from_millis(100), || {
                    let api = api.clone();
                    async move { api.forms().await.ok() }
                })
                .await?;
            }
            "/v1/applications" | "/v1/grievances" => {
                let id = answer["id"].clone();
                if path == "/v1/applications" {
                    replacements.insert(("/v1/receipts", "/submission_id"), id.clone());
                }
                captured.push(id);
            }
            "/v1/applications/precheck" => {
                let submitted = examples.iter().find(|(m, p, _)| m == "post" && p == "/v1/applications").map(|(_, _, e)| &e["answers"]["national_id"]);
                ensure!(submitted == Some(&body["national_id"]), "the pre-check example asks about the application example's national id");
                ensure!(answer["sent_from_this_terminal"] == true, "the application example was just submitted from this terminal: {answer}");
                ensure!(answer["node"] != "could_not_check", "the node is up and answers the pre-check: {answer}");
            }
            "/v1/simulator/card" => take_card_off(&api).await?,
            "/v1/id-card/read" => {
                ensure!(answer["national_id"] == ID_CARD_NUMBER, "the chip opened with the example's CAN gives its number: {answer}");
                // The badge comes back within its grace period: the session goes on.
                let session = api.get_json("/v1/sessions/current").await.context("the staff session outlives the read")?;
                let (_, badge, _) = SAMPLE_STAFF
                    .iter()
                    .find(|(id, _, _)| session["staff_id"] == *id)
                    .with_context(|| format!("the session's staff member is on the sample roster: {session}"))?;
                place_card(&api, &json!({"uid": badge})).await?;
                let session = api.get_json("/v1/sessions/current").await.context("the session after the badge came back")?;
                ensure!(session["staff_id"].is_string(), "the session goes on with the badge back: {session}");
            }
            "/v1/sessions" => {
                let pin = body["pin"].as_str().unwrap_or_default();
                let staff = SAMPLE_STAFF.iter().find(|(_, _, p)| *p == pin).map(|(id, _, _)| *id);
                ensure!(answer["staff_id"].as_str() == staff, "the example's PIN logs in {staff:?}: {answer}");
            }
            "/v1/referrals/check" => {
                // The example's code is well formed but was never issued by this node's partners.
                ensure!(answer["status"] != "valid", "a code nobody issued is not valid: {answer}");
            }
            "/v1/status-checks" => {
                ensure!(answer["state"] != "not_found", "the example should name one of the reference node's sample applicants: {answer}");
            }
            "/v1/simulator/printer" => {
                // Back to a printer that prints, for whatever comes after.
                let (status, text) =
                    api.raw("POST", path, Some("application/json"), br#"{"paper":"ok","cover_open":false}"#.to_vec()).await?;
                ensure!(status == 200, "restoring the printer: {status} {text}");
            }
            _ => {}
        }
    }
    let unused: Vec<&str> = SUBSTITUTIONS.iter().filter(|s| !substituted.contains(&(s.path, s.pointer))).map(|s| s.pointer).collect();
    ensure!(unused.is_empty(), "substitutions never applied (remove them): {unused:?}");

    // The captured examples are valid for the node too: delivered and filed, none refused.
    wait_for("the outbox to drain", Duration::from_secs(30), Duration::from_millis(100), || {
        let api = api.clone();
        async move { api.queue_depth().await.ok().filter(|d| *d == 0) }
    })
    .await?;
    let queue = api.queue().await?;
    ensure!(queue["stats"]["dead_letters"] == 0, "the node refused an example: {queue}");
    let filed: BTreeSet<String> = node.submissions()?.iter().map(|s| s.id.to_string()).collect();
    for id in &captured {
        ensure!(id.as_str().is_some_and(|id| filed.contains(id)), "the node did not file {id}");
    }
    Ok(())
}

/// The schema of each event on the stream (`GET /v1/events`' description names them).
const EVENT_SCHEMAS: [(&str, &str); 7] = [
    ("queue", "QueueEvent"),
    ("connectivity", "Connectivity"),
    ("submission", "SubmissionEvent"),
    ("card", "CardEvent"),
    ("printer", "PrinterEvent"),
    ("session", "SessionEvent"),
    ("scan", "ScanEvent"),
];

/// Checks the `data:` of every event in a `text/event-stream` example against its event's schema.
fn check_event_stream(api_doc: &ApiDocument, text: &str, what: &str) -> Result<usize> {
    let mut events = 0;
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
        let (Some(event), Some(data)) = (field("event:"), field("data:")) else {
            bail!("{what}: an event without `event:` and `data:`: {block}")
        };
        let (_, schema) =
            EVENT_SCHEMAS.iter().find(|(name, _)| *name == event).with_context(|| format!("{what}: unknown event `{event}`"))?;
        let data: Value = serde_json::from_str(data).with_context(|| format!("{what}: the data of `{event}` is not JSON"))?;
        api_doc.validate_schema(&format!("/components/schemas/{schema}"), &data, &format!("{what}, event `{event}`"))?;
        events += 1;
    }
    Ok(events)
}

#[test]
fn every_response_example_matches_its_schema() -> Result<()> {
    let api_doc = ApiDocument::load(DOCUMENT)?;
    let doc = api_doc.document();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().context("paths")? {
        for (method, operation) in item.as_object().context("path item")? {
            let Some(responses) = operation.get("responses").and_then(Value::as_object) else { continue };
            for (status, response) in responses {
                let mut pointer = format!("/paths/{}/{method}/responses/{status}", pointer_escape(path));
                if let Some(target) = response.get("$ref").and_then(Value::as_str) {
                    pointer = target.trim_start_matches('#').to_string();
                }
                let Some(content) = doc.pointer(&format!("{pointer}/content")).and_then(Value::as_object) else { continue };
                for (media, body) in content {
                    ensure!(
                        body.get("examples").is_none(),
                        "{method} {path} {status} {media}: this test reads `example`; teach it `examples`"
                    );
                    let Some(example) = body.get("example") else { continue };
                    let what = format!("the {media} example of {method} {path} {status}");
                    api_doc.validate_schema(&format!("{pointer}/content/{}/schema", pointer_escape(media)), example, &what)?;
                    if media == "text/event-stream" {
                        let text = example.as_str().with_context(|| format!("{what} is not text"))?;
                        ensure!(check_event_stream(&api_doc, text, &what)? > 0, "{what} shows no event");
                    }
                    checked += 1;
                }
            }
        }
    }
    // The walk reaches the examples there are today (events, a wrong PIN, a lockout, an ID
    // card read, a printer that is not ready): it must not silently find none.
    ensure!(checked >= 5, "only {checked} response examples found");

    // And the check can fail: a wrong example is caught.
    let wrong = json!({"error": "wrong_pin", "message": "x", "attempts_left": -1});
    ensure!(api_doc.validate_schema("/components/schemas/ErrorBody", &wrong, "a wrong example").is_err());
    ensure!(check_event_stream(&api_doc, "event: printer\ndata: {\"state\":\"on_fire\"}\n", "a wrong stream").is_err());
    Ok(())
}
