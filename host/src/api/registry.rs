//! The plugin registry: publishing, the catalog, rollouts, rollbacks, unit
//! configuration and the registry's audit.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState, authorize, body_bytes, parse_body, path_code, query};
use crate::authz::{Permission, Reach};
use crate::registry::{RegistryError, Scope, UnitChange};
use crate::runtime::PluginBuild;
use crate::store::EventScope;
use crate::workflow::WorkflowError;

pub(super) fn build_view(build: &PluginBuild) -> Value {
    json!({
        "sha256": build.sha256,
        "plugin": build.info.code,
        "procedure": build.info.procedure_code(),
        "variant_of": build.info.variant_of,
        "version": build.info.plugin_version,
        "contract": build.contract().version(),
        "name": build.info.name,
        "size": build.size,
    })
}

/// Publishes a plugin component: checked (compiled, linked, described, validated),
/// stored, audited. Provincial IT's publishers.
#[utoipa::path(
    post,
    path = "/api/v1/plugins",
    tag = "registry",
    request_body(content = super::schemas::Binary, content_type = "application/octet-stream", description = "The component's bytes (any `Content-Type`; `application/wasm` says what it is)"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "A new build", body = super::schemas::Published),
        (status = 200, description = "The same bytes were already published", body = super::schemas::Published),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::Conflict, super::openapi::PayloadTooLarge, super::openapi::Unprocessable,
    )
)]
pub(super) async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = authorize(&state, &headers, Permission::Publish, None)
        .await?
        .actor;
    let bytes = body_bytes(body)?;
    let at = crate::clock::format_civil(state.now());
    let (build, created) = state.registry.publish(bytes.to_vec(), &actor, &at).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut view = build_view(&build);
    view["created"] = json!(created);
    Ok((status, Json(view)).into_response())
}

/// The catalog: every published build, who published it when, the province defaults.
#[utoipa::path(
    get,
    path = "/api/v1/plugins",
    tag = "registry",
    responses((status = 200, description = "The catalog", body = super::schemas::Catalog))
)]
pub(super) async fn plugins(State(state): State<AppState>) -> Result<Response, ApiError> {
    // The catalog comes from the compiled builds in memory; the store adds only who
    // published what and when (never the bytes).
    let published = state
        .store
        .publications()
        .await
        .map_err(WorkflowError::from)?;
    let items: Vec<Value> = published
        .iter()
        .filter_map(|(sha, by, at)| {
            let build = state.registry.build(sha)?;
            let mut view = build_view(&build);
            view["published_by"] = json!(by);
            view["published_at"] = json!(at);
            view["province_default"] = json!(
                state
                    .registry
                    .default_build(build.info.procedure_code())
                    .as_deref()
                    == Some(sha.as_str())
            );
            Some(view)
        })
        .collect();
    Ok(Json(json!({ "plugins": items })).into_response())
}

/// A version of a procedure's plugin to put in force: at pilot units, or at all.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RolloutBody {
    procedure: String,
    version: String,
    /// A list of unit codes, or "all".
    #[schema(value_type = RolloutUnits)]
    units: Value,
}

/// The units of a rollout: a list of unit codes, or "all".
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)] // Describes `RolloutBody::units`, read as JSON.
#[serde(untagged)]
pub(super) enum RolloutUnits {
    Pilot(Vec<String>),
    All(AllUnits),
}

/// Every unit of the procedure's level.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(rename_all = "lowercase")]
pub(super) enum AllUnits {
    All,
}

/// Puts a published version in force at pilot units or at every unit of its level.
#[utoipa::path(
    post,
    path = "/api/v1/rollouts",
    tag = "registry",
    request_body = RolloutBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The rollout", body = super::schemas::RolloutCreated),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Conflict, super::openapi::Unprocessable,
    )
)]
pub(super) async fn rollout(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = authorize(&state, &headers, Permission::Publish, None)
        .await?
        .actor;
    let body: RolloutBody = parse_body(&body_bytes(body)?)?;
    crate::workflow::check_text("procedure", &body.procedure, false)?;
    crate::workflow::check_text("version", &body.version, false)?;
    let scope = match &body.units {
        Value::String(all) if all == "all" => Scope::All,
        Value::Array(units) => Scope::Pilot(
            units
                .iter()
                .map(|unit| unit.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    ApiError::BadJson("`units` must be \"all\" or a list of unit codes".into())
                })?,
        ),
        _ => {
            return Err(ApiError::BadJson(
                "`units` must be \"all\" or a list of unit codes".into(),
            ));
        }
    };
    let at = crate::clock::format_civil(state.now());
    let id = state
        .registry
        .rollout(&body.procedure, &body.version, scope, &actor, &at)
        .await?;
    let record = state
        .store
        .rollouts(&body.procedure)
        .await
        .map_err(WorkflowError::from)?
        .into_iter()
        .find(|r| r.id == id);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "rollout": id, "units": record.map(|r| r.units) })),
    )
        .into_response())
}

/// The procedure whose latest rollout to undo.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RollbackBody {
    procedure: String,
}

/// Undoes the latest rollout of a procedure (of the caller's province).
#[utoipa::path(
    post,
    path = "/api/v1/rollouts/rollback",
    tag = "registry",
    request_body = RollbackBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The rollout undone", body = super::schemas::RolledBack),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Conflict, super::openapi::Unprocessable,
    )
)]
pub(super) async fn rollback(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = authorize(&state, &headers, Permission::Publish, None)
        .await?
        .actor;
    let body: RollbackBody = parse_body(&body_bytes(body)?)?;
    crate::workflow::check_text("procedure", &body.procedure, false)?;
    let at = crate::clock::format_civil(state.now());
    let undone = state
        .registry
        .rollback(&body.procedure, None, &actor, &at)
        .await?;
    Ok(Json(json!({
        "rolled_back": undone.id,
        "build": undone.build_sha256,
        "scope": undone.scope,
        "units": undone.units,
    }))
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct RolloutsParams {
    /// The procedure's code.
    #[param(example = "1.001193")]
    procedure: String,
}

/// A procedure's rollouts, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/rollouts",
    tag = "registry",
    params(RolloutsParams),
    responses(
        (status = 200, description = "The rollouts", body = super::schemas::Rollouts),
        super::openapi::BadRequest, super::openapi::Unprocessable,
    )
)]
pub(super) async fn rollouts(
    State(state): State<AppState>,
    params: Result<Query<RolloutsParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(params)?;
    crate::workflow::check_text("procedure", &params.procedure, false)?;
    let records = state
        .store
        .rollouts(&params.procedure)
        .await
        .map_err(WorkflowError::from)?;
    let items: Vec<Value> = records
        .iter()
        .map(|r| json!({ "id": r.id, "build": r.build_sha256, "scope": r.scope, "units": r.units, "by": r.actor_id, "at": r.at, "rolled_back_at": r.rolled_back_at }))
        .collect();
    Ok(Json(json!({ "procedure": params.procedure, "rollouts": items })).into_response())
}

/// What to change in a unit's binding of a procedure; what is left out stays.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UnitProcedureBody {
    #[serde(default)]
    enabled: Option<bool>,
    /// A variant's version (or sha256), or null to go back to the province default.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    variant: Option<Option<String>>,
    /// The unit's settings, checked against the plugin's settings schema.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    settings: Option<Value>,
}

/// Tells a missing field (leave alone) from an explicit null (clear).
pub(super) fn double_option<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// Enables or disables a procedure at a unit, picks a local variant (or the province
/// default back), sets the unit's settings. The unit's admins.
#[utoipa::path(
    put,
    path = "/api/v1/units/{unit}/procedures/{code}",
    tag = "registry",
    params(("unit" = String, Path, description = "The unit's code", example = "xuan-hoa"), ("code" = String, Path, description = "The procedure's code", example = "1.001193")),
    request_body = UnitProcedureBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The unit's binding now", body = super::schemas::UnitProcedure),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Conflict, super::openapi::PayloadTooLarge,
        super::openapi::Unprocessable,
    )
)]
pub(super) async fn configure_unit_procedure(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((unit, code)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = authorize(&state, &headers, Permission::ConfigureUnit, Some(&unit))
        .await?
        .actor;
    path_code(&code, "procedure")?;
    let body: UnitProcedureBody = parse_body(&body_bytes(body)?)?;
    if body
        .settings
        .as_ref()
        .is_some_and(|settings| !settings.is_object())
    {
        return Err(
            RegistryError::InvalidSettings(vec!["settings must be a JSON object".into()]).into(),
        );
    }
    let change = UnitChange {
        enabled: body.enabled,
        variant: body.variant,
        settings: body.settings,
    };
    let at = crate::clock::format_civil(state.now());
    let binding = state
        .registry
        .configure_unit(&unit, &code, change, &actor, &at)
        .await?;
    let build = state.registry.build(&binding.build_sha256);
    Ok(Json(json!({
        "unit": unit,
        "procedure": code,
        "enabled": binding.enabled,
        "source": binding.source,
        "build": build.as_ref().map(|build| build_view(build)),
        "settings": serde_json::from_str::<Value>(&binding.settings_json).unwrap_or(Value::Null),
    }))
    .into_response())
}

/// The unit's own settings.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UnitSettingsBody {
    /// The hour after which dossiers count from the next working day, "HH:MM".
    cutoff: String,
}

/// Sets the unit's cut-off hour. The unit's admins.
#[utoipa::path(
    put,
    path = "/api/v1/units/{unit}/settings",
    tag = "registry",
    params(("unit" = String, Path, description = "The unit's code", example = "xuan-hoa")),
    request_body = UnitSettingsBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The unit's cut-off now", body = super::schemas::Cutoff),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Unprocessable,
    )
)]
pub(super) async fn configure_unit_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(unit): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = authorize(&state, &headers, Permission::ConfigureUnit, Some(&unit))
        .await?
        .actor;
    let body: UnitSettingsBody = parse_body(&body_bytes(body)?)?;
    let at = crate::clock::format_civil(state.now());
    let cutoff =
        crate::registry::set_cutoff(&state.store, &unit, &body.cutoff, &actor, &at).await?;
    Ok(Json(json!({ "unit": unit, "cutoff": cutoff })).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EventsParams {
    /// The newest this many events, 1 to 1000 (100 by default; others are clamped).
    limit: Option<i64>,
}

/// The registry's audit: the province's to its publishers and admins, a unit's own to
/// the unit's.
#[utoipa::path(
    get,
    path = "/api/v1/registry/events",
    tag = "registry",
    params(EventsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The newest events first", body = super::schemas::RegistryEvents),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden,
    )
)]
pub(super) async fn registry_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<EventsParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(params)?;
    // The province's publishers and admins read the province's audit; a unit's
    // publishers and admins read their own unit's events only.
    let grant = authorize(&state, &headers, Permission::ReadRegistryAudit, None).await?;
    let scope = match grant.reach {
        Reach::Province(code) => EventScope::Province(code),
        Reach::Unit(code) => EventScope::Unit(code),
    };
    let limit = params.limit.unwrap_or(100).clamp(1, 1000);
    let events = state
        .store
        .registry_events(&scope, limit)
        .await
        .map_err(WorkflowError::from)?;
    let items: Vec<Value> = events
        .iter()
        .map(|e| json!({ "at": e.at, "actor": { "id": e.actor_id, "role": e.actor_role }, "action": e.action,
                          "procedure": e.procedure_code, "unit": e.unit, "before": e.before, "after": e.after }))
        .collect();
    Ok(Json(json!({ "events": items })).into_response())
}
