//! `GET /v1/forms`: the node's form definitions and master data as the terminal cached them
//! (never the staff roster, which stays inside the service).

use node_protocol::{FormDefinition, MasterData};
use serde::{Deserialize, Serialize};

/// Answer of `GET /v1/forms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forms {
    /// Version of the node configuration they come from.
    pub version: String,
    /// Province.
    pub province: String,
    /// Form definitions.
    pub forms: Vec<FormDefinition>,
    /// Governorates and districts.
    pub master_data: MasterData,
}
