//! ISO/IEC 14443-3 Type A: the frames a reader exchanges with a contactless card to find it and
//! read its UID (REQA/WUPA, anticollision and SELECT per cascade level, HLTA, CRC_A).
//!
//! Shared by the MFRC522 driver (which builds these frames itself) and by the simulated card
//! (which answers them), so both sides agree on one definition taken from the standard.

/// REQA, sent as a 7-bit short frame: wakes cards in the IDLE state.
pub const REQA: u8 = 0x26;
/// WUPA, sent as a 7-bit short frame: wakes cards in the IDLE *and* HALT states.
///
/// Polling uses WUPA followed by HLTA so that a card left on the reader answers every poll
/// the same way; with REQA a halted card would look removed.
pub const WUPA: u8 = 0x52;
/// HLTA command byte (followed by `0x00` and CRC_A).
pub const HLTA: u8 = 0x50;
/// SEL codes of the three cascade levels.
pub const SEL_CL: [u8; 3] = [0x93, 0x95, 0x97];
/// NVB of an anticollision frame: SEL and NVB only, no UID bits.
pub const NVB_ANTICOLLISION: u8 = 0x20;
/// NVB of a SELECT frame: 7 whole bytes (SEL, NVB, 4 UID bytes, BCC) before CRC_A.
pub const NVB_SELECT: u8 = 0x70;
/// Cascade tag: first byte of a cascade level's UID part when the UID continues at the next level.
pub const CASCADE_TAG: u8 = 0x88;
/// SAK bit saying "UID not complete, continue at the next cascade level".
pub const SAK_CASCADE: u8 = 0x04;

/// CRC_A (ISO/IEC 14443-3 Annex B: CRC-16/ITU-V.41 reflected, preset 0x6363), low byte first as
/// it is sent.
pub fn crc_a(data: &[u8]) -> [u8; 2] {
    let mut crc: u16 = 0x6363;
    for &byte in data {
        let mut b = byte ^ (crc & 0x00FF) as u8;
        b ^= b << 4;
        crc = (crc >> 8) ^ (u16::from(b) << 8) ^ (u16::from(b) << 3) ^ (u16::from(b) >> 4);
    }
    crc.to_le_bytes()
}

/// `data` followed by its CRC_A.
pub fn with_crc_a(data: &[u8]) -> Vec<u8> {
    let mut frame = data.to_vec();
    frame.extend_from_slice(&crc_a(data));
    frame
}

/// Whether the last two bytes of `frame` are the CRC_A of the bytes before them.
pub fn crc_a_ok(frame: &[u8]) -> bool {
    frame.len() >= 2 && crc_a(&frame[..frame.len() - 2]) == frame[frame.len() - 2..]
}

/// Block check character of a cascade level: XOR of its four UID bytes.
pub fn bcc(uid_part: &[u8; 4]) -> u8 {
    uid_part.iter().fold(0, |acc, b| acc ^ b)
}

/// The HLTA frame with its CRC_A.
pub fn hlta_frame() -> Vec<u8> {
    with_crc_a(&[HLTA, 0x00])
}
