//! `POST /v1/status-checks`: an applicant's status, asked of the node live. The answer is the
//! node's own [`node_protocol::StatusResponse`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Body of `POST /v1/status-checks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// Who is asking.
    pub query: StatusQuery,
}

/// How an applicant identifies themselves: the node's [`node_protocol::StatusQuery`], plus
/// the ID card on the reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum StatusQuery {
    /// By national ID number: 12 digits (Arabic-Indic digits accepted).
    NationalId {
        /// The number as typed.
        national_id: String,
    },
    /// By receipt reference and date of birth.
    Reference {
        /// `XXXXX-XXXXX` or the full submission id.
        reference: String,
        /// Date of birth, the second factor.
        date_of_birth: NaiveDate,
    },
    /// By the ID card on the reader: the service reads the national ID number from the card and
    /// asks the node with it; the number never reaches the kiosk.
    IdCard {
        /// The key that opens a national ID card's chip (`id_card_profile` `emrtd` or `both`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access: Option<crate::hardware::CardAccess>,
    },
}

impl From<node_protocol::StatusQuery> for StatusQuery {
    fn from(query: node_protocol::StatusQuery) -> StatusQuery {
        match query {
            node_protocol::StatusQuery::NationalId { national_id } => StatusQuery::NationalId { national_id },
            node_protocol::StatusQuery::Reference { reference, date_of_birth } => StatusQuery::Reference { reference, date_of_birth },
        }
    }
}
