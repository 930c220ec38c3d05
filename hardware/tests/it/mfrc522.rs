//! MFRC522 driver: byte-exact SPI traffic against embedded-hal-mock, then the same driver on the
//! register-level simulator.

use crate::common;

use common::*;
use embedded_hal_mock::eh1::spi::Mock;
use hardware::iso14443::with_crc_a;
use hardware::mfrc522::{Error, Mfrc522, SimulatedMfrc522, Version, MAX_STATUS_POLLS};
use hardware::{CardEvent, CardPresence, CardReader, ReaderError, SimulatedCard, SimulatedField, Uid};

const HLTA: [u8; 4] = [0x50, 0x00, 0x57, 0xCD];

fn select_frame(sel: u8, part: [u8; 5]) -> Vec<u8> {
    let mut f = vec![sel, 0x70];
    f.extend_from_slice(&part);
    with_crc_a(&f)
}

#[test]
fn init_sends_the_datasheet_sequence() {
    let mut spi = Mock::new(&init_sequence());
    let mut reader = Mfrc522::new(spi.clone());
    assert_eq!(reader.init().unwrap(), Version::V2_0);
    spi.done();
}

#[test]
fn init_rejects_a_chip_that_is_not_an_mfrc522() {
    let expectations = [write(W_COMMAND, 0x0F), read(R_COMMAND, 0x20), read(R_VERSION, 0x00)].concat();
    let mut spi = Mock::new(&expectations);
    let mut reader = Mfrc522::new(spi.clone());
    assert!(matches!(reader.init(), Err(Error::UnknownVersion(0x00))));
    spi.done();
}

#[test]
fn a_reset_that_never_ends_times_out() {
    let mut expectations = write(W_COMMAND, 0x0F);
    for _ in 0..MAX_STATUS_POLLS {
        expectations.extend(read(R_COMMAND, 0x30)); // PowerDown still set
    }
    let mut spi = Mock::new(&expectations);
    let mut reader = Mfrc522::new(spi.clone());
    assert!(matches!(reader.init(), Err(Error::Timeout)));
    spi.done();
}

#[test]
fn poll_with_no_card_is_one_silent_wupa() {
    let mut spi = Mock::new(&transceive_silent(&[0x52], 7));
    let mut reader = Mfrc522::new(spi.clone());
    assert_eq!(reader.poll().unwrap(), None);
    spi.done();
}

#[test]
fn poll_reads_a_single_size_uid_and_halts_the_card() {
    let expectations = [
        transceive(&[0x52], 7, &[0x04, 0x00]),
        transceive(&[0x93, 0x20], 0, &[0xDE, 0xAD, 0xBE, 0xEF, 0x22]),
        // SAK 08 (MIFARE Classic 1K) with its CRC_A B6 DD.
        transceive(&select_frame(0x93, [0xDE, 0xAD, 0xBE, 0xEF, 0x22]), 0, &[0x08, 0xB6, 0xDD]),
        transceive_silent(&HLTA, 0),
    ]
    .concat();
    let mut spi = Mock::new(&expectations);
    let mut reader = Mfrc522::new(spi.clone());
    let card = reader.poll().unwrap().unwrap();
    assert_eq!(card.uid.to_string(), "DEADBEEF");
    assert_eq!(card.atqa, Some(0x0004));
    assert_eq!(card.sak, Some(0x08));
    spi.done();
}

#[test]
fn poll_reads_a_double_size_uid_through_two_cascade_levels() {
    let l1 = [0x88, 0x04, 0xA2, 0x24, 0x88 ^ 0x04 ^ 0xA2 ^ 0x24];
    let l2 = [0x9A, 0x4B, 0x5E, 0x80, 0x9A ^ 0x4B ^ 0x5E ^ 0x80];
    let expectations = [
        transceive(&[0x52], 7, &[0x44, 0x00]),
        transceive(&[0x93, 0x20], 0, &l1),
        // SAK 04: UID not complete, with CRC_A DA 17.
        transceive(&select_frame(0x93, l1), 0, &[0x04, 0xDA, 0x17]),
        transceive(&[0x95, 0x20], 0, &l2),
        // SAK 00 (MIFARE Ultralight) with CRC_A FE 51.
        transceive(&select_frame(0x95, l2), 0, &[0x00, 0xFE, 0x51]),
        transceive_silent(&HLTA, 0),
    ]
    .concat();
    let mut spi = Mock::new(&expectations);
    let mut reader = Mfrc522::new(spi.clone());
    let card = reader.poll().unwrap().unwrap();
    assert_eq!(card.uid.to_string(), "04A2249A4B5E80");
    assert_eq!(card.atqa, Some(0x0044));
    assert_eq!(card.sak, Some(0x00));
    spi.done();
}

#[test]
fn a_wrong_check_byte_is_a_protocol_error() {
    let expectations = [
        transceive(&[0x52], 7, &[0x04, 0x00]),
        transceive(&[0x93, 0x20], 0, &[0xDE, 0xAD, 0xBE, 0xEF, 0x23]),
    ]
    .concat();
    let mut spi = Mock::new(&expectations);
    let mut reader = Mfrc522::new(spi.clone());
    assert!(matches!(reader.poll(), Err(Error::Protocol(_))));
    spi.done();
}

#[test]
fn a_collision_flag_is_reported() {
    let expectations = [
        transceive(&[0x52], 7, &[0x04, 0x00]),
        transceive_start(&[0x93, 0x20], 0),
        read(R_COM_IRQ, 0x66), // RxIRq | ErrIRq
        read(R_ERROR, 0x08),   // CollErr
    ]
    .concat();
    let mut spi = Mock::new(&expectations);
    let mut reader = Mfrc522::new(spi.clone());
    assert!(matches!(reader.poll(), Err(Error::Collision)));
    spi.done();
}

#[test]
fn antenna_off_clears_only_the_tx_bits() {
    let expectations = [read(R_TX_CONTROL, 0x83), write(W_TX_CONTROL, 0x80)].concat();
    let mut spi = Mock::new(&expectations);
    let mut reader = Mfrc522::new(spi.clone());
    reader.antenna_off().unwrap();
    spi.done();
}

// --- On the simulator -------------------------------------------------------------------

fn simulated() -> (Mfrc522<SimulatedMfrc522>, SimulatedField) {
    let field = SimulatedField::new();
    let mut reader = Mfrc522::new(SimulatedMfrc522::new(field.clone()));
    reader.init().unwrap();
    (reader, field)
}

#[test]
fn simulated_reader_reads_every_uid_size() {
    let (mut reader, field) = simulated();
    for hex in ["DEADBEEF", "04A2249A4B5E80", "04112233445566778899"] {
        let uid = Uid::from_hex(hex).unwrap();
        field.clear();
        field.present(SimulatedCard::new(uid));
        let card = reader.poll().unwrap().unwrap();
        assert_eq!(card.uid, uid);
        assert_eq!(card, SimulatedCard::new(uid).card());
    }
}

#[test]
fn a_card_left_on_the_reader_answers_every_poll() {
    let (mut reader, field) = simulated();
    assert_eq!(reader.poll().unwrap(), None);
    let uid = Uid::from_hex("04A2249A4B5E80").unwrap();
    field.present(SimulatedCard::new(uid));
    for _ in 0..3 {
        assert_eq!(reader.poll().unwrap().map(|c| c.uid), Some(uid));
    }
    assert!(field.remove(&uid));
    assert_eq!(reader.poll().unwrap(), None);
}

#[test]
fn two_cards_collide() {
    let (mut reader, field) = simulated();
    field.present(SimulatedCard::new(Uid::from_hex("DEADBEEF").unwrap()));
    field.present(SimulatedCard::new(Uid::from_hex("01020304").unwrap()));
    assert!(matches!(reader.poll(), Err(Error::Collision)));
}

#[test]
fn no_card_is_read_with_the_antenna_off() {
    let (mut reader, field) = simulated();
    field.present(SimulatedCard::new(Uid::from_hex("DEADBEEF").unwrap()));
    reader.antenna_off().unwrap();
    assert_eq!(reader.poll().unwrap(), None);
    reader.antenna_on().unwrap();
    assert!(reader.poll().unwrap().is_some());
}

#[test]
fn without_init_the_timer_never_fires_and_the_driver_times_out() {
    let field = SimulatedField::new();
    let mut reader = Mfrc522::new(SimulatedMfrc522::new(field));
    // No init: TAuto is off, so a transceive nobody answers never ends.
    assert!(matches!(reader.poll(), Err(Error::Timeout)));
}

#[test]
fn nothing_on_the_bus_is_an_unknown_chip() {
    let mut reader = Mfrc522::new(SimulatedMfrc522::with_version(SimulatedField::new(), 0xFF));
    let err = reader.init().unwrap_err();
    assert!(matches!(err, Error::UnknownVersion(0xFF)));
    assert!(matches!(ReaderError::from(err), ReaderError::UnknownChip(_)));
}

#[test]
fn presence_reports_presented_and_removed_once() {
    let (reader, field) = simulated();
    let mut presence = CardPresence::new(reader);
    assert_eq!(presence.poll().unwrap(), None);
    let badge = Uid::from_hex("DEADBEEF").unwrap();
    field.present(SimulatedCard::new(badge));
    assert!(matches!(presence.poll().unwrap(), Some(CardEvent::Presented(c)) if c.uid == badge));
    assert_eq!(presence.poll().unwrap(), None);
    field.remove(&badge);
    // One missed poll is tolerated; the second reports the removal.
    assert_eq!(presence.poll().unwrap(), None);
    assert_eq!(presence.poll().unwrap(), Some(CardEvent::Removed(badge)));
    assert_eq!(presence.poll().unwrap(), None);
}

#[test]
fn presence_reports_a_swapped_card_as_removed_then_presented() {
    let (reader, field) = simulated();
    let mut presence = CardPresence::new(reader);
    let a = Uid::from_hex("DEADBEEF").unwrap();
    let b = Uid::from_hex("04A2249A4B5E80").unwrap();
    field.present(SimulatedCard::new(a));
    assert!(matches!(presence.poll().unwrap(), Some(CardEvent::Presented(_))));
    field.clear();
    field.present(SimulatedCard::new(b));
    assert_eq!(presence.poll().unwrap(), Some(CardEvent::Removed(a)));
    assert!(matches!(presence.poll().unwrap(), Some(CardEvent::Presented(c)) if c.uid == b));
    assert_eq!(presence.reader().describe(), "MFRC522 v2.0");
}
