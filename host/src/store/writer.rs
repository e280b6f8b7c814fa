//! How dossier writes reach the database (docs/decisions/0022-throughput-and-inbox.md).
//!
//! SQLite has one writer at a time. Many connections each taking the write lock queue on
//! SQLite's busy handler, which sleeps in growing steps: that is where the tails of
//! hundreds of milliseconds came from. Here one task owns the writing connection: it
//! takes every write waiting (up to [`MAX_BATCH`]), runs each inside its own savepoint
//! of one transaction, and commits them together (group commit). A write that fails
//! rolls back to its savepoint alone; a commit that fails fails the whole group, and
//! nothing of it is written. Each caller hears its own answer only after the commit.
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

/// One write: statements run on the writing connection inside a transaction.
type Work = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Answer> + Send>;

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
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
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
                    Box::pin(async move {
                        work(connection)
                            .await
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
    for job in jobs {
        let answer = run_in_savepoint(&mut connection, job.work).await;
        match answer {
            Ok(answer) => answers.push((job.reply, answer)),
            Err(error) => {
                // The savepoint could not be rolled back or released: the transaction is
                // in an unknown state, so none of the group is kept.
                let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
                let error = Arc::new(error);
                let _ = job
                    .reply
                    .send(Err(StoreError::Shared(Arc::clone(&error))));
                for (reply, _) in answers {
                    let _ = reply.send(Err(StoreError::Shared(Arc::clone(&error))));
                }
                return;
            }
        }
    }
    match sqlx::query("COMMIT").execute(&mut *connection).await {
        Ok(_) => {
            for (reply, answer) in answers {
                let _ = reply.send(answer);
            }
        }
        Err(error) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
            let error = Arc::new(error);
            for (reply, _) in answers {
                let _ = reply.send(Err(StoreError::Shared(Arc::clone(&error))));
            }
        }
    }
}

/// Runs one job between `SAVEPOINT` and `RELEASE`, rolling back to the savepoint when
/// the job fails. The outer error is the savepoint's own failure; the inner one is the
/// job's answer.
async fn run_in_savepoint(
    connection: &mut AnyConnection,
    work: Work,
) -> std::result::Result<Answer, sqlx::Error> {
    sqlx::query("SAVEPOINT write").execute(&mut *connection).await?;
    let answer = work(connection).await;
    if answer.is_err() {
        sqlx::query("ROLLBACK TO write")
            .execute(&mut *connection)
            .await?;
    }
    sqlx::query("RELEASE write").execute(&mut *connection).await?;
    Ok(answer)
}

fn fail_all(jobs: Vec<Job>, error: sqlx::Error) {
    let error = Arc::new(error);
    for job in jobs {
        let _ = job.reply.send(Err(StoreError::Shared(Arc::clone(&error))));
    }
}
