//! The ID file of an applicant's card (EF 01 01, BER-TLV): whatever a card sends, parsing gives
//! the data or `Malformed`, never a panic; what parses re-encodes to a file that parses the same.
#![no_main]

use hardware::id_card::{encode_ef, parse_ef};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(card) = parse_ef(data) {
        let date = card.date_of_birth.map(|d| format!("{:04}{:02}{:02}", d.year, d.month, d.day));
        let again = parse_ef(&encode_ef(card.national_id.as_str(), date.as_deref())).expect("a re-encoded ID file parses");
        assert_eq!(again, card);
    }
});
