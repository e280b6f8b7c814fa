//! The holiday calendar as data the province manages, on both backends, through the
//! HTTP API: a province admin loads a year's table, which this host uses at once and
//! another host after its next refresh; provisional due dates of running dossiers are
//! recomputed with an audit event, firm ones are kept; bad tables and other callers
//! write nothing; `/healthz` reports the years without a table.

use motcua_e2e::{Backend, Filed, Response, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

const ADMIN: &str = "demo-phu-tho-admin";
const OFFICER: &str = "demo-xuan-hoa-officer";

/// 2027 with New Year's Day and one Tết day off.
const TABLE_2027: &str = "# Holidays 2027 (test)\n\
                          date,kind,name\n\
                          2027-01-01,holiday,Tết Dương lịch\n\
                          2027-02-08,holiday,Tết Nguyên đán Đinh Mùi\n";

fn filings() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("filings")).expect("json")
}

/// PUTs a table as `text/csv`.
async fn put_table(server: &TestServer, year: &str, token: Option<&str>, table: &str) -> Response {
    put_body(server, year, token, "text/csv", table).await
}

async fn put_body(
    server: &TestServer,
    year: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> Response {
    server
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/calendar/{year}"),
            token,
            &[("content-type", content_type.to_string())],
            Some(body.as_bytes().to_vec()),
        )
        .await
}

/// Files the household registration online and has the officer receive it now.
async fn received_household(server: &TestServer) -> Filed {
    let filed = server.file(None, &filings()["household"]).await;
    server
        .act_ok(OFFICER, &filed.code, "receive", json!({}))
        .await;
    filed
}

async fn health(server: &TestServer) -> Value {
    let response = server.get("/healthz", None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["status"], "ok");
    response.body["calendar"].clone()
}

/// The `calendar-load` events of the registry's audit, newest first.
async fn calendar_events(server: &TestServer) -> Vec<Value> {
    let response = server
        .get("/api/v1/registry/events?limit=1000", Some(ADMIN))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["action"] == "calendar-load")
        .cloned()
        .collect()
}

/// A dossier received on 30 December 2026 with 3 working days is due on Monday 4
/// January 2027, provisionally, while 2027 has no table; loading one with 1 January off
/// moves it to Tuesday 5 January, firm, with an audit event. New dossiers use the table
/// at once. Loading it again changes nothing; a corrected table keeps firm due dates.
async fn a_loaded_table_firms_up_provisional_due_dates(backend: Backend) {
    let server = TestServer::start(backend, "2026-12-30 08:00").await;
    let calendar = health(&server).await;
    assert_eq!(calendar["loaded_years"], json!([2025, 2026]));
    assert_eq!(calendar["missing_years"], json!([2027]));
    assert_eq!(calendar["provisional_due_dates"], 0);
    // The shipped years were seeded, each with its audit event.
    let seeded = calendar_events(&server).await;
    assert_eq!(seeded.len(), 2, "{seeded:?}");
    assert!(
        seeded
            .iter()
            .all(|event| event["actor"]["id"] == "motcua (shipped)")
    );

    server.set_time("2026-12-30 09:00");
    let filed = received_household(&server).await;
    let code = filed.code.clone();
    let dossier = server.dossier(OFFICER, &code).await;
    assert_eq!(dossier["due"]["date"], "2027-01-04", "{}", dossier["due"]);
    assert_eq!(dossier["due"]["provisional"], true);
    let track = server.track(&code, &filed.secret).await;
    assert_eq!(track.body["due"]["provisional"], true, "{}", track.body);
    assert_eq!(health(&server).await["provisional_due_dates"], 1);

    let response = put_table(&server, "2027", Some(ADMIN), TABLE_2027).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let loaded = response.body;
    assert_eq!(loaded["year"], 2027);
    assert_eq!(loaded["days"], 2);
    assert_eq!(loaded["changed"], true);
    assert_eq!(loaded["before"], Value::Null);
    let sha = loaded["sha256"].as_str().expect("sha256").to_string();
    assert_eq!(sha.len(), 64);
    assert_eq!(
        loaded["recomputed"],
        json!([{ "code": code, "before": "2027-01-04", "after": "2027-01-05" }])
    );

    // The running dossier's due date is recomputed, firm, with an event in its chain.
    let dossier = server.dossier(OFFICER, &code).await;
    assert_eq!(dossier["due"]["date"], "2027-01-05", "{}", dossier["due"]);
    assert_eq!(dossier["due"]["statutory_date"], "2027-01-05");
    assert_eq!(dossier["due"]["provisional"], false);
    let recompute: Vec<&Value> = dossier["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|event| event["action"] == "recompute-due-date")
        .collect();
    assert_eq!(recompute.len(), 1, "{}", dossier["history"]);
    assert_eq!(recompute[0]["actor"]["id"], "system");
    assert_eq!(recompute[0]["payload"]["before"]["due_date"], "2027-01-04");
    assert_eq!(recompute[0]["payload"]["after"]["due_date"], "2027-01-05");
    assert_eq!(recompute[0]["payload"]["after"]["provisional"], false);
    let audit = server
        .get(&format!("/api/v1/dossiers/{code}/audit"), Some(OFFICER))
        .await;
    assert_eq!(audit.body["valid"], true, "{}", audit.body);
    // The citizen's tracking view says the same.
    let track = server.track(&code, &filed.secret).await;
    assert_eq!(track.body["due"]["date"], "2027-01-05", "{}", track.body);
    assert_eq!(track.body["due"]["provisional"], false);

    // A dossier received now is due on 5 January at once, not provisional.
    let fresh = received_household(&server).await;
    let dossier = server.dossier(OFFICER, &fresh.code).await;
    assert_eq!(dossier["due"]["date"], "2027-01-05");
    assert_eq!(dossier["due"]["provisional"], false);

    // Anyone reads what is loaded.
    let list = server.get("/api/v1/calendar", None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.body["missing_years"], json!([]));
    let years = list.body["years"].as_array().expect("years");
    assert_eq!(
        years.iter().map(|y| y["year"].clone()).collect::<Vec<_>>(),
        [json!(2025), json!(2026), json!(2027)]
    );
    assert_eq!(years[2]["sha256"], sha.as_str());
    assert_eq!(years[2]["days"], 2);
    assert_eq!(years[2]["loaded_by"], "phu-tho-admin");
    assert_eq!(years[2]["loaded_at"], "2026-12-30T09:00:00+07:00");
    let year = server.get("/api/v1/calendar/2027", None).await;
    assert_eq!(year.status, StatusCode::OK, "{}", year.body);
    assert_eq!(
        year.body["days"],
        json!([
            { "date": "2027-01-01", "kind": "holiday", "name": "Tết Dương lịch" },
            { "date": "2027-02-08", "kind": "holiday", "name": "Tết Nguyên đán Đinh Mùi" },
        ])
    );
    // The CSV form is the canonical table its sha256 is taken of.
    let csv = server
        .client
        .get(format!("{}/api/v1/calendar/2027?format=csv", server.base))
        .send()
        .await
        .expect("request reaches the server");
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.expect("csv body");
    assert_eq!(
        text,
        "date,kind,name\n2027-01-01,holiday,Tết Dương lịch\n2027-02-08,holiday,Tết Nguyên đán Đinh Mùi\n"
    );
    assert_eq!(hex::encode(sha2::Sha256::digest(text.as_bytes())), sha);

    let calendar = health(&server).await;
    assert_eq!(calendar["loaded_years"], json!([2025, 2026, 2027]));
    assert_eq!(calendar["missing_years"], json!([]));
    assert_eq!(calendar["provisional_due_dates"], 0);

    // One audited change, with what it replaced (nothing) and what it loaded.
    let events = calendar_events(&server).await;
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["actor"]["id"], "phu-tho-admin");
    assert_eq!(events[0]["before"], Value::Null);
    assert_eq!(
        events[0]["after"],
        json!({ "year": 2027, "sha256": sha, "days": 2 })
    );

    // The same days again, in another order and with other comments: nothing changes.
    let reordered =
        "2027-02-08,holiday,Tết Nguyên đán Đinh Mùi\n# again\n2027-01-01,holiday,Tết Dương lịch\n";
    let again = put_table(&server, "2027", Some(ADMIN), reordered).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["changed"], false);
    assert_eq!(again.body["sha256"], sha.as_str());
    assert_eq!(again.body["recomputed"], json!([]));
    assert_eq!(calendar_events(&server).await.len(), 3);

    // A corrected table that also gives Monday 4 January off: the firm due date
    // promised on the appointment slip is kept, with no event; new dossiers count it.
    let versions_before = server.version(OFFICER, &code).await;
    let corrected = format!("{TABLE_2027}2027-01-04,holiday,Nghỉ bù\n");
    let replaced = put_table(&server, "2027", Some(ADMIN), &corrected).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["changed"], true);
    assert_eq!(replaced.body["days"], 3);
    assert_eq!(replaced.body["before"], json!({ "sha256": sha, "days": 2 }));
    assert_eq!(replaced.body["recomputed"], json!([]));
    assert_eq!(server.version(OFFICER, &code).await, versions_before);
    let dossier = server.dossier(OFFICER, &code).await;
    assert_eq!(dossier["due"]["date"], "2027-01-05");
    let newest = received_household(&server).await;
    assert_eq!(
        server.dossier(OFFICER, &newest.code).await["due"]["date"],
        "2027-01-06"
    );
    let events = calendar_events(&server).await;
    assert_eq!(events.len(), 4);
    assert_eq!(events[0]["before"]["sha256"], sha.as_str());
    assert_eq!(events[0]["after"]["days"], 3);

    // In 2027 the next year is the one missing.
    server.set_time("2027-01-02 09:00");
    assert_eq!(health(&server).await["missing_years"], json!([2028]));
    server.finish().await;
}

/// A table with mistakes is refused whole with every line and field; other callers are
/// refused; in every case nothing is written and no event is audited.
async fn bad_tables_and_other_callers_write_nothing(backend: Backend) {
    let server = TestServer::start(backend, "2026-12-30 08:00").await;
    let events_before = calendar_events(&server).await.len();

    let bad = "# 2027 with mistakes\n\
               date,kind,name\n\
               2027-01-01,holiday,Tết Dương lịch\n\
               2027-13-01,holiday,Bad month\n\
               2028-01-03,holiday,Next year\n\
               2027-02-06,holiday,A Saturday\n\
               2027-02-10,workday,A Wednesday\n\
               2027-02-09,feast,Unknown kind\n\
               2027-01-01,holiday,Twice\n\
               2027-02-11,holiday,\n\
               2027-02-12,holiday\n";
    let response = put_table(&server, "2027", Some(ADMIN), bad).await;
    let problem = response.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "urn:motcua:problem:invalid-calendar");
    let errors: Vec<(u64, String)> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
            (
                e["line"].as_u64().expect("line"),
                e["field"].as_str().expect("field").to_string(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = [
        (4, "date"),
        (5, "date"),
        (6, "kind"),
        (7, "kind"),
        (8, "kind"),
        (9, "date"),
        (10, "name"),
        (11, "row"),
    ]
    .into_iter()
    .map(|(line, field)| (line, field.to_string()))
    .collect();
    assert_eq!(errors, expected, "{problem}");
    assert!(
        problem["errors"][1]["message"]
            .as_str()
            .unwrap()
            .contains("not in 2027"),
        "{problem}"
    );

    // Rows of another year than the one in the path.
    let response = put_table(&server, "2028", Some(ADMIN), TABLE_2027).await;
    let problem = response.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["line"], 3);
    assert_eq!(problem["errors"][0]["field"], "date");
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);
    // An empty table would make a year look loaded with no holidays at all.
    let response = put_table(&server, "2027", Some(ADMIN), "date,kind,name\n").await;
    let problem = response.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "table");
    // Not a year; not CSV.
    put_table(&server, "20x7", Some(ADMIN), TABLE_2027)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let response = put_body(&server, "2027", Some(ADMIN), "application/json", "{}").await;
    assert_eq!(
        response.problem(StatusCode::UNSUPPORTED_MEDIA_TYPE)["type"],
        "urn:motcua:problem:unsupported-media-type"
    );

    // Only the province's admins load tables: not a commune's admin, an officer or
    // the publisher; and not without a token.
    for token in ["demo-xuan-hoa-admin", OFFICER, "demo-phu-tho-publisher"] {
        put_table(&server, "2027", Some(token), TABLE_2027)
            .await
            .problem(StatusCode::FORBIDDEN);
    }
    put_table(&server, "2027", None, TABLE_2027)
        .await
        .problem(StatusCode::UNAUTHORIZED);

    // Nothing was written.
    assert_eq!(calendar_events(&server).await.len(), events_before);
    let missing = server.get("/api/v1/calendar/2027", None).await;
    assert!(
        missing.problem(StatusCode::NOT_FOUND)["detail"]
            .as_str()
            .unwrap()
            .contains("PUT /api/v1/calendar/2027"),
        "{}",
        missing.body
    );
    let list = server.get("/api/v1/calendar", None).await;
    assert_eq!(list.body["missing_years"], json!([2027]));
    assert_eq!(list.body["years"].as_array().unwrap().len(), 2);
    assert_eq!(health(&server).await["missing_years"], json!([2027]));
    server
        .get("/api/v1/calendar/2026?format=xml", None)
        .await
        .problem(StatusCode::BAD_REQUEST);
    server.finish().await;
}

/// Another host on the same database keeps its calendar until its refresh (the
/// function its background refresher calls), then uses the new table, and recomputes
/// a provisional due date it set with the old calendar meanwhile.
async fn a_second_host_picks_up_a_table_on_refresh(backend: Backend) {
    let server = TestServer::start(backend, "2026-12-30 09:00").await;
    let other = server.second_host().await;
    assert_eq!(health(&other).await["missing_years"], json!([2027]));

    let response = put_table(&server, "2027", Some(ADMIN), TABLE_2027).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(health(&server).await["missing_years"], json!([]));

    // Until it refreshes, the other host still counts 1 January as a working day.
    assert_eq!(health(&other).await["missing_years"], json!([2027]));
    let stale = received_household(&other).await.code;
    let dossier = other.dossier(OFFICER, &stale).await;
    assert_eq!(dossier["due"]["date"], "2027-01-04");
    assert_eq!(dossier["due"]["provisional"], true);

    other.state.refresh().await.expect("refresh");
    let calendar = health(&other).await;
    assert_eq!(calendar["loaded_years"], json!([2025, 2026, 2027]));
    assert_eq!(calendar["missing_years"], json!([]));
    assert_eq!(calendar["provisional_due_dates"], 0);
    let dossier = other.dossier(OFFICER, &stale).await;
    assert_eq!(dossier["due"]["date"], "2027-01-05", "{}", dossier["due"]);
    assert_eq!(dossier["due"]["provisional"], false);
    assert!(
        dossier["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|event| event["action"] == "recompute-due-date")
    );
    let fresh = received_household(&other).await.code;
    let dossier = other.dossier(OFFICER, &fresh).await;
    assert_eq!(dossier["due"]["date"], "2027-01-05");
    assert_eq!(dossier["due"]["provisional"], false);

    // A second refresh with nothing new changes nothing.
    assert!(!other.state.refresh_calendar().await.expect("refresh"));
    other.finish().await;
    server.finish().await;
}

motcua_e2e::on_both_backends!(
    a_loaded_table_firms_up_provisional_due_dates,
    bad_tables_and_other_callers_write_nothing,
    a_second_host_picks_up_a_table_on_refresh,
);
