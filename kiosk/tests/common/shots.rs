//! Screenshots compared with the reviewed references under `kiosk/tests/screenshots`.

use std::path::PathBuf;

use super::Harness;
use slint::ComponentHandle;

/// A pixel counts as different when a channel differs by more than this.
const CHANNEL_TOLERANCE: u8 = 24;
/// A screen matches when at most this fraction of its pixels differ (anti-aliasing noise).
const PIXEL_TOLERANCE: f64 = 0.0001;

pub struct Shots {
    /// The folder under `tests/screenshots`: `ar`, or `800x480/ar` for another panel.
    pub language: String,
    pub failures: Vec<String>,
    pub taken: Vec<String>,
}

impl Shots {
    pub fn new(folder: &str) -> Shots {
        Shots { language: folder.into(), failures: Vec::new(), taken: Vec::new() }
    }

    /// Renders the window and compares it with (or, with `KIOSK_UPDATE_SCREENSHOTS=1`, writes)
    /// `tests/screenshots/<folder>/<screen>.png`.
    pub fn take(&mut self, h: &Harness, screen: &str) {
        h.pump();
        let buffer = h.ui.window().take_snapshot().expect("the software renderer renders the window");
        let (w, hgt) = (buffer.width(), buffer.height());
        let rgba: Vec<u8> = buffer.as_bytes().to_vec();
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let reference = root.join("tests/screenshots").join(&self.language).join(format!("{screen}.png"));
        self.taken.push(format!("{}/{screen}", self.language));
        if std::env::var_os("KIOSK_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
            write_png(&reference, w, hgt, &rgba);
            return;
        }
        let problem = match read_png(&reference) {
            Err(e) => Some(format!("{}: {e}; run with KIOSK_UPDATE_SCREENSHOTS=1 and review the image", reference.display())),
            Ok((rw, rh, _)) if (rw, rh) != (w, hgt) => Some(format!("{}: size {rw}x{rh}, render {w}x{hgt}", reference.display())),
            // Most renders are the reference byte for byte: one comparison of the buffers (a
            // memcmp) settles them. The walk below, pixel by pixel, is test code built without
            // optimisation and was most of these tests' time.
            Ok((_, _, expected)) if expected == rgba => None,
            Ok((_, _, expected)) => {
                let differing = expected
                    .chunks_exact(4)
                    .zip(rgba.chunks_exact(4))
                    .filter(|(a, b)| a != b && a.iter().zip(b.iter()).any(|(x, y)| x.abs_diff(*y) > CHANNEL_TOLERANCE))
                    .count();
                let fraction = differing as f64 / (w as f64 * hgt as f64);
                (fraction > PIXEL_TOLERANCE).then(|| format!("{}: {:.2}% of pixels differ", reference.display(), fraction * 100.0))
            }
        };
        if let Some(p) = problem {
            let actual = root.join("../target/kiosk-screenshots").join(&self.language).join(format!("{screen}.png"));
            write_png(&actual, w, hgt, &rgba);
            self.failures.push(format!("{p} (render: {})", actual.display()));
        }
    }
}

pub fn write_png(path: &std::path::Path, w: u32, h: u32, rgba: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create the screenshot folder");
    }
    let file = std::fs::File::create(path).expect("create the PNG");
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().expect("PNG header");
    writer.write_image_data(rgba).expect("PNG data");
}

pub fn read_png(path: &std::path::Path) -> Result<(u32, u32, Vec<u8>), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or("PNG too large")?];
    let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    if info.color_type != png::ColorType::Rgba {
        return Err(format!("expected RGBA, found {:?}", info.color_type));
    }
    buf.truncate(info.buffer_size());
    Ok((info.width, info.height, buf))
}

