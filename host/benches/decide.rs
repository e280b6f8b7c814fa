//! One plugin decision, as the server makes it: a fresh instance from the
//! pre-instantiated component, then `decide` on a realistic dossier. The baseline,
//! measured in the same run, is the same `decide` on an instance kept alive, so the
//! ratio between the two is the price of a fresh sandbox per call.
//!
//! The budget's cost is measured in the same run: the same decision under each budget
//! clock (the thread CPU-time callback motcua uses, the wall-clock epoch deadline it
//! used before, and fuel), and a call that burns 20 ms of CPU in the `cpu-hungry`
//! fixture under each, where the CPU-time callback runs on every epoch tick and fuel
//! is counted in every basic block.
//!
//! Run: `cargo bench -p motcua --bench decide`

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use criterion::{Criterion, criterion_group, criterion_main};
use motcua::calendar::Calendar;
use motcua::domain::{Actor, Applicant, Channel, Command, Document, DossierSnapshot, Role, Status};
use motcua::runtime::{BudgetClock, LiveInstance, Runtime, SandboxLimits};
use serde_json::json;

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
}

fn household_dossier() -> DossierSnapshot {
    let document = |kind: &str, name: &str| Document {
        kind: kind.into(),
        name: name.into(),
        sha256: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
        size: 64_210,
        digitized: true,
        content_type: None,
    };
    DossierSnapshot {
        code: "000.31.19.H43-260302-0042".into(),
        procedure_code: "1.001612".into(),
        receiving_unit: "xuan-hoa".into(),
        handling_unit: "xuan-hoa".into(),
        channel: Channel::Online,
        applicant: Applicant {
            full_name: "Lê Văn Hùng".into(),
            citizen_id: "025085006789".into(),
            phone: Some("0987654321".into()),
            email: None,
            address: Some("Số 12 đường Hùng Vương, phường Xuân Hòa".into()),
        },
        form: json!({
            "business_name": "Hộ kinh doanh Tạp hóa Hùng Lan",
            "address": "Số 12 đường Hùng Vương, phường Xuân Hòa, tỉnh Phú Thọ",
            "business_lines": ["Bán lẻ lương thực, thực phẩm", "Bán lẻ đồ uống"],
            "capital_vnd": 150000000,
            "employees": 2,
            "members": []
        }),
        documents: vec![
            document("registration-request", "Giấy đề nghị đăng ký hộ kinh doanh"),
            document("citizen-id-card", "Căn cước công dân chủ hộ"),
        ],
        step: "review".into(),
        status: Status::Processing,
        submitted_at: at("2026-03-02 08:30"),
        received_at: Some(at("2026-03-02 09:00")),
        due_date: NaiveDate::from_ymd_opt(2026, 3, 5),
        supplement_count: 0,
        extension_count: 0,
        fees_requested_vnd: 100_000,
        fees_paid_vnd: 100_000,
        result: None,
    }
}

fn propose() -> Command {
    Command {
        action: "propose".into(),
        actor: Actor {
            id: "xuan-hoa-specialist".into(),
            role: Role::Specialist,
            unit: "xuan-hoa".into(),
        },
        at: at("2026-03-03 09:00"),
        note: "Hồ sơ đầy đủ, đề nghị cấp giấy chứng nhận".into(),
        payload: json!({}),
    }
}

/// Fuel per millisecond of budget: generous, so that no benchmarked call runs out.
/// (Fuel counts operations, not time; how many a millisecond holds depends on the code.)
const FUEL_PER_MS: u64 = 50_000_000;

const CLOCKS: [(&str, BudgetClock); 3] = [
    ("cpu-clock", BudgetClock::ThreadCpu),
    ("wall-deadline", BudgetClock::Wall),
    (
        "fuel",
        BudgetClock::Fuel {
            units_per_ms: FUEL_PER_MS,
        },
    ),
];

fn runtime_with(clock: BudgetClock) -> Runtime {
    let limits = SandboxLimits {
        budget_clock: clock,
        ..Default::default()
    };
    Runtime::new(limits, Arc::new(Calendar::shipped())).expect("runtime")
}

/// The same decision under each budget clock, and a 20 ms CPU burn under each.
fn budget_clocks(c: &mut Criterion) {
    let dossier = household_dossier();
    let command = propose();
    let mut group = c.benchmark_group("budget");
    for (name, clock) in CLOCKS {
        let runtime = runtime_with(clock);
        let build = runtime
            .load(motcua::bundled::BUSINESS_HOUSEHOLD)
            .expect("business-household plugin");
        group.bench_function(format!("decide-{name}"), |b| {
            b.iter(|| {
                runtime
                    .decide_blocking(&build, "{}".into(), &dossier, &command)
                    .expect("decide")
            })
        });
    }
    group.finish();

    let mut burning = dossier.clone();
    burning.step = "submitted".into();
    burning.form = json!({ "burn_ms": 20 });
    let receive = Command {
        action: "receive".into(),
        ..command
    };
    let mut group = c.benchmark_group("budget");
    group.sample_size(20);
    for (name, clock) in CLOCKS {
        let runtime = runtime_with(clock);
        let build = runtime
            .load(&motcua::bundled::built_plugin("fixture_cpu_hungry").expect("fixture built"))
            .expect("cpu-hungry fixture");
        group.bench_function(format!("burn-20ms-{name}"), |b| {
            b.iter(|| {
                let answer = runtime
                    .decide_blocking(&build, "{}".into(), &burning, &receive)
                    .expect("decide");
                assert!(answer.is_ok(), "{answer:?}");
            })
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    let runtime =
        Runtime::new(SandboxLimits::default(), Arc::new(Calendar::shipped())).expect("runtime");
    let build = runtime
        .load(motcua::bundled::BUSINESS_HOUSEHOLD)
        .expect("business-household plugin");
    let dossier = household_dossier();
    let command = propose();
    let answer = runtime
        .decide_blocking(&build, "{}".into(), &dossier, &command)
        .expect("decide");
    assert!(
        answer.is_ok(),
        "the benchmark dossier must be accepted: {answer:?}"
    );

    let mut group = c.benchmark_group("decide");
    group.bench_function("fresh-instance", |b| {
        b.iter(|| {
            runtime
                .decide_blocking(&build, "{}".into(), &dossier, &command)
                .expect("decide")
        })
    });
    // The parts of a fresh decision: a fresh store and instance alone (created and
    // dropped), and the call alone on an instance kept alive.
    group.bench_function("instantiate-only", |b| {
        b.iter(|| LiveInstance::new(&runtime, &build, "{}".into()).expect("instance"))
    });
    let mut live = LiveInstance::new(&runtime, &build, "{}".into()).expect("live instance");
    group.bench_function("live-instance-baseline", |b| {
        b.iter(|| live.decide(&dossier, &command).expect("decide"))
    });
    group.finish();
}

criterion_group!(benches, bench, budget_clocks);
criterion_main!(benches);
