//! Headquarters: the person index of every province, on PostgreSQL, checked by the nodes.
//!
//! A mode of the reference node (`provincial-node headquarters serve|deduplicate|node-key`)
//! rather than a crate of its own: it is one more axum server speaking the same signed JSON,
//! with the same errors ([`crate::api::ApiError`]) and the same RFC 9421 signatures
//! (`node_protocol::signature`), and the test benches already build and ship this binary.
//!
//! - [`registry`]: the PostgreSQL schema (persons, reviews, audit), loading the index, recording
//!   applicants durably;
//! - [`api`]: `POST /v1/persons/check` and `POST /v1/persons/registered` (the kiosk's
//!   pre-check, asked for the other provinces), signed by a node whose key headquarters trusts,
//!   and `POST /v1/referrals/claim` (a partner referral is used once across provinces);
//! - [`client`]: the node's side of those calls, and the node's signing key.
//!
//! Trust: each node has an Ed25519 key in its data directory (`headquarters-key.txt`, created
//! on first use); `provincial-node headquarters node-key --data DIR` prints `CODE=PUBLIC_KEY`,
//! and headquarters is started with one `--trust-node CODE=PUBLIC_KEY` per province. The
//! signature's `keyid` is the province code, and a node may only record its own province's
//! case numbers. An enrollment code as for terminals would add a round-trip and a state for
//! fifteen-odd long-lived peers configured once by an administrator; a key list is enough.

pub mod api;
pub mod client;
pub mod registry;

use matcher::{Comparison, Person};
use serde::{Deserialize, Serialize};

/// Path of the one headquarters call.
pub const CHECK_PATH: &str = "/v1/persons/check";

/// Path of the pre-check call: is a national id registered in any province?
pub const REGISTERED_PATH: &str = "/v1/persons/registered";

/// Path of the referral claim: has another province used this referral?
pub const CLAIM_PATH: &str = "/v1/referrals/claim";

/// Most applicants in one check call (a node's largest batch).
pub const MAX_CHECK: usize = node_protocol::MAX_BATCH;

/// `POST /v1/persons/check`: a node's newly filed applicants, each under its case number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRequest {
    /// The applicants (their `case_number` set), at most [`MAX_CHECK`].
    pub persons: Vec<Person>,
}

/// One registered case an applicant may be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredMatch {
    /// Its case number.
    pub case_number: String,
    /// Governorate code of the province that registered it.
    pub province: String,
    /// The matcher's decision, score and explanation.
    pub comparison: Comparison,
}

/// Headquarters' answer for one applicant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The applicant's case number.
    pub case_number: String,
    /// Registered persons of any province the applicant may be, strongest first.
    pub matches: Vec<RegisteredMatch>,
}

/// Answer to `POST /v1/persons/check`: one result per applicant, in order. Every applicant is
/// recorded (committed) before the answer leaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResponse {
    /// One per applicant.
    pub results: Vec<CheckResult>,
}

/// `POST /v1/persons/registered`: a terminal's pre-check, passed on by its node when the
/// province itself does not know the national id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredRequest {
    /// The national id, 12 ASCII digits.
    pub national_id: String,
}

/// Answer to `POST /v1/persons/registered`: only whether, never whose record or where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredResponse {
    /// True if some province registered a person with that national id.
    pub registered: bool,
}

/// `POST /v1/referrals/claim`: referrals this node's applications used, each under its case
/// number. The first case to claim a referral holds it, in every province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    /// The claims, at most [`MAX_CHECK`].
    pub claims: Vec<crate::referrals::Claim>,
}

/// Headquarters' answer for one claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimResult {
    /// The claiming case.
    pub case_number: String,
    /// The case that holds the referral: the claiming case itself when the claim succeeded
    /// (or was made before by it), another (of any province) when the referral was used first there.
    pub used_by: String,
}

/// Answer to `POST /v1/referrals/claim`: one result per claim, in order, committed before it leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimResponse {
    /// One per claim.
    pub results: Vec<ClaimResult>,
}
