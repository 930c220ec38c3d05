//! `POST /v1/referrals/check`: a partner referral (issue 14) checked before the application
//! form is filled in from it.

use serde::{Deserialize, Serialize};

/// Body of `POST /v1/referrals/check`: exactly one of a typed short code or scanned QR text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralCheckRequest {
    /// The short code as typed (`WFP-79E-7X4-DM0`; case, grouping and look-alikes forgiven).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The text of the slip's QR code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
}

/// The verdict of a referral check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralCheckStatus {
    /// Signed by a trusted partner and within its dates (and, looked up at the node, unused).
    Valid,
    /// Refused: see `reason`.
    Invalid,
    /// Not decided here (a typed code with the node unreachable; dates with the terminal's
    /// clock not set): the node decides when the application arrives.
    Unchecked,
}

/// What a referral fills in on the application form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralPrefill {
    /// Members of the household.
    pub household_size: u8,
    /// Governorate code (master data).
    pub governorate: String,
    /// The partner's code.
    pub partner: String,
    /// The partner's case number.
    pub partner_case_number: String,
}

/// Answer of `POST /v1/referrals/check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralCheckAnswer {
    /// `valid`, `invalid` or `unchecked`.
    pub status: ReferralCheckStatus,
    /// The canonical short code, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Machine-readable reason (`signature_invalid`, `expired`, `already_used`,
    /// `unknown_partner`, `malformed`, `clock_not_set`, `needs_node`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// Why, for staff: what was wrong and what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The form fields, when the referral could be read and its signature is good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<ReferralPrefill>,
    /// The signed payload to attach to the application (`referral` of `POST /v1/applications`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
}
