//! Instance slots shared fairly between units and plugin builds.
//!
//! Every plugin call takes a slot first. A call runs at once when a slot is free, its
//! unit runs fewer than `max_calls_per_unit` calls, its build fewer than
//! `max_calls_per_build`, and no earlier call of its unit is waiting. Otherwise it
//! queues behind its own unit's calls. When a call ends, the freed slot goes to the
//! next unit in turn (round-robin between units with waiting calls, in order within a
//! unit), skipping any unit or build at its cap. So a unit that sends a hundred calls
//! fills its own queue, not everyone's, and a unit with one call waits at most one turn
//! per other busy unit.
//!
//! A waiting call's `Waiting` holds its oneshot receiver until it settles; granting
//! pops the waiter, counts the slot as taken and sends, all under the one lock. Giving
//! up (timeout, or the request dropped) takes the same lock and first looks for a grant
//! on the receiver it still holds: found, the call owns the slot (or hands it back);
//! not found, the waiter is still queued and leaves. So a slot is never lost nor counted
//! twice between a grant and a waiter that gives up.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::oneshot;

/// The lane `describe` runs in when a build is loaded: fair-queued like a unit, exempt
/// from the unit and build caps (a load is one call per build, once per host).
pub const LOADING: &str = "(loading)";

/// What was saturated when a call was refused as busy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Saturation {
    /// The unit runs all the calls one unit may, and this call's turn did not come.
    Unit { unit: String, running: usize },
    /// The plugin build runs all the calls one build may, across its units.
    Build { build: String, running: usize },
    /// Every instance slot of the host is taken.
    Host { slots: usize },
    /// The call got so little CPU that it reached the wall-clock ceiling well within
    /// its CPU budget: the host is overloaded; the plugin did nothing wrong.
    Starved {
        plugin: String,
        cpu_ms: u128,
        wall_ms: u128,
    },
}

impl std::fmt::Display for Saturation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Saturation::Unit { unit, running } => write!(
                f,
                "unit `{unit}` already runs {running} plugin calls, the most one unit may at once, \
                 and this call's turn did not come in time; try again shortly"
            ),
            Saturation::Build { build, running } => write!(
                f,
                "plugin build {build} already runs {running} calls, the most one build may at once, \
                 and this call's turn did not come in time; try again shortly"
            ),
            Saturation::Host { slots } => write!(
                f,
                "all {slots} plugin instance slots of this host are busy; try again shortly"
            ),
            Saturation::Starved {
                plugin,
                cpu_ms,
                wall_ms,
            } => write!(
                f,
                "the host is overloaded: the call to plugin {plugin} got only {cpu_ms} ms of CPU \
                 in {wall_ms} ms and was stopped (the plugin itself is within its budget); \
                 try again shortly"
            ),
        }
    }
}

/// The caps: total slots, calls per unit, calls per build.
#[derive(Clone, Copy, Debug)]
pub struct Caps {
    pub total: usize,
    pub per_unit: usize,
    pub per_build: usize,
}

pub struct Slots {
    caps: Caps,
    state: Mutex<State>,
}

struct Waiter {
    id: u64,
    build: Arc<str>,
    grant: oneshot::Sender<()>,
}

#[derive(Default)]
struct State {
    running: usize,
    per_unit: HashMap<Arc<str>, usize>,
    per_build: HashMap<Arc<str>, usize>,
    queues: HashMap<Arc<str>, VecDeque<Waiter>>,
    /// Units with waiting calls, in the order their turns come.
    turns: VecDeque<Arc<str>>,
    next_id: u64,
}

/// A taken slot; dropping it frees the slot and hands it to the next waiter in turn.
pub struct SlotPermit {
    slots: Arc<Slots>,
    unit: Arc<str>,
    build: Arc<str>,
}

impl Drop for SlotPermit {
    fn drop(&mut self) {
        let mut state = self.slots.lock();
        state.release(&self.unit, &self.build);
        self.slots.dispatch(&mut state);
    }
}

/// A call waiting in its unit's queue. Dropping it (timeout, or the request's future
/// dropped) leaves the queue, or hands back the slot if the grant raced the drop.
struct Waiting {
    slots: Arc<Slots>,
    unit: Arc<str>,
    build: Arc<str>,
    id: u64,
    granted: oneshot::Receiver<()>,
    settled: bool,
}

impl Waiting {
    /// Leaves the queue. `None` when the slot was granted meanwhile (the caller owns it).
    fn give_up(&mut self) -> Option<Saturation> {
        self.settled = true;
        let mut state = self.slots.lock();
        // Grants are sent under this lock, so what the receiver holds now is final.
        if self.granted.try_recv().is_ok() {
            return None;
        }
        let queue = state.queues.get_mut(&self.unit)?;
        let index = queue.iter().position(|waiter| waiter.id == self.id)?;
        queue.remove(index);
        if queue.is_empty() {
            state.queues.remove(&self.unit);
            state.turns.retain(|unit| *unit != self.unit);
        }
        Some(self.slots.why_waiting(&state, &self.unit, &self.build))
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if !self.settled && self.give_up().is_none() {
            // Granted as the request was dropped: the slot goes to the next in turn.
            drop(SlotPermit {
                slots: self.slots.clone(),
                unit: self.unit.clone(),
                build: self.build.clone(),
            });
        }
    }
}

impl State {
    fn take(&mut self, unit: &Arc<str>, build: &Arc<str>) {
        self.running += 1;
        *self.per_unit.entry(unit.clone()).or_default() += 1;
        *self.per_build.entry(build.clone()).or_default() += 1;
    }

    fn release(&mut self, unit: &Arc<str>, build: &Arc<str>) {
        self.running = self.running.saturating_sub(1);
        for (map, key) in [(&mut self.per_unit, unit), (&mut self.per_build, build)] {
            if let Some(count) = map.get_mut(key) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    map.remove(key);
                }
            }
        }
    }
}

impl Slots {
    pub fn new(caps: Caps) -> Arc<Slots> {
        Arc::new(Slots {
            caps: Caps {
                total: caps.total.max(1),
                per_unit: caps.per_unit.max(1),
                per_build: caps.per_build.max(1),
            },
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned lock still holds good counts.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn unit_cap(&self, unit: &str) -> usize {
        if unit == LOADING {
            self.caps.total
        } else {
            self.caps.per_unit
        }
    }

    fn build_cap(&self, unit: &str) -> usize {
        if unit == LOADING {
            self.caps.total
        } else {
            self.caps.per_build
        }
    }

    fn can_run(&self, state: &State, unit: &str, build: &str) -> bool {
        state.running < self.caps.total
            && state.per_unit.get(unit).copied().unwrap_or(0) < self.unit_cap(unit)
            && state.per_build.get(build).copied().unwrap_or(0) < self.build_cap(unit)
    }

    /// Why a waiting call of `unit` and `build` cannot run now.
    fn why_waiting(&self, state: &State, unit: &str, build: &str) -> Saturation {
        let unit_running = state.per_unit.get(unit).copied().unwrap_or(0);
        let build_running = state.per_build.get(build).copied().unwrap_or(0);
        if unit_running >= self.unit_cap(unit) {
            Saturation::Unit {
                unit: unit.to_string(),
                running: unit_running,
            }
        } else if build_running >= self.build_cap(unit) {
            Saturation::Build {
                build: build.to_string(),
                running: build_running,
            }
        } else {
            Saturation::Host {
                slots: self.caps.total,
            }
        }
    }

    /// Takes a slot for a call of `build` (its label) on behalf of `unit`, waiting up
    /// to `timeout` for its turn.
    pub async fn acquire(
        self: &Arc<Self>,
        unit: &str,
        build: &str,
        timeout: Duration,
    ) -> Result<SlotPermit, Saturation> {
        let unit: Arc<str> = Arc::from(unit);
        let build: Arc<str> = Arc::from(build);
        let permit = || SlotPermit {
            slots: self.clone(),
            unit: unit.clone(),
            build: build.clone(),
        };
        let mut waiting = {
            let mut state = self.lock();
            let queued = state
                .queues
                .get(&unit)
                .is_some_and(|queue| !queue.is_empty());
            if !queued && self.can_run(&state, &unit, &build) {
                state.take(&unit, &build);
                return Ok(permit());
            }
            let (grant, granted) = oneshot::channel();
            let id = state.next_id;
            state.next_id += 1;
            if !queued {
                state.turns.push_back(unit.clone());
            }
            state
                .queues
                .entry(unit.clone())
                .or_default()
                .push_back(Waiter {
                    id,
                    build: build.clone(),
                    grant,
                });
            Waiting {
                slots: self.clone(),
                unit: unit.clone(),
                build: build.clone(),
                id,
                granted,
                settled: false,
            }
        };
        match tokio::time::timeout(timeout, &mut waiting.granted).await {
            Ok(Ok(())) => {
                waiting.settled = true;
                Ok(permit())
            }
            // The sender is only dropped after a send, so this does not happen; treat it
            // as a timeout.
            Ok(Err(_)) | Err(_) => match waiting.give_up() {
                Some(saturation) => Err(saturation),
                None => Ok(permit()),
            },
        }
    }

    /// Hands free slots to waiting calls, one unit's turn at a time: the first unit in
    /// turn that can run a call gets the slot and goes to the back of the turns; a unit
    /// that could not run one (its own cap, or every build it waits on at its cap) keeps
    /// its place, so it is first when its obstacle clears.
    fn dispatch(&self, state: &mut State) {
        let mut index = 0;
        while index < state.turns.len() {
            if state.running >= self.caps.total {
                return;
            }
            let unit = state.turns[index].clone();
            let granted = state.per_unit.get(&unit).copied().unwrap_or(0) < self.unit_cap(&unit)
                && self.grant_first_runnable(state, &unit);
            let waiting = state
                .queues
                .get(&unit)
                .is_some_and(|queue| !queue.is_empty());
            if !waiting {
                state.queues.remove(&unit);
                state.turns.remove(index);
            } else if granted {
                state.turns.remove(index);
                state.turns.push_back(unit);
            } else {
                index += 1;
                continue;
            }
            if granted {
                // Start again from the first unit in turn.
                index = 0;
            }
        }
    }

    /// Grants a slot to the first waiter of `unit` whose build is under its cap.
    fn grant_first_runnable(&self, state: &mut State, unit: &Arc<str>) -> bool {
        let cap = self.build_cap(unit);
        let Some(queue) = state.queues.get_mut(unit) else {
            return false;
        };
        let Some(index) = queue
            .iter()
            .position(|waiter| state.per_build.get(&waiter.build).copied().unwrap_or(0) < cap)
        else {
            return false;
        };
        let waiter = queue.remove(index).expect("index from position");
        // A waiter that gave up has already left the queue under this lock, and a
        // queued waiter's receiver lives until it does; should a send still fail,
        // nothing is taken and the next runnable waiter is tried.
        if waiter.grant.send(()).is_ok() {
            state.take(unit, &waiter.build);
            true
        } else {
            self.grant_first_runnable(state, unit)
        }
    }

    /// Calls running now: in total, and for one unit.
    pub fn running(&self, unit: &str) -> (usize, usize) {
        let state = self.lock();
        (
            state.running,
            state.per_unit.get(unit).copied().unwrap_or(0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(total: usize, per_unit: usize, per_build: usize) -> Caps {
        Caps {
            total,
            per_unit,
            per_build,
        }
    }

    #[tokio::test]
    async fn a_unit_at_its_cap_waits_while_another_unit_runs() {
        let slots = Slots::new(caps(4, 1, 4));
        let held = slots.acquire("a", "x", Duration::ZERO).await.unwrap();
        let refused = slots.acquire("a", "x", Duration::from_millis(10)).await;
        assert_eq!(
            refused.err(),
            Some(Saturation::Unit {
                unit: "a".into(),
                running: 1
            })
        );
        let other = slots.acquire("b", "y", Duration::ZERO).await;
        assert!(other.is_ok(), "another unit is not held up");
        drop(held);
        assert!(slots.acquire("a", "x", Duration::ZERO).await.is_ok());
    }

    #[tokio::test]
    async fn a_build_at_its_cap_waits_whichever_unit_calls_it() {
        let slots = Slots::new(caps(4, 4, 1));
        let _held = slots.acquire("a", "x", Duration::ZERO).await.unwrap();
        let refused = slots.acquire("b", "x", Duration::from_millis(10)).await;
        assert!(matches!(refused.err(), Some(Saturation::Build { .. })));
        assert!(slots.acquire("b", "y", Duration::ZERO).await.is_ok());
    }

    /// Runs the calls of `queued` (unit, build) one after another behind a held slot of
    /// `held`, and returns the units in the order their calls got a slot.
    async fn grant_order(
        slots: &Arc<Slots>,
        held: (&str, &str),
        queued: &[(&'static str, &'static str)],
    ) -> Vec<&'static str> {
        let first = slots.acquire(held.0, held.1, Duration::ZERO).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for &(unit, build) in queued {
            let (shared, order) = (slots.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let permit = shared
                    .acquire(unit, build, Duration::from_secs(10))
                    .await
                    .unwrap();
                order.lock().unwrap().push(unit);
                tokio::task::yield_now().await;
                drop(permit);
            }));
            while slots
                .lock()
                .queues
                .values()
                .map(VecDeque::len)
                .sum::<usize>()
                < tasks.len()
            {
                tokio::task::yield_now().await;
            }
        }
        drop(first);
        for task in tasks {
            task.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        order
    }

    #[tokio::test]
    async fn units_waiting_on_one_build_at_its_cap_take_turns() {
        // One build serves every ward: when its cap is what holds calls back, a unit
        // that floods it must not be served before a neighbour waiting on it too.
        let slots = Slots::new(caps(8, 8, 1));
        let order = grant_order(
            &slots,
            ("a", "x"),
            &[("a", "x"), ("a", "x"), ("a", "x"), ("b", "x")],
        )
        .await;
        assert_eq!(
            order,
            ["a", "b", "a", "a"],
            "b's turn comes after one of a's"
        );
        assert_eq!(slots.running("a"), (0, 0), "every slot came back");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_grant_racing_a_timeout_is_counted_once() {
        // Many short waits against one slot: some time out as the slot is handed to
        // them. Whatever happens, no slot is counted twice or lost.
        let slots = Slots::new(caps(1, 1, 1));
        let mut tasks = Vec::new();
        for round in 0..200u64 {
            let shared = slots.clone();
            tasks.push(tokio::spawn(async move {
                let wait = Duration::from_micros(50 + (round % 7) * 30);
                if let Ok(permit) = shared.acquire("a", "x", wait).await {
                    tokio::task::yield_now().await;
                    drop(permit);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(slots.running("a"), (0, 0), "every slot came back");
        assert!(slots.lock().queues.is_empty(), "no waiter is left behind");
        let _only = slots.acquire("a", "x", Duration::ZERO).await.unwrap();
        assert!(
            slots.acquire("b", "y", Duration::ZERO).await.is_err(),
            "the one slot is taken once, not twice"
        );
    }

    #[tokio::test]
    async fn freed_slots_go_round_robin_between_units() {
        // Unit a queues three calls before unit b queues one.
        let slots = Slots::new(caps(1, 1, 8));
        let order = grant_order(
            &slots,
            ("a", "x"),
            &[("a", "x"), ("a", "x"), ("a", "x"), ("b", "y")],
        )
        .await;
        assert_eq!(
            order,
            ["a", "b", "a", "a"],
            "b's turn comes after one of a's"
        );
        assert_eq!(slots.running("a"), (0, 0), "every slot came back");
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_no_slot_taken() {
        let slots = Slots::new(caps(1, 1, 1));
        let held = slots.acquire("a", "x", Duration::ZERO).await.unwrap();
        let waiter = {
            let slots = slots.clone();
            tokio::spawn(async move { slots.acquire("b", "y", Duration::from_secs(10)).await })
        };
        while slots.lock().queues.is_empty() {
            tokio::task::yield_now().await;
        }
        waiter.abort();
        let _ = waiter.await;
        assert!(
            slots.lock().queues.is_empty(),
            "the dropped waiter left the queue"
        );
        drop(held);
        assert_eq!(slots.running("b"), (0, 0));
        assert!(slots.acquire("c", "z", Duration::ZERO).await.is_ok());
    }
}
