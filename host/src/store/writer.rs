//! How dossier writes reach the database (docs/decisions/0022-throughput-and-inbox.md).
//!
//! SQLite has one writer at a time. Many connections each taking the write lock queue on
//! SQLite's busy handler, which sleeps in growing steps: that is where the tails of
//! hundreds of milliseconds came from. Here one task owns the writing connection: it
//! takes every write waiting (up to [`MAX_BATCH`]), runs them one after the other in one
//! transaction, and commits them together (group commit). Each caller hears its own
//! answer only after the commit.
//!
//! A write may refuse before it writes anything (a stale version): the others go on. A
//! write that fails in any other way may have written part of itself, so the whole group
//! is rolled back and each of its writes is run again alone, in a transaction of its
//! own, and answered from that run: a write is therefore a function that can run twice.
//! (Savepoints around each write would do the same at two more statements a write, and
//! statements, each a round trip to the connection's thread, are what a write costs.)
//! A commit that fails fails the whole group, and nothing of it is written.
//!
//! PostgreSQL has row locks and its own group commit: a write there is a transaction on
//! a pooled connection, run by the caller.

use std::any::Any;
use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};

use super::{Backend, Result, StoreError};

/// The most writes one SQLite transaction commits together. Past a few dozen the
/// commit is no cheaper per write, and a long group delays its first caller.
const MAX_BATCH: usize = 64;

/// Writes waiting for the writer; callers wait for room when it is full.
const QUEUE: usize = 1024;

type Answer = Result<Box<dyn Any + Send>>;

/// One write: statements run on the writing connection inside a transaction; it may be
/// run a second time (see above).
type Work = Box<dyn for<'c> Fn(&'c mut AnyConnection) -> BoxFuture<'c, Answer> + Send + Sync>;

pub(super) struct Job {
    work: Work,
    reply: oneshot::Sender<Answer>,
}

#[derive(Clone)]
pub(super) enum Writer {
    /// SQLite: the queue of the one writing task.
    Queue(mpsc::Sender<Job>),
    /// PostgreSQL: each write in its own transaction on the pool.
    Pool(AnyPool),
}

impl Writer {
    pub(super) fn start(pool: AnyPool, backend: Backend) -> Writer {
        match backend {
            Backend::Postgres => Writer::Pool(pool),
            Backend::Sqlite => {
                let (sender, receiver) = mpsc::channel(QUEUE);
                tokio::spawn(write_groups(pool, receiver));
                Writer::Queue(sender)
            }
        }
    }

    /// Runs `work` in a transaction and answers once it is committed (or not).
    pub(super) async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut AnyConnection) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
    {
        match self {
            Writer::Pool(pool) => {
                let mut tx = pool.begin().await?;
                let value = work(&mut tx).await?;
                tx.commit().await?;
                Ok(value)
            }
            Writer::Queue(queue) => {
                let work: Work = Box::new(move |connection| {
                    let run = work(connection);
                    Box::pin(async move {
                        run.await
                            .map(|value| Box::new(value) as Box<dyn Any + Send>)
                    })
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

/// The SQLite writer: groups of waiting writes, one transaction each, until every
/// sender is gone (the store was dropped).
async fn write_groups(pool: AnyPool, mut receiver: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let group = std::mem::take(&mut jobs);
        write_group(&pool, group).await;
    }
}

async fn write_group(pool: &AnyPool, jobs: Vec<Job>) {
    let mut connection = match pool.acquire().await {
        Ok(connection) => connection,
        Err(error) => return fail_all(jobs, error),
    };
    if let Err(error) = sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *connection)
        .await
    {
        return fail_all(jobs, error);
    }
    let mut answers = Vec::with_capacity(jobs.len());
    let mut clean = true;
    for job in &jobs {
        let answer = (job.work)(&mut connection).await;
        // A stale version is refused before anything is written.
        clean = matches!(answer, Ok(_) | Err(StoreError::VersionConflict { .. }));
        if !clean {
            break;
        }
        answers.push(answer);
    }
    if !clean {
        let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
        for job in jobs {
            let answer = write_alone(&mut connection, &job.work).await;
            let _ = job.reply.send(answer);
        }
        return;
    }
    match sqlx::query("COMMIT").execute(&mut *connection).await {
        Ok(_) => {
            for (job, answer) in jobs.into_iter().zip(answers) {
                let _ = job.reply.send(answer);
            }
        }
        Err(error) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
            fail_all(jobs, error);
        }
    }
}

/// One write in a transaction of its own: committed if it succeeds, rolled back if not.
async fn write_alone(connection: &mut AnyConnection, work: &Work) -> Answer {
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *connection)
        .await?;
    match work(connection).await {
        Ok(value) => {
            if let Err(error) = sqlx::query("COMMIT").execute(&mut *connection).await {
                let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
                return Err(error.into());
            }
            Ok(value)
        }
        Err(error) => {
            sqlx::query("ROLLBACK").execute(&mut *connection).await?;
            Err(error)
        }
    }
}

fn fail_all(jobs: Vec<Job>, error: sqlx::Error) {
    let error = Arc::new(error);
    for job in jobs {
        let _ = job.reply.send(Err(StoreError::Shared(Arc::clone(&error))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(
        ids: Vec<i64>,
    ) -> impl for<'c> Fn(&'c mut AnyConnection) -> BoxFuture<'c, Result<usize>> + Send + Sync + 'static
    {
        let ids = Arc::new(ids);
        move |connection| {
            let ids = Arc::clone(&ids);
            Box::pin(async move {
                for id in ids.iter() {
                    sqlx::query("INSERT INTO t (id) VALUES ($1)")
                        .bind(*id)
                        .execute(&mut *connection)
                        .await?;
                }
                Ok(ids.len())
            })
        }
    }

    /// Three writes sent at once (one group): the middle one writes a row, then fails on
    /// a duplicate key. The other two are kept, nothing of the failed one is, and each
    /// caller hears its own answer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_leaves_nothing_and_its_group_is_kept() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id BIGINT PRIMARY KEY)")
            .execute(&pool)
            .await
            .unwrap();
        let writer = Writer::start(pool.clone(), Backend::Sqlite);
        let (first, failing, last) = tokio::join!(
            writer.write(insert(vec![1])),
            writer.write(insert(vec![2, 1])),
            writer.write(insert(vec![3])),
        );
        assert_eq!(first.unwrap(), 1);
        assert!(failing.is_err(), "a duplicate key fails its write");
        assert_eq!(last.unwrap(), 1);
        let ids: Vec<(i64,)> = sqlx::query_as("SELECT id FROM t ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(
            ids,
            vec![(1,), (3,)],
            "the failed write's first row is not kept"
        );
    }
}
