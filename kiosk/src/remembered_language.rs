//! The language on screen, remembered across restarts in one small file.
//!
//! On the device the kiosk runs under systemd with `Restart=always`. Without a memory, a crash
//! or a restart would bring the language screen back in Arabic in front of someone who had just
//! chosen Kurdish or English. With `--state-dir DIR` the kiosk keeps `DIR/language`: the code of
//! the language on screen (`ar`, `ckb` or `en`) and a newline, nothing else. It says which
//! language the screen was in, not who used it; nothing an applicant typed is ever written, so
//! the kiosk still keeps no personal data.
//!
//! Losing the file costs only the language of one screen, so everything here is best effort: a
//! file that is missing, unreadable or holds anything but a known code means the default
//! language, and a failed write is reported once on stderr and never stops the UI.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::flow::LANGUAGES;

/// The file's name in the state directory.
pub const FILE_NAME: &str = "language";

/// Where new contents are written before they replace the file: in the same directory, because
/// a rename is atomic only within one file system. One fixed name, so a crash between the write
/// and the rename leaves at most one stray file, which the next write reuses.
const TEMPORARY_NAME: &str = ".language.tmp";

/// Longer than any code and its newline: a larger file was not written by the kiosk, and reading
/// it whole would only cost memory.
const MAX_LEN: u64 = 16;

/// The language file in one state directory, and what it is known to hold.
#[derive(Debug)]
pub struct RememberedLanguage {
    dir: PathBuf,
    /// What the file holds as far as this process knows: writes are skipped when the language
    /// on screen is already the one stored, so an unchanged language costs no flash wear.
    stored: Option<&'static str>,
    /// A failed write was reported. Later failures are not, so a read-only or full disk does not
    /// flood the journal with one line per language change.
    failure_reported: bool,
}

impl RememberedLanguage {
    /// Reads `dir/language`. Never fails: whatever cannot be read is a file that does not
    /// remember a language.
    pub fn open(dir: &Path) -> RememberedLanguage {
        RememberedLanguage { dir: dir.to_owned(), stored: read_code(&dir.join(FILE_NAME)), failure_reported: false }
    }

    /// The remembered language, if the file holds a code the kiosk speaks.
    pub fn language(&self) -> Option<&'static str> {
        self.stored
    }

    /// The file this remembers in.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Records that `code` is on screen now. Writes only when it differs from what the file
    /// holds; a failure is reported once and then kept quiet, and the next change tries again.
    pub fn remember(&mut self, code: &str) {
        // The file must only ever hold a code that `open` accepts back.
        let Some(code) = LANGUAGES.iter().copied().find(|l| *l == code) else { return };
        if self.stored == Some(code) {
            return;
        }
        match write_atomically(&self.dir, code) {
            Ok(()) => self.stored = Some(code),
            Err(e) => {
                if !self.failure_reported {
                    self.failure_reported = true;
                    eprintln!("kiosk: cannot remember the language in {}: {e} (the kiosk goes on; after a restart it starts in the default language)", self.path().display());
                }
            }
        }
    }
}

/// The code in `path`, if it holds one of [`LANGUAGES`] (surrounding white space ignored).
fn read_code(path: &Path) -> Option<&'static str> {
    let mut text = String::new();
    let read = File::open(path).and_then(|f| f.take(MAX_LEN).read_to_string(&mut text));
    match read {
        Ok(_) => {}
        // The first start on a new device, or a state directory that was wiped.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            eprintln!("kiosk: cannot read {}: {e}; starting in the default language", path.display());
            return None;
        }
    }
    let code = text.trim();
    let known = LANGUAGES.iter().copied().find(|l| *l == code);
    if known.is_none() && !code.is_empty() {
        eprintln!("kiosk: {} holds no language code; starting in the default language", path.display());
    }
    known
}

/// Replaces `dir/language` so that after a power cut it holds the old code or the new one,
/// never a mix or nothing.
fn write_atomically(dir: &Path, code: &str) -> io::Result<()> {
    let temporary = dir.join(TEMPORARY_NAME);
    let written = write_and_rename(&temporary, &dir.join(FILE_NAME), code);
    if written.is_err() {
        // Best effort: the original error is what matters.
        let _ = fs::remove_file(&temporary);
        return written;
    }
    // The rename is durable only once the directory is flushed. If that fails the new code may
    // be lost in a power cut, which costs the first screen's language and nothing more.
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        eprintln!("kiosk: cannot flush {}: {e}", dir.display());
    }
    Ok(())
}

fn write_and_rename(temporary: &Path, path: &Path, code: &str) -> io::Result<()> {
    // `create` truncates: a temporary file left by a crash is simply reused.
    let mut file = File::create(temporary)?;
    file.write_all(format!("{code}\n").as_bytes())?;
    // On the disk before it takes the real name, or a power cut could leave an empty file.
    file.sync_all()?;
    fs::rename(temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_language_is_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut remembered = RememberedLanguage::open(dir.path());
        assert_eq!(remembered.language(), None, "a new state directory remembers nothing");
        remembered.remember("ckb");
        assert_eq!(fs::read_to_string(dir.path().join("language")).ok().as_deref(), Some("ckb\n"));
        assert_eq!(RememberedLanguage::open(dir.path()).language(), Some("ckb"));
        remembered.remember("en");
        assert_eq!(RememberedLanguage::open(dir.path()).language(), Some("en"));
        let names: Vec<_> = fs::read_dir(dir.path()).expect("list").filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
        assert_eq!(names, ["language"], "one file, no temporary left behind");
    }

    #[test]
    fn an_unchanged_language_is_not_written_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut remembered = RememberedLanguage::open(dir.path());
        remembered.remember("en");
        fs::remove_file(dir.path().join("language")).expect("remove");
        remembered.remember("en");
        assert!(!dir.path().join("language").exists(), "the same language again is no write");
        remembered.remember("ar");
        assert_eq!(RememberedLanguage::open(dir.path()).language(), Some("ar"));
    }

    #[test]
    fn anything_but_a_language_code_is_ignored() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("language");
        for contents in ["", "\n", "fr\n", "EN\n", "en ckb\n", "arabic", "ar\0", &"a".repeat(100), "\u{fffd}en"] {
            fs::write(&file, contents).expect("write");
            assert_eq!(RememberedLanguage::open(dir.path()).language(), None, "{contents:?}");
        }
        fs::write(&file, [0xff, 0xfe, b'e', b'n']).expect("write");
        assert_eq!(RememberedLanguage::open(dir.path()).language(), None, "not UTF-8");
        fs::write(&file, "  en\r\n").expect("write");
        assert_eq!(RememberedLanguage::open(dir.path()).language(), Some("en"), "white space around the code is tolerated");
        // A directory where the file should be cannot be read.
        fs::remove_file(&file).expect("remove");
        fs::create_dir(&file).expect("mkdir");
        assert_eq!(RememberedLanguage::open(dir.path()).language(), None);
    }

    #[test]
    fn a_code_the_kiosk_does_not_speak_is_never_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut remembered = RememberedLanguage::open(dir.path());
        remembered.remember("en");
        remembered.remember("fr\nen");
        assert_eq!(RememberedLanguage::open(dir.path()).language(), Some("en"));
    }

    #[test]
    fn an_unwritable_state_directory_is_reported_not_fatal() {
        let dir = tempfile::tempdir().expect("temp dir");
        // A regular file where the directory should be: no temporary file can be created in it,
        // even by root (who ignores permission bits).
        let not_a_dir = dir.path().join("state");
        fs::write(&not_a_dir, "").expect("write");
        let mut remembered = RememberedLanguage::open(&not_a_dir);
        assert_eq!(remembered.language(), None);
        remembered.remember("en");
        remembered.remember("ckb");
        assert!(remembered.failure_reported);
        assert_eq!(remembered.language(), None, "nothing was stored");
        // A directory that does not exist is the same.
        let mut missing = RememberedLanguage::open(&dir.path().join("missing"));
        missing.remember("en");
        assert!(missing.failure_reported);
        assert!(!dir.path().join("missing").exists());
    }
}
