//! Wiring: configuration in, a running server out.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::api::{self, AppState};
use crate::calendar::Calendar;
use crate::clock::Clock;
use crate::registry::Registry;
use crate::runtime::{Runtime, SandboxLimits};
use crate::store::Store;
use crate::workflow::Workflow;

/// Everything the server needs, read once in `main`.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub limits: SandboxLimits,
}

/// Connects the store, starts the runtime and compiles every stored build.
pub async fn build_state(config: &Config, clock: Clock) -> anyhow::Result<AppState> {
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| format!("opening the database at {}", config.database_url))?;
    let runtime = Arc::new(Runtime::new(config.limits.clone(), Arc::new(Calendar::shipped()))?);
    let registry = Arc::new(Registry::load(runtime.clone(), store.clone()).await.context("loading plugin builds")?);
    Ok(Arc::new(Workflow { store, runtime, registry, clock }))
}

/// Serves the API until ctrl-c or SIGTERM, then finishes in-flight requests.
pub async fn serve(state: AppState, listener: TcpListener) -> anyhow::Result<()> {
    let address: SocketAddr = listener.local_addr()?;
    tracing::info!(%address, "motcua listening");
    let store = state.store.clone();
    axum::serve(listener, api::app(state)).with_graceful_shutdown(shutdown_signal()).await?;
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
