//! CRC_A and BCC against the worked examples of ISO/IEC 14443-3.

use hardware::iso14443::{bcc, crc_a, crc_a_ok, hlta_frame};

#[test]
fn crc_a_matches_the_standard_examples() {
    // ISO/IEC 14443-3 Annex B.
    assert_eq!(crc_a(&[0x00, 0x00]), [0xA0, 0x1E]);
    assert_eq!(crc_a(&[0x12, 0x34]), [0x26, 0xCF]);
}

#[test]
fn hlta_frame_is_the_well_known_one() {
    // HLTA is 50 00 57 CD on every reader trace.
    assert_eq!(hlta_frame(), vec![0x50, 0x00, 0x57, 0xCD]);
    assert!(crc_a_ok(&[0x50, 0x00, 0x57, 0xCD]));
    assert!(!crc_a_ok(&[0x50, 0x00, 0x57, 0xCE]));
}

#[test]
fn bcc_is_the_xor_of_the_uid_part() {
    assert_eq!(bcc(&[0x88, 0x04, 0xA2, 0x24]), 0x88 ^ 0x04 ^ 0xA2 ^ 0x24);
    assert_eq!(bcc(&[0xDE, 0xAD, 0xBE, 0xEF]), 0x22);
}
