//! Provincial IT's pages in a real headless Chromium: the province's publisher uploads
//! business-household 1.1.0 through the catalog's form, sees it in the catalog, pilots
//! it at Xuân Hòa through the confirmation page (the API then shows Xuân Hòa on 1.1.0
//! and Việt Trì still on 1.0.0), rolls it back through its confirmation (Xuân Hòa back
//! on 1.0.0), and finds publish, rollout and rollback in the audit. A rollout confirmed
//! without its CSRF token changes nothing; refused components are pages with the
//! registry's message and the API's status; a ward's officer is refused the catalog.
//! Screenshots: catalog, catalog-confirm-pilot, catalog-audit.

use std::path::{Path, PathBuf};

use motcua_e2e::browser::{Browser, sign_in, sign_out};
use motcua_e2e::{Backend, TestServer, plugin_bytes, with_custom_section};
use reqwest::StatusCode;
use serde_json::Value;

const PUBLISHER: &str = "demo-phu-tho-publisher";
const HOUSEHOLD: &str = "1.001612";
/// The household procedure's section on the catalog page.
const SECTION: &str = "#p-1-001612";

/// The version of the household build a unit offers now, as the API says.
async fn offered_version(server: &TestServer, unit: &str) -> String {
    let response = server
        .get(&format!("/api/v1/procedures?unit={unit}"), None)
        .await;
    let procedures = response.body["procedures"].as_array().expect("procedures");
    let household = procedures
        .iter()
        .find(|p| p["binding"]["procedure"] == HOUSEHOLD)
        .expect("household offered");
    household["build"]["version"]
        .as_str()
        .expect("version")
        .to_string()
}

/// The household's rollouts as the API lists them, newest first.
async fn rollouts(server: &TestServer) -> Vec<Value> {
    server
        .get(&format!("/api/v1/rollouts?procedure={HOUSEHOLD}"), None)
        .await
        .body["rollouts"]
        .as_array()
        .expect("rollouts")
        .clone()
}

/// The household build published as `version`, as `GET /api/v1/plugins` shows it.
async fn published(server: &TestServer, version: &str) -> Option<Value> {
    server.get("/api/v1/plugins", None).await.body["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .find(|p| p["plugin"] == HOUSEHOLD && p["version"] == version)
        .cloned()
}

fn wasm_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the component");
    path
}

/// Chooses `file` in the catalog's upload form and submits it.
async fn upload(browser: &Browser, file: &Path) {
    browser
        .find("#component")
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap_or_else(|error| panic!("attach {}: {error}", file.display()));
    browser.submit("form.publish-form").await;
}

/// Posts the publishing form as the browser would, with this session's cookie and
/// CSRF token: the answer's status, which a browser does not show.
async fn post_component(
    server: &TestServer,
    browser: &Browser,
    bytes: &[u8],
) -> (StatusCode, String) {
    let session = browser
        .client()
        .get_named_cookie("motcua_session")
        .await
        .expect("the session cookie");
    browser
        .goto(&format!("{}/staff/catalog", server.base))
        .await;
    let csrf = browser
        .find("form.publish-form input[name='csrf']")
        .await
        .prop("value")
        .await
        .expect("csrf")
        .expect("csrf value");
    let boundary = "----motcua-catalog-test";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"component\"; filename=\"x.wasm\"\r\n\
         Content-Type: application/wasm\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = server
        .request(
            reqwest::Method::POST,
            "/staff/catalog/publish",
            None,
            &[
                ("cookie", format!("motcua_session={}", session.value())),
                (
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                ),
            ],
            Some(body),
        )
        .await;
    (response.status, response.content_type)
}

/// The page as it looks (once: both backends show the same pages, and would write
/// the same file at once).
async fn shoot(browser: &Browser, backend: Backend, name: &str) {
    if matches!(backend, Backend::Sqlite) {
        browser.screenshot(name).await;
    }
}

async fn the_publisher_pilots_and_rolls_back_through_the_console(backend: Backend) {
    let server = TestServer::start(backend, "2026-12-01 09:00").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let browser = Browser::start().await;
    sign_in(&browser, &server.base, "phu-tho-publisher", PUBLISHER).await;

    // The catalog as seeded: the household procedure on 1.0.0 everywhere.
    browser
        .goto(&format!("{}/staff/catalog", server.base))
        .await;
    let section = browser
        .wait_for_text(SECTION, "Đăng ký thành lập hộ kinh doanh")
        .await;
    for expected in ["1.001612", "Cấp xã", "Phường Xuân Hòa", "Phường Việt Trì"] {
        assert!(section.contains(expected), "{expected} not in {section}");
    }
    assert!(!section.contains("1.1.0"), "{section}");
    shoot(&browser, backend, "catalog-top").await;

    // Upload 1.1.0 through the form.
    let newer = plugin_bytes("business_household_1_1");
    upload(
        &browser,
        &wasm_file(dir.path(), "ho-kinh-doanh-1.1.0.wasm", &newer),
    )
    .await;
    let done = browser.wait_for_text("#done", "Đã công bố").await;
    assert!(done.contains("1.1.0"), "{done}");
    let build = published(&server, "1.1.0")
        .await
        .expect("1.1.0 published through the API's registry");
    assert_eq!(build["published_by"], "phu-tho-publisher");
    assert_eq!(build["province_default"], false);
    let sha = build["sha256"].as_str().expect("sha256").to_string();
    let row = browser.text(&format!("tr[data-sha='{sha}']")).await;
    for expected in ["1.1.0", &sha[..12], "phu-tho-publisher", "Chưa đơn vị nào"] {
        assert!(
            row.contains(expected),
            "{expected} not in the build's row: {row}"
        );
    }
    shoot(&browser, backend, "catalog").await;

    // Pilot at Xuân Hòa: the confirmation says who moves from what to what.
    browser.select(&format!("{SECTION}-build"), &sha).await;
    browser.click(&format!("{SECTION}-unit-xuan-hoa")).await;
    browser.submit(&format!("{SECTION} form.rollout")).await;
    browser
        .wait_for_text("h1", "Xác nhận triển khai thí điểm")
        .await;
    let moves = browser.text("#moves").await;
    for expected in ["Phường Xuân Hòa", "1.0.0", "1.1.0"] {
        assert!(moves.contains(expected), "{expected} not in {moves}");
    }
    assert!(!moves.contains("Việt Trì"), "{moves}");
    shoot(&browser, backend, "catalog-confirm-pilot").await;
    assert_eq!(
        offered_version(&server, "xuan-hoa").await,
        "1.0.0",
        "the confirmation page changed something"
    );
    let rollouts_before = rollouts(&server).await.len();
    browser.submit("form.confirm-form").await;
    let done = browser.wait_for_text("#done", "Đã triển khai").await;
    assert!(
        done.contains("Phường Xuân Hòa") && done.contains("1.1.0"),
        "{done}"
    );
    assert_eq!(offered_version(&server, "xuan-hoa").await, "1.1.0");
    assert_eq!(offered_version(&server, "viet-tri").await, "1.0.0");
    let made = rollouts(&server).await;
    assert_eq!(made.len(), rollouts_before + 1);
    assert_eq!(made[0]["scope"], "pilot");
    assert_eq!(made[0]["units"], serde_json::json!(["xuan-hoa"]));
    assert_eq!(made[0]["by"], "phu-tho-publisher");
    let row = browser.text(&format!("tr[data-sha='{sha}']")).await;
    assert!(row.contains("Phường Xuân Hòa"), "{row}");

    // Roll back through its confirmation: Xuân Hòa returns to 1.0.0.
    browser.click(&format!("{SECTION} a.rollback")).await;
    browser.wait_for_text("h1", "Xác nhận thu hồi").await;
    let returns = browser.text("#returns").await;
    for expected in ["Phường Xuân Hòa", "1.1.0", "1.0.0"] {
        assert!(returns.contains(expected), "{expected} not in {returns}");
    }
    assert!(!returns.contains("Việt Trì"), "{returns}");
    browser.submit("form.confirm-form").await;
    let done = browser.wait_for_text("#done", "Đã thu hồi").await;
    assert!(
        done.contains("Phường Xuân Hòa nay dùng bản 1.0.0"),
        "{done}"
    );
    assert_eq!(offered_version(&server, "xuan-hoa").await, "1.0.0");
    assert!(rollouts(&server).await[0]["rolled_back_at"].is_string());

    // The audit: rollback, rollout, publish, newest first, by the publisher.
    browser
        .goto(&format!("{}/staff/catalog/audit", server.base))
        .await;
    browser.wait_for_text("h1", "Nhật ký").await;
    let mut rows = Vec::new();
    for row in browser.find_all("table.audit tbody tr").await {
        rows.push(row.text().await.expect("row text"));
    }
    assert!(rows.len() >= 3, "{rows:?}");
    for (row, action) in rows.iter().zip([
        "Thu hồi đợt triển khai",
        "Triển khai thí điểm",
        "Công bố bản dựng",
    ]) {
        assert!(
            row.contains(action) && row.contains("phu-tho-publisher") && row.contains("1.1.0"),
            "{action} by phu-tho-publisher not in {row}"
        );
    }
    assert!(rows[1].contains("Phường Xuân Hòa"), "{}", rows[1]);
    shoot(&browser, backend, "catalog-audit").await;

    // A rollout to all confirmed without its CSRF token is refused and changes nothing.
    browser
        .goto(&format!("{}/staff/catalog", server.base))
        .await;
    browser.select(&format!("{SECTION}-build"), &sha).await;
    browser
        .click(&format!("{SECTION} form.rollout button[value='all']"))
        .await;
    let change = browser.wait_for_text("#default-change", "1.1.0").await;
    assert!(change.contains("1.0.0"), "{change}");
    browser
        .execute(
            "document.querySelector(\"form.confirm-form input[name='csrf']\").remove();",
            vec![],
        )
        .await;
    let rollouts_before = rollouts(&server).await.len();
    browser.submit("form.confirm-form").await;
    browser.wait_for_text("h1", "Biểu mẫu không hợp lệ").await;
    assert_eq!(rollouts(&server).await.len(), rollouts_before);
    for unit in ["xuan-hoa", "viet-tri", "thanh-ba"] {
        assert_eq!(offered_version(&server, unit).await, "1.0.0", "{unit}");
    }
    assert_eq!(
        published(&server, "1.1.0").await.expect("1.1.0")["province_default"],
        false
    );

    // Refused components: the registry's message on a page, with the API's status.
    browser
        .goto(&format!("{}/staff/catalog", server.base))
        .await;
    upload(
        &browser,
        &wasm_file(
            dir.path(),
            "wasi.wasm",
            &plugin_bytes("fixture_wasi_filesystem"),
        ),
    )
    .await;
    browser.wait_for_text("h1", "Bản dựng bị từ chối").await;
    let refusal = browser.text("#refusal").await;
    assert!(
        refusal.contains("wasi.wasm") && refusal.contains("wasi:filesystem"),
        "{refusal}"
    );
    shoot(&browser, backend, "catalog-refused").await;
    let plugins_before = server.get("/api/v1/plugins", None).await.body["plugins"]
        .as_array()
        .expect("plugins")
        .len();
    let (status, content_type) =
        post_component(&server, &browser, &plugin_bytes("fixture_wasi_filesystem")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let clash = with_custom_section(newer.clone(), "build-note", 16);
    let (status, _) = post_component(&server, &browser, &clash).await;
    assert_eq!(status, StatusCode::CONFLICT, "other bytes under 1.1.0");
    // Just over the registry's cap: the form's slack lets it reach the registry, which
    // refuses it as the API does.
    let cap = motcua::registry::DEFAULT_MAX_PLUGIN_BYTES;
    let over = with_custom_section(newer.clone(), "padding", cap + 100 - newer.len());
    assert!(
        over.len() > cap && over.len() < cap + 32 * 1024,
        "{}",
        over.len()
    );
    let (status, content_type) = post_component(&server, &browser, &over).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert_eq!(
        server.get("/api/v1/plugins", None).await.body["plugins"]
            .as_array()
            .expect("plugins")
            .len(),
        plugins_before,
        "a refused component was stored"
    );

    // A ward's officer has no catalog.
    sign_out(&browser).await;
    sign_in(
        &browser,
        &server.base,
        "xuan-hoa-officer",
        "demo-xuan-hoa-officer",
    )
    .await;
    assert!(
        browser
            .find_all("a[href='/staff/catalog']")
            .await
            .is_empty(),
        "the officer's navigation offers the catalog"
    );
    browser
        .goto(&format!("{}/staff/catalog", server.base))
        .await;
    browser.wait_for_text("h1", "Không có quyền").await;
    assert!(
        browser.find_all("form.publish-form").await.is_empty(),
        "the refusal shows the upload form"
    );
    browser
        .goto(&format!("{}/staff/catalog/audit", server.base))
        .await;
    browser.wait_for_text("h1", "Không có quyền").await;
    browser.close().await;
    server.finish().await;
}

motcua_e2e::on_both_backends!(the_publisher_pilots_and_rolls_back_through_the_console);
