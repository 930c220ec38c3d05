//! Referrals out (issue 14): `GET /v1/services` (the services a household may be referred to,
//! from the node's service directory cached on the terminal) and `POST /v1/referral-slips`
//! (print a slip for one of them, with a QR code the receiving service verifies offline).
//!
//! The kiosk shows the list after a status check or an application and prints the chosen
//! service's slip; the slip's QR code is `node_protocol::slip`'s, signed by the terminal under
//! the node's endorsement.

use node_protocol::service_directory::{Service, ServiceCategory};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Query of `GET /v1/services`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicesQuery {
    /// Governorate code (`BGD`); default: the terminal's own province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governorate: Option<String>,
    /// District code within it; absent: every district's services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
}

/// Answer of `GET /v1/services`: the services of a place, each in the three languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceList {
    /// The directory's version (the node's).
    pub version: String,
    /// The governorate the list is for.
    pub governorate: String,
    /// The district, when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// The categories that have a service in the list, in the directory's order.
    pub categories: Vec<ServiceCategory>,
    /// The services: the district's and the whole governorate's, by category, then id.
    pub services: Vec<Service>,
}

/// Body of `POST /v1/referral-slips`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralSlipRequest {
    /// The service's `id` (from `GET /v1/services`).
    pub service_id: String,
    /// `ar`, `ckb` or `en`: the slip's language (name, address, hours, phone in it).
    pub language: String,
    /// The household's reference, when the slip follows an application captured here: the
    /// capture's `id` (its short reference is printed and signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_id: Option<Uuid>,
    /// Or the household's reference as the status check knew it: a receipt's short reference
    /// (`7K2QX-M4B9R`) or the node's case number (`BGD-2025-000142`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}
