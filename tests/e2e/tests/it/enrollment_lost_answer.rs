//! Enrollment whose answer is lost on the way back: the node committed it, the terminal never
//! heard. The technician retries with the same code and it works (the terminal sends the same
//! key again and the node answers as the first time); another terminal with that used code is
//! still refused.

use e2e::fault_proxy::{Fault, FaultProxy};
use e2e::processes::{free_port, NodeProcess, TerminalProcess};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_with_the_same_code_enrolls_after_the_answer_was_lost() -> anyhow::Result<()> {
    let dir = tempfile::Builder::new().prefix("e2e-enroll-").tempdir()?;
    let node = NodeProcess::start(&dir.path().join("node"), free_port()?).await?;
    let proxy = FaultProxy::start(&node.url(), &["/v1/terminals/enroll"], 1).await?;
    let terminal = TerminalProcess::new(&dir.path().join("terminal"), &proxy.url(), "")?;
    let code = node.issue_code()?;

    proxy.script(&[Fault::DropAck]);
    let first = terminal.cli(&["provision", "--node", &proxy.url(), "--code", &code])?;
    assert!(!first.status.success(), "the answer was lost, so the first attempt must fail: {}", String::from_utf8_lossy(&first.stdout));
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "one enrollment request reached the proxy");
    assert_eq!(seen[0].response.as_ref().map(|r| r.0), Some(200), "the node committed the enrollment before the answer was cut");
    assert_eq!(node.stats()?["terminals"], 1, "the node registered the terminal");

    // The technician tries again with the same code.
    terminal.provision(&proxy.url(), &code)?;
    let status = terminal.cli(&["status"])?;
    let text = String::from_utf8_lossy(&status.stdout).to_string();
    let first_id = serde_json::from_slice::<serde_json::Value>(&seen[0].response.as_ref().expect("answered").1)?["terminal_id"]
        .as_str()
        .expect("terminal_id")
        .to_string();
    assert!(text.contains(&first_id), "the terminal is enrolled as the node registered it first ({first_id}): {text}");
    assert_eq!(node.stats()?["terminals"], 1, "the retry registered nothing new");

    // Another terminal (another key) with the used code is refused.
    let other = TerminalProcess::new(&dir.path().join("other"), &node.url(), "")?;
    let refused = other.cli(&["provision", "--node", &node.url(), "--code", &code])?;
    let said = format!("{}{}", String::from_utf8_lossy(&refused.stdout), String::from_utf8_lossy(&refused.stderr));
    assert!(!refused.status.success() && said.contains("already used"), "{said}");
    assert_eq!(node.stats()?["terminals"], 1);
    Ok(())
}
