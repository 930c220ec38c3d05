//! What `images/` ships, checked without building an image (the boot test does that): the
//! units stay as hardened as `images/README.md` records, the manual pages name every command,
//! the shell the packages run parses, and `terminal-service-allow-node` writes the drop-in it
//! promises and refuses what it cannot use.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `systemd-analyze security --offline=yes` on the unit file alone, as the contract check does.
fn exposure(unit: &Path) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let name = unit.file_name().context("unit file name")?;
    std::fs::copy(unit, dir.path().join(name))?;
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes"])
        .arg(name)
        .current_dir(dir.path())
        .output()
        .context("running systemd-analyze (Debian's systemd package; tests/scripts/install-deps.sh installs it)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains("Overall exposure level")).with_context(|| format!("no exposure level for {name:?}: {text}{}", String::from_utf8_lossy(&out.stderr)))?;
    let score = line.rsplit(':').next().and_then(|s| s.split_whitespace().next()).context("exposure figure")?;
    Ok(score.parse()?)
}

/// The figure images/README.md records for `unit`: a table row `| unit | figure | … |`.
fn recorded(unit: &str) -> Result<f64> {
    let readme = std::fs::read_to_string(repo().join("images/README.md"))?;
    for line in readme.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 3 && cells[1] == format!("`{unit}`") {
            return cells[2].trim_matches('*').parse().with_context(|| format!("exposure of {unit} in images/README.md: '{}'", cells[2]));
        }
    }
    bail!("images/README.md records no exposure for {unit} (a table row | `{unit}` | figure | … |)")
}

#[test]
fn units_are_as_hardened_as_recorded_and_within_the_limits() -> Result<()> {
    for (unit, limit) in [("terminal-service.service", 2.0), ("kiosk.service", 3.5), ("provincial-node.service", 2.0)] {
        let now = exposure(&repo().join("images/systemd").join(unit))?;
        let written = recorded(unit)?;
        assert!(now <= limit, "{unit}: exposure {now} is above the agreed {limit}");
        assert!(
            now <= written + 1e-9,
            "{unit}: exposure {now} is worse than the {written} recorded in images/README.md: harden the unit again, or record the new figure with the reason"
        );
    }
    Ok(())
}

/// The commands `--help` lists under "Commands:", without clap's own `help`.
fn commands(binary: &str) -> Result<Vec<String>> {
    let out = Command::new(e2e::processes::binary(binary)?).arg("--help").output()?;
    let text = String::from_utf8(out.stdout)?;
    let section = text.split("Commands:").nth(1).context("no Commands: section")?;
    Ok(section
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect())
}

#[test]
fn the_manual_pages_name_every_command() -> Result<()> {
    for (binary, page) in [("terminal-service", "terminal-service.1"), ("provincial-node", "provincial-node.1")] {
        let text = std::fs::read_to_string(repo().join("images/man").join(page))?;
        let listed = commands(binary)?;
        assert!(listed.len() >= 4, "{binary} --help lists too few commands: {listed:?}");
        for c in listed {
            assert!(text.contains(&format!(".B {c}")) || text.contains(&format!(".B {}", c.replace('-', "\\-"))), "images/man/{page} does not describe `{binary} {c}`");
        }
    }
    Ok(())
}

#[test]
fn the_shell_the_packages_run_parses() -> Result<()> {
    let mut scripts = vec![repo().join("images/sbin/terminal-service-allow-node"), repo().join("images/customize-rootfs")];
    for dir in ["images/debian/terminal-service", "images/debian/kiosk", "images/debian/provincial-node", "images/rootfs/usr/sbin", "images/rootfs/usr/lib/terminal-image"] {
        for entry in std::fs::read_dir(repo().join(dir))? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if ["postinst", "prerm", "postrm", "preinst"].contains(&name) || dir.contains("rootfs") {
                scripts.push(path);
            }
        }
    }
    assert!(scripts.len() >= 8, "fewer scripts than expected: {scripts:?}");
    for script in scripts {
        let out = Command::new("sh").arg("-n").arg(&script).output()?;
        assert!(out.status.success(), "{}: {}", script.display(), String::from_utf8_lossy(&out.stderr));
        if script.parent().is_some_and(|p| p.ends_with("terminal-service") || p.ends_with("kiosk") || p.ends_with("provincial-node")) {
            let text = std::fs::read_to_string(&script)?;
            assert!(text.contains("#DEBHELPER#"), "{}: cargo-deb puts the unit's snippets at #DEBHELPER#", script.display());
        }
    }
    Ok(())
}

fn allow_node(dropins: &Path, args: &[&str]) -> Result<(bool, String)> {
    let out = Command::new(repo().join("images/sbin/terminal-service-allow-node"))
        .args(args)
        .env("TERMINAL_SERVICE_DROPIN_DIR", dropins)
        .output()?;
    Ok((out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))))
}

#[test]
fn allow_node_writes_the_drop_in_or_says_what_is_wrong() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let dropins = dir.path().join("terminal-service.service.d");
    let dropin = dropins.join("50-node-addresses.conf");
    let (ok, out) = allow_node(&dropins, &["not-a-node"])?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        assert!(!ok && out.contains("run it as root"), "{out}");
        return Ok(());
    }
    assert!(!ok && out.contains("'not-a-node' is neither a URL"), "bad input must be named: {out}");
    assert!(!dropin.exists(), "bad input must write nothing");

    let (ok, out) = allow_node(&dropins, &["https://[2001:db8::7]:8443/v1", "http://10.0.2.100:8700", "203.0.113.0/24"])?;
    assert!(ok, "{out}");
    let text = std::fs::read_to_string(&dropin)?;
    assert!(text.contains("[Service]\nIPAddressAllow=10.0.2.100 2001:db8::7 203.0.113.0/24\n"), "drop-in:\n{text}");
    let (ok, shown) = allow_node(&dropins, &["--show"])?;
    assert!(ok && shown.trim() == "10.0.2.100 2001:db8::7 203.0.113.0/24", "{shown}");

    let (ok, out) = allow_node(&dropins, &["https://no-such-host.invalid"])?;
    assert!(!ok && out.contains("cannot resolve 'no-such-host.invalid'"), "{out}");
    assert!(std::fs::read_to_string(&dropin)? == text, "a failed call must leave the drop-in as it was");

    let (ok, out) = allow_node(&dropins, &["--remove"])?;
    assert!(ok && !dropin.exists(), "{out}");
    Ok(())
}
