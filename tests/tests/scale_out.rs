//! Several hosts on one database: a host that meets a dossier pinned to a build it has
//! never loaded (published and rolled out through another host, before any refresh
//! here) loads that build from the store on the spot and answers, instead of refusing
//! the dossier until its next refresh. On both backends; the second host never
//! refreshes (no background work runs in the harness), so nothing else could explain it.
//! And the lease that lets one host at a time do periodic work.

use motcua_e2e::{Backend, TestServer, on_both_backends, plugin_bytes};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PUBLISHER: &str = "demo-phu-tho-publisher";
const OFFICER: &str = "demo-xuan-hoa-officer";
const HOUSEHOLD: &str = "1.001612";

fn household() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    let filings: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut body = filings["household"].clone();
    body["receiving_unit"] = json!("xuan-hoa");
    body
}

async fn a_host_loads_a_pinned_build_it_never_saw(backend: Backend) {
    let first = TestServer::start(backend, "2026-12-01 09:00").await;
    // The second host starts before the new build exists.
    let second = first.second_host().await;

    let published = first
        .post_bytes(
            "/api/v1/plugins",
            PUBLISHER,
            plugin_bytes("business_household_1_1"),
        )
        .await;
    assert!(published.status.is_success(), "{}", published.body);
    let sha256 = published.body["sha256"]
        .as_str()
        .expect("sha256")
        .to_string();
    let rolled = first
        .post(
            "/api/v1/rollouts",
            Some(PUBLISHER),
            &json!({ "procedure": HOUSEHOLD, "version": "1.1.0", "units": ["xuan-hoa"] }),
        )
        .await;
    assert_eq!(rolled.status, StatusCode::CREATED, "{}", rolled.body);
    assert!(
        second.state.registry.build(&sha256).is_none(),
        "the second host has not loaded the new build"
    );

    // Filed on the first host under the new build, acted on at the second at once.
    let filed = first.file(None, &household()).await;
    let view = second.dossier(OFFICER, &filed.code).await;
    assert_eq!(view["build"]["sha256"], sha256.as_str(), "{view}");
    let received = second
        .act_ok(OFFICER, &filed.code, "receive", json!({}))
        .await;
    assert_eq!(received["status"]["code"], 4, "{received}");
    assert_eq!(received["build"]["version"], "1.1.0", "{received}");
    assert!(second.state.registry.build(&sha256).is_some());

    // The first host sees the second's action.
    let seen = first.dossier(OFFICER, &filed.code).await;
    assert_eq!(seen["status"]["code"], 4);
    first.finish().await;
}

/// The lease of periodic work: one holder at a time, renewed by its holder, taken over
/// once it ends (its host stopped renewing it), and two hosts asking at the same moment
/// for a free lease never both get it.
async fn one_host_at_a_time_holds_a_lease(backend: Backend) {
    let first = TestServer::start(backend, "2026-12-01 09:00").await;
    let second = first.second_host().await;
    let (a, b) = (&first.state.store, &second.state.store);
    let at = |minute: u32| format!("2026-12-01T02:{minute:02}:00.000Z");
    assert!(
        a.claim_lease("deadline-sweep", "host-a", &at(0), &at(3))
            .await
            .unwrap()
    );
    assert!(
        !b.claim_lease("deadline-sweep", "host-b", &at(1), &at(4))
            .await
            .unwrap()
    );
    // Renewed by its holder.
    assert!(
        a.claim_lease("deadline-sweep", "host-a", &at(2), &at(5))
            .await
            .unwrap()
    );
    assert!(
        !b.claim_lease("deadline-sweep", "host-b", &at(4), &at(7))
            .await
            .unwrap()
    );
    // Host A stops renewing; once the lease ends, B takes it, and A no longer holds it.
    assert!(
        b.claim_lease("deadline-sweep", "host-b", &at(5), &at(8))
            .await
            .unwrap()
    );
    assert!(
        !a.claim_lease("deadline-sweep", "host-a", &at(6), &at(9))
            .await
            .unwrap()
    );
    // Another lease is independent.
    assert!(
        a.claim_lease("audit-anchor", "host-a", &at(6), &at(9))
            .await
            .unwrap()
    );

    // A race for a free lease, many times over: exactly one host wins each.
    let (start, end) = (at(0), at(3));
    for round in 0..20 {
        let name = format!("race-{round}");
        let (won_a, won_b) = tokio::join!(
            a.claim_lease(&name, "host-a", &start, &end),
            b.claim_lease(&name, "host-b", &start, &end),
        );
        assert!(
            won_a.unwrap() ^ won_b.unwrap(),
            "round {round}: exactly one host holds the lease"
        );
    }
    // Given back, it is free at once.
    b.release_lease("deadline-sweep", "host-b").await.unwrap();
    assert!(
        a.claim_lease("deadline-sweep", "host-a", &at(6), &at(9))
            .await
            .unwrap()
    );
    first.finish().await;
}

/// The version of the household procedure a unit is offered, as another host sees it.
async fn household_version(host: &TestServer, unit: &str) -> Option<String> {
    let offered = host
        .get(&format!("/api/v1/procedures?unit={unit}"), None)
        .await;
    assert!(offered.status.is_success(), "{}", offered.body);
    offered.body["procedures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["binding"]["procedure"] == HOUSEHOLD)
        .map(|p| p["build"]["version"].as_str().unwrap().to_string())
}

/// The periodic refresh rereads the bindings only when the registry changed: a host
/// with nothing new rereads nothing, however often it polls, and a change another host
/// commits (a pilot, a new unit with its default bindings) is still found by the poll
/// alone (the second host does not listen for notifications), once.
async fn a_refresh_rereads_only_what_changed(backend: Backend) {
    let first = TestServer::start(backend, "2026-12-01 09:00").await;
    let second = first.second_host().await;
    let registry = &second.state.registry;
    let reads = registry.binding_reads();
    for _ in 0..5 {
        second.state.refresh().await.unwrap();
    }
    assert_eq!(registry.binding_reads(), reads, "no change, nothing reread");

    // A pilot on the first host: found by the second's next poll, and only once.
    first
        .pilot(
            "business_household_1_1",
            &["xuan-hoa"],
            "2026-12-01T09:00:00+07:00",
        )
        .await;
    assert_eq!(
        household_version(&second, "xuan-hoa").await.as_deref(),
        Some("1.0.0")
    );
    second.state.refresh().await.unwrap();
    assert_eq!(registry.binding_reads(), reads + 1);
    assert_eq!(
        household_version(&second, "xuan-hoa").await.as_deref(),
        Some("1.1.0")
    );
    second.state.refresh().await.unwrap();
    assert_eq!(registry.binding_reads(), reads + 1, "nothing new since");

    // A unit added through the first host: its default bindings reach the second.
    let added = first
        .put(
            "/api/v1/units/lam-thao",
            Some("demo-phu-tho-admin"),
            &json!({ "name": "Xã Lâm Thao", "kind": "commune",
                     "agency_id": "000.40.19.H43", "parent": "phu-tho" }),
        )
        .await;
    assert!(added.status.is_success(), "{}", added.body);
    assert_eq!(household_version(&second, "lam-thao").await, None);
    second.state.refresh().await.unwrap();
    assert_eq!(registry.binding_reads(), reads + 2);
    assert_eq!(
        household_version(&second, "lam-thao").await.as_deref(),
        Some("1.0.0")
    );
    second.finish().await;
    first.finish().await;
}

on_both_backends!(
    a_host_loads_a_pinned_build_it_never_saw,
    one_host_at_a_time_holds_a_lease,
    a_refresh_rereads_only_what_changed
);
