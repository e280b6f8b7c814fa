//! Fee schedules: how the amount of a fee follows from what the applicant files.
//!
//! A build of contract 0.2.0 declares each fee with a schedule: one item's price (flat,
//! per unit of a form field, or tiered by the unit's rank), an optional cap per item,
//! how many items (a form field, or one) and who is exempt. A build of contract 0.1.0
//! declares one flat amount, which becomes a flat schedule.
//!
//! The host computes a schedule's amount for a form ([`FeeSchedule::amount`]) so that the
//! catalog can quote a fee before anyone files (`POST /api/v1/procedures/{code}/fees/quote`).
//! The SDK's fee builder computes the same from the same declaration, and a test holds
//! the two to the same figures at every boundary of a tiered schedule.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A number the applicant gives on the form: how many pages, copies, square metres.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Quantity {
    /// JSON Pointer (RFC 6901) into the form, e.g. `/pages`.
    pub field: String,
    /// What is counted, as shown to the applicant: `trang`, `bản`.
    pub unit: String,
}

/// One band of a tiered price: from the `starts_at`-th unit on (counting from 1), each
/// unit costs `amount_vnd`, until the next band begins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tier {
    pub starts_at: u32,
    pub amount_vnd: u64,
}

/// What one item costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ItemPrice {
    /// The same amount whatever the form says.
    Flat { amount_vnd: u64 },
    /// An amount per unit of a form field.
    PerUnit { quantity: Quantity, amount_vnd: u64 },
    /// Bands of per-unit amounts; each unit is charged at the amount of its band.
    Tiered {
        quantity: Quantity,
        tiers: Vec<Tier>,
    },
    /// Set while the dossier is processed, from what the form cannot say (a land-use
    /// levy assessed after the site inspection): nothing to quote before filing.
    Assessed,
}

/// How the amount of a fee is computed: `items × min(price of one item, cap_per_item_vnd)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeeSchedule {
    pub price: ItemPrice,
    /// The most one item costs, when the law caps it.
    pub cap_per_item_vnd: Option<u64>,
    /// How many items are charged, read from the form; none means one.
    pub items: Option<Quantity>,
    /// Who pays nothing or less, as the law words it: shown, not computed.
    pub exemptions: Vec<String>,
}

/// Why a schedule's amount cannot be computed from a form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    #[error("the form gives no number of {unit} at {field}: it must be a whole number, 0 or more")]
    NotACount { field: String, unit: String },
    #[error("the amount is beyond any fee")]
    Overflow,
    #[error("the amount is assessed while the dossier is processed")]
    Assessed,
}

impl FeeSchedule {
    /// One flat amount per dossier: what every contract 0.1.0 fee is.
    pub fn flat(amount_vnd: u64) -> FeeSchedule {
        FeeSchedule {
            price: ItemPrice::Flat { amount_vnd },
            cap_per_item_vnd: None,
            items: None,
            exemptions: Vec::new(),
        }
    }

    /// The amount when it does not depend on the form.
    pub fn fixed_amount(&self) -> Option<u64> {
        match (&self.price, &self.items) {
            (ItemPrice::Flat { amount_vnd }, None) => Some(
                self.cap_per_item_vnd
                    .map_or(*amount_vnd, |cap| cap.min(*amount_vnd)),
            ),
            _ => None,
        }
    }

    /// The form fields the amount depends on.
    pub fn quantities(&self) -> Vec<&Quantity> {
        let price = match &self.price {
            ItemPrice::Flat { .. } | ItemPrice::Assessed => None,
            ItemPrice::PerUnit { quantity, .. } | ItemPrice::Tiered { quantity, .. } => {
                Some(quantity)
            }
        };
        price.into_iter().chain(self.items.as_ref()).collect()
    }

    /// The amount this schedule charges for `form`.
    pub fn amount(&self, form: &Value) -> Result<u64, QuoteError> {
        let price = match &self.price {
            ItemPrice::Flat { amount_vnd } => *amount_vnd,
            ItemPrice::PerUnit {
                quantity,
                amount_vnd,
            } => count(form, quantity)?
                .checked_mul(*amount_vnd)
                .ok_or(QuoteError::Overflow)?,
            ItemPrice::Tiered { quantity, tiers } => tiered(count(form, quantity)?, tiers)?,
            ItemPrice::Assessed => return Err(QuoteError::Assessed),
        };
        let price = self.cap_per_item_vnd.map_or(price, |cap| cap.min(price));
        let items = match &self.items {
            Some(quantity) => count(form, quantity)?,
            None => 1,
        };
        items.checked_mul(price).ok_or(QuoteError::Overflow)
    }

    /// Checks that the schedule can be computed: names where it is not (`at` is the
    /// field path of the fee, e.g. `fees[0].schedule`).
    pub fn validate(&self, at: &str) -> Result<(), String> {
        for quantity in self.quantities() {
            if !quantity.field.starts_with('/') {
                return Err(format!(
                    "{at}: the form field `{}` must be a JSON Pointer such as \"/pages\"",
                    quantity.field
                ));
            }
            if quantity.unit.trim().is_empty() {
                return Err(format!(
                    "{at}: the quantity at `{}` needs a unit name (\"trang\", \"bản\")",
                    quantity.field
                ));
            }
        }
        if let ItemPrice::Tiered { tiers, .. } = &self.price {
            match tiers.first() {
                None => return Err(format!("{at}: a tiered price needs at least one tier")),
                Some(first) if first.starts_at != 1 => {
                    return Err(format!(
                        "{at}: the first tier must start at unit 1, not {}",
                        first.starts_at
                    ));
                }
                Some(_) => {}
            }
            if let Some(pair) = tiers.windows(2).find(|p| p[1].starts_at <= p[0].starts_at) {
                return Err(format!(
                    "{at}: tiers must start at increasing units ({} then {})",
                    pair[0].starts_at, pair[1].starts_at
                ));
            }
        }
        Ok(())
    }

    /// The schedule in words, as the catalog shows it to an applicant:
    /// "2.000 đ/trang từ trang 1 đến trang 2, 1.000 đ/trang từ trang 3; tối đa 200.000 đ mỗi bản; nhân với số bản".
    pub fn describe(&self) -> String {
        let mut text = match &self.price {
            ItemPrice::Assessed => "Xác định trong quá trình giải quyết hồ sơ".to_string(),
            ItemPrice::Flat { amount_vnd: 0 } => "Miễn phí".to_string(),
            ItemPrice::Flat { amount_vnd } => vnd(*amount_vnd),
            ItemPrice::PerUnit {
                quantity,
                amount_vnd,
            } => format!("{}/{}", vnd(*amount_vnd), quantity.unit),
            ItemPrice::Tiered { quantity, tiers } => tiers
                .iter()
                .enumerate()
                .map(|(i, tier)| {
                    let unit = &quantity.unit;
                    let amount = vnd(tier.amount_vnd);
                    match tiers.get(i + 1) {
                        Some(next) if next.starts_at == tier.starts_at + 1 => {
                            format!("{amount}/{unit} cho {unit} thứ {}", tier.starts_at)
                        }
                        Some(next) => format!(
                            "{amount}/{unit} từ {unit} {} đến {unit} {}",
                            tier.starts_at,
                            next.starts_at - 1
                        ),
                        None => format!("{amount}/{unit} từ {unit} {}", tier.starts_at),
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        if let Some(cap) = self.cap_per_item_vnd {
            let item = self
                .items
                .as_ref()
                .map_or("hồ sơ", |items| items.unit.as_str());
            text.push_str(&format!("; tối đa {} mỗi {item}", vnd(cap)));
        }
        if let Some(items) = &self.items {
            text.push_str(&format!("; nhân với số {}", items.unit));
        }
        text
    }
}

/// A whole number of units read from the form at the quantity's pointer.
fn count(form: &Value, quantity: &Quantity) -> Result<u64, QuoteError> {
    form.pointer(&quantity.field)
        .and_then(Value::as_u64)
        .ok_or_else(|| QuoteError::NotACount {
            field: quantity.field.clone(),
            unit: quantity.unit.clone(),
        })
}

/// The price of `units` units under `tiers`: each unit at the amount of the last tier
/// that starts at or before it.
fn tiered(units: u64, tiers: &[Tier]) -> Result<u64, QuoteError> {
    let mut total: u64 = 0;
    for (i, tier) in tiers.iter().enumerate() {
        let first = u64::from(tier.starts_at.max(1));
        let last = tiers
            .get(i + 1)
            .map_or(units, |next| units.min(u64::from(next.starts_at) - 1));
        if last >= first {
            let charged = (last - first + 1)
                .checked_mul(tier.amount_vnd)
                .ok_or(QuoteError::Overflow)?;
            total = total.checked_add(charged).ok_or(QuoteError::Overflow)?;
        }
    }
    Ok(total)
}

/// An amount of money as the schedule's words show it: "200.000 đ".
fn vnd(amount: u64) -> String {
    format!("{} đ", group_digits(amount))
}

/// Digits in groups of three with dots, as Vietnamese write amounts: "1.500.000".
pub fn group_digits(amount: u64) -> String {
    let digits = amount.to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Chứng thực bản sao: 2,000 đ a page for pages 1 and 2, 1,000 đ from page 3, at
    /// most 200,000 đ a copy, times the number of copies.
    fn certified_copy() -> FeeSchedule {
        FeeSchedule {
            price: ItemPrice::Tiered {
                quantity: Quantity {
                    field: "/pages".into(),
                    unit: "trang".into(),
                },
                tiers: vec![
                    Tier {
                        starts_at: 1,
                        amount_vnd: 2_000,
                    },
                    Tier {
                        starts_at: 3,
                        amount_vnd: 1_000,
                    },
                ],
            },
            cap_per_item_vnd: Some(200_000),
            items: Some(Quantity {
                field: "/copies".into(),
                unit: "bản".into(),
            }),
            exemptions: vec![],
        }
    }

    #[test]
    fn tiers_and_cap_at_their_boundaries() {
        let schedule = certified_copy();
        let amount = |pages: u64, copies: u64| {
            schedule
                .amount(&json!({ "pages": pages, "copies": copies }))
                .unwrap()
        };
        assert_eq!(amount(1, 1), 2_000);
        assert_eq!(amount(2, 1), 4_000);
        assert_eq!(amount(3, 1), 5_000);
        assert_eq!(amount(10, 1), 12_000);
        // 4,000 + 1,000 × 196 = 200,000: the cap is reached exactly at page 198.
        assert_eq!(amount(198, 1), 200_000);
        assert_eq!(amount(199, 1), 200_000);
        assert_eq!(amount(500, 3), 600_000);
        assert_eq!(amount(0, 2), 0);
        assert_eq!(amount(3, 2), 10_000);
    }

    #[test]
    fn a_missing_or_fractional_count_is_named() {
        let schedule = certified_copy();
        for form in [
            json!({ "copies": 1 }),
            json!({ "pages": 2.5, "copies": 1 }),
            json!({ "pages": -1, "copies": 1 }),
        ] {
            assert_eq!(
                schedule.amount(&form),
                Err(QuoteError::NotACount {
                    field: "/pages".into(),
                    unit: "trang".into()
                })
            );
        }
        let huge = json!({ "pages": u64::MAX, "copies": u64::MAX });
        assert_eq!(
            FeeSchedule {
                cap_per_item_vnd: None,
                ..certified_copy()
            }
            .amount(&huge),
            Err(QuoteError::Overflow)
        );
    }

    #[test]
    fn flat_and_per_unit() {
        assert_eq!(FeeSchedule::flat(50_000).amount(&json!({})), Ok(50_000));
        assert_eq!(FeeSchedule::flat(50_000).fixed_amount(), Some(50_000));
        assert_eq!(certified_copy().fixed_amount(), None);
        let per_copy = FeeSchedule {
            price: ItemPrice::PerUnit {
                quantity: Quantity {
                    field: "/extract/copies".into(),
                    unit: "bản".into(),
                },
                amount_vnd: 8_000,
            },
            ..FeeSchedule::flat(0)
        };
        assert_eq!(
            per_copy.amount(&json!({ "extract": { "copies": 3 } })),
            Ok(24_000)
        );
    }

    #[test]
    fn validation_names_the_problem() {
        assert_eq!(certified_copy().validate("fees[0].schedule"), Ok(()));
        let mut bad = certified_copy();
        if let ItemPrice::Tiered { tiers, .. } = &mut bad.price {
            tiers[0].starts_at = 2;
        }
        assert!(
            bad.validate("fees[0].schedule")
                .unwrap_err()
                .contains("first tier must start at unit 1")
        );
        let mut bad = certified_copy();
        if let ItemPrice::Tiered { tiers, .. } = &mut bad.price {
            tiers[1].starts_at = 1;
        }
        assert!(bad.validate("x").unwrap_err().contains("increasing"));
        let mut bad = certified_copy();
        bad.items = Some(Quantity {
            field: "copies".into(),
            unit: "bản".into(),
        });
        assert!(bad.validate("x").unwrap_err().contains("JSON Pointer"));
    }

    #[test]
    fn described_in_vietnamese() {
        assert_eq!(
            certified_copy().describe(),
            "2.000 đ/trang từ trang 1 đến trang 2, 1.000 đ/trang từ trang 3; tối đa 200.000 đ mỗi bản; nhân với số bản"
        );
        assert_eq!(FeeSchedule::flat(0).describe(), "Miễn phí");
        assert_eq!(FeeSchedule::flat(1_500_000).describe(), "1.500.000 đ");
        let assessed = FeeSchedule {
            price: ItemPrice::Assessed,
            ..FeeSchedule::flat(0)
        };
        assert_eq!(assessed.fixed_amount(), None);
        assert_eq!(assessed.amount(&json!({})), Err(QuoteError::Assessed));
        assert_eq!(
            assessed.describe(),
            "Xác định trong quá trình giải quyết hồ sơ"
        );
    }
}
