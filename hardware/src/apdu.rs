//! ISO/IEC 7816-4 APDUs: the commands the terminal sends a contactless card (SELECT,
//! READ BINARY, GET RESPONSE) and the status words it answers with.
//!
//! Short APDUs only (at most 255 bytes of data, Le up to 256): every file the terminal reads
//! is small, and extended lengths are optional for cards and for readers' buffers.
//!
//! [`transmit`] sends a command through any [`CardReader`] and deals with the two status words
//! that are instructions rather than answers: 6Cxx (wrong Le: the command is sent again with
//! Le = xx) and 61xx (more data: GET RESPONSE fetches it).

use crate::card::{CardReader, ReaderError};

/// Longest command data field of a short APDU.
pub const MAX_DATA_LEN: usize = 255;
/// Largest Le of a short APDU (encoded as `00`).
pub const MAX_LE: u16 = 256;
/// Commands [`transmit`] sends for one call: the command, one retry with the right Le, and
/// GET RESPONSEs. A card that keeps answering 61xx or 6Cxx is misbehaving.
pub const MAX_ROUNDS: usize = 16;

/// A command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: Vec<u8>,
    /// Expected response length, 1 to 256.
    le: Option<u16>,
}

impl Command {
    /// A command from its parts; [`ApduError::InvalidCommand`] when `data` is longer than
    /// [`MAX_DATA_LEN`] or `le` is outside 1 to [`MAX_LE`].
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8, data: &[u8], le: Option<u16>) -> Result<Command, ApduError> {
        if data.len() > MAX_DATA_LEN {
            return Err(ApduError::InvalidCommand("data longer than a short APDU carries"));
        }
        if le.is_some_and(|le| le == 0 || le > MAX_LE) {
            return Err(ApduError::InvalidCommand("Le outside 1 to 256"));
        }
        Ok(Command { cla, ins, p1, p2, data: data.to_vec(), le })
    }

    /// SELECT by DF name (P1 04): selects the application `aid` (ISO/IEC 7816-5: 5 to 16
    /// bytes), no FCI wanted (P2 0C).
    pub fn select_aid(aid: &[u8]) -> Result<Command, ApduError> {
        if aid.is_empty() || aid.len() > 16 {
            return Err(ApduError::InvalidCommand("an AID is 1 to 16 bytes"));
        }
        Command::new(0x00, 0xA4, 0x04, 0x0C, aid, None)
    }

    /// SELECT EF by file identifier under the current DF (P1 02), no FCI wanted (P2 0C).
    pub fn select_ef(file_id: [u8; 2]) -> Command {
        Command { cla: 0x00, ins: 0xA4, p1: 0x02, p2: 0x0C, data: file_id.to_vec(), le: None }
    }

    /// READ BINARY of `le` bytes (1 to 256) from `offset` (below 0x8000: bit 8 of P1 set would
    /// mean a short EF identifier) of the current EF.
    pub fn read_binary(offset: u16, le: u16) -> Result<Command, ApduError> {
        if offset > 0x7FFF {
            return Err(ApduError::InvalidCommand("READ BINARY offset above 0x7FFF"));
        }
        let [p1, p2] = offset.to_be_bytes();
        Command::new(0x00, 0xB0, p1, p2, &[], Some(le))
    }

    /// GET RESPONSE for the `available` bytes a 61xx announced (0 meaning 256).
    pub fn get_response(available: u8) -> Command {
        Command { cla: 0x00, ins: 0xC0, p1: 0x00, p2: 0x00, data: Vec::new(), le: Some(le_from_byte(available)) }
    }

    /// The same command with Le from a 6Cxx (0 meaning 256).
    pub fn with_le_byte(&self, le: u8) -> Command {
        Command { le: Some(le_from_byte(le)), ..self.clone() }
    }

    /// The bytes to send: header, then Lc and data if any, then Le if any.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![self.cla, self.ins, self.p1, self.p2];
        if !self.data.is_empty() {
            bytes.push(self.data.len() as u8);
            bytes.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            // 256 is encoded as 00.
            bytes.push(le as u8);
        }
        bytes
    }
}

fn le_from_byte(le: u8) -> u16 {
    if le == 0 {
        MAX_LE
    } else {
        u16::from(le)
    }
}

/// What a status word SW1 SW2 says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 9000: done.
    Ok,
    /// 61xx: xx more bytes (0: 256 or more) wait for GET RESPONSE.
    MoreData(u8),
    /// 6Cxx: wrong Le; xx is how many bytes there are.
    WrongLe(u8),
    /// 6A82: file or application not found.
    FileNotFound,
    /// 6982: security status not satisfied.
    SecurityNotSatisfied,
    /// Any other status word.
    Other(u16),
}

impl Status {
    /// The meaning of SW1 SW2.
    pub fn from_sw(sw1: u8, sw2: u8) -> Status {
        match (sw1, sw2) {
            (0x90, 0x00) => Status::Ok,
            (0x61, n) => Status::MoreData(n),
            (0x6C, n) => Status::WrongLe(n),
            (0x6A, 0x82) => Status::FileNotFound,
            (0x69, 0x82) => Status::SecurityNotSatisfied,
            _ => Status::Other(u16::from_be_bytes([sw1, sw2])),
        }
    }
}

/// A response APDU split into its data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The data before SW1 SW2.
    pub data: Vec<u8>,
    /// SW1 SW2.
    pub sw: u16,
}

impl Response {
    /// Splits a response APDU; [`ApduError::Truncated`] when it is shorter than SW1 SW2.
    pub fn parse(bytes: &[u8]) -> Result<Response, ApduError> {
        let Some((data, &[sw1, sw2])) = bytes.split_last_chunk::<2>() else { return Err(ApduError::Truncated) };
        Ok(Response { data: data.to_vec(), sw: u16::from_be_bytes([sw1, sw2]) })
    }

    /// What the status word says.
    pub fn status(&self) -> Status {
        let [sw1, sw2] = self.sw.to_be_bytes();
        Status::from_sw(sw1, sw2)
    }
}

/// Why an APDU got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApduError {
    /// The reader could not carry it.
    #[error(transparent)]
    Reader(#[from] ReaderError),
    /// 6A82: the file or application does not exist.
    #[error("file or application not found (SW 6A82)")]
    FileNotFound,
    /// 6982: the card wants authentication first.
    #[error("security status not satisfied (SW 6982)")]
    SecurityNotSatisfied,
    /// Any other status word but 9000.
    #[error("the card answered SW {0:04X}")]
    Status(u16),
    /// The response is shorter than SW1 SW2.
    #[error("response APDU shorter than its status word")]
    Truncated,
    /// The card kept answering 61xx or 6Cxx.
    #[error("the card kept asking for GET RESPONSE or another Le")]
    TooManyRounds,
    /// The command cannot be encoded as a short APDU.
    #[error("invalid command APDU: {0}")]
    InvalidCommand(&'static str),
}

/// Sends `command` and returns the response data once the card answers 9000, following 6Cxx
/// (sent again with the Le the card names) and 61xx (GET RESPONSE, data appended), at most
/// [`MAX_ROUNDS`] commands in all.
pub fn transmit<R: CardReader + ?Sized>(reader: &mut R, command: &Command) -> Result<Vec<u8>, ApduError> {
    let mut next = command.clone();
    let mut data = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let response = Response::parse(&reader.exchange(&next.to_bytes())?)?;
        match response.status() {
            Status::Ok => {
                data.extend_from_slice(&response.data);
                return Ok(data);
            }
            Status::MoreData(available) => {
                data.extend_from_slice(&response.data);
                next = Command::get_response(available);
            }
            // The card sent nothing useful with 6Cxx: ask again with its Le.
            Status::WrongLe(le) => next = next.with_le_byte(le),
            Status::FileNotFound => return Err(ApduError::FileNotFound),
            Status::SecurityNotSatisfied => return Err(ApduError::SecurityNotSatisfied),
            Status::Other(sw) => return Err(ApduError::Status(sw)),
        }
    }
    Err(ApduError::TooManyRounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_encode_as_iso_7816_4_says() {
        let select = Command::select_aid(&[0xF0, 0x53, 0x50, 0x49, 0x44, 0x01]).unwrap();
        assert_eq!(select.to_bytes(), [0x00, 0xA4, 0x04, 0x0C, 0x06, 0xF0, 0x53, 0x50, 0x49, 0x44, 0x01]);
        assert_eq!(Command::select_ef([0x01, 0x01]).to_bytes(), [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x01]);
        assert_eq!(Command::read_binary(0x0104, 4).unwrap().to_bytes(), [0x00, 0xB0, 0x01, 0x04, 0x04]);
        assert_eq!(Command::read_binary(0, 256).unwrap().to_bytes(), [0x00, 0xB0, 0x00, 0x00, 0x00]);
        assert_eq!(Command::get_response(0x10).to_bytes(), [0x00, 0xC0, 0x00, 0x00, 0x10]);
        assert_eq!(Command::read_binary(0, 8).unwrap().with_le_byte(3).to_bytes(), [0x00, 0xB0, 0x00, 0x00, 0x03]);
        assert!(Command::read_binary(0x8000, 1).is_err());
        assert!(Command::read_binary(0, 257).is_err());
        assert!(Command::read_binary(0, 0).is_err());
        assert!(Command::select_aid(&[0; 17]).is_err());
        assert!(Command::new(0, 0, 0, 0, &[0; 256], None).is_err());
    }

    #[test]
    fn status_words_are_typed() {
        assert_eq!(Status::from_sw(0x90, 0x00), Status::Ok);
        assert_eq!(Status::from_sw(0x61, 0x20), Status::MoreData(0x20));
        assert_eq!(Status::from_sw(0x6C, 0x05), Status::WrongLe(5));
        assert_eq!(Status::from_sw(0x6A, 0x82), Status::FileNotFound);
        assert_eq!(Status::from_sw(0x69, 0x82), Status::SecurityNotSatisfied);
        assert_eq!(Status::from_sw(0x6D, 0x00), Status::Other(0x6D00));
        assert_eq!(ApduError::Status(0x6D00).to_string(), "the card answered SW 6D00");
        assert_eq!(Response::parse(&[0x01, 0x90, 0x00]), Ok(Response { data: vec![1], sw: 0x9000 }));
        assert_eq!(Response::parse(&[0x90]), Err(ApduError::Truncated));
    }
}
