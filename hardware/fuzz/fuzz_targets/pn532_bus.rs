//! The PN532 driver on a bus whose reads come from the fuzzer.
#![no_main]

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, Operation};

struct Bus<'a>(&'a [u8]);

impl ErrorType for Bus<'_> {
    type Error = ErrorKind;
}

impl I2c for Bus<'_> {
    fn transaction(&mut self, _address: u8, operations: &mut [Operation<'_>]) -> Result<(), ErrorKind> {
        for op in operations {
            if let Operation::Read(buf) = op {
                if self.0.len() < buf.len() {
                    return Err(ErrorKind::Other);
                }
                let (head, rest) = self.0.split_at(buf.len());
                buf.copy_from_slice(head);
                self.0 = rest;
            }
        }
        Ok(())
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut reader = hardware::pn532::Pn532::new(Bus(data), hardware::pn532::NoDelay);
    let _ = reader.init();
    let _ = reader.poll();
});
