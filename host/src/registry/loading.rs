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
    /// Reloads bindings and defaults from the store, compiling any build this host
    /// has not loaded yet (published through another host). Waits for any change in
    /// progress, so an older snapshot never overwrites a newer one.
    pub async fn refresh(&self) -> Result<()> {
        let _guard = self.changes.lock().await;
        self.refresh_locked().await
    }

    /// `refresh` for callers that already hold the change lock.
    pub(super) async fn refresh_locked(&self) -> Result<()> {
        for sha in self.store.build_shas().await? {
            if self.build(&sha).is_some() {
                continue;
            }
            let waiting = self
                .image
                .read()
                .expect("registry lock")
                .next_try
                .get(&sha)
                .is_some_and(|at| *at > Instant::now());
            if waiting {
                continue;
            }
            let Some(bytes) = self.store.build_bytes(&sha).await? else {
                continue;
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
        }
        let bindings = self.store.bindings().await?;
        let defaults = self.store.province_defaults().await?;
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
