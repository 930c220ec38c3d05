//! Durable small files: write to a temporary file, fsync, rename, fsync the directory.
//!
//! Keys, the enrollment record and the audit head are small files that must survive a power
//! cut whole. Writing in place could leave half a key; so the new contents go to a temporary
//! file in the *same* directory (a rename is only atomic within one file system), are flushed
//! to the disk, get their final permissions before they become visible under the real name,
//! and only then replace the old file. The directory is flushed last, because until then the
//! rename itself lives only in the page cache.
//!
//! [`create_file_durably`] is the same with one difference for the terminal key: it never
//! replaces an existing file, because losing the enrolled key silently would cut the terminal
//! off from its node.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Replaces `path` with `contents` so that after a power cut it holds either the old or the
/// new contents, never a mix; `mode` is the Unix permission (e.g. 0o600 for keys).
pub fn write_file_atomically(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let dir = parent_dir(path);
    let file_name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{}: not a file path", path.display()))
    })?;

    let temp = temporary_path(dir, &file_name.to_string_lossy());
    let result = write_and_rename(&temp, path, contents, mode);
    if result.is_err() {
        // Best effort: a stray temporary file is harmless but untidy; the original error matters.
        let _ = fs::remove_file(&temp);
        return result;
    }
    sync_directory(dir)
}

/// Creates `path` with `contents`, durably, failing with [`io::ErrorKind::AlreadyExists`] if
/// it exists: for files that must never be replaced by accident, such as the terminal's key.
///
/// The contents are complete and flushed before the name appears (a hard link to the flushed
/// temporary file, which unlike a rename refuses to replace), so no reader and no power cut
/// ever sees a half-written file under the real name.
pub fn create_file_durably(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let dir = parent_dir(path);
    let file_name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{}: not a file path", path.display()))
    })?;
    let temp = temporary_path(dir, &file_name.to_string_lossy());
    let result = write_temporary(&temp, contents, mode).and_then(|()| fs::hard_link(&temp, path));
    // The temporary name goes whether or not the link succeeded; on success the file lives on
    // under `path`.
    let removed = fs::remove_file(&temp);
    result?;
    removed?;
    sync_directory(dir)
}

/// Flushes a directory's entries (creations, renames) to the disk.
pub fn sync_directory(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn write_and_rename(temp: &Path, path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    write_temporary(temp, contents, mode)?;
    fs::rename(temp, path)
}

fn write_temporary(temp: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    // `create_new` so that two writers never share a temporary file; the mode given here is
    // filtered by the umask, hence the explicit `set_permissions` below.
    let mut file = OpenOptions::new().write(true).create_new(true).mode(mode & 0o7777).open(temp)?;
    file.write_all(contents)?;
    file.set_permissions(fs::Permissions::from_mode(mode & 0o7777))?;
    file.sync_all()
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A name no other writer uses at the same time: hidden, with the process id and a random part.
fn temporary_path(dir: &Path, file_name: &str) -> PathBuf {
    let random: u64 = rand::random();
    dir.join(format!(".{file_name}.{}.{random:016x}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_a_file_with_the_contents_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        write_file_atomically(&path, b"secret", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"secret");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn replaces_existing_contents_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("head");
        write_file_atomically(&path, b"a much longer first version", 0o644).unwrap();
        write_file_atomically(&path, b"v2", 0o640).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"v2");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
    }

    #[test]
    fn leaves_no_temporary_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("enrollment.json");
        for i in 0..5 {
            write_file_atomically(&path, format!("{i}").as_bytes(), 0o600).unwrap();
        }
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("enrollment.json")]);
    }

    #[test]
    fn a_missing_directory_is_an_error_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent").join("key");
        let err = write_file_atomically(&path, b"x", 0o600).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(!dir.path().join("absent").exists());
    }

    #[test]
    fn a_failed_rename_removes_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty directory cannot be replaced by a file: the rename fails.
        let path = dir.path().join("occupied");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), b"x").unwrap();
        assert!(write_file_atomically(&path, b"x", 0o600).is_err());
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("occupied")]);
    }

    #[test]
    fn create_makes_a_new_file_with_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("terminal.key");
        create_file_durably(&path, b"first", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("terminal.key")]);
    }

    #[test]
    fn create_never_replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("terminal.key");
        create_file_durably(&path, b"first", 0o600).unwrap();
        let err = create_file_durably(&path, b"second", 0o600).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    fn a_path_without_a_file_name_is_refused() {
        assert_eq!(write_file_atomically(Path::new("/"), b"x", 0o600).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }
}
