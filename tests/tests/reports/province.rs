//! The province of the reports test, built through the API at chosen times (the table
//! in main.rs), and the helpers that file, upload and act.

use std::sync::atomic::{AtomicU64, Ordering};

use motcua_e2e::TestServer;
use motcua_e2e::storage::samples::{pdf, sha256};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) const BIRTH: &str = "1.001193";
pub(crate) const HOUSEHOLD: &str = "1.001612";
pub(crate) const LAND: &str = "1.012756";

pub(crate) use motcua_e2e::scenarios::filings;

pub(crate) fn token(unit: &str, role: &str) -> String {
    format!("demo-{unit}-{role}")
}

/// A filing body and the files its components declare.
pub(crate) struct Filing {
    body: Value,
    /// What `file` uploads after filing: every component's file, or none on paper.
    files: Vec<Vec<u8>>,
}

/// A filing body from `_filings.json` for `unit` and `channel`, its components declaring
/// files made for this filing. `paper`: the components stay on paper, nothing is
/// uploaded, so the dossier is not digitized.
pub(crate) fn filing(name: &str, unit: &str, channel: &str, paper: bool) -> Filing {
    static FILINGS: AtomicU64 = AtomicU64::new(0);
    let number = FILINGS.fetch_add(1, Ordering::Relaxed);
    let mut body = filings()[name].clone();
    body["receiving_unit"] = json!(unit);
    body["channel"] = json!(channel);
    if name == "birth" {
        // Born before every filing of the scenario.
        body["form"]["child"]["birth_date"] = json!("2025-12-20");
    }
    let files = motcua_e2e::scenarios::with_own_files(
        &mut body,
        &format!("{name} #{number}, {unit}, {channel}"),
    );
    let files = if paper { Vec::new() } else { files };
    Filing { body, files }
}

pub(crate) fn supplement_items() -> Value {
    json!({ "items": [ { "target": "documents.owner-id", "message": "Bản chụp căn cước công dân bị mờ" } ] })
}

/// The codes of the dossiers the scenario files, by their names in the module comment.
pub(crate) struct Province {
    pub(crate) h5: String,
}

/// Files a dossier at `at` and uploads its components' files: online the citizen does
/// both without a token (uploading with the tracking secret), otherwise the unit's
/// officer.
pub(crate) async fn file(server: &TestServer, at: &str, filing: Filing) -> motcua_e2e::Filed {
    server.set_time(at);
    let body = filing.body;
    let channel = body["channel"].as_str().unwrap().to_string();
    let unit = body["receiving_unit"].as_str().unwrap().to_string();
    let officer = token(&unit, "officer");
    let token = (channel != "online").then_some(officer.as_str());
    let filed = server.file(token, &body).await;
    for bytes in filing.files {
        let headers = match token {
            Some(_) => vec![],
            None => vec![("x-tracking-secret", filed.secret.clone())],
        };
        upload(
            server,
            &format!(
                "/api/v1/dossiers/{}/documents/{}",
                filed.code,
                sha256(&bytes)
            ),
            token,
            headers,
            bytes,
        )
        .await;
    }
    filed
}

/// Uploads a file; panics unless it is newly attached.
async fn upload(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    headers: Vec<(&str, String)>,
    bytes: Vec<u8>,
) {
    let response = server.put_bytes(path, token, &headers, &bytes).await;
    assert_eq!(
        response.status,
        StatusCode::CREATED,
        "{path}: {}",
        response.body
    );
}

/// Attaches the electronic result of a settled dossier at `at`, as the unit's leader.
pub(crate) async fn attach_result(server: &TestServer, at: &str, unit: &str, code: &str) {
    server.set_time(at);
    let bytes = pdf(&format!("Kết quả giải quyết hồ sơ {code}"), 0);
    upload(
        server,
        &format!("/api/v1/dossiers/{code}/result/{}", sha256(&bytes)),
        Some(&token(unit, "leader")),
        vec![],
        bytes,
    )
    .await;
}

pub(crate) async fn act(
    server: &TestServer,
    at: &str,
    token: &str,
    code: &str,
    action: &str,
    payload: Value,
) {
    server.set_time(at);
    server.act_ok(token, code, action, payload).await;
}

pub(crate) async fn act_as_citizen(
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

pub(crate) async fn rate(server: &TestServer, at: &str, filed: &motcua_e2e::Filed, rating: &str) {
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
pub(crate) async fn build_province(server: &TestServer) -> Province {
    let xh = |role: &str| token("xuan-hoa", role);
    let vt = |role: &str| token("viet-tri", role);
    let tb = |role: &str| token("thanh-ba", role);
    let inspection =
        json!({ "area_m2_measured": 118.5, "matches": true, "report": "Ranh giới ổn định" });

    // The land-use certificate, piloted at Xuân Hòa.
    server
        .pilot(
            "land_use_certificate",
            &["xuan-hoa"],
            "2026-01-02T08:00:00+07:00",
        )
        .await;

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
    attach_result(server, "2026-01-07 09:30", "xuan-hoa", &h1.code).await;
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
    attach_result(server, "2026-02-25 09:30", "xuan-hoa", &l1.code).await;

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
    attach_result(server, "2026-01-15 09:30", "xuan-hoa", &h2.code).await;
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
    attach_result(server, "2026-02-02 10:30", "xuan-hoa", &b1.code).await;
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
    attach_result(server, "2026-02-11 09:30", "viet-tri", &v2.code).await;
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
    attach_result(server, "2026-02-24 09:30", "xuan-hoa", &h4.code).await;

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
