//! One year's holiday table as the province writes it: CSV rows `date,kind,name`,
//! `#` comment lines and an optional `date,kind,name` header.
//!
//! A table is checked whole before anything is loaded, and every problem is reported
//! with the line and the field to fix, so a clerk can correct a spreadsheet in one
//! pass. The canonical form (header, rows by date, `\n` line ends) is what the
//! database holds and what its sha256 is taken of: the same days with other comments
//! or another row order are the same table.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::DayKind;

/// The years a table may be for: the span the plugins' calendar accepts.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// One problem in a table: the line (1-based, as an editor counts), the field
/// (`date`, `kind`, `name`, `row` for the row as a whole, `table` for the whole table,
/// `year` for the year asked for) and what to fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableError {
    pub line: u64,
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, field {}: {}",
            self.line, self.field, self.message
        )
    }
}

/// One exception day of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

/// A checked table: one year, its exception days in date order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarTable {
    pub year: i32,
    pub days: Vec<TableDay>,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    pub fn parse(text: &str) -> Option<DayKind> {
        match text {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn weekday_name(date: NaiveDate) -> &'static str {
    match date.weekday() {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// Checks a table. `year` is the year it must be for; without one, the year of the
/// first row's date is taken and every row must be in it. Returns every problem found,
/// in line order, or the table.
pub fn parse_table(bytes: &[u8], year: Option<i32>) -> Result<CalendarTable, Vec<TableError>> {
    let mut errors = Vec::new();
    if let Some(year) = year
        && !YEARS.contains(&year)
    {
        errors.push(TableError {
            line: 0,
            field: "year",
            message: format!(
                "{year} is outside the years a table may be for ({} to {})",
                YEARS.start(),
                YEARS.end()
            ),
        });
        return Err(errors);
    }
    // Lines are split here rather than by the CSV reader, whose record positions are
    // not the line a row is on once comment or blank lines precede it; each line is
    // then read as one CSV record (so a name may be quoted, but not span lines).
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let valid = &bytes[..error.valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() as u64 + 1;
            errors.push(TableError {
                line,
                field: "row",
                message: "the line is not valid UTF-8 text; save the table as CSV UTF-8".into(),
            });
            return Err(errors);
        }
    };
    // Spreadsheets often save CSV with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut year = year;
    // The line where the year was inferred, to explain a row in another year.
    let mut year_from_line = None;
    let mut seen: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let mut days = Vec::new();
    let mut first_record = true;
    let mut last_line = 1;
    for (index, raw) in text.split('\n').enumerate() {
        let line = index as u64 + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        last_line = line;
        let record = read_record(raw);
        let is_first = std::mem::replace(&mut first_record, false);
        if is_first
            && record
                .get(0)
                .is_some_and(|f| f.eq_ignore_ascii_case("date"))
        {
            let header: Vec<String> = record.iter().map(str::to_ascii_lowercase).collect();
            if header != ["date", "kind", "name"] {
                errors.push(TableError {
                    line,
                    field: "row",
                    message: format!(
                        "the header is `{}`; it must be `date,kind,name` (or leave it out)",
                        record.iter().collect::<Vec<_>>().join(",")
                    ),
                });
            }
            continue;
        }
        if record.len() != 3 {
            errors.push(TableError {
                line,
                field: "row",
                message: format!(
                    "expected 3 fields `date,kind,name`, found {}; put a name holding a comma in double quotes",
                    record.len()
                ),
            });
            continue;
        }
        let (date_text, kind_text, name) = (&record[0], &record[1], &record[2]);
        let date = match NaiveDate::parse_from_str(date_text, "%Y-%m-%d") {
            Ok(date) if date_text.len() == 10 => Some(date),
            _ => {
                errors.push(TableError {
                    line,
                    field: "date",
                    message: format!(
                        "`{date_text}` is not a date; write it as YYYY-MM-DD, e.g. 2027-01-01"
                    ),
                });
                None
            }
        };
        let date = date.filter(|date| match year {
            Some(year) if date.year() != year => {
                let why = match year_from_line {
                    Some(first) => format!("the year of the first row, line {first}"),
                    None => "the year being loaded".to_string(),
                };
                errors.push(TableError {
                    line,
                    field: "date",
                    message: format!("{date} is not in {year} ({why}); a table holds one year"),
                });
                false
            }
            Some(_) => true,
            None if !YEARS.contains(&date.year()) => {
                errors.push(TableError {
                    line,
                    field: "date",
                    message: format!(
                        "{date} is outside the years a table may be for ({} to {})",
                        YEARS.start(),
                        YEARS.end()
                    ),
                });
                false
            }
            None => {
                year = Some(date.year());
                year_from_line = Some(line);
                true
            }
        });
        let kind = DayKind::parse(kind_text);
        if kind.is_none() {
            errors.push(TableError {
                line,
                field: "kind",
                message: format!(
                    "`{kind_text}` is not a kind; use `holiday` (a weekday off) or `workday` (a weekend day worked)"
                ),
            });
        }
        if let (Some(date), Some(kind)) = (date, kind) {
            // Either mistake would load a row that changes nothing, which is almost
            // always a wrong date: say so rather than load it.
            match kind {
                DayKind::Holiday if is_weekend(date) => errors.push(TableError {
                    line,
                    field: "kind",
                    message: format!(
                        "{date} is a {}, already a day off; list only weekdays off as holidays (a compensatory day off is the weekday it moves to)",
                        weekday_name(date)
                    ),
                }),
                DayKind::Workday if !is_weekend(date) => errors.push(TableError {
                    line,
                    field: "kind",
                    message: format!(
                        "{date} is a {}, already a working day; `workday` is for a Saturday or Sunday that is worked",
                        weekday_name(date)
                    ),
                }),
                _ => {}
            }
        }
        if name.is_empty() {
            errors.push(TableError {
                line,
                field: "name",
                message: "the name is empty; say what the day is, e.g. Tết Dương lịch".into(),
            });
        } else if name.chars().count() > 200 || name.chars().any(char::is_control) {
            errors.push(TableError {
                line,
                field: "name",
                message: "the name must be one line of at most 200 characters".into(),
            });
        }
        if let Some(date) = date {
            if let Some(first) = seen.get(&date) {
                errors.push(TableError {
                    line,
                    field: "date",
                    message: format!("{date} is already listed on line {first}; list a day once"),
                });
            } else {
                seen.insert(date, line);
                if let Some(kind) = kind {
                    days.push(TableDay {
                        date,
                        kind,
                        name: name.to_string(),
                    });
                }
            }
        }
    }
    if errors.is_empty() && days.is_empty() {
        errors.push(TableError {
            line: last_line,
            field: "table",
            message: "the table lists no days; a year's table lists at least its public holidays"
                .into(),
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|error| error.line);
        return Err(errors);
    }
    days.sort_by_key(|day| day.date);
    Ok(CalendarTable {
        year: year.expect("a table with days has a year"),
        days,
    })
}

/// One line read as a CSV record, fields trimmed.
fn read_record(line: &str) -> csv::StringRecord {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    // Reading from a valid UTF-8 string in memory cannot fail.
    match reader.read_record(&mut record) {
        Ok(_) => record,
        Err(_) => csv::StringRecord::from(vec![line]),
    }
}

impl CalendarTable {
    /// The table in canonical form: the header, then one row per day in date order,
    /// names quoted only where CSV needs it, `\n` line ends.
    pub fn canonical_csv(&self) -> String {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        writer
            .write_record(["date", "kind", "name"])
            .expect("writing to memory");
        for day in &self.days {
            writer
                .write_record([
                    day.date.format("%Y-%m-%d").to_string().as_str(),
                    day.kind.as_str(),
                    day.name.as_str(),
                ])
                .expect("writing to memory");
        }
        let bytes = writer.into_inner().expect("writing to memory");
        String::from_utf8(bytes).expect("the table's fields are text")
    }

    /// The sha256 of the canonical form: the table's identity.
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_csv().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str, year: Option<i32>) -> Vec<(u64, &'static str)> {
        parse_table(text.as_bytes(), year)
            .expect_err("the table is refused")
            .into_iter()
            .map(|e| (e.line, e.field))
            .collect()
    }

    #[test]
    fn reads_the_shipped_format() {
        let table = parse_table(super::super::SHIPPED[1].1.as_bytes(), Some(2026)).unwrap();
        assert_eq!(table.year, 2026);
        assert_eq!(table.days.len(), 11);
        assert_eq!(table.days[0].name, "Tết Dương lịch");
        // The same days in another order, without comments, with CRLF and a BOM, are
        // the same table.
        let mut rows: Vec<&str> = super::super::SHIPPED[1]
            .1
            .lines()
            .filter(|l| l.starts_with("2026"))
            .collect();
        rows.reverse();
        let other = format!("\u{feff}{}\r\n", rows.join("\r\n"));
        let again = parse_table(other.as_bytes(), None).unwrap();
        assert_eq!(again, table);
        assert_eq!(again.sha256(), table.sha256());
        let canonical = table.canonical_csv();
        assert!(canonical.starts_with("date,kind,name\n2026-01-01,holiday,Tết Dương lịch\n"));
        assert_eq!(
            parse_table(canonical.as_bytes(), Some(2026)).unwrap(),
            table
        );
    }

    #[test]
    fn names_every_problem_by_line_and_field() {
        let text = "# draft\n\
                    date,kind,name\n\
                    2027-01-01,holiday,Tết Dương lịch\n\
                    2027-02-30,holiday,Bad date\n\
                    2026-12-31,holiday,Last year\n\
                    2027-02-08,party,Unknown kind\n\
                    2027-02-06,holiday,Saturday\n\
                    2027-02-03,workday,Wednesday\n\
                    2027-01-01,holiday,Twice\n\
                    2027-02-09,holiday,\n\
                    2027-02-10,holiday\n";
        assert_eq!(
            errors(text, Some(2027)),
            [
                (4, "date"),
                (5, "date"),
                (6, "kind"),
                (7, "kind"),
                (8, "kind"),
                (9, "date"),
                (10, "name"),
                (11, "row"),
            ]
        );
    }

    #[test]
    fn counts_lines_as_an_editor_does() {
        // Comment and blank lines, CRLF line ends and a byte-order mark do not shift
        // the line a problem is reported on.
        let text = "\u{feff}# draft\r\n\r\n# from the notice\r\ndate,kind,name\r\n\
                    2027-01-01,holiday,Tết Dương lịch\r\n\
                    # Tết\r\n\
                    \r\n\
                    2027-02-06,holiday,Saturday\r\n\
                    2027-02-08,holiday,";
        assert_eq!(errors(text, None), [(8, "kind"), (9, "name")]);
        assert_eq!(errors("# a\n# b\ndate,kind\n", None), [(3, "row")]);
    }

    #[test]
    fn infers_the_year_from_the_first_row() {
        let text = "2027-01-01,holiday,Tết Dương lịch\n2028-01-03,holiday,Next year\n";
        let refused = parse_table(text.as_bytes(), None).unwrap_err();
        assert_eq!(refused.len(), 1);
        assert_eq!((refused[0].line, refused[0].field), (2, "date"));
        assert!(refused[0].message.contains("line 1"), "{}", refused[0]);
        assert_eq!(
            parse_table(text.lines().next().unwrap().as_bytes(), None)
                .unwrap()
                .year,
            2027
        );
    }

    #[test]
    fn refuses_empty_tables_bad_headers_and_bad_bytes() {
        assert_eq!(
            errors("# nothing yet\ndate,kind,name\n", None),
            [(2, "table")]
        );
        assert_eq!(errors("", Some(2027)), [(1, "table")]);
        assert_eq!(
            errors("date,type,name\n2027-01-01,holiday,x\n", None),
            [(1, "row")]
        );
        assert_eq!(
            errors("2027-01-01,holiday,ok\n2027-01-04,holiday,\u{0}bad\n", None),
            [(2, "name")]
        );
        let mut bytes = b"2027-01-01,holiday,ok\n2027-01-04,holiday,".to_vec();
        bytes.extend([0xff, 0xfe, b'\n']);
        let refused = parse_table(&bytes, None).unwrap_err();
        assert_eq!((refused[0].line, refused[0].field), (2, "row"));
        assert_eq!(errors("2027-01-01,holiday,x", Some(3000)), [(0, "year")]);
    }

    #[test]
    fn quotes_names_with_commas() {
        let text = "2027-01-01,holiday,\"Tết Dương lịch, năm mới\"\n";
        let table = parse_table(text.as_bytes(), Some(2027)).unwrap();
        assert_eq!(table.days[0].name, "Tết Dương lịch, năm mới");
        assert_eq!(
            parse_table(table.canonical_csv().as_bytes(), Some(2027)).unwrap(),
            table
        );
    }
}
