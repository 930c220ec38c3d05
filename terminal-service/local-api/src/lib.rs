//! The local API v1 as Rust: what the kiosk (and the technician screen) and terminal-service
//! say to each other over the service's Unix socket.
//!
//! Both sides depend on this crate, so a change here is a change to the contract documented in
//! `terminal-service/openapi/local-v1.yaml`; the tests of this crate check the two against each
//! other (every example, every schema, every event). Where the local API carries what the node
//! said (a status answer, the forms and master data) it carries [`node_protocol`]'s types.
//!
//! One module per resource, as in terminal-service's `api/`:
//! - [`error`]: the body of every error answer;
//! - [`health`], [`kiosk`], [`forms`]: what the kiosk reads to draw its screens;
//! - [`capture`]: applications and grievances; [`precheck`]: the early duplicate warning
//!   before an application; [`status`]: status checks;
//! - [`queue`]: the outbox seen from outside; [`diagnostics`]: sync engine and audit log;
//! - [`session`]: staff login; [`provisioning`]: enrolling the terminal with its node;
//! - [`services`]: referrals out, the services of a place and the signed referral slip;
//! - [`receipts`]: printing; [`hardware`]: the card reader and printer; [`simulator`]: the
//!   simulated devices' controls;
//! - [`events`]: the server-sent events of `GET /v1/events`, one typed [`Event`].
//!
//! And one rule both sides apply to what they show people: [`display`] (dates, times and
//! numbers on the kiosk's screens and on receipts).
//!
//! Requests are read strictly (unknown fields refused: they come from the kiosk, built against
//! this very crate); answers are read leniently (unknown fields ignored), so a newer service
//! may add to them.

#![deny(missing_docs)]

pub mod capture;
pub mod diagnostics;
pub mod display;
pub mod error;
pub mod events;
pub mod forms;
pub mod hardware;
pub mod health;
pub mod kiosk;
pub mod precheck;
pub mod provisioning;
pub mod queue;
pub mod receipts;
pub mod referrals;
pub mod services;
pub mod session;
pub mod simulator;
pub mod status;

pub use capture::{CaptureRequest, Captured};
pub use diagnostics::{AuditCategory, AuditEntry, Diagnostics, SyncDiagnostics, SyncPhase};
pub use error::{ErrorBody, FieldError};
pub use events::{CardEvent, CardState, Event, EventError, PrinterEvent, QueueEvent, ScanEvent, ScanProblem, SessionEvent, SessionState, SubmissionEvent, SubmissionState};
pub use forms::Forms;
pub use hardware::{CardAccess, CardName, CardRead, DeviceReport, IdCardProfile, MrzAccess, ReadIdCard, Hardware, HardwareBackend, PrinterReport, PrinterState, ReaderReport, ReaderState};
pub use health::{Connectivity, ConnectivityState, Health};
pub use kiosk::KioskSettings;
pub use node_protocol::{DuplicateOverride, OverrideReason};
pub use precheck::{NodeFinding, Precheck, PrecheckRequest};
pub use provisioning::{ProvisionOutcome, ProvisionRequest};
pub use queue::{DeadLetter, PendingSubmission, Queue, QueueCounts, QueueStats, RefusedReferral};
pub use referrals::{ReferralCheckAnswer, ReferralCheckRequest, ReferralCheckStatus, ReferralPrefill};
pub use receipts::{PrintReceipt, Printed, StatusSlip};
pub use services::{ReferralSlipRequest, ServiceList, ServicesQuery};
pub use session::{EndReason, Login, Session};
pub use simulator::{Paper, PresentCard, PrinterDrill, SimulatedEmrtd, SimulatedScan};
pub use status::{StatusQuery, StatusRequest};

/// Path prefix of every local API route.
pub const API_PREFIX: &str = "/v1";
