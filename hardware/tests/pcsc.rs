//! The PC/SC reader against the real pcscd, with Debian's virtual reader vsmartcard-vpcd
//! driven by simulated cards (`hardware::pcsc::virtual_card`): what a USB desk reader does,
//! end to end through the PC/SC stack.
//!
//! Each test starts its own private pcscd (`hardware::pcsc::daemon`), which needs root; as
//! another user the tests say why and pass without running (CI runs as root). The PC/SC
//! client reads the daemon's socket path once per process, so every test uses the same path
//! and they take turns.

mod common;


use common::pcscd::{pcscd, poll_until};
use hardware::pcsc::virtual_card::{atr_of, VirtualCard};
use hardware::pcsc::{ContactlessAtr, PcscError, PcscReader};
use hardware::{read_id_card, read_national_id, Card, CardReader, IdCardError, ReaderError, SimulatedCard, Uid};

fn id_card() -> (Uid, SimulatedCard) {
    let uid = Uid::from_hex("04A2249A4B5E80").unwrap();
    (uid, SimulatedCard::id_card(uid, "199012344567", Some("19900101")))
}

#[test]
fn the_open_id_card_is_read_through_pcscd_and_vpcd() {
    let Some(fixture) = pcscd("Kiosk Desk") else { return };
    let slot = &fixture.daemon.readers()[0];
    let mut reader = PcscReader::open(Some("Kiosk Desk")).unwrap();
    assert_eq!(reader.reader_name().as_deref(), Some(slot.name.as_str()));
    assert!(reader.describe().contains(&slot.name), "{}", reader.describe());
    assert_eq!(reader.poll().unwrap(), None, "no card yet");

    let (uid, card) = id_card();
    let expected_atr = atr_of(&card);
    let mut virtual_card = VirtualCard::new(slot.address);
    virtual_card.insert(card).unwrap();
    let found = poll_until(&mut reader, true).expect("the card shows up in pcscd");
    assert_eq!(found, Card { uid, atqa: None, sak: None }, "the UID comes from GET DATA; ATQA and SAK stay in the reader");
    assert_eq!(reader.activation().atr.as_deref(), Some(expected_atr.as_slice()));
    assert!(matches!(ContactlessAtr::parse(&expected_atr), ContactlessAtr::IsoDep { .. }));

    let data = read_id_card(&mut reader).unwrap();
    assert_eq!(data.national_id.as_str(), "199012344567");
    assert_eq!(data.date_of_birth.map(|d| d.to_string()).as_deref(), Some("1990-01-01"));
    // The card stays connected between polls, and reads again.
    assert_eq!(reader.poll().unwrap(), Some(found));
    assert_eq!(read_national_id(&mut reader).unwrap().as_str(), "199012344567");
}

#[test]
fn a_card_taken_off_the_reader_gives_no_card() {
    let Some(fixture) = pcscd("Kiosk Desk") else { return };
    let mut reader = PcscReader::open(None).unwrap();
    let mut virtual_card = VirtualCard::new(fixture.daemon.readers()[0].address);
    virtual_card.insert(id_card().1).unwrap();
    poll_until(&mut reader, true).expect("the card shows up");

    // Pulled while the reader still holds it: the next APDU finds it gone.
    assert!(virtual_card.is_inserted());
    virtual_card.remove();
    assert!(!virtual_card.is_inserted());
    let select = [0x00, 0xA4, 0x04, 0x0C, 0x06, 0xF0, 0x53, 0x50, 0x49, 0x44, 0x01];
    assert_eq!(reader.exchange(&select), Err(ReaderError::NoCard));
    assert_eq!(poll_until(&mut reader, false), None, "pcscd sees the card gone");
    assert_eq!(read_national_id(&mut reader), Err(IdCardError::Reader(ReaderError::NoCard)));

    // Put back, it is found again.
    virtual_card.insert(id_card().1).unwrap();
    poll_until(&mut reader, true).expect("the card shows up again");
    assert_eq!(read_national_id(&mut reader).unwrap().as_str(), "199012344567");
}

#[test]
fn a_badge_is_found_but_takes_no_apdus() {
    let Some(fixture) = pcscd("Kiosk Desk") else { return };
    let mut reader = PcscReader::open(None).unwrap();
    let uid = Uid::from_hex("DEADBEEF").unwrap();
    let mut virtual_card = VirtualCard::new(fixture.daemon.readers()[0].address);
    virtual_card.insert(SimulatedCard::new(uid)).unwrap();
    assert_eq!(poll_until(&mut reader, true).map(|c| c.uid), Some(uid));
    let atr = reader.activation().atr.expect("an ATR");
    assert_eq!(ContactlessAtr::parse(&atr), ContactlessAtr::StorageCard { standard: 0x03, card_name: 0x0001 });
    assert_eq!(read_national_id(&mut reader), Err(IdCardError::NotAnIdCard));
}

#[test]
fn the_reader_name_filter_picks_the_reader() {
    let Some(fixture) = pcscd("Staff Desk") else { return };
    let readers = fixture.daemon.readers().to_vec();
    assert_eq!(readers.len(), 2, "{readers:?}");
    let second = &readers[1];
    assert!(second.name.starts_with("Staff Desk") && second.name.ends_with("01"), "{readers:?}");
    let mut virtual_card = VirtualCard::new(second.address);
    let (uid, card) = id_card();
    virtual_card.insert(card).unwrap();

    // Without a filter: the first reader, which has no card.
    let mut first = PcscReader::open(None).unwrap();
    assert_eq!(first.reader_name().as_deref(), Some(readers[0].name.as_str()));
    // The card's reader, by part of its name.
    let mut chosen = PcscReader::open(Some("Desk 00 01")).unwrap();
    assert_eq!(chosen.reader_name().as_deref(), Some(second.name.as_str()));
    assert_eq!(poll_until(&mut chosen, true).map(|c| c.uid), Some(uid));
    assert_eq!(first.poll().unwrap(), None);

    let err = PcscReader::open(Some("ACR122")).unwrap_err();
    assert!(matches!(&err, PcscError::NoMatchingReader { readers, .. } if readers.len() == 2), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("\"ACR122\"") && message.contains("hardware.reader.pcsc_reader") && message.contains(&readers[0].name), "{message}");
}
