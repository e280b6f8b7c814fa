//! The plugin runtime: the only part of motcua that knows wasmtime.
//!
//! `Runtime::load` compiles a component once, checks that it links against exactly
//! the imports the contract grants, and asks it to `describe` itself. Every later
//! call takes an instance slot ([`slots`]: a bulkhead per unit and per build, waiters
//! served round-robin between units), then instantiates a fresh instance from the kept
//! linked build (of its contract version, [`contract`]) in a fresh `Store` with the
//! limits of [`engine::SandboxLimits`] and a CPU-time budget ([`budget`]).

pub mod budget;
pub mod cache;
pub mod contract;
pub mod engine;
pub mod slots;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Engine, ResourceLimiter, Store, Trap};

pub use self::cache::{ArtifactCache, CacheOutcome};
use self::contract::{Contract, Instance, Linkers, Pre};
pub use self::engine::{BudgetClock, SandboxLimits};
use self::slots::{Caps, Slots};
pub use self::slots::{Saturation, SlotPermit};
use crate::calendar::Calendar;
use crate::domain::{
    Command, Decision, DossierSnapshot, Finding, ProcedureInfo, Refusal, Submission,
};

/// Why a plugin call or load failed. Every variant names the plugin build.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("plugin {plugin} ran past its CPU budget of {budget_ms} ms and was stopped")]
    Timeout { plugin: String, budget_ms: u128 },
    #[error(
        "plugin {plugin} tried to grow its memory past the {cap_bytes}-byte cap and was stopped"
    )]
    MemoryExceeded { plugin: String, cap_bytes: usize },
    #[error("plugin {plugin} trapped: {message}")]
    Trapped { plugin: String, message: String },
    #[error("plugin {plugin} gave a malformed answer: {message}")]
    Malformed { plugin: String, message: String },
    #[error("the input for plugin {plugin} is {size} bytes, over the {cap}-byte cap")]
    InputTooLarge {
        plugin: String,
        size: usize,
        cap: usize,
    },
    #[error("plugin {plugin} answered with more than the {cap}-byte cap allows")]
    OutputTooLarge { plugin: String, cap: usize },
    /// Not the plugin's fault: the unit, the build or the host had no room for the
    /// call in time (or the host was too loaded to give it CPU).
    #[error("{saturated}")]
    Busy { saturated: Saturation },
    #[error("not a usable procedure component: {0}")]
    InvalidComponent(String),
}

/// Per-call store data: what the imports may see, and the resource accounting.
pub struct PluginCtx {
    plugin: String,
    settings_json: String,
    calendar: Arc<Calendar>,
    memory_cap: usize,
    memory_exceeded: bool,
    log_budget: u32,
    /// The budget armed for this call, and why it stopped the call (if it did).
    budget: std::time::Duration,
    stopped: Option<budget::Stopped>,
}

impl ResourceLimiter for PluginCtx {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            self.memory_exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

impl PluginCtx {
    /// A plugin's log line. A plugin cannot flood the host's logs: a few lines per
    /// call, each bounded.
    fn log_line(&mut self, level: tracing::Level, message: &str) {
        if self.log_budget == 0 {
            return;
        }
        self.log_budget -= 1;
        let message: String = message.chars().take(1024).collect();
        let plugin = self.plugin.as_str();
        match level {
            tracing::Level::ERROR => tracing::error!(target: "motcua::plugin", plugin, "{message}"),
            tracing::Level::WARN => tracing::warn!(target: "motcua::plugin", plugin, "{message}"),
            tracing::Level::INFO => tracing::info!(target: "motcua::plugin", plugin, "{message}"),
            _ => tracing::debug!(target: "motcua::plugin", plugin, "{message}"),
        }
    }

    /// The calling unit's settings, as `settings.get` returns them.
    fn settings_json(&self) -> &str {
        &self.settings_json
    }

    /// The calendar in force for this call.
    fn calendar(&self) -> &Calendar {
        &self.calendar
    }
}

/// One compiled plugin build, ready to instantiate.
pub struct PluginBuild {
    pub sha256: String,
    pub size: usize,
    pub info: ProcedureInfo,
    /// `info.form_schema`, compiled: what a filing's form must fit.
    pub form_check: crate::schema::Compiled,
    /// `info.settings_schema`, compiled: what a unit's settings must fit.
    pub settings_check: crate::schema::Compiled,
    pre: Pre,
}

impl PluginBuild {
    /// "birth-registration 1.0.0 (sha256 1a2b3c4d)": how errors and logs name the build.
    pub fn label(&self) -> String {
        label(&self.info.code, &self.info.plugin_version, &self.sha256)
    }

    /// The contract version the build was written against.
    pub fn contract(&self) -> Contract {
        self.pre.contract()
    }
}

fn label(code: &str, version: &str, sha256: &str) -> String {
    format!("{code}@{version} ({})", &sha256[..12.min(sha256.len())])
}

/// Holds the engine, the linkers with each contract version's imports, and the call
/// limits.
pub struct Runtime {
    engine: Engine,
    linkers: Linkers,
    limits: SandboxLimits,
    /// The working-day calendar plugins see; replaced as a whole when the province
    /// loads a holiday table, so a call always sees one consistent calendar.
    calendar: std::sync::RwLock<Arc<Calendar>>,
    slots: Arc<Slots>,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Runtime {
    pub fn new(limits: SandboxLimits, calendar: Arc<Calendar>) -> Result<Runtime, RuntimeError> {
        let engine = Engine::new(&engine::engine_config(&limits)).map_err(|error| {
            RuntimeError::InvalidComponent(format!("engine configuration rejected: {error:#}"))
        })?;
        let linkers = Linkers::new(&engine).map_err(|error| {
            RuntimeError::InvalidComponent(format!("linking the contract failed: {error:#}"))
        })?;

        // The epoch ticker: one thread per runtime, stopped when the runtime is dropped.
        let ticker_stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = ticker_stop.clone();
            let tick = limits.epoch_tick;
            std::thread::Builder::new()
                .name("motcua-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })
                .map_err(|error| {
                    RuntimeError::InvalidComponent(format!(
                        "cannot start the epoch ticker: {error}"
                    ))
                })?;
        }
        let slots = Slots::new(Caps {
            total: limits.max_concurrent_calls,
            per_unit: limits.max_calls_per_unit,
            per_build: limits.max_calls_per_build,
        });
        Ok(Runtime {
            engine,
            linkers,
            limits,
            calendar: std::sync::RwLock::new(calendar),
            slots,
            ticker_stop,
        })
    }

    /// Waits for a free instance slot for loading a build (its `describe`), in the
    /// loading lane: served in turn with the units, exempt from their caps.
    pub async fn acquire_slot(&self) -> Result<SlotPermit, RuntimeError> {
        self.slots
            .acquire(slots::LOADING, slots::LOADING, self.limits.queue_timeout)
            .await
            .map_err(|saturated| RuntimeError::Busy { saturated })
    }

    /// Plugin calls running now: on the whole host, and for `unit`.
    pub fn running_calls(&self, unit: &str) -> (usize, usize) {
        self.slots.running(unit)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn limits(&self) -> &SandboxLimits {
        &self.limits
    }

    /// The calendar in force now.
    pub fn calendar(&self) -> Arc<Calendar> {
        self.calendar.read().expect("calendar lock").clone()
    }

    /// Puts a new calendar in force for every call that starts from now on.
    pub fn set_calendar(&self, calendar: Arc<Calendar>) {
        *self.calendar.write().expect("calendar lock") = calendar;
    }

    /// Compiles a component, links it against the contract and asks it to describe
    /// itself. Nothing is kept if any step fails.
    pub fn load(&self, bytes: &[u8]) -> Result<PluginBuild, RuntimeError> {
        self.load_with(bytes, None).map(|(build, _)| build)
    }

    /// Like [`Runtime::load`], taking the compiled form from `cache` when it holds a
    /// valid entry (and filling it when it does not).
    pub fn load_with(
        &self,
        bytes: &[u8],
        cache: Option<&ArtifactCache>,
    ) -> Result<(PluginBuild, CacheOutcome), RuntimeError> {
        let sha256 = sha256_hex(bytes);
        if is_core_module(bytes) {
            return Err(RuntimeError::InvalidComponent(
                "this is a core WebAssembly module, not a component; wrap it with wit-component"
                    .into(),
            ));
        }
        let compile = || {
            Component::new(&self.engine, bytes).map_err(|error| {
                RuntimeError::InvalidComponent(format!("not a valid component: {error:#}"))
            })
        };
        let (component, outcome) = match cache.map(|cache| cache.lookup(&self.engine, &sha256)) {
            Some(cache::Lookup::Hit(component)) => (component, CacheOutcome::Hit),
            Some(cache::Lookup::Missing) => (compile()?, CacheOutcome::Miss),
            Some(cache::Lookup::Bad) => (compile()?, CacheOutcome::Rebuilt),
            None => (compile()?, CacheOutcome::Disabled),
        };
        let contract = self.check_imports(&component)?;
        let pre = self
            .linkers
            .prepare(contract, &component)
            .map_err(RuntimeError::InvalidComponent)?;
        let provisional = label("?", "?", &sha256);
        let info = call_in_sandbox(
            &pre,
            &self.limits,
            self.limits.describe_budget,
            &self.calendar(),
            &provisional,
            "{}".into(),
            |procedure, store| procedure.describe(store),
        )?
        .map_err(|error| RuntimeError::Malformed {
            plugin: provisional.clone(),
            message: error.0,
        })?;
        info.validate().map_err(|message| RuntimeError::Malformed {
            plugin: provisional.clone(),
            message,
        })?;
        let compile_schema = |what: &str, schema: &serde_json::Value| {
            crate::schema::Compiled::new(schema).map_err(|error| RuntimeError::Malformed {
                plugin: provisional.clone(),
                message: format!("{what} is not a JSON Schema: {error}"),
            })
        };
        let form_check = compile_schema("form-schema", &info.form_schema)?;
        let settings_check = compile_schema("settings-schema", &info.settings_schema)?;
        // Only a build that passed every check is worth caching.
        if let (Some(cache), CacheOutcome::Miss | CacheOutcome::Rebuilt) = (cache, outcome) {
            cache.store(&self.engine, &sha256, &component);
        }
        Ok((
            PluginBuild {
                sha256,
                size: bytes.len(),
                info,
                form_check,
                settings_check,
                pre,
            },
            outcome,
        ))
    }

    /// The contract version the component targets, after naming the first import that
    /// version does not grant (or a version this host does not implement), before
    /// linking gives a less precise error. A component that imports none of the
    /// contract's interfaces is taken as the newest version.
    fn check_imports(&self, component: &Component) -> Result<Contract, RuntimeError> {
        let contract = match Contract::of(&self.engine, component) {
            None => Contract::V0_2,
            Some(Ok(contract)) => contract,
            Some(Err(version)) => {
                return Err(RuntimeError::InvalidComponent(format!(
                    "the component targets motcua:procedure@{version}, and this host implements {}",
                    Contract::supported()
                )));
            }
        };
        let granted = contract.granted_imports();
        for (name, _) in component.component_type().imports(&self.engine) {
            if granted.iter().any(|import| import == name) {
                continue;
            }
            if name.starts_with("motcua:procedure/") {
                return Err(RuntimeError::InvalidComponent(format!(
                    "the component imports `{name}` alongside {}: one component targets one contract version",
                    contract.package()
                )));
            }
            return Err(RuntimeError::InvalidComponent(format!(
                "the component imports `{name}`, which the contract {} does not grant \
                 (plugins get only log, settings and calendar)",
                contract.package()
            )));
        }
        Ok(contract)
    }

    /// Calls running now, in all units (for the metrics).
    pub fn calls_running(&self) -> usize {
        self.slots.running("").0
    }

    /// Runs `check` on a submission, in the slots of its handling unit.
    pub async fn check(
        &self,
        build: &Arc<PluginBuild>,
        settings_json: String,
        submission: &Submission,
    ) -> Result<Vec<Finding>, RuntimeError> {
        let (input, size) = build.contract().check_input(submission);
        self.guard_input(build, size + settings_json.len())?;
        self.run(
            build,
            &submission.handling_unit,
            settings_json,
            move |procedure, store| procedure.check(store, &input),
        )
        .await
    }

    /// Runs `decide` on a dossier snapshot and a command, in the slots of the dossier's
    /// handling unit.
    pub async fn decide(
        &self,
        build: &Arc<PluginBuild>,
        settings_json: String,
        dossier: &DossierSnapshot,
        command: &Command,
    ) -> Result<Result<Decision, Refusal>, RuntimeError> {
        let (input, size) = build.contract().decide_input(dossier, command);
        self.guard_input(build, size + settings_json.len())?;
        let answer = self
            .run(
                build,
                &dossier.handling_unit,
                settings_json,
                move |procedure, store| procedure.decide(store, &input),
            )
            .await?;
        self.finish_decide(build, answer)
    }

    /// `decide` on the calling thread, without taking a slot: for benchmarks and
    /// offline tools that own the whole runtime.
    pub fn decide_blocking(
        &self,
        build: &PluginBuild,
        settings_json: String,
        dossier: &DossierSnapshot,
        command: &Command,
    ) -> Result<Result<Decision, Refusal>, RuntimeError> {
        let (input, _) = build.contract().decide_input(dossier, command);
        let answer = call_in_sandbox(
            &build.pre,
            &self.limits,
            self.limits.call_budget(),
            &self.calendar(),
            &build.label(),
            settings_json,
            |procedure, store| procedure.decide(store, &input),
        )?;
        self.finish_decide(build, answer)
    }

    fn finish_decide(
        &self,
        build: &PluginBuild,
        answer: Result<Result<Decision, Refusal>, contract::Malformed>,
    ) -> Result<Result<Decision, Refusal>, RuntimeError> {
        answer.map_err(|error| RuntimeError::Malformed {
            plugin: build.label(),
            message: error.0,
        })
    }

    fn guard_input(&self, build: &PluginBuild, size: usize) -> Result<(), RuntimeError> {
        if size > self.limits.max_input_bytes {
            return Err(RuntimeError::InputTooLarge {
                plugin: build.label(),
                size,
                cap: self.limits.max_input_bytes,
            });
        }
        Ok(())
    }

    /// Waits for the unit's turn at a free instance slot (back-pressure, fair between
    /// units), then runs the call on the blocking pool so a plugin that burns its whole
    /// budget never stalls the reactor.
    async fn run<R, F>(
        &self,
        build: &Arc<PluginBuild>,
        unit: &str,
        settings_json: String,
        call: F,
    ) -> Result<R, RuntimeError>
    where
        R: Send + 'static,
        F: FnOnce(&Instance, &mut Store<PluginCtx>) -> wasmtime::Result<R> + Send + 'static,
    {
        let permit = self
            .slots
            .acquire(unit, &build.label(), self.limits.queue_timeout)
            .await
            .map_err(|saturated| RuntimeError::Busy { saturated })?;
        let build = build.clone();
        let label = build.label();
        let limits = self.limits.clone();
        let calendar = self.calendar();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            call_in_sandbox(
                &build.pre,
                &limits,
                limits.call_budget(),
                &calendar,
                &build.label(),
                settings_json,
                call,
            )
        })
        .await
        .map_err(|error| RuntimeError::Trapped {
            plugin: label,
            message: format!("call task failed: {error}"),
        })?
    }
}

/// An instance kept alive across calls. The server never does this (every call gets
/// a fresh instance, so no state leaks between dossiers); benchmarks use it as the
/// baseline that isolates the cost of instantiation.
pub struct LiveInstance {
    store: Store<PluginCtx>,
    procedure: Instance,
    limits: SandboxLimits,
}

impl LiveInstance {
    pub fn new(
        runtime: &Runtime,
        build: &PluginBuild,
        settings_json: String,
    ) -> Result<LiveInstance, RuntimeError> {
        let mut store = new_store(
            &build.pre,
            &runtime.limits,
            runtime.limits.call_budget(),
            &runtime.calendar(),
            &build.label(),
            settings_json,
        );
        let procedure = build
            .pre
            .instantiate(&mut store)
            .map_err(|error| classify(error, store.data(), &runtime.limits, &build.label()))?;
        Ok(LiveInstance {
            store,
            procedure,
            limits: runtime.limits.clone(),
        })
    }

    pub fn decide(
        &mut self,
        dossier: &DossierSnapshot,
        command: &Command,
    ) -> Result<bool, RuntimeError> {
        let (input, _) = self.procedure.contract().decide_input(dossier, command);
        budget::arm(&mut self.store, &self.limits, self.limits.call_budget());
        let answer = self
            .procedure
            .decide(&mut self.store, &input)
            .map_err(|error| RuntimeError::Trapped {
                plugin: self.store.data().plugin.clone(),
                message: format!("{error:#}"),
            })?;
        Ok(matches!(answer, Ok(Ok(_))))
    }
}

/// A core module starts with the same magic as a component but a different layer
/// field; telling them apart gives the publisher a precise error.
fn is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[6..8] == [0, 0]
}

fn new_store(
    pre: &Pre,
    limits: &SandboxLimits,
    budget: std::time::Duration,
    calendar: &Arc<Calendar>,
    plugin: &str,
    settings_json: String,
) -> Store<PluginCtx> {
    let ctx = PluginCtx {
        plugin: plugin.to_string(),
        settings_json,
        calendar: calendar.clone(),
        memory_cap: limits.max_memory_bytes,
        memory_exceeded: false,
        log_budget: 32,
        budget,
        stopped: None,
    };
    let mut store = Store::new(pre.engine(), ctx);
    store.limiter(|ctx| ctx);
    // Every byte a plugin's answer (or an import's arguments) makes the host copy is
    // counted against this while it is lifted, so a list whose items all point at one
    // large string cannot make the host allocate more than the cap.
    store.set_hostcall_fuel(limits.max_output_bytes);
    budget::arm(&mut store, limits, budget);
    store
}

/// One call: fresh store, fresh instance, one export, classified errors.
fn call_in_sandbox<R>(
    pre: &Pre,
    limits: &SandboxLimits,
    budget: std::time::Duration,
    calendar: &Arc<Calendar>,
    plugin: &str,
    settings_json: String,
    call: impl FnOnce(&Instance, &mut Store<PluginCtx>) -> wasmtime::Result<R>,
) -> Result<R, RuntimeError> {
    let mut store = new_store(pre, limits, budget, calendar, plugin, settings_json);
    let outcome = pre
        .instantiate(&mut store)
        .and_then(|procedure| call(&procedure, &mut store));
    outcome.map_err(|error| classify(error, store.data(), limits, plugin))
}

fn classify(
    error: wasmtime::Error,
    ctx: &PluginCtx,
    limits: &SandboxLimits,
    plugin: &str,
) -> RuntimeError {
    let plugin = plugin.to_string();
    if ctx.memory_exceeded {
        return RuntimeError::MemoryExceeded {
            plugin,
            cap_bytes: limits.max_memory_bytes,
        };
    }
    // Wasmtime reports an exhausted copy budget with an error type of its own that it
    // does not export; its message is the only handle on it.
    if format!("{error:#}").contains("fuel allocated for hostcalls has been exhausted") {
        return RuntimeError::OutputTooLarge {
            plugin,
            cap: limits.max_output_bytes,
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt | Trap::OutOfFuel) => match ctx.stopped {
            // Stopped at the wall-clock ceiling well within its CPU budget: the host's
            // load, not the plugin, is to blame.
            Some(budget::Stopped::WallCeiling { cpu, wall }) => RuntimeError::Busy {
                saturated: Saturation::Starved {
                    plugin,
                    cpu_ms: cpu.map_or(0, |cpu| cpu.as_millis()),
                    wall_ms: wall.as_millis(),
                },
            },
            Some(budget::Stopped::Budget) | None => RuntimeError::Timeout {
                plugin,
                budget_ms: ctx.budget.as_millis(),
            },
        },
        Some(trap) => RuntimeError::Trapped {
            plugin,
            message: trap.to_string(),
        },
        None => RuntimeError::Trapped {
            plugin,
            message: format!("{error:#}"),
        },
    }
}
