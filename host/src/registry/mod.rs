//! The plugin registry: published builds by sha256, the province default of each
//! procedure, and which build each unit uses (default, pilot or local variant) with its
//! settings. The store holds the truth; this is its compiled, in-memory image, so a
//! request never compiles anything and a rollout takes effect on the next request.
//!
//! Every change goes through one async mutex (changes on one host are serialised),
//! is written with its audit event in one transaction, and then the image is reloaded
//! from the store. Other hosts sharing the database pick changes up with `refresh`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::domain::{Actor, UnitKind};
use crate::runtime::{ArtifactCache, PluginBuild, Runtime, RuntimeError};
use crate::store::{Binding, RegistryEvent, RolloutRecord, Store, StoreError, StoredBuild};

mod loading;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Plugin(#[from] RuntimeError),
    #[error(transparent)]
    Store(StoreError),
    #[error("the component is {size} bytes; the limit is {cap} bytes")]
    TooLarge { size: usize, cap: usize },
    #[error("{0}")]
    VersionClash(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the settings do not fit the plugin's settings schema: {}", .0.join("; "))]
    InvalidSettings(Vec<String>),
    #[error(
        "the settings are {size} bytes; a unit's settings may hold at most {cap} bytes, so that with a form and documents they fit the {input_cap}-byte plugin input cap"
    )]
    SettingsTooLarge {
        size: usize,
        cap: usize,
        input_cap: usize,
    },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unavailable(Unavailable),
}

/// A stored build this host could not load, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Unavailable {
    pub sha256: String,
    /// The plugin's code and version as stored at publish.
    pub code: String,
    pub version: String,
    pub reason: String,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "build {} {} (sha256 {}) is not loaded on this host: {}",
            self.code, self.version, self.sha256, self.reason
        )
    }
}

impl From<StoreError> for RegistryError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => RegistryError::VersionClash(message),
            other => RegistryError::Store(other),
        }
    }
}

type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// Where a rollout goes.
#[derive(Clone, Debug)]
pub enum Scope {
    /// These units only.
    Pilot(Vec<String>),
    /// Every unit that handles the procedure's level (wards and communes for a
    /// commune-level procedure, departments for a province-level one), and the build
    /// becomes the province default, which units created later start with.
    All,
}

/// A unit admin's change to one of the unit's procedures; `None` leaves a part alone.
#[derive(Clone, Debug, Default)]
pub struct UnitChange {
    pub enabled: Option<bool>,
    /// `Some(Some(version))`: use that local variant; `Some(None)`: back to the default.
    pub variant: Option<Option<String>>,
    pub settings: Option<Value>,
}

/// How many builds were compiled, loaded from the cache, or rebuilt from a bad entry,
/// and how many attempts to load a stored build failed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub compiled: usize,
    pub cache_hits: usize,
    pub rebuilt: usize,
    pub failed: usize,
}

#[derive(Default)]
struct Image {
    builds: HashMap<String, Arc<PluginBuild>>,
    /// Stored builds that did not load on this host, by sha256, with the reason.
    unavailable: HashMap<String, Unavailable>,
    /// When each of those is tried again: a build that failed for a reason of its own
    /// (it does not compile, link, describe or validate under this host's limits)
    /// fails the same way on every refresh, so reading and compiling it every few
    /// seconds would only burn CPU and hold up registry changes.
    next_try: HashMap<String, Instant>,
    bindings: HashMap<(String, String), Binding>,
    defaults: HashMap<String, String>,
}

/// How long a stored build that failed to load for a reason of its own waits before
/// this host tries it again (a restart, or publishing the same bytes, tries at once).
const RETRY_UNLOADABLE: Duration = Duration::from_secs(300);

pub struct Registry {
    runtime: Arc<Runtime>,
    store: Store,
    cache: Option<Arc<ArtifactCache>>,
    max_plugin_bytes: usize,
    image: RwLock<Image>,
    changes: tokio::sync::Mutex<()>,
    compiled: AtomicUsize,
    cache_hits: AtomicUsize,
    rebuilt: AtomicUsize,
    failed: AtomicUsize,
    /// How many registry changes the store held when this host last reread its
    /// bindings and defaults (`NEVER_READ` before the first read); a refresh that finds
    /// the same number rereads nothing.
    seen_changes: AtomicI64,
    /// How many times the bindings and defaults were reread (tests, the scale tool).
    binding_reads: AtomicUsize,
}

/// `seen_changes` before the first read.
const NEVER_READ: i64 = -1;

/// The default cap on a published component's size.
pub const DEFAULT_MAX_PLUGIN_BYTES: usize = 8 << 20;

impl Registry {
    /// Loads every stored build (from the compiled cache when it can) and every binding.
    pub async fn load(
        runtime: Arc<Runtime>,
        store: Store,
        cache: Option<ArtifactCache>,
        max_plugin_bytes: usize,
    ) -> Result<Registry> {
        let registry = Registry {
            runtime,
            store,
            cache: cache.map(Arc::new),
            max_plugin_bytes,
            image: RwLock::new(Image::default()),
            changes: tokio::sync::Mutex::new(()),
            compiled: AtomicUsize::new(0),
            cache_hits: AtomicUsize::new(0),
            rebuilt: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            seen_changes: AtomicI64::new(NEVER_READ),
            binding_reads: AtomicUsize::new(0),
        };
        registry.refresh().await?;
        Ok(registry)
    }

    pub fn stats(&self) -> LoadStats {
        LoadStats {
            compiled: self.compiled.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            rebuilt: self.rebuilt.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }

    /// How many times this host reread every binding and default from the store: once
    /// at load and once per refresh that found a registry change since the last read.
    pub fn binding_reads(&self) -> usize {
        self.binding_reads.load(Ordering::Relaxed)
    }

    /// Verifies, compiles and stores a build. Publishing the same bytes again changes
    /// nothing; other bytes under a published version are refused. Returns the build
    /// and whether it is new.
    pub async fn publish(
        &self,
        bytes: Vec<u8>,
        actor: &Actor,
        at: &str,
    ) -> Result<(Arc<PluginBuild>, bool)> {
        if bytes.len() > self.max_plugin_bytes {
            return Err(RegistryError::TooLarge {
                size: bytes.len(),
                cap: self.max_plugin_bytes,
            });
        }
        let sha = crate::runtime::sha256_hex(&bytes);
        if let Some(existing) = self.build(&sha) {
            return Ok((existing, false));
        }
        let _guard = self.changes.lock().await;
        let build = self.compile(bytes.clone()).await?;
        build
            .info
            .check_labels()
            .map_err(|message| RuntimeError::Malformed {
                plugin: build.label(),
                message,
            })?;
        let stored = StoredBuild {
            sha256: build.sha256.clone(),
            procedure_code: build.info.code.clone(),
            variant_of: build.info.variant_of.clone(),
            version: build.info.plugin_version.clone(),
            wit_version: build.contract().version().into(),
            size: bytes.len() as i64,
            bytes,
            info_json: serde_json::to_string(&build.info).expect("procedure info serialises"),
            published_by: actor.id.clone(),
            published_at: at.to_string(),
        };
        let event = RegistryEvent {
            at: at.to_string(),
            actor_id: actor.id.clone(),
            actor_role: actor.role.as_str().into(),
            action: "publish".into(),
            procedure_code: Some(build.info.procedure_code().to_string()),
            unit: None,
            before: Value::Null,
            after: json!({ "build": build.sha256, "plugin": build.info.code, "version": build.info.plugin_version }),
        };
        let inserted = self.store.insert_build(&stored, &event).await?;
        self.image
            .write()
            .expect("registry lock")
            .builds
            .insert(build.sha256.clone(), build.clone());
        Ok((build, inserted))
    }

    /// Finds a published build of a plugin by version (or by sha256).
    pub fn find(&self, plugin_code: &str, version_or_sha: &str) -> Option<Arc<PluginBuild>> {
        let image = self.image.read().expect("registry lock");
        if let Some(build) = image.builds.get(version_or_sha) {
            return (build.info.code == plugin_code).then(|| build.clone());
        }
        image
            .builds
            .values()
            .find(|build| {
                build.info.code == plugin_code && build.info.plugin_version == version_or_sha
            })
            .cloned()
    }

    /// Rolls a build of a procedure out to pilot units or to all of them.
    pub async fn rollout(
        &self,
        procedure_code: &str,
        version: &str,
        scope: Scope,
        actor: &Actor,
        at: &str,
    ) -> Result<i64> {
        let build = self.find(procedure_code, version).ok_or_else(|| {
            RegistryError::NotFound(format!(
                "no published build {version} of procedure {procedure_code}"
            ))
        })?;
        if build.info.variant_of.is_some() {
            return Err(RegistryError::Invalid(format!(
                "{} is a local variant; a unit's admin chooses it for their unit",
                build.label()
            )));
        }
        let guard = self.changes.lock().await;
        // A publisher acts for their own province: the units under it.
        let units: Vec<_> = self
            .store
            .units()
            .await?
            .into_iter()
            .filter(|unit| {
                unit.parent.as_deref() == Some(actor.unit.as_str()) || unit.code == actor.unit
            })
            .collect();
        let (targets, scope_name, new_default): (Vec<String>, &str, Option<&str>) = match &scope {
            Scope::Pilot(names) => {
                let mut names = names.clone();
                names.sort();
                names.dedup();
                if names.is_empty() {
                    return Err(RegistryError::Invalid(
                        "name at least one pilot unit".into(),
                    ));
                }
                for name in &names {
                    match units.iter().find(|unit| &unit.code == name) {
                        None => {
                            return Err(RegistryError::NotFound(format!(
                                "unit `{name}` is not a unit of your province"
                            )));
                        }
                        Some(unit) if unit.kind == UnitKind::Province => {
                            return Err(RegistryError::Invalid(format!(
                                "`{name}` is the province; pilot units are its departments, wards and communes"
                            )));
                        }
                        Some(_) => {}
                    }
                }
                (names, "pilot", None)
            }
            Scope::All => (
                units
                    .iter()
                    .filter(|unit| unit.kind.handles() == Some(build.info.level))
                    .map(|unit| unit.code.clone())
                    .collect(),
                "all",
                Some(build.sha256.as_str()),
            ),
        };
        let source = if new_default.is_some() {
            "default"
        } else {
            "pilot"
        };
        let mut bindings = Vec::new();
        let mut skipped = Vec::new();
        let mut misfits = Vec::new();
        for unit in &targets {
            let current = self.any_binding(unit, procedure_code);
            if current
                .as_ref()
                .is_some_and(|binding| binding.source == "variant")
            {
                // A unit that chose a local variant keeps it; its admin decides when to leave it.
                skipped.push(unit.clone());
                continue;
            }
            if let Some(current) = &current {
                let settings: Value =
                    serde_json::from_str(&current.settings_json).unwrap_or(Value::Null);
                if let Err(errors) = build.settings_check.check_settings(&settings) {
                    misfits.push(format!("{unit}: {}", errors.join("; ")));
                }
            }
            bindings.push(Binding {
                unit: unit.clone(),
                procedure_code: procedure_code.to_string(),
                build_sha256: build.sha256.clone(),
                settings_json: current
                    .as_ref()
                    .map(|b| b.settings_json.clone())
                    .unwrap_or_else(|| "{}".into()),
                enabled: current.as_ref().is_none_or(|b| b.enabled),
                source: source.to_string(),
            });
        }
        if !misfits.is_empty() {
            return Err(RegistryError::Invalid(format!(
                "these units' settings do not fit {}'s settings schema; their admins must change them first: {}",
                build.label(),
                misfits.join(" | ")
            )));
        }
        let record = RolloutRecord {
            id: 0,
            procedure_code: procedure_code.to_string(),
            build_sha256: build.sha256.clone(),
            scope: scope_name.to_string(),
            units: bindings
                .iter()
                .map(|binding| binding.unit.clone())
                .collect(),
            actor_id: actor.id.clone(),
            at: at.to_string(),
            rolled_back_at: None,
        };
        let event = RegistryEvent {
            at: at.to_string(),
            actor_id: actor.id.clone(),
            actor_role: actor.role.as_str().into(),
            action: format!("rollout-{scope_name}"),
            procedure_code: Some(procedure_code.to_string()),
            unit: None,
            before: Value::Null,
            after: json!({
                "build": build.sha256,
                "version": build.info.plugin_version,
                "units": record.units,
                "skipped_variant_units": skipped,
            }),
        };
        let id = self
            .store
            .apply_rollout(&record, &bindings, new_default, &event)
            .await?;
        self.refresh_locked().await?;
        drop(guard);
        Ok(id)
    }

    /// Undoes the latest rollout of a procedure.
    /// With `expected`, only that rollout is undone: if another became the latest since
    /// the caller looked (a confirmation page), nothing changes and the answer is a
    /// conflict.
    pub async fn rollback(
        &self,
        procedure_code: &str,
        expected: Option<i64>,
        actor: &Actor,
        at: &str,
    ) -> Result<RolloutRecord> {
        let guard = self.changes.lock().await;
        // A publisher undoes only what was done in their own province: every unit the
        // rollout touched must be theirs, and so must the publisher who made it.
        let latest = self
            .store
            .latest_rollout(procedure_code)
            .await?
            .ok_or_else(|| {
                RegistryError::NotFound(format!(
                    "procedure {procedure_code} has no rollout to roll back"
                ))
            })?;
        if let Some(expected) = expected
            && expected != latest.id
        {
            return Err(RegistryError::Store(StoreError::Conflict(format!(
                "the latest rollout of {procedure_code} is now #{}, not #{expected}; nothing was rolled back",
                latest.id
            ))));
        }
        let units = self.store.units().await?;
        let province_of = |code: &str| {
            units
                .iter()
                .find(|unit| unit.code == code)
                .map(|unit| crate::authz::province_of(unit).to_string())
        };
        let mine = province_of(&actor.unit);
        let by = self
            .store
            .actor(&latest.actor_id)
            .await?
            .and_then(|author| province_of(&author.unit));
        let foreign: Vec<&String> = latest
            .units
            .iter()
            .filter(|unit| mine.is_none() || province_of(unit) != mine)
            .collect();
        if mine.is_none() || !foreign.is_empty() || (by.is_some() && by != mine) {
            return Err(RegistryError::Forbidden(format!(
                "the latest rollout of {procedure_code} (#{}) was made for another province{}; a publisher rolls back only their own province's rollouts",
                latest.id,
                if foreign.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (units {})",
                        foreign
                            .iter()
                            .map(|unit| format!("`{unit}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            )));
        }
        let event = RegistryEvent {
            at: at.to_string(),
            actor_id: actor.id.clone(),
            actor_role: actor.role.as_str().into(),
            action: "rollback".into(),
            procedure_code: Some(procedure_code.to_string()),
            unit: None,
            before: Value::Null,
            after: Value::Null,
        };
        let undone = self
            .store
            .rollback(procedure_code, latest.id, &event)
            .await?
            .ok_or_else(|| {
                RegistryError::NotFound(format!(
                    "procedure {procedure_code} has no rollout to roll back"
                ))
            })?;
        self.refresh_locked().await?;
        drop(guard);
        Ok(undone)
    }

    /// A unit admin enables or disables a procedure, chooses a local variant or goes
    /// back to the province default, or changes the unit's settings.
    pub async fn configure_unit(
        &self,
        unit: &str,
        procedure_code: &str,
        change: UnitChange,
        actor: &Actor,
        at: &str,
    ) -> Result<Binding> {
        let guard = self.changes.lock().await;
        let current = self.any_binding(unit, procedure_code);
        let default = self
            .image
            .read()
            .expect("registry lock")
            .defaults
            .get(procedure_code)
            .cloned();
        let mut next = match (&current, &default) {
            (Some(binding), _) => binding.clone(),
            (None, Some(sha)) => Binding {
                unit: unit.to_string(),
                procedure_code: procedure_code.to_string(),
                build_sha256: sha.clone(),
                settings_json: "{}".into(),
                enabled: true,
                source: "default".into(),
            },
            (None, None) => {
                return Err(RegistryError::NotFound(format!(
                    "procedure {procedure_code} is not rolled out to `{unit}`"
                )));
            }
        };
        match &change.variant {
            Some(Some(version)) => {
                let matches: Vec<Arc<PluginBuild>> = self
                    .image
                    .read()
                    .expect("registry lock")
                    .builds
                    .values()
                    .filter(|build| {
                        build.info.variant_of.as_deref() == Some(procedure_code)
                            && (build.info.plugin_version == *version
                                || build.sha256 == *version
                                || build.info.code == *version)
                    })
                    .cloned()
                    .collect();
                let variant = match matches.as_slice() {
                    [one] => one.clone(),
                    [] => {
                        return Err(RegistryError::NotFound(format!(
                            "no local variant `{version}` of procedure {procedure_code}"
                        )));
                    }
                    several => {
                        let names: Vec<String> =
                            several.iter().map(|build| build.label()).collect();
                        return Err(RegistryError::Invalid(format!(
                            "`{version}` names several variants ({}); choose one by its sha256",
                            names.join(", ")
                        )));
                    }
                };
                next.build_sha256 = variant.sha256.clone();
                next.source = "variant".into();
            }
            Some(None) => {
                let sha = default.clone().ok_or_else(|| {
                    RegistryError::Invalid(format!(
                        "procedure {procedure_code} has no province default to go back to"
                    ))
                })?;
                next.build_sha256 = sha;
                next.source = "default".into();
            }
            None => {}
        }
        if let Some(enabled) = change.enabled {
            next.enabled = enabled;
        }
        let build = self.build(&next.build_sha256).ok_or_else(|| {
            RegistryError::NotFound(format!("build {} is not loaded", next.build_sha256))
        })?;
        if let Some(settings) = &change.settings {
            next.settings_json = settings.to_string();
            let (cap, input_cap) = self.settings_cap();
            if next.settings_json.len() > cap {
                return Err(RegistryError::SettingsTooLarge {
                    size: next.settings_json.len(),
                    cap,
                    input_cap,
                });
            }
        }
        // When the settings or the build change, the settings must fit the schema of
        // the build the unit will run. Switching a procedure off never needs them to.
        let build_changed = current
            .as_ref()
            .is_none_or(|current| current.build_sha256 != next.build_sha256);
        if change.settings.is_some() || build_changed {
            let settings: Value = serde_json::from_str(&next.settings_json).unwrap_or(Value::Null);
            build
                .settings_check
                .check_settings(&settings)
                .map_err(RegistryError::InvalidSettings)?;
        }
        let event = RegistryEvent {
            at: at.to_string(),
            actor_id: actor.id.clone(),
            actor_role: actor.role.as_str().into(),
            action: "configure-unit".into(),
            procedure_code: Some(procedure_code.to_string()),
            unit: Some(unit.to_string()),
            before: current.as_ref().map(binding_json).unwrap_or(Value::Null),
            after: binding_json(&next),
        };
        self.store.set_binding(&next, &event).await?;
        self.refresh_locked().await?;
        drop(guard);
        Ok(next)
    }

    /// The most bytes a unit's settings of one procedure may hold, and the plugin input
    /// cap it derives from: a quarter of it, so that settings never crowd out the form
    /// and documents they travel with (docs/decisions/0014-accounts-and-authorisation.md).
    pub fn settings_cap(&self) -> (usize, usize) {
        let input_cap = self.runtime.limits().max_input_bytes;
        (input_cap / 4, input_cap)
    }

    /// Every stored build this host could not load, by plugin code and version.
    pub fn unavailable(&self) -> Vec<Unavailable> {
        let mut list: Vec<Unavailable> = self
            .image
            .read()
            .expect("registry lock")
            .unavailable
            .values()
            .cloned()
            .collect();
        list.sort_by(|a, b| (&a.code, &a.version).cmp(&(&b.code, &b.version)));
        list
    }

    pub fn build(&self, sha256: &str) -> Option<Arc<PluginBuild>> {
        self.image
            .read()
            .expect("registry lock")
            .builds
            .get(sha256)
            .cloned()
    }

    /// The province default build of a procedure.
    pub fn default_build(&self, procedure_code: &str) -> Option<String> {
        self.image
            .read()
            .expect("registry lock")
            .defaults
            .get(procedure_code)
            .cloned()
    }

    fn any_binding(&self, unit: &str, procedure_code: &str) -> Option<Binding> {
        self.image
            .read()
            .expect("registry lock")
            .bindings
            .get(&(unit.to_string(), procedure_code.to_string()))
            .cloned()
    }

    /// The enabled binding of a unit's procedure.
    pub fn binding(&self, unit: &str, procedure_code: &str) -> Option<Binding> {
        self.any_binding(unit, procedure_code)
            .filter(|binding| binding.enabled)
    }

    /// Settings of a unit's procedure ("{}" when it has no binding).
    pub fn settings(&self, unit: &str, procedure_code: &str) -> String {
        self.any_binding(unit, procedure_code)
            .map(|binding| binding.settings_json)
            .unwrap_or_else(|| "{}".to_string())
    }

    /// Every binding of a unit, enabled or not, by procedure code: what its admin
    /// configures (`offered` is what its citizens see).
    pub fn unit_bindings(&self, unit: &str) -> Vec<Binding> {
        let image = self.image.read().expect("registry lock");
        let mut bindings: Vec<Binding> = image
            .bindings
            .values()
            .filter(|binding| binding.unit == unit)
            .cloned()
            .collect();
        bindings.sort_by(|a, b| a.procedure_code.cmp(&b.procedure_code));
        bindings
    }

    /// The loaded local variants of a procedure (what `configure_unit` can switch a
    /// unit to), by code and version.
    pub fn variants(&self, procedure_code: &str) -> Vec<Arc<PluginBuild>> {
        let image = self.image.read().expect("registry lock");
        let mut variants: Vec<Arc<PluginBuild>> = image
            .builds
            .values()
            .filter(|build| build.info.variant_of.as_deref() == Some(procedure_code))
            .cloned()
            .collect();
        variants.sort_by(|a, b| {
            (&a.info.code, &a.info.plugin_version).cmp(&(&b.info.code, &b.info.plugin_version))
        });
        variants
    }

    /// What a unit offers: each enabled binding with its compiled build.
    pub fn offered(&self, unit: &str) -> Vec<(Binding, Arc<PluginBuild>)> {
        let image = self.image.read().expect("registry lock");
        let mut offered: Vec<_> = image
            .bindings
            .values()
            .filter(|binding| binding.unit == unit && binding.enabled)
            .filter_map(|binding| {
                image
                    .builds
                    .get(&binding.build_sha256)
                    .map(|build| (binding.clone(), build.clone()))
            })
            .collect();
        offered.sort_by(|a, b| a.0.procedure_code.cmp(&b.0.procedure_code));
        offered
    }

    /// What a unit's one-stop counter receives: what it offers itself, and, for a ward
    /// or commune, the province-level procedures its province's `departments` offer,
    /// which it receives for them (the dossier is handled by the department). A
    /// procedure the unit offers itself is listed once.
    pub fn receivable(
        &self,
        unit: &crate::store::Unit,
        departments: &[crate::store::Unit],
    ) -> Vec<Receivable> {
        let mut receivable: Vec<Receivable> = self
            .offered(&unit.code)
            .into_iter()
            .map(|(binding, build)| Receivable {
                binding,
                build,
                handled_by: None,
            })
            .collect();
        if unit.kind.handles() != Some(crate::domain::Level::Commune) {
            return receivable;
        }
        let departments = departments.iter().filter(|department| {
            department.kind == UnitKind::Department && department.parent == unit.parent
        });
        for department in departments {
            for (binding, build) in self.offered(&department.code) {
                let already = receivable
                    .iter()
                    .any(|listed| listed.binding.procedure_code == binding.procedure_code);
                if build.info.level == crate::domain::Level::Province && !already {
                    receivable.push(Receivable {
                        binding,
                        build,
                        handled_by: Some(department.code.clone()),
                    });
                }
            }
        }
        receivable.sort_by(|a, b| a.binding.procedure_code.cmp(&b.binding.procedure_code));
        receivable
    }
}

/// A procedure a unit's counter receives (see [`Registry::receivable`]).
#[derive(Clone)]
pub struct Receivable {
    /// The binding at the unit that handles it.
    pub binding: Binding,
    pub build: Arc<PluginBuild>,
    /// The unit that handles the dossier, when it is not the receiving unit.
    pub handled_by: Option<String>,
}

/// Sets a unit's cut-off hour (`HH:MM`; dossiers received later count from the next
/// working day), audited as `set-cutoff`; returns it as stored. The API's
/// `PUT /api/v1/units/{unit}/settings` and the console's unit page both call this.
pub async fn set_cutoff(
    store: &Store,
    unit: &str,
    cutoff: &str,
    actor: &Actor,
    at: &str,
) -> Result<String> {
    let parsed = chrono::NaiveTime::parse_from_str(cutoff, "%H:%M").map_err(|_| {
        RegistryError::Invalid(format!("cutoff `{cutoff}` is not a time like 15:00"))
    })?;
    let cutoff = parsed.format("%H:%M").to_string();
    let before = store
        .unit(unit)
        .await
        .map_err(RegistryError::Store)?
        .map(|u| u.cutoff);
    let event = RegistryEvent {
        at: at.to_string(),
        actor_id: actor.id.clone(),
        actor_role: actor.role.as_str().into(),
        action: "set-cutoff".into(),
        procedure_code: None,
        unit: Some(unit.to_string()),
        before: json!({ "cutoff": before }),
        after: json!({ "cutoff": cutoff }),
    };
    store
        .set_unit_cutoff(unit, &cutoff, &event)
        .await
        .map_err(RegistryError::Store)?;
    Ok(cutoff)
}

fn binding_json(binding: &Binding) -> Value {
    json!({
        "build": binding.build_sha256,
        "source": binding.source,
        "enabled": binding.enabled,
        "settings": serde_json::from_str::<Value>(&binding.settings_json).unwrap_or(Value::Null),
    })
}
