//! The working-day calendar: weekends, public holidays and make-up working days.
//!
//! Holidays are data: one table per year, held in the database and managed by the
//! province (`PUT /api/v1/calendar/{year}`, `motcua calendar import`). The tables
//! shipped with motcua (`host/calendar/vn-YYYY.csv`, compiled into the binary) seed
//! the database; see docs/decisions/0008-calendar-as-data.md. Deadlines follow the time
//! rules in docs/decisions/0003: a dossier received after the unit's cut-off hour, or
//! on a day off, counts from the next working day.

pub mod table;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

use crate::domain::ProcessingTime;

/// The shipped holiday tables; the database is seeded from them.
pub const SHIPPED: &[(i32, &str)] = &[
    (2025, include_str!("../calendar/vn-2025.csv")),
    (2026, include_str!("../calendar/vn-2026.csv")),
];

/// The years, among the current civil year and the next, not in `loaded_years`: due
/// dates that reach into them are provisional until provincial IT loads their tables.
pub fn missing_years(loaded_years: &[i32], today: NaiveDate) -> Vec<i32> {
    [today.year(), today.year() + 1]
        .into_iter()
        .filter(|year| !loaded_years.contains(year))
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayKind {
    /// A weekday that is not worked.
    Holiday,
    /// A weekend day that is worked.
    Workday,
}

#[derive(Debug, thiserror::Error)]
#[error("calendar table for {year}, line {line}: {message}")]
pub struct CalendarError {
    pub year: i32,
    pub line: usize,
    pub message: String,
}

#[derive(Clone, Debug, Default)]
pub struct Calendar {
    exceptions: BTreeMap<NaiveDate, (DayKind, String)>,
    /// Years whose holiday table is loaded; other years count weekends only.
    years: BTreeSet<i32>,
}

impl Calendar {
    /// The calendar built from the tables shipped with motcua.
    pub fn shipped() -> Calendar {
        let mut calendar = Calendar::default();
        for (year, table) in SHIPPED {
            calendar
                .load_year(*year, table)
                .expect("shipped calendar tables are valid");
        }
        calendar
    }

    /// Adds one year's table (`date,kind,name` rows; `#` comments and the header are
    /// skipped), checked as `table::parse_table` checks it; the first problem is returned.
    pub fn load_year(&mut self, year: i32, table: &str) -> Result<(), CalendarError> {
        let table = table::parse_table(table.as_bytes(), Some(year)).map_err(|errors| {
            let first = &errors[0];
            CalendarError {
                year,
                line: usize::try_from(first.line).unwrap_or(usize::MAX),
                message: format!("{}: {}", first.field, first.message),
            }
        })?;
        self.add_table(&table);
        Ok(())
    }

    /// Puts a checked table in, replacing whatever this calendar held for its year.
    pub fn add_table(&mut self, table: &table::CalendarTable) {
        let year = table.year;
        self.exceptions.retain(|day, _| day.year() != year);
        for day in &table.days {
            self.exceptions
                .insert(day.date, (day.kind, day.name.clone()));
        }
        self.years.insert(year);
    }

    /// The calendar of these tables, and weekends only in every other year.
    pub fn from_tables<'a>(tables: impl IntoIterator<Item = &'a table::CalendarTable>) -> Calendar {
        let mut calendar = Calendar::default();
        for table in tables {
            calendar.add_table(table);
        }
        calendar
    }

    /// The years, among the current civil year and the next, that have no table: due
    /// dates that reach into them are provisional until provincial IT loads them.
    pub fn missing_years(&self, today: NaiveDate) -> Vec<i32> {
        missing_years(&self.loaded_years(), today)
    }

    /// Whether the holiday table of `year` is loaded.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// Whether every year from `from` to `to` has its holiday table: a due date
    /// computed across a year without one counts weekends only and is provisional.
    pub fn covers_span(&self, from: NaiveDate, to: NaiveDate) -> bool {
        (from.year().min(to.year())..=from.year().max(to.year())).all(|year| self.covers(year))
    }

    /// The years whose tables are loaded, in order.
    pub fn loaded_years(&self) -> Vec<i32> {
        self.years.iter().copied().collect()
    }

    /// Working days from `from` to `to`: the working days after `from` up to and
    /// including `to` when `to` is later, minus those after `to` up to and including
    /// `from` when it is earlier. A dossier due today has 0 left; one due yesterday -1.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (start, end, sign) = if to >= from {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut count = 0i64;
        let mut day = start;
        while day < end {
            day = day.succ_opt().expect("date in range");
            if self.is_working_day(day) {
                count += 1;
            }
        }
        sign * count
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        match self.exceptions.get(&day) {
            Some((DayKind::Holiday, _)) => false,
            Some((DayKind::Workday, _)) => true,
            None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The first working day strictly after `day`.
    pub fn next_working_day(&self, day: NaiveDate) -> NaiveDate {
        let mut next = day.succ_opt().expect("date in range");
        while !self.is_working_day(next) {
            next = next.succ_opt().expect("date in range");
        }
        next
    }

    /// `start` itself if it is a working day (else the next one), moved on by `days` working days.
    pub fn add_working_days(&self, start: NaiveDate, days: u32) -> NaiveDate {
        let mut day = if self.is_working_day(start) {
            start
        } else {
            self.next_working_day(start)
        };
        for _ in 0..days {
            day = self.next_working_day(day);
        }
        day
    }

    /// The day a dossier counts as received: the same day when it is a working day and
    /// the time is before the unit's cut-off hour, otherwise the next working day.
    pub fn receipt_day(&self, at: NaiveDateTime, cutoff: NaiveTime) -> NaiveDate {
        let day = at.date();
        if self.is_working_day(day) && at.time() < cutoff {
            day
        } else {
            self.next_working_day(day)
        }
    }

    /// The due date (ngày hẹn trả) of a dossier whose clock starts at `at`.
    pub fn due_date(
        &self,
        at: NaiveDateTime,
        cutoff: NaiveTime,
        time: ProcessingTime,
    ) -> NaiveDate {
        self.add_working_days(self.receipt_day(at, cutoff), time.working_days())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    const CUTOFF: NaiveTime = NaiveTime::from_hms_opt(15, 0, 0).unwrap();

    #[test]
    fn tet_2026_is_nine_days_off() {
        let calendar = Calendar::shipped();
        assert!(calendar.is_working_day(date("2026-02-13")));
        for day in 14..=22 {
            assert!(
                !calendar.is_working_day(date(&format!("2026-02-{day}"))),
                "2026-02-{day}"
            );
        }
        assert!(calendar.is_working_day(date("2026-02-23")));
    }

    #[test]
    fn make_up_saturday_is_worked() {
        let calendar = Calendar::shipped();
        assert!(calendar.is_working_day(date("2025-04-26")));
        assert!(!calendar.is_working_day(date("2025-05-02")));
    }

    #[test]
    fn three_working_days_across_tet() {
        let calendar = Calendar::shipped();
        let due = calendar.due_date(
            at("2026-02-13 09:00"),
            CUTOFF,
            ProcessingTime::WorkingDays(3),
        );
        assert_eq!(due, date("2026-02-25"));
    }

    #[test]
    fn after_cutoff_counts_from_next_working_day() {
        let calendar = Calendar::shipped();
        // Friday 16:00: same-day procedures are due on Monday.
        assert_eq!(
            calendar.due_date(at("2026-03-06 16:00"), CUTOFF, ProcessingTime::SameDay),
            date("2026-03-09")
        );
        assert_eq!(
            calendar.due_date(at("2026-03-06 14:59"), CUTOFF, ProcessingTime::SameDay),
            date("2026-03-06")
        );
        // Filed on Saturday: counts from Monday.
        assert_eq!(
            calendar.due_date(
                at("2026-03-07 09:00"),
                CUTOFF,
                ProcessingTime::WorkingDays(1)
            ),
            date("2026-03-10")
        );
    }

    #[test]
    fn counts_working_days_between_dates() {
        let calendar = Calendar::shipped();
        // Friday 13 Feb 2026 to Wednesday 25 Feb 2026 across Tết: 23, 24, 25.
        assert_eq!(
            calendar.working_days_between(date("2026-02-13"), date("2026-02-25")),
            3
        );
        assert_eq!(
            calendar.working_days_between(date("2026-02-25"), date("2026-02-13")),
            -3
        );
        assert_eq!(
            calendar.working_days_between(date("2026-03-02"), date("2026-03-02")),
            0
        );
        assert!(calendar.covers(2026) && !calendar.covers(2027));
        assert!(!calendar.covers_span(date("2026-12-30"), date("2027-01-04")));
    }

    #[test]
    fn a_table_replaces_its_year_and_covers_it() {
        let mut calendar = Calendar::shipped();
        assert_eq!(calendar.missing_years(date("2026-12-30")), [2027]);
        assert_eq!(calendar.missing_years(date("2027-01-02")), [2027, 2028]);
        // Friday 1 January 2027 counts as a working day until 2027 has a table.
        assert!(calendar.is_working_day(date("2027-01-01")));
        calendar
            .load_year(2027, "2027-01-01,holiday,Tết Dương lịch")
            .unwrap();
        assert!(!calendar.is_working_day(date("2027-01-01")));
        assert_eq!(
            calendar.missing_years(date("2026-12-30")),
            Vec::<i32>::new()
        );
        // A corrected 2026 table replaces the old one whole: 1 January is worked again.
        calendar
            .load_year(2026, "2026-01-02,holiday,Nghỉ bù")
            .unwrap();
        assert!(calendar.is_working_day(date("2026-01-01")));
        assert!(!calendar.is_working_day(date("2026-01-02")));
        assert!(!calendar.is_working_day(date("2027-01-01")));
        let tables = [table::parse_table(b"2030-01-01,holiday,x", None).unwrap()];
        let calendar = Calendar::from_tables(&tables);
        assert_eq!(calendar.loaded_years(), [2030]);
        assert!(!calendar.is_working_day(date("2030-01-01")));
    }

    #[test]
    fn rejects_bad_rows() {
        let mut calendar = Calendar::default();
        assert!(calendar.load_year(2027, "2027-01-01,party,x").is_err());
        assert!(calendar.load_year(2027, "2026-01-01,holiday,x").is_err());
        assert!(calendar.load_year(2027, "not-a-date,holiday,x").is_err());
    }
}
