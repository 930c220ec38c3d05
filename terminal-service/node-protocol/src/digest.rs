//! RFC 9530 `Content-Digest` with the `sha-256` algorithm.
//!
//! The digest is what a request signature covers instead of the body itself, so a node can
//! reject an altered body before parsing it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Header name, lower case as RFC 9421 covers it.
pub const CONTENT_DIGEST: &str = "content-digest";

/// The `content-digest` header value for `body`: `sha-256=:<base64>:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// Whether a received `content-digest` header matches `body`.
///
/// The header is a structured-field dictionary; only its `sha-256` member is checked, and a
/// header without one does not match (we never accept a weaker algorithm).
pub fn digest_matches(header: &str, body: &[u8]) -> bool {
    let want = STANDARD.encode(Sha256::digest(body));
    header.split(',').map(str::trim).any(|member| {
        member
            .strip_prefix("sha-256=:")
            .and_then(|rest| rest.strip_suffix(':'))
            .is_some_and(|value| value == want)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9530 section 2, example: `{"hello": "world"}` followed by a newline.
    #[test]
    fn matches_rfc9530_example() {
        let body = b"{\"hello\": \"world\"}\n";
        assert_eq!(
            content_digest(body),
            "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:"
        );
        assert!(digest_matches(
            "sha-512=:abc=:, sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:",
            body
        ));
    }

    #[test]
    fn altered_body_does_not_match() {
        let header = content_digest(b"{\"a\":1}");
        assert!(!digest_matches(&header, b"{\"a\":2}"));
        assert!(!digest_matches("sha-512=:xyz=:", b"{\"a\":1}"));
    }
}
