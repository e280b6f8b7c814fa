//! Loading reported, publishing checked, settings capped, on both backends: a build
//! that does not load on a host makes `/readyz` name it and its dossiers answer 503
//! `build-unavailable` naming it (never a bare 500) while `/healthz` stays live; a
//! component declaring a step id with a control character is refused at publish,
//! naming the field; a unit's settings larger than their cap are refused with 413.

use motcua::app::{self, Config};
use motcua::runtime::SandboxLimits;
use motcua_e2e::{Backend, TestServer, plugin_bytes};
use reqwest::StatusCode;
use serde_json::{Value, json};

const OFFICER: &str = "demo-xuan-hoa-officer";
const PUBLISHER: &str = "demo-phu-tho-publisher";
const WARD_ADMIN: &str = "demo-xuan-hoa-admin";
const BIRTH: &str = "1.001193";

fn birth_filing() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    let filings: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    filings["birth"].clone()
}

/// GET on another host; (status, content type, JSON body).
async fn get(base: &str, path: &str, token: Option<&str>) -> (StatusCode, String, Value) {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request reaches the host");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

async fn a_build_that_does_not_load_is_named_not_a_500(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let ready = server.get("/readyz", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["unavailable_builds"], json!([]));
    let filed = server.file(None, &birth_filing()).await;
    let birth_sha = server
        .state
        .registry
        .binding("xuan-hoa", BIRTH)
        .unwrap()
        .build_sha256;

    // A host restarted with a memory cap below what the plugins need: their builds no
    // longer load there (the memory a plugin declares up front is over the cap).
    let limits = SandboxLimits {
        max_memory_bytes: 64 << 10,
        keep_resident_bytes: 64 << 10,
        ..server.state.runtime.limits().clone()
    };
    let config = Config {
        limits,
        cache_dir: Some(server.cache_dir()),
        storage: Some(server.storage.clone()),
        ..Config::new(server.database_url.clone())
    };
    let state = app::build_state(&config, server.clock.clone())
        .await
        .expect("a host with builds that do not load still starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let host = tokio::spawn(motcua::api::serve(
        listener,
        motcua::api::app(state.clone()),
    ));

    // Each build failed once at start; refreshing does not read and compile them
    // again at once (they fail for reasons of their own, not for a busy host).
    let failed_at_start = state.registry.stats().failed;
    assert!(failed_at_start > 0, "the builds failed to load at start");
    state.refresh().await.expect("refresh");
    state.refresh().await.expect("refresh");
    assert_eq!(
        state.registry.stats().failed,
        failed_at_start,
        "a build that cannot load is not retried on every refresh"
    );

    // Liveness holds; readiness names every build that does not load.
    let (status, _, health) = get(&base, "/healthz", None).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    let (status, content_type, ready) = get(&base, "/readyz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{ready}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(ready["type"], "urn:motcua:problem:not-ready");
    let named: Vec<(&str, &str)> = ready["unavailable_builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|build| {
            (
                build["plugin"].as_str().unwrap(),
                build["sha256"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(named.contains(&(BIRTH, birth_sha.as_str())), "{ready}");
    assert!(ready["detail"].as_str().unwrap().contains(BIRTH), "{ready}");
    assert!(
        ready["unavailable_builds"][0]["reason"]
            .as_str()
            .is_some_and(|reason| !reason.is_empty()),
        "{ready}"
    );

    // The filed dossier answers a problem naming its build, on reads and on actions.
    let (status, content_type, problem) = get(
        &base,
        &format!("/api/v1/dossiers/{}", filed.code),
        Some(OFFICER),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(problem["type"], "urn:motcua:problem:build-unavailable");
    assert_eq!(problem["build"]["plugin"], BIRTH);
    assert_eq!(problem["build"]["version"], "1.0.0");
    assert_eq!(problem["build"]["sha256"], birth_sha.as_str());
    let action = reqwest::Client::new()
        .post(format!("{base}/api/v1/dossiers/{}/actions", filed.code))
        .bearer_auth(OFFICER)
        .header("if-match", "\"1\"")
        .json(&json!({ "action": "receive" }))
        .send()
        .await
        .unwrap();
    assert_eq!(action.status(), StatusCode::SERVICE_UNAVAILABLE);
    let filing = reqwest::Client::new()
        .post(format!("{base}/api/v1/dossiers"))
        .json(&birth_filing())
        .send()
        .await
        .unwrap();
    let status = filing.status();
    let body: Value = filing.json().await.unwrap();
    assert!(
        status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::UNPROCESSABLE_ENTITY,
        "a new filing is refused with a problem, not a 500: {status} {body}"
    );
    host.abort();
    state.store.close().await;

    // The first host, which loads it, still serves the dossier.
    assert_eq!(
        server.dossier(OFFICER, &filed.code).await["code"],
        filed.code
    );
    server.finish().await;
}

async fn control_characters_in_declared_ids_are_refused_at_publish(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let events_before = server
        .get("/api/v1/registry/events?limit=1000", Some(PUBLISHER))
        .await
        .body;
    let refused = server
        .post_bytes(
            "/api/v1/plugins",
            PUBLISHER,
            plugin_bytes("fixture_invisible_ids"),
        )
        .await;
    let problem = refused.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "urn:motcua:problem:component-rejected");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("steps[1].id") && detail.contains("U+0000"),
        "{detail}"
    );
    // Nothing was stored or audited.
    let catalog = server.get("/api/v1/plugins", None).await.body.to_string();
    assert!(!catalog.contains("fixture.invisible-ids"), "{catalog}");
    assert_eq!(
        server
            .get("/api/v1/registry/events?limit=1000", Some(PUBLISHER))
            .await
            .body,
        events_before
    );
    server.finish().await;
}

async fn settings_over_their_cap_are_refused(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let cap = server.state.runtime.limits().max_input_bytes / 4;
    let path = format!("/api/v1/units/xuan-hoa/procedures/{BIRTH}");
    let before = server.state.registry.settings("xuan-hoa", BIRTH);

    // Just over the cap: refused whatever the schema says, naming the cap.
    let padding = "x".repeat(cap);
    let refused = server
        .put(
            &path,
            Some(WARD_ADMIN),
            &json!({ "settings": { "note": padding } }),
        )
        .await;
    let problem = refused.problem(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem["type"], "urn:motcua:problem:settings-too-large");
    assert_eq!(problem["cap"], cap);
    assert_eq!(
        problem["input_cap"],
        server.state.runtime.limits().max_input_bytes
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&cap.to_string()),
        "{problem}"
    );
    assert_eq!(server.state.registry.settings("xuan-hoa", BIRTH), before);

    // Settings within the cap still go through the schema, and valid ones are saved;
    // the procedure keeps answering.
    let saved = server
        .put(
            &path,
            Some(WARD_ADMIN),
            &json!({ "settings": { "late_registration_warning_days": 45 } }),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    server.file(None, &birth_filing()).await;
    server.finish().await;
}

motcua_e2e::on_both_backends!(
    a_build_that_does_not_load_is_named_not_a_500,
    control_characters_in_declared_ids_are_refused_at_publish,
    settings_over_their_cap_are_refused,
);
