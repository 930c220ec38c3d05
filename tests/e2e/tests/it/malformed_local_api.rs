//! Malformed requests on the local API get a 4xx with a message, never a crash, and lose
//! nothing already saved.

use std::io::Write;
use std::os::unix::net::UnixStream;

use e2e::cluster::{Cluster, FAST_SYNC};
use e2e::processes::NodeProcess;
use e2e::sample::Applicant;
use node_protocol::SubmissionKind;
use serde_json::Value;

/// What is wrong, method, path, content type and body of one malformed request.
type Case = (&'static str, &'static str, &'static str, Option<&'static str>, Vec<u8>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_clear_4xx_and_nothing_is_lost() -> anyhow::Result<()> {
    let mut cluster = Cluster::start(FAST_SYNC, None).await?;
    let api = cluster.api()?;
    let (data, port) = (cluster.node.data.clone(), cluster.node.port);
    cluster.node.stop();
    let saved = cluster.submit_one(&api, SubmissionKind::Application, &Applicant::default()).await?;

    let form = cluster.forms.form(SubmissionKind::Application)?;
    let valid = e2e::sample::answers(form, &cluster.forms.master_data, &Applicant::default());
    let mut unknown_field = valid.clone();
    unknown_field["favourite_colour"] = Value::String("blue".into());
    let mut wrong_type = valid.clone();
    let first_field = form.steps[0].fields[0].id.clone();
    wrong_type[&first_field] = serde_json::json!({"nested": [1, 2, 3]});
    let json = |v: Value| serde_json::to_vec(&v).expect("serialisable");

    let cases: Vec<Case> = vec![
        ("not JSON", "POST", "/v1/applications", Some("application/json"), b"{not json".to_vec()),
        ("wrong content type", "POST", "/v1/applications", Some("text/plain"), json(serde_json::json!({"language": "ar", "answers": valid}))),
        ("missing answers", "POST", "/v1/applications", Some("application/json"), json(serde_json::json!({"language": "ar"}))),
        ("unknown language", "POST", "/v1/applications", Some("application/json"), json(serde_json::json!({"language": "xx", "answers": valid}))),
        ("unknown field", "POST", "/v1/applications", Some("application/json"), json(serde_json::json!({"language": "ar", "answers": unknown_field}))),
        ("wrong type", "POST", "/v1/applications", Some("application/json"), json(serde_json::json!({"language": "ar", "answers": wrong_type}))),
        ("empty answers", "POST", "/v1/grievances", Some("application/json"), json(serde_json::json!({"language": "en", "answers": {}}))),
        ("answers not an object", "POST", "/v1/applications", Some("application/json"), json(serde_json::json!({"language": "ar", "answers": [1]}))),
        ("oversize body", "POST", "/v1/applications", Some("application/json"), vec![b' '; 2 << 20]),
        ("garbage status query", "POST", "/v1/status-checks", Some("application/json"), json(serde_json::json!({"query": {"by": "horoscope"}}))),
        ("unknown route", "GET", "/v1/nothing-here", None, Vec::new()),
        ("wrong method", "DELETE", "/v1/applications", None, Vec::new()),
    ];
    for (what, method, path, ct, body) in cases {
        let (status, text) = api.raw(method, path, ct, body).await?;
        assert!((400..500).contains(&status), "{what}: expected 4xx, got {status}: {text}");
        let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let message = parsed["message"].as_str().unwrap_or("");
        assert!(parsed["error"].is_string() && !message.is_empty(), "{what}: the answer must carry an error and a message: {text}");
    }

    // Not even HTTP.
    {
        let mut raw = UnixStream::connect(&cluster.terminal.socket)?;
        raw.write_all(b"\x00\x01\x02 HELLO\r\n\r\n\xff\xfe")?;
    }

    assert!(cluster.terminal.is_running(), "the service must survive malformed input");
    api.health().await?;
    assert_eq!(api.queue_depth().await?, 1, "nothing saved is lost, nothing bad was saved");
    cluster.node = NodeProcess::start(&data, port).await?;
    cluster.wait_drained(std::time::Duration::from_secs(60)).await?;
    cluster.assert_exactly_once(&std::collections::HashSet::from([saved]), &Default::default())?;
    Ok(())
}
