//! The README's demo command runs to the end: headquarters on PostgreSQL, node, provisioned
//! terminal, submissions in three languages, receipts printed as PNG files by the simulated
//! printer, the early duplicate warning and the node's flag, status checks.

use std::process::Command;

#[test]
fn the_demo_walks_through_and_prints_receipts() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let out = Command::new(e2e::processes::binary("kiosk-demo")?)
        .args(["--once", "--no-ui", "--dir"])
        .arg(dir.path().join("demo"))
        .output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the demo failed:\n{text}");
    let receipts: Vec<_> = text.lines().filter_map(|l| l.split("receipt printed → ").nth(1)).collect();
    assert_eq!(receipts.len(), 4, "one receipt per sample submission:\n{text}");
    assert!(text.contains("headquarters       http://127.0.0.1:"), "headquarters runs:\n{text}");
    assert!(
        text.contains(r#"pre-check of the same national id → 200 {"sent_from_this_terminal":true,"node":"registered"}"#),
        "the repeated applicant is recognised before submitting:\n{text}"
    );
    assert!(text.contains("  duplicate  (waiting for review)"), "the node flags the repeated application for review:\n{text}");
    for png in receipts {
        let bytes = std::fs::read(png.trim())?;
        assert!(bytes.starts_with(b"\x89PNG"), "{png} is not a PNG");
    }
    assert!(text.contains("→ 200 active"), "the seeded applicant's status is shown:\n{text}");
    assert!(text.contains("→ 200 received"), "the new application is found by reference and date of birth:\n{text}");
    assert!(text.contains("→ 200 not_found"), "a wrong date of birth finds nothing:\n{text}");
    Ok(())
}

#[test]
fn the_demo_can_leave_provisioning_to_the_technician_screen() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let out = Command::new(e2e::processes::binary("kiosk-demo")?)
        .args(["--once", "--no-ui", "--provision-in-ui", "--dir"])
        .arg(dir.path().join("demo"))
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "the demo failed:\n{text}{}", String::from_utf8_lossy(&out.stderr));
    let url = text.lines().find_map(|l| l.trim().strip_prefix("node URL")).map(str::trim);
    let code = text.lines().find_map(|l| l.trim().strip_prefix("code")).map(str::trim);
    assert!(url.is_some_and(|u| u.starts_with("http://127.0.0.1:")), "the node URL is printed:\n{text}");
    assert!(code.is_some_and(|c| c.len() >= 12), "an enrollment code is printed:\n{text}");
    assert!(!dir.path().join("demo/terminal/state/enrollment.json").exists(), "the terminal is left unprovisioned");
    Ok(())
}
