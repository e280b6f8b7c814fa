//! The one crate a motcua procedure plugin depends on.
//!
//! A plugin is a pure decider: the host hands it a submission or a dossier snapshot and
//! a command, and it answers with findings, a decision or a refusal. This crate gives a
//! plugin author:
//!
//! - [`bindings`]: the Rust types and the `Guest` trait generated from the versioned
//!   contract in `wit/0.2.0`, plus [`export!`], which wires a type implementing
//!   [`Guest`] to the component's exports;
//! - small pure helpers that every procedure needs again and again: dates
//!   ([`date`]), citizen IDs and phone numbers ([`identity`]), the document checklist
//!   ([`documents`]), fee schedules that `describe` declares and `decide` charges from
//!   ([`fees`]), forms, payloads and settings read from JSON ([`json`]), and
//!   builders for findings, decisions and refusals ([`builders`]);
//! - the workflow pieces every procedure shares, to compose rather than copy: the
//!   standard intake (receive, refuse, request and complete a supplement: [`intake`])
//!   and payments (record one, wait until everything is paid: [`payment`]);
//! - JSON Schemas of forms and settings derived from their Rust types ([`schema`],
//!   with the [`JsonSchema`] derive re-exported);
//! - ready-made contract records for native unit tests of plugin rules ([`testing`]);
//! - thin wrappers over the host imports: [`log`], [`settings()`] and [`calendar`].
//!
//! The pure helpers never call a host import, so they (and the plugins' own rules,
//! written on top of them) can be unit-tested natively with `cargo test`. Only the
//! wrappers in [`log`], [`settings()`] and [`calendar`] need a host.
//!
//! ```ignore
//! use motcua_sdk::prelude::*;
//!
//! struct MyProcedure;
//!
//! impl Guest for MyProcedure {
//!     fn describe() -> ProcedureInfo { /* ... */ }
//!     fn check(submission: Submission) -> Vec<Finding> { /* ... */ }
//!     fn decide(dossier: Dossier, command: Command) -> Result<Decision, Refusal> { /* ... */ }
//! }
//!
//! motcua_sdk::export!(MyProcedure);
//! ```

/// Bindings generated from the `motcua:procedure@0.2.0` contract.
///
/// This is the only place the WIT is turned into Rust, so every plugin sees the same
/// types. The generated glue moves values across the component ABI with raw pointers,
/// which is why `unsafe` is allowed here and nowhere else in the crate.
#[allow(
    unsafe_code,
    reason = "the generated component ABI glue must use raw pointers"
)]
#[allow(missing_docs, clippy::all, reason = "generated code")]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/0.2.0",
        world: "procedure",
        // Plugin crates call `motcua_sdk::export!(MyPlugin)`; the macro must be public
        // and must find the generated types through this crate, not the caller's.
        pub_export_macro: true,
        default_bindings_module: "motcua_sdk::bindings",
        // Equality makes decisions and findings easy to assert on in plugin tests.
        additional_derives: [PartialEq, Eq],
    });
}

pub mod builders;
pub mod date;
pub mod documents;
pub mod fees;
pub mod identity;
pub mod intake;
pub mod json;
pub mod payment;
pub mod schema;
pub mod testing;

/// The schemars crate the [`JsonSchema`] derive expands to, re-exported so that plugin
/// crates need no dependency of their own (see [`schema`]).
pub use schemars;
/// Derives the JSON Schema of a form or settings struct; see [`schema`].
pub use schemars::JsonSchema;

pub use bindings::Guest;
/// Exports a type implementing [`Guest`] as the plugin's `describe`, `check` and
/// `decide`. Call it once, at the root of the plugin crate: `motcua_sdk::export!(MyPlugin);`.
#[doc(inline)]
pub use bindings::export;
/// The contract's shared vocabulary: dossiers, commands, decisions and so on.
pub use bindings::motcua::procedure::types;

pub use builders::{Findings, decision, fee, finding, refuse, requirement, step, unknown_action};

/// The province's working-day calendar, provided by the host.
///
/// Only callable inside a host; a native test that reaches it panics.
pub use bindings::motcua::procedure::calendar;

/// Everything a plugin usually needs, in one `use motcua_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::Guest;
    pub use crate::builders::{
        Findings, apology, decision, fee, finding, refuse, requirement, step, unknown_action,
    };
    pub use crate::date::{days_between, format_date, parse_date};
    pub use crate::documents::{
        missing_document_findings, missing_document_items, missing_requirements, require_complete,
        supplement_items,
    };
    pub use crate::fees::scheduled_fee;
    pub use crate::identity::{check_citizen_id, is_valid_citizen_id, is_valid_phone};
    pub use crate::intake::{Intake, Resume};
    pub use crate::json::{parse_form, parse_payload, parse_settings};
    pub use crate::payment::{RecordedPayment, owed, read_payment, require_paid};
    // `schemars` is here for the derive, whose expansion names it.
    pub use crate::schema::{form_schema_json, schema_json, settings_schema_json};
    pub use crate::types::*;
    pub use crate::{JsonSchema, schemars};
}

/// Shortcuts for the host's diagnostic log.
///
/// The host keeps each line with the plugin's name and version. Only callable inside a
/// host; a native test that reaches it panics, so keep logging out of pure helpers.
pub mod log {
    use crate::bindings::motcua::procedure::log::{Level, log};

    /// Logs a detail useful only while developing a plugin.
    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }

    /// Logs a notable but normal event.
    pub fn info(message: &str) {
        log(Level::Info, message);
    }

    /// Logs something surprising that the plugin worked around.
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }

    /// Logs something wrong that an operator should look at.
    pub fn error(message: &str) {
        log(Level::Error, message);
    }
}

/// Reads the calling unit's settings for this procedure through the host import.
///
/// The host validates settings against the plugin's settings schema before storing
/// them, so a parse failure here means the schema and the Rust type disagree. Rather
/// than fail every call of an otherwise working procedure, the plugin falls back to
/// the defaults and logs an error for the operator. Use [`json::parse_settings`] to
/// test the parsing natively.
pub fn settings<T>() -> T
where
    T: serde::de::DeserializeOwned + Default,
{
    let text = bindings::motcua::procedure::settings::get();
    match json::parse_settings(&text) {
        Ok(value) => value,
        Err(problem) => {
            log::error(&format!(
                "unit settings do not match the plugin's settings type, using defaults: {problem}"
            ));
            T::default()
        }
    }
}
