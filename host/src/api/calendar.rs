//! The holiday calendar: the province's admins load a year's table as CSV; anyone
//! reads what is loaded and which years are missing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState, authorize, body_bytes, query};
use crate::authz::Permission;
use crate::calendar::table::YEARS;
use crate::workflow::WorkflowError;
use crate::workflow::calendar::Loader;

/// A year in a path: a number within the years a table may be for.
fn path_year(text: &str) -> Option<i32> {
    text.parse::<i32>().ok().filter(|year| YEARS.contains(year))
}

/// Tables come as CSV; a JSON or form body is a client mistake worth naming.
fn csv_body(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let media = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if matches!(media.as_str(), "text/csv" | "text/plain") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "send the year's table as `Content-Type: text/csv` (rows `date,kind,name`), not `{media}`"
        )))
    }
}

/// Loads a year's holiday table (CSV, rows `date,kind,name`): checked, audited, in
/// force at once, provisional due dates recomputed. The province's admins only.
#[utoipa::path(
    put,
    path = "/api/v1/calendar/{year}",
    tag = "calendar",
    params(("year" = String, Path, description = "The year, 1900 to 2200", example = "2026")),
    request_body(content = super::schemas::Text, content_type = "text/csv", description = "The year's table: a header `date,kind,name`, then one row a day"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Loaded (`changed` false: the year already had this table)", body = super::schemas::CalendarLoaded),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::UnsupportedMediaType, super::openapi::Unprocessable,
    )
)]
pub(super) async fn put_year(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(year): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = authorize(&state, &headers, Permission::ManageCalendar, None)
        .await?
        .actor;
    let Some(year) = path_year(&year) else {
        return Err(WorkflowError::BadRequest(format!(
            "`{}` is not a year between {} and {}; PUT the table at /api/v1/calendar/YYYY",
            year.escape_debug(),
            YEARS.start(),
            YEARS.end()
        ))
        .into());
    };
    csv_body(&headers)?;
    let bytes = body_bytes(body)?;
    let loader = Loader {
        id: actor.id.clone(),
        role: actor.role.as_str().into(),
    };
    let loaded = state.load_calendar(&bytes, year, &loader).await?;
    let recomputed: Vec<Value> = loaded
        .recomputed
        .changed
        .iter()
        .map(|(code, before, after)| json!({ "code": code, "before": before, "after": after }))
        .collect();
    Ok(Json(json!({
        "year": loaded.year,
        "days": loaded.days,
        "sha256": loaded.sha256,
        "changed": loaded.changed,
        "before": loaded.before.map(|(sha256, days)| json!({ "sha256": sha256, "days": days })),
        "recomputed": recomputed,
    }))
    .into_response())
}

/// The years loaded, and this year and next when they are missing.
#[utoipa::path(
    get,
    path = "/api/v1/calendar",
    tag = "calendar",
    responses((status = 200, description = "The loaded years", body = super::schemas::CalendarYears))
)]
pub(super) async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let years = state
        .store
        .calendar_years()
        .await
        .map_err(WorkflowError::from)?;
    let loaded: Vec<i32> = years.iter().map(|year| year.year).collect();
    let missing = crate::calendar::missing_years(&loaded, state.now().date());
    let items: Vec<Value> = years
        .iter()
        .map(|year| {
            json!({
                "year": year.year,
                "days": year.days,
                "sha256": year.sha256,
                "loaded_at": year.loaded_at,
                "loaded_by": year.loaded_by,
            })
        })
        .collect();
    Ok(Json(json!({ "years": items, "missing_years": missing })).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct YearParams {
    /// `json` (the default) or `csv`.
    format: Option<String>,
}

/// One year's table, as JSON or as its canonical CSV.
#[utoipa::path(
    get,
    path = "/api/v1/calendar/{year}",
    tag = "calendar",
    params(("year" = String, Path, description = "The year, 1900 to 2200", example = "2026"), YearParams),
    responses(
        (status = 200, description = "The year's table", content(
            (super::schemas::CalendarTable = "application/json"),
            (super::schemas::Text = "text/csv; charset=utf-8"),
        )),
        super::openapi::BadRequest, super::openapi::NotFound,
    )
)]
pub(super) async fn get_year(
    State(state): State<AppState>,
    Path(year_text): Path<String>,
    params: Result<Query<YearParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(params)?;
    let csv = match params.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::BadQuery(format!(
                "format `{}` is not known; use `json` or `csv`",
                other.escape_debug()
            )));
        }
    };
    let not_loaded = |year: &str| {
        ApiError::NotFound(format!(
            "no holiday table is loaded for {year}; load one with PUT /api/v1/calendar/{year} or `motcua calendar import`"
        ))
    };
    let Some(year) = path_year(&year_text) else {
        return Err(not_loaded(&year_text.escape_debug().to_string()));
    };
    let Some((loaded, table)) = state
        .calendar_table(year)
        .await
        .map_err(WorkflowError::from)?
    else {
        return Err(not_loaded(&year.to_string()));
    };
    if csv {
        // The canonical form: its sha256 is the table's `sha256`.
        let mut response = table.canonical_csv().into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        return Ok(response);
    }
    let days: Vec<Value> = table
        .days
        .iter()
        .map(|day| {
            json!({
                "date": day.date.format("%Y-%m-%d").to_string(),
                "kind": day.kind.as_str(),
                "name": day.name,
            })
        })
        .collect();
    Ok(Json(json!({
        "year": loaded.year,
        "sha256": loaded.sha256,
        "loaded_at": loaded.loaded_at,
        "loaded_by": loaded.loaded_by,
        "days": days,
    }))
    .into_response())
}
