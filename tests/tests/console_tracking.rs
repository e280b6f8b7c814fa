//! From the tracking page, in a real Chromium on a phone-sized window: the citizen
//! completes a supplement with the scan the officer asked for (stored under its sha256,
//! the dossier back to be received), then, once the result is returned, rates the dossier
//! once; the rating form is gone after and the API counts the rating. A supplement posted
//! without the page's CSRF token is refused and changes nothing.

use std::path::PathBuf;

use motcua_e2e::browser::Browser;
use motcua_e2e::{Backend, TestServer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/examples")
        .join(name)
        .canonicalize()
        .expect("example file")
}

fn birth_filing() -> Value {
    motcua_e2e::scenarios::filings()["birth"].clone()
}

async fn supplement_then_rating(backend: Backend) {
    let server = TestServer::start(backend, "2026-12-01 09:00").await;
    let filed = server.file(None, &birth_filing()).await;
    server
        .act_ok(
            "demo-xuan-hoa-officer",
            &filed.code,
            "request-supplement",
            json!({ "items": [ {
                "target": "documents.parent-id",
                "message": "Bản chụp căn cước công dân của mẹ bị mờ, đề nghị nộp lại"
            } ] }),
        )
        .await;
    let tracking = format!(
        "{}/track?code={}&secret={}",
        server.base, filed.code, filed.secret
    );
    let browser = Browser::phone().await;
    browser.goto(&tracking).await;
    browser.wait_for_text("#status", "Chờ bổ sung hồ sơ").await;
    let missing = browser.text(".missing").await;
    assert!(missing.contains("bị mờ, đề nghị nộp lại"), "{missing}");

    // Posted without its CSRF token: refused, nothing changes.
    let version = server.version("demo-xuan-hoa-officer", &filed.code).await;
    browser
        .execute(
            "document.querySelector(\"form.supplement input[name='csrf']\").remove();",
            vec![],
        )
        .await;
    browser.submit("form.supplement").await;
    browser.wait_for_text("h1", "Biểu mẫu không hợp lệ").await;
    assert_eq!(
        server.version("demo-xuan-hoa-officer", &filed.code).await,
        version
    );

    // The scan asked for, chosen on the page.
    browser.goto(&tracking).await;
    browser.wait_for("form.supplement").await;
    let scan = example("can-cuoc-me.png");
    browser
        .find("input[type=file][name='documents.parent-id']")
        .await
        .send_keys(&scan.display().to_string())
        .await
        .expect("attach the scan");
    browser.fill("#note", "Nộp lại bản chụp rõ nét").await;
    browser.screenshot("track-supplement").await;
    browser.submit("form.supplement").await;
    browser.wait_for_text("#done", "Đã gửi bổ sung").await;
    // Asked for at intake, the supplement brings the dossier back to be received.
    let status = browser.text("#status").await;
    assert_eq!(status, "Mới nộp, chờ tiếp nhận");
    let bytes = std::fs::read(&scan).unwrap();
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let dossier = server.dossier("demo-xuan-hoa-officer", &filed.code).await;
    let stored = dossier["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|document| document["sha256"] == sha256.as_str())
        .unwrap_or_else(|| panic!("the scan is declared: {dossier}"));
    assert_eq!(stored["digitized"], true, "{stored}");
    assert_eq!(dossier["status"]["code"], 1);

    // Settled and returned by the staff; the citizen rates once.
    for (token, action) in [
        ("demo-xuan-hoa-officer", "receive"),
        ("demo-xuan-hoa-specialist", "submit-for-signing"),
        ("demo-xuan-hoa-leader", "sign"),
        ("demo-xuan-hoa-officer", "return-result"),
    ] {
        server.act_ok(token, &filed.code, action, json!({})).await;
    }
    browser.goto(&tracking).await;
    browser.wait_for_text("#status", "Đã trả kết quả").await;
    browser.click("#rating-satisfied").await;
    browser.fill("#comment", "Cán bộ hướng dẫn tận tình").await;
    browser.screenshot("track-rating").await;
    browser.submit("form.rating").await;
    browser
        .wait_for_text("#done", "Cảm ơn bạn đã đánh giá")
        .await;
    assert!(browser.text("#rated").await.contains("Hài lòng"));
    assert!(
        browser.find_all("form.rating").await.is_empty(),
        "a rated dossier offers no second rating"
    );
    let tracked = server.track(&filed.code, &filed.secret).await;
    assert_eq!(tracked.body["rating"], "satisfied", "{}", tracked.body);
    browser.close().await;
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supplement_then_rating_on_sqlite() {
    supplement_then_rating(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supplement_then_rating_on_postgres() {
    supplement_then_rating(Backend::Postgres).await;
}
