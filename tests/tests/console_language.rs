//! The citizen portal's English switch in Chromium: the link on every citizen page
//! switches the portal's own words (and `lang`) and comes back to the same page; what
//! the procedure's plugin publishes stays as published; staff pages stay Vietnamese;
//! switching back restores Vietnamese. The switch never sends anyone off the site.

use motcua_e2e::browser::{Browser, sign_in};
use motcua_e2e::{Backend, TestServer};
use reqwest::header::LOCATION;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_switches_to_english_and_back() {
    let server = TestServer::start(Backend::Sqlite, "2026-12-01 09:00").await;
    let base = server.base.clone();
    let browser = Browser::phone().await;

    browser.goto(&format!("{base}/units/xuan-hoa")).await;
    browser
        .wait_for_text("h1", "Thủ tục tại Phường Xuân Hòa")
        .await;
    browser.click("#switch-language").await;
    // Back on the same page, in English.
    browser
        .wait_for_text("h1", "Procedures at Phường Xuân Hòa")
        .await;
    assert!(browser.current_url().await.ends_with("/units/xuan-hoa"));
    let lang = browser
        .execute("return document.documentElement.lang;", vec![])
        .await;
    assert_eq!(lang, "en");
    let offered = browser.text("main").await;
    for expected in [
        "Within the working day",
        "100.000 VND",
        "Processing time",
        "(required)",
        // The plugin's own words, as published.
        "Đăng ký khai sinh",
    ] {
        assert!(offered.contains(expected), "{expected} not in {offered}");
    }
    browser.screenshot("language-en-procedures").await;

    // The filing form: the portal's labels in English, the plugin's titles as published;
    // a refusal's page too.
    browser
        .click("a[href='/units/xuan-hoa/procedures/1.001193/file']")
        .await;
    browser
        .wait_for("form[enctype='multipart/form-data']")
        .await;
    let form = browser.text("form").await;
    for expected in [
        "Applicant",
        "Full name",
        "File the dossier",
        "Người được khai sinh",
    ] {
        assert!(form.contains(expected), "{expected} not in {form}");
    }
    browser.submit("form[enctype='multipart/form-data']").await;
    browser
        .wait_for_text("#errors", "The dossier is not complete")
        .await;

    // Tracking, then a staff page: staff pages are Vietnamese whatever the choice.
    browser.goto(&format!("{base}/track")).await;
    browser.wait_for_text("h1", "Track a dossier").await;
    browser.goto(&format!("{base}/sign-in")).await;
    browser.wait_for_text("h1", "Sign-in for staff").await;
    sign_in(&browser, &base, "xuan-hoa-officer", "demo-xuan-hoa-officer").await;
    browser.wait_for_text("h1", "Xin chào").await;

    // Back to Vietnamese.
    browser.goto(&format!("{base}/")).await;
    browser.wait_for_text("h1", "File a dossier online").await;
    browser.click("#switch-language").await;
    browser.wait_for_text("h1", "Nộp hồ sơ trực tuyến").await;
    browser.close().await;

    // The switch goes back only to a page of this site.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (back, expected) in [
        ("%2Ftrack%3Fcode%3Dx", "/track?code=x"),
        ("%2F%2Fevil.example", "/"),
        ("https%3A%2F%2Fevil.example", "/"),
    ] {
        let response = client
            .get(format!("{base}/lang/en?back={back}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()[LOCATION], expected, "back={back}");
        assert!(
            response.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .starts_with("motcua_lang=en")
        );
    }
    server.finish().await;
}
