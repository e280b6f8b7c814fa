//! The plugin registry through the API, on both backends: publish, pilot rollout,
//! rollout to all, rollback — with dossiers in flight under each build finishing under
//! their own rules; local variants and unit settings touching only their unit;
//! publish rejections that store nothing; the compiled cache across restarts; and a
//! rollout and rollback under continuous load without one failed request.

use std::time::{Duration, Instant};

use motcua_e2e::{Backend, TestServer, plugin_bytes, with_custom_section};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PUBLISHER: &str = "demo-phu-tho-publisher";
const HOUSEHOLD: &str = "1.001612";

fn household(unit: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    let filings: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut body = filings["household"].clone();
    body["receiving_unit"] = json!(unit);
    body
}

fn officer(unit: &str) -> String {
    format!("demo-{unit}-officer")
}

async fn publish(server: &TestServer, stem: &str) -> Value {
    let response = server
        .post_bytes("/api/v1/plugins", PUBLISHER, plugin_bytes(stem))
        .await;
    assert!(
        response.status.is_success(),
        "publishing {stem}: {}",
        response.body
    );
    response.body
}

async fn rollout(server: &TestServer, version: &str, units: Value) {
    let response = server
        .post(
            "/api/v1/rollouts",
            Some(PUBLISHER),
            &json!({ "procedure": HOUSEHOLD, "version": version, "units": units }),
        )
        .await;
    assert_eq!(
        response.status,
        StatusCode::CREATED,
        "rollout {version} to {units}: {}",
        response.body
    );
}

async fn rollback(server: &TestServer) -> Value {
    let response = server
        .post(
            "/api/v1/rollouts/rollback",
            Some(PUBLISHER),
            &json!({ "procedure": HOUSEHOLD }),
        )
        .await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "rollback: {}",
        response.body
    );
    response.body
}

/// The version of the household build a unit offers now.
async fn offered_version(server: &TestServer, unit: &str) -> String {
    let response = server
        .get(&format!("/api/v1/procedures?unit={unit}"), None)
        .await;
    let procedures = response.body["procedures"].as_array().unwrap();
    let household = procedures
        .iter()
        .find(|p| p["binding"]["procedure"] == HOUSEHOLD)
        .expect("household offered");
    household["build"]["version"].as_str().unwrap().to_string()
}

/// Files and receives a household dossier; returns its code, pinned version and due date.
async fn file_and_receive(server: &TestServer, unit: &str) -> (String, String, String) {
    let filed = server.file(None, &household(unit)).await;
    let view = server
        .act_ok(&officer(unit), &filed.code, "receive", json!({}))
        .await;
    (
        filed.code,
        view["build"]["version"].as_str().unwrap().to_string(),
        view["due_date"].as_str().unwrap().to_string(),
    )
}

async fn publish_pilot_all_rollback(backend: Backend) {
    // Monday 2 March 2026, 09:00: 3 working days is Thursday 5, 2 working days is Wednesday 4.
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let (a, a_version, a_due) = file_and_receive(&server, "xuan-hoa").await;
    assert_eq!(
        (a_version.as_str(), a_due.as_str()),
        ("1.0.0", "2026-03-05")
    );

    let published = publish(&server, "business_household_1_1").await;
    assert_eq!(published["version"], "1.1.0");
    assert_eq!(published["created"], true);
    // The same bytes again change nothing.
    let again = server
        .post_bytes(
            "/api/v1/plugins",
            PUBLISHER,
            plugin_bytes("business_household_1_1"),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["created"], false);

    rollout(&server, "1.1.0", json!(["xuan-hoa", "viet-tri"])).await;
    assert_eq!(offered_version(&server, "xuan-hoa").await, "1.1.0");
    assert_eq!(offered_version(&server, "viet-tri").await, "1.1.0");
    assert_eq!(offered_version(&server, "thanh-ba").await, "1.0.0");
    let (b, b_version, b_due) = file_and_receive(&server, "xuan-hoa").await;
    assert_eq!(
        (b_version.as_str(), b_due.as_str()),
        ("1.1.0", "2026-03-04")
    );
    let (_, c_version, c_due) = file_and_receive(&server, "thanh-ba").await;
    assert_eq!(
        (c_version.as_str(), c_due.as_str()),
        ("1.0.0", "2026-03-05")
    );

    rollout(&server, "1.1.0", json!("all")).await;
    assert_eq!(offered_version(&server, "thanh-ba").await, "1.1.0");
    let (d, d_version, _) = file_and_receive(&server, "thanh-ba").await;
    assert_eq!(d_version, "1.1.0");

    // A pilot officer reports a problem: undo "all", then the pilot.
    let undone = rollback(&server).await;
    assert_eq!(undone["scope"], "all");
    assert_eq!(offered_version(&server, "thanh-ba").await, "1.0.0");
    assert_eq!(
        offered_version(&server, "xuan-hoa").await,
        "1.1.0",
        "the pilot is still in place"
    );
    let undone = rollback(&server).await;
    assert_eq!(undone["scope"], "pilot");
    assert_eq!(offered_version(&server, "xuan-hoa").await, "1.0.0");
    let (_, e_version, _) = file_and_receive(&server, "xuan-hoa").await;
    assert_eq!(e_version, "1.0.0");

    // Dossiers in flight keep their build and its rules, whatever happened since.
    for (code, unit, version) in [
        (&a, "xuan-hoa", "1.0.0"),
        (&b, "xuan-hoa", "1.1.0"),
        (&d, "thanh-ba", "1.1.0"),
    ] {
        let pay = json!({ "amount_vnd": 100000, "online": true, "receipt": "VNPAY-1" });
        server
            .act_ok(&officer(unit), code, "record-payment", pay)
            .await;
        server
            .act_ok(
                &format!("demo-{unit}-specialist"),
                code,
                "propose",
                json!({}),
            )
            .await;
        server
            .act_ok(&format!("demo-{unit}-leader"), code, "approve", json!({}))
            .await;
        let done = server
            .act_ok(&officer(unit), code, "return-result", json!({}))
            .await;
        assert_eq!(done["status"]["code"], 10, "{code}");
        assert_eq!(done["build"]["version"], version, "{code} stays pinned");
    }

    // Every registry change is in the audit, with who did it.
    let events = server
        .get("/api/v1/registry/events?limit=20", Some(PUBLISHER))
        .await;
    let actions: Vec<&str> = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["publish", "rollout-pilot", "rollout-all", "rollback"] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    assert!(
        events.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| !e["actor"]["id"].as_str().unwrap().is_empty())
    );
    // Only the province's publishers roll out.
    let denied = server
        .post(
            "/api/v1/rollouts",
            Some("demo-xuan-hoa-admin"),
            &json!({ "procedure": HOUSEHOLD, "version": "1.1.0", "units": "all" }),
        )
        .await;
    denied.problem(StatusCode::FORBIDDEN);
    server.finish().await;
}

async fn publish_rejections_store_nothing(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let before = server.get("/api/v1/plugins", None).await.body["plugins"]
        .as_array()
        .unwrap()
        .len();
    let birth = plugin_bytes("birth_registration");
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str, &str)> = vec![
        (
            "core module",
            b"\0asm\x01\0\0\0".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "component-rejected",
            "core WebAssembly module",
        ),
        (
            "random bytes",
            vec![0x5a; 4096],
            StatusCode::UNPROCESSABLE_ENTITY,
            "component-rejected",
            "not a valid component",
        ),
        (
            "another world",
            plugin_bytes("fixture_other_world"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "component-rejected",
            "procedure world",
        ),
        (
            "wasi:filesystem",
            plugin_bytes("fixture_wasi_filesystem"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "component-rejected",
            "wasi:filesystem",
        ),
        (
            "wasi:sockets",
            plugin_bytes("fixture_wasi_sockets"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "component-rejected",
            "wasi:sockets",
        ),
        (
            "wasi:http",
            plugin_bytes("fixture_wasi_http"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "component-rejected",
            "wasi:http",
        ),
        (
            "describe traps",
            plugin_bytes("fixture_describe_trap"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "component-rejected",
            "trapped",
        ),
        (
            "describe loops",
            plugin_bytes("fixture_describe_spin"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "component-rejected",
            "CPU budget",
        ),
        (
            "over the size cap",
            with_custom_section(birth.clone(), "padding", 9 << 20),
            StatusCode::PAYLOAD_TOO_LARGE,
            "plugin-too-large",
            "limit",
        ),
        (
            "other bytes, same version",
            with_custom_section(birth, "build-note", 16),
            StatusCode::CONFLICT,
            "version-clash",
            "already published",
        ),
    ];
    let events_before = server
        .get("/api/v1/registry/events?limit=1000", Some(PUBLISHER))
        .await
        .body["events"]
        .as_array()
        .unwrap()
        .len();
    for (name, bytes, status, problem, says) in cases {
        let response = server.post_bytes("/api/v1/plugins", PUBLISHER, bytes).await;
        let body = response.problem(status);
        assert_eq!(
            body["type"],
            format!("urn:motcua:problem:{problem}"),
            "[{backend:?}] {name}: {body}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains(says),
            "[{backend:?}] {name}: {body}"
        );
        let after = server.get("/api/v1/plugins", None).await.body["plugins"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(
            after, before,
            "[{backend:?}] {name}: a rejected build was stored"
        );
    }
    let events_after = server
        .get("/api/v1/registry/events?limit=1000", Some(PUBLISHER))
        .await
        .body["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        events_after, events_before,
        "rejections leave no audit of a change that did not happen"
    );
    // Officers cannot publish.
    server
        .post_bytes(
            "/api/v1/plugins",
            "demo-xuan-hoa-officer",
            plugin_bytes("birth_registration"),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
    server.finish().await;
}

async fn local_variant_and_settings_touch_only_their_unit(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let variant = publish(&server, "business_household_onsite").await;
    assert_eq!(variant["variant_of"], HOUSEHOLD);
    // A local variant cannot be rolled out province-wide.
    let refused = server
        .post(
            "/api/v1/rollouts",
            Some(PUBLISHER),
            &json!({ "procedure": variant["plugin"], "version": "1.0.0", "units": "all" }),
        )
        .await;
    refused.problem(StatusCode::UNPROCESSABLE_ENTITY);

    let path = format!("/api/v1/units/xuan-hoa/procedures/{HOUSEHOLD}");
    // Settings that do not fit the schema are refused whole.
    let bad = server
        .put(
            &path,
            Some("demo-xuan-hoa-admin"),
            &json!({ "variant": "1.0.0", "settings": { "online_fee_exempt": "yes" } }),
        )
        .await;
    let body = bad.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["type"], "urn:motcua:problem:invalid-settings",
        "{body}"
    );
    assert_eq!(offered_version(&server, "xuan-hoa").await, "1.0.0");
    // Another unit's admin, or an officer, cannot change Xuân Hòa.
    server
        .put(
            &path,
            Some("demo-thanh-ba-admin"),
            &json!({ "variant": "1.0.0" }),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
    server
        .put(
            &path,
            Some("demo-xuan-hoa-officer"),
            &json!({ "variant": "1.0.0" }),
        )
        .await
        .problem(StatusCode::FORBIDDEN);

    let chosen = server
        .put(
            &path,
            Some("demo-xuan-hoa-admin"),
            &json!({ "variant": "1.0.0", "settings": { "online_fee_exempt": true } }),
        )
        .await;
    assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.body);
    assert_eq!(chosen.body["source"], "variant");
    let cutoff = server
        .put(
            "/api/v1/units/xuan-hoa/settings",
            Some("demo-xuan-hoa-admin"),
            &json!({ "cutoff": "16:30" }),
        )
        .await;
    assert_eq!(cutoff.status, StatusCode::OK, "{}", cutoff.body);

    // Xuân Hòa: the variant, no fee for an online dossier, an on-site step, and at 16:00
    // still before its cut-off.
    server.set_time("2026-03-02 16:00");
    let filed = server.file(None, &household("xuan-hoa")).await;
    let received = server
        .act_ok(&officer("xuan-hoa"), &filed.code, "receive", json!({}))
        .await;
    assert_eq!(received["build"]["sha256"], variant["sha256"]);
    assert_eq!(received["fees"]["requested_vnd"], 0);
    assert_eq!(received["due_date"], "2026-03-05");
    let proposed = server
        .act_ok(
            "demo-xuan-hoa-specialist",
            &filed.code,
            "propose",
            json!({}),
        )
        .await;
    assert_eq!(proposed["step"]["id"], "site-visit");
    let unverified = server
        .act(
            "demo-xuan-hoa-specialist",
            &filed.code,
            "record-site-visit",
            "",
            json!({ "verified": false, "report": "Đóng cửa" }),
        )
        .await;
    assert_eq!(
        unverified.problem(StatusCode::UNPROCESSABLE_ENTITY)["code"],
        "site-not-verified"
    );
    let visited = server
        .act_ok(
            "demo-xuan-hoa-specialist",
            &filed.code,
            "record-site-visit",
            json!({ "verified": true, "report": "Đúng địa chỉ đăng ký" }),
        )
        .await;
    assert_eq!(visited["step"]["id"], "approval");

    // Việt Trì: the province default, the fee, no on-site step, and 16:00 is after 15:00.
    let filed = server.file(None, &household("viet-tri")).await;
    let received = server
        .act_ok(&officer("viet-tri"), &filed.code, "receive", json!({}))
        .await;
    assert_eq!(received["build"]["version"], "1.0.0");
    assert_ne!(received["build"]["sha256"], variant["sha256"]);
    assert_eq!(received["fees"]["requested_vnd"], 100000);
    assert_eq!(received["due_date"], "2026-03-06");
    let refused = server
        .act(
            "demo-viet-tri-specialist",
            &filed.code,
            "propose",
            "",
            json!({}),
        )
        .await;
    assert_eq!(
        refused.problem(StatusCode::UNPROCESSABLE_ENTITY)["code"],
        "fee-unpaid"
    );

    // Thanh Ba switches the procedure off: nobody can file it there, other units still can.
    let off = server
        .put(
            &format!("/api/v1/units/thanh-ba/procedures/{HOUSEHOLD}"),
            Some("demo-thanh-ba-admin"),
            &json!({ "enabled": false }),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let refused = server
        .post("/api/v1/dossiers", None, &household("thanh-ba"))
        .await;
    assert_eq!(
        refused.problem(StatusCode::UNPROCESSABLE_ENTITY)["type"],
        "urn:motcua:problem:unknown-procedure"
    );
    server.file(None, &household("viet-tri")).await;
    let on = server
        .put(
            &format!("/api/v1/units/thanh-ba/procedures/{HOUSEHOLD}"),
            Some("demo-thanh-ba-admin"),
            &json!({ "enabled": true }),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    server.file(None, &household("thanh-ba")).await;

    // Back to the province default in one call; settings changes were audited.
    let back = server
        .put(
            &path,
            Some("demo-xuan-hoa-admin"),
            &json!({ "variant": null }),
        )
        .await;
    assert_eq!(back.body["source"], "default", "{}", back.body);
    let events = server
        .get(
            "/api/v1/registry/events?limit=50",
            Some("demo-xuan-hoa-admin"),
        )
        .await;
    let configured = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        // The demo's accounts of the unit are audited too; count only its settings.
        .filter(|e| e["unit"] == "xuan-hoa" && e["action"] != "account-create")
        .count();
    assert!(
        configured >= 3,
        "variant, cut-off and revert are audited: {}",
        events.body
    );
    server.finish().await;
}

async fn compiled_cache_survives_restarts_and_rebuilds_tampered_entries(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let builds = server.state.store.builds().await.unwrap().len();
    assert_eq!(server.state.registry.stats().compiled, builds);

    let server = server.restart().await;
    let stats = server.state.registry.stats();
    assert_eq!(
        (stats.compiled, stats.cache_hits, stats.rebuilt),
        (0, builds, 0),
        "a restart compiles nothing"
    );
    server.file(None, &household("xuan-hoa")).await;

    // Flip one byte in the middle of one entry: it must be rebuilt, not loaded.
    let entry = std::fs::read_dir(server.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .unwrap();
    let mut bytes = std::fs::read(&entry).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&entry, &bytes).unwrap();
    let server = server.restart().await;
    let stats = server.state.registry.stats();
    assert_eq!(
        (stats.compiled, stats.cache_hits, stats.rebuilt),
        (0, builds - 1, 1),
        "the tampered entry was rebuilt"
    );
    assert_ne!(
        std::fs::read(&entry).unwrap(),
        bytes,
        "the entry was rewritten"
    );

    // Another build's valid entry under this build's name is foreign: rebuilt too.
    let entries: Vec<_> = std::fs::read_dir(server.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert!(entries.len() >= 2);
    std::fs::copy(&entries[0], &entries[1]).unwrap();
    let server = server.restart().await;
    assert_eq!(
        server.state.registry.stats().rebuilt,
        1,
        "a swapped entry is not loaded"
    );
    server.file(None, &household("xuan-hoa")).await;
    server.file(None, &household("thanh-ba")).await;
    server.finish().await;
}

async fn rollback_respects_what_units_chose_since(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    publish(&server, "business_household_1_1").await;
    publish(&server, "business_household_onsite").await;
    // A pilot naming a unit twice is one pilot unit.
    rollout(
        &server,
        "1.1.0",
        json!(["xuan-hoa", "viet-tri", "xuan-hoa"]),
    )
    .await;
    // After the rollout, Xuân Hòa's admin moves to the local variant and Việt Trì's
    // switches the procedure off.
    let path = format!("/api/v1/units/xuan-hoa/procedures/{HOUSEHOLD}");
    let chosen = server
        .put(
            &path,
            Some("demo-xuan-hoa-admin"),
            &json!({ "variant": "1.0.0" }),
        )
        .await;
    assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.body);
    let off = server
        .put(
            &format!("/api/v1/units/viet-tri/procedures/{HOUSEHOLD}"),
            Some("demo-viet-tri-admin"),
            &json!({ "enabled": false }),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);

    rollback(&server).await;
    // Xuân Hòa keeps its variant; Việt Trì is back on 1.0.0 and still switched off.
    let procedures = server.get("/api/v1/procedures?unit=xuan-hoa", None).await;
    let offered = procedures.body["procedures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["binding"]["procedure"] == HOUSEHOLD)
        .unwrap()
        .clone();
    assert_eq!(offered["binding"]["source"], "variant", "{offered}");
    let refused = server
        .post("/api/v1/dossiers", None, &household("viet-tri"))
        .await;
    assert_eq!(
        refused.problem(StatusCode::UNPROCESSABLE_ENTITY)["type"],
        "urn:motcua:problem:unknown-procedure"
    );
    let on = server
        .put(
            &format!("/api/v1/units/viet-tri/procedures/{HOUSEHOLD}"),
            Some("demo-viet-tri-admin"),
            &json!({ "enabled": true }),
        )
        .await;
    assert_eq!(on.body["build"]["version"], "1.0.0", "{}", on.body);
    // Text with control characters never reaches the database.
    let bad = server
        .post(
            "/api/v1/rollouts/rollback",
            Some(PUBLISHER),
            &json!({ "procedure": "1.001612\u{0}" }),
        )
        .await;
    bad.problem(StatusCode::UNPROCESSABLE_ENTITY);
    server.finish().await;
}

motcua_e2e::on_both_backends!(
    rollback_respects_what_units_chose_since,
    publish_pilot_all_rollback,
    publish_rejections_store_nothing,
    local_variant_and_settings_touch_only_their_unit,
    compiled_cache_survives_restarts_and_rebuilds_tampered_entries
);

/// Clients keep filing and receiving dossiers while provincial IT publishes, pilots,
/// rolls out to all and rolls back twice. No request may fail, and every dossier's due
/// date must follow the rules of the build it is pinned to. Loopback only; bounded by
/// a request count and a deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_and_rollback_under_load_fail_no_request() {
    let server = std::sync::Arc::new(TestServer::start(Backend::Sqlite, "2026-03-02 09:00").await);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut clients = Vec::new();
    for client in 0..4 {
        let server = server.clone();
        let stop = stop.clone();
        clients.push(tokio::spawn(async move {
            let unit = ["xuan-hoa", "thanh-ba", "viet-tri", "xuan-hoa"][client];
            let mut seen = Vec::new();
            for _ in 0..400 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) || Instant::now() > deadline {
                    break;
                }
                seen.push(file_and_receive(&server, unit).await);
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    publish(&server, "business_household_1_1").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    rollout(&server, "1.1.0", json!(["xuan-hoa"])).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    rollout(&server, "1.1.0", json!("all")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    rollback(&server).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    rollback(&server).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);

    let mut versions = std::collections::BTreeMap::new();
    for client in clients {
        // A failed request panics inside `file_and_receive`, which fails the join.
        for (code, version, due) in client.await.expect("a client saw a failed request") {
            let expected = if version == "1.1.0" {
                "2026-03-04"
            } else {
                "2026-03-05"
            };
            assert_eq!(due, expected, "{code} under {version}");
            *versions.entry(version).or_insert(0) += 1;
        }
    }
    assert!(
        versions.get("1.0.0").copied().unwrap_or(0) > 0
            && versions.get("1.1.0").copied().unwrap_or(0) > 0,
        "{versions:?}"
    );
    eprintln!("dossiers by build during the rollout: {versions:?}");
}
