//! The national ID card's eMRTD chip read through the real PC/SC stack: a private pcscd with
//! Debian's virtual reader vsmartcard-vpcd, the simulated chip (`EmrtdChip`) answering from a
//! [`VirtualCard`], and `hardware::emrtd` over [`PcscReader`] — what a USB desk reader does.
//!
//! Like `tests/pcsc.rs`, each test starts its own private pcscd (root only; as another user
//! the tests say why and pass without running) on one socket path per process, in turns.

mod common;


use hardware::emrtd::{read_emrtd, read_emrtd_reporting, AccessKey, AttemptOutcome, Authentication, EmrtdError, EmrtdRead, PasswordKind, ReadOptions};
use hardware::field::{EmrtdApplicant, EmrtdChip};
use common::pcscd::{pcscd, poll_until, Fixture};
use hardware::pcsc::virtual_card::VirtualCard;
use hardware::pcsc::PcscReader;
use hardware::{Card, CardReader, Activation, ReaderError, SimulatedCard, Uid};
use rand::SeedableRng;

/// The virtual reader with `chip` on it, polled.
fn card_on_reader(fixture: &Fixture, chip: EmrtdChip) -> (VirtualCard, PcscReader) {
    let mut virtual_card = VirtualCard::new(fixture.daemon.readers()[0].address);
    virtual_card.insert(SimulatedCard::emrtd(Uid::from_hex("08A1B2C3").unwrap(), chip)).unwrap();
    let mut reader = PcscReader::open(Some("Desk Reader")).unwrap();
    poll_until(&mut reader, true).expect("the card never showed up in pcscd");
    (virtual_card, reader)
}

fn check(read: &EmrtdRead, person: &EmrtdApplicant) {
    assert_eq!(read.dg1.national_number().unwrap().as_str(), person.national_number);
    assert_eq!(read.dg1.document_number(), person.document_number);
    let dg11 = read.dg11.as_ref().expect("DG11");
    assert_eq!(dg11.full_name.as_deref(), Some(person.full_name.as_str()));
    assert_eq!(read.sod.data_groups_checked, [1, 11]);
    // Full-size reads went through pcscd and vpcd in one piece each.
    let dg11_file = read.report.files.iter().find(|f| f.file == "DG11").expect("DG11 in the report");
    assert!(dg11_file.bytes > 0 && dg11_file.largest_chunk > 4, "{:?}", read.report.files);
}

#[test]
fn a_national_id_card_reads_through_pcscd_by_can_and_by_mrz() {
    let Some(fixture) = pcscd("Desk Reader") else { return };
    let person = EmrtdApplicant::samples().remove(0);
    let (_card, mut reader) = card_on_reader(&fixture, EmrtdChip::new(person.clone()));

    let read = read_emrtd(&mut reader, &person.can_key(), &ReadOptions::default()).unwrap_or_else(|e| panic!("by CAN: {e}\n{}", fixture.daemon.log()));
    check(&read, &person);
    assert!(matches!(read.authentication, Authentication::Pace { parameter_id: 13, password: PasswordKind::Can, .. }), "{:?}", read.authentication);

    // The same card again, now by the MRZ: the earlier session's state must not get in the way.
    let read = read_emrtd(&mut reader, &AccessKey::Mrz(person.mrz_key()), &ReadOptions::default()).unwrap_or_else(|e| panic!("by MRZ: {e}"));
    check(&read, &person);
    assert!(matches!(read.authentication, Authentication::Pace { password: PasswordKind::Mrz, .. }), "{:?}", read.authentication);

    // A wrong CAN is refused as such, and the right one still opens the card afterwards.
    let wrong = read_emrtd(&mut reader, &AccessKey::can("000000").unwrap(), &ReadOptions::default()).unwrap_err();
    assert!(matches!(wrong, EmrtdError::WrongAccessKey { .. }), "{wrong}");
    let read = read_emrtd(&mut reader, &person.can_key(), &ReadOptions::default()).unwrap_or_else(|e| panic!("by CAN after a wrong one: {e}"));
    check(&read, &person);
}

#[test]
fn a_bac_only_card_reads_through_pcscd_by_mrz() {
    let Some(fixture) = pcscd("Desk Reader") else { return };
    let person = EmrtdApplicant::samples().remove(1);
    let (_card, mut reader) = card_on_reader(&fixture, EmrtdChip::new(person.clone()).bac_only());
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let (read, report) = read_emrtd_reporting(&mut reader, &AccessKey::Mrz(person.mrz_key()), &ReadOptions::default(), &mut rng);
    let read = read.unwrap_or_else(|e| panic!("BAC: {e}\n{report:?}"));
    check(&read, &person);
    assert_eq!(read.authentication, Authentication::Bac);
    assert_eq!(report.card_access, None);
    assert_eq!(report.attempts.last().map(|a| &a.outcome), Some(&AttemptOutcome::Succeeded));
}

/// A reader that takes the card off the virtual reader once `remaining` exchanges have gone
/// through: the applicant lifting the card mid-read.
struct PulledAfter<'a> {
    reader: &'a mut PcscReader,
    card: &'a mut VirtualCard,
    remaining: u32,
}

impl CardReader for PulledAfter<'_> {
    fn poll(&mut self) -> Result<Option<Card>, ReaderError> {
        self.reader.poll()
    }
    fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ReaderError> {
        if self.remaining == 0 {
            self.card.remove();
        }
        self.remaining = self.remaining.saturating_sub(1);
        self.reader.exchange(apdu)
    }
    fn activation(&self) -> Activation {
        self.reader.activation()
    }
    fn describe(&self) -> String {
        self.reader.describe()
    }
}

#[test]
fn a_card_pulled_mid_read_gives_a_reader_error() {
    let Some(fixture) = pcscd("Desk Reader") else { return };
    let person = EmrtdApplicant::samples().remove(0);
    let (mut card, mut reader) = card_on_reader(&fixture, EmrtdChip::new(person.clone()));
    // Past PACE (CardAccess, MSE, four General Authenticates, SELECT) into the data groups.
    let mut pulled = PulledAfter { reader: &mut reader, card: &mut card, remaining: 12 };
    let err = read_emrtd(&mut pulled, &person.can_key(), &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, EmrtdError::Reader(ReaderError::NoCard)), "{err:?}");
    assert!(err.to_string().contains("keep the card flat on the reader"), "{err}");
}
