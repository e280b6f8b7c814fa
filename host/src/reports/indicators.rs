//! The national service indicators per unit (Decision 766/QĐ-TTg), scored against the
//! province's scoring table, totalled and ranked; and the scoring table itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::processing::add;
use super::{
    Period, PeriodView, ReportError, Result, from_hundredths, percent_hundredths, ratio_hundredths,
};
use crate::calendar::Calendar;
use crate::clock::format_civil;
use crate::domain::{Actor, Level};
use crate::store::{GroupCounts, RegistryEvent, ScoringRow, Store};

/// The indicators, in the order the reports show them.
pub const KNOWN_INDICATORS: [&str; 5] = [
    "on_time",
    "online",
    "online_payment",
    "digitization",
    "satisfaction",
];

/// At most this many overdue dossier codes are listed per unit.
pub const OVERDUE_LIST_CAP: i64 = 100;

/// One indicator of one unit: the rate, and the points it scores.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IndicatorScore {
    pub indicator: String,
    pub group: String,
    pub numerator: i64,
    pub denominator: i64,
    /// numerator ÷ denominator in percent; null when the denominator is 0.
    pub rate_percent: Option<f64>,
    pub target_percent: i64,
    pub max_points: i64,
    /// Full points at or above the target (or when the rate is null), otherwise
    /// max_points × rate ÷ target.
    pub points: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Overdue {
    /// Dossiers in progress past their statutory due date (or after more than one
    /// supplement request) at the period's end.
    pub count: i64,
    /// Their codes, earliest due first, at most [`OVERDUE_LIST_CAP`].
    pub codes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UnitIndicators {
    /// 1 for the highest total among the units of the same level (the wards and
    /// communes are ranked together, the departments together); ties by unit code.
    pub rank: usize,
    /// The level of procedures the unit handles, which its rank is among.
    pub level: Level,
    pub unit: String,
    pub name: String,
    pub indicators: Vec<IndicatorScore>,
    pub total_points: f64,
    pub max_points: i64,
    pub overdue: Overdue,
    pub average_processing_days: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IndicatorsReport {
    pub period: PeriodView,
    /// The unit the report is restricted to, or null for the whole province.
    pub unit: Option<String>,
    /// Ranked, best first within each level, commune level first. A unit's rank is its
    /// place among the province's units of its level.
    pub units: Vec<UnitIndicators>,
}

/// One row of the scoring table, as it is read and written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoringInput {
    pub indicator: String,
    /// The group of Decision 766 the indicator belongs to; kept when left out.
    #[serde(default)]
    pub group: Option<String>,
    pub target_percent: i64,
    pub points: i64,
}

/// The numerator and denominator of each indicator for one unit's counts.
fn fractions(counts: &GroupCounts) -> [(&'static str, i64, i64); 5] {
    let to_process = counts.to_process();
    [
        ("on_time", to_process - counts.late(), to_process),
        ("online", counts.received_online, counts.received()),
        ("online_payment", counts.paid_online, counts.fee_bearing),
        ("digitization", counts.digitized, to_process),
        ("satisfaction", counts.satisfied, counts.rated),
    ]
}

/// Commune level first: most units, and the table a province publishes first.
fn level_order(level: Level) -> u8 {
    match level {
        Level::Commune => 0,
        Level::Province => 1,
    }
}

/// Points in hundredths: full at or above the target, or when there is nothing to
/// judge; otherwise in proportion to the rate.
fn points_hundredths(numerator: i64, denominator: i64, target_percent: i64, points: i64) -> i64 {
    let full = points * 100;
    if denominator == 0 || target_percent <= 0 || numerator * 100 >= target_percent * denominator {
        return full;
    }
    // points × (numerator ÷ denominator) ÷ (target ÷ 100)
    ratio_hundredths(
        i128::from(points) * i128::from(numerator) * 100,
        i128::from(denominator) * i128::from(target_percent),
    )
    .unwrap_or(full)
}

/// The indicators of every unit for the period, or of `unit` alone (ranked among all
/// the units of its level).
pub async fn indicators(
    store: &Store,
    calendar: &Calendar,
    period: &Period,
    unit: Option<&str>,
) -> Result<IndicatorsReport> {
    let query = period.query(calendar, None, None);
    // The two passes over the dossiers run at once, on two connections.
    let (groups, overdue_codes, scoring_rows, units) = tokio::try_join!(
        store.report_groups(&query),
        store.overdue_codes(&query, OVERDUE_LIST_CAP),
        store.scoring(),
        store.units(),
    )?;
    let scoring = table(scoring_rows)?;
    let mut by_unit: BTreeMap<String, GroupCounts> = BTreeMap::new();
    // Every unit under the province is ranked, with or without dossiers; the province
    // itself only when it handled dossiers of its own.
    for listed in units.iter().filter(|listed| listed.parent.is_some()) {
        by_unit.entry(listed.code.clone()).or_default();
    }
    for group in &groups {
        add(by_unit.entry(group.unit.clone()).or_default(), group);
    }
    let mut overdue: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (overdue_unit, code) in overdue_codes {
        overdue.entry(overdue_unit).or_default().push(code);
    }
    let names: BTreeMap<&str, &str> = units
        .iter()
        .map(|listed| (listed.code.as_str(), listed.name.as_str()))
        .collect();
    // The province's own dossiers, if it handles any, rank with its departments.
    let levels: BTreeMap<&str, Level> = units
        .iter()
        .map(|listed| {
            (
                listed.code.as_str(),
                listed.kind.handles().unwrap_or(Level::Province),
            )
        })
        .collect();
    let max_points: i64 = scoring.iter().map(|entry| entry.points).sum();
    let mut ranked: Vec<(i64, UnitIndicators)> = by_unit
        .into_iter()
        .map(|(code, counts)| {
            let mut total = 0;
            let indicators = fractions(&counts)
                .into_iter()
                .map(|(indicator, numerator, denominator)| {
                    let entry = scoring
                        .iter()
                        .find(|entry| entry.indicator == indicator)
                        .expect("the scoring table lists every indicator");
                    let points = points_hundredths(
                        numerator,
                        denominator,
                        entry.target_percent,
                        entry.points,
                    );
                    total += points;
                    IndicatorScore {
                        indicator: indicator.to_string(),
                        group: entry.group.clone(),
                        numerator,
                        denominator,
                        rate_percent: percent_hundredths(numerator, denominator)
                            .map(from_hundredths),
                        target_percent: entry.target_percent,
                        max_points: entry.points,
                        points: from_hundredths(points),
                    }
                })
                .collect();
            let settled = counts.settled();
            let scored = UnitIndicators {
                rank: 0,
                level: levels.get(code.as_str()).copied().unwrap_or(Level::Commune),
                name: names.get(code.as_str()).unwrap_or(&"").to_string(),
                indicators,
                total_points: from_hundredths(total),
                max_points,
                overdue: Overdue {
                    count: counts.overdue,
                    codes: overdue.remove(&code).unwrap_or_default(),
                },
                average_processing_days: ratio_hundredths(
                    i128::from(counts.processing_seconds),
                    i128::from(settled) * 86_400,
                )
                .map(from_hundredths),
                unit: code,
            };
            (total, scored)
        })
        .collect();
    ranked.sort_by(|(a_total, a), (b_total, b)| {
        level_order(a.level)
            .cmp(&level_order(b.level))
            .then(b_total.cmp(a_total))
            .then(a.unit.cmp(&b.unit))
    });
    let mut listed = Vec::new();
    let mut rank = 0;
    let mut previous = None;
    for (_, mut scored) in ranked {
        rank = if previous == Some(scored.level) {
            rank + 1
        } else {
            1
        };
        previous = Some(scored.level);
        scored.rank = rank;
        if unit.is_none_or(|unit| unit == scored.unit) {
            listed.push(scored);
        }
    }
    Ok(IndicatorsReport {
        period: period.view(),
        unit: unit.map(str::to_string),
        units: listed,
    })
}

/// One overdue dossier at the period's end, with what a list of them shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OverdueDossier {
    pub unit: String,
    pub code: String,
    pub procedure: String,
    /// The statutory due date (YYYY-MM-DD), if the dossier has one.
    pub statutory_due_date: Option<String>,
    /// Working days from the due date to the period's end (the inbox's count, turned
    /// round); 0 or less for a dossier overdue only for its supplement requests.
    pub working_days_overdue: Option<i64>,
    pub supplements: i64,
}

/// The dossiers [`Overdue::codes`] names for the period (every unit's, or `unit`'s),
/// with their procedure, due date and how many working days they are late, earliest
/// due first within each unit: the same query, at most [`OVERDUE_LIST_CAP`] a unit.
pub async fn overdue_dossiers(
    store: &Store,
    calendar: &Calendar,
    period: &Period,
    unit: Option<&str>,
) -> Result<Vec<OverdueDossier>> {
    let query = period.query(calendar, unit, None);
    let today = period.as_of.date();
    Ok(store
        .overdue_dossiers(&query, OVERDUE_LIST_CAP)
        .await?
        .into_iter()
        .map(|row| {
            let due = row
                .statutory_due_date
                .as_deref()
                .and_then(|due| chrono::NaiveDate::parse_from_str(due, "%Y-%m-%d").ok());
            OverdueDossier {
                working_days_overdue: due.map(|due| calendar.working_days_between(due, today)),
                unit: row.unit,
                code: row.code,
                procedure: row.procedure_code,
                statutory_due_date: row.statutory_due_date,
                supplements: row.supplements,
            }
        })
        .collect())
}

/// The scoring table, one entry per known indicator in the reports' order.
pub async fn scoring(store: &Store) -> Result<Vec<ScoringEntry>> {
    table(store.scoring().await?)
}

/// The stored rows in the reports' order; a missing indicator is corrupt data.
fn table(rows: Vec<ScoringRow>) -> Result<Vec<ScoringEntry>> {
    KNOWN_INDICATORS
        .iter()
        .map(|indicator| {
            rows.iter()
                .find(|row| row.indicator == *indicator)
                .map(|row| ScoringEntry {
                    indicator: row.indicator.clone(),
                    group: row.group.clone(),
                    target_percent: row.target_percent,
                    points: row.points,
                })
                .ok_or_else(|| {
                    ReportError::Store(crate::store::StoreError::Corrupt(format!(
                        "the scoring table has no row for `{indicator}`"
                    )))
                })
        })
        .collect()
}

/// A row of the scoring table with its group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ScoringEntry {
    pub indicator: String,
    pub group: String,
    pub target_percent: i64,
    pub points: i64,
}

/// Replaces the scoring table with `entries` (every known indicator once; 0 ≤ target ≤
/// 100; points ≥ 0), audited as a registry event in the same transaction. Returns the
/// table as now stored.
pub async fn set_scoring(
    store: &Store,
    actor: &Actor,
    entries: &[ScoringInput],
    now: chrono::NaiveDateTime,
) -> Result<Vec<ScoringEntry>> {
    let before = scoring(store).await?;
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        if !KNOWN_INDICATORS.contains(&entry.indicator.as_str()) {
            return Err(ReportError::Invalid(format!(
                "`{}` is not an indicator; the indicators are {}",
                entry.indicator.escape_debug(),
                KNOWN_INDICATORS.join(", ")
            )));
        }
        if rows
            .iter()
            .any(|row: &ScoringRow| row.indicator == entry.indicator)
        {
            return Err(ReportError::Invalid(format!(
                "`{}` is listed twice",
                entry.indicator
            )));
        }
        if !(0..=100).contains(&entry.target_percent) {
            return Err(ReportError::Invalid(format!(
                "the target of `{}` is {}; a target is a percentage from 0 to 100",
                entry.indicator, entry.target_percent
            )));
        }
        if !(0..=1_000).contains(&entry.points) {
            return Err(ReportError::Invalid(format!(
                "`{}` scores {} points; points are from 0 to 1000",
                entry.indicator, entry.points
            )));
        }
        let group = match &entry.group {
            Some(group) if group.trim().is_empty() || group.len() > 200 => {
                return Err(ReportError::Invalid(format!(
                    "the group of `{}` must be 1 to 200 characters",
                    entry.indicator
                )));
            }
            Some(group) => {
                crate::workflow::check_text("group", group, false)
                    .map_err(|error| ReportError::Invalid(error.to_string()))?;
                group.clone()
            }
            None => before
                .iter()
                .find(|row| row.indicator == entry.indicator)
                .map(|row| row.group.clone())
                .unwrap_or_default(),
        };
        rows.push(ScoringRow {
            indicator: entry.indicator.clone(),
            group,
            target_percent: entry.target_percent,
            points: entry.points,
        });
    }
    let missing: Vec<&str> = KNOWN_INDICATORS
        .iter()
        .copied()
        .filter(|indicator| !rows.iter().any(|row| row.indicator == *indicator))
        .collect();
    if !missing.is_empty() {
        return Err(ReportError::Invalid(format!(
            "the scoring table lists every indicator; missing: {}",
            missing.join(", ")
        )));
    }
    let table = |rows: &[ScoringEntry]| serde_json::to_value(rows).expect("serialises");
    let after: Vec<ScoringEntry> = KNOWN_INDICATORS
        .iter()
        .filter_map(|indicator| rows.iter().find(|row| row.indicator == *indicator))
        .map(|row| ScoringEntry {
            indicator: row.indicator.clone(),
            group: row.group.clone(),
            target_percent: row.target_percent,
            points: row.points,
        })
        .collect();
    let event = RegistryEvent {
        at: format_civil(now),
        actor_id: actor.id.clone(),
        actor_role: actor.role.as_str().into(),
        action: "set-scoring".into(),
        procedure_code: None,
        unit: None,
        before: serde_json::json!({ "scoring": table(&before) }),
        after: serde_json::json!({ "scoring": table(&after) }),
    };
    store.set_scoring(&rows, &event).await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_full_at_the_target_or_with_nothing_to_judge() {
        // 6/7 = 85.71 % against 95 %: 20 × (6/7) ÷ 0.95 = 18.045 → 18.05.
        assert_eq!(points_hundredths(6, 7, 95, 20), 1805);
        // Exactly at the target, above it, no denominator, a zero target.
        assert_eq!(points_hundredths(1, 2, 50, 10), 1000);
        assert_eq!(points_hundredths(3, 3, 95, 20), 2000);
        assert_eq!(points_hundredths(0, 0, 95, 18), 1800);
        assert_eq!(points_hundredths(0, 5, 0, 22), 2200);
        assert_eq!(points_hundredths(0, 1, 80, 12), 0);
    }
}
