//! PostgreSQL connections for the statements on every action's and filing's path
//! (docs/decisions/0028-postgres-connections-without-pings.md).
//!
//! sqlx's pool pings a connection when it hands it out and again when it takes it back:
//! on PostgreSQL each ping is a round trip that wakes the server, so a statement through
//! the pool cost three round trips, and an action (token, dossier, write, history) twelve.
//! Measured, the pings were about an eighth of the host's CPU and as many of the
//! server's wake-ups as the statements themselves. The statements of the action path
//! (`Store::fetch`, the writer) therefore run on connections from this pool
//! ([`deadpool`]), which hands out a connection used in the last second as it is, pings
//! one idle for longer, and drops a connection whose statement failed for want of the
//! server (so a restarted PostgreSQL costs a request, not a poisoned connection). Every
//! other statement (registry, units, reports, the inbox, migrations) stays on sqlx's
//! pool, where `before_acquire` skips the ping in the same way.

use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, ConnectOptions, Connection, Executor};

use super::{Result, StoreError};

/// How long a connection may have been idle and still be handed out without a ping.
/// Under load none is; after a quiet second, one round trip makes sure the server is
/// still the one the connection was opened to.
pub(super) const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// Connections this pool keeps at most (sqlx's pool has as many for everything else).
const MAX_CONNECTIONS: usize = 16;

pub(super) struct Manager {
    options: AnyConnectOptions,
}

impl managed::Manager for Manager {
    type Type = AnyConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<AnyConnection, sqlx::Error> {
        let mut connection = self.options.connect().await?;
        // Every statement on these connections finds rows by key, where the plan does
        // not depend on the values: plan each once per connection, not at every call
        // (PostgreSQL would plan each call anew for its first five, and after that
        // whenever it judged a plan for the values cheaper).
        connection
            .execute("SET plan_cache_mode = force_generic_plan")
            .await?;
        // That plan is made once and kept while the connection lives, perhaps while the
        // tables are still small, where reading a whole table would look as cheap as
        // finding rows by key. Each statement here finds rows by key: a group of actions
        // (`batch.rs`) joins its records to `dossiers` by code. Rule out the plans that
        // read a whole table, so the plan stays right as the tables grow. JIT is off:
        // PostgreSQL estimates a group's read for 100 records, each with its documents'
        // and events' aggregates, and once the tables' statistics grow that estimate
        // passes the cost at which it compiles a plan to machine code, which it then
        // does at every execution (measured: a group's read went from about 1 ms to
        // 40-100 ms, and actions fell to a third); these short statements never gain
        // from compiling.
        connection
            .execute(
                "SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off; SET jit = off",
            )
            .await?;
        Ok(connection)
    }

    async fn recycle(
        &self,
        connection: &mut AnyConnection,
        metrics: &Metrics,
    ) -> RecycleResult<sqlx::Error> {
        if metrics.last_used() > IDLE_BEFORE_PING {
            connection.ping().await.map_err(RecycleError::Backend)?;
        }
        Ok(())
    }
}

/// The pool of the action path's PostgreSQL connections.
#[derive(Clone)]
pub(super) struct HotPool(managed::Pool<Manager>);

/// A connection taken from [`HotPool`]; back in the pool when dropped.
pub(super) type HotConnection = Object<Manager>;

impl HotPool {
    pub(super) fn new(options: AnyConnectOptions, wait: Duration) -> HotPool {
        let pool = managed::Pool::builder(Manager { options })
            .max_size(MAX_CONNECTIONS)
            .wait_timeout(Some(wait))
            .create_timeout(Some(wait))
            .recycle_timeout(Some(wait))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .expect("a runtime is set for the pool's timeouts");
        HotPool(pool)
    }

    /// A connection, waiting at most the store's acquire timeout for one to be free.
    pub(super) async fn get(&self) -> Result<HotConnection> {
        self.0.get().await.map_err(|error| {
            StoreError::Database(match error {
                PoolError::Backend(error) => error,
                PoolError::Timeout(_) => sqlx::Error::PoolTimedOut,
                PoolError::Closed
                | PoolError::NoRuntimeSpecified
                | PoolError::PostCreateHook(_) => sqlx::Error::PoolClosed,
            })
        })
    }

    /// Runs `work` on a connection of the pool. The connection goes back to the pool
    /// only when `work` finished with an answer or with an error the server gave: one
    /// whose statement could not reach the server, one that broke the protocol, and one
    /// whose future was dropped part-way (a cancelled request, perhaps in the middle of
    /// a transaction) are closed instead, so that the server ends whatever they had
    /// begun and no later user meets a half-used connection.
    pub(super) async fn with<T>(
        &self,
        work: impl AsyncFnOnce(&mut AnyConnection) -> Result<T>,
    ) -> Result<T> {
        let mut in_use = InUse {
            connection: Some(self.get().await?),
            reusable: false,
        };
        let connection = in_use.connection.as_mut().expect("taken only on drop");
        let answer = work(connection).await;
        in_use.reusable = match &answer {
            Ok(_) => true,
            Err(error) => leaves_connection_usable(error),
        };
        answer
    }

    pub(super) fn close(&self) {
        self.0.close();
    }
}

/// Whether a connection is fit for the next user after `work` failed with `error`: when
/// the server answered the statement with an error of the request's making (a constraint,
/// a conflict the store found in the rows), yes; when the connection itself failed (cut,
/// the server going away, a message it could not read), no.
fn leaves_connection_usable(error: &StoreError) -> bool {
    match error {
        StoreError::Database(sqlx::Error::Database(_)) => !error.is_unavailable(),
        StoreError::Database(sqlx::Error::RowNotFound) => true,
        StoreError::Database(_) => false,
        _ => true,
    }
}

/// A connection lent to one piece of work; closed, not given back, unless the work
/// marked it reusable.
struct InUse {
    connection: Option<HotConnection>,
    reusable: bool,
}

impl Drop for InUse {
    fn drop(&mut self) {
        if !self.reusable
            && let Some(connection) = self.connection.take()
        {
            // Out of the pool's count; dropping the connection closes its socket, and
            // PostgreSQL rolls back whatever transaction it had open.
            drop(Object::take(connection));
        }
    }
}

/// The guard of [`HotPool::with`] on a real PostgreSQL server (`MOTCUA_TEST_POSTGRES_URL`,
/// by default the `test` database on 127.0.0.1:5432). Each test has a pool of its own and
/// tells connections apart by their server process id.
#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::Row;

    use super::*;

    fn pool() -> HotPool {
        sqlx::any::install_default_drivers();
        let url = std::env::var("MOTCUA_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
        HotPool::new(
            AnyConnectOptions::from_str(&url).expect("a PostgreSQL URL"),
            Duration::from_secs(10),
        )
    }

    /// The server process behind the connection `with` hands out.
    async fn connection_seen(pool: &HotPool) -> i64 {
        pool.with(async |connection| {
            Ok(sqlx::query("SELECT CAST(pg_backend_pid() AS BIGINT)")
                .fetch_one(&mut *connection)
                .await?
                .get::<i64, _>(0))
        })
        .await
        .expect("a plain statement answers")
    }

    async fn server_processes(pool: &HotPool, pid: i64) -> i64 {
        pool.with(async |connection| {
            Ok(
                sqlx::query(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = CAST($1 AS INTEGER)",
                )
                .bind(pid)
                .fetch_one(&mut *connection)
                .await?
                .get::<i64, _>(0),
            )
        })
        .await
        .expect("pg_stat_activity answers")
    }

    /// Work whose future is dropped in the middle of a transaction (a request cancelled
    /// while its statement runs): its connection is closed, not handed to the next user,
    /// and the server ends the transaction it had begun.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_whose_work_was_dropped_part_way_is_closed() {
        let pool = pool();
        let first = connection_seen(&pool).await;
        // Given back after an answer: the next user gets the same connection.
        assert_eq!(connection_seen(&pool).await, first);
        // A lock of this test's own, held by the transaction the work leaves open.
        let lock: i64 = 0x6d6f_7463_7561_0000 + i64::from(std::process::id());

        // Dropped well within IDLE_BEFORE_PING of the connection's last use, so that the
        // pool would hand it out again without a ping if the guard gave it back.
        let cancelled = tokio::time::timeout(
            Duration::from_millis(300),
            pool.with(async |connection| {
                // The server looks for a vanished client every 100 ms while the
                // statement runs, instead of only when it next writes to it.
                connection
                    .execute("SET client_connection_check_interval = 100")
                    .await?;
                connection.execute("BEGIN").await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(lock)
                    .execute(&mut *connection)
                    .await?;
                connection.execute("SELECT pg_sleep(60)").await?;
                connection.execute("COMMIT").await?;
                Ok(())
            }),
        )
        .await;
        assert!(
            cancelled.is_err(),
            "the work is dropped while pg_sleep runs"
        );

        let next = connection_seen(&pool).await;
        assert_ne!(
            next, first,
            "the dropped work's connection is not handed out again"
        );
        // The server noticed the closed connection and ended its process (and with it
        // the transaction) long before pg_sleep would have returned.
        let mut gone = false;
        for _ in 0..100 {
            if server_processes(&pool, first).await == 0 {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(gone, "PostgreSQL ended the closed connection's process");
        let free = pool
            .with(async |connection| {
                Ok(sqlx::query("SELECT CAST(CASE WHEN pg_try_advisory_xact_lock($1) THEN 1 ELSE 0 END AS BIGINT)")
                    .bind(lock)
                    .fetch_one(&mut *connection)
                    .await?
                    .get::<i64, _>(0))
            })
            .await
            .expect("the lock is asked for");
        assert_eq!(free, 1, "the open transaction's lock was released");
    }

    /// Work that fails with an error the server sent for its statement (here a division
    /// by zero) leaves a connection fit for the next user: it goes back to the pool.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_statement_error_gives_the_connection_back() {
        let pool = pool();
        let first = connection_seen(&pool).await;
        let failed = pool
            .with(async |connection| {
                sqlx::query("SELECT 1 / 0")
                    .execute(&mut *connection)
                    .await?;
                Ok(())
            })
            .await;
        assert!(
            matches!(&failed, Err(StoreError::Database(sqlx::Error::Database(_)))),
            "{failed:?}"
        );
        assert_eq!(connection_seen(&pool).await, first);
    }
}
