//! Units: the public list, one unit, and creating or changing one (the province's admins).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, AppState, authorize, body_bytes, parse_body, path_code};
use crate::authz::Permission;
use crate::domain::Author;
use crate::units::{Outcome, UnitInput, put_unit, unit_view};
use crate::workflow::WorkflowError;

/// Every unit: code, name, kind, agency e-ID and parent. Public, like the procedures
/// each unit offers.
#[utoipa::path(
    get,
    path = "/api/v1/units",
    tag = "units",
    responses((status = 200, description = "Every unit", body = super::schemas::Units))
)]
pub(super) async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let units = state.store.units().await.map_err(WorkflowError::from)?;
    let items: Vec<_> = units.iter().map(unit_view).collect();
    Ok(Json(json!({ "units": items })).into_response())
}

/// One unit.
#[utoipa::path(
    get,
    path = "/api/v1/units/{unit}",
    tag = "units",
    params(("unit" = String, Path, description = "The unit's code", example = "xuan-hoa")),
    responses(
        (status = 200, description = "The unit", body = super::schemas::Unit),
        super::openapi::BadRequest, super::openapi::NotFound,
    )
)]
pub(super) async fn get(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    path_code(&code, "unit")?;
    let unit = state
        .store
        .unit(&code)
        .await
        .map_err(WorkflowError::from)?
        .ok_or_else(|| ApiError::NotFound(format!("unit `{code}` does not exist")))?;
    Ok(Json(unit_view(&unit)).into_response())
}

/// Missing fields are reported by the units service with the others, field by field.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UnitBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    agency_id: Option<String>,
    /// The province's code; null or absent for the province itself.
    #[serde(default)]
    parent: Option<String>,
}

/// Creates (201) or changes (200) a unit; the same data again is 200 `unchanged` and
/// writes nothing.
#[utoipa::path(
    put,
    path = "/api/v1/units/{unit}",
    tag = "units",
    params(("unit" = String, Path, description = "The unit's code", example = "xuan-hoa")),
    request_body = UnitBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = super::schemas::UnitWritten),
        (status = 200, description = "Updated, or unchanged", body = super::schemas::UnitWritten),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::Conflict, super::openapi::Unprocessable,
    )
)]
pub(super) async fn put(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = authorize(&state, &headers, Permission::ManageUnits, None)
        .await?
        .actor;
    let body: UnitBody = parse_body(&body_bytes(body)?)?;
    let input = UnitInput {
        line: None,
        code: code.trim().to_string(),
        name: body.name.unwrap_or_default().trim().to_string(),
        kind: body.kind.unwrap_or_default().trim().to_string(),
        agency_id: body.agency_id.unwrap_or_default().trim().to_string(),
        parent: body.parent.unwrap_or_default().trim().to_string(),
    };
    let at = crate::clock::format_civil(state.now());
    let (unit, outcome) = put_unit(&state.store, input, &Author::from(&actor), &at).await?;
    if outcome != Outcome::Unchanged {
        // This host serves the new unit's bindings at once; other hosts pick them up
        // with their periodic refresh.
        state.registry.refresh().await?;
    }
    let status = match outcome {
        Outcome::Created => StatusCode::CREATED,
        Outcome::Updated | Outcome::Unchanged => StatusCode::OK,
    };
    let mut view = unit_view(&unit);
    view["outcome"] = json!(outcome.as_str());
    Ok((status, Json(view)).into_response())
}
