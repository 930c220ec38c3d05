//! What an eMRTD chip sends: EF.CardAccess, EF.COM, DG1, DG11, EF.SOD (hashes, and the
//! signature's CMS and X.509 structures) and secure messaging responses. The first byte picks the parser; whatever the rest is, parsing gives a value or
//! an error, never a panic, and what parses re-encodes to bytes that parse the same.
#![no_main]

use hardware::emrtd::cipher::SmCipher;
use hardware::emrtd::lds;
use hardware::emrtd::secure_messaging::SecureMessaging;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    match selector % 7 {
        0 => {
            if let Ok(access) = lds::parse_card_access(bytes) {
                let _ = access.preferred_pace().map(|p| p.describe());
                let again = lds::parse_card_access(&lds::encode_card_access(&access.pace)).expect("re-encoded EF.CardAccess parses");
                assert_eq!(again.pace, access.pace);
            }
        }
        1 => {
            if let Ok(dgs) = lds::parse_com(bytes) {
                let known: Vec<u8> = dgs.iter().copied().filter(|dg| lds::tag_of_data_group(*dg).is_some()).collect();
                assert_eq!(lds::parse_com(&lds::encode_com(&known)).expect("re-encoded EF.COM parses"), known);
            }
        }
        2 => {
            if let Ok(mrz) = lds::parse_dg1(bytes) {
                let again = lds::parse_dg1(&lds::encode_dg1(mrz.as_str())).expect("re-encoded DG1 parses");
                assert_eq!(again, mrz);
                let _ = (mrz.national_number(), mrz.name(), mrz.key());
            }
        }
        3 => {
            if let Ok(details) = lds::parse_dg11(bytes) {
                let again = lds::parse_dg11(&lds::encode_dg11(&details)).expect("re-encoded DG11 parses");
                assert_eq!(again, details);
                let _ = details.display_name();
            }
        }
        4 => {
            if let Ok(sod) = lds::parse_sod(bytes) {
                let _ = sod.hash_of(1);
            }
            let _ = hardware::emrtd::signature::verify_sod(bytes, &[bytes.to_vec()]);
        }
        5 => {
            let _ = hardware::emrtd::signature::parse_certificate(bytes);
        }
        _ => {
            // A response under a 3DES session and under an AES one.
            for cipher in [SmCipher::Tdes, SmCipher::Aes128] {
                let key = vec![0x5A; cipher.key_len()];
                let mut sm = SecureMessaging::new(cipher, &key, &key, &vec![0; cipher.block_len()]).expect("valid session");
                let _ = sm.unprotect(bytes);
                let _ = sm.open_command(bytes);
            }
        }
    }
});
