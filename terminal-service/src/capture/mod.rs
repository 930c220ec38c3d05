//! Capturing a submission: answers checked against the cached form, sealed to the node's key,
//! and committed to the outbox before the kiosk hears "saved".

pub mod applicant_key;
pub mod forms;
pub mod outbox;
pub mod seal;
pub mod storage;
pub mod submission;
