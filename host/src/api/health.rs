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
