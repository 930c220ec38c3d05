//! A private pcscd with Debian's virtual reader vsmartcard-vpcd, for the tests that go through
//! the real PC/SC stack (`tests/pcsc.rs`, `tests/pcsc_emrtd.rs`).
//!
//! Starting one needs root; as another user a test says why and passes without running (CI
//! runs as root). The PC/SC client reads the daemon's socket path once per process, so every
//! test of a binary uses the same path and they take turns.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use hardware::pcsc::daemon::{self, PrivatePcscd};
use hardware::pcsc::PcscReader;
use hardware::{Card, CardReader};

static TURN: Mutex<()> = Mutex::new(());

/// A private pcscd for one test, stopped and its directory removed at the end.
pub struct Fixture {
    pub daemon: PrivatePcscd,
    dir: PathBuf,
    _turn: MutexGuard<'static, ()>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.daemon.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A private pcscd with a virtual reader called `reader` (two slots), or `None` (said why) when
/// not root.
pub fn pcscd(reader: &str) -> Option<Fixture> {
    if !daemon::running_as_root() {
        eprintln!("skipped: {}", daemon::unavailable().unwrap_or_default());
        return None;
    }
    let turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let dir = std::env::temp_dir().join(format!("hardware-pcsc-test-{}", std::process::id()));
    let daemon = PrivatePcscd::start(&dir, reader).unwrap_or_else(|e| panic!("private pcscd: {e}"));
    Some(Fixture { daemon, dir, _turn: turn })
}

/// Polls until the reader reports a card (or none), for up to 5 s: pcscd looks at vpcd's
/// slots every 400 ms.
pub fn poll_until(reader: &mut PcscReader, present: bool) -> Option<Card> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = reader.poll().unwrap_or_else(|e| panic!("poll: {e}"));
        if found.is_some() == present || Instant::now() >= deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
