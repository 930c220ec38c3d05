//! The worked examples of ICAO Doc 9303 Part 11 (8th edition), byte for byte, computed with the
//! eMRTD module's own code:
//!
//! - Appendix D (BAC and secure messaging, 3DES): D.1 key derivation from the MRZ
//!   `L898902C<369080619406236`, D.3 the BAC exchange and session keys, D.4 SELECT EF.COM and
//!   two READ BINARYs under secure messaging, responses and their MACs;
//! - Appendix G (PACE, generic mapping, ECDH on brainpoolP256r1, AES-128): the password from the
//!   MRZ `T22000129<364081251010318`, the nonce, the mapping key pairs, the mapped generator,
//!   the ephemeral keys, the shared secret, KSenc/KSmac and the authentication tokens, and the
//!   card's whole APDU transcript replayed through the reader.
//!
//! The values are the ones printed in the ICAO document; the copies cross-checked here are in
//! the test suites of the open-source eMRTD readers gmrtd (Go: cryptoutils/kdf_test.go,
//! pace/pace_test.go) and dmrtd (Dart, ZeroPass: test/pace_test.dart, test/crypto_test.dart),
//! which reproduce them from the ICAO document. Only the published numbers are taken.

use hardware::emrtd::bac::{self, BacKeys};
use hardware::emrtd::cipher::{self, SmCipher};
use hardware::emrtd::kdf::{self, kdf};
use hardware::emrtd::lds::{self, PaceInfo, PaceMapping};
use hardware::emrtd::pace::{self, PaceCurve, PacePassword, PasswordKind};
use hardware::emrtd::secure_messaging::{SecureMessaging, SmError};
use hardware::emrtd::MrzKey;

fn h(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

// --- Appendix D: BAC and secure messaging ---------------------------------------------------

#[test]
fn appendix_d1_keys_from_the_mrz() {
    // ICAO 9303 Part 11 Appendix D.1.
    let key = MrzKey::from_key_string("L898902C<369080619406236").unwrap();
    assert_eq!(&key.information()[..], b"L898902C<369080619406236");
    let seed = kdf::bac_key_seed(&key);
    assert_eq!(seed[..], h("239AB9CB282DAF66231DC5A4DF6BFBAE"));
    let keys = BacKeys::from_mrz(&key);
    assert_eq!(keys.k_enc(), h("AB94FDECF2674FDFB9B391F85D7F76F2"));
    assert_eq!(keys.k_mac(), h("7962D9ECE03D1ACD4C76089DCE131543"));
}

#[test]
fn appendix_d3_basic_access_control() {
    // ICAO 9303 Part 11 Appendix D.3.
    let keys = BacKeys::from_seed(&h("239AB9CB282DAF66231DC5A4DF6BFBAE"));
    let rnd_ic: [u8; 8] = h("4608F91988702212").try_into().unwrap();
    let rnd_ifd: [u8; 8] = h("781723860C06C226").try_into().unwrap();
    let k_ifd: [u8; 16] = h("0B795240CB7049B01C19B33E32804F0B").try_into().unwrap();
    let cryptogram = keys.cryptogram(&rnd_ifd, &rnd_ic, &k_ifd).unwrap();
    // EIFD and MIFD: the EXTERNAL AUTHENTICATE data.
    assert_eq!(cryptogram[..32], h("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"));
    assert_eq!(cryptogram[32..], h("5F1448EEA8AD90A7"));
    // The card's answer, checked and decrypted: RND.IC, RND.IFD, K.IC.
    let answer = h("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449");
    let (first, second, k_ic) = keys.open(&answer).unwrap();
    assert_eq!((first, second), (rnd_ic, rnd_ifd));
    assert_eq!(k_ic[..], h("0B4F80323EB3191CB04970CB4052790B"));
    // The session keys from KSseed = K.IFD xor K.IC = 0036D272F5C350ACAC50C3F572D23600.
    let seed: Vec<u8> = k_ifd.iter().zip(k_ic.iter()).map(|(a, b)| a ^ b).collect();
    assert_eq!(seed, h("0036D272F5C350ACAC50C3F572D23600"));
    assert_eq!(kdf(&seed, kdf::ENC, SmCipher::Tdes)[..], h("979EC13B1CBFE9DCD01AB0FED307EAE5"));
    assert_eq!(kdf(&seed, kdf::MAC, SmCipher::Tdes)[..], h("F1CB1F1FB5ADF208806B89DC579DC1F8"));
    let sm = bac::complete(&keys, &answer, &rnd_ic, &rnd_ifd, &k_ifd).unwrap();
    assert_eq!(sm.ssc(), h("887022120C06C226"));
    // A flipped bit in the card's MAC is refused.
    let mut tampered = answer.clone();
    tampered[39] ^= 1;
    assert!(matches!(bac::complete(&keys, &tampered, &rnd_ic, &rnd_ifd, &k_ifd), Err(bac::BacError::BadMac)));
}

fn appendix_d_session() -> SecureMessaging {
    SecureMessaging::new(
        SmCipher::Tdes,
        &h("979EC13B1CBFE9DCD01AB0FED307EAE5"),
        &h("F1CB1F1FB5ADF208806B89DC579DC1F8"),
        &h("887022120C06C226"),
    )
    .unwrap()
}

#[test]
fn appendix_d4_secure_messaging() {
    // ICAO 9303 Part 11 Appendix D.4: the reader's side.
    let mut sm = appendix_d_session();
    // SELECT EF.COM.
    assert_eq!(sm.protect(&h("00A4020C02011E")).unwrap(), h("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"));
    assert_eq!(sm.ssc(), h("887022120C06C227"));
    assert_eq!(sm.unprotect(&h("990290008E08FA855A5D4C50A8ED9000")).unwrap(), h("9000"));
    assert_eq!(sm.ssc(), h("887022120C06C228"));
    // READ BINARY of the first four bytes.
    assert_eq!(sm.protect(&h("00B0000004")).unwrap(), h("0CB000000D9701048E08ED6705417E96BA5500"));
    assert_eq!(
        sm.unprotect(&h("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000")).unwrap(),
        h("60145F01 9000")
    );
    // READ BINARY of the remaining 18 bytes from offset 4.
    assert_eq!(sm.protect(&h("00B0000412")).unwrap(), h("0CB000040D9701128E082EA28A70F3C7B53500"));
    assert_eq!(
        sm.unprotect(&h("871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000")).unwrap(),
        h("04303130365F36063034303030305C026175 9000")
    );
    assert_eq!(sm.ssc(), h("887022120C06C22C"));
}

#[test]
fn appendix_d4_from_the_card_side_and_a_bad_mac() {
    // The same exchange as the chip sees it: the card opens the reader's commands and seals
    // its answers into exactly the bytes of Appendix D.4.
    let mut card = appendix_d_session();
    assert_eq!(card.open_command(&h("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")).unwrap(), h("00A4020C02011E"));
    assert_eq!(card.seal_response(&[], 0x9000).unwrap(), h("990290008E08FA855A5D4C50A8ED9000"));
    assert_eq!(card.open_command(&h("0CB000000D9701048E08ED6705417E96BA5500")).unwrap(), h("00B0000004"));
    assert_eq!(card.seal_response(&h("60145F01"), 0x9000).unwrap(), h("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"));

    // A response whose MAC is one bit off is refused, and so is a replayed command.
    let mut reader = appendix_d_session();
    reader.protect(&h("00A4020C02011E")).unwrap();
    assert_eq!(reader.unprotect(&h("990290008E08FA855A5D4C50A8EC9000")), Err(SmError::BadMac));
    let mut card = appendix_d_session();
    card.open_command(&h("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")).unwrap();
    assert_eq!(card.open_command(&h("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")), Err(SmError::BadMac));
}

#[test]
fn appendix_d_primitives() {
    // D.4: the encrypted data of SELECT EF.COM (3DES CBC, IV zero, padded 011E).
    let encrypted = cipher::tdes_cbc_encrypt(&h("979EC13B1CBFE9DCD01AB0FED307EAE5"), &[0; 8], &cipher::pad(&h("011E"), 8)).unwrap();
    assert_eq!(encrypted, h("6375432908C044F6"));
    // D.4: the MAC of SELECT EF.COM over N = SSC || padded header || DO87, padded.
    let n = h("887022120C06C2270CA4020C800000008709016375432908C044F68000000000");
    assert_eq!(cipher::retail_mac(&h("F1CB1F1FB5ADF208806B89DC579DC1F8"), &n).unwrap()[..], h("BF8B92D635FF24F8"));
}

// --- Appendix G: PACE, generic mapping, ECDH, brainpoolP256r1, AES-128 -------------------------

const G_NONCE_ENCRYPTED: &str = "95A3A016522EE98D01E76CB6B98B42C3";
const G_NONCE: &str = "3F00C4D39D153F2B2A214A078D899B22";
const G_MAP_SK_IFD: &str = "7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99";
const G_MAP_PK_IFD: &str = "04 7ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E
                            544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D";
const G_MAP_SK_IC: &str = "498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560";
const G_MAP_PK_IC: &str = "04 824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57
                           30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54";
const G_H: &str = "04 60332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5
                   0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181";
const G_GENERATOR: &str = "04 8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2
                           8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522";
const G_EPH_SK_IFD: &str = "A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595";
const G_EPH_PK_IFD: &str = "04 2DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C
                            3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462";
const G_EPH_SK_IC: &str = "107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A";
const G_EPH_PK_IC: &str = "04 9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB
                           7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094";
const G_SHARED: &str = "28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925";
const G_KS_ENC: &str = "F5F0E35C0D7161EE6724EE513A0D9A7F";
const G_KS_MAC: &str = "FE251C7858B356B24514B3BD5F4297D1";
const G_T_IFD: &str = "C2B0BD78D94BA866";
const G_T_IC: &str = "3ABB9674BCE93C08";
/// EF.CardAccess of Appendix G.1.
const G_CARD_ACCESS: &str = "31143012060A04007F0007020204020202010202010D";

fn g_info() -> PaceInfo {
    lds::parse_card_access(&h(G_CARD_ACCESS)).unwrap().pace.remove(0)
}

#[test]
fn appendix_g1_password_and_nonce() {
    // ICAO 9303 Part 11 Appendix G.1: MRZ T22000129<3, 640812 5, 101031 8.
    let key = MrzKey::new("T22000129", "640812", "101031").unwrap();
    assert_eq!(&key.information()[..], b"T22000129364081251010318");
    assert_eq!(kdf::pace_mrz_password(&key)[..], h("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD"));
    let password = PacePassword::mrz(&key);
    let kpi = password.key(SmCipher::Aes128);
    assert_eq!(kpi[..], h("89DED1B26624EC1E634C1989302849DD"));
    assert_eq!(pace::decrypt_nonce(SmCipher::Aes128, &kpi, &h(G_NONCE_ENCRYPTED)).unwrap()[..], h(G_NONCE));
    assert_eq!(pace::encrypt_nonce(SmCipher::Aes128, &kpi, &h(G_NONCE)).unwrap(), h(G_NONCE_ENCRYPTED));
    let info = g_info();
    assert_eq!(info, PaceInfo::new(PaceMapping::EcdhGeneric, SmCipher::Aes128, 13));
    // MSE:Set AT naming the protocol, the MRZ and parameter id 13 (tag 84: always sent).
    assert_eq!(pace::mse_set_at(&info, PasswordKind::Mrz), h("0022C1A412800A04007F0007020204020283010184010D"));
}

#[test]
fn appendix_g1_brainpool_p256r1_generic_mapping() {
    // ICAO 9303 Part 11 Appendix G.1, point by point: proves bp256's arithmetic.
    let curve = PaceCurve::from_parameter_id(13).unwrap();
    assert_eq!(curve, PaceCurve::BrainpoolP256r1);
    assert_eq!(curve.mul(None, &h(G_MAP_SK_IFD)).unwrap(), h(G_MAP_PK_IFD));
    assert_eq!(curve.mul(None, &h(G_MAP_SK_IC)).unwrap(), h(G_MAP_PK_IC));
    // H, from either side.
    assert_eq!(curve.mul(Some(&h(G_MAP_PK_IC)), &h(G_MAP_SK_IFD)).unwrap(), h(G_H));
    assert_eq!(curve.mul(Some(&h(G_MAP_PK_IFD)), &h(G_MAP_SK_IC)).unwrap(), h(G_H));
    // G' = s·G + H.
    assert_eq!(curve.map_generator(&h(G_NONCE), &h(G_H)).unwrap(), h(G_GENERATOR));
    // Ephemeral keys on G', and the shared secret from either side.
    assert_eq!(curve.mul(Some(&h(G_GENERATOR)), &h(G_EPH_SK_IFD)).unwrap(), h(G_EPH_PK_IFD));
    assert_eq!(curve.mul(Some(&h(G_GENERATOR)), &h(G_EPH_SK_IC)).unwrap(), h(G_EPH_PK_IC));
    assert_eq!(curve.shared_x(&h(G_EPH_SK_IFD), &h(G_EPH_PK_IC)).unwrap()[..], h(G_SHARED));
    assert_eq!(curve.shared_x(&h(G_EPH_SK_IC), &h(G_EPH_PK_IFD)).unwrap()[..], h(G_SHARED));
    // A point off the curve is refused.
    let mut off = h(G_EPH_PK_IC);
    off[64] ^= 1;
    assert!(curve.shared_x(&h(G_EPH_SK_IFD), &off).is_err());
}

#[test]
fn appendix_g1_session_keys_and_tokens() {
    // ICAO 9303 Part 11 Appendix G.1.
    let shared = h(G_SHARED);
    assert_eq!(kdf(&shared, kdf::ENC, SmCipher::Aes128)[..], h(G_KS_ENC));
    assert_eq!(kdf(&shared, kdf::MAC, SmCipher::Aes128)[..], h(G_KS_MAC));
    let info = g_info();
    let t_ifd = pace::authentication_token(SmCipher::Aes128, &h(G_KS_MAC), &info.protocol, &h(G_EPH_PK_IC)).unwrap();
    let t_ic = pace::authentication_token(SmCipher::Aes128, &h(G_KS_MAC), &info.protocol, &h(G_EPH_PK_IFD)).unwrap();
    assert_eq!(t_ifd[..], h(G_T_IFD));
    assert_eq!(t_ic[..], h(G_T_IC));
    let (sm, k_mac) = pace::session(SmCipher::Aes128, &shared).unwrap();
    assert_eq!(k_mac[..], h(G_KS_MAC));
    assert_eq!(sm.ssc(), [0u8; 16]);
}

#[test]
fn appendix_g1_general_authenticate_commands() {
    // ICAO 9303 Part 11 Appendix G.1: the four General Authenticate commands as sent.
    assert_eq!(pace::general_authenticate(0, &[], false), h("10860000027C0000"));
    assert_eq!(
        pace::general_authenticate(0x81, &h(G_MAP_PK_IFD), false),
        [h("10860000457C438141"), h(G_MAP_PK_IFD), h("00")].concat()
    );
    assert_eq!(
        pace::general_authenticate(0x83, &h(G_EPH_PK_IFD), false),
        [h("10860000457C438341"), h(G_EPH_PK_IFD), h("00")].concat()
    );
    assert_eq!(pace::general_authenticate(0x85, &h(G_T_IFD), true), h("008600000C7C0A8508C2B0BD78D94BA86600"));
}

/// Random numbers from a list: the Appendix G terminal's private keys, in the order the reader
/// draws them (mapping key, then ephemeral key).
struct Given(Vec<u8>);

impl rand::RngCore for Given {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_be_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_be_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        assert!(self.0.len() >= dest.len(), "the reader drew more random bytes than Appendix G has");
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// The Appendix G.1 card: answers with the published bytes and checks that each command is
/// the published one; after PACE it opens the reader's first protected command with the
/// Appendix G session keys and answers 6A82, ending the read.
struct AppendixGCard {
    step: usize,
    sent: Vec<Vec<u8>>,
}

impl hardware::CardReader for AppendixGCard {
    fn describe(&self) -> String {
        "ICAO 9303 Part 11 Appendix G.1 transcript".into()
    }
    fn poll(&mut self) -> Result<Option<hardware::Card>, hardware::ReaderError> {
        Ok(None)
    }
    fn exchange(&mut self, command: &[u8]) -> Result<Vec<u8>, hardware::ReaderError> {
        self.sent.push(command.to_vec());
        let card_access = h(G_CARD_ACCESS);
        let expected_and_answer: (Vec<u8>, Vec<u8>) = match self.step {
            // Not in the appendix: the reader selects the MF first, because EF.CardAccess is
            // selected by its number in the current folder (a card may still be in LDS1).
            0 => (h("00A4000C023F00"), h("9000")),
            1 => (h("00A4020C02011C"), h("9000")),
            2 => (h("00B0000004"), [&card_access[..4], &h("9000")].concat()),
            3 => (h("00B0000412"), [&card_access[4..], &h("9000")].concat()),
            4 => (h("0022C1A412800A04007F0007020204020283010184010D"), h("9000")),
            5 => (h("10860000027C0000"), h("7C12801095A3A016522EE98D01E76CB6B98B42C39000")),
            6 => ([h("10860000457C438141"), h(G_MAP_PK_IFD), h("00")].concat(), [h("7C438241"), h(G_MAP_PK_IC), h("9000")].concat()),
            7 => ([h("10860000457C438341"), h(G_EPH_PK_IFD), h("00")].concat(), [h("7C438441"), h(G_EPH_PK_IC), h("9000")].concat()),
            8 => (h("008600000C7C0A8508C2B0BD78D94BA86600"), h("7C0A86083ABB9674BCE93C089000")),
            9 => {
                let mut card = SecureMessaging::new(SmCipher::Aes128, &h(G_KS_ENC), &h(G_KS_MAC), &[0; 16]).unwrap();
                let plain = card.open_command(command).expect("the reader's first protected command verifies under the Appendix G keys");
                assert_eq!(plain, h("00A4040C07A0000002471001"), "SELECT of the LDS1 application");
                (command.to_vec(), card.seal_response(&[], 0x6A82).unwrap())
            }
            _ => panic!("the reader went on after the transcript"),
        };
        assert_eq!(command, expected_and_answer.0, "command {} of the Appendix G transcript", self.step);
        self.step += 1;
        Ok(expected_and_answer.1)
    }
}

#[test]
fn appendix_g1_transcript_through_the_reader() {
    // The reader's whole PACE exchange, driven by the ICAO 9303 Part 11 Appendix G.1 card, with
    // the Appendix's terminal keys as its random numbers: every command byte for byte.
    use hardware::emrtd::{read_emrtd_reporting, AccessKey, AttemptOutcome, Authentication, EmrtdError, ReadOptions};
    let key = AccessKey::Mrz(MrzKey::new("T22000129", "640812", "101031").unwrap());
    let mut card = AppendixGCard { step: 0, sent: Vec::new() };
    let mut rng = Given([h(G_MAP_SK_IFD), h(G_EPH_SK_IFD)].concat());
    let (result, report) = read_emrtd_reporting(&mut card, &key, &ReadOptions::default(), &mut rng);
    assert_eq!(card.step, 10, "{:02X?}", card.sent);
    assert_eq!(result.unwrap_err(), EmrtdError::NotAnEmrtd);
    assert_eq!(report.attempts[0].outcome, AttemptOutcome::Succeeded);
    assert!(matches!(report.authentication, Some(Authentication::Pace { parameter_id: 13, password: PasswordKind::Mrz, .. })));
}

// --- Appendix G.2: PACE, generic mapping, DH (RFC 5114 1024-bit group, id 0), AES-128 ----------

const G2_NONCE_ENCRYPTED: &str = "854D8DF5827FA6852D1A4FA701CDDDCA";
const G2_NONCE: &str = "FA5B7E3E49753A0DB9178B7B9BD898C8";
const G2_MAP_SK_IFD: &str = "5265030F751F4AD18B08AC565FC7AC952E41618D";
const G2_MAP_PK_IFD: &str = "23FB3749EA030D2A25B278D2A562047ADE3F01B74F17A15402CB7352CA7D2B3E
                             B71C343DB13D1DEBCE9A3666DBCFC920B49174A602CB47965CAA73DC702489A4
                             4D41DB914DE9613DC5E98C94160551C0DF86274B9359BC0490D01B03AD54022D
                             CB4F57FAD6322497D7A1E28D46710F461AFE710FBBBC5F8BA166F4311975EC6C";
const G2_MAP_SK_IC: &str = "66DDAFEAC1609CB5B963BB0CB3FF8B3E047F336C";
const G2_MAP_PK_IC: &str = "78879F57225AA8080D52ED0FC890A4B25336F699AA89A2D3A189654AF70729E6
                            23EA5738B26381E4DA19E004706FACE7B235C2DBF2F38748312F3C98C2DD4882
                            A41947B324AA1259AC22579DB93F7085655AF30889DBB845D9E6783FE42C9F24
                            49400306254C8AE8EE9DD812A804C0B66E8CAFC14F84D8258950A91B44126EE6";
const G2_H: &str = "5BABEBEF5B74E5BA94B5C063FDA15F1F1CDE94873EE0A5D3A2FCAB49F258D07F
                    544F13CB66658C3AFEE9E727389BE3F6CBBBD32128A8C21DD6EEA3CF7091CDDF
                    B08B8D007D40318DCCA4FFBF51208790FB4BD111E5A968ED6B6F08B26CA87C41
                    0B3CE0C310CE104EABD16629AA48620C1279270CB0750C0D37C57FFFE302AE7F";
const G2_GENERATOR: &str = "7C9CBFE98F9FBDDA8D143506FA7D9306F4CB17E3C71707AFF5E1C1A123702496
                            84D64EE37AF44B8DBD9D45BF6023919CBAA027AB97ACC771666C8E98FF483301
                            BFA4872DEDE9034EDFACB70814166B7F360676829B826BEA57291B5AD69FBC84
                            EF1E779032A305803F74341793E869742D401325B37EE8565FFCDEE618342DC5";
const G2_EPH_SK_IFD: &str = "89CCD99B0E8D3B1F11E1296DCA68EC53411CF2CA";
const G2_EPH_PK_IFD: &str = "907D89E2D425A178AA81AF4A7774EC8E388C115CAE67031E85EECE520BD91155
                             1B9AE4D04369F29A02626C86FBC6747CC7BC352645B6161A2A42D44EDA80A08F
                             A8D61B76D3A154AD8A5A51786B0BC07147057871A922212C5F67F43173172236
                             B7747D1671E6D692A3C7D40A0C3C5CE397545D015C175EB5130551EDBC2EE5D4";
const G2_EPH_SK_IC: &str = "A5B780126B7C980E9FCEA1D4539DA1D27C342DFA";
const G2_EPH_PK_IC: &str = "075693D9AE941877573E634B6E644F8E60AF17A0076B8B123D9201074D36152B
                            D8B3A213F53820C42ADC79AB5D0AEEC3AEFB91394DA476BD97B9B14D0A65C1FC
                            71A0E019CB08AF55E1F729005FBA7E3FA5DC41899238A250767A6D46DB974064
                            386CD456743585F8E5D90CC8B4004B1F6D866C79CE0584E49687FF61BC29AEA1";
const G2_SHARED: &str = "6BABC7B3A72BCD7EA385E4C62DB2625BD8613B24149E146A629311C4CA6698E3
                         8B834B6A9E9CD7184BA8834AFF5043D436950C4C1E7832367C10CB8C314D40E5
                         990B0DF7013E64B4549E2270923D06F08CFF6BD3E977DDE6ABE4C31D55C0FA2E
                         465E553E77BDF75E3193D3834FC26E8EB1EE2FA1E4FC97C18C3F6CFFFE2607FD";

#[test]
fn appendix_g2_dh_generic_mapping() {
    // ICAO 9303 Part 11 Appendix G.2, step by step; the values as reproduced in the
    // open-source test suites named at the top of this file.
    use hardware::emrtd::dh;
    let key = MrzKey::new("T22000129", "640812", "101031").unwrap();
    let kpi = PacePassword::mrz(&key).key(SmCipher::Aes128);
    assert_eq!(pace::decrypt_nonce(SmCipher::Aes128, &kpi, &h(G2_NONCE_ENCRYPTED)).unwrap()[..], h(G2_NONCE));
    assert_eq!(dh::power(None, &h(G2_MAP_SK_IFD)).unwrap(), h(G2_MAP_PK_IFD));
    assert_eq!(dh::power(None, &h(G2_MAP_SK_IC)).unwrap(), h(G2_MAP_PK_IC));
    assert_eq!(dh::power(Some(&h(G2_MAP_PK_IC)), &h(G2_MAP_SK_IFD)).unwrap(), h(G2_H));
    assert_eq!(dh::power(Some(&h(G2_MAP_PK_IFD)), &h(G2_MAP_SK_IC)).unwrap(), h(G2_H));
    assert_eq!(dh::map_generator(&h(G2_NONCE), &h(G2_H)).unwrap(), h(G2_GENERATOR));
    assert_eq!(dh::power(Some(&h(G2_GENERATOR)), &h(G2_EPH_SK_IFD)).unwrap(), h(G2_EPH_PK_IFD));
    assert_eq!(dh::power(Some(&h(G2_GENERATOR)), &h(G2_EPH_SK_IC)).unwrap(), h(G2_EPH_PK_IC));
    assert_eq!(dh::shared_secret(&h(G2_EPH_SK_IFD), &h(G2_EPH_PK_IC)).unwrap()[..], h(G2_SHARED));
    assert_eq!(kdf(&h(G2_SHARED), kdf::ENC, SmCipher::Aes128)[..], h("2F7F46ADCC9E7E521B45D192FAFA9126"));
    let ks_mac = kdf(&h(G2_SHARED), kdf::MAC, SmCipher::Aes128);
    assert_eq!(ks_mac[..], h("805A1D27D45A5116F73C54469462B7D8"));
    let oid = PaceInfo::new(PaceMapping::DhGeneric, SmCipher::Aes128, 0).protocol;
    assert_eq!(oid, h("04007F00070202040102"));
    assert_eq!(pace::authentication_token(SmCipher::Aes128, &ks_mac, &oid, &h(G2_EPH_PK_IC)).unwrap()[..], h("B46DD9BD4D98381F"));
    assert_eq!(pace::authentication_token(SmCipher::Aes128, &ks_mac, &oid, &h(G2_EPH_PK_IFD)).unwrap()[..], h("917F37B5C0E6D8D1"));
    // Elements outside the subgroup are refused: 1, 2, p - 1.
    let mut one = vec![0u8; 128];
    one[127] = 1;
    assert!(dh::power(Some(&one), &h(G2_EPH_SK_IFD)).is_err());
    one[127] = 2;
    assert!(dh::power(Some(&one), &h(G2_EPH_SK_IFD)).is_err());
}

#[test]
fn ecdsa_of_the_sod_signature_matches_rfc_6979() {
    // RFC 6979 Appendix A.2.5: P-256, SHA-256, message "sample", with the published k. The
    // signature check of EF.SOD uses this ECDSA; its signing side makes simulated SODs.
    use sha2::{Digest, Sha256};
    let curve = PaceCurve::P256;
    let d = h("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721");
    let public = curve.mul(None, &d).unwrap();
    assert_eq!(
        public,
        h("04 60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6
              7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299")
    );
    let digest = Sha256::digest(b"sample");
    let k = h("A6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60");
    let (r, s) = curve.ecdsa_sign(&d, &k, &digest).unwrap();
    assert_eq!(r, h("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"));
    assert_eq!(s, h("F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"));
    assert!(curve.ecdsa_verify(&public, &digest, &r, &s).unwrap());
    assert!(!curve.ecdsa_verify(&public, &Sha256::digest(b"samplf"), &r, &s).unwrap());
}
