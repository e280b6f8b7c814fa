//! Fair sharing between units and plugins (docs/decisions/0013-fair-sharing.md): one
//! ward's CPU-hungry plugin under heavy load does not fail another ward's filings; a
//! plugin's budget counts the CPU it used, not time spent waiting for a core, so
//! honest calls complete on a crowded host and a runaway one is still stopped and
//! named; and a build whose `describe` is slow loads after a restart on a busy host.
//!
//! No assertion here is about time: each states which calls succeed, fail, or whom a
//! failure names, while the load is shown (by the runtime's own counts) to overlap.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use motcua::runtime::SandboxLimits;
use motcua_e2e::{Backend, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

const NOW: &str = "2026-03-02 09:00";
const PUBLISHED_AT: &str = "2026-03-02T08:00:00+07:00";
/// The loaded ward, where the CPU-hungry plugin is piloted.
const HUNGRY_UNIT: &str = "xuan-hoa";
/// Its neighbour, whose filings must not suffer.
const NEIGHBOUR: &str = "viet-tri";

fn filings() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("filings")).expect("json")
}

/// A filing for the CPU-hungry fixture at the loaded ward, burning `burn_ms` of CPU in
/// `check` (and again in each `decide`).
fn hungry_filing(burn_ms: u64) -> Value {
    let mut body = filings()["birth"].clone();
    body["procedure"] = json!("fixture.cpu-hungry");
    body["receiving_unit"] = json!(HUNGRY_UNIT);
    body["form"] = json!({ "burn_ms": burn_ms });
    body["documents"] = json!([]);
    body
}

/// A birth registration filed online at the neighbouring ward.
fn neighbour_filing() -> Value {
    let mut body = filings()["birth"].clone();
    body["receiving_unit"] = json!(NEIGHBOUR);
    body
}

/// Threads that keep every core busy until dropped: the host is loaded by something
/// other than plugin calls.
struct CpuBurners {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl CpuBurners {
    fn start(per_core: usize) -> CpuBurners {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..cores * per_core)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut turns = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        turns = std::hint::black_box(turns.wrapping_add(1));
                    }
                })
            })
            .collect();
        CpuBurners { stop, threads }
    }
}

impl Drop for CpuBurners {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Waits until the loaded ward has a call running and more waiting for a slot.
async fn until_saturated(server: &TestServer, unit: &str) {
    let runtime = &server.state.runtime;
    let cap = runtime.limits().max_calls_per_unit;
    for _ in 0..20_000 {
        if runtime.running_calls(unit).1 >= cap {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("{unit} never reached its {cap} running calls");
}

async fn neighbour_filings_succeed_while_a_ward_is_saturated(backend: Backend) {
    let server = Arc::new(TestServer::start(backend, NOW).await);
    server
        .pilot("fixture_cpu_hungry", &[HUNGRY_UNIT], PUBLISHED_AT)
        .await;

    // Many clients at once keep filing at the loaded ward until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let hungry_ok = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..24)
        .map(|_| {
            let (server, stop, hungry_ok) = (server.clone(), stop.clone(), hungry_ok.clone());
            tokio::spawn(async move {
                let mut refusals = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let response = server
                        .post("/api/v1/dossiers", None, &hungry_filing(45))
                        .await;
                    match response.status {
                        StatusCode::CREATED => {
                            hungry_ok.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => refusals.push(response.body),
                    }
                }
                refusals
            })
        })
        .collect();
    until_saturated(&server, HUNGRY_UNIT).await;

    for filing in 0..25 {
        let response = server
            .post("/api/v1/dossiers", None, &neighbour_filing())
            .await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "neighbour filing {filing} failed while {HUNGRY_UNIT} was loaded: {}",
            response.body
        );
    }
    // The load lasted the whole time: the loaded ward still has calls running.
    let (_, still_running) = server.state.runtime.running_calls(HUNGRY_UNIT);
    assert!(
        still_running >= 1,
        "the load had stopped before the neighbour finished"
    );

    stop.store(true, Ordering::Relaxed);
    for client in clients {
        // The loaded ward's own calls may be pushed back, but only as busy, naming the
        // ward itself, never as its healthy plugin failing.
        for refusal in client.await.expect("client") {
            assert_eq!(refusal["type"], "urn:motcua:problem:busy", "{refusal}");
            assert_eq!(refusal["unit"], HUNGRY_UNIT, "{refusal}");
        }
    }
    assert!(
        hungry_ok.load(Ordering::Relaxed) > 0,
        "the loaded ward was served too"
    );
    Arc::into_inner(server)
        .expect("every client is done")
        .finish()
        .await;
}

motcua_e2e::on_both_backends!(neighbour_filings_succeed_while_a_ward_is_saturated);

/// Files `count` CPU-hungry dossiers and has the officer receive all of them at once;
/// returns the answers to the receive actions.
async fn receive_at_once(server: &TestServer, count: usize, burn_ms: u64) -> Vec<(u16, Value)> {
    let officer = format!("demo-{HUNGRY_UNIT}-officer");
    let mut codes = Vec::new();
    for _ in 0..count {
        codes.push(server.file(None, &hungry_filing(burn_ms)).await.code);
    }
    let actions = codes.iter().map(|code| {
        let officer = officer.as_str();
        async move {
            let response = server.act(officer, code, "receive", "", json!({})).await;
            (response.status.as_u16(), response.body)
        }
    });
    futures::future::join_all(actions).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_decides_of_45_ms_cpu_complete_at_once() {
    // With the default bulkheads the ward's calls take turns; with the bulkheads opened
    // all eight run at once on the host's cores, and only a budget that counts CPU time
    // (not the wait for a core) lets every one finish.
    let open = SandboxLimits {
        max_calls_per_unit: 8,
        max_calls_per_build: 8,
        ..Default::default()
    };
    for limits in [SandboxLimits::default(), open] {
        let wide = limits.max_calls_per_unit;
        let server = TestServer::start_with(Backend::Sqlite, NOW, limits).await;
        server
            .pilot("fixture_cpu_hungry", &[HUNGRY_UNIT], PUBLISHED_AT)
            .await;
        // Watch how many calls overlap, to show the eight really ran together.
        let most = Arc::new(AtomicUsize::new(0));
        let watching = Arc::new(AtomicBool::new(true));
        let watcher = {
            let (runtime, most, watching) =
                (server.state.runtime.clone(), most.clone(), watching.clone());
            tokio::spawn(async move {
                while watching.load(Ordering::Relaxed) {
                    most.fetch_max(runtime.running_calls(HUNGRY_UNIT).1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_micros(500)).await;
                }
            })
        };
        let answers = receive_at_once(&server, 8, 45).await;
        watching.store(false, Ordering::Relaxed);
        watcher.await.expect("watcher");
        for (status, body) in &answers {
            assert_eq!(*status, 200, "a 45 ms decide failed (cap {wide}): {body}");
            assert_eq!(body["step"]["id"], "review", "{body}");
        }
        let most = most.load(Ordering::Relaxed);
        assert!(
            most <= wide,
            "{most} calls ran at once, over the cap of {wide}"
        );
        if wide == 8 {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            assert!(
                most > cores.min(7),
                "only {most} of the eight decides overlapped on {cores} cores"
            );
        }
        server.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_plugin_is_stopped_by_its_cpu_budget_and_named() {
    // Four spinning calls at once on a host whose cores are already busy: each is
    // stopped for its own CPU use and the problem names it.
    let limits = SandboxLimits {
        max_calls_per_unit: 4,
        max_calls_per_build: 4,
        ..Default::default()
    };
    let budget_ms = limits.call_budget().as_millis();
    let server = TestServer::start_with(Backend::Sqlite, NOW, limits).await;
    server
        .pilot("fixture_spin", &[HUNGRY_UNIT], PUBLISHED_AT)
        .await;
    let mut spinning = filings()["birth"].clone();
    spinning["procedure"] = json!("fixture.spin");
    let _burners = CpuBurners::start(1);
    let calls = (0..4).map(|_| server.post("/api/v1/dossiers", None, &spinning));
    for response in futures::future::join_all(calls).await {
        let problem = response.problem(StatusCode::BAD_GATEWAY);
        assert_eq!(
            problem["type"], "urn:motcua:problem:plugin-failed",
            "{problem}"
        );
        assert!(
            problem["plugin"]
                .as_str()
                .unwrap()
                .starts_with("fixture.spin@"),
            "{problem}"
        );
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("CPU budget of {budget_ms} ms")),
            "{detail}"
        );
    }
    assert_eq!(server.row_counts().await.0, 0, "nothing was written");
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_stopped_by_the_wall_clock_ceiling_is_the_hosts_fault() {
    // A ceiling far below the budget stands for a host so loaded that a call cannot
    // get its CPU in time: the call is stopped, and the answer is busy, not a failure
    // of the plugin.
    let limits = SandboxLimits {
        call_deadline_ticks: 400,
        wall_ceiling: Duration::from_millis(50),
        ..Default::default()
    };
    let server = TestServer::start_with(Backend::Sqlite, NOW, limits).await;
    server
        .pilot("fixture_spin", &[HUNGRY_UNIT], PUBLISHED_AT)
        .await;
    let mut spinning = filings()["birth"].clone();
    spinning["procedure"] = json!("fixture.spin");
    let response = server.post("/api/v1/dossiers", None, &spinning).await;
    let problem = response.problem(StatusCode::SERVICE_UNAVAILABLE);
    let raw = server
        .client
        .post(format!("{}/api/v1/dossiers", server.base))
        .json(&spinning)
        .send()
        .await
        .expect("request");
    assert_eq!(raw.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        raw.headers().contains_key(reqwest::header::RETRY_AFTER),
        "busy answers say when to retry"
    );
    assert_eq!(problem["type"], "urn:motcua:problem:busy", "{problem}");
    assert_eq!(problem["saturated"], "host", "{problem}");
    assert!(
        problem.get("plugin").is_none(),
        "the plugin is not blamed: {problem}"
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("overloaded"),
        "{problem}"
    );
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_describe_build_loads_after_a_restart_on_a_busy_host() {
    let server = TestServer::start(Backend::Sqlite, NOW).await;
    let sha = server
        .pilot("fixture_describe_slow", &[HUNGRY_UNIT], PUBLISHED_AT)
        .await;
    let mut body = filings()["birth"].clone();
    body["procedure"] = json!("fixture.describe-slow");
    body["documents"] = json!([]);
    server.file(None, &body).await;

    // Every core busy twice over while the host restarts and describes each build.
    let burners = CpuBurners::start(2);
    let server = server.restart().await;
    drop(burners);
    assert!(
        server.state.registry.build(&sha).is_some(),
        "the slow-describe build was not loaded"
    );
    server.file(None, &body).await;
    server.finish().await;
}
