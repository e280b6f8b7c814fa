//! Every wasmtime setting motcua uses, in one place.
//!
//! A plugin call is: take a slot (`slots`: a bulkhead per unit and per build, waiters
//! served round-robin between units), make a fresh `Store`, instantiate from the
//! pre-instantiated component (a pooling-allocator slot, so no mmap on the hot path),
//! run one export under a CPU-time budget (`budget`) and a memory cap, drop the store. Nothing survives between calls, so one dossier's call cannot leak
//! state into another's, and a plugin that misbehaves only costs its own call.

use std::time::Duration;

use wasmtime::{Config, Enabled, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

/// What a call's budget counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetClock {
    /// CPU time the call's thread used (`CLOCK_THREAD_CPUTIME_ID`), read by an epoch
    /// deadline callback on every tick: waiting for a core costs a call nothing. The
    /// default (docs/decisions/0013-fair-sharing.md).
    ThreadCpu,
    /// Wall-clock time since the call started: the epoch deadline alone, as motcua did
    /// before 0013. A call that waits for a core on a busy host runs out of budget.
    Wall,
    /// Wasmtime fuel (one unit per WebAssembly operation, roughly), this many units per
    /// millisecond of budget: deterministic, but every basic block pays to count it.
    Fuel { units_per_ms: u64 },
}

/// Sandbox limits applied to every plugin call.
#[derive(Clone, Debug)]
pub struct SandboxLimits {
    /// Largest linear memory a plugin instance may grow to. The plugins we ship need
    /// well under 4 MiB; a plugin that asks for more is stopped at this line.
    pub max_memory_bytes: usize,
    /// Native stack a plugin may use before it traps with a stack overflow.
    pub max_wasm_stack_bytes: usize,
    /// How often the epoch ticker advances the engine's epoch: how often a running
    /// call's CPU clock is read.
    pub epoch_tick: Duration,
    /// The budget of one call is `epoch_tick * call_deadline_ticks` (100 ms), counted on
    /// `budget_clock`.
    pub call_deadline_ticks: u64,
    /// What the budget counts: the call's own CPU time by default.
    pub budget_clock: BudgetClock,
    /// The CPU budget of `describe` when a build is loaded (publish, start-up, refresh).
    /// Larger than a call's: it runs once per build and host, off the request path,
    /// right after compilation, when a fresh instance's first page faults are dearest.
    pub describe_budget: Duration,
    /// However little CPU a call has used, it is stopped after this much wall-clock
    /// time, so no call can hang: 50 call budgets, reached only when a call gets under
    /// 2% of a core (a host that overloaded is refused as busy, not blamed on the plugin).
    pub wall_ceiling: Duration,
    /// Cap on the bytes handed to a plugin in one call (form, payload, documents).
    pub max_input_bytes: usize,
    /// Cap on the bytes the host copies out of a plugin in one call (its answer, or
    /// the arguments of one import call), enforced while the answer is lifted.
    pub max_output_bytes: usize,
    /// Instances that may be alive at once; also the size of the pooling allocator's
    /// slot pool. Callers beyond this wait (back-pressure) up to `queue_timeout`.
    pub max_concurrent_calls: usize,
    /// Calls one unit may have running at once (a bulkhead): by default half the host's
    /// cores, at least one, so one unit's load always leaves cores to the others.
    pub max_calls_per_unit: usize,
    /// Calls one plugin build may have running at once, across every unit that uses it:
    /// by default half the host's cores, at least one.
    pub max_calls_per_build: usize,
    /// How long a call waits for a free instance slot before it is refused as busy.
    /// Waiting calls are served round-robin between units, in order within a unit.
    pub queue_timeout: Duration,
    /// Bytes of a released slot's linear memory kept mapped for the next instance.
    pub keep_resident_bytes: usize,
}

/// Half the host's cores, at least one: how many calls one unit or one build may run.
pub fn half_the_cores() -> usize {
    std::thread::available_parallelism()
        .map(|cores| cores.get() / 2)
        .unwrap_or(1)
        .max(1)
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            max_memory_bytes: 32 << 20,
            max_wasm_stack_bytes: 512 << 10,
            epoch_tick: Duration::from_millis(5),
            call_deadline_ticks: 20,
            budget_clock: BudgetClock::ThreadCpu,
            describe_budget: Duration::from_millis(500),
            wall_ceiling: Duration::from_secs(5),
            max_input_bytes: 1 << 20,
            max_output_bytes: 1 << 20,
            max_concurrent_calls: 64,
            max_calls_per_unit: half_the_cores(),
            max_calls_per_build: half_the_cores(),
            queue_timeout: Duration::from_secs(5),
            keep_resident_bytes: 2 << 20,
        }
    }
}

impl SandboxLimits {
    /// The budget of one call, counted on `budget_clock`.
    pub fn call_budget(&self) -> Duration {
        self.epoch_tick * u32::try_from(self.call_deadline_ticks).unwrap_or(u32::MAX)
    }

    /// The limits motcua had before fair sharing: a wall-clock budget and one pool of
    /// slots served first come, first served, with no cap per unit or build. Kept to
    /// measure against (host/benches/fairness.rs) and for hosts that need it back.
    pub fn shared_pool_wall_clock() -> SandboxLimits {
        let defaults = SandboxLimits::default();
        SandboxLimits {
            budget_clock: BudgetClock::Wall,
            describe_budget: defaults.call_budget(),
            max_calls_per_unit: defaults.max_concurrent_calls,
            max_calls_per_build: defaults.max_concurrent_calls,
            ..defaults
        }
    }
}

/// Builds the engine configuration for the given limits.
pub fn engine_config(limits: &SandboxLimits) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Epoch interruption costs a load and compare at loop heads and function entries,
    // far cheaper than fuel; the ticker thread in `runtime` advances the epoch, and on
    // each tick a running call's deadline callback reads its thread's CPU clock.
    config.epoch_interruption(true);
    // Fuel is only compiled in when it is the budget: it instruments every basic block.
    if let BudgetClock::Fuel { .. } = limits.budget_clock {
        config.consume_fuel(true);
    }
    config.max_wasm_stack(limits.max_wasm_stack_bytes);
    config.cranelift_opt_level(OptLevel::Speed);
    // Plugins are compiled once per build, never on a request; parallel compilation
    // makes publishing and start-up faster on a multi-core host.
    config.parallel_compilation(true);
    // Backtraces with names are worth their small cost: a trap message names the
    // function that failed, which the plugin's author needs.
    config.wasm_backtrace_max_frames(std::num::NonZeroUsize::new(16));

    let slots = u32::try_from(limits.max_concurrent_calls).unwrap_or(u32::MAX);
    let mut pooling = PoolingAllocationConfig::default();
    // One component instance per call; a component made by wit-component holds the
    // plugin's core module plus a few small adapter modules.
    pooling.total_component_instances(slots);
    pooling.total_core_instances(slots * 8);
    pooling.max_core_instances_per_component(8);
    pooling.total_memories(slots);
    pooling.max_memories_per_component(1);
    pooling.total_tables(slots * 2);
    pooling.max_tables_per_component(2);
    pooling.table_elements(10_000);
    pooling.max_memory_size(limits.max_memory_bytes);
    // A fresh instance's cost is mostly page faults: every page a call touches (the
    // shadow stack at the bottom of memory, the data segment, the heap above them)
    // faults in again if the slot was decommitted. Keeping the first MiBs of a slot
    // resident covers what a procedure plugin touches; with PAGEMAP_SCAN (Linux 6.7+)
    // only the pages a call dirtied are reset, instead of a memset of the whole region.
    pooling.linear_memory_keep_resident(limits.keep_resident_bytes);
    pooling.table_keep_resident(64 << 10);
    pooling.pagemap_scan(Enabled::Auto);
    // Returning slots in batches amortises the decommit system call across releases.
    pooling.decommit_batch_size((limits.max_concurrent_calls / 4).clamp(1, 16));
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    // Copy-on-write images of the module's initial memory make instantiation a matter
    // of mapping, not copying.
    config.memory_init_cow(true);
    config
}
