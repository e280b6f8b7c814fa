//! Contract `motcua:procedure@0.2.0` (`wit/0.2.0`): fees declare their schedule.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::{Malformed, calendar_date};
use crate::domain;
use crate::fees::{FeeSchedule, ItemPrice, Quantity, Tier};
use crate::runtime::PluginCtx;

wasmtime::component::bindgen!({
    path: "../wit/0.2.0",
    world: "procedure",
    imports: { default: trappable },
});

pub use self::motcua::procedure::types as wit;

shared_conversions!();

fn quantity_from_wit(quantity: wit::Quantity) -> Quantity {
    Quantity {
        field: quantity.field,
        unit: quantity.unit,
    }
}

fn fee_from_wit(fee: wit::Fee) -> Result<domain::Fee, Malformed> {
    let schedule = fee.schedule;
    let price = match schedule.price {
        wit::ItemPrice::Flat(amount_vnd) => ItemPrice::Flat { amount_vnd },
        wit::ItemPrice::PerUnit(price) => ItemPrice::PerUnit {
            quantity: quantity_from_wit(price.quantity),
            amount_vnd: price.amount_vnd,
        },
        wit::ItemPrice::Assessed => ItemPrice::Assessed,
        wit::ItemPrice::Tiered(price) => ItemPrice::Tiered {
            quantity: quantity_from_wit(price.quantity),
            tiers: price
                .tiers
                .into_iter()
                .map(|tier| Tier {
                    starts_at: tier.starts_at,
                    amount_vnd: tier.amount_vnd,
                })
                .collect(),
        },
    };
    Ok(domain::Fee::new(
        fee.code,
        fee.name,
        FeeSchedule {
            price,
            cap_per_item_vnd: schedule.cap_per_item_vnd,
            items: schedule.items.map(quantity_from_wit),
            exemptions: schedule.exemptions,
        },
        fee.note,
    ))
}
