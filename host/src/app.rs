//! Wiring: configuration in, a running server out.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::api::{self, AppState};
use crate::clock::{Clock, format_civil};
use crate::documents::{ContentStore, DocumentLimits, StorageConfig};
use crate::registry::Registry;
use crate::runtime::{ArtifactCache, Runtime, SandboxLimits};
use crate::store::Store;
use crate::workflow::Workflow;
use crate::workflow::calendar::{self, CalendarWatch};

/// Everything the server needs, read once in `main`.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub limits: SandboxLimits,
    /// Where compiled plugin builds are cached; `None` compiles every build at start.
    pub cache_dir: Option<PathBuf>,
    /// The largest component `POST /api/v1/plugins` accepts.
    pub max_plugin_bytes: usize,
    /// How often a host rereads what other hosts may have changed in the shared
    /// database (registry bindings, the calendar).
    pub refresh_interval: Duration,
    /// How often the deadline sweep runs (closing dossiers whose supplement never came).
    pub sweep_interval: Duration,
    /// Connection, size, timeout and rate limits applied before any handler runs.
    pub front_door: api::FrontDoor,
    /// The key each day's audit anchor is signed with; without one, this host makes no
    /// anchors (`motcua audit anchor` from cron can, on any machine holding the key).
    pub audit_key: Option<crate::audit::AnchorKey>,
    /// Where the files of dossiers live; `None` is the directory beside the database
    /// (`StorageConfig::beside_database`).
    pub storage: Option<StorageConfig>,
    /// How large files may be and which types are accepted.
    pub document_limits: DocumentLimits,
}

impl Config {
    pub fn new(database_url: impl Into<String>) -> Config {
        Config {
            database_url: database_url.into(),
            limits: SandboxLimits::default(),
            cache_dir: None,
            max_plugin_bytes: crate::registry::DEFAULT_MAX_PLUGIN_BYTES,
            refresh_interval: Duration::from_secs(5),
            sweep_interval: Duration::from_secs(60),
            front_door: api::FrontDoor::default(),
            audit_key: None,
            storage: None,
            document_limits: DocumentLimits::default(),
        }
    }
}

/// Connects the store, starts the runtime and compiles every stored build.
pub async fn build_state(config: &Config, clock: Clock) -> anyhow::Result<AppState> {
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| format!("opening the database at {}", config.database_url))?;
    // The calendar in force is the database's: the shipped tables only seed years the
    // database has none for (docs/decisions/0008-calendar-as-data.md).
    let started = format_civil(clock.now());
    calendar::seed_shipped(&store, &started)
        .await
        .context("loading the shipped holiday tables")?;
    let (calendar, fingerprint) = calendar::read_calendar(&store)
        .await
        .context("reading the holiday calendar")?;
    let runtime = Arc::new(Runtime::new(config.limits.clone(), Arc::new(calendar))?);
    let cache = match &config.cache_dir {
        Some(dir) => {
            let key = store.host_secret("artifact-cache-key").await?;
            Some(
                ArtifactCache::new(dir, key.as_bytes(), runtime.engine()).with_context(|| {
                    format!("creating the compiled-plugin cache at {}", dir.display())
                })?,
            )
        }
        None => None,
    };
    let registry = Arc::new(
        Registry::load(
            runtime.clone(),
            store.clone(),
            cache,
            config.max_plugin_bytes,
        )
        .await
        .context("loading plugin builds")?,
    );
    let storage = config
        .storage
        .clone()
        .unwrap_or_else(|| StorageConfig::beside_database(&config.database_url));
    let documents = ContentStore::open(&storage)
        .with_context(|| format!("opening the document store {storage:?}"))?;
    let workflow = Workflow {
        store,
        runtime,
        registry,
        clock,
        calendar_watch: CalendarWatch::new(fingerprint),
        documents,
        document_limits: config.document_limits.clone(),
        metrics: Arc::new(crate::metrics::Metrics::new()),
    };
    workflow
        .start_calendar()
        .await
        .context("recomputing provisional due dates")?;
    Ok(Arc::new(workflow))
}

/// The leases of periodic work (docs/decisions/0021).
pub const SWEEP_LEASE: &str = "deadline-sweep";
pub const ANCHOR_LEASE: &str = "audit-anchor";

/// How long a lease on work run every `period` lasts: three periods, so one slow run
/// does not lose it, and at least half a minute.
fn lease_time(period: Duration) -> Duration {
    (period * 3).max(Duration::from_secs(30))
}

/// Whether this host holds (took or renewed) the lease `name` for the next `ttl`,
/// by the wall clock all hosts share. A failure to ask counts as not holding it.
pub async fn holds_lease(state: &AppState, name: &str, holder: &str, ttl: Duration) -> bool {
    use chrono::SecondsFormat;
    let now = chrono::Utc::now();
    let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(3));
    let text = |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(SecondsFormat::Millis, true);
    match state
        .store
        .claim_lease(name, holder, &text(now), &text(until))
        .await
    {
        Ok(held) => held,
        Err(error) => {
            tracing::warn!(%error, lease = name, "asking for a background lease failed");
            false
        }
    }
}

/// Listens for other hosts' changes (`NOTIFY motcua_changes`, sent with every audited
/// change to the registry, units or calendar) and refreshes on each. A lost connection
/// is reopened; what changed while it was down is picked up by a refresh at once.
async fn follow_changes(state: AppState, url: String) {
    use sqlx::postgres::PgListener;
    loop {
        match PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen(crate::store::CHANGES_CHANNEL).await {
                Ok(()) => loop {
                    match listener.try_recv().await {
                        // A notification, or a reconnection after which some may have
                        // been missed: either way, reread.
                        Ok(_) => {
                            if let Err(error) = state.refresh().await {
                                tracing::warn!(%error, "refreshing after another host's change failed");
                            }
                        }
                        Err(error) => {
                            tracing::warn!(%error, "listening for other hosts' changes failed");
                            break;
                        }
                    }
                },
                Err(error) => tracing::warn!(%error, "subscribing to other hosts' changes failed"),
            },
            Err(error) => {
                tracing::warn!(%error, "connecting to listen for other hosts' changes failed")
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Starts the background work of a serving host: rereading what other hosts changed,
/// and the deadline sweep. Dropping the returned guard stops both.
pub fn start_background(state: &AppState, config: &Config) -> BackgroundTasks {
    // Hosts that share a PostgreSQL database see each other's changes (plugin
    // registry, holiday tables) within one refresh interval.
    let refresher = {
        let state = state.clone();
        let period = config.refresh_interval;
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            loop {
                interval.tick().await;
                if let Err(error) = state.refresh().await {
                    tracing::warn!(%error, "refreshing the plugin registry or the calendar failed");
                }
            }
        })
    };
    // Periodic work runs on one host at a time: the holder of its lease, renewed each
    // time it runs, taken over by another host once a holder stops renewing it (its
    // host died). The sweep closes each dossier by compare-and-set besides, so even two
    // holders in a lease's last instant would close a dossier once.
    let holder = format!(
        "{}:{}:{}",
        host_name(),
        std::process::id(),
        crate::sessions::random_hex(4)
    );
    let sweeper = {
        let state = state.clone();
        let period = config.sweep_interval;
        let holder = holder.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            loop {
                interval.tick().await;
                if !holds_lease(&state, SWEEP_LEASE, &holder, lease_time(period)).await {
                    continue;
                }
                if let Err(error) = state.close_unsupplemented().await {
                    tracing::warn!(%error, "the deadline sweep failed");
                }
            }
        })
    };
    let mut tasks = vec![refresher, sweeper];
    // On PostgreSQL, another host's change is followed as soon as it commits; the
    // refresh above stays as the fall-back for a notification missed while the
    // listening connection was down.
    if config.database_url.starts_with("postgres") {
        let state = state.clone();
        let url = config.database_url.clone();
        tasks.push(tokio::spawn(follow_changes(state, url)));
    }
    // Anchoring, once a civil day shortly after midnight, by the host holding the lease
    // among those holding the key (the day's anchor is stored once besides:
    // insert-or-skip on the day).
    if let Some(key) = config.audit_key.clone() {
        let state = state.clone();
        let made_by = format!("host {}", host_name());
        tasks.push(tokio::spawn(async move {
            let mut interval = tokio::time::interval(ANCHOR_CHECK_INTERVAL);
            loop {
                interval.tick().await;
                if !holds_lease(
                    &state,
                    ANCHOR_LEASE,
                    &holder,
                    lease_time(ANCHOR_CHECK_INTERVAL),
                )
                .await
                {
                    continue;
                }
                let now = state.clock.now();
                match crate::audit::anchor_due(&state.store, &key, now, &made_by).await {
                    Ok(Some(crate::audit::Anchored::Made(anchor))) => tracing::info!(
                        day = %anchor.day, heads = anchor.heads, "signed the audit anchor"
                    ),
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "anchoring the audit trail failed"),
                }
            }
        }));
    }
    BackgroundTasks(tasks)
}

/// How often a host holding the audit key checks whether a day is due for its anchor.
const ANCHOR_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// This machine's name, for the audit anchors it makes.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The background tasks of a host; they stop when this is dropped.
pub struct BackgroundTasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for BackgroundTasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Serves the API until ctrl-c or SIGTERM, then finishes in-flight requests.
pub async fn serve(
    state: AppState,
    config: &Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let address: SocketAddr = listener.local_addr()?;
    tracing::info!(%address, "motcua listening");
    let store = state.store.clone();
    let background = start_background(&state, config);
    api::serve_with(
        listener,
        api::app(state),
        &config.front_door,
        config.max_plugin_bytes,
        shutdown,
    )
    .await?;
    drop(background);
    store.close().await;
    Ok(())
}

/// SIGTERM or Ctrl-C, as a future. The handlers are installed when this is called, not
/// when the future is first polled: call it before the listener is bound, so that a
/// service manager stopping a server that has just started listening gets a clean
/// shutdown rather than the default action of the signal.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async {
            match terminate.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
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
}
