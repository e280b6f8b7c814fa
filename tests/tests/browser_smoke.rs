//! The browser harness (tests/src/browser.rs) against motcua itself: a real headless
//! Chromium opens the server's pages, fills and submits forms, and several browsers
//! run side by side without seeing each other. The web console's tests build on it.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures::FutureExt;
use motcua_e2e::browser::{self, Browser, DESKTOP, PHONE};
use motcua_e2e::{Backend, TestServer};
use serde_json::Value;

const NOW: &str = "2026-03-02 09:00";

/// A `data:` address for the page `html` (UTF-8, every byte that is not plainly
/// safe in a URL escaped, `#` included).
fn data_url(html: &str) -> String {
    let mut url = String::from("data:text/html;charset=utf-8,");
    for byte in html.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            url.push(byte as char);
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

/// The JSON Chromium shows for a JSON response (as text in a `<pre>`).
async fn shown_json(browser: &Browser) -> Value {
    let text = browser.text("pre").await;
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

/// A PNG's width and height, from its header.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 24,
        "a PNG"
    );
    let number = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    (number(16), number(20))
}

/// Waits (a while at most) until the process `pid` has ended; fails if it lives on.
async fn ended(pid: u64) {
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
        // Gone, or ended and waiting for its parent to collect it.
        let alive = match &stat {
            Ok(stat) => !stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
            Err(_) => false,
        };
        if !alive {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} still runs: {stat:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// The message a failed (panicking) future left.
async fn panic_message(future: impl std::future::Future<Output = ()>) -> String {
    let outcome = AssertUnwindSafe(future).catch_unwind().await;
    let payload = outcome.expect_err("the helper should have failed the test");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_shows_what_motcua_serves() {
    let server = TestServer::start(Backend::Sqlite, NOW).await;
    let started = Instant::now();
    let browser = Browser::start().await;
    eprintln!("one browser started in {:?}", started.elapsed());

    browser.goto(&format!("{}/healthz", server.base)).await;
    let health = shown_json(&browser).await;
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health, server.get("/healthz", None).await.body);

    let procedures = format!("{}/api/v1/procedures?unit=xuan-hoa", server.base);
    browser.goto(&procedures).await;
    assert_eq!(browser.current_url().await, procedures);
    let offered = shown_json(&browser).await;
    let codes: Vec<&str> = offered["procedures"]
        .as_array()
        .unwrap_or_else(|| panic!("procedures in {offered}"))
        .iter()
        .filter_map(|procedure| procedure["code"].as_str())
        .collect();
    assert!(codes.contains(&"1.001193"), "Xuân Hòa offers {codes:?}");
    assert_eq!(
        offered,
        server
            .get("/api/v1/procedures?unit=xuan-hoa", None)
            .await
            .body
    );
    assert!(browser.source().await.contains("1.001193"));

    let shot = browser.screenshot("browser-smoke-procedures").await;
    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is a PNG",
        shot.display()
    );
    assert_eq!(
        shot,
        browser::screenshot_dir().join("browser-smoke-procedures.png")
    );
    // The whole 1280×900 window.
    assert_eq!(png_size(&png), DESKTOP);

    let (driver, chromium) = browser.processes();
    browser.close().await;
    ended(driver.into()).await;
    ended(chromium.expect("chromedriver named Chromium's process")).await;
    server.finish().await;
}

/// A page with a form its own script takes, and a form that goes to motcua.
fn form_page(base: &str) -> String {
    data_url(&format!(
        r#"<!doctype html><title>Biểu mẫu</title>
        <form id="greeting">
          <input id="name" name="name" required>
          <select id="unit" name="unit">
            <option value="thanh-ba">Thanh Ba</option>
            <option value="xuan-hoa">Xuân Hòa</option>
          </select>
          <button>Gửi</button>
        </form>
        <button type="button" id="later">Chào sau</button>
        <form id="lookup" action="{base}/api/v1/procedures" method="get">
          <select id="lookup-unit" name="unit">
            <option value="thanh-ba">Thanh Ba</option>
            <option value="xuan-hoa">Xuân Hòa</option>
          </select>
          <button>Tra cứu</button>
        </form>
        <script>
          const form = document.getElementById('greeting');
          form.addEventListener('submit', (event) => {{
            event.preventDefault();
            const p = document.createElement('p');
            p.id = 'result';
            p.textContent = 'Xin chào ' + form.name.value + ' (' + form.unit.value + ')';
            document.body.append(p);
          }});
          document.getElementById('later').addEventListener('click', () => {{
            setTimeout(() => {{
              const p = document.createElement('p');
              p.id = 'late';
              p.textContent = 'Đã bấm';
              document.body.append(p);
            }}, 300);
          }});
        </script>"#
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_are_filled_chosen_clicked_and_submitted() {
    let server = TestServer::start(Backend::Sqlite, NOW).await;
    let browser = Browser::start().await;
    let page = form_page(&server.base);
    browser.goto(&page).await;

    // A submission the page's script takes: the typed text and the chosen option
    // reach it, Vietnamese letters intact.
    browser.fill("#name", "Nguyễn Thị Hoà").await;
    browser.select("#unit", "xuan-hoa").await;
    browser.submit("#greeting").await;
    assert_eq!(
        browser.text("#result").await,
        "Xin chào Nguyễn Thị Hoà (xuan-hoa)"
    );
    // `fill` replaces what the field held.
    browser.fill("#name", "An").await;
    browser.submit("#greeting").await;
    let results = browser.find_all("#result").await;
    assert_eq!(results.len(), 2);
    assert_eq!(
        results[1].text().await.expect("text"),
        "Xin chào An (xuan-hoa)"
    );

    // A click whose effect comes later: `wait_for` waits for it.
    assert!(browser.find_all("#late").await.is_empty());
    browser.click("#later").await;
    assert_eq!(
        browser.wait_for("#late").await.text().await.expect("text"),
        "Đã bấm"
    );
    assert_eq!(browser.wait_for_text("p", "bấm").await, "Đã bấm");

    // A form that goes to motcua: `submit` returns once the answer has loaded.
    browser.select("#lookup-unit", "xuan-hoa").await;
    browser.submit("#lookup").await;
    assert_eq!(
        browser.current_url().await,
        format!("{}/api/v1/procedures?unit=xuan-hoa", server.base)
    );
    let offered = shown_json(&browser).await;
    assert_eq!(
        offered,
        server
            .get("/api/v1/procedures?unit=xuan-hoa", None)
            .await
            .body
    );

    browser.close().await;
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_say_what_the_browser_saw() {
    let server = TestServer::start(Backend::Sqlite, NOW).await;
    let browser = Browser::start().await;
    let page = form_page(&server.base);
    browser.goto(&page).await;

    // A required field left empty: the browser refuses, and the failure names it.
    let refused = panic_message(browser.submit("#greeting")).await;
    assert!(refused.contains("refused to submit"), "{refused}");
    assert!(refused.contains("name: "), "{refused}");
    assert!(browser.find_all("#result").await.is_empty());

    // Waiting for what never comes fails with the page's address and HTML.
    let started = Instant::now();
    let missing = panic_message(async {
        browser.wait_for("#never").await;
    })
    .await;
    assert!(started.elapsed() >= browser::PATIENCE, "{missing}");
    assert!(missing.contains("\"#never\""), "{missing}");
    assert!(missing.contains("page: data:text/html"), "{missing}");
    assert!(missing.contains("id=\"greeting\""), "{missing}");

    let absent = panic_message(async {
        browser.click("#nowhere").await;
    })
    .await;
    assert!(absent.contains("no element \"#nowhere\""), "{absent}");

    // Without chromedriver the tests fail, saying how to install it.
    let uninstalled = panic_message(async {
        browser::require_chromedriver(std::path::Path::new("/nonexistent/chromedriver"));
    })
    .await;
    assert!(uninstalled.contains("bash .ci/run"), "{uninstalled}");
    assert!(
        uninstalled.contains("apt-get install chromium chromium-driver"),
        "{uninstalled}"
    );

    browser.close().await;
    server.finish().await;
}

/// The page's viewport, in CSS pixels.
async fn viewport(browser: &Browser) -> (u32, u32) {
    let size = browser
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await;
    let dimension = |index: usize| {
        size[index]
            .as_u64()
            .and_then(|value| u32::try_from(value).ok())
            .unwrap_or_else(|| panic!("viewport {size}"))
    };
    (dimension(0), dimension(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_side_by_side_are_apart() {
    let server = TestServer::start(Backend::Sqlite, NOW).await;
    let started = Instant::now();
    let (desk, phone) = tokio::join!(Browser::start(), Browser::phone());
    eprintln!("two browsers started together in {:?}", started.elapsed());
    assert_eq!(viewport(&desk).await, DESKTOP);
    assert_eq!(viewport(&phone).await, PHONE);

    // Each has its own profile: what one page stores, the other does not see.
    let health = format!("{}/healthz", server.base);
    desk.goto(&health).await;
    phone.goto(&health).await;
    desk.execute("localStorage.setItem('who', 'desk');", vec![])
        .await;
    assert_eq!(
        desk.execute("return localStorage.getItem('who');", vec![])
            .await,
        "desk"
    );
    assert_eq!(
        phone
            .execute("return localStorage.getItem('who');", vec![])
            .await,
        Value::Null
    );

    let png = std::fs::read(phone.screenshot("browser-smoke-phone").await).expect("screenshot");
    assert_eq!(png_size(&png), PHONE);

    // One closes; the other goes on.
    phone.close().await;
    desk.goto(&format!("{}/api/v1/procedures?unit=xuan-hoa", server.base))
        .await;
    assert!(shown_json(&desk).await["procedures"].is_array());
    let shot = desk.screenshot("browser-smoke-desk").await;
    assert!(shot.is_file());

    // Dropped without `close`, as when a test fails: it ends all the same.
    let (driver, chromium) = desk.processes();
    drop(desk);
    ended(driver.into()).await;
    ended(chromium.expect("chromedriver named Chromium's process")).await;
    server.finish().await;
}
