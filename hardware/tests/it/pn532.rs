//! PN532 driver: byte-exact I2C frames from the user manual (UM0701-02) against
//! embedded-hal-mock, then the same driver on the simulator.

use embedded_hal_mock::eh1::i2c::{Mock, Transaction as I2c};
use hardware::pn532::frame::{decode, encode, Decoded, FrameError};
use hardware::pn532::{Error, NoDelay, Pn532, SimulatedPn532, RESPONSE_READ_LEN};
use hardware::{CardReader, SimulatedCard, SimulatedField, Uid};

const ADDR: u8 = 0x24;
const ACK: [u8; 6] = [0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00];

/// One command exchange: write the frame, poll RDY, read the ACK, poll RDY, read the answer.
fn exchange(command: &[u8], answer: &[u8]) -> Vec<I2c> {
    let mut ack = vec![0x01];
    ack.extend_from_slice(&ACK);
    let mut response = vec![0x01];
    response.extend_from_slice(answer);
    response.resize(RESPONSE_READ_LEN, 0x00);
    vec![
        I2c::write(ADDR, command.to_vec()),
        I2c::read(ADDR, vec![0x01]),
        I2c::read(ADDR, ack),
        I2c::read(ADDR, vec![0x00]), // not ready yet: polled again
        I2c::read(ADDR, vec![0x01]),
        I2c::read(ADDR, response),
    ]
}

fn init_exchanges() -> Vec<I2c> {
    [
        // SAMConfiguration normal mode, timeout 0x14, no IRQ.
        exchange(
            &[0x00, 0x00, 0xFF, 0x05, 0xFB, 0xD4, 0x14, 0x01, 0x14, 0x00, 0x03, 0x00],
            &[0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x15, 0x16, 0x00],
        ),
        // GetFirmwareVersion → PN532 (IC 0x32) v1.6, support 7.
        exchange(
            &[0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00],
            &[0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00],
        ),
        // RFConfiguration MaxRetries FF 01 02.
        exchange(
            &[0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD4, 0x32, 0x05, 0xFF, 0x01, 0x02, 0xF3, 0x00],
            &[0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x33, 0xF8, 0x00],
        ),
    ]
    .concat()
}

const IN_LIST: [u8; 11] = [0x00, 0x00, 0xFF, 0x04, 0xFC, 0xD4, 0x4A, 0x01, 0x00, 0xE1, 0x00];

#[test]
fn init_configures_the_sam_and_checks_the_firmware() {
    let mut i2c = Mock::new(&init_exchanges());
    let mut reader = Pn532::new(i2c.clone(), NoDelay);
    let fw = reader.init().unwrap();
    assert_eq!((fw.ic, fw.version, fw.revision, fw.support), (0x32, 1, 6, 7));
    i2c.done();
}

#[test]
fn poll_lists_one_target_and_releases_it() {
    let expectations = [
        exchange(
            &IN_LIST,
            // One target: Tg 1, SENS_RES 00 04, SEL_RES 08, 4-byte NFCID1 DE AD BE EF.
            &[0x00, 0x00, 0xFF, 0x0C, 0xF4, 0xD5, 0x4B, 0x01, 0x01, 0x00, 0x04, 0x08, 0x04, 0xDE, 0xAD, 0xBE, 0xEF, 0x96, 0x00],
        ),
        // InRelease all targets.
        exchange(
            &[0x00, 0x00, 0xFF, 0x03, 0xFD, 0xD4, 0x52, 0x00, 0xDA, 0x00],
            &[0x00, 0x00, 0xFF, 0x03, 0xFD, 0xD5, 0x53, 0x00, 0xD8, 0x00],
        ),
    ]
    .concat();
    let mut i2c = Mock::new(&expectations);
    let mut reader = Pn532::new(i2c.clone(), NoDelay);
    let card = reader.poll().unwrap().unwrap();
    assert_eq!(card.uid.to_string(), "DEADBEEF");
    assert_eq!((card.atqa, card.sak), (Some(0x0004), Some(0x08)));
    i2c.done();
}

#[test]
fn poll_with_no_target_is_none() {
    let expectations = exchange(&IN_LIST, &[0x00, 0x00, 0xFF, 0x03, 0xFD, 0xD5, 0x4B, 0x00, 0xE0, 0x00]);
    let mut i2c = Mock::new(&expectations);
    let mut reader = Pn532::new(i2c.clone(), NoDelay);
    assert_eq!(reader.poll().unwrap(), None);
    i2c.done();
}

#[test]
fn a_corrupt_answer_is_a_frame_error() {
    // DCS off by one.
    let expectations = exchange(&IN_LIST, &[0x00, 0x00, 0xFF, 0x03, 0xFD, 0xD5, 0x4B, 0x00, 0xE1, 0x00]);
    let mut i2c = Mock::new(&expectations);
    let mut reader = Pn532::new(i2c.clone(), NoDelay);
    assert!(matches!(reader.poll(), Err(Error::Frame(FrameError::DataChecksum))));
    i2c.done();
}

#[test]
fn the_error_frame_is_a_rejection() {
    let expectations = exchange(&IN_LIST, &[0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00]);
    let mut i2c = Mock::new(&expectations);
    let mut reader = Pn532::new(i2c.clone(), NoDelay);
    assert!(matches!(reader.poll(), Err(Error::Rejected)));
    i2c.done();
}

#[test]
fn frames_round_trip_and_checksums_are_checked() {
    let frame = encode(0xD4, &[0x4A, 0x01, 0x00]);
    assert_eq!(frame, IN_LIST);
    assert_eq!(decode(&frame), Ok(Decoded::Information(0xD4, vec![0x4A, 0x01, 0x00])));
    assert_eq!(decode(&ACK), Ok(Decoded::Ack));
    let mut bad = frame.clone();
    bad[4] ^= 1;
    assert_eq!(decode(&bad), Err(FrameError::LengthChecksum));
    assert_eq!(decode(&[0x00, 0x00, 0x00]), Err(FrameError::NoStartCode));
}

#[test]
fn a_pn532_that_never_gets_ready_times_out() {
    let mut expectations = vec![I2c::write(ADDR, IN_LIST.to_vec())];
    for _ in 0..hardware::pn532::MAX_READY_POLLS {
        expectations.push(I2c::read(ADDR, vec![0x00]));
    }
    let mut i2c = Mock::new(&expectations);
    let mut reader = Pn532::new(i2c.clone(), NoDelay);
    assert!(matches!(reader.poll(), Err(Error::Timeout)));
    i2c.done();
}

#[test]
fn simulated_pn532_reads_cards_of_every_uid_size() {
    let field = SimulatedField::new();
    let mut reader = Pn532::new(SimulatedPn532::new(field.clone()), NoDelay);
    reader.init().unwrap();
    assert_eq!(CardReader::describe(&reader), "PN532 firmware 1.6");
    assert_eq!(reader.poll().unwrap(), None);
    for hex in ["DEADBEEF", "04A2249A4B5E80", "04112233445566778899"] {
        let uid = Uid::from_hex(hex).unwrap();
        field.clear();
        field.present(SimulatedCard::new(uid));
        assert_eq!(reader.poll().unwrap(), Some(SimulatedCard::new(uid).card()));
    }
    let (sim, _) = reader.release();
    // SAM, firmware, RF config, then InList (+ InRelease after each card found).
    assert_eq!(sim.commands(), &[0x14, 0x02, 0x32, 0x4A, 0x4A, 0x52, 0x4A, 0x52, 0x4A, 0x52]);
}
