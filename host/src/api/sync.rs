//! The national sync feed: every status change in order, for the province's link to
//! the national public-service portal. The reader keeps the cursor of the last change
//! it read and sends it back as `after`; see `store::sync` for why it never skips or
//! repeats a change.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState, caller, query, status_view};
use crate::domain::Status;
use crate::reports::Viewer;
use crate::store::{FeedPosition, StatusChange};
use crate::workflow::{Caller, WorkflowError};

/// Pages hold 100 changes unless the reader asks for 1 to 1000.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct FeedParams {
    /// The `next` of the previous page (or an item's `cursor`); nothing to start from
    /// the beginning.
    after: Option<String>,
    /// Changes per page, 1 to 1000 (100 by default).
    limit: Option<String>,
}

/// The cursor as readers see it: one opaque string, "TX.ID" (see `store::sync`).
fn encode(position: FeedPosition) -> String {
    format!("{}.{}", position.tx, position.id)
}

fn decode(text: &str) -> Option<FeedPosition> {
    let (tx, id) = text.split_once('.')?;
    let number = |part: &str| {
        (!part.is_empty() && part.len() <= 19 && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<i64>().ok())
            .flatten()
    };
    Some(FeedPosition {
        tx: number(tx)?,
        id: number(id)?,
    })
}

fn status(code: Option<i64>) -> Value {
    code.and_then(Status::from_code)
        .map(|status| json!(status_view(status)))
        .unwrap_or(Value::Null)
}

fn item(change: &StatusChange) -> Value {
    json!({
        "cursor": encode(change.position),
        "status": status(Some(change.to_status)),
        "previous_status": status(change.from_status),
        "dossier_code": change.dossier_code,
        "seq": change.seq,
        "agency_id": change.agency_id,
        "unit": change.unit,
        "procedure_code": change.procedure_code,
        "channel": change.channel,
        "at": change.at,
    })
}

/// Every status change in order, a page at a time, for the province's staff.
#[utoipa::path(
    get,
    path = "/api/v1/sync/status-changes",
    tag = "sync",
    params(FeedParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of the feed", body = super::schemas::Feed),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden,
    )
)]
pub(super) async fn status_changes(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<FeedParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(params)?;
    let Caller::Staff(actor) = caller(&state, &headers).await? else {
        return Err(WorkflowError::Unauthenticated.into());
    };
    if Viewer::of(&state.store, &actor).await? != Viewer::Province {
        return Err(WorkflowError::Forbidden(
            "only the province's staff read the national sync feed".into(),
        )
        .into());
    }
    let after = match params.after.as_deref() {
        None | Some("") => FeedPosition::default(),
        Some(text) => decode(text).ok_or_else(|| {
            ApiError::BadQuery(format!(
                "`after` is `{}`, not a cursor; send the `next` (or an item's `cursor`) of an earlier answer, or nothing to start from the beginning",
                text.escape_debug()
            ))
        })?,
    };
    let limit = match params.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|limit| (1..=MAX_LIMIT).contains(limit))
            .ok_or_else(|| {
                ApiError::BadQuery(format!(
                    "`limit` is `{}`; send a number from 1 to {MAX_LIMIT}",
                    text.escape_debug()
                ))
            })?,
    };
    let changes = state
        .store
        .status_changes_after(after, limit)
        .await
        .map_err(WorkflowError::from)?;
    let next = changes
        .last()
        .map(|change| change.position)
        .unwrap_or(after);
    Ok(Json(json!({
        "items": changes.iter().map(item).collect::<Vec<_>>(),
        "next": encode(next),
    }))
    .into_response())
}
