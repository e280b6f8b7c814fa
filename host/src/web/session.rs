//! Staff sign-in on the console (docs/decisions/0020-console-sign-in.md): the session
//! cookie, the `Staff` extractor every staff page takes, the CSRF checks of every form
//! (the session's token for staff, a double-submit cookie for citizens' forms), the
//! sign-in and sign-out pages, and the staff navigation.

use std::collections::HashMap;

#[allow(unused_imports)]
use super::lang::Words;
use super::lang::{tr, tr_owned};
use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use serde::Deserialize;

use super::{PageError, render};
use crate::api::AppState;
use crate::domain::{Actor, Role};
use crate::sessions::{self, Session, SignInError};
use crate::workflow::{Caller, WorkflowError};

pub const SESSION_COOKIE: &str = "motcua_session";
pub const CSRF_COOKIE: &str = "motcua_csrf";
/// The name of the hidden field every console form posts its CSRF token in.
pub const CSRF_FIELD: &str = "csrf";

pub(super) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_string())
}

/// Whether the browser reached us over TLS: a TLS-terminating proxy says so in
/// `X-Forwarded-Proto` (or `Forwarded: proto=https`). Believing a client that claims it
/// only makes its cookies stricter.
pub fn over_tls(headers: &HeaderMap) -> bool {
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("https")
        });
    let forwarded = headers
        .get(header::FORWARDED)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("proto=https"));
    forwarded_proto || forwarded
}

fn set_cookie(
    name: &'static str,
    value: String,
    secure: bool,
    max_age_seconds: i64,
) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("cookie values are hex")
}

/// A signed-in member of staff: what every staff page takes. A request without a
/// valid session is sent to the sign-in page, which brings them back after.
#[derive(Clone, Debug)]
pub struct Staff {
    pub actor: Actor,
    pub csrf: String,
    session: Session,
}

impl Staff {
    pub fn caller(&self) -> Caller {
        Caller::Staff(self.actor.clone())
    }

    /// Refuses a post whose CSRF token is not this session's.
    pub fn check_csrf(&self, posted: Option<&str>) -> Result<(), PageError> {
        if posted.is_some_and(|token| constant_time_eq(token.as_bytes(), self.csrf.as_bytes())) {
            Ok(())
        } else {
            Err(PageError::csrf())
        }
    }

    /// The same check for a form read into a map.
    pub fn check_form(&self, form: &HashMap<String, String>) -> Result<(), PageError> {
        self.check_csrf(form.get(CSRF_FIELD).map(String::as_str))
    }

    /// The navigation of staff pages, with `current` marked.
    pub fn nav(&self, current: &'static str) -> Nav {
        let role = self.actor.role;
        let mut links = Vec::new();
        if matches!(role, Role::Officer | Role::Specialist | Role::Leader) {
            links.push(("inbox", "/staff/inbox", "Hồ sơ"));
        }
        if role == Role::Admin {
            links.push(("unit", "/staff/unit", "Đơn vị"));
        }
        if role == Role::Publisher {
            links.push(("catalog", "/staff/catalog", "Danh mục thủ tục"));
        }
        links.push(("dashboard", "/staff/dashboard", "Chỉ số"));
        Nav {
            account: self.actor.id.clone(),
            role: role_name(role),
            unit: self.actor.unit.clone(),
            csrf: self.csrf.clone(),
            links: links
                .into_iter()
                .map(|(key, href, label)| NavLink {
                    href,
                    label,
                    current: key == current,
                })
                .collect(),
        }
    }
}

/// The staff pages' header: who is signed in, where they can go, signing out.
pub struct Nav {
    pub account: String,
    pub role: &'static str,
    pub unit: String,
    pub csrf: String,
    pub links: Vec<NavLink>,
}

pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Citizen => "Công dân",
        Role::Officer => "Cán bộ một cửa",
        Role::Specialist => "Chuyên viên",
        Role::Leader => "Lãnh đạo",
        Role::Admin => "Quản trị",
        Role::Publisher => "Quản trị thủ tục",
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn staff_from(parts: &Parts, state: &AppState) -> Result<Option<Staff>, PageError> {
    // The front door already looked up the session of a post to a staff page.
    let session = match parts.extensions.get::<Session>() {
        Some(session) => Some(session.clone()),
        None => session_of(state, &parts.headers).await?,
    };
    Ok(session.map(|session| Staff {
        actor: session.actor.clone(),
        csrf: session.csrf.clone(),
        session,
    }))
}

/// The live console session the request's cookie stands for, if any.
pub async fn session_of(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Session>, WorkflowError> {
    let Some(cookie) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(sessions::session(&state.store, &cookie, state.now()).await?)
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match staff_from(parts, state).await {
            Ok(Some(staff)) => Ok(staff),
            Ok(None) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|pq| pq.as_str())
                    .filter(|next| is_local_path(next))
                    .unwrap_or("/staff");
                let target = format!("/sign-in?next={}", encode_component(next));
                Err(Redirect::to(&target).into_response())
            }
            Err(error) => Err(error.into_response()),
        }
    }
}

impl OptionalFromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        staff_from(parts, state)
            .await
            .map_err(IntoResponse::into_response)
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters kept).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A path on this site (not `//elsewhere` or `https://…`): where sign-in may send back to.
///
/// Only visible ASCII: browsers drop tabs and line breaks from a `Location` before
/// reading it (`/<tab>/elsewhere` would become `//elsewhere`), and a line break makes the
/// header invalid. No backslash anywhere (some browsers read it as a slash).
pub(super) fn is_local_path(next: &str) -> bool {
    let bytes = next.as_bytes();
    bytes.first() == Some(&b'/')
        && bytes.get(1) != Some(&b'/')
        && bytes.iter().all(|b| b.is_ascii_graphic() && *b != b'\\')
}

// ---- citizens' forms: a double-submit cookie ------------------------------------------

/// The CSRF token of a citizen's (signed-out) form: the browser's `motcua_csrf` cookie,
/// or a new one with the header that sets it.
pub fn citizen_csrf(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match cookie_value(headers, CSRF_COOKIE)
        .filter(|token| token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        Some(token) => (token, None),
        None => {
            let token = sessions::random_hex(32);
            let header = set_cookie(CSRF_COOKIE, token.clone(), over_tls(headers), 86_400);
            (token, Some(header))
        }
    }
}

/// Refuses a citizen's post whose CSRF field does not match its cookie.
pub fn check_citizen_csrf(headers: &HeaderMap, posted: Option<&str>) -> Result<(), PageError> {
    match (cookie_value(headers, CSRF_COOKIE), posted) {
        (Some(cookie), Some(posted)) if constant_time_eq(cookie.as_bytes(), posted.as_bytes()) => {
            Ok(())
        }
        _ => Err(PageError::csrf()),
    }
}

/// A page with the citizen's CSRF cookie set when it was new.
pub fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

// ---- signing in and out -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    csrf: String,
    next: String,
    name: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct NextQuery {
    next: Option<String>,
}

fn next_or_home(next: Option<&str>) -> String {
    next.filter(|next| is_local_path(next))
        .unwrap_or("/staff")
        .to_string()
}

pub(super) async fn sign_in_form(
    staff: Option<Staff>,
    headers: HeaderMap,
    query: Result<Query<NextQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let next = next_or_home(query.as_ref().ok().and_then(|q| q.next.as_deref()));
    if staff.is_some() {
        return Redirect::to(&next).into_response();
    }
    let (csrf, cookie) = citizen_csrf(&headers);
    let page = SignInPage {
        csrf,
        next,
        name: String::new(),
        error: None,
    };
    with_cookie(render(&page), cookie)
}

pub(super) async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    check_citizen_csrf(&headers, form.get(CSRF_FIELD).map(String::as_str))?;
    let name = form.get("name").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let next = next_or_home(form.get("next").map(String::as_str));
    let refused = |status: StatusCode, message: String| {
        let (csrf, cookie) = citizen_csrf(&headers);
        let page = SignInPage {
            csrf,
            next: next.clone(),
            name: name.clone(),
            error: Some(message),
        };
        with_cookie((status, render(&page)).into_response(), cookie)
    };
    match sessions::sign_in(&state.store, &name, &password, state.now()).await {
        Ok(session) => {
            // Signing in again ends the browser's previous session, if it had one.
            if let Some(previous) = cookie_value(&headers, SESSION_COOKIE) {
                sessions::close_cookie(&state.store, &previous)
                    .await
                    .map_err(WorkflowError::from)?;
            }
            let mut response = Redirect::to(&next).into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(
                    SESSION_COOKIE,
                    session.cookie,
                    over_tls(&headers),
                    sessions::SESSION_HOURS * 3600,
                ),
            );
            Ok(response)
        }
        Err(SignInError::Refused) => Ok(refused(
            StatusCode::UNAUTHORIZED,
            tr(
                "Tên tài khoản hoặc mật khẩu không đúng.",
                "The account name or the password is wrong.",
            )
            .into(),
        )),
        Err(SignInError::Locked { until }) => Ok(refused(
            StatusCode::TOO_MANY_REQUESTS,
            tr_owned(
                format!(
                    "Đăng nhập sai quá nhiều lần. Tài khoản tạm khóa đến {}; hãy thử lại sau.",
                    until.format("%H:%M %d/%m/%Y")
                ),
                format!(
                    "Too many failed sign-ins. The account is locked until {}; try again later.",
                    until.format("%H:%M %d/%m/%Y")
                ),
            ),
        )),
        Err(SignInError::Inactive { id, .. }) => Ok(refused(
            StatusCode::FORBIDDEN,
            tr_owned(
                format!("Tài khoản {id} đã bị thu hồi hoặc hết hạn; liên hệ quản trị đơn vị."),
                format!("The account {id} was revoked or has expired; ask your unit's admin."),
            ),
        )),
        Err(SignInError::Store(error)) => Err(WorkflowError::from(error).into()),
    }
}

pub(super) async fn sign_out(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.check_form(&form)?;
    sessions::sign_out(&state.store, &staff.session)
        .await
        .map_err(WorkflowError::from)?;
    let mut response = Redirect::to("/sign-in").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, String::new(), over_tls(&headers), 0),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_paths_on_this_site_are_followed_after_sign_in() {
        for good in [
            "/staff",
            "/staff/inbox?status=4&sort=due",
            "/staff/dossiers/000.31.19.H43-261201-0001",
        ] {
            assert!(is_local_path(good), "{good}");
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n",
            "https://evil.example",
            "evil.example",
            "/ok/../\\x",
            "/ spaced",
            "",
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
        }
    }
}

#[derive(Template)]
#[template(path = "staff_home.html")]
struct StaffHome {
    nav: Nav,
}

/// Where a member of staff starts: the pages of their role.
pub(super) async fn staff_home(staff: Staff) -> Response {
    render(&StaffHome {
        nav: staff.nav("home"),
    })
}
