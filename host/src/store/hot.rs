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

    /// Runs `work` on a connection of the pool. A connection whose statement failed
    /// because the server could not be reached is not given back to the pool.
    pub(super) async fn with<T>(
        &self,
        work: impl AsyncFnOnce(&mut AnyConnection) -> Result<T>,
    ) -> Result<T> {
        let mut connection = self.get().await?;
        let answer = work(&mut connection).await;
        if let Err(error) = &answer
            && error.is_unavailable()
        {
            drop(Object::take(connection));
        }
        answer
    }

    pub(super) fn close(&self) {
        self.0.close();
    }
}
