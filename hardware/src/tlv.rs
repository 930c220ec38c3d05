//! A small BER-TLV reader and writer for what the applicant's cards hold: the eMRTD's LDS data
//! groups (BER-TLV with application tags like `61`, `5F1F`), EF.CardAccess and EF.SOD (DER),
//! PACE's dynamic authentication data (`7C`), and the beneficiary ID profile's template
//! ([`crate::id_card`]).
//!
//! Hand-written rather than the `der` crate: the LDS files are BER-TLV with ICAO's own tags, not
//! ASN.1 types a derive could describe, and EF.SOD needs only a walk down a few known
//! constructed tags to reach the hashes; one reader for every card keeps every length check in
//! one place (and in one fuzz target). Definite lengths only (DER and the LDS use nothing else),
//! at most 4 length bytes and 3 tag bytes.

/// Why a TLV could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TlvError(pub &'static str);

/// One TLV: its tag (up to 3 bytes, as a number: `0x5F1F`), its value, and whether the tag
/// says constructed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag bytes as a big-endian number, e.g. `0x61`, `0x5F1F`, `0x7F49`.
    pub tag: u32,
    /// The value.
    pub value: &'a [u8],
}

/// The tag, the length of the tag and length fields, and the value length of the TLV at the
/// start of `bytes`; the value itself need not be there yet (so a file's length can be read
/// from its first bytes).
pub fn header(bytes: &[u8]) -> Result<(u32, usize, usize), TlvError> {
    const SHORT: TlvError = TlvError("a TLV is cut off in its tag or length");
    let first = *bytes.first().ok_or(SHORT)?;
    let mut tag = u32::from(first);
    let mut at = 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = *bytes.get(at).ok_or(SHORT)?;
            tag = (tag << 8) | u32::from(b);
            at += 1;
            if b & 0x80 == 0 {
                break;
            }
            if at == 3 {
                return Err(TlvError("a TLV tag is longer than 3 bytes"));
            }
        }
    }
    let first_len = *bytes.get(at).ok_or(SHORT)?;
    at += 1;
    let len = match first_len {
        n if n < 0x80 => usize::from(n),
        0x80 => return Err(TlvError("a TLV uses the indefinite length form, which the LDS does not allow")),
        n if n <= 0x84 => {
            let count = usize::from(n & 0x7F);
            let digits = bytes.get(at..at + count).ok_or(SHORT)?;
            at += count;
            digits.iter().fold(0usize, |len, &d| (len << 8) | usize::from(d))
        }
        _ => return Err(TlvError("a TLV length field is longer than 4 bytes")),
    };
    Ok((tag, at, len))
}

/// The TLV at the start of `bytes` and what follows it.
pub fn parse(bytes: &[u8]) -> Result<(Tlv<'_>, &[u8]), TlvError> {
    let (tag, header_len, len) = header(bytes)?;
    let end = header_len.checked_add(len).ok_or(TlvError("a TLV length overflows"))?;
    let value = bytes.get(header_len..end).ok_or(TlvError("a TLV's length runs past the end of its data"))?;
    Ok((Tlv { tag, value }, &bytes[end..]))
}

/// The value of the single TLV `bytes` holds, which must have tag `tag` (trailing bytes after
/// it are ignored: files are often padded).
pub fn expect<'a>(bytes: &'a [u8], tag: u32, what: &'static str) -> Result<&'a [u8], TlvError> {
    let (tlv, _) = parse(bytes)?;
    if tlv.tag != tag {
        return Err(TlvError(what));
    }
    Ok(tlv.value)
}

/// Iterates over consecutive TLVs; stops with an error item at the first malformed one.
pub fn iter(bytes: &[u8]) -> TlvIter<'_> {
    TlvIter { rest: bytes, failed: false }
}

/// See [`iter`].
#[derive(Debug, Clone)]
pub struct TlvIter<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>, TlvError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        match parse(self.rest) {
            Ok((tlv, rest)) => {
                self.rest = rest;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// The first TLV with `tag` among the consecutive TLVs in `bytes`.
pub fn find(bytes: &[u8], tag: u32) -> Result<Option<&[u8]>, TlvError> {
    for tlv in iter(bytes) {
        let tlv = tlv?;
        if tlv.tag == tag {
            return Ok(Some(tlv.value));
        }
    }
    Ok(None)
}

/// Encodes a TLV: tag bytes (as few as the number needs), DER length, value.
pub fn encode(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    let tag_bytes = tag.to_be_bytes();
    let skip = tag_bytes.iter().take(3).take_while(|&&b| b == 0).count();
    out.extend_from_slice(&tag_bytes[skip..]);
    let len = value.len();
    match len {
        n if n < 0x80 => out.push(n as u8),
        n if n <= 0xFF => out.extend_from_slice(&[0x81, n as u8]),
        n if n <= 0xFFFF => {
            out.push(0x82);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x83);
            out.extend_from_slice(&(n as u32).to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(value);
    out
}

/// A DER INTEGER's value as an unsigned number (up to 8 bytes).
pub fn unsigned(value: &[u8]) -> Result<u64, TlvError> {
    let digits = match value {
        [0, rest @ ..] if !rest.is_empty() => rest,
        other => other,
    };
    if digits.is_empty() || digits.len() > 8 {
        return Err(TlvError("an INTEGER is empty or larger than the eMRTD reader expects"));
    }
    Ok(digits.iter().fold(0u64, |n, &d| (n << 8) | u64::from(d)))
}

/// A DER INTEGER encoding of a small unsigned number.
pub fn encode_unsigned(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take(7).take_while(|&&b| b == 0).count();
    let mut value = bytes[skip..].to_vec();
    if value[0] & 0x80 != 0 {
        value.insert(0, 0);
    }
    encode(0x02, &value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_lengths_in_every_form() {
        assert_eq!(header(&[0x61, 0x05]), Ok((0x61, 2, 5)));
        assert_eq!(header(&[0x5F, 0x1F, 0x81, 0x90]), Ok((0x5F1F, 4, 0x90)));
        assert_eq!(header(&[0x77, 0x82, 0x01, 0x02]), Ok((0x77, 4, 0x102)));
        assert_eq!(header(&[0x7F, 0x49, 0x83, 0x01, 0x00, 0x00]), Ok((0x7F49, 6, 0x10000)));
        assert!(header(&[0x30, 0x80]).is_err());
        assert!(header(&[0x5F]).is_err());
        assert!(header(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_err());
        assert!(parse(&[0x04, 0x03, 0x01]).is_err());
        for (tag, len) in [(0x04u32, 3usize), (0x5F1F, 200), (0x77, 300), (0x7F49, 70_000)] {
            let value = vec![0xAB; len];
            let encoded = encode(tag, &value);
            let (tlv, rest) = parse(&encoded).unwrap();
            assert_eq!((tlv.tag, tlv.value.len(), rest.len()), (tag, len, 0));
        }
        assert_eq!(encode_unsigned(0x80), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(unsigned(&[0x00, 0x80]), Ok(0x80));
        assert_eq!(encode_unsigned(13), [0x02, 0x01, 0x0D]);
    }
}
