//! How a host comes to hold a build: rereading the store for what other hosts
//! published (the refresh), loading a pinned build it has not loaded when a dossier
//! needs it, compiling (from the compiled cache when it can), and remembering the
//! builds that do not load here with their reason (docs/decisions/0021).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{RETRY_UNLOADABLE, Registry, RegistryError, Result, Unavailable};
use crate::runtime::{CacheOutcome, PluginBuild, RuntimeError};

impl Registry {
    /// Picks up what changed in the store since this host last read it (what other
    /// hosts published, rolled out, configured, the units they added): compiles any
    /// build this host has not loaded yet and rereads the bindings and defaults. Waits
    /// for any change in progress, so an older snapshot never overwrites a newer one.
    ///
    /// Every such change is written with its registry event in one transaction, and
    /// events are never deleted, so their number moves whenever a change commits,
    /// whatever order concurrent changes commit in. A refresh reads that number first
    /// (one index count) and, when it is the one of its last read, rereads nothing:
    /// an idle host no longer rereads every binding of the country every few seconds.
    /// Builds that failed to load are still tried again when their time comes.
    pub async fn refresh(&self) -> Result<()> {
        let _guard = self.changes.lock().await;
        self.refresh_locked().await
    }

    /// `refresh` for callers that already hold the change lock.
    pub(super) async fn refresh_locked(&self) -> Result<()> {
        // Read before the bindings: a change committed between the two reads is read
        // now or, at the latest, on the next refresh (the number will have moved).
        let changes = self.store.registry_changes().await?;
        if changes == self.seen_changes.load(Ordering::Acquire) {
            return self.retry_unloadable().await;
        }
        for sha in self.store.build_shas().await? {
            if self.build(&sha).is_some() || self.waiting(&sha) {
                continue;
            }
            self.load_stored(sha).await?;
        }
        let bindings = self.store.bindings().await?;
        let defaults = self.store.province_defaults().await?;
        {
            let mut image = self.image.write().expect("registry lock");
            image.bindings = bindings
                .into_iter()
                .map(|binding| {
                    (
                        (binding.unit.clone(), binding.procedure_code.clone()),
                        binding,
                    )
                })
                .collect();
            image.defaults = defaults.into_iter().collect();
        }
        self.binding_reads.fetch_add(1, Ordering::Relaxed);
        self.seen_changes.store(changes, Ordering::Release);
        Ok(())
    }

    /// Whether a build that failed to load here waits for its next try.
    fn waiting(&self, sha: &str) -> bool {
        self.image
            .read()
            .expect("registry lock")
            .next_try
            .get(sha)
            .is_some_and(|at| *at > Instant::now())
    }

    /// Tries again the stored builds that failed to load here and whose time has come.
    async fn retry_unloadable(&self) -> Result<()> {
        let now = Instant::now();
        let due: Vec<String> = self
            .image
            .read()
            .expect("registry lock")
            .next_try
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(sha, _)| sha.clone())
            .collect();
        for sha in due {
            if self.build(&sha).is_none() {
                self.load_stored(sha).await?;
            }
        }
        Ok(())
    }

    /// Compiles a stored build this host has not loaded and keeps it, or remembers why
    /// it does not load.
    async fn load_stored(&self, sha: String) -> Result<()> {
        let Some(bytes) = self.store.build_bytes(&sha).await? else {
            return Ok(());
        };
        // One build that no longer loads (say, after an engine upgrade changed a
        // limit) must not stop this host from seeing every other change.
        // It is remembered with its reason: `/readyz` names it, and its dossiers
        // answer a problem naming it. It is tried again on the next refresh when
        // the host was only busy, after `RETRY_UNLOADABLE` otherwise.
        match self.compile(bytes).await {
            Ok(build) => {
                let mut image = self.image.write().expect("registry lock");
                image.unavailable.remove(&build.sha256);
                image.next_try.remove(&build.sha256);
                image.builds.insert(build.sha256.clone(), build);
            }
            Err(error) => self.remember_unloadable(sha, error).await?,
        }
        Ok(())
    }

    /// Remembers a build that does not load on this host, with its reason: `/readyz`
    /// names it, its dossiers answer a problem naming it, and it is tried again on the
    /// next refresh when the host was only busy, after `RETRY_UNLOADABLE` otherwise.
    async fn remember_unloadable(&self, sha: String, error: RegistryError) -> Result<()> {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let (code, version) = self
            .store
            .build_label(&sha)
            .await?
            .unwrap_or_else(|| ("?".into(), "?".into()));
        let known = self
            .image
            .read()
            .expect("registry lock")
            .unavailable
            .contains_key(&sha);
        if !known {
            tracing::error!(build = %sha, %code, %version, %error, "a stored plugin build does not load; its dossiers answer 503 and /readyz reports it");
        }
        let retry = match &error {
            RegistryError::Plugin(RuntimeError::Busy { .. }) => Duration::ZERO,
            _ => RETRY_UNLOADABLE,
        };
        let mut image = self.image.write().expect("registry lock");
        image.next_try.insert(sha.clone(), Instant::now() + retry);
        image.unavailable.insert(
            sha.clone(),
            Unavailable {
                sha256: sha,
                code,
                version,
                reason: error.to_string(),
            },
        );
        Ok(())
    }

    pub(super) async fn compile(&self, bytes: Vec<u8>) -> Result<Arc<PluginBuild>> {
        // `describe` runs in an instance slot like any call, so a publish under full
        // load waits its turn instead of failing for want of a slot.
        let _slot = self.runtime.acquire_slot().await?;
        let runtime = self.runtime.clone();
        let cache = self.cache.clone();
        // Compilation takes milliseconds to seconds of CPU: keep it off the reactor.
        let (build, outcome) =
            tokio::task::spawn_blocking(move || runtime.load_with(&bytes, cache.as_deref()))
                .await
                .map_err(|error| {
                    RuntimeError::InvalidComponent(format!("compilation task failed: {error}"))
                })??;
        let counter = match outcome {
            CacheOutcome::Hit => &self.cache_hits,
            CacheOutcome::Rebuilt => &self.rebuilt,
            CacheOutcome::Miss | CacheOutcome::Disabled => &self.compiled,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(Arc::new(build))
    }

    /// The build a dossier is pinned to, or a problem naming it when this host has not
    /// loaded it (it failed to load, or another host published it moments ago).
    pub async fn pinned(&self, sha256: &str) -> Result<Arc<PluginBuild>> {
        if let Some(build) = self.build(sha256) {
            return Ok(build);
        }
        // Published through another host and not loaded here yet: load it now, from
        // the compiled cache or compiled, rather than make the dossier wait for the
        // next refresh. A build that failed to load is not retried before its time.
        if let Some(build) = self.load_on_demand(sha256).await? {
            return Ok(build);
        }
        let known = self
            .image
            .read()
            .expect("registry lock")
            .unavailable
            .get(sha256)
            .cloned();
        let unavailable = match known {
            Some(unavailable) => unavailable,
            None => {
                let (code, version) = self
                    .store
                    .build_label(sha256)
                    .await?
                    .unwrap_or_else(|| ("?".into(), "?".into()));
                Unavailable {
                    sha256: sha256.to_string(),
                    code,
                    version,
                    reason: "its component is missing from the store or does not match its sha256"
                        .into(),
                }
            }
        };
        Err(RegistryError::Unavailable(unavailable))
    }

    /// Loads a stored build this host has not loaded, unless it failed before and its
    /// retry time has not come. `None`: not stored, or not loadable now.
    async fn load_on_demand(&self, sha256: &str) -> Result<Option<Arc<PluginBuild>>> {
        let waiting = self
            .image
            .read()
            .expect("registry lock")
            .next_try
            .get(sha256)
            .is_some_and(|at| *at > Instant::now());
        if waiting {
            return Ok(None);
        }
        let Some(bytes) = self.store.build_bytes(sha256).await? else {
            return Ok(None);
        };
        match self.compile(bytes).await {
            // The stored bytes are the build the dossier is pinned to: the sha256 the
            // runtime computed is the one asked for.
            Ok(build) if build.sha256 == sha256 => {
                let mut image = self.image.write().expect("registry lock");
                image.unavailable.remove(sha256);
                image.next_try.remove(sha256);
                let build = image
                    .builds
                    .entry(build.sha256.clone())
                    .or_insert(build)
                    .clone();
                Ok(Some(build))
            }
            Ok(build) => {
                tracing::error!(asked = %sha256, stored = %build.sha256, "a stored build's bytes do not match its sha256");
                Ok(None)
            }
            Err(error) => {
                self.remember_unloadable(sha256.to_string(), error).await?;
                Ok(None)
            }
        }
    }
}
