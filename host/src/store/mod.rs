//! The store: the only part of motcua that knows SQL.
//!
//! One code path serves both backends through sqlx's `Any` driver: every statement
//! is written in the SQL common to SQLite and PostgreSQL with `$n` placeholders, and
//! values cross as text, integers and bytes. Each backend has its own migrations.
//! A dossier's state change, its new documents and its audit event are written in
//! one transaction, guarded by the dossier's version number.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL `{0}` is not understood; use sqlite://PATH or postgres://USER@HOST/DB")]
    BadUrl(String),
    #[error("the dossier changed since version {expected}; reload it and try again")]
    VersionConflict { expected: i64 },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A statement on a direct SQLite connection (`lite.rs`) failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A database error that failed a whole group of SQLite writes committed together
    /// (`writer.rs`): every write of the group answers with it.
    #[error("database error: {0}")]
    Shared(std::sync::Arc<rusqlite::Error>),
}

impl StoreError {
    /// Whether the database could not be reached (down, restarting, the connection
    /// cut, no connection free in time): a condition to wait out, not a fault of the
    /// request or of stored data.
    pub fn is_unavailable(&self) -> bool {
        let error = match self {
            StoreError::Database(error) => error,
            StoreError::Sqlite(error) => return lite::is_unavailable(error),
            StoreError::Shared(error) => return lite::is_unavailable(error),
            _ => return false,
        };
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL shutting down or starting (57P01-57P03), or a connection
            // exception (class 08).
            sqlx::Error::Database(error) => error
                .code()
                .is_some_and(|code| code.starts_with("57P0") || code.starts_with("08")),
            _ => false,
        }
    }
}

pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

mod accounts;
mod audit;
mod batch;
mod calendar;
mod columns;
mod counts;
mod documents;
mod dossiers;
mod hot;
mod inbox;
mod leases;
mod lite;
mod read_groups;
mod recent;
mod registry;
mod reports;
mod sessions;
mod sync;
mod units;
mod writer;
mod writes;

pub use accounts::{ActorRecord, Revocation};
pub use audit::{AnchorRecord, ChainHead};
pub use calendar::{
    CalendarDay, CalendarLoad, CalendarYear, LoadMode, NewCalendarYear, StoredCalendar,
};
pub use documents::FileReference;
pub use dossiers::{
    Deadline, DossierRecord, DossierUpdate, EventHead, Facts, NewDossier, NewEvent, RecordedFacts,
};
pub use inbox::{DueFilter, InboxCursor, InboxPage, InboxQuery, InboxRow};
pub use registry::{
    Binding, CHANGES_CHANNEL, EventScope, RegistryEvent, RolloutRecord, StoredBuild,
};
pub use reports::{GroupCounts, OverdueRow, ReportQuery, ScoringRow};
pub use sessions::{AttemptClaim, SessionRecord, SignInRecord};
pub use sync::{FeedPosition, StatusChange};
pub use units::{Unit, UnitChanges};

/// How long a request waits for a database connection before it is answered 503: long
/// enough for a busy moment, short enough that a database that is down is reported
/// while the person is still there.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Where dossier writes go: SQLite's one writer, or PostgreSQL's pool.
    writer: writer::Writer,
    /// SQLite: connections for the reads on every action's path (`lite.rs`).
    readers: Option<std::sync::Arc<lite::Readers>>,
    /// PostgreSQL: connections for the statements on every action's path (`hot.rs`).
    hot: Option<hot::HotPool>,
    /// PostgreSQL: the short reads by key on that pool, read in groups
    /// (`read_groups.rs`).
    reads: Option<read_groups::ReadGroups>,
    /// Dossier-code numbers this host reserved and has not used yet (PostgreSQL).
    codes: writes::CodeBlocks,
    /// The histories of the dossiers this host worked on last (`recent.rs`).
    recent: recent::RecentHistories,
}

/// A backend's embedded migrations, all of which [`Store::connect`] runs. A test of an
/// upgrade runs them up to a version (`Migrator::run_to`), writes rows the way that
/// schema held them, and then connects.
pub fn migrations(backend: Backend) -> &'static sqlx::migrate::Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

impl Store {
    /// Connects, creating (SQLite) and migrating the database as needed.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::BadUrl(url.to_string()));
        };
        let url = match backend {
            // Create the file on first start.
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let options =
            AnyConnectOptions::from_str(&url).map_err(|_| StoreError::BadUrl(url.clone()))?;
        let hot = (backend == Backend::Postgres)
            .then(|| hot::HotPool::new(options.clone(), ACQUIRE_TIMEOUT));
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // sqlx pings every idle connection before handing it out: on PostgreSQL a
            // round trip per statement besides the statement. A connection that served a
            // moment ago is handed out as it is; one idle for longer is pinged first.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > hot::IDLE_BEFORE_PING {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; NORMAL sync is durable
                        // across application crashes and fast; foreign keys are off by default.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        // Migrated before the direct SQLite connections open, so they see the schema.
        migrations(backend).run(&pool).await?;
        let (writer, readers) = match backend {
            Backend::Sqlite => {
                let file = lite::file_of(&url)?;
                (
                    writer::Writer::sqlite(&file)?,
                    Some(std::sync::Arc::new(lite::Readers::new(file))),
                )
            }
            Backend::Postgres => (
                writer::Writer::postgres(hot.clone().expect("PostgreSQL has its action pool")),
                None,
            ),
        };
        Ok(Store {
            writer,
            readers,
            reads: hot.clone().map(read_groups::ReadGroups::new),
            hot,
            pool,
            backend,
            codes: writes::CodeBlocks::default(),
            recent: recent::RecentHistories::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn migrate(&self) -> Result<()> {
        migrations(self.backend).run(&self.pool).await?;
        Ok(())
    }

    /// PostgreSQL: how many statements wrote actions in groups since the store opened,
    /// and how many actions they wrote (`batch.rs`); both 0 on SQLite.
    pub fn action_groups(&self) -> (u64, u64) {
        self.writer.groups_written()
    }

    /// PostgreSQL: how the database runs the statement that writes a group of actions,
    /// as the action path's connections plan it (`EXPLAIN`, a line each); empty on
    /// SQLite. For the tests that check the plan finds dossiers by key.
    pub async fn action_group_plan(&self) -> Result<Vec<String>> {
        match &self.hot {
            Some(hot) => batch::group_plan(hot).await,
            None => Ok(Vec::new()),
        }
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        if let Some(hot) = &self.hot {
            hot.close();
        }
        self.pool.close().await;
    }

    /// Starts a write transaction. SQLite takes the write lock up front so two writers
    /// never deadlock upgrading read locks; PostgreSQL locks rows as it goes.
    pub(super) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }
}
