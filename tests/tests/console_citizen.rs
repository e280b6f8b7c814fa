//! The citizen portal in a real headless Chromium, on a phone-sized window: a citizen
//! files a birth registration through the form generated from the plugin's schema, with
//! the scans attached, sees the finding at the field they left empty, fixes it, gets the
//! dossier code and tracking secret, and tracks the dossier. Screenshots of each page
//! go to `target/screenshots/`.

use std::path::PathBuf;

use motcua_e2e::browser::Browser;
use motcua_e2e::{Backend, TestServer};
use serde_json::json;

const OFFICER: &str = "demo-xuan-hoa-officer";

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/examples")
        .join(name)
        .canonicalize()
        .expect("example file")
}

/// Attaches a local file to the file input `css` selects, as choosing it would.
async fn attach(browser: &Browser, css: &str, file: &PathBuf) {
    let input = browser.find(css).await;
    input
        .send_keys(&file.display().to_string())
        .await
        .unwrap_or_else(|error| panic!("attach {} to {css}: {error}", file.display()));
}

/// Everything the form needs but the child's name.
async fn fill_all_but_the_childs_name(browser: &Browser) {
    for (field, value) in [
        ("applicant.full_name", "Nguyễn Thị Lan"),
        ("applicant.citizen_id", "025190001234"),
        ("applicant.phone", "0912345678"),
        ("form.applicant_relationship", "mẹ"),
        ("form.child.birth_place", "Bệnh viện Đa khoa tỉnh Phú Thọ"),
        ("form.child.ethnicity", "Kinh"),
        ("form.child.nationality", "Việt Nam"),
        ("form.mother.full_name", "Nguyễn Thị Lan"),
        ("form.mother.citizen_id", "025190001234"),
    ] {
        browser.fill(&format!("[name='{field}']"), value).await;
    }
    browser.select("[name='form.child.sex']", "male").await;
    date_and_scans(browser).await;
}

/// The child's birth date and the two scans: what the page cannot keep after a refusal
/// (files) or what is set as the date picker would (a typed date follows the locale).
async fn date_and_scans(browser: &Browser) {
    browser
        .execute(
            "document.querySelector(\"[name='form.child.birth_date']\").value = '2026-11-20';",
            vec![],
        )
        .await;
    attach(
        browser,
        "input[type=file][name='documents.birth-proof']",
        &example("giay-chung-sinh.pdf"),
    )
    .await;
    attach(
        browser,
        "input[type=file][name='documents.parent-id']",
        &example("can-cuoc-me.png"),
    )
    .await;
}

async fn a_citizen_files_and_tracks_a_birth_registration(backend: Backend) {
    let server = TestServer::start(backend, "2026-12-01 09:00").await;
    let browser = Browser::phone().await;
    let prefix = match backend {
        Backend::Sqlite => "citizen-sqlite",
        Backend::Postgres => "citizen-postgres",
    };

    // The units that offer procedures, then what Xuân Hòa offers.
    browser.goto(&format!("{}/", server.base)).await;
    browser.wait_for_text("h1", "Nộp hồ sơ trực tuyến").await;
    browser.screenshot(&format!("{prefix}-1-units")).await;
    browser.click("a[href='/units/xuan-hoa']").await;
    browser.wait_for_text("h1", "Phường Xuân Hòa").await;
    let offered = browser.text("main").await;
    for expected in [
        "Đăng ký khai sinh",
        "Trong ngày làm việc",
        "Giấy tờ chứng minh việc sinh",
        "Đăng ký thành lập hộ kinh doanh",
        "100.000 đồng",
    ] {
        assert!(offered.contains(expected), "{expected} not in {offered}");
    }
    browser.screenshot(&format!("{prefix}-2-procedures")).await;

    // The generated form: the child's name left empty.
    browser
        .click("a[href='/units/xuan-hoa/procedures/1.001193/file']")
        .await;
    browser
        .wait_for("form[enctype='multipart/form-data']")
        .await;
    let labels = browser.text("form").await;
    for title in [
        "Người được khai sinh",
        "Ngày, tháng, năm sinh",
        "Giới tính",
        "Người cha",
        "Giấy tờ chứng minh việc sinh",
    ] {
        assert!(labels.contains(title), "the form has no {title}");
    }
    fill_all_but_the_childs_name(&browser).await;
    browser.screenshot(&format!("{prefix}-3-form")).await;
    browser.submit("form[enctype='multipart/form-data']").await;

    // The host's finding from the form schema, named by the field's title, at the
    // field and in the summary linking to it; the plugin's own about the same field
    // is not repeated.
    let finding = browser
        .wait_for_text("#form-child-full_name-error", "tên")
        .await;
    assert!(
        finding.contains("Người được khai sinh: chưa nhập họ, chữ đệm và tên"),
        "{finding}"
    );
    let summary = browser.text(".errors").await;
    assert!(summary.contains("1 lỗi"), "{summary}");
    assert!(
        browser
            .find("a[href='#form-child-full_name']")
            .await
            .text()
            .await
            .is_ok()
    );
    // What was typed is kept.
    let kept = browser
        .find("[name='form.mother.citizen_id']")
        .await
        .prop("value")
        .await
        .expect("value");
    assert_eq!(kept.as_deref(), Some("025190001234"));
    browser.screenshot(&format!("{prefix}-4-finding")).await;
    assert_eq!(
        server.row_counts().await.0,
        0,
        "a refused filing stored a dossier"
    );

    // Fixed (and the files chosen again, as the page asks): filed.
    browser
        .fill("[name='form.child.full_name']", "Trần Minh An")
        .await;
    date_and_scans(&browser).await;
    browser.submit("form[enctype='multipart/form-data']").await;
    let code = browser.wait_for_text("#dossier-code", "H43").await;
    let secret = browser.text("#tracking-secret").await;
    assert_eq!(secret.len(), 32, "{secret}");
    assert!(
        browser
            .text("#status")
            .await
            .contains("Mới nộp, chờ tiếp nhận")
    );
    browser.screenshot(&format!("{prefix}-5-receipt")).await;

    // Filed as the API sees it: the form as typed, both scans stored.
    let dossier = server.dossier(OFFICER, &code).await;
    assert_eq!(dossier["form"]["child"]["full_name"], "Trần Minh An");
    assert_eq!(dossier["form"]["child"]["birth_date"], "2026-11-20");
    assert_eq!(dossier["form"]["mother"]["citizen_id"], "025190001234");
    assert_eq!(
        dossier["form"].get("father"),
        None,
        "the father was not declared"
    );
    assert_eq!(dossier["channel"], "online");
    assert_eq!(dossier["digitized"], json!(true));
    let stored: Vec<(&str, bool)> = dossier["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|document| {
            (
                document["kind"].as_str().unwrap(),
                document["digitized"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stored,
        [
            ("hospital-birth-certificate", true),
            ("citizen-id-card", true)
        ]
    );

    // Tracking by code and secret from the lookup form; a wrong secret finds nothing.
    server.set_time("2026-12-01 10:00");
    server.act_ok(OFFICER, &code, "receive", json!({})).await;
    browser.goto(&format!("{}/track", server.base)).await;
    browser.fill("#code", &code).await;
    browser.fill("#secret", "0000").await;
    browser.submit("form.lookup").await;
    browser
        .wait_for_text("[role=alert]", "Không tìm thấy hồ sơ")
        .await;
    browser.fill("#code", &code).await;
    browser.fill("#secret", &secret).await;
    browser.submit("form.lookup").await;
    // Received, the same-day clock started: being dealt with.
    let status = browser.wait_for_text("#status", "Đang giải quyết").await;
    assert!(status.contains("Đang giải quyết"), "{status}");
    assert_eq!(browser.text("#due").await, "01/12/2026");
    let history = browser.text(".history").await;
    assert!(
        history.contains("Mới nộp") && history.contains("Đang giải quyết"),
        "{history}"
    );
    browser.screenshot(&format!("{prefix}-6-tracking")).await;
    browser.close().await;
    server.finish().await;
}

motcua_e2e::on_both_backends!(a_citizen_files_and_tracks_a_birth_registration);
