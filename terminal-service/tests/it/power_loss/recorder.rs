//! A crash-simulating SQLite VFS, after SQLite's own `test6.c` "crash" VFS: it wraps the
//! default (unix) VFS, so SQLite still reads and writes real files, and records every write,
//! truncation, sync and deletion of the databases in one directory, in the order they happen.
//! From that log [`materialise`] builds what a disk would hold after a power cut at any point:
//! each file as of its last completed sync, and — in the torn mode — a random mix of the
//! writes that were not yet synced, some whole, some dropped, some torn sector by sector.
//!
//! The small files the terminal writes through `startup::durable` (key, enrollment, cached
//! node configuration, applicant-key secret, audit head) do not go through SQLite. The
//! recorder looks at them after every database operation and at every mark the test makes,
//! and logs each new version as one [`Op::Replaced`]: what `durable` promises (a power cut
//! leaves the old or the new contents, and the new ones are durable when the call returns) is
//! the model for those files, and the log places each replacement exactly between the
//! database operations that came before and after it.
//!
//! The VFS is registered as the process's default, because production code opens its
//! databases with `Connection::open`; files outside the recorded directory pass straight
//! through, so the other tests of this binary are unaffected.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};

use rand::Rng;
use rusqlite::ffi;

/// One thing that happened to the recorded directory, or a mark of the test.
#[derive(Debug, Clone)]
pub enum Op<M> {
    /// A database file was opened (created if new).
    Open { file: String },
    /// Bytes written at an offset; volatile until the file's next sync.
    Write { file: String, offset: u64, data: Vec<u8> },
    /// The file was cut to `size`; volatile until the next sync.
    Truncate { file: String, size: u64 },
    /// Everything written to `file` before this is on the disk.
    Sync { file: String },
    /// The file was removed.
    Delete { file: String },
    /// A small file got new contents (or vanished), atomically and durably.
    Replaced { file: String, contents: Option<Vec<u8>> },
    /// What the test records at this point (an acknowledgement, the node's answer…).
    Mark(M),
}

struct Recording<M> {
    root: PathBuf,
    small_files: Vec<&'static str>,
    small: BTreeMap<&'static str, Option<Vec<u8>>>,
    ops: Vec<Op<M>>,
}

impl<M> Recording<M> {
    fn poll_small_files(&mut self) {
        for &name in &self.small_files {
            let now = std::fs::read(self.root.join(name)).ok();
            if self.small.get(name) != Some(&now) {
                self.small.insert(name, now.clone());
                self.ops.push(Op::Replaced { file: name.to_string(), contents: now });
            }
        }
    }
}

/// Only one recording at a time in this process; its marks are `u32` indices into the
/// test's own event list, so the VFS callbacks need no type parameter.
static RECORDING: Mutex<Option<Recording<u32>>> = Mutex::new(None);
/// Serialises the tests that record (one directory at a time).
static RECORDER_IN_USE: Mutex<()> = Mutex::new(());

fn recording() -> MutexGuard<'static, Option<Recording<u32>>> {
    RECORDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// A recording in progress; [`Recorder::finish`] returns the log.
pub struct Recorder {
    _exclusive: MutexGuard<'static, ()>,
}

impl Recorder {
    /// Starts recording the databases in `root` and watching `small_files` there.
    pub fn start(root: &Path, small_files: &[&'static str]) -> Recorder {
        register();
        let exclusive = RECORDER_IN_USE.lock().unwrap_or_else(|p| p.into_inner());
        let root = root.canonicalize().expect("recorded directory exists");
        let mut rec = Recording { root, small_files: small_files.to_vec(), small: BTreeMap::new(), ops: Vec::new() };
        for &name in small_files {
            rec.small.insert(name, None);
        }
        rec.poll_small_files();
        *recording() = Some(rec);
        Recorder { _exclusive: exclusive }
    }

    /// Records a mark of the test, after looking at the small files (so a mark made after a
    /// call that replaced one comes after that replacement).
    pub fn mark(&self, mark: u32) {
        if let Some(rec) = recording().as_mut() {
            rec.poll_small_files();
            rec.ops.push(Op::Mark(mark));
        }
    }

    /// Stops recording; the log.
    pub fn finish(self) -> Vec<Op<u32>> {
        let mut guard = recording();
        let mut rec = guard.take().expect("recording in progress");
        rec.poll_small_files();
        rec.ops
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // A test that panicked mid-recording must not leave the VFS recording for others.
        recording().take();
    }
}

/// How a cut treats the writes that were not yet synced.
pub enum Unsynced<'a, R: Rng> {
    /// All lost: each file as of its last sync.
    Lost,
    /// Each one independently lost, written whole, or torn (a random subset of its 512-byte
    /// sectors written), as a disk with a volatile cache may do.
    Torn(&'a mut R),
}

const SECTOR: u64 = 512;

/// Writes into `dir` what a disk holds after a power cut just before `ops[cut]`.
pub fn materialise<M, R: Rng>(ops: &[Op<M>], cut: usize, unsynced: Unsynced<'_, R>, dir: &Path) -> std::io::Result<()> {
    struct File {
        durable: Vec<u8>,
        pending: Vec<usize>,
    }
    fn apply(image: &mut Vec<u8>, op: &Op<impl Sized>, sectors: Option<&mut dyn FnMut() -> bool>) {
        match op {
            Op::Write { offset, data, .. } => {
                let start = usize::try_from(*offset).unwrap();
                let end = start + data.len();
                if image.len() < end {
                    // A torn write that lands past the end still extends the file (with
                    // zeros where its dropped sectors were), as a file system that
                    // allocated the blocks but lost their data may.
                    image.resize(end, 0);
                }
                match sectors {
                    None => image[start..end].copy_from_slice(data),
                    Some(keep) => {
                        let mut at = start as u64;
                        while (at as usize) < end {
                            let next = ((at / SECTOR) + 1) * SECTOR;
                            let stop = (next as usize).min(end);
                            if keep() {
                                image[at as usize..stop].copy_from_slice(&data[at as usize - start..stop - start]);
                            }
                            at = next;
                        }
                    }
                }
            }
            Op::Truncate { size, .. } => image.truncate(usize::try_from(*size).unwrap()),
            _ => {}
        }
    }

    let mut files: BTreeMap<&str, File> = BTreeMap::new();
    let mut small: BTreeMap<&str, Option<&[u8]>> = BTreeMap::new();
    for (i, op) in ops[..cut].iter().enumerate() {
        match op {
            Op::Open { file } => {
                files.entry(file).or_insert(File { durable: Vec::new(), pending: Vec::new() });
            }
            Op::Write { file, .. } | Op::Truncate { file, .. } => {
                files.entry(file).or_insert(File { durable: Vec::new(), pending: Vec::new() }).pending.push(i);
            }
            Op::Sync { file } => {
                if let Some(f) = files.get_mut(file.as_str()) {
                    for p in std::mem::take(&mut f.pending) {
                        apply(&mut f.durable, &ops[p], None);
                    }
                }
            }
            Op::Delete { file } => {
                files.remove(file.as_str());
            }
            Op::Replaced { file, contents } => {
                small.insert(file, contents.as_deref());
            }
            Op::Mark(_) => {}
        }
    }

    let mut unsynced = unsynced;
    for (name, file) in &mut files {
        if let Unsynced::Torn(rng) = &mut unsynced {
            for &p in &file.pending {
                match rng.gen_range(0..3) {
                    0 => {}
                    1 => apply(&mut file.durable, &ops[p], None),
                    _ => apply(&mut file.durable, &ops[p], Some(&mut || rng.gen_bool(0.5))),
                }
            }
        }
        std::fs::write(dir.join(name), &file.durable)?;
    }
    for (name, contents) in small {
        if let Some(contents) = contents {
            let path = dir.join(name);
            std::fs::write(&path, contents)?;
            // Keys are refused unless private; `durable` gives them 0600 before they appear.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The VFS: every call forwarded to the default VFS, the changing ones also recorded.

#[repr(C)]
struct ShimFile {
    base: ffi::sqlite3_file,
    /// The recorded file's name in the directory, or null when this file is not recorded.
    name: *mut String,
}

/// The real VFS's file structure follows ours in the same allocation, 16-byte aligned.
const HEADER: usize = std::mem::size_of::<ShimFile>().div_ceil(16) * 16;

static mut REAL_VFS: *mut ffi::sqlite3_vfs = std::ptr::null_mut();
static REGISTER: Once = Once::new();

fn register() {
    REGISTER.call_once(|| unsafe {
        let real = ffi::sqlite3_vfs_find(std::ptr::null());
        assert!(!real.is_null(), "SQLite has a default VFS");
        REAL_VFS = real;
        let mut shim: ffi::sqlite3_vfs = *real;
        shim.zName = c"forgetful".as_ptr();
        shim.szOsFile = c_int::try_from(HEADER).unwrap() + (*real).szOsFile;
        shim.pNext = std::ptr::null_mut();
        shim.xOpen = Some(shim_open);
        shim.xDelete = Some(shim_delete);
        let shim = Box::leak(Box::new(shim));
        assert_eq!(ffi::sqlite3_vfs_register(shim, 1), ffi::SQLITE_OK);
    });
}

unsafe fn real_file(file: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    (file as *mut u8).add(HEADER) as *mut ffi::sqlite3_file
}

unsafe fn real_methods<'a>(file: *mut ffi::sqlite3_file) -> &'a ffi::sqlite3_io_methods {
    &*(*real_file(file)).pMethods
}

unsafe fn recorded_name(file: *mut ffi::sqlite3_file) -> Option<&'static String> {
    let name = (*(file as *mut ShimFile)).name;
    (!name.is_null()).then(|| &*name)
}

/// The file name inside the recorded directory, if `path` is directly in it.
fn name_in_recording(path: *const c_char) -> Option<String> {
    if path.is_null() {
        return None;
    }
    let path = PathBuf::from(unsafe { CStr::from_ptr(path) }.to_str().ok()?);
    let guard = recording();
    let rec = guard.as_ref()?;
    (path.parent()? == rec.root).then(|| path.file_name().map(|n| n.to_string_lossy().into_owned())).flatten()
}

fn record(op: Op<u32>) {
    if let Some(rec) = recording().as_mut() {
        rec.ops.push(op);
        rec.poll_small_files();
    }
}

unsafe extern "C" fn shim_open(
    _vfs: *mut ffi::sqlite3_vfs,
    z_name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let shim = file as *mut ShimFile;
    (*shim).base.pMethods = std::ptr::null();
    (*shim).name = std::ptr::null_mut();
    let rc = ((*REAL_VFS).xOpen.unwrap())(REAL_VFS, z_name, real_file(file), flags, out_flags);
    if rc != ffi::SQLITE_OK || (*real_file(file)).pMethods.is_null() {
        return rc;
    }
    (*shim).base.pMethods = &SHIM_METHODS;
    if let Some(name) = name_in_recording(z_name) {
        record(Op::Open { file: name.clone() });
        (*shim).name = Box::into_raw(Box::new(name));
    }
    rc
}

unsafe extern "C" fn shim_delete(_vfs: *mut ffi::sqlite3_vfs, z_name: *const c_char, sync_dir: c_int) -> c_int {
    let rc = ((*REAL_VFS).xDelete.unwrap())(REAL_VFS, z_name, sync_dir);
    if rc == ffi::SQLITE_OK {
        if let Some(name) = name_in_recording(z_name) {
            record(Op::Delete { file: name });
        }
    }
    rc
}

unsafe extern "C" fn shim_close(file: *mut ffi::sqlite3_file) -> c_int {
    let rc = (real_methods(file).xClose.unwrap())(real_file(file));
    let shim = file as *mut ShimFile;
    if !(*shim).name.is_null() {
        drop(Box::from_raw((*shim).name));
        (*shim).name = std::ptr::null_mut();
    }
    rc
}

unsafe extern "C" fn shim_read(file: *mut ffi::sqlite3_file, buf: *mut c_void, amount: c_int, offset: ffi::sqlite3_int64) -> c_int {
    (real_methods(file).xRead.unwrap())(real_file(file), buf, amount, offset)
}

unsafe extern "C" fn shim_write(file: *mut ffi::sqlite3_file, buf: *const c_void, amount: c_int, offset: ffi::sqlite3_int64) -> c_int {
    let rc = (real_methods(file).xWrite.unwrap())(real_file(file), buf, amount, offset);
    if rc == ffi::SQLITE_OK {
        if let Some(name) = recorded_name(file) {
            let data = std::slice::from_raw_parts(buf as *const u8, usize::try_from(amount).unwrap()).to_vec();
            record(Op::Write { file: name.clone(), offset: u64::try_from(offset).unwrap(), data });
        }
    }
    rc
}

unsafe extern "C" fn shim_truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    let rc = (real_methods(file).xTruncate.unwrap())(real_file(file), size);
    if rc == ffi::SQLITE_OK {
        if let Some(name) = recorded_name(file) {
            record(Op::Truncate { file: name.clone(), size: u64::try_from(size).unwrap() });
        }
    }
    rc
}

unsafe extern "C" fn shim_sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    let rc = (real_methods(file).xSync.unwrap())(real_file(file), flags);
    if rc == ffi::SQLITE_OK {
        if let Some(name) = recorded_name(file) {
            record(Op::Sync { file: name.clone() });
        }
    }
    rc
}

unsafe extern "C" fn shim_file_size(file: *mut ffi::sqlite3_file, size: *mut ffi::sqlite3_int64) -> c_int {
    (real_methods(file).xFileSize.unwrap())(real_file(file), size)
}

unsafe extern "C" fn shim_lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    (real_methods(file).xLock.unwrap())(real_file(file), level)
}

unsafe extern "C" fn shim_unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    (real_methods(file).xUnlock.unwrap())(real_file(file), level)
}

unsafe extern "C" fn shim_check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    (real_methods(file).xCheckReservedLock.unwrap())(real_file(file), out)
}

unsafe extern "C" fn shim_file_control(file: *mut ffi::sqlite3_file, op: c_int, arg: *mut c_void) -> c_int {
    (real_methods(file).xFileControl.unwrap())(real_file(file), op, arg)
}

unsafe extern "C" fn shim_sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    (real_methods(file).xSectorSize.unwrap())(real_file(file))
}

unsafe extern "C" fn shim_device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    (real_methods(file).xDeviceCharacteristics.unwrap())(real_file(file))
}

unsafe extern "C" fn shim_shm_map(file: *mut ffi::sqlite3_file, region: c_int, size: c_int, extend: c_int, out: *mut *mut c_void) -> c_int {
    (real_methods(file).xShmMap.unwrap())(real_file(file), region, size, extend, out)
}

unsafe extern "C" fn shim_shm_lock(file: *mut ffi::sqlite3_file, offset: c_int, n: c_int, flags: c_int) -> c_int {
    (real_methods(file).xShmLock.unwrap())(real_file(file), offset, n, flags)
}

unsafe extern "C" fn shim_shm_barrier(file: *mut ffi::sqlite3_file) {
    (real_methods(file).xShmBarrier.unwrap())(real_file(file))
}

unsafe extern "C" fn shim_shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    (real_methods(file).xShmUnmap.unwrap())(real_file(file), delete)
}

unsafe extern "C" fn shim_fetch(file: *mut ffi::sqlite3_file, offset: ffi::sqlite3_int64, amount: c_int, out: *mut *mut c_void) -> c_int {
    (real_methods(file).xFetch.unwrap())(real_file(file), offset, amount, out)
}

unsafe extern "C" fn shim_unfetch(file: *mut ffi::sqlite3_file, offset: ffi::sqlite3_int64, page: *mut c_void) -> c_int {
    (real_methods(file).xUnfetch.unwrap())(real_file(file), offset, page)
}

static SHIM_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(shim_close),
    xRead: Some(shim_read),
    xWrite: Some(shim_write),
    xTruncate: Some(shim_truncate),
    xSync: Some(shim_sync),
    xFileSize: Some(shim_file_size),
    xLock: Some(shim_lock),
    xUnlock: Some(shim_unlock),
    xCheckReservedLock: Some(shim_check_reserved_lock),
    xFileControl: Some(shim_file_control),
    xSectorSize: Some(shim_sector_size),
    xDeviceCharacteristics: Some(shim_device_characteristics),
    xShmMap: Some(shim_shm_map),
    xShmLock: Some(shim_shm_lock),
    xShmBarrier: Some(shim_shm_barrier),
    xShmUnmap: Some(shim_shm_unmap),
    xFetch: Some(shim_fetch),
    xUnfetch: Some(shim_unfetch),
};
