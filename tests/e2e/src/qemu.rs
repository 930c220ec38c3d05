//! A terminal image booted under QEMU, driven the way a technician at its console and a person
//! at its touchscreen would: shell commands on the serial console, screenshots and taps
//! through QEMU's monitor (QMP).
//!
//! The guest's only network is QEMU's user networking with `restrict=on`: it reaches nothing
//! but the one forward to a reference node on the host's loopback (`10.0.2.100:8700`).
//! Every wait is bounded, and QEMU is killed when the [`Guest`] is dropped.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// The address the guest reaches the host's node at (forwarded by QEMU, nothing else is).
pub const NODE_IN_GUEST: &str = "10.0.2.100:8700";

/// The guest's screen, as the kiosk's reference screenshots are.
pub const SCREEN: (u32, u32) = (1280, 800);

/// Which QEMU and machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// `qemu-system-x86_64 -M q35`.
    Amd64,
    /// `qemu-system-aarch64 -M virt`.
    Arm64,
}

impl Arch {
    /// From Debian's name.
    pub fn from_debian(name: &str) -> Result<Arch> {
        match name {
            "amd64" => Ok(Arch::Amd64),
            "arm64" => Ok(Arch::Arm64),
            other => bail!("unknown architecture '{other}' (amd64 or arm64)"),
        }
    }

    fn console(self) -> &'static str {
        match self {
            Arch::Amd64 => "ttyS0",
            Arch::Arm64 => "ttyAMA0",
        }
    }

    fn program(self) -> &'static str {
        match self {
            Arch::Amd64 => "qemu-system-x86_64",
            Arch::Arm64 => "qemu-system-aarch64",
        }
    }

    fn machine(self, kvm: bool) -> [&'static str; 4] {
        match (self, kvm) {
            (Arch::Amd64, true) => ["-M", "q35,accel=kvm", "-cpu", "host"],
            (Arch::Amd64, false) => ["-M", "q35,accel=tcg", "-cpu", "max"],
            (Arch::Arm64, true) => ["-M", "virt,accel=kvm", "-cpu", "host"],
            (Arch::Arm64, false) => ["-M", "virt,accel=tcg", "-cpu", "max"],
        }
    }

    /// Whether KVM can run `kernel`: only for the host's own architecture, only where /dev/kvm
    /// opens, and only if the kernel, started without a root file system, gets to its panic
    /// (and QEMU, told not to reboot, exits) within 20 s. A /dev/kvm inside a virtual machine
    /// without working nested virtualisation opens fine and then hangs the guest, or QEMU
    /// aborts on a CPU feature the outer hypervisor refuses: then software emulation it is.
    pub fn kvm_runs(self, kernel: &Path) -> bool {
        let native = match self {
            Arch::Amd64 => cfg!(target_arch = "x86_64"),
            Arch::Arm64 => cfg!(target_arch = "aarch64"),
        };
        if !native || fs::OpenOptions::new().read(true).write(true).open("/dev/kvm").is_err() {
            return false;
        }
        let child = Command::new(self.program())
            .args(self.machine(true))
            .args(["-m", "256", "-display", "none", "-no-reboot", "-serial", "null", "-kernel"])
            .arg(kernel)
            .args(["-append", &format!("console={} panic=-1", self.console())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut child) = child else { return false };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            match child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) => std::thread::sleep(Duration::from_millis(100)),
                Err(_) => break,
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }
}

/// The hardware watchdog's timeout under software emulation, in seconds, in place of the
/// image's 15 s (`systemd.watchdog_sec=` on the kernel command line). Emulated, PID 1 runs ten
/// or more times slower, and on a busy host the daemon-reloads of a package upgrade outlasted
/// 15 s without a ping: the guest was reset mid-upgrade. Under KVM the image's own value holds.
pub const SOFTWARE_EMULATION_WATCHDOG_S: u32 = 120;

/// How to boot.
#[derive(Debug, Clone)]
pub struct GuestOptions {
    /// Machine.
    pub arch: Arch,
    /// The raw disk image (written to: pass a copy).
    pub disk: PathBuf,
    /// Kernel and initrd from the image build (the Pi's firmware has no QEMU equivalent).
    pub kernel: PathBuf,
    /// …
    pub initrd: PathBuf,
    /// A second, read-only disk (`/dev/vdb` in the guest), e.g. packages for an update.
    pub extra_disk: Option<PathBuf>,
    /// Host port of the reference node the guest reaches at [`NODE_IN_GUEST`].
    pub node_port: u16,
    /// Host loopback port forwarded to the guest's SSH port (a technician's login), if any.
    pub ssh_port: Option<u16>,
    /// Sockets and logs go here.
    pub work: PathBuf,
    /// Guest memory.
    pub memory_mib: u32,
}

/// A running guest.
pub struct Guest {
    child: Child,
    console: Console,
    qmp: Qmp,
    /// Everything the serial console printed.
    pub serial_log: PathBuf,
    /// Whether it runs under KVM (else software emulation).
    pub kvm: bool,
}

impl Guest {
    /// Starts QEMU. The guest is booting when this returns; see [`Guest::wait_for_shell`].
    pub fn boot(opts: &GuestOptions) -> Result<Guest> {
        fs::create_dir_all(&opts.work)?;
        let serial_sock = opts.work.join("serial.sock");
        let qmp_sock = opts.work.join("qmp.sock");
        let serial_log = opts.work.join("serial.log");
        for s in [&serial_sock, &qmp_sock] {
            let _ = fs::remove_file(s);
        }
        let kvm = opts.arch.kvm_runs(&opts.kernel);
        let program = opts.arch.program();
        let mut append = format!(
            "root=LABEL=kiosk-root ro console={} quiet loglevel=3 systemd.show_status=false rootwait",
            opts.arch.console()
        );
        if !kvm {
            append.push_str(&format!(" systemd.watchdog_sec={SOFTWARE_EMULATION_WATCHDOG_S}"));
        }
        let mut cmd = Command::new(program);
        cmd.args(opts.arch.machine(kvm))
            .args(["-smp", "2", "-m", &opts.memory_mib.to_string()])
            .arg("-kernel")
            .arg(&opts.kernel)
            .arg("-initrd")
            .arg(&opts.initrd)
            .args(["-append", &append])
            .arg("-drive")
            .arg(format!("file={},format=raw,if=virtio,cache=unsafe", qemu_path(&opts.disk)?))
            // The kiosk's screen and touchscreen, and the terminal's hardware watchdog. One
            // screen only (-vga none): q35's default VGA would be a second, and which of the
            // two the kiosk draws on and `screendump` shows would be left to chance.
            .args(["-vga", "none"])
            // No EDID: the kiosk then knows the display by its 1280×800 mode as the 10.1" panel
            // of its table (kiosk/src/panel.rs) and renders as its reference screenshots do;
            // QEMU's EDID would claim 100 dpi.
            .args(["-device", &format!("virtio-gpu-pci,xres={},yres={},edid=off", SCREEN.0, SCREEN.1)])
            .args(["-device", "virtio-tablet-pci", "-device", "virtio-keyboard-pci"])
            .args(["-device", "i6300esb", "-device", "virtio-rng-pci"])
            // Loopback only: restrict=on leaves the guest nothing but this forward to the node
            // (and, inbound, the host's loopback to its SSH port).
            .args([
                "-netdev",
                &format!(
                    "user,id=net0,restrict=on,guestfwd=tcp:{NODE_IN_GUEST}-cmd:socat STDIO TCP:127.0.0.1:{}{}",
                    opts.node_port,
                    opts.ssh_port.map(|p| format!(",hostfwd=tcp:127.0.0.1:{p}-:22")).unwrap_or_default()
                ),
                "-device",
                "virtio-net-pci,netdev=net0",
            ])
            .args(["-display", "none", "-no-reboot"])
            .args(["-chardev", &format!("socket,id=ser0,path={},server=on,wait=off,logfile={}", serial_sock.display(), serial_log.display())])
            .args(["-serial", "chardev:ser0"])
            .args(["-qmp", &format!("unix:{},server=on,wait=off", qmp_sock.display())])
            .stdin(Stdio::null())
            .stdout(File::create(opts.work.join("qemu.out"))?)
            .stderr(File::create(opts.work.join("qemu.err"))?);
        if let Some(extra) = &opts.extra_disk {
            cmd.arg("-drive").arg(format!("file={},format=raw,if=virtio,readonly=on", qemu_path(extra)?));
        }
        let mut child = cmd.spawn().with_context(|| format!("starting {program} (images/install-build-deps boot installs it)"))?;
        let connect = |path: &Path, child: &mut Child| -> Result<UnixStream> {
            let start = Instant::now();
            loop {
                if let Ok(s) = UnixStream::connect(path) {
                    return Ok(s);
                }
                if let Some(status) = child.try_wait()? {
                    bail!("{program} exited ({status}): {}", fs::read_to_string(opts.work.join("qemu.err")).unwrap_or_default());
                }
                if start.elapsed() > Duration::from_secs(30) {
                    bail!("{program} did not open {} within 30 s", path.display());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        };
        let console = Console::new(connect(&serial_sock, &mut child)?)?;
        let qmp = Qmp::new(connect(&qmp_sock, &mut child)?)?;
        Ok(Guest { child, console, qmp, serial_log, kvm })
    }

    /// Waits until the serial console's root shell answers (the qemu image variant logs root
    /// in there, and only there), then makes it quiet for parsing.
    pub fn wait_for_shell(&mut self, limit: Duration) -> Result<()> {
        let start = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            // The quotes split the marker on the echoed line; only the shell's output has it whole.
            self.console.send(&format!("echo __READY\"\"{attempt}__\n"))?;
            let until = Instant::now() + Duration::from_secs(3);
            while Instant::now() < until {
                if self.console.find_from(0, &format!("__READY{attempt}__")).is_some() {
                    self.console.send("stty -echo; export TERM=dumb PAGER=cat SYSTEMD_PAGER= SYSTEMD_COLORS=0; PS1=''\n")?;
                    std::thread::sleep(Duration::from_millis(300));
                    return Ok(());
                }
                self.check_alive()?;
                std::thread::sleep(Duration::from_millis(100));
            }
            if start.elapsed() > limit {
                bail!("no shell on the serial console after {limit:?}; last output:\n{}", self.console.tail(2000));
            }
        }
    }

    fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("QEMU exited ({status}); serial console:\n{}", self.console.tail(3000));
        }
        Ok(())
    }

    /// Runs `command` in the guest's shell; its exit code and output (stdout and stderr).
    pub fn run(&mut self, command: &str, limit: Duration) -> Result<(i32, String)> {
        self.console.counter += 1;
        let n = self.console.counter;
        let begin = format!("__BEGIN{n}__");
        let end = format!("__END{n}__ ");
        let from = self.console.len();
        self.console.send(&format!("echo __BEGIN\"\"{n}__; ( {command} ) </dev/null 2>&1; echo __END\"\"{n}__ $?\n"))?;
        let start = Instant::now();
        loop {
            if let Some(b) = self.console.find_from(from, &begin) {
                let body_start = b + begin.len();
                if let Some(e) = self.console.find_from(body_start, &end) {
                    let text = self.console.text(body_start, e);
                    let code_text = self.console.line_from(e + end.len());
                    if let Some(code_text) = code_text {
                        let code = code_text.trim().parse::<i32>().with_context(|| format!("exit code of `{command}`: '{code_text}'"))?;
                        return Ok((code, clean(&text)));
                    }
                }
            }
            self.check_alive()?;
            if start.elapsed() > limit {
                bail!("`{command}` did not finish within {limit:?}; console:\n{}", self.console.tail(2000));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `command` and fails unless it exits 0; returns its output.
    pub fn check(&mut self, command: &str, limit: Duration) -> Result<String> {
        let (code, out) = self.run(command, limit)?;
        if code != 0 {
            bail!("`{command}` exited {code}:\n{out}");
        }
        Ok(out)
    }

    /// Types `command` without waiting for it (e.g. `systemctl poweroff`).
    pub fn send(&mut self, command: &str) -> Result<()> {
        self.console.send(&format!("{command}\n"))
    }

    /// Writes `bytes` to `path` in the guest, through the console (base64 in short lines).
    pub fn write_file(&mut self, path: &str, bytes: &[u8]) -> Result<()> {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        self.check(&format!(": > {path}.b64"), Duration::from_secs(10))?;
        for chunk in encoded.as_bytes().chunks(768) {
            let chunk = std::str::from_utf8(chunk)?;
            self.check(&format!("printf '%s' '{chunk}' >> {path}.b64"), Duration::from_secs(10))?;
        }
        self.check(&format!("base64 -d {path}.b64 > {path} && rm {path}.b64"), Duration::from_secs(10))?;
        Ok(())
    }

    /// The screen as QEMU shows it.
    pub fn screendump(&mut self, path: &Path) -> Result<Frame> {
        let _ = fs::remove_file(path);
        self.qmp.execute("screendump", json!({"filename": path.to_string_lossy()}))?;
        Frame::read_ppm(path)
    }

    /// Touches the screen at (x, y) in pixels: the virtio tablet is an absolute pointer, as a
    /// touchscreen is to libinput.
    pub fn tap(&mut self, x: u32, y: u32) -> Result<()> {
        self.pointer_to(x, y)?;
        for down in [true, false] {
            self.qmp.execute("input-send-event", json!({"events": [{"type": "btn", "data": {"down": down, "button": "left"}}]}))?;
            std::thread::sleep(Duration::from_millis(80));
        }
        Ok(())
    }

    /// Moves the pointer (e.g. out of the way of a screenshot).
    pub fn pointer_to(&mut self, x: u32, y: u32) -> Result<()> {
        let scale = |v: u32, max: u32| (u64::from(v) * 0x7fff / u64::from(max.max(1))) as i64;
        self.qmp.execute(
            "input-send-event",
            json!({"events": [
                {"type": "abs", "data": {"axis": "x", "value": scale(x, SCREEN.0)}},
                {"type": "abs", "data": {"axis": "y", "value": scale(y, SCREEN.1)}},
            ]}),
        )?;
        std::thread::sleep(Duration::from_millis(80));
        Ok(())
    }

    /// Waits for QEMU to exit by itself (the guest powered off).
    pub fn wait_exit(&mut self, limit: Duration) -> Result<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if start.elapsed() > limit {
                bail!("the guest did not power off within {limit:?}; console:\n{}", self.console.tail(3000));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The last `n` bytes the console printed.
    pub fn console_tail(&self, n: usize) -> String {
        self.console.tail(n)
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// QEMU splits option values at commas; a path holding one must double it.
fn qemu_path(path: &Path) -> Result<String> {
    let s = path.to_str().with_context(|| format!("{} is not UTF-8", path.display()))?;
    Ok(s.replace(',', ",,"))
}

/// Drops the terminal's carriage returns.
fn clean(text: &str) -> String {
    text.replace('\r', "").trim_matches('\n').to_string()
}

/// The serial console: what was written so far, read by a thread.
struct Console {
    stream: UnixStream,
    buffer: Arc<Mutex<Vec<u8>>>,
    counter: u64,
}

impl Console {
    fn new(stream: UnixStream) -> Result<Console> {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let mut reader = stream.try_clone()?;
        let sink = Arc::clone(&buffer);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            // Ends when QEMU closes the socket.
            while let Ok(n) = reader.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                if let Ok(mut b) = sink.lock() {
                    b.extend_from_slice(&chunk[..n]);
                }
            }
        });
        // A guest that stops reading its console must fail the test, not hang it.
        stream.set_write_timeout(Some(Duration::from_secs(60)))?;
        Ok(Console { stream, buffer, counter: 0 })
    }

    fn send(&mut self, text: &str) -> Result<()> {
        // A slow (emulated) guest drops what overflows its UART's buffer: type in small pieces.
        for piece in text.as_bytes().chunks(64) {
            self.stream.write_all(piece).context("writing to the serial console")?;
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.buffer.lock().map(|b| b.len()).unwrap_or(0)
    }

    fn find_from(&self, from: usize, needle: &str) -> Option<usize> {
        let b = self.buffer.lock().ok()?;
        let hay = b.get(from..)?;
        hay.windows(needle.len()).position(|w| w == needle.as_bytes()).map(|p| p + from)
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.buffer.lock().map(|b| String::from_utf8_lossy(&b[from.min(b.len())..to.min(b.len())]).into_owned()).unwrap_or_default()
    }

    /// The rest of the line starting at `from`, once its end has arrived.
    fn line_from(&self, from: usize) -> Option<String> {
        let b = self.buffer.lock().ok()?;
        let rest = b.get(from..)?;
        let end = rest.iter().position(|&c| c == b'\n' || c == b'\r')?;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    fn tail(&self, n: usize) -> String {
        self.buffer.lock().map(|b| String::from_utf8_lossy(&b[b.len().saturating_sub(n)..]).replace('\r', "")).unwrap_or_default()
    }
}

/// QEMU's machine protocol on its Unix socket.
struct Qmp {
    writer: UnixStream,
    reader: BufReader<UnixStream>,
}

impl Qmp {
    fn new(stream: UnixStream) -> Result<Qmp> {
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut qmp = Qmp { writer: stream.try_clone()?, reader: BufReader::new(stream) };
        let mut greeting = String::new();
        qmp.reader.read_line(&mut greeting).context("reading QMP's greeting")?;
        qmp.execute("qmp_capabilities", json!({}))?;
        Ok(qmp)
    }

    fn execute(&mut self, command: &str, arguments: Value) -> Result<Value> {
        let request = json!({"execute": command, "arguments": arguments});
        writeln!(self.writer, "{request}").context("writing to QMP")?;
        // Each read is bounded (60 s); so is the whole wait, however many events come first.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if Instant::now() > deadline {
                bail!("QMP did not answer `{command}` within 120 s");
            }
            let mut line = String::new();
            if self.reader.read_line(&mut line).context("reading from QMP")? == 0 {
                bail!("QMP closed while waiting for `{command}`");
            }
            let answer: Value = serde_json::from_str(&line).with_context(|| format!("QMP sent something that is not JSON: {line}"))?;
            if let Some(r) = answer.get("return") {
                return Ok(r.clone());
            }
            if let Some(e) = answer.get("error") {
                bail!("QMP `{command}` failed: {e}");
            }
            // An asynchronous event: not our answer.
        }
    }
}

/// A screenshot, as RGB bytes.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Pixels.
    pub width: u32,
    /// …
    pub height: u32,
    /// Row-major RGB.
    pub rgb: Vec<u8>,
}

/// A rectangle of the screen: x, y, width, height.
pub type Region = (u32, u32, u32, u32);

impl Frame {
    /// Reads QEMU's `screendump` (binary PPM).
    pub fn read_ppm(path: &Path) -> Result<Frame> {
        let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        // "P6\n<w> <h>\n<max>\n" then RGB.
        let mut fields = Vec::new();
        let mut pos = 0;
        while fields.len() < 4 {
            while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
                pos += 1;
            }
            let start = pos;
            while pos < bytes.len() && !bytes[pos].is_ascii_whitespace() {
                pos += 1;
            }
            if start == pos {
                bail!("{} is not a PPM image", path.display());
            }
            fields.push(String::from_utf8_lossy(&bytes[start..pos]).into_owned());
        }
        if fields[0] != "P6" || fields[3] != "255" {
            bail!("{}: expected an 8-bit P6 PPM, got {} / {}", path.display(), fields[0], fields[3]);
        }
        let width: u32 = fields[1].parse()?;
        let height: u32 = fields[2].parse()?;
        let data = bytes.get(pos + 1..).unwrap_or_default();
        let need = (width * height * 3) as usize;
        if data.len() < need {
            bail!("{}: {} bytes of pixels for {width}×{height}", path.display(), data.len());
        }
        Ok(Frame { width, height, rgb: data[..need].to_vec() })
    }

    /// Reads a reference screenshot (8-bit RGB or RGBA PNG).
    pub fn read_png(path: &Path) -> Result<Frame> {
        let decoder = png::Decoder::new(BufReader::new(File::open(path).with_context(|| format!("opening {}", path.display()))?));
        let mut reader = decoder.read_info()?;
        let mut buf = vec![0; reader.output_buffer_size().context("PNG too large")?];
        let info = reader.next_frame(&mut buf)?;
        let channels = match info.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => bail!("{}: {other:?} PNG, expected RGB or RGBA", path.display()),
        };
        let rgb = buf[..info.buffer_size()].chunks(channels).flat_map(|p| [p[0], p[1], p[2]]).collect();
        Ok(Frame { width: info.width, height: info.height, rgb })
    }

    /// Writes the frame as PNG (for a person to look at when a comparison fails).
    pub fn write_png(&self, path: &Path) -> Result<()> {
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(File::create(path)?), self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(&self.rgb)?;
        Ok(())
    }

    /// Share of the pixels of `region` that differ from `other` by more than a little in any
    /// channel (0.0 = identical).
    pub fn difference(&self, other: &Frame, region: Region) -> Result<f64> {
        if (self.width, self.height) != (other.width, other.height) {
            bail!("screens differ in size: {}×{} against {}×{}", self.width, self.height, other.width, other.height);
        }
        let (x0, y0, w, h) = region;
        if x0 + w > self.width || y0 + h > self.height || w == 0 || h == 0 {
            bail!("region {region:?} is not inside {}×{}", self.width, self.height);
        }
        let mut differing = 0u64;
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                let i = ((y * self.width + x) * 3) as usize;
                if (0..3).any(|c| self.rgb[i + c].abs_diff(other.rgb[i + c]) > 24) {
                    differing += 1;
                }
            }
        }
        Ok(differing as f64 / f64::from(w * h))
    }

    /// Whether every pixel is the same colour (a screen nothing has drawn on yet).
    pub fn is_blank(&self) -> bool {
        self.rgb.chunks(3).all(|p| p == &self.rgb[..3])
    }
}
