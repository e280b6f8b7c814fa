//! Readiness, and what `/healthz` reports about public demo tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::problems::problem;

/// 200 when the database answers and every stored build is loaded on this host;
/// otherwise 503 `not-ready` naming each build that does not load, with its reason.
/// `/healthz` stays liveness: a host with an unloadable build still serves the rest.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "The database answers and every stored build loads on this host", body = super::schemas::Ready),
        (status = 503, description = "`not-ready`: the database does not answer, or builds do not load (`unavailable_builds`, each with its reason)", body = super::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn readyz(State(state): State<AppState>) -> Response {
    if let Err(error) = state.store.ping().await {
        tracing::error!(%error, "readiness check: the database does not answer");
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            "Not ready",
            "the database does not answer".into(),
            json!({ "database": "unavailable", "unavailable_builds": [] }),
        );
    }
    let unavailable = state.registry.unavailable();
    if unavailable.is_empty() {
        return Json(json!({ "status": "ready", "database": "ok", "unavailable_builds": [] }))
            .into_response();
    }
    let names: Vec<String> = unavailable
        .iter()
        .map(|build| format!("{} {} ({})", build.code, build.version, build.sha256))
        .collect();
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "not-ready",
        "Not ready",
        format!(
            "{} stored plugin build(s) do not load on this host: {}; their dossiers answer 503 build-unavailable",
            unavailable.len(),
            names.join(", ")
        ),
        json!({
            "database": "ok",
            "unavailable_builds": unavailable
                .iter()
                .map(|build| json!({
                    "plugin": build.code,
                    "version": build.version,
                    "sha256": build.sha256,
                    "reason": build.reason,
                }))
                .collect::<Vec<_>>(),
        }),
    )
}

/// Whether accounts hold public demo tokens, for `/healthz`: how many, never which
/// (an account's id and role name its demo token, and `/healthz` is public). The
/// server's log at start lists them for the operator.
pub(super) async fn demo_tokens(state: &AppState) -> Value {
    match crate::accounts::demo_accounts(&state.store).await {
        Ok(accounts) if accounts.is_empty() => json!({ "present": false, "accounts": 0 }),
        Ok(accounts) => json!({
            "present": true,
            "accounts": accounts.len(),
            "warning": "accounts use public demo tokens (demo-<unit>-<role>); `motcua token list` and revoke them (`motcua token revoke`) unless this is a demo",
        }),
        Err(error) => {
            tracing::warn!(%error, "could not look for demo tokens");
            Value::Null
        }
    }
}

/// `GET /metrics`: the host's figures for Prometheus (OpenMetrics text). Counts only,
/// no personal data; what is read from the database is read now.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    responses(
        (status = 200, description = "The host's figures for Prometheus", body = super::schemas::Text, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
    )
)]
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    let metrics = &state.metrics;
    let started = std::time::Instant::now();
    if state.store.ping().await.is_ok() {
        metrics
            .database_seconds
            .set(started.elapsed().as_secs_f64());
    }
    metrics
        .slots_in_use
        .set(state.runtime.calls_running() as i64);
    metrics
        .slots_total
        .set(state.runtime.limits().max_concurrent_calls as i64);
    let loads = state.registry.stats();
    for (how, count) in [
        ("compiled", loads.compiled),
        ("cache-hit", loads.cache_hits),
        ("rebuilt", loads.rebuilt),
        ("failed", loads.failed),
    ] {
        metrics
            .builds_loaded
            .get_or_create(&crate::metrics::LoadLabels { how: how.into() })
            .set(count as i64);
    }
    let (groups, actions) = state.store.action_groups();
    metrics.action_groups.set(groups as i64);
    metrics.grouped_actions.set(actions as i64);
    if let Ok(counts) = state.store.dossier_counts().await {
        metrics.dossiers.clear();
        for (unit, status, count) in counts {
            let status = crate::domain::Status::from_code(status)
                .map_or_else(|| status.to_string(), |status| status.as_str().to_string());
            metrics
                .dossiers
                .get_or_create(&crate::metrics::DossierLabels { unit, status })
                .set(count);
        }
    }
    if let Ok(counts) = state.store.rollout_counts().await {
        metrics.rollouts.clear();
        for (procedure, count) in counts {
            metrics
                .rollouts
                .get_or_create(&crate::metrics::ProcedureLabels { procedure })
                .set(count);
        }
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response()
}
