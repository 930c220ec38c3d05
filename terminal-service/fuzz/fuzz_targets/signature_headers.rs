//! The RFC 9421 headers of a terminal's request as the node reads them (node-protocol's
//! `ParsedRequestSignature`, then `verify` against a key, with the body's `content-digest`),
//! and the receipt references staff type in. The input is lines: `signature-input`,
//! `signature`, `content-digest`, then the body. A forged or broken request is refused with a
//! typed error, never a panic, and a signature made with another key never verifies.
#![no_main]

use ed25519_dalek::SigningKey;
use node_protocol::signature::{ParsedRequestSignature, RequestParts};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.splitn(4, '\n');
    let (input, signature, digest) = (lines.next(), lines.next(), lines.next().unwrap_or(""));
    let body = lines.next().unwrap_or("").as_bytes();
    let _ = node_protocol::reference::normalise_reference(text);
    let _ = node_protocol::digest::digest_matches(digest, body);
    let Ok(parsed) = ParsedRequestSignature::parse(input, signature) else { return };
    // The fuzzer has no way to sign with this key: nothing it writes may verify.
    let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
    let headers = [("content-digest", digest), ("content-type", "application/json")];
    let request = RequestParts { method: "POST", authority: "node.example:8443", path: "/v1/submissions", headers: &headers };
    assert!(parsed.verify(&key, &request, body, parsed.created).is_err());
    let _ = parsed.verify(&key, &request, body, 1_780_000_000);
});
