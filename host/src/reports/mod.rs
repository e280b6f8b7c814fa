//! The processing report, the national indicators (Decision 766/QĐ-TTg) and their
//! scoring table.
//!
//! Both reports are computed from the stored facts of each dossier as of the period's
//! end, so any past period can be recomputed and gives the same figures whenever it is
//! asked for. The definitions are written down in
//! docs/decisions/0010-reports-and-sync-feed.md; the SQL that aggregates them is in
//! `store::reports`. Totals per unit, per procedure and for the province are sums of the
//! (unit, procedure) groups the store returns.
//!
//! The API and the `motcua report` command call the same functions here, so both give
//! the same tables.

mod export;
pub mod indicators;
pub mod processing;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;

use crate::calendar::Calendar;
use crate::clock::format_civil;
use crate::domain::Actor;
use crate::store::{ReportQuery, Store, StoreError};
use crate::workflow::deadlines::DUE_SOON_WORKING_DAYS;
use crate::workflow::rating::{RATINGS, is_satisfied};

pub use indicators::{IndicatorsReport, KNOWN_INDICATORS, ScoringEntry, ScoringInput};
pub use processing::ProcessingReport;

/// Errors of the reports, grouped by what the caller can do about them.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The period or a filter is not understood.
    #[error("{0}")]
    BadQuery(String),
    /// The caller may not see what they asked for.
    #[error("{0}")]
    Forbidden(String),
    /// A scoring table that does not hold together.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T, E = ReportError> = std::result::Result<T, E>;

/// A reporting period: whole days from `from` to `to`, both included, read as of
/// `as_of` (the end of `to`, or the host's clock when that is still to come).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub as_of: NaiveDateTime,
}

/// The period as the reports show it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PeriodView {
    pub from: String,
    pub to: String,
    /// The moment the dossiers' facts were read at (RFC 3339, civil time).
    pub as_of: String,
}

impl Period {
    /// Parses `from` and `to` (YYYY-MM-DD); `now` is the host's clock.
    pub fn parse(from: Option<&str>, to: Option<&str>, now: NaiveDateTime) -> Result<Period> {
        let date = |name: &str, value: Option<&str>| -> Result<NaiveDate> {
            let value = value.filter(|value| !value.is_empty()).ok_or_else(|| {
                ReportError::BadQuery(format!("`{name}` is required: a date like 2026-01-31"))
            })?;
            // Exactly YYYY-MM-DD: chrono alone would also take 2026-1-5.
            let well_formed = value.len() == 10
                && value.bytes().enumerate().all(|(index, byte)| match index {
                    4 | 7 => byte == b'-',
                    _ => byte.is_ascii_digit(),
                });
            well_formed
                .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
                .flatten()
                .ok_or_else(|| {
                    ReportError::BadQuery(format!(
                        "`{name}` is `{}`, not a date like 2026-01-31",
                        value.escape_debug()
                    ))
                })
        };
        let (from, to) = (date("from", from)?, date("to", to)?);
        if from > to {
            return Err(ReportError::BadQuery(format!(
                "`from` ({from}) is after `to` ({to}); the period runs from `from` to `to`"
            )));
        }
        if from > now.date() {
            return Err(ReportError::BadQuery(format!(
                "the period starts on {from}, after today ({}); nothing can be reported yet",
                now.date()
            )));
        }
        let end = to.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid time"));
        Ok(Period {
            from,
            to,
            as_of: end.min(now),
        })
    }

    pub fn view(&self) -> PeriodView {
        PeriodView {
            from: self.from.format("%Y-%m-%d").to_string(),
            to: self.to.format("%Y-%m-%d").to_string(),
            as_of: format_civil(self.as_of),
        }
    }

    /// The store's query for this period: the dates it compares with, computed here
    /// with the calendar in force.
    fn query(
        &self,
        calendar: &Calendar,
        unit: Option<&str>,
        procedure: Option<&str>,
    ) -> ReportQuery {
        let day = |date: NaiveDate| date.format("%Y-%m-%d").to_string();
        let today = self.as_of.date();
        let mut satisfied = RATINGS.iter().filter(|rating| is_satisfied(rating));
        let mut next_satisfied = || {
            satisfied
                .next()
                .expect("two ratings count as satisfied")
                .to_string()
        };
        ReportQuery {
            as_of: format_civil(self.as_of),
            period_start: format_civil(self.from.and_time(NaiveTime::MIN)),
            as_of_date: day(today),
            due_soon_until: day(calendar.add_working_days(today, DUE_SOON_WORKING_DAYS)),
            unit: unit.map(str::to_string),
            procedure: procedure.map(str::to_string),
            satisfied_ratings: [next_satisfied(), next_satisfied()],
        }
    }
}

/// Who is looking at a report: the province's staff see every unit, a unit's staff see
/// their own unit only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Viewer {
    Province,
    Unit(String),
}

impl Viewer {
    /// The viewer a staff account is: staff of a unit without a parent (the province)
    /// see all units.
    pub async fn of(store: &Store, actor: &Actor) -> Result<Viewer> {
        let unit = store.unit(&actor.unit).await?.ok_or_else(|| {
            ReportError::Forbidden(format!("your unit `{}` no longer exists", actor.unit))
        })?;
        Ok(match unit.parent {
            None => Viewer::Province,
            Some(_) => Viewer::Unit(unit.code),
        })
    }

    /// The unit a report is restricted to: the one asked for, if the viewer may see it;
    /// `None` for the whole province.
    pub async fn scope(&self, store: &Store, requested: Option<&str>) -> Result<Option<String>> {
        let requested = requested.filter(|unit| !unit.is_empty());
        match (self, requested) {
            (Viewer::Province, None) => Ok(None),
            (Viewer::Province, Some(unit)) => {
                check_code("unit", unit)?;
                if store.unit(unit).await?.is_none() {
                    return Err(ReportError::BadQuery(format!(
                        "unit `{unit}` does not exist"
                    )));
                }
                Ok(Some(unit.to_string()))
            }
            (Viewer::Unit(own), None) => Ok(Some(own.clone())),
            (Viewer::Unit(own), Some(unit)) if unit == own => Ok(Some(own.clone())),
            (Viewer::Unit(own), Some(unit)) => Err(ReportError::Forbidden(format!(
                "your token belongs to `{own}`; a unit's staff see only its own reports, not `{}`'s",
                unit.escape_debug()
            ))),
        }
    }
}

/// Unit and procedure codes are short and printable.
fn check_code(name: &str, value: &str) -> Result<()> {
    let fine = value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/'));
    if fine {
        Ok(())
    } else {
        Err(ReportError::BadQuery(format!(
            "`{name}` `{}` is not a code",
            value.escape_debug()
        )))
    }
}

/// How a report is written out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl Format {
    pub fn parse(text: Option<&str>) -> Result<Format> {
        match text {
            None | Some("") | Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some(other) => Err(ReportError::BadQuery(format!(
                "format `{}` is not `json` or `csv`",
                other.escape_debug()
            ))),
        }
    }
}

/// Which report the command line asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportKind {
    Processing,
    Indicators,
}

/// What `motcua report ...` asks for: the whole province, or one unit with `unit`.
#[derive(Clone, Debug)]
pub struct ReportRequest {
    pub kind: ReportKind,
    pub from: String,
    pub to: String,
    pub unit: Option<String>,
    pub procedure: Option<String>,
    pub format: Format,
}

/// `motcua report processing|indicators`: the report as the province sees it, written
/// out as pretty JSON or CSV. `now` is the clock the period is clamped to.
pub async fn run_report(
    store: &Store,
    calendar: &Calendar,
    request: &ReportRequest,
    now: NaiveDateTime,
) -> Result<String> {
    let period = Period::parse(Some(&request.from), Some(&request.to), now)?;
    let unit = Viewer::Province
        .scope(store, request.unit.as_deref())
        .await?;
    match request.kind {
        ReportKind::Processing => {
            let report = processing::processing(
                store,
                calendar,
                &period,
                unit.as_deref(),
                request.procedure.as_deref(),
            )
            .await?;
            Ok(match request.format {
                Format::Json => to_json(&report),
                Format::Csv => report.to_csv(),
            })
        }
        ReportKind::Indicators => {
            if request.procedure.is_some() {
                return Err(ReportError::BadQuery(
                    "the indicators are per unit, for every procedure; leave out the procedure"
                        .into(),
                ));
            }
            let report = indicators::indicators(store, calendar, &period, unit.as_deref()).await?;
            Ok(match request.format {
                Format::Json => to_json(&report),
                Format::Csv => report.to_csv(),
            })
        }
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("reports serialise");
    text.push('\n');
    text
}

/// `numerator ÷ denominator` in hundredths of a percent, rounded half up; `None` when
/// there is nothing to divide by.
pub(crate) fn percent_hundredths(numerator: i64, denominator: i64) -> Option<i64> {
    ratio_hundredths(i128::from(numerator) * 100, i128::from(denominator))
}

/// `numerator ÷ denominator` in hundredths, rounded half up (both non-negative).
pub(crate) fn ratio_hundredths(numerator: i128, denominator: i128) -> Option<i64> {
    if denominator <= 0 {
        return None;
    }
    let hundredths = (numerator * 200 + denominator) / (2 * denominator);
    Some(i64::try_from(hundredths).unwrap_or(i64::MAX))
}

/// Hundredths as the decimal number the reports show (66.67).
pub(crate) fn from_hundredths(hundredths: i64) -> f64 {
    hundredths as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn percentages_round_half_up_in_hundredths() {
        assert_eq!(percent_hundredths(1, 7), Some(1429));
        assert_eq!(percent_hundredths(2, 3), Some(6667));
        assert_eq!(percent_hundredths(1, 8), Some(1250));
        assert_eq!(percent_hundredths(1, 800), Some(13));
        assert_eq!(percent_hundredths(0, 0), None);
        assert_eq!(from_hundredths(7362), 73.62);
    }

    #[test]
    fn a_period_is_read_at_its_end_or_now() {
        let now = at("2026-03-10 10:00");
        let past = Period::parse(Some("2026-02-01"), Some("2026-02-28"), now).unwrap();
        assert_eq!(past.view().as_of, "2026-02-28T23:59:59+07:00");
        let running = Period::parse(Some("2026-03-01"), Some("2026-03-31"), now).unwrap();
        assert_eq!(running.view().as_of, "2026-03-10T10:00:00+07:00");
        for (from, to) in [
            (Some("2026-03-02"), Some("2026-03-01")),
            (Some("2026-04-01"), Some("2026-04-30")),
            (Some("2026-13-01"), Some("2026-13-31")),
            (None, Some("2026-03-01")),
        ] {
            assert!(matches!(
                Period::parse(from, to, now),
                Err(ReportError::BadQuery(_))
            ));
        }
    }
}
