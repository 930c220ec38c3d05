//! Any byte stream into the simulated printer, in fuzzer-chosen chunks: it must parse, flag
//! what it does not understand, and never panic.
#![no_main]

use embedded_io::Write;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut printer = hardware::SimulatedPrinter::new(hardware::PaperWidth::Mm58);
    let (sizes, stream) = data.split_at(data.len().min(8));
    let mut rest = stream;
    for &size in sizes.iter().cycle().take(64) {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(usize::from(size).clamp(1, rest.len()));
        let _ = printer.write_all(chunk);
        rest = tail;
    }
    let _ = printer.write_all(rest);
});
