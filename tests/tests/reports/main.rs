//! The processing report and the national indicators, on both backends, through the
//! HTTP API and the library function behind `motcua report`.
//!
//! The test builds a small province through the API at chosen times (the manual
//! clock): three units, three procedures (the land-use certificate piloted at Xuân
//! Hòa), all three channels, a dossier with two supplement requests, a payment wait, an
//! apology, an overdue dossier, a withdrawal, a refusal, a dossier the host closes
//! because its supplement never came, and dossiers received before Tết 2026 and settled
//! after it. Then it asks for January and February 2026 as two periods and compares the
//! answers with tables computed by hand below, the arithmetic in comments.
//!
//! The calendar (host/calendar/vn-2026.csv): Thursday 1 January is a holiday; Tết runs
//! from Saturday 14 to Sunday 22 February (16–20 February are holidays). The cut-off
//! hour is 15:00. A running dossier is due soon when it is due within 2 working days of
//! the period's last day.
//!
//! The dossiers (B birth registration 1.001193, same day; H business household
//! 1.001612, 3 working days, fee 100 000 đ; L land-use certificate 1.012756, 20 working
//! days, payment wait):
//!
//! | | unit | channel | what happens | as of 31 Jan | as of 28 Feb |
//! |---|---|---|---|---|---|
//! | H1 | xuan-hoa | online | rec. Mon 5 Jan 09:00 (due Thu 8), paid online, settled Wed 7 09:00, returned, rated satisfied | settled early | closed before Feb |
//! | H2 | xuan-hoa | online | rec. Mon 12 Jan 09:00, supplement twice (12→13, 13→14 Jan), paid at the counter, settled Thu 15 09:00 (due Mon 19) | settled late (2 supplements) | closed before Feb |
//! | H3 | xuan-hoa | in person, paper | rec. Mon 19 Jan, withdrawn by the citizen Tue 20 | withdrawn | closed before Feb |
//! | H5 | xuan-hoa | postal | rec. Thu 29 Jan 14:30 (due Tue 3 Feb), then nothing | due soon (≤ Wed 4 Feb) | overdue |
//! | H4 | xuan-hoa | online | rec. Thu 12 Feb 09:00 (due Tue 24 Feb, across Tết), paid online, settled Tue 24 09:00 | — | settled on time |
//! | B1 | xuan-hoa | online | rec. Fri 30 Jan 16:10, after the cut-off (due Mon 2 Feb), settled Mon 2 Feb 10:00, returned | due soon | carried over, settled on time |
//! | B2 | xuan-hoa | online | refused at intake Tue 6 Jan | refused | closed before Feb |
//! | L1 | xuan-hoa | online | rec. Mon 5 Jan (due Mon 2 Feb); fee set Thu 8 Jan (17 working days left); paid online Thu 15 Jan 10:00: statutory due Mon 9 Feb; apology Thu 5 Feb (new date Fri 27 Feb); settled Wed 25 Feb 09:00 | not yet due | carried over, settled late (statutory date, not the apology's) |
//! | L2 | xuan-hoa | online | rec. Mon 2 Feb; fee set Wed 4 Feb, never paid | — | awaiting payment |
//! | V1 | viet-tri | in person, paper | rec. Tue 20 Jan 10:05 (due the same day), settled Wed 21 10:00, returned, rated dissatisfied | settled late | closed before Feb |
//! | V2 | viet-tri | postal | rec. Mon 9 Feb 09:30 (due Thu 12), paid at the counter, settled Wed 11 09:00, returned, rated very satisfied | — | settled early |
//! | V3 | viet-tri | online | filed Thu 26 Feb, not received | — | not yet due (no due date) |
//! | V4 | viet-tri | online | rec. Tue 24 Feb, supplement requested Wed 25 | — | waiting for a supplement |
//! | T1 | thanh-ba | online | rec. Tue 6 Jan, supplement requested Wed 7 Jan, closed by the host Thu 29 Jan (15 working days) | stopped | closed before Feb |
//! | T2 | thanh-ba | online | rec. Fri 27 Feb 16:00, after the cut-off (due Mon 2 Mar) | — | due soon (≤ Wed 4 Mar) |
//!
//! Processing times (settled − received − waiting for a supplement or a payment):
//! - H1: 7 Jan 09:00 − 5 Jan 09:00 = 2 days = 172 800 s.
//! - H2: 15 Jan 09:00 − 12 Jan 09:00 = 259 200 s, less two 23-hour supplement waits
//!   (12 Jan 10:00 → 13 Jan 09:00, 13 Jan 10:00 → 14 Jan 09:00) = 165 600 s: 93 600 s.
//! - V1: 21 Jan 10:00 − 20 Jan 10:05 = 23 h 55 min = 86 100 s.
//! - B1: 2 Feb 10:00 − 30 Jan 16:10 = 2 days 17 h 50 min = 237 000 s.
//! - H4: 24 Feb 09:00 − 12 Feb 09:00 = 12 days = 1 036 800 s.
//! - V2: 11 Feb 09:00 − 9 Feb 09:30 = 1 day 23 h 30 min = 171 000 s.
//! - L1: 25 Feb 09:00 − 5 Jan 09:00 = 51 days = 4 406 400 s, less the payment wait
//!   8 Jan 09:00 → 15 Jan 10:00 = 7 days 1 h = 608 400 s: 3 798 000 s.
//!
//! Digitization counts the files the server stored: a dossier is digitized when every
//! required component's file is stored and, once a result is issued, the result's file
//! too. Every filing but the two on paper (H3, V1) uploads its components' files right
//! after filing, and the leader attaches the electronic result half an hour after
//! settling H1, H2, B1, L1, H4 and V2; V1's certificate is handed over on paper only.

mod expected;
mod indexes;
mod province;

use motcua::reports::{Format, ReportKind, ReportRequest};
use motcua_e2e::{Backend, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

use expected::*;
use indexes::*;
use province::*;

async fn get_ok(server: &TestServer, path: &str, token: &str) -> Value {
    let response = server.get(path, Some(token)).await;
    assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.body);
    response.body
}

/// The report as `motcua report` writes it, through the library function behind it.
async fn cli(
    server: &TestServer,
    kind: ReportKind,
    from: &str,
    to: &str,
    unit: Option<&str>,
    format: Format,
) -> String {
    motcua::reports::run_report(
        &server.state.store,
        &server.state.runtime.calendar(),
        &ReportRequest {
            kind,
            from: from.into(),
            to: to.into(),
            unit: unit.map(str::to_string),
            procedure: None,
            format,
        },
        server.state.now(),
    )
    .await
    .expect("the report command")
}

async fn reports_match_the_hand_computed_tables(backend: Backend) {
    let server = TestServer::start(backend, "2026-01-02 08:00").await;
    let province = build_province(&server).await;
    let admin = token("phu-tho", "admin");

    // January, as of its last second.
    let january = get_ok(
        &server,
        "/api/v1/reports/processing?from=2026-01-01&to=2026-01-31",
        &admin,
    )
    .await;
    let expected_january = processing_report(
        "2026-01-01",
        "2026-01-31",
        "2026-01-31T23:59:59+07:00",
        january_rows(),
    );
    assert_eq!(
        january,
        expected_january,
        "January\n{}",
        serde_json::to_string_pretty(&january).unwrap()
    );
    assert_places_add_up(&january);

    // February: the dossiers changed since are read as they stood on 28 February.
    let february = get_ok(
        &server,
        "/api/v1/reports/processing?from=2026-02-01&to=2026-02-28",
        &admin,
    )
    .await;
    let expected_february = processing_report(
        "2026-02-01",
        "2026-02-28",
        "2026-02-28T23:59:59+07:00",
        february_rows(),
    );
    assert_eq!(
        february,
        expected_february,
        "February\n{}",
        serde_json::to_string_pretty(&february).unwrap()
    );
    assert_places_add_up(&february);

    // The same tables from the command line's library function.
    let from_cli: Value = serde_json::from_str(
        &cli(
            &server,
            ReportKind::Processing,
            "2026-01-01",
            "2026-01-31",
            None,
            Format::Json,
        )
        .await,
    )
    .unwrap();
    assert_eq!(from_cli, expected_january, "the command's January");
    let from_cli: Value = serde_json::from_str(
        &cli(
            &server,
            ReportKind::Processing,
            "2026-02-01",
            "2026-02-28",
            None,
            Format::Json,
        )
        .await,
    )
    .unwrap();
    assert_eq!(from_cli, expected_february, "the command's February");

    // One procedure: only its rows.
    let land = get_ok(
        &server,
        "/api/v1/reports/processing?from=2026-02-01&to=2026-02-28&procedure=1.012756",
        &admin,
    )
    .await;
    assert_eq!(land["rows"], json!([expected_february["rows"][4]]));
    assert_eq!(
        land["total"],
        without(&expected_february["procedures"][2], &["procedure"])
    );

    // The indicators.
    let indicators = get_ok(
        &server,
        "/api/v1/reports/indicators?from=2026-01-01&to=2026-01-31",
        &admin,
    )
    .await;
    let expected = json!({
        "period": { "from": "2026-01-01", "to": "2026-01-31", "as_of": "2026-01-31T23:59:59+07:00" },
        "unit": null,
        "units": january_indicators(),
    });
    assert_eq!(
        indicators,
        expected,
        "January indicators\n{}",
        serde_json::to_string_pretty(&indicators).unwrap()
    );
    let indicators = get_ok(
        &server,
        "/api/v1/reports/indicators?from=2026-02-01&to=2026-02-28",
        &admin,
    )
    .await;
    let expected_indicators = json!({
        "period": { "from": "2026-02-01", "to": "2026-02-28", "as_of": "2026-02-28T23:59:59+07:00" },
        "unit": null,
        "units": february_indicators(&province.h5),
    });
    assert_eq!(
        indicators,
        expected_indicators,
        "February indicators\n{}",
        serde_json::to_string_pretty(&indicators).unwrap()
    );
    let from_cli: Value = serde_json::from_str(
        &cli(
            &server,
            ReportKind::Indicators,
            "2026-02-01",
            "2026-02-28",
            None,
            Format::Json,
        )
        .await,
    )
    .unwrap();
    assert_eq!(
        from_cli, expected_indicators,
        "the command's February indicators"
    );

    // A period still running is read as of the host's clock.
    let march = get_ok(
        &server,
        "/api/v1/reports/processing?from=2026-03-01&to=2026-03-31",
        &admin,
    )
    .await;
    assert_eq!(march["period"]["as_of"], "2026-03-10T10:00:00+07:00");
    assert_places_add_up(&march);

    // CSV: the header, then one line per row.
    let csv = server
        .client
        .get(format!(
            "{}/api/v1/reports/processing?from=2026-01-01&to=2026-01-31&format=csv",
            server.base
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "level,unit,procedure,carried_over,received_online,received_in_person,received_postal,received,to_process,\
         settled_early,settled_on_time,settled_late,in_progress_not_yet_due,in_progress_due_soon,in_progress_overdue,\
         waiting_supplement,awaiting_payment,refused,stopped,withdrawn,late_rate_percent,on_time_rate_percent,\
         average_processing_days"
    );
    // 5 groups, 3 units, 3 procedures, the total.
    assert_eq!(lines.len(), 1 + 5 + 3 + 3 + 1, "{csv}");
    assert!(
        lines.contains(
            &"unit-procedure,xuan-hoa,1.001612,0,2,1,1,4,4,1,0,1,0,1,0,0,0,0,0,1,25,75,1.54"
        ),
        "{csv}"
    );
    assert_eq!(
        lines[12],
        "total,,,0,6,2,1,9,9,1,0,2,1,2,0,0,0,1,1,1,22.22,77.78,1.36"
    );
    assert_eq!(
        cli(
            &server,
            ReportKind::Processing,
            "2026-01-01",
            "2026-01-31",
            None,
            Format::Csv
        )
        .await,
        csv,
        "the command writes the same CSV"
    );
    let csv = server
        .client
        .get(format!(
            "{}/api/v1/reports/indicators?from=2026-02-01&to=2026-02-28&format=csv",
            server.base
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("rank,unit,name,on_time_numerator,on_time_denominator,on_time_rate_percent,on_time_points,"), "{csv}");
    assert!(
        lines[0].ends_with(",average_processing_days,level"),
        "{csv}"
    );
    // The department ranks first among the departments, after the wards and communes.
    assert!(lines.last().unwrap().starts_with("1,so-nnmt,"), "{csv}");
    assert_eq!(
        lines[2],
        format!(
            "2,xuan-hoa,Phường Xuân Hòa,3,5,60,12.63,2,2,100,12,2,4,50,10,5,5,100,22,0,0,,18,74.63,82,1,{},19.57,commune",
            province.h5
        )
    );
    server.finish().await;
}

/// A unit's staff see their unit; another unit's report is refused; the province's
/// staff see every unit; bad queries are problems naming what to fix.
async fn reports_respect_tenancy_and_refuse_bad_queries(backend: Backend) {
    let server = TestServer::start(backend, "2026-01-02 08:00").await;
    let province = build_province(&server).await;
    let officer = token("xuan-hoa", "officer");
    let (rows, units, _, _) = february_rows();

    let own = get_ok(
        &server,
        "/api/v1/reports/processing?from=2026-02-01&to=2026-02-28",
        &officer,
    )
    .await;
    assert_eq!(own["unit"], "xuan-hoa");
    assert_eq!(own["rows"], json!(rows[2..]), "only Xuân Hòa's rows");
    assert_eq!(own["units"], json!([units[2]]));
    assert_eq!(own["total"], without(&units[2], &["unit", "name"]));
    let same = get_ok(
        &server,
        "/api/v1/reports/processing?from=2026-02-01&to=2026-02-28&unit=xuan-hoa",
        &officer,
    )
    .await;
    assert_eq!(same, own);
    // Its indicators: its own line, ranked among all units.
    let indicators = get_ok(
        &server,
        "/api/v1/reports/indicators?from=2026-02-01&to=2026-02-28",
        &officer,
    )
    .await;
    assert_eq!(
        indicators["units"],
        json!([february_indicators(&province.h5)[1]])
    );

    for path in [
        "/api/v1/reports/processing?from=2026-02-01&to=2026-02-28&unit=viet-tri",
        "/api/v1/reports/indicators?from=2026-02-01&to=2026-02-28&unit=viet-tri",
    ] {
        server
            .get(path, Some(&officer))
            .await
            .problem(StatusCode::FORBIDDEN);
    }
    server
        .get("/api/v1/sync/status-changes", Some(&officer))
        .await
        .problem(StatusCode::FORBIDDEN);
    server
        .get(
            "/api/v1/reports/processing?from=2026-02-01&to=2026-02-28",
            None,
        )
        .await
        .problem(StatusCode::UNAUTHORIZED);

    // The province's staff, any role, see every unit, or the one they ask for.
    let publisher = token("phu-tho", "publisher");
    let viet_tri = get_ok(
        &server,
        "/api/v1/reports/processing?from=2026-02-01&to=2026-02-28&unit=viet-tri",
        &publisher,
    )
    .await;
    assert_eq!(viet_tri["rows"], json!([rows[1]]));
    let all = get_ok(
        &server,
        "/api/v1/reports/processing?from=2026-02-01&to=2026-02-28",
        &publisher,
    )
    .await;
    assert_eq!(all["rows"], json!(rows));

    let admin = token("phu-tho", "admin");
    for (query, what) in [
        ("from=2026-02-28&to=2026-02-01", "is after"),
        ("from=2026-02-30&to=2026-03-01", "not a date"),
        ("from=2026-2-1&to=2026-02-28", "not a date"),
        ("to=2026-02-28", "`from` is required"),
        ("from=2026-02-01", "`to` is required"),
        ("from=2026-04-01&to=2026-04-30", "after today"),
        ("from=2026-02-01&to=2026-02-28&format=xml", "format"),
        (
            "from=2026-02-01&to=2026-02-28&unit=ha-noi",
            "does not exist",
        ),
        ("from=2026-02-01&to=2026-02-28&colour=red", "colour"),
    ] {
        let response = server
            .get(&format!("/api/v1/reports/processing?{query}"), Some(&admin))
            .await;
        let problem = response.problem(StatusCode::BAD_REQUEST);
        assert!(
            problem["detail"].as_str().unwrap().contains(what),
            "{query}: {problem}"
        );
    }
    server
        .get(
            "/api/v1/reports/indicators?from=2026-02-01&to=2026-02-28&procedure=1.001612",
            Some(&admin),
        )
        .await
        .problem(StatusCode::BAD_REQUEST);
    server.finish().await;
}

/// The scoring table is data: the province's admins change it (validated, audited) and
/// the indicators follow.
async fn scoring_table_is_data(backend: Backend) {
    let server = TestServer::start(backend, "2026-01-02 08:00").await;
    let province = build_province(&server).await;
    let admin = token("phu-tho", "admin");
    let table = get_ok(
        &server,
        "/api/v1/reports/scoring",
        &token("viet-tri", "officer"),
    )
    .await;
    assert_eq!(table["max_points"], 82);
    assert_eq!(
        table["indicators"][1],
        json!({ "indicator": "online", "group": "Dịch vụ công trực tuyến", "target_percent": 80, "points": 12 })
    );

    let mut changed = table["indicators"].clone();
    changed[1]["target_percent"] = json!(70);
    let before = server
        .get("/api/v1/registry/events", Some(&admin))
        .await
        .body["events"]
        .as_array()
        .unwrap()
        .len();
    for (body, status) in [(json!({ "indicators": changed }), StatusCode::FORBIDDEN)] {
        server
            .put(
                "/api/v1/reports/scoring",
                Some(&token("xuan-hoa", "admin")),
                &body,
            )
            .await
            .problem(status);
    }
    let mut bad_target = changed.clone();
    bad_target[0]["target_percent"] = json!(120);
    let mut unknown = changed.clone();
    unknown[4]["indicator"] = json!("happiness");
    let mut negative = changed.clone();
    negative[2]["points"] = json!(-1);
    let missing = json!(changed.as_array().unwrap()[..4]);
    for bad in [bad_target, unknown, negative, missing] {
        server
            .put(
                "/api/v1/reports/scoring",
                Some(&admin),
                &json!({ "indicators": bad }),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(
        get_ok(&server, "/api/v1/reports/scoring", &admin).await,
        table,
        "refused changes wrote nothing"
    );

    let saved = server
        .put(
            "/api/v1/reports/scoring",
            Some(&admin),
            &json!({ "indicators": changed }),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.body["indicators"][1]["target_percent"], 70);
    let events = server
        .get("/api/v1/registry/events", Some(&admin))
        .await
        .body["events"]
        .clone();
    assert_eq!(events.as_array().unwrap().len(), before + 1);
    let event = events
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["action"] == "set-scoring")
        .expect("audited");
    assert_eq!(event["before"]["scoring"][1]["target_percent"], 80);
    assert_eq!(event["after"]["scoring"][1]["target_percent"], 70);

    // Việt Trì's online rate in February, 2/3 = 66.67 %, now scores 12 × 2/3 ÷ 0.7 =
    // 11.43 instead of 10: total 71.43, still third.
    let indicators = get_ok(
        &server,
        "/api/v1/reports/indicators?from=2026-02-01&to=2026-02-28",
        &admin,
    )
    .await;
    let mut expected = february_indicators(&province.h5)[2].clone();
    expected["indicators"][1]["target_percent"] = json!(70);
    expected["indicators"][1]["points"] = json!(11.43);
    expected["total_points"] = json!(71.43);
    assert_eq!(indicators["units"][2], expected);
    server.finish().await;
}

/// An action that changes none of a dossier's reportable facts writes no
/// `dossier_changes` row; the dossier's latest row holds its facts all the same
/// (decision 0031). A past period reads the same before and after later actions, with
/// and without facts changed, and the replay still finds every event's facts.
async fn facts_are_recorded_when_they_change(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 08:00").await;
    let xh = |role: &str| token("xuan-hoa", role);
    let h = file(
        &server,
        "2026-03-02 08:00",
        filing("household", "xuan-hoa", "online", false),
    )
    .await;
    act(
        &server,
        "2026-03-02 09:00",
        &xh("officer"),
        &h.code,
        "receive",
        json!({}),
    )
    .await;
    // Half the fee online (`paid_online` becomes 1), half at the counter (it stays 1).
    act_as_citizen(
        &server,
        "2026-03-02 10:00",
        &h,
        "record-payment",
        json!({ "amount_vnd": 50000, "online": true, "receipt": "VNPAY-1" }),
    )
    .await;
    act(
        &server,
        "2026-03-02 11:00",
        &xh("officer"),
        &h.code,
        "record-payment",
        json!({ "amount_vnd": 50000, "online": false, "receipt": "BL-1" }),
    )
    .await;

    server.set_time("2026-03-02 23:00");
    let that_day = second_of_march(&server).await;
    assert_eq!(that_day["total"]["in_progress"]["total"], 1, "{that_day}");

    // A step inside one status, then the approval that settles the dossier.
    act(
        &server,
        "2026-03-03 09:00",
        &xh("specialist"),
        &h.code,
        "propose",
        json!({}),
    )
    .await;
    act(
        &server,
        "2026-03-04 09:00",
        &xh("leader"),
        &h.code,
        "approve",
        json!({}),
    )
    .await;
    server.set_time("2026-03-05 09:00");
    assert_eq!(
        second_of_march(&server).await,
        that_day,
        "2 March as of its end, read on 5 March"
    );

    // Which events wrote a row.
    let view = get_ok(
        &server,
        &format!("/api/v1/dossiers/{}", h.code),
        &xh("officer"),
    )
    .await;
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&server.database_url)
        .await
        .expect("connect to the test database");
    let recorded: Vec<i64> =
        sqlx::query("SELECT seq FROM dossier_changes WHERE dossier_code = $1 ORDER BY seq")
            .bind(&h.code)
            .fetch_all(&pool)
            .await
            .expect("changes")
            .iter()
            .map(|row| sqlx::Row::get(row, 0))
            .collect();
    pool.close().await;
    let wrote: Vec<(String, bool)> = view["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|event| event["action"] != "attach-document")
        .map(|event| {
            let seq = event["seq"].as_i64().expect("seq");
            (
                event["action"].as_str().expect("action").to_string(),
                recorded.contains(&seq),
            )
        })
        .collect();
    let expected: Vec<(String, bool)> = [
        ("submit", true),
        ("receive", true),
        ("record-payment", true),
        ("record-payment", false),
        ("propose", false),
        ("approve", true),
    ]
    .iter()
    .map(|(action, row)| (action.to_string(), *row))
    .collect();
    assert_eq!(wrote, expected, "history {}", view["history"]);

    let replay = get_ok(
        &server,
        &format!("/api/v1/dossiers/{}/replay", h.code),
        &xh("leader"),
    )
    .await;
    assert_eq!(replay["verdict"], "match", "{replay}");
    server.finish().await;
}

/// Xuân Hòa's processing report and indicators for 2 March 2026, without the period.
async fn second_of_march(server: &TestServer) -> Value {
    let admin = token("phu-tho", "admin");
    let day = "from=2026-03-02&to=2026-03-02&unit=xuan-hoa";
    let processing = get_ok(server, &format!("/api/v1/reports/processing?{day}"), &admin).await;
    let indicators = get_ok(server, &format!("/api/v1/reports/indicators?{day}"), &admin).await;
    json!({ "rows": processing["rows"], "total": processing["total"], "units": indicators["units"] })
}

motcua_e2e::on_both_backends!(
    reports_match_the_hand_computed_tables,
    reports_respect_tenancy_and_refuse_bad_queries,
    scoring_table_is_data,
    payments_after_the_first_write_no_index_entry,
    an_upgrade_fills_the_filing_time_of_earlier_changes,
    facts_are_recorded_when_they_change,
);
