//! The processing report, the national indicators and their scoring table, as JSON or
//! CSV (`?format=csv`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, AppState, authorize, body_bytes, caller, parse_body, query};
use crate::authz::Permission;
use crate::domain::Actor;
use crate::reports::{self, Format, Period, ScoringInput, Viewer};
use crate::workflow::{Caller, WorkflowError};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ReportParams {
    /// The period's first day, YYYY-MM-DD (required).
    from: Option<String>,
    /// The period's last day, YYYY-MM-DD (required).
    to: Option<String>,
    /// One unit within the caller's reach; the caller's whole reach by default.
    unit: Option<String>,
    /// One procedure (the processing report only).
    procedure: Option<String>,
    /// `json` (the default) or `csv`.
    format: Option<String>,
}

/// The calling staff account and what it may see.
async fn viewer(state: &AppState, headers: &HeaderMap) -> Result<(Actor, Viewer), ApiError> {
    let Caller::Staff(actor) = caller(state, headers).await? else {
        return Err(WorkflowError::Unauthenticated.into());
    };
    let viewer = Viewer::of(&state.store, &actor).await?;
    Ok((actor, viewer))
}

fn csv_response(body: String, name: &str, period: &Period) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{name}-{}-{}.csv\"",
        period.from, period.to
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The processing-situation table for a period, per unit and procedure.
#[utoipa::path(
    get,
    path = "/api/v1/reports/processing",
    tag = "reports",
    params(ReportParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report", content(
            (crate::reports::processing::ProcessingReport = "application/json"),
            (super::schemas::Text = "text/csv; charset=utf-8"),
        ), headers(("Content-Disposition" = String, description = "The CSV's file name"))),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Unprocessable,
    )
)]
pub(super) async fn processing(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(params)?;
    let (_actor, viewer) = viewer(&state, &headers).await?;
    let format = Format::parse(params.format.as_deref())?;
    let period = Period::parse(params.from.as_deref(), params.to.as_deref(), state.now())?;
    let unit = viewer.scope(&state.store, params.unit.as_deref()).await?;
    let procedure = params.procedure.as_deref().filter(|code| !code.is_empty());
    let report = reports::processing::processing(
        &state.store,
        &state.runtime.calendar(),
        &period,
        unit.as_deref(),
        procedure,
    )
    .await?;
    Ok(match format {
        Format::Json => Json(report).into_response(),
        Format::Csv => csv_response(report.to_csv(), "processing", &period),
    })
}

/// The national indicators of each unit for a period, scored and ranked.
#[utoipa::path(
    get,
    path = "/api/v1/reports/indicators",
    tag = "reports",
    params(ReportParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The indicators", content(
            (crate::reports::indicators::IndicatorsReport = "application/json"),
            (super::schemas::Text = "text/csv; charset=utf-8"),
        ), headers(("Content-Disposition" = String, description = "The CSV's file name"))),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Unprocessable,
    )
)]
pub(super) async fn indicators(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(params)?;
    let (_actor, viewer) = viewer(&state, &headers).await?;
    if params
        .procedure
        .as_deref()
        .is_some_and(|code| !code.is_empty())
    {
        return Err(ApiError::BadQuery(
            "the indicators are per unit, for every procedure; leave out `procedure`".into(),
        ));
    }
    let format = Format::parse(params.format.as_deref())?;
    let period = Period::parse(params.from.as_deref(), params.to.as_deref(), state.now())?;
    let unit = viewer.scope(&state.store, params.unit.as_deref()).await?;
    let report = reports::indicators::indicators(
        &state.store,
        &state.runtime.calendar(),
        &period,
        unit.as_deref(),
    )
    .await?;
    Ok(match format {
        Format::Json => Json(report).into_response(),
        Format::Csv => csv_response(report.to_csv(), "indicators", &period),
    })
}

/// The scoring table: any staff member may read it.
#[utoipa::path(
    get,
    path = "/api/v1/reports/scoring",
    tag = "reports",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The scoring table", body = super::schemas::Scoring),
        super::openapi::Unauthorized, super::openapi::Forbidden,
    )
)]
pub(super) async fn scoring(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    viewer(&state, &headers).await?;
    let table = reports::indicators::scoring(&state.store).await?;
    let max: i64 = table.iter().map(|entry| entry.points).sum();
    Ok(Json(json!({ "indicators": table, "max_points": max })).into_response())
}

/// The whole scoring table: every indicator once.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ScoringBody {
    indicators: Vec<ScoringInput>,
}

/// Replaces the scoring table: the province's admins only.
#[utoipa::path(
    put,
    path = "/api/v1/reports/scoring",
    tag = "reports",
    request_body = ScoringBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The scoring table now", body = super::schemas::Scoring),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::Unprocessable,
    )
)]
pub(super) async fn set_scoring(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = authorize(&state, &headers, Permission::ManageScoring, None)
        .await?
        .actor;
    let body: ScoringBody = parse_body(&body_bytes(body)?)?;
    let table =
        reports::indicators::set_scoring(&state.store, &actor, &body.indicators, state.now())
            .await?;
    let max: i64 = table.iter().map(|entry| entry.points).sum();
    Ok(Json(json!({ "indicators": table, "max_points": max })).into_response())
}
