//! The unit admin's pages in a real headless Chromium, on a counter's screen: Xuân Hòa's
//! admin switches the business household procedure to the ward's local variant (which
//! the province published) and back, sets the procedure's settings through the form
//! generated from its settings schema (a value the schema refuses is shown at its field
//! and changes nothing), changes the ward's cut-off hour, creates an officer's account
//! that then signs in, sets it a new password (its open session ends), and revokes it,
//! which ends its session. Việt Trì's admin is refused Xuân Hòa's pages; the province's
//! admin reaches them from the list of the province's units. Every change is checked
//! through the JSON API.
//! Screenshots: `admin-unit`, `admin-settings`, `admin-accounts`, `admin-password`.

use motcua_e2e::browser::{Browser, sign_in, sign_out};
use motcua_e2e::{Backend, TestServer, plugin_bytes};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PUBLISHER: &str = "demo-phu-tho-publisher";
const ADMIN: &str = "demo-xuan-hoa-admin";
const HOUSEHOLD: &str = "1.001612";
/// The household procedure's row on the unit page.
const ROW: &str = "#p-1-001612";

/// What Xuân Hòa offers for the household procedure, as the public API says.
async fn household_offered(server: &TestServer) -> Value {
    let response = server.get("/api/v1/procedures?unit=xuan-hoa", None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body["procedures"]
        .as_array()
        .expect("procedures")
        .iter()
        .find(|p| p["binding"]["procedure"] == HOUSEHOLD)
        .cloned()
        .unwrap_or(Value::Null)
}

async fn checked(browser: &Browser, css: &str) -> bool {
    browser
        .execute(
            "return document.querySelector(arguments[0]).checked;",
            vec![json!(css)],
        )
        .await
        .as_bool()
        .expect("a checkbox")
}

async fn value(browser: &Browser, css: &str) -> String {
    browser
        .find(css)
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

/// The pages' screenshots, from the SQLite run (both runs show the same pages).
async fn screenshot(browser: &Browser, backend: Backend, name: &str) {
    if backend == Backend::Sqlite {
        browser.screenshot(name).await;
    }
}

/// A client that shows redirects instead of following them, with a browser's session.
async fn as_browser(browser: &Browser) -> (reqwest::Client, String) {
    let cookie = browser
        .client()
        .get_named_cookie("motcua_session")
        .await
        .expect("the session's cookie");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    (client, format!("motcua_session={}", cookie.value()))
}

async fn the_admin_switches_variants_and_sets_settings_and_cutoff(backend: Backend) {
    let server = TestServer::start(backend, "2026-12-01 09:00").await;
    let published = server
        .post_bytes(
            "/api/v1/plugins",
            PUBLISHER,
            plugin_bytes("business_household_onsite"),
        )
        .await;
    assert!(published.status.is_success(), "{}", published.body);
    assert_eq!(published.body["variant_of"], HOUSEHOLD);
    let variant = published.body["sha256"].as_str().unwrap().to_string();
    let default = household_offered(&server).await["build"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(default, variant);

    let browser = Browser::start().await;
    sign_in(&browser, &server.base, "xuan-hoa-admin", ADMIN).await;
    // The header's "Đơn vị" leads a ward's admin to their ward.
    browser.click("header nav a[href='/staff/unit']").await;
    browser.wait_for_text("h1", "Phường Xuân Hòa").await;
    assert!(
        browser
            .current_url()
            .await
            .ends_with("/staff/units/xuan-hoa"),
        "{}",
        browser.current_url().await
    );
    let row = browser.text(ROW).await;
    for expected in [
        "Đăng ký thành lập hộ kinh doanh",
        "Đang tiếp nhận",
        "Mặc định của tỉnh",
        &default[..12],
    ] {
        assert!(row.contains(expected), "{expected} not in {row}");
    }

    // To the local variant.
    browser
        .select(&format!("{ROW} select[name=variant]"), &variant)
        .await;
    browser.submit(&format!("{ROW} form.variant")).await;
    let done = browser
        .wait_for_text("#done", "phiên bản riêng của đơn vị")
        .await;
    assert!(done.contains(&variant[..12]), "{done}");
    assert!(
        browser
            .text(ROW)
            .await
            .contains("Phiên bản riêng của đơn vị"),
        "the row shows the variant in force"
    );
    let offered = household_offered(&server).await;
    assert_eq!(offered["build"]["sha256"], variant.as_str(), "{offered}");
    assert_eq!(offered["binding"]["source"], "variant");
    screenshot(&browser, backend, "admin-unit").await;

    // The variant's settings form: its own setting ticked by the plugin's default.
    browser.click(&format!("{ROW} a.settings-link")).await;
    browser.wait_for("form#settings").await;
    let form = browser.text("form#settings").await;
    for label in [
        "Lệ phí đăng ký (đồng)",
        "Miễn lệ phí cho hồ sơ nộp trực tuyến",
        "Phải xác minh tại địa điểm kinh doanh",
        "Để trống để dùng mặc định: 100.000",
    ] {
        assert!(form.contains(label), "{label} not in {form}");
    }
    assert!(checked(&browser, "[name='settings.site_visit_required']").await);
    assert!(!checked(&browser, "[name='settings.online_fee_exempt']").await);

    // A fee below zero: refused at its field, what was typed kept, nothing stored.
    browser
        .fill("[name='settings.registration_fee_vnd']", "-5")
        .await;
    browser.click("[name='settings.online_fee_exempt']").await;
    browser.submit("form#settings").await;
    let refused = browser
        .wait_for_text(
            "#settings-registration_fee_vnd-error",
            "phải lớn hơn hoặc bằng 0",
        )
        .await;
    assert!(refused.contains("0"), "{refused}");
    assert!(
        browser
            .text("#refusal-detail")
            .await
            .contains("settings.registration_fee_vnd is less than the minimum of 0")
    );
    assert_eq!(
        value(&browser, "[name='settings.registration_fee_vnd']").await,
        "-5"
    );
    assert!(checked(&browser, "[name='settings.online_fee_exempt']").await);
    assert_eq!(household_offered(&server).await["settings"], json!({}));
    screenshot(&browser, backend, "admin-settings").await;

    // Fixed: stored as typed, and the page says so.
    browser
        .fill("[name='settings.registration_fee_vnd']", "50000")
        .await;
    browser.submit("form#settings").await;
    browser.wait_for_text("#done", "Đã lưu cấu hình").await;
    assert_eq!(
        household_offered(&server).await["settings"],
        json!({ "registration_fee_vnd": 50000, "online_fee_exempt": true, "site_visit_required": true })
    );
    // Prefilled from what is stored.
    browser.click(&format!("{ROW} a.settings-link")).await;
    browser.wait_for("form#settings").await;
    assert_eq!(
        value(&browser, "[name='settings.registration_fee_vnd']").await,
        "50000"
    );
    browser
        .goto(&format!("{}/staff/units/xuan-hoa", server.base))
        .await;

    // Back to the province default: the setting only the variant has is dropped (the
    // default build refuses settings it does not know), the others kept.
    browser
        .select(&format!("{ROW} select[name=variant]"), "")
        .await;
    browser.submit(&format!("{ROW} form.variant")).await;
    let done = browser.wait_for_text("#done", "mặc định của tỉnh").await;
    assert!(done.contains("site_visit_required"), "{done}");
    let offered = household_offered(&server).await;
    assert_eq!(offered["build"]["sha256"], default.as_str(), "{offered}");
    assert_eq!(offered["binding"]["source"], "default");
    assert_eq!(
        offered["settings"],
        json!({ "registration_fee_vnd": 50000, "online_fee_exempt": true })
    );

    // Switched off and on again.
    browser.submit(&format!("{ROW} form.toggle")).await;
    browser.wait_for_text("#done", "Đã tắt thủ tục").await;
    assert_eq!(household_offered(&server).await, Value::Null);
    browser.submit(&format!("{ROW} form.toggle")).await;
    browser.wait_for_text("#done", "Đã bật thủ tục").await;
    assert_eq!(
        household_offered(&server).await["build"]["sha256"],
        default.as_str()
    );

    // The cut-off hour.
    assert_eq!(browser.text("#cutoff-now").await, "15:00");
    browser.fill("#cutoff", "16:30").await;
    browser.submit("form.cutoff").await;
    browser.wait_for_text("#done", "16:30").await;
    assert_eq!(browser.text("#cutoff-now").await, "16:30");
    let events = server
        .get("/api/v1/registry/events?limit=20", Some(ADMIN))
        .await;
    let cutoff = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["action"] == "set-cutoff")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(cutoff["unit"], "xuan-hoa", "{}", events.body);
    assert_eq!(cutoff["actor"]["id"], "xuan-hoa-admin");
    assert_eq!(cutoff["before"]["cutoff"], "15:00");
    assert_eq!(cutoff["after"]["cutoff"], "16:30");
    let unit = server.state.store.unit("xuan-hoa").await.unwrap().unwrap();
    assert_eq!(unit.cutoff, "16:30");

    browser.close().await;
    server.finish().await;
}

async fn the_admin_creates_and_revokes_an_account(backend: Backend) {
    let server = TestServer::start(backend, "2026-12-01 09:00").await;
    let admin = Browser::start().await;
    sign_in(&admin, &server.base, "xuan-hoa-admin", ADMIN).await;
    admin
        .goto(&format!("{}/staff/units/xuan-hoa/accounts", server.base))
        .await;
    admin.wait_for_text("h1", "Tài khoản cán bộ").await;
    let listed = admin.text("table.accounts").await;
    assert!(listed.contains("xuan-hoa-officer"), "{listed}");

    // Two passwords that differ: refused, the name kept.
    admin.select("#account-role", "officer").await;
    admin.fill("#account-name", "xuan-hoa-quay-2").await;
    admin.fill("#account-password", "mat-khau-quay-2026").await;
    admin
        .fill("#account-password-again", "mat-khau-quay-2025")
        .await;
    admin.submit("form.new-account").await;
    admin.wait_for_text("#refused", "không giống nhau").await;
    assert_eq!(value(&admin, "#account-name").await, "xuan-hoa-quay-2");

    admin.fill("#account-password", "mat-khau-quay-2026").await;
    admin
        .fill("#account-password-again", "mat-khau-quay-2026")
        .await;
    admin.submit("form.new-account").await;
    assert_eq!(
        admin.wait_for_text("#created-id", "xuan-hoa-quay-2").await,
        "xuan-hoa-quay-2"
    );
    assert!(
        admin.find_all("#created-password").await.is_empty(),
        "a password the admin typed is not shown back"
    );
    let row = admin.text("table.accounts").await;
    assert!(row.contains("xuan-hoa-quay-2"), "{row}");
    screenshot(&admin, backend, "admin-accounts").await;
    let listed = server
        .get("/api/v1/units/xuan-hoa/accounts", Some(ADMIN))
        .await;
    let account = listed.body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|account| account["id"] == "xuan-hoa-quay-2")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(account["role"], "officer", "{}", listed.body);
    assert_eq!(account["state"], "active");

    // The new officer signs in and sees their unit.
    let officer = Browser::start().await;
    sign_in(
        &officer,
        &server.base,
        "xuan-hoa-quay-2",
        "mat-khau-quay-2026",
    )
    .await;
    let who = officer.text("#signed-in-as").await;
    assert!(
        who.contains("Cán bộ một cửa") && who.contains("xuan-hoa"),
        "{who}"
    );

    // A forgotten password: the admin has one made up, shown once; the officer's open
    // session ends, and the new password signs in.
    admin.click("a.password[href$='id=xuan-hoa-quay-2']").await;
    admin
        .wait_for_text("h1", "Đặt mật khẩu mới cho xuan-hoa-quay-2")
        .await;
    admin.screenshot("admin-password").await;
    admin.submit("form.password").await;
    let generated = admin.wait_for_text("#new-password", "").await;
    assert_eq!(generated.chars().count(), 20, "{generated}");
    officer.goto(&format!("{}/staff", server.base)).await;
    officer.wait_for("form.sign-in").await;
    sign_in(&officer, &server.base, "xuan-hoa-quay-2", &generated).await;
    admin
        .goto(&format!("{}/staff/units/xuan-hoa/accounts", server.base))
        .await;

    // Revoked after the confirmation step: their next page is the sign-in page.
    admin.click("a.revoke[href$='id=xuan-hoa-quay-2']").await;
    admin
        .wait_for_text("h1", "Thu hồi tài khoản xuan-hoa-quay-2?")
        .await;
    assert_eq!(
        server
            .get("/api/v1/units/xuan-hoa/accounts", Some(ADMIN))
            .await
            .body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|account| account["id"] == "xuan-hoa-quay-2")
            .unwrap()["state"],
        "active",
        "the confirmation step changes nothing"
    );
    admin.submit("form.revoke").await;
    admin
        .wait_for_text("#done", "Đã thu hồi tài khoản xuan-hoa-quay-2")
        .await;
    assert!(admin.text("table.accounts").await.contains("Đã thu hồi"));
    officer.goto(&format!("{}/staff", server.base)).await;
    officer.wait_for("form.sign-in").await;
    assert!(
        officer.current_url().await.contains("/sign-in"),
        "{}",
        officer.current_url().await
    );
    let revoked = server
        .get("/api/v1/units/xuan-hoa/accounts", Some(ADMIN))
        .await;
    assert!(
        revoked.body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|account| account["id"] == "xuan-hoa-quay-2" && account["state"] == "revoked"),
        "{}",
        revoked.body
    );
    admin.close().await;

    // Việt Trì's admin: refused Xuân Hòa's pages, whatever they send.
    sign_in(
        &officer,
        &server.base,
        "viet-tri-admin",
        "demo-viet-tri-admin",
    )
    .await;
    officer
        .goto(&format!("{}/staff/units/xuan-hoa", server.base))
        .await;
    officer.wait_for_text("h1", "Không có quyền").await;
    let refusal = officer.text("main").await;
    assert!(
        !refusal.contains("Giờ chốt") && !refusal.contains("Đăng ký thành lập hộ kinh doanh"),
        "{refusal}"
    );
    officer
        .goto(&format!("{}/staff/units/viet-tri", server.base))
        .await;
    officer.wait_for_text("h1", "Phường Việt Trì").await;
    let csrf = value(&officer, "form.cutoff input[name=csrf]").await;
    let (client, cookie) = as_browser(&officer).await;
    let page = client
        .get(format!("{}/staff/units/xuan-hoa/accounts", server.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let posted = client
        .post(format!("{}/staff/units/xuan-hoa/cutoff", server.base))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("cutoff", "07:00")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::FORBIDDEN);
    // Their own unit, without the form's token: refused too.
    let forged = client
        .post(format!("{}/staff/units/viet-tri/cutoff", server.base))
        .header("cookie", &cookie)
        .form(&[("cutoff", "07:00")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    for unit in ["xuan-hoa", "viet-tri"] {
        let stored = server.state.store.unit(unit).await.unwrap().unwrap();
        assert_eq!(stored.cutoff, "15:00", "{unit}");
    }
    sign_out(&officer).await;

    // The province's admin chooses among the province's units, Xuân Hòa included.
    sign_in(
        &officer,
        &server.base,
        "phu-tho-admin",
        "demo-phu-tho-admin",
    )
    .await;
    officer.click("header nav a[href='/staff/unit']").await;
    officer.wait_for_text("h1", "Các đơn vị của tỉnh").await;
    let units = officer.text("main table").await;
    for unit in ["Phường Xuân Hòa", "Phường Việt Trì"] {
        assert!(units.contains(unit), "{unit} not in {units}");
    }
    officer.click("a[href='/staff/units/xuan-hoa']").await;
    officer.wait_for_text("h1", "Phường Xuân Hòa").await;
    assert!(
        officer
            .text("table.admin-procedures")
            .await
            .contains("Đăng ký thành lập hộ kinh doanh")
    );
    officer.close().await;
    server.finish().await;
}

motcua_e2e::on_both_backends!(
    the_admin_switches_variants_and_sets_settings_and_cutoff,
    the_admin_creates_and_revokes_an_account,
);
