//! Reading a national ID card's eMRTD chip end to end: the simulated chip (`EmrtdChip`) on a
//! simulated card, through both reader chips' simulators (MFRC522 over SPI, PN532 over I2C),
//! ISO-DEP, PACE or BAC, secure messaging, the data groups and their EF.SOD hashes; and every
//! way it can fail.

use crate::common;

use hardware::emrtd::cipher::SmCipher;
use hardware::emrtd::lds::{PaceInfo, PaceMapping};
use hardware::emrtd::secure_messaging::SecureMessaging;
use hardware::emrtd::{
    bac, read_emrtd, read_emrtd_reporting, AccessKey, AttemptOutcome, AuthProtocol, Authentication, EmrtdError,
    EmrtdRead, MrzKey, PasswordKind, ReadOptions, SignatureCheck,
};
use hardware::field::{EmrtdApplicant, EmrtdChip};
use hardware::iso_dep::Ats;
use hardware::{Card, CardReader, ReaderError, SimulatedCard, SimulatedField, Uid};
use rand::SeedableRng;

use common::readers::{on_each_reader, reader, CHIPS};

fn uid() -> Uid {
    Uid::from_hex("08A1B2C3").unwrap()
}

fn applicant() -> EmrtdApplicant {
    EmrtdApplicant::samples().remove(0)
}

fn read(reader: &mut dyn CardReader, key: &AccessKey) -> Result<EmrtdRead, EmrtdError> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    read_emrtd_reporting(reader, key, &ReadOptions::default(), &mut rng).0
}

/// What every successful read of the sample applicant's card must give.
fn check_applicant(chip: &str, read: &EmrtdRead, person: &EmrtdApplicant) {
    assert_eq!(read.dg1.national_number().unwrap().as_str(), person.national_number, "{chip}");
    assert_eq!(read.dg1.document_number(), person.document_number, "{chip}");
    assert_eq!(read.dg1.date_of_birth(), person.date_of_birth, "{chip}");
    assert_eq!(read.dg1.issuing_state(), "IRQ", "{chip}");
    let dg11 = read.dg11.as_ref().unwrap_or_else(|| panic!("{chip}: no DG11"));
    assert_eq!(dg11.full_name.as_deref(), Some(person.full_name.as_str()), "{chip}");
    assert_eq!(dg11.personal_number.as_deref(), Some(person.national_number.as_str()), "{chip}");
    assert_eq!(dg11.full_date_of_birth.as_deref(), Some(person.full_date_of_birth.as_str()), "{chip}");
    assert_eq!(read.sod.data_groups_checked, [1, 11], "{chip}");
    // DG2 (the face image) is never read; nothing but these files is.
    let files: Vec<&str> = read.report.files.iter().map(|f| f.file).collect();
    assert!(files.iter().all(|f| ["EF.CardAccess", "EF.COM", "DG1", "DG11", "EF.SOD"].contains(f)), "{chip}: {files:?}");
    assert!(files.contains(&"DG1") && files.contains(&"EF.SOD"), "{chip}: {files:?}");
    assert!(read.report.files.iter().all(|f| f.largest_chunk <= 0xDF), "{chip}");
}

#[test]
fn a_national_id_card_reads_by_can_with_pace_on_both_readers() {
    let person = applicant();
    let card = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()));
    on_each_reader(&card, |chip, reader, _| {
        let read = read(reader, &person.can_key()).unwrap_or_else(|e| panic!("{chip}: {e}"));
        check_applicant(chip, &read, &person);
        // No CSCA configured: the hashes are checked, the signature is not.
        assert!(matches!(read.sod.signature, SignatureCheck::NotVerified { .. }), "{chip}");
        assert_eq!(
            read.authentication,
            Authentication::Pace { parameter_id: 13, mapping: PaceMapping::EcdhGeneric, cipher: SmCipher::Aes128, password: PasswordKind::Can },
            "{chip}"
        );
        let report = &read.report;
        let offered = report.card_access.as_ref().unwrap();
        assert_eq!(offered.pace, [PaceInfo::new(PaceMapping::EcdhGeneric, SmCipher::Aes128, 13)], "{chip}");
        assert_eq!(report.attempts.len(), 1, "{chip}");
        assert_eq!(report.attempts[0].outcome, AttemptOutcome::Succeeded, "{chip}");
        assert!(report.attempts[0].protocol.contains("brainpoolP256r1") && report.attempts[0].protocol.contains("CAN"), "{chip}");
        // The report has no personal data.
        let shown = format!("{report:?} {read:?}");
        for secret in [&person.national_number, &person.document_number, &person.can, &person.date_of_birth] {
            assert!(!shown.contains(secret.as_str()), "{chip}: {secret} in {shown}");
        }
        assert!(!shown.contains("الهاشمي"), "{chip}");
    });
}

#[test]
fn the_mrz_opens_the_card_with_pace_and_a_bac_only_card_with_bac() {
    let person = EmrtdApplicant::samples().remove(1);
    let key = AccessKey::Mrz(person.mrz_key());
    let pace_card = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()));
    on_each_reader(&pace_card, |chip, reader, _| {
        let read = read(reader, &key).unwrap_or_else(|e| panic!("{chip}: {e}"));
        check_applicant(chip, &read, &person);
        assert!(matches!(read.authentication, Authentication::Pace { password: PasswordKind::Mrz, .. }), "{chip}");
    });
    let bac_card = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()).bac_only());
    on_each_reader(&bac_card, |chip, reader, _| {
        let read = read(reader, &key).unwrap_or_else(|e| panic!("{chip}: {e}"));
        check_applicant(chip, &read, &person);
        assert_eq!(read.authentication, Authentication::Bac, "{chip}");
        assert_eq!(read.report.card_access, None, "{chip}");
        // With only the CAN there is no way in: BAC needs the MRZ.
        let err = self::read(reader, &person.can_key()).unwrap_err();
        assert!(matches!(&err, EmrtdError::Unsupported(why) if why.contains("MRZ")), "{chip}: {err}");
    });
}

#[test]
fn every_supported_pace_parameter_set_and_cipher_works() {
    let person = applicant();
    let cases = [(SmCipher::Aes128, 12), (SmCipher::Aes256, 12), (SmCipher::Aes192, 13), (SmCipher::Tdes, 13), (SmCipher::Aes256, 16), (SmCipher::Aes128, 16)];
    for (cipher, parameter_id) in cases {
        let chip = EmrtdChip::new(person.clone()).with_pace_parameters(cipher, parameter_id).with_seed(parameter_id);
        let card = SimulatedCard::emrtd(uid(), chip);
        let field = SimulatedField::new();
        field.present(card);
        let mut reader = reader("MFRC522", &field);
        reader.poll().unwrap().unwrap();
        for key in [person.can_key(), AccessKey::Mrz(person.mrz_key())] {
            let read = read(&mut *reader, &key).unwrap_or_else(|e| panic!("{cipher:?} {parameter_id}: {e}"));
            check_applicant("MFRC522", &read, &person);
            assert!(
                matches!(read.authentication, Authentication::Pace { parameter_id: p, cipher: c, .. } if p == parameter_id && c == cipher),
                "{cipher:?} {parameter_id}: {:?}",
                read.authentication
            );
        }
    }
}

#[test]
fn of_several_pace_options_the_supported_aes_one_is_chosen_and_named() {
    let person = applicant();
    let options = vec![
        PaceInfo::new(PaceMapping::DhGeneric, SmCipher::Aes128, 2),
        PaceInfo::new(PaceMapping::EcdhGeneric, SmCipher::Tdes, 12),
        PaceInfo::new(PaceMapping::EcdhIntegrated, SmCipher::Aes128, 13),
        PaceInfo::new(PaceMapping::EcdhGeneric, SmCipher::Aes256, 16),
    ];
    let card = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()).with_pace(options));
    on_each_reader(&card, |chip, reader, _| {
        let read = read(reader, &person.can_key()).unwrap_or_else(|e| panic!("{chip}: {e}"));
        assert!(matches!(read.authentication, Authentication::Pace { parameter_id: 16, cipher: SmCipher::Aes256, .. }), "{chip}");
        assert_eq!(read.report.card_access.as_ref().unwrap().pace.len(), 4, "{chip}");
    });
}

#[test]
fn a_wrong_can_or_mrz_is_refused_and_the_right_one_then_works() {
    let person = applicant();
    let wrong_mrz = AccessKey::Mrz(MrzKey::new("A12345679", &person.date_of_birth, &person.date_of_expiry).unwrap());
    let card = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()));
    on_each_reader(&card, |chip, reader, _| {
        for wrong in [AccessKey::can("123457").unwrap(), AccessKey::can("000000").unwrap()] {
            let (result, report) = read_emrtd_reporting(reader, &wrong, &ReadOptions::default(), &mut rand::rngs::OsRng);
            assert_eq!(result.unwrap_err(), EmrtdError::WrongAccessKey { protocol: AuthProtocol::Pace, sw: 0x6300 }, "{chip}");
            assert_eq!(report.attempts[0].outcome, AttemptOutcome::WrongKey { sw: 0x6300 }, "{chip}");
            assert_eq!(report.authentication, None, "{chip}");
        }
        let err = read(reader, &wrong_mrz).unwrap_err();
        assert_eq!(err, EmrtdError::WrongAccessKey { protocol: AuthProtocol::Pace, sw: 0x6300 }, "{chip}");
        assert!(err.to_string().contains("card access number or the MRZ"), "{chip}: {err}");
        check_applicant(chip, &read(reader, &person.can_key()).unwrap(), &person);
    });
    let bac_card = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()).bac_only());
    on_each_reader(&bac_card, |chip, reader, _| {
        assert_eq!(read(reader, &wrong_mrz).unwrap_err(), EmrtdError::WrongAccessKey { protocol: AuthProtocol::Bac, sw: 0x6300 }, "{chip}");
        check_applicant(chip, &read(reader, &AccessKey::Mrz(person.mrz_key())).unwrap(), &person);
    });
}

#[test]
fn a_card_refusing_pace_falls_back_to_bac_with_the_mrz() {
    let person = applicant();
    let card = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()).refusing_pace());
    on_each_reader(&card, |chip, reader, _| {
        let read = read(reader, &AccessKey::Mrz(person.mrz_key())).unwrap_or_else(|e| panic!("{chip}: {e}"));
        assert_eq!(read.authentication, Authentication::Bac, "{chip}");
        let outcomes: Vec<&AttemptOutcome> = read.report.attempts.iter().map(|a| &a.outcome).collect();
        assert_eq!(outcomes, [&AttemptOutcome::Refused { step: "MSE:Set AT", sw: 0x6A80 }, &AttemptOutcome::Succeeded], "{chip}");
        // The CAN has no fallback.
        let err = self::read(reader, &person.can_key()).unwrap_err();
        assert!(matches!(&err, EmrtdError::Unsupported(why) if why.contains("MRZ")), "{chip}: {err}");
    });
}

#[test]
fn a_forged_data_group_is_named() {
    let person = applicant();
    for dg in [1u8, 11] {
        let card = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()).forged(dg));
        on_each_reader(&card, |chip, reader, _| {
            let err = read(reader, &person.can_key()).unwrap_err();
            assert_eq!(err, EmrtdError::HashMismatch { data_group: dg }, "{chip}");
            assert!(err.to_string().contains(&format!("data group {dg}")), "{chip}: {err}");
        });
    }
}

#[test]
fn cards_without_an_emrtd_are_not_an_emrtd() {
    let cards = [
        SimulatedCard::new(Uid::from_hex("DEADBEEF").unwrap()),
        SimulatedCard::iso_dep(uid()),
        SimulatedCard::id_card(uid(), "199012344567", None),
    ];
    for card in cards {
        on_each_reader(&card, |chip, reader, _| {
            let err = read(reader, &AccessKey::Mrz(applicant().mrz_key())).unwrap_err();
            assert_eq!(err, EmrtdError::NotAnEmrtd, "{chip}: {card:?}");
            assert_eq!(read(reader, &applicant().can_key()).unwrap_err(), EmrtdError::NotAnEmrtd, "{chip}");
        });
    }
}

#[test]
fn small_frames_and_a_chip_with_short_reads_still_read() {
    let person = applicant();
    let small = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone())).with_ats(Ats { fsci: 0, fwi: 4, ..Ats::default() });
    on_each_reader(&small, |chip, reader, field| {
        field.record();
        let read = read(reader, &person.can_key()).unwrap_or_else(|e| panic!("{chip}: {e}"));
        check_applicant(chip, &read, &person);
        assert!(field.transcript().iter().all(|(sent, _)| sent.len() <= 16), "{chip}");
    });
    let short = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()).with_max_read(100));
    on_each_reader(&short, |chip, reader, _| {
        let read = read(reader, &AccessKey::Mrz(person.mrz_key())).unwrap_or_else(|e| panic!("{chip}: {e}"));
        check_applicant(chip, &read, &person);
        assert!(read.report.files.iter().all(|f| f.largest_chunk <= 100), "{chip}: {:?}", read.report.files);
        let sod = read.report.files.iter().find(|f| f.file == "EF.SOD").unwrap();
        assert!(sod.bytes > 100 && sod.reads >= 3, "{chip}: {sod:?}");
    });
}

/// A reader whose card is taken off after `left` more exchanges.
struct PulledAfter<'a> {
    inner: &'a mut dyn CardReader,
    field: SimulatedField,
    left: usize,
}

impl CardReader for PulledAfter<'_> {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn poll(&mut self) -> Result<Option<Card>, ReaderError> {
        self.inner.poll()
    }
    fn exchange(&mut self, command: &[u8]) -> Result<Vec<u8>, ReaderError> {
        if self.left == 0 {
            self.field.clear();
        }
        self.left = self.left.saturating_sub(1);
        self.inner.exchange(command)
    }
}

#[test]
fn a_card_pulled_mid_read_is_a_reader_error() {
    let person = applicant();
    let card = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()));
    // 2: while reading EF.CardAccess; 5: during PACE; 12: reading the data groups.
    for after in [2, 5, 12] {
        for chip in CHIPS {
            let field = SimulatedField::new();
            field.present(card.clone());
            let mut inner = reader(chip, &field);
            inner.poll().unwrap().unwrap();
            let mut reader = PulledAfter { inner: &mut *inner, field: field.clone(), left: after };
            let err = read(&mut reader, &person.can_key()).unwrap_err();
            assert!(matches!(err, EmrtdError::Reader(ReaderError::NoCard | ReaderError::Timeout)), "{chip} after {after}: {err:?}");
            assert!(err.to_string().contains("keep the card"), "{err}");
        }
    }
}

#[test]
fn the_chip_ends_the_session_on_an_unprotected_command() {
    // Straight to the card's application, as a virtual PC/SC reader would drive it.
    let person = applicant();
    let mut card = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()).bac_only());
    let mut send = |apdu: &[u8]| card.respond_apdu(apdu).unwrap();
    assert_eq!(send(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x01]), [0x69, 0x82], "DG1 before authentication");
    assert_eq!(send(&[0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01]), [0x90, 0x00]);
    let challenge = send(&[0x00, 0x84, 0x00, 0x00, 0x08]);
    let rnd_ic: [u8; 8] = challenge[..8].try_into().unwrap();
    let keys = bac::BacKeys::from_mrz(&person.mrz_key());
    let (rnd_ifd, k_ifd) = ([0x11; 8], [0x22; 16]);
    let mut apdu = vec![0x00, 0x82, 0x00, 0x00, 0x28];
    apdu.extend_from_slice(&keys.cryptogram(&rnd_ifd, &rnd_ic, &k_ifd).unwrap());
    apdu.push(0x28);
    let answer = send(&apdu);
    assert_eq!(answer[40..], [0x90, 0x00]);
    let mut sm: SecureMessaging = bac::complete(&keys, &answer[..40], &rnd_ic, &rnd_ifd, &k_ifd).unwrap();
    let select_dg1 = sm.protect(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x01]).unwrap();
    assert_eq!(sm.unprotect(&send(&select_dg1)).unwrap(), [0x90, 0x00]);
    // A plain READ BINARY now: 6988, and the session is gone.
    assert_eq!(send(&[0x00, 0xB0, 0x00, 0x00, 0x04]), [0x69, 0x88]);
    let read = sm.protect(&[0x00, 0xB0, 0x00, 0x00, 0x04]).unwrap();
    let answer = send(&read);
    assert_eq!(answer.len(), 2, "no secure messaging any more: {answer:02X?}");
    assert_ne!(answer, [0x90, 0x00]);
}

#[test]
fn the_public_read_uses_the_system_random_numbers() {
    let person = applicant();
    let card = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()));
    on_each_reader(&card, |chip, reader, _| {
        let read = read_emrtd(reader, &person.can_key(), &ReadOptions::default()).unwrap_or_else(|e| panic!("{chip}: {e}"));
        check_applicant(chip, &read, &person);
        assert_eq!(format!("{:?}", person.can_key()), "AccessKey::Can(<redacted>)");
    });
}

#[test]
fn a_technician_can_see_the_card_access_and_force_bac() {
    let person = applicant();
    let options = vec![PaceInfo::new(PaceMapping::EcdhGeneric, SmCipher::Aes128, 12), PaceInfo::new(PaceMapping::EcdhGeneric, SmCipher::Aes256, 13)];
    let card = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()).with_pace(options.clone()));
    on_each_reader(&card, |chip, reader, _| {
        let access = hardware::emrtd::read_card_access(reader).unwrap().unwrap();
        assert_eq!(access.pace, options, "{chip}");
        assert_eq!(access.protocols, ["0.4.0.127.0.7.2.2.4.2.2", "0.4.0.127.0.7.2.2.4.2.4"], "{chip}");
        let bac = ReadOptions { try_pace: false, ..ReadOptions::default() };
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let read = read_emrtd_reporting(reader, &AccessKey::Mrz(person.mrz_key()), &bac, &mut rng).0.unwrap();
        assert_eq!(read.authentication, Authentication::Bac, "{chip}");
        check_applicant(chip, &read, &person);
    });
    let bac_only = SimulatedCard::emrtd(uid(), EmrtdChip::new(person).bac_only());
    on_each_reader(&bac_only, |chip, reader, _| {
        assert_eq!(hardware::emrtd::read_card_access(reader).unwrap(), None, "{chip}");
    });
}

#[test]
fn a_configured_csca_verifies_the_sod_signature_and_catches_another_signer() {
    use hardware::emrtd::signature::TestPki;
    let person = applicant();
    let iraq = TestPki::new("CSCA Iraq (simulated)", 1);
    let other = TestPki::new("CSCA elsewhere (simulated)", 2);
    let card = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()).signed_by(&iraq));
    on_each_reader(&card, |chip, reader, _| {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        // Without a CSCA: hashes checked, signature not verified.
        let read = read_emrtd_reporting(reader, &person.can_key(), &ReadOptions::default(), &mut rng).0.unwrap();
        assert!(matches!(read.sod.signature, SignatureCheck::NotVerified { .. }), "{chip}");
        // With the right CSCA: verified.
        let options = ReadOptions { csca_certificates: vec![other.csca_certificate.clone(), iraq.csca_certificate.clone()], ..ReadOptions::default() };
        let read = read_emrtd_reporting(reader, &person.can_key(), &options, &mut rng).0.unwrap_or_else(|e| panic!("{chip}: {e}"));
        assert_eq!(read.sod.signature, SignatureCheck::Verified { document_signer: "Document Signer (simulated)".into() }, "{chip}");
        check_applicant(chip, &read, &person);
        // With another country's CSCA only: refused.
        let options = ReadOptions { csca_certificates: vec![other.csca_certificate.clone()], ..ReadOptions::default() };
        let err = read_emrtd_reporting(reader, &person.can_key(), &options, &mut rng).0.unwrap_err();
        assert!(matches!(&err, EmrtdError::SodSignature(why) if why.contains("not signed by any configured CSCA")), "{chip}: {err}");
    });
    // An unsigned SOD with a CSCA configured is refused too.
    let unsigned = SimulatedCard::emrtd(uid(), EmrtdChip::new(person.clone()));
    on_each_reader(&unsigned, |chip, reader, _| {
        let options = ReadOptions { csca_certificates: vec![iraq.csca_certificate.clone()], ..ReadOptions::default() };
        let err = read_emrtd_reporting(reader, &person.can_key(), &options, &mut rand::rngs::OsRng).0.unwrap_err();
        assert!(matches!(err, EmrtdError::SodSignature(_)), "{chip}: {err}");
    });
    // A tampered signature: flip one byte of the signature inside EF.SOD.
    let pki_sod = iraq.sign_sod(b"\x30\x03\x02\x01\x00");
    let mut tampered = pki_sod.clone();
    let at = tampered.len() - 3;
    tampered[at] ^= 0x01;
    assert!(hardware::emrtd::signature::verify_sod(&pki_sod, std::slice::from_ref(&iraq.csca_certificate)).is_ok());
    assert!(hardware::emrtd::signature::verify_sod(&tampered, std::slice::from_ref(&iraq.csca_certificate)).is_err());
}
