//! A call's budget: arming it on a fresh store, and telling why a call was stopped.
//!
//! With [`BudgetClock::ThreadCpu`] (the default) the store's epoch deadline is one tick
//! away, and on every tick the deadline callback reads the CPU clock of the thread the
//! call runs on (`CLOCK_THREAD_CPUTIME_ID`, through rustix's safe wrapper). Under
//! budget, the call continues for another tick; over it, the call is interrupted and
//! blamed on the plugin. Time spent waiting for a core is not on that clock, so a call
//! on a busy host is never stopped for the host's load. A wall-clock ceiling, checked
//! in the same callback, still stops any call that lives too long; that is reported as
//! the host being overloaded, not as the plugin's fault.

use std::time::{Duration, Instant};

use rustix::time::{ClockId, clock_gettime};
use wasmtime::{Store, UpdateDeadline};

use super::PluginCtx;
use super::engine::{BudgetClock, SandboxLimits};

/// Why the budget stopped a call, as the deadline callback saw it.
#[derive(Clone, Copy, Debug)]
pub enum Stopped {
    /// The call used its whole budget.
    Budget,
    /// The call reached the wall-clock ceiling, having used this much CPU (unknown
    /// under fuel) — less than its budget.
    WallCeiling {
        cpu: Option<Duration>,
        wall: Duration,
    },
}

/// CPU time the calling thread has used since it started.
pub fn thread_cpu_time() -> Duration {
    let now = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// Epoch ticks covering `span` (at least one).
fn ticks(limits: &SandboxLimits, span: Duration) -> u64 {
    let tick = limits.epoch_tick.as_nanos().max(1);
    u64::try_from(span.as_nanos().div_ceil(tick))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Arms `budget` on a store about to make one call, on the thread that will run it.
pub(super) fn arm(store: &mut Store<PluginCtx>, limits: &SandboxLimits, budget: Duration) {
    store.data_mut().budget = budget;
    store.data_mut().stopped = None;
    match limits.budget_clock {
        BudgetClock::Wall => {
            store.set_epoch_deadline(ticks(limits, budget));
            store.epoch_deadline_trap();
        }
        BudgetClock::ThreadCpu => {
            let (cpu_start, wall_start) = (thread_cpu_time(), Instant::now());
            let ceiling = limits.wall_ceiling;
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(move |mut ctx| {
                let cpu = thread_cpu_time().saturating_sub(cpu_start);
                let wall = wall_start.elapsed();
                let stopped = if cpu >= budget {
                    Stopped::Budget
                } else if wall >= ceiling {
                    Stopped::WallCeiling {
                        cpu: Some(cpu),
                        wall,
                    }
                } else {
                    return Ok(UpdateDeadline::Continue(1));
                };
                ctx.data_mut().stopped = Some(stopped);
                Ok(UpdateDeadline::Interrupt)
            });
        }
        BudgetClock::Fuel { units_per_ms } => {
            let fuel = units_per_ms.saturating_mul(u64::try_from(budget.as_millis()).unwrap_or(0));
            // Fuel is enabled in the engine whenever it is the budget clock.
            store
                .set_fuel(fuel)
                .expect("fuel is enabled by engine_config");
            let wall_start = Instant::now();
            store.set_epoch_deadline(ticks(limits, limits.wall_ceiling));
            store.epoch_deadline_callback(move |mut ctx| {
                ctx.data_mut().stopped = Some(Stopped::WallCeiling {
                    cpu: None,
                    wall: wall_start.elapsed(),
                });
                Ok(UpdateDeadline::Interrupt)
            });
        }
    }
}
