//! The simulated scanner: "scanning" text types it as evdev key events (US keymap, Shift for
//! capitals) into the real [`HidScanner`] decoder, so tests and the demo exercise it.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::hid::{type_text, HidScanner, INPUT_EVENT_SIZE};
use super::{BarcodeScanner, ScannerError, TimedSource};

#[derive(Debug, Default)]
struct Wire {
    bytes: Mutex<VecDeque<u8>>,
    arrived: Condvar,
}

/// Controls of the simulated scanner: scan text with it.
#[derive(Debug, Clone)]
pub struct SimulatedScannerHandle {
    wire: Arc<Wire>,
}

impl SimulatedScannerHandle {
    /// Scans `text` (as if a code holding it was held under the scanner). Characters a US
    /// keyboard cannot type are sent as a key with no character, which the decoder refuses,
    /// as a real scanner set to the wrong layout would.
    pub fn scan(&self, text: &str) {
        let events = type_text(text).unwrap_or_else(|| {
            let mut events = type_text("").unwrap_or_default();
            // F1 (code 59) before Enter: a key that types nothing.
            let f1 = super::hid::InputEvent { kind: super::hid::EV_KEY, code: 59, value: 1 };
            events.insert(0, f1);
            events
        });
        let mut bytes = self.wire.bytes.lock().unwrap_or_else(|p| p.into_inner());
        bytes.extend(events.iter().flat_map(|e| e.to_bytes()));
        self.wire.arrived.notify_all();
    }
}

/// A simulated USB HID scanner.
pub struct SimulatedScanner {
    inner: HidScanner<WireSource>,
    wire: Arc<Wire>,
}

impl SimulatedScanner {
    /// A scanner with nothing scanned yet.
    pub fn new() -> SimulatedScanner {
        let wire = Arc::new(Wire::default());
        let inner = HidScanner::with_source(WireSource(wire.clone()), "simulator", false);
        SimulatedScanner { inner, wire }
    }

    /// Its controls.
    pub fn handle(&self) -> SimulatedScannerHandle {
        SimulatedScannerHandle { wire: self.wire.clone() }
    }
}

impl Default for SimulatedScanner {
    fn default() -> Self {
        SimulatedScanner::new()
    }
}

impl BarcodeScanner for SimulatedScanner {
    fn describe(&self) -> String {
        "simulated barcode scanner".into()
    }
    fn read_scan(&mut self, timeout: Duration) -> Result<Option<String>, ScannerError> {
        self.inner.read_scan(timeout)
    }
}

struct WireSource(Arc<Wire>);

impl TimedSource for WireSource {
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let bytes = self.0.bytes.lock().unwrap_or_else(|p| p.into_inner());
        let (mut bytes, _) = self
            .0
            .arrived
            .wait_timeout_while(bytes, timeout, |b| b.is_empty())
            .unwrap_or_else(|p| p.into_inner());
        // Whole records only, as the kernel delivers them.
        let n = bytes.len().min(buf.len() / INPUT_EVENT_SIZE * INPUT_EVENT_SIZE);
        for (slot, byte) in buf.iter_mut().zip(bytes.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }
}
