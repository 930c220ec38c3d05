//! What `images/` ships, checked without building an image (the boot test does that): the
//! units stay as hardened as `images/README.md` records, the manual pages name every command,
//! the shell the packages run parses, and `terminal-service-allow-node` writes the drop-in it
//! promises and refuses what it cannot use, and an interrupted image build's leftovers are
//! removed without deleting through its mounts.

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

fn build_image(args: &[&std::ffi::OsStr]) -> Result<(i32, String)> {
    let out = Command::new(repo().join("images/build-image")).args(args).output()?;
    Ok((out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))))
}

/// A build killed outright leaves its chroot's mounts (proc, the package folders bound in):
/// `images/lib/remove-build-dir`, which `build-image` runs on what an earlier build left and on
/// its own working directory, detaches them before it removes anything, so that nothing is
/// deleted through a bind mount. Run in a mount namespace of its own (`unshare`), so that a
/// failure leaves no mount on this machine.
#[test]
fn a_killed_builds_mounts_are_detached_and_nothing_is_deleted_through_them() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let shown = dir.path().join("debian");
    std::fs::create_dir_all(&shown)?;
    std::fs::write(shown.join("kiosk_0.1.0-1_amd64.deb"), b"a package")?;
    let build = dir.path().join(".build-kiosk-qemu-amd64.Xy12Ab");
    for d in ["rootfs/proc", "rootfs/mnt/debian", "rootfs/etc"] {
        std::fs::create_dir_all(build.join(d))?;
    }
    std::fs::write(build.join("rootfs/etc/hostname"), b"kiosk")?;
    let script = format!(
        "mount -t tmpfs proc {b}/rootfs/proc && mount --bind {s} {b}/rootfs/mnt/debian && {remove} {b}/ && findmnt -rno TARGET | grep -c '^{d}/' || true",
        b = build.display(),
        s = shown.display(),
        d = dir.path().display(),
        remove = repo().join("images/lib/remove-build-dir").display(),
    );
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let namespace: &[&str] = if root { &["--mount", "--propagation", "private"] } else { &["--map-root-user", "--mount"] };
    let out = Command::new("unshare").args(namespace).args(["sh", "-ec", &script]).output().context("running unshare (util-linux)")?;
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{said}");
    assert_eq!(said.trim(), "0", "mounts left under the build directory:\n{said}");
    assert!(!build.exists(), "the build directory was not removed");
    assert_eq!(std::fs::read(shown.join("kiosk_0.1.0-1_amd64.deb"))?, b"a package", "a package was deleted through the bind mount");
    Ok(())
}

/// What a technician gets wrong before a half-hour build: each is refused at once, by name.
#[test]
fn build_image_refuses_what_it_cannot_use_before_building() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let os = |s: &str| std::ffi::OsString::from(s);
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        let (code, out) = build_image(&[&os("--variant"), &os("qemu")])?;
        assert!(code == 1 && out.contains("run as root"), "{out}");
        return Ok(());
    }
    let (code, out) = build_image(&[&os("--variant"), &os("pi")])?;
    assert!(code == 2 && out.contains("say which provincial node") && out.contains("--node-allow"), "{out}");

    let private = dir.path().join("id_ed25519");
    let keygen = Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", "technician", "-f"]).arg(&private).output();
    let Ok(keygen) = keygen else {
        // No ssh-keygen on this machine: the boot test, which installs it, covers the keys.
        return Ok(());
    };
    assert!(keygen.status.success(), "{}", String::from_utf8_lossy(&keygen.stderr));
    let garbage = dir.path().join("keys.pub");
    let public = std::fs::read_to_string(private.with_extension("pub"))?;
    std::fs::write(&garbage, format!("# the team\n{public}ssh-ed25519 not-base64 someone\n"))?;
    let empty = dir.path().join("empty.pub");
    std::fs::write(&empty, "# nobody yet\n")?;
    let missing = dir.path().join("missing.pub");
    let qemu = [os("--variant"), os("qemu"), os("--arch"), os("amd64"), os("--ssh-key")];
    for (key, says) in [
        (private.as_os_str(), "is a private key: give its public half"),
        (garbage.as_os_str(), "key 2 is not an OpenSSH public key"),
        (empty.as_os_str(), "holds no key"),
        (missing.as_os_str(), "no such file"),
    ] {
        let mut args: Vec<&std::ffi::OsStr> = qemu.iter().map(|a| a.as_os_str()).collect();
        args.push(key);
        let (code, out) = build_image(&args)?;
        assert!(code == 2 && out.contains(says), "--ssh-key {key:?}: expected '{says}', got exit {code}:\n{out}");
    }
    Ok(())
}
