//! Staff accounts over HTTP, so admins manage their staff without shell access: a
//! unit's accounts, creating one (its token shown once, in the answer), revoking one.
//! The province's admins manage every unit of the province, a unit's admins their own
//! unit; every change is audited as at the command line.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState, authorize, body_bytes, parse_body, path_code};
use crate::accounts::{self, AccountState, AccountsError, NewAccount};
use crate::authz::Permission;
use crate::domain::Author;
use crate::store::{ActorRecord, Revocation};
use crate::workflow::WorkflowError;

fn account_json(account: &ActorRecord, state: &AppState) -> Value {
    json!({
        "id": account.id,
        "unit": account.unit,
        "role": account.role,
        "created_at": account.created_at,
        "expires_at": account.expires_at,
        "revoked_at": account.revoked_at,
        "state": AccountState::of(account, state.now()).as_str(),
    })
}

fn accounts_problem(error: AccountsError) -> ApiError {
    match error {
        AccountsError::Invalid(message) => WorkflowError::BadRequest(message).into(),
        AccountsError::NotFound(message) => ApiError::NotFound(message),
        AccountsError::Conflict(message) => {
            ApiError::Units(crate::units::UnitsError::Conflict(message))
        }
        AccountsError::Store(error) => WorkflowError::from(error).into(),
    }
}

/// A unit's accounts, never their tokens.
#[utoipa::path(
    get,
    path = "/api/v1/units/{unit}/accounts",
    tag = "units",
    params(("unit" = String, Path, description = "The unit's code", example = "xuan-hoa")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The unit's accounts", body = super::schemas::Accounts),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound,
    )
)]
pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(unit): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Permission::ManageAccounts, Some(&unit)).await?;
    let listed = accounts::list(&state.store, Some(&unit))
        .await
        .map_err(accounts_problem)?;
    let items: Vec<Value> = listed
        .iter()
        .map(|account| account_json(account, &state))
        .collect();
    Ok(Json(json!({ "unit": unit, "accounts": items })).into_response())
}

/// A new staff account of the unit.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewAccountBody {
    role: String,
    #[serde(default)]
    name: Option<String>,
    /// A date (valid through that day) or an RFC 3339 time.
    #[serde(default)]
    expires: Option<String>,
}

/// Creates an account: 201 with its token, shown this once and stored only as a hash.
#[utoipa::path(
    post,
    path = "/api/v1/units/{unit}/accounts",
    tag = "units",
    params(("unit" = String, Path, description = "The unit's code", example = "xuan-hoa")),
    request_body = NewAccountBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The account, with its token", body = super::schemas::AccountCreated),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Conflict, super::openapi::Unprocessable,
    )
)]
pub(super) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(unit): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let grant = authorize(&state, &headers, Permission::ManageAccounts, Some(&unit)).await?;
    let body: NewAccountBody = parse_body(&body_bytes(body)?)?;
    accounts::check_role_fits_unit(&state.store, &unit, &body.role)
        .await
        .map_err(accounts_problem)?;
    let account = NewAccount {
        unit: unit.clone(),
        role: body.role,
        name: body.name,
        expires: body.expires,
        password: None,
    };
    let (record, token) = accounts::create(
        &state.store,
        account,
        &Author::from(&grant.actor),
        state.now(),
    )
    .await
    .map_err(accounts_problem)?;
    let mut view = account_json(&record, &state);
    view["token"] = json!(token);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Revokes an account: its token is refused on every host from the next request.
/// Revoking twice answers 200 and changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{id}/revoke",
    tag = "units",
    params(("id" = String, Path, description = "The account's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account, revoked", body = super::schemas::AccountRevoked),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound,
    )
)]
pub(super) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let grant = authorize(&state, &headers, Permission::ManageAccounts, None).await?;
    let not_found = || ApiError::NotFound(format!("no account `{}`", id.escape_debug()));
    if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
        return Err(not_found());
    }
    let account = state
        .store
        .actor(&id)
        .await
        .map_err(WorkflowError::from)?
        .ok_or_else(not_found)?;
    path_code(&account.unit, "unit")?;
    let unit = state
        .store
        .unit(&account.unit)
        .await
        .map_err(WorkflowError::from)?
        .ok_or_else(not_found)?;
    if !grant.reach.covers(&unit) {
        return Err(WorkflowError::Forbidden(format!(
            "account `{id}` belongs to `{}`, outside your reach; only an admin of that unit or of its province revokes it",
            unit.code
        ))
        .into());
    }
    let revocation = accounts::revoke(&state.store, &id, &Author::from(&grant.actor), state.now())
        .await
        .map_err(accounts_problem)?;
    let (account, already) = match revocation {
        Revocation::Revoked(account) => (account, false),
        Revocation::AlreadyRevoked(account) => (account, true),
    };
    let mut view = account_json(&account, &state);
    view["already_revoked"] = json!(already);
    Ok(Json(view).into_response())
}
