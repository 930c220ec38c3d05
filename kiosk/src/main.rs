//! The kiosk binary: the touchscreen application of the enrollment terminal (Slint).
//!
//! It shows the screens of applicants, staff and technicians and talks only to terminal-service's
//! local API on its Unix socket. In a window (X11/Wayland) for development and the demo; full
//! screen without a window system on the device (`SLINT_BACKEND=linuxkms-software`, as its unit sets).
//! Licensed GPL-3.0-only, as Slint's licence for embedded systems requires.

use std::path::PathBuf;

use anyhow::{Context, Result};
use kiosk::api::{LocalApi, DEFAULT_SOCKET};
use kiosk::flow::{Kiosk, KioskOptions};
use slint::ComponentHandle;

const USAGE: &str = "usage: kiosk [--socket PATH] [--fullscreen] [--size WIDTHxHEIGHT] [--panel-mm WIDTHxHEIGHT] [--state-dir DIR]
  --socket PATH    terminal-service's local API (default /run/terminal-service/api.sock)
  --state-dir DIR  remember the language on screen in DIR/language, so that a restart comes back
                   in it (e.g. /var/lib/kiosk); without it the kiosk writes nothing
  --fullscreen     fill the screen (always the case with the linuxkms backend)
  --size WxH       window size in logical pixels (default 1280x800)
  --panel-mm WxH   the panel's active area in millimetres (also KIOSK_PANEL_MM), e.g. 154.08x85.92;
                   without it the connected panel's EDID, then the known Raspberry Pi panels by
                   resolution, else scale 1 (SLINT_SCALE_FACTOR, when set, overrides all of these)
  --first-frame PNG  write the first frame to PNG, print the resident memory, and exit (benchmark)
  --demo           F1 staff badge, F2 technician badge, F3 applicant card, F4 take the card off
                   (simulated reader of the demo's terminal-service)";

fn main() -> Result<()> {
    if kiosk::fonts::font_dir().is_none() {
        eprintln!("kiosk: the shipped fonts are not in {} (or KIOSK_FONT_DIR): the system's fonts fill in", kiosk::fonts::INSTALLED_DIR);
    }
    // First, while the process has one thread: it sets an environment variable.
    kiosk::fonts::use_shipped_fallbacks();
    let mut socket = PathBuf::from(DEFAULT_SOCKET);
    let mut fullscreen = false;
    let mut demo_keys = false;
    let mut first_frame: Option<PathBuf> = None;
    let mut state_dir: Option<PathBuf> = None;
    let mut size = (1280u32, 800u32);
    let mut panel_mm = std::env::var("KIOSK_PANEL_MM").ok().filter(|v| !v.is_empty());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--socket" => socket = PathBuf::from(args.next().context("--socket needs a path")?),
            "--fullscreen" => fullscreen = true,
            "--demo" => demo_keys = true,
            "--state-dir" => state_dir = Some(PathBuf::from(args.next().context("--state-dir needs a directory")?)),
            "--first-frame" => first_frame = Some(PathBuf::from(args.next().context("--first-frame needs a PNG path")?)),
            "--panel-mm" => panel_mm = Some(args.next().context("--panel-mm needs WIDTHxHEIGHT in millimetres")?),
            "--size" => {
                let v = args.next().context("--size needs WIDTHxHEIGHT")?;
                let (w, h) = v.split_once('x').context("--size is WIDTHxHEIGHT, e.g. 1280x800")?;
                size = (w.parse().context("--size width is a number")?, h.parse().context("--size height is a number")?);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument '{other}'\n{USAGE}"),
        }
    }
    // Before the window exists and before the runtime's threads start: it sets an environment
    // variable, which linuxkms and winit read when the window is shown.
    use_real_millimetres(panel_mm.as_deref(), size)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let api = LocalApi::new(&socket).context("cannot build the local API client")?;
    let ui = kiosk::ui::AppWindow::new().context("cannot create the window (is a display or /dev/dri available?)")?;
    ui.window().set_size(slint::LogicalSize::new(size.0 as f32, size.1 as f32));
    ui.window().set_fullscreen(fullscreen);
    let _kiosk = Kiosk::start(&ui, api, runtime.handle().clone(), KioskOptions { demo_keys, state_dir, ..KioskOptions::default() });
    if let Some(path) = first_frame {
        let weak = ui.as_weak();
        slint::Timer::single_shot(std::time::Duration::ZERO, move || {
            if let Some(ui) = weak.upgrade() {
                if let Err(e) = write_first_frame(&ui, &path) {
                    eprintln!("kiosk: first frame: {e:#}");
                }
            }
            let _ = slint::quit_event_loop();
        });
    }
    ui.run().context("the UI event loop failed")?;
    Ok(())
}

/// Sets Slint's scale factor so that `1mm` is a millimetre on the panel (`kiosk::panel`), unless
/// `SLINT_SCALE_FACTOR` is already set. `size` stands for the panel's pixels when `--panel-mm` is
/// given and no connected panel is found.
fn use_real_millimetres(panel_mm: Option<&str>, size: (u32, u32)) -> Result<()> {
    let panel_mm = panel_mm.map(kiosk::panel::parse_mm).transpose()?;
    if let Ok(given) = std::env::var("SLINT_SCALE_FACTOR") {
        eprintln!("kiosk: scale factor {given} from SLINT_SCALE_FACTOR");
        return Ok(());
    }
    let (scale, how) = kiosk::panel::decide_scale_factor(panel_mm, std::path::Path::new("/sys/class/drm"), size);
    eprintln!("kiosk: {how}");
    if let Some(s) = scale {
        std::env::set_var("SLINT_SCALE_FACTOR", format!("{s:.4}"));
    }
    Ok(())
}

/// Renders the window as it is now, writes it to `path`, and prints the resident memory.
fn write_first_frame(ui: &kiosk::ui::AppWindow, path: &std::path::Path) -> Result<()> {
    let frame = ui.window().take_snapshot().context("cannot render the window")?;
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), frame.width(), frame.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(frame.as_bytes())?;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or("VmRSS: ?");
    println!("first frame written to {}; {rss}", path.display());
    Ok(())
}
