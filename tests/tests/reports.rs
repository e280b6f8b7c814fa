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

use motcua::reports::{Format, ReportKind, ReportRequest};
use motcua_e2e::{Backend, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BIRTH: &str = "1.001193";
const HOUSEHOLD: &str = "1.001612";
const LAND: &str = "1.012756";

fn filings() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("filings")).expect("json")
}

fn token(unit: &str, role: &str) -> String {
    format!("demo-{unit}-{role}")
}

/// A filing body from `_filings.json` for `unit` and `channel`; `paper` marks every
/// document as not digitized.
fn filing(name: &str, unit: &str, channel: &str, paper: bool) -> Value {
    let mut body = filings()[name].clone();
    body["receiving_unit"] = json!(unit);
    body["channel"] = json!(channel);
    if name == "birth" {
        // Born before every filing of the scenario.
        body["form"]["child"]["birth_date"] = json!("2025-12-20");
    }
    if paper {
        for document in body["documents"].as_array_mut().expect("documents") {
            document["digitized"] = json!(false);
        }
    }
    body
}

fn supplement_items() -> Value {
    json!({ "items": [ { "target": "documents.owner-id", "message": "Bản chụp căn cước công dân bị mờ" } ] })
}

/// The codes of the dossiers the scenario files, by their names in the module comment.
struct Province {
    h5: String,
}

/// Files a dossier at `at`: online without a token, otherwise as the unit's officer.
async fn file(server: &TestServer, at: &str, body: Value) -> motcua_e2e::Filed {
    server.set_time(at);
    let channel = body["channel"].as_str().unwrap().to_string();
    let unit = body["receiving_unit"].as_str().unwrap().to_string();
    let officer = token(&unit, "officer");
    let token = (channel != "online").then_some(officer.as_str());
    server.file(token, &body).await
}

async fn act(server: &TestServer, at: &str, token: &str, code: &str, action: &str, payload: Value) {
    server.set_time(at);
    server.act_ok(token, code, action, payload).await;
}

async fn act_as_citizen(
    server: &TestServer,
    at: &str,
    filed: &motcua_e2e::Filed,
    action: &str,
    payload: Value,
) {
    server.set_time(at);
    let response = server
        .act_as_citizen(&filed.secret, &filed.code, action, payload)
        .await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{action} on {}: {}",
        filed.code,
        response.body
    );
}

async fn rate(server: &TestServer, at: &str, filed: &motcua_e2e::Filed, rating: &str) {
    server.set_time(at);
    let response = server
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/dossiers/{}/rating", filed.code),
            None,
            &[("x-tracking-secret", filed.secret.clone())],
            Some(json!({ "rating": rating }).to_string().into_bytes()),
        )
        .await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "rating {}: {}",
        filed.code,
        response.body
    );
}

/// Builds the province of the module comment through the API.
async fn build_province(server: &TestServer) -> Province {
    let xh = |role: &str| token("xuan-hoa", role);
    let vt = |role: &str| token("viet-tri", role);
    let tb = |role: &str| token("thanh-ba", role);
    let inspection =
        json!({ "area_m2_measured": 118.5, "matches": true, "report": "Ranh giới ổn định" });

    // The land-use certificate, piloted at Xuân Hòa.
    let land = server
        .state
        .registry
        .publish(
            motcua_e2e::plugin_bytes("land_use_certificate"),
            &motcua_e2e::publisher(),
            "2026-01-02T08:00:00+07:00",
        )
        .await
        .expect("publish land-use-certificate");
    server
        .state
        .registry
        .rollout(
            &land.0.info.code,
            &land.0.sha256,
            motcua::registry::Scope::Pilot(vec!["xuan-hoa".into()]),
            &motcua_e2e::publisher(),
            "2026-01-02T08:00:00+07:00",
        )
        .await
        .expect("pilot land-use-certificate at xuan-hoa");

    // H1: settled early, paid online, rated satisfied.
    let h1 = file(
        server,
        "2026-01-05 08:00",
        filing("household", "xuan-hoa", "online", false),
    )
    .await;
    act(
        server,
        "2026-01-05 09:00",
        &xh("officer"),
        &h1.code,
        "receive",
        json!({}),
    )
    .await;
    act_as_citizen(
        server,
        "2026-01-05 10:00",
        &h1,
        "record-payment",
        json!({ "online": true, "receipt": "VNPAY-H1" }),
    )
    .await;
    act(
        server,
        "2026-01-06 09:00",
        &xh("specialist"),
        &h1.code,
        "propose",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-01-07 09:00",
        &xh("leader"),
        &h1.code,
        "approve",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-01-07 14:00",
        &xh("officer"),
        &h1.code,
        "return-result",
        json!({}),
    )
    .await;
    rate(server, "2026-01-08 09:00", &h1, "satisfied").await;

    // L1: the payment wait and the apology; settled after the statutory date.
    let l1 = file(
        server,
        "2026-01-05 08:30",
        filing("land", "xuan-hoa", "online", false),
    )
    .await;
    act(
        server,
        "2026-01-05 09:00",
        &xh("officer"),
        &l1.code,
        "receive",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-01-06 09:00",
        &xh("specialist"),
        &l1.code,
        "schedule-site-inspection",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-01-08 09:00",
        &xh("specialist"),
        &l1.code,
        "record-inspection",
        inspection.clone(),
    )
    .await;
    act_as_citizen(
        server,
        "2026-01-15 10:00",
        &l1,
        "record-payment",
        json!({ "online": true, "receipt": "VNPAY-L1" }),
    )
    .await;
    let view = server.dossier(&xh("officer"), &l1.code).await;
    assert_eq!(view["due"]["statutory_date"], "2026-02-09", "{view}");
    act(
        server,
        "2026-02-05 09:00",
        &xh("leader"),
        &l1.code,
        "apologize",
        json!({ "new_due_date": "2026-02-27", "reason": "Chờ xác minh nguồn gốc đất" }),
    )
    .await;
    act(
        server,
        "2026-02-25 09:00",
        &xh("leader"),
        &l1.code,
        "approve",
        json!({}),
    )
    .await;

    // B2: refused at intake.
    let b2 = file(
        server,
        "2026-01-06 08:00",
        filing("birth", "xuan-hoa", "online", false),
    )
    .await;
    server.set_time("2026-01-06 09:00");
    let refused = server
        .act(
            &xh("officer"),
            &b2.code,
            "refuse",
            "Trẻ đã được đăng ký khai sinh",
            json!({}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK, "{}", refused.body);

    // T1: the supplement never comes; the host closes it after 15 working days.
    let t1 = file(
        server,
        "2026-01-06 08:00",
        filing("household", "thanh-ba", "online", false),
    )
    .await;
    act(
        server,
        "2026-01-06 09:00",
        &tb("officer"),
        &t1.code,
        "receive",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-01-07 10:00",
        &tb("specialist"),
        &t1.code,
        "request-supplement",
        supplement_items(),
    )
    .await;
    server.set_time("2026-01-29 08:00");
    let closed = server.state.close_unsupplemented().await.expect("sweep");
    assert_eq!(closed, vec![t1.code.clone()]);

    // H2: two supplement requests, paid at the counter.
    let h2 = file(
        server,
        "2026-01-12 08:00",
        filing("household", "xuan-hoa", "online", false),
    )
    .await;
    act(
        server,
        "2026-01-12 09:00",
        &xh("officer"),
        &h2.code,
        "receive",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-01-12 10:00",
        &xh("specialist"),
        &h2.code,
        "request-supplement",
        supplement_items(),
    )
    .await;
    act_as_citizen(
        server,
        "2026-01-13 09:00",
        &h2,
        "complete-supplement",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-01-13 10:00",
        &xh("specialist"),
        &h2.code,
        "request-supplement",
        supplement_items(),
    )
    .await;
    act_as_citizen(
        server,
        "2026-01-14 09:00",
        &h2,
        "complete-supplement",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-01-14 10:00",
        &xh("officer"),
        &h2.code,
        "record-payment",
        json!({ "online": false, "receipt": "BL-H2" }),
    )
    .await;
    act(
        server,
        "2026-01-14 11:00",
        &xh("specialist"),
        &h2.code,
        "propose",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-01-15 09:00",
        &xh("leader"),
        &h2.code,
        "approve",
        json!({}),
    )
    .await;
    let view = server.dossier(&xh("officer"), &h2.code).await;
    assert_eq!(view["due"]["statutory_date"], "2026-01-19", "{view}");

    // H3: filed on paper at the counter, withdrawn by the citizen.
    let h3 = file(
        server,
        "2026-01-19 09:00",
        filing("household", "xuan-hoa", "in-person", true),
    )
    .await;
    act(
        server,
        "2026-01-19 09:30",
        &xh("officer"),
        &h3.code,
        "receive",
        json!({}),
    )
    .await;
    act_as_citizen(server, "2026-01-20 08:00", &h3, "withdraw", json!({})).await;

    // V1: on paper at the counter, settled a day late, rated dissatisfied.
    let v1 = file(
        server,
        "2026-01-20 10:00",
        filing("birth", "viet-tri", "in-person", true),
    )
    .await;
    act(
        server,
        "2026-01-20 10:05",
        &vt("officer"),
        &v1.code,
        "receive",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-01-21 09:00",
        &vt("specialist"),
        &v1.code,
        "submit-for-signing",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-01-21 10:00",
        &vt("leader"),
        &v1.code,
        "sign",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-01-21 14:00",
        &vt("officer"),
        &v1.code,
        "return-result",
        json!({}),
    )
    .await;
    rate(server, "2026-01-22 09:00", &v1, "dissatisfied").await;

    // H5: by post, received and then left: overdue in February.
    let h5 = file(
        server,
        "2026-01-29 14:00",
        filing("household", "xuan-hoa", "postal", false),
    )
    .await;
    act(
        server,
        "2026-01-29 14:30",
        &xh("officer"),
        &h5.code,
        "receive",
        json!({}),
    )
    .await;

    // B1: received after the cut-off on the last Friday of January, settled on Monday.
    let b1 = file(
        server,
        "2026-01-30 16:00",
        filing("birth", "xuan-hoa", "online", false),
    )
    .await;
    act(
        server,
        "2026-01-30 16:10",
        &xh("officer"),
        &b1.code,
        "receive",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-02-02 09:00",
        &xh("specialist"),
        &b1.code,
        "submit-for-signing",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-02-02 10:00",
        &xh("leader"),
        &b1.code,
        "sign",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-02-02 14:00",
        &xh("officer"),
        &b1.code,
        "return-result",
        json!({}),
    )
    .await;

    // L2: waiting for the land use fee at the end of February.
    let l2 = file(
        server,
        "2026-02-02 08:30",
        filing("land", "xuan-hoa", "online", false),
    )
    .await;
    act(
        server,
        "2026-02-02 09:00",
        &xh("officer"),
        &l2.code,
        "receive",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-02-03 09:00",
        &xh("specialist"),
        &l2.code,
        "schedule-site-inspection",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-02-04 09:00",
        &xh("specialist"),
        &l2.code,
        "record-inspection",
        inspection,
    )
    .await;

    // V2: by post, settled early, rated very satisfied.
    let v2 = file(
        server,
        "2026-02-09 09:00",
        filing("household", "viet-tri", "postal", false),
    )
    .await;
    act(
        server,
        "2026-02-09 09:30",
        &vt("officer"),
        &v2.code,
        "receive",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-02-09 10:00",
        &vt("officer"),
        &v2.code,
        "record-payment",
        json!({ "online": false, "receipt": "BL-V2" }),
    )
    .await;
    act(
        server,
        "2026-02-10 09:00",
        &vt("specialist"),
        &v2.code,
        "propose",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-02-11 09:00",
        &vt("leader"),
        &v2.code,
        "approve",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-02-11 14:00",
        &vt("officer"),
        &v2.code,
        "return-result",
        json!({}),
    )
    .await;
    rate(server, "2026-02-12 09:00", &v2, "very-satisfied").await;

    // H4: received the day before Tết, settled on its due date after Tết.
    let h4 = file(
        server,
        "2026-02-12 08:00",
        filing("household", "xuan-hoa", "online", false),
    )
    .await;
    act(
        server,
        "2026-02-12 09:00",
        &xh("officer"),
        &h4.code,
        "receive",
        json!({}),
    )
    .await;
    let view = server.dossier(&xh("officer"), &h4.code).await;
    assert_eq!(
        view["due_date"], "2026-02-24",
        "three working days across Tết: {view}"
    );
    act_as_citizen(
        server,
        "2026-02-12 10:00",
        &h4,
        "record-payment",
        json!({ "online": true, "receipt": "VNPAY-H4" }),
    )
    .await;
    act(
        server,
        "2026-02-23 09:00",
        &xh("specialist"),
        &h4.code,
        "propose",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-02-24 09:00",
        &xh("leader"),
        &h4.code,
        "approve",
        json!({}),
    )
    .await;

    // V4: waiting for a supplement at the end of February.
    let v4 = file(
        server,
        "2026-02-24 08:00",
        filing("household", "viet-tri", "online", false),
    )
    .await;
    act(
        server,
        "2026-02-24 09:00",
        &vt("officer"),
        &v4.code,
        "receive",
        json!({}),
    )
    .await;
    act(
        server,
        "2026-02-25 10:00",
        &vt("specialist"),
        &v4.code,
        "request-supplement",
        supplement_items(),
    )
    .await;

    // V3: filed, not received yet.
    file(
        server,
        "2026-02-26 08:00",
        filing("household", "viet-tri", "online", false),
    )
    .await;

    // T2: received after the cut-off on the last Friday of February.
    let t2 = file(
        server,
        "2026-02-27 15:30",
        filing("birth", "thanh-ba", "online", false),
    )
    .await;
    act(
        server,
        "2026-02-27 16:00",
        &tb("officer"),
        &t2.code,
        "receive",
        json!({}),
    )
    .await;

    // The reports are asked for on Tuesday 10 March.
    server.set_time("2026-03-10 10:00");
    Province { h5: h5.code }
}

/// One row of counts as the report serves it, the arguments in the table's column
/// order: carried over; received [online, in person, postal]; to process; settled
/// [early, on time, late]; in progress [not yet due, due soon, overdue]; [waiting for a
/// supplement, awaiting payment, refused, stopped, withdrawn]; [late %, on-time %];
/// average processing days. The sub-totals of `received`, `settled` and `in_progress`
/// are the sums of their parts; everything else is written by hand.
#[allow(clippy::too_many_arguments)]
fn counts(
    carried_over: i64,
    [online, in_person, postal]: [i64; 3],
    to_process: i64,
    [early, on_time, late]: [i64; 3],
    [not_yet_due, due_soon, overdue]: [i64; 3],
    [
        waiting_supplement,
        awaiting_payment,
        refused,
        stopped,
        withdrawn,
    ]: [i64; 5],
    [late_rate, on_time_rate]: [f64; 2],
    average_processing_days: Option<f64>,
) -> Value {
    json!({
        "carried_over": carried_over,
        "received": { "online": online, "in_person": in_person, "postal": postal,
                      "total": online + in_person + postal },
        "to_process": to_process,
        "settled": { "early": early, "on_time": on_time, "late": late, "total": early + on_time + late },
        "in_progress": { "not_yet_due": not_yet_due, "due_soon": due_soon, "overdue": overdue,
                         "total": not_yet_due + due_soon + overdue },
        "waiting_supplement": waiting_supplement,
        "awaiting_payment": awaiting_payment,
        "refused": refused,
        "stopped": stopped,
        "withdrawn": withdrawn,
        "late_rate_percent": late_rate,
        "on_time_rate_percent": on_time_rate,
        "average_processing_days": average_processing_days,
    })
}

fn with(mut row: Value, fields: Value) -> Value {
    for (key, value) in fields.as_object().unwrap() {
        row[key] = value.clone();
    }
    row
}

fn without(row: &Value, keys: &[&str]) -> Value {
    let mut row = row.clone();
    for key in keys {
        row.as_object_mut().unwrap().remove(*key);
    }
    row
}

fn group(unit: &str, procedure: &str, counts: Value) -> Value {
    with(counts, json!({ "unit": unit, "procedure": procedure }))
}

fn unit_row(unit: &str, name: &str, counts: Value) -> Value {
    with(counts, json!({ "unit": unit, "name": name }))
}

fn procedure_row(procedure: &str, counts: Value) -> Value {
    with(counts, json!({ "procedure": procedure }))
}

/// January 2026, as of Saturday 31 January 23:59:59. Every dossier was filed in January,
/// so nothing is carried over. Due soon means due by Wednesday 4 February (31 January
/// is a Saturday: Monday 2 February, then 2 working days).
#[rustfmt::skip]
fn january_rows() -> (Vec<Value>, Vec<Value>, Vec<Value>, Value) {
    // xuan-hoa, birth: B1 (online, due soon) and B2 (online, refused). To process 2;
    // late 0 → late rate 0, on time 100.
    let xh_birth = counts(0, [2, 0, 0], 2, [0, 0, 0], [0, 1, 0], [0, 0, 1, 0, 0], [0.0, 100.0], None);
    // xuan-hoa, household: H1 (online, early), H2 (online, late), H3 (in person,
    // withdrawn), H5 (postal, due soon). To process 4; late 1 (H2) → 1/4 = 25 %, on
    // time 75 %. Processing (172 800 + 93 600) / 2 = 133 200 s = 1.5417 days → 1.54.
    let xh_household = counts(0, [2, 1, 1], 4, [1, 0, 1], [0, 1, 0], [0, 0, 0, 0, 1], [25.0, 75.0], Some(1.54));
    // xuan-hoa, land: L1 (online), in approval, statutory due 9 February: not yet due.
    let xh_land = counts(0, [1, 0, 0], 1, [0, 0, 0], [1, 0, 0], [0, 0, 0, 0, 0], [0.0, 100.0], None);
    // viet-tri, birth: V1 (in person), settled late. 1/1 late → 100 %, on time 0 %.
    // Processing 86 100 s = 0.9965 days → 1.00.
    let vt_birth = counts(0, [0, 1, 0], 1, [0, 0, 1], [0, 0, 0], [0, 0, 0, 0, 0], [100.0, 0.0], Some(1.0));
    // thanh-ba, household: T1 (online), stopped by the host.
    let tb_household = counts(0, [1, 0, 0], 1, [0, 0, 0], [0, 0, 0], [0, 0, 0, 1, 0], [0.0, 100.0], None);
    let rows = vec![
        group("thanh-ba", HOUSEHOLD, tb_household.clone()),
        group("viet-tri", BIRTH, vt_birth.clone()),
        group("xuan-hoa", BIRTH, xh_birth),
        group("xuan-hoa", HOUSEHOLD, xh_household),
        group("xuan-hoa", LAND, xh_land),
    ];
    // xuan-hoa: received online 2 + 2 + 1 = 5, in person 1, postal 1 = 7 to process;
    // settled early 1, late 1; in progress not yet due 1 (L1), due soon 2 (B1, H5);
    // refused 1, withdrawn 1 (2 + 3 + 1 + 1 = 7). Late 1/7 = 14.2857 % → 14.29; on time
    // 100 − 14.29 = 85.71. Processing 133 200 s → 1.54 days.
    let xuan_hoa = counts(0, [5, 1, 1], 7, [1, 0, 1], [1, 2, 0], [0, 0, 1, 0, 1], [14.29, 85.71], Some(1.54));
    let units = vec![
        unit_row("thanh-ba", "Xã Thanh Ba", tb_household),
        unit_row("viet-tri", "Phường Việt Trì", vt_birth),
        unit_row("xuan-hoa", "Phường Xuân Hòa", xuan_hoa),
    ];
    let procedures = vec![
        // Birth: B1, B2, V1. Online 2, in person 1 = 3; settled late 1 (V1), due soon 1
        // (B1), refused 1 (B2). Late 1/3 = 33.33 %, on time 66.67 %; processing 86 100 s
        // → 1.00 day.
        procedure_row(BIRTH, counts(0, [2, 1, 0], 3, [0, 0, 1], [0, 1, 0], [0, 0, 1, 0, 0], [33.33, 66.67], Some(1.0))),
        // Household: H1, H2, H3, H5, T1. Online 3 (H1, H2, T1), in person 1, postal 1 =
        // 5; early 1, late 1, due soon 1, stopped 1, withdrawn 1. Late 1/5 = 20 %.
        procedure_row(HOUSEHOLD, counts(0, [3, 1, 1], 5, [1, 0, 1], [0, 1, 0], [0, 0, 0, 1, 1], [20.0, 80.0], Some(1.54))),
        procedure_row(LAND, counts(0, [1, 0, 0], 1, [0, 0, 0], [1, 0, 0], [0, 0, 0, 0, 0], [0.0, 100.0], None)),
    ];
    // The province: online 6, in person 2, postal 1 = 9; settled early 1, late 2 (H2,
    // V1); not yet due 1, due soon 2; refused 1, stopped 1, withdrawn 1 (3 + 3 + 3 = 9).
    // Late 2/9 = 22.22 %, on time 77.78 %. Processing (172 800 + 93 600 + 86 100) / 3 =
    // 117 500 s = 1.3600 days → 1.36.
    let total = counts(0, [6, 2, 1], 9, [1, 0, 2], [1, 2, 0], [0, 0, 1, 1, 1], [22.22, 77.78], Some(1.36));
    (rows, units, procedures, total)
}

/// February 2026, as of Saturday 28 February 23:59:59. Carried over: the dossiers filed
/// in January and still open on 1 February (H5, B1, L1). Due soon means due by
/// Wednesday 4 March (Monday 2 March, then 2 working days).
#[rustfmt::skip]
fn february_rows() -> (Vec<Value>, Vec<Value>, Vec<Value>, Value) {
    // xuan-hoa, birth: B1 carried over, settled Monday 2 February, its due date: on
    // time. Processing 237 000 s = 2.743 days → 2.74.
    let xh_birth = counts(1, [0, 0, 0], 1, [0, 1, 0], [0, 0, 0], [0, 0, 0, 0, 0], [0.0, 100.0], Some(2.74));
    // xuan-hoa, household: H5 carried over, overdue (due 3 February); H4 received online,
    // settled on time across Tết. Late 1/2 = 50 %. Processing 1 036 800 s = 12 days.
    let xh_household = counts(1, [1, 0, 0], 2, [0, 1, 0], [0, 0, 1], [0, 0, 0, 0, 0], [50.0, 50.0], Some(12.0));
    // xuan-hoa, land: L1 carried over, settled 25 February after its statutory date
    // (9 February; the apology's 27 February does not count): late. L2 received online,
    // awaiting payment. Late 1/2 = 50 %. Processing 3 798 000 s = 43.958 days → 43.96.
    let xh_land = counts(1, [1, 0, 0], 2, [0, 0, 1], [0, 0, 0], [0, 1, 0, 0, 0], [50.0, 50.0], Some(43.96));
    // viet-tri, household: V2 postal, settled early; V3 online, not received (no due
    // date: not yet due); V4 online, waiting for a supplement. Late 0/3. Processing
    // 171 000 s = 1.979 days → 1.98.
    let vt_household = counts(0, [2, 0, 1], 3, [1, 0, 0], [1, 0, 0], [1, 0, 0, 0, 0], [0.0, 100.0], Some(1.98));
    // thanh-ba, birth: T2 online, due Monday 2 March: due soon.
    let tb_birth = counts(0, [1, 0, 0], 1, [0, 0, 0], [0, 1, 0], [0, 0, 0, 0, 0], [0.0, 100.0], None);
    let rows = vec![
        group("thanh-ba", BIRTH, tb_birth.clone()),
        group("viet-tri", HOUSEHOLD, vt_household.clone()),
        group("xuan-hoa", BIRTH, xh_birth),
        group("xuan-hoa", HOUSEHOLD, xh_household),
        group("xuan-hoa", LAND, xh_land),
    ];
    // xuan-hoa: carried over 3 (B1, H5, L1), received online 2 (H4, L2): 5 to process;
    // on time 2 (B1, H4), late 1 (L1), overdue 1 (H5), awaiting payment 1 (L2)
    // (3 + 1 + 1 = 5). Late (1 + 1)/5 = 40 %. Processing (237 000 + 1 036 800 +
    // 3 798 000) / 3 = 1 690 600 s = 19.567 days → 19.57.
    let xuan_hoa = counts(3, [2, 0, 0], 5, [0, 2, 1], [0, 0, 1], [0, 1, 0, 0, 0], [40.0, 60.0], Some(19.57));
    let units = vec![
        unit_row("thanh-ba", "Xã Thanh Ba", tb_birth),
        unit_row("viet-tri", "Phường Việt Trì", vt_household),
        unit_row("xuan-hoa", "Phường Xuân Hòa", xuan_hoa),
    ];
    let procedures = vec![
        // Birth: B1 carried over (on time), T2 online (due soon). Late 0/2.
        procedure_row(BIRTH, counts(1, [1, 0, 0], 2, [0, 1, 0], [0, 1, 0], [0, 0, 0, 0, 0], [0.0, 100.0], Some(2.74))),
        // Household: H5 carried over (overdue); H4, V3, V4 online, V2 postal: 5 to
        // process; early 1 (V2), on time 1 (H4), not yet due 1 (V3), overdue 1 (H5),
        // waiting 1 (V4). Late 1/5 = 20 %. Processing (1 036 800 + 171 000) / 2 =
        // 603 900 s = 6.990 days → 6.99.
        procedure_row(HOUSEHOLD, counts(1, [3, 0, 1], 5, [1, 1, 0], [1, 0, 1], [1, 0, 0, 0, 0], [20.0, 80.0], Some(6.99))),
        procedure_row(LAND, counts(1, [1, 0, 0], 2, [0, 0, 1], [0, 0, 0], [0, 1, 0, 0, 0], [50.0, 50.0], Some(43.96))),
    ];
    // The province: carried over 3; online 5 (H4, L2, V3, V4, T2), postal 1 (V2): 9 to
    // process; early 1, on time 2, late 1; not yet due 1, due soon 1, overdue 1;
    // waiting 1, awaiting payment 1 (4 + 3 + 1 + 1 = 9). Late (1 + 1)/9 = 22.22 %.
    // Processing (237 000 + 1 036 800 + 3 798 000 + 171 000) / 4 = 1 310 700 s =
    // 15.170 days → 15.17.
    let total = counts(3, [5, 0, 1], 9, [1, 2, 1], [1, 1, 1], [1, 1, 0, 0, 0], [22.22, 77.78], Some(15.17));
    (rows, units, procedures, total)
}

fn processing_report(
    from: &str,
    to: &str,
    as_of: &str,
    rows: (Vec<Value>, Vec<Value>, Vec<Value>, Value),
) -> Value {
    json!({
        "period": { "from": from, "to": to, "as_of": as_of },
        "unit": null,
        "procedure": null,
        "rows": rows.0,
        "units": rows.1,
        "procedures": rows.2,
        "total": rows.3,
    })
}

/// Every served row sorts each dossier into exactly one place.
fn assert_places_add_up(report: &Value) {
    let mut all: Vec<&Value> = Vec::new();
    for key in ["rows", "units", "procedures"] {
        all.extend(report[key].as_array().unwrap());
    }
    all.push(&report["total"]);
    for row in all {
        let n = |path: &[&str]| {
            path.iter()
                .fold(row, |value, key| &value[*key])
                .as_i64()
                .unwrap()
        };
        let places = n(&["settled", "total"])
            + n(&["in_progress", "total"])
            + n(&["waiting_supplement"])
            + n(&["awaiting_payment"])
            + n(&["refused"])
            + n(&["stopped"])
            + n(&["withdrawn"]);
        assert_eq!(places, n(&["to_process"]), "places do not add up: {row}");
        assert_eq!(
            n(&["carried_over"]) + n(&["received", "total"]),
            n(&["to_process"]),
            "{row}"
        );
    }
}

/// One indicator as the report serves it.
fn indicator(
    name: &str,
    group: &str,
    [numerator, denominator]: [i64; 2],
    rate: Option<f64>,
    [target, max]: [i64; 2],
    points: f64,
) -> Value {
    json!({
        "indicator": name, "group": group, "numerator": numerator, "denominator": denominator,
        "rate_percent": rate, "target_percent": target, "max_points": max, "points": points,
    })
}

const ON_TIME: (&str, &str, [i64; 2]) = ("on_time", "Tiến độ giải quyết", [95, 20]);
const ONLINE: (&str, &str, [i64; 2]) = ("online", "Dịch vụ công trực tuyến", [80, 12]);
const PAYMENT: (&str, &str, [i64; 2]) = ("online_payment", "Dịch vụ công trực tuyến", [50, 10]);
const DIGITIZATION: (&str, &str, [i64; 2]) = ("digitization", "Số hóa hồ sơ", [100, 22]);
const SATISFACTION: (&str, &str, [i64; 2]) = ("satisfaction", "Mức độ hài lòng", [95, 18]);

fn score(
    which: (&str, &str, [i64; 2]),
    fraction: [i64; 2],
    rate: Option<f64>,
    points: f64,
) -> Value {
    indicator(which.0, which.1, fraction, rate, which.2, points)
}

#[allow(clippy::too_many_arguments)]
fn unit_scores(
    rank: i64,
    unit: &str,
    name: &str,
    scores: [Value; 5],
    total: f64,
    overdue: (i64, Vec<String>),
    average: Option<f64>,
) -> Value {
    json!({
        "rank": rank, "unit": unit, "name": name, "indicators": scores, "total_points": total,
        "max_points": 82, "overdue": { "count": overdue.0, "codes": overdue.1 },
        "average_processing_days": average,
    })
}

/// The indicators of January. Points below the target are max × rate ÷ target,
/// rounded to hundredths; a rate with no denominator scores full points.
#[rustfmt::skip]
fn january_indicators() -> Vec<Value> {
    vec![
        // xuan-hoa: on time (7 − 1)/7 = 85.71 % < 95: 20 × 6/7 ÷ 0.95 = 18.045 → 18.05.
        // Online 5/7 = 71.43 % < 80: 12 × 5/7 ÷ 0.8 = 10.714 → 10.71. Online payment:
        // fee-bearing H1, H2, H3, H5, L1; paid online H1, L1: 2/5 = 40 % < 50: 10 × 0.4 ÷
        // 0.5 = 8. Digitized: all but H3 (paper): 6/7 = 85.71 % < 100: 22 × 6/7 = 18.857
        // → 18.86. Satisfaction: H1 rated satisfied, 1/1 = 100 % → 18. Total 18.05 +
        // 10.71 + 8 + 18.86 + 18 = 73.62.
        unit_scores(
            1,
            "xuan-hoa",
            "Phường Xuân Hòa",
            [
                score(ON_TIME, [6, 7], Some(85.71), 18.05),
                score(ONLINE, [5, 7], Some(71.43), 10.71),
                score(PAYMENT, [2, 5], Some(40.0), 8.0),
                score(DIGITIZATION, [6, 7], Some(85.71), 18.86),
                score(SATISFACTION, [1, 1], Some(100.0), 18.0),
            ],
            73.62,
            (0, vec![]),
            Some(1.54),
        ),
        // thanh-ba: T1 stopped, not late: 1/1 → 20; online 1/1 → 12; fee requested, not
        // paid online: 0/1 → 0; digitized 1/1 → 22; nobody rated: full 18. Total 72.
        unit_scores(
            2,
            "thanh-ba",
            "Xã Thanh Ba",
            [
                score(ON_TIME, [1, 1], Some(100.0), 20.0),
                score(ONLINE, [1, 1], Some(100.0), 12.0),
                score(PAYMENT, [0, 1], Some(0.0), 0.0),
                score(DIGITIZATION, [1, 1], Some(100.0), 22.0),
                score(SATISFACTION, [0, 0], None, 18.0),
            ],
            72.0,
            (0, vec![]),
            None,
        ),
        // viet-tri: V1 late 0/1 → 0; in person 0/1 → 0; no fee: full 10; paper 0/1 → 0;
        // rated dissatisfied 0/1 → 0. Total 10.
        unit_scores(
            3,
            "viet-tri",
            "Phường Việt Trì",
            [
                score(ON_TIME, [0, 1], Some(0.0), 0.0),
                score(ONLINE, [0, 1], Some(0.0), 0.0),
                score(PAYMENT, [0, 0], None, 10.0),
                score(DIGITIZATION, [0, 1], Some(0.0), 0.0),
                score(SATISFACTION, [0, 1], Some(0.0), 0.0),
            ],
            10.0,
            (0, vec![]),
            Some(1.0),
        ),
    ]
}

#[rustfmt::skip]
fn february_indicators(h5: &str) -> Vec<Value> {
    vec![
        // thanh-ba: T2 alone, due soon: 1/1, 1/1, no fee (full), 1/1, nobody rated
        // (full): 82.
        unit_scores(
            1,
            "thanh-ba",
            "Xã Thanh Ba",
            [
                score(ON_TIME, [1, 1], Some(100.0), 20.0),
                score(ONLINE, [1, 1], Some(100.0), 12.0),
                score(PAYMENT, [0, 0], None, 10.0),
                score(DIGITIZATION, [1, 1], Some(100.0), 22.0),
                score(SATISFACTION, [0, 0], None, 18.0),
            ],
            82.0,
            (0, vec![]),
            None,
        ),
        // xuan-hoa: on time (5 − 2)/5 = 60 % < 95: 20 × 0.6 ÷ 0.95 = 12.632 → 12.63.
        // Online 2/2 → 12. Fee-bearing H4, H5, L1, L2; paid online H4, L1: 2/4 = 50 % →
        // 10. Digitized 5/5 → 22. Nobody rated: 18. Total 74.63. Overdue: H5.
        unit_scores(
            2,
            "xuan-hoa",
            "Phường Xuân Hòa",
            [
                score(ON_TIME, [3, 5], Some(60.0), 12.63),
                score(ONLINE, [2, 2], Some(100.0), 12.0),
                score(PAYMENT, [2, 4], Some(50.0), 10.0),
                score(DIGITIZATION, [5, 5], Some(100.0), 22.0),
                score(SATISFACTION, [0, 0], None, 18.0),
            ],
            74.63,
            (1, vec![h5.to_string()]),
            Some(19.57),
        ),
        // viet-tri: 3/3 on time → 20. Online 2/3 = 66.67 % < 80: 12 × 2/3 ÷ 0.8 = 10.
        // Fee-bearing V2, V4, none paid online: 0/2 → 0. Digitized 3/3 → 22. V2 rated very
        // satisfied: 1/1 → 18. Total 70.
        unit_scores(
            3,
            "viet-tri",
            "Phường Việt Trì",
            [
                score(ON_TIME, [3, 3], Some(100.0), 20.0),
                score(ONLINE, [2, 3], Some(66.67), 10.0),
                score(PAYMENT, [0, 2], Some(0.0), 0.0),
                score(DIGITIZATION, [3, 3], Some(100.0), 22.0),
                score(SATISFACTION, [1, 1], Some(100.0), 18.0),
            ],
            70.0,
            (0, vec![]),
            Some(1.98),
        ),
    ]
}

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
    assert_eq!(
        lines[2],
        format!(
            "2,xuan-hoa,Phường Xuân Hòa,3,5,60,12.63,2,2,100,12,2,4,50,10,5,5,100,22,0,0,,18,74.63,82,1,{},19.57",
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

motcua_e2e::on_both_backends!(
    reports_match_the_hand_computed_tables,
    reports_respect_tenancy_and_refuse_bad_queries,
    scoring_table_is_data,
);
