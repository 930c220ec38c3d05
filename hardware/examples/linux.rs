//! Runs the drivers on a real Linux board through `linux-embedded-hal`: an MFRC522 on spidev
//! and an ESC/POS printer on a USB printer device node. Prints the printer's status and a test
//! receipt, then reports cards put on and taken off the reader until interrupted.
//!
//! ```sh
//! cargo run -p hardware --example linux -- /dev/spidev0.0 /dev/usb/lp0
//! ```

use std::error::Error;
use std::time::Duration;

use hardware::escpos::EscPosPrinter;
use hardware::mfrc522::Mfrc522;
use hardware::{CardPresence, Language, PaperWidth, Receipt, ReceiptPrinter, StdStream};
use linux_embedded_hal::spidev::{SpiModeFlags, SpidevOptions};
use linux_embedded_hal::SpidevDevice;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let spi_path = args.next().unwrap_or_else(|| "/dev/spidev0.0".into());
    let printer_path = args.next().unwrap_or_else(|| "/dev/usb/lp0".into());

    let mut spi = SpidevDevice::open(&spi_path)?;
    spi.configure(&SpidevOptions::new().max_speed_hz(1_000_000).mode(SpiModeFlags::SPI_MODE_0).build())?;
    let mut reader = Mfrc522::new(spi);
    println!("reader: {:?}", reader.init().map_err(|e| format!("{e}"))?);

    let port = std::fs::OpenOptions::new().read(true).write(true).open(&printer_path)?;
    let mut printer = EscPosPrinter::new(StdStream(port), PaperWidth::Mm58);
    println!("printer: {:?}", ReceiptPrinter::status(&mut printer)?);
    let report = printer.print_receipt(&Receipt::test_page(Language::Arabic, "example", "-"))?;
    println!("printed {} rows in {} bytes", report.rows, report.bytes_sent);

    let mut presence = CardPresence::new(reader);
    loop {
        if let Some(event) = presence.poll()? {
            println!("{event:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
