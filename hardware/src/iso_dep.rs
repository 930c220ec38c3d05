//! ISO/IEC 14443-4 (ISO-DEP): the block transmission protocol a reader speaks with a card that
//! has been selected with ISO/IEC 14443-3 and answered SAK with bit 6 set, to carry ISO/IEC
//! 7816-4 APDUs.
//!
//! Shared by the MFRC522 driver (which builds these frames itself and sends them with
//! Transceive), by the simulated PN532 (whose firmware does the same for InDataExchange) and by
//! the simulated card (which answers them), so every side agrees on one definition taken from
//! the standard:
//!
//! - activation: [`rats_frame`] (RATS, `E0`, FSDI and CID) answered by the [`Ats`], whose FSCI
//!   gives the largest frame the card accepts and FWI how long it may take to answer;
//! - blocks ([`Block`]): I-blocks carrying data, with a block number that toggles on every
//!   exchange and a chaining bit for data larger than a frame; R(ACK)/R(NAK) to acknowledge a
//!   chained block or ask for a retransmission; S(WTX) by which a card asks for more time, and
//!   S(DESELECT);
//! - the reader's half of the protocol ([`Link`]): chaining in both directions, waiting time
//!   extensions, retransmission after a lost or corrupt block (ISO/IEC 14443-4 §7.5).
//!
//! Every frame ends with CRC_A ([`iso14443::crc_a`](crate::iso14443::crc_a)).
//!
//! CID and NAD are never used: the terminal talks to one card at a time (a second card in the
//! field is a collision the reader reports), so there is nothing to address, and leaving them
//! out keeps every frame one or two bytes shorter. RATS asks for CID 0, which every card
//! accepts, and blocks that carry a CID or NAD are treated as invalid.

use crate::iso14443::{crc_a_ok, with_crc_a};

/// SAK bit saying the card is compliant with ISO/IEC 14443-4 (ISO/IEC 14443-3 §6.4.3.4).
pub const SAK_ISO_DEP: u8 = 0x20;
/// RATS command byte (request for answer to select).
pub const RATS: u8 = 0xE0;
/// FSDI of 64-byte frames: the MFRC522's FIFO holds 64 bytes, so neither direction may exceed
/// that without refilling the FIFO mid-frame.
pub const FSDI_64: u8 = 5;
/// The largest frame any card or reader may use (FSCI/FSDI 8; the larger values of ISO/IEC
/// 14443-4:2016 are read as 256, as a reader that does not support them must).
pub const MAX_FRAME_SIZE: usize = 256;

/// PCB of an S(DESELECT) block.
pub const PCB_DESELECT: u8 = 0xC2;
/// PCB of an S(WTX) block.
pub const PCB_WTX: u8 = 0xF2;
/// PCB bits of an I-block without chaining (`000x x01b`, block number in bit 1).
pub const PCB_I: u8 = 0x02;
/// PCB of an R(ACK) block (`1010 x01b`); R(NAK) also sets [`PCB_R_NAK`].
pub const PCB_R_ACK: u8 = 0xA2;
/// PCB bit 5 of an R-block: NAK instead of ACK.
pub const PCB_R_NAK: u8 = 0x10;
/// PCB bit 5 of an I-block: chaining (more blocks follow).
pub const PCB_CHAINING: u8 = 0x10;
/// PCB bit 4: a CID byte follows.
const PCB_CID: u8 = 0x08;
/// PCB bit 3 of an I-block: a NAD byte follows.
const PCB_NAD: u8 = 0x04;

/// Frame waiting time before the first answer to RATS, in µs (FWT_ACTIVATION = 65,536/fc).
pub const ACTIVATION_FWT_US: u32 = 4_833;
/// ΔFWT = 49,152/fc: the margin a reader adds to FWT for the card's clock and the air time.
pub const DELTA_FWT_US: u32 = 3_625;
/// FWT_MAX: the longest wait a card may ask for, FWI 14 or a WTX (4,949 ms).
pub const MAX_FWT_US: u32 = 4_949_000;

/// Retransmissions after a frame that got no answer or a corrupt one, before giving up. The
/// standard leaves the number to the reader; two is what readers commonly do, and a card taken
/// off the reader then costs three frame waiting times.
pub const MAX_RETRIES: u32 = 2;
/// Waiting time extensions a card may ask for within one exchange. Reading the ID profile
/// involves no cryptography, so a card that keeps asking is stuck rather than busy.
pub const MAX_WTX: u32 = 8;
/// Frames within one exchange (blocks sent, acknowledgements, retransmissions, extensions).
/// Bounds a card that keeps chaining empty blocks.
pub const MAX_FRAMES: u32 = 512;
/// Longest response accepted: the terminal sends short APDUs only, whose answers are at most
/// 256 bytes and SW1 SW2, so a card that keeps chaining past this is misbehaving.
pub const MAX_RESPONSE_LEN: usize = 4_096;

/// Frame size for an FSCI or FSDI value (ISO/IEC 14443-4 Table 1).
pub fn frame_size(index: u8) -> usize {
    match index {
        0 => 16,
        1 => 24,
        2 => 32,
        3 => 40,
        4 => 48,
        5 => 64,
        6 => 96,
        7 => 128,
        _ => MAX_FRAME_SIZE,
    }
}

/// Frame waiting time for an FWI, in µs: (256 · 16 / fc) · 2^FWI, with fc = 13.56 MHz.
pub fn frame_waiting_time_us(fwi: u8) -> u32 {
    let fwi = if fwi > 14 { 4 } else { fwi };
    ((4_096u64 << fwi) * 1_000_000 / 13_560_000) as u32
}

/// The RATS frame with CRC_A: `E0`, then FSDI in the high nibble and CID in the low one.
pub fn rats_frame(fsdi: u8, cid: u8) -> Vec<u8> {
    with_crc_a(&[RATS, (fsdi << 4) | (cid & 0x0F)])
}

/// The S(DESELECT) request with CRC_A (`C2 E0 B4`); the card answers with the same block and
/// goes to HALT.
pub fn deselect_frame() -> Vec<u8> {
    with_crc_a(&[PCB_DESELECT])
}

/// The answer to select (ATS): what the card says about itself after RATS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ats {
    /// FSCI: the largest frame the card accepts is [`frame_size`]`(fsci)`.
    pub fsci: u8,
    /// TA(1): the bit rates the card supports besides 106 kbit/s (0: none).
    pub ta: u8,
    /// FWI: how long the card may take to answer a block.
    pub fwi: u8,
    /// SFGI: how long the reader waits after the ATS before its first block.
    pub sfgi: u8,
    /// TC(1) bit 2: the card supports a CID.
    pub cid_supported: bool,
    /// TC(1) bit 1: the card supports a NAD.
    pub nad_supported: bool,
    /// Historical bytes.
    pub historical: Vec<u8>,
}

/// What the standard says a card means when its ATS is only TL: FSCI 2 (32 bytes), FWI 4,
/// SFGI 0, 106 kbit/s only, CID supported, no NAD.
impl Default for Ats {
    fn default() -> Self {
        Ats { fsci: 2, ta: 0x00, fwi: 4, sfgi: 0, cid_supported: true, nad_supported: false, historical: Vec::new() }
    }
}

impl Ats {
    /// Parses an ATS without its CRC_A (TL first).
    pub fn parse(bytes: &[u8]) -> Result<Ats, &'static str> {
        let (&tl, rest) = bytes.split_first().ok_or("empty ATS")?;
        if usize::from(tl) != bytes.len() {
            return Err("ATS length byte TL does not match its length");
        }
        let mut ats = Ats::default();
        let Some((&t0, mut rest)) = rest.split_first() else { return Ok(ats) };
        if t0 & 0x80 != 0 {
            return Err("ATS format byte T0 has bit 8 set");
        }
        ats.fsci = t0 & 0x0F;
        let mut next = |present: bool| -> Result<Option<u8>, &'static str> {
            if !present {
                return Ok(None);
            }
            let (&b, r) = rest.split_first().ok_or("ATS shorter than its format byte says")?;
            rest = r;
            Ok(Some(b))
        };
        if let Some(ta) = next(t0 & 0x10 != 0)? {
            ats.ta = ta;
        }
        if let Some(tb) = next(t0 & 0x20 != 0)? {
            // FWI and SFGI 15 are reserved; a reader reads them as the defaults.
            ats.fwi = if tb >> 4 == 15 { 4 } else { tb >> 4 };
            ats.sfgi = if tb & 0x0F == 15 { 0 } else { tb & 0x0F };
        }
        if let Some(tc) = next(t0 & 0x40 != 0)? {
            ats.cid_supported = tc & 0x02 != 0;
            ats.nad_supported = tc & 0x01 != 0;
        }
        ats.historical = rest.to_vec();
        Ok(ats)
    }

    /// The ATS as a card sends it, without CRC_A, with TA(1), TB(1) and TC(1) present.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![
            0,
            0x70 | (self.fsci & 0x0F),
            self.ta,
            (self.fwi.min(14) << 4) | self.sfgi.min(14),
            (u8::from(self.cid_supported) << 1) | u8::from(self.nad_supported),
        ];
        bytes.extend_from_slice(&self.historical);
        bytes[0] = bytes.len() as u8;
        bytes
    }

    /// FSC: the largest frame the card accepts, PCB and CRC_A included.
    pub fn fsc(&self) -> usize {
        frame_size(self.fsci)
    }

    /// FWT: how long the card may take to answer a block, in µs.
    pub fn frame_waiting_time_us(&self) -> u32 {
        frame_waiting_time_us(self.fwi)
    }

    /// SFGT: how long the reader must wait after the ATS before its first block, in µs
    /// (0 when SFGI is 0).
    pub fn start_up_guard_time_us(&self) -> u32 {
        if self.sfgi == 0 {
            0
        } else {
            frame_waiting_time_us(self.sfgi)
        }
    }
}

/// One ISO/IEC 14443-4 block (without CID and NAD, see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Information block: a piece of an APDU.
    I {
        /// Block number, 0 or 1.
        block_number: u8,
        /// More blocks of the same APDU follow.
        chaining: bool,
        /// The data.
        inf: Vec<u8>,
    },
    /// R(ACK): acknowledges a chained I-block, or asks for the last one again.
    Ack {
        /// Block number, 0 or 1.
        block_number: u8,
    },
    /// R(NAK): sent by the reader after a timeout or a corrupt block.
    Nak {
        /// Block number, 0 or 1.
        block_number: u8,
    },
    /// S(WTX): the card asks for `wtxm` times the frame waiting time; the reader echoes it.
    Wtx {
        /// Waiting time extension multiplier (1 to 59) in bits 6..1; bits 8..7 carry the
        /// card's power level indication.
        inf: u8,
    },
    /// S(DESELECT).
    Deselect,
}

impl Block {
    /// Decodes a frame received from the air, CRC_A included; `None` when it is not a valid
    /// block (bad CRC, reserved PCB, CID or NAD present, wrong length).
    pub fn parse(frame: &[u8]) -> Option<Block> {
        if frame.len() < 3 || !crc_a_ok(frame) {
            return None;
        }
        let pcb = frame[0];
        let inf = &frame[1..frame.len() - 2];
        let block_number = pcb & 0x01;
        match pcb {
            _ if pcb & 0xE2 == 0x02 => {
                if pcb & (PCB_CID | PCB_NAD) != 0 {
                    return None;
                }
                Some(Block::I { block_number, chaining: pcb & PCB_CHAINING != 0, inf: inf.to_vec() })
            }
            _ if pcb & 0xE6 == 0xA2 => {
                if pcb & PCB_CID != 0 || !inf.is_empty() {
                    return None;
                }
                Some(if pcb & PCB_R_NAK != 0 { Block::Nak { block_number } } else { Block::Ack { block_number } })
            }
            PCB_DESELECT if inf.is_empty() => Some(Block::Deselect),
            PCB_WTX => match inf {
                [wtx] => Some(Block::Wtx { inf: *wtx }),
                _ => None,
            },
            _ => None,
        }
    }

    /// The frame to send, CRC_A included.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Block::I { block_number, chaining, inf } => {
                let mut frame = Vec::with_capacity(inf.len() + 3);
                frame.push(PCB_I | (block_number & 1) | if *chaining { PCB_CHAINING } else { 0 });
                frame.extend_from_slice(inf);
                with_crc_a(&frame)
            }
            Block::Ack { block_number } => with_crc_a(&[PCB_R_ACK | (block_number & 1)]),
            Block::Nak { block_number } => with_crc_a(&[PCB_R_ACK | PCB_R_NAK | (block_number & 1)]),
            Block::Wtx { inf } => with_crc_a(&[PCB_WTX, *inf]),
            Block::Deselect => deselect_frame(),
        }
    }
}

/// What came back from the air after the reader sent a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reception {
    /// A whole frame (CRC_A included, unchecked).
    Frame(Vec<u8>),
    /// Nothing within the waiting time.
    Silence,
    /// Something, but the receiver flagged it (parity, framing, collision, bits missing).
    Garbled,
}

/// ISO-DEP errors, generic over the error of the reader underneath.
#[derive(Debug, thiserror::Error)]
pub enum Error<E> {
    /// The reader (chip or bus) failed.
    #[error("card reader error: {0:?}")]
    Reader(E),
    /// The card stopped answering, retransmissions included: it left the field.
    #[error("the card stopped answering")]
    NoAnswer,
    /// The card broke the protocol, or exceeded one of its bounds.
    #[error("ISO/IEC 14443-4 protocol error: {0}")]
    Protocol(&'static str),
}

/// The reader's side of ISO-DEP with one activated card: its frame sizes, its waiting time
/// and the current block number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Largest frame the reader sends: the card's FSC, or less if the reader's buffer is
    /// smaller.
    send_frame_size: usize,
    /// Largest frame the reader accepts (its FSD).
    receive_frame_size: usize,
    fwt_us: u32,
    block_number: u8,
}

impl Link {
    /// A link with a card that answered RATS with `ats`, for a reader whose frames (FSD, and
    /// what it can send) are at most `reader_frame_size` bytes. The block number starts at 0
    /// (ISO/IEC 14443-4 §7.5.3.1, rule A).
    pub fn new(ats: &Ats, reader_frame_size: usize) -> Self {
        let reader_frame_size = reader_frame_size.clamp(frame_size(0), MAX_FRAME_SIZE);
        Link {
            send_frame_size: ats.fsc().min(reader_frame_size),
            receive_frame_size: reader_frame_size,
            fwt_us: ats.frame_waiting_time_us(),
            block_number: 0,
        }
    }

    /// The current block number.
    pub fn block_number(&self) -> u8 {
        self.block_number
    }

    /// FWT + ΔFWT: how long to wait for the card's answer to a block, in µs.
    pub fn wait_us(&self) -> u32 {
        self.fwt_us + DELTA_FWT_US
    }

    /// The largest piece of an APDU one I-block carries to the card.
    pub fn max_inf(&self) -> usize {
        self.send_frame_size - 3
    }

    /// Sends `command` (an APDU) and returns the card's answer, chaining both ways.
    ///
    /// `transceive(frame, wait_us)` sends one frame (CRC_A included) and waits up to `wait_us`
    /// for the card's answer. Every loop is bounded ([`MAX_RETRIES`], [`MAX_WTX`],
    /// [`MAX_FRAMES`], [`MAX_RESPONSE_LEN`]), so a card that misbehaves gives an error.
    pub fn exchange<E>(
        &mut self,
        command: &[u8],
        mut transceive: impl FnMut(&[u8], u32) -> Result<Reception, E>,
    ) -> Result<Vec<u8>, Error<E>> {
        let max_inf = self.max_inf();
        // An empty APDU is still one (empty) I-block.
        let pieces: Vec<&[u8]> = if command.is_empty() { vec![&[][..]] } else { command.chunks(max_inf).collect() };
        let mut next_piece = 0;
        let mut response = Vec::new();
        // The last I-block sent, for retransmission (rule 6).
        let mut last_i_block = Vec::new();
        // Whether the card is chaining its answer to us: errors are then answered with R(ACK)
        // rather than R(NAK) (rule 5).
        let mut receiving_chain = false;
        let mut frame = Vec::new();
        let mut wait = self.wait_us();
        let (mut frames, mut wtx_count, mut errors) = (0u32, 0u32, 0u32);

        loop {
            if frame.is_empty() {
                // Send the next piece of the command.
                let chaining = next_piece + 1 < pieces.len();
                frame = Block::I { block_number: self.block_number, chaining, inf: pieces[next_piece].to_vec() }.encode();
                last_i_block = frame.clone();
                next_piece += 1;
            }
            frames += 1;
            if frames > MAX_FRAMES {
                return Err(Error::Protocol("too many frames in one exchange"));
            }
            let reception = transceive(&frame, wait).map_err(Error::Reader)?;
            wait = self.wait_us();
            let block = match reception {
                Reception::Frame(ref bytes) if bytes.len() <= self.receive_frame_size => Block::parse(bytes),
                _ => None,
            };
            let Some(block) = block else {
                // Lost or corrupt: ask again (rules 4 and 5), a bounded number of times.
                errors += 1;
                if errors > MAX_RETRIES {
                    return Err(match reception {
                        Reception::Silence => Error::NoAnswer,
                        _ => Error::Protocol("the card's answers stay invalid after retransmission"),
                    });
                }
                frame = if receiving_chain {
                    Block::Ack { block_number: self.block_number }.encode()
                } else {
                    Block::Nak { block_number: self.block_number }.encode()
                };
                continue;
            };
            errors = 0;
            let command_sent = next_piece == pieces.len();
            match block {
                Block::Wtx { inf } => {
                    wtx_count += 1;
                    if wtx_count > MAX_WTX {
                        return Err(Error::Protocol("the card keeps asking for more time (WTX)"));
                    }
                    let wtxm = inf & 0x3F;
                    if !(1..=59).contains(&wtxm) {
                        return Err(Error::Protocol("WTXM outside 1 to 59"));
                    }
                    // The extension holds for the answer to the S(WTX) response only.
                    wait = self.fwt_us.saturating_mul(u32::from(wtxm)).min(MAX_FWT_US) + DELTA_FWT_US;
                    frame = Block::Wtx { inf: wtxm }.encode();
                }
                Block::Ack { block_number } if block_number == self.block_number && !command_sent => {
                    // The card took our chained block: toggle (rule B) and send the next (rule 7).
                    self.block_number ^= 1;
                    frame.clear();
                }
                Block::Ack { block_number } if block_number != self.block_number && !receiving_chain => {
                    // The card did not get our last I-block (rule 6).
                    frame = last_i_block.clone();
                }
                Block::I { block_number, chaining, inf } if command_sent && block_number == self.block_number => {
                    if response.len() + inf.len() > MAX_RESPONSE_LEN {
                        return Err(Error::Protocol("answer longer than the reader accepts"));
                    }
                    response.extend_from_slice(&inf);
                    self.block_number ^= 1;
                    if !chaining {
                        return Ok(response);
                    }
                    receiving_chain = true;
                    frame = Block::Ack { block_number: self.block_number }.encode();
                }
                _ => return Err(Error::Protocol("unexpected block from the card")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ats_round_trips_and_defaults_apply() {
        let ats = Ats { fsci: 8, ta: 0, fwi: 7, sfgi: 0, cid_supported: true, nad_supported: false, historical: vec![0x80] };
        assert_eq!(ats.to_bytes(), vec![0x06, 0x78, 0x00, 0x70, 0x02, 0x80]);
        assert_eq!(Ats::parse(&ats.to_bytes()), Ok(ats));
        assert_eq!(Ats::parse(&[0x01]), Ok(Ats::default()));
        // T0 says TB follows, but the ATS ends.
        assert!(Ats::parse(&[0x02, 0x25]).is_err());
        assert!(Ats::parse(&[0x05, 0x78]).is_err());
        assert!(Ats::parse(&[]).is_err());
        // Only TB: FWI 8, SFGI 15 read as 0.
        let ats = Ats::parse(&[0x03, 0x25, 0x8F]).unwrap();
        assert_eq!((ats.fsci, ats.fsc(), ats.fwi, ats.sfgi), (5, 64, 8, 0));
    }

    #[test]
    fn frame_waiting_times_follow_the_formula() {
        assert_eq!(frame_waiting_time_us(0), 302);
        assert_eq!(frame_waiting_time_us(4), 4_833);
        assert_eq!(frame_waiting_time_us(14), 4_949_031);
        assert_eq!(frame_waiting_time_us(15), frame_waiting_time_us(4));
    }

    #[test]
    fn blocks_parse_what_they_encode() {
        for block in [
            Block::I { block_number: 1, chaining: true, inf: vec![1, 2, 3] },
            Block::I { block_number: 0, chaining: false, inf: vec![] },
            Block::Ack { block_number: 1 },
            Block::Nak { block_number: 0 },
            Block::Wtx { inf: 0x41 },
            Block::Deselect,
        ] {
            assert_eq!(Block::parse(&block.encode()), Some(block));
        }
        // CID bit set, reserved S-block, bad CRC.
        assert_eq!(Block::parse(&with_crc_a(&[0x0A, 0x00, 0x90, 0x00])), None);
        assert_eq!(Block::parse(&with_crc_a(&[0xE2])), None);
        assert_eq!(Block::parse(&[0x02, 0x90, 0x00, 0x00, 0x00]), None);
    }
}
