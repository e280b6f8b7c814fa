//! Every wasmtime setting motcua uses, in one place.
//!
//! A plugin call is: take a permit from the call semaphore, make a fresh `Store`,
//! instantiate from the pre-instantiated component (a pooling-allocator slot, so no
//! mmap on the hot path), run one export under an epoch deadline and a memory cap,
//! drop the store. Nothing survives between calls, so one dossier's call cannot leak
//! state into another's, and a plugin that misbehaves only costs its own call.

use std::time::Duration;

use wasmtime::{Config, Enabled, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

/// Sandbox limits applied to every plugin call.
#[derive(Clone, Debug)]
pub struct SandboxLimits {
    /// Largest linear memory a plugin instance may grow to. The plugins we ship need
    /// well under 4 MiB; a plugin that asks for more is stopped at this line.
    pub max_memory_bytes: usize,
    /// Native stack a plugin may use before it traps with a stack overflow.
    pub max_wasm_stack_bytes: usize,
    /// How often the epoch ticker advances the engine's epoch.
    pub epoch_tick: Duration,
    /// Ticks a single call may run before it is interrupted. The CPU budget per call
    /// is therefore `epoch_tick * call_deadline_ticks`, give or take one tick.
    pub call_deadline_ticks: u64,
    /// Cap on the bytes handed to a plugin in one call (form, payload, documents).
    pub max_input_bytes: usize,
    /// Cap on the bytes the host copies out of a plugin in one call (its answer, or
    /// the arguments of one import call), enforced while the answer is lifted.
    pub max_output_bytes: usize,
    /// Instances that may be alive at once; also the size of the pooling allocator's
    /// slot pool. Callers beyond this wait (back-pressure) up to `queue_timeout`.
    pub max_concurrent_calls: usize,
    /// How long a call waits for a free instance slot before it is refused as busy.
    pub queue_timeout: Duration,
    /// Bytes of a released slot's linear memory kept mapped for the next instance.
    pub keep_resident_bytes: usize,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            max_memory_bytes: 32 << 20,
            max_wasm_stack_bytes: 512 << 10,
            epoch_tick: Duration::from_millis(5),
            call_deadline_ticks: 20,
            max_input_bytes: 1 << 20,
            max_output_bytes: 1 << 20,
            max_concurrent_calls: 64,
            queue_timeout: Duration::from_secs(5),
            keep_resident_bytes: 2 << 20,
        }
    }
}

impl SandboxLimits {
    /// The CPU budget of one call.
    pub fn call_budget(&self) -> Duration {
        self.epoch_tick * u32::try_from(self.call_deadline_ticks).unwrap_or(u32::MAX)
    }
}

/// Builds the engine configuration for the given limits.
pub fn engine_config(limits: &SandboxLimits) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Epoch interruption costs a load and compare at loop heads and function entries,
    // far cheaper than fuel; the ticker thread in `runtime` advances the epoch.
    config.epoch_interruption(true);
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
