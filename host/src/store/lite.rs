//! SQLite without a round trip per statement (docs/decisions/0025-sqlite-direct.md).
//!
//! sqlx runs each SQLite connection on a thread of its own and hands it every statement
//! as a message, so a statement costs two thread wake-ups besides its work: on this
//! 2-core machine most of a dossier action's time went to that. The statements on the
//! path of every dossier action and filing (the caller's token, the dossier with its
//! documents, its history, and the writes of `writer.rs`) therefore run on rusqlite
//! connections directly: a read runs where the request runs (a primary-key read of a
//! page already in memory takes microseconds), and the writes run on the writer's own
//! thread. Everything else (migrations, the registry, reports, the inbox) stays on sqlx.
//! Both open the same file with the same settings.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::writer::{Param, Statement};
use super::{Result, StoreError};

/// Read connections kept for reuse; more are opened when more requests read at once.
const KEPT_READERS: usize = 16;

/// How long a statement waits for SQLite's write lock (held by a registry or account
/// change on sqlx) before it fails; the same as the sqlx connections' `busy_timeout`.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The database file of a `sqlite:` URL (`sqlite://PATH?options`, `sqlite:PATH`).
pub(super) fn file_of(url: &str) -> Result<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::BadUrl(url.to_string()))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        // One file shared by sqlx and rusqlite connections: an in-memory database
        // would be a different database on each.
        return Err(StoreError::BadUrl(url.to_string()));
    }
    Ok(PathBuf::from(path))
}

/// Opens a connection to the file with the settings every motcua connection has.
pub(super) fn open(path: &Path) -> Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // As on the sqlx connections (store/mod.rs): WAL, NORMAL sync, foreign keys.
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )?;
    connection.set_prepared_statement_cache_capacity(64);
    Ok(connection)
}

/// Read connections to one database file.
pub(super) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(super) fn new(path: PathBuf) -> Readers {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `read` on an idle connection, here and now. Only for short reads by key:
    /// the thread waits for it.
    pub(super) fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let idle = self.idle.lock().expect("readers lock").pop();
        let connection = match idle {
            Some(connection) => connection,
            None => open(&self.path)?,
        };
        let answer = read(&connection);
        let mut idle = self.idle.lock().expect("readers lock");
        if idle.len() < KEPT_READERS {
            idle.push(connection);
        }
        answer
    }
}

/// Prepares (or takes from the connection's cache) `statement` and binds its values:
/// `$n` in the text is the n-th value.
fn prepared<'c>(
    connection: &'c Connection,
    sql: &str,
    params: &[Param],
) -> Result<rusqlite::CachedStatement<'c>> {
    let mut prepared = connection.prepare_cached(sql)?;
    for index in 1..=prepared.parameter_count() {
        let value = prepared
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|number| number.parse::<usize>().ok())
            .and_then(|number| params.get(number.checked_sub(1)?))
            .ok_or_else(|| {
                StoreError::Corrupt(format!("statement parameter {index} has no value: {sql}"))
            })?;
        match value {
            Param::Int(value) => prepared.raw_bind_parameter(index, value)?,
            Param::Text(value) => prepared.raw_bind_parameter(index, value)?,
        }
    }
    Ok(prepared)
}

/// Runs a statement that returns no rows; answers how many rows it changed.
pub(super) fn execute(connection: &Connection, statement: &Statement) -> Result<usize> {
    Ok(prepared(connection, &statement.sql, &statement.params)?.raw_execute()?)
}

/// Runs a query and decodes every row it returns.
pub(super) fn query<T>(
    connection: &Connection,
    sql: &str,
    params: &[Param],
    mut decode: impl FnMut(&rusqlite::Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut prepared = prepared(connection, sql, params)?;
    let mut rows = prepared.raw_query();
    let mut decoded = Vec::new();
    while let Some(row) = rows.next()? {
        decoded.push(decode(row)?);
    }
    Ok(decoded)
}

/// Whether a rusqlite error means the database could not be used for now (locked past
/// the busy timeout, out of disk, an I/O error): a condition to wait out.
pub(super) fn is_unavailable(error: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::*;
    matches!(
        error.sqlite_error_code(),
        Some(DatabaseBusy | DatabaseLocked | DiskFull | SystemIoFailure | CannotOpen)
    )
}
