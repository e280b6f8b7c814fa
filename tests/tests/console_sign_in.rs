//! Staff sign-in on the console, over HTTP as a browser speaks it and in a real
//! Chromium: the session cookie's attributes, CSRF on the sign-in form and on signing
//! out, one answer for a wrong password and an unknown account, the lock after repeated
//! failures (which even the right password does not pass) and its end, staying on the
//! site after sign-in, and a revoked account signed out at once.

use motcua_e2e::browser::{self, Browser};
use motcua_e2e::{Backend, TestServer, on_both_backends};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap().to_string())
        .collect()
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, value)| value.to_string())
        .expect("name=value")
}

/// The sign-in page's CSRF cookie and the token its form carries.
async fn sign_in_form(server: &TestServer) -> (String, String) {
    let response = client()
        .get(format!("{}/sign-in", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = set_cookies(&response)
        .into_iter()
        .find(|c| c.starts_with("motcua_csrf="))
        .expect("the sign-in page sets the CSRF cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let html = response.text().await.unwrap();
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries a CSRF token")
        .to_string();
    assert_eq!(token, cookie_value(&cookie));
    (format!("motcua_csrf={token}"), token)
}

async fn post_sign_in(
    server: &TestServer,
    csrf: &(String, String),
    fields: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.1.as_str())];
    form.extend_from_slice(fields);
    let mut request = client()
        .post(format!("{}/sign-in", server.base))
        .header(COOKIE, &csrf.0)
        .form(&form);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

async fn staff_page(server: &TestServer, session: &str) -> reqwest::Response {
    client()
        .get(format!("{}/staff", server.base))
        .header(COOKIE, format!("motcua_session={session}"))
        .send()
        .await
        .unwrap()
}

async fn signing_in_over_http(backend: Backend) {
    let server = TestServer::start(backend, "2026-12-01 09:00").await;
    let csrf = sign_in_form(&server).await;

    // Signed out, a staff page sends to sign-in and back.
    let response = client()
        .get(format!("{}/staff?tab=1", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()[LOCATION],
        "/sign-in?next=%2Fstaff%3Ftab%3D1"
    );

    // Without the CSRF token: refused, no session.
    let response = client()
        .post(format!("{}/sign-in", server.base))
        .header(COOKIE, &csrf.0)
        .form(&[
            ("name", "xuan-hoa-officer"),
            ("password", "demo-xuan-hoa-officer"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        set_cookies(&response)
            .iter()
            .all(|c| !c.starts_with("motcua_session="))
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Biểu mẫu không hợp lệ")
    );

    // The right password: a session cookie, HttpOnly and SameSite, not Secure over
    // plain HTTP; back to where the person was going.
    let response = post_sign_in(
        &server,
        &csrf,
        &[
            ("name", "xuan-hoa-officer"),
            ("password", "demo-xuan-hoa-officer"),
            ("next", "/staff?tab=1"),
        ],
        &[],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/staff?tab=1");
    let cookie = set_cookies(&response)
        .into_iter()
        .find(|c| c.starts_with("motcua_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    let session = cookie_value(&cookie);
    let page = staff_page(&server, &session).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("xuan-hoa-officer"));

    // Behind a TLS-terminating proxy the cookie is Secure; an address elsewhere is not
    // followed after sign-in.
    let response = post_sign_in(
        &server,
        &csrf,
        &[
            ("name", "xuan-hoa-leader"),
            ("password", "demo-xuan-hoa-leader"),
            ("next", "//evil.example/phish"),
        ],
        &[("x-forwarded-proto", "https")],
    )
    .await;
    assert_eq!(response.headers()[LOCATION], "/staff");
    let tab = post_sign_in(
        &server,
        &csrf,
        &[
            ("name", "xuan-hoa-specialist"),
            ("password", "demo-xuan-hoa-specialist"),
            ("next", "/\t/evil.example"),
        ],
        &[],
    )
    .await;
    assert_eq!(tab.headers()[LOCATION], "/staff");
    let secure = set_cookies(&response)
        .into_iter()
        .find(|c| c.starts_with("motcua_session="))
        .unwrap();
    assert!(secure.contains("Secure"), "{secure}");

    // A wrong password and an unknown account get the same answer.
    let wrong = post_sign_in(
        &server,
        &csrf,
        &[
            ("name", "viet-tri-officer"),
            ("password", "not the password"),
        ],
        &[],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let unknown = post_sign_in(
        &server,
        &csrf,
        &[("name", "nobody-here"), ("password", "not the password")],
        &[],
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let (wrong, unknown) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    assert!(wrong.contains("Tên tài khoản hoặc mật khẩu không đúng."));
    assert!(unknown.contains("Tên tài khoản hoặc mật khẩu không đúng."));

    // Three more failures make five: locked, and the right password does not pass.
    for _ in 0..3 {
        let response = post_sign_in(
            &server,
            &csrf,
            &[("name", "viet-tri-officer"), ("password", "still wrong!")],
            &[],
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let fifth = post_sign_in(
        &server,
        &csrf,
        &[("name", "viet-tri-officer"), ("password", "still wrong!")],
        &[],
    )
    .await;
    assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(fifth.text().await.unwrap().contains("tạm khóa đến 09:01"));
    let right_but_locked = post_sign_in(
        &server,
        &csrf,
        &[
            ("name", "viet-tri-officer"),
            ("password", "demo-viet-tri-officer"),
        ],
        &[],
    )
    .await;
    assert_eq!(right_but_locked.status(), StatusCode::TOO_MANY_REQUESTS);
    // A name no account has is counted and locked the same way: the lock tells nothing.
    for attempt in 1..=5 {
        let response = post_sign_in(
            &server,
            &csrf,
            &[("name", "nobody-here"), ("password", "guess")],
            &[],
        )
        .await;
        let expected = if attempt < 4 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(
            response.status(),
            expected,
            "attempt {attempt} on an unknown name"
        );
    }
    // Once the lock has passed, the right password signs in and the count starts over.
    server.set_time("2026-12-01 09:02");
    let after = post_sign_in(
        &server,
        &csrf,
        &[
            ("name", "viet-tri-officer"),
            ("password", "demo-viet-tri-officer"),
        ],
        &[],
    )
    .await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    let wrong_again = post_sign_in(
        &server,
        &csrf,
        &[
            ("name", "viet-tri-officer"),
            ("password", "wrong once more"),
        ],
        &[],
    )
    .await;
    assert_eq!(wrong_again.status(), StatusCode::UNAUTHORIZED);

    // Signing out needs the session's CSRF token; then the cookie is dead.
    let no_token = client()
        .post(format!("{}/staff/sign-out", server.base))
        .header(COOKIE, format!("motcua_session={session}"))
        .form(&[("csrf", "0".repeat(64))])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    assert_eq!(staff_page(&server, &session).await.status(), StatusCode::OK);
    let html = staff_page(&server, &session).await.text().await.unwrap();
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let out = client()
        .post(format!("{}/staff/sign-out", server.base))
        .header(COOKIE, format!("motcua_session={session}"))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        staff_page(&server, &session).await.status(),
        StatusCode::SEE_OTHER
    );
    // Without a session, the front door lets no body through to a staff page: the
    // person is sent to sign in again.
    let anonymous = client()
        .post(format!("{}/staff/sign-out", server.base))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()[LOCATION], "/sign-in");

    // A revoked account's session ends at once.
    let response = post_sign_in(
        &server,
        &csrf,
        &[
            ("name", "thanh-ba-officer"),
            ("password", "demo-thanh-ba-officer"),
        ],
        &[],
    )
    .await;
    let thanh_ba = cookie_value(
        &set_cookies(&response)
            .into_iter()
            .find(|c| c.starts_with("motcua_session="))
            .unwrap(),
    );
    assert_eq!(
        staff_page(&server, &thanh_ba).await.status(),
        StatusCode::OK
    );
    let revoked = server
        .post(
            "/api/v1/accounts/thanh-ba-officer/revoke",
            Some("demo-thanh-ba-admin"),
            &json!({}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(
        staff_page(&server, &thanh_ba).await.status(),
        StatusCode::SEE_OTHER
    );
    server.finish().await;
}

on_both_backends!(signing_in_over_http);

/// In a real browser: sign in, land on the staff home, sign out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_and_out_in_a_browser() {
    let server = TestServer::start(Backend::Sqlite, "2026-12-01 09:00").await;
    let browser = Browser::start().await;
    browser.goto(&format!("{}/staff", server.base)).await;
    browser.wait_for("form.sign-in").await;
    browser.fill("#name", "xuan-hoa-officer").await;
    browser.fill("#password", "wrong password").await;
    browser.submit("form.sign-in").await;
    browser
        .wait_for_text("#sign-in-error", "Tên tài khoản hoặc mật khẩu không đúng")
        .await;
    browser.screenshot("sign-in-refused").await;
    browser::sign_in(
        &browser,
        &server.base,
        "xuan-hoa-officer",
        "demo-xuan-hoa-officer",
    )
    .await;
    let header = browser.text("#signed-in-as").await;
    assert!(header.contains("Cán bộ một cửa"), "{header}");
    browser.screenshot("staff-home").await;
    browser::sign_out(&browser).await;
    browser.goto(&format!("{}/staff", server.base)).await;
    browser.wait_for("form.sign-in").await;
    browser.close().await;
    server.finish().await;
}
