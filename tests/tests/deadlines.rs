//! Deadline keeping on both backends, through the HTTP API: the sweep that closes
//! dossiers whose supplement never came, run by two hosts on one database at once; the
//! inbox's overdue and due-soon views; settings pinned with the build at filing; the
//! citizen's one rating of a returned dossier.
//!
//! The day-by-day rules themselves (the payment pause, the 15-working-day wait, a due
//! date in a year without a holiday table) are scenario files in tests/scenarios/.

use std::collections::BTreeSet;

use motcua_e2e::{Backend, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn filings() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("filings")).expect("json")
}

const OFFICER: &str = "demo-xuan-hoa-officer";
const SPECIALIST: &str = "demo-xuan-hoa-specialist";
const LEADER: &str = "demo-xuan-hoa-leader";

fn supplement_items() -> Value {
    json!({ "items": [ { "target": "documents.owner-id", "message": "Bản chụp căn cước công dân bị mờ" } ] })
}

/// Two hosts on one database sweep at the same moment: every expired dossier is
/// closed exactly once, by one of them, with one audit event, and a dossier whose wait
/// has not run out is left alone.
async fn two_hosts_close_each_expired_dossier_once(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 08:00").await;
    let household = filings()["household"].clone();
    let mut expired = Vec::new();
    for _ in 0..6 {
        let filed = server.file(None, &household).await;
        server
            .act_ok(OFFICER, &filed.code, "receive", json!({}))
            .await;
        server.set_time("2026-03-03 10:00");
        server
            .act_ok(
                SPECIALIST,
                &filed.code,
                "request-supplement",
                supplement_items(),
            )
            .await;
        server.set_time("2026-03-02 08:00");
        expired.push(filed.code);
    }
    // Requested on Wednesday 4 March: its wait runs to Wednesday 25 March.
    server.set_time("2026-03-04 10:00");
    let still_waiting = server.file(None, &household).await;
    server
        .act_ok(OFFICER, &still_waiting.code, "receive", json!({}))
        .await;
    server
        .act_ok(
            SPECIALIST,
            &still_waiting.code,
            "request-supplement",
            supplement_items(),
        )
        .await;

    let other = server.second_host().await;
    server.set_time("2026-03-25 06:00");
    let (first, second) = tokio::join!(
        server.state.close_unsupplemented(),
        other.state.close_unsupplemented()
    );
    let (first, second) = (
        first.expect("sweep on host A"),
        second.expect("sweep on host B"),
    );
    let a: BTreeSet<_> = first.iter().cloned().collect();
    let b: BTreeSet<_> = second.iter().cloned().collect();
    assert!(
        a.is_disjoint(&b),
        "a dossier was closed by both hosts: {a:?} {b:?}"
    );
    let union: BTreeSet<_> = a.union(&b).cloned().collect();
    assert_eq!(
        union,
        expired.iter().cloned().collect::<BTreeSet<_>>(),
        "every expired dossier closed, and only those"
    );
    // Running again changes nothing.
    assert!(
        server
            .state
            .close_unsupplemented()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(other.state.close_unsupplemented().await.unwrap().is_empty());

    for code in &expired {
        let view = server.dossier(OFFICER, code).await;
        assert_eq!(view["status"]["code"], 8, "{code}: {view}");
        assert_eq!(view["step"]["id"], "closed-incomplete");
        let closings: Vec<&Value> = view["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|event| event["action"] == "close-incomplete")
            .collect();
        assert_eq!(closings.len(), 1, "{code}: one closing event");
        assert_eq!(closings[0]["actor"]["id"], "system");
        assert_eq!(closings[0]["payload"]["reason"], "supplement-not-received");
        assert_eq!(closings[0]["payload"]["last_day"], "2026-03-24");
        let audit = server
            .get(&format!("/api/v1/dossiers/{code}/audit"), Some(OFFICER))
            .await;
        assert_eq!(audit.body["valid"], true, "{}", audit.body);
    }
    let waiting = server.dossier(OFFICER, &still_waiting.code).await;
    assert_eq!(waiting["status"]["code"], 5);

    // The next day its wait has run out too.
    server.set_time("2026-03-26 06:00");
    assert_eq!(
        other.state.close_unsupplemented().await.unwrap(),
        vec![still_waiting.code.clone()]
    );
    other.finish().await;
    server.finish().await;
}

/// The inbox filters running dossiers by their due date and sorts by it.
async fn inbox_shows_overdue_and_due_soon(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 08:00").await;
    let household = filings()["household"].clone();
    // Received on Monday 2, Wednesday 4 and Monday 9 March: due on 5, 9 and 12 March.
    let mut codes = Vec::new();
    for day in ["2026-03-02 09:00", "2026-03-04 09:00", "2026-03-09 09:00"] {
        server.set_time(day);
        let filed = server.file(None, &household).await;
        server
            .act_ok(OFFICER, &filed.code, "receive", json!({}))
            .await;
        codes.push(filed.code);
    }
    // Not yet received: no due date, never overdue.
    let waiting_intake = server.file(None, &household).await;
    // Waiting for a supplement: the clock is stopped, not overdue.
    let supplement = server.file(None, &household).await;
    server
        .act_ok(OFFICER, &supplement.code, "receive", json!({}))
        .await;
    server
        .act_ok(
            SPECIALIST,
            &supplement.code,
            "request-supplement",
            supplement_items(),
        )
        .await;

    // Tuesday 10 March: the first two are overdue (due 5 and 9 March); the third is
    // due within two working days (Wednesday 11, Thursday 12).
    server.set_time("2026-03-10 10:00");
    let list = |query: &str| {
        let server = &server;
        let query = query.to_string();
        async move {
            let response = server
                .get(
                    &format!("/api/v1/units/xuan-hoa/dossiers?{query}"),
                    Some(OFFICER),
                )
                .await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.body);
            response.body
        }
    };
    let codes_of = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["code"].as_str().unwrap().to_string())
            .collect()
    };
    let overdue = list("due=overdue&sort=due").await;
    assert_eq!(codes_of(&overdue), vec![codes[0].clone(), codes[1].clone()]);
    assert_eq!(overdue["total"], 2);
    // 6, 9 and 10 March are the working days since 5 March.
    assert_eq!(overdue["items"][0]["working_days_left"], -3);
    assert_eq!(overdue["items"][1]["working_days_left"], -1);
    let soon = list("due=soon").await;
    assert_eq!(codes_of(&soon), vec![codes[2].clone()]);
    assert_eq!(soon["items"][0]["working_days_left"], 2);
    let by_due = codes_of(&list("sort=due").await);
    let position = |code: &str| by_due.iter().position(|c| c == code).unwrap();
    assert!(position(&codes[0]) < position(&codes[1]));
    assert!(position(&codes[1]) < position(&codes[2]));
    assert_eq!(
        position(&waiting_intake.code),
        by_due.len() - 1,
        "no due date sorts last: {by_due:?}"
    );
    let procedure = list("procedure=1.001193").await;
    assert_eq!(procedure["total"], 0, "no birth registrations filed");

    for bad in ["due=yesterday", "sort=name"] {
        let response = server
            .get(
                &format!("/api/v1/units/xuan-hoa/dossiers?{bad}"),
                Some(OFFICER),
            )
            .await;
        response.problem(StatusCode::BAD_REQUEST);
    }
    // The dossier view counts the working days left.
    let view = server.dossier(OFFICER, &codes[2]).await;
    assert_eq!(view["due"]["working_days_left"], 2);
    assert_eq!(view["due"]["clock"], "running");
    server.finish().await;
}

/// A dossier keeps the unit's settings of the day it was filed, as it keeps its build.
async fn settings_are_pinned_at_filing(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 08:00").await;
    let household = filings()["household"].clone();
    let before = server.file(None, &household).await;
    let changed = server
        .put(
            "/api/v1/units/xuan-hoa/procedures/1.001612",
            Some("demo-xuan-hoa-admin"),
            &json!({ "settings": { "registration_fee_vnd": 50000, "online_fee_exempt": false } }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let after = server.file(None, &household).await;
    let old = server
        .act_ok(OFFICER, &before.code, "receive", json!({}))
        .await;
    let new = server
        .act_ok(OFFICER, &after.code, "receive", json!({}))
        .await;
    assert_eq!(
        old["fees"]["requested_vnd"], 100_000,
        "filed under the old settings"
    );
    assert_eq!(
        new["fees"]["requested_vnd"], 50_000,
        "filed under the new settings"
    );
    server.finish().await;
}

/// The citizen rates a returned dossier once; before it is returned, twice, or without
/// the tracking secret, the rating is refused and nothing is written.
async fn citizen_rates_a_returned_dossier_once(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 08:00").await;
    let birth = filings()["birth"].clone();
    let filed = server.file(None, &birth).await;
    let rate = |secret: Option<&str>, body: Value| {
        let server = &server;
        let code = filed.code.clone();
        let headers: Vec<(&str, String)> = secret
            .map(|secret| vec![("x-tracking-secret", secret.to_string())])
            .unwrap_or_default();
        async move {
            server
                .request(
                    reqwest::Method::POST,
                    &format!("/api/v1/dossiers/{code}/rating"),
                    None,
                    &headers,
                    Some(body.to_string().into_bytes()),
                )
                .await
        }
    };
    let early = rate(Some(&filed.secret), json!({ "rating": "satisfied" })).await;
    early.problem(StatusCode::UNPROCESSABLE_ENTITY);
    server
        .act_ok(OFFICER, &filed.code, "receive", json!({}))
        .await;
    server
        .act_ok(SPECIALIST, &filed.code, "submit-for-signing", json!({}))
        .await;
    server.act_ok(LEADER, &filed.code, "sign", json!({})).await;
    server
        .act_ok(OFFICER, &filed.code, "return-result", json!({}))
        .await;
    let before = server.row_counts().await;
    // No secret at all: refused as unauthenticated before the body is read.
    rate(None, json!({ "rating": "satisfied" }))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    rate(Some("not-the-secret"), json!({ "rating": "satisfied" }))
        .await
        .problem(StatusCode::NOT_FOUND);
    rate(Some(&filed.secret), json!({ "rating": "great" }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        server.row_counts().await,
        before,
        "refused ratings wrote rows"
    );
    let rated = rate(
        Some(&filed.secret),
        json!({ "rating": "very-satisfied", "comment": "Nhanh, chu đáo" }),
    )
    .await;
    assert_eq!(rated.status, StatusCode::OK, "{}", rated.body);
    assert_eq!(rated.body["rating"], "very-satisfied");
    assert!(rated.body.get("applicant").is_none(), "the citizen's view");
    rate(Some(&filed.secret), json!({ "rating": "dissatisfied" }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let view = server.dossier(OFFICER, &filed.code).await;
    assert_eq!(view["rating"], "very-satisfied");
    let last = view["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "rate");
    assert_eq!(last["note"], "Nhanh, chu đáo");
    server.finish().await;
}

motcua_e2e::on_both_backends!(
    two_hosts_close_each_expired_dossier_once,
    inbox_shows_overdue_and_due_soon,
    settings_are_pinned_at_filing,
    citizen_rates_a_returned_dossier_once,
);
