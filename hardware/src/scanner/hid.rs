//! USB HID ("keyboard wedge") barcode scanners, read from their Linux evdev node.
//!
//! The scanner is a USB keyboard to the kernel: each character of a scan arrives as key press
//! and release events (`struct input_event`, `linux/input.h`), Shift around upper-case
//! letters, Enter at the end. This module reads those events straight from the device node
//! rather than through the `evdev` crate: all it needs is the 16/24-byte `input_event` record
//! and two ioctls (EVIOCGRAB, EVIOCGLED), which `libc` gives without another dependency tree,
//! and reading raw records lets the tests feed datasheet-style byte streams to the same code.
//!
//! The device is grabbed (EVIOCGRAB) so the scan does not also reach the kiosk's UI as typed
//! text. The keymap is US: the referral payload alphabet (upper-case letters, digits, `.`,
//! `-`, `/`) is plain or shifted letters there, so a scanner left on its factory US layout
//! reads it right. Caps Lock is followed (its state read from the device's LED at open, then
//! toggled by the Caps Lock key), since some scanners send lower case with Caps Lock on.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use super::{BarcodeScanner, LineAssembler, ScannerError, TimedSource};

/// Size of `struct input_event`: a `struct timeval` (two `long`s) then type, code, value.
pub const INPUT_EVENT_SIZE: usize = 2 * core::mem::size_of::<libc::c_long>() + 8;

/// `EV_SYN`.
pub const EV_SYN: u16 = 0x00;
/// `EV_KEY`.
pub const EV_KEY: u16 = 0x01;
/// `EV_MSC` (scan codes, sent by most USB keyboards alongside the key events).
pub const EV_MSC: u16 = 0x04;

/// Key codes of `linux/input-event-codes.h` this module names.
pub mod key {
    /// `KEY_ENTER`.
    pub const ENTER: u16 = 28;
    /// `KEY_KPENTER`.
    pub const KP_ENTER: u16 = 96;
    /// `KEY_LEFTSHIFT`.
    pub const LEFT_SHIFT: u16 = 42;
    /// `KEY_RIGHTSHIFT`.
    pub const RIGHT_SHIFT: u16 = 54;
    /// `KEY_CAPSLOCK`.
    pub const CAPS_LOCK: u16 = 58;
    /// `KEY_LEFTCTRL`.
    pub const LEFT_CTRL: u16 = 29;
    /// `KEY_RIGHTCTRL`.
    pub const RIGHT_CTRL: u16 = 97;
    /// `KEY_LEFTALT`.
    pub const LEFT_ALT: u16 = 56;
    /// `KEY_RIGHTALT`.
    pub const RIGHT_ALT: u16 = 100;
    /// `KEY_NUMLOCK`.
    pub const NUM_LOCK: u16 = 69;
}

/// One `struct input_event`, without its timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputEvent {
    /// `type` (`EV_KEY`, `EV_SYN`, …).
    pub kind: u16,
    /// `code` (the key for `EV_KEY`).
    pub code: u16,
    /// `value`: for keys 1 press, 0 release, 2 auto-repeat.
    pub value: i32,
}

impl InputEvent {
    /// Decodes a record of [`INPUT_EVENT_SIZE`] bytes in the machine's byte order.
    pub fn from_bytes(record: &[u8; INPUT_EVENT_SIZE]) -> InputEvent {
        let at = INPUT_EVENT_SIZE - 8;
        InputEvent {
            kind: u16::from_ne_bytes([record[at], record[at + 1]]),
            code: u16::from_ne_bytes([record[at + 2], record[at + 3]]),
            value: i32::from_ne_bytes([record[at + 4], record[at + 5], record[at + 6], record[at + 7]]),
        }
    }

    /// Encodes the record (timestamp zero), as the kernel would send it.
    pub fn to_bytes(self) -> [u8; INPUT_EVENT_SIZE] {
        let mut record = [0; INPUT_EVENT_SIZE];
        let at = INPUT_EVENT_SIZE - 8;
        record[at..at + 2].copy_from_slice(&self.kind.to_ne_bytes());
        record[at + 2..at + 4].copy_from_slice(&self.code.to_ne_bytes());
        record[at + 4..at + 8].copy_from_slice(&self.value.to_ne_bytes());
        record
    }
}

/// The US keymap: key code, character, shifted character. Letters are listed lower case and
/// follow Caps Lock; the keypad gives its digits and operators whatever Shift says (Num Lock
/// is assumed on: scanners that use the keypad send Num Lock first or expect it).
const US_KEYMAP: &[(u16, char, char)] = &[
    (2, '1', '!'), (3, '2', '@'), (4, '3', '#'), (5, '4', '$'), (6, '5', '%'),
    (7, '6', '^'), (8, '7', '&'), (9, '8', '*'), (10, '9', '('), (11, '0', ')'),
    (12, '-', '_'), (13, '=', '+'),
    (16, 'q', 'Q'), (17, 'w', 'W'), (18, 'e', 'E'), (19, 'r', 'R'), (20, 't', 'T'),
    (21, 'y', 'Y'), (22, 'u', 'U'), (23, 'i', 'I'), (24, 'o', 'O'), (25, 'p', 'P'),
    (26, '[', '{'), (27, ']', '}'),
    (30, 'a', 'A'), (31, 's', 'S'), (32, 'd', 'D'), (33, 'f', 'F'), (34, 'g', 'G'),
    (35, 'h', 'H'), (36, 'j', 'J'), (37, 'k', 'K'), (38, 'l', 'L'),
    (39, ';', ':'), (40, '\'', '"'), (41, '`', '~'), (43, '\\', '|'),
    (44, 'z', 'Z'), (45, 'x', 'X'), (46, 'c', 'C'), (47, 'v', 'V'), (48, 'b', 'B'),
    (49, 'n', 'N'), (50, 'm', 'M'),
    (51, ',', '<'), (52, '.', '>'), (53, '/', '?'), (57, ' ', ' '),
    (55, '*', '*'), (74, '-', '-'), (78, '+', '+'), (83, '.', '.'), (98, '/', '/'),
    (71, '7', '7'), (72, '8', '8'), (73, '9', '9'), (75, '4', '4'), (76, '5', '5'),
    (77, '6', '6'), (79, '1', '1'), (80, '2', '2'), (81, '3', '3'), (82, '0', '0'),
];

/// The character key `code` types with `shift` and `caps_lock`, `None` if it types none.
pub fn us_character(code: u16, shift: bool, caps_lock: bool) -> Option<char> {
    let &(_, plain, shifted) = US_KEYMAP.iter().find(|(c, _, _)| *c == code)?;
    let shift = if plain.is_ascii_lowercase() { shift ^ caps_lock } else { shift };
    Some(if shift { shifted } else { plain })
}

/// The key presses that type `c` on a US keymap with Caps Lock off: the key code and whether
/// Shift is held. `None` for a character the keymap cannot type.
pub fn us_key_for(c: char) -> Option<(u16, bool)> {
    US_KEYMAP.iter().find_map(|&(code, plain, shifted)| match c {
        _ if c == plain => Some((code, false)),
        _ if c == shifted => Some((code, true)),
        _ => None,
    })
}

/// Turns key events into lines of text (the decoding half of [`HidScanner`]).
#[derive(Debug, Default)]
pub struct KeyDecoder {
    left_shift: bool,
    right_shift: bool,
    control: bool,
    caps_lock: bool,
    line: LineAssembler,
}

impl KeyDecoder {
    /// A decoder, Caps Lock as given (the device's LED state at open).
    pub fn new(caps_lock: bool) -> KeyDecoder {
        KeyDecoder { caps_lock, ..KeyDecoder::default() }
    }

    /// Feeds one event: `Some` when it ended a line (Enter), with the line or why it is refused.
    pub fn feed(&mut self, event: InputEvent) -> Option<Result<Option<String>, ScannerError>> {
        if event.kind != EV_KEY {
            return None; // EV_SYN, EV_MSC scan codes, EV_LED echoes: nothing typed
        }
        let pressed = event.value != 0; // 1 press, 2 auto-repeat (types again), 0 release
        match event.code {
            key::LEFT_SHIFT => self.left_shift = pressed,
            key::RIGHT_SHIFT => self.right_shift = pressed,
            key::LEFT_CTRL | key::RIGHT_CTRL | key::LEFT_ALT | key::RIGHT_ALT => self.control = pressed,
            key::CAPS_LOCK if event.value == 1 => self.caps_lock = !self.caps_lock,
            key::CAPS_LOCK | key::NUM_LOCK => {}
            _ if !pressed => {}
            key::ENTER | key::KP_ENTER => return Some(self.line.finish()),
            code => match us_character(code, self.left_shift || self.right_shift, self.caps_lock) {
                Some(c) if !self.control => self.line.push(c),
                Some(c) => self.line.garble(format!("'{c}' came with Ctrl or Alt held")),
                None => self.line.garble(format!("key code {code} types no character on a US keymap")),
            },
        }
        None
    }

    /// Whether a line is in progress.
    pub fn in_line(&self) -> bool {
        !self.line.is_empty()
    }
}

/// A USB HID barcode scanner on its evdev node (or any [`TimedSource`] of `input_event`
/// records: tests and the simulator).
pub struct HidScanner<S = EvdevNode> {
    source: S,
    device: String,
    decoder: KeyDecoder,
    pending: Vec<u8>,
}

impl HidScanner<EvdevNode> {
    /// Opens and grabs the evdev node, reading its Caps Lock LED.
    pub fn open(path: &Path) -> io::Result<HidScanner<EvdevNode>> {
        let node = EvdevNode::open(path)?;
        let caps_lock = node.caps_lock_led();
        Ok(HidScanner::with_source(node, path.display().to_string(), caps_lock))
    }
}

impl<S: TimedSource> HidScanner<S> {
    /// A scanner over `source`, named `device` in messages, Caps Lock as given.
    pub fn with_source(source: S, device: impl Into<String>, caps_lock: bool) -> HidScanner<S> {
        HidScanner { source, device: device.into(), decoder: KeyDecoder::new(caps_lock), pending: Vec::new() }
    }

    /// Decodes whole records in `pending`; the first line ended, if any.
    fn decode_pending(&mut self) -> Option<Result<Option<String>, ScannerError>> {
        let mut used = 0;
        let mut ended = None;
        while ended.is_none() && self.pending.len() - used >= INPUT_EVENT_SIZE {
            let mut record = [0; INPUT_EVENT_SIZE];
            record.copy_from_slice(&self.pending[used..used + INPUT_EVENT_SIZE]);
            used += INPUT_EVENT_SIZE;
            ended = self.decoder.feed(InputEvent::from_bytes(&record));
        }
        self.pending.drain(..used);
        ended
    }
}

impl<S: TimedSource> BarcodeScanner for HidScanner<S> {
    fn describe(&self) -> String {
        format!("USB HID barcode scanner {}", self.device)
    }

    fn read_scan(&mut self, timeout: Duration) -> Result<Option<String>, ScannerError> {
        let deadline = Instant::now() + timeout;
        // Bounded: each turn consumes input or waits out part of the timeout.
        loop {
            match self.decode_pending() {
                Some(Ok(None)) => continue, // an empty line (a lone Enter): not a scan
                Some(result) => return result,
                None => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let mut buf = [0; 64 * INPUT_EVENT_SIZE];
            match self.source.read_timeout(&mut buf, left) {
                Ok(0) => return Ok(None),
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(ScannerError::Disconnected { device: self.device.clone() })
                }
                Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {
                    return Err(ScannerError::Disconnected { device: self.device.clone() })
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => return Err(ScannerError::Io { device: self.device.clone(), source }),
            }
        }
    }
}

/// An evdev device node, grabbed for as long as it is open.
#[derive(Debug)]
pub struct EvdevNode {
    file: File,
}

/// `EVIOCGRAB`: `_IOW('E', 0x90, int)`.
const EVIOCGRAB: libc::c_ulong = (1 << 30) | (4 << 16) | (0x45 << 8) | 0x90;
/// `EVIOCGLED(1)`: `_IOC(_IOC_READ, 'E', 0x19, 1)`, the first byte of the LED bitmap.
const EVIOCGLED_1: libc::c_ulong = (2 << 30) | (1 << 16) | (0x45 << 8) | 0x19;
/// `LED_CAPSL`.
const LED_CAPSL: u8 = 1;

impl EvdevNode {
    /// Opens `path` and grabs it, so its key events reach this process alone.
    pub fn open(path: &Path) -> io::Result<EvdevNode> {
        let file = File::open(path)?;
        // SAFETY: EVIOCGRAB takes an int by value; the descriptor is open for the call.
        let grabbed = unsafe { libc::ioctl(file.as_raw_fd(), EVIOCGRAB as _, 1 as libc::c_int) };
        if grabbed != 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("cannot grab it (EVIOCGRAB: {e}); is it an evdev node, and does another program hold it?"),
            ));
        }
        Ok(EvdevNode { file })
    }

    /// The device's Caps Lock LED; off if it has none or cannot say.
    fn caps_lock_led(&self) -> bool {
        let mut leds = [0u8; 1];
        // SAFETY: EVIOCGLED(1) writes at most one byte into `leds`, which outlives the call.
        let n = unsafe { libc::ioctl(self.file.as_raw_fd(), EVIOCGLED_1 as _, leds.as_mut_ptr()) };
        n >= 0 && leds[0] & (1 << LED_CAPSL) != 0
    }
}

impl TimedSource for EvdevNode {
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if !poll_readable(&self.file, timeout)? {
            return Ok(0);
        }
        match io::Read::read(&mut self.file, buf)? {
            0 => Err(io::ErrorKind::UnexpectedEof.into()),
            n => Ok(n),
        }
    }
}

/// Waits up to `timeout` for `file` to be readable; `Ok(false)` on timeout.
pub(crate) fn poll_readable(file: &impl AsRawFd, timeout: Duration) -> io::Result<bool> {
    let mut fds = libc::pollfd { fd: file.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let millis = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: one pollfd, valid for the call.
    let n = unsafe { libc::poll(&mut fds, 1, millis) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted { Ok(false) } else { Err(e) };
    }
    if n > 0 && fds.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 && fds.revents & libc::POLLIN == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(n > 0)
}

/// The `input_event` records a US-layout HID scanner sends to type `text` and Enter: a
/// press and release per character, Shift around shifted characters, `EV_SYN` after each
/// report. `None` if `text` has a character the keymap cannot type. The simulator and tests
/// use it; it is what a real scanner's firmware does.
pub fn type_text(text: &str) -> Option<Vec<InputEvent>> {
    let mut events = Vec::new();
    let sync = InputEvent { kind: EV_SYN, code: 0, value: 0 };
    let key = |code, value| InputEvent { kind: EV_KEY, code, value };
    for c in text.chars() {
        let (code, shift) = us_key_for(c)?;
        if shift {
            events.extend([key(key::LEFT_SHIFT, 1), sync]);
        }
        events.extend([key(code, 1), sync, key(code, 0), sync]);
        if shift {
            events.extend([key(key::LEFT_SHIFT, 0), sync]);
        }
    }
    events.extend([key(key::ENTER, 1), sync, key(key::ENTER, 0), sync]);
    Some(events)
}
