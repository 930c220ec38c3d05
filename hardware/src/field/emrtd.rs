//! A simulated ICAO 9303 eMRTD chip, as on the Iraqi national card: EF.CardAccess in the master
//! file, the LDS1 application with EF.COM, DG1, DG11 and EF.SOD, opened by PACE (generic
//! mapping, ECDH) and/or BAC, then secure messaging only.
//!
//! | state | command | answer |
//! | --- | --- | --- |
//! | any, no session | SELECT `01 1C`, READ BINARY | EF.CardAccess (6A82 on a BAC-only card) |
//! | any, no session | SELECT AID `A0 00 00 02 47 10 01` | 9000 |
//! | no session | MSE:Set AT, 4 × General Authenticate | PACE; a wrong password gives 6300 at step 4 and no session |
//! | LDS1 selected, no session | GET CHALLENGE, EXTERNAL AUTHENTICATE | BAC; a wrong key gives 6300 |
//! | no session | SELECT / READ BINARY of an LDS file | 6982 |
//! | session | protected SELECT, READ BINARY | the file, 6282 at its end; 6A82 for files it lacks |
//! | session | anything unprotected, or a bad MAC | 6988 in the clear, and the session is over |
//!
//! The chip's random numbers (RND.IC, K.IC, the nonce, its PACE keys) come from a ChaCha20
//! generator with a fixed seed ([`EmrtdChip::with_seed`]), so tests repeat.
//!
//! EF.SOD holds correct SHA-256 hashes of DG1 and DG11; it is unsigned (no SignerInfo, no
//! certificate) unless [`EmrtdChip::signed_by`] gives it a simulated document signer
//! ([`TestPki`]). [`EmrtdChip::forged`] alters a data group after its hash was taken.

use core::fmt;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::CardApplication;
use crate::emrtd::cipher::SmCipher;
use crate::emrtd::lds::{self, HashAlgorithm, PaceInfo, PaceMapping, PersonalDetails};
use crate::emrtd::mrz::{build_td1, MrzKey};
use crate::emrtd::pace::{self, PaceCurve, PacePassword};
use crate::emrtd::secure_messaging::SecureMessaging;
use crate::emrtd::signature::TestPki;
use crate::emrtd::{bac, AccessKey, EF_CARD_ACCESS, EF_COM, EF_DG1, EF_DG11, EF_SOD, LDS1_AID};
use crate::tlv;

/// A sample applicant whose national ID card the simulator carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmrtdApplicant {
    /// Document number (printed; 9 characters).
    pub document_number: String,
    /// Card access number (6 digits printed on the card).
    pub can: String,
    /// Date of birth, `YYMMDD` (MRZ).
    pub date_of_birth: String,
    /// Full date of birth, `YYYYMMDD` (DG11).
    pub full_date_of_birth: String,
    /// Date of expiry, `YYMMDD`.
    pub date_of_expiry: String,
    /// `M` or `F`.
    pub sex: char,
    /// Surname as the MRZ transliterates it.
    pub mrz_surname: String,
    /// Given names as the MRZ transliterates them.
    pub mrz_given_names: String,
    /// The 12-digit national number (MRZ optional data, DG11 personal number).
    pub national_number: String,
    /// Full name in Arabic script, ICAO style: surname `<<` given names (DG11).
    pub full_name: String,
    /// Place of birth (DG11).
    pub place_of_birth: String,
}

impl EmrtdApplicant {
    /// The sample applicants: fictitious people with Iraqi-style cards.
    pub fn samples() -> Vec<EmrtdApplicant> {
        vec![
            EmrtdApplicant {
                document_number: "A12345678".into(),
                can: "123456".into(),
                date_of_birth: "900101".into(),
                full_date_of_birth: "19900101".into(),
                date_of_expiry: "310101".into(),
                sex: 'M',
                mrz_surname: "AL HASHIMI".into(),
                mrz_given_names: "AHMED".into(),
                national_number: "199012344567".into(),
                full_name: "الهاشمي<<أحمد".into(),
                place_of_birth: "البصرة".into(),
            },
            EmrtdApplicant {
                document_number: "B87654321".into(),
                can: "654321".into(),
                date_of_birth: "850321".into(),
                full_date_of_birth: "19850321".into(),
                date_of_expiry: "300615".into(),
                sex: 'F',
                mrz_surname: "AL ZUBAIDI".into(),
                mrz_given_names: "FATIMA".into(),
                national_number: "198503218765".into(),
                full_name: "الزبيدي<<فاطمة".into(),
                place_of_birth: "بغداد".into(),
            },
        ]
    }

    /// The TD1 MRZ of the card.
    pub fn mrz(&self) -> String {
        build_td1(
            "IRQ",
            &self.document_number,
            &self.national_number,
            &self.date_of_birth,
            self.sex,
            &self.date_of_expiry,
            "IRQ",
            &self.mrz_surname,
            &self.mrz_given_names,
        )
    }

    /// The MRZ access key printed on the card.
    pub fn mrz_key(&self) -> MrzKey {
        // The sample fields are valid MRZ fields.
        MrzKey::new(&self.document_number, &self.date_of_birth, &self.date_of_expiry).expect("sample MRZ fields are valid")
    }

    /// The CAN as an access key.
    pub fn can_key(&self) -> AccessKey {
        AccessKey::can(&self.can).expect("sample CAN is digits")
    }

    /// DG11's content.
    pub fn personal_details(&self) -> PersonalDetails {
        PersonalDetails {
            full_name: Some(self.full_name.clone()),
            personal_number: Some(self.national_number.clone()),
            full_date_of_birth: Some(self.full_date_of_birth.clone()),
            place_of_birth: Some(self.place_of_birth.clone()),
            ..PersonalDetails::default()
        }
    }
}

/// How far PACE has got.
#[derive(Clone)]
enum PaceState {
    /// MSE:Set AT accepted.
    Set { info: PaceInfo, password: u8 },
    /// Nonce sent.
    Nonce { info: PaceInfo, nonce: Vec<u8> },
    /// Generator mapped.
    Mapped { info: PaceInfo, generator: Vec<u8> },
    /// Keys agreed.
    Agreed { info: PaceInfo, shared: Vec<u8>, card_public: Vec<u8>, reader_public: Vec<u8> },
}

#[derive(Clone)]
enum Auth {
    None,
    Pace(PaceState),
    BacChallenge([u8; 8]),
    Session(SecureMessaging),
}

/// The simulated chip. Build it with [`EmrtdChip::new`] and the `with_`/`without_` options, then
/// put it on a card with [`SimulatedCard::emrtd`](super::SimulatedCard::emrtd).
#[derive(Clone)]
pub struct EmrtdChip {
    applicant: EmrtdApplicant,
    pace: Vec<PaceInfo>,
    bac: bool,
    refuse_pace: bool,
    max_read: usize,
    files: Vec<([u8; 2], Vec<u8>)>,
    card_access: Option<Vec<u8>>,
    signer: Option<TestPki>,
    forged: Option<u8>,
    with_dg11: bool,
    seed: u64,
    rng: ChaCha20Rng,
    auth: Auth,
    lds1_selected: bool,
    selected: Option<[u8; 2]>,
}

impl fmt::Debug for EmrtdChip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.auth {
            Auth::None => "no session",
            Auth::Pace(_) => "PACE under way",
            Auth::BacChallenge(_) => "BAC under way",
            Auth::Session(_) => "secure messaging",
        };
        f.debug_struct("EmrtdChip")
            .field("pace", &self.pace.iter().map(PaceInfo::describe).collect::<Vec<_>>())
            .field("bac", &self.bac)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

const OK: u16 = 0x9000;

/// A step's answer (data, SW) and the state after it.
type Step = ((Vec<u8>, u16), Option<Auth>);

fn answer(data: &[u8], sw: u16) -> Vec<u8> {
    let mut out = data.to_vec();
    out.extend_from_slice(&sw.to_be_bytes());
    out
}

impl EmrtdChip {
    /// The chip of `applicant`'s card: PACE ECDH-GM AES-128 on brainpoolP256r1 (parameter id
    /// 13) and BAC, DG1, DG11, EF.SOD (SHA-256).
    pub fn new(applicant: EmrtdApplicant) -> EmrtdChip {
        let mut chip = EmrtdChip {
            applicant,
            pace: vec![PaceInfo::new(PaceMapping::EcdhGeneric, SmCipher::Aes128, 13)],
            bac: true,
            refuse_pace: false,
            max_read: 256,
            files: Vec::new(),
            card_access: None,
            signer: None,
            forged: None,
            with_dg11: true,
            seed: 0x1CA0_9303,
            rng: ChaCha20Rng::seed_from_u64(0x1CA0_9303),
            auth: Auth::None,
            lds1_selected: false,
            selected: None,
        };
        chip.build_files();
        chip
    }

    /// The first sample applicant's chip.
    pub fn sample() -> EmrtdChip {
        EmrtdChip::new(EmrtdApplicant::samples().remove(0))
    }

    /// The applicant.
    pub fn applicant(&self) -> &EmrtdApplicant {
        &self.applicant
    }

    fn build_files(&mut self) {
        let (with_dg11, forged) = (self.with_dg11, self.forged);
        let dg1 = lds::encode_dg1(&self.applicant.mrz());
        let dg11 = with_dg11.then(|| lds::encode_dg11(&self.applicant.personal_details()));
        let mut hashed: Vec<(u8, &[u8])> = vec![(1, &dg1)];
        if let Some(dg11) = &dg11 {
            hashed.push((11, dg11));
        }
        let sod = match &self.signer {
            Some(pki) => pki.sign_sod(&lds::encode_lds_security_object(HashAlgorithm::Sha256, &hashed)),
            None => lds::encode_unsigned_sod(HashAlgorithm::Sha256, &hashed),
        };
        let com = lds::encode_com(if with_dg11 { &[1, 11] } else { &[1] });
        let alter = |mut file: Vec<u8>| {
            // Change the last character: the TLV stays well-formed, the hash no longer matches.
            if let Some(last) = file.last_mut() {
                *last = if *last == b'<' { b'X' } else { b'<' };
            }
            file
        };
        let (dg1, dg11) = match forged {
            Some(1) => (alter(dg1), dg11),
            Some(11) => (dg1, dg11.map(alter)),
            _ => (dg1, dg11),
        };
        self.files = vec![(EF_COM, com), (EF_DG1, dg1), (EF_SOD, sod)];
        if let Some(dg11) = dg11 {
            self.files.push((EF_DG11, dg11));
        }
        self.card_access = (!self.pace.is_empty()).then(|| lds::encode_card_access(&self.pace));
    }

    /// Offers these PACE options in EF.CardAccess (none: a BAC-only card, without
    /// EF.CardAccess).
    pub fn with_pace(mut self, options: Vec<PaceInfo>) -> EmrtdChip {
        self.pace = options;
        self.card_access = (!self.pace.is_empty()).then(|| lds::encode_card_access(&self.pace));
        self
    }

    /// Offers PACE ECDH-GM with this cipher on this parameter id only.
    pub fn with_pace_parameters(self, cipher: SmCipher, parameter_id: u64) -> EmrtdChip {
        self.with_pace(vec![PaceInfo::new(PaceMapping::EcdhGeneric, cipher, parameter_id)])
    }

    /// A card with BAC only: no EF.CardAccess, no PACE.
    pub fn bac_only(self) -> EmrtdChip {
        self.with_pace(Vec::new())
    }

    /// A card that refuses BAC (PACE only, as newer cards).
    pub fn without_bac(mut self) -> EmrtdChip {
        self.bac = false;
        self
    }

    /// A card that lists PACE in EF.CardAccess but refuses MSE:Set AT (6A80), so readers fall
    /// back to BAC.
    pub fn refusing_pace(mut self) -> EmrtdChip {
        self.refuse_pace = true;
        self
    }

    /// No DG11 on the card.
    pub fn without_dg11(mut self) -> EmrtdChip {
        self.with_dg11 = false;
        self.build_files();
        self
    }

    /// Data group `dg` (1 or 11) altered after EF.SOD was made: its hash no longer matches.
    pub fn forged(mut self, dg: u8) -> EmrtdChip {
        self.forged = Some(dg);
        self.build_files();
        self
    }

    /// EF.SOD signed by the document signer of `pki` (whose CSCA certificate a reader can be
    /// configured with).
    pub fn signed_by(mut self, pki: &TestPki) -> EmrtdChip {
        self.signer = Some(pki.clone());
        self.build_files();
        self
    }

    /// READ BINARY asking for more than `max` bytes gets 6700 (wrong length), as some chips
    /// answer, so readers must retry with less.
    pub fn with_max_read(mut self, max: usize) -> EmrtdChip {
        self.max_read = max.clamp(1, 256);
        self
    }

    /// Seeds the chip's random numbers.
    pub fn with_seed(mut self, seed: u64) -> EmrtdChip {
        self.seed = seed;
        self.rng = ChaCha20Rng::seed_from_u64(seed);
        self
    }

    fn drop_session(&mut self) {
        self.auth = Auth::None;
    }

    fn file(&self, id: [u8; 2]) -> Option<&[u8]> {
        if id == EF_CARD_ACCESS {
            return self.card_access.as_deref();
        }
        self.files.iter().find(|(f, _)| *f == id).map(|(_, c)| &c[..])
    }

    /// A plain command's answer (data, SW), inside or outside a session.
    fn process(&mut self, apdu: &[u8], in_session: bool) -> (Vec<u8>, u16) {
        let Some((&[cla, ins, p1, p2], body)) = apdu.split_first_chunk::<4>() else { return (Vec::new(), 0x6700) };
        let (data, le) = match body {
            [] => (&[][..], None),
            [le] => (&[][..], Some(*le)),
            [lc, rest @ ..] if *lc != 0 && rest.len() == usize::from(*lc) => (rest, None),
            [lc, rest @ ..] if *lc != 0 && rest.len() == usize::from(*lc) + 1 => (&rest[..usize::from(*lc)], rest.last().copied()),
            _ => return (Vec::new(), 0x6700),
        };
        match (cla & !0x10, ins) {
            (0x00, 0xA4) if p1 == 0x04 => {
                if data == LDS1_AID {
                    self.lds1_selected = true;
                    self.selected = None;
                    (Vec::new(), OK)
                } else {
                    (Vec::new(), 0x6A82)
                }
            }
            (0x00, 0xA4) if p1 == 0x02 || p1 == 0x00 => {
                let Ok(id) = <[u8; 2]>::try_from(data) else { return (Vec::new(), 0x6A86) };
                let readable = in_session || id == EF_CARD_ACCESS;
                match self.file(id) {
                    Some(_) if readable => {
                        self.selected = Some(id);
                        (Vec::new(), OK)
                    }
                    Some(_) => (Vec::new(), 0x6982),
                    None => (Vec::new(), 0x6A82),
                }
            }
            (0x00, 0xB0) => {
                let Some(le) = le else { return (Vec::new(), 0x6700) };
                let Some(id) = self.selected else { return (Vec::new(), 0x6986) };
                if !in_session && id != EF_CARD_ACCESS {
                    return (Vec::new(), 0x6982);
                }
                let wanted = if le == 0 { 256 } else { usize::from(le) };
                if wanted > self.max_read {
                    return (Vec::new(), 0x6700);
                }
                let content = self.file(id).unwrap_or_default();
                let offset = usize::from(u16::from_be_bytes([p1 & 0x7F, p2]));
                if offset >= content.len() {
                    return (Vec::new(), 0x6B00);
                }
                let end = (offset + wanted).min(content.len());
                let sw = if end - offset < wanted { 0x6282 } else { OK };
                (content[offset..end].to_vec(), sw)
            }
            (0x00, 0x22) if !in_session && p1 == 0xC1 && p2 == 0xA4 => self.mse_set_at(data),
            (0x00, 0x86) if !in_session => self.general_authenticate(data),
            (0x00, 0x84) if !in_session => {
                if !self.bac {
                    return (Vec::new(), 0x6D00);
                }
                if !self.lds1_selected {
                    return (Vec::new(), 0x6985);
                }
                let mut rnd_ic = [0u8; 8];
                self.rng.fill_bytes(&mut rnd_ic);
                self.auth = Auth::BacChallenge(rnd_ic);
                (rnd_ic.to_vec(), OK)
            }
            (0x00, 0x82) if !in_session => self.external_authenticate(data),
            (0x00, _) => (Vec::new(), 0x6D00),
            _ => (Vec::new(), 0x6E00),
        }
    }

    fn mse_set_at(&mut self, data: &[u8]) -> (Vec<u8>, u16) {
        self.drop_session();
        if self.pace.is_empty() {
            return (Vec::new(), 0x6D00);
        }
        if self.refuse_pace {
            return (Vec::new(), 0x6A80);
        }
        let (Ok(Some(oid)), Ok(Some(password))) = (tlv::find(data, 0x80), tlv::find(data, 0x83)) else {
            return (Vec::new(), 0x6A80);
        };
        let parameter = tlv::find(data, 0x84).ok().flatten().and_then(|v| tlv::unsigned(v).ok());
        let candidates: Vec<&PaceInfo> = self.pace.iter().filter(|p| p.protocol == oid).collect();
        // Without the parameter id a card with several options cannot choose: it refuses.
        let info = match parameter {
            Some(id) => candidates.into_iter().find(|p| p.parameter_id == Some(id)),
            None if candidates.len() == 1 => candidates.into_iter().next(),
            None => None,
        };
        let Some(info) = info.filter(|i| i.is_supported()).cloned() else { return (Vec::new(), 0x6A80) };
        let Some(&reference @ (1 | 2)) = password.first() else { return (Vec::new(), 0x6A80) };
        self.auth = Auth::Pace(PaceState::Set { info, password: reference });
        (Vec::new(), OK)
    }

    fn pace_password(&self, reference: u8) -> PacePassword {
        if reference == 2 {
            PacePassword::can(&self.applicant.can)
        } else {
            PacePassword::mrz(&self.applicant.mrz_key())
        }
    }

    fn general_authenticate(&mut self, data: &[u8]) -> (Vec<u8>, u16) {
        let state = match std::mem::replace(&mut self.auth, Auth::None) {
            Auth::Pace(state) => state,
            _ => return (Vec::new(), 0x6985),
        };
        match self.pace_step(state, data) {
            Ok((reply, next)) => {
                if let Some(next) = next {
                    self.auth = next;
                }
                reply
            }
            Err(sw) => (Vec::new(), sw),
        }
    }

    /// One General Authenticate step: the answer and the next state.
    fn pace_step(&mut self, state: PaceState, data: &[u8]) -> Result<Step, u16> {
        let inner = tlv::expect(data, 0x7C, "").map_err(|_| 0x6A80u16)?;
        let field = |tag: u32| tlv::find(inner, tag).ok().flatten().map(<[u8]>::to_vec).ok_or(0x6A80u16);
        let curve_of = |info: &PaceInfo| info.parameter_id.and_then(PaceCurve::from_parameter_id).ok_or(0x6A80u16);
        let cipher_of = |info: &PaceInfo| info.cipher().ok_or(0x6A80u16);
        let dyn_data = |tag: u32, value: &[u8]| tlv::encode(0x7C, &tlv::encode(tag, value));
        match state {
            PaceState::Set { info, password } => {
                let cipher = cipher_of(&info)?;
                let mut nonce = vec![0u8; cipher.block_len()];
                self.rng.fill_bytes(&mut nonce);
                let kpi = self.pace_password(password).key(cipher);
                let z = pace::encrypt_nonce(cipher, &kpi, &nonce).map_err(|_| 0x6F00u16)?;
                Ok(((dyn_data(0x80, &z), OK), Some(Auth::Pace(PaceState::Nonce { info, nonce }))))
            }
            PaceState::Nonce { info, nonce } => {
                let curve = curve_of(&info)?;
                let reader_map = field(0x81)?;
                let key = curve.random_private_key(&mut self.rng).map_err(|_| 0x6F00u16)?;
                let public = curve.mul(None, &key).map_err(|_| 0x6F00u16)?;
                let h = curve.mul(Some(&reader_map), &key).map_err(|_| 0x6A80u16)?;
                let generator = curve.map_generator(&nonce, &h).map_err(|_| 0x6A80u16)?;
                Ok(((dyn_data(0x82, &public), OK), Some(Auth::Pace(PaceState::Mapped { info, generator }))))
            }
            PaceState::Mapped { info, generator } => {
                let curve = curve_of(&info)?;
                let reader_public = field(0x83)?;
                let key = curve.random_private_key(&mut self.rng).map_err(|_| 0x6F00u16)?;
                let card_public = curve.mul(Some(&generator), &key).map_err(|_| 0x6F00u16)?;
                if card_public == reader_public {
                    return Err(0x6A80);
                }
                let shared = curve.shared_x(&key, &reader_public).map_err(|_| 0x6A80u16)?.to_vec();
                let reply = dyn_data(0x84, &card_public);
                Ok(((reply, OK), Some(Auth::Pace(PaceState::Agreed { info, shared, card_public, reader_public }))))
            }
            PaceState::Agreed { info, shared, card_public, reader_public } => {
                let cipher = cipher_of(&info)?;
                let token = field(0x85)?;
                let (sm, k_mac) = pace::session(cipher, &shared).map_err(|_| 0x6F00u16)?;
                let expected = pace::authentication_token(cipher, &k_mac, &info.protocol, &card_public).map_err(|_| 0x6F00u16)?;
                if token != expected {
                    // A wrong password: the reader mapped another generator.
                    return Err(0x6300);
                }
                let ours = pace::authentication_token(cipher, &k_mac, &info.protocol, &reader_public).map_err(|_| 0x6F00u16)?;
                Ok(((dyn_data(0x86, &ours), OK), Some(Auth::Session(sm))))
            }
        }
    }

    fn external_authenticate(&mut self, data: &[u8]) -> (Vec<u8>, u16) {
        let Auth::BacChallenge(rnd_ic) = std::mem::replace(&mut self.auth, Auth::None) else {
            return (Vec::new(), 0x6985);
        };
        let keys = bac::BacKeys::from_mrz(&self.applicant.mrz_key());
        let Ok((rnd_ifd, echo, k_ifd)) = keys.open(data) else { return (Vec::new(), 0x6300) };
        if echo != rnd_ic {
            return (Vec::new(), 0x6300);
        }
        let mut k_ic = [0u8; 16];
        self.rng.fill_bytes(&mut k_ic);
        let (Ok(cryptogram), Ok(sm)) = (keys.cryptogram(&rnd_ic, &rnd_ifd, &k_ic), bac::session(&k_ifd, &k_ic, &rnd_ic, &rnd_ifd))
        else {
            return (Vec::new(), 0x6F00);
        };
        self.auth = Auth::Session(sm);
        (cryptogram.to_vec(), OK)
    }
}

impl CardApplication for EmrtdChip {
    fn respond(&mut self, command_apdu: &[u8]) -> Vec<u8> {
        if matches!(self.auth, Auth::Session(_)) {
            let Auth::Session(mut sm) = std::mem::replace(&mut self.auth, Auth::None) else { return answer(&[], 0x6F00) };
            let protected = command_apdu.first().is_some_and(|cla| cla & 0x0C == 0x0C);
            let Ok(plain) = sm.open_command(command_apdu).map_err(|_| ()).and_then(|p| if protected { Ok(p) } else { Err(()) }) else {
                // Unprotected, or a bad MAC: the session ends (ICAO 9303 Part 11 §9.8.6.2).
                return answer(&[], 0x6988);
            };
            let (data, sw) = self.process(&plain, true);
            let sealed = sm.seal_response(&data, sw);
            self.auth = Auth::Session(sm);
            return sealed.unwrap_or_else(|_| answer(&[], 0x6F00));
        }
        let (data, sw) = self.process(command_apdu, false);
        answer(&data, sw)
    }

    fn reset(&mut self) {
        self.auth = Auth::None;
        self.lds1_selected = false;
        self.selected = None;
    }

    fn clone_box(&self) -> Box<dyn CardApplication> {
        Box::new(self.clone())
    }
}
