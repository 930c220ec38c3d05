//! The Logical Data Structure (ICAO 9303 Part 10) files the terminal reads, and EF.CardAccess
//! (Part 11 §9.2): parsing only, no I/O, so every parser is fuzzed on its own.
//!
//! | file | id | what the terminal takes from it |
//! | --- | --- | --- |
//! | EF.CardAccess | `01 1C` (MF) | the PACE options offered ([`PaceInfo`]) and the other SecurityInfos, by OID, for the report |
//! | EF.COM | `01 1E` | which data groups exist |
//! | DG1 | `01 01` | the MRZ ([`Mrz`]) |
//! | DG11 | `01 0B` | full name, personal number, other details ([`PersonalDetails`]) |
//! | EF.SOD | `01 1D` | the hash of each data group ([`SecurityObject`]) |
//!
//! DG2 (the face image) is never read.

use core::fmt;

use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use super::cipher::SmCipher;
use super::mrz::Mrz;
use crate::tlv::{self, TlvError};

/// Why a file's content was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {what}")]
pub struct LdsError {
    /// Which file.
    pub file: &'static str,
    /// What was wrong.
    pub what: String,
}

fn err(file: &'static str, what: impl Into<String>) -> LdsError {
    LdsError { file, what: what.into() }
}

fn tlv_err(file: &'static str) -> impl Fn(TlvError) -> LdsError {
    move |e| err(file, e.0)
}

/// An OBJECT IDENTIFIER's content bytes in dotted form, e.g. `0.4.0.127.0.7.2.2.4.2.2`.
pub fn oid_to_string(content: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for (i, &b) in content.iter().enumerate() {
        value = (value << 7) | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let first = (value / 40).min(2);
                parts.push(first);
                parts.push(value - first * 40);
            } else {
                parts.push(value);
            }
            value = 0;
        } else if i + 1 == content.len() || value > u64::MAX >> 8 {
            return "(malformed OID)".into();
        }
    }
    parts.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

// --- EF.CardAccess ----------------------------------------------------------------------------

/// id-PACE: 0.4.0.127.0.7.2.2.4 (BSI TR-03110, ICAO 9303 Part 11 §9.2.1).
pub const ID_PACE: [u8; 8] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04];

/// How PACE maps the nonce to an ephemeral generator, and on which kind of group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaceMapping {
    /// Generic mapping, Diffie-Hellman on a prime field group.
    DhGeneric,
    /// Generic mapping, elliptic curve Diffie-Hellman.
    EcdhGeneric,
    /// Integrated mapping, DH.
    DhIntegrated,
    /// Integrated mapping, ECDH.
    EcdhIntegrated,
    /// Chip authentication mapping, ECDH.
    EcdhChipAuthentication,
}

impl PaceMapping {
    /// The OID's name part, e.g. `ECDH-GM`.
    pub fn name(self) -> &'static str {
        match self {
            PaceMapping::DhGeneric => "DH-GM",
            PaceMapping::EcdhGeneric => "ECDH-GM",
            PaceMapping::DhIntegrated => "DH-IM",
            PaceMapping::EcdhIntegrated => "ECDH-IM",
            PaceMapping::EcdhChipAuthentication => "ECDH-CAM",
        }
    }
}

/// One PACEInfo of EF.CardAccess: a protocol (mapping and cipher) and, usually, the standardised
/// domain parameters it runs on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PaceInfo {
    /// The protocol OID's content bytes.
    pub protocol: Vec<u8>,
    /// Its version (2 for ICAO 9303 PACE).
    pub version: u64,
    /// The standardised domain parameter id (ICAO 9303 Part 11 §9.5.1: 12 = NIST P-256,
    /// 13 = brainpoolP256r1, 16 = brainpoolP384r1, ...), if given.
    pub parameter_id: Option<u64>,
}

impl PaceInfo {
    /// A PACEInfo for this mapping, cipher and parameter id (what a card personalisation
    /// writes).
    pub fn new(mapping: PaceMapping, cipher: SmCipher, parameter_id: u64) -> PaceInfo {
        let m = match mapping {
            PaceMapping::DhGeneric => 1,
            PaceMapping::EcdhGeneric => 2,
            PaceMapping::DhIntegrated => 3,
            PaceMapping::EcdhIntegrated => 4,
            PaceMapping::EcdhChipAuthentication => 6,
        };
        let c = match cipher {
            SmCipher::Tdes => 1,
            SmCipher::Aes128 => 2,
            SmCipher::Aes192 => 3,
            SmCipher::Aes256 => 4,
        };
        let mut protocol = ID_PACE.to_vec();
        protocol.extend_from_slice(&[m, c]);
        PaceInfo { protocol, version: 2, parameter_id: Some(parameter_id) }
    }

    /// The mapping, if the OID is a PACE protocol this module knows.
    pub fn mapping(&self) -> Option<PaceMapping> {
        let rest = self.protocol.strip_prefix(&ID_PACE[..])?;
        match rest {
            [1, _] => Some(PaceMapping::DhGeneric),
            [2, _] => Some(PaceMapping::EcdhGeneric),
            [3, _] => Some(PaceMapping::DhIntegrated),
            [4, _] => Some(PaceMapping::EcdhIntegrated),
            [6, _] => Some(PaceMapping::EcdhChipAuthentication),
            _ => None,
        }
    }

    /// The secure messaging cipher the protocol names.
    pub fn cipher(&self) -> Option<SmCipher> {
        match self.protocol.strip_prefix(&ID_PACE[..])? {
            [_, 1] => Some(SmCipher::Tdes),
            [_, 2] => Some(SmCipher::Aes128),
            [_, 3] => Some(SmCipher::Aes192),
            [_, 4] => Some(SmCipher::Aes256),
            _ => None,
        }
    }

    /// Whether this terminal can run it: generic mapping on ECDH with parameter id 12, 13 or 16.
    pub fn is_supported(&self) -> bool {
        self.mapping() == Some(PaceMapping::EcdhGeneric)
            && self.cipher().is_some()
            && matches!(self.parameter_id, Some(12 | 13 | 16))
    }

    /// A name for reports, e.g. `PACE ECDH-GM AES-128, parameter id 13 (brainpoolP256r1)`.
    pub fn describe(&self) -> String {
        let protocol = match (self.mapping(), self.cipher()) {
            (Some(m), Some(c)) => format!("PACE {} {}", m.name(), c.name()),
            _ => format!("PACE {}", oid_to_string(&self.protocol)),
        };
        match self.parameter_id {
            Some(id) => format!("{protocol}, parameter id {id} ({})", parameter_name(id)),
            None => format!("{protocol}, proprietary domain parameters"),
        }
    }
}

/// The name of a standardised domain parameter id (ICAO 9303 Part 11 Table 6).
pub fn parameter_name(id: u64) -> &'static str {
    match id {
        0 => "1024-bit MODP group with 160-bit prime order subgroup",
        1 => "2048-bit MODP group with 224-bit prime order subgroup",
        2 => "2048-bit MODP group with 256-bit prime order subgroup",
        8 => "NIST P-192",
        9 => "brainpoolP192r1",
        10 => "NIST P-224",
        11 => "brainpoolP224r1",
        12 => "NIST P-256",
        13 => "brainpoolP256r1",
        14 => "brainpoolP320r1",
        15 => "NIST P-384",
        16 => "brainpoolP384r1",
        17 => "brainpoolP512r1",
        18 => "NIST P-521",
        _ => "unknown",
    }
}

/// What EF.CardAccess says: the PACE options, and the OIDs of every SecurityInfo (for the
/// technician's report: chip authentication, terminal authentication and others).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardAccess {
    /// The PACEInfos, in the card's order.
    pub pace: Vec<PaceInfo>,
    /// Every SecurityInfo's protocol OID, dotted.
    pub protocols: Vec<String>,
}

impl CardAccess {
    /// The PACE option the terminal will use: the first supported one, preferring AES over
    /// 3DES (cards list their preference first; ICAO recommends AES).
    pub fn preferred_pace(&self) -> Option<&PaceInfo> {
        let supported = || self.pace.iter().filter(|p| p.is_supported());
        supported().find(|p| p.cipher() != Some(SmCipher::Tdes)).or_else(|| supported().next())
    }
}

/// Parses EF.CardAccess: a SET OF SecurityInfo, each `SEQUENCE { OID, ANY, ANY OPTIONAL }`.
pub fn parse_card_access(bytes: &[u8]) -> Result<CardAccess, LdsError> {
    const FILE: &str = "EF.CardAccess";
    let set = tlv::expect(bytes, 0x31, "does not start with a SET (tag 31)").map_err(tlv_err(FILE))?;
    let mut access = CardAccess::default();
    for info in tlv::iter(set) {
        let info = info.map_err(tlv_err(FILE))?;
        if info.tag != 0x30 {
            return Err(err(FILE, "a SecurityInfo is not a SEQUENCE"));
        }
        let mut items = tlv::iter(info.value);
        let oid = match items.next() {
            Some(Ok(t)) if t.tag == 0x06 => t.value,
            Some(Err(e)) => return Err(err(FILE, e.0)),
            _ => return Err(err(FILE, "a SecurityInfo does not start with its OID")),
        };
        access.protocols.push(oid_to_string(oid));
        // PACEInfo: id-PACE.x.y, INTEGER version, INTEGER parameterId OPTIONAL.
        if oid.len() == ID_PACE.len() + 2 && oid.starts_with(&ID_PACE) {
            let version = match items.next() {
                Some(Ok(t)) if t.tag == 0x02 => tlv::unsigned(t.value).map_err(tlv_err(FILE))?,
                _ => return Err(err(FILE, "a PACEInfo has no version INTEGER")),
            };
            let parameter_id = match items.next() {
                Some(Ok(t)) if t.tag == 0x02 => Some(tlv::unsigned(t.value).map_err(tlv_err(FILE))?),
                Some(Err(e)) => return Err(err(FILE, e.0)),
                _ => None,
            };
            access.pace.push(PaceInfo { protocol: oid.to_vec(), version, parameter_id });
        }
    }
    Ok(access)
}

/// Encodes EF.CardAccess with these PACEInfos (for simulated cards).
pub fn encode_card_access(pace: &[PaceInfo]) -> Vec<u8> {
    let mut infos = Vec::new();
    for p in pace {
        let mut seq = tlv::encode(0x06, &p.protocol);
        seq.extend(tlv::encode_unsigned(p.version));
        if let Some(id) = p.parameter_id {
            seq.extend(tlv::encode_unsigned(id));
        }
        infos.extend(tlv::encode(0x30, &seq));
    }
    tlv::encode(0x31, &infos)
}

// --- EF.COM, DG1 -------------------------------------------------------------------------------

/// The data group number a tag of EF.COM's tag list (`5C`) stands for.
pub fn data_group_of_tag(tag: u8) -> Option<u8> {
    Some(match tag {
        0x61 => 1,
        0x75 => 2,
        0x63 => 3,
        0x76 => 4,
        0x65..=0x6F => tag - 0x65 + 5,
        0x70 => 16,
        _ => return None,
    })
}

/// The tag of a data group's file (inverse of [`data_group_of_tag`]).
pub fn tag_of_data_group(dg: u8) -> Option<u8> {
    (0x60..=0x7F).find(|&t| data_group_of_tag(t) == Some(dg))
}

/// EF.COM: the LDS version and the data groups present.
pub fn parse_com(bytes: &[u8]) -> Result<Vec<u8>, LdsError> {
    const FILE: &str = "EF.COM";
    let com = tlv::expect(bytes, 0x60, "does not start with tag 60").map_err(tlv_err(FILE))?;
    let list = tlv::find(com, 0x5C).map_err(tlv_err(FILE))?.ok_or_else(|| err(FILE, "no tag list (5C)"))?;
    Ok(list.iter().filter_map(|&t| data_group_of_tag(t)).collect())
}

/// Encodes EF.COM (LDS 1.7, Unicode 4.0.0) listing these data groups.
pub fn encode_com(data_groups: &[u8]) -> Vec<u8> {
    let mut com = tlv::encode(0x5F01, b"0107");
    com.extend(tlv::encode(0x5F36, b"040000"));
    let tags: Vec<u8> = data_groups.iter().filter_map(|&dg| tag_of_data_group(dg)).collect();
    com.extend(tlv::encode(0x5C, &tags));
    tlv::encode(0x60, &com)
}

/// DG1: the MRZ (`61 { 5F1F MRZ }`).
pub fn parse_dg1(bytes: &[u8]) -> Result<Mrz, LdsError> {
    const FILE: &str = "DG1";
    let dg1 = tlv::expect(bytes, 0x61, "does not start with tag 61").map_err(tlv_err(FILE))?;
    let mrz = tlv::find(dg1, 0x5F1F).map_err(tlv_err(FILE))?.ok_or_else(|| err(FILE, "no MRZ (5F1F)"))?;
    Mrz::parse_td1(mrz).map_err(|e| err(FILE, e.to_string()))
}

/// Encodes DG1 around the MRZ characters.
pub fn encode_dg1(mrz: &str) -> Vec<u8> {
    tlv::encode(0x61, &tlv::encode(0x5F1F, mrz.as_bytes()))
}

// --- DG11 --------------------------------------------------------------------------------------

/// DG11, additional personal details (ICAO 9303 Part 10 §4.7.11). Every field is optional on
/// the card. Text is UTF-8 as the card stores it (an Arabic name stays Arabic); ICAO's `<`
/// separators are kept in [`full_name`](Self::full_name) and turned into spaces by
/// [`display_name`](Self::display_name).
///
/// Personal data: `{:?}` shows only which fields are present.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PersonalDetails {
    /// Full name (`5F0E`), primary and secondary identifiers separated by `<<`.
    pub full_name: Option<String>,
    /// Other names (`A0` / `0F`).
    pub other_names: Vec<String>,
    /// Personal number (`5F10`): the national number on the Iraqi card.
    pub personal_number: Option<String>,
    /// Full date of birth (`5F2B`), `YYYYMMDD`.
    pub full_date_of_birth: Option<String>,
    /// Place of birth (`5F11`).
    pub place_of_birth: Option<String>,
    /// Address (`5F42`).
    pub address: Option<String>,
    /// Telephone (`5F12`).
    pub telephone: Option<String>,
    /// Profession (`5F13`).
    pub profession: Option<String>,
    /// Title (`5F14`).
    pub title: Option<String>,
    /// Personal summary (`5F15`).
    pub personal_summary: Option<String>,
    /// Other valid travel document numbers (`5F17`).
    pub other_document_numbers: Option<String>,
    /// Custody information (`5F18`).
    pub custody_information: Option<String>,
}

impl PersonalDetails {
    /// The full name for a form: the `<<` between surname and given names and the single `<`
    /// between words read as spaces, filler removed.
    pub fn display_name(&self) -> Option<String> {
        let name = self.full_name.as_deref()?;
        let words: Vec<&str> = name.split('<').map(str::trim).filter(|w| !w.is_empty()).collect();
        Some(words.join(" "))
    }
}

impl fmt::Debug for PersonalDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = |o: &Option<String>| if o.is_some() { "present" } else { "absent" };
        f.debug_struct("PersonalDetails")
            .field("full_name", &present(&self.full_name))
            .field("personal_number", &present(&self.personal_number))
            .field("full_date_of_birth", &present(&self.full_date_of_birth))
            .finish_non_exhaustive()
    }
}

/// Parses DG11 (`6B`).
pub fn parse_dg11(bytes: &[u8]) -> Result<PersonalDetails, LdsError> {
    const FILE: &str = "DG11";
    let dg11 = tlv::expect(bytes, 0x6B, "does not start with tag 6B").map_err(tlv_err(FILE))?;
    let text = |v: &[u8], what: &str| {
        String::from_utf8(v.to_vec()).map_err(|_| err(FILE, format!("the {what} is not UTF-8")))
    };
    let mut details = PersonalDetails::default();
    for item in tlv::iter(dg11) {
        let item = item.map_err(tlv_err(FILE))?;
        let v = item.value;
        match item.tag {
            0x5C => {}
            0x5F0E => details.full_name = Some(text(v, "full name")?),
            0x5F10 => details.personal_number = Some(text(v, "personal number")?),
            0x5F2B => {
                // YYYYMMDD as ASCII digits, or 4 bytes of BCD on some cards.
                let date = if v.len() == 4 { v.iter().map(|b| format!("{b:02X}")).collect() } else { text(v, "date of birth")? };
                if date.len() != 8 || !date.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(err(FILE, "the full date of birth is not YYYYMMDD"));
                }
                details.full_date_of_birth = Some(date);
            }
            0x5F11 => details.place_of_birth = Some(text(v, "place of birth")?),
            0x5F42 => details.address = Some(text(v, "address")?),
            0x5F12 => details.telephone = Some(text(v, "telephone")?),
            0x5F13 => details.profession = Some(text(v, "profession")?),
            0x5F14 => details.title = Some(text(v, "title")?),
            0x5F15 => details.personal_summary = Some(text(v, "personal summary")?),
            0x5F17 => details.other_document_numbers = Some(text(v, "other document numbers")?),
            0x5F18 => details.custody_information = Some(text(v, "custody information")?),
            0xA0 => {
                for name in tlv::iter(v) {
                    let name = name.map_err(tlv_err(FILE))?;
                    if name.tag == 0x0F {
                        details.other_names.push(text(name.value, "other name")?);
                    }
                }
            }
            // Proof of citizenship (an image) and future tags: skipped.
            _ => {}
        }
    }
    Ok(details)
}

/// Encodes DG11 with the fields that are set (for simulated cards).
pub fn encode_dg11(details: &PersonalDetails) -> Vec<u8> {
    let fields: [(u32, &Option<String>); 11] = [
        (0x5F0E, &details.full_name),
        (0x5F10, &details.personal_number),
        (0x5F2B, &details.full_date_of_birth),
        (0x5F11, &details.place_of_birth),
        (0x5F42, &details.address),
        (0x5F12, &details.telephone),
        (0x5F13, &details.profession),
        (0x5F14, &details.title),
        (0x5F15, &details.personal_summary),
        (0x5F17, &details.other_document_numbers),
        (0x5F18, &details.custody_information),
    ];
    let mut tags = Vec::new();
    let mut body = Vec::new();
    for (tag, value) in fields {
        if let Some(v) = value {
            tags.extend_from_slice(&(tag as u16).to_be_bytes());
            body.extend(tlv::encode(tag, v.as_bytes()));
        }
    }
    if !details.other_names.is_empty() {
        tags.push(0xA0);
        let mut names = tlv::encode_unsigned(details.other_names.len() as u64);
        for n in &details.other_names {
            names.extend(tlv::encode(0x0F, n.as_bytes()));
        }
        body.extend(tlv::encode(0xA0, &names));
    }
    let mut dg11 = tlv::encode(0x5C, &tags);
    dg11.extend(body);
    tlv::encode(0x6B, &dg11)
}

// --- EF.SOD ------------------------------------------------------------------------------------

/// The digest algorithm of the LDSSecurityObject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-1.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

const OID_SHA1: [u8; 5] = [0x2B, 0x0E, 0x03, 0x02, 0x1A];
const OID_NIST_HASH: [u8; 8] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];
/// id-signedData, 1.2.840.113549.1.7.2.
const OID_SIGNED_DATA: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02];
/// id-icao-mrtd-security-ldsSecurityObject, 2.23.136.1.1.1.
const OID_LDS_SECURITY_OBJECT: [u8; 6] = [0x67, 0x81, 0x08, 0x01, 0x01, 0x01];

/// The hash algorithm an OID names (SHA-1, SHA-2 family).
pub fn hash_algorithm_of_oid(oid: &[u8]) -> Option<HashAlgorithm> {
    HashAlgorithm::from_oid(oid)
}

impl HashAlgorithm {
    fn from_oid(oid: &[u8]) -> Option<HashAlgorithm> {
        if oid == OID_SHA1 {
            return Some(HashAlgorithm::Sha1);
        }
        match oid.strip_prefix(&OID_NIST_HASH[..])? {
            [1] => Some(HashAlgorithm::Sha256),
            [2] => Some(HashAlgorithm::Sha384),
            [3] => Some(HashAlgorithm::Sha512),
            [4] => Some(HashAlgorithm::Sha224),
            _ => None,
        }
    }

    fn oid(self) -> Vec<u8> {
        let mut oid = OID_NIST_HASH.to_vec();
        match self {
            HashAlgorithm::Sha1 => return OID_SHA1.to_vec(),
            HashAlgorithm::Sha256 => oid.push(1),
            HashAlgorithm::Sha384 => oid.push(2),
            HashAlgorithm::Sha512 => oid.push(3),
            HashAlgorithm::Sha224 => oid.push(4),
        }
        oid
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlgorithm::Sha1 => Sha1::digest(data).to_vec(),
            HashAlgorithm::Sha224 => Sha224::digest(data).to_vec(),
            HashAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
            HashAlgorithm::Sha384 => Sha384::digest(data).to_vec(),
            HashAlgorithm::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

/// What EF.SOD holds that the terminal checks: the LDSSecurityObject's hashes, and whether the
/// CMS structure carries a signature (which is not verified here: see [`super::SignatureCheck`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityObject {
    /// The digest algorithm of the data group hashes.
    pub algorithm: HashAlgorithm,
    /// Data group number and hash.
    pub hashes: Vec<(u8, Vec<u8>)>,
    /// Number of SignerInfos in the SignedData.
    pub signer_infos: usize,
}

impl SecurityObject {
    /// The hash the SOD holds for data group `dg`.
    pub fn hash_of(&self, dg: u8) -> Option<&[u8]> {
        self.hashes.iter().find(|(n, _)| *n == dg).map(|(_, h)| &h[..])
    }
}

/// Parses EF.SOD: `77 { ContentInfo { signedData, [0] SignedData { version, digestAlgorithms,
/// encapContentInfo { ldsSecurityObject, [0] OCTET STRING { LDSSecurityObject } }, [0]
/// certificates OPTIONAL, [1] crls OPTIONAL, signerInfos } } }`.
pub fn parse_sod(bytes: &[u8]) -> Result<SecurityObject, LdsError> {
    const FILE: &str = "EF.SOD";
    let e = tlv_err(FILE);
    let sod = tlv::expect(bytes, 0x77, "does not start with tag 77").map_err(&e)?;
    let content_info = tlv::expect(sod, 0x30, "the ContentInfo is not a SEQUENCE").map_err(&e)?;
    let mut items = tlv::iter(content_info);
    match items.next() {
        Some(Ok(t)) if t.tag == 0x06 && t.value == OID_SIGNED_DATA => {}
        _ => return Err(err(FILE, "the ContentInfo is not id-signedData")),
    }
    let explicit = match items.next() {
        Some(Ok(t)) if t.tag == 0xA0 => t.value,
        _ => return Err(err(FILE, "the ContentInfo has no [0] content")),
    };
    let signed_data = tlv::expect(explicit, 0x30, "the SignedData is not a SEQUENCE").map_err(&e)?;
    let mut fields = tlv::iter(signed_data);
    let mut next = |what: &'static str| match fields.next() {
        Some(Ok(t)) => Ok(t),
        Some(Err(x)) => Err(err(FILE, x.0)),
        None => Err(err(FILE, format!("the SignedData ends before its {what}"))),
    };
    let _version = next("version")?;
    let _digest_algorithms = next("digest algorithms")?;
    let encap = next("encapsulated content")?;
    let mut rest = Vec::new();
    while let Ok(t) = next("signer infos") {
        rest.push(t);
    }
    let signer_infos = match rest.last() {
        Some(t) if t.tag == 0x31 => tlv::iter(t.value).count(),
        _ => return Err(err(FILE, "the SignedData has no SignerInfos SET")),
    };
    let mut encap_items = tlv::iter(encap.value);
    match encap_items.next() {
        Some(Ok(t)) if t.tag == 0x06 && t.value == OID_LDS_SECURITY_OBJECT => {}
        _ => return Err(err(FILE, "the encapsulated content is not an LDSSecurityObject")),
    }
    let econtent = match encap_items.next() {
        Some(Ok(t)) if t.tag == 0xA0 => tlv::expect(t.value, 0x04, "eContent is not an OCTET STRING").map_err(&e)?,
        _ => return Err(err(FILE, "the LDSSecurityObject is missing (detached content)")),
    };
    let lds_object = tlv::expect(econtent, 0x30, "the LDSSecurityObject is not a SEQUENCE").map_err(&e)?;
    let mut lds = tlv::iter(lds_object);
    let mut lds_next = |what: &'static str| match lds.next() {
        Some(Ok(t)) => Ok(t),
        Some(Err(x)) => Err(err(FILE, x.0)),
        None => Err(err(FILE, format!("the LDSSecurityObject ends before its {what}"))),
    };
    let _ = lds_next("version")?;
    let algorithm_id = lds_next("hash algorithm")?;
    let oid = tlv::expect(algorithm_id.value, 0x06, "the hash algorithm has no OID").map_err(&e)?;
    let algorithm = HashAlgorithm::from_oid(oid)
        .ok_or_else(|| err(FILE, format!("unsupported hash algorithm {}", oid_to_string(oid))))?;
    let list = lds_next("data group hashes")?;
    let mut hashes = Vec::new();
    for item in tlv::iter(list.value) {
        let item = item.map_err(&e)?;
        let mut parts = tlv::iter(item.value);
        let (Some(Ok(number)), Some(Ok(hash))) = (parts.next(), parts.next()) else {
            return Err(err(FILE, "a DataGroupHash is not { number, hash }"));
        };
        if number.tag != 0x02 || hash.tag != 0x04 {
            return Err(err(FILE, "a DataGroupHash is not { INTEGER, OCTET STRING }"));
        }
        let n = tlv::unsigned(number.value).map_err(&e)?;
        let n = u8::try_from(n).ok().filter(|n| (1..=16).contains(n)).ok_or_else(|| err(FILE, "a data group number is not 1 to 16"))?;
        hashes.push((n, hash.value.to_vec()));
    }
    Ok(SecurityObject { algorithm, hashes, signer_infos })
}

/// Encodes an EF.SOD whose LDSSecurityObject holds these data groups' hashes, with no
/// certificate and no SignerInfo: structurally a CMS SignedData, but unsigned (for simulated
/// cards: the terminal does not verify the signature yet).
pub fn encode_unsigned_sod(algorithm: HashAlgorithm, data_groups: &[(u8, &[u8])]) -> Vec<u8> {
    let lds = encode_lds_security_object(algorithm, data_groups);
    let algorithm_id = tlv::encode(0x30, &tlv::encode(0x06, &algorithm.oid()));
    let mut encap = tlv::encode(0x06, &OID_LDS_SECURITY_OBJECT);
    encap.extend(tlv::encode(0xA0, &tlv::encode(0x04, &lds)));
    let mut signed = tlv::encode_unsigned(3);
    signed.extend(tlv::encode(0x31, &algorithm_id));
    signed.extend(tlv::encode(0x30, &encap));
    signed.extend(tlv::encode(0x31, &[]));
    let mut content_info = tlv::encode(0x06, &OID_SIGNED_DATA);
    content_info.extend(tlv::encode(0xA0, &tlv::encode(0x30, &signed)));
    tlv::encode(0x77, &tlv::encode(0x30, &content_info))
}

/// The LDSSecurityObject (DER) holding these data groups' hashes.
pub fn encode_lds_security_object(algorithm: HashAlgorithm, data_groups: &[(u8, &[u8])]) -> Vec<u8> {
    let algorithm_id = tlv::encode(0x30, &tlv::encode(0x06, &algorithm.oid()));
    let mut list = Vec::new();
    for (n, content) in data_groups {
        let mut item = tlv::encode_unsigned(u64::from(*n));
        item.extend(tlv::encode(0x04, &algorithm.digest(content)));
        list.extend(tlv::encode(0x30, &item));
    }
    let mut lds = tlv::encode_unsigned(0);
    lds.extend(&algorithm_id);
    lds.extend(tlv::encode(0x30, &list));
    tlv::encode(0x30, &lds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_access_of_appendix_g() {
        // ICAO 9303 Part 11 Appendix G.1: one PACEInfo, ECDH-GM AES-128, parameter id 13.
        let bytes = [
            0x31, 0x14, 0x30, 0x12, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02, 0x02, 0x01,
            0x02, 0x02, 0x01, 0x0D,
        ];
        let access = parse_card_access(&bytes).unwrap();
        assert_eq!(access.pace, [PaceInfo::new(PaceMapping::EcdhGeneric, SmCipher::Aes128, 13)]);
        assert_eq!(access.protocols, ["0.4.0.127.0.7.2.2.4.2.2"]);
        assert!(access.pace[0].is_supported());
        assert_eq!(encode_card_access(&access.pace), bytes);
        assert_eq!(access.pace[0].describe(), "PACE ECDH-GM AES-128, parameter id 13 (brainpoolP256r1)");
    }

    #[test]
    fn sod_round_trips_and_dg11_keeps_arabic() {
        let details = PersonalDetails {
            full_name: Some("الهاشمي<<أحمد".into()),
            personal_number: Some("199012344567".into()),
            full_date_of_birth: Some("19900101".into()),
            ..Default::default()
        };
        let dg11 = encode_dg11(&details);
        let parsed = parse_dg11(&dg11).unwrap();
        assert_eq!(parsed, details);
        assert_eq!(parsed.display_name().unwrap(), "الهاشمي أحمد");
        assert!(!format!("{parsed:?}").contains("199012344567"));
        let sod = encode_unsigned_sod(HashAlgorithm::Sha256, &[(1, b"dg1"), (11, &dg11)]);
        let parsed = parse_sod(&sod).unwrap();
        assert_eq!(parsed.algorithm, HashAlgorithm::Sha256);
        assert_eq!(parsed.hash_of(11).unwrap(), HashAlgorithm::Sha256.digest(&dg11));
        assert_eq!(parsed.signer_infos, 0);
        assert_eq!(parse_com(&encode_com(&[1, 11])).unwrap(), [1, 11]);
    }
}
