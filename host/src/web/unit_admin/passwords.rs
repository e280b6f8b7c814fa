//! An admin sets a new console password for one of the unit's accounts (a member of
//! staff who forgot theirs): typed twice, or made up here and shown once. The account's
//! open sessions end (`sessions::set_password`), under the same rule as managing the
//! unit's accounts (`Permission::ManageAccounts`).

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::accounts::{account_of, no_store, page_error, role_label};
use super::admin_of;
use crate::accounts::AccountState;
use crate::api::AppState;
use crate::authz::Permission;
use crate::domain::Author;
use crate::sessions;
use crate::web::session::{Nav, Staff, encode_component};
use crate::web::{PageError, render};

#[derive(Template)]
#[template(path = "admin_password.html")]
struct PasswordPage {
    nav: Nav,
    csrf: String,
    unit_code: String,
    unit_name: String,
    id: String,
    role: &'static str,
    min_password: usize,
    error: Option<String>,
    /// The password the page made up, shown once.
    generated: Option<String>,
}

/// `GET /staff/units/{unit}/accounts/password?id=…`: the form.
pub(in crate::web) async fn password_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let unit = admin_of(&state, &staff, Permission::ManageAccounts, &code).await?;
    let id = query.get("id").cloned().unwrap_or_default();
    let account = account_of(&state, &unit, &id).await?;
    if AccountState::of(&account, state.now()) != AccountState::Active {
        return Err(PageError::bad_request(
            "Tài khoản này đã bị thu hồi hoặc hết hạn; hãy tạo tài khoản mới.",
        ));
    }
    Ok(render(&PasswordPage {
        nav: staff.nav("unit"),
        csrf: staff.csrf.clone(),
        unit_code: unit.code,
        unit_name: unit.name,
        role: role_label(&account.role),
        id: account.id,
        min_password: sessions::MIN_PASSWORD_CHARS,
        error: None,
        generated: None,
    }))
}

/// `POST /staff/units/{unit}/accounts/password`: the new password, or one made up.
pub(in crate::web) async fn set_password(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.check_form(&form)?;
    let unit = admin_of(&state, &staff, Permission::ManageAccounts, &code).await?;
    let id = form.get("id").cloned().unwrap_or_default();
    let account = account_of(&state, &unit, &id).await?;
    let password = form.get("password").cloned().unwrap_or_default();
    let again = form.get("password_again").cloned().unwrap_or_default();
    let page = |error: Option<String>, generated: Option<String>| PasswordPage {
        nav: staff.nav("unit"),
        csrf: staff.csrf.clone(),
        unit_code: unit.code.clone(),
        unit_name: unit.name.clone(),
        role: role_label(&account.role),
        id: account.id.clone(),
        min_password: sessions::MIN_PASSWORD_CHARS,
        error,
        generated,
    };
    if AccountState::of(&account, state.now()) != AccountState::Active {
        return Err(PageError::bad_request(
            "Tài khoản này đã bị thu hồi hoặc hết hạn; hãy tạo tài khoản mới.",
        ));
    }
    if password != again {
        let refused = page(
            Some("Hai lần nhập mật khẩu không giống nhau; hãy nhập lại.".into()),
            None,
        );
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&refused)).into_response());
    }
    let generated = password.is_empty().then(sessions::generate_password);
    let chosen = generated.clone().unwrap_or(password);
    match sessions::set_password(
        &state.store,
        &account.id,
        &chosen,
        &Author::from(&staff.actor),
        state.now(),
    )
    .await
    {
        Ok(()) if generated.is_some() => Ok(no_store(render(&page(None, generated)))),
        Ok(()) => Ok(Redirect::to(&format!(
            "/staff/units/{}/accounts?done=password&id={}",
            unit.code,
            encode_component(&account.id)
        ))
        .into_response()),
        Err(crate::accounts::AccountsError::Invalid(_)) => {
            let refused = page(
                Some(format!(
                    "Mật khẩu cần từ {} đến {} ký tự, không có ký tự điều khiển.",
                    sessions::MIN_PASSWORD_CHARS,
                    sessions::MAX_PASSWORD_CHARS
                )),
                None,
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&refused)).into_response())
        }
        Err(error) => Err(page_error(error)),
    }
}
