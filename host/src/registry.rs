//! The plugin registry: compiled builds by sha256, and which build each unit uses
//! for each procedure. The store holds the truth; this is its compiled, in-memory
//! image, so a request never compiles anything.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::runtime::{PluginBuild, Runtime, RuntimeError};
use crate::store::{Binding, Store, StoreError, StoredBuild};

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Plugin(#[from] RuntimeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no plugin build {0} is deployed")]
    UnknownBuild(String),
}

#[derive(Default)]
struct Image {
    builds: HashMap<String, Arc<PluginBuild>>,
    bindings: HashMap<(String, String), Binding>,
}

pub struct Registry {
    runtime: Arc<Runtime>,
    store: Store,
    image: RwLock<Image>,
}

impl Registry {
    /// Loads and compiles every stored build and reads every binding.
    pub async fn load(runtime: Arc<Runtime>, store: Store) -> Result<Registry, RegistryError> {
        let registry = Registry { runtime, store, image: RwLock::new(Image::default()) };
        for stored in registry.store.builds().await? {
            let build = registry.compile(stored.bytes).await?;
            registry.image.write().expect("registry lock").builds.insert(build.sha256.clone(), build);
        }
        for binding in registry.store.bindings().await? {
            registry
                .image
                .write()
                .expect("registry lock")
                .bindings
                .insert((binding.unit.clone(), binding.procedure_code.clone()), binding);
        }
        Ok(registry)
    }

    async fn compile(&self, bytes: Vec<u8>) -> Result<Arc<PluginBuild>, RegistryError> {
        let runtime = self.runtime.clone();
        // Compilation takes tens of milliseconds of CPU: keep it off the reactor.
        let build = tokio::task::spawn_blocking(move || runtime.load(&bytes).map(|build| (build, bytes)))
            .await
            .map_err(|error| RuntimeError::InvalidComponent(format!("compilation task failed: {error}")))??;
        Ok(Arc::new(build.0))
    }

    /// Compiles, checks and stores a build. Returns it, and whether it was new.
    pub async fn deploy(&self, bytes: Vec<u8>, publisher: &str, at: &str) -> Result<(Arc<PluginBuild>, bool), RegistryError> {
        let sha = crate::runtime::sha256_hex(&bytes);
        if let Some(existing) = self.build(&sha) {
            return Ok((existing, false));
        }
        let build = self.compile(bytes.clone()).await?;
        let stored = StoredBuild {
            sha256: build.sha256.clone(),
            procedure_code: build.info.code.clone(),
            version: build.info.plugin_version.clone(),
            size: bytes.len() as i64,
            bytes,
            info_json: serde_json::to_string(&build.info).expect("procedure info serialises"),
            published_by: publisher.to_string(),
            published_at: at.to_string(),
        };
        let inserted = self.store.insert_build(&stored).await?;
        self.image.write().expect("registry lock").builds.insert(build.sha256.clone(), build.clone());
        Ok((build, inserted))
    }

    /// Makes `unit` use build `sha256` for its procedure, with the given settings.
    pub async fn bind(&self, unit: &str, sha256: &str, settings_json: &str) -> Result<(), RegistryError> {
        let build = self.build(sha256).ok_or_else(|| RegistryError::UnknownBuild(sha256.to_string()))?;
        let binding = Binding {
            unit: unit.to_string(),
            procedure_code: build.info.code.clone(),
            build_sha256: sha256.to_string(),
            settings_json: settings_json.to_string(),
            enabled: true,
        };
        self.store.set_binding(&binding).await?;
        self.image
            .write()
            .expect("registry lock")
            .bindings
            .insert((binding.unit.clone(), binding.procedure_code.clone()), binding);
        Ok(())
    }

    pub fn build(&self, sha256: &str) -> Option<Arc<PluginBuild>> {
        self.image.read().expect("registry lock").builds.get(sha256).cloned()
    }

    /// The enabled binding of a unit's procedure.
    pub fn binding(&self, unit: &str, procedure_code: &str) -> Option<Binding> {
        self.image
            .read()
            .expect("registry lock")
            .bindings
            .get(&(unit.to_string(), procedure_code.to_string()))
            .filter(|binding| binding.enabled)
            .cloned()
    }

    /// Settings of a unit's procedure ("{}" when it has no binding).
    pub fn settings(&self, unit: &str, procedure_code: &str) -> String {
        self.binding(unit, procedure_code).map(|binding| binding.settings_json).unwrap_or_else(|| "{}".to_string())
    }

    /// What a unit offers: each enabled binding with its compiled build.
    pub fn offered(&self, unit: &str) -> Vec<(Binding, Arc<PluginBuild>)> {
        let image = self.image.read().expect("registry lock");
        let mut offered: Vec<_> = image
            .bindings
            .values()
            .filter(|binding| binding.unit == unit && binding.enabled)
            .filter_map(|binding| image.builds.get(&binding.build_sha256).map(|build| (binding.clone(), build.clone())))
            .collect();
        offered.sort_by(|a, b| a.0.procedure_code.cmp(&b.0.procedure_code));
        offered
    }
}
