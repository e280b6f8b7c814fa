//! Neighbour fairness over real HTTP: 80 clients file dossiers for a CPU-hungry plugin
//! (45 ms of CPU in `check`) at Xuân Hòa, as fast as they are answered, while a citizen
//! at Việt Trì files birth registrations one after another. The Việt Trì filings'
//! latency is measured with the load and, in the same run, without it; the goal is a
//! loaded p99 within 2x of the unloaded p99, with no Việt Trì filing failing.
//!
//! Two hosts are measured in the same run: the one motcua had before fair sharing (one
//! pool of 64 slots, first come first served, a 100 ms wall-clock budget:
//! `SandboxLimits::shared_pool_wall_clock`) and today's defaults (a CPU-time budget,
//! at most half the cores per unit and per build, waiters served round-robin between
//! units). Each runs the real server (`motcua::app`, SQLite in a temporary directory,
//! the demo province, the `fixture_cpu_hungry` build piloted at Xuân Hòa) on loopback.
//!
//! Run: `cargo bench -p motcua --bench fairness` (`-- --quick` for fewer filings).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use motcua::app::{self, Config};
use motcua::clock::Clock;
use motcua::runtime::SandboxLimits;
use serde_json::{Value, json};

const HUNGRY_UNIT: &str = "xuan-hoa";
const NEIGHBOUR: &str = "viet-tri";
const LOAD_CLIENTS: usize = 80;
const BURN_MS: u64 = 45;

fn publisher() -> motcua::domain::Actor {
    motcua::domain::Actor {
        id: "phu-tho-publisher".into(),
        role: motcua::domain::Role::Publisher,
        unit: "phu-tho".into(),
    }
}

fn birth_filing(unit: &str) -> Value {
    json!({
        "procedure": "1.001193",
        "receiving_unit": unit,
        "channel": "online",
        "applicant": {
            "full_name": "Nguyễn Thị Lan",
            "citizen_id": "025190001234",
            "phone": "0912345678",
            "address": "Tổ 5, phường Việt Trì, tỉnh Phú Thọ"
        },
        "form": {
            "child": {
                "full_name": "Trần Minh An", "sex": "male", "birth_date": "2026-02-20",
                "birth_place": "Bệnh viện Đa khoa tỉnh Phú Thọ", "ethnicity": "Kinh",
                "nationality": "Việt Nam"
            },
            "mother": { "full_name": "Nguyễn Thị Lan", "citizen_id": "025190001234" },
            "father": { "full_name": "Trần Văn Bình", "citizen_id": "025188004321" },
            "applicant_relationship": "mẹ"
        },
        "documents": [
            { "kind": "hospital-birth-certificate", "name": "Giấy chứng sinh số 1234/GCS",
              "sha256": "5f1d7a3e9b2c4d6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f",
              "size": 183412, "digitized": true },
            { "kind": "citizen-id-card", "name": "Căn cước công dân của mẹ",
              "sha256": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2",
              "size": 95310, "digitized": true }
        ]
    })
}

fn hungry_filing() -> Value {
    json!({
        "procedure": "fixture.cpu-hungry",
        "receiving_unit": HUNGRY_UNIT,
        "channel": "online",
        "applicant": { "full_name": "Lê Văn Hùng", "citizen_id": "025085006789" },
        "form": { "burn_ms": BURN_MS },
        "documents": []
    })
}

/// One host under test, serving on loopback.
struct Host {
    base: String,
    state: motcua::api::AppState,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn start(limits: SandboxLimits) -> Host {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let now =
        chrono::NaiveDateTime::parse_from_str("2026-03-02 09:00", "%Y-%m-%d %H:%M").expect("time");
    let config = Config {
        limits,
        cache_dir: Some(dir.path().join("cache")),
        ..Config::new(url)
    };
    let state = app::build_state(&config, Clock::manual(now))
        .await
        .expect("state");
    motcua::demo::seed(&state).await.expect("demo province");
    let bytes = motcua::bundled::built_plugin("fixture_cpu_hungry").expect("fixture built");
    let at = "2026-03-02T08:00:00+07:00";
    let (build, _) = state
        .registry
        .publish(bytes, &publisher(), at)
        .await
        .expect("publish");
    state
        .registry
        .rollout(
            &build.info.code,
            &build.sha256,
            motcua::registry::Scope::Pilot(vec![HUNGRY_UNIT.into()]),
            &publisher(),
            at,
        )
        .await
        .expect("pilot");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let router = motcua::api::app(state.clone());
    let server = tokio::spawn(async move {
        // A load test sends every filing from one address: no per-client quotas.
        let _ = motcua::api::serve_with(
            listener,
            router,
            &motcua::api::FrontDoor::without_quotas(),
            motcua::registry::DEFAULT_MAX_PLUGIN_BYTES,
            std::future::pending(),
        )
        .await;
    });
    Host {
        base,
        state,
        server,
        _dir: dir,
    }
}

/// Latencies of `count` sequential neighbour filings, and the statuses of failures.
async fn neighbour_filings(host: &Host, count: usize) -> (Vec<Duration>, BTreeMap<u16, usize>) {
    let client = reqwest::Client::new();
    let body = birth_filing(NEIGHBOUR);
    let (mut latencies, mut failures) = (Vec::with_capacity(count), BTreeMap::new());
    for _ in 0..count {
        let started = Instant::now();
        let response = client
            .post(format!("{}/api/v1/dossiers", host.base))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let _ = response.bytes().await;
        latencies.push(started.elapsed());
        if status != 201 {
            *failures.entry(status).or_default() += 1;
        }
    }
    (latencies, failures)
}

fn percentile(latencies: &[Duration], p: f64) -> Duration {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

struct Outcome {
    unloaded: (Duration, Duration),
    loaded: (Duration, Duration),
    neighbour_failures: BTreeMap<u16, usize>,
    hungry: BTreeMap<u16, usize>,
}

async fn measure(limits: SandboxLimits, filings: usize) -> Outcome {
    let host = start(limits).await;
    // Warm up: connections, the SQLite file, the instance slots.
    neighbour_filings(&host, 20).await;
    let (unloaded, failures) = neighbour_filings(&host, filings).await;
    assert!(failures.is_empty(), "unloaded filings failed: {failures:?}");

    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::new();
    let clients: Vec<_> = (0..LOAD_CLIENTS)
        .map(|_| {
            let (client, stop, url) = (
                client.clone(),
                stop.clone(),
                format!("{}/api/v1/dossiers", host.base),
            );
            tokio::spawn(async move {
                let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
                let body = hungry_filing();
                while !stop.load(Ordering::Relaxed) {
                    let status = match client.post(&url).json(&body).send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let _ = response.bytes().await;
                            status
                        }
                        Err(_) => 0,
                    };
                    *statuses.entry(status).or_default() += 1;
                }
                statuses
            })
        })
        .collect();
    // Let the load build up: every client has sent its first request.
    while host.state.runtime.running_calls(HUNGRY_UNIT).1 == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (loaded, neighbour_failures) = neighbour_filings(&host, filings).await;
    stop.store(true, Ordering::Relaxed);
    let mut hungry = BTreeMap::new();
    for client in clients {
        for (status, count) in client.await.expect("client") {
            *hungry.entry(status).or_default() += count;
        }
    }
    host.server.abort();
    Outcome {
        unloaded: (percentile(&unloaded, 0.50), percentile(&unloaded, 0.99)),
        loaded: (percentile(&loaded, 0.50), percentile(&loaded, 0.99)),
        neighbour_failures,
        hungry,
    }
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    // `cargo bench` passes `--bench`; anything else that is not ours (a filter) is
    // ignored, as this benchmark has one scenario.
    let filings = if quick { 100 } else { 400 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "neighbour fairness: {LOAD_CLIENTS} clients x {BURN_MS} ms CPU at {HUNGRY_UNIT}, \
         {filings} sequential filings at {NEIGHBOUR}, {cores} cores"
    );
    println!(
        "| host | unloaded p50 | unloaded p99 | loaded p50 | loaded p99 | p99 loaded/unloaded \
         | neighbour failures | loaded ward's answers |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, limits) in [
        (
            "before: one pool, wall clock",
            SandboxLimits::shared_pool_wall_clock(),
        ),
        (
            "after: bulkheads, fair queue, CPU clock",
            SandboxLimits::default(),
        ),
    ] {
        let outcome = runtime.block_on(measure(limits, filings));
        let failures: usize = outcome.neighbour_failures.values().sum();
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | **{:.2}x** | {failures} of {filings} {:?} | {:?} |",
            ms(outcome.unloaded.0),
            ms(outcome.unloaded.1),
            ms(outcome.loaded.0),
            ms(outcome.loaded.1),
            outcome.loaded.1.as_secs_f64() / outcome.unloaded.1.as_secs_f64(),
            outcome.neighbour_failures,
            outcome.hungry,
        );
    }
}
