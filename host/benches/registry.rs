//! Registry timings, printed as figures and ratios against a baseline measured in the
//! same run (a plain harness: each sample is seconds long, too slow for criterion).
//!
//! 1. Publish to first dossier: publish business-household 1.1.0 (compile, verify,
//!    store), roll it out to one pilot unit, file a dossier there and receive it under
//!    the new build. Baseline: filing and receiving a dossier on a build already live.
//! 2. Server start with 200 published builds: cold (empty compiled cache) against warm.
//!
//! Run: `cargo bench -p motcua --bench registry`

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use motcua::api::AppState;
use motcua::app::{self, Config};
use motcua::clock::Clock;
use motcua::domain::{Actor, Applicant, Channel, Document, Role};
use motcua::registry::Scope;
use motcua::store::{RegistryEvent, StoredBuild};
use motcua::workflow::{ActionRequest, Caller, FileRequest};
use serde_json::json;

fn now() -> NaiveDateTime {
    NaiveDateTime::parse_from_str("2026-03-02 09:00", "%Y-%m-%d %H:%M").unwrap()
}

fn publisher() -> Actor {
    Actor {
        id: "phu-tho-publisher".into(),
        role: Role::Publisher,
        unit: "phu-tho".into(),
    }
}

fn plugin(stem: &str) -> Vec<u8> {
    motcua::bundled::built_plugin(stem).expect("plugin built by host/build.rs")
}

async fn fresh_state(dir: &Path, cache: bool) -> AppState {
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let config = Config {
        cache_dir: cache.then(|| dir.join("cache")),
        ..Config::new(url)
    };
    let state = app::build_state(&config, Clock::manual(now()))
        .await
        .unwrap();
    motcua::demo::seed(&state).await.unwrap();
    state
}

async fn file_and_receive(state: &AppState, unit: &str) -> String {
    let document = |kind: &str| Document {
        kind: kind.into(),
        name: format!("{kind}.pdf"),
        sha256: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
        size: 64_210,
        digitized: true,
        content_type: None,
    };
    let filed = state
        .file(
            &Caller::Anonymous,
            FileRequest {
                procedure_code: "1.001612".into(),
                receiving_unit: unit.into(),
                handling_unit: None,
                channel: Channel::Online,
                applicant: Applicant {
                    full_name: "Lê Văn Hùng".into(),
                    citizen_id: "025085006789".into(),
                    phone: None,
                    email: None,
                    address: None,
                },
                form: json!({
                    "business_name": "Hộ kinh doanh Tạp hóa Hùng Lan",
                    "address": "Số 12 đường Hùng Vương",
                    "business_lines": ["Bán lẻ"],
                    "capital_vnd": 150000000,
                    "employees": 2,
                    "members": []
                }),
                documents: vec![
                    document("registration-request"),
                    document("citizen-id-card"),
                ],
            },
        )
        .await
        .unwrap();
    let officer = Caller::Staff(Actor {
        id: format!("{unit}-officer"),
        role: Role::Officer,
        unit: unit.into(),
    });
    let (record, _, _) = state
        .act(
            &officer,
            ActionRequest {
                code: filed.code,
                action: "receive".into(),
                note: String::new(),
                payload: json!({}),
                if_match: Some(1),
            },
        )
        .await
        .unwrap();
    record.build_sha256
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // 1. Publish to first dossier.
        let next = plugin("business_household_1_1");
        let (mut publish_to_first, mut baseline) = (Vec::new(), Vec::new());
        for _ in 0..7 {
            let dir = tempfile::tempdir().unwrap();
            let state = fresh_state(dir.path(), false).await;
            let started = Instant::now();
            file_and_receive(&state, "xuan-hoa").await;
            baseline.push(started.elapsed());
            let started = Instant::now();
            let (build, _) = state
                .registry
                .publish(next.clone(), &publisher(), "2026-03-02T09:00:00+07:00")
                .await
                .unwrap();
            state
                .registry
                .rollout(
                    "1.001612",
                    "1.1.0",
                    Scope::Pilot(vec!["xuan-hoa".into()]),
                    &publisher(),
                    "now",
                )
                .await
                .unwrap();
            let served_by = file_and_receive(&state, "xuan-hoa").await;
            publish_to_first.push(started.elapsed());
            assert_eq!(
                served_by, build.sha256,
                "the first dossier runs the new build"
            );
        }
        let (first, base) = (median(publish_to_first), median(baseline));
        println!("publish -> first dossier served by the new build: {first:?} (median of 7)");
        println!("baseline, file + receive on a live build:          {base:?} (median of 7)");
        println!("ratio: {:.1}x", first.as_secs_f64() / base.as_secs_f64());

        // 2. Start with 200 published builds, cold against warm cache.
        let dir = tempfile::tempdir().unwrap();
        let state = fresh_state(dir.path(), true).await;
        let base_bytes = plugin("business_household");
        for index in 0..200 {
            // Other bytes (a custom section), the same code: as 200 releases would be.
            let mut bytes = base_bytes.clone();
            let name = format!("release-{index}");
            bytes.extend_from_slice(&[0, (name.len() + 1) as u8, name.len() as u8]);
            bytes.extend_from_slice(name.as_bytes());
            let sha = motcua::runtime::sha256_hex(&bytes);
            let build = StoredBuild {
                sha256: sha,
                procedure_code: "1.001612".into(),
                variant_of: None,
                version: format!("1.0.{}", index + 1),
                wit_version: "0.2.0".into(),
                size: bytes.len() as i64,
                bytes,
                info_json: "{}".into(),
                published_by: "bench".into(),
                published_at: "2026-03-02T09:00:00+07:00".into(),
            };
            let event = RegistryEvent {
                at: build.published_at.clone(),
                actor_id: "bench".into(),
                actor_role: "publisher".into(),
                action: "publish".into(),
                procedure_code: Some("1.001612".into()),
                unit: None,
                before: json!(null),
                after: json!(null),
            };
            state.store.insert_build(&build, &event).await.unwrap();
        }
        state.store.close().await;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let config = Config {
            cache_dir: Some(dir.path().join("cold-cache")),
            ..Config::new(url.clone())
        };
        let started = Instant::now();
        let cold_state = app::build_state(&config, Clock::manual(now()))
            .await
            .unwrap();
        let cold = started.elapsed();
        let stats = cold_state.registry.stats();
        cold_state.store.close().await;
        drop(cold_state);
        let mut warm_samples = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            let warm_state = app::build_state(&config, Clock::manual(now()))
                .await
                .unwrap();
            warm_samples.push(started.elapsed());
            assert_eq!(
                warm_state.registry.stats().compiled,
                0,
                "a warm start compiles nothing"
            );
            warm_state.store.close().await;
        }
        let warm = median(warm_samples);
        println!(
            "start with {} builds, cold cache: {cold:?} ({} compiled)",
            stats.compiled + stats.cache_hits,
            stats.compiled
        );
        println!("start with the same builds, warm cache: {warm:?} (median of 3)");
        println!(
            "ratio cold / warm: {:.1}x",
            cold.as_secs_f64() / warm.as_secs_f64()
        );
    });
}
