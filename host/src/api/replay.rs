//! `GET /api/v1/dossiers/{code}/replay`: a dossier's history re-decided through its
//! pinned build, for auditors (docs/decisions/0016-replay.md).
//!
//! Staff of the handling unit and the province's admins and leaders may ask; the
//! answer is 200 with `verdict` `match` or `mismatch` either way, since a mismatch is a
//! finding about the dossier, not a failure of the request.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::dossiers::staff_only;
use super::{ApiError, AppState, caller, path_code};

/// Re-decides every event of the dossier through its pinned build: 200 with `verdict`
/// `match` or `mismatch` either way.
#[utoipa::path(
    get,
    path = "/api/v1/dossiers/{code}/replay",
    tag = "dossiers",
    params(("code" = String, Path, description = "The dossier's code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The replay, event by event", body = crate::workflow::replay::Replay),
        super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::BadGateway,
    )
)]
pub(super) async fn replay(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    path_code(&code, "dossier")?;
    let caller = caller(&state, &headers).await?;
    staff_only(&caller)?;
    let replay = state.replay(&caller, &code).await?;
    Ok(Json(replay).into_response())
}
