//! The pages of a ward's staff in a real headless Chromium at a counter's 1280 px: a
//! birth registration filed through the API shows in Xuân Hòa's inbox (filters by
//! procedure, status and due date, the clock moved to make it overdue), its page shows
//! the form, the applicant, the files, the history and the pinned build; officer,
//! specialist, leader and officer again take it to "returned" through the pages alone,
//! each step checked on the page and through the API, and the citizen rates it from the
//! tracking page. A stale form answers 409 and
//! changes nothing; a form without its CSRF token is refused and changes nothing; a
//! plugin's refusal is shown with what was typed kept; another ward's officer sees
//! neither the dossier nor its file. Screenshots go to `target/screenshots/`.

use motcua_e2e::browser::{Browser, sign_in, sign_out};
use motcua_e2e::scenarios::filings;
use motcua_e2e::storage::samples;
use motcua_e2e::{Backend, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

const OFFICER: &str = "demo-xuan-hoa-officer";
const BIRTH: &str = "1.001193";

/// The birth registration of `_filings.json` with two real scans declared.
fn birth_with_scans(certificate: &[u8], id_card: &[u8]) -> Value {
    let mut body = filings()["birth"].clone();
    body["documents"] = json!([
        { "kind": "hospital-birth-certificate", "name": "Giấy chứng sinh số 1234/GCS",
          "sha256": samples::sha256(certificate), "size": certificate.len() },
        { "kind": "citizen-id-card", "name": "Căn cước công dân của mẹ",
          "sha256": samples::sha256(id_card), "size": id_card.len() },
    ]);
    body
}

/// Stores a declared component's file as the citizen holding the tracking secret.
async fn upload(server: &TestServer, code: &str, secret: &str, bytes: &[u8]) {
    let response = server
        .put_bytes(
            &format!(
                "/api/v1/dossiers/{code}/documents/{}",
                samples::sha256(bytes)
            ),
            None,
            &[("x-tracking-secret", secret.to_string())],
            bytes,
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
}

/// The dossier's (status code, step, version) as the API reports them.
async fn api_state(server: &TestServer, code: &str) -> (i64, String, i64) {
    let dossier = server.dossier(OFFICER, code).await;
    (
        dossier["status"]["code"].as_i64().expect("status"),
        dossier["step"]["id"].as_str().expect("step").to_string(),
        dossier["version"].as_i64().expect("version"),
    )
}

/// The HTTP status of the page the browser shows (its navigation's response).
async fn page_status(browser: &Browser) -> u64 {
    browser
        .execute(
            "return performance.getEntriesByType('navigation')[0].responseStatus;",
            vec![],
        )
        .await
        .as_u64()
        .expect("the navigation's response status")
}

/// The dossier codes the inbox lists, in order.
async fn listed(browser: &Browser) -> Vec<String> {
    let mut codes = Vec::new();
    for link in browser.find_all("table.inbox tbody th a").await {
        codes.push(link.text().await.expect("a code"));
    }
    codes
}

/// Applies the inbox's filters through its form.
async fn filter(browser: &Browser, status: &str, due: &str, procedure: &str) {
    browser.select("#f-status", status).await;
    browser.select("#f-due", due).await;
    browser.select("#f-procedure", procedure).await;
    browser.submit("form.filters").await;
    browser.wait_for("#inbox-count").await;
}

/// Reads a staff download with the browser's session: (status, headers, bytes).
async fn download(
    server: &TestServer,
    browser: &Browser,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let session = browser
        .client()
        .get_named_cookie("motcua_session")
        .await
        .expect("the session cookie");
    let response = server
        .client
        .get(format!("{}{path}", server.base))
        .header("cookie", format!("motcua_session={}", session.value()))
        .send()
        .await
        .expect("the download answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("the body").to_vec();
    (status, headers, bytes)
}

async fn open_dossier(browser: &Browser, server: &TestServer, code: &str) {
    browser
        .goto(&format!("{}/staff/dossiers/{code}", server.base))
        .await;
    browser.wait_for_text("h1", code).await;
}

/// Takes `action` through its form and waits for the confirmation.
async fn take(browser: &Browser, action: &str, label: &str) {
    browser.submit(&format!("form[id='action-{action}']")).await;
    let done = browser.wait_for_text("#done", label).await;
    assert_eq!(done, format!("Đã thực hiện: {label}."));
}

/// A screenshot, named for the backend after the first (both run side by side).
async fn shot(browser: &Browser, backend: Backend, name: &str) {
    match backend {
        Backend::Sqlite => browser.screenshot(name).await,
        Backend::Postgres => browser.screenshot(&format!("{name}-postgres")).await,
    };
}

async fn switch_to(browser: &Browser, server: &TestServer, account: &str) {
    sign_out(browser).await;
    sign_in(browser, &server.base, account, &format!("demo-{account}")).await;
}

async fn staff_take_a_birth_registration_to_returned(backend: Backend) {
    // Tuesday 1 December 2026.
    let server = TestServer::start(backend, "2026-12-01 09:00").await;
    let certificate = samples::pdf("Giay chung sinh so 1234/GCS", 0);
    let id_card = samples::png();
    let filed = server
        .file(None, &birth_with_scans(&certificate, &id_card))
        .await;
    let code = filed.code.clone();
    upload(&server, &code, &filed.secret, &certificate).await;
    let household = server.file(None, &filings()["household"]).await.code;

    // ---- the inbox ----
    let browser = Browser::start().await;
    sign_in(&browser, &server.base, "xuan-hoa-officer", OFFICER).await;
    browser.goto(&format!("{}/staff/inbox", server.base)).await;
    let all = listed(&browser).await;
    assert!(all.contains(&code) && all.contains(&household), "{all:?}");
    let row = browser.text(&format!("tr[id='row-{code}']")).await;
    for expected in [
        "Đăng ký khai sinh",
        "Nguyễn Thị Lan",
        "Mới nộp, chờ tiếp nhận",
        "Mới đăng ký",
        "01/12/2026 09:00",
        "Trực tuyến",
    ] {
        assert!(row.contains(expected), "{expected} not in the row: {row}");
    }
    shot(&browser, backend, "officer-inbox").await;
    filter(&browser, "", "", BIRTH).await;
    assert_eq!(listed(&browser).await, [code.clone()], "by procedure");
    filter(&browser, "4", "", "").await;
    assert!(
        listed(&browser).await.is_empty(),
        "nothing is processing yet"
    );
    browser.find("#inbox-empty").await;
    filter(&browser, "1", "", "").await;
    assert_eq!(listed(&browser).await.len(), 2, "both are newly submitted");

    // ---- the dossier's page ----
    browser.goto(&format!("{}/staff/inbox", server.base)).await;
    browser
        .click(&format!("a[href='/staff/dossiers/{code}']"))
        .await;
    browser.wait_for_text("h1", &code).await;
    assert_eq!(browser.text("#status").await, "Mới nộp, chờ tiếp nhận");
    let form = browser.text("#form").await;
    for expected in [
        "Người được khai sinh",
        "Họ, chữ đệm và tên",
        "Trần Minh An",
        "Giới tính",
        "Nam",
        "Ngày, tháng, năm sinh",
        "20/02/2026",
        "Người cha",
        "Trần Văn Bình",
        "Quan hệ của người đi đăng ký với người được khai sinh",
    ] {
        assert!(
            form.contains(expected),
            "{expected} not in the form: {form}"
        );
    }
    let applicant = browser.text("#applicant").await;
    assert!(
        applicant.contains("Nguyễn Thị Lan") && applicant.contains("025190001234"),
        "{applicant}"
    );
    let documents = browser.text("#documents").await;
    assert!(
        documents.contains("Giấy chứng sinh số 1234/GCS") && documents.contains("Chưa có tệp"),
        "{documents}"
    );
    let links = browser.find_all("#documents a[href*='/documents/']").await;
    assert_eq!(links.len(), 1, "only the stored file has a download link");
    let href = links[0].attr("href").await.expect("href").expect("a link");
    assert_eq!(
        href,
        format!(
            "/staff/dossiers/{code}/documents/{}",
            samples::sha256(&certificate)
        )
    );
    let api = server.dossier(OFFICER, &code).await;
    let sha = api["build"]["sha256"].as_str().expect("build");
    let build = browser.text("#build").await;
    assert!(
        build.contains(BIRTH)
            && build.contains(&sha[..12])
            && build.contains(api["build"]["version"].as_str().expect("version")),
        "{build}"
    );
    let history = browser.text("#history").await;
    assert!(
        history.contains("Nộp hồ sơ") && history.contains("citizen:025190001234"),
        "{history}"
    );
    shot(&browser, backend, "officer-dossier").await;

    // The file, with the API's headers.
    let (status, headers, bytes) = download(&server, &browser, &href).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(
        headers["etag"].to_str().unwrap(),
        format!("\"{}\"", samples::sha256(&certificate))
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;"),
        "{headers:?}"
    );
    assert_eq!(bytes, certificate);

    // A plugin's refusal: nothing is missing, so no supplement can be asked for; the
    // note typed is kept.
    let (_, _, version) = api_state(&server, &code).await;
    browser
        .fill(
            "textarea[id='request-supplement-note']",
            "Xin bổ sung bản sao",
        )
        .await;
    browser.submit("form[id='action-request-supplement']").await;
    let problem = browser
        .wait_for_text("#problem", "không thiếu thành phần nào")
        .await;
    assert!(problem.contains("không thể yêu cầu bổ sung"), "{problem}");
    assert_eq!(page_status(&browser).await, 422);
    let kept = browser
        .find("textarea[id='request-supplement-note']")
        .await
        .prop("value")
        .await
        .expect("value");
    assert_eq!(kept.as_deref(), Some("Xin bổ sung bản sao"));
    assert_eq!(
        api_state(&server, &code).await,
        (1, "submitted".into(), version)
    );

    // ---- a stale form: the ID card's file arrives while the page is open ----
    open_dossier(&browser, &server, &code).await;
    assert_eq!(browser.text("#version").await, version.to_string());
    upload(&server, &code, &filed.secret, &id_card).await;
    browser
        .fill("textarea[id='receive-note']", "Đủ giấy tờ")
        .await;
    browser.submit("form[id='action-receive']").await;
    let stale = browser
        .wait_for_text("#stale", "vừa được người khác cập nhật")
        .await;
    assert_eq!(page_status(&browser).await, 409);
    assert!(
        stale.contains(&format!("phiên bản {version} → {}", version + 1))
            && stale.contains("chưa được thực hiện"),
        "{stale}"
    );
    shot(&browser, backend, "officer-stale").await;
    assert_eq!(
        api_state(&server, &code).await,
        (1, "submitted".into(), version + 1),
        "a stale form changed the dossier"
    );
    // The page shows the dossier as it is now, the note kept; the reload link too.
    assert_eq!(browser.text("#version").await, (version + 1).to_string());
    assert!(!browser.text("#documents").await.contains("Chưa có tệp"));
    browser.click("#reload").await;
    browser.wait_for_text("h1", &code).await;
    assert!(browser.find_all("#stale").await.is_empty());
    assert!(
        browser
            .current_url()
            .await
            .ends_with(&format!("/staff/dossiers/{code}"))
    );

    // ---- officer: received ----
    browser
        .fill("textarea[id='receive-note']", "Đủ giấy tờ")
        .await;
    take(&browser, "receive", "Tiếp nhận hồ sơ").await;
    assert_eq!(browser.text("#status").await, "Đang giải quyết");
    assert_eq!(browser.text("#step").await, "Thẩm định");
    assert_eq!(browser.text("#due").await, "01/12/2026");
    assert_eq!(browser.text("#left").await, "Đến hạn hôm nay");
    assert!(browser.text("#history").await.contains("Đủ giấy tờ"));
    assert_eq!(api_state(&server, &code).await.0, 4);
    assert_eq!(api_state(&server, &code).await.1, "review");

    // Due today: due soon, not overdue; two working days later (Thursday), overdue.
    browser.goto(&format!("{}/staff/inbox", server.base)).await;
    filter(&browser, "", "soon", "").await;
    assert_eq!(listed(&browser).await, [code.clone()], "due soon");
    filter(&browser, "", "overdue", "").await;
    assert!(listed(&browser).await.is_empty(), "nothing overdue yet");
    server.set_time("2026-12-03 09:00");
    // Two days on, the session of the 1st has ended (12 hours): sign in again.
    sign_in(&browser, &server.base, "xuan-hoa-officer", OFFICER).await;
    browser.goto(&format!("{}/staff/inbox", server.base)).await;
    filter(&browser, "", "overdue", "").await;
    assert_eq!(listed(&browser).await, [code.clone()], "overdue");
    let row = browser.text(&format!("tr[id='row-{code}']")).await;
    assert!(row.contains("Quá hạn 2 ngày"), "{row}");
    filter(&browser, "", "soon", "").await;
    assert!(listed(&browser).await.is_empty(), "overdue is not due soon");
    filter(&browser, "4", "", "").await;
    assert_eq!(listed(&browser).await, [code.clone()], "processing");

    // ---- specialist: a form posted without its CSRF token is refused ----
    switch_to(&browser, &server, "xuan-hoa-specialist").await;
    open_dossier(&browser, &server, &code).await;
    let (_, _, version) = api_state(&server, &code).await;
    browser
        .execute(
            "document.querySelector(\"form[id='action-submit-for-signing'] input[name=csrf]\").remove();",
            vec![],
        )
        .await;
    browser.submit("form[id='action-submit-for-signing']").await;
    browser.wait_for_text("h1", "Biểu mẫu không hợp lệ").await;
    assert_eq!(page_status(&browser).await, 403);
    assert_eq!(
        api_state(&server, &code).await,
        (4, "review".into(), version),
        "a form without its CSRF token changed the dossier"
    );

    // ---- specialist: submitted for signing ----
    open_dossier(&browser, &server, &code).await;
    take(&browser, "submit-for-signing", "Trình ký").await;
    assert_eq!(browser.text("#status").await, "Đang giải quyết");
    assert_eq!(browser.text("#step").await, "Chờ ký");
    assert_eq!(api_state(&server, &code).await.1, "signing");

    // ---- leader: signed ----
    switch_to(&browser, &server, "xuan-hoa-leader").await;
    open_dossier(&browser, &server, &code).await;
    browser.find("form[id='action-send-back']").await;
    shot(&browser, backend, "leader-dossier").await;
    take(&browser, "sign", "Ký giấy khai sinh").await;
    assert_eq!(browser.text("#status").await, "Đã có kết quả, chờ trả");
    let result = browser.text("#result").await;
    assert!(
        result.contains("Giấy khai sinh") && result.contains(&format!("KS-{code}")),
        "{result}"
    );
    assert_eq!(api_state(&server, &code).await.0, 9);

    // ---- officer: returned ----
    switch_to(&browser, &server, "xuan-hoa-officer").await;
    open_dossier(&browser, &server, &code).await;
    take(&browser, "return-result", "Trả kết quả").await;
    assert_eq!(browser.text("#status").await, "Đã trả kết quả");
    browser.find("#no-actions").await;
    let (status, step, _) = api_state(&server, &code).await;
    assert_eq!((status, step.as_str()), (10, "returned"));
    let history = browser.text("#history").await;
    for expected in [
        "xuan-hoa-officer (Cán bộ một cửa)",
        "xuan-hoa-specialist (Chuyên viên)",
        "xuan-hoa-leader (Lãnh đạo)",
        "Đã có kết quả, chờ trả → Đã trả kết quả",
        "Bước: Thẩm định → Chờ ký",
    ] {
        assert!(history.contains(expected), "{expected} not in {history}");
    }
    let returned = code.clone();

    // ---- the citizen rates the returned dossier from the tracking page, once ----
    sign_out(&browser).await;
    browser
        .goto(&format!(
            "{}/track?code={returned}&secret={}",
            server.base, filed.secret
        ))
        .await;
    browser.wait_for_text("#status", "Đã trả kết quả").await;
    browser.click("#rating-very-satisfied").await;
    browser.submit("form.rating").await;
    browser
        .wait_for_text("#done", "Cảm ơn bạn đã đánh giá")
        .await;
    assert!(browser.text("#rated").await.contains("Rất hài lòng"));
    assert!(browser.find_all("form.rating").await.is_empty());
    let tracked = server.track(&returned, &filed.secret).await;
    assert_eq!(tracked.body["rating"], "very-satisfied", "{}", tracked.body);

    // ---- another ward's officer sees neither the dossier nor its file ----
    sign_in(
        &browser,
        &server.base,
        "viet-tri-officer",
        "demo-viet-tri-officer",
    )
    .await;
    browser
        .goto(&format!("{}/staff/dossiers/{returned}", server.base))
        .await;
    browser.wait_for_text("h1", "Không có quyền").await;
    assert_eq!(page_status(&browser).await, 403);
    let source = browser.source().await;
    for private in ["Nguyễn Thị Lan", "Trần Minh An", "025190001234"] {
        assert!(!source.contains(private), "{private} shown to another ward");
    }
    let (status, _, bytes) = download(&server, &browser, &href).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_ne!(bytes, certificate);
    browser.goto(&format!("{}/staff/inbox", server.base)).await;
    assert!(
        listed(&browser).await.is_empty(),
        "Việt Trì's inbox is its own"
    );

    browser.close().await;
    server.finish().await;
}

motcua_e2e::on_both_backends!(staff_take_a_birth_registration_to_returned);
