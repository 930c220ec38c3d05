//! A private `pcscd` with virtual readers, for tests and the demo: started in a directory of
//! its own, on its own socket, with its own `reader.conf` naming vsmartcard-vpcd readers on
//! ports of its own, so it neither sees nor disturbs the machine's pcscd and USB readers'
//! users, and is gone when dropped.
//!
//! pcsc-lite 1.9's client library reads the socket's path from `PCSCLITE_CSOCK_NAME`, but its
//! daemon always listens on `/run/pcscd/pcscd.comm` (and writes its pid file and cleans up
//! there). So the daemon runs in a mount namespace of its own (`unshare --mount`) in which the
//! private directory is bind-mounted on `/run/pcscd`: that needs root, and [`unavailable`] says
//! so. [`PrivatePcscd::start`] then points this process's PC/SC client at the private socket.
//! The client reads that variable once per process, at its first call: a process uses one
//! private daemon's socket path for its whole life (it may stop and start daemons there).
//!
//! vpcd listens on the given ports on every interface (its choice; the emulators here connect
//! over loopback) and USB readers plugged into the machine are seen by this daemon too.

use std::fs::File;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// vpcd's driver as Debian installs it.
pub const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
/// How long pcscd may take to start and list its readers.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long it may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);
/// Slots vpcd gives each reader (`vicc_max_slots` of Debian's build): ports `port` and
/// `port + 1`.
pub const SLOTS_PER_READER: u16 = 2;

/// Whether this process runs as root (real user id 0), which a private pcscd needs.
pub fn running_as_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

/// Why a private pcscd cannot run on this machine, if it cannot: it needs root (for the mount
/// namespace), `unshare`, `pcscd` and vsmartcard-vpcd.
pub fn unavailable() -> Option<String> {
    if !running_as_root() {
        return Some("a private pcscd needs root (it runs in a mount namespace of its own); run the tests as root, as CI does".into());
    }
    for tool in ["unshare", "pcscd"] {
        let found = std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).exists()))
            .unwrap_or(false)
            || Path::new("/usr/sbin").join(tool).exists();
        if !found {
            return Some(format!("{tool} is not installed: run tests/scripts/install-deps.sh (apt install pcscd util-linux)"));
        }
    }
    if !vpcd_driver().exists() {
        return Some(format!("{VPCD_DRIVER} is missing: run tests/scripts/install-deps.sh (apt install vsmartcard-vpcd)"));
    }
    None
}

fn vpcd_driver() -> PathBuf {
    // Debian installs the versioned file and, with the package's dev links, the bare name.
    let bare = PathBuf::from(VPCD_DRIVER);
    if bare.exists() {
        return bare;
    }
    std::fs::read_dir("/usr/lib/pcsc/drivers/serial")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("libifdvpcd.so")))
        .unwrap_or(bare)
}

/// A virtual reader of the private daemon: its name as pcscd lists it, and where its vpcd
/// slot listens for a [`super::virtual_card::VirtualCard`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualReader {
    /// The name PC/SC programs see (`"<friendly name> 00 01"`).
    pub name: String,
    /// vpcd's address for this slot.
    pub address: SocketAddr,
}

/// A running private pcscd; stopped (SIGTERM, then SIGKILL) when dropped.
#[derive(Debug)]
pub struct PrivatePcscd {
    child: Option<Child>,
    dir: PathBuf,
    readers: Vec<VirtualReader>,
}

impl PrivatePcscd {
    /// Starts pcscd in `dir` (created if needed) with a vpcd reader of [`SLOTS_PER_READER`]
    /// slots named after `friendly_name`, points this process's PC/SC client at its socket
    /// (`dir/pcscd.comm`), and waits until it lists every slot.
    ///
    /// One vpcd reader only: vpcd keeps its connections in one table indexed by slot, shared
    /// by every reader that loads it, so a second reader's slot 0 would answer for the first's.
    pub fn start(dir: &Path, friendly_name: &str) -> io::Result<PrivatePcscd> {
        let friendly_names = [friendly_name];
        if let Some(why) = unavailable() {
            return Err(io::Error::new(io::ErrorKind::Unsupported, why));
        }
        std::fs::create_dir_all(dir)?;
        let driver = vpcd_driver();
        let mut conf = String::new();
        let mut ports = Vec::new();
        for name in friendly_names {
            let port = free_port_pair()?;
            ports.push((name.to_string(), port));
            conf.push_str(&format!(
                "FRIENDLYNAME \"{name}\"\nDEVICENAME /dev/null:0x{port:04X}\nLIBPATH {}\nCHANNELID 0x{port:04X}\n\n",
                driver.display()
            ));
        }
        let conf_path = dir.join("reader.conf");
        std::fs::write(&conf_path, conf)?;
        let log = File::create(dir.join("pcscd.log"))?;
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg("mkdir -p /run/pcscd && mount --bind \"$1\" /run/pcscd && exec pcscd --foreground --config \"$2\" $3")
            .arg("sh")
            .arg(dir)
            .arg(&conf_path)
            // PRIVATE_PCSCD_DEBUG=1 makes pcscd log every call and APDU into pcscd.log.
            .arg(if std::env::var_os("PRIVATE_PCSCD_DEBUG").is_some() { "--debug --apdu" } else { "" })
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start pcscd through unshare: {e}")))?;
        let mut daemon = PrivatePcscd { child: Some(child), dir: dir.to_path_buf(), readers: Vec::new() };
        std::env::set_var("PCSCLITE_CSOCK_NAME", daemon.socket());
        daemon.wait_for_readers(&ports)?;
        Ok(daemon)
    }

    /// Waits until pcscd lists a reader for every slot, and learns their names.
    fn wait_for_readers(&mut self, ports: &[(String, u16)]) -> io::Result<()> {
        let wanted = ports.len() * usize::from(SLOTS_PER_READER);
        let deadline = Instant::now() + START_TIMEOUT;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                return Err(io::Error::other(format!("pcscd exited ({status}) while starting; its log:\n{}", self.log())));
            }
            match super::list_readers() {
                Ok(names) if names.len() >= wanted => {
                    for (friendly, port) in ports {
                        let mut mine: Vec<&String> = names.iter().filter(|n| n.starts_with(friendly.as_str())).collect();
                        mine.sort();
                        for (slot, name) in mine.into_iter().enumerate() {
                            let address = SocketAddr::from(([127, 0, 0, 1], port + slot as u16));
                            self.readers.push(VirtualReader { name: name.clone(), address });
                        }
                    }
                    return Ok(());
                }
                Ok(names) => last = format!("it lists {names:?}"),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("pcscd did not list its {wanted} virtual readers within {START_TIMEOUT:?} ({last}); its log:\n{}", self.log()),
        ))
    }

    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("pcscd.comm")
    }

    /// The virtual readers, in the order of the friendly names, slot 0 first.
    pub fn readers(&self) -> &[VirtualReader] {
        &self.readers
    }

    /// What pcscd wrote so far, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pcscd.log")).unwrap_or_default()
    }

    /// Stops pcscd: SIGTERM, then SIGKILL if it has not exited within a few seconds.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for PrivatePcscd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port `p` with `p + 1` free too (vpcd's two slots), on loopback.
fn free_port_pair() -> io::Result<u16> {
    for _ in 0..32 {
        let first = TcpListener::bind(("127.0.0.1", 0))?;
        let port = first.local_addr()?.port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::new(io::ErrorKind::AddrInUse, "found no two consecutive free TCP ports for vpcd"))
}
