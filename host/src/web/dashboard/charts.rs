//! The dashboard's charts, drawn on the server with `plotters` into inline SVG (the
//! console's CSP allows no script, and inline `<svg>` is markup, not an image).
//!
//! plotters' SVG backend writes presentation attributes (`fill=`, `stroke=`,
//! `font-family=`, `opacity=`), never a `style=` attribute or a `<style>` element, so the
//! CSP's `style-src 'self'` does not touch the charts; [`accessible`] checks that and
//! refuses a chart that would carry one. Text is SVG `<text>` in the system's
//! sans-serif (no font files: plotters' `ttf` feature is off, and it only estimates text
//! widths, from the byte length, for its layout). plotters escapes every text it writes
//! (`<`, `>`, `&`, quotes), unit names included, so the page may embed the SVG as it is.
//!
//! Each chart gets `role="img"`, an `aria-label` and a `<title>`; the page puts the
//! numbers beside it in a table for screen readers.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The charts' width in SVG units (the stylesheet scales them to the column).
const WIDTH: u32 = 960;
/// The font of every text in the charts: the system's sans-serif.
const FONT: &str = "sans-serif";
/// Okabe–Ito colours, told apart with colour blindness too (and every series is also
/// named in a legend or a label).
const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const ORANGE: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
const TARGET: RGBColor = RGBColor(0xA3, 0x16, 0x1A);
const INK: RGBColor = RGBColor(0x1B, 0x1F, 0x24);
const GRID: RGBColor = RGBColor(0xC9, 0xD1, 0xD9);

/// One point of the on-time line: a month's label and its rate in hundredths of a
/// percent, with its text as the page writes it.
pub struct Point {
    pub label: String,
    pub hundredths: Option<i64>,
    pub text: String,
}

/// One horizontal bar: a unit's name and its value in hundredths, with its text.
pub struct Bar {
    pub label: String,
    pub hundredths: Option<i64>,
    pub text: String,
}

/// One unit's stacked bar: its name and a count per series.
pub struct Stack {
    pub label: String,
    pub counts: Vec<i64>,
}

type Drawn = Result<String, String>;

fn failed<E: std::fmt::Display>(error: E) -> String {
    error.to_string()
}

fn percent(hundredths: i64) -> f64 {
    hundredths as f64 / 100.0
}

/// The on-time rate month by month, 0–100 %, with the target as a line.
pub fn line(
    id: &str,
    title: &str,
    points: &[Point],
    target_percent: i64,
    target_text: &str,
) -> Drawn {
    // plotters' segmented `0..n − 1` has the n bands of n months (from two on).
    let n = i32::try_from(points.len()).map_err(failed)?;
    if n < 2 {
        return Err("a line needs two months at least".into());
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(28)
            .margin_right(24)
            .margin_left(8)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0f64..105f64)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(INK)
            .x_labels(points.len())
            .y_labels(6)
            .x_label_style((FONT, 16).into_font().color(&INK))
            .y_label_style((FONT, 16).into_font().color(&INK))
            .x_label_formatter(&|value| match value {
                SegmentValue::CenterOf(index) | SegmentValue::Exact(index) => {
                    usize::try_from(*index)
                        .ok()
                        .and_then(|index| points.get(index))
                        .map(|point| point.label.clone())
                        .unwrap_or_default()
                }
                SegmentValue::Last => String::new(),
            })
            .y_label_formatter(&|value| {
                if *value > 100.0 {
                    String::new()
                } else {
                    format!("{value:.0} %")
                }
            })
            .draw()
            .map_err(failed)?;
        // The target, across the whole width, named at its right end.
        let target = target_percent as f64;
        chart
            .draw_series(LineSeries::new(
                [
                    (SegmentValue::Exact(0), target),
                    (SegmentValue::Last, target),
                ],
                TARGET.stroke_width(2),
            ))
            .map_err(failed)?;
        chart
            .draw_series(std::iter::once(Text::new(
                target_text.to_string(),
                (SegmentValue::Last, target),
                (FONT, 15)
                    .into_font()
                    .color(&TARGET)
                    .pos(Pos::new(HPos::Right, VPos::Bottom)),
            )))
            .map_err(failed)?;
        // The line through the months that have a rate; a month with nothing to judge
        // breaks it.
        let mut run: Vec<(SegmentValue<i32>, f64)> = Vec::new();
        let mut runs = Vec::new();
        for (index, point) in (0..n).zip(points) {
            match point.hundredths {
                Some(value) => run.push((SegmentValue::CenterOf(index), percent(value))),
                None => runs.push(std::mem::take(&mut run)),
            }
        }
        runs.push(run);
        for run in runs.into_iter().filter(|run| run.len() > 1) {
            chart
                .draw_series(LineSeries::new(run, BLUE.stroke_width(3)))
                .map_err(failed)?;
        }
        chart
            .draw_series(
                (0..n)
                    .zip(points)
                    .enumerate()
                    .filter_map(|(at, (index, point))| {
                        point.hundredths.map(|value| {
                            let (offset, v_pos) = if label_below(points, at, value) {
                                (12, VPos::Top)
                            } else {
                                (-12, VPos::Bottom)
                            };
                            EmptyElement::at((SegmentValue::CenterOf(index), percent(value)))
                                + Circle::new((0, 0), 6, BLUE.filled())
                                + Text::new(
                                    point.text.clone(),
                                    (0, offset),
                                    (FONT, 16)
                                        .into_font()
                                        .color(&INK)
                                        .pos(Pos::new(HPos::Center, v_pos)),
                                )
                        })
                    }),
            )
            .map_err(failed)?;
        root.present().map_err(failed)?;
    }
    accessible(svg, id, title)
}

/// Whether a point's label goes below it, off the line: when its neighbours are higher
/// on average (and there is room below it).
fn label_below(points: &[Point], at: usize, value: i64) -> bool {
    let neighbours: Vec<i64> = [at.checked_sub(1), at.checked_add(1)]
        .into_iter()
        .flatten()
        .filter_map(|index| points.get(index).and_then(|point| point.hundredths))
        .collect();
    let higher =
        !neighbours.is_empty() && neighbours.iter().sum::<i64>() > value * neighbours.len() as i64;
    higher && value >= 1_500
}

/// How tall a chart of horizontal bars is for `rows` rows.
fn bars_height(rows: usize) -> u32 {
    let rows = u32::try_from(rows).unwrap_or(u32::MAX / 64).max(1);
    (48 + 44 * (rows + 1)).min(20_000)
}

/// The label area of horizontal bars: room for the longest name (plotters counts
/// bytes, so Vietnamese names get more than they need).
fn label_width<'a>(labels: impl Iterator<Item = &'a str>) -> u32 {
    let longest = labels.map(|label| label.chars().count()).max().unwrap_or(0);
    u32::try_from(longest * 9 + 24)
        .unwrap_or(360)
        .clamp(80, 360)
}

// Rows of horizontal bars sit on a segmented axis of n + 1 bands (plotters' segmented
// `0..n` has n + 1; `0..0` would have none to draw in): row r in band n − 1 − r, so the
// first row is at the top, and the top band n holds the target's name or the legend.

/// Horizontal bars, one per row from the top, 0–100 %, with the target as a line.
pub fn bars(id: &str, title: &str, rows: &[Bar], target_percent: i64, target_text: &str) -> Drawn {
    let n = i32::try_from(rows.len()).map_err(failed)?;
    if n == 0 {
        return Err("no rows to draw".into());
    }
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, bars_height(rows.len()))).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(8)
            .margin_right(120)
            .margin_left(8)
            .x_label_area_size(40)
            .y_label_area_size(label_width(rows.iter().map(|row| row.label.as_str())))
            .build_cartesian_2d(0f64..100f64, (0..n).into_segmented())
            .map_err(failed)?;
        // Row 0 is drawn at the top: plotters counts upwards.
        let row_at = |value: &SegmentValue<i32>| match value {
            SegmentValue::CenterOf(index) | SegmentValue::Exact(index) => {
                usize::try_from(n - 1 - index)
                    .ok()
                    .and_then(|row| rows.get(row))
            }
            SegmentValue::Last => None,
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(INK)
            .y_labels(rows.len())
            .x_labels(11)
            .x_label_style((FONT, 16).into_font().color(&INK))
            .y_label_style((FONT, 16).into_font().color(&INK))
            .y_label_formatter(&|value| {
                row_at(value)
                    .map(|row| row.label.clone())
                    .unwrap_or_default()
            })
            .x_label_formatter(&|value| format!("{value:.0} %"))
            .draw()
            .map_err(failed)?;
        chart
            .draw_series((0..n).zip(rows).map(|(position, row)| {
                let y = n - 1 - position;
                let value = row.hundredths.map(percent).unwrap_or(0.0);
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(y)),
                        (value, SegmentValue::Exact(y + 1)),
                    ],
                    BLUE.filled(),
                );
                bar.set_margin(8, 8, 0, 0);
                bar
            }))
            .map_err(failed)?;
        chart
            .draw_series((0..n).zip(rows).map(|(position, row)| {
                let y = n - 1 - position;
                let value = row.hundredths.map(percent).unwrap_or(0.0);
                EmptyElement::at((value, SegmentValue::CenterOf(y)))
                    + Text::new(
                        row.text.clone(),
                        (8, 0),
                        (FONT, 16)
                            .into_font()
                            .color(&INK)
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    )
            }))
            .map_err(failed)?;
        let target = target_percent as f64;
        chart
            .draw_series(LineSeries::new(
                [
                    (target, SegmentValue::Exact(0)),
                    (target, SegmentValue::Last),
                ],
                TARGET.stroke_width(2),
            ))
            .map_err(failed)?;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((target, SegmentValue::CenterOf(n)))
                    + Text::new(
                        target_text.to_string(),
                        (6, 0),
                        (FONT, 15)
                            .into_font()
                            .color(&TARGET)
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    ),
            ))
            .map_err(failed)?;
        root.present().map_err(failed)?;
    }
    accessible(svg, id, title)
}

/// Stacked horizontal bars, one per row from the top, a colour per series, with a
/// legend naming the series.
pub fn stacked(id: &str, title: &str, series: &[&str], rows: &[Stack]) -> Drawn {
    let n = i32::try_from(rows.len()).map_err(failed)?;
    if n == 0 {
        return Err("no rows to draw".into());
    }
    let colours = [BLUE, ORANGE, GREEN];
    let most = rows
        .iter()
        .map(|row| row.counts.iter().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, bars_height(rows.len()))).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(8)
            .margin_right(72)
            .margin_left(8)
            .x_label_area_size(40)
            .y_label_area_size(label_width(rows.iter().map(|row| row.label.as_str())))
            .build_cartesian_2d(0i64..most, (0..n).into_segmented())
            .map_err(failed)?;
        let row_at = |value: &SegmentValue<i32>| match value {
            SegmentValue::CenterOf(index) | SegmentValue::Exact(index) => {
                usize::try_from(n - 1 - index)
                    .ok()
                    .and_then(|row| rows.get(row))
            }
            SegmentValue::Last => None,
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(INK)
            .y_labels(rows.len())
            .x_labels(usize::try_from(most.min(10)).unwrap_or(10) + 1)
            .x_label_style((FONT, 16).into_font().color(&INK))
            .y_label_style((FONT, 16).into_font().color(&INK))
            .y_label_formatter(&|value| {
                row_at(value)
                    .map(|row| row.label.clone())
                    .unwrap_or_default()
            })
            .x_label_formatter(&|value| value.to_string())
            .draw()
            .map_err(failed)?;
        for (kind, (name, colour)) in series.iter().zip(colours).enumerate() {
            chart
                .draw_series((0..n).zip(rows).filter_map(|(position, row)| {
                    let start: i64 = row.counts.iter().take(kind).sum();
                    let count = row.counts.get(kind).copied().unwrap_or(0);
                    (count > 0).then(|| {
                        let y = n - 1 - position;
                        let mut bar = Rectangle::new(
                            [
                                (start, SegmentValue::Exact(y)),
                                (start + count, SegmentValue::Exact(y + 1)),
                            ],
                            colour.filled(),
                        );
                        bar.set_margin(8, 8, 0, 0);
                        bar
                    })
                }))
                .map_err(failed)?;
            // The legend, in the top band: a swatch and the series' name.
            let offset = 200 * i32::try_from(kind).map_err(failed)?;
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((0, SegmentValue::CenterOf(n)))
                        + Rectangle::new([(offset, -8), (offset + 16, 8)], colour.filled())
                        + Text::new(
                            name.to_string(),
                            (offset + 24, 0),
                            (FONT, 16)
                                .into_font()
                                .color(&INK)
                                .pos(Pos::new(HPos::Left, VPos::Center)),
                        ),
                ))
                .map_err(failed)?;
        }
        chart
            .draw_series((0..n).zip(rows).map(|(position, row)| {
                let y = n - 1 - position;
                let total: i64 = row.counts.iter().sum();
                EmptyElement::at((total, SegmentValue::CenterOf(y)))
                    + Text::new(
                        total.to_string(),
                        (8, 0),
                        (FONT, 16)
                            .into_font()
                            .color(&INK)
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    )
            }))
            .map_err(failed)?;
        root.present().map_err(failed)?;
    }
    accessible(svg, id, title)
}

/// Escapes text for SVG markup.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// The SVG plotters wrote, named for assistive technology: `role="img"`, an
/// `aria-label`, a `<title>`, and a class the stylesheet scales. Refuses markup with a
/// `style` attribute or element, which the CSP would block.
fn accessible(svg: String, id: &str, title: &str) -> Drawn {
    // An attribute is ` style="`: text plotters wrote is escaped (quotes and `<` become
    // entities), so a unit named "style=" does not match.
    if svg.contains(" style=\"") || svg.contains("<style") {
        return Err(format!(
            "the chart {id} carries a style, which the CSP blocks"
        ));
    }
    let Some(rest) = svg.strip_prefix("<svg ") else {
        return Err(format!("the chart {id} does not start with <svg"));
    };
    let Some((attributes, body)) = rest.split_once('>') else {
        return Err(format!("the chart {id} has no opening tag"));
    };
    let (id, title) = (escape(id), escape(title));
    Ok(format!(
        "<svg class=\"chart\" id=\"{id}-svg\" role=\"img\" aria-label=\"{title}\" \
         {attributes}><title>{title}</title>{body}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(label: &str, hundredths: Option<i64>) -> Point {
        Point {
            label: label.into(),
            hundredths,
            text: hundredths.map(|h| format!("{h}")).unwrap_or_default(),
        }
    }

    #[test]
    fn charts_are_named_svg_without_styles() {
        let trend = line(
            "trend",
            "Tỷ lệ đúng hạn <theo tháng>",
            &[
                point("06/2026", Some(10_000)),
                point("07/2026", None),
                point("08/2026", Some(8_750)),
                point("09/2026", Some(9_000)),
            ],
            95,
            "Mục tiêu 95 %",
        )
        .unwrap();
        let online = bars(
            "online",
            "Trực tuyến",
            &[Bar {
                label: "Phường <Xuân> Hòa".into(),
                hundredths: Some(6_667),
                text: "66,67 %".into(),
            }],
            80,
            "Mục tiêu 80 %",
        )
        .unwrap();
        let channels = stacked(
            "channels",
            "Kênh",
            &["Trực tuyến", "Trực tiếp", "Bưu chính"],
            &[
                Stack {
                    label: "Phường Xuân Hòa".into(),
                    counts: vec![2, 1, 0],
                },
                Stack {
                    label: "Phường Việt Trì".into(),
                    counts: vec![0, 0, 0],
                },
            ],
        )
        .unwrap();
        for svg in [&trend, &online, &channels] {
            assert!(svg.starts_with("<svg class=\"chart\""), "{svg}");
            assert!(svg.contains("role=\"img\""));
            assert!(!svg.contains("style="), "{svg}");
            assert!(svg.trim_end().ends_with("</svg>"));
        }
        assert!(trend.contains("<title>Tỷ lệ đúng hạn &lt;theo tháng&gt;</title>"));
        assert!(trend.contains("aria-label=\"Tỷ lệ đúng hạn &lt;theo tháng&gt;\""));
        assert!(trend.contains("06/2026") && trend.contains("09/2026"));
        assert!(
            online.contains("Phường &lt;Xuân&gt; Hòa"),
            "labels are escaped"
        );
        assert!(online.contains("66,67 %"));
        assert!(
            channels.contains("Bưu chính"),
            "the legend names the series"
        );
        assert!(line("x", "x", &[], 95, "").is_err());
    }
}
