//! The working-day calendar's tables: one row per exception day (`calendar_days`) and
//! one row per loaded year with the sha256 of its table (`calendar_years`).

use sqlx::Row;

use super::registry::insert_registry_event;
use super::{Backend, Result, Store};
use crate::store::RegistryEvent;

/// A loaded year: the sha256 of its table, how many exception days it lists, who
/// loaded it and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarYear {
    pub year: i32,
    pub sha256: String,
    pub days: i64,
    pub loaded_at: String,
    pub loaded_by: String,
}

/// One exception day as stored: `YYYY-MM-DD`, `holiday` or `workday`, its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarDay {
    pub day: String,
    pub kind: String,
    pub name: String,
}

/// Every loaded year with its days, read in one statement so the years, the days and
/// the fingerprint agree with each other.
#[derive(Clone, Debug, Default)]
pub struct StoredCalendar {
    pub fingerprint: String,
    pub years: Vec<(i32, Vec<CalendarDay>)>,
}

/// A table to load: its year, sha256 and days, and who loads it when.
#[derive(Clone, Debug)]
pub struct NewCalendarYear {
    pub year: i32,
    pub sha256: String,
    pub days: Vec<CalendarDay>,
    pub loaded_at: String,
    pub loaded_by: String,
}

/// Whether a load replaces the year's table or only fills a year without one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadMode {
    Replace,
    /// Seeding: a year the province already manages keeps its table.
    IfAbsent,
}

/// What a load found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarLoad {
    pub changed: bool,
    /// The year's table before the load: (sha256, days), if it had one.
    pub before: Option<(String, i64)>,
}

/// The fingerprint of the loaded tables: years and sha256s in order.
fn fingerprint<'a>(years: impl IntoIterator<Item = (i32, &'a str)>) -> String {
    years
        .into_iter()
        .map(|(year, sha)| format!("{year}:{sha}"))
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// The loaded years in order, with their day counts.
    pub async fn calendar_years(&self) -> Result<Vec<CalendarYear>> {
        let rows = sqlx::query(
            "SELECT y.year, y.sha256, y.loaded_at, y.loaded_by,
                    (SELECT COUNT(*) FROM calendar_days d WHERE d.year = y.year)
             FROM calendar_years y ORDER BY y.year",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| CalendarYear {
                year: year_of(row.get(0)),
                sha256: row.get(1),
                loaded_at: row.get(2),
                loaded_by: row.get(3),
                days: row.get(4),
            })
            .collect())
    }

    /// One loaded year and its days in date order; `None` when the year has no table.
    pub async fn calendar_year(
        &self,
        year: i32,
    ) -> Result<Option<(CalendarYear, Vec<CalendarDay>)>> {
        let Some(row) =
            sqlx::query("SELECT sha256, loaded_at, loaded_by FROM calendar_years WHERE year = $1")
                .bind(i64::from(year))
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let days: Vec<CalendarDay> =
            sqlx::query("SELECT day, kind, name FROM calendar_days WHERE year = $1 ORDER BY day")
                .bind(i64::from(year))
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|row| CalendarDay {
                    day: row.get(0),
                    kind: row.get(1),
                    name: row.get(2),
                })
                .collect();
        let year = CalendarYear {
            year,
            sha256: row.get(0),
            loaded_at: row.get(1),
            loaded_by: row.get(2),
            days: i64::try_from(days.len()).unwrap_or(i64::MAX),
        };
        Ok(Some((year, days)))
    }

    /// A cheap fingerprint of what is loaded (each year and its sha256, in order):
    /// hosts compare it on every refresh to notice a table another host loaded.
    pub async fn calendar_fingerprint(&self) -> Result<String> {
        let rows = sqlx::query("SELECT year, sha256 FROM calendar_years ORDER BY year")
            .fetch_all(&self.pool)
            .await?;
        let years: Vec<(i32, String)> = rows
            .into_iter()
            .map(|row| (year_of(row.get(0)), row.get(1)))
            .collect();
        Ok(fingerprint(years.iter().map(|(y, s)| (*y, s.as_str()))))
    }

    /// Every loaded year's table with the fingerprint they make together.
    pub async fn stored_calendar(&self) -> Result<StoredCalendar> {
        // One statement, so one snapshot on both backends: a table loaded meanwhile is
        // either wholly in the answer, with its sha256 in the fingerprint, or not at all.
        let rows = sqlx::query(
            "SELECT y.year, y.sha256, d.day, d.kind, d.name
             FROM calendar_years y LEFT JOIN calendar_days d ON d.year = y.year
             ORDER BY y.year, d.day",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut shas: Vec<(i32, String)> = Vec::new();
        let mut years: Vec<(i32, Vec<CalendarDay>)> = Vec::new();
        for row in rows {
            let year = year_of(row.get(0));
            if shas.last().is_none_or(|(last, _)| *last != year) {
                shas.push((year, row.get(1)));
                years.push((year, Vec::new()));
            }
            if let Some(day) = row.get::<Option<String>, _>(2) {
                years.last_mut().expect("pushed above").1.push(CalendarDay {
                    day,
                    kind: row.get(3),
                    name: row.get(4),
                });
            }
        }
        Ok(StoredCalendar {
            fingerprint: fingerprint(shas.iter().map(|(y, s)| (*y, s.as_str()))),
            years,
        })
    }

    /// Loads one year's table in one transaction: its old days go, the new ones come,
    /// `calendar_years` records the sha256 and who loaded it, and `event` (a
    /// `calendar-load`, its before/after filled in here) goes to the registry's audit.
    /// The same table again (same sha256), or a year that already has one in
    /// `IfAbsent` mode, changes nothing and writes no event.
    pub async fn load_calendar_year(
        &self,
        table: &NewCalendarYear,
        mode: LoadMode,
        event: &RegistryEvent,
    ) -> Result<CalendarLoad> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Two hosts loading tables at once would each delete the rows they see and
            // then collide on the other's inserts. Loads are rare: take them one at a
            // time. EXCLUSIVE mode still lets other hosts read the calendar meanwhile.
            // (SQLite's write transactions are already one at a time.)
            sqlx::query("LOCK TABLE calendar_years IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        let year = i64::from(table.year);
        let before = match sqlx::query(
            "SELECT y.sha256, (SELECT COUNT(*) FROM calendar_days d WHERE d.year = y.year)
             FROM calendar_years y WHERE y.year = $1",
        )
        .bind(year)
        .fetch_optional(&mut *tx)
        .await?
        {
            Some(row) => Some((row.get::<String, _>(0), row.get::<i64, _>(1))),
            None => None,
        };
        let unchanged = match (&before, mode) {
            (Some(_), LoadMode::IfAbsent) => true,
            (Some((sha, _)), LoadMode::Replace) => *sha == table.sha256,
            (None, _) => false,
        };
        if unchanged {
            tx.rollback().await?;
            return Ok(CalendarLoad {
                changed: false,
                before,
            });
        }
        sqlx::query("DELETE FROM calendar_days WHERE year = $1")
            .bind(year)
            .execute(&mut *tx)
            .await?;
        for day in &table.days {
            sqlx::query(
                "INSERT INTO calendar_days (day, year, kind, name) VALUES ($1, $2, $3, $4)",
            )
            .bind(&day.day)
            .bind(year)
            .bind(&day.kind)
            .bind(&day.name)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO calendar_years (year, sha256, loaded_at, loaded_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (year) DO UPDATE SET sha256 = excluded.sha256,
                 loaded_at = excluded.loaded_at, loaded_by = excluded.loaded_by",
        )
        .bind(year)
        .bind(&table.sha256)
        .bind(&table.loaded_at)
        .bind(&table.loaded_by)
        .execute(&mut *tx)
        .await?;
        let mut event = event.clone();
        event.before = match &before {
            Some((sha, days)) => {
                serde_json::json!({ "year": table.year, "sha256": sha, "days": days })
            }
            None => serde_json::Value::Null,
        };
        event.after = serde_json::json!({
            "year": table.year,
            "sha256": table.sha256,
            "days": table.days.len(),
        });
        insert_registry_event(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(CalendarLoad {
            changed: true,
            before,
        })
    }

    /// How many running dossiers have a provisional due date (a year without a table).
    pub async fn provisional_due_date_count(&self) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM dossiers WHERE due_provisional = 1 AND status IN (2, 4)",
        )
        .fetch_one(&self.pool)
        .await?
        .get(0))
    }
}

/// Years are stored as BIGINT; every stored one was checked to be a calendar year.
fn year_of(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}
