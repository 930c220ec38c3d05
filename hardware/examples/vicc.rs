//! Serves a sample simulated card to vsmartcard-vpcd, so pcscd and every PC/SC program see it
//! in the virtual reader: for the demo and for trying the PC/SC backend by hand.
//!
//! ```sh
//! cargo run -p hardware --example vicc -- 127.0.0.1:35963 id-card   # or: badge
//! ```
//!
//! It stays until Enter is pressed (the card is then taken off) or vpcd closes the connection.

use std::io::BufRead;
use std::net::SocketAddr;

use hardware::pcsc::virtual_card::{atr_of, VirtualCard, DEFAULT_PORT};
use hardware::{SimulatedCard, Uid};

/// The example's result: any error, printed.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let address: SocketAddr = match args.next() {
        Some(text) => text.parse().map_err(|e| format!("{text:?} is not an address like 127.0.0.1:{DEFAULT_PORT}: {e}"))?,
        None => SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
    };
    let card = match args.next().as_deref().unwrap_or("id-card") {
        "id-card" => SimulatedCard::id_card(uid("04A2249A4B5E80")?, "199012344567", Some("19900101")),
        "badge" => SimulatedCard::new(uid("DEADBEEF")?),
        other => return Err(format!("unknown card {other:?}: use id-card or badge").into()),
    };
    let atr: Vec<String> = atr_of(&card).iter().map(|b| format!("{b:02X}")).collect();
    let mut reader = VirtualCard::new(address);
    reader.insert(card)?;
    println!("card inserted at {address}, ATR {}; press Enter to take it off", atr.join(" "));
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    reader.remove();
    Ok(())
}

fn uid(hex: &str) -> Result<Uid> {
    Uid::from_hex(hex).ok_or_else(|| format!("{hex} is not a UID").into())
}
