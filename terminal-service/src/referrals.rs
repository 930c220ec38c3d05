//! Referrals in (issue 14), the terminal's offline half: a scanned QR payload or a typed
//! short code checked against the partner keys cached from the node's configuration
//! (`NodeConfig.referral_partners`), before the node has its say on delivery
//! (`referral_check` on the accepted outcome).
//!
//! What the terminal can tell alone:
//! * a scanned payload: format, partner trusted, signature, and dates — the dates only when the
//!   terminal's clock can be believed ([`crate::clock::is_set`]). With a clock that is not set,
//!   a referral whose signature is good is `unchecked` (not `valid`), with the reason, and its
//!   fields still prefill the form: refusing every referral because the terminal lost its time
//!   would send households away for the terminal's fault, and the node checks the dates with
//!   its own clock when the application arrives.
//! * a typed short code: its check character and that its partner is trusted; the referral
//!   itself lives at the partner and the node, so without the node the answer is `unchecked`.
//!
//! Nothing here is logged beyond the short code: the payload holds a partner case number.

use chrono::NaiveDate;
use node_protocol::referral::{self, ReferralError, ShortCode, SignedReferral};
use node_protocol::ReferralPartner;

/// What was presented: a typed short code or scanned QR text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferralInput {
    /// A short code as typed (`WFP-K7M-2Q9-XAT`, any case and grouping).
    Code(String),
    /// The text of the slip's QR code.
    Payload(String),
}

/// The verdict of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// Verified: signature of a trusted partner, and in its dates.
    Valid,
    /// Refused, with the reason.
    Invalid,
    /// Could not be decided here (a typed code without the node, or dates with an unset
    /// clock); the node decides on delivery.
    Unchecked,
}

impl CheckStatus {
    /// As in the local API (`valid`, `invalid`, `unchecked`).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Valid => "valid",
            CheckStatus::Invalid => "invalid",
            CheckStatus::Unchecked => "unchecked",
        }
    }
}

/// Fields a referral fills in on the application form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefill {
    /// Members of the household.
    pub household_size: u8,
    /// Governorate code.
    pub governorate: String,
    /// The partner's code.
    pub partner: String,
    /// The partner's case number.
    pub partner_case_number: String,
}

/// The answer of [`check_offline`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralCheck {
    /// Valid, invalid or unchecked.
    pub status: CheckStatus,
    /// The short code (`WFP-K7M-2Q9-XAT`) when it could be read: the only part audited.
    pub code: Option<String>,
    /// Machine-readable reason for `invalid`/`unchecked` (`ReferralError::code`, or
    /// `clock_not_set`, `needs_node`).
    pub reason_code: Option<&'static str>,
    /// Why, for staff (what was wrong and what to do).
    pub reason: Option<String>,
    /// The form fields, from a payload whose signature is good.
    pub prefill: Option<Prefill>,
    /// The canonical payload, to attach to the application.
    pub payload: Option<String>,
}

impl ReferralCheck {
    fn invalid(code: Option<String>, e: &ReferralError) -> ReferralCheck {
        ReferralCheck {
            status: CheckStatus::Invalid,
            code,
            reason_code: Some(e.code()),
            reason: Some(e.to_string()),
            prefill: None,
            payload: None,
        }
    }
}

fn prefill(signed: &SignedReferral) -> Prefill {
    let r = &signed.referral;
    Prefill {
        household_size: r.household_size,
        governorate: r.governorate.clone(),
        partner: r.partner.clone(),
        partner_case_number: r.partner_case.clone(),
    }
}

/// Checks `input` against the cached `partners`, on `today` as the terminal's clock says;
/// `clock_set` is whether that clock can be believed ([`crate::clock::is_set`]).
pub fn check_offline(input: &ReferralInput, partners: &[ReferralPartner], today: NaiveDate, clock_set: bool) -> ReferralCheck {
    let trusted = ReferralPartner::trusted(partners);
    match input {
        ReferralInput::Code(text) => {
            let code = match ShortCode::parse(text) {
                Ok(code) => code,
                Err(e) => return ReferralCheck::invalid(None, &e),
            };
            if !trusted.iter().any(|t| t.code == code.partner) {
                return ReferralCheck::invalid(Some(code.to_string()), &ReferralError::UnknownPartner(code.partner.clone()));
            }
            ReferralCheck {
                status: CheckStatus::Unchecked,
                code: Some(code.to_string()),
                reason_code: Some("needs_node"),
                reason: Some("a typed code is checked by the node; the node is not reachable now, so it is checked when the application is delivered".into()),
                prefill: None,
                payload: None,
            }
        }
        ReferralInput::Payload(text) => {
            let signed = match SignedReferral::parse(text) {
                Ok(signed) => signed,
                Err(e) => return ReferralCheck::invalid(None, &e),
            };
            let code = Some(signed.referral.short_code());
            // With an unset clock, check all but the dates: the issue date stands in for today.
            let day = if clock_set { today } else { signed.referral.issued_on };
            if let Err(e) = signed.verify(&trusted, day) {
                return ReferralCheck::invalid(code, &e);
            }
            let (status, reason_code, reason) = if clock_set {
                (CheckStatus::Valid, None, None)
            } else {
                (
                    CheckStatus::Unchecked,
                    Some("clock_not_set"),
                    Some("signature good, dates not checked: the terminal's clock is not set; the node checks them when the application is delivered".to_string()),
                )
            };
            ReferralCheck { status, code, reason_code, reason, prefill: Some(prefill(&signed)), payload: Some(signed.payload()) }
        }
    }
}

/// Parses and verifies in one step for callers that only need the verdict on a payload.
pub fn verify_payload(payload: &str, partners: &[ReferralPartner], today: NaiveDate) -> Result<SignedReferral, ReferralError> {
    referral::verify(payload, &ReferralPartner::trusted(partners), today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use ed25519_dalek::SigningKey;
    use node_protocol::referral::Referral;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn partner_key() -> SigningKey {
        SigningKey::from_bytes(&[9u8; 32])
    }

    fn partners() -> Vec<ReferralPartner> {
        let public = base64::engine::general_purpose::STANDARD.encode(partner_key().verifying_key().as_bytes());
        vec![ReferralPartner { code: "WFP".into(), name: "World Food Programme".into(), public_keys: vec![public] }]
    }

    fn slip(key: &SigningKey) -> SignedReferral {
        Referral {
            partner: "WFP".into(),
            serial: 4242,
            issued_on: day("2026-11-20"),
            expires_on: day("2026-12-20"),
            household_size: 6,
            governorate: "BGD".into(),
            partner_case: "WFP-2026/0042".into(),
        }
        .sign(key)
        .unwrap()
    }

    #[test]
    fn scanned_payload_of_a_trusted_partner_is_valid_and_prefills() {
        let slip = slip(&partner_key());
        let check = check_offline(&ReferralInput::Payload(slip.payload()), &partners(), day("2026-12-02"), true);
        assert_eq!(check.status, CheckStatus::Valid, "{check:?}");
        assert_eq!(check.code.as_deref(), Some(slip.referral.short_code().as_str()));
        let prefill = check.prefill.unwrap();
        assert_eq!((prefill.household_size, prefill.governorate.as_str(), prefill.partner_case_number.as_str()), (6, "BGD", "WFP-2026/0042"));
        assert_eq!(check.payload, Some(slip.payload()));
    }

    #[test]
    fn forged_payload_is_invalid_with_the_reason() {
        let forged = slip(&SigningKey::from_bytes(&[1u8; 32])).payload();
        let check = check_offline(&ReferralInput::Payload(forged), &partners(), day("2026-12-02"), true);
        assert_eq!(check.status, CheckStatus::Invalid);
        assert!(check.reason.as_deref().unwrap().contains("forged"), "{check:?}");
        assert!(check.prefill.is_none(), "a forged slip fills nothing in");
        // An altered household size breaks the signature too.
        let altered = slip(&partner_key()).payload().replacen(".6.", ".9.", 1);
        let check = check_offline(&ReferralInput::Payload(altered), &partners(), day("2026-12-02"), true);
        assert_eq!(check.status, CheckStatus::Invalid, "{check:?}");
    }

    #[test]
    fn expired_is_invalid_but_an_unset_clock_leaves_the_dates_to_the_node() {
        let payload = slip(&partner_key()).payload();
        let check = check_offline(&ReferralInput::Payload(payload.clone()), &partners(), day("2027-01-05"), true);
        assert_eq!((check.status, check.reason_code), (CheckStatus::Invalid, Some("expired")), "{check:?}");
        let check = check_offline(&ReferralInput::Payload(payload), &partners(), day("1970-01-01"), false);
        assert_eq!((check.status, check.reason_code), (CheckStatus::Unchecked, Some("clock_not_set")), "{check:?}");
        assert!(check.prefill.is_some());
    }

    #[test]
    fn typed_code_is_unchecked_offline_unless_mistyped_or_untrusted() {
        let code = slip(&partner_key()).referral.short_code();
        let check = check_offline(&ReferralInput::Code(code.to_lowercase()), &partners(), day("2026-12-02"), true);
        assert_eq!((check.status, check.reason_code), (CheckStatus::Unchecked, Some("needs_node")), "{check:?}");
        assert_eq!(check.code.as_deref(), Some(code.as_str()));
        let mut typo = code.clone();
        let last = typo.pop().unwrap();
        typo.push(if last == '0' { '1' } else { '0' });
        let check = check_offline(&ReferralInput::Code(typo), &partners(), day("2026-12-02"), true);
        assert_eq!(check.status, CheckStatus::Invalid, "{check:?}");
        let check = check_offline(&ReferralInput::Code(code), &[], day("2026-12-02"), true);
        assert_eq!((check.status, check.reason_code), (CheckStatus::Invalid, Some("unknown_partner")), "{check:?}");
    }
}
