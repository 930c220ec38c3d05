//! Which fonts fill in for a missing glyph.
//!
//! Every screen names its font (Noto Sans Arabic for Arabic and Kurdish, Noto Sans for English,
//! both shipped in `kiosk/fonts` and compiled in by the `.slint` imports). Text in one script on
//! a screen in another — "Welcome" on the Arabic language screen, Kurdish words on the English
//! one — needs a fallback, and Slint takes it from the generic sans-serif family, which is
//! whatever the system has (DejaVu Sans on a Debian desktop, which lacks Kurdish letters; nothing
//! at all on a minimal image). So the screens would look different on every machine. Slint reads
//! its fallback chain from `SLINT_FONT_PATH`; pointing it at the shipped files makes the
//! fallback the project's own fonts everywhere, and the screenshots reproducible.

use std::path::{Path, PathBuf};

/// The shipped font files, in fallback order: Latin first (its own script only), then
/// Arabic-script, each regular before bold.
pub const FILES: [&str; 4] = ["NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"];

/// Where the installed kiosk keeps its fonts.
pub const INSTALLED_DIR: &str = "/usr/share/kiosk/fonts";

/// The first folder holding every shipped font: `KIOSK_FONT_DIR`, then [`INSTALLED_DIR`], then
/// the source tree's `kiosk/fonts` (development, tests and the demo).
pub fn font_dir() -> Option<PathBuf> {
    let candidates = std::env::var_os("KIOSK_FONT_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from(INSTALLED_DIR), Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts")]);
    candidates.into_iter().find(|dir| FILES.iter().all(|f| dir.join(f).is_file()))
}

/// Makes the shipped fonts Slint's fallback chain, unless `SLINT_FONT_PATH` is already set.
/// Call it before the first window is created and before other threads start: it sets an
/// environment variable. Returns the folder used, or `None` when no folder holds the fonts (the
/// system's fonts then fill in).
pub fn use_shipped_fallbacks() -> Option<PathBuf> {
    if std::env::var_os("SLINT_FONT_PATH").is_some() {
        return None;
    }
    let dir = font_dir()?;
    let files = FILES.iter().map(|f| dir.join(f));
    // `join_paths` fails only on a path holding the separator, which these do not.
    let list = std::env::join_paths(files).ok()?;
    std::env::set_var("SLINT_FONT_PATH", list);
    Some(dir)
}
