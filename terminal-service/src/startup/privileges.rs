//! Technician commands run with `sudo` act as the owner of the storage directory.
//!
//! On the device the daemon runs under systemd as the unprivileged user `terminal-service`, and
//! its state (`[storage] dir`, `/var/lib/terminal-service`, mode 0700) belongs to that user.
//! Technicians run `status`, `queue`, `audit verify`, `provision` and `hw …` with `sudo`. As
//! root, those commands would open the SQLite databases themselves, and SQLite would create the
//! `-wal` and `-shm` files (and any missing database, key or cache file) owned by root. The
//! daemon, not being root, could then no longer open its own outbox: one status check would
//! break the terminal until someone repaired the ownership by hand.
//!
//! So, before such a command touches storage, [`act_as_storage_owner`] turns a root process
//! into the directory's owner — supplementary groups, group, then user, in that order, because
//! changing groups needs the root that `setuid` gives up — and checks that the change took. Every
//! file the command creates then belongs to the same user as the daemon's, and the command
//! reaches the same files and devices: the user's groups from the user database, which hold the
//! device groups the udev rule grants (the unit's `Group=` may differ; the state directory's
//! mode 0700 makes that moot).
//!
//! A process that is not root is left alone (`sudo -u terminal-service …` already is the owner;
//! anyone else gets the kernel's answer). A root-owned directory (a development machine, a
//! daemon deliberately run as root) needs no change. A directory that does not exist yet (a
//! fresh install before the service first started) has no owner to become: the command goes on
//! as root, with a warning that what it creates now will belong to root.
//!
//! The switch is process-wide and cannot be undone (the saved set-user-ID changes too), so it
//! must happen before the command starts threads that expect root, i.e. first thing after the
//! configuration is read.

use std::ffi::{CStr, CString};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The user the Debian package runs the daemon as, named in advice to technicians.
pub const SERVICE_USER: &str = "terminal-service";

/// Why the process could not become the storage directory's owner. Any of these stops the
/// command: going on as root is exactly what the switch is there to prevent.
#[derive(Debug, Error)]
pub enum PrivilegeError {
    /// The storage directory exists but its owner could not be read.
    #[error("cannot read the owner of the storage directory {path}: {source}")]
    Inspect {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The user database could not be searched for the owner.
    #[error("cannot look up user {uid} (the owner of the storage directory) in the user database: {source}")]
    Lookup {
        /// The owner's uid.
        uid: u32,
        /// The error.
        source: io::Error,
    },
    /// A step of the switch failed.
    #[error("cannot act as the owner of the storage directory (uid {uid}): {step} failed: {source}; run the command as that user instead (sudo -u {SERVICE_USER} terminal-service …)")]
    Switch {
        /// The owner's uid.
        uid: u32,
        /// Which call failed (`initgroups`, `setgroups`, `setgid`, `setuid`).
        step: &'static str,
        /// The error.
        source: io::Error,
    },
    /// The calls succeeded but the process is not who it should be.
    #[error("switching to the owner of the storage directory did not take: expected uid {uid} and gid {gid}, the process has uid {real_uid}/{effective_uid} and gid {real_gid}/{effective_gid} (real/effective)")]
    NotSwitched {
        /// The uid asked for.
        uid: u32,
        /// The gid asked for.
        gid: u32,
        /// `getuid()`.
        real_uid: u32,
        /// `geteuid()`.
        effective_uid: u32,
        /// `getgid()`.
        real_gid: u32,
        /// `getegid()`.
        effective_gid: u32,
    },
    /// After the switch the process could still become root again (a saved set-user-ID of 0).
    #[error("after switching to uid {uid} the process could still become root again; refusing to go on")]
    RootRegainable {
        /// The uid switched to.
        uid: u32,
    },
}

/// What to do, given who the process is and who owns the storage directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Leave the process as it is: it is not root (the kernel's permissions apply as they
    /// should), or the directory belongs to root anyway.
    Stay,
    /// Root, and the directory belongs to this non-root user: become that user.
    Switch {
        /// The directory owner's uid.
        uid: u32,
    },
    /// Root, and the directory does not exist yet: stay root (there is nobody to become) but
    /// warn that what is created now will belong to root.
    WarnRootOwned,
}

/// Decides from the effective uid and the directory's owner (`None`: no directory yet).
pub fn decide(effective_uid: u32, owner: Option<u32>) -> Decision {
    match (effective_uid, owner) {
        (0, None) => Decision::WarnRootOwned,
        (0, Some(0)) => Decision::Stay,
        (0, Some(uid)) => Decision::Switch { uid },
        _ => Decision::Stay,
    }
}

/// The identity the process switched to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// The user's name, when the user database knows it.
    pub user: Option<String>,
}

/// What [`act_as_storage_owner`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing: not root, or the directory belongs to root.
    Unchanged,
    /// The process now runs as the directory's owner.
    Switched(Identity),
    /// Still root, and the directory does not exist yet: see [`Outcome::warning`].
    RootCreatesStorage {
        /// The storage directory.
        dir: PathBuf,
    },
}

impl Outcome {
    /// The warning to show the technician, if any.
    pub fn warning(&self) -> Option<String> {
        match self {
            Outcome::RootCreatesStorage { dir } => Some(format!(
                "the storage directory {} does not exist yet, so the files this command creates will belong to root and the service (which does not run as root) will not be able to open them; start the service first so that it creates the directory (systemctl start {SERVICE_USER}), or run this command as the service's user (sudo -u {SERVICE_USER} terminal-service …)",
                dir.display()
            )),
            Outcome::Unchanged | Outcome::Switched(_) => None,
        }
    }
}

/// When run as root, becomes the owner of `dir` (see the module documentation for why).
///
/// Call it before anything opens storage and before threads are started. Errors mean the
/// process may be half-switched and must stop.
pub fn act_as_storage_owner(dir: &Path) -> Result<Outcome, PrivilegeError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        // Not root: no need to look at the directory at all.
        return Ok(Outcome::Unchanged);
    }
    let owner = directory_owner(dir)?;
    match decide(euid, owner.map(|o| o.uid)) {
        Decision::Stay => Ok(Outcome::Unchanged),
        Decision::WarnRootOwned => Ok(Outcome::RootCreatesStorage { dir: dir.to_path_buf() }),
        Decision::Switch { uid } => {
            // The directory's group is only a fallback for an owner the user database does not
            // know: systemd's StateDirectory= gives it the service's group, but a directory made
            // by hand may have any group, while the passwd entry is what the daemon runs with.
            let fallback_gid = owner.map_or(uid, |o| o.gid);
            switch_to(uid, fallback_gid).map(Outcome::Switched)
        }
    }
}

/// Owner of an existing path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Owner {
    uid: u32,
    gid: u32,
}

/// The owner of `dir` (following a symbolic link, since the files go where it points), or
/// `None` when it does not exist.
fn directory_owner(dir: &Path) -> Result<Option<Owner>, PrivilegeError> {
    match std::fs::metadata(dir) {
        Ok(m) => Ok(Some(Owner { uid: m.uid(), gid: m.gid() })),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PrivilegeError::Inspect { path: dir.to_path_buf(), source }),
    }
}

/// A user's passwd entry, as far as the switch needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Account {
    name: CString,
    gid: u32,
}

/// Looks `uid` up with `getpwuid_r` (reentrant, unlike `getpwuid`); `None` when there is no
/// such user.
fn account(uid: u32) -> Result<Option<Account>, PrivilegeError> {
    // SAFETY: sysconf has no preconditions; -1 (no limit known) is handled below.
    let suggested = unsafe { libc::sysconf(libc::_SC_GETPW_R_SIZE_MAX) };
    let mut size = usize::try_from(suggested).ok().filter(|s| *s > 0).unwrap_or(1024);
    // Entries are small; the cap only stops a misbehaving NSS module from looping forever.
    const MAX_BUFFER: usize = 1 << 20;
    loop {
        let mut buffer = vec![0 as libc::c_char; size];
        // SAFETY: all-zero bytes are a valid `passwd` (null pointers, zero ids); it is only read
        // after getpwuid_r has filled it in.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: `entry`, `buffer` (with its true length) and `result` are valid for writes
        // for the duration of the call; the strings it stores point into `buffer`, which
        // outlives every read of them below.
        let rc = unsafe { libc::getpwuid_r(uid, &mut entry, buffer.as_mut_ptr(), buffer.len(), &mut result) };
        if rc == libc::ERANGE && size < MAX_BUFFER {
            size *= 2;
            continue;
        }
        if rc != 0 {
            return Err(PrivilegeError::Lookup { uid, source: io::Error::from_raw_os_error(rc) });
        }
        if result.is_null() || entry.pw_name.is_null() {
            return Ok(None);
        }
        // SAFETY: getpwuid_r succeeded, so `pw_name` is a NUL-terminated string in `buffer`,
        // still alive here; it is copied out before `buffer` is dropped.
        let name = unsafe { CStr::from_ptr(entry.pw_name) }.to_owned();
        return Ok(Some(Account { name, gid: entry.pw_gid }));
    }
}

/// `Err` carrying errno when a libc call returned -1.
fn check(rc: libc::c_int, uid: u32, step: &'static str) -> Result<(), PrivilegeError> {
    if rc == 0 {
        Ok(())
    } else {
        Err(PrivilegeError::Switch { uid, step, source: io::Error::last_os_error() })
    }
}

/// Becomes `uid`: its groups, its primary group, then the user itself; then checks.
fn switch_to(uid: u32, fallback_gid: u32) -> Result<Identity, PrivilegeError> {
    let account = account(uid)?;
    let gid = account.as_ref().map_or(fallback_gid, |a| a.gid);
    match &account {
        // The user's own supplementary groups, as a login would have them: the daemon's unit
        // gets the same from systemd, and they may be what grants the devices.
        // SAFETY: `name` is a valid NUL-terminated string; initgroups only reads it.
        Some(a) => check(unsafe { libc::initgroups(a.name.as_ptr(), gid as _) }, uid, "initgroups")?,
        // No passwd entry, so no group list to take: at least drop root's groups.
        // SAFETY: a zero-length list with a null pointer is the documented way to clear them.
        None => check(unsafe { libc::setgroups(0, std::ptr::null()) }, uid, "setgroups")?,
    }
    // SAFETY: plain system calls on integers. As root, setgid/setuid set the real, effective and
    // saved ids alike; glibc applies them to every thread of the process.
    check(unsafe { libc::setgid(gid) }, uid, "setgid")?;
    check(unsafe { libc::setuid(uid) }, uid, "setuid")?;
    verify(uid, gid)?;
    Ok(Identity { uid, gid, user: account.map(|a| a.name.to_string_lossy().into_owned()) })
}

/// Checks that the process is `uid`/`gid` and cannot go back to root.
fn verify(uid: u32, gid: u32) -> Result<(), PrivilegeError> {
    // SAFETY: these getters have no preconditions and cannot fail.
    let (real_uid, effective_uid, real_gid, effective_gid) = unsafe { (libc::getuid(), libc::geteuid(), libc::getgid(), libc::getegid()) };
    if (real_uid, effective_uid, real_gid, effective_gid) != (uid, uid, gid, gid) {
        return Err(PrivilegeError::NotSwitched { uid, gid, real_uid, effective_uid, real_gid, effective_gid });
    }
    // A setuid(0) that succeeds means a saved set-user-ID of 0 survived: the process could be
    // root again at any moment, which is not a switch.
    // SAFETY: a plain system call; on success the error is returned and the command stops.
    if unsafe { libc::setuid(0) } == 0 {
        return Err(PrivilegeError::RootRegainable { uid });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    use crate::test_support::{child_report, rerun_in_child, CHILD_MARKER};

    #[test]
    fn root_becomes_a_non_root_owner() {
        assert_eq!(decide(0, Some(998)), Decision::Switch { uid: 998 });
        assert_eq!(decide(0, Some(65534)), Decision::Switch { uid: 65534 });
    }

    #[test]
    fn root_stays_root_for_a_root_owned_directory() {
        assert_eq!(decide(0, Some(0)), Decision::Stay);
    }

    #[test]
    fn root_is_warned_when_there_is_no_directory_yet() {
        assert_eq!(decide(0, None), Decision::WarnRootOwned);
    }

    #[test]
    fn a_process_that_is_not_root_is_left_alone() {
        // Whoever owns the directory, or if nobody does: only root can switch, and only root
        // creating files is a problem.
        for owner in [None, Some(0), Some(998), Some(1000)] {
            assert_eq!(decide(998, owner), Decision::Stay, "{owner:?}");
            assert_eq!(decide(1000, owner), Decision::Stay, "{owner:?}");
        }
    }

    #[test]
    fn the_warning_names_the_directory_and_both_fixes() {
        let warning = Outcome::RootCreatesStorage { dir: PathBuf::from("/var/lib/terminal-service") }.warning().unwrap();
        assert!(warning.contains("/var/lib/terminal-service"), "{warning}");
        assert!(warning.contains("belong to root"), "{warning}");
        assert!(warning.contains("sudo -u terminal-service terminal-service"), "{warning}");
        assert!(warning.contains("systemctl start terminal-service"), "{warning}");
        assert_eq!(Outcome::Unchanged.warning(), None);
        assert_eq!(Outcome::Switched(Identity { uid: 998, gid: 998, user: None }).warning(), None);
    }

    #[test]
    fn a_missing_directory_has_no_owner_and_an_existing_one_has_its_own() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(directory_owner(&dir.path().join("absent")).unwrap(), None);
        let owner = directory_owner(dir.path()).unwrap().unwrap();
        // SAFETY: plain getters.
        assert_eq!(owner, Owner { uid: unsafe { libc::geteuid() }, gid: unsafe { libc::getegid() } });
    }

    #[test]
    fn a_missing_directory_warns_only_a_root_process_and_never_switches() {
        // Safe to run in the test process itself: with no directory nobody is switched to.
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("state");
        let outcome = act_as_storage_owner(&absent).unwrap();
        // SAFETY: plain getter.
        if unsafe { libc::geteuid() } == 0 {
            assert_eq!(outcome, Outcome::RootCreatesStorage { dir: absent });
        } else {
            assert_eq!(outcome, Outcome::Unchanged);
        }
    }

    #[test]
    fn a_directory_of_our_own_leaves_the_process_unchanged() {
        // The temporary directory belongs to whoever runs the tests: root (root-owned: stay) or
        // a user (not root: stay). Either way the process must be exactly as before.
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: plain getters.
        let before = unsafe { (libc::getuid(), libc::geteuid(), libc::getgid(), libc::getegid()) };
        assert_eq!(act_as_storage_owner(dir.path()).unwrap(), Outcome::Unchanged);
        // SAFETY: plain getters.
        assert_eq!(unsafe { (libc::getuid(), libc::geteuid(), libc::getgid(), libc::getegid()) }, before);
    }

    #[test]
    fn the_user_database_knows_root_and_not_an_unused_uid() {
        let root = account(0).unwrap().unwrap();
        assert_eq!((root.name.to_str().unwrap(), root.gid), ("root", 0));
        assert_eq!(account(4_000_000_000).unwrap(), None);
    }

    /// Environment variable telling the re-run test binary which directory to switch for.
    const CHILD_DIR_ENV: &str = "TERMINAL_SERVICE_TEST_SWITCH_DIR";
    /// `nobody`: a user every Linux system has, and never root.
    const NOBODY: u32 = 65534;

    /// As root (as on CI), a real switch, in a child process because it cannot be undone: the
    /// test binary runs this same test again with [`CHILD_DIR_ENV`] set. The child switches,
    /// reports its ids and opens the databases; the parent checks the ids and that every file
    /// the child created belongs to `nobody`.
    #[test]
    fn as_root_a_child_process_becomes_the_owner_and_its_files_are_the_owners() {
        if let Some(dir) = std::env::var_os(CHILD_DIR_ENV) {
            child_switches_and_opens_storage(Path::new(&dir));
            return;
        }
        // SAFETY: plain getter.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: a real switch needs root (CI runs the tests as root)");
            return;
        }
        let base = tempfile::tempdir().unwrap();
        // nobody must be able to reach the directory through the temporary one.
        std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let dir = base.path().join("state");
        std::fs::create_dir(&dir).unwrap();
        std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();

        let output = rerun_in_child(&format!("{}::as_root_a_child_process_becomes_the_owner_and_its_files_are_the_owners", module_path!()), &[(CHILD_DIR_ENV, dir.as_os_str())]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "child failed: {}\n{stdout}\n{stderr}", output.status);
        let report = child_report(&stdout).unwrap_or_else(|| panic!("the child did not report (did it run the test?):\n{stdout}\n{stderr}"));
        let expected_gid = account(NOBODY).unwrap().map_or(NOBODY, |a| a.gid);
        let (ids, groups) = report.split_once(" groups=").unwrap_or_else(|| panic!("{report}"));
        assert_eq!(ids, format!("uid={NOBODY} euid={NOBODY} gid={expected_gid} egid={expected_gid}"), "{report}");
        assert!(!groups.split(',').any(|g| g == "0"), "root's group survived: {report}");

        let created: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap()).collect();
        let names: Vec<String> = created.iter().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        // The write-ahead log and its index are the files that broke the daemon when root made them.
        for name in [crate::capture::storage::OUTBOX_FILE.to_string(), format!("{}-wal", crate::capture::storage::OUTBOX_FILE), format!("{}-shm", crate::capture::storage::OUTBOX_FILE), "by-child".to_string()] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        for entry in &created {
            let meta = std::fs::symlink_metadata(entry.path()).unwrap();
            assert_eq!(meta.uid(), NOBODY, "{:?} belongs to uid {}", entry.file_name(), meta.uid());
        }
    }

    /// The child's half: switch, report, create files the way a command would.
    fn child_switches_and_opens_storage(dir: &Path) {
        let outcome = act_as_storage_owner(dir).unwrap();
        assert!(matches!(&outcome, Outcome::Switched(id) if id.uid == NOBODY), "{outcome:?}");
        // SAFETY: plain getters; getgroups is first asked for the count, then given a buffer of
        // exactly that many entries.
        let (uid, euid, gid, egid) = unsafe { (libc::getuid(), libc::geteuid(), libc::getgid(), libc::getegid()) };
        let count = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
        let mut groups = vec![0 as libc::gid_t; usize::try_from(count).unwrap()];
        let count = unsafe { libc::getgroups(count, groups.as_mut_ptr()) };
        groups.truncate(usize::try_from(count).unwrap());
        let groups: Vec<String> = groups.iter().map(ToString::to_string).collect();
        std::fs::write(dir.join("by-child"), b"x").unwrap();
        // What `status` does: open both databases (creating them, WAL files included). Left open
        // on purpose: closing the last connection would checkpoint and delete the `-wal` and
        // `-shm` files, and those are what the parent must find owned by nobody.
        let storage = crate::capture::storage::Storage::open(dir).unwrap();
        std::mem::forget(storage);
        println!("{CHILD_MARKER}uid={uid} euid={euid} gid={gid} egid={egid} groups={}", groups.join(","));
    }
}
