//! Hostile plugins: one that traps, one that loops forever, one that grows memory
//! without bound, one that answers with more data than the host copies. Each is deployed to Xuân Hòa next to the real plugins; filing a
//! dossier for it must fail with a clear problem naming the plugin, within the
//! sandbox's budget, write nothing, and not disturb a well-behaved filing made at
//! the same time.

use std::time::{Duration, Instant};

use motcua_e2e::{Backend, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn filings() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("filings")).expect("json")
}

async fn deploy_fixture(server: &TestServer, stem: &str) -> String {
    let bytes = motcua::bundled::built_plugin(stem).expect("fixture built by host/build.rs");
    let (build, _) = server
        .state
        .registry
        .publish(bytes, &motcua_e2e::publisher(), "2026-03-02T08:00:00+07:00")
        .await
        .expect("publish");
    // A pilot rollout to Xuân Hòa, as provincial IT would stage any new procedure.
    let pilot = motcua::registry::Scope::Pilot(vec!["xuan-hoa".into()]);
    server
        .state
        .registry
        .rollout(
            &build.info.code,
            &build.sha256,
            pilot,
            &motcua_e2e::publisher(),
            "2026-03-02T08:00:00+07:00",
        )
        .await
        .expect("pilot rollout");
    build.info.code.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_plugins_fail_alone_and_in_bounded_time() {
    let server = TestServer::start(Backend::Sqlite, "2026-03-02 09:00").await;
    let budget = server.state.runtime.limits().call_budget();
    let good = filings()["birth"].clone();

    for (stem, expected) in [
        ("fixture_trap", "trapped"),
        ("fixture_spin", "CPU budget"),
        ("fixture_memory_hog", "memory"),
        ("fixture_flood", "cap allows"),
    ] {
        let procedure = deploy_fixture(&server, stem).await;
        let mut hostile = good.clone();
        hostile["procedure"] = json!(procedure);
        let before = server.row_counts().await;

        let started = Instant::now();
        let (bad, fine) = tokio::join!(
            async {
                let response = server.post("/api/v1/dossiers", None, &hostile).await;
                (response, started.elapsed())
            },
            async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                server.post("/api/v1/dossiers", None, &good).await
            }
        );
        let (bad, elapsed) = bad;
        let problem = bad.problem(StatusCode::BAD_GATEWAY);
        assert_eq!(
            problem["type"], "urn:motcua:problem:plugin-failed",
            "{stem}: {problem}"
        );
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains(&procedure),
            "{stem}: the error names the plugin: {detail}"
        );
        assert!(
            detail.contains(expected),
            "{stem}: the error says what happened: {detail}"
        );
        // Generous bound for a loaded CI machine; the budget itself is ~100 ms.
        assert!(
            elapsed < budget * 20 + Duration::from_secs(2),
            "{stem}: took {elapsed:?}"
        );
        assert_eq!(
            fine.status,
            StatusCode::CREATED,
            "{stem}: a concurrent good filing failed: {}",
            fine.body
        );
        let after = server.row_counts().await;
        assert_eq!(
            after.0,
            before.0 + 1,
            "{stem}: only the good dossier was written"
        );
        eprintln!("{stem}: failed in {elapsed:?} with: {detail}");
    }

    // The host keeps serving: the spinning plugin is stopped on every call, not once.
    let mut hostile = good.clone();
    hostile["procedure"] = json!("fixture.spin");
    for _ in 0..3 {
        let response = server.post("/api/v1/dossiers", None, &hostile).await;
        response.problem(StatusCode::BAD_GATEWAY);
    }
    let health = server.get("/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_refuses_what_is_not_a_procedure_component() {
    let server = TestServer::start(Backend::Sqlite, "2026-03-02 09:00").await;
    let registry = &server.state.registry;
    // A core module (not a component), and random bytes.
    let core_module = b"\0asm\x01\0\0\0".to_vec();
    let publisher = motcua_e2e::publisher();
    let error = registry
        .publish(core_module, &publisher, "now")
        .await
        .err()
        .expect("core module refused");
    assert!(
        error.to_string().contains("core WebAssembly module"),
        "{error}"
    );
    let error = registry
        .publish(vec![7u8; 512], &publisher, "now")
        .await
        .err()
        .expect("garbage refused");
    assert!(
        error.to_string().contains("not a valid component"),
        "{error}"
    );
    assert!(
        server.state.store.builds().await.unwrap().len() == 7,
        "nothing beyond the demo's seven builds was stored"
    );
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_that_break_the_declared_steps_are_rejected_before_writing() {
    let server = TestServer::start(Backend::Sqlite, "2026-03-02 09:00").await;
    let procedure = deploy_fixture(&server, "fixture_liar").await;
    let mut body = filings()["birth"].clone();
    body["procedure"] = json!(procedure);
    let filed = server.file(None, &body).await;
    let officer = "demo-xuan-hoa-officer";
    let before = server.row_counts().await;
    for (action, status, problem, says) in [
        (
            "jump",
            StatusCode::UNPROCESSABLE_ENTITY,
            "decision-rejected",
            "not declared",
        ),
        (
            "mislabel",
            StatusCode::UNPROCESSABLE_ENTITY,
            "decision-rejected",
            "declared with status processing",
        ),
        (
            "empty-supplement",
            StatusCode::UNPROCESSABLE_ENTITY,
            "decision-rejected",
            "list the missing items",
        ),
        (
            "settle-bare",
            StatusCode::UNPROCESSABLE_ENTITY,
            "decision-rejected",
            "without a result",
        ),
        (
            "double-apology",
            StatusCode::UNPROCESSABLE_ENTITY,
            "decision-rejected",
            "due date",
        ),
        (
            "undeclared-fee",
            StatusCode::UNPROCESSABLE_ENTITY,
            "decision-rejected",
            "fee `expedite` is not declared",
        ),
        (
            "bad-date",
            StatusCode::BAD_GATEWAY,
            "plugin-failed",
            "not a calendar date",
        ),
    ] {
        let response = server
            .act(officer, &filed.code, action, "", json!({}))
            .await;
        let body = response.problem(status);
        assert_eq!(
            body["type"],
            format!("urn:motcua:problem:{problem}"),
            "{action}: {body}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains(says),
            "{action}: {body}"
        );
        assert_eq!(server.row_counts().await, before, "{action}: wrote rows");
    }
    assert_eq!(
        server.version(officer, &filed.code).await,
        1,
        "the dossier never moved"
    );
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_instance_pool_pushes_back_with_503() {
    let limits = motcua::runtime::SandboxLimits {
        max_concurrent_calls: 1,
        queue_timeout: Duration::from_millis(20),
        // A one-second budget keeps the slot taken long enough to be sure of the order.
        call_deadline_ticks: 200,
        ..Default::default()
    };
    let server = TestServer::start_with(Backend::Sqlite, "2026-03-02 09:00", limits).await;
    let procedure = deploy_fixture(&server, "fixture_spin").await;
    let mut hostile = filings()["birth"].clone();
    hostile["procedure"] = json!(procedure);
    // The spinning call holds the only slot (and its unit's only turn) for its whole
    // budget; the second waits for the queue timeout and is told to come back.
    let (first, second) = tokio::join!(server.post("/api/v1/dossiers", None, &hostile), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        server
            .request(
                reqwest::Method::POST,
                "/api/v1/dossiers",
                None,
                &[],
                Some(filings()["birth"].to_string().into_bytes()),
            )
            .await
    });
    first.problem(StatusCode::BAD_GATEWAY);
    let busy = second.problem(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy["type"], "urn:motcua:problem:busy", "{busy}");
    // The wait was for Xuân Hòa's own running call: the problem names the unit, and
    // does not blame the healthy birth-registration plugin.
    assert_eq!(busy["saturated"], "unit", "{busy}");
    assert_eq!(busy["unit"], "xuan-hoa", "{busy}");
    assert!(busy.get("plugin").is_none(), "{busy}");
    // Once the slot is free again, filing works.
    let after = server
        .post("/api/v1/dossiers", None, &filings()["birth"])
        .await;
    assert_eq!(after.status, StatusCode::CREATED, "{}", after.body);
    server.finish().await;
}
