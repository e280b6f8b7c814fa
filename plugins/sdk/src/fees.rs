//! Fee schedules: one declaration that `describe` publishes and `decide` charges from.
//!
//! A fee's [`FeeSchedule`] says how its amount follows from the form: a flat amount, an
//! amount per unit of a form field, tiers of per-unit amounts, a cap per item, how many
//! items, and who is exempt. The host shows the schedule in the catalog and quotes it
//! for a form before anyone files; the plugin asks for the fee with [`Fee::request`],
//! which computes the amount from the same schedule. Declare each fee once, in a
//! function, and use that function in both places, so the two cannot disagree:
//!
//! ```
//! use motcua_sdk::fees::scheduled_fee;
//! use motcua_sdk::types::{Fee, FeeSchedule};
//!
//! /// Phí chứng thực bản sao từ bản chính.
//! fn certification_fee() -> Fee {
//!     scheduled_fee(
//!         "certification",
//!         "Phí chứng thực bản sao từ bản chính",
//!         FeeSchedule::tiered("/pages", "trang")
//!             .tier(1, 2_000)
//!             .tier(3, 1_000)
//!             .cap_per_item(200_000)
//!             .items("/copies", "bản"),
//!         "Thông tư 226/2016/TT-BTC",
//!     )
//! }
//!
//! let fee = certification_fee();
//! assert_eq!(fee.amount(r#"{"pages": 3, "copies": 2}"#), Ok(10_000));
//! ```
//!
//! The amount is `items × min(price of one item, cap)`: a tiered price charges each
//! unit at the amount of the last tier starting at or before it (pages 1–2 at 2,000 đ,
//! page 3 on at 1,000 đ: 3 pages cost 5,000 đ).

use serde_json::Value;

use crate::builders::refuse;
use crate::types::{
    Fee, FeeRequest, FeeSchedule, ItemPrice, PerUnitPrice, Quantity, Refusal, Tier, TieredPrice,
};

/// A fee entry for `describe` with its schedule.
pub fn scheduled_fee(code: &str, name: &str, schedule: FeeSchedule, note: &str) -> Fee {
    Fee {
        code: code.into(),
        name: name.into(),
        schedule,
        note: note.into(),
    }
}

fn quantity(field: &str, unit: &str) -> Quantity {
    Quantity {
        field: field.into(),
        unit: unit.into(),
    }
}

impl FeeSchedule {
    /// The same amount whatever the form says.
    pub fn flat(amount_vnd: u64) -> FeeSchedule {
        FeeSchedule {
            price: ItemPrice::Flat(amount_vnd),
            cap_per_item_vnd: None,
            items: None,
            exemptions: Vec::new(),
        }
    }

    /// `amount_vnd` for each unit of the number at `field` (a JSON Pointer into the
    /// form, such as `"/copies"`); `unit` names what is counted (`"bản"`).
    pub fn per_unit(field: &str, unit: &str, amount_vnd: u64) -> FeeSchedule {
        FeeSchedule {
            price: ItemPrice::PerUnit(PerUnitPrice {
                quantity: quantity(field, unit),
                amount_vnd,
            }),
            ..FeeSchedule::flat(0)
        }
    }

    /// An amount set while the dossier is processed, from what the form cannot say (a
    /// land-use levy assessed after the site inspection): the catalog says so instead of
    /// showing an amount, and the plugin requests the fee when it knows it.
    pub fn assessed() -> FeeSchedule {
        FeeSchedule {
            price: ItemPrice::Assessed,
            ..FeeSchedule::flat(0)
        }
    }

    /// Tiers of per-unit amounts over the number at `field`; add them with
    /// [`FeeSchedule::tier`], the first starting at unit 1.
    pub fn tiered(field: &str, unit: &str) -> FeeSchedule {
        FeeSchedule {
            price: ItemPrice::Tiered(TieredPrice {
                quantity: quantity(field, unit),
                tiers: Vec::new(),
            }),
            ..FeeSchedule::flat(0)
        }
    }

    /// From the `starts_at`-th unit on (counting from 1), each unit costs `amount_vnd`.
    /// Only for a [`FeeSchedule::tiered`] price; add tiers in increasing order.
    #[must_use]
    pub fn tier(mut self, starts_at: u32, amount_vnd: u64) -> FeeSchedule {
        if let ItemPrice::Tiered(price) = &mut self.price {
            price.tiers.push(Tier {
                starts_at,
                amount_vnd,
            });
        }
        self
    }

    /// One item costs at most `cap_vnd`.
    #[must_use]
    pub fn cap_per_item(mut self, cap_vnd: u64) -> FeeSchedule {
        self.cap_per_item_vnd = Some(cap_vnd);
        self
    }

    /// The fee is charged once per item, the number of items read at `field`
    /// (`"/copies"`, unit `"bản"`).
    #[must_use]
    pub fn items(mut self, field: &str, unit: &str) -> FeeSchedule {
        self.items = Some(quantity(field, unit));
        self
    }

    /// Who pays nothing or less, as the law words it. Shown to applicants; the plugin
    /// decides whether an exemption applies.
    #[must_use]
    pub fn exempt(mut self, who: &str) -> FeeSchedule {
        self.exemptions.push(who.into());
        self
    }

    /// The amount this schedule charges for a form, or why it cannot be computed
    /// (code `"fee-not-computable"`: a count the form lacks, an amount beyond any fee,
    /// or an [assessed](FeeSchedule::assessed) amount).
    pub fn amount_for(&self, form: &Value) -> Result<u64, Refusal> {
        let price = match &self.price {
            ItemPrice::Flat(amount_vnd) => *amount_vnd,
            ItemPrice::PerUnit(price) => count(form, &price.quantity)?
                .checked_mul(price.amount_vnd)
                .ok_or_else(overflow)?,
            ItemPrice::Tiered(price) => {
                let units = count(form, &price.quantity)?;
                let mut total: u64 = 0;
                for (i, tier) in price.tiers.iter().enumerate() {
                    let first = u64::from(tier.starts_at.max(1));
                    let next = price.tiers.get(i + 1).map(|next| u64::from(next.starts_at));
                    let last = next.map_or(units, |next| units.min(next.saturating_sub(1)));
                    if last >= first {
                        let charged = (last - first + 1)
                            .checked_mul(tier.amount_vnd)
                            .ok_or_else(overflow)?;
                        total = total.checked_add(charged).ok_or_else(overflow)?;
                    }
                }
                total
            }
            ItemPrice::Assessed => {
                return Err(refuse(
                    "fee-not-computable",
                    "Khoản này được xác định trong quá trình giải quyết hồ sơ, không tính từ tờ khai.",
                ));
            }
        };
        let price = self.cap_per_item_vnd.map_or(price, |cap| price.min(cap));
        let items = match &self.items {
            Some(items) => count(form, items)?,
            None => 1,
        };
        items.checked_mul(price).ok_or_else(overflow)
    }
}

impl Fee {
    /// The amount of this fee for a form (the JSON the dossier carries as `form_json`).
    pub fn amount(&self, form_json: &str) -> Result<u64, Refusal> {
        let form: Value = serde_json::from_str(form_json).map_err(|error| {
            refuse(
                "fee-not-computable",
                format!("Không đọc được tờ khai để tính {}: {error}", self.name),
            )
        })?;
        self.schedule.amount_for(&form)
    }

    /// The request for this fee on a form, for `Effect::RequestFee`: its declared code
    /// and the amount its schedule gives. `None` when the amount is 0 (nothing to ask).
    pub fn request(&self, form_json: &str, reason: &str) -> Result<Option<FeeRequest>, Refusal> {
        let amount_vnd = self.amount(form_json)?;
        Ok((amount_vnd > 0).then(|| FeeRequest {
            code: self.code.clone(),
            amount_vnd,
            reason: reason.into(),
        }))
    }
}

fn count(form: &Value, quantity: &Quantity) -> Result<u64, Refusal> {
    form.pointer(&quantity.field)
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            refuse(
                "fee-not-computable",
                format!(
                    "Tờ khai không có số {} (`{}`) để tính phí.",
                    quantity.unit, quantity.field
                ),
            )
        })
}

fn overflow() -> Refusal {
    refuse(
        "fee-not-computable",
        "Số tiền phí vượt quá giới hạn tính được.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certification() -> Fee {
        scheduled_fee(
            "certification",
            "Phí chứng thực",
            FeeSchedule::tiered("/pages", "trang")
                .tier(1, 2_000)
                .tier(3, 1_000)
                .cap_per_item(200_000)
                .items("/copies", "bản"),
            "",
        )
    }

    #[test]
    fn tiers_cap_and_items_at_their_boundaries() {
        let fee = certification();
        let amount = |pages: u64, copies: u64| {
            fee.amount(&format!(r#"{{"pages": {pages}, "copies": {copies}}}"#))
                .unwrap()
        };
        assert_eq!(amount(1, 1), 2_000);
        assert_eq!(amount(2, 1), 4_000);
        assert_eq!(amount(3, 1), 5_000);
        assert_eq!(amount(198, 1), 200_000);
        assert_eq!(amount(199, 1), 200_000);
        assert_eq!(amount(3, 2), 10_000);
        assert_eq!(amount(0, 4), 0);
    }

    #[test]
    fn a_request_names_the_declared_code_and_skips_nothing_owed() {
        let fee = certification();
        let request = fee
            .request(r#"{"pages": 2, "copies": 3}"#, "Phí chứng thực")
            .unwrap()
            .unwrap();
        assert_eq!(request.code, "certification");
        assert_eq!(request.amount_vnd, 12_000);
        assert_eq!(
            fee.request(r#"{"pages": 0, "copies": 1}"#, "").unwrap(),
            None
        );
    }

    #[test]
    fn a_form_without_the_count_is_refused_by_name() {
        let refusal = certification().amount(r#"{"copies": 1}"#).unwrap_err();
        assert_eq!(refusal.code, "fee-not-computable");
        assert!(refusal.message.contains("/pages"), "{}", refusal.message);
        assert_eq!(
            certification().amount("not json").unwrap_err().code,
            "fee-not-computable"
        );
        let huge = format!(r#"{{"pages": 1, "copies": {}}}"#, u64::MAX);
        assert_eq!(
            certification().amount(&huge).unwrap_err().code,
            "fee-not-computable"
        );
    }

    #[test]
    fn flat_and_per_unit() {
        let flat = scheduled_fee("f", "F", FeeSchedule::flat(50_000), "");
        assert_eq!(flat.amount("{}"), Ok(50_000));
        let per_copy = scheduled_fee(
            "extract",
            "Bản sao trích lục",
            FeeSchedule::per_unit("/extract/copies", "bản", 8_000),
            "",
        );
        assert_eq!(per_copy.amount(r#"{"extract": {"copies": 3}}"#), Ok(24_000));
        let levy = scheduled_fee("levy", "Tiền sử dụng đất", FeeSchedule::assessed(), "");
        assert_eq!(levy.amount("{}").unwrap_err().code, "fee-not-computable");
    }
}
