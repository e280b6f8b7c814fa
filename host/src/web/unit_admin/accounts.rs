//! A unit's staff accounts on the console: the list with each account's state, a new
//! account with a role, a name, an optional expiry and a password (shown once when the
//! page made it up), and revoking one after a confirmation step. The same functions and
//! the same rule as `GET|POST /api/v1/units/{unit}/accounts` and
//! `POST /api/v1/accounts/{id}/revoke` (`Permission::ManageAccounts`).

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::{admin_of, civil_text};
use crate::accounts::{self, AccountState, AccountsError, NewAccount};
use crate::api::AppState;
use crate::authz::Permission;
use crate::domain::{Author, Role, UnitKind};
use crate::sessions;
use crate::store::{ActorRecord, Unit};
use crate::web::session::{Nav, Staff, encode_component, role_name};
use crate::web::{PageError, render};
use crate::workflow::WorkflowError;

#[derive(Template)]
#[template(path = "admin_accounts.html")]
struct AccountsPage {
    nav: Nav,
    csrf: String,
    unit_code: String,
    unit_name: String,
    accounts: Vec<AccountRow>,
    /// (value, label, selected)
    roles: Vec<(String, &'static str, bool)>,
    /// What was typed into the new account's form (never the password).
    name: String,
    expires: String,
    error: Option<Refusal>,
    created: Option<Created>,
    done: Option<String>,
    min_password: usize,
}

struct AccountRow {
    id: String,
    role: &'static str,
    created: String,
    expires: String,
    state: &'static str,
    /// `active`, `expired` or `revoked`: a class for the state's colour (the text says it).
    state_key: &'static str,
    revoke_href: Option<String>,
    password_href: Option<String>,
}

struct Refusal {
    text: String,
    detail: String,
}

/// A new account, shown once.
struct Created {
    id: String,
    role: &'static str,
    expires: String,
    /// The password the page made up; `None` when the admin typed one.
    password: Option<String>,
}

fn state_name(state: AccountState) -> &'static str {
    match state {
        AccountState::Active => "Đang hoạt động",
        AccountState::Expired => "Đã hết hạn",
        AccountState::Revoked => "Đã thu hồi",
    }
}

pub(super) fn role_label(role: &str) -> &'static str {
    Role::parse(role).map_or("Không rõ", role_name)
}

/// The roles an account of `unit` may take: publishers belong to the province.
fn roles_for(unit: &Unit, selected: &str) -> Vec<(String, &'static str, bool)> {
    let mut roles = vec![Role::Officer, Role::Specialist, Role::Leader, Role::Admin];
    if unit.kind == UnitKind::Province {
        roles.push(Role::Publisher);
    }
    roles
        .into_iter()
        .map(|role| {
            (
                role.as_str().to_string(),
                role_name(role),
                role.as_str() == selected,
            )
        })
        .collect()
}

async fn accounts_of(state: &AppState, unit: &Unit) -> Result<Vec<AccountRow>, PageError> {
    let now = state.now();
    let listed = accounts::list(&state.store, Some(&unit.code))
        .await
        .map_err(page_error)?;
    Ok(listed
        .iter()
        .map(|account| {
            let account_state = AccountState::of(account, now);
            AccountRow {
                id: account.id.clone(),
                role: role_label(&account.role),
                created: civil_text(&account.created_at),
                expires: account
                    .expires_at
                    .as_deref()
                    .map_or_else(|| "Không hết hạn".to_string(), civil_text),
                state: state_name(account_state),
                state_key: account_state.as_str(),
                revoke_href: (account_state != AccountState::Revoked).then(|| {
                    format!(
                        "/staff/units/{}/accounts/revoke?id={}",
                        unit.code,
                        encode_component(&account.id)
                    )
                }),
                password_href: (account_state == AccountState::Active).then(|| {
                    format!(
                        "/staff/units/{}/accounts/password?id={}",
                        unit.code,
                        encode_component(&account.id)
                    )
                }),
            }
        })
        .collect())
}

pub(super) fn page_error(error: AccountsError) -> PageError {
    match error {
        AccountsError::NotFound(message) => PageError::not_found(message),
        AccountsError::Invalid(message) | AccountsError::Conflict(message) => {
            PageError::bad_request(message)
        }
        AccountsError::Store(error) => WorkflowError::from(error).into(),
    }
}

async fn accounts_view(
    state: &AppState,
    staff: &Staff,
    unit: &Unit,
) -> Result<AccountsPage, PageError> {
    Ok(AccountsPage {
        nav: staff.nav("unit"),
        csrf: staff.csrf.clone(),
        unit_code: unit.code.clone(),
        unit_name: unit.name.clone(),
        accounts: accounts_of(state, unit).await?,
        roles: roles_for(unit, Role::Officer.as_str()),
        name: String::new(),
        expires: String::new(),
        error: None,
        created: None,
        done: None,
        min_password: sessions::MIN_PASSWORD_CHARS,
    })
}

/// `GET /staff/units/{unit}/accounts`.
pub(in crate::web) async fn accounts_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let unit = admin_of(&state, &staff, Permission::ManageAccounts, &code).await?;
    let mut page = accounts_view(&state, &staff, &unit).await?;
    if query.get("done").map(String::as_str) == Some("revoked")
        && let Some(id) = query.get("id")
        && let Some(row) = page.accounts.iter().find(|row| &row.id == id)
        && row.state_key == AccountState::Revoked.as_str()
    {
        page.done = Some(format!(
            "Đã thu hồi tài khoản {id}: tài khoản không đăng nhập được nữa và mọi phiên đăng nhập của nó đã kết thúc."
        ));
    }
    if query.get("done").map(String::as_str) == Some("password")
        && let Some(id) = query.get("id")
        && page.accounts.iter().any(|row| &row.id == id)
    {
        page.done = Some(format!(
            "Đã đặt mật khẩu mới cho tài khoản {id}; các phiên đăng nhập cũ của tài khoản đã kết thúc."
        ));
    }
    Ok(render(&page))
}

/// An account error as the admin reads it: what to change, in Vietnamese, then the
/// host's own words.
fn refusal(error: &AccountsError) -> Refusal {
    let detail = error.to_string();
    let text = match error {
        AccountsError::Conflict(_) => "Tên tài khoản này đã có; hãy chọn tên khác.".to_string(),
        AccountsError::Invalid(message) if message.starts_with("a password") => format!(
            "Mật khẩu phải có từ {} đến {} ký tự và không có ký tự điều khiển.",
            sessions::MIN_PASSWORD_CHARS,
            sessions::MAX_PASSWORD_CHARS
        ),
        AccountsError::Invalid(message) if message.starts_with("the account name") => {
            "Tên tài khoản dài tối đa 128 byte, không có dấu cách.".to_string()
        }
        AccountsError::Invalid(message) if message.starts_with("the expiry") => {
            "Ngày hết hạn phải sau hôm nay.".to_string()
        }
        AccountsError::Invalid(message) if message.starts_with("publishers") => {
            "Quản trị thủ tục là tài khoản của tỉnh, không thuộc đơn vị này.".to_string()
        }
        AccountsError::Invalid(message) if message.starts_with("unknown role") => {
            "Hãy chọn một vai trò trong danh sách.".to_string()
        }
        _ => "Chưa tạo được tài khoản.".to_string(),
    };
    Refusal { text, detail }
}

pub(super) fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /staff/units/{unit}/accounts`: `accounts::create` with a password (hashed with
/// argon2id there). An empty password is made up here and shown once; a refusal keeps
/// what was typed but the password.
pub(in crate::web) async fn create_account(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.check_form(&form)?;
    let unit = admin_of(&state, &staff, Permission::ManageAccounts, &code).await?;
    let field = |name: &str| {
        form.get(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let (role, name, expires) = (field("role"), field("name"), field("expires"));
    let password = form.get("password").cloned().unwrap_or_default();
    let again = form.get("password_again").cloned().unwrap_or_default();
    let refused = |status: StatusCode, refusal: Refusal, mut page: AccountsPage| {
        page.roles = roles_for(&unit, &role);
        page.name = name.clone();
        page.expires = expires.clone();
        page.error = Some(refusal);
        no_store((status, render(&page)).into_response())
    };
    if password != again {
        let page = accounts_view(&state, &staff, &unit).await?;
        return Ok(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            Refusal {
                text: "Hai lần nhập mật khẩu không giống nhau; hãy nhập lại.".into(),
                detail: "the passwords differ".into(),
            },
            page,
        ));
    }
    let generated = password.is_empty().then(sessions::generate_password);
    let created = async {
        accounts::check_role_fits_unit(&state.store, &unit.code, &role).await?;
        let account = NewAccount {
            unit: unit.code.clone(),
            role: role.clone(),
            name: (!name.is_empty()).then(|| name.clone()),
            expires: (!expires.is_empty()).then(|| expires.clone()),
            password: Some(generated.clone().unwrap_or(password)),
        };
        accounts::create(
            &state.store,
            account,
            &Author::from(&staff.actor),
            state.now(),
        )
        .await
    }
    .await;
    let mut page = accounts_view(&state, &staff, &unit).await?;
    match created {
        Ok((record, _token)) => {
            // The account's API token is not shown: people sign in with the password;
            // a machine's token comes from the API or `motcua token create`.
            page.created = Some(Created {
                role: role_label(&record.role),
                expires: record
                    .expires_at
                    .as_deref()
                    .map_or_else(|| "Không hết hạn".to_string(), civil_text),
                id: record.id,
                password: generated,
            });
            Ok(no_store(
                (StatusCode::CREATED, render(&page)).into_response(),
            ))
        }
        Err(AccountsError::Store(error)) => Err(WorkflowError::from(error).into()),
        Err(error) => {
            let status = match error {
                AccountsError::Conflict(_) => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            Ok(refused(status, refusal(&error), page))
        }
    }
}

#[derive(Template)]
#[template(path = "admin_revoke.html")]
struct RevokePage {
    nav: Nav,
    csrf: String,
    unit_code: String,
    unit_name: String,
    id: String,
    role: &'static str,
    yourself: bool,
}

/// The account `id` of `unit`, or 404: a page revokes only the accounts of the unit it
/// shows (so the unit's rule covers the account, as the API checks).
pub(super) async fn account_of(
    state: &AppState,
    unit: &Unit,
    id: &str,
) -> Result<ActorRecord, PageError> {
    let not_found = || PageError::not_found("Đơn vị không có tài khoản này.");
    if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
        return Err(not_found());
    }
    state
        .store
        .actor(id)
        .await
        .map_err(WorkflowError::from)?
        .filter(|account| account.unit == unit.code)
        .ok_or_else(not_found)
}

/// `GET /staff/units/{unit}/accounts/revoke?id=…`: the confirmation step.
pub(in crate::web) async fn revoke_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let unit = admin_of(&state, &staff, Permission::ManageAccounts, &code).await?;
    let id = query.get("id").cloned().unwrap_or_default();
    let account = account_of(&state, &unit, &id).await?;
    if AccountState::of(&account, state.now()) == AccountState::Revoked {
        return Ok(Redirect::to(&format!("/staff/units/{}/accounts", unit.code)).into_response());
    }
    Ok(render(&RevokePage {
        nav: staff.nav("unit"),
        csrf: staff.csrf.clone(),
        unit_code: unit.code.clone(),
        unit_name: unit.name.clone(),
        yourself: account.id == staff.actor.id,
        role: role_label(&account.role),
        id: account.id,
    }))
}

/// `POST /staff/units/{unit}/accounts/revoke`: `accounts::revoke`; the account's
/// sessions end with it (a session is checked against its account on every request).
pub(in crate::web) async fn revoke(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.check_form(&form)?;
    let unit = admin_of(&state, &staff, Permission::ManageAccounts, &code).await?;
    let id = form.get("id").cloned().unwrap_or_default();
    let account = account_of(&state, &unit, &id).await?;
    // Revoking twice changes nothing, as through the API.
    accounts::revoke(
        &state.store,
        &account.id,
        &Author::from(&staff.actor),
        state.now(),
    )
    .await
    .map_err(page_error)?;
    Ok(Redirect::to(&format!(
        "/staff/units/{}/accounts?done=revoked&id={}",
        unit.code,
        encode_component(&account.id)
    ))
    .into_response())
}
