//! Contract `motcua:procedure@0.1.0` (`wit/0.1.0`): the first contract, whose fees are
//! one flat amount each.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::{Malformed, calendar_date};
use crate::domain;
use crate::fees::FeeSchedule;
use crate::runtime::PluginCtx;

wasmtime::component::bindgen!({
    path: "../wit/0.1.0",
    world: "procedure",
    imports: { default: trappable },
});

pub use self::motcua::procedure::types as wit;

shared_conversions!();

/// A 0.1.0 fee is one flat amount: a flat schedule.
fn fee_from_wit(fee: wit::Fee) -> Result<domain::Fee, Malformed> {
    Ok(domain::Fee::new(
        fee.code,
        fee.name,
        FeeSchedule::flat(fee.amount_vnd),
        fee.note,
    ))
}
