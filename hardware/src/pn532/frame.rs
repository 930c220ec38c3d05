//! PN532 host frames (NXP PN532 User Manual UM0701-02, §6.2.1): normal information frames,
//! the ACK frame and the error frame.

/// TFI of a frame from the host to the PN532.
pub const TFI_HOST: u8 = 0xD4;
/// TFI of a frame from the PN532 to the host.
pub const TFI_PN532: u8 = 0xD5;
/// The ACK frame.
pub const ACK: [u8; 6] = [0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00];
/// The error frame the PN532 sends for a syntax error in a command (§6.2.1.5).
pub const SYNTAX_ERROR: [u8; 8] = [0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00];

/// Command codes (§7).
#[allow(missing_docs)] // the user manual's names
pub mod command {
    pub const GET_FIRMWARE_VERSION: u8 = 0x02;
    pub const SAM_CONFIGURATION: u8 = 0x14;
    pub const RF_CONFIGURATION: u8 = 0x32;
    pub const IN_DATA_EXCHANGE: u8 = 0x40;
    pub const IN_LIST_PASSIVE_TARGET: u8 = 0x4A;
    pub const IN_RELEASE: u8 = 0x52;
}

/// A normal information frame: preamble, start code, LEN, LCS, TFI, `payload`, DCS, postamble.
/// `payload` is the command code and its parameters.
pub fn encode(tfi: u8, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() + 1) as u8;
    let mut frame = vec![0x00, 0x00, 0xFF, len, len.wrapping_neg(), tfi];
    frame.extend_from_slice(payload);
    let sum = payload.iter().fold(tfi, |acc, b| acc.wrapping_add(*b));
    frame.push(sum.wrapping_neg());
    frame.push(0x00);
    frame
}

/// What a frame read from the wire holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// The ACK frame.
    Ack,
    /// The error frame.
    Error,
    /// An information frame: its TFI and payload (command code and data).
    Information(u8, Vec<u8>),
}

/// Why bytes are not a valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// No start code `00 FF`.
    NoStartCode,
    /// Shorter than its LEN says.
    Truncated,
    /// LEN + LCS ≠ 0.
    LengthChecksum,
    /// TFI + data + DCS ≠ 0.
    DataChecksum,
}

/// Decodes the frame at the start of `bytes` (trailing bytes are ignored).
pub fn decode(bytes: &[u8]) -> Result<Decoded, FrameError> {
    // The preamble is optional (§6.2.1.1): find the start code among the leading zeros.
    let start = bytes.windows(2).position(|w| w == [0x00, 0xFF]).ok_or(FrameError::NoStartCode)?;
    if bytes[..start].iter().any(|&b| b != 0) {
        return Err(FrameError::NoStartCode);
    }
    let body = &bytes[start + 2..];
    match body {
        [0x00, 0xFF, ..] => return Ok(Decoded::Ack),
        [0x01, 0xFF, 0x7F, 0x81, ..] => return Ok(Decoded::Error),
        [len, lcs, ..] if len.wrapping_add(*lcs) != 0 => return Err(FrameError::LengthChecksum),
        [_, _, ..] => {}
        _ => return Err(FrameError::Truncated),
    }
    let len = usize::from(body[0]);
    if len == 0 || body.len() < 2 + len + 1 {
        return Err(FrameError::Truncated);
    }
    let data = &body[2..2 + len];
    let dcs = body[2 + len];
    if data.iter().fold(dcs, |acc, b| acc.wrapping_add(*b)) != 0 {
        return Err(FrameError::DataChecksum);
    }
    Ok(Decoded::Information(data[0], data[1..].to_vec()))
}
