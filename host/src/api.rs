//! The HTTP API: the only part of motcua that knows HTTP and JSON.
//!
//! Every error is an RFC 9457 problem (`application/problem+json`); internal
//! failures are logged in full and answered without internals.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit::{EventRecord, verify_chain};
use crate::domain::{Actor, Applicant, Channel, Document, Role, Status};
use crate::registry::{RegistryError, Scope, UnitChange};
use crate::runtime::{PluginBuild, RuntimeError, sha256_hex};
use crate::store::{DossierRecord, InboxQuery};
use crate::workflow::{ActionRequest, Caller, FileRequest, Workflow, WorkflowError};

pub type AppState = Arc<Workflow>;

/// Bodies of plugin uploads may be this large; the registry's own cap (smaller, and
/// configurable) answers with a precise problem.
const MAX_UPLOAD_BYTES: usize = 32 << 20;

pub use axum::Router;

/// Serves a router on a listener (used by tests that start the server in-process).
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(listener, router).await
}

/// The whole API as a router; tests drive it over a real socket or with `oneshot`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/dossiers", post(file_dossier))
        .route("/api/v1/dossiers/{code}", get(get_dossier))
        .route("/api/v1/dossiers/{code}/actions", post(act))
        .route("/api/v1/dossiers/{code}/audit", get(audit))
        .route("/api/v1/units/{unit}/dossiers", get(inbox))
        .route("/api/v1/track/{code}", get(track))
        .route("/api/v1/procedures", get(procedures))
        .route(
            "/api/v1/plugins",
            post(publish)
                .get(plugins)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/api/v1/rollouts", post(rollout).get(rollouts))
        .route("/api/v1/rollouts/rollback", post(rollback))
        .route(
            "/api/v1/units/{unit}/procedures/{code}",
            put(configure_unit_procedure),
        )
        .route(
            "/api/v1/units/{unit}/settings",
            put(configure_unit_settings),
        )
        .route("/api/v1/registry/events", get(registry_events))
        .fallback(|| async {
            ApiError::NotFound("no such endpoint; see README.md for the API".into())
        })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state)
}

// ---- errors -------------------------------------------------------------------------

#[derive(Debug)]
pub enum ApiError {
    BadJson(String),
    BodyTooLarge(String),
    MethodNotAllowed,
    BadQuery(String),
    InvalidToken,
    NotFound(String),
    Workflow(WorkflowError),
    Registry(RegistryError),
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        ApiError::Registry(error)
    }
}

impl From<WorkflowError> for ApiError {
    fn from(error: WorkflowError) -> Self {
        ApiError::Workflow(error)
    }
}

fn problem(status: StatusCode, slug: &str, title: &str, detail: String, extra: Value) -> Response {
    let mut body = json!({
        "type": format!("urn:motcua:problem:{slug}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        use StatusCode as S;
        let none = Value::Null;
        match self {
            ApiError::BadJson(detail) => problem(
                S::BAD_REQUEST,
                "malformed-json",
                "Malformed JSON body",
                detail,
                none,
            ),
            ApiError::BodyTooLarge(detail) => problem(
                S::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "Body too large",
                detail,
                none,
            ),
            ApiError::MethodNotAllowed => problem(
                S::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "this endpoint does not accept that method; see README.md for the API".into(),
                none,
            ),
            ApiError::BadQuery(detail) => problem(
                S::BAD_REQUEST,
                "bad-query",
                "Bad query parameter",
                detail,
                none,
            ),
            ApiError::InvalidToken => problem(
                S::UNAUTHORIZED,
                "invalid-token",
                "Invalid token",
                "the bearer token is not known; create one with `motcua token create`".into(),
                none,
            ),
            ApiError::NotFound(detail) => {
                problem(S::NOT_FOUND, "not-found", "Not found", detail, none)
            }
            ApiError::Workflow(error) => workflow_problem(error),
            ApiError::Registry(error) => registry_problem(error),
        }
    }
}

fn workflow_problem(error: WorkflowError) -> Response {
    use StatusCode as S;
    let detail = error.to_string();
    let none = Value::Null;
    match error {
        WorkflowError::BadRequest(_) => problem(
            S::UNPROCESSABLE_ENTITY,
            "invalid-request",
            "Invalid request",
            detail,
            none,
        ),
        WorkflowError::UnknownUnit(unit) => problem(
            S::UNPROCESSABLE_ENTITY,
            "unknown-unit",
            "Unknown unit",
            detail,
            json!({ "unit": unit }),
        ),
        WorkflowError::UnknownProcedure { procedure, unit } => problem(
            S::UNPROCESSABLE_ENTITY,
            "unknown-procedure",
            "Unknown procedure",
            detail,
            json!({ "procedure": procedure, "unit": unit }),
        ),
        WorkflowError::Findings(findings) => problem(
            S::UNPROCESSABLE_ENTITY,
            "findings",
            "The dossier is incomplete or invalid",
            detail,
            json!({ "findings": findings }),
        ),
        WorkflowError::DossierNotFound(_) => problem(
            S::NOT_FOUND,
            "dossier-not-found",
            "Dossier not found",
            detail,
            none,
        ),
        WorkflowError::Unauthenticated => problem(
            S::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
            detail,
            none,
        ),
        WorkflowError::Forbidden(_) => {
            problem(S::FORBIDDEN, "forbidden", "Forbidden", detail, none)
        }
        WorkflowError::VersionRequired => problem(
            S::PRECONDITION_REQUIRED,
            "version-required",
            "If-Match required",
            detail,
            none,
        ),
        WorkflowError::StaleVersion { current, .. } => problem(
            S::CONFLICT,
            "stale-version",
            "The dossier has changed",
            detail,
            json!({ "current_version": current }),
        ),
        WorkflowError::ActionNotAvailable { action, step } => problem(
            S::UNPROCESSABLE_ENTITY,
            "action-not-available",
            "Action not available",
            detail,
            json!({ "action": action, "step": step }),
        ),
        WorkflowError::Refused(refusal) => problem(
            S::UNPROCESSABLE_ENTITY,
            "refused",
            "The procedure's rules refused the action",
            detail,
            json!({ "code": refusal.code, "reason": refusal.message }),
        ),
        WorkflowError::DecisionRejected(_) => problem(
            S::UNPROCESSABLE_ENTITY,
            "decision-rejected",
            "Decision rejected by the host",
            detail,
            none,
        ),
        WorkflowError::Plugin(error) => plugin_problem(error),
        WorkflowError::Store(error) => {
            tracing::error!(%error, "store failure");
            problem(
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "an internal error occurred; it has been logged".into(),
                none,
            )
        }
    }
}

fn registry_problem(error: RegistryError) -> Response {
    use StatusCode as S;
    let detail = error.to_string();
    match error {
        RegistryError::TooLarge { .. } => problem(
            S::PAYLOAD_TOO_LARGE,
            "plugin-too-large",
            "Plugin too large",
            detail,
            Value::Null,
        ),
        RegistryError::VersionClash(_) => problem(
            S::CONFLICT,
            "version-clash",
            "Version already published",
            detail,
            Value::Null,
        ),
        RegistryError::NotFound(_) => {
            problem(S::NOT_FOUND, "not-found", "Not found", detail, Value::Null)
        }
        RegistryError::Invalid(_) => problem(
            S::UNPROCESSABLE_ENTITY,
            "invalid-request",
            "Invalid request",
            detail,
            Value::Null,
        ),
        RegistryError::InvalidSettings(errors) => problem(
            S::UNPROCESSABLE_ENTITY,
            "invalid-settings",
            "Settings do not fit the plugin's schema",
            detail,
            json!({ "errors": errors }),
        ),
        // Whatever the component did wrong while being checked, the publisher sent it.
        RegistryError::Plugin(error) => problem(
            S::UNPROCESSABLE_ENTITY,
            "component-rejected",
            "Component rejected",
            error.to_string(),
            Value::Null,
        ),
        RegistryError::Store(error) => workflow_problem(WorkflowError::Store(error)),
    }
}

fn plugin_problem(error: RuntimeError) -> Response {
    use StatusCode as S;
    let detail = error.to_string();
    tracing::warn!(%error, "plugin call failed");
    match error {
        RuntimeError::Busy => {
            let mut response = problem(S::SERVICE_UNAVAILABLE, "busy", "Busy", detail, Value::Null);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        RuntimeError::InputTooLarge { .. } => problem(
            S::PAYLOAD_TOO_LARGE,
            "input-too-large",
            "Input too large",
            detail,
            Value::Null,
        ),
        RuntimeError::InvalidComponent(_) => problem(
            S::UNPROCESSABLE_ENTITY,
            "invalid-component",
            "Invalid component",
            detail,
            Value::Null,
        ),
        RuntimeError::Timeout { plugin, .. }
        | RuntimeError::MemoryExceeded { plugin, .. }
        | RuntimeError::Trapped { plugin, .. }
        | RuntimeError::Malformed { plugin, .. }
        | RuntimeError::OutputTooLarge { plugin, .. } => problem(
            S::BAD_GATEWAY,
            "plugin-failed",
            "The procedure plugin failed",
            detail,
            json!({ "plugin": plugin }),
        ),
    }
}

// ---- helpers ----------------------------------------------------------------------------

/// The request body, or a problem when it could not be read (too large, cut short).
fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::BodyTooLarge(format!(
            "{rejection}; requests may carry 2 MiB, plugin uploads 32 MiB"
        )),
        _ => ApiError::BadJson(rejection.body_text()),
    })
}

/// Query parameters, or a problem naming what is wrong with them.
fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(value)| value)
        .map_err(|rejection| ApiError::BadQuery(rejection.body_text()))
}

/// Codes of dossiers and units are short and printable; anything else cannot exist.
fn path_code(value: &str, what: &str) -> Result<(), ApiError> {
    let fine = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if fine {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "no {what} `{}`",
            value.escape_debug()
        )))
    }
}

fn parse_body<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|error| ApiError::BadJson(format!("the request body is not valid: {error}")))
}

async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(ApiError::InvalidToken)?;
        let record = state
            .store
            .actor_by_token_hash(&sha256_hex(token.trim().as_bytes()))
            .await
            .map_err(WorkflowError::from)?
            .ok_or(ApiError::InvalidToken)?;
        let role = Role::parse(&record.role).ok_or(ApiError::InvalidToken)?;
        return Ok(Caller::Staff(Actor {
            id: record.id,
            role,
            unit: record.unit,
        }));
    }
    if let Some(secret) = headers
        .get("x-tracking-secret")
        .and_then(|value| value.to_str().ok())
    {
        return Ok(Caller::Citizen {
            secret: secret.trim().to_string(),
        });
    }
    Ok(Caller::Anonymous)
}

#[derive(Serialize)]
struct StatusView {
    code: i64,
    name: &'static str,
}

fn status_view(status: Status) -> StatusView {
    StatusView {
        code: status.code(),
        name: status.as_str(),
    }
}

fn event_view(event: &EventRecord) -> Value {
    json!({
        "seq": event.seq,
        "at": event.at,
        "actor": { "id": event.actor_id, "role": event.actor_role, "unit": event.actor_unit },
        "action": event.action,
        "from_step": event.from_step,
        "to_step": event.to_step,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "payload": serde_json::from_str::<Value>(&event.payload_json).unwrap_or(Value::Null),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    })
}

// ---- handlers ----------------------------------------------------------------------------

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(json!({ "status": "ok" })).into_response(),
        Err(error) => {
            tracing::error!(%error, "health check failed");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "unhealthy",
                "Database unavailable",
                "the database does not answer".into(),
                Value::Null,
            )
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBody {
    procedure: String,
    receiving_unit: String,
    #[serde(default)]
    handling_unit: Option<String>,
    channel: Channel,
    applicant: Applicant,
    #[serde(default = "empty_object")]
    form: Value,
    #[serde(default)]
    documents: Vec<Document>,
}

fn empty_object() -> Value {
    json!({})
}

async fn file_dossier(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    let body: FileBody = parse_body(&body_bytes(body)?)?;
    let filed = state
        .file(
            &caller,
            FileRequest {
                procedure_code: body.procedure,
                receiving_unit: body.receiving_unit,
                handling_unit: body.handling_unit,
                channel: body.channel,
                applicant: body.applicant,
                form: body.form,
                documents: body.documents,
            },
        )
        .await?;
    let location = format!("/api/v1/track/{}", filed.code);
    let mut response = (
        StatusCode::CREATED,
        Json(json!({
            "code": filed.code,
            "status": status_view(filed.status),
            "step": filed.step,
            "tracking_secret": filed.tracking_secret,
            "tracking_url": format!("{location}?secret={}", filed.tracking_secret),
            "findings": filed.findings,
        })),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn dossier_view(
    state: &AppState,
    record: &DossierRecord,
    actor: &Actor,
) -> Result<Value, ApiError> {
    let build = state.registry.build(&record.build_sha256);
    let events = state.history(&record.code).await?;
    let actions = build
        .as_ref()
        .map(|build| state.available_actions(build, record, actor))
        .unwrap_or_default()
        .into_iter()
        .map(|(name, label)| json!({ "action": name, "label": label }))
        .collect::<Vec<_>>();
    let step_name = build
        .as_ref()
        .and_then(|build| build.info.step(&record.step))
        .map(|step| step.name.clone());
    Ok(json!({
        "code": record.code,
        "procedure": {
            "code": record.procedure_code,
            "name": build.as_ref().map(|build| build.info.name.clone()),
        },
        "build": {
            "sha256": record.build_sha256,
            "version": build.as_ref().map(|build| build.info.plugin_version.clone()),
        },
        "receiving_unit": record.receiving_unit,
        "handling_unit": record.handling_unit,
        "channel": record.channel,
        "applicant": record.applicant,
        "form": record.form,
        "documents": record.documents,
        "step": { "id": record.step, "name": step_name },
        "status": status_view(record.status),
        "submitted_at": record.submitted_at,
        "received_at": record.received_at,
        "clock_started_at": record.clock_started_at,
        "due_date": record.due_date,
        "supplement_count": record.supplement_count,
        "extension_count": record.extension_count,
        "fees": {
            "requested_vnd": record.fees_requested_vnd,
            "paid_vnd": record.fees_paid_vnd,
            "paid_online": record.paid_online,
        },
        "result": record.result,
        "settled_at": record.settled_at,
        "returned_at": record.returned_at,
        "version": record.version,
        "pending_supplement": Workflow::pending_supplement(record, &events),
        "history": events.iter().map(event_view).collect::<Vec<_>>(),
        "actions": actions,
    }))
}

/// Staff only: citizens see their dossier through `/api/v1/track/{code}`, which
/// carries no personal data and no internal notes.
fn staff_only(caller: &Caller) -> Result<(), ApiError> {
    match caller {
        Caller::Citizen { .. } => Err(WorkflowError::Forbidden(
            "this view is for officers; citizens follow their dossier at /api/v1/track/{code}"
                .into(),
        )
        .into()),
        _ => Ok(()),
    }
}

async fn get_dossier(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    path_code(&code, "dossier")?;
    let caller = caller(&state, &headers).await?;
    staff_only(&caller)?;
    let (record, _build, actor) = state.dossier_for(&caller, &code).await?;
    let view = dossier_view(&state, &record, &actor).await?;
    let mut response = Json(view).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", record.version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    action: String,
    #[serde(default)]
    note: String,
    #[serde(default = "empty_object")]
    payload: Value,
}

fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .unwrap_or("")
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"');
    text.parse::<i64>().map(Some).map_err(|_| {
        ApiError::BadQuery(format!(
            "If-Match must be the dossier's version number, not `{text}`"
        ))
    })
}

async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    path_code(&code, "dossier")?;
    let caller = caller(&state, &headers).await?;
    let body: ActionBody = parse_body(&body_bytes(body)?)?;
    let version = if_match(&headers)?;
    let (record, build, actor) = state
        .act(
            &caller,
            ActionRequest {
                code: code.clone(),
                action: body.action,
                note: body.note,
                payload: body.payload,
                if_match: version,
            },
        )
        .await?;
    let view = match caller {
        Caller::Citizen { .. } => track_view(&state, &record, &build, &actor).await?,
        _ => dossier_view(&state, &record, &actor).await?,
    };
    Ok(Json(view).into_response())
}

async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    path_code(&code, "dossier")?;
    let caller = caller(&state, &headers).await?;
    staff_only(&caller)?;
    state.dossier_for(&caller, &code).await?;
    let events = state.history(&code).await?;
    let body = match verify_chain(&events) {
        Ok(count) => {
            json!({ "code": code, "valid": true, "events": count, "head": events.last().map(|e| e.hash.clone()) })
        }
        Err(error) => {
            json!({ "code": code, "valid": false, "events": events.len(), "error": error.to_string() })
        }
    };
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
struct InboxParams {
    status: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

async fn inbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(unit): Path<String>,
    params: Result<Query<InboxParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    path_code(&unit, "unit")?;
    let params = query(params)?;
    let caller = caller(&state, &headers).await?;
    if state
        .store
        .unit(&unit)
        .await
        .map_err(WorkflowError::from)?
        .is_none()
    {
        return Err(ApiError::NotFound(format!("unit `{unit}` does not exist")));
    }
    match &caller {
        Caller::Staff(actor) if actor.unit == unit => {}
        Caller::Staff(actor) => {
            return Err(WorkflowError::Forbidden(format!(
                "your token belongs to `{}`, not `{unit}`",
                actor.unit
            ))
            .into());
        }
        _ => return Err(WorkflowError::Unauthenticated.into()),
    }
    let status = match params.status.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .and_then(Status::from_code)
                .or_else(|| Status::parse(text))
                .ok_or_else(|| {
                    ApiError::BadQuery(format!(
                        "status `{text}` is not a canonical status (1-10 or its name)"
                    ))
                })?,
        ),
    };
    let per_page = params.per_page.unwrap_or(20);
    let page = params.page.unwrap_or(1);
    if !(1..=200).contains(&per_page) || !(1..=1_000_000).contains(&page) {
        return Err(ApiError::BadQuery(
            "page is 1 to 1000000; per_page is 1 to 200".into(),
        ));
    }
    let (items, total) = state
        .store
        .inbox(&InboxQuery {
            unit: unit.clone(),
            status,
            limit: per_page,
            offset: (page - 1) * per_page,
        })
        .await
        .map_err(WorkflowError::from)?;
    Ok(Json(json!({
        "unit": unit,
        "page": page,
        "per_page": per_page,
        "total": total,
        "items": items.iter().map(|row| json!({
            "code": row.code,
            "procedure": row.procedure_code,
            "step": row.step,
            "status": status_view(row.status),
            "applicant": row.applicant_name,
            "channel": row.channel,
            "submitted_at": row.submitted_at,
            "due_date": row.due_date,
            "version": row.version,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

#[derive(Deserialize)]
struct TrackParams {
    secret: Option<String>,
}

async fn track(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    params: Result<Query<TrackParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    path_code(&code, "dossier")?;
    let params = query(params)?;
    let secret = params
        .secret
        .or_else(|| {
            headers
                .get("x-tracking-secret")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .ok_or(WorkflowError::Unauthenticated)?;
    let (record, build, actor) = match state.dossier_for(&Caller::Citizen { secret }, &code).await {
        // A wrong secret and an unknown code look the same to a stranger.
        Err(WorkflowError::Forbidden(_)) | Err(WorkflowError::DossierNotFound(_)) => {
            return Err(ApiError::NotFound(format!(
                "no dossier {code} with that tracking secret"
            )));
        }
        other => other?,
    };
    Ok(Json(track_view(&state, &record, &build, &actor).await?).into_response())
}

/// What the citizen sees: status, step, dates, status history; no personal data.
async fn track_view(
    state: &AppState,
    record: &DossierRecord,
    build: &PluginBuild,
    actor: &Actor,
) -> Result<Value, ApiError> {
    let events = state.history(&record.code).await?;
    let history: Vec<Value> = events
        .iter()
        .map(|event| {
            json!({
                "at": event.at,
                "status": Status::from_code(event.to_status).map(status_view),
                "step": event.to_step,
            })
        })
        .collect();
    let actions: Vec<Value> = state
        .available_actions(build, record, actor)
        .into_iter()
        .map(|(name, label)| json!({ "action": name, "label": label }))
        .collect();
    Ok(json!({
        "code": record.code,
        "procedure": { "code": record.procedure_code, "name": build.info.name },
        "handling_unit": record.handling_unit,
        "status": status_view(record.status),
        "step": { "id": record.step, "name": build.info.step(&record.step).map(|s| s.name.clone()) },
        "submitted_at": record.submitted_at,
        "received_at": record.received_at,
        "due_date": record.due_date,
        "result": record.result.as_ref().map(|r| json!({ "kind": r.kind, "name": r.name })),
        "fees": { "requested_vnd": record.fees_requested_vnd, "paid_vnd": record.fees_paid_vnd },
        "pending_supplement": Workflow::pending_supplement(record, &events),
        "history": history,
        "version": record.version,
        "actions": actions,
    }))
}

#[derive(Deserialize)]
struct ProceduresParams {
    unit: Option<String>,
}

async fn procedures(
    State(state): State<AppState>,
    params: Result<Query<ProceduresParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let unit = query(params)?.unit.ok_or_else(|| {
        ApiError::BadQuery("give the unit: /api/v1/procedures?unit=xuan-hoa".into())
    })?;
    path_code(&unit, "unit")?;
    if state
        .store
        .unit(&unit)
        .await
        .map_err(WorkflowError::from)?
        .is_none()
    {
        return Err(ApiError::NotFound(format!("unit `{unit}` does not exist")));
    }
    let offered: Vec<Value> = state
        .registry
        .offered(&unit)
        .into_iter()
        .map(|(binding, build)| {
            let mut info = serde_json::to_value(&build.info).unwrap_or(Value::Null);
            if let Some(object) = info.as_object_mut() {
                let is_default = state.registry.default_build(&binding.procedure_code).as_deref() == Some(&build.sha256);
                object.insert("build".into(), json!({ "sha256": build.sha256, "version": build.info.plugin_version }));
                object.insert(
                    "binding".into(),
                    json!({ "source": binding.source, "province_default": is_default, "procedure": binding.procedure_code }),
                );
                object.insert(
                    "settings".into(),
                    serde_json::from_str(&binding.settings_json).unwrap_or(Value::Null),
                );
            }
            info
        })
        .collect();
    Ok(Json(json!({ "unit": unit, "procedures": offered })).into_response())
}

// ---- registry ----------------------------------------------------------------------------

/// The caller, if they are a publisher of the province (a unit without a parent).
async fn publisher(state: &AppState, headers: &HeaderMap) -> Result<Actor, ApiError> {
    let Caller::Staff(actor) = caller(state, headers).await? else {
        return Err(WorkflowError::Unauthenticated.into());
    };
    let unit = state
        .store
        .unit(&actor.unit)
        .await
        .map_err(WorkflowError::from)?;
    if actor.role != Role::Publisher || unit.is_none_or(|unit| unit.parent.is_some()) {
        return Err(WorkflowError::Forbidden(
            "only the province's publishers manage plugins and rollouts".into(),
        )
        .into());
    }
    Ok(actor)
}

/// The caller, if they are an admin of `unit`.
async fn unit_admin(state: &AppState, headers: &HeaderMap, unit: &str) -> Result<Actor, ApiError> {
    path_code(unit, "unit")?;
    if state
        .store
        .unit(unit)
        .await
        .map_err(WorkflowError::from)?
        .is_none()
    {
        return Err(ApiError::NotFound(format!("unit `{unit}` does not exist")));
    }
    match caller(state, headers).await? {
        Caller::Staff(actor) if actor.role == Role::Admin && actor.unit == unit => Ok(actor),
        Caller::Staff(_) => Err(WorkflowError::Forbidden(format!(
            "only an admin of `{unit}` changes its procedures"
        ))
        .into()),
        _ => Err(WorkflowError::Unauthenticated.into()),
    }
}

fn build_view(build: &PluginBuild) -> Value {
    json!({
        "sha256": build.sha256,
        "plugin": build.info.code,
        "procedure": build.info.procedure_code(),
        "variant_of": build.info.variant_of,
        "version": build.info.plugin_version,
        "name": build.info.name,
        "size": build.size,
    })
}

async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = publisher(&state, &headers).await?;
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

async fn plugins(State(state): State<AppState>) -> Result<Response, ApiError> {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RolloutBody {
    procedure: String,
    version: String,
    /// A list of unit codes, or "all".
    units: Value,
}

async fn rollout(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = publisher(&state, &headers).await?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    procedure: String,
}

async fn rollback(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = publisher(&state, &headers).await?;
    let body: RollbackBody = parse_body(&body_bytes(body)?)?;
    crate::workflow::check_text("procedure", &body.procedure, false)?;
    let at = crate::clock::format_civil(state.now());
    let undone = state
        .registry
        .rollback(&body.procedure, &actor, &at)
        .await?;
    Ok(Json(json!({
        "rolled_back": undone.id,
        "build": undone.build_sha256,
        "scope": undone.scope,
        "units": undone.units,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct RolloutsParams {
    procedure: String,
}

async fn rollouts(
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitProcedureBody {
    #[serde(default)]
    enabled: Option<bool>,
    /// A variant's version (or sha256), or null to go back to the province default.
    #[serde(default, deserialize_with = "double_option")]
    variant: Option<Option<String>>,
    #[serde(default)]
    settings: Option<Value>,
}

/// Tells a missing field (leave alone) from an explicit null (clear).
fn double_option<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

async fn configure_unit_procedure(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((unit, code)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = unit_admin(&state, &headers, &unit).await?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitSettingsBody {
    /// The hour after which dossiers count from the next working day, "HH:MM".
    cutoff: String,
}

async fn configure_unit_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(unit): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = unit_admin(&state, &headers, &unit).await?;
    let body: UnitSettingsBody = parse_body(&body_bytes(body)?)?;
    let cutoff = chrono::NaiveTime::parse_from_str(&body.cutoff, "%H:%M").map_err(|_| {
        RegistryError::Invalid(format!("cutoff `{}` is not a time like 15:00", body.cutoff))
    })?;
    let cutoff = cutoff.format("%H:%M").to_string();
    let before = state
        .store
        .unit(&unit)
        .await
        .map_err(WorkflowError::from)?
        .map(|u| u.cutoff);
    let event = crate::store::RegistryEvent {
        at: crate::clock::format_civil(state.now()),
        actor_id: actor.id.clone(),
        actor_role: actor.role.as_str().into(),
        action: "set-cutoff".into(),
        procedure_code: None,
        unit: Some(unit.clone()),
        before: json!({ "cutoff": before }),
        after: json!({ "cutoff": cutoff }),
    };
    state
        .store
        .set_unit_cutoff(&unit, &cutoff, &event)
        .await
        .map_err(WorkflowError::from)?;
    Ok(Json(json!({ "unit": unit, "cutoff": cutoff })).into_response())
}

#[derive(Deserialize)]
struct EventsParams {
    limit: Option<i64>,
}

async fn registry_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<EventsParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(params)?;
    // Publishers read the whole audit; a unit's admin reads province-wide events and
    // their own unit's, not other units' settings.
    let own_unit = match caller(&state, &headers).await? {
        Caller::Staff(actor) if actor.role == Role::Publisher => None,
        Caller::Staff(actor) if actor.role == Role::Admin => Some(actor.unit),
        Caller::Staff(_) => {
            return Err(WorkflowError::Forbidden(
                "publishers and admins read the registry's audit".into(),
            )
            .into());
        }
        _ => return Err(WorkflowError::Unauthenticated.into()),
    };
    let limit = params.limit.unwrap_or(100).clamp(1, 1000);
    let mut events = state
        .store
        .registry_events(limit)
        .await
        .map_err(WorkflowError::from)?;
    if let Some(unit) = own_unit {
        events.retain(|event| {
            event
                .unit
                .as_deref()
                .is_none_or(|event_unit| event_unit == unit)
        });
    }
    let items: Vec<Value> = events
        .iter()
        .map(|e| json!({ "at": e.at, "actor": { "id": e.actor_id, "role": e.actor_role }, "action": e.action,
                          "procedure": e.procedure_code, "unit": e.unit, "before": e.before, "after": e.after }))
        .collect();
    Ok(Json(json!({ "events": items })).into_response())
}
