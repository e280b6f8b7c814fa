//! The reports as CSV: one header line, one line per row, written with the `csv` crate
//! so names with commas or quotes survive. Numbers are plain; a rate with nothing to
//! divide by is an empty field.

use super::indicators::{IndicatorsReport, KNOWN_INDICATORS};
use super::processing::{Counts, ProcessingReport};

/// The columns of the processing report after `level`, `unit` and `procedure`.
const COUNT_COLUMNS: [&str; 20] = [
    "carried_over",
    "received_online",
    "received_in_person",
    "received_postal",
    "received",
    "to_process",
    "settled_early",
    "settled_on_time",
    "settled_late",
    "in_progress_not_yet_due",
    "in_progress_due_soon",
    "in_progress_overdue",
    "waiting_supplement",
    "awaiting_payment",
    "refused",
    "stopped",
    "withdrawn",
    "late_rate_percent",
    "on_time_rate_percent",
    "average_processing_days",
];

fn number(value: Option<f64>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

fn count_fields(counts: &Counts) -> Vec<String> {
    let mut fields: Vec<String> = [
        counts.carried_over,
        counts.received.online,
        counts.received.in_person,
        counts.received.postal,
        counts.received.total,
        counts.to_process,
        counts.settled.early,
        counts.settled.on_time,
        counts.settled.late,
        counts.in_progress.not_yet_due,
        counts.in_progress.due_soon,
        counts.in_progress.overdue,
        counts.waiting_supplement,
        counts.awaiting_payment,
        counts.refused,
        counts.stopped,
        counts.withdrawn,
    ]
    .iter()
    .map(i64::to_string)
    .collect();
    fields.push(number(counts.late_rate_percent));
    fields.push(number(counts.on_time_rate_percent));
    fields.push(number(counts.average_processing_days));
    fields
}

fn finish(writer: csv::Writer<Vec<u8>>) -> String {
    let bytes = writer.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("the reports are UTF-8")
}

impl ProcessingReport {
    /// One line per row: `level` is `unit-procedure`, `unit`, `procedure` or `total`.
    pub fn to_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let write = |writer: &mut csv::Writer<Vec<u8>>, head: [&str; 3], counts: &Counts| {
            let mut record: Vec<String> = head.iter().map(|field| field.to_string()).collect();
            record.extend(count_fields(counts));
            writer.write_record(&record).expect("writing to memory");
        };
        let mut header = vec!["level", "unit", "procedure"];
        header.extend(COUNT_COLUMNS);
        writer.write_record(&header).expect("writing to memory");
        for row in &self.rows {
            write(
                &mut writer,
                ["unit-procedure", &row.unit, &row.procedure],
                &row.counts,
            );
        }
        for row in &self.units {
            write(&mut writer, ["unit", &row.unit, ""], &row.counts);
        }
        for row in &self.procedures {
            write(&mut writer, ["procedure", "", &row.procedure], &row.counts);
        }
        write(&mut writer, ["total", "", ""], &self.total);
        finish(writer)
    }
}

impl IndicatorsReport {
    /// One line per unit, best first: per indicator its numerator, denominator, rate and
    /// points, then the total, the overdue count and codes (space-separated).
    pub fn to_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = ["rank", "unit", "name"]
            .iter()
            .map(|field| field.to_string())
            .collect();
        for indicator in KNOWN_INDICATORS {
            for part in ["numerator", "denominator", "rate_percent", "points"] {
                header.push(format!("{indicator}_{part}"));
            }
        }
        header.extend(
            [
                "total_points",
                "max_points",
                "overdue_count",
                "overdue_codes",
                "average_processing_days",
                // Last, so that the columns before keep their places: ranks are per level.
                "level",
            ]
            .map(str::to_string),
        );
        writer.write_record(&header).expect("writing to memory");
        for unit in &self.units {
            let mut record = vec![unit.rank.to_string(), unit.unit.clone(), unit.name.clone()];
            for score in &unit.indicators {
                record.push(score.numerator.to_string());
                record.push(score.denominator.to_string());
                record.push(number(score.rate_percent));
                record.push(score.points.to_string());
            }
            record.push(unit.total_points.to_string());
            record.push(unit.max_points.to_string());
            record.push(unit.overdue.count.to_string());
            record.push(unit.overdue.codes.join(" "));
            record.push(number(unit.average_processing_days));
            record.push(unit.level.as_str().to_string());
            writer.write_record(&record).expect("writing to memory");
        }
        finish(writer)
    }
}
