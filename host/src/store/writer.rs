//! How dossier writes reach the database (docs/decisions/0022-throughput-and-inbox.md,
//! 0025-sqlite-direct.md).
//!
//! A write is a [`Plan`]: the statements it runs, with their values, built in memory
//! before anything reaches the database. The same plan runs on either backend, so the
//! SQL of a write is written once.
//!
//! SQLite has one writer at a time. Many connections each taking the write lock queue on
//! SQLite's busy handler, which sleeps in growing steps: that is where the tails of
//! hundreds of milliseconds came from. Here one thread owns the writing connection
//! (rusqlite, `lite.rs`): it takes every write waiting (up to [`MAX_BATCH`]), runs them
//! one after the other in one transaction, and commits them together (group commit).
//! Each caller hears its own answer only after the commit.
//!
//! A write may refuse before it writes anything (a stale version, checked by its first
//! statement): the others go on. A write that fails in any other way may have written
//! part of itself, so the whole group is rolled back and each of its writes is run again
//! alone, in a transaction of its own, and answered from that run: plans can run twice.
//! A commit that fails fails the whole group, and nothing of it is written.
//!
//! PostgreSQL has row locks: a write there is one statement or a transaction on a
//! connection of the action path's pool (`hot.rs`), run by the caller; an action
//! without documents is written in a group with the others waiting (`batch.rs`).

use std::any::Any;
use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use sqlx::{AnyConnection, Connection, Row};
use tokio::sync::{mpsc, oneshot};

use super::batch::{GroupedAction, Groups};
use super::hot::HotPool;
use super::{Result, StoreError, lite};

/// The most writes one SQLite transaction commits together. Past a few dozen the
/// commit is no cheaper per write, and a long group delays its first caller.
const MAX_BATCH: usize = 64;

/// Writes waiting for the writer; callers wait for room when it is full.
const QUEUE: usize = 1024;

/// A value bound to a statement's `$n`.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Param {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Param {
    fn from(value: i64) -> Param {
        Param::Int(Some(value))
    }
}
impl From<Option<i64>> for Param {
    fn from(value: Option<i64>) -> Param {
        Param::Int(value)
    }
}
impl From<bool> for Param {
    fn from(value: bool) -> Param {
        Param::Int(Some(i64::from(value)))
    }
}
impl From<&str> for Param {
    fn from(value: &str) -> Param {
        Param::Text(Some(value.to_string()))
    }
}
impl From<String> for Param {
    fn from(value: String) -> Param {
        Param::Text(Some(value))
    }
}
impl From<&String> for Param {
    fn from(value: &String) -> Param {
        Param::Text(Some(value.clone()))
    }
}
impl From<Option<String>> for Param {
    fn from(value: Option<String>) -> Param {
        Param::Text(value)
    }
}
impl From<&Option<String>> for Param {
    fn from(value: &Option<String>) -> Param {
        Param::Text(value.clone())
    }
}
impl From<Option<&str>> for Param {
    fn from(value: Option<&str>) -> Param {
        Param::Text(value.map(str::to_string))
    }
}

/// One statement of a write, in the SQL common to both backends.
#[derive(Clone, Debug)]
pub(super) struct Statement {
    pub sql: Cow<'static, str>,
    pub params: Vec<Param>,
    /// The dossier version this statement's `UPDATE` is guarded by: changing no row
    /// means another write got there first, and the write is refused before it wrote.
    pub guards_version: Option<i64>,
}

impl Statement {
    pub(super) fn new(sql: impl Into<Cow<'static, str>>, params: Vec<Param>) -> Statement {
        Statement {
            sql: sql.into(),
            params,
            guards_version: None,
        }
    }
}

/// Builds a write's statements and its answer, given the number it asked for.
type Build<T> = dyn Fn(Option<i64>) -> (Vec<Statement>, T) + Send + Sync;

/// A write: its statements, built before the transaction starts.
pub(super) struct Plan<T> {
    /// A number to take from a unit's daily sequence inside the transaction, as
    /// `(unit, day)`; what `build` receives.
    pub number_of: Option<(String, String)>,
    /// `build` makes exactly one statement, which PostgreSQL runs without a transaction
    /// around it.
    pub single: bool,
    pub build: Box<Build<T>>,
}

/// The statement that advances a unit's daily sequence by `$3` and returns the last
/// number taken.
pub(super) const NEXT_NUMBERS: &str =
    "INSERT INTO dossier_sequences (unit, day, last) VALUES ($1, $2, $3)
     ON CONFLICT (unit, day) DO UPDATE SET last = dossier_sequences.last + $3
     RETURNING last";

type Answer = Result<Box<dyn Any + Send>>;

/// One write on the SQLite writer's thread; it may run a second time (see above).
type Work = Box<dyn Fn(&rusqlite::Connection) -> Answer + Send + Sync>;

pub(super) struct Job {
    work: Work,
    reply: oneshot::Sender<Answer>,
}

#[derive(Clone)]
pub(super) enum Writer {
    /// SQLite: the queue of the one writing thread.
    Queue(mpsc::Sender<Job>),
    /// PostgreSQL: each write in its own transaction (or single statement) on the
    /// action path's pool, and the task that writes actions in groups.
    Pool(HotPool, Groups),
}

impl Writer {
    /// The SQLite writer: a thread with its own connection to `path`. It ends when the
    /// last `Writer` is dropped.
    pub(super) fn sqlite(path: &Path) -> Result<Writer> {
        let connection = lite::open(path)?;
        let (sender, receiver) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("motcua-sqlite-writer".into())
            .spawn(move || write_groups(connection, receiver))
            .map_err(|error| StoreError::Database(sqlx::Error::Io(error)))?;
        Ok(Writer::Queue(sender))
    }

    /// The PostgreSQL writer; its group task runs on the current runtime.
    pub(super) fn postgres(pool: HotPool) -> Writer {
        let groups = Groups::start(pool.clone());
        Writer::Pool(pool, groups)
    }

    /// PostgreSQL: the groups of actions written since the store opened, and the actions
    /// in them (none on SQLite, whose writer groups every write).
    pub(super) fn groups_written(&self) -> (u64, u64) {
        match self {
            Writer::Pool(_, groups) => groups.written(),
            Writer::Queue(_) => (0, 0),
        }
    }

    /// PostgreSQL: an action written in a group with the others waiting (`batch.rs`).
    pub(super) async fn write_grouped(&self, action: GroupedAction) -> Result<()> {
        match self {
            Writer::Pool(_, groups) => groups.write(action).await,
            Writer::Queue(_) => Err(StoreError::Corrupt(
                "only PostgreSQL writes actions in groups".into(),
            )),
        }
    }

    /// Runs `plan` in a transaction and answers once it is committed (or not).
    pub(super) async fn write<T: Send + 'static>(&self, plan: Plan<T>) -> Result<T> {
        match self {
            // One statement is atomic by itself: no BEGIN and COMMIT round trips.
            Writer::Pool(pool, _) if plan.number_of.is_none() && plan.single => {
                pool.with(async |connection| run_on_sqlx(connection, &plan).await)
                    .await
            }
            Writer::Pool(pool, _) => {
                pool.with(async |connection| {
                    let mut tx = connection.begin().await?;
                    match run_on_sqlx(&mut tx, &plan).await {
                        Ok(value) => {
                            tx.commit().await?;
                            Ok(value)
                        }
                        // Rolled back now, not on the connection's next use: the pool
                        // hands the connection back as it is, and a transaction left
                        // open there would keep its row locks while it waits.
                        Err(error) => {
                            tx.rollback().await?;
                            Err(error)
                        }
                    }
                })
                .await
            }
            Writer::Queue(queue) => {
                let work: Work = Box::new(move |connection| {
                    run_on_sqlite(connection, &plan)
                        .map(|value| Box::new(value) as Box<dyn Any + Send>)
                });
                let (reply, answer) = oneshot::channel();
                queue
                    .send(Job { work, reply })
                    .await
                    .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?;
                let value = answer
                    .await
                    .map_err(|_| StoreError::Database(sqlx::Error::WorkerCrashed))??;
                Ok(*value
                    .downcast::<T>()
                    .expect("the writer answers each job with the value its work returned"))
            }
        }
    }
}

/// Runs a plan's statements on a sqlx connection inside a transaction.
async fn run_on_sqlx<T>(connection: &mut AnyConnection, plan: &Plan<T>) -> Result<T> {
    let number = match &plan.number_of {
        Some((unit, day)) => Some(
            bind(
                sqlx::query(NEXT_NUMBERS),
                &[unit.into(), day.into(), 1.into()],
            )
            .fetch_one(&mut *connection)
            .await?
            .get::<i64, _>(0),
        ),
        None => None,
    };
    let (statements, value) = (plan.build)(number);
    for statement in &statements {
        let changed = bind(
            sqlx::query(sqlx::AssertSqlSafe(statement.sql.clone())),
            &statement.params,
        )
        .execute(&mut *connection)
        .await?
        .rows_affected();
        refuse_if_stale(statement, changed)?;
    }
    Ok(value)
}

/// Runs a plan's statements on the SQLite writer's connection inside a transaction.
fn run_on_sqlite<T>(connection: &rusqlite::Connection, plan: &Plan<T>) -> Result<T> {
    let number = match &plan.number_of {
        Some((unit, day)) => {
            let params = [unit.into(), day.into(), 1.into()];
            let numbers = lite::query(connection, NEXT_NUMBERS, &params, |row| {
                Ok(row.get::<_, i64>(0)?)
            })?;
            Some(numbers.first().copied().ok_or_else(|| {
                StoreError::Corrupt("the dossier sequence returned no number".into())
            })?)
        }
        None => None,
    };
    let (statements, value) = (plan.build)(number);
    for statement in &statements {
        let changed = lite::execute(connection, statement)?;
        refuse_if_stale(statement, changed as u64)?;
    }
    Ok(value)
}

fn refuse_if_stale(statement: &Statement, changed: u64) -> Result<()> {
    match statement.guards_version {
        Some(expected) if changed == 0 => Err(StoreError::VersionConflict { expected }),
        _ => Ok(()),
    }
}

/// Binds the values of a statement to a sqlx query.
pub(super) fn bind<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    params: &'q [Param],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for param in params {
        query = match param {
            Param::Int(value) => query.bind(*value),
            Param::Text(value) => query.bind(value.as_deref()),
        };
    }
    query
}

/// The SQLite writer: groups of waiting writes, one transaction each, until every
/// sender is gone (the store was dropped).
fn write_groups(connection: rusqlite::Connection, mut receiver: mpsc::Receiver<Job>) {
    while let Some(first) = receiver.blocking_recv() {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        jobs.push(first);
        while jobs.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        write_group(&connection, jobs);
    }
}

fn write_group(connection: &rusqlite::Connection, jobs: Vec<Job>) {
    if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
        return fail_all(jobs, error);
    }
    let mut answers = Vec::with_capacity(jobs.len());
    let mut clean = true;
    for job in &jobs {
        let answer = (job.work)(connection);
        // A stale version is refused before anything is written.
        clean = matches!(answer, Ok(_) | Err(StoreError::VersionConflict { .. }));
        if !clean {
            break;
        }
        answers.push(answer);
    }
    if !clean {
        let _ = connection.execute_batch("ROLLBACK");
        for job in jobs {
            let answer = write_alone(connection, &job.work);
            let _ = job.reply.send(answer);
        }
        return;
    }
    match connection.execute_batch("COMMIT") {
        Ok(()) => {
            for (job, answer) in jobs.into_iter().zip(answers) {
                let _ = job.reply.send(answer);
            }
        }
        Err(error) => {
            let _ = connection.execute_batch("ROLLBACK");
            fail_all(jobs, error);
        }
    }
}

/// One write in a transaction of its own: committed if it succeeds, rolled back if not.
fn write_alone(connection: &rusqlite::Connection, work: &Work) -> Answer {
    connection.execute_batch("BEGIN IMMEDIATE")?;
    match work(connection) {
        Ok(value) => {
            if let Err(error) = connection.execute_batch("COMMIT") {
                let _ = connection.execute_batch("ROLLBACK");
                return Err(error.into());
            }
            Ok(value)
        }
        Err(error) => {
            connection.execute_batch("ROLLBACK")?;
            Err(error)
        }
    }
}

fn fail_all(jobs: Vec<Job>, error: rusqlite::Error) {
    let error = Arc::new(error);
    for job in jobs {
        let _ = job.reply.send(Err(StoreError::Shared(Arc::clone(&error))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(ids: Vec<i64>) -> Plan<usize> {
        Plan {
            number_of: None,
            single: false,
            build: Box::new(move |_| {
                let statements = ids
                    .iter()
                    .map(|id| Statement::new("INSERT INTO t (id) VALUES ($1)", vec![(*id).into()]))
                    .collect();
                (statements, ids.len())
            }),
        }
    }

    /// Three writes sent at once (one group): the middle one writes a row, then fails on
    /// a duplicate key. The other two are kept, nothing of the failed one is, and each
    /// caller hears its own answer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_leaves_nothing_and_its_group_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let setup = rusqlite::Connection::open(&path).unwrap();
        setup
            .execute_batch("CREATE TABLE t (id BIGINT PRIMARY KEY)")
            .unwrap();
        let writer = Writer::sqlite(&path).unwrap();
        let (first, failing, last) = tokio::join!(
            writer.write(insert(vec![1])),
            writer.write(insert(vec![2, 1])),
            writer.write(insert(vec![3])),
        );
        assert_eq!(first.unwrap(), 1);
        assert!(failing.is_err(), "a duplicate key fails its write");
        assert_eq!(last.unwrap(), 1);
        let mut ids = setup.prepare("SELECT id FROM t ORDER BY id").unwrap();
        let ids: Vec<i64> = ids
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(|id| id.unwrap())
            .collect();
        assert_eq!(ids, vec![1, 3], "the failed write's first row is not kept");
    }

    /// A statement guarding a version that changes no row refuses the write, and the
    /// statements before it in the same write are not kept.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stale_version_refuses_its_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let setup = rusqlite::Connection::open(&path).unwrap();
        setup
            .execute_batch("CREATE TABLE d (code TEXT PRIMARY KEY, version BIGINT); INSERT INTO d VALUES ('a', 2);")
            .unwrap();
        let writer = Writer::sqlite(&path).unwrap();
        let stale = |expected: i64| Plan {
            number_of: None,
            single: true,
            build: Box::new(move |_| {
                let mut guarded = Statement::new(
                    "UPDATE d SET version = version + 1 WHERE code = $1 AND version = $2",
                    vec!["a".into(), expected.into()],
                );
                guarded.guards_version = Some(expected);
                (vec![guarded], ())
            }),
        };
        assert!(matches!(
            writer.write(stale(1)).await,
            Err(StoreError::VersionConflict { expected: 1 })
        ));
        writer.write(stale(2)).await.unwrap();
        let version: i64 = setup
            .query_row("SELECT version FROM d", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, 3);
    }
}
