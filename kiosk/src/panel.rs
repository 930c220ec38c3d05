//! The physical size of the panel, so that `1mm` in the `.slint` files is a millimetre on the
//! glass and every touch target really is at least 9 mm.
//!
//! Slint converts `mm` at 96 dpi and multiplies by the window's scale factor, which is 1 unless
//! something says otherwise. The kiosk works out the factor from the panel's pixels per
//! millimetre ([`Panel::scale_factor`], chosen by [`decide_scale_factor`]) and hands it to Slint through `SLINT_SCALE_FACTOR`, which the
//! linuxkms backend (on the device) and winit (in a window) read when the window is shown.
//! Where the size comes from, first found wins ([`PanelSource`]):
//!
//! 1. the technician: `--panel-mm WIDTHxHEIGHT` or `KIOSK_PANEL_MM`;
//! 2. the EDID of the connected DRM connector (`/sys/class/drm/card*-*/edid`, the image size of
//!    its first detailed timing descriptor, [`edid_image_size_mm`]);
//! 3. DSI panels (the Raspberry Pi's) have no EDID: [`KNOWN_PANELS`], by the connector's mode;
//! 4. otherwise scale 1, as before, with a line on stderr.

use std::path::Path;

/// Slint's `mm` unit: 96 logical pixels per inch.
pub const LOGICAL_PX_PER_MM: f32 = 96.0 / 25.4;

/// A panel: its resolution in pixels and its active area in millimetres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Panel {
    pub width_px: u32,
    pub height_px: u32,
    pub width_mm: f32,
    pub height_mm: f32,
}

/// Panels without an EDID that the kiosk recognises by their resolution (DSI panels report
/// none), and the usual HDMI kiosk panels, whose EDID some boards do not pass on.
pub const KNOWN_PANELS: [(&str, Panel); 4] = [
    // Raspberry Pi Touch Display (7", DSI): active area from its data sheet.
    ("Raspberry Pi Touch Display 7\"", Panel { width_px: 800, height_px: 480, width_mm: 154.08, height_mm: 85.92 }),
    // Raspberry Pi Touch Display 2 (7", DSI, portrait): "155×88 mm active area", Raspberry Pi's
    // documentation (accessories/touch-display-2).
    ("Raspberry Pi Touch Display 2 (7\", portrait)", Panel { width_px: 720, height_px: 1280, width_mm: 88.0, height_mm: 155.0 }),
    ("10.1\" 1280x800 panel", Panel { width_px: 1280, height_px: 800, width_mm: 216.96, height_mm: 135.6 }),
    ("15.6\" 1920x1080 panel", Panel { width_px: 1920, height_px: 1080, width_mm: 344.16, height_mm: 193.59 }),
];

impl Panel {
    /// Physical pixels per millimetre, horizontally and vertically (they differ a little on
    /// panels whose pixels are not square, like the 7" Touch Display).
    pub fn px_per_mm(&self) -> (f32, f32) {
        (self.width_px as f32 / self.width_mm, self.height_px as f32 / self.height_mm)
    }

    /// The scale factor that makes Slint's `1mm` one millimetre on this panel: the panel's
    /// pixels per millimetre over Slint's 96/25.4. Where pixels are not square the denser
    /// direction counts, so that no size ends up smaller than written in either direction.
    pub fn scale_factor(&self) -> f32 {
        let (x, y) = self.px_per_mm();
        x.max(y) / LOGICAL_PX_PER_MM
    }

    /// The window's size in logical pixels at [`Panel::scale_factor`].
    pub fn logical_size(&self) -> (f32, f32) {
        let s = self.scale_factor();
        (self.width_px as f32 / s, self.height_px as f32 / s)
    }

    /// The panel in [`KNOWN_PANELS`] with this resolution.
    pub fn known(width_px: u32, height_px: u32) -> Option<Panel> {
        KNOWN_PANELS.iter().map(|(_, p)| *p).find(|p| (p.width_px, p.height_px) == (width_px, height_px))
    }
}

/// Where the panel's size came from (said on stderr at start).
#[derive(Clone, Debug, PartialEq)]
pub enum PanelSource {
    /// `--panel-mm` or `KIOSK_PANEL_MM`.
    Technician,
    /// The EDID of this connector.
    Edid(String),
    /// [`KNOWN_PANELS`], by the mode of this connector.
    KnownPanel(String),
}

/// A `--panel-mm` value that does not say a size.
#[derive(Debug, PartialEq, Eq)]
pub struct BadPanelSize(pub String);

impl std::fmt::Display for BadPanelSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "panel size '{}' is not WIDTHxHEIGHT in millimetres, e.g. 216.96x135.6", self.0)
    }
}

impl std::error::Error for BadPanelSize {}

/// Parses `WIDTHxHEIGHT` in millimetres (`216.96x135.6`); both positive and below a metre and a half.
pub fn parse_mm(value: &str) -> Result<(f32, f32), BadPanelSize> {
    let bad = || BadPanelSize(value.to_owned());
    let (w, h) = value.trim().split_once(['x', 'X', '×']).ok_or_else(bad)?;
    let w: f32 = w.trim().parse().map_err(|_| bad())?;
    let h: f32 = h.trim().parse().map_err(|_| bad())?;
    let plausible = |v: f32| v.is_finite() && v > 10.0 && v < 1500.0;
    if plausible(w) && plausible(h) {
        Ok((w, h))
    } else {
        Err(bad())
    }
}

/// The image size in millimetres of an EDID's first detailed timing descriptor (bytes 54–71:
/// byte 66 and 67 the low 8 bits of width and height, byte 68 their high 4 bits). `None` for a
/// block that is not an EDID (header, checksum), whose first descriptor is not a timing, or whose
/// size is zero (projectors and some adapters say nothing).
pub fn edid_image_size_mm(edid: &[u8]) -> Option<(u32, u32)> {
    const HEADER: [u8; 8] = [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];
    let block = edid.get(..128)?;
    if block[..8] != HEADER || block.iter().fold(0u8, |sum, b| sum.wrapping_add(*b)) != 0 {
        return None;
    }
    let descriptor = &block[54..72];
    // A pixel clock of zero marks a display descriptor (name, serial…), not a timing.
    if descriptor[0] == 0 && descriptor[1] == 0 {
        return None;
    }
    let width = u32::from(descriptor[12]) | (u32::from(descriptor[14] >> 4) << 8);
    let height = u32::from(descriptor[13]) | (u32::from(descriptor[14] & 0x0f) << 8);
    (width > 0 && height > 0).then_some((width, height))
}

/// The resolution of a connector's first (preferred) mode, from its `modes` file: `800x480`.
pub fn first_mode(modes: &str) -> Option<(u32, u32)> {
    let line = modes.lines().next()?.trim();
    let (w, h) = line.split_once('x')?;
    // Interlaced modes end in `i`.
    let h = h.trim_end_matches(|c: char| !c.is_ascii_digit());
    Some((w.parse().ok()?, h.parse().ok()?))
}

/// The panel of the first connected connector under `drm` (normally `/sys/class/drm`): its
/// EDID's size, else the known panel with its mode's resolution.
pub fn detect(drm: &Path) -> Option<(Panel, PanelSource)> {
    let mut connectors: Vec<_> = std::fs::read_dir(drm)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("card") && n.contains('-')))
        .collect();
    connectors.sort();
    for connector in connectors {
        let connected = std::fs::read_to_string(connector.join("status")).is_ok_and(|s| s.trim() == "connected");
        if !connected {
            continue;
        }
        let name = connector.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let Some((width_px, height_px)) = std::fs::read_to_string(connector.join("modes")).ok().as_deref().and_then(first_mode) else {
            continue;
        };
        let edid = std::fs::read(connector.join("edid")).unwrap_or_default();
        if let Some((w, h)) = edid_image_size_mm(&edid) {
            // The EDID describes the panel in its native orientation; the mode may be rotated.
            let (w, h) = if (w > h) == (width_px >= height_px) { (w, h) } else { (h, w) };
            let panel = Panel { width_px, height_px, width_mm: w as f32, height_mm: h as f32 };
            return Some((panel, PanelSource::Edid(name)));
        }
        if let Some(panel) = Panel::known(width_px, height_px) {
            return Some((panel, PanelSource::KnownPanel(name)));
        }
    }
    None
}

/// The scale factor for this kiosk: from the technician's size (`panel_mm`, applied to the
/// connected connector's resolution, or to `fallback_px` when none is found), else the detected
/// panel. `None` when nothing is known. Also returns a line saying where it came from.
pub fn decide_scale_factor(panel_mm: Option<(f32, f32)>, drm: &Path, fallback_px: (u32, u32)) -> (Option<f32>, String) {
    let detected = detect(drm);
    if let Some((width_mm, height_mm)) = panel_mm {
        let (width_px, height_px) = detected.map(|(p, _)| (p.width_px, p.height_px)).unwrap_or(fallback_px);
        let panel = Panel { width_px, height_px, width_mm, height_mm };
        let s = panel.scale_factor();
        return (Some(s), format!("panel {width_mm}x{height_mm} mm (given), {width_px}x{height_px} px: scale factor {s:.3}"));
    }
    match detected {
        Some((p, source)) => {
            let s = p.scale_factor();
            let from = match source {
                PanelSource::Edid(c) => format!("EDID of {c}"),
                PanelSource::KnownPanel(c) => format!("known panel with the mode of {c}"),
                PanelSource::Technician => "given".to_owned(),
            };
            (Some(s), format!("panel {}x{} mm ({from}), {}x{} px: scale factor {s:.3}", p.width_mm, p.height_mm, p.width_px, p.height_px))
        }
        None => (None, "panel size unknown (no --panel-mm, no EDID, no known panel): scale factor 1, so millimetres on screen are not real millimetres".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 128-byte EDID base block whose first descriptor is a timing with this image size.
    fn edid(width_mm: u32, height_mm: u32) -> Vec<u8> {
        let mut e = vec![0u8; 128];
        e[..8].copy_from_slice(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);
        e[54] = 0x01; // pixel clock, non-zero
        e[55] = 0x1d;
        e[66] = (width_mm & 0xff) as u8;
        e[67] = (height_mm & 0xff) as u8;
        e[68] = (((width_mm >> 8) as u8) << 4) | ((height_mm >> 8) as u8 & 0x0f);
        let sum = e.iter().fold(0u8, |s, b| s.wrapping_add(*b));
        e[127] = 0u8.wrapping_sub(sum);
        e
    }

    #[test]
    fn edid_image_size_uses_the_high_bits() {
        assert_eq!(edid_image_size_mm(&edid(217, 136)), Some((217, 136)));
        assert_eq!(edid_image_size_mm(&edid(344, 194)), Some((344, 194)));
        assert_eq!(edid_image_size_mm(&edid(1209, 680)), Some((1209, 680)));
    }

    #[test]
    fn edid_is_refused_when_not_an_edid_or_without_size() {
        let mut bad_sum = edid(217, 136);
        bad_sum[100] ^= 1;
        assert_eq!(edid_image_size_mm(&bad_sum), None);
        assert_eq!(edid_image_size_mm(&[]), None);
        assert_eq!(edid_image_size_mm(&edid(217, 136)[..100]), None);
        assert_eq!(edid_image_size_mm(&edid(0, 0)), None);
        let mut header = edid(217, 136);
        header[0] = 1;
        header[127] = header[127].wrapping_sub(1);
        assert_eq!(edid_image_size_mm(&header), None);
    }

    #[test]
    fn scale_factor_makes_a_millimetre_real() {
        let ten = Panel::known(1280, 800).expect("10.1\"");
        assert!((ten.scale_factor() - 1.561).abs() < 0.001, "{}", ten.scale_factor());
        let seven = Panel::known(800, 480).expect("7\"");
        // 480 px over 85.92 mm is denser than 800 over 154.08: the vertical counts.
        assert!((seven.scale_factor() - 1.478).abs() < 0.001, "{}", seven.scale_factor());
        let (w, h) = seven.logical_size();
        assert!((w - 541.2).abs() < 0.1 && (h - 324.7).abs() < 0.1, "{w}x{h}");
        // 9 mm at that scale is at least 9 mm on the glass both ways.
        let px = 9.0 * LOGICAL_PX_PER_MM * seven.scale_factor();
        let (x, y) = seven.px_per_mm();
        assert!(px / x >= 9.0 - 1e-3 && px / y >= 9.0 - 1e-3);
    }

    #[test]
    fn panel_mm_is_width_by_height() {
        assert_eq!(parse_mm("216.96x135.6"), Ok((216.96, 135.6)));
        assert_eq!(parse_mm(" 154x86 "), Ok((154.0, 86.0)));
        assert!(parse_mm("154").is_err());
        assert!(parse_mm("0x86").is_err());
        assert!(parse_mm("axb").is_err());
    }

    #[test]
    fn first_mode_is_the_preferred_one() {
        assert_eq!(first_mode("800x480\n640x480\n"), Some((800, 480)));
        assert_eq!(first_mode("1920x1080i\n"), Some((1920, 1080)));
        assert_eq!(first_mode(""), None);
    }

    #[test]
    fn detect_reads_edid_then_known_panels() {
        let drm = tempfile::tempdir().expect("temp dir");
        let connector = |name: &str, status: &str, modes: &str, edid_bytes: &[u8]| {
            let dir = drm.path().join(name);
            std::fs::create_dir_all(&dir).expect("connector dir");
            std::fs::write(dir.join("status"), status).expect("status");
            std::fs::write(dir.join("modes"), modes).expect("modes");
            std::fs::write(dir.join("edid"), edid_bytes).expect("edid");
        };
        assert_eq!(detect(drm.path()), None);
        // A DSI panel: no EDID, known by its mode.
        connector("card1-DSI-1", "connected\n", "800x480\n", &[]);
        connector("card1-HDMI-A-1", "disconnected\n", "", &[]);
        let (panel, source) = detect(drm.path()).expect("the DSI panel");
        assert_eq!(panel, Panel::known(800, 480).expect("7\""));
        assert_eq!(source, PanelSource::KnownPanel("card1-DSI-1".into()));
        // An HDMI panel with an EDID comes first in name order and wins.
        connector("card0-HDMI-A-1", "connected\n", "1920x1080\n1280x720\n", &edid(344, 194));
        let (panel, source) = detect(drm.path()).expect("the HDMI panel");
        assert_eq!((panel.width_mm, panel.height_mm, panel.width_px), (344.0, 194.0, 1920));
        assert_eq!(source, PanelSource::Edid("card0-HDMI-A-1".into()));
        // The technician's size applies to the connected panel's resolution.
        let (s, _) = decide_scale_factor(Some((172.08, 96.8)), drm.path(), (1280, 800));
        assert!((s.expect("a scale") - 1920.0 / 172.08 / LOGICAL_PX_PER_MM).abs() < 1e-3);
    }
}
