//! The holiday calendar as data the province manages.
//!
//! - Seeding: at start, every year shipped with motcua (`calendar::SHIPPED`) that the
//!   database has no table for is loaded, by `motcua (shipped)`; a year the province
//!   already loaded keeps its own table. The calendar in force is then built from the
//!   database, never from the shipped files.
//! - Loading a table (`PUT /api/v1/calendar/{year}`, `motcua calendar import`): the
//!   table is checked whole, stored in one audited transaction, put in force on this
//!   host, and the provisional due dates of running dossiers are recomputed with it.
//! - Other hosts compare the database's calendar fingerprint on every refresh and
//!   rebuild their calendar when it changed, so a table is in force everywhere within
//!   one refresh interval, without a restart.
//! - Missing years (the current year and the next without a table) are logged at start
//!   and whenever that set changes, and reported by `/healthz`.
//!
//! See docs/decisions/0008-calendar-as-data.md.

use std::sync::Arc;

use chrono::NaiveDateTime;

use super::deadlines::{Recomputed, recompute_provisional};
use super::{Workflow, WorkflowError};
use crate::calendar::table::{CalendarTable, TableDay, TableError, parse_table};
use crate::calendar::{Calendar, DayKind, SHIPPED};
use crate::clock::format_civil;
use crate::store::{
    CalendarDay, CalendarLoad, CalendarYear, LoadMode, NewCalendarYear, RegistryEvent, Store,
    StoreError,
};

/// Who loaded a shipped table, in `calendar_years.loaded_by` and the audit.
pub const SHIPPED_LOADER: &str = "motcua (shipped)";

/// The registry event every change of a year's table writes.
pub const CALENDAR_LOAD_ACTION: &str = "calendar-load";

/// Errors of loading a table, grouped by what the caller can do about them.
#[derive(Debug, thiserror::Error)]
pub enum CalendarLoadError {
    /// The table has problems; each names its line and field. Nothing was written.
    #[error("the table has {} problem(s), nothing was loaded: {}", .0.len(),
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<TableError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who loads a table, for `loaded_by` and the audit.
#[derive(Clone, Debug)]
pub struct Loader {
    pub id: String,
    pub role: String,
}

impl Loader {
    fn shipped() -> Loader {
        Loader {
            id: SHIPPED_LOADER.into(),
            role: "system".into(),
        }
    }
}

/// What loading a table did.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub year: i32,
    pub sha256: String,
    pub days: usize,
    /// False when the year already had this very table: nothing was written.
    pub changed: bool,
    /// The year's table before: (sha256, days), if it had one.
    pub before: Option<(String, i64)>,
    /// The provisional due dates the new calendar changed.
    pub recomputed: Recomputed,
}

/// What `/healthz` reports about the calendar in force on this host.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CalendarHealth {
    pub loaded_years: Vec<i32>,
    pub missing_years: Vec<i32>,
    pub provisional_due_dates: i64,
}

/// What this host last put in force, so a refresh can tell whether the database
/// changed and a warning is logged only when the set of missing years changes.
#[derive(Debug, Default)]
pub struct CalendarWatch {
    seen: tokio::sync::Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    fingerprint: String,
    missing: Option<Vec<i32>>,
}

impl CalendarWatch {
    /// A watch for a calendar built from the database with this fingerprint.
    pub fn new(fingerprint: String) -> CalendarWatch {
        CalendarWatch {
            seen: tokio::sync::Mutex::new(Seen {
                fingerprint,
                missing: None,
            }),
        }
    }
}

impl CalendarWatch {
    /// The fingerprint (years and sha256s of their tables) of the calendar in force.
    pub async fn fingerprint(&self) -> String {
        self.seen.lock().await.fingerprint.clone()
    }
}

/// A stored year's rows as a table. They were checked on the way in, so a row that
/// does not read back means the database was edited by hand.
fn stored_table(year: i32, days: &[CalendarDay]) -> Result<CalendarTable, StoreError> {
    let days = days
        .iter()
        .map(|day| {
            let date = chrono::NaiveDate::parse_from_str(&day.day, "%Y-%m-%d").ok();
            match (date, DayKind::parse(&day.kind)) {
                (Some(date), Some(kind)) => Ok(TableDay {
                    date,
                    kind,
                    name: day.name.clone(),
                }),
                _ => Err(StoreError::Corrupt(format!(
                    "calendar day `{}` ({}) of {year}",
                    day.day, day.kind
                ))),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CalendarTable { year, days })
}

/// The calendar the database holds, and its fingerprint.
pub async fn read_calendar(store: &Store) -> Result<(Calendar, String), StoreError> {
    let stored = store.stored_calendar().await?;
    let tables = stored
        .years
        .iter()
        .map(|(year, days)| stored_table(*year, days))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((Calendar::from_tables(&tables), stored.fingerprint))
}

/// The calendar as it stood when an event recorded the fingerprint `recorded`: the
/// stored tables of the years that fingerprint lists (a year loaded since is left out,
/// so it counts weekends only, as it did then). Also returns the years whose table was
/// replaced since; the database keeps only the current table, so those are taken as
/// they are now.
pub async fn calendar_as_recorded(
    store: &Store,
    recorded: &str,
) -> Result<(Calendar, Vec<i32>), StoreError> {
    let parse = |fingerprint: &str| -> Vec<(i32, String)> {
        fingerprint
            .split(',')
            .filter_map(|entry| entry.split_once(':'))
            .filter_map(|(year, sha)| Some((year.parse().ok()?, sha.to_string())))
            .collect()
    };
    let stored = store.stored_calendar().await?;
    let current = parse(&stored.fingerprint);
    let mut replaced = Vec::new();
    let mut tables = Vec::new();
    for (year, sha) in parse(recorded) {
        if !current.contains(&(year, sha)) {
            replaced.push(year);
        }
        if let Some((_, days)) = stored.years.iter().find(|(stored, _)| *stored == year) {
            tables.push(stored_table(year, days)?);
        }
    }
    Ok((Calendar::from_tables(&tables), replaced))
}

/// Writes one checked table with its `calendar-load` audit event.
async fn store_table(
    store: &Store,
    table: &CalendarTable,
    mode: LoadMode,
    loader: &Loader,
    at: &str,
) -> Result<CalendarLoad, StoreError> {
    let new = NewCalendarYear {
        year: table.year,
        sha256: table.sha256(),
        days: table
            .days
            .iter()
            .map(|day| CalendarDay {
                day: day.date.format("%Y-%m-%d").to_string(),
                kind: day.kind.as_str().into(),
                name: day.name.clone(),
            })
            .collect(),
        loaded_at: at.into(),
        loaded_by: loader.id.clone(),
    };
    let event = RegistryEvent {
        at: at.into(),
        actor_id: loader.id.clone(),
        actor_role: loader.role.clone(),
        action: CALENDAR_LOAD_ACTION.into(),
        procedure_code: None,
        unit: None,
        before: serde_json::Value::Null,
        after: serde_json::Value::Null,
    };
    store.load_calendar_year(&new, mode, &event).await
}

/// Loads every shipped year the database has no table for; returns the years loaded.
pub async fn seed_shipped(store: &Store, at: &str) -> Result<Vec<i32>, StoreError> {
    let mut seeded = Vec::new();
    for (year, text) in SHIPPED {
        let table = parse_table(text.as_bytes(), Some(*year)).map_err(|errors| {
            StoreError::Corrupt(format!("the shipped table of {year}: {}", errors[0]))
        })?;
        let load = store_table(store, &table, LoadMode::IfAbsent, &Loader::shipped(), at).await?;
        if load.changed {
            seeded.push(*year);
        }
    }
    if !seeded.is_empty() {
        tracing::info!(years = ?seeded, "loaded the holiday tables shipped with motcua");
    }
    Ok(seeded)
}

/// Loads a checked table without a serving host (`motcua calendar import`): the
/// shipped years are seeded first so the recomputation sees a whole calendar, then the
/// table is stored and the provisional due dates are recomputed. Serving hosts put the
/// table in force at their next refresh.
pub async fn import_table(
    store: &Store,
    table: &CalendarTable,
    loader: &Loader,
    now: NaiveDateTime,
) -> Result<Loaded, StoreError> {
    let at = format_civil(now);
    seed_shipped(store, &at).await?;
    let load = store_table(store, table, LoadMode::Replace, loader, &at).await?;
    let recomputed = if load.changed {
        let (calendar, _) = read_calendar(store).await?;
        recompute_provisional(store, &calendar, now).await?
    } else {
        Recomputed::default()
    };
    Ok(Loaded {
        year: table.year,
        sha256: table.sha256(),
        days: table.days.len(),
        changed: load.changed,
        before: load.before,
        recomputed,
    })
}

/// Logs the missing years when their set differs from the last one logged.
fn note_missing_years(seen: &mut Seen, calendar: &Calendar, now: NaiveDateTime) {
    let missing = calendar.missing_years(now.date());
    if seen.missing.as_ref() == Some(&missing) {
        return;
    }
    if missing.is_empty() {
        if seen.missing.is_some() {
            tracing::info!(
                "holiday tables are loaded for this year and the next; due dates are firm"
            );
        }
    } else {
        tracing::warn!(
            missing_years = ?missing,
            "no holiday table is loaded for {missing:?}: due dates reaching into these years count weekends only and are marked provisional; load them with `motcua calendar import` or PUT /api/v1/calendar/{{year}}"
        );
    }
    seen.missing = Some(missing);
}

impl Workflow {
    /// Checks and loads a table for `year`, puts the new calendar in force on this
    /// host, then recomputes the provisional due dates of running dossiers with it.
    pub async fn load_calendar(
        &self,
        bytes: &[u8],
        year: i32,
        loader: &Loader,
    ) -> Result<Loaded, CalendarLoadError> {
        let table = parse_table(bytes, Some(year)).map_err(CalendarLoadError::Invalid)?;
        let now = self.now();
        // Loads and refreshes on this host take turns, so the calendar put in force
        // last is never built from an older read than one put in force before it.
        let mut seen = self.calendar_watch.seen.lock().await;
        let load = store_table(
            &self.store,
            &table,
            LoadMode::Replace,
            loader,
            &format_civil(now),
        )
        .await?;
        let in_force_changed = self.put_in_force(&mut seen).await?;
        note_missing_years(&mut seen, &self.runtime.calendar(), now);
        drop(seen);
        // Recomputing may take a while with many dossiers; other loads and refreshes
        // need not wait for it. Two recomputations at once are harmless: each dossier
        // changes by compare-and-set, and one no longer provisional is skipped.
        let recomputed = if in_force_changed {
            self.recompute_provisional().await?
        } else {
            Recomputed::default()
        };
        if load.changed {
            tracing::info!(
                year = table.year,
                sha256 = %table.sha256(),
                by = %loader.id,
                recomputed = recomputed.changed.len(),
                "loaded a holiday table"
            );
        }
        Ok(Loaded {
            year: table.year,
            sha256: table.sha256(),
            days: table.days.len(),
            changed: load.changed,
            before: load.before,
            recomputed,
        })
    }

    /// Rebuilds the calendar from the database and puts it in force when its
    /// fingerprint differs from the one in force; returns whether it did.
    async fn put_in_force(&self, seen: &mut Seen) -> Result<bool, StoreError> {
        let (calendar, fingerprint) = read_calendar(&self.store).await?;
        if fingerprint == seen.fingerprint {
            return Ok(false);
        }
        tracing::info!(
            years = ?calendar.loaded_years(),
            "a new holiday calendar is in force on this host"
        );
        self.runtime.set_calendar(Arc::new(calendar));
        seen.fingerprint = fingerprint;
        Ok(true)
    }

    async fn recompute_provisional(&self) -> Result<Recomputed, StoreError> {
        let recomputed =
            recompute_provisional(&self.store, &self.runtime.calendar(), self.now()).await?;
        if !recomputed.changed.is_empty() {
            tracing::info!(
                count = recomputed.changed.len(),
                "recomputed provisional due dates with the new holiday calendar"
            );
        }
        Ok(recomputed)
    }

    /// Picks up what other hosts changed in the shared database: the plugin registry
    /// and the holiday calendar. The background refresher calls this every
    /// `refresh_interval`.
    pub async fn refresh(&self) -> Result<(), WorkflowError> {
        let registry = self.registry.refresh().await;
        let calendar = self.refresh_calendar().await;
        registry?;
        calendar?;
        Ok(())
    }

    /// Puts a calendar another host loaded in force here when the database's
    /// fingerprint changed (one cheap query otherwise), recomputes provisional due
    /// dates that a host still using the old calendar may have set meanwhile, and logs
    /// the missing years when their set changed (a new year began, or a table came).
    pub async fn refresh_calendar(&self) -> Result<bool, StoreError> {
        let mut seen = self.calendar_watch.seen.lock().await;
        let fingerprint = self.store.calendar_fingerprint().await?;
        let changed = fingerprint != seen.fingerprint && self.put_in_force(&mut seen).await?;
        note_missing_years(&mut seen, &self.runtime.calendar(), self.now());
        drop(seen);
        if changed {
            self.recompute_provisional().await?;
        }
        Ok(changed)
    }

    /// At start: logs the missing years and recomputes provisional due dates, in case
    /// a table was loaded while no host was serving or a recomputation was cut short.
    pub async fn start_calendar(&self) -> Result<(), StoreError> {
        let mut seen = self.calendar_watch.seen.lock().await;
        note_missing_years(&mut seen, &self.runtime.calendar(), self.now());
        drop(seen);
        self.recompute_provisional().await?;
        Ok(())
    }

    /// One loaded year as stored, and its table; `None` when the year has no table.
    pub async fn calendar_table(
        &self,
        year: i32,
    ) -> Result<Option<(CalendarYear, CalendarTable)>, StoreError> {
        let Some((loaded, days)) = self.store.calendar_year(year).await? else {
            return Ok(None);
        };
        let table = stored_table(year, &days)?;
        Ok(Some((loaded, table)))
    }

    /// The calendar in force on this host, the years it lacks, and how many running
    /// dossiers have a provisional due date.
    pub async fn calendar_health(&self) -> Result<CalendarHealth, StoreError> {
        let calendar = self.runtime.calendar();
        Ok(CalendarHealth {
            loaded_years: calendar.loaded_years(),
            missing_years: calendar.missing_years(self.now().date()),
            provisional_due_dates: self.store.provisional_due_date_count().await?,
        })
    }
}
