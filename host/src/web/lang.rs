//! The citizen portal's language: Vietnamese first, English on request
//! (docs/decisions/0019-web-console.md). The choice is a cookie (`motcua_lang`) set by
//! `GET /lang/{vi|en}`, which sends the person back where they were. A request's
//! language is held for the handler and its templates in a task-local, so the words
//! are chosen where they are written (`tr("…", "…")` in code, `self.tr("…", "…")` in a
//! template) without threading a parameter through every function.
//!
//! Only the portal's own words change. What a procedure's plugin publishes (its name,
//! its form's titles, its findings) is shown as published, in Vietnamese, and the staff
//! pages are Vietnamese only: the language applies to the citizens' pages.

use axum::extract::{Path, Query, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use serde::Deserialize;

use super::session::{cookie_value, encode_component, is_local_path, over_tls};

pub const LANG_COOKIE: &str = "motcua_lang";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    fn parse(text: &str) -> Option<Lang> {
        match text {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// What a citizen page knows about its request: the language and its own address
/// (for the link that switches language and comes back).
#[derive(Clone, Debug)]
struct Context {
    lang: Lang,
    here: String,
}

tokio::task_local! {
    static CONTEXT: Context;
}

/// The language of the request being answered (Vietnamese outside a citizen page).
pub fn current() -> Lang {
    CONTEXT.try_with(|context| context.lang).unwrap_or(Lang::Vi)
}

/// The words for the request's language.
pub fn tr(vi: &'static str, en: &'static str) -> &'static str {
    match current() {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// The same choice for words made at run time.
pub fn tr_owned(vi: String, en: String) -> String {
    match current() {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// What templates call: `self.tr("…", "…")`, `self.lang()`, `self.switch_href()`.
pub trait Words {
    fn tr(&self, vi: &'static str, en: &'static str) -> &'static str {
        tr(vi, en)
    }

    fn lang(&self) -> &'static str {
        current().code()
    }

    /// The link to the other language, coming back to this page.
    fn switch_href(&self) -> String {
        let other = match current() {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        };
        let here = CONTEXT
            .try_with(|context| context.here.clone())
            .unwrap_or_else(|_| "/".into());
        format!("/lang/{}?back={}", other.code(), encode_component(&here))
    }
}

impl<T> Words for T {}

/// Runs a citizen page with the language its cookie chose.
pub async fn layer(request: Request, next: Next) -> Response {
    let lang = cookie_value(request.headers(), LANG_COOKIE)
        .and_then(|value| Lang::parse(&value))
        .unwrap_or(Lang::Vi);
    let here = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string());
    CONTEXT
        .scope(Context { lang, here }, next.run(request))
        .await
}

#[derive(Deserialize)]
pub(super) struct Back {
    back: Option<String>,
}

/// `GET /lang/{vi|en}?back=…`: remembers the choice for a year and goes back.
pub(super) async fn switch(
    Path(code): Path<String>,
    headers: axum::http::HeaderMap,
    query: Result<Query<Back>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let back = query
        .ok()
        .and_then(|Query(back)| back.back)
        .filter(|back| is_local_path(back))
        .unwrap_or_else(|| "/".into());
    let Some(lang) = Lang::parse(&code) else {
        return Redirect::to(&back).into_response();
    };
    let cookie = Cookie::build((LANG_COOKIE, lang.code()))
        .path("/")
        .same_site(SameSite::Lax)
        .secure(over_tls(&headers))
        .max_age(cookie::time::Duration::days(365))
        .build();
    let mut response = Redirect::to(&back).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
