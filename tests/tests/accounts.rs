//! Accounts over HTTP and the one authorisation rule, on both backends: admins manage
//! their staff without shell access (the province's admins every unit of the province,
//! a unit's admins their own); rollbacks and the registry's audit stay within the
//! caller's province or unit; re-running the demo seed keeps what admins changed.

use motcua::accounts::{self, NewAccount};
use motcua::domain::{Author, UnitKind};
use motcua::store::Unit;
use motcua_e2e::{Backend, TestServer, plugin_bytes};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PROVINCE_ADMIN: &str = "demo-phu-tho-admin";
const PUBLISHER: &str = "demo-phu-tho-publisher";
const WARD_ADMIN: &str = "demo-xuan-hoa-admin";
const HOUSEHOLD: &str = "1.001612";

fn operator() -> Author {
    Author {
        id: "cli:test-operator".into(),
        role: "operator".into(),
    }
}

/// Creates an account as an operator would at the command line; returns its token.
async fn token(server: &TestServer, unit: &str, role: &str, name: &str) -> String {
    let account = NewAccount {
        unit: unit.into(),
        role: role.into(),
        name: Some(name.into()),
        expires: None,
        password: None,
    };
    accounts::create(
        &server.state.store,
        account,
        &operator(),
        server.state.now(),
    )
    .await
    .unwrap_or_else(|error| panic!("create {name}: {error}"))
    .1
}

/// A second province and one of its wards, written straight to the store: the API and
/// the unit files keep one province per database, so this is data the registry must
/// never trust to be absent.
async fn second_province(server: &TestServer) {
    for (code, kind, parent) in [
        ("ha-noi", UnitKind::Province, None),
        ("ba-dinh", UnitKind::Ward, Some("ha-noi")),
    ] {
        server
            .state
            .store
            .upsert_unit(&Unit {
                code: code.into(),
                name: code.into(),
                kind,
                parent: parent.map(Into::into),
                agency_id: format!("000.00.{}.H26", code.len()),
                cutoff: "15:00".into(),
            })
            .await
            .unwrap();
    }
}

async fn events(server: &TestServer, token: &str) -> Vec<Value> {
    let response = server
        .get("/api/v1/registry/events?limit=1000", Some(token))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body["events"].as_array().unwrap().clone()
}

async fn household_version(server: &TestServer, unit: &str) -> String {
    let response = server
        .get(&format!("/api/v1/procedures?unit={unit}"), None)
        .await;
    response.body["procedures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|procedure| procedure["code"] == HOUSEHOLD)
        .map(|procedure| procedure["build"]["version"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn admins_manage_their_staff_over_http(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;

    // The province's admin creates a ward officer; the token is shown once and works.
    let created = server
        .post(
            "/api/v1/units/xuan-hoa/accounts",
            Some(PROVINCE_ADMIN),
            &json!({ "role": "officer", "name": "nguyen-thi-lan", "expires": "2026-12-31" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["id"], "nguyen-thi-lan");
    assert_eq!(created.body["state"], "active");
    assert_eq!(created.body["expires_at"], "2027-01-01T00:00:00+07:00");
    let lan = created.body["token"].as_str().unwrap().to_string();
    let inbox = server
        .get("/api/v1/units/xuan-hoa/dossiers", Some(&lan))
        .await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);

    // The ward's admin lists and manages their own unit, never another.
    let listed = server
        .get("/api/v1/units/xuan-hoa/accounts", Some(WARD_ADMIN))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let ids: Vec<&str> = listed.body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|account| account["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"nguyen-thi-lan"), "{ids:?}");
    assert!(
        ids.iter()
            .all(|id| id.starts_with("xuan-hoa-") || *id == "nguyen-thi-lan")
    );
    assert!(
        !listed.body.to_string().contains("mct_"),
        "no tokens listed"
    );
    for (method, path, body) in [
        ("GET", "/api/v1/units/viet-tri/accounts", None),
        (
            "POST",
            "/api/v1/units/viet-tri/accounts",
            Some(json!({ "role": "officer" })),
        ),
        ("POST", "/api/v1/accounts/viet-tri-officer/revoke", None),
        ("POST", "/api/v1/accounts/phu-tho-publisher/revoke", None),
    ] {
        let response = server
            .request(
                method.parse().unwrap(),
                path,
                Some(WARD_ADMIN),
                &[],
                body.map(|body| body.to_string().into_bytes()),
            )
            .await;
        response.problem(StatusCode::FORBIDDEN);
    }
    // Publishers belong to the province; other staff do not manage accounts.
    let publisher = server
        .post(
            "/api/v1/units/xuan-hoa/accounts",
            Some(WARD_ADMIN),
            &json!({ "role": "publisher" }),
        )
        .await;
    assert!(
        publisher.problem(StatusCode::UNPROCESSABLE_ENTITY)["detail"]
            .as_str()
            .unwrap()
            .contains("publishers belong to the province")
    );
    for token in ["demo-xuan-hoa-officer", PUBLISHER] {
        server
            .get("/api/v1/units/xuan-hoa/accounts", Some(token))
            .await
            .problem(StatusCode::FORBIDDEN);
    }
    server
        .get("/api/v1/units/xuan-hoa/accounts", None)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    server
        .get("/api/v1/units/nowhere/accounts", Some(PROVINCE_ADMIN))
        .await
        .problem(StatusCode::NOT_FOUND);
    server
        .post(
            "/api/v1/accounts/no-such-account/revoke",
            Some(WARD_ADMIN),
            &json!({}),
        )
        .await
        .problem(StatusCode::NOT_FOUND);
    let clash = server
        .post(
            "/api/v1/units/xuan-hoa/accounts",
            Some(WARD_ADMIN),
            &json!({ "role": "leader", "name": "nguyen-thi-lan" }),
        )
        .await;
    clash.problem(StatusCode::CONFLICT);
    let bad_role = server
        .post(
            "/api/v1/units/xuan-hoa/accounts",
            Some(WARD_ADMIN),
            &json!({ "role": "mayor" }),
        )
        .await;
    bad_role.problem(StatusCode::UNPROCESSABLE_ENTITY);

    // The ward's admin revokes the officer: refused at once; a second revoke is a no-op.
    let revoked = server
        .post(
            "/api/v1/accounts/nguyen-thi-lan/revoke",
            Some(WARD_ADMIN),
            &json!({}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(revoked.body["state"], "revoked");
    assert_eq!(revoked.body["already_revoked"], false);
    let refused = server
        .get("/api/v1/units/xuan-hoa/dossiers", Some(&lan))
        .await;
    assert_eq!(
        refused.problem(StatusCode::UNAUTHORIZED)["type"],
        "urn:motcua:problem:token-revoked"
    );
    let again = server
        .post(
            "/api/v1/accounts/nguyen-thi-lan/revoke",
            Some(PROVINCE_ADMIN),
            &json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["already_revoked"], true);

    // Audited like the command line, naming who did it.
    let audit = events(&server, PROVINCE_ADMIN).await;
    let by: Vec<(&str, &str)> = audit
        .iter()
        .filter(|event| event["after"]["id"] == "nguyen-thi-lan")
        .map(|event| {
            (
                event["action"].as_str().unwrap(),
                event["actor"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by,
        [
            ("account-revoke", "xuan-hoa-admin"),
            ("account-create", "phu-tho-admin")
        ]
    );
    server.finish().await;
}

async fn rollbacks_stay_in_the_callers_province(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    second_province(&server).await;
    let foreign = token(&server, "ha-noi", "publisher", "ha-noi-publisher").await;
    let ward_publisher = token(&server, "xuan-hoa", "publisher", "xuan-hoa-publisher").await;

    // Phú Thọ's publisher pilots household 1.1.0 at Xuân Hòa.
    let published = server
        .post_bytes(
            "/api/v1/plugins",
            PUBLISHER,
            plugin_bytes("business_household_1_1"),
        )
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.body);
    let pilot = server
        .post(
            "/api/v1/rollouts",
            Some(PUBLISHER),
            &json!({ "procedure": HOUSEHOLD, "version": "1.1.0", "units": ["xuan-hoa"] }),
        )
        .await;
    assert_eq!(pilot.status, StatusCode::CREATED, "{}", pilot.body);
    assert_eq!(household_version(&server, "xuan-hoa").await, "1.1.0");

    // Hà Nội's publisher cannot undo it; a ward's "publisher" cannot publish or undo.
    let rollback = json!({ "procedure": HOUSEHOLD });
    let refused = server
        .post("/api/v1/rollouts/rollback", Some(&foreign), &rollback)
        .await;
    let detail = refused.problem(StatusCode::FORBIDDEN)["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("another province") && detail.contains("`xuan-hoa`"),
        "{detail}"
    );
    server
        .post(
            "/api/v1/rollouts/rollback",
            Some(&ward_publisher),
            &rollback,
        )
        .await
        .problem(StatusCode::FORBIDDEN);
    server
        .post_bytes(
            "/api/v1/plugins",
            &ward_publisher,
            plugin_bytes("business_household_1_1"),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
    assert_eq!(
        household_version(&server, "xuan-hoa").await,
        "1.1.0",
        "refused rollbacks change nothing"
    );
    assert!(
        events(&server, PROVINCE_ADMIN)
            .await
            .iter()
            .all(|event| event["action"] != "rollback")
    );

    // Its own province's publisher can.
    let undone = server
        .post("/api/v1/rollouts/rollback", Some(PUBLISHER), &rollback)
        .await;
    assert_eq!(undone.status, StatusCode::OK, "{}", undone.body);
    assert_eq!(household_version(&server, "xuan-hoa").await, "1.0.0");
    server.finish().await;
}

async fn registry_events_are_scoped_to_the_callers_reach(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    second_province(&server).await;
    let ward_publisher = token(&server, "xuan-hoa", "publisher", "xuan-hoa-publisher").await;
    let foreign_admin = token(&server, "ha-noi", "admin", "ha-noi-admin").await;
    for (unit, cutoff) in [("xuan-hoa", "16:00"), ("viet-tri", "16:30")] {
        let response = server
            .put(
                &format!("/api/v1/units/{unit}/settings"),
                Some(&format!("demo-{unit}-admin")),
                &json!({ "cutoff": cutoff }),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    }
    let units_of = |events: &[Value]| {
        let mut units: Vec<String> = events
            .iter()
            .map(|event| {
                event["unit"]
                    .as_str()
                    .unwrap_or("(province-wide)")
                    .to_string()
            })
            .collect();
        units.sort();
        units.dedup();
        units
    };

    // A ward's publisher and admin read their ward's events only.
    for token in [ward_publisher.as_str(), WARD_ADMIN] {
        let seen = events(&server, token).await;
        assert_eq!(units_of(&seen), ["xuan-hoa"], "{token}");
        assert!(seen.iter().any(|event| event["action"] == "set-cutoff"));
    }
    // The province's staff read the province's: province-wide events and every ward's.
    for token in [PUBLISHER, PROVINCE_ADMIN] {
        let seen = events(&server, token).await;
        let units = units_of(&seen);
        for unit in [
            "(province-wide)",
            "phu-tho",
            "thanh-ba",
            "viet-tri",
            "xuan-hoa",
        ] {
            assert!(units.contains(&unit.to_string()), "{token}: {units:?}");
        }
        assert!(seen.iter().any(|event| event["action"] == "publish"));
    }
    // Another province's admin sees none of Phú Thọ's units.
    let seen = events(&server, &foreign_admin).await;
    assert!(
        units_of(&seen)
            .iter()
            .all(|unit| unit == "ha-noi" || unit == "(province-wide)"),
        "{:?}",
        units_of(&seen)
    );
    // Officers read none of it.
    server
        .get("/api/v1/registry/events", Some("demo-xuan-hoa-officer"))
        .await
        .problem(StatusCode::FORBIDDEN);
    server.finish().await;
}

async fn reseeding_the_demo_keeps_what_admins_changed(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let changed = server
        .put(
            "/api/v1/units/xuan-hoa/settings",
            Some(WARD_ADMIN),
            &json!({ "cutoff": "16:30" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let revoked = server
        .post(
            "/api/v1/accounts/thanh-ba-leader/revoke",
            Some(PROVINCE_ADMIN),
            &json!({}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    let units_before = server.get("/api/v1/units", None).await.body;
    let events_before = events(&server, PROVINCE_ADMIN).await;

    motcua::demo::seed(&server.state).await.expect("re-seed");

    let unit = server.state.store.unit("xuan-hoa").await.unwrap().unwrap();
    assert_eq!(unit.cutoff, "16:30");
    assert_eq!(server.get("/api/v1/units", None).await.body, units_before);
    assert_eq!(
        events(&server, PROVINCE_ADMIN).await,
        events_before,
        "re-seeding writes nothing"
    );
    server
        .get(
            "/api/v1/units/thanh-ba/dossiers",
            Some("demo-thanh-ba-leader"),
        )
        .await
        .problem(StatusCode::UNAUTHORIZED);
    server.finish().await;
}

motcua_e2e::on_both_backends!(
    admins_manage_their_staff_over_http,
    rollbacks_stay_in_the_callers_province,
    registry_events_are_scoped_to_the_callers_reach,
    reseeding_the_demo_keeps_what_admins_changed,
);
