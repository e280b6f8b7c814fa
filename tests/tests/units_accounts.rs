//! Units and accounts as data the province manages, on both backends: unit files with
//! errors write nothing and say where each error is; the sample file imports once and
//! then changes nothing; units added after a rollout to all get the province default;
//! rollouts follow the kinds of units; `PUT /api/v1/units/{code}` is the province
//! admins'; expired and revoked tokens are refused on every host at once.

use motcua::accounts::{self, NewAccount};
use motcua::clock::format_civil;
use motcua::domain::Author;
use motcua::store::Revocation;
use motcua::units::{self, ImportSummary, UnitsError};
use motcua_e2e::{Backend, TestServer, plugin_bytes};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN: &str = "demo-phu-tho-admin";
const PUBLISHER: &str = "demo-phu-tho-publisher";
const BIRTH: &str = "1.001193";
const HOUSEHOLD: &str = "1.001612";
const DEATH: &str = "1.000656";
const MARRIAGE: &str = "1.000894";
const LAND: &str = "1.012756";
const COPIES: &str = "2.000908";
const HEADER: &str = "code,name,kind,agency_id,parent\n";

fn operator() -> Author {
    Author {
        id: "cli:test-operator".into(),
        role: "operator".into(),
    }
}

fn sample_file() -> Vec<u8> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/phu-tho-units.csv");
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn filing(name: &str, unit: &str) -> Value {
    let mut body = motcua_e2e::scenarios::filings()[name].clone();
    body["receiving_unit"] = json!(unit);
    body
}

async fn import(server: &TestServer, file: &[u8]) -> Result<ImportSummary, UnitsError> {
    let at = format_civil(server.state.now());
    units::import_csv(&server.state.store, file, &operator(), &at).await
}

/// The errors of an import that must fail, as `motcua units import` prints them.
async fn import_errors(server: &TestServer, file: &str) -> Vec<String> {
    match import(server, file.as_bytes()).await {
        Err(UnitsError::Invalid(errors)) => errors.iter().map(ToString::to_string).collect(),
        other => panic!("expected validation errors for {file:?}, got {other:?}"),
    }
}

/// Every unit and every registry event, as the API shows them.
async fn province_data(server: &TestServer) -> (Value, Value) {
    let units = server.get("/api/v1/units", None).await;
    assert_eq!(units.status, StatusCode::OK, "{}", units.body);
    let events = server
        .get("/api/v1/registry/events?limit=1000", Some(ADMIN))
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.body);
    (units.body, events.body)
}

fn events_named(events: &Value, action: &str) -> Vec<Value> {
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == action)
        .cloned()
        .collect()
}

/// The procedure codes a unit offers, and the household version if it offers that.
async fn offered(server: &TestServer, unit: &str) -> (Vec<String>, Option<String>) {
    let response = server
        .get(&format!("/api/v1/procedures?unit={unit}"), None)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let procedures = response.body["procedures"].as_array().unwrap();
    let codes = procedures
        .iter()
        .map(|p| p["binding"]["procedure"].as_str().unwrap().to_string())
        .collect();
    let household = procedures
        .iter()
        .find(|p| p["binding"]["procedure"] == HOUSEHOLD)
        .map(|p| p["build"]["version"].as_str().unwrap().to_string());
    (codes, household)
}

async fn put_unit(server: &TestServer, token: Option<&str>, code: &str, body: Value) -> Value {
    let response = server
        .put(&format!("/api/v1/units/{code}"), token, &body)
        .await;
    assert!(
        response.status.is_success(),
        "PUT unit {code}: {}",
        response.body
    );
    response.body
}

async fn import_errors_write_nothing(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let before = province_data(&server).await;

    // A bad line: a wrong kind on one line, an empty name on another, beside a good one.
    let errors = import_errors(
        &server,
        &format!(
            "{HEADER}new-a,Xã A,town,000.90.19.H43,phu-tho\n\
             new-b,,commune,000.91.19.H43,phu-tho\n\
             new-c,Xã C,commune,000.92.19.H43,phu-tho\n"
        ),
    )
    .await;
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with("line 2, field kind: `town` is not a kind of unit"),
        "{errors:#?}"
    );
    assert!(
        errors[1].starts_with("line 3, field name: required"),
        "{errors:#?}"
    );

    // An unknown parent.
    let errors = import_errors(
        &server,
        &format!("{HEADER}# comments count as lines\nnew-d,Xã D,commune,000.93.19.H43,ha-noi\n"),
    )
    .await;
    assert_eq!(
        errors,
        [
            "line 3, field parent: unknown parent `ha-noi`: it is neither in the file nor in the database"
        ]
    );

    // A duplicate code names both lines.
    let errors = import_errors(
        &server,
        &format!(
            "{HEADER}new-e,Xã E,commune,000.94.19.H43,phu-tho\n\
             new-e,Phường E,ward,000.95.19.H43,phu-tho\n"
        ),
    )
    .await;
    assert_eq!(
        errors,
        ["line 3, field code: `new-e` is also on line 2; each unit appears once"]
    );

    // An agency e-ID used twice in the file, and one another unit holds in the database.
    let errors = import_errors(
        &server,
        &format!(
            "{HEADER}new-f,Xã F,commune,000.96.19.H43,phu-tho\n\
             new-g,Xã G,commune,000.96.19.H43,phu-tho\n\
             new-h,Xã H,commune,000.31.19.H43,phu-tho\n"
        ),
    )
    .await;
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with(
            "line 3, field agency_id: `000.96.19.H43` is also the agency e-ID of `new-f` on line 2"
        ),
        "{errors:#?}"
    );
    assert!(
        errors[1].starts_with(
            "line 4, field agency_id: `000.31.19.H43` is the agency e-ID of unit `xuan-hoa`"
        ),
        "{errors:#?}"
    );

    // A second province, and a demo ward turned into a department.
    let errors = import_errors(
        &server,
        &format!(
            "{HEADER}ha-noi,Thành phố Hà Nội,province,000.00.00.H26,\n\
             xuan-hoa,Phường Xuân Hòa,department,000.31.19.H43,phu-tho\n"
        ),
    )
    .await;
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].contains("the province is `phu-tho`"),
        "{errors:#?}"
    );
    assert!(errors[1].contains("`xuan-hoa` is a ward"), "{errors:#?}");

    // Not one of those files wrote a unit or an audit event.
    assert_eq!(province_data(&server).await, before);
    let missing = server.get("/api/v1/units/new-c", None).await;
    missing.problem(StatusCode::NOT_FOUND);
    server.finish().await;
}

async fn sample_file_imports_once_over_the_demo(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let (_, events_before) = province_data(&server).await;

    // The demo's four units are in the file as the demo made them.
    let summary = import(&server, &sample_file())
        .await
        .expect("sample imports");
    assert_eq!(
        summary,
        ImportSummary {
            created: 14,
            updated: 0,
            unchanged: 4
        }
    );
    let after_first = province_data(&server).await;
    let created = events_named(&after_first.1, "unit-create");
    assert_eq!(created.len(), 14, "one audited event per new unit");
    assert_eq!(
        after_first.1["events"].as_array().unwrap().len(),
        events_before["events"].as_array().unwrap().len() + 14
    );
    let nong_trang = created
        .iter()
        .find(|event| event["unit"] == "nong-trang")
        .expect("nong-trang audited");
    assert_eq!(nong_trang["actor"]["id"], "cli:test-operator");
    assert_eq!(nong_trang["before"], Value::Null);
    assert_eq!(nong_trang["after"]["name"], "Phường Nông Trang");
    assert_eq!(
        nong_trang["after"]["bindings"].as_array().unwrap().len(),
        5,
        "a new ward starts with the five commune-level defaults: {nong_trang}"
    );

    // GET lists every unit with its kind.
    let kinds: Vec<(String, String)> = after_first.0["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|unit| {
            (
                unit["code"].as_str().unwrap().to_string(),
                unit["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(kinds.len(), 19);
    for (code, kind) in [
        ("phu-tho", "province"),
        ("so-tu-phap", "department"),
        ("xuan-hoa", "ward"),
        ("viet-tri", "ward"),
        ("thanh-ba", "commune"),
        ("lam-thao", "commune"),
    ] {
        assert!(
            kinds.contains(&(code.to_string(), kind.to_string())),
            "{code} is a {kind}: {kinds:?}"
        );
    }
    let one = server.get("/api/v1/units/so-tu-phap", None).await;
    assert_eq!(
        one.body,
        json!({ "code": "so-tu-phap", "name": "Sở Tư pháp", "kind": "department",
                "agency_id": "000.00.01.H43", "parent": "phu-tho" })
    );

    // The second import changes nothing and writes no event.
    let summary = import(&server, &sample_file())
        .await
        .expect("imports again");
    assert_eq!(
        summary,
        ImportSummary {
            created: 0,
            updated: 0,
            unchanged: 18
        }
    );
    assert_eq!(province_data(&server).await, after_first);

    // Once the host refreshes (periodically, or here by hand), new wards and communes
    // offer the province defaults of the five commune-level demo procedures, and their
    // counters receive the demo department's land procedure; a new department offers
    // the province-level default and none of the commune-level ones.
    server.state.registry.refresh().await.expect("refresh");
    let (codes, _) = offered(&server, "nong-trang").await;
    assert_eq!(codes, [DEATH, MARRIAGE, BIRTH, HOUSEHOLD, LAND, COPIES]);
    let (codes, _) = offered(&server, "so-tu-phap").await;
    assert_eq!(codes, [LAND]);
    let filed = server.file(None, &filing("birth", "tam-dao")).await;
    assert!(
        filed.code.starts_with("000.43.19.H43-260302-"),
        "{}",
        filed.code
    );

    // A changed name is an update, audited with before and after.
    let renamed = String::from_utf8(sample_file())
        .unwrap()
        .replace("Xã Tam Đảo", "Xã Tam Đảo (mới)");
    let summary = import(&server, renamed.as_bytes()).await.expect("rename");
    assert_eq!((summary.updated, summary.unchanged), (1, 17));
    let (_, events) = province_data(&server).await;
    let updates = events_named(&events, "unit-update");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["before"]["name"], "Xã Tam Đảo");
    assert_eq!(updates[0]["after"]["name"], "Xã Tam Đảo (mới)");
    server.finish().await;
}

async fn units_added_later_follow_the_defaults_and_rollouts_follow_kinds(backend: Backend) {
    // Monday 2 March 2026, 09:00.
    let server = TestServer::start(backend, "2026-03-02 09:00").await;

    // A ward added after the demo's rollout to all offers the demo's procedures at once.
    let created = server
        .put(
            "/api/v1/units/nong-trang",
            Some(ADMIN),
            &json!({ "name": "Phường Nông Trang", "kind": "ward",
                     "agency_id": "000.33.19.H43", "parent": "phu-tho" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["outcome"], "created");
    let (codes, household) = offered(&server, "nong-trang").await;
    assert_eq!(codes, [DEATH, MARRIAGE, BIRTH, HOUSEHOLD, LAND, COPIES]);
    assert_eq!(household.as_deref(), Some("1.0.0"));
    let filed = server.file(None, &filing("birth", "nong-trang")).await;
    assert!(
        filed.code.starts_with("000.33.19.H43-260302-"),
        "{}",
        filed.code
    );
    // The new ward's own officer receives it.
    let (_, officer) = accounts::create(
        &server.state.store,
        NewAccount {
            unit: "nong-trang".into(),
            role: "officer".into(),
            name: None,
            expires: None,
            password: None,
        },
        &operator(),
        server.state.now(),
    )
    .await
    .expect("officer of the new ward");
    let received = server
        .act_ok(&officer, &filed.code, "receive", json!({}))
        .await;
    assert_eq!(received["status"]["code"], 4, "{received}");

    // A department offers no commune-level procedure.
    put_unit(
        &server,
        Some(ADMIN),
        "so-tu-phap",
        json!({ "name": "Sở Tư pháp", "kind": "department",
                "agency_id": "000.00.01.H43", "parent": "phu-tho" }),
    )
    .await;
    assert_eq!(offered(&server, "so-tu-phap").await.0, [LAND]);

    // A commune-level rollout to all reaches wards and communes, not departments.
    let published = server
        .post_bytes(
            "/api/v1/plugins",
            PUBLISHER,
            plugin_bytes("business_household_1_1"),
        )
        .await;
    assert!(published.status.is_success(), "{}", published.body);
    let rollout = server
        .post(
            "/api/v1/rollouts",
            Some(PUBLISHER),
            &json!({ "procedure": HOUSEHOLD, "version": "1.1.0", "units": "all" }),
        )
        .await;
    assert_eq!(rollout.status, StatusCode::CREATED, "{}", rollout.body);
    assert_eq!(
        rollout.body["units"],
        json!(["nong-trang", "thanh-ba", "viet-tri", "xuan-hoa"])
    );

    // A commune added after that rollout starts on its build; rolling the rollout back
    // takes it back to the previous default with the others.
    put_unit(
        &server,
        Some(ADMIN),
        "lam-thao",
        json!({ "name": "Xã Lâm Thao", "kind": "commune",
                "agency_id": "000.40.19.H43", "parent": "phu-tho" }),
    )
    .await;
    assert_eq!(
        offered(&server, "lam-thao").await.1.as_deref(),
        Some("1.1.0")
    );
    let rolled_back = server
        .post(
            "/api/v1/rollouts/rollback",
            Some(PUBLISHER),
            &json!({ "procedure": HOUSEHOLD }),
        )
        .await;
    assert_eq!(rolled_back.status, StatusCode::OK, "{}", rolled_back.body);
    assert_eq!(
        offered(&server, "lam-thao").await.1.as_deref(),
        Some("1.0.0")
    );
    assert_eq!(
        offered(&server, "nong-trang").await.1.as_deref(),
        Some("1.0.0")
    );

    // A province-level rollout to all reaches departments only; pilots may name any
    // unit but the province.
    let published = server
        .post_bytes(
            "/api/v1/plugins",
            PUBLISHER,
            plugin_bytes("land_use_certificate"),
        )
        .await;
    assert!(published.status.is_success(), "{}", published.body);
    let land = published.body["plugin"].as_str().unwrap().to_string();
    let land_version = published.body["version"].clone();
    let rollout = server
        .post(
            "/api/v1/rollouts",
            Some(PUBLISHER),
            &json!({ "procedure": land, "version": land_version, "units": "all" }),
        )
        .await;
    assert_eq!(rollout.status, StatusCode::CREATED, "{}", rollout.body);
    assert_eq!(rollout.body["units"], json!(["so-nnmt", "so-tu-phap"]));
    let pilot = server
        .post(
            "/api/v1/rollouts",
            Some(PUBLISHER),
            &json!({ "procedure": land, "version": land_version, "units": ["phu-tho"] }),
        )
        .await;
    pilot.problem(StatusCode::UNPROCESSABLE_ENTITY);
    // A department added later gets the province-level default, not the commune ones.
    put_unit(
        &server,
        Some(ADMIN),
        "so-tai-chinh",
        json!({ "name": "Sở Tài chính", "kind": "department",
                "agency_id": "000.00.02.H43", "parent": "phu-tho" }),
    )
    .await;
    assert_eq!(offered(&server, "so-tai-chinh").await.0, [land.clone()]);
    server.finish().await;
}

async fn put_unit_is_for_province_admins_and_names_bad_fields(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let body = json!({ "name": "Xã Hạ Hòa", "kind": "commune",
                       "agency_id": "000.39.19.H43", "parent": "phu-tho" });
    let path = "/api/v1/units/ha-hoa";
    let before = province_data(&server).await;

    // Only the province's admins.
    for token in ["demo-xuan-hoa-admin", PUBLISHER] {
        let refused = server.put(path, Some(token), &body).await;
        assert_eq!(
            refused.problem(StatusCode::FORBIDDEN)["type"],
            "urn:motcua:problem:forbidden",
            "{token}"
        );
    }
    let anonymous = server.put(path, None, &body).await;
    anonymous.problem(StatusCode::UNAUTHORIZED);

    // Every bad field is named.
    let invalid = server
        .put(
            "/api/v1/units/Ha_Hoa",
            Some(ADMIN),
            &json!({ "name": "", "kind": "town", "agency_id": "000 39", "parent": "phu-tho" }),
        )
        .await;
    let problem = invalid.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "urn:motcua:problem:invalid-unit");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["code", "name", "kind", "agency_id"], "{problem}");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("lower-case")
    );
    let no_parent = server
        .put(
            path,
            Some(ADMIN),
            &json!({ "name": "Xã Hạ Hòa", "kind": "commune", "agency_id": "000.39.19.H43" }),
        )
        .await;
    assert_eq!(
        no_parent.problem(StatusCode::UNPROCESSABLE_ENTITY)["errors"],
        json!([{ "field": "parent", "message": "required: a commune belongs to the province (e.g. `phu-tho`)" }])
    );
    let clash = server
        .put(
            path,
            Some(ADMIN),
            &json!({ "name": "Xã Hạ Hòa", "kind": "commune", "agency_id": "000.32.19.H43", "parent": "phu-tho" }),
        )
        .await;
    assert_eq!(
        clash.problem(StatusCode::UNPROCESSABLE_ENTITY)["errors"][0]["field"],
        "agency_id"
    );
    let unknown_field = server
        .put(
            path,
            Some(ADMIN),
            &json!({ "name": "Xã Hạ Hòa", "colour": "red" }),
        )
        .await;
    unknown_field.problem(StatusCode::BAD_REQUEST);
    assert_eq!(
        province_data(&server).await,
        before,
        "refusals write nothing"
    );

    // Created, then the same again is unchanged and writes nothing, then updated.
    let created = server.put(path, Some(ADMIN), &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["outcome"], "created");
    assert_eq!(created.body["kind"], "commune");
    let after_create = province_data(&server).await;
    let again = server.put(path, Some(ADMIN), &body).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["outcome"], "unchanged");
    assert_eq!(province_data(&server).await, after_create);
    let mut renamed = body.clone();
    renamed["name"] = json!("Xã Hạ Hòa mới");
    let updated = server.put(path, Some(ADMIN), &renamed).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["outcome"], "updated");
    let (_, events) = province_data(&server).await;
    let update = &events_named(&events, "unit-update")[0];
    assert_eq!(update["actor"]["id"], "phu-tho-admin");
    assert_eq!(update["unit"], "ha-hoa");
    assert_eq!(
        (&update["before"]["name"], &update["after"]["name"]),
        (&json!("Xã Hạ Hòa"), &json!("Xã Hạ Hòa mới"))
    );
    let fetched = server.get(path, None).await;
    assert_eq!(fetched.body["name"], "Xã Hạ Hòa mới");
    let missing = server.get("/api/v1/units/nowhere", None).await;
    missing.problem(StatusCode::NOT_FOUND);
    server.finish().await;
}

async fn expired_tokens_are_refused(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let (account, token) = accounts::create(
        &server.state.store,
        NewAccount {
            unit: "xuan-hoa".into(),
            role: "officer".into(),
            name: Some("temporary-officer".into()),
            expires: Some("2026-03-02".into()),
            password: None,
        },
        &operator(),
        server.state.now(),
    )
    .await
    .expect("account with an expiry");
    assert_eq!(
        account.expires_at.as_deref(),
        Some("2026-03-03T00:00:00+07:00")
    );
    let inbox = "/api/v1/units/xuan-hoa/dossiers";
    assert_eq!(server.get(inbox, Some(&token)).await.status, StatusCode::OK);
    // Valid through the end of the day it names, refused from midnight on.
    server.set_time("2026-03-02 23:59");
    assert_eq!(server.get(inbox, Some(&token)).await.status, StatusCode::OK);
    server.set_time("2026-03-03 00:00");
    let expired = server.get(inbox, Some(&token)).await;
    let problem = expired.problem(StatusCode::UNAUTHORIZED);
    assert_eq!(problem["type"], "urn:motcua:problem:token-expired");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("expired at 2026-03-03T00:00:00+07:00"),
        "{problem}"
    );
    // An unknown token is still just unknown; an expiry in the past is refused.
    let unknown = server.get(inbox, Some("mct_nobody")).await;
    assert_eq!(
        unknown.problem(StatusCode::UNAUTHORIZED)["type"],
        "urn:motcua:problem:invalid-token"
    );
    let past = accounts::create(
        &server.state.store,
        NewAccount {
            unit: "xuan-hoa".into(),
            role: "officer".into(),
            name: None,
            expires: Some("2026-03-02".into()),
            password: None,
        },
        &operator(),
        server.state.now(),
    )
    .await;
    assert!(
        matches!(&past, Err(accounts::AccountsError::Invalid(message)) if message.contains("not in the future")),
        "{past:?}"
    );
    let (_, events) = province_data(&server).await;
    let created = events_named(&events, "account-create");
    assert!(
        created
            .iter()
            .any(|event| event["after"]["id"] == "temporary-officer"
                && event["after"]["expires_at"] == "2026-03-03T00:00:00+07:00"),
        "{created:?}"
    );
    server.finish().await;
}

async fn revocation_holds_on_every_host_at_once(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let second = server.second_host().await;
    let (account, token) = accounts::create(
        &server.state.store,
        NewAccount {
            unit: "thanh-ba".into(),
            role: "leader".into(),
            name: None,
            expires: None,
            password: None,
        },
        &operator(),
        server.state.now(),
    )
    .await
    .expect("account");
    let inbox = "/api/v1/units/thanh-ba/dossiers";
    for host in [&server, &second] {
        assert_eq!(host.get(inbox, Some(&token)).await.status, StatusCode::OK);
    }

    let revoked = accounts::revoke(
        &server.state.store,
        &account.id,
        &operator(),
        server.state.now(),
    )
    .await
    .expect("revoke");
    assert!(matches!(revoked, Revocation::Revoked(_)), "{revoked:?}");
    // No refresh, no wait: both hosts refuse the very next request.
    for host in [&server, &second] {
        let refused = host.get(inbox, Some(&token)).await;
        let problem = refused.problem(StatusCode::UNAUTHORIZED);
        assert_eq!(problem["type"], "urn:motcua:problem:token-revoked");
        assert!(
            problem["detail"].as_str().unwrap().contains("was revoked"),
            "{problem}"
        );
    }

    // Revoking again says so and writes nothing; an unknown account is an error.
    let (_, events_before) = province_data(&server).await;
    let again = accounts::revoke(
        &server.state.store,
        &account.id,
        &operator(),
        server.state.now(),
    )
    .await
    .expect("revoke again");
    assert!(matches!(again, Revocation::AlreadyRevoked(_)), "{again:?}");
    let (_, events_after) = province_data(&server).await;
    assert_eq!(events_after, events_before);
    let revocations = events_named(&events_after, "account-revoke");
    assert_eq!(revocations.len(), 1);
    assert_eq!(revocations[0]["unit"], "thanh-ba");
    assert!(matches!(
        accounts::revoke(
            &server.state.store,
            "nobody",
            &operator(),
            server.state.now()
        )
        .await,
        Err(accounts::AccountsError::NotFound(_))
    ));
    // The list shows the state, never a token.
    let listed = accounts::list(&server.state.store, Some("thanh-ba"))
        .await
        .expect("list");
    let table = accounts::table(&listed, server.state.now());
    let line = table
        .lines()
        .find(|line| line.starts_with(&account.id))
        .expect("listed");
    assert!(line.trim_end().ends_with("revoked"), "{table}");
    assert!(!table.contains(&token), "{table}");
    second.finish().await;
    server.finish().await;
}

motcua_e2e::on_both_backends!(
    import_errors_write_nothing,
    sample_file_imports_once_over_the_demo,
    units_added_later_follow_the_defaults_and_rollouts_follow_kinds,
    put_unit_is_for_province_admins_and_names_bad_fields,
    expired_tokens_are_refused,
    revocation_holds_on_every_host_at_once,
);
