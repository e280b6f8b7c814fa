//! Replay (`GET /api/v1/dossiers/{code}/replay`): every dossier the procedure scenarios
//! leave, for every catalog plugin, re-decided through its pinned build matches its
//! record; an event edited by a database administrator is named; only the handling
//! unit's staff and the province's auditors may ask. On SQLite and PostgreSQL.

use std::collections::BTreeSet;

use motcua_e2e::{Backend, TestServer, on_both_backends, scenarios};
use reqwest::StatusCode;
use serde_json::{Value, json};

const OFFICER: &str = "demo-xuan-hoa-officer";
const PROVINCE_ADMIN: &str = "demo-phu-tho-admin";

/// 2027 with New Year's Day and one Tết day off.
const TABLE_2027: &str = "date,kind,name\n\
                          2027-01-01,holiday,Tết Dương lịch\n\
                          2027-02-08,holiday,Tết Nguyên đán Đinh Mùi\n";

on_both_backends!(
    every_catalog_dossier_replays_as_recorded,
    an_edited_event_is_named,
    replay_is_for_the_handling_unit_and_the_province,
);

async fn replay(server: &TestServer, token: &str, code: &str) -> Value {
    let response = server
        .get(&format!("/api/v1/dossiers/{code}/replay"), Some(token))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON")
}

fn events(replay: &Value) -> &Vec<Value> {
    replay["events"].as_array().expect("events")
}

fn assert_matches(context: &str, replay: &Value) {
    assert_eq!(replay["verdict"], "match", "{context}: {}", pretty(replay));
    for event in events(replay) {
        assert_eq!(event["outcome"], "match", "{context}: {}", pretty(event));
        assert_eq!(event["differences"], json!([]), "{context}");
        assert!(
            !event["checked"].as_array().expect("checked").is_empty(),
            "{context}: event {} compared nothing",
            event["seq"]
        );
    }
    assert_eq!(replay["final_state"], json!([]), "{context}");
    assert_eq!(replay["mismatches"], 0, "{context}");
    assert_eq!(replay["chain"]["valid"], true, "{context}");
}

async fn every_catalog_dossier_replays_as_recorded(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 08:00").await;
    scenarios::prepare(&server).await;
    let played = scenarios::run_all(&server).await;

    // Host steps after the fact: the citizen rates a returned dossier, and the province
    // loads 2027, which recomputes the provisional due date scenario 17 left.
    let returned = played
        .iter()
        .find(|dossier| dossier.status == 10)
        .expect("a returned dossier");
    let rated = server
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/dossiers/{}/rating", returned.code),
            None,
            &[("x-tracking-secret", returned.tracking_secret.clone())],
            Some(json!({ "rating": "satisfied" }).to_string().into_bytes()),
        )
        .await;
    assert_eq!(rated.status, StatusCode::OK, "{}", rated.body);
    let loaded = server
        .request(
            reqwest::Method::PUT,
            "/api/v1/calendar/2027",
            Some(PROVINCE_ADMIN),
            &[("content-type", "text/csv".to_string())],
            Some(TABLE_2027.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(loaded.status, StatusCode::OK, "{}", loaded.body);
    assert!(
        !loaded.body["recomputed"]
            .as_array()
            .expect("recomputed")
            .is_empty(),
        "{}",
        loaded.body
    );
    // Xuân Hòa moves its cut-off after the fact: scenario 2 was received at 16:05 under
    // the 15:00 cut-off, and its replay must use the cut-off its event recorded.
    let cutoff = server
        .put(
            "/api/v1/units/xuan-hoa/settings",
            Some("demo-xuan-hoa-admin"),
            &json!({ "cutoff": "16:30" }),
        )
        .await;
    assert_eq!(cutoff.status, StatusCode::OK, "{}", cutoff.body);

    let mut plugins = BTreeSet::new();
    let mut steps = BTreeSet::new();
    for dossier in &played {
        let context = format!("[{backend:?}] {} {}", dossier.file, dossier.code);
        let body = replay(&server, &dossier.officer, &dossier.code).await;
        assert_matches(&context, &body);
        let history = server.dossier(&dossier.officer, &dossier.code).await["history"]
            .as_array()
            .expect("history")
            .len();
        assert_eq!(
            events(&body).len(),
            history,
            "{context}: one line per event"
        );
        assert_eq!(body["settings"], "pinned", "{context}");
        assert_eq!(events(&body)[0]["kind"], "filing", "{context}");
        for event in events(&body) {
            assert!(
                event["notes"]
                    .as_array()
                    .expect("notes")
                    .iter()
                    .all(|note| !note.as_str().unwrap_or("").contains("cut-off")),
                "{context}: every event records its cut-off: {}",
                pretty(event)
            );
        }
        plugins.insert(
            body["build"]["plugin"]
                .as_str()
                .expect("plugin")
                .to_string(),
        );
        for event in events(&body) {
            steps.insert(format!(
                "{} {}",
                event["kind"].as_str().expect("kind"),
                event["action"].as_str().expect("action")
            ));
        }
    }
    // Every catalog plugin, the on-site variant included.
    let expected: BTreeSet<String> = [
        "1.000656",
        "1.000894",
        "1.001193",
        "1.001612",
        "1.001612/xuan-hoa-onsite",
        "1.012756",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(plugins, expected);
    // The normal paths and the host's own steps were all replayed.
    for step in [
        "filing submit",
        "decision receive",
        "decision request-supplement",
        "decision complete-supplement",
        "decision record-payment",
        "decision refuse",
        "decision withdraw",
        "decision apologize",
        "decision record-site-visit",
        "decision return-result",
        "host-step close-incomplete",
        "host-step recompute-due-date",
        "host-step rate",
    ] {
        assert!(steps.contains(step), "no `{step}` replayed; got {steps:?}");
    }
    // The province's admin audits any unit's dossier.
    let body = replay(&server, PROVINCE_ADMIN, &played[0].code).await;
    assert_matches("province admin", &body);
    server.finish().await;
}

/// Files the household registration and takes it to the leader's approval: a fee on
/// receipt, the citizen's payment, the proposal, the certificate.
async fn approved_household(server: &TestServer) -> String {
    let filed = server.file(None, &scenarios::filings()["household"]).await;
    server
        .act_ok(OFFICER, &filed.code, "receive", json!({}))
        .await;
    let version = server.version(OFFICER, &filed.code).await;
    let paid = server
        .act_at(
            None,
            &[("x-tracking-secret", filed.secret.clone())],
            &filed.code,
            version,
            "record-payment",
            "",
            json!({ "amount_vnd": 100000, "online": true, "receipt": "VNPAY-1" }),
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    server
        .act_ok(
            "demo-xuan-hoa-specialist",
            &filed.code,
            "propose",
            json!({}),
        )
        .await;
    server
        .act_ok("demo-xuan-hoa-leader", &filed.code, "approve", json!({}))
        .await;
    filed.code
}

/// Runs SQL on `table` as a database administrator would, its append-only triggers
/// dropped first.
async fn edit_as_dba(server: &TestServer, table: &str, statement: String) {
    use sqlx::{Connection, Executor, Row};
    match server.backend {
        Backend::Sqlite => {
            let mut connection = sqlx::SqliteConnection::connect(&server.database_url)
                .await
                .expect("connect");
            let triggers: Vec<String> = sqlx::query(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1",
            )
            .bind(table)
            .fetch_all(&mut connection)
            .await
            .expect("triggers")
            .into_iter()
            .map(|row| row.get(0))
            .collect();
            for trigger in triggers {
                connection
                    .execute(sqlx::AssertSqlSafe(format!("DROP TRIGGER {trigger}")))
                    .await
                    .expect("drop trigger");
            }
            let done = connection
                .execute(sqlx::AssertSqlSafe(statement))
                .await
                .expect("edit");
            assert_eq!(done.rows_affected(), 1, "one event edited");
        }
        Backend::Postgres => {
            let mut connection = sqlx::PgConnection::connect(&server.database_url)
                .await
                .expect("connect");
            connection
                .execute(sqlx::AssertSqlSafe(format!(
                    "ALTER TABLE {table} DISABLE TRIGGER USER"
                )))
                .await
                .expect("disable triggers");
            let done = connection
                .execute(sqlx::AssertSqlSafe(statement))
                .await
                .expect("edit");
            assert_eq!(done.rows_affected(), 1, "one event edited");
        }
    }
}

fn mismatched(replay: &Value) -> Vec<&Value> {
    events(replay)
        .iter()
        .filter(|event| event["outcome"] == "mismatch")
        .collect()
}

async fn an_edited_event_is_named(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 08:00").await;
    let step_edited = approved_household(&server).await;
    let payload_edited = approved_household(&server).await;
    for code in [&step_edited, &payload_edited] {
        assert_matches(code, &replay(&server, OFFICER, code).await);
    }

    // The proposal is rewritten to have gone straight to the result.
    edit_as_dba(
        &server,
        "dossier_events",
        format!(
            "UPDATE dossier_events SET to_step = 'settled', to_status = 9
             WHERE dossier_code = '{step_edited}' AND action = 'propose'"
        ),
    )
    .await;
    let body = replay(&server, OFFICER, &step_edited).await;
    assert_eq!(body["verdict"], "mismatch", "{}", pretty(&body));
    let wrong = mismatched(&body);
    assert_eq!(wrong.len(), 1, "only the edited event: {}", pretty(&body));
    assert_eq!(wrong[0]["action"], "propose");
    assert_eq!(wrong[0]["kind"], "decision");
    let differences = wrong[0]["differences"].as_array().expect("differences");
    assert!(
        differences.contains(
            &json!({ "field": "to_step", "recorded": "settled", "replayed": "approval" })
        ),
        "{}",
        pretty(wrong[0])
    );
    assert!(
        differences.contains(&json!({ "field": "to_status", "recorded": 9, "replayed": 4 })),
        "{}",
        pretty(wrong[0])
    );

    // The fee the receipt asked for is lowered in the recorded payload.
    edit_as_dba(
        &server,
        "dossier_events",
        format!(
            "UPDATE dossier_events SET payload_json = REPLACE(payload_json, '\"amount_vnd\":100000', '\"amount_vnd\":10000')
             WHERE dossier_code = '{payload_edited}' AND action = 'receive'"
        ),
    )
    .await;
    let body = replay(&server, OFFICER, &payload_edited).await;
    assert_eq!(body["verdict"], "mismatch", "{}", pretty(&body));
    let wrong = mismatched(&body);
    assert_eq!(wrong.len(), 1, "only the edited event: {}", pretty(&body));
    assert_eq!(wrong[0]["action"], "receive");
    assert_eq!(wrong[0]["seq"], 2);
    let effects = wrong[0]["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .find(|difference| difference["field"] == "effects")
        .unwrap_or_else(|| panic!("effects differ: {}", pretty(wrong[0])));
    let fee = |effects: &Value| {
        effects
            .as_array()
            .expect("effects")
            .iter()
            .find(|effect| effect["effect"] == "request-fee")
            .map(|effect| effect["amount_vnd"].clone())
    };
    assert_eq!(fee(&effects["recorded"]), Some(json!(10000)));
    assert_eq!(fee(&effects["replayed"]), Some(json!(100000)));
    // The hash chain breaks too; the replay says which rule was not applied.
    assert_eq!(body["chain"]["valid"], false);

    // The facts the reports count are edited instead: the chain does not cover them,
    // the replay does.
    let facts_edited = approved_household(&server).await;
    edit_as_dba(
        &server,
        "dossier_changes",
        format!(
            "UPDATE dossier_changes SET fees_requested_vnd = 0
             WHERE dossier_code = '{facts_edited}' AND seq = 2"
        ),
    )
    .await;
    let body = replay(&server, OFFICER, &facts_edited).await;
    assert_eq!(body["verdict"], "mismatch", "{}", pretty(&body));
    assert_eq!(body["chain"]["valid"], true);
    let wrong = mismatched(&body);
    assert_eq!(wrong.len(), 1, "only the edited event: {}", pretty(&body));
    assert_eq!(wrong[0]["seq"], 2);
    assert_eq!(
        wrong[0]["differences"],
        json!([{ "field": "facts.fees_requested_vnd", "recorded": 0, "replayed": 100000 }])
    );
    server.finish().await;
}

async fn replay_is_for_the_handling_unit_and_the_province(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 08:00").await;
    let filed = server.file(None, &scenarios::filings()["birth"]).await;
    server
        .act_ok(OFFICER, &filed.code, "receive", json!({}))
        .await;
    let path = format!("/api/v1/dossiers/{}/replay", filed.code);
    for token in [OFFICER, "demo-xuan-hoa-leader", PROVINCE_ADMIN] {
        let body = replay(&server, token, &filed.code).await;
        assert_matches(token, &body);
    }
    for token in [
        "demo-thanh-ba-officer",
        "demo-viet-tri-leader",
        "demo-thanh-ba-admin",
        "demo-phu-tho-publisher",
    ] {
        let response = server.get(&path, Some(token)).await;
        let problem = response.problem(StatusCode::FORBIDDEN);
        assert!(
            !problem.to_string().contains("Hùng"),
            "a refusal carries no dossier data: {problem}"
        );
    }
    let citizen = server
        .request(
            reqwest::Method::GET,
            &path,
            None,
            &[("x-tracking-secret", filed.secret.clone())],
            None,
        )
        .await;
    citizen.problem(StatusCode::FORBIDDEN);
    server
        .get(&path, None)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    for token in [OFFICER, PROVINCE_ADMIN] {
        server
            .get(
                "/api/v1/dossiers/000.31.19.H43-260302-9999/replay",
                Some(token),
            )
            .await
            .problem(StatusCode::NOT_FOUND);
    }
    server.finish().await;
}
