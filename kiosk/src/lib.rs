//! The kiosk: the touchscreen application of the enrollment terminal, in Arabic, Kurdish Sorani
//! and English.
//!
//! Read [`flow`] first: it is what every touch does, one module per screen. The screens are
//! `.slint` files under `kiosk/ui/` (one per screen with its global of callbacks, shared widgets
//! in `common.slint`, the enums for screens and states in `types.slint`), compiled by `build.rs`
//! into [`ui`] with the Arabic and Kurdish translations
//! (`kiosk/translations/*/LC_MESSAGES/kiosk.po`) bundled in.
//! [`api`] is the only way out of the process: terminal-service's local API on a Unix socket.
//! [`forms`] walks the node's form definitions and holds an applicant's answers for one session.
//! [`fonts`] makes the shipped fonts the fallback for text in another script.
//! [`panel`] finds the panel's size in millimetres, so that `1mm` on screen is a real one.
//! [`remembered_language`] keeps the language on screen across restarts (`--state-dir`).
//!
//! Architecture invariant: the kiosk keeps no data of its own. The only file it ever writes is
//! the code of the language on screen (with `--state-dir`), and when a session ends or times out
//! [`flow::Kiosk::end_session`] replaces the whole state, which drops every answer, reference and
//! PIN that was typed.

pub mod api;
pub mod flow;
pub mod fonts;
pub mod forms;
pub mod panel;
pub mod remembered_language;

/// The compiled `.slint` UI.
pub mod ui {
    #![allow(missing_docs, clippy::all)]
    slint::include_modules!();
}
