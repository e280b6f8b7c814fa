//! motcua: a province's administrative-procedure workflows as sandboxed WebAssembly
//! plugins over one shared dossier database. See ARCHITECTURE.md for the map.

pub mod accounts;
pub mod api;
pub mod app;
pub mod audit;
pub mod authz;
pub mod bundled;
pub mod calendar;
pub mod clock;
pub mod demo;
pub mod documents;
pub mod domain;
pub mod fees;
pub mod harness;
pub mod metrics;
pub mod registry;
pub mod reports;
pub mod runtime;
pub mod scaffold;
pub mod schema;
pub mod sessions;
pub mod store;
pub mod units;
pub mod web;
pub mod workflow;
