//! `/v1/simulator/…`: the controls of the simulated devices (demo, tests, fault drills). The
//! service offers them only with `[hardware] backend = "simulated"`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Body of `POST /v1/simulator/card`: the card to put on the simulated reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresentCard {
    /// UID in hex: 4, 7 or 10 bytes, e.g. `04A1B2C3D4E580`.
    pub uid: String,
    /// Makes it an ID card (beneficiary ID profile) holding this national ID number (12
    /// digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national_id: Option<String>,
    /// With `national_id`: the holder's date of birth, also on the card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<NaiveDate>,
    /// With `national_id` and `date_of_birth`: makes it a national ID card with an ICAO 9303
    /// chip (opened with the CAN or the MRZ key) instead of the open beneficiary ID profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emrtd: Option<SimulatedEmrtd>,
}

/// What a simulated national ID card's chip holds beyond the number and date of birth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatedEmrtd {
    /// The card access number printed on the card: six digits.
    pub can: String,
    /// The document number in the MRZ: up to nine letters and digits.
    pub document_number: String,
    /// The card's date of expiry.
    pub date_of_expiry: NaiveDate,
    /// The holder's name in DG11, ICAO style: surname, `<<`, given names separated by `<`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// A data group (1 or 11) altered after the card was signed: a forged card, whose read
    /// fails its integrity check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forged_data_group: Option<u8>,
}

/// Paper level of the simulated printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    /// Enough.
    Ok,
    /// Nearly out.
    #[serde(alias = "near-end")]
    NearEnd,
    /// None.
    Out,
}

/// Body of `POST /v1/simulator/printer`; the answer is a [`crate::PrinterEvent`], the
/// printer's state after the change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterDrill {
    /// Paper level; unchanged when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<Paper>,
    /// Cover; unchanged when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_open: Option<bool>,
}

/// Body of `POST /v1/simulator/scan`: the text of a code held under the simulated barcode
/// scanner (`[hardware.scanner] kind = "simulated"`), typed into the real HID decoder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatedScan {
    /// What the code holds: a referral slip's QR payload, or anything else to test refusals.
    pub text: String,
}
