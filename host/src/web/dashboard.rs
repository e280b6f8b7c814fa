//! The dashboard of the national service indicators (issue 10 point 6): for a period,
//! the indicators of each unit with their points, the ranking, three charts and the
//! overdue dossiers.
//!
//! Every figure comes from the functions behind `GET /api/v1/reports/indicators` and
//! `/processing` (`reports::Period::parse`, `Viewer::of` and `scope`, `indicators`,
//! `processing`), with the same tenancy: the province's staff see every unit or the one
//! they choose, a unit's staff their own unit. So the page and the API agree for the
//! same period, and a figure is shown with the API's rounding (hundredths), written the
//! Vietnamese way ("87,5 %"). The charts are drawn on the server as inline SVG
//! (`charts.rs`); each has its numbers beside it in a table.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Months, NaiveDate, NaiveDateTime};
use serde::Deserialize;

use super::session::{Nav, Staff};
use super::{PageError, render};
use crate::api::AppState;
use crate::calendar::Calendar;
use crate::reports::indicators::{self, IndicatorsReport, OverdueDossier};
use crate::reports::{Period, ReportError, Viewer, percent_hundredths, processing};
use crate::workflow::WorkflowError;

mod charts;

/// How many months the on-time chart shows, the period's last month included.
const TREND_MONTHS: u32 = 6;

#[derive(Deserialize)]
pub(super) struct DashboardParams {
    from: Option<String>,
    to: Option<String>,
    unit: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    nav: Nav,
    from: String,
    to: String,
    /// The units the viewer may choose from (empty: a unit's staff see their own).
    choices: Vec<UnitChoice>,
    /// What the figures cover: the province, or a unit's name.
    scope_name: String,
    /// Why the period could not be read.
    error: Option<String>,
    figures: Option<Figures>,
}

struct UnitChoice {
    code: String,
    name: String,
    selected: bool,
}

struct Figures {
    from: String,
    to: String,
    as_of: String,
    heads: Vec<IndicatorHead>,
    max_points: i64,
    rows: Vec<UnitLine>,
    charts: Vec<Chart>,
    overdue: Vec<OverdueLine>,
    overdue_total: i64,
}

/// An indicator as the table heads it.
struct IndicatorHead {
    name: &'static str,
    group: Option<String>,
    target: String,
    max_points: i64,
}

/// One unit: its rank, total and the cells of its indicators.
struct UnitLine {
    /// On the first unit of each level: the heading of the units ranked together.
    level_heading: Option<&'static str>,
    rank: usize,
    code: String,
    name: String,
    cells: Vec<Cell>,
    total: String,
    overdue: i64,
}

struct Cell {
    indicator: String,
    rate: String,
    fraction: String,
    points: String,
}

struct Chart {
    id: &'static str,
    title: String,
    note: String,
    /// The SVG, drawn by `charts.rs` (all text escaped there); none when there is
    /// nothing to draw.
    svg: Option<String>,
    head: Vec<&'static str>,
    rows: Vec<ChartRow>,
}

struct ChartRow {
    label: String,
    values: Vec<String>,
}

struct OverdueLine {
    code: String,
    unit: String,
    procedure: String,
    due: String,
    days: String,
    reason: String,
    /// Whether the viewer handles it, and so may open its page.
    link: bool,
}

/// The Vietnamese name of each national indicator.
fn indicator_name(indicator: &str) -> &'static str {
    match indicator {
        "on_time" => "Giải quyết đúng hạn",
        "online" => "Tiếp nhận trực tuyến",
        "online_payment" => "Thanh toán trực tuyến",
        "digitization" => "Số hóa hồ sơ",
        "satisfaction" => "Mức độ hài lòng",
        _ => "Chỉ số khác",
    }
}

/// Hundredths written as Vietnamese write a number: dots between thousands, a comma
/// before the decimals, no trailing zeros ("87,5", "18,05", "1.000").
fn vi_hundredths(hundredths: i64) -> String {
    let sign = if hundredths < 0 { "-" } else { "" };
    let magnitude = hundredths.unsigned_abs();
    let (whole, fraction) = (magnitude / 100, magnitude % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    match fraction {
        0 => format!("{sign}{grouped}"),
        f if f % 10 == 0 => format!("{sign}{grouped},{}", f / 10),
        f => format!("{sign}{grouped},{f:02}"),
    }
}

/// A figure of the reports (a decimal with at most two places, as the API writes it)
/// back in hundredths.
fn hundredths_of(value: f64) -> i64 {
    (value * 100.0).round() as i64
}

/// A rate as the page writes it: "87,5 %", or a dash when there was nothing to judge.
fn vi_percent(hundredths: Option<i64>) -> String {
    hundredths.map_or_else(|| "—".to_string(), |h| format!("{} %", vi_hundredths(h)))
}

fn vi_date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

fn vi_iso_date(text: &str) -> String {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(vi_date)
        .unwrap_or_else(|_| text.to_string())
}

/// A report's refusal as a page.
fn report_error(error: ReportError) -> PageError {
    match error {
        ReportError::BadQuery(detail) | ReportError::Invalid(detail) => {
            PageError::bad_request(format!("Yêu cầu không hợp lệ ({detail})."))
        }
        ReportError::Forbidden(_) => {
            PageError::forbidden("Cán bộ của một đơn vị chỉ xem được chỉ số của đơn vị mình.")
        }
        ReportError::Store(error) => WorkflowError::from(error).into(),
    }
}

pub(super) async fn dashboard(
    State(state): State<AppState>,
    staff: Staff,
    params: Result<Query<DashboardParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(params) =
        params.map_err(|_| PageError::bad_request("Địa chỉ của trang không hợp lệ."))?;
    let now = state.now();
    let store = &state.store;
    let viewer = Viewer::of(store, &staff.actor)
        .await
        .map_err(report_error)?;
    // The unit asked for, if the viewer may see it: the API's check, before anything.
    let requested = params.unit.filter(|unit| !unit.is_empty());
    let scope = viewer
        .scope(store, requested.as_deref())
        .await
        .map_err(report_error)?;
    let units = store.units().await.map_err(WorkflowError::from)?;
    let names: BTreeMap<String, String> = units
        .iter()
        .map(|unit| (unit.code.clone(), unit.name.clone()))
        .collect();
    let name_of = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let choices = match viewer {
        Viewer::Province => units
            .iter()
            .filter(|unit| unit.parent.is_some())
            .map(|unit| UnitChoice {
                code: unit.code.clone(),
                name: unit.name.clone(),
                selected: scope.as_deref() == Some(unit.code.as_str()),
            })
            .collect(),
        Viewer::Unit(_) => Vec::new(),
    };
    // Without a period: this month so far.
    let today = now.date();
    let from = params
        .from
        .filter(|from| !from.is_empty())
        .unwrap_or_else(|| {
            today
                .with_day(1)
                .unwrap_or(today)
                .format("%Y-%m-%d")
                .to_string()
        });
    let to = params
        .to
        .filter(|to| !to.is_empty())
        .unwrap_or_else(|| today.format("%Y-%m-%d").to_string());
    let mut page = DashboardPage {
        nav: staff.nav("dashboard"),
        scope_name: scope
            .as_deref()
            .map_or_else(|| "Toàn tỉnh".to_string(), name_of),
        from,
        to,
        choices,
        error: None,
        figures: None,
    };
    let period = match Period::parse(Some(&page.from), Some(&page.to), now) {
        Ok(period) => period,
        Err(ReportError::BadQuery(detail)) => {
            page.error = Some(format!(
                "Khoảng thời gian không hợp lệ: hãy chọn “Từ ngày” và “Đến ngày”; từ ngày \
                 không sau đến ngày, và không sau hôm nay ({detail})."
            ));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
        }
        Err(other) => return Err(report_error(other)),
    };
    page.figures = Some(
        figures(&state, &staff, &period, scope.as_deref(), &names)
            .await
            .map_err(report_error)?,
    );
    Ok(render(&page))
}

/// Everything the page shows for the period, within `scope` (`None`: every unit).
async fn figures(
    state: &AppState,
    staff: &Staff,
    period: &Period,
    scope: Option<&str>,
    names: &BTreeMap<String, String>,
) -> Result<Figures, ReportError> {
    let store = &state.store;
    let calendar = state.runtime.calendar();
    let report = indicators::indicators(store, &calendar, period, scope).await?;
    let scoring = indicators::scoring(store).await?;
    let counts = processing::processing(store, &calendar, period, scope, None).await?;
    let overdue = indicators::overdue_dossiers(store, &calendar, period, scope).await?;
    let trend = trend(state, &calendar, period, scope).await?;

    let heads = scoring
        .iter()
        .map(|entry| IndicatorHead {
            name: indicator_name(&entry.indicator),
            // The group of Decision 766, when it says more than the indicator's name.
            group: Some(entry.group.clone())
                .filter(|group| group.as_str() != indicator_name(&entry.indicator)),
            target: vi_percent(Some(entry.target_percent * 100)),
            max_points: entry.points,
        })
        .collect();
    let rows = report
        .units
        .iter()
        .enumerate()
        .map(|(index, unit)| UnitLine {
            level_heading: (index == 0 || report.units[index - 1].level != unit.level).then_some(
                match unit.level {
                    crate::domain::Level::Commune => "Phường, xã",
                    crate::domain::Level::Province => "Sở, ban, ngành",
                },
            ),
            rank: unit.rank,
            code: unit.unit.clone(),
            name: unit.name.clone(),
            cells: unit
                .indicators
                .iter()
                .map(|score| Cell {
                    indicator: score.indicator.clone(),
                    rate: vi_percent(score.rate_percent.map(hundredths_of)),
                    fraction: format!("{}/{}", score.numerator, score.denominator),
                    points: vi_hundredths(hundredths_of(score.points)),
                })
                .collect(),
            total: vi_hundredths(hundredths_of(unit.total_points)),
            overdue: unit.overdue.count,
        })
        .collect();
    let target_of = |indicator: &str| {
        scoring
            .iter()
            .find(|entry| entry.indicator == indicator)
            .map_or(0, |entry| entry.target_percent)
    };
    let charts = vec![
        trend_chart(&trend, target_of("on_time"), scope.is_none()),
        online_chart(&report, target_of("online")),
        channel_chart(&counts),
    ];
    let overdue_total = report.units.iter().map(|unit| unit.overdue.count).sum();
    let overdue = overdue
        .into_iter()
        .map(|dossier| overdue_line(state, staff, dossier, names))
        .collect();
    Ok(Figures {
        from: vi_date(period.from),
        to: vi_date(period.to),
        as_of: period.as_of.format("%H:%M %d/%m/%Y").to_string(),
        heads,
        max_points: scoring.iter().map(|entry| entry.points).sum(),
        rows,
        charts,
        overdue,
        overdue_total,
    })
}

/// The on-time rate of each of the last [`TREND_MONTHS`] months up to the period's end
/// (or today), each from the indicators of that month: the unit's rate, or for the
/// whole province the units' on-time dossiers over their dossiers to process, rounded
/// as the reports round.
async fn trend(
    state: &AppState,
    calendar: &Calendar,
    period: &Period,
    scope: Option<&str>,
) -> Result<Vec<Month>, ReportError> {
    let now: NaiveDateTime = state.now();
    let last = period.to.min(now.date());
    let last_month = last.with_day(1).unwrap_or(last);
    let mut points = Vec::new();
    for back in (0..TREND_MONTHS).rev() {
        let Some(start) = last_month.checked_sub_months(Months::new(back)) else {
            continue;
        };
        let end = start
            .checked_add_months(Months::new(1))
            .and_then(|next| next.pred_opt())
            .unwrap_or(start);
        let month = Period::parse(
            Some(&start.format("%Y-%m-%d").to_string()),
            Some(&end.format("%Y-%m-%d").to_string()),
            now,
        )?;
        let report = indicators::indicators(&state.store, calendar, &month, scope).await?;
        let (numerator, denominator) = report
            .units
            .iter()
            .flat_map(|unit| &unit.indicators)
            .filter(|score| score.indicator == "on_time")
            .fold((0, 0), |(n, d), score| {
                (n + score.numerator, d + score.denominator)
            });
        let hundredths = match scope {
            Some(_) => report
                .units
                .iter()
                .flat_map(|unit| &unit.indicators)
                .find(|score| score.indicator == "on_time")
                .and_then(|score| score.rate_percent)
                .map(hundredths_of),
            None => percent_hundredths(numerator, denominator),
        };
        points.push((start, hundredths, numerator, denominator));
    }
    Ok(points
        .into_iter()
        .map(|(start, hundredths, numerator, denominator)| Month {
            label: start.format("%m/%Y").to_string(),
            hundredths,
            numerator,
            denominator,
        })
        .collect())
}

/// One month of the on-time chart.
struct Month {
    label: String,
    hundredths: Option<i64>,
    numerator: i64,
    denominator: i64,
}

fn trend_chart(months: &[Month], target: i64, province: bool) -> Chart {
    let title = "Tỷ lệ hồ sơ giải quyết đúng hạn theo tháng".to_string();
    let target_text = format!("Mục tiêu {}", vi_percent(Some(target * 100)));
    let points: Vec<charts::Point> = months
        .iter()
        .map(|month| charts::Point {
            label: month.label.clone(),
            hundredths: month.hundredths,
            text: vi_percent(month.hundredths),
        })
        .collect();
    let svg = charts::line("trend", &title, &points, target, &target_text);
    Chart {
        id: "trend",
        note: if province {
            "Toàn tỉnh: số hồ sơ đúng hạn của các đơn vị trên tổng số hồ sơ phải giải quyết, \
             từng tháng."
                .into()
        } else {
            "Chỉ số “giải quyết đúng hạn” của đơn vị, từng tháng.".into()
        },
        svg: drawn("trend", svg),
        head: vec!["Tháng", "Tỷ lệ đúng hạn", "Đúng hạn / phải giải quyết"],
        rows: months
            .iter()
            .map(|month| ChartRow {
                label: month.label.clone(),
                values: vec![
                    vi_percent(month.hundredths),
                    format!("{}/{}", month.numerator, month.denominator),
                ],
            })
            .collect(),
        title,
    }
}

fn online_chart(report: &IndicatorsReport, target: i64) -> Chart {
    let title = "Tỷ lệ hồ sơ tiếp nhận trực tuyến theo đơn vị".to_string();
    let scores: Vec<(&str, Option<i64>, i64, i64)> = report
        .units
        .iter()
        .filter_map(|unit| {
            unit.indicators
                .iter()
                .find(|score| score.indicator == "online")
                .map(|score| {
                    (
                        unit.name.as_str(),
                        score.rate_percent.map(hundredths_of),
                        score.numerator,
                        score.denominator,
                    )
                })
        })
        .collect();
    let bars: Vec<charts::Bar> = scores
        .iter()
        .map(|(name, hundredths, _, _)| charts::Bar {
            label: name.to_string(),
            hundredths: *hundredths,
            text: hundredths.map_or_else(|| "không có hồ sơ".to_string(), |h| vi_percent(Some(h))),
        })
        .collect();
    let target_text = format!("Mục tiêu {}", vi_percent(Some(target * 100)));
    let svg =
        (!bars.is_empty()).then(|| charts::bars("online", &title, &bars, target, &target_text));
    Chart {
        id: "online",
        note: "Hồ sơ nộp trực tuyến trên tổng số hồ sơ tiếp nhận trong kỳ; đơn vị theo thứ hạng."
            .into(),
        svg: svg.and_then(|svg| drawn("online", svg)),
        head: vec!["Đơn vị", "Tỷ lệ trực tuyến", "Trực tuyến / tiếp nhận"],
        rows: scores
            .iter()
            .map(|(name, hundredths, numerator, denominator)| ChartRow {
                label: name.to_string(),
                values: vec![
                    vi_percent(*hundredths),
                    format!("{numerator}/{denominator}"),
                ],
            })
            .collect(),
        title,
    }
}

fn channel_chart(counts: &processing::ProcessingReport) -> Chart {
    let title = "Hồ sơ tiếp nhận theo kênh".to_string();
    let series = ["Trực tuyến", "Trực tiếp", "Bưu chính"];
    let stacks: Vec<charts::Stack> = counts
        .units
        .iter()
        .map(|unit| charts::Stack {
            label: unit.name.clone(),
            counts: vec![
                unit.counts.received.online,
                unit.counts.received.in_person,
                unit.counts.received.postal,
            ],
        })
        .collect();
    let svg = (!stacks.is_empty()).then(|| charts::stacked("channels", &title, &series, &stacks));
    Chart {
        id: "channels",
        note: "Số hồ sơ tiếp nhận trong kỳ của từng đơn vị, theo kênh nộp.".into(),
        svg: svg.and_then(|svg| drawn("channels", svg)),
        head: vec!["Đơn vị", "Trực tuyến", "Trực tiếp", "Bưu chính", "Tổng"],
        rows: counts
            .units
            .iter()
            .map(|unit| {
                let received = &unit.counts.received;
                ChartRow {
                    label: unit.name.clone(),
                    values: [
                        received.online,
                        received.in_person,
                        received.postal,
                        received.total,
                    ]
                    .iter()
                    .map(|count| vi_hundredths(count * 100))
                    .collect(),
                }
            })
            .collect(),
        title,
    }
}

/// A chart that could not be drawn is logged and left out; its table stays.
fn drawn(id: &str, svg: Result<String, String>) -> Option<String> {
    svg.map_err(|error| tracing::error!(chart = id, %error, "drawing a dashboard chart"))
        .ok()
}

fn overdue_line(
    state: &AppState,
    staff: &Staff,
    dossier: OverdueDossier,
    names: &BTreeMap<String, String>,
) -> OverdueLine {
    let registry = &state.registry;
    let procedure = registry
        .binding(&dossier.unit, &dossier.procedure)
        .map(|binding| binding.build_sha256)
        .or_else(|| registry.default_build(&dossier.procedure))
        .and_then(|sha256| registry.build(&sha256))
        .map_or_else(
            || dossier.procedure.clone(),
            |build| format!("{} ({})", build.info.name, dossier.procedure),
        );
    let days = dossier
        .working_days_overdue
        .filter(|days| *days > 0)
        .map_or_else(|| "—".to_string(), |days| days.to_string());
    let reason = if dossier.supplements > 1 {
        format!("Yêu cầu bổ sung {} lần", dossier.supplements)
    } else {
        "Quá hạn giải quyết".to_string()
    };
    OverdueLine {
        link: staff.actor.unit == dossier.unit,
        unit: names
            .get(&dossier.unit)
            .cloned()
            .unwrap_or_else(|| dossier.unit.clone()),
        due: dossier
            .statutory_due_date
            .as_deref()
            .map_or_else(|| "—".to_string(), vi_iso_date),
        code: dossier.code,
        procedure,
        days,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_written_the_vietnamese_way() {
        assert_eq!(vi_hundredths(8_750), "87,5");
        assert_eq!(vi_hundredths(6_667), "66,67");
        assert_eq!(vi_hundredths(1_805), "18,05");
        assert_eq!(vi_hundredths(10_000), "100");
        assert_eq!(vi_hundredths(0), "0");
        assert_eq!(vi_hundredths(100_000), "1.000");
        assert_eq!(vi_hundredths(123_456_701), "1.234.567,01");
        assert_eq!(vi_hundredths(-150), "-1,5");
        assert_eq!(vi_percent(Some(8_750)), "87,5 %");
        assert_eq!(vi_percent(None), "—");
        // The API's decimals, back to their hundredths.
        assert_eq!(hundredths_of(66.67), 6_667);
        assert_eq!(hundredths_of(18.05), 1_805);
        assert_eq!(hundredths_of(74.63), 7_463);
        assert_eq!(vi_iso_date("2026-11-03"), "03/11/2026");
    }
}
