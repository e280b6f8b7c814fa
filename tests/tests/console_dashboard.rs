//! The province dashboard in a real headless Chromium, on the staff's desktop window.
//!
//! Two wards, two months, birth registrations (same day) filed through the API:
//!
//! | | unit | channel | what happens | as of Fri 20 Nov 2026, 10:00 |
//! |---|---|---|---|---|
//! | X1 | xuan-hoa | online | rec. Mon 5 Oct 09:00, signed 11:00 | settled on time |
//! | V1 | viet-tri | in person, at the counter | rec. Tue 6 Oct 09:00, signed 11:00 | settled on time |
//! | X2 | xuan-hoa | online | rec. Tue 3 Nov 09:00 (due the same day), then nothing | overdue, 13 working days |
//! | X3 | xuan-hoa | in person | rec. Wed 4 Nov 09:00, signed Thu 5 Nov | settled late |
//! | V2 | viet-tri | online | rec. Tue 10 Nov 09:00, signed 11:00 | settled on time |
//!
//! The province's admin opens the dashboard for October–November; every figure of the
//! indicator table and the ranking is read off the page and compared, number by number,
//! with `GET /api/v1/reports/indicators` for the same period, and the charts' number
//! tables with the indicators of each month and with `/processing`: a drift on either
//! side breaks the test. The charts are inline SVG, named, and drawn under the CSP; the
//! overdue list names X2. Xuân Hòa's leader sees Xuân Hòa's figures only, and may open
//! X2's page from the list.

use motcua_e2e::browser::{Browser, sign_in, sign_out};
use motcua_e2e::scenarios::filings;
use motcua_e2e::{Backend, Filed, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

const FROM: &str = "2026-10-01";
const TO: &str = "2026-11-30";
const NOW: &str = "2026-11-20 10:00";

fn token(unit: &str, role: &str) -> String {
    format!("demo-{unit}-{role}")
}

/// Files a birth registration at `at`: online the citizen files it, at the counter or
/// by post the unit's officer.
async fn file(server: &TestServer, at: &str, unit: &str, channel: &str) -> Filed {
    server.set_time(at);
    let mut body = filings()["birth"].clone();
    body["receiving_unit"] = json!(unit);
    body["channel"] = json!(channel);
    body["form"]["child"]["birth_date"] = json!("2026-09-20");
    let officer = token(unit, "officer");
    let officer = (channel != "online").then_some(officer.as_str());
    server.file(officer, &body).await
}

async fn act(server: &TestServer, at: &str, unit: &str, role: &str, code: &str, action: &str) {
    server.set_time(at);
    server
        .act_ok(&token(unit, role), code, action, json!({}))
        .await;
}

/// Receives a dossier on `received` at 09:00, and has it signed on `signed` at 11:00.
async fn receive_and_sign(
    server: &TestServer,
    unit: &str,
    code: &str,
    received: &str,
    signed: &str,
) {
    act(
        server,
        &format!("{received} 09:00"),
        unit,
        "officer",
        code,
        "receive",
    )
    .await;
    act(
        server,
        &format!("{signed} 10:00"),
        unit,
        "specialist",
        code,
        "submit-for-signing",
    )
    .await;
    act(
        server,
        &format!("{signed} 11:00"),
        unit,
        "leader",
        code,
        "sign",
    )
    .await;
}

/// The dossiers of the module comment; returns X2's code.
async fn two_wards_two_months(server: &TestServer) -> String {
    let x1 = file(server, "2026-10-05 08:00", "xuan-hoa", "online").await;
    receive_and_sign(server, "xuan-hoa", &x1.code, "2026-10-05", "2026-10-05").await;
    let v1 = file(server, "2026-10-06 08:00", "viet-tri", "in-person").await;
    receive_and_sign(server, "viet-tri", &v1.code, "2026-10-06", "2026-10-06").await;
    let x2 = file(server, "2026-11-03 08:00", "xuan-hoa", "online").await;
    act(
        server,
        "2026-11-03 09:00",
        "xuan-hoa",
        "officer",
        &x2.code,
        "receive",
    )
    .await;
    let x3 = file(server, "2026-11-04 08:00", "xuan-hoa", "in-person").await;
    receive_and_sign(server, "xuan-hoa", &x3.code, "2026-11-04", "2026-11-05").await;
    let v2 = file(server, "2026-11-10 08:00", "viet-tri", "online").await;
    receive_and_sign(server, "viet-tri", &v2.code, "2026-11-10", "2026-11-10").await;
    server.set_time(NOW);
    x2.code
}

async fn get_ok(server: &TestServer, path: &str, token: &str) -> Value {
    let response = server.get(path, Some(token)).await;
    assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.body);
    response.body
}

/// A figure as the page writes it ("87,5 %", "1.000", "18,05", "—") as the API's number
/// (null for the dash).
fn number(text: &str) -> Value {
    let text = text.trim();
    if text == "—" {
        return Value::Null;
    }
    let plain = text
        .trim_end_matches('%')
        .trim()
        .replace('.', "")
        .replace(',', ".");
    let value: f64 = plain
        .parse()
        .unwrap_or_else(|_| panic!("{text:?} is not a figure"));
    json!(value)
}

/// Asserts two numbers are the same figure (the API writes 100.0 as 100).
fn same(page: &Value, api: &Value, what: &str) {
    assert_eq!(
        page.as_f64(),
        api.as_f64(),
        "{what}: the page shows {page}, the API says {api}"
    );
}

/// The rows of a chart's number table: its label and values, as the page shows them.
async fn chart_table(browser: &Browser, chart: &str) -> Vec<Vec<String>> {
    let rows = browser
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0] + ' details tbody tr'))
                .map((row) => Array.from(row.cells).map((cell) => cell.textContent.trim()));",
            vec![json!(format!("figure#{chart}"))],
        )
        .await;
    serde_json::from_value(rows).expect("rows of text")
}

/// Every figure of the indicator table and the ranking against the API's indicators,
/// unit by unit and number by number, in the API's order.
async fn figures_match(browser: &Browser, api: &Value) {
    let units = api["units"].as_array().expect("units");
    let shown: Vec<String> = serde_json::from_value(
        browser
            .execute(
                "return Array.from(document.querySelectorAll('#ranking tbody tr[data-unit]'))
                    .map((row) => row.dataset.unit);",
                vec![],
            )
            .await,
    )
    .unwrap();
    let listed: Vec<&str> = units
        .iter()
        .map(|unit| unit["unit"].as_str().unwrap())
        .collect();
    assert_eq!(
        shown, listed,
        "the ranking lists the API's units in its order"
    );
    // Each level is ranked apart, under its own heading, wards and communes first.
    let headings: Vec<String> = serde_json::from_value(
        browser
            .execute(
                "return Array.from(document.querySelectorAll('#ranking tbody tr.level'))
                    .map((row) => row.textContent.trim());",
                vec![],
            )
            .await,
    )
    .unwrap();
    let mut levels: Vec<&str> = units
        .iter()
        .map(|unit| match unit["level"].as_str().unwrap() {
            "commune" => "Phường, xã",
            _ => "Sở, ban, ngành",
        })
        .collect();
    levels.dedup();
    assert_eq!(headings, levels, "one heading per level ranked");
    let rows: Vec<String> = serde_json::from_value(
        browser
            .execute(
                "return Array.from(document.querySelectorAll('#indicators tbody tr'))
                    .map((row) => row.dataset.unit);",
                vec![],
            )
            .await,
    )
    .unwrap();
    assert_eq!(rows, listed, "the indicator table lists the API's units");
    for unit in units {
        let code = unit["unit"].as_str().unwrap();
        let ranking = format!("#ranking tr[data-unit='{code}']");
        assert_eq!(
            browser.text(&format!("{ranking} [data-figure=rank]")).await,
            unit["rank"].to_string(),
            "{code}'s rank"
        );
        let name = browser.text(&format!("{ranking} th")).await;
        assert_eq!(name, unit["name"].as_str().unwrap());
        same(
            &number(
                &browser
                    .text(&format!("{ranking} [data-figure=total]"))
                    .await,
            ),
            &unit["total_points"],
            &format!("{code}'s total"),
        );
        same(
            &number(
                &browser
                    .text(&format!("{ranking} [data-figure=overdue]"))
                    .await,
            ),
            &unit["overdue"]["count"],
            &format!("{code}'s overdue count"),
        );
        let row = format!("#indicators tr[data-unit='{code}']");
        same(
            &number(&browser.text(&format!("{row} [data-figure=total]")).await),
            &unit["total_points"],
            &format!("{code}'s total in the indicator table"),
        );
        for score in unit["indicators"].as_array().unwrap() {
            let indicator = score["indicator"].as_str().unwrap();
            let cell = format!("{row} td[data-indicator='{indicator}']");
            let what = format!("{code} {indicator}");
            let rate = number(&browser.text(&format!("{cell} [data-figure=rate]")).await);
            if score["rate_percent"].is_null() {
                assert!(
                    rate.is_null(),
                    "{what}: the API has no rate, the page shows {rate}"
                );
            } else {
                same(&rate, &score["rate_percent"], &format!("{what} rate"));
            }
            assert_eq!(
                browser
                    .text(&format!("{cell} [data-figure=fraction]"))
                    .await,
                format!("{}/{}", score["numerator"], score["denominator"]),
                "{what} numerator/denominator"
            );
            same(
                &number(&browser.text(&format!("{cell} [data-figure=points]")).await),
                &score["points"],
                &format!("{what} points"),
            );
        }
    }
}

/// The three charts: inline SVG named by a title and an aria-label, drawn (the CSP let
/// them render: they take room on the page), with the texts plotters wrote.
async fn charts_are_drawn(browser: &Browser, texts: &[(&str, &str)]) {
    for (chart, title) in [
        ("trend", "Tỷ lệ hồ sơ giải quyết đúng hạn theo tháng"),
        ("online", "Tỷ lệ hồ sơ tiếp nhận trực tuyến theo đơn vị"),
        ("channels", "Hồ sơ tiếp nhận theo kênh"),
    ] {
        let svg = format!("figure#{chart} svg[role=img]");
        let label = browser
            .find(&svg)
            .await
            .attr("aria-label")
            .await
            .expect("aria-label");
        assert_eq!(label.as_deref(), Some(title), "{chart}'s label");
        let drawn = browser
            .execute(
                "const svg = document.querySelector(arguments[0]);
                 const box = svg.getBoundingClientRect();
                 return [svg.querySelector('title').textContent, box.width, box.height,
                         svg.querySelectorAll('rect, line, polyline, circle').length];",
                vec![json!(svg)],
            )
            .await;
        assert_eq!(drawn[0], title, "{chart}'s <title>");
        assert!(
            drawn[1].as_f64().unwrap() > 600.0,
            "{chart} is drawn wide: {drawn}"
        );
        assert!(
            drawn[2].as_f64().unwrap() > 100.0,
            "{chart} is drawn tall: {drawn}"
        );
        assert!(
            drawn[3].as_u64().unwrap() > 5,
            "{chart} has shapes: {drawn}"
        );
    }
    for (chart, text) in texts {
        let shown: Vec<String> = serde_json::from_value(
            browser
                .execute(
                    "return Array.from(document.querySelectorAll(arguments[0] + ' svg text'))
                        .map((text) => text.textContent.trim());",
                    vec![json!(format!("figure#{chart}"))],
                )
                .await,
        )
        .unwrap();
        assert!(
            shown.iter().any(|shown| shown == text),
            "{chart} does not show {text:?}: {shown:?}"
        );
    }
    let source = browser.source().await;
    assert!(
        !source.contains("style="),
        "a style attribute the CSP blocks"
    );
}

/// The on-time rate of the province in a month, from the API's indicators of that
/// month: the units' on-time dossiers over their dossiers to process, rounded half up
/// in hundredths as the reports round.
fn province_on_time(month: &Value) -> Option<f64> {
    let (numerator, denominator) = month["units"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|unit| unit["indicators"].as_array().unwrap())
        .filter(|score| score["indicator"] == "on_time")
        .fold((0i64, 0i64), |(n, d), score| {
            (
                n + score["numerator"].as_i64().unwrap(),
                d + score["denominator"].as_i64().unwrap(),
            )
        });
    (denominator > 0)
        .then(|| ((numerator * 20_000 + denominator) / (2 * denominator)) as f64 / 100.0)
}

const MONTHS: [(&str, &str, &str); 6] = [
    ("06/2026", "2026-06-01", "2026-06-30"),
    ("07/2026", "2026-07-01", "2026-07-31"),
    ("08/2026", "2026-08-01", "2026-08-31"),
    ("09/2026", "2026-09-01", "2026-09-30"),
    ("10/2026", "2026-10-01", "2026-10-31"),
    ("11/2026", "2026-11-01", "2026-11-30"),
];

async fn the_dashboard_shows_the_reports_figures(backend: Backend) {
    let server = TestServer::start(backend, "2026-10-01 08:00").await;
    let x2 = two_wards_two_months(&server).await;
    let suffix = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => "-postgres",
    };
    let admin = token("phu-tho", "admin");
    let period = format!("from={FROM}&to={TO}");
    let api = get_ok(
        &server,
        &format!("/api/v1/reports/indicators?{period}"),
        &admin,
    )
    .await;
    let processing = get_ok(
        &server,
        &format!("/api/v1/reports/processing?{period}"),
        &admin,
    )
    .await;
    // The scenario is what the module comment says, so the comparisons compare something.
    let xuan_hoa = &api["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|unit| unit["unit"] == "xuan-hoa")
        .expect("Xuân Hòa ranked")["indicators"];
    assert_eq!(
        xuan_hoa[0]["numerator"], 1,
        "X1 on time; X2, X3 late: {xuan_hoa}"
    );
    assert_eq!(xuan_hoa[0]["denominator"], 3);
    assert_eq!(
        xuan_hoa[1]["numerator"], 2,
        "X1, X2 online, X3 at the counter"
    );

    let browser = Browser::start().await;
    sign_in(&browser, &server.base, "phu-tho-admin", &admin).await;
    // The dashboard opens on this month so far, for the whole province.
    browser.click("nav a[href='/staff/dashboard']").await;
    browser.wait_for_text("h1", "Chỉ số phục vụ").await;
    let page = &browser;
    let value = |css: &'static str| async move {
        page.find(css)
            .await
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    };
    assert_eq!(value("#from").await, "2026-11-01");
    assert_eq!(value("#to").await, "2026-11-20");
    assert_eq!(browser.text("#scope").await, "Toàn tỉnh");
    // October and November, chosen in the period form.
    browser
        .execute(
            "document.querySelector('#from').value = arguments[0];
             document.querySelector('#to').value = arguments[1];",
            vec![json!(FROM), json!(TO)],
        )
        .await;
    browser.submit("form.period").await;
    browser.wait_for_text("#as-of", "01/10/2026").await;
    assert!(browser.current_url().await.contains(&period));
    assert_eq!(
        browser.text("#as-of").await,
        "Kỳ từ 01/10/2026 đến 30/11/2026 · số liệu tính đến 10:00 20/11/2026"
    );
    figures_match(&browser, &api).await;
    // Vietnamese figures: Xuân Hòa's on-time rate, 1 of 3.
    assert_eq!(
        browser
            .text("#indicators tr[data-unit='xuan-hoa'] td[data-indicator='on_time'] [data-figure=rate]")
            .await,
        "33,33 %"
    );
    browser.screenshot(&format!("dashboard{suffix}")).await;

    // The charts, and their numbers: each month's on-time rate from that month's
    // indicators, the online rate of each unit, the channels as /processing counts them.
    charts_are_drawn(
        &browser,
        &[
            ("trend", "11/2026"),
            ("trend", "Mục tiêu 95 %"),
            ("online", "Phường Xuân Hòa"),
            ("online", "66,67 %"),
            ("channels", "Bưu chính"),
        ],
    )
    .await;
    let trend = chart_table(&browser, "trend").await;
    assert_eq!(trend.len(), MONTHS.len());
    for ((label, from, to), row) in MONTHS.iter().zip(&trend) {
        let month = get_ok(
            &server,
            &format!("/api/v1/reports/indicators?from={from}&to={to}"),
            &admin,
        )
        .await;
        assert_eq!(&row[0], label);
        assert_eq!(
            number(&row[1]),
            json!(province_on_time(&month)),
            "{label}: {row:?}"
        );
    }
    assert_eq!(trend[4][1], "100 %", "October: X1 and V1 on time");
    let online = chart_table(&browser, "online").await;
    for (unit, row) in api["units"].as_array().unwrap().iter().zip(&online) {
        assert_eq!(row[0], unit["name"].as_str().unwrap());
        let score = &unit["indicators"][1];
        assert_eq!(score["indicator"], "online");
        assert_eq!(number(&row[1]), score["rate_percent"], "{row:?}");
        assert_eq!(
            row[2],
            format!("{}/{}", score["numerator"], score["denominator"])
        );
    }
    let channels = chart_table(&browser, "channels").await;
    let counted = processing["units"].as_array().unwrap();
    assert_eq!(channels.len(), counted.len());
    for (row, unit) in channels.iter().zip(counted) {
        let received = &unit["received"];
        assert_eq!(row[0], unit["name"].as_str().unwrap());
        for (index, channel) in ["online", "in_person", "postal", "total"]
            .iter()
            .enumerate()
        {
            assert_eq!(
                number(&row[index + 1]),
                json!(received[channel].as_f64()),
                "{row:?} {channel}"
            );
        }
    }
    browser
        .execute(
            "document.getElementById('charts-heading').scrollIntoView();",
            vec![],
        )
        .await;
    browser
        .screenshot(&format!("dashboard-charts{suffix}"))
        .await;

    // The overdue list: X2, 13 working days after Tue 3 Nov; the province's staff do
    // not handle it, so it is not a link for them.
    let total: i64 = api["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|unit| unit["overdue"]["count"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 1);
    assert_eq!(browser.text("#overdue-total").await, "1");
    let line = browser
        .text(&format!("#overdue tr[data-code='{x2}']"))
        .await;
    for expected in [
        "Phường Xuân Hòa",
        "Đăng ký khai sinh",
        "03/11/2026",
        "13",
        "Quá hạn",
    ] {
        assert!(line.contains(expected), "{expected} not in {line}");
    }
    assert!(browser.find_all("#overdue a").await.is_empty());
    browser
        .execute(
            "document.getElementById('overdue-heading').scrollIntoView();",
            vec![],
        )
        .await;
    browser
        .screenshot(&format!("dashboard-overdue{suffix}"))
        .await;

    // One unit chosen from the filter: its line alone, the API's for that unit.
    browser.select("#unit", "viet-tri").await;
    browser.submit("form.period").await;
    browser.wait_for_text("#scope", "Việt Trì").await;
    let viet_tri = get_ok(
        &server,
        &format!("/api/v1/reports/indicators?{period}&unit=viet-tri"),
        &admin,
    )
    .await;
    figures_match(&browser, &viet_tri).await;

    // A period that ends before it starts is refused on the page, with the form kept.
    browser
        .goto(&format!(
            "{}/staff/dashboard?from=2026-11-30&to=2026-10-01",
            server.base
        ))
        .await;
    let refused = browser
        .wait_for_text("[role=alert]", "Khoảng thời gian")
        .await;
    assert!(refused.contains("không hợp lệ"), "{refused}");
    assert_eq!(value("#from").await, "2026-11-30");

    // Xuân Hòa's leader: Xuân Hòa's figures only, no unit to choose, X2 a link.
    sign_out(&browser).await;
    let leader = token("xuan-hoa", "leader");
    sign_in(&browser, &server.base, "xuan-hoa-leader", &leader).await;
    browser
        .goto(&format!("{}/staff/dashboard?{period}", server.base))
        .await;
    browser.wait_for_text("#scope", "Xuân Hòa").await;
    let own = get_ok(
        &server,
        &format!("/api/v1/reports/indicators?{period}"),
        &leader,
    )
    .await;
    assert_eq!(own["unit"], "xuan-hoa");
    figures_match(&browser, &own).await;
    assert!(
        browser.find_all("#unit").await.is_empty(),
        "no unit to choose"
    );
    let main = browser.text("main").await;
    assert!(!main.contains("Việt Trì"), "another unit's figures: {main}");
    let trend = chart_table(&browser, "trend").await;
    for ((label, from, to), row) in MONTHS.iter().zip(&trend) {
        let month = get_ok(
            &server,
            &format!("/api/v1/reports/indicators?from={from}&to={to}"),
            &leader,
        )
        .await;
        assert_eq!(
            number(&row[1]),
            month["units"][0]["indicators"][0]["rate_percent"],
            "{label}: {row:?}"
        );
    }
    browser
        .find(&format!("#overdue a[href='/staff/dossiers/{x2}']"))
        .await;
    browser.screenshot(&format!("dashboard-unit{suffix}")).await;
    // Another unit's figures are refused, as the API refuses them.
    browser
        .goto(&format!(
            "{}/staff/dashboard?{period}&unit=viet-tri",
            server.base
        ))
        .await;
    browser.wait_for_text("h1", "Không có quyền").await;
    server
        .get(
            &format!("/api/v1/reports/indicators?{period}&unit=viet-tri"),
            Some(&leader),
        )
        .await
        .problem(StatusCode::FORBIDDEN);

    browser.close().await;
    server.finish().await;
}

motcua_e2e::on_both_backends!(the_dashboard_shows_the_reports_figures);
