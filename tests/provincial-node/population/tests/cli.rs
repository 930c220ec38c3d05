//! The `population` binary: writes the TSV it promises, and refuses bad arguments plainly.

use std::process::Command;

fn population() -> Command {
    Command::new(env!("CARGO_BIN_EXE_population"))
}

#[test]
fn writes_registry_and_applications_with_their_truth() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("population.tsv");
    let status = population().args(["--persons", "2000", "--seed", "3", "--out"]).arg(&out).status().unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), population::tsv::COLUMNS.join("\t"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == population::tsv::COLUMNS.len()));
    assert_eq!(rows.iter().filter(|r| r[0] == "registry").count(), 2000);
    assert_eq!(rows.iter().filter(|r| r[0] == "application").count(), 200);
    // Every duplicate names the registered case it duplicates, and that case exists.
    let cases: std::collections::HashSet<&str> = rows.iter().filter(|r| r[0] == "registry").map(|r| r[1]).collect();
    for r in rows.iter().filter(|r| r[4] != "original") {
        assert!(cases.contains(r[5]), "{r:?}");
    }
    let again = dir.path().join("again.tsv");
    population().args(["--persons", "2000", "--seed", "3", "--out"]).arg(&again).status().unwrap();
    assert_eq!(std::fs::read(&again).unwrap(), text.as_bytes());
}

#[test]
fn refuses_a_rate_that_is_not_a_share() {
    let dir = tempfile::tempdir().unwrap();
    let output = population()
        .args(["--persons", "100", "--duplicate-rate", "3", "--out"])
        .arg(dir.path().join("x.tsv"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--duplicate-rate 3 is not a share"), "{stderr}");
}
