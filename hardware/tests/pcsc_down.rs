//! The PC/SC reader when pcscd is not there, or stops: a message that says what to do.
//!
//! Its own test binary (its own process), because the PC/SC client reads the socket path
//! once per process: here it is a private path where no pcscd listens at first.

use hardware::pcsc::daemon::{self, PrivatePcscd};
use hardware::pcsc::{PcscError, PcscReader};
use hardware::{open_reader, BackendConfig, CardReader, ReaderChip, ReaderError};

#[test]
fn pcscd_down_is_named_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    // Before any PC/SC call of this process, which reads it once.
    std::env::set_var("PCSCLITE_CSOCK_NAME", dir.path().join("pcscd.comm"));

    assert_eq!(PcscReader::open(None).unwrap_err(), PcscError::NoService);
    let mut config = BackendConfig::default();
    config.reader.chip = ReaderChip::Pcsc;
    let message = open_reader(&config).map(|_| ()).unwrap_err().to_string();
    assert!(message.contains("pcscd is not running") && message.contains("apt install pcscd"), "{message}");

    if !daemon::running_as_root() {
        eprintln!("the rest skipped: {}", daemon::unavailable().unwrap_or_default());
        return;
    }
    // Running (where the client already looks), then stopped under the reader.
    let mut pcscd = PrivatePcscd::start(dir.path(), "Kiosk Desk").unwrap();
    let mut reader = PcscReader::open(None).unwrap();
    assert_eq!(reader.poll().unwrap(), None);
    pcscd.stop();
    match reader.poll() {
        Err(ReaderError::Bus(message)) => assert!(message.contains("pcscd") && message.contains("start it"), "{message}"),
        other => panic!("expected pcscd's absence, got {other:?}"),
    }
}
