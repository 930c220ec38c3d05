//! The ESC/POS commands the driver sends and the simulator understands (Epson "ESC/POS
//! Application Programming Guide" / command reference, <https://download4.epson.biz/sec_pubs/pos/reference_en/escpos/>).

/// `ESC @`: initialise the printer (clears the buffer, resets modes).
pub const INITIALIZE: [u8; 2] = [0x1B, 0x40];
/// `ESC J n` prefix: print the buffer and feed `n` motion units (dot rows on 203 dpi printers).
pub const FEED_DOTS: [u8; 2] = [0x1B, 0x4A];
/// `GS v 0` prefix: print a raster bit image.
pub const RASTER_IMAGE: [u8; 3] = [0x1D, 0x76, 0x30];
/// `GS V 66 n`: feed to the cutter plus `n` units, then cut leaving one point uncut.
pub const FEED_AND_PARTIAL_CUT: [u8; 3] = [0x1D, 0x56, 0x42];
/// `DLE EOT n` prefix: real-time status transmission.
pub const REALTIME_STATUS: [u8; 2] = [0x10, 0x04];

/// `DLE EOT` arguments.
pub mod status_request {
    /// Printer status: bit 3 offline.
    pub const PRINTER: u8 = 1;
    /// Offline cause: bit 2 cover open, bit 3 feed button, bit 5 stopped at paper end, bit 6 error.
    pub const OFFLINE_CAUSE: u8 = 2;
    /// Error status: bit 3 auto-cutter error, bit 5 unrecoverable, bit 6 auto-recoverable.
    pub const ERROR: u8 = 3;
    /// Roll paper sensor: bits 2–3 near end, bits 5–6 paper end.
    pub const ROLL_PAPER: u8 = 4;
}

/// Bits fixed in every `DLE EOT` answer: bits 1 and 4 set, bits 0 and 7 clear. They tell a
/// status byte from stray data.
pub const STATUS_FIXED_MASK: u8 = 0b1001_0011;
/// Value of the fixed bits.
pub const STATUS_FIXED_VALUE: u8 = 0b0001_0010;

/// Rows per `GS v 0` band. Small bands keep cheap printers with 4 KiB input buffers printing
/// smoothly; at 80 mm (72 bytes a row) a band is 9 KiB, the 8-byte header costs under 0.1 %.
pub const MAX_BAND_ROWS: usize = 128;

/// Appends `GS v 0` for `rows` packed rows of `width_bytes` each (normal density, m = 0).
pub fn raster_band(out: &mut Vec<u8>, width_bytes: usize, rows: &[&[u8]]) {
    out.extend_from_slice(&RASTER_IMAGE);
    out.push(0);
    out.extend_from_slice(&(width_bytes as u16).to_le_bytes());
    out.extend_from_slice(&(rows.len() as u16).to_le_bytes());
    for row in rows {
        out.extend_from_slice(&row[..width_bytes]);
    }
}

/// Appends `ESC J` commands feeding `dots` rows (at most 255 per command).
pub fn feed(out: &mut Vec<u8>, mut dots: usize) {
    while dots > 0 {
        let n = dots.min(255);
        out.extend_from_slice(&FEED_DOTS);
        out.push(n as u8);
        dots -= n;
    }
}

/// The bytes that print `page` and cut it off: `ESC @`, then the page as `GS v 0` bands where it
/// has ink and `ESC J` over blank rows, then `GS V 66 0`.
///
/// Each band is only as wide as its rightmost black dot needs (`GS v 0` images start at the
/// left margin, so dropping trailing white bytes prints the same page), which keeps the bytes
/// sent close to the ink actually on the page.
pub fn encode_page(page: &crate::Raster) -> Vec<u8> {
    let mut out = Vec::with_capacity(page.as_bytes().len() / 2 + 16);
    out.extend_from_slice(&INITIALIZE);
    let mut y = 0;
    while y < page.height() {
        if page.is_row_blank(y) {
            let start = y;
            while y < page.height() && page.is_row_blank(y) {
                y += 1;
            }
            feed(&mut out, y - start);
            continue;
        }
        let start = y;
        while y < page.height() && y - start < MAX_BAND_ROWS && !page.is_row_blank(y) {
            y += 1;
        }
        let rows: Vec<&[u8]> = (start..y).map(|r| page.row(r)).collect();
        let width = rows
            .iter()
            .map(|row| row.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1))
            .max()
            .unwrap_or(1);
        raster_band(&mut out, width, &rows);
    }
    out.extend_from_slice(&FEED_AND_PARTIAL_CUT);
    out.push(0);
    out
}
