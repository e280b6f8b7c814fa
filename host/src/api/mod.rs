//! The HTTP API: the only part of motcua that knows HTTP and JSON.
//!
//! Every error is an RFC 9457 problem (`application/problem+json`); internal
//! failures are logged in full and answered without internals.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::{TokenRefusal, authenticate};
use crate::audit::EventRecord;
use crate::authz::{Grant, Permission};
use crate::domain::Status;
use crate::workflow::{Caller, Workflow, WorkflowError};

pub type AppState = Arc<Workflow>;

pub use axum::Router;
pub use front_door::{FrontDoor, RateQuota};

/// Serves a router on a listener behind the default front door, until the task is
/// dropped.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    serve_with(
        listener,
        router,
        &FrontDoor::default(),
        crate::registry::DEFAULT_MAX_PLUGIN_BYTES,
        std::future::pending(),
    )
    .await
}

/// Serves a router on a listener behind `front` (plugin uploads limited to
/// `max_plugin_bytes`) until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    router: Router,
    front: &FrontDoor,
    max_plugin_bytes: usize,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let gate = Arc::new(front_door::gate::Gate::new(front.clone(), max_plugin_bytes));
    front_door::listener::serve(listener, router, gate, shutdown).await
}

/// The API's routes, each handler with its own description (`#[utoipa::path]`): the
/// router is built from this list and so is the OpenAPI document
/// (`GET /api/v1/openapi.json`, see [`openapi`]), so that neither has a route the
/// other lacks. Every API route is added here, with `routes!`, never with `route`.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(openapi::openapi_json))
        .routes(routes!(accounts::list, accounts::create))
        .routes(routes!(accounts::revoke))
        .routes(routes!(dossiers::file_dossier))
        .routes(routes!(dossiers::get_dossier))
        .routes(routes!(dossiers::act))
        .routes(routes!(dossiers::audit))
        .routes(routes!(dossiers::rate))
        .routes(routes!(replay::replay))
        .routes(routes!(documents::put_component, documents::get_component))
        .routes(routes!(documents::get_result))
        .routes(routes!(documents::put_result))
        .routes(routes!(units::list))
        .routes(routes!(units::get, units::put))
        .routes(routes!(dossiers::inbox))
        .routes(routes!(dossiers::track))
        .routes(routes!(procedures::procedures))
        .routes(routes!(procedures::quote))
        .routes(routes!(registry::publish, registry::plugins))
        .routes(routes!(registry::rollout, registry::rollouts))
        .routes(routes!(registry::rollback))
        .routes(routes!(registry::configure_unit_procedure))
        .routes(routes!(registry::configure_unit_settings))
        .routes(routes!(registry::registry_events))
        .routes(routes!(calendar::list))
        .routes(routes!(calendar::put_year, calendar::get_year))
        .routes(routes!(reports::processing))
        .routes(routes!(reports::indicators))
        .routes(routes!(reports::scoring, reports::set_scoring))
        .routes(routes!(sync::status_changes))
}

/// The whole API as a router; tests drive it over a real socket or with `oneshot`.
pub fn app(state: AppState) -> Router {
    let (api, _) = routes().split_for_parts();
    api.merge(crate::web::routes())
        .fallback(|| async {
            ApiError::NotFound("no such endpoint; see README.md for the API".into())
        })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        // The front door reads bodies, within each route's limit; handlers get them whole.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            front_door::gate::gate,
        ))
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe_request,
        ))
        .layer(axum::middleware::from_fn(
            front_door::gate::framework_problems,
        ))
        .with_state(state)
}

/// Every request, observed: an id (the client's `X-Request-Id` when it is a sane one,
/// else a new one, echoed in the answer), a span carrying it with the route's pattern
/// and, where they apply, the unit, the dossier and the build (recorded by the
/// workflow), one `answered` log line with the status and latency, and the request
/// counted for `/metrics` (refusals at the front door included).
async fn observe_request(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |path| path.as_str())
        .to_string();
    // Methods outside the standard ones are one label: a client must not be able to
    // make a new series per request.
    let method = match request.method().as_str() {
        method @ ("GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS") => method,
        _ => "other",
    }
    .to_string();
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map_or_else(|| crate::sessions::random_hex(8), str::to_string);
    // The unit and dossier a route names in its path; the workflow records the build,
    // and the unit of a dossier it loads.
    let (mut unit, mut dossier) = (None, None);
    for (pattern, segment) in route.split('/').zip(request.uri().path().split('/')) {
        match pattern {
            "{unit}" => unit = Some(segment.to_string()),
            "{code}" if route.contains("/dossiers/") || route.starts_with("/track") => {
                dossier = Some(segment.to_string())
            }
            _ => {}
        }
    }
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        unit = tracing::field::Empty,
        dossier = tracing::field::Empty,
        build = tracing::field::Empty,
    );
    if let Some(unit) = &unit {
        span.record("unit", unit.as_str());
    }
    if let Some(dossier) = &dossier {
        span.record("dossier", dossier.as_str());
    }
    let mut response = next.run(request).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| tracing::info!(status, latency_ms = took.as_secs_f64() * 1000.0, "answered"));
    state.metrics.request(&route, &method, status, took);
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

mod accounts;
mod calendar;
mod documents;
mod dossiers;
pub mod front_door;
mod health;
pub mod openapi;
mod problems;
mod procedures;
mod registry;
mod replay;
mod reports;
mod schemas;
mod sync;
mod units;

/// The downloads the console serves with the API's own headers.
pub(crate) use documents::{component_download, result_download};
pub use problems::ApiError;
use problems::problem;

// ---- helpers ----------------------------------------------------------------------------

/// The request body, or a problem when it could not be read (too large, cut short).
fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::BodyTooLarge(format!(
            "{rejection}; see the limits in docs/decisions/0012-front-door.md"
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

tokio::task_local! {
    /// The staff caller the front door already authenticated for the request being
    /// handled, so that the handler does not look the token up a second time.
    static ADMITTED: Caller;
}

/// Runs `handling` (the rest of one request) with the caller the front door admitted.
pub(crate) async fn with_admitted<F: std::future::Future>(
    caller: Caller,
    handling: F,
) -> F::Output {
    ADMITTED.scope(caller, handling).await
}

async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    if let Ok(admitted) = ADMITTED.try_with(Caller::clone) {
        return Ok(admitted);
    }
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(ApiError::InvalidToken)?;
        // Looked up on every request, never cached: a revocation or an expiry holds on
        // every host sharing the database from the next request on.
        return match authenticate(&state.store, token.trim(), state.now()).await {
            Ok(actor) => Ok(Caller::Staff(actor)),
            Err(TokenRefusal::Unknown) => Err(ApiError::InvalidToken),
            Err(TokenRefusal::Revoked { id, at }) => Err(ApiError::TokenRevoked(format!(
                "account `{id}` was revoked at {at}; ask an admin for a new token (`motcua token create`)"
            ))),
            Err(TokenRefusal::Expired { id, at }) => Err(ApiError::TokenExpired(format!(
                "the token of account `{id}` expired at {at}; ask an admin for a new token (`motcua token create`)"
            ))),
            Err(TokenRefusal::Store(error)) => Err(WorkflowError::from(error).into()),
        };
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

/// A canonical status: its national code (1-10) and its name.
#[derive(Serialize, utoipa::ToSchema)]
struct StatusView {
    #[schema(minimum = 1, maximum = 10)]
    code: i64,
    /// `submitted`, `received`, `refused`, `processing`, `supplement-requested`,
    /// `awaiting-payment`, `withdrawal-requested`, `stopped`, `settled`, `returned`.
    name: &'static str,
}

fn status_view(status: Status) -> StatusView {
    StatusView {
        code: status.code(),
        name: status.as_str(),
    }
}

/// An event as the API shows it. Serialised straight from the stored event: its payload,
/// stored as JSON text, is written as it is (checked, not parsed into a tree), so a
/// dossier view with a long history costs no allocation per field of every payload.
#[derive(Serialize)]
struct EventView<'a> {
    seq: i64,
    at: &'a str,
    actor: EventActor<'a>,
    action: &'a str,
    from_step: Option<&'a str>,
    to_step: &'a str,
    from_status: Option<i64>,
    to_status: i64,
    note: &'a str,
    /// `null` if the stored text were not JSON (it always is: the host writes it).
    payload: Option<&'a serde_json::value::RawValue>,
    prev_hash: &'a str,
    hash: &'a str,
}

#[derive(Serialize)]
struct EventActor<'a> {
    id: &'a str,
    role: &'a str,
    unit: &'a str,
}

fn event_view(event: &EventRecord) -> EventView<'_> {
    EventView {
        seq: event.seq,
        at: &event.at,
        actor: EventActor {
            id: &event.actor_id,
            role: &event.actor_role,
            unit: &event.actor_unit,
        },
        action: &event.action,
        from_step: event.from_step.as_deref(),
        to_step: &event.to_step,
        from_status: event.from_status,
        to_status: event.to_status,
        note: &event.note,
        payload: serde_json::from_str(&event.payload_json).ok(),
        prev_hash: &event.prev_hash,
        hash: &event.hash,
    }
}

// ---- handlers ----------------------------------------------------------------------------

/// 200 while the database answers, with the calendar in force: a missing year makes
/// due dates provisional, which provincial IT fixes by loading its table, not by
/// restarting the host, so it is reported here rather than failing the check.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses(
        (status = 200, description = "The host is alive and its database answers", body = schemas::Health),
        (status = 503, description = "`unhealthy`: the database does not answer", body = openapi::Problem, content_type = "application/problem+json"),
    )
)]
async fn healthz(State(state): State<AppState>) -> Response {
    let health = match state.store.ping().await {
        Ok(()) => state.calendar_health().await,
        Err(error) => Err(error),
    };
    match health {
        Ok(calendar) => Json(json!({
            "status": "ok",
            "calendar": calendar,
            "demo_tokens": health::demo_tokens(&state).await,
        }))
        .into_response(),
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

// ---- authorisation -----------------------------------------------------------------------

/// The one authorisation check of every administrative request ([`crate::authz`]):
/// the caller must be staff holding `permission`, and `target` (a unit's code, for
/// requests about one unit) must lie within their reach. An unknown target is 404.
async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    permission: Permission,
    target: Option<&str>,
) -> Result<Grant, ApiError> {
    let target = match target {
        Some(code) => {
            path_code(code, "unit")?;
            Some(
                state
                    .store
                    .unit(code)
                    .await
                    .map_err(WorkflowError::from)?
                    .ok_or_else(|| ApiError::NotFound(format!("unit `{code}` does not exist")))?,
            )
        }
        None => None,
    };
    let Caller::Staff(actor) = caller(state, headers).await? else {
        return Err(WorkflowError::Unauthenticated.into());
    };
    let home = state
        .store
        .unit(&actor.unit)
        .await
        .map_err(WorkflowError::from)?;
    crate::authz::authorize(&actor, home.as_ref(), permission, target.as_ref())
        .map_err(|refusal| WorkflowError::Forbidden(refusal).into())
}
