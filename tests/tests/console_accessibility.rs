//! Every main page of the console, as each of its users sees it in Chromium, checked
//! for what a screen reader and a keyboard need: a language, a skip link to the main
//! content, one `h1`, every visible form control named by a label (or `aria-label`),
//! every table header with its scope, no image without `alt`, no button without a
//! name, no duplicated `id` (labels and error links point at ids). The checks read the
//! rendered DOM, so a template that drops a label fails here, naming the control.

use motcua_e2e::browser::{Browser, sign_in, sign_out};
use motcua_e2e::scenarios::filings;
use motcua_e2e::{Backend, TestServer};
use serde_json::json;

/// Problems of the page now shown, one line each.
const CHECK: &str = r##"
const problems = [];
if (!document.documentElement.lang) problems.push('the page has no lang');
if (!document.querySelector('a.skip[href="#main"]') || !document.getElementById('main'))
  problems.push('no skip link to #main');
const h1 = document.querySelectorAll('h1').length;
if (h1 !== 1) problems.push(h1 + ' h1 elements');
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.type === 'hidden') continue;
  const byFor = el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
  const named = byFor || el.closest('label') || el.getAttribute('aria-label')
    || el.getAttribute('aria-labelledby');
  if (!named) problems.push('unlabelled control ' + el.outerHTML.slice(0, 140));
}
for (const th of document.querySelectorAll('th')) {
  if (!th.getAttribute('scope')) problems.push('th without scope: ' + th.textContent.trim().slice(0, 60));
}
for (const img of document.querySelectorAll('img')) {
  if (!img.hasAttribute('alt')) problems.push('img without alt ' + img.outerHTML.slice(0, 100));
}
for (const b of document.querySelectorAll('button')) {
  if (!b.textContent.trim() && !b.getAttribute('aria-label')) problems.push('button without a name');
}
const seen = new Set();
for (const el of document.querySelectorAll('[id]')) {
  if (seen.has(el.id)) problems.push('duplicate id ' + el.id);
  seen.add(el.id);
}
for (const svg of document.querySelectorAll('svg')) {
  if (!svg.getAttribute('aria-label') && !svg.querySelector('title'))
    problems.push('svg without a name');
}
return problems;
"##;

async fn check(browser: &Browser, page: &str, failures: &mut Vec<String>) {
    let problems = browser.execute(CHECK, vec![]).await;
    for problem in problems.as_array().expect("a list") {
        failures.push(format!("{page}: {}", problem.as_str().unwrap_or_default()));
    }
}

async fn visit(browser: &Browser, base: &str, path: &str, ready: &str, failures: &mut Vec<String>) {
    browser.goto(&format!("{base}{path}")).await;
    browser.wait_for(ready).await;
    check(browser, path, failures).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_main_page_is_labelled_and_navigable() {
    let server = TestServer::start(Backend::Sqlite, "2026-12-01 09:00").await;
    let base = server.base.clone();
    // A dossier waiting for a supplement (the tracking page's form) and one at intake.
    let filed = server.file(None, &filings()["birth"]).await;
    server
        .act_ok(
            "demo-xuan-hoa-officer",
            &filed.code,
            "request-supplement",
            json!({ "items": [
                { "target": "documents.parent-id", "message": "Bản chụp bị mờ" },
                { "target": "documents.parent-id", "message": "Thiếu mặt sau" }
            ] }),
        )
        .await;
    let household = server.file(None, &filings()["household"]).await;

    let browser = Browser::start().await;
    let mut failures = Vec::new();

    // Citizens.
    visit(
        &browser,
        &base,
        "/",
        "a[href='/units/xuan-hoa']",
        &mut failures,
    )
    .await;
    visit(
        &browser,
        &base,
        "/units/xuan-hoa",
        "section.procedure",
        &mut failures,
    )
    .await;
    for code in ["1.001193", "1.001612"] {
        let path = format!("/units/xuan-hoa/procedures/{code}/file");
        visit(
            &browser,
            &base,
            &path,
            "form[enctype='multipart/form-data']",
            &mut failures,
        )
        .await;
        // With every finding shown at its field.
        browser.submit("form[enctype='multipart/form-data']").await;
        browser.wait_for("#errors").await;
        check(&browser, &format!("{path} with findings"), &mut failures).await;
    }
    visit(&browser, &base, "/track", "form.lookup", &mut failures).await;
    let tracking = format!("/track?code={}&secret={}", filed.code, filed.secret);
    visit(&browser, &base, &tracking, "form.supplement", &mut failures).await;
    visit(&browser, &base, "/sign-in", "form.sign-in", &mut failures).await;

    // A ward's officer.
    sign_in(&browser, &base, "xuan-hoa-officer", "demo-xuan-hoa-officer").await;
    check(&browser, "/staff", &mut failures).await;
    visit(&browser, &base, "/staff/inbox", "table", &mut failures).await;
    for code in [&filed.code, &household.code] {
        let path = format!("/staff/dossiers/{code}");
        visit(&browser, &base, &path, "#status", &mut failures).await;
    }
    visit(&browser, &base, "/staff/dashboard", "table", &mut failures).await;
    sign_out(&browser).await;

    // The ward's admin.
    sign_in(&browser, &base, "xuan-hoa-admin", "demo-xuan-hoa-admin").await;
    visit(
        &browser,
        &base,
        "/staff/units/xuan-hoa",
        "table",
        &mut failures,
    )
    .await;
    visit(
        &browser,
        &base,
        "/staff/units/xuan-hoa/procedures/1.001612/settings",
        "form",
        &mut failures,
    )
    .await;
    visit(
        &browser,
        &base,
        "/staff/units/xuan-hoa/accounts",
        "table.accounts",
        &mut failures,
    )
    .await;
    visit(
        &browser,
        &base,
        "/staff/units/xuan-hoa/accounts/password?id=xuan-hoa-officer",
        "form.password",
        &mut failures,
    )
    .await;
    sign_out(&browser).await;

    // Provincial IT and the province's admin.
    sign_in(
        &browser,
        &base,
        "phu-tho-publisher",
        "demo-phu-tho-publisher",
    )
    .await;
    visit(&browser, &base, "/staff/catalog", "table", &mut failures).await;
    visit(
        &browser,
        &base,
        "/staff/catalog/audit",
        "table",
        &mut failures,
    )
    .await;
    sign_out(&browser).await;
    sign_in(&browser, &base, "phu-tho-admin", "demo-phu-tho-admin").await;
    visit(&browser, &base, "/staff/dashboard", "svg", &mut failures).await;
    visit(&browser, &base, "/staff/unit", "main", &mut failures).await;

    assert!(
        failures.is_empty(),
        "accessibility problems:\n{}",
        failures.join("\n")
    );

    // The check itself sees what it looks for: a label removed, an id repeated.
    sign_out(&browser).await;
    browser.goto(&format!("{base}/sign-in")).await;
    browser.wait_for("form.sign-in").await;
    browser
        .execute(
            "document.querySelector('label[for=password]').remove();
             document.querySelector('#name').insertAdjacentHTML('afterend', '<span id=\"name\"></span>');",
            vec![],
        )
        .await;
    let mut planted = Vec::new();
    check(&browser, "/sign-in, damaged", &mut planted).await;
    let planted = planted.join("\n");
    assert!(
        planted.contains("unlabelled control <input id=\"password\""),
        "{planted}"
    );
    assert!(planted.contains("duplicate id name"), "{planted}");
    browser.close().await;
    server.finish().await;
}
