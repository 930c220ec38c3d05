//! Request and response bodies of the node API v1 (`terminal-service/openapi/node-v1.yaml`).
//!
//! Every body is JSON. Unknown fields are ignored when reading so that a node may add fields
//! without breaking older terminals; enums are `snake_case` strings.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Path prefix of every node call.
pub const API_PREFIX: &str = "/v1";

/// What was captured: the two forms a terminal forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionKind {
    /// An application for the programme (self-service or staff-assisted).
    Application,
    /// A complaint about the programme.
    Grievance,
}

impl SubmissionKind {
    /// The wire name (`application`, `grievance`).
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionKind::Application => "application",
            SubmissionKind::Grievance => "grievance",
        }
    }
}

impl std::str::FromStr for SubmissionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "application" => Ok(SubmissionKind::Application),
            "grievance" => Ok(SubmissionKind::Grievance),
            other => Err(format!("unknown submission kind '{other}' (expected application or grievance)")),
        }
    }
}

/// Text in the three languages of the terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LocalizedText {
    /// Arabic.
    pub ar: String,
    /// Kurdish Sorani (Arabic script).
    pub ckb: String,
    /// English.
    pub en: String,
}

impl LocalizedText {
    /// Builds a text from its three translations.
    pub fn new(ar: &str, ckb: &str, en: &str) -> Self {
        LocalizedText { ar: ar.into(), ckb: ckb.into(), en: en.into() }
    }

    /// The text in `language` (`ar`, `ckb` or `en`), falling back to Arabic.
    pub fn get(&self, language: &str) -> &str {
        match language {
            "ckb" => &self.ckb,
            "en" => &self.en,
            _ => &self.ar,
        }
    }
}

/// Error body of every 4xx and 5xx answer, from the node and the local API alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable code, e.g. `signature_invalid`, `enrollment_code_expired`.
    pub error: String,
    /// What was wrong and what to do, for the person reading a log or a screen.
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// Enrollment

/// `POST /v1/terminals/enroll`. Signed like every other request, with the key being enrolled
/// (`keyid="enroll"`), which proves the terminal holds the private half of `public_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The one-time enrollment code issued by the node operator.
    pub code: String,
    /// The terminal's Ed25519 public key, 32 bytes, standard base64.
    pub public_key: String,
    /// A name for the fleet view, e.g. the host name.
    pub terminal_name: String,
    /// Version of the terminal software.
    pub software_version: String,
}

/// Answer to a successful enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The terminal's id at this node; the `keyid` of every later signature.
    pub terminal_id: String,
    /// Province (governorate) the node serves.
    pub province: String,
    /// Stable identifier of the node; the terminal pins it and refuses another.
    pub node_id: String,
    /// The node's age X25519 recipient (`age1…`): what the terminal seals personal data to.
    pub sealing_recipient: String,
    /// Seconds between heartbeats the node asks for.
    pub heartbeat_interval_s: u64,
    /// Version of the node's configuration (forms, master data, roster).
    pub config_version: String,
}

// ---------------------------------------------------------------------------------------------
// Submissions

/// One submission as it travels: routing metadata in clear, personal data sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Submission id (UUIDv7), chosen by the terminal; the idempotency key.
    pub id: Uuid,
    /// Which form.
    pub kind: SubmissionKind,
    /// When the applicant submitted it at the terminal.
    pub created_at: DateTime<Utc>,
    /// Version of the form definition the answers follow.
    pub form_version: String,
    /// The age-encrypted [`SubmissionContent`] (binary age format), standard base64.
    pub sealed: String,
}

/// `POST /v1/submissions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionBatch {
    /// Between 1 and [`MAX_BATCH`] envelopes.
    pub envelopes: Vec<Envelope>,
}

/// Most envelopes a node accepts in one batch.
pub const MAX_BATCH: usize = 500;

/// The node's verdict on one envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SubmissionOutcome {
    /// Newly stored under a case number.
    Accepted {
        /// The node's case number.
        case_number: String,
        /// Whether the applicant may already be registered (absent from nodes that do not
        /// check). An application is never refused for it: a possible duplicate is filed and
        /// flagged for staff review.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duplicate_check: Option<DuplicateCheck>,
        /// The node's check of the referral the application carried (absent when it carried
        /// none, and from nodes that do not check). A bad referral never refuses the
        /// application: it is filed, and the referral is refused with a reason for staff.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        referral_check: Option<ReferralCheck>,
    },
    /// This id was accepted before; the answer is the one given then.
    Duplicate {
        /// The case number given the first time.
        case_number: String,
    },
    /// Permanently refused: sending it again will not help.
    Rejected {
        /// Why, for the technician and the dead-letter list.
        reason: String,
    },
}

/// The node's check of a new application against the persons already registered, in its
/// own province and (when it has one) at headquarters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateCheck {
    /// The strongest decision over every match: `distinct` when nothing matched.
    pub decision: DuplicateDecision,
    /// The registered cases the applicant may be, strongest first.
    #[serde(default)]
    pub matches: Vec<MatchedCase>,
    /// Whether headquarters (every province) was asked.
    pub headquarters: HeadquartersCheck,
}

/// What a duplicate check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateDecision {
    /// The same person is registered: filed and flagged for review.
    Duplicate,
    /// Perhaps the same person: filed and flagged for review.
    Possible,
    /// Nobody registered matches.
    Distinct,
}

/// A registered case an applicant may be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedCase {
    /// Its case number.
    pub case_number: String,
    /// Governorate code of the province that registered it, e.g. `BSR`.
    pub province: String,
    /// `duplicate` or `possible`.
    pub decision: DuplicateDecision,
}

/// Whether headquarters took part in a duplicate check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadquartersCheck {
    /// Headquarters checked every province and recorded the applicant.
    Checked,
    /// Headquarters could not be reached: only this province was checked; the node checks
    /// again later.
    NotChecked,
    /// This node works without headquarters.
    NotConfigured,
}

/// Per-envelope result, in the order of the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionResult {
    /// The envelope's id.
    pub id: Uuid,
    /// What the node decided.
    #[serde(flatten)]
    pub outcome: SubmissionOutcome,
}

/// Answer to `POST /v1/submissions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResponse {
    /// One result per envelope.
    pub results: Vec<SubmissionResult>,
}

/// The plaintext inside [`Envelope::sealed`]. Only the node can read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmissionContent {
    /// Same as the envelope's id, so a sealed blob cannot be moved to another envelope unseen.
    pub id: Uuid,
    /// Same as the envelope's kind.
    pub kind: SubmissionKind,
    /// Id of the form definition (`application`, `grievance`).
    pub form_id: String,
    /// Same as the envelope's form version.
    pub form_version: String,
    /// Language the applicant used at the terminal (`ar`, `ckb`, `en`).
    pub language: String,
    /// Field id → answer, as the form definition describes them.
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// Staff id when a staff member captured it on the applicant's behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assisted_by: Option<String>,
    /// The terminal that captured it.
    pub terminal_id: String,
    /// Staff submitted it although the terminal warned that the applicant may already be
    /// registered (see [`PrecheckRequest`]), for this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_override: Option<DuplicateOverride>,
    /// The partner referral the household brought (typed short code, or the scanned QR
    /// payload); absent when there was none, and from older terminals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<AttachedReferral>,
    /// The targeting questionnaire answered with the application, when the node serves one
    /// (a form [`TARGETING_FORM_ID`]); absent from older terminals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targeting: Option<QuestionnaireAnswers>,
}

// ---------------------------------------------------------------------------------------------
// Referrals (see [`crate::referral`] for the format)

/// A partner referral an application carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedReferral {
    /// The short code (`WFP-K7M-2Q9-XAT`), as typed or derived from the payload.
    pub code: String,
    /// The whole signed referral (the QR payload), when the kiosk has it: scanned, or looked up
    /// with `GET /v1/referrals/{code}`. Without it the node looks the code up itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
}

/// Whether the node took a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// Valid, and now used by this application.
    Accepted,
    /// Not taken, for [`ReferralCheck::reason`]; the application is filed all the same.
    Refused,
}

/// Why a node refused a referral. Readers map a reason they do not know to `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralRefusal {
    /// Not a referral's format (payload or short code).
    Malformed,
    /// The partner is not trusted at this node.
    UnknownPartner,
    /// The signature is not the partner's: altered or forged.
    SignatureInvalid,
    /// Dated after the day it was used.
    NotYetValid,
    /// Past its expiry date.
    Expired,
    /// Another application (in this or another province) already used it.
    AlreadyUsed,
    /// Only a short code came, and this node has no referral under it.
    UnknownCode,
    /// A reason this software does not know.
    #[serde(other)]
    Other,
}

impl ReferralRefusal {
    /// Every reason, in the order reports list them.
    pub const ALL: [ReferralRefusal; 8] = [
        ReferralRefusal::Malformed,
        ReferralRefusal::UnknownPartner,
        ReferralRefusal::SignatureInvalid,
        ReferralRefusal::NotYetValid,
        ReferralRefusal::Expired,
        ReferralRefusal::AlreadyUsed,
        ReferralRefusal::UnknownCode,
        ReferralRefusal::Other,
    ];

    /// The wire name (`malformed`, `unknown_partner`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ReferralRefusal::Malformed => "malformed",
            ReferralRefusal::UnknownPartner => "unknown_partner",
            ReferralRefusal::SignatureInvalid => "signature_invalid",
            ReferralRefusal::NotYetValid => "not_yet_valid",
            ReferralRefusal::Expired => "expired",
            ReferralRefusal::AlreadyUsed => "already_used",
            ReferralRefusal::UnknownCode => "unknown_code",
            ReferralRefusal::Other => "other",
        }
    }

    /// The reason of a wire name (`other` for any it does not know).
    pub fn from_wire(text: &str) -> ReferralRefusal {
        ReferralRefusal::ALL.into_iter().find(|r| r.as_str() == text).unwrap_or(ReferralRefusal::Other)
    }
}

/// The node's check of the referral an application carried, in its `accepted` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralCheck {
    /// The referral's short code.
    pub code: String,
    /// `accepted` or `refused`.
    pub status: ReferralStatus,
    /// Why it was refused (absent when accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReferralRefusal>,
    /// For an accepted referral, whether headquarters confirmed no other province used it:
    /// `checked`, `not_checked` (unreachable; the node claims it again later, and a late
    /// refusal is recorded for staff at the node), `not_configured`. Absent when refused here
    /// (headquarters is not asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headquarters: Option<HeadquartersCheck>,
}

/// Answer to `GET /v1/referrals/{code}`: what a kiosk prefills an application with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralLookup {
    /// The canonical short code.
    pub code: String,
    /// The whole signed referral, to attach to the application.
    pub payload: String,
    /// The partner's code.
    pub partner: String,
    /// Members of the household.
    pub household_size: u8,
    /// Governorate code.
    pub governorate: String,
    /// The partner's case number.
    pub partner_case: String,
    /// Issue date.
    pub issued_on: NaiveDate,
    /// Last valid day.
    pub expires_on: NaiveDate,
    /// Whether an application may still use it today.
    pub usable: bool,
    /// Why not, when not usable (`expired`, `already_used`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReferralRefusal>,
}

/// Why staff submitted an application despite the early duplicate warning. A fixed list, not
/// free text: the reason goes into audit logs, which must never hold personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideReason {
    /// The earlier application was refused and the household applies again.
    PreviousApplicationRefused,
    /// The household moved here from another province.
    MovedFromAnotherProvince,
    /// The earlier record holds wrong data that this application corrects.
    DataCorrection,
    /// Something else, explained to the node's staff in person.
    Other,
}

impl OverrideReason {
    /// Every reason, in the order a screen offers them.
    pub const ALL: [OverrideReason; 4] =
        [OverrideReason::PreviousApplicationRefused, OverrideReason::MovedFromAnotherProvince, OverrideReason::DataCorrection, OverrideReason::Other];

    /// The wire name (`previous_application_refused`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            OverrideReason::PreviousApplicationRefused => "previous_application_refused",
            OverrideReason::MovedFromAnotherProvince => "moved_from_another_province",
            OverrideReason::DataCorrection => "data_correction",
            OverrideReason::Other => "other",
        }
    }
}

/// A staff member's decision to submit despite the early duplicate warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateOverride {
    /// Why.
    pub reason: OverrideReason,
}

// ---------------------------------------------------------------------------------------------
// Pre-check

/// `POST /v1/precheck`: is this national id already registered? Asked by a terminal before it
/// submits an application, so the kiosk can warn early. The node decides on submission anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrecheckRequest {
    /// National ID number, 12 digits (Arabic-Indic digits accepted).
    pub national_id: String,
}

/// What the pre-check found, and nothing more: never whose record, which case or where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrecheckResult {
    /// Someone with this national id is already registered (or has applied).
    Registered,
    /// Nothing is known under this national id.
    NotFound,
}

/// Answer to `POST /v1/precheck`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrecheckResponse {
    /// `registered` or `not_found`.
    pub result: PrecheckResult,
}

// ---------------------------------------------------------------------------------------------
// Status

/// How an applicant identifies themselves for a status check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum StatusQuery {
    /// The national ID number, read from the ID card.
    NationalId {
        /// National ID number (digits).
        national_id: String,
    },
    /// The reference printed on a receipt, plus the date of birth as a second factor.
    Reference {
        /// Short reference (`XXXXX-XXXXX`) or the full submission id.
        reference: String,
        /// Applicant's date of birth.
        date_of_birth: NaiveDate,
    },
}

/// `POST /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRequest {
    /// Who is asking.
    pub query: StatusQuery,
}

/// Where an applicant's benefit or application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BenefitState {
    /// Received, not yet looked at.
    Received,
    /// Being verified (documents, field visit, cross-province check).
    UnderReview,
    /// Approved and being paid.
    Active,
    /// Payments paused; see the message.
    Suspended,
    /// Not eligible; see the message.
    Rejected,
    /// Nothing matches what was given.
    NotFound,
}

/// Answer to a status query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    /// The state in one word.
    pub state: BenefitState,
    /// Case number, when there is a case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_number: Option<String>,
    /// Date of the last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<NaiveDate>,
    /// Date of the next payment, for active benefits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_payment_on: Option<NaiveDate>,
    /// The status in plain words, in the three languages.
    pub message: LocalizedText,
}

// ---------------------------------------------------------------------------------------------
// Heartbeat

/// `POST /v1/heartbeat`: terminal health, every minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Version of the terminal software.
    pub software_version: String,
    /// Submissions waiting to be sent.
    pub queue_depth: u64,
    /// Age in seconds of the oldest unsent submission, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_unsent_age_s: Option<u64>,
    /// Submissions the node refused, waiting for a technician.
    pub dead_letters: u64,
    /// Printer state: `ok`, `paper_low`, `paper_out`, `cover_open`, `offline`, `absent`.
    pub printer: String,
    /// Card reader state: `ok`, `fault`, `absent`.
    pub reader: String,
    /// Free bytes on the storage volume.
    pub disk_free_bytes: u64,
    /// When the terminal sent it.
    pub sent_at: DateTime<Utc>,
    /// The oldest unsent submission has waited longer than the terminal's `[sync]
    /// max_days_without_delivery`: its staff are told on screen, and the node lists it
    /// (`provincial-node terminals --stale`). Absent means false (and from older terminals).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delivery_overdue: bool,
}

/// Answer to a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatResponse {
    /// Current configuration version; a terminal holding another fetches `GET /v1/config`.
    pub config_version: String,
    /// The node's clock, so a terminal can notice its own drift.
    pub server_time: DateTime<Utc>,
    /// Version of the node's service directory; a terminal holding another fetches
    /// `GET /v1/service-directory`. Absent when the node has none (and from older nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_directory_version: Option<String>,
    /// The node's endorsement of this terminal's key for signing referral slips
    /// ([`crate::slip::EndorsedCertificate::text`]), valid a few weeks and renewed in every
    /// answer. Absent when the node issues none (and from older nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal_certificate: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Configuration

/// `GET /v1/config`: everything a terminal needs to run the node's forms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeConfig {
    /// Changes whenever anything below changes.
    pub version: String,
    /// Province the node serves.
    pub province: String,
    /// Form definitions (at least `application` and `grievance`).
    pub forms: Vec<FormDefinition>,
    /// Reference lists used by the forms.
    pub master_data: MasterData,
    /// Staff allowed to log in at this province's terminals.
    pub staff: StaffRoster,
    /// Which digits each language shows dates and numbers in (Western when absent).
    #[serde(default)]
    pub digits: DigitsByLanguage,
    /// The partners whose referrals this node trusts, with their public keys, so a kiosk can
    /// verify a scanned referral offline ([`crate::referral::verify`] with
    /// [`ReferralPartner::trusted`]). Empty when absent (older nodes).
    #[serde(default)]
    pub referral_partners: Vec<ReferralPartner>,
}

/// A partner whose referrals the node trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralPartner {
    /// The partner's code, as in its referrals (`WFP`).
    pub code: String,
    /// Its name, for staff.
    pub name: String,
    /// Its Ed25519 public keys, standard base64 (more than one while it rotates them).
    pub public_keys: Vec<String>,
}

impl ReferralPartner {
    /// The trusted keys of `partners`, for [`crate::referral::verify`]; a key that is not a
    /// valid Ed25519 public key trusts nothing and is left out.
    pub fn trusted(partners: &[ReferralPartner]) -> Vec<crate::referral::TrustedPartner> {
        use base64::Engine;
        partners
            .iter()
            .flat_map(|p| p.public_keys.iter().map(move |k| (p, k)))
            .filter_map(|(p, key)| {
                let bytes: [u8; 32] = base64::engine::general_purpose::STANDARD.decode(key.trim()).ok()?.try_into().ok()?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok()?;
                Some(crate::referral::TrustedPartner { code: p.code.clone(), key })
            })
            .collect()
    }
}

/// The digits people read numbers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Digits {
    /// `0123456789`.
    #[default]
    Western,
    /// `٠١٢٣٤٥٦٧٨٩` (U+0660–U+0669), as Iraqi Arabic and Kurdish Sorani print them.
    Eastern,
}

/// [`Digits`] per language of the terminal; what is stored and sent is always Western.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DigitsByLanguage {
    /// Arabic.
    #[serde(default)]
    pub ar: Digits,
    /// Kurdish Sorani.
    #[serde(default)]
    pub ckb: Digits,
    /// English.
    #[serde(default)]
    pub en: Digits,
}

impl DigitsByLanguage {
    /// The digits of `language` (`ar`, `ckb`, `en`); Western for any other.
    pub fn for_language(&self, language: &str) -> Digits {
        match language {
            "ar" => self.ar,
            "ckb" => self.ckb,
            "en" => self.en,
            _ => Digits::Western,
        }
    }
}

/// A form: ordered steps of fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormDefinition {
    /// `application`, `grievance` or `targeting` (the questionnaire an application carries).
    pub id: String,
    /// What a submission of this form is.
    pub kind: SubmissionKind,
    /// Version; travels with each submission.
    pub version: String,
    /// Title shown at the top of the form.
    pub title: LocalizedText,
    /// Steps, shown one per screen.
    pub steps: Vec<FormStep>,
}

/// One screen of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormStep {
    /// Stable id of the step.
    pub id: String,
    /// Heading of the step.
    pub title: LocalizedText,
    /// Fields on this step.
    pub fields: Vec<FormField>,
    /// Skip logic for the whole step (see [`FormField::show_when`]); always shown when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_when: Option<ShowWhen>,
}

/// Kinds of field a form can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Free text in one script (see [`FormField::script`]).
    Text,
    /// Whole number.
    Number,
    /// Calendar date (`YYYY-MM-DD`).
    Date,
    /// One of [`FormField::options`].
    Choice,
    /// A governorate code from the master data.
    Governorate,
    /// A district code of the chosen governorate.
    District,
    /// National ID number (12 digits on the unified card).
    NationalId,
    /// Phone number (digits, leading 07 in Iraq).
    Phone,
    /// A list of household members, each with [`FormField::member_fields`].
    HouseholdMembers,
}

/// Script a text field is typed in; one per field so entry never mixes directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Script {
    /// Arabic letters (Arabic or Kurdish Sorani keyboard).
    Arabic,
    /// Latin letters.
    Latin,
    /// Digits only.
    Digits,
}

/// One choice of a [`FieldType::Choice`] field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceOption {
    /// Value stored in the answers.
    pub value: String,
    /// What the applicant sees.
    pub label: LocalizedText,
}

/// One field and its validation rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    /// Key in [`SubmissionContent::answers`].
    pub id: String,
    /// Label shown next to the field.
    pub label: LocalizedText,
    /// Kind of field.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Whether an answer is needed.
    #[serde(default)]
    pub required: bool,
    /// For text: which keyboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<Script>,
    /// For text: shortest accepted length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// For text: longest accepted length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// For text, national id and phone: a regular expression the whole answer must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// For number: smallest value; for date: earliest date is not expressed here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// For number: largest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// For choice: the options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    /// For household members: the fields asked of each member.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_fields: Vec<FormField>,
    /// Help shown under the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<LocalizedText>,
    /// Skip logic: the field is asked only when this condition on an earlier answer holds;
    /// otherwise it is hidden, never required and must have no answer. Always asked when absent
    /// (and in definitions from older nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_when: Option<ShowWhen>,
}

/// A condition on one earlier answer of the same scope (form, or household member), deciding
/// whether a field or step is shown. Exactly one of `equals`, `one_of`, `at_least` is set;
/// kept declarative on purpose: a node operator edits it in JSON, and every side (terminal,
/// node, kiosk) evaluates it with [`ShowWhen::holds`], so they cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowWhen {
    /// Id of the answer the condition looks at.
    pub field: String,
    /// Holds when the answer is this value (a choice value, or a number written as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// Holds when the answer is one of these values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub one_of: Vec<String>,
    /// Holds when the answer is a whole number at least this large (a household-members
    /// answer counts its members).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<i64>,
}

impl ShowWhen {
    /// Whether the condition holds for `answers` (the JSON answers of the scope). An absent
    /// answer satisfies no condition, so a follow-up question waits for its trigger.
    pub fn holds(&self, answers: &serde_json::Map<String, serde_json::Value>) -> bool {
        use serde_json::Value;
        let Some(answer) = answers.get(&self.field) else { return false };
        let text = match answer {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        if let Some(expected) = &self.equals {
            if text.as_deref() != Some(expected.as_str()) {
                return false;
            }
        }
        if !self.one_of.is_empty() && !text.as_ref().is_some_and(|t| self.one_of.iter().any(|o| o == t)) {
            return false;
        }
        if let Some(min) = self.at_least {
            let n = match answer {
                Value::Array(members) => Some(members.len() as i64),
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            };
            if n.is_none_or(|n| n < min) {
                return false;
            }
        }
        self.equals.is_some() || !self.one_of.is_empty() || self.at_least.is_some()
    }

    /// What is wrong with the condition as written, if anything (for the node's checks of an
    /// operator's file).
    pub fn problem(&self) -> Option<String> {
        let set = usize::from(self.equals.is_some()) + usize::from(!self.one_of.is_empty()) + usize::from(self.at_least.is_some());
        (set != 1).then(|| format!("show_when on '{}' must set exactly one of equals, one_of, at_least (it sets {set})", self.field))
    }
}

impl FormField {
    /// A required field with no other rule: the start of a definition, completed with struct
    /// update syntax (`FormField { max: Some(20), ..FormField::new(…) }`).
    pub fn new(id: &str, label: LocalizedText, field_type: FieldType) -> FormField {
        FormField {
            id: id.into(),
            label,
            field_type,
            required: true,
            script: None,
            min_length: None,
            max_length: None,
            pattern: None,
            min: None,
            max: None,
            options: Vec::new(),
            member_fields: Vec::new(),
            hint: None,
            show_when: None,
        }
    }

    /// Whether the field is asked, given the answers of its scope so far.
    pub fn shown(&self, answers: &serde_json::Map<String, serde_json::Value>) -> bool {
        self.show_when.as_ref().is_none_or(|c| c.holds(answers))
    }
}

impl FormStep {
    /// Whether the step is shown, given the form's answers so far.
    pub fn shown(&self, answers: &serde_json::Map<String, serde_json::Value>) -> bool {
        self.show_when.as_ref().is_none_or(|c| c.holds(answers))
    }
}

/// Id of the proxy-means-test targeting questionnaire among [`NodeConfig::forms`].
pub const TARGETING_FORM_ID: &str = "targeting";

/// The targeting questionnaire's answers carried by an application
/// ([`SubmissionContent::targeting`]): scored by the node, never by the terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionnaireAnswers {
    /// Id of the form ([`TARGETING_FORM_ID`]).
    pub form_id: String,
    /// Version of the questionnaire the answers follow.
    pub form_version: String,
    /// Field id → answer; hidden fields (skip logic) have none.
    pub answers: serde_json::Map<String, serde_json::Value>,
}

/// Reference lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterData {
    /// Iraq's governorates with their districts.
    pub governorates: Vec<Governorate>,
}

/// A governorate (province).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Governorate {
    /// Stable code, e.g. `BGD`.
    pub code: String,
    /// Name in the three languages.
    pub name: LocalizedText,
    /// Its districts (qadha).
    pub districts: Vec<District>,
}

/// A district (qadha) of a governorate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct District {
    /// Stable code, unique within the governorate.
    pub code: String,
    /// Name in the three languages.
    pub name: LocalizedText,
}

/// Who may log in, and how their badge and PIN are checked offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRoster {
    /// Key for badge hashes: HMAC-SHA256(key, card UID bytes), standard base64.
    pub badge_hash_key: String,
    /// The staff.
    pub members: Vec<StaffMember>,
}

/// Staff roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// One-Stop-Shop staff: assisted enrollment, queue review.
    Staff,
    /// Technician: provisioning, hardware tests, diagnostics.
    Technician,
}

/// One staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    /// Staff id, recorded with assisted submissions and in the audit log.
    pub staff_id: String,
    /// Name shown after login.
    pub display_name: String,
    /// Role.
    pub role: StaffRole,
    /// HMAC-SHA256 of the badge's card UID under [`StaffRoster::badge_hash_key`], lower-case hex.
    pub badge_hash: String,
    /// Argon2id hash of the PIN, PHC string format.
    pub pin_hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_is_flattened_with_a_tag() {
        let r = SubmissionResult {
            id: Uuid::nil(),
            outcome: SubmissionOutcome::Accepted { case_number: "BGD-1".into(), duplicate_check: None, referral_check: None },
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["outcome"], "accepted");
        assert_eq!(v["case_number"], "BGD-1");
        assert!(v.get("duplicate_check").is_none(), "old terminals get the old shape");
        let back: SubmissionResult = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn accepted_carries_the_duplicate_check_when_there_is_one() {
        let json = r#"{"id":"00000000-0000-0000-0000-000000000000","outcome":"accepted","case_number":"BGD-2026-000007",
            "duplicate_check":{"decision":"duplicate","headquarters":"checked",
            "matches":[{"case_number":"BSR-2026-000001","province":"BSR","decision":"duplicate"}]}}"#;
        let r: SubmissionResult = serde_json::from_str(json).unwrap();
        let SubmissionOutcome::Accepted { duplicate_check: Some(check), .. } = &r.outcome else { panic!("{r:?}") };
        assert_eq!(check.decision, DuplicateDecision::Duplicate);
        assert_eq!(check.headquarters, HeadquartersCheck::Checked);
        assert_eq!(check.matches[0].province, "BSR");
        let old: SubmissionResult =
            serde_json::from_str(r#"{"id":"00000000-0000-0000-0000-000000000000","outcome":"accepted","case_number":"BGD-1"}"#).unwrap();
        assert_eq!(old.outcome, SubmissionOutcome::Accepted { case_number: "BGD-1".into(), duplicate_check: None, referral_check: None });
    }

    #[test]
    fn referral_checks_travel_and_unknown_reasons_read_as_other() {
        let json = r#"{"id":"00000000-0000-0000-0000-000000000000","outcome":"accepted","case_number":"BGD-2026-000007",
            "referral_check":{"code":"WFP-K7M-2Q9-XAT","status":"refused","reason":"revoked_by_partner","headquarters":"checked"}}"#;
        let r: SubmissionResult = serde_json::from_str(json).unwrap();
        let SubmissionOutcome::Accepted { referral_check: Some(check), .. } = &r.outcome else { panic!("{r:?}") };
        assert_eq!((check.status, check.reason), (ReferralStatus::Refused, Some(ReferralRefusal::Other)));
        let old: SubmissionContent = serde_json::from_str(
            r#"{"id":"00000000-0000-0000-0000-000000000000","kind":"application","form_id":"application","form_version":"2026.1",
                "language":"ar","answers":{},"terminal_id":"T-1"}"#,
        )
        .unwrap();
        assert_eq!(old.referral, None, "an older terminal sends no referral");
        assert!(serde_json::to_value(&old).unwrap().get("referral").is_none());
        assert_eq!(ReferralRefusal::from_wire("already_used"), ReferralRefusal::AlreadyUsed);
    }

    #[test]
    fn status_query_is_tagged_by() {
        let q: StatusRequest = serde_json::from_str(
            r#"{"query":{"by":"reference","reference":"7K2QX-M4B9R","date_of_birth":"1980-02-29"}}"#,
        )
        .unwrap();
        assert!(matches!(q.query, StatusQuery::Reference { .. }));
    }
}
