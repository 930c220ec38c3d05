//! Reading an ICAO 9303 eMRTD chip — the Iraqi national card, a passport — over any
//! [`CardReader`]: access control (PACE, else BAC), secure messaging, the data groups the
//! terminal needs (DG1, the MRZ; DG11, name and personal number) and their hashes checked
//! against EF.SOD.
//!
//! | module | what |
//! | --- | --- |
//! | [`mrz`] | TD1 MRZ, check digits, the MRZ access key |
//! | [`cipher`], [`kdf`] | 3DES, retail MAC, AES, CMAC; ICAO's key derivation |
//! | [`bac`] | Basic Access Control |
//! | [`pace`] | PACE, generic mapping, ECDH on P-256 / brainpoolP256r1 / brainpoolP384r1 |
//! | [`dh`] | PACE's generic mapping on DH (RFC 5114 1024-bit group): arithmetic only, for now |
//! | [`secure_messaging`] | SSC, DO87/DO97/DO99/DO8E, both ends |
//! | [`lds`] | EF.CardAccess, EF.COM, DG1, DG11, EF.SOD |
//! | [`signature`] | EF.SOD's signature up to a configured CSCA (ECDSA) |
//! | [`tlv`] | the BER-TLV reader they share |
//!
//! # How a card is read
//!
//! 1. EF.CardAccess (`01 1C`, in the master file, readable without authentication) lists the
//!    PACE options. If one is supported ([`lds::PaceInfo::is_supported`]), PACE runs with the
//!    CAN or the MRZ key, then the LDS1 application (`A0 00 00 02 47 10 01`) is selected under
//!    secure messaging.
//! 2. Otherwise (no EF.CardAccess, no supported option, or the card refusing PACE for another
//!    reason than the password) the application is selected in the clear and BAC runs, which
//!    needs the MRZ key: with a CAN only, there is no fallback.
//! 3. EF.COM, DG1, DG11 (when present and wanted) and EF.SOD are read with short READ BINARY
//!    (at most [`MAX_READ`] bytes each, so the protected answer fits a PN532 frame): the TLV
//!    header first, for the file's length, then chunks; a card answering 6Cxx, 6282 or 6700
//!    gets smaller chunks.
//! 4. Each data group read is hashed with EF.SOD's algorithm and compared with its hash there.
//!    When CSCA certificates are configured ([`ReadOptions::csca_certificates`]), EF.SOD's
//!    signature is verified up to one of them ([`signature`]; ECDSA); otherwise it is reported
//!    [`SignatureCheck::NotVerified`].
//!
//! DG2 (the face image) is never read. Nothing here logs, and no type holding a key, the MRZ,
//! the CAN or card data shows it in `{:?}`; session keys are zeroized when dropped.
//!
//! [`ReadReport`] records what happened without personal data — protocols offered, attempts,
//! frame sizes, bytes and time per file — for a technician's report on a real card.
//!
//! ```
//! use hardware::emrtd::{read_emrtd, AccessKey, EmrtdError, ReadOptions};
//! use hardware::field::{EmrtdApplicant, EmrtdChip};
//! use hardware::mfrc522::{Mfrc522, SimulatedMfrc522};
//! use hardware::{CardReader, SimulatedCard, SimulatedField, Uid};
//!
//! let applicant = EmrtdApplicant::samples().remove(0);
//! let field = SimulatedField::new();
//! field.present(SimulatedCard::emrtd(Uid::from_hex("08A1B2C3").unwrap(), EmrtdChip::new(applicant)));
//! let mut reader = Mfrc522::new(SimulatedMfrc522::new(field));
//! reader.init().unwrap();
//! reader.poll().unwrap().expect("the card is on the reader");
//!
//! let card = read_emrtd(&mut reader, &AccessKey::can("123456").unwrap(), &ReadOptions::default()).unwrap();
//! assert_eq!(card.dg1.national_number().unwrap().as_str(), "199012344567");
//! assert_eq!(card.dg11.unwrap().display_name().unwrap(), "الهاشمي أحمد");
//!
//! let wrong = read_emrtd(&mut reader, &AccessKey::can("000000").unwrap(), &ReadOptions::default());
//! assert!(matches!(wrong, Err(EmrtdError::WrongAccessKey { .. })));
//! ```

pub mod bac;
pub mod cipher;
pub mod dh;
pub mod kdf;
pub mod lds;
pub mod mrz;
pub mod pace;
pub mod secure_messaging;
pub mod signature;

use core::fmt;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::card::{CardReader, ReaderError};
use crate::tlv;
pub use cipher::SmCipher;
pub use lds::{CardAccess, HashAlgorithm, PaceInfo, PaceMapping, PersonalDetails, SecurityObject};
pub use mrz::{Mrz, MrzError, MrzKey};
pub use pace::{PaceCurve, PasswordKind};
use secure_messaging::{SecureMessaging, SmError};

/// AID of the LDS1 eMRTD application.
pub const LDS1_AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01];
/// EF.CardAccess, in the master file.
pub const EF_CARD_ACCESS: [u8; 2] = [0x01, 0x1C];
/// EF.COM.
pub const EF_COM: [u8; 2] = [0x01, 0x1E];
/// EF.DG1 (MRZ).
pub const EF_DG1: [u8; 2] = [0x01, 0x01];
/// EF.DG11 (additional personal details).
pub const EF_DG11: [u8; 2] = [0x01, 0x0B];
/// EF.SOD (document security object).
pub const EF_SOD: [u8; 2] = [0x01, 0x1D];
/// Most bytes one READ BINARY asks for: with secure messaging's DO87 padding, DO99, DO8E and the
/// status word the answer stays within a PN532's ~262-byte frame.
pub const MAX_READ: u8 = 0xDF;
/// Largest file the reader accepts (short READ BINARY offsets stop at 0x7FFF).
pub const MAX_FILE_LEN: usize = 0x7FFF;

/// The key the applicant's card is opened with.
///
/// Secret: zeroized on drop; `{:?}` says only which kind it is.
pub enum AccessKey {
    /// The card access number printed on the card (PACE only).
    Can(Zeroizing<String>),
    /// The MRZ key (PACE or BAC).
    Mrz(MrzKey),
}

impl AccessKey {
    /// A CAN: 1 to 12 digits (the Iraqi card prints 6); `None` otherwise.
    pub fn can(digits: &str) -> Option<AccessKey> {
        let digits = digits.trim();
        (!digits.is_empty() && digits.len() <= 12 && digits.bytes().all(|c| c.is_ascii_digit()))
            .then(|| AccessKey::Can(Zeroizing::new(digits.to_string())))
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccessKey::Can(_) => "AccessKey::Can(<redacted>)",
            AccessKey::Mrz(_) => "AccessKey::Mrz(<redacted>)",
        })
    }
}

/// How to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Read DG11 when the card has it (default true).
    pub read_dg11: bool,
    /// Largest READ BINARY, 1 to [`MAX_READ`] (default [`MAX_READ`]).
    pub max_read: u8,
    /// Try PACE when EF.CardAccess offers it (default true; false forces BAC, for tests and
    /// for a technician comparing both).
    pub try_pace: bool,
    /// The issuing countries' CSCA certificates (DER X.509) EF.SOD's signature is verified
    /// against; empty (the default): the signature is not verified.
    pub csca_certificates: Vec<Vec<u8>>,
    /// Run PACE with exactly this option (one of EF.CardAccess's) and, if it fails, stop
    /// there rather than fall back to BAC: the technician's report tries each option the card
    /// offers in turn. `None` (the default): the preferred supported option, then BAC.
    pub pace_option: Option<PaceInfo>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { read_dg11: true, max_read: MAX_READ, try_pace: true, csca_certificates: Vec::new(), pace_option: None }
    }
}

/// The access control protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthProtocol {
    /// PACE.
    Pace,
    /// Basic Access Control.
    Bac,
}

impl fmt::Display for AuthProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthProtocol::Pace => "PACE",
            AuthProtocol::Bac => "BAC",
        })
    }
}

/// Which authentication opened the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Authentication {
    /// PACE, with these domain parameters, mapping, cipher and password.
    Pace {
        /// Standardised domain parameter id (12, 13 or 16).
        parameter_id: u64,
        /// The mapping (generic, ECDH).
        mapping: PaceMapping,
        /// The secure messaging cipher.
        cipher: SmCipher,
        /// CAN or MRZ.
        password: PasswordKind,
    },
    /// BAC (3DES).
    Bac,
}

/// Whether EF.SOD's signature was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// Verified: EF.SOD is signed by this document signer, whose certificate one of the
    /// configured CSCA certificates signed.
    Verified {
        /// The document signer's common name.
        document_signer: String,
    },
    /// Not verified: the data group hashes match EF.SOD, but nothing proves EF.SOD itself
    /// comes from the issuing state.
    NotVerified {
        /// Why not.
        reason: &'static str,
    },
}

/// What checking the data groups against EF.SOD found (a mismatch is an error instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SodCheck {
    /// EF.SOD's digest algorithm.
    pub algorithm: HashAlgorithm,
    /// The data groups whose hash was checked and matched.
    pub data_groups_checked: Vec<u8>,
    /// The signature.
    pub signature: SignatureCheck,
}

/// How one authentication attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The card was opened.
    Succeeded,
    /// The card refused the key at the mutual authentication step.
    WrongKey {
        /// Its status word.
        sw: u16,
    },
    /// The card refused an earlier step (protocol or parameters not accepted).
    Refused {
        /// The step.
        step: &'static str,
        /// Its status word.
        sw: u16,
    },
    /// The exchange failed otherwise.
    Failed(String),
}

/// One authentication attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthAttempt {
    /// What was tried, e.g. `PACE ECDH-GM AES-128, parameter id 13 (brainpoolP256r1) with the CAN`.
    pub protocol: String,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// How long it took, from the first command of the protocol to its last answer.
    pub duration: Duration,
}

/// One file read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file, e.g. `DG1`.
    pub file: &'static str,
    /// Its length in bytes.
    pub bytes: usize,
    /// READ BINARY commands sent.
    pub reads: u32,
    /// The largest chunk the card gave in one READ BINARY.
    pub largest_chunk: usize,
    /// Time from SELECT to the last byte.
    pub duration: Duration,
}

/// What a read did, without personal data: for logs and the technician's card report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// EF.CardAccess, `None` when the card has none (a BAC-only card).
    pub card_access: Option<CardAccess>,
    /// Authentication attempts in order.
    pub attempts: Vec<AuthAttempt>,
    /// The one that succeeded.
    pub authentication: Option<Authentication>,
    /// The READ BINARY size asked for.
    pub max_read: usize,
    /// Files read.
    pub files: Vec<FileReport>,
    /// APDUs exchanged.
    pub apdus: u32,
}

/// What was read from the chip.
#[derive(Debug, Clone)]
pub struct EmrtdRead {
    /// DG1: the MRZ.
    pub dg1: Mrz,
    /// DG11, when the card has it and it was asked for.
    pub dg11: Option<PersonalDetails>,
    /// How the card was opened.
    pub authentication: Authentication,
    /// What EF.SOD said.
    pub sod: SodCheck,
    /// What the read did.
    pub report: ReadReport,
}

/// Why the card could not be read. Each message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmrtdError {
    /// The reader failed, or the card left the field (`NoCard`, `Timeout`).
    #[error("the card reader lost the card ({0}): keep the card flat on the reader until the read finishes, then try again")]
    Reader(ReaderError),
    /// The card refused the access key.
    #[error("the card refused the access key ({protocol}, SW {sw:04X}): check the card access number or the MRZ fields that were typed, then try again")]
    WrongAccessKey {
        /// Where it was refused.
        protocol: AuthProtocol,
        /// The card's status word.
        sw: u16,
    },
    /// No LDS1 eMRTD application: not a national ID card or passport chip.
    #[error("this card has no ICAO eMRTD application: it is not a national ID card (or passport); use the applicant's national ID card")]
    NotAnEmrtd,
    /// No access protocol this terminal and the card share.
    #[error("the card cannot be opened this way: {0}")]
    Unsupported(String),
    /// Secure messaging failed: a bad MAC from the card, or the card dropped the session.
    #[error("secure messaging with the card failed ({0}): take the card off the reader and read it again; if it keeps failing, the card may be damaged or not genuine")]
    SecureMessaging(String),
    /// A data group's content does not match its hash in EF.SOD.
    #[error("data group {data_group} on the card does not match its hash in the card's security object: the card's data may have been altered; do not accept it, refer the applicant to the issuing office")]
    HashMismatch {
        /// The data group number.
        data_group: u8,
    },
    /// EF.SOD's signature does not verify up to a configured CSCA certificate.
    #[error("the card's security object is not signed by a configured country certificate ({0}): the card may be forged; do not accept it, refer the applicant to the issuing office")]
    SodSignature(String),
    /// A file's content is not what ICAO 9303 says.
    #[error("the card's data is malformed ({0}): the card may be damaged; record the card report for a technician")]
    Malformed(String),
    /// A command was refused with an unexpected status word.
    #[error("the card refused {command} (SW {sw:04X}): take the card off the reader and try again")]
    Status {
        /// The command.
        command: &'static str,
        /// The status word.
        sw: u16,
    },
}

impl From<ReaderError> for EmrtdError {
    fn from(e: ReaderError) -> Self {
        match e {
            ReaderError::NotIsoDep => EmrtdError::NotAnEmrtd,
            e => EmrtdError::Reader(e),
        }
    }
}

impl From<lds::LdsError> for EmrtdError {
    fn from(e: lds::LdsError) -> Self {
        EmrtdError::Malformed(e.to_string())
    }
}

impl From<SmError> for EmrtdError {
    fn from(e: SmError) -> Self {
        EmrtdError::SecureMessaging(e.to_string())
    }
}

const SW_OK: u16 = 0x9000;

/// The reader with, after authentication, the secure messaging session.
struct Channel<'r, R: CardReader + ?Sized> {
    reader: &'r mut R,
    sm: Option<SecureMessaging>,
    apdus: u32,
}

impl<R: CardReader + ?Sized> Channel<'_, R> {
    /// Sends a plain command APDU (protected if a session is open); the response data and
    /// status word.
    fn send(&mut self, apdu: &[u8]) -> Result<(Vec<u8>, u16), EmrtdError> {
        self.apdus += 1;
        let command = match self.sm.as_mut() {
            Some(sm) => sm.protect(apdu)?,
            None => apdu.to_vec(),
        };
        let response = self.reader.exchange(&command)?;
        let plain = match self.sm.as_mut() {
            Some(sm) => match sm.unprotect(&response) {
                Ok(plain) => plain,
                Err(SmError::Unprotected(sw)) => {
                    // An error answered in the clear ends the session (ISO/IEC 7816-4 §10.2).
                    self.sm = None;
                    if matches!(sw, 0x6987 | 0x6988) || sw == SW_OK {
                        return Err(EmrtdError::SecureMessaging(format!("the card answered SW {sw:04X} without secure messaging")));
                    }
                    return Ok((Vec::new(), sw));
                }
                Err(e) => {
                    self.sm = None;
                    return Err(e.into());
                }
            },
            None => response,
        };
        let Some((data, &[sw1, sw2])) = plain.split_last_chunk::<2>() else {
            return Err(EmrtdError::Malformed("a response APDU is shorter than its status word".into()));
        };
        Ok((data.to_vec(), u16::from_be_bytes([sw1, sw2])))
    }

    fn select(&mut self, file: [u8; 2]) -> Result<bool, EmrtdError> {
        let apdu = [0x00, 0xA4, 0x02, 0x0C, 0x02, file[0], file[1]];
        let (_, mut sw) = self.send(&apdu)?;
        if sw == 0x6988 && self.sm.is_none() {
            // The card was still in an earlier read's secure messaging session, which this
            // plain command just ended: ask again.
            sw = self.send(&apdu)?.1;
        }
        match sw {
            SW_OK => Ok(true),
            0x6A82 | 0x6986 | 0x6A86 | 0x6D00 | 0x6E00 => Ok(false),
            sw => Err(EmrtdError::Status { command: "SELECT of a file", sw }),
        }
    }

    /// Reads the transparent EF `file` (`None` when the card has no such file): its TLV header
    /// first, then chunks of at most `max_read` bytes.
    fn read_file(&mut self, file: [u8; 2], name: &'static str, max_read: u8, report: &mut ReadReport) -> Result<Option<Zeroizing<Vec<u8>>>, EmrtdError> {
        let started = Instant::now();
        if !self.select(file)? {
            return Ok(None);
        }
        let mut chunk = usize::from(max_read.max(4));
        let mut content = Zeroizing::new(Vec::new());
        let mut total: Option<usize> = None;
        let (mut reads, mut largest) = (0u32, 0usize);
        // Each round reads at least one byte or shrinks the chunk, so the loop is bounded by
        // the file length plus the halvings; the cap is a guard against a looping card.
        for _ in 0..(MAX_FILE_LEN / 2 + 64) {
            let want = match total {
                None => 4.min(chunk),
                Some(total) if content.len() >= total => break,
                Some(total) => (total - content.len()).min(chunk),
            };
            let [p1, p2] = (content.len() as u16).to_be_bytes();
            reads += 1;
            let (data, sw) = self.send(&[0x00, 0xB0, p1, p2, want as u8])?;
            match sw {
                SW_OK | 0x6282 if !data.is_empty() => {
                    largest = largest.max(data.len());
                    content.extend_from_slice(&data[..data.len().min(want)]);
                }
                // Wrong Le: SW2 is what the card has.
                sw if sw >> 8 == 0x6C && (sw & 0xFF) != 0 && usize::from(sw as u8) < want => {
                    chunk = usize::from(sw as u8);
                    continue;
                }
                0x6700 | 0x6282 | 0x6C00 if want > 1 => {
                    chunk = (want / 2).max(1);
                    continue;
                }
                0x6B00 | 0x6282 | SW_OK => return Err(EmrtdError::Malformed(format!("{name} ends before its length says"))),
                0x6982 => return Err(EmrtdError::Status { command: "READ BINARY (security status not satisfied)", sw }),
                sw => return Err(EmrtdError::Status { command: "READ BINARY", sw }),
            }
            if total.is_none() && content.len() >= 2 {
                match tlv::header(&content) {
                    Ok((_, header, len)) => {
                        let t = header + len;
                        if t > MAX_FILE_LEN {
                            return Err(EmrtdError::Malformed(format!("{name} claims {t} bytes, more than the reader accepts")));
                        }
                        total = Some(t);
                    }
                    Err(e) if content.len() >= 4 => return Err(EmrtdError::Malformed(format!("{name}: {}", e.0))),
                    Err(_) => {}
                }
            }
        }
        let total = total.ok_or_else(|| EmrtdError::Malformed(format!("{name} has no TLV header")))?;
        if content.len() < total {
            return Err(EmrtdError::Malformed(format!("{name} could not be read to its end")));
        }
        content.truncate(total);
        report.files.push(FileReport { file: name, bytes: total, reads, largest_chunk: largest, duration: started.elapsed() });
        Ok(Some(content))
    }
}

/// Reads EF.CardAccess from the master file, before any authentication: `None` when the card
/// has none (a BAC-only card, or no eMRTD at all). For the technician's report.
pub fn read_card_access<R: CardReader + ?Sized>(reader: &mut R) -> Result<Option<CardAccess>, EmrtdError> {
    let mut channel = Channel { reader, sm: None, apdus: 0 };
    let mut report = ReadReport::default();
    card_access(&mut channel, &mut report)
}

fn card_access<R: CardReader + ?Sized>(channel: &mut Channel<'_, R>, report: &mut ReadReport) -> Result<Option<CardAccess>, EmrtdError> {
    // EF.CardAccess is in the master file, and SELECT by file identifier looks in the current
    // DF: after an earlier read (or another application's SELECT) that is not the MF. A chip
    // that refuses to select the MF by name (6A82, 6A86) is still asked for the EF.
    channel.send(&[0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00])?;
    match channel.read_file(EF_CARD_ACCESS, "EF.CardAccess", MAX_READ, report) {
        Ok(Some(bytes)) => Ok(Some(lds::parse_card_access(&bytes)?)),
        Ok(None) => Ok(None),
        // A card with no file system in the clear (security status, unknown class): no PACE.
        Err(EmrtdError::Status { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads the eMRTD the reader's last poll found, with the system's random numbers.
pub fn read_emrtd<R: CardReader + ?Sized>(reader: &mut R, key: &AccessKey, options: &ReadOptions) -> Result<EmrtdRead, EmrtdError> {
    read_emrtd_reporting(reader, key, options, &mut rand::rngs::OsRng).0
}

/// Reads the eMRTD with the given source of random numbers (RND.IFD, K.IFD, PACE keys), and
/// returns the report also when the read fails — for the technician's card report.
pub fn read_emrtd_reporting<R: CardReader + ?Sized>(
    reader: &mut R,
    key: &AccessKey,
    options: &ReadOptions,
    rng: &mut dyn rand::RngCore,
) -> (Result<EmrtdRead, EmrtdError>, ReadReport) {
    let mut report = ReadReport { max_read: usize::from(options.max_read.clamp(4, MAX_READ)), ..ReadReport::default() };
    let mut channel = Channel { reader, sm: None, apdus: 0 };
    let result = read(&mut channel, key, options, rng, &mut report);
    report.apdus = channel.apdus;
    let result = result.map(|mut read| {
        read.report = report.clone();
        read
    });
    (result, report)
}

fn read<R: CardReader + ?Sized>(
    channel: &mut Channel<'_, R>,
    key: &AccessKey,
    options: &ReadOptions,
    rng: &mut dyn rand::RngCore,
    report: &mut ReadReport,
) -> Result<EmrtdRead, EmrtdError> {
    let max_read = options.max_read.clamp(4, MAX_READ);
    let access = card_access(channel, report)?;
    report.card_access = access.clone();
    let mut authentication = None;
    let forced = options.pace_option.is_some();
    let pace_option = match &options.pace_option {
        Some(info) => Some(info),
        None => access.as_ref().and_then(CardAccess::preferred_pace),
    }
    .filter(|_| options.try_pace);
    if let Some(info) = pace_option {
        let password = match key {
            AccessKey::Can(can) => pace::PacePassword::can(can),
            AccessKey::Mrz(mrz) => pace::PacePassword::mrz(mrz),
        };
        let what = format!(
            "{} with the {}",
            info.describe(),
            if password.kind() == PasswordKind::Can { "CAN" } else { "MRZ" }
        );
        let started = Instant::now();
        let result = run_pace(channel, info, &password, rng);
        let duration = started.elapsed();
        match result {
            Ok(auth) => {
                report.attempts.push(AuthAttempt { protocol: what, outcome: AttemptOutcome::Succeeded, duration });
                report.authentication = Some(auth);
                authentication = Some(auth);
            }
            Err(PaceFailure::WrongKey(sw)) => {
                report.attempts.push(AuthAttempt { protocol: what, outcome: AttemptOutcome::WrongKey { sw }, duration });
                return Err(EmrtdError::WrongAccessKey { protocol: AuthProtocol::Pace, sw });
            }
            Err(PaceFailure::Refused(step, sw)) => {
                report.attempts.push(AuthAttempt { protocol: what, outcome: AttemptOutcome::Refused { step, sw }, duration });
                if forced {
                    return Err(EmrtdError::Status { command: step, sw });
                }
            }
            Err(PaceFailure::Error(e)) => {
                report.attempts.push(AuthAttempt { protocol: what, outcome: AttemptOutcome::Failed(e.to_string()), duration });
                if forced || matches!(e, EmrtdError::Reader(_)) || matches!(key, AccessKey::Can(_)) {
                    return Err(e);
                }
            }
        }
    }

    let select_lds1 = {
        let mut apdu = vec![0x00, 0xA4, 0x04, 0x0C, LDS1_AID.len() as u8];
        apdu.extend_from_slice(&LDS1_AID);
        apdu
    };
    if authentication.is_none() {
        channel.sm = None;
        let (_, sw) = channel.send(&select_lds1)?;
        if sw != SW_OK {
            return Err(EmrtdError::NotAnEmrtd);
        }
        let AccessKey::Mrz(mrz) = key else {
            let why = match &access {
                Some(a) if !a.pace.is_empty() => format!(
                    "the card's PACE options ({}) did not work here and BAC needs the MRZ: type the MRZ instead of the card access number",
                    a.pace.iter().map(PaceInfo::describe).collect::<Vec<_>>().join("; ")
                ),
                _ => "this card offers only BAC, which needs the MRZ: type the MRZ instead of the card access number".into(),
            };
            return Err(EmrtdError::Unsupported(why));
        };
        let what = "BAC (3DES) with the MRZ".to_string();
        let started = Instant::now();
        let result = run_bac(channel, mrz, rng);
        let duration = started.elapsed();
        match result {
            Ok(()) => {
                report.attempts.push(AuthAttempt { protocol: what, outcome: AttemptOutcome::Succeeded, duration });
                report.authentication = Some(Authentication::Bac);
                authentication = Some(Authentication::Bac);
            }
            Err(e) => {
                let outcome = match &e {
                    EmrtdError::WrongAccessKey { sw, .. } => AttemptOutcome::WrongKey { sw: *sw },
                    other => AttemptOutcome::Failed(other.to_string()),
                };
                report.attempts.push(AuthAttempt { protocol: what, outcome, duration });
                return Err(e);
            }
        }
    } else {
        let (_, sw) = channel.send(&select_lds1)?;
        if sw != SW_OK {
            return Err(EmrtdError::NotAnEmrtd);
        }
    }
    let authentication = authentication.ok_or(EmrtdError::Unsupported("no authentication succeeded".into()))?;

    let present = match channel.read_file(EF_COM, "EF.COM", max_read, report)? {
        Some(com) => Some(lds::parse_com(&com)?),
        None => None,
    };
    let dg1 = channel
        .read_file(EF_DG1, "DG1", max_read, report)?
        .ok_or_else(|| EmrtdError::Malformed("the card has no DG1 (MRZ)".into()))?;
    let wants_dg11 = options.read_dg11 && present.as_ref().is_none_or(|dgs| dgs.contains(&11));
    let dg11 = if wants_dg11 { channel.read_file(EF_DG11, "DG11", max_read, report)? } else { None };
    let sod_bytes = channel
        .read_file(EF_SOD, "EF.SOD", max_read, report)?
        .ok_or_else(|| EmrtdError::Malformed("the card has no EF.SOD, so its data cannot be checked".into()))?;
    channel.sm = None;

    let sod = lds::parse_sod(&sod_bytes)?;
    let mut checked = Vec::new();
    for (dg, content) in [(1u8, Some(&dg1)), (11, dg11.as_ref())] {
        let Some(content) = content else { continue };
        let expected = sod
            .hash_of(dg)
            .ok_or_else(|| EmrtdError::Malformed(format!("EF.SOD has no hash for DG{dg}")))?;
        if sod.algorithm.digest(content) != expected {
            return Err(EmrtdError::HashMismatch { data_group: dg });
        }
        checked.push(dg);
    }
    let signature = if options.csca_certificates.is_empty() {
        SignatureCheck::NotVerified { reason: "no country signing certificate (CSCA) is configured" }
    } else {
        match signature::verify_sod(&sod_bytes, &options.csca_certificates) {
            Ok(document_signer) => SignatureCheck::Verified { document_signer },
            Err(why) => return Err(EmrtdError::SodSignature(why)),
        }
    };
    let mrz = lds::parse_dg1(&dg1)?;
    let details = dg11.map(|bytes| lds::parse_dg11(&bytes)).transpose()?;
    Ok(EmrtdRead {
        dg1: mrz,
        dg11: details,
        authentication,
        sod: SodCheck {
            algorithm: sod.algorithm,
            data_groups_checked: checked,
            signature,
        },
        report: ReadReport::default(),
    })
}

fn run_bac<R: CardReader + ?Sized>(channel: &mut Channel<'_, R>, key: &MrzKey, rng: &mut dyn rand::RngCore) -> Result<(), EmrtdError> {
    let (challenge, sw) = channel.send(&[0x00, 0x84, 0x00, 0x00, 0x08])?;
    if sw != SW_OK {
        return Err(EmrtdError::Status { command: "GET CHALLENGE", sw });
    }
    let rnd_ic: [u8; 8] = challenge.as_slice().try_into().map_err(|_| EmrtdError::Malformed("GET CHALLENGE did not give 8 bytes".into()))?;
    let mut rnd_ifd = [0u8; 8];
    let mut k_ifd = Zeroizing::new([0u8; 16]);
    rng.fill_bytes(&mut rnd_ifd);
    rng.fill_bytes(&mut k_ifd[..]);
    let keys = bac::BacKeys::from_mrz(key);
    let cryptogram = keys.cryptogram(&rnd_ifd, &rnd_ic, &k_ifd).map_err(|e| EmrtdError::Malformed(e.to_string()))?;
    let mut apdu = vec![0x00, 0x82, 0x00, 0x00, 0x28];
    apdu.extend_from_slice(&cryptogram);
    apdu.push(0x28);
    let (answer, sw) = channel.send(&apdu)?;
    match sw {
        SW_OK => {}
        0x6300 | 0x6982 | 0x6A80 | 0x6300..=0x63CF => return Err(EmrtdError::WrongAccessKey { protocol: AuthProtocol::Bac, sw }),
        sw => return Err(EmrtdError::Status { command: "EXTERNAL AUTHENTICATE", sw }),
    }
    let sm = bac::complete(&keys, &answer, &rnd_ic, &rnd_ifd, &k_ifd)
        .map_err(|e| EmrtdError::SecureMessaging(format!("the card's BAC answer failed its check: {e}")))?;
    channel.sm = Some(sm);
    Ok(())
}

enum PaceFailure {
    WrongKey(u16),
    Refused(&'static str, u16),
    Error(EmrtdError),
}

impl From<EmrtdError> for PaceFailure {
    fn from(e: EmrtdError) -> Self {
        PaceFailure::Error(e)
    }
}

impl From<pace::PaceError> for PaceFailure {
    fn from(e: pace::PaceError) -> Self {
        PaceFailure::Error(EmrtdError::Malformed(format!("PACE: {e}")))
    }
}

/// The value of `tag` inside a General Authenticate answer `7C { ... }`.
fn dynamic_data(data: &[u8], tag: u32) -> Result<Vec<u8>, PaceFailure> {
    let malformed = || PaceFailure::Error(EmrtdError::Malformed(format!("a PACE answer lacks tag {tag:02X}")));
    let inner = tlv::expect(data, 0x7C, "not 7C").map_err(|_| malformed())?;
    tlv::find(inner, tag).ok().flatten().map(<[u8]>::to_vec).ok_or_else(malformed)
}

fn run_pace<R: CardReader + ?Sized>(
    channel: &mut Channel<'_, R>,
    info: &PaceInfo,
    password: &pace::PacePassword,
    rng: &mut dyn rand::RngCore,
) -> Result<Authentication, PaceFailure> {
    let unsupported = || PaceFailure::Error(EmrtdError::Unsupported(format!("{} is not implemented", info.describe())));
    let cipher = info.cipher().ok_or_else(unsupported)?;
    let parameter_id = info.parameter_id.ok_or_else(unsupported)?;
    let curve = PaceCurve::from_parameter_id(parameter_id).ok_or_else(unsupported)?;
    let step = |channel: &mut Channel<'_, R>, name: &'static str, apdu: &[u8]| -> Result<Vec<u8>, PaceFailure> {
        let (data, sw) = channel.send(apdu)?;
        if sw != SW_OK {
            return Err(PaceFailure::Refused(name, sw));
        }
        Ok(data)
    };
    step(channel, "MSE:Set AT", &pace::mse_set_at(info, password.kind()))?;
    let answer = step(channel, "General Authenticate (nonce)", &pace::general_authenticate(0, &[], false))?;
    let z = dynamic_data(&answer, 0x80)?;
    let mut secrets = pace::PaceSecrets { nonce: pace::decrypt_nonce(cipher, &password.key(cipher), &z)?, ..Default::default() };
    secrets.map_key = curve.random_private_key(rng)?;
    let map_public = curve.mul(None, &secrets.map_key)?;
    let answer = step(channel, "General Authenticate (map nonce)", &pace::general_authenticate(0x81, &map_public, false))?;
    let card_map_public = dynamic_data(&answer, 0x82)?;
    let h = curve.mul(Some(&card_map_public), &secrets.map_key)?;
    let generator = curve.map_generator(&secrets.nonce, &h)?;
    secrets.ephemeral_key = curve.random_private_key(rng)?;
    let public = curve.mul(Some(&generator), &secrets.ephemeral_key)?;
    let answer = step(channel, "General Authenticate (key agreement)", &pace::general_authenticate(0x83, &public, false))?;
    let card_public = dynamic_data(&answer, 0x84)?;
    if card_public == public {
        return Err(pace::PaceError::SameEphemeralKey.into());
    }
    let shared = curve.shared_x(&secrets.ephemeral_key, &card_public)?;
    let (sm, k_mac) = pace::session(cipher, &shared)?;
    let token = pace::authentication_token(cipher, &k_mac, &info.protocol, &card_public)?;
    let (answer, sw) = channel.send(&pace::general_authenticate(0x85, &token, true))?;
    match sw {
        SW_OK => {}
        0x6300..=0x63CF | 0x6982 | 0x6A80 => return Err(PaceFailure::WrongKey(sw)),
        sw => return Err(PaceFailure::Refused("General Authenticate (mutual authentication)", sw)),
    }
    let card_token = dynamic_data(&answer, 0x86)?;
    let expected = pace::authentication_token(cipher, &k_mac, &info.protocol, &public)?;
    if card_token != expected {
        return Err(PaceFailure::Error(EmrtdError::SecureMessaging("the card's PACE authentication token does not match".into())));
    }
    channel.sm = Some(sm);
    Ok(Authentication::Pace { parameter_id, mapping: PaceMapping::EcdhGeneric, cipher, password: password.kind() })
}
