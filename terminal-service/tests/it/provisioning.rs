//! Provisioning against a stub node, and the heartbeat that keeps the configuration current.


use std::sync::Arc;
use std::time::Duration;

use crate::common::stub_node::StubNode;
use crate::common::{eventually, node_config, Fixture};
use terminal_service::delivery::heartbeat;
use terminal_service::startup::identity::Enrollment;
use terminal_service::startup::node_config::load_cached;
use terminal_service::startup::provision::{provision, ProvisionError, ProvisionRequest};
use terminal_service::terminal::Terminal;
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_enrolls_caches_the_config_and_refuses_a_second_time_unless_forced() {
    let node = StubNode::start(age::x25519::Identity::generate()).await;
    node.set_config(node_config());
    node.issue_code("CODE-1");
    let fixture = Fixture::unprovisioned();
    let terminal = fixture.open();
    let request = |code: &str, force| ProvisionRequest { node_url: format!("{}/", node.url), code: code.into(), force, node_fingerprint: None, allow_insecure_http: false };

    let (outcome, config) = provision(&terminal.config, &terminal.storage, terminal.http(), &request("CODE-1", false)).await.unwrap();
    assert_eq!(outcome.terminal_id, "T-STUB0001");
    assert_eq!(outcome.config_version.as_deref(), Some("cfg-1"));
    assert!(config.is_some());
    let dir = &terminal.config.storage.dir;
    let enrollment = Enrollment::load(dir).unwrap().unwrap();
    assert_eq!((enrollment.node_id.as_str(), enrollment.node_url.as_str()), ("node-stub", node.url.as_str()));
    assert_eq!(load_cached(dir).unwrap().unwrap().version, "cfg-1");
    assert!(!dir.join("provisioning").exists(), "the staging directory is cleaned up");

    // Again, without --force: refused, nothing changes.
    node.issue_code("CODE-2");
    let err = provision(&terminal.config, &terminal.storage, terminal.http(), &request("CODE-2", false)).await.unwrap_err();
    assert!(matches!(err, ProvisionError::AlreadyProvisioned { .. }), "{err}");
    assert!(err.to_string().contains("--force"));

    // A refused code with --force leaves the working identity intact.
    let err = provision(&terminal.config, &terminal.storage, terminal.http(), &request("WRONG", true)).await.unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    assert_eq!(Enrollment::load(dir).unwrap().unwrap().terminal_id, "T-STUB0001");
    let key_before = std::fs::read(dir.join("terminal.key")).unwrap();

    // Forced with a valid code: a new key and a new terminal id.
    let (outcome, _) = provision(&terminal.config, &terminal.storage, terminal.http(), &request("CODE-2", true)).await.unwrap();
    assert_eq!(outcome.terminal_id, "T-STUB0002");
    assert_ne!(std::fs::read(dir.join("terminal.key")).unwrap(), key_before, "re-enrollment uses a new key");

    let actions: Vec<String> = terminal.storage.audit_log(|a| a.recent(100)).await.unwrap().into_iter().rev().map(|e| e.action).collect();
    for expected in ["key_generated", "enrolled", "config_cached", "reprovision_forced", "enroll_failed"] {
        assert!(actions.iter().any(|a| a == expected), "audit has {expected}: {actions:?}");
    }
    terminal.storage.audit_log(|a| a.verify()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_report_health_and_fetch_a_new_configuration() {
    let identity = age::x25519::Identity::generate();
    let node = StubNode::start(identity.clone()).await;
    let mut newer = node_config();
    newer.version = "cfg-2".into();
    newer.forms[0].version = "app-2".into();
    node.set_config(newer);
    let fixture = Fixture::provisioned_for(&node.url, identity);
    let terminal: Arc<Terminal> = fixture.open();
    assert_eq!(terminal.node_config().unwrap().version, "cfg-1");
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(heartbeat::run(Arc::clone(&terminal), stopped));
    eventually("the new configuration", Duration::from_secs(5), || async { terminal.node_config().unwrap().version == "cfg-2" }).await;
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap();
    let beats = node.heartbeats();
    assert!(!beats.is_empty());
    // The fixture's devices are the simulated ones, which work.
    assert_eq!((beats[0].queue_depth, beats[0].printer.as_str(), beats[0].reader.as_str()), (0, "ok", "ok"));
    assert!(beats[0].disk_free_bytes > 0);
    assert_eq!(load_cached(&terminal.config.storage.dir).unwrap().unwrap().version, "cfg-2", "cached on disk too");
    assert!(terminal.diagnostics.lock().unwrap().last_heartbeat_at.is_some());
}
