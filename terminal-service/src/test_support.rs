//! Helpers for unit tests that need a process of their own.
//!
//! Some things a test must do cannot be undone in the test process, which other tests share:
//! giving up root, or forbidding `connect`. Such a test runs itself again: the test binary is
//! started with `--exact` and the test's own name, plus an environment variable the test checks
//! to know it is the child. Forking the multi-threaded harness instead would leave the child
//! with locks held by threads that no longer exist (the allocator, the user database), and the
//! child needs both.

use std::ffi::OsStr;
use std::process::{Command, Output};

/// What a child prints first on the line of its findings, so the parent can tell a child that
/// ran the test from one that matched no test at all (which also exits 0).
pub const CHILD_MARKER: &str = "CHILD-REPORT ";

/// Runs the single test `test_path` (as `module_path!()` names its module, `::` and the
/// function's name) in a new process of this test binary, with `envs` set, and waits for it.
pub fn rerun_in_child(test_path: &str, envs: &[(&str, &OsStr)]) -> Output {
    // libtest names tests without the crate.
    let name = test_path.split_once("::").map_or(test_path, |(_, rest)| rest);
    let exe = std::env::current_exe().expect("the test binary's path");
    Command::new(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .envs(envs.iter().copied())
        .output()
        .expect("the test binary runs again")
}

/// The rest of the line after [`CHILD_MARKER`] in a child's output. (The marker is looked for
/// anywhere in a line: libtest prints the test's name on the same line, before the test's own
/// output.)
pub fn child_report(stdout: &str) -> Option<&str> {
    stdout.lines().find_map(|l| l.split_once(CHILD_MARKER).map(|(_, report)| report))
}
