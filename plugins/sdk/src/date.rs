//! Calendar dates without a date library.
//!
//! Plugins only need to read ISO dates from forms, validate them and count days between
//! them; a full date-time crate would multiply the size of every plugin for that.
//! Working days are a different matter: they depend on the province's holidays, so
//! ask the host through [`crate::calendar`] instead of computing them here.

use core::cmp::Ordering;
use core::fmt;

use crate::types::{Date, Datetime};

/// Why a text is not a valid `YYYY-MM-DD` date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not ten characters in the form `YYYY-MM-DD`, or the year is 0000.
    Format,
    /// The month is not between 01 and 12.
    Month,
    /// The day does not exist in that month (for example 2023-02-29).
    Day,
}

impl fmt::Display for DateError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            DateError::Format => "ngày phải có dạng YYYY-MM-DD",
            DateError::Month => "tháng phải từ 01 đến 12",
            DateError::Day => "ngày không có trong tháng đó",
        })
    }
}

impl std::error::Error for DateError {}

/// Whether `year` has a 29 February in the Gregorian calendar.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days in `month` (1 to 12) of `year`; 0 for a month that does not exist.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Whether `date` is a real calendar day.
pub fn is_valid_date(date: &Date) -> bool {
    date.day >= 1 && date.day <= days_in_month(date.year, date.month)
}

/// Parses a strict ISO 8601 calendar date, `YYYY-MM-DD`, and checks it is a real day.
///
/// Strict on purpose: forms are machine-filled by the portal, so a looser format means a
/// broken client, and accepting `1/2/2024` would invite day/month confusion.
pub fn parse_date(text: &str) -> Result<Date, DateError> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(index, byte)| index == 4 || index == 7 || byte.is_ascii_digit());
    if !shape_ok {
        return Err(DateError::Format);
    }
    let number = |range: core::ops::Range<usize>| {
        bytes[range]
            .iter()
            .fold(0_i32, |value, digit| value * 10 + i32::from(digit - b'0'))
    };
    let year = number(0..4);
    let month = number(5..7);
    let day = number(8..10);
    if year == 0 {
        return Err(DateError::Format);
    }
    if !(1..=12).contains(&month) {
        return Err(DateError::Month);
    }
    // The values are at most 99, so they fit in a u8.
    let date = Date {
        year,
        month: month as u8,
        day: day as u8,
    };
    if is_valid_date(&date) {
        Ok(date)
    } else {
        Err(DateError::Day)
    }
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(date: &Date) -> String {
    date.to_string()
}

impl fmt::Display for Date {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{:04}-{:02}-{:02}",
            self.year, self.month, self.day
        )
    }
}

/// Dates compare chronologically.
impl Ord for Date {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.year, self.month, self.day).cmp(&(other.year, other.month, other.day))
    }
}

impl PartialOrd for Date {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Moments compare chronologically (all are in the province's civil time).
impl Ord for Datetime {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.date, self.hour, self.minute, self.second).cmp(&(
            other.date,
            other.hour,
            other.minute,
            other.second,
        ))
    }
}

impl PartialOrd for Datetime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Days since 1970-01-01 (negative before), by Howard Hinnant's `days_from_civil`.
///
/// Used to count calendar days between two dates; `date` must be valid.
pub fn day_number(date: &Date) -> i64 {
    let year = i64::from(date.year) - i64::from(date.month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(date.month);
    let day_of_year =
        (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(date.day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `number` days after 1970-01-01; the inverse of [`day_number`].
pub fn date_from_day_number(number: i64) -> Date {
    let shifted = number + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Within the range of dates a plugin meets these conversions cannot overflow.
    Date {
        year: year as i32,
        month: month as u8,
        day: day as u8,
    }
}

/// Calendar days from `from` to `to`: positive when `to` is later.
pub fn days_between(from: &Date, to: &Date) -> i64 {
    day_number(to) - day_number(from)
}

/// The date `days` calendar days after `date` (before it when negative).
pub fn add_days(date: &Date, days: i64) -> Date {
    date_from_day_number(day_number(date) + days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    #[test]
    fn parses_real_days_only() {
        assert_eq!(parse_date("2024-02-29"), Ok(date(2024, 2, 29)));
        assert_eq!(parse_date("2000-02-29"), Ok(date(2000, 2, 29)));
        assert_eq!(parse_date("1900-02-29"), Err(DateError::Day));
        assert_eq!(parse_date("2023-02-29"), Err(DateError::Day));
        assert_eq!(parse_date("2024-04-31"), Err(DateError::Day));
        assert_eq!(parse_date("2024-12-31"), Ok(date(2024, 12, 31)));
        assert_eq!(parse_date("2024-01-00"), Err(DateError::Day));
        assert_eq!(parse_date("2024-13-01"), Err(DateError::Month));
        assert_eq!(parse_date("2024-00-10"), Err(DateError::Month));
    }

    #[test]
    fn rejects_other_shapes() {
        for text in [
            "",
            "2024-2-29",
            "2024/02/29",
            "24-02-29",
            "2024-02-29T00:00",
            " 2024-02-29",
            "0000-01-01",
            "+024-01-01",
            "２０２４-01-01",
            "abcd-ef-gh",
        ] {
            assert_eq!(parse_date(text), Err(DateError::Format), "{text:?}");
        }
    }

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        assert!(is_leap_year(2024));
        assert!(is_leap_year(2000));
        assert!(!is_leap_year(2100));
        assert!(!is_leap_year(2023));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2023, 2), 28);
        assert_eq!(days_in_month(2023, 13), 0);
    }

    #[test]
    fn dates_compare_chronologically() {
        assert!(date(2024, 1, 31) < date(2024, 2, 1));
        assert!(date(2023, 12, 31) < date(2024, 1, 1));
        assert_eq!(date(2024, 5, 5).cmp(&date(2024, 5, 5)), Ordering::Equal);
        let morning = Datetime {
            date: date(2024, 5, 5),
            hour: 8,
            minute: 0,
            second: 0,
        };
        let afternoon = Datetime {
            hour: 15,
            ..morning
        };
        assert!(morning < afternoon);
    }

    #[test]
    fn counts_days_across_months_and_leap_days() {
        assert_eq!(day_number(&date(1970, 1, 1)), 0);
        assert_eq!(day_number(&date(2000, 3, 1)), 11_017);
        assert_eq!(days_between(&date(2024, 2, 28), &date(2024, 3, 1)), 2);
        assert_eq!(days_between(&date(2023, 2, 28), &date(2023, 3, 1)), 1);
        assert_eq!(days_between(&date(2024, 1, 1), &date(2025, 1, 1)), 366);
        assert_eq!(days_between(&date(2025, 1, 1), &date(2024, 1, 1)), -366);
        assert_eq!(add_days(&date(2024, 12, 31), 60), date(2025, 3, 1));
        assert_eq!(add_days(&date(2024, 3, 1), -1), date(2024, 2, 29));
    }

    #[test]
    fn day_numbers_round_trip_over_centuries() {
        for number in (day_number(&date(1600, 1, 1))..day_number(&date(2400, 12, 31))).step_by(7) {
            let day = date_from_day_number(number);
            assert!(is_valid_date(&day), "{day}");
            assert_eq!(day_number(&day), number);
        }
    }

    #[test]
    fn formats_as_iso() {
        assert_eq!(format_date(&date(987, 3, 4)), "0987-03-04");
    }
}
