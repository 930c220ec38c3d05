//! Reading a national ID from a contactless ID card: ISO/IEC 14443-4 blocks byte for byte
//! (on a scripted card, then on embedded-hal-mock for each chip), APDUs and status words, then
//! both drivers end to end on their simulators with ID cards, badges, malformed and
//! misbehaving cards.

use crate::common;

use std::collections::VecDeque;

use common::readers::{on_each_reader, reader, CHIPS};
use common::*;
use embedded_hal::i2c::{ErrorKind, ErrorType as I2cErrorType, I2c, Operation as I2cOp};
use embedded_hal::spi::{ErrorType as SpiErrorType, Operation as SpiOp, SpiDevice};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2cT};
use embedded_hal_mock::eh1::spi::Mock as SpiMock;
use hardware::apdu::{self, ApduError, Command};
use hardware::field::Answer;
use hardware::id_card::{encode_ef, APPLICATION_ID, EF_ID};
use hardware::iso14443::with_crc_a;
use hardware::iso_dep::{self, Ats, Block, Link, Reception, MAX_RETRIES, MAX_WTX};
use hardware::mfrc522::{self, Mfrc522, SimulatedMfrc522};
use hardware::pn532::{self, frame, NoDelay, Pn532, SimulatedPn532, EXCHANGE_READ_LEN, RESPONSE_READ_LEN};
use hardware::{
    read_id_card, read_national_id, Card, CardEvent, CardPresence, CardReader, IdCardError, NationalId, ReaderError,
    SimulatedCard, SimulatedField, Uid,
};

const NATIONAL_ID: &str = "199012344567";

fn id_uid() -> Uid {
    Uid::from_hex("04A2249A4B5E80").unwrap()
}

// --- ISO/IEC 14443-4 on a scripted card --------------------------------------------------

/// Frames the reader sent, each with the wait it asked for (µs).
type Sent = Vec<(Vec<u8>, u32)>;

/// Runs one exchange against scripted answers (silence once they run out).
fn scripted(link: &mut Link, apdu: &[u8], answers: &[Reception]) -> (Result<Vec<u8>, iso_dep::Error<()>>, Sent) {
    let mut answers: VecDeque<Reception> = answers.iter().cloned().collect();
    let mut sent = Vec::new();
    let result = link.exchange(apdu, |frame, wait| {
        sent.push((frame.to_vec(), wait));
        Ok(answers.pop_front().unwrap_or(Reception::Silence))
    });
    (result, sent)
}

fn frame(bytes: &[u8]) -> Reception {
    Reception::Frame(with_crc_a(bytes))
}

fn sent_frames(sent: &[(Vec<u8>, u32)]) -> Vec<Vec<u8>> {
    sent.iter().map(|(f, _)| f.clone()).collect()
}

/// A card with FSC 256 and FWI 4 (FWT 4.8 ms).
fn link() -> Link {
    Link::new(&Ats { fsci: 8, ..Ats::default() }, 64)
}

#[test]
fn activation_frames_are_the_standard_ones() {
    // RATS with FSDI 5 (64 bytes) and CID 0, as every reader trace shows it.
    assert_eq!(iso_dep::rats_frame(iso_dep::FSDI_64, 0), [0xE0, 0x50, 0xBC, 0xA5]);
    assert_eq!(iso_dep::deselect_frame(), [0xC2, 0xE0, 0xB4]);
    assert_eq!(Block::Ack { block_number: 0 }.encode()[0], 0xA2);
    assert_eq!(Block::Ack { block_number: 1 }.encode()[0], 0xA3);
    assert_eq!(Block::Nak { block_number: 0 }.encode()[0], 0xB2);
    assert_eq!(Block::Wtx { inf: 1 }.encode()[..2], [0xF2, 0x01]);
}

#[test]
fn i_blocks_toggle_their_block_number() {
    let mut link = link();
    let (result, sent) = scripted(&mut link, &[0x00, 0xB0, 0x00, 0x00, 0x02], &[frame(&[0x02, 0xAB, 0xCD, 0x90, 0x00])]);
    assert_eq!(result.unwrap(), [0xAB, 0xCD, 0x90, 0x00]);
    assert_eq!(sent_frames(&sent), [with_crc_a(&[0x02, 0x00, 0xB0, 0x00, 0x00, 0x02])]);
    // FWT(FWI 4) + ΔFWT.
    assert_eq!(sent[0].1, 4_833 + 3_625);
    let (result, sent) = scripted(&mut link, &[0x00, 0xB0, 0x00, 0x00, 0x02], &[frame(&[0x03, 0x90, 0x00])]);
    assert_eq!(result.unwrap(), [0x90, 0x00]);
    assert_eq!(sent[0].0[0], 0x03);
    assert_eq!(link.block_number(), 0);
}

#[test]
fn a_long_command_is_chained_and_acknowledged() {
    // FSC 16: 13 bytes of APDU per block.
    let mut link = Link::new(&Ats { fsci: 0, ..Ats::default() }, 64);
    let apdu: Vec<u8> = (0..30).collect();
    let (result, sent) = scripted(
        &mut link,
        &apdu,
        &[frame(&[0xA2]), frame(&[0xA3]), frame(&[0x02, 0x90, 0x00])],
    );
    assert_eq!(result.unwrap(), [0x90, 0x00]);
    let pcbs: Vec<u8> = sent.iter().map(|(f, _)| f[0]).collect();
    assert_eq!(pcbs, [0x12, 0x13, 0x02]);
    assert!(sent.iter().all(|(f, _)| f.len() <= 16));
    let mut carried = Vec::new();
    for (f, _) in &sent {
        carried.extend_from_slice(&f[1..f.len() - 2]);
    }
    assert_eq!(carried, apdu);
}

#[test]
fn a_chained_answer_is_acknowledged_with_r_ack() {
    let mut link = link();
    let (result, sent) = scripted(
        &mut link,
        &[0x00, 0xB0, 0x00, 0x00, 0x05],
        &[frame(&[0x12, 1, 2, 3]), frame(&[0x03, 4, 5, 0x90, 0x00])],
    );
    assert_eq!(result.unwrap(), [1, 2, 3, 4, 5, 0x90, 0x00]);
    assert_eq!(sent_frames(&sent)[1], with_crc_a(&[0xA3]));
    // The next command starts at block number 0 again.
    let (_, sent) = scripted(&mut link, &[0x00], &[frame(&[0x02, 0x90, 0x00])]);
    assert_eq!(sent[0].0[0], 0x02);
}

#[test]
fn wtx_is_answered_by_echoing_the_multiplier_and_extends_the_next_wait() {
    let mut link = link();
    let (result, sent) = scripted(&mut link, &[0x00], &[frame(&[0xF2, 0x03]), frame(&[0x02, 0x90, 0x00])]);
    assert_eq!(result.unwrap(), [0x90, 0x00]);
    assert_eq!(sent[1].0, with_crc_a(&[0xF2, 0x03]));
    assert_eq!(sent[1].1, 3 * 4_833 + 3_625);
}

#[test]
fn a_lost_answer_is_asked_for_again_with_r_nak() {
    let mut link = link();
    let (result, sent) = scripted(&mut link, &[0x00], &[Reception::Silence, frame(&[0x02, 0x90, 0x00])]);
    assert_eq!(result.unwrap(), [0x90, 0x00]);
    assert_eq!(sent[1].0, with_crc_a(&[0xB2]));
}

#[test]
fn a_lost_command_is_sent_again_when_the_card_says_r_ack() {
    let mut link = link();
    // The card never got I(0): it answers R(NAK) with R(ACK) of its own block number 1.
    let (result, sent) = scripted(&mut link, &[0x00], &[Reception::Garbled, frame(&[0xA3]), frame(&[0x02, 0x90, 0x00])]);
    assert_eq!(result.unwrap(), [0x90, 0x00]);
    assert_eq!(sent[1].0, with_crc_a(&[0xB2]));
    assert_eq!(sent[2].0, sent[0].0);
}

#[test]
fn a_card_that_stops_answering_is_an_error_after_the_retries() {
    let mut link = link();
    let (result, sent) = scripted(&mut link, &[0x00], &[]);
    assert!(matches!(result, Err(iso_dep::Error::NoAnswer)));
    assert_eq!(sent.len() as u32, 1 + MAX_RETRIES);
    let (result, _) = scripted(&mut link, &[0x00], &[Reception::Garbled, Reception::Garbled, Reception::Garbled]);
    assert!(matches!(result, Err(iso_dep::Error::Protocol(_))));
}

#[test]
fn a_card_asking_for_time_forever_is_an_error() {
    let mut link = link();
    let mut frames = 0;
    let result = link.exchange(&[0x00], |_, _| {
        frames += 1;
        Ok::<_, ()>(frame(&[0xF2, 0x01]))
    });
    assert!(matches!(result, Err(iso_dep::Error::Protocol(_))), "{result:?}");
    assert_eq!(frames, 1 + MAX_WTX);
}

#[test]
fn a_card_chaining_forever_is_an_error() {
    for inf in [&[0xAAu8; 13][..], &[]] {
        let mut link = link();
        let mut frames = 0u32;
        let result = link.exchange(&[0x00], |_, _| {
            // Always the block number the reader expects, always "more follows".
            let mut block = vec![0x12 | (frames % 2) as u8];
            block.extend_from_slice(inf);
            frames += 1;
            Ok::<_, ()>(frame(&block))
        });
        assert!(matches!(result, Err(iso_dep::Error::Protocol(_))), "{result:?}");
        assert!(frames <= iso_dep::MAX_FRAMES);
    }
}

// --- APDUs through a scripted reader -----------------------------------------------------

/// A reader whose card answers from a script.
#[derive(Default)]
struct ScriptedReader {
    sent: Vec<Vec<u8>>,
    answers: VecDeque<Vec<u8>>,
}

impl ScriptedReader {
    fn answering(answers: &[&[u8]]) -> Self {
        ScriptedReader { sent: Vec::new(), answers: answers.iter().map(|a| a.to_vec()).collect() }
    }
}

impl CardReader for ScriptedReader {
    fn describe(&self) -> String {
        "scripted".into()
    }
    fn poll(&mut self) -> Result<Option<Card>, ReaderError> {
        Ok(None)
    }
    fn exchange(&mut self, command: &[u8]) -> Result<Vec<u8>, ReaderError> {
        self.sent.push(command.to_vec());
        self.answers.pop_front().ok_or(ReaderError::NoCard)
    }
}

#[test]
fn wrong_le_is_retried_with_the_length_the_card_names() {
    let mut reader = ScriptedReader::answering(&[&[0x6C, 0x02], &[0x61, 0x00, 0x90, 0x00]]);
    let data = apdu::transmit(&mut reader, &Command::read_binary(0, 4).unwrap()).unwrap();
    assert_eq!(data, [0x61, 0x00]);
    assert_eq!(reader.sent, [vec![0x00, 0xB0, 0x00, 0x00, 0x04], vec![0x00, 0xB0, 0x00, 0x00, 0x02]]);
}

#[test]
fn more_data_is_fetched_with_get_response() {
    let mut reader = ScriptedReader::answering(&[&[1, 2, 0x61, 0x03], &[3, 4, 5, 0x90, 0x00]]);
    let data = apdu::transmit(&mut reader, &Command::read_binary(0, 2).unwrap()).unwrap();
    assert_eq!(data, [1, 2, 3, 4, 5]);
    assert_eq!(reader.sent[1], [0x00, 0xC0, 0x00, 0x00, 0x03]);
}

#[test]
fn status_words_become_typed_errors() {
    let select = Command::select_ef(EF_ID);
    for (sw, expected) in [
        ([0x6A, 0x82], ApduError::FileNotFound),
        ([0x69, 0x82], ApduError::SecurityNotSatisfied),
        ([0x6F, 0x00], ApduError::Status(0x6F00)),
    ] {
        let mut reader = ScriptedReader::answering(&[&sw]);
        assert_eq!(apdu::transmit(&mut reader, &select), Err(expected));
    }
    assert_eq!(ApduError::Status(0x6F00).to_string(), "the card answered SW 6F00");
    let mut reader = ScriptedReader::answering(&[&[0x90]]);
    assert_eq!(apdu::transmit(&mut reader, &select), Err(ApduError::Truncated));
    // A card that answers 61xx forever.
    let mut reader = ScriptedReader::answering(&[&[0x61u8, 0x01][..]; 40]);
    assert_eq!(apdu::transmit(&mut reader, &select), Err(ApduError::TooManyRounds));
    assert_eq!(reader.sent.len(), apdu::MAX_ROUNDS);
}

#[test]
fn the_profile_is_read_with_select_select_and_read_binary() {
    let ef = encode_ef(NATIONAL_ID, Some("19900101"));
    let mut first = ef[..4].to_vec();
    first.extend_from_slice(&[0x90, 0x00]);
    let mut rest = ef[4..].to_vec();
    rest.extend_from_slice(&[0x90, 0x00]);
    let mut reader = ScriptedReader::answering(&[&[0x90, 0x00], &[0x90, 0x00], &first, &rest]);
    let data = read_id_card(&mut reader).unwrap();
    assert_eq!(data.national_id.as_str(), NATIONAL_ID);
    assert_eq!(data.date_of_birth.unwrap().to_string(), "1990-01-01");
    assert_eq!(
        reader.sent,
        [
            vec![0x00, 0xA4, 0x04, 0x0C, 0x06, 0xF0, 0x53, 0x50, 0x49, 0x44, 0x01],
            vec![0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x01],
            vec![0x00, 0xB0, 0x00, 0x00, 0x04],
            vec![0x00, 0xB0, 0x00, 0x04, 0x16],
        ]
    );
}

#[test]
fn a_card_without_the_application_or_select_is_not_an_id_card() {
    for sw in [[0x6A, 0x82], [0x6D, 0x00], [0x6E, 0x00]] {
        let mut reader = ScriptedReader::answering(&[&sw]);
        assert_eq!(read_national_id(&mut reader), Err(IdCardError::NotAnIdCard));
    }
    let mut reader = ScriptedReader::answering(&[&[0x6F, 0x00]]);
    assert_eq!(read_national_id(&mut reader), Err(IdCardError::Status(0x6F00)));
}

// --- MFRC522 on embedded-hal-mock --------------------------------------------------------

const HLTA: [u8; 4] = [0x50, 0x00, 0x57, 0xCD];
const BADGE_UID: [u8; 5] = [0xDE, 0xAD, 0xBE, 0xEF, 0x22];

/// WUPA, anticollision and SELECT of DEADBEEF answering SAK 0x20.
fn wake_and_select() -> Vec<embedded_hal_mock::eh1::spi::Transaction<u8>> {
    let mut select = vec![0x93, 0x70];
    select.extend_from_slice(&BADGE_UID);
    [
        transceive(&[0x52], 7, &[0x04, 0x00]),
        transceive(&[0x93, 0x20], 0, &BADGE_UID),
        transceive(&with_crc_a(&select), 0, &with_crc_a(&[0x20])),
    ]
    .concat()
}

const SELECT_AID: [u8; 11] = [0x00, 0xA4, 0x04, 0x0C, 0x06, 0xF0, 0x53, 0x50, 0x49, 0x44, 0x01];

fn i_block(pcb: u8, inf: &[u8]) -> Vec<u8> {
    let mut block = vec![pcb];
    block.extend_from_slice(inf);
    with_crc_a(&block)
}

#[test]
fn mfrc522_sends_rats_then_i_blocks_through_its_fifo() {
    // ATS: TL 5, T0 75 (FSCI 5, TA TB TC), TA 00, TB 40 (FWI 4, SFGI 0), TC 02.
    let ats = with_crc_a(&[0x05, 0x75, 0x00, 0x40, 0x02]);
    let expectations = [
        wake_and_select(),
        transceive_silent(&HLTA, 0),
        // First exchange: wake and select again, RATS E0 50, then I(0). FWT 4.8 ms fits in the
        // poll timer, so the timer is not rewritten.
        wake_and_select(),
        transceive(&[0xE0, 0x50, 0xBC, 0xA5], 0, &ats),
        transceive(&i_block(0x02, &SELECT_AID), 0, &i_block(0x02, &[0x90, 0x00])),
        // Second exchange: I(1) on the same link.
        transceive(&i_block(0x03, &[0x00, 0xB0, 0x00, 0x00, 0x01]), 0, &i_block(0x03, &[0x61, 0x90, 0x00])),
        // The next poll deselects the card first, so that it answers WUPA again.
        transceive(&[0xC2, 0xE0, 0xB4], 0, &[0xC2, 0xE0, 0xB4]),
        wake_and_select(),
        transceive_silent(&HLTA, 0),
    ]
    .concat();
    let mut spi = SpiMock::new(&expectations);
    let mut reader = Mfrc522::new(spi.clone());
    assert_eq!(reader.poll().unwrap().unwrap().sak, Some(0x20));
    assert_eq!(reader.exchange(&SELECT_AID).unwrap(), [0x90, 0x00]);
    assert_eq!(reader.exchange(&[0x00, 0xB0, 0x00, 0x00, 0x01]).unwrap(), [0x61, 0x90, 0x00]);
    assert!(reader.poll().unwrap().is_some());
    spi.done();
}

#[test]
fn mfrc522_sets_its_timer_from_the_ats_frame_waiting_time() {
    // TB 80: FWI 8, FWT 77.3 ms + ΔFWT 3.6 ms = 162 ticks of 0.5 ms.
    let ats = with_crc_a(&[0x05, 0x75, 0x00, 0x80, 0x02]);
    let expectations = [
        wake_and_select(),
        transceive_silent(&HLTA, 0),
        wake_and_select(),
        transceive(&[0xE0, 0x50, 0xBC, 0xA5], 0, &ats),
        write(W_T_RELOAD_H, 0x00),
        write(W_T_RELOAD_L, 0xA2),
        transceive(&i_block(0x02, &SELECT_AID), 0, &i_block(0x02, &[0x90, 0x00])),
        // Deselect, then back to the 15 ms poll timer.
        transceive(&[0xC2, 0xE0, 0xB4], 0, &[0xC2, 0xE0, 0xB4]),
        write(W_T_RELOAD_H, 0x00),
        write(W_T_RELOAD_L, 0x1E),
        transceive_silent(&[0x52], 7),
    ]
    .concat();
    let mut spi = SpiMock::new(&expectations);
    let mut reader = Mfrc522::new(spi.clone());
    reader.poll().unwrap().unwrap();
    assert_eq!(reader.exchange(&SELECT_AID).unwrap(), [0x90, 0x00]);
    assert_eq!(reader.poll().unwrap(), None);
    spi.done();
}

#[test]
fn mfrc522_refuses_a_badge_without_sending_anything() {
    let mut select = vec![0x93, 0x70];
    select.extend_from_slice(&BADGE_UID);
    let expectations = [
        transceive(&[0x52], 7, &[0x04, 0x00]),
        transceive(&[0x93, 0x20], 0, &BADGE_UID),
        transceive(&with_crc_a(&select), 0, &with_crc_a(&[0x08])),
        transceive_silent(&HLTA, 0),
    ]
    .concat();
    let mut spi = SpiMock::new(&expectations);
    let mut reader = Mfrc522::new(spi.clone());
    reader.poll().unwrap().unwrap();
    assert!(matches!(reader.exchange(&SELECT_AID), Err(mfrc522::Error::NotIsoDep)));
    spi.done();
    let mut unpolled = Mfrc522::new(SpiMock::new(&[]));
    assert!(matches!(unpolled.exchange(&SELECT_AID), Err(mfrc522::Error::NoCard)));
    unpolled.release().done();
}

// --- PN532 on embedded-hal-mock ----------------------------------------------------------

const PN532_ADDR: u8 = 0x24;

/// One PN532 command exchange, the answer read with `read_len` bytes.
fn pn532_command(payload: &[u8], answer_payload: &[u8], read_len: usize) -> Vec<I2cT> {
    let mut ack = vec![0x01];
    ack.extend_from_slice(&frame::ACK);
    let mut response = vec![0x01];
    response.extend_from_slice(&frame::encode(0xD5, answer_payload));
    response.resize(read_len, 0x00);
    vec![
        I2cT::write(PN532_ADDR, frame::encode(0xD4, payload)),
        I2cT::read(PN532_ADDR, vec![0x01]),
        I2cT::read(PN532_ADDR, ack),
        I2cT::read(PN532_ADDR, vec![0x01]),
        I2cT::read(PN532_ADDR, response),
    ]
}

fn in_list_iso_dep_card() -> Vec<I2cT> {
    // One target: SENS_RES 00 04, SEL_RES 20, NFCID1 DEADBEEF, ATS 05 75 00 40 02.
    pn532_command(
        &[0x4A, 0x01, 0x00],
        &[0x4B, 0x01, 0x01, 0x00, 0x04, 0x20, 0x04, 0xDE, 0xAD, 0xBE, 0xEF, 0x05, 0x75, 0x00, 0x40, 0x02],
        RESPONSE_READ_LEN,
    )
}

fn in_release() -> Vec<I2cT> {
    pn532_command(&[0x52, 0x00], &[0x53, 0x00], RESPONSE_READ_LEN)
}

#[test]
fn pn532_lists_the_card_again_and_exchanges_apdus_with_in_data_exchange() {
    let mut data_exchange = vec![0x40, 0x01];
    data_exchange.extend_from_slice(&SELECT_AID);
    let expectations = [
        in_list_iso_dep_card(),
        in_release(),
        // The first exchange lists it again (the firmware sends RATS), then InDataExchange to
        // target 1; status 00.
        in_list_iso_dep_card(),
        pn532_command(&data_exchange, &[0x41, 0x00, 0x90, 0x00], EXCHANGE_READ_LEN),
        pn532_command(&[0x40, 0x01, 0x00, 0xB0, 0x00, 0x00, 0x01], &[0x41, 0x00, 0x61, 0x90, 0x00], EXCHANGE_READ_LEN),
        // Status 01: the card did not answer. The target is released.
        pn532_command(&[0x40, 0x01, 0x00, 0xB0, 0x00, 0x00, 0x01], &[0x41, 0x01], EXCHANGE_READ_LEN),
        in_release(),
    ]
    .concat();
    let mut i2c = I2cMock::new(&expectations);
    let mut reader = Pn532::new(i2c.clone(), NoDelay);
    assert_eq!(reader.poll().unwrap().unwrap().sak, Some(0x20));
    assert_eq!(reader.exchange(&SELECT_AID).unwrap(), [0x90, 0x00]);
    assert_eq!(reader.exchange(&[0x00, 0xB0, 0x00, 0x00, 0x01]).unwrap(), [0x61, 0x90, 0x00]);
    let err = reader.exchange(&[0x00, 0xB0, 0x00, 0x00, 0x01]).unwrap_err();
    assert!(matches!(err, pn532::Error::Status(0x01)), "{err:?}");
    assert_eq!(ReaderError::from(err), ReaderError::NoCard);
    i2c.done();
}

#[test]
fn pn532_aborts_an_exchange_the_card_never_finishes() {
    let mut expectations = [in_list_iso_dep_card(), in_release(), in_list_iso_dep_card()].concat();
    let mut ack = vec![0x01];
    ack.extend_from_slice(&frame::ACK);
    expectations.extend([
        I2cT::write(PN532_ADDR, frame::encode(0xD4, &[0x40, 0x01, 0x00])),
        I2cT::read(PN532_ADDR, vec![0x01]),
        I2cT::read(PN532_ADDR, ack),
    ]);
    for _ in 0..pn532::EXCHANGE_READY_POLLS {
        expectations.push(I2cT::read(PN532_ADDR, vec![0x00]));
    }
    // The ACK frame aborts the command (UM0701-02 §6.2.1.3), then the target is released.
    expectations.push(I2cT::write(PN532_ADDR, frame::ACK.to_vec()));
    expectations.extend(in_release());
    let mut i2c = I2cMock::new(&expectations);
    let mut reader = Pn532::new(i2c.clone(), NoDelay);
    reader.poll().unwrap().unwrap();
    assert!(matches!(reader.exchange(&[0x00]), Err(pn532::Error::Timeout)));
    i2c.done();
}

// --- Both drivers on their simulators ----------------------------------------------------


#[test]
fn both_readers_read_the_national_id_and_date_of_birth() {
    let card = SimulatedCard::id_card(id_uid(), NATIONAL_ID, Some("19900101"));
    assert_eq!(card.card().sak, Some(0x20));
    on_each_reader(&card, |chip, reader, _| {
        let data = read_id_card(reader).unwrap();
        assert_eq!(data.national_id, NationalId::new(NATIONAL_ID).unwrap(), "{chip}");
        assert_eq!(data.date_of_birth.map(|d| (d.year, d.month, d.day)), Some((1990, 1, 1)), "{chip}");
        // Again on the same link, then through a new poll (deselect, RATS again).
        assert_eq!(read_national_id(reader).unwrap().as_str(), NATIONAL_ID, "{chip}");
        assert!(reader.poll().unwrap().is_some(), "{chip}");
        assert_eq!(read_national_id(reader).unwrap().as_str(), NATIONAL_ID, "{chip}");
    });
}

#[test]
fn a_card_read_between_polls_stays_present() {
    for chip in CHIPS {
        let field = SimulatedField::new();
        let mut presence = CardPresence::new(reader(chip, &field));
        field.present(SimulatedCard::id_card(id_uid(), NATIONAL_ID, None));
        assert!(matches!(presence.poll().unwrap(), Some(CardEvent::Presented(_))), "{chip}");
        for _ in 0..3 {
            assert_eq!(read_national_id(presence.reader()).unwrap().as_str(), NATIONAL_ID, "{chip}");
            assert_eq!(presence.poll().unwrap(), None, "{chip}: the card must not look removed");
        }
        field.clear();
        assert_eq!(presence.poll().unwrap(), None);
        assert_eq!(presence.poll().unwrap(), Some(CardEvent::Removed(id_uid())), "{chip}");
    }
}

#[test]
fn the_simulated_card_answers_rats_and_blocks_from_the_standard() {
    let field = SimulatedField::new();
    field.present(SimulatedCard::id_card(id_uid(), NATIONAL_ID, None));
    let mut reader = reader("MFRC522", &field);
    reader.poll().unwrap();
    field.record();
    assert_eq!(reader.exchange(&SELECT_AID).unwrap(), [0x90, 0x00]);
    let transcript = field.transcript();
    let rats = transcript.iter().find(|(sent, _)| sent[0] == 0xE0).unwrap();
    assert_eq!(rats.0, [0xE0, 0x50, 0xBC, 0xA5]);
    // FSCI 5, FWI 7 with CRC_A.
    assert_eq!(rats.1, Answer::Frame(with_crc_a(&[0x05, 0x75, 0x00, 0x70, 0x02])));
    let (sent, answer) = transcript.last().unwrap();
    assert_eq!(*sent, i_block(0x02, &SELECT_AID));
    assert_eq!(*answer, Answer::Frame(i_block(0x02, &[0x90, 0x00])));
}

#[test]
fn a_badge_is_not_an_id_card() {
    for uid in ["DEADBEEF", "04112233445566"] {
        let badge = SimulatedCard::new(Uid::from_hex(uid).unwrap());
        on_each_reader(&badge, |chip, reader, _| {
            assert_eq!(reader.exchange(&SELECT_AID), Err(ReaderError::NotIsoDep), "{chip}");
            assert_eq!(read_national_id(reader), Err(IdCardError::NotAnIdCard), "{chip}");
        });
    }
}

#[test]
fn a_card_without_the_application_is_not_an_id_card() {
    let bank_card = SimulatedCard::iso_dep(id_uid()).with_application(&[0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10], &[]);
    on_each_reader(&bank_card, |chip, reader, _| {
        assert_eq!(read_national_id(reader), Err(IdCardError::NotAnIdCard), "{chip}");
        // Unknown instruction and class.
        assert_eq!(reader.exchange(&[0x00, 0x12, 0x00, 0x00]).unwrap(), [0x6D, 0x00], "{chip}");
        assert_eq!(reader.exchange(&[0x80, 0xA4, 0x04, 0x0C]).unwrap(), [0x6E, 0x00], "{chip}");
    });
}

#[test]
fn a_locked_card_says_so() {
    let card = SimulatedCard::id_card(id_uid(), NATIONAL_ID, None).locked();
    on_each_reader(&card, |chip, reader, _| {
        assert_eq!(read_national_id(reader), Err(IdCardError::Locked), "{chip}");
    });
}

#[test]
fn malformed_profiles_get_clear_errors() {
    let digits = NATIONAL_ID.as_bytes();
    let mut claims_too_much = vec![0x61, 0x20, 0x80, 0x0C];
    claims_too_much.extend_from_slice(digits);
    let mut wrong_template = vec![0x70, 0x0E, 0x80, 0x0C];
    wrong_template.extend_from_slice(digits);
    let mut inner_too_long = vec![0x61, 0x0E, 0x80, 0x0D];
    inner_too_long.extend_from_slice(digits);
    let cases: [(Vec<u8>, &str); 8] = [
        (encode_ef("19901234456X", None), "not 12 ASCII digits"),
        (encode_ef("12345", None), "not 12 ASCII digits"),
        (encode_ef(NATIONAL_ID, Some("1990-1-1")), "not a YYYYMMDD date"),
        (vec![0x61, 0x0A, 0x81, 0x08, b'1', b'9', b'9', b'0', b'0', b'1', b'0', b'1'], "no national ID"),
        (claims_too_much, "ends before its template"),
        (wrong_template, "template (tag 61)"),
        (inner_too_long, "runs past the end"),
        (vec![0x61], "cut off"),
    ];
    for (ef, message) in cases {
        let card = SimulatedCard::iso_dep(id_uid()).with_application(&APPLICATION_ID, &[(EF_ID, ef.clone())]);
        on_each_reader(&card, |chip, reader, _| {
            let err = read_national_id(reader).unwrap_err();
            assert!(
                matches!(err, IdCardError::Malformed(m) if m.contains(message)),
                "{chip}, EF {ef:02X?}: {err:?} should mention {message:?}"
            );
        });
    }
    let no_ef = SimulatedCard::iso_dep(id_uid()).with_application(&APPLICATION_ID, &[]);
    on_each_reader(&no_ef, |chip, reader, _| {
        assert_eq!(read_national_id(reader), Err(IdCardError::Malformed("the ID application has no EF 01 01")), "{chip}");
    });
}

/// The card's ATS with FSCI 0: 16-byte frames both ways.
fn small_frames(card: SimulatedCard) -> SimulatedCard {
    card.with_ats(Ats { fsci: 0, fwi: 4, ..Ats::default() })
}

fn is_r_ack(frame: &[u8]) -> bool {
    frame.len() == 3 && frame[0] & 0xFE == 0xA2
}

#[test]
fn small_frames_chain_answers_and_commands_both_ways() {
    let card = small_frames(SimulatedCard::id_card(id_uid(), NATIONAL_ID, Some("19900101")));
    on_each_reader(&card, |chip, reader, field| {
        field.record();
        assert_eq!(read_national_id(reader).unwrap().as_str(), NATIONAL_ID, "{chip}");
        let transcript = field.transcript();
        // The 24-byte answer to READ BINARY comes in chained I-blocks, each acknowledged.
        let chained_answers = transcript
            .iter()
            .filter(|(_, answer)| matches!(answer, Answer::Frame(f) if f[0] & 0xF2 == 0x12))
            .count();
        assert!(chained_answers >= 1, "{chip}: {transcript:02X?}");
        assert!(transcript.iter().any(|(sent, _)| is_r_ack(sent)), "{chip}");
        assert!(transcript.iter().all(|(sent, _)| sent.len() <= 16), "{chip}");

        // A 25-byte command goes out in two blocks, the first chained and acknowledged.
        field.record();
        let mut long_select = vec![0x00, 0xA4, 0x04, 0x0C, 0x14];
        long_select.extend_from_slice(&[0xA0; 20]);
        assert_eq!(reader.exchange(&long_select).unwrap(), [0x6A, 0x82], "{chip}");
        let transcript = field.transcript();
        let pcbs: Vec<u8> = transcript.iter().map(|(sent, _)| sent[0] & 0xFE).collect();
        assert_eq!(pcbs, [0x12, 0x02], "{chip}: {transcript:02X?}");
        assert!(matches!(&transcript[0].1, Answer::Frame(f) if is_r_ack(f)), "{chip}");
    });
}

#[test]
fn a_waiting_time_extension_is_granted() {
    let card = SimulatedCard::id_card(id_uid(), NATIONAL_ID, None).with_wtx_requests(1);
    on_each_reader(&card, |chip, reader, field| {
        field.record();
        assert_eq!(read_national_id(reader).unwrap().as_str(), NATIONAL_ID, "{chip}");
        let transcript = field.transcript();
        let wtx = with_crc_a(&[0xF2, 0x01]);
        let asked = transcript.iter().position(|(_, answer)| *answer == Answer::Frame(wtx.clone()));
        let asked = asked.unwrap_or_else(|| panic!("{chip}: no WTX in {transcript:02X?}"));
        assert_eq!(transcript[asked + 1].0, wtx, "{chip}: the reader echoes the WTX");
    });
}

#[test]
fn a_card_asking_for_time_forever_gives_an_error() {
    let card = SimulatedCard::id_card(id_uid(), NATIONAL_ID, None).with_wtx_requests(u32::MAX);
    on_each_reader(&card, |chip, reader, _| {
        let err = read_national_id(reader).unwrap_err();
        assert!(matches!(err, IdCardError::Reader(ReaderError::Protocol(_))), "{chip}: {err:?}");
    });
}

#[test]
fn a_card_replaced_or_never_polled_is_no_card() {
    for chip in CHIPS {
        let field = SimulatedField::new();
        let mut reader = reader(chip, &field);
        assert_eq!(reader.exchange(&SELECT_AID), Err(ReaderError::NoCard), "{chip}");
        field.present(SimulatedCard::id_card(id_uid(), NATIONAL_ID, None));
        reader.poll().unwrap().unwrap();
        field.clear();
        field.present(SimulatedCard::id_card(Uid::from_hex("04010203040506").unwrap(), "000000000000", None));
        assert_eq!(read_national_id(&mut *reader), Err(IdCardError::Reader(ReaderError::NoCard)), "{chip}");
        // The next poll finds the new card, which then reads.
        assert!(reader.poll().unwrap().is_some());
        assert_eq!(read_national_id(&mut *reader).unwrap().as_str(), "000000000000", "{chip}");
    }
}

/// An MFRC522 whose card is taken off the reader when the driver acknowledges the first
/// chained block of an answer: in the middle of an exchange.
struct RemovedMidChain {
    chip: SimulatedMfrc522,
    field: SimulatedField,
}

impl SpiErrorType for RemovedMidChain {
    type Error = core::convert::Infallible;
}

impl SpiDevice<u8> for RemovedMidChain {
    fn transaction(&mut self, operations: &mut [SpiOp<'_, u8>]) -> Result<(), Self::Error> {
        for op in operations.iter() {
            if let SpiOp::Write(bytes) = op {
                if bytes.first() == Some(&W_FIFO_DATA) && is_r_ack(&bytes[1..]) {
                    self.field.clear();
                }
            }
        }
        self.chip.transaction(operations)
    }
}

/// A PN532 whose card is taken off the reader before the second InDataExchange.
struct RemovedBetweenApdus {
    chip: SimulatedPn532,
    field: SimulatedField,
    exchanges: usize,
}

impl I2cErrorType for RemovedBetweenApdus {
    type Error = ErrorKind;
}

impl I2c for RemovedBetweenApdus {
    fn transaction(&mut self, address: u8, operations: &mut [I2cOp<'_>]) -> Result<(), Self::Error> {
        for op in operations.iter() {
            if let I2cOp::Write(bytes) = op {
                if let Ok(frame::Decoded::Information(0xD4, payload)) = frame::decode(bytes) {
                    if payload.first() == Some(&0x40) {
                        self.exchanges += 1;
                        if self.exchanges == 2 {
                            self.field.clear();
                        }
                    }
                }
            }
        }
        self.chip.transaction(address, operations)
    }
}

#[test]
fn a_card_removed_mid_exchange_is_a_reader_error_not_a_hang() {
    let card = small_frames(SimulatedCard::id_card(id_uid(), NATIONAL_ID, None));

    let field = SimulatedField::new();
    field.present(card.clone());
    let mut reader = Mfrc522::new(RemovedMidChain { chip: SimulatedMfrc522::new(field.clone()), field: field.clone() });
    reader.init().unwrap();
    reader.poll().unwrap().unwrap();
    field.record();
    assert_eq!(read_national_id(&mut reader), Err(IdCardError::Reader(ReaderError::NoCard)));
    // The R(ACK) that found the card gone, and its retransmissions: then it gave up.
    let transcript = field.transcript();
    let tail: Vec<_> = transcript.iter().rev().take_while(|(sent, _)| is_r_ack(sent)).collect();
    assert_eq!(tail.len() as u32, 1 + MAX_RETRIES, "{transcript:02X?}");
    assert!(tail.iter().all(|(_, answer)| *answer == Answer::Silent));
    assert_eq!(reader.poll().unwrap(), None);

    let field = SimulatedField::new();
    field.present(card);
    let mut reader = Pn532::new(
        RemovedBetweenApdus { chip: SimulatedPn532::new(field.clone()), field: field.clone(), exchanges: 0 },
        NoDelay,
    );
    reader.init().unwrap();
    reader.poll().unwrap().unwrap();
    assert_eq!(read_national_id(&mut reader), Err(IdCardError::Reader(ReaderError::NoCard)));
    assert_eq!(reader.poll().unwrap(), None);
}
