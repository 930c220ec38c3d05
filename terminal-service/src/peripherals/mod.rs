//! The card reader, the receipt printer and the barcode scanner: opening them through the `hardware` crate, polling
//! them, what a receipt shows, and the technician's `hw` commands.

pub mod devices;
pub mod hw;
pub mod id_card_read;
pub mod printer_monitor;
pub mod reader_loop;
pub mod receipts;
pub mod scanner_loop;
