//! The MFRC522 driver on an SPI bus whose MISO bytes come from the fuzzer.
#![no_main]

use embedded_hal::spi::{ErrorKind, ErrorType, Operation, SpiDevice};

struct Bus<'a>(&'a [u8]);

impl Bus<'_> {
    fn next(&mut self) -> Result<u8, ErrorKind> {
        let (&b, rest) = self.0.split_first().ok_or(ErrorKind::Other)?;
        self.0 = rest;
        Ok(b)
    }
}

impl ErrorType for Bus<'_> {
    type Error = ErrorKind;
}

impl SpiDevice<u8> for Bus<'_> {
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), ErrorKind> {
        for op in operations {
            match op {
                Operation::Read(buf) | Operation::TransferInPlace(buf) => {
                    for b in buf.iter_mut() {
                        *b = self.next()?;
                    }
                }
                Operation::Transfer(read, _) => {
                    for b in read.iter_mut() {
                        *b = self.next()?;
                    }
                }
                Operation::Write(_) | Operation::DelayNs(_) => {}
            }
        }
        Ok(())
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut reader = hardware::mfrc522::Mfrc522::new(Bus(data));
    let _ = reader.init();
    let _ = reader.poll();
});
