//! The technician's command line: the shipped configuration file documents the real defaults,
//! and a wrong key stops with a message naming it.

use std::path::PathBuf;
use std::process::Command;

fn config_check(file: &std::path::Path) -> anyhow::Result<(bool, String)> {
    let out = Command::new(e2e::processes::binary("terminal-service")?).arg("--config").arg(file).args(["config", "check"]).output()?;
    Ok((out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))))
}

#[test]
fn the_shipped_configuration_file_states_the_defaults() -> anyhow::Result<()> {
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../images/config/config.toml");
    let dir = tempfile::tempdir()?;
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "")?;
    let (ok, from_file) = config_check(&shipped)?;
    assert!(ok, "images/config/config.toml must pass `config check`: {from_file}");
    let (ok, defaults) = config_check(&empty)?;
    assert!(ok, "an empty file takes every default: {defaults}");
    assert_eq!(from_file, defaults, "images/config/config.toml must list exactly the built-in defaults");
    Ok(())
}

#[test]
fn a_misspelt_key_is_named_with_the_fix() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    for (text, key) in [
        ("[node]\nulr = \"http://127.0.0.1:1\"\n", "node.ulr"),
        ("[hardware.printer]\ndevcie = \"/dev/usb/lp0\"\n", "hardware.printer.devcie"),
        ("[sync]\nbatch_size = 0\n", "sync.batch_size"),
        ("[kiosk]\nlanguages = [\"fr\"]\n", "kiosk.languages"),
        ("[kiosk]\nstatus_checks_per_minute = 0\n", "kiosk.status_checks_per_minute"),
    ] {
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, text)?;
        let (ok, out) = config_check(&file)?;
        assert!(!ok, "{text:?} must be refused");
        assert!(out.contains(key), "the error for {text:?} must name `{key}`: {out}");
    }
    Ok(())
}
