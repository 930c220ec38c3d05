//! Barcode scanners fed recorded byte streams: evdev `input_event` records as a USB HID
//! scanner sends them (linux/input.h), and serial lines with each line ending.

use std::io::Cursor;
use std::time::Duration;

use hardware::scanner::hid::{self, key, InputEvent, EV_KEY, EV_MSC, EV_SYN, INPUT_EVENT_SIZE};
use hardware::scanner::{HidScanner, SerialScanner, MAX_SCAN_LEN};
use hardware::{open_scanner, BarcodeScanner, ScannerConfig, ScannerError, ScannerKind};

/// A referral payload in the R1 alphabet (upper-case letters, digits, `.`, `-`, `/`).
const PAYLOAD: &str = "R1.WFP.000000001C.20261130.4.BGD.CASE-77/B.X9ZQ";
const WAIT: Duration = Duration::from_millis(50);

fn press(code: u16) -> InputEvent {
    InputEvent { kind: EV_KEY, code, value: 1 }
}
fn release(code: u16) -> InputEvent {
    InputEvent { kind: EV_KEY, code, value: 0 }
}
const SYN: InputEvent = InputEvent { kind: EV_SYN, code: 0, value: 0 };

/// The bytes the kernel hands a reader of the evdev node: records with timestamps, the USB
/// scan code (EV_MSC MSC_SCAN) before each key as real keyboards send it.
fn kernel_bytes(events: &[InputEvent]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if e.kind == EV_KEY {
            let mut msc = InputEvent { kind: EV_MSC, code: 4, value: 0x70000 + i32::from(e.code) }.to_bytes();
            msc[0] = 0x5A; // a non-zero timestamp: must be ignored
            out.extend_from_slice(&msc);
        }
        let mut record = e.to_bytes();
        record[1] = i as u8;
        out.extend_from_slice(&record);
    }
    out
}

fn hid(bytes: Vec<u8>, caps_lock: bool) -> HidScanner<Cursor<Vec<u8>>> {
    HidScanner::with_source(Cursor::new(bytes), "/dev/input/by-id/usb-test-event-kbd", caps_lock)
}

#[test]
fn input_event_record_matches_the_kernel_layout() {
    // x86-64 and aarch64: struct timeval is two 8-byte longs; 32-bit ARM: two 4-byte longs.
    assert_eq!(INPUT_EVENT_SIZE, if cfg!(target_pointer_width = "64") { 24 } else { 16 });
    let mut record = [0u8; INPUT_EVENT_SIZE];
    let at = INPUT_EVENT_SIZE - 8;
    // EV_KEY, KEY_A (30), press, little-endian as on every board we ship.
    record[at..].copy_from_slice(&[0x01, 0x00, 0x1E, 0x00, 0x01, 0x00, 0x00, 0x00]);
    if cfg!(target_endian = "little") {
        assert_eq!(InputEvent::from_bytes(&record), press(30));
    }
}

#[test]
fn hid_scan_of_a_payload_with_shift_reads_the_payload() {
    let events = hid::type_text(PAYLOAD).expect("the payload alphabet is typeable");
    assert!(events.contains(&press(key::LEFT_SHIFT)), "capitals are typed with Shift");
    let mut scanner = hid(kernel_bytes(&events), false);
    assert_eq!(scanner.read_scan(WAIT).unwrap().as_deref(), Some(PAYLOAD));
    assert_eq!(scanner.read_scan(WAIT).unwrap(), None, "one scan, one line");
}

#[test]
fn hid_scan_with_caps_lock_on_and_no_shift_reads_capitals() {
    // A scanner set to send lower-case keys after turning Caps Lock on: "R1.W/-" as
    // CapsLock, r, 1, ., w, /, -, CapsLock (off again), Enter.
    let mut events = vec![press(key::CAPS_LOCK), SYN, release(key::CAPS_LOCK), SYN];
    for code in [19, 2, 52, 17, 53, 12] {
        events.extend([press(code), SYN, release(code), SYN]);
    }
    events.extend([press(key::CAPS_LOCK), release(key::CAPS_LOCK), press(30), release(30)]);
    events.extend([press(key::ENTER), release(key::ENTER)]);
    let mut scanner = hid(kernel_bytes(&events), false);
    assert_eq!(scanner.read_scan(WAIT).unwrap().as_deref(), Some("R1.W/-a"));
}

#[test]
fn hid_caps_lock_already_on_at_open_and_shift_gives_lower_case() {
    // LED on at open (EVIOCGLED): plain letters are capitals, Shift+letter lower case.
    let events = [press(19), release(19), press(key::RIGHT_SHIFT), press(19), release(19), release(key::RIGHT_SHIFT), press(key::KP_ENTER)];
    let mut scanner = hid(kernel_bytes(&events), true);
    assert_eq!(scanner.read_scan(WAIT).unwrap().as_deref(), Some("Rr"));
}

#[test]
fn hid_scan_split_across_reads_is_kept_until_enter() {
    let bytes = kernel_bytes(&hid::type_text("AB12").unwrap());
    let (first, rest) = bytes.split_at(bytes.len() / 2 + 5); // mid-record
    let mut scanner = hid(first.to_vec(), false);
    assert_eq!(scanner.read_scan(WAIT).unwrap(), None, "no Enter yet");
    let mut joined = first.to_vec();
    joined.extend_from_slice(rest);
    let mut scanner = hid(joined, false);
    assert_eq!(scanner.read_scan(WAIT).unwrap().as_deref(), Some("AB12"));
}

#[test]
fn hid_key_without_a_character_refuses_the_line_and_the_next_scan_reads() {
    let mut events = vec![press(30), release(30), press(59 /* F1 */), release(59), press(key::ENTER), release(key::ENTER)];
    events.extend(hid::type_text("OK").unwrap());
    let mut scanner = hid(kernel_bytes(&events), false);
    let err = scanner.read_scan(WAIT).unwrap_err();
    assert!(matches!(&err, ScannerError::Garbled(r) if r.contains("key code 59")), "{err}");
    assert!(err.to_string().contains("US keyboard layout"), "says what to do: {err}");
    assert_eq!(scanner.read_scan(WAIT).unwrap().as_deref(), Some("OK"));
}

#[test]
fn hid_control_chord_is_refused() {
    let events = [press(key::LEFT_CTRL), press(46), release(46), release(key::LEFT_CTRL), press(key::ENTER)];
    let err = hid(kernel_bytes(&events), false).read_scan(WAIT).unwrap_err();
    assert!(matches!(err, ScannerError::Garbled(ref r) if r.contains("Ctrl")), "{err}");
}

#[test]
fn hid_over_long_scan_is_refused_whole() {
    let long = "A".repeat(MAX_SCAN_LEN + 1);
    let mut bytes = kernel_bytes(&hid::type_text(&long).unwrap());
    bytes.extend(kernel_bytes(&hid::type_text(PAYLOAD).unwrap()));
    let mut scanner = hid(bytes, false);
    let err = scanner.read_scan(WAIT).unwrap_err();
    assert!(matches!(err, ScannerError::TooLong { len, max } if len == MAX_SCAN_LEN + 1 && max == MAX_SCAN_LEN), "{err}");
    assert_eq!(scanner.read_scan(WAIT).unwrap().as_deref(), Some(PAYLOAD));
    // Exactly the limit is accepted.
    let limit = "B".repeat(MAX_SCAN_LEN);
    let mut scanner = hid(kernel_bytes(&hid::type_text(&limit).unwrap()), false);
    assert_eq!(scanner.read_scan(WAIT).unwrap(), Some(limit));
}

#[test]
fn hid_auto_repeat_types_again_and_lone_enter_is_no_scan() {
    let events = [press(key::ENTER), release(key::ENTER), press(30), InputEvent { kind: EV_KEY, code: 30, value: 2 }, release(30), press(key::ENTER)];
    let mut scanner = hid(kernel_bytes(&events), false);
    assert_eq!(scanner.read_scan(WAIT).unwrap().as_deref(), Some("aa"));
}

fn serial(bytes: &[u8]) -> SerialScanner<Cursor<Vec<u8>>> {
    SerialScanner::with_source(Cursor::new(bytes.to_vec()), "/dev/ttyACM0")
}

#[test]
fn serial_lines_with_cr_lf_and_crlf_endings() {
    let stream = format!("{PAYLOAD}\r\nSECOND\rTHIRD\nFOURTH\r\n");
    let mut scanner = serial(stream.as_bytes());
    for expected in [PAYLOAD, "SECOND", "THIRD", "FOURTH"] {
        assert_eq!(scanner.read_scan(WAIT).unwrap().as_deref(), Some(expected));
    }
    assert_eq!(scanner.read_scan(WAIT).unwrap(), None);
}

#[test]
fn serial_line_without_ending_waits() {
    let mut scanner = serial(b"R1.WFP");
    assert_eq!(scanner.read_scan(WAIT).unwrap(), None);
}

#[test]
fn serial_garbage_and_over_long_lines_are_refused_and_the_stream_resyncs() {
    let mut stream = b"AB\x02C\xFF\r\n".to_vec(); // STX prefix code and a non-ASCII byte
    stream.extend("Z".repeat(MAX_SCAN_LEN + 10).as_bytes());
    stream.extend(b"\r\nGOOD\n");
    let mut scanner = serial(&stream);
    let err = scanner.read_scan(WAIT).unwrap_err();
    assert!(matches!(&err, ScannerError::Garbled(r) if r.contains("0x02")), "{err}");
    let err = scanner.read_scan(WAIT).unwrap_err();
    assert!(matches!(err, ScannerError::TooLong { len, .. } if len == MAX_SCAN_LEN + 10), "{err}");
    assert_eq!(scanner.read_scan(WAIT).unwrap().as_deref(), Some("GOOD"));
}

#[test]
fn simulated_scanner_types_through_the_hid_decoder() {
    let config = ScannerConfig { kind: ScannerKind::Simulated, ..ScannerConfig::default() };
    let (mut scanner, handle) = open_scanner(&config).unwrap().expect("a scanner");
    let handle = handle.expect("simulated controls");
    assert_eq!(scanner.read_scan(WAIT).unwrap(), None);
    handle.scan(PAYLOAD);
    handle.scan("second");
    assert_eq!(scanner.read_scan(WAIT).unwrap().as_deref(), Some(PAYLOAD));
    assert_eq!(scanner.read_scan(WAIT).unwrap().as_deref(), Some("second"));
    handle.scan("ك"); // not on a US keymap: refused like a scanner on the wrong layout
    assert!(matches!(scanner.read_scan(WAIT), Err(ScannerError::Garbled(_))));
}

#[test]
fn config_needs_a_device_for_hid_and_serial_and_names_the_key() {
    let none: ScannerConfig = toml::from_str("").unwrap();
    assert_eq!(none.kind, ScannerKind::None);
    assert!(open_scanner(&none).unwrap().is_none());
    let hid: ScannerConfig = toml::from_str(r#"kind = "hid""#).unwrap();
    let err = hid.check().unwrap_err();
    assert!(err.contains("hardware.scanner.device"), "{err}");
    let err = toml::from_str::<ScannerConfig>(r#"kind = "usb""#).unwrap_err().to_string();
    assert!(err.contains("usb"), "{err}");
    let err = toml::from_str::<ScannerConfig>(r#"port = "/dev/ttyACM0""#).unwrap_err().to_string();
    assert!(err.contains("port"), "{err}");
}

#[test]
fn opening_a_missing_or_non_evdev_node_fails_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-scanner-event-kbd");
    let config = ScannerConfig { kind: ScannerKind::Hid, device: Some(missing.clone()), ..ScannerConfig::default() };
    let err = open_scanner(&config).err().expect("no such device").to_string();
    assert!(err.contains("no-scanner-event-kbd") && err.contains("barcode scanner"), "{err}");
    let plain = dir.path().join("plain-file");
    std::fs::write(&plain, b"").unwrap();
    let config = ScannerConfig { kind: ScannerKind::Hid, device: Some(plain), ..ScannerConfig::default() };
    let err = open_scanner(&config).err().expect("not an evdev node").to_string();
    assert!(err.contains("EVIOCGRAB"), "{err}");
}
