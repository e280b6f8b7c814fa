//! One dossier action end to end below HTTP: authorisation, loading the dossier from
//! SQLite, a fresh plugin instance and `decide`, decision checks, the transaction that
//! writes the dossier row and its hash-chained event, and reloading the result.
//! Measured next to `decide` alone in the same run, so the ratio is the sandbox's share
//! of an action.
//!
//! Run: `cargo bench -p motcua --bench action`

use std::sync::Arc;

use chrono::NaiveDateTime;
use criterion::{Criterion, criterion_group, criterion_main};
use motcua::app::{self, Config};
use motcua::clock::Clock;
use motcua::domain::{Actor, Applicant, Channel, Command, Document, Role};
use motcua::workflow::{ActionRequest, Caller, FileRequest, snapshot};
use serde_json::json;

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let now = NaiveDateTime::parse_from_str("2026-03-02 09:00", "%Y-%m-%d %H:%M").unwrap();
    let state = runtime.block_on(async {
        let state = app::build_state(&Config::new(url), Clock::manual(now))
            .await
            .unwrap();
        motcua::demo::seed(&state).await.unwrap();
        state
    });
    let officer = Caller::Staff(Actor {
        id: "xuan-hoa-officer".into(),
        role: Role::Officer,
        unit: "xuan-hoa".into(),
    });
    let document = |kind: &str| Document {
        kind: kind.into(),
        name: format!("{kind}.pdf"),
        sha256: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
        size: 64_210,
        digitized: true,
        content_type: None,
    };
    let filed = runtime
        .block_on(state.file(
            &Caller::Anonymous,
            FileRequest {
                procedure_code: "1.001612".into(),
                receiving_unit: "xuan-hoa".into(),
                handling_unit: None,
                channel: Channel::Online,
                applicant: Applicant {
                    full_name: "Lê Văn Hùng".into(),
                    citizen_id: "025085006789".into(),
                    phone: Some("0987654321".into()),
                    email: None,
                    address: None,
                },
                form: json!({
                    "business_name": "Hộ kinh doanh Tạp hóa Hùng Lan",
                    "address": "Số 12 đường Hùng Vương, phường Xuân Hòa, tỉnh Phú Thọ",
                    "business_lines": ["Bán lẻ lương thực, thực phẩm"],
                    "capital_vnd": 150000000,
                    "employees": 2,
                    "members": []
                }),
                documents: vec![
                    document("registration-request"),
                    document("citizen-id-card"),
                ],
            },
        ))
        .expect("filed");
    let mut version = 1;
    let mut act = |action: &str, payload: serde_json::Value| {
        let (record, _, _) = runtime
            .block_on(state.act(
                &officer,
                ActionRequest {
                    code: filed.code.clone(),
                    action: action.into(),
                    note: String::new(),
                    payload,
                    if_match: Some(version),
                },
            ))
            .expect("action");
        version = record.version;
        record
    };
    act("receive", json!({}));

    // `record-payment` keeps the dossier in its step, so it can repeat indefinitely.
    let payment = json!({ "amount_vnd": 1, "online": true, "receipt": "VNPAY-1" });
    let mut group = c.benchmark_group("action");
    group.bench_function("record-payment-end-to-end-sqlite", |b| {
        b.iter(|| act("record-payment", payment.clone()))
    });

    let record = runtime
        .block_on(state.store.dossier(&filed.code))
        .unwrap()
        .unwrap();
    let dossier = snapshot(&record).unwrap();
    let build = state.registry.build(&record.build_sha256).unwrap();
    let command = Command {
        action: "record-payment".into(),
        actor: Actor {
            id: "xuan-hoa-officer".into(),
            role: Role::Officer,
            unit: "xuan-hoa".into(),
        },
        at: now,
        note: String::new(),
        payload: payment.clone(),
    };
    let wasm = Arc::clone(&state.runtime);
    group.bench_function("record-payment-decide-only", |b| {
        b.iter(|| {
            wasm.decide_blocking(&build, "{}".into(), &dossier, &command)
                .expect("decide")
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
