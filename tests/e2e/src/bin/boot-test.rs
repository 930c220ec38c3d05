//! The boot test: a terminal image, built by `images/build-image --variant qemu`, booted under
//! QEMU and checked the way a technician would commission it. Run it through `images/boot-test`,
//! which builds what it needs.
//!
//! In order: no failed units; terminal-service ready; the hardware watchdog armed; the root
//! file system read-only and the data partition writable; the kiosk's first screen on a
//! fresh card is the set-up screen; provisioning by touch on that screen against a reference
//! node (HTTPS) on the host's loopback; a technician's SSH login with the image's key, and
//! none without it; the language screen after it (compared with the kiosk's reference screenshot); a
//! language chosen by touch survives the kiosk being killed; an application submitted in the
//! guest reaches the node exactly once; with the node down and applications queued, the
//! packages are upgraded in place, and afterwards every queued application reaches the node
//! exactly once; no failed units after the upgrade; removal and purge with an application
//! waiting (kept, delivered after reinstalling); a clean power-off, after which both
//! file systems check clean.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use e2e::processes::{free_port, TlsNodeProcess};
use e2e::qemu::{Arch, Frame, Guest, GuestOptions, Region, NODE_IN_GUEST, SCREEN};
use e2e::sample::{answers, Applicant};
use node_protocol::{FormDefinition, MasterData, SubmissionKind};
use serde::Deserialize;
use serde_json::Value;

/// Boot a terminal image under QEMU and commission it.
#[derive(Debug, Parser)]
struct Args {
    /// Debian architecture of the image: amd64 or arm64.
    #[arg(long, default_value = "amd64")]
    arch: String,
    /// The raw disk image (it is copied, never changed).
    #[arg(long)]
    image: PathBuf,
    /// The kernel and initrd the image build wrote beside it.
    #[arg(long)]
    kernel: PathBuf,
    /// …
    #[arg(long)]
    initrd: PathBuf,
    /// A folder with the next version's terminal-service and kiosk packages (the upgrade).
    #[arg(long)]
    upgrade: PathBuf,
    /// The kiosk's reference screenshots (kiosk/tests/screenshots).
    #[arg(long)]
    references: PathBuf,
    /// Scratch folder: the disk copy, the console log, screenshots.
    #[arg(long)]
    work: PathBuf,
    /// The private key whose public half the image was built with (`build-image --ssh-key`):
    /// a technician's SSH login is checked with it.
    #[arg(long)]
    technician_key: PathBuf,
    /// Multiply every time limit: software emulation of another architecture is slow (without
    /// KVM, limits are tripled on top of this).
    #[arg(long, default_value_t = 1.0)]
    slow: f64,
}

/// The status bar changes (clock, terminal, queue): screens are compared below it.
const BODY: Region = (0, 60, SCREEN.0, SCREEN.1 - 60);
/// The status bar's language buttons (عربي, كوردى, English, text size): left in Arabic and
/// Kurdish, right in English.
const LANGUAGE_BUTTONS_RTL: Region = (4, 2, 402, 64);
const LANGUAGE_BUTTONS_LTR: Region = (874, 2, 402, 64);
/// Where "English" is in the Arabic status bar (see kiosk/tests/screenshots/ar/language.png).
const ENGLISH_BUTTON_RTL: (u32, u32) = (147, 34);
/// At most this share of pixels may differ from a reference (anti-aliasing, the pointer).
const SAME_SCREEN: f64 = 0.01;

/// The Arabic set-up screen of a fresh terminal and its Latin keyboard, in pixels (see
/// kiosk/tests/screenshots/ar/setup-first-boot.png and technician-setup.png). The guest's display
/// has no EDID, so the kiosk takes it for the 10.1" 1280×800 panel of its table, the panel the
/// references are rendered on.
const URL_FIELD: (u32, u32) = (640, 283);
const CODE_FIELD: (u32, u32) = (640, 437);
const CONNECT: (u32, u32) = (110, 755);
const KEY_DONE: (u32, u32) = (478, 703);
const KEY_SHIFT: (u32, u32) = (803, 703);
/// The set-up screen's "linked to the provincial office" banner once provisioning succeeded.
const LINKED_BANNER: Region = (15, 208, 1250, 61);
const KEY_ROWS: [(&str, u32); 4] = [("1234567890", 472), ("qwertyuiop", 530), ("asdfghjkl-", 587), ("zxcvbnm./:", 645)];

/// Types `text` on the kiosk's Latin keyboard, a key at a time (letters in either case),
/// `pace` apart: a kiosk slowed down by emulation reads its touchscreen late, and taps sent
/// faster than it reads overflow the kernel's event buffer and are dropped whole.
fn type_on_screen(guest: &mut Guest, text: &str, pace: Duration) -> Result<()> {
    for c in text.chars() {
        let lower = c.to_ascii_lowercase();
        let (column, y) = KEY_ROWS
            .iter()
            .find_map(|(keys, y)| keys.find(lower).map(|i| (i as u32, *y)))
            .with_context(|| format!("'{c}' is not on the kiosk's Latin keyboard"))?;
        // Ten keys 98.9 px apart, the first centred at x = 195.
        guest.tap(195 + column * 989 / 10, y)?;
        std::thread::sleep(pace);
    }
    Ok(())
}

/// Taps (x, y) and gives the kiosk time to act on it (a field opening its keyboard, a shift).
fn tap_and_settle(guest: &mut Guest, (x, y): (u32, u32), pace: Duration) -> Result<()> {
    guest.tap(x, y)?;
    std::thread::sleep(pace * 4);
    Ok(())
}

struct Timings(Vec<(String, Duration)>, Instant);

impl Timings {
    fn step(&mut self, name: &str) {
        let now = Instant::now();
        let took = now - self.1;
        println!("ok   {name} ({:.1} s)", took.as_secs_f64());
        self.0.push((name.to_string(), took));
        self.1 = now;
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    let started = Instant::now();
    let result = runtime.block_on(commission(&args));
    match &result {
        Ok(t) => {
            println!("boot test passed in {:.0} s", started.elapsed().as_secs_f64());
            for (name, took) in &t.0 {
                println!("  {:>7.1} s  {name}", took.as_secs_f64());
            }
        }
        Err(e) => eprintln!("boot test FAILED after {:.0} s: {e:#}\n(console log and screenshots in {})", started.elapsed().as_secs_f64(), args.work.display()),
    }
    result.map(|_| ())
}

async fn commission(args: &Args) -> Result<Timings> {
    let arch = Arch::from_debian(&args.arch)?;
    std::fs::create_dir_all(&args.work)?;
    let mut t = Timings(Vec::new(), Instant::now());

    // The guest writes to its disk: work on a copy, sparse like the original.
    let disk = args.work.join("disk.img");
    run_host("cp", &["--sparse=always".as_ref(), args.image.as_os_str(), disk.as_os_str()])?;
    let upgrade_disk = args.work.join("upgrade.vfat");
    make_upgrade_disk(&args.upgrade, &upgrade_disk)?;

    let node_data = args.work.join("node");
    let _ = std::fs::remove_dir_all(&node_data);
    let node_port = free_port()?;
    let ssh_port = free_port()?;
    // HTTPS, as in the field: the set-up screen refuses plain http to another machine.
    let mut node = TlsNodeProcess::start(&node_data, node_port).await?;

    let options = GuestOptions {
        arch,
        disk: disk.clone(),
        kernel: args.kernel.clone(),
        initrd: args.initrd.clone(),
        extra_disk: Some(upgrade_disk),
        node_port,
        ssh_port: Some(ssh_port),
        work: args.work.clone(),
        memory_mib: 1536,
    };
    let mut guest = Guest::boot(&options)?;
    // Every limit is set for KVM; software emulation of the same architecture is about three
    // times slower (and --slow says how much slower another architecture's is).
    let slow = args.slow * if guest.kvm { 1.0 } else { 3.0 };
    let limit = |s: u64| Duration::from_secs_f64(s as f64 * slow);
    println!("booting {} under {}", args.image.display(), if guest.kvm { "KVM" } else { "software emulation" });
    guest.wait_for_shell(limit(600))?;
    t.step("boot to a shell on the serial console");

    // --- The system came up whole.
    let state = guest.run("systemctl is-system-running --wait", limit(300))?.1;
    let failed = guest.check("systemctl --failed --no-legend --plain", limit(30))?;
    if state.trim() != "running" || !failed.trim().is_empty() {
        let details = guest.run("systemctl --failed --no-legend --plain | awk '{print $1}' | xargs -r -n1 journalctl -b --no-pager -n 15 -u", limit(60))?.1;
        bail!("system state '{}', failed units:\n{failed}\n{details}", state.trim());
    }
    t.step("no failed units");

    let service = guest.check("systemctl show -p ActiveState,SubState,StatusText terminal-service", limit(30))?;
    ensure!(service.contains("ActiveState=active") && service.contains("SubState=running"), "terminal-service is not running:\n{service}");
    ensure!(service.lines().any(|l| l.starts_with("StatusText=") && l.len() > "StatusText=".len()), "terminal-service has not reported its state to systemd (Type=notify):\n{service}");
    let status = guest.check("terminal-service status", limit(30))?;
    ensure!(status.contains("provisioned: no"), "a fresh image should not be provisioned:\n{status}");
    // Its device allow-list names kinds (char-spi, char-ttyUSB…) that systemd resolves in
    // /proc/devices when it starts the service: their drivers must be loaded before it.
    let kinds = guest.check("awk 'NF == 2 {print $2}' /proc/devices", limit(30))?;
    let missing: Vec<_> = ["spi", "i2c", "ttyUSB", "ttyACM"].into_iter().filter(|k| !kinds.lines().any(|l| l == *k)).collect();
    ensure!(missing.is_empty(), "device kinds the service's DeviceAllow= names are not in /proc/devices: {missing:?}");
    t.step("terminal-service ready (sd_notify READY and STATUS), its device kinds loaded");

    let watchdog = guest.check("cat /sys/class/watchdog/watchdog0/state /sys/class/watchdog/watchdog0/identity; systemctl show -p RuntimeWatchdogUSec; cat /etc/systemd/system.conf.d/50-watchdog.conf", limit(30))?;
    ensure!(watchdog.lines().next() == Some("active"), "the hardware watchdog is not armed:\n{watchdog}");
    ensure!(watchdog.lines().any(|l| l == "RuntimeWatchdogSec=15s"), "the image does not set systemd to drive the watchdog every 15 s:\n{watchdog}");
    // Under software emulation the kernel command line gives the watchdog longer (see
    // e2e::qemu::SOFTWARE_EMULATION_WATCHDOG_S); systemd must still be the one driving it.
    let armed = if guest.kvm { "15s".to_string() } else { format!("{}min", e2e::qemu::SOFTWARE_EMULATION_WATCHDOG_S / 60) };
    ensure!(watchdog.lines().any(|l| l == format!("RuntimeWatchdogUSec={armed}")), "systemd does not drive the watchdog every {armed}:\n{watchdog}");
    let unit_watchdog = guest.check("systemctl show -p WatchdogUSec,Restart terminal-service", limit(30))?;
    ensure!(unit_watchdog.contains("WatchdogUSec=30s") && unit_watchdog.contains("Restart=always"), "terminal-service's watchdog: {unit_watchdog}");
    t.step("hardware watchdog armed by systemd, service watchdog on");

    let mounts = guest.check("findmnt -no OPTIONS /; findmnt -no OPTIONS /data; findmnt -no SOURCE,TARGET /var/lib/terminal-service", limit(30))?;
    let lines: Vec<&str> = mounts.lines().collect();
    ensure!(lines.len() >= 3 && lines[0].split(',').any(|o| o == "ro") && lines[1].split(',').any(|o| o == "rw"), "root must be read-only and /data writable:\n{mounts}");
    ensure!(guest.run("touch /usr/.rw-test", limit(30))?.0 != 0, "the root file system accepted a write");
    t.step("read-only root, writable data partition");

    // --- The screen: a fresh card starts in the set-up screen.
    wait_active(&mut guest, "kiosk", limit(120))?;
    let setup = args.references.join("ar/setup-first-boot.png");
    if let Err(e) = wait_for_screen(&mut guest, &args.work.join("first-boot.ppm"), &setup, BODY, limit(120)) {
        let journal = guest.run("journalctl -b --no-pager -n 40 -u kiosk -u seatd", limit(60)).map(|r| r.1).unwrap_or_default();
        bail!("{e:#}\nthe kiosk's and seatd's journal:\n{journal}");
    }
    t.step("kiosk's first frame on a fresh card: the set-up screen");

    // --- Provisioning on the set-up screen, by touch, as a technician does it: the node's
    // address and the one-time code typed on the kiosk's keyboard.
    let code = node.node.issue_code()?;
    let pace = (limit(1) / 4).min(Duration::from_secs(2));
    tap_and_settle(&mut guest, URL_FIELD, pace)?;
    tap_and_settle(&mut guest, KEY_SHIFT, pace)?; // the Latin keyboard opens in capitals; URLs are lower case
    type_on_screen(&mut guest, &format!("https://{NODE_IN_GUEST}"), pace)?;
    tap_and_settle(&mut guest, KEY_DONE, pace)?;
    tap_and_settle(&mut guest, CODE_FIELD, pace)?;
    type_on_screen(&mut guest, &code, pace)?;
    tap_and_settle(&mut guest, KEY_DONE, pace)?;
    guest.pointer_to(SCREEN.0 - 1, SCREEN.1 / 2)?;
    guest.screendump(&args.work.join("setup-typed.ppm"))?.write_png(&args.work.join("setup-typed.png"))?;
    guest.tap(CONNECT.0, CONNECT.1)?;
    wait_for("the terminal to be provisioned from the set-up screen", limit(120), || {
        Ok(guest.check("terminal-service status", limit(30))?.contains("provisioned: yes"))
    })
    .with_context(|| format!("what was typed is in {}", args.work.join("setup-typed.png").display()))?;
    // The kiosk says so too: the green "linked to the provincial office" banner.
    guest.pointer_to(SCREEN.0 - 1, SCREEN.1 / 2)?;
    let linked = args.references.join("ar/technician-provisioned.png");
    wait_for_screen(&mut guest, &args.work.join("setup-done.ppm"), &linked, LINKED_BANNER, limit(60))?;
    let fingerprint = std::process::Command::new(e2e::processes::binary("provincial-node")?).args(["fingerprint", "--data"]).arg(&node_data).output()?;
    let fingerprint = String::from_utf8_lossy(&fingerprint.stdout).trim().to_string();
    let pinned = guest.check("terminal-service status --json", limit(30))?;
    ensure!(!fingerprint.is_empty() && pinned.contains(&fingerprint), "the terminal must pin the node's certificate {fingerprint}:\n{pinned}");
    t.step("provisioned by touch on the set-up screen, over HTTPS with the node's certificate pinned");

    // --- A technician's way in: SSH as root with the key the image was built with, never a
    // password, and a host key of the terminal's own on its data partition.
    let technician = Technician { key: args.technician_key.clone(), port: ssh_port, known_hosts: args.work.join("known_hosts") };
    let _ = std::fs::remove_file(&technician.known_hosts);
    let (code, out, err) = technician.ssh(&["-o", "StrictHostKeyChecking=accept-new"], "terminal-service status", limit(120))?;
    ensure!(code == 0 && out.contains("provisioned: yes"), "the technician's `ssh root@terminal terminal-service status` (exit {code}):\n{out}{err}");
    let host_key = guest.check("cut -d' ' -f2 /data/ssh/ssh_host_ed25519_key.pub", limit(30))?;
    let known = std::fs::read_to_string(&technician.known_hosts)?;
    ensure!(!host_key.trim().is_empty() && known.contains(host_key.trim()), "ssh met a host key other than the terminal's /data/ssh key:\n{known}");
    let (code, _, err) = technician.ssh(
        &["-o", "StrictHostKeyChecking=yes", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive"],
        "true",
        limit(120),
    )?;
    ensure!(code != 0 && err.contains("Permission denied"), "a login without the key must be refused (exit {code}): {err}");
    t.step("a technician logs in over SSH with the image's key only; the host key is the terminal's own");

    // --- The kiosk's language screen, and the language it comes back in.
    guest.check("systemctl restart kiosk", limit(60))?;
    wait_active(&mut guest, "kiosk", limit(60))?;
    let language = args.references.join("ar/language.png");
    wait_for_screen(&mut guest, &args.work.join("language.ppm"), &language, BODY, limit(120))?;
    t.step("language screen matches the reference screenshot");

    guest.tap(ENGLISH_BUTTON_RTL.0, ENGLISH_BUTTON_RTL.1)?;
    guest.pointer_to(SCREEN.0 - 1, SCREEN.1 / 2)?;
    let english = args.references.join("en/language.png");
    wait_for_screen(&mut guest, &args.work.join("english.ppm"), &english, LANGUAGE_BUTTONS_LTR, limit(60))?;
    let pid = guest.check("systemctl show -p MainPID --value kiosk", limit(30))?;
    guest.check("systemctl kill --signal=KILL kiosk", limit(30))?;
    wait_for("the kiosk to be restarted", limit(60), || {
        let now = guest.check("systemctl show -p MainPID,ActiveState kiosk", limit(30))?;
        Ok(now.contains("ActiveState=active") && !now.contains(&format!("MainPID={}", pid.trim())) && !now.contains("MainPID=0"))
    })?;
    let frame = wait_for_screen(&mut guest, &args.work.join("english-after-kill.ppm"), &english, LANGUAGE_BUTTONS_LTR, limit(60))?;
    let arabic = Frame::read_png(&language)?;
    ensure!(frame.difference(&arabic, LANGUAGE_BUTTONS_RTL)? > SAME_SCREEN, "after the restart the status bar still looks Arabic");
    t.step("a language chosen by touch survives kill -9 of the kiosk");

    // --- An application, exactly once at the node.
    let forms = forms(&mut guest, limit(60))?;
    let first = submit(&mut guest, &forms, limit(60))?;
    wait_for("the application at the node", limit(120), || Ok(node.node.submissions()?.iter().any(|s| s.id.to_string() == first)))?;
    wait_for("the terminal's queue to empty", limit(60), || Ok(queue_depth(&mut guest, limit(30))? == 0))?;
    t.step("an application submitted in the guest reached the node");

    // --- Upgrade in place with applications queued.
    node.node.stop();
    let mut queued = Vec::new();
    for _ in 0..3 {
        queued.push(submit(&mut guest, &forms, limit(60))?);
    }
    ensure!(queue_depth(&mut guest, limit(30))? == 3, "three applications should wait while the node is down");
    let before = guest.check("dpkg-query -W terminal-service kiosk", limit(30))?;
    guest.check("mkdir -p /run/upgrade && mount -o ro /dev/vdb /run/upgrade", limit(30))?;
    let out = guest.check("terminal-image-update /run/upgrade/terminal-service_*.deb /run/upgrade/kiosk_*.deb", limit(300))?;
    let after = guest.check("dpkg-query -W terminal-service kiosk", limit(30))?;
    ensure!(before != after, "the packages did not change version:\n{before}\n{out}");
    guest.check("umount /run/upgrade", limit(30))?;
    wait_active(&mut guest, "terminal-service", limit(120))?;
    wait_active(&mut guest, "kiosk", limit(120))?;
    ensure!(queue_depth(&mut guest, limit(30))? == 3, "the upgrade lost queued applications");
    let mounts = guest.check("findmnt -no OPTIONS /", limit(30))?;
    ensure!(mounts.split(',').any(|o| o == "ro"), "the root stayed writable after the update: {mounts}");
    let (code, _, err) = technician.ssh(&["-o", "StrictHostKeyChecking=yes"], "true", limit(120))?;
    ensure!(code == 0, "after the upgrade the technician's login (same host key) must still work (exit {code}): {err}");
    t.step(&format!("upgraded in place ({}) with 3 applications queued", after.replace('\n', ", ")));

    let mut node = TlsNodeProcess::start(&node_data, node_port).await?;
    wait_for("the queued applications to be delivered", limit(300), || Ok(queue_depth(&mut guest, limit(30))? == 0))?;
    let stored = node.node.submissions()?;
    for id in queued.iter().chain([&first]) {
        let s = stored.iter().find(|s| &s.id.to_string() == id).with_context(|| format!("application {id} never reached the node"))?;
        ensure!(s.deliveries == 1, "application {id} was delivered {} times", s.deliveries);
    }
    ensure!(stored.len() == 4, "the node holds {} applications, expected 4", stored.len());
    let failed = guest.check("systemctl --failed --no-legend --plain", limit(30))?;
    ensure!(failed.trim().is_empty(), "failed units after the upgrade:\n{failed}");
    t.step("every queued application delivered exactly once after the upgrade");

    // --- Remove and purge with an application still waiting: it is kept, and delivered once
    // the package is back.
    node.node.stop();
    let waiting = submit(&mut guest, &forms, limit(60))?;
    let before = guest.check("terminal-service status", limit(30))?;
    let terminal_id = before.lines().find_map(|l| l.strip_prefix("terminal id: ")).map(str::trim).map(str::to_string);
    let terminal_id = terminal_id.with_context(|| format!("`terminal-service status` names no terminal id:\n{before}"))?;
    let removed = guest.check(&with_root_writable("dpkg -r kiosk terminal-service && dpkg --purge kiosk terminal-service"), limit(180))?;
    ensure!(removed.contains("1 submissions are not delivered yet and 0 were refused"), "removing with one application queued must say so:\n{removed}");
    ensure!(removed.contains("holds undelivered submissions and is kept"), "the purge must keep the undelivered application:\n{removed}");
    guest.check("test -s /var/lib/terminal-service/outbox.sqlite && test ! -e /etc/terminal-service/config.toml", limit(30))?;
    // The node is back before the package is, so the reinstalled service delivers on its first
    // attempt: started after it, the service's backoff grows while the node starts (to a minute
    // under emulation), time that tests nothing. The node held nothing of this application
    // before now, so its arrival is the kept outbox's.
    let mut node = TlsNodeProcess::start(&node_data, node_port).await?;
    ensure!(!node.node.submissions()?.iter().any(|s| s.id.to_string() == waiting), "the application {waiting} reached the node while it was down");
    guest.check("mkdir -p /run/upgrade && mount -o ro /dev/vdb /run/upgrade", limit(30))?;
    guest.check("terminal-image-update /run/upgrade/terminal-service_*.deb /run/upgrade/kiosk_*.deb && umount /run/upgrade", limit(300))?;
    // The node's address stayed allowed with the kept state: nothing to redo before delivery.
    wait_active(&mut guest, "terminal-service", limit(120))?;
    let status = guest.check("terminal-service status", limit(30))?;
    ensure!(status.contains("provisioned: yes") && status.contains(terminal_id.as_str()), "reinstalled, the terminal must keep its enrollment ({terminal_id}):\n{status}");
    wait_for("the kept application to be delivered", limit(300), || Ok(queue_depth(&mut guest, limit(30))? == 0))?;
    let stored = node.node.submissions()?;
    ensure!(stored.iter().filter(|s| s.id.to_string() == waiting && s.deliveries == 1).count() == 1, "the kept application {waiting} must reach the node exactly once");
    let purged = guest.check(&with_root_writable("dpkg -r kiosk terminal-service && dpkg --purge kiosk terminal-service"), limit(180))?;
    ensure!(!purged.contains("not delivered"), "nothing was waiting:\n{purged}");
    let left = guest.check("ls -A /var/lib/terminal-service /var/lib/kiosk; ls /etc/terminal-service 2>&1 || true; systemctl list-unit-files terminal-service.service kiosk.service --no-legend || true", limit(30))?;
    ensure!(left.lines().all(|l| l.ends_with(':') || l.contains("No such file") || l.trim().is_empty()), "a purge after delivery leaves nothing behind:\n{left}");
    t.step("remove and purge: an undelivered application kept and delivered once after reinstalling; a purge after delivery leaves nothing");

    // --- A clean power-off.
    guest.send("systemctl poweroff")?;
    let exit = guest.wait_exit(limit(180))?;
    ensure!(exit.success(), "QEMU exited with {exit}");
    let console = std::fs::read_to_string(&guest.serial_log).unwrap_or_default();
    for bad in ["Failed to unmount", "timed out", "Freezing execution"] {
        let shutdown = console.rsplit_once("systemctl poweroff").map(|(_, s)| s).unwrap_or(&console);
        ensure!(!shutdown.contains(bad), "the shutdown printed '{bad}':\n{shutdown}");
    }
    drop(guest);
    for (number, label) in [(2, "kiosk-root"), (3, "kiosk-data")] {
        check_partition(&disk, number, label, &args.work)?;
    }
    node.node.stop();
    t.step("clean power-off; root and data file systems check clean");
    Ok(t)
}

/// A FAT disk holding the upgrade's packages (QEMU's second drive, /dev/vdb in the guest).
fn make_upgrade_disk(folder: &Path, disk: &Path) -> Result<()> {
    let mut debs = Vec::new();
    for entry in std::fs::read_dir(folder).with_context(|| format!("reading {}", folder.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if (name.starts_with("terminal-service_") || name.starts_with("kiosk_")) && name.ends_with(".deb") {
            debs.push(path);
        }
    }
    ensure!(debs.len() == 2, "{} should hold one terminal-service and one kiosk package, found {debs:?}", folder.display());
    let _ = std::fs::remove_file(disk);
    let kib = debs.iter().map(|d| std::fs::metadata(d).map(|m| m.len() / 1024).unwrap_or(0)).sum::<u64>() + 16 * 1024;
    run_host("mkfs.vfat", &["-C".as_ref(), disk.as_os_str(), kib.to_string().as_ref()])?;
    for d in &debs {
        run_host("mcopy", &["-i".as_ref(), disk.as_os_str(), d.as_os_str(), "::/".as_ref()])?;
    }
    Ok(())
}

/// A technician's laptop: `ssh root@terminal` with the image's key, through QEMU's forward.
struct Technician {
    key: PathBuf,
    port: u16,
    known_hosts: PathBuf,
}

impl Technician {
    /// Runs `command` on the terminal: (exit code, stdout, stderr). `timeout` bounds it even if
    /// the guest stops answering mid-session.
    fn ssh(&self, options: &[&str], command: &str, limit: Duration) -> Result<(i32, String, String)> {
        let out = std::process::Command::new("timeout")
            .arg(limit.as_secs().max(1).to_string())
            .args(["ssh", "-F", "none", "-p", &self.port.to_string(), "-i"])
            .arg(&self.key)
            .args(["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=60", "-o", "LogLevel=ERROR"])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", self.known_hosts.display()))
            .args(options)
            .args(["root@127.0.0.1", command])
            .stdin(std::process::Stdio::null())
            .output()
            .context("running ssh (images/install-build-deps boot installs it)")?;
        Ok((out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned()))
    }
}

fn run_host(program: &str, args: &[&std::ffi::OsStr]) -> Result<()> {
    let out = std::process::Command::new(program).args(args).output().with_context(|| format!("running {program}"))?;
    ensure!(out.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

/// e2fsck -fn on one partition of the (powered-off) disk image.
fn check_partition(disk: &Path, number: usize, label: &str, work: &Path) -> Result<()> {
    let table = std::process::Command::new("sfdisk").arg("--json").arg(disk).output()?;
    let table: Value = serde_json::from_slice(&table.stdout).context("reading the partition table")?;
    let part = table.pointer(&format!("/partitiontable/partitions/{}", number - 1)).context("no such partition")?;
    let (start, size) = (part["start"].as_u64().unwrap_or(0), part["size"].as_u64().unwrap_or(0));
    let copy = work.join(format!("{label}.ext4"));
    let status = std::process::Command::new("dd")
        .arg(format!("if={}", disk.display()))
        .arg(format!("of={}", copy.display()))
        .args(["bs=512", &format!("skip={start}"), &format!("count={size}"), "conv=sparse", "status=none"])
        .status()?;
    ensure!(status.success(), "copying partition {number} out of the disk image");
    let fsck = std::process::Command::new("e2fsck").args(["-fn"]).arg(&copy).output()?;
    let _ = std::fs::remove_file(&copy);
    ensure!(fsck.status.success(), "{label} does not check clean after the power-off:\n{}", String::from_utf8_lossy(&fsck.stdout));
    Ok(())
}

fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> Result<bool>) -> Result<()> {
    let start = Instant::now();
    loop {
        if check()? {
            return Ok(());
        }
        if start.elapsed() > limit {
            bail!("timed out after {limit:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn wait_active(guest: &mut Guest, unit: &str, limit: Duration) -> Result<()> {
    wait_for(&format!("{unit} to be active"), limit, || Ok(guest.run(&format!("systemctl is-active --quiet {unit}"), Duration::from_secs(30))?.0 == 0))
}

/// Takes screenshots until `region` matches `reference`; the last one is kept as PNG beside
/// the PPM when it never does.
fn wait_for_screen(guest: &mut Guest, ppm: &Path, reference: &Path, region: Region, limit: Duration) -> Result<Frame> {
    let want = Frame::read_png(reference)?;
    let start = Instant::now();
    loop {
        let frame = guest.screendump(ppm)?;
        let diff = if frame.is_blank() { 1.0 } else { frame.difference(&want, region)? };
        if diff <= SAME_SCREEN {
            // Kept as PNG for a person to look at, as the kiosk's own screenshots are.
            let png = ppm.with_extension("png");
            frame.write_png(&png)?;
            let _ = std::fs::remove_file(ppm);
            println!("     {} matches {} ({:.2} % of pixels differ)", png.display(), reference.display(), diff * 100.0);
            return Ok(frame);
        }
        if start.elapsed() > limit {
            let png = ppm.with_extension("png");
            frame.write_png(&png)?;
            bail!("the screen does not match {} ({:.1} % of the compared pixels differ); it is in {}", reference.display(), diff * 100.0, png.display());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Calls the local API inside the guest with curl over its Unix socket: (status, body).
fn local_api(guest: &mut Guest, method: &str, path: &str, body_file: Option<&str>, limit: Duration) -> Result<(u16, String)> {
    let data = body_file.map(|f| format!("-H 'content-type: application/json' --data-binary @{f}")).unwrap_or_default();
    let out = guest.check(
        &format!("curl -sS --max-time 60 --unix-socket /run/terminal-service/api.sock -X {method} {data} -w '\\n%{{http_code}}' http://localhost{path}"),
        limit,
    )?;
    let (body, code) = out.rsplit_once('\n').with_context(|| format!("curl printed no status: {out}"))?;
    Ok((code.trim().parse().with_context(|| format!("curl's status: {code}"))?, body.to_string()))
}

#[derive(Debug, Deserialize)]
struct Forms {
    forms: Vec<FormDefinition>,
    master_data: MasterData,
}

fn forms(guest: &mut Guest, limit: Duration) -> Result<Forms> {
    let (code, body) = local_api(guest, "GET", "/v1/forms", None, limit)?;
    ensure!(code == 200, "GET /v1/forms answered {code}: {body}");
    serde_json::from_str(&body).context("decoding /v1/forms")
}

/// Submits one generated application through the local API; its id.
fn submit(guest: &mut Guest, forms: &Forms, limit: Duration) -> Result<String> {
    let form = forms.forms.iter().find(|f| f.kind == SubmissionKind::Application).context("no application form")?;
    let body = serde_json::json!({"language": "ar", "answers": answers(form, &forms.master_data, &Applicant::default())});
    guest.write_file("/tmp/application.json", body.to_string().as_bytes())?;
    let (code, answer) = local_api(guest, "POST", "/v1/applications", Some("/tmp/application.json"), limit)?;
    ensure!(code == 201, "POST /v1/applications answered {code}: {answer}");
    let ack: Value = serde_json::from_str(&answer)?;
    ack["id"].as_str().map(str::to_string).with_context(|| format!("no id in {answer}"))
}

fn queue_depth(guest: &mut Guest, limit: Duration) -> Result<u64> {
    let (code, body) = local_api(guest, "GET", "/v1/queue", None, limit)?;
    ensure!(code == 200, "GET /v1/queue answered {code}: {body}");
    let q: Value = serde_json::from_str(&body)?;
    q.pointer("/stats/depth").and_then(Value::as_u64).with_context(|| format!("no stats.depth in {body}"))
}

/// `command` with the root file system (read-only on the image) writable for its duration.
fn with_root_writable(command: &str) -> String {
    format!("mount -o remount,rw / && {{ {command}; rc=$?; sync; mount -o remount,ro /; exit $rc; }}")
}
