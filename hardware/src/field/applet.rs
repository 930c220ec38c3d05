//! The APDU side of a simulated card: applications selected by AID holding transparent
//! elementary files, answering the ISO/IEC 7816-4 commands a terminal reads them with.
//!
//! | command | answer |
//! | --- | --- |
//! | SELECT by DF name (`00 A4 04 0C`) | 9000, or 6A82 for an unknown AID |
//! | SELECT EF (`00 A4 02 0C`, 2-byte id) | 9000, 6A82 unknown, 6986 no application selected |
//! | READ BINARY (`00 B0`, offset, Le) | the bytes and 9000; 6Cxx when Le asks past the end (xx: what is left), 6B00 for an offset past the end, 6982 when locked, 6986 no EF selected |
//! | anything else | 6D00 (instruction), 6E00 (class), 6A86 (P1-P2), 6700 (length) |

#[derive(Debug, Clone, PartialEq, Eq)]
struct Application {
    aid: Vec<u8>,
    files: Vec<([u8; 2], Vec<u8>)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Applet {
    applications: Vec<Application>,
    /// READ BINARY answers 6982.
    pub(crate) locked: bool,
    /// The selected application, and the selected EF within it.
    selected: Option<(usize, Option<usize>)>,
}

const OK: [u8; 2] = [0x90, 0x00];
const WRONG_LENGTH: [u8; 2] = [0x67, 0x00];
const SECURITY_STATUS: [u8; 2] = [0x69, 0x82];
const NO_CURRENT_EF: [u8; 2] = [0x69, 0x86];
const FILE_NOT_FOUND: [u8; 2] = [0x6A, 0x82];
const FUNCTION_NOT_SUPPORTED: [u8; 2] = [0x6A, 0x81];
const WRONG_P1_P2: [u8; 2] = [0x6A, 0x86];
const OFFSET_PAST_END: [u8; 2] = [0x6B, 0x00];
const INS_NOT_SUPPORTED: [u8; 2] = [0x6D, 0x00];
const CLA_NOT_SUPPORTED: [u8; 2] = [0x6E, 0x00];

impl Applet {
    pub(crate) fn add_application(&mut self, aid: &[u8], files: &[([u8; 2], Vec<u8>)]) {
        self.applications.push(Application { aid: aid.to_vec(), files: files.to_vec() });
    }

    /// A new ISO-DEP session starts with nothing selected.
    pub(crate) fn reset(&mut self) {
        self.selected = None;
    }

    /// The response APDU to a command APDU.
    pub(crate) fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        let Some((&[cla, ins, p1, p2], body)) = apdu.split_first_chunk::<4>() else {
            return WRONG_LENGTH.to_vec();
        };
        // Short APDUs only: body is empty, Le, Lc + data, or Lc + data + Le.
        let (data, le) = match body {
            [] => (&[][..], None),
            [le] => (&[][..], Some(*le)),
            [lc, rest @ ..] if *lc != 0 && rest.len() == usize::from(*lc) => (rest, None),
            [lc, rest @ ..] if *lc != 0 && rest.len() == usize::from(*lc) + 1 => {
                (&rest[..usize::from(*lc)], rest.last().copied())
            }
            _ => return WRONG_LENGTH.to_vec(),
        };
        if cla != 0x00 {
            return CLA_NOT_SUPPORTED.to_vec();
        }
        match ins {
            0xA4 => self.select(p1, p2, data).to_vec(),
            0xB0 => self.read_binary(p1, p2, data, le),
            _ => INS_NOT_SUPPORTED.to_vec(),
        }
    }

    fn select(&mut self, p1: u8, p2: u8, data: &[u8]) -> [u8; 2] {
        if p2 != 0x0C {
            return WRONG_P1_P2;
        }
        match p1 {
            0x04 => match self.applications.iter().position(|a| a.aid == data) {
                Some(app) => {
                    self.selected = Some((app, None));
                    OK
                }
                // A failed SELECT leaves the current selection as it was.
                None => FILE_NOT_FOUND,
            },
            0x02 => {
                let Some((app, _)) = self.selected else { return NO_CURRENT_EF };
                let found = self.applications[app].files.iter().position(|(id, _)| id[..] == *data);
                match found {
                    Some(ef) => {
                        self.selected = Some((app, Some(ef)));
                        OK
                    }
                    None => FILE_NOT_FOUND,
                }
            }
            _ => WRONG_P1_P2,
        }
    }

    fn read_binary(&self, p1: u8, p2: u8, data: &[u8], le: Option<u8>) -> Vec<u8> {
        let Some(le) = le.filter(|_| data.is_empty()) else { return WRONG_LENGTH.to_vec() };
        if p1 & 0x80 != 0 {
            // Short EF identifier in P1: not supported by this card.
            return FUNCTION_NOT_SUPPORTED.to_vec();
        }
        let Some((app, Some(ef))) = self.selected else { return NO_CURRENT_EF.to_vec() };
        if self.locked {
            return SECURITY_STATUS.to_vec();
        }
        let contents = &self.applications[app].files[ef].1;
        let offset = usize::from(u16::from_be_bytes([p1, p2]));
        if offset >= contents.len() {
            return OFFSET_PAST_END.to_vec();
        }
        let left = contents.len() - offset;
        let wanted = if le == 0 { 256 } else { usize::from(le) };
        if wanted > left {
            // Wrong Le: SW2 says how many bytes there are (at most 255 fit in it).
            return vec![0x6C, left.min(255) as u8];
        }
        let mut answer = contents[offset..offset + wanted].to_vec();
        answer.extend_from_slice(&OK);
        answer
    }
}
