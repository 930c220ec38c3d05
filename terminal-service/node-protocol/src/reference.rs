//! Short references: what an applicant reads off a receipt and types back at a kiosk.
//!
//! The submission id is a UUIDv7: its first 48 bits are a timestamp, so two submissions from
//! the same second share them. The short reference is taken from the 62 random bits at the end
//! instead: 50 of them, written as ten Crockford base-32 characters in two groups
//! (`7K2QX-M4B9R`). Crockford's alphabet has no I, L, O or U, so nothing reads as a digit it is
//! not, and decoding forgives lower case and those look-alikes. Ten characters keep the chance
//! that two of the programme's two million people share a reference in the thousandths; the
//! node disambiguates with the date of birth anyway.

use uuid::Uuid;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The short reference of a submission id, e.g. `7K2QX-M4B9R`.
pub fn short_reference(id: &Uuid) -> String {
    let bytes = id.as_bytes();
    // The last 8 bytes hold the variant bits (2) and 62 random bits; keep the low 50.
    let tail = u64::from_be_bytes(bytes[8..16].try_into().expect("uuid has 16 bytes"));
    let mut bits = tail & ((1u64 << 50) - 1);
    let mut chars = [0u8; 10];
    for c in chars.iter_mut().rev() {
        *c = ALPHABET[(bits & 31) as usize];
        bits >>= 5;
    }
    let text = std::str::from_utf8(&chars).expect("alphabet is ASCII");
    format!("{}-{}", &text[..5], &text[5..])
}

/// Normalises what a person typed into the canonical `XXXXX-XXXXX` form, or `None` if it
/// cannot be a reference. Accepts lower case, missing or extra separators and spaces, and the
/// look-alikes Crockford allows (`O`→`0`, `I`/`L`→`1`).
pub fn normalise_reference(input: &str) -> Option<String> {
    let mut out = String::with_capacity(11);
    for ch in input.chars() {
        let c = match ch.to_ascii_uppercase() {
            '-' | ' ' | '\u{2010}'..='\u{2015}' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if ALPHABET.contains(&(c as u8)) && c.is_ascii() => c,
            _ => return None,
        };
        if out.len() == 5 {
            out.push('-');
        }
        out.push(c);
    }
    (out.len() == 11).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_is_ten_crockford_characters_from_the_random_tail() {
        let id = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        assert_eq!(short_reference(&id), "00000-00001");
        let id = Uuid::from_u128(0x0190_0000_0000_7000_8003_ffff_ffff_ffff);
        assert_eq!(short_reference(&id), "ZZZZZ-ZZZZZ");
    }

    #[test]
    fn typed_references_normalise() {
        assert_eq!(normalise_reference("7k2qx m4b9r").as_deref(), Some("7K2QX-M4B9R"));
        assert_eq!(normalise_reference("7K2QXM4B9R").as_deref(), Some("7K2QX-M4B9R"));
        assert_eq!(normalise_reference("oIl00-00000").as_deref(), Some("01100-00000"));
        assert_eq!(normalise_reference("7K2QX-M4B9"), None);
        assert_eq!(normalise_reference("7K2QX-M4B9RR"), None);
        assert_eq!(normalise_reference("7K2QX-M4B9U"), None);
    }

    #[test]
    fn round_trip_of_generated_ids() {
        for _ in 0..100 {
            let r = short_reference(&Uuid::now_v7());
            assert_eq!(normalise_reference(&r.to_lowercase()), Some(r));
        }
    }
}
