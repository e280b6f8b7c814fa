//! Filing, the dossier view, actions, audit, the unit's inbox and tracking.

use std::borrow::Cow;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};

use super::{
    ApiError, AppState, body_bytes, caller, event_view, parse_body, path_code, query, status_view,
};
use crate::audit::{EventRecord, verify_chain};
use crate::domain::{Actor, Applicant, Channel, Document, Status};
use crate::runtime::PluginBuild;
use crate::store::{DossierRecord, DueFilter, InboxCursor, InboxQuery};
use crate::workflow::documents::{ATTACH_DOCUMENT_ACTION, ATTACH_RESULT_ACTION};
use crate::workflow::{ActionRequest, Caller, FileRequest, Workflow, WorkflowError, deadlines};

/// A dossier to file: the procedure, the receiving unit, the channel, the applicant,
/// the form the procedure's plugin asks for and the documents' metadata (their files
/// are uploaded afterwards, `PUT .../documents/{sha256}`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "procedure": "1.001193",
    "receiving_unit": "xuan-hoa",
    "channel": "online",
    "applicant": { "full_name": "Nguyễn Thị Lan", "citizen_id": "025190001234", "phone": "0912345678" },
    "form": {
        "child": { "full_name": "Trần Minh An", "sex": "male", "birth_date": "2026-02-20",
                   "birth_place": "Bệnh viện Đa khoa tỉnh Phú Thọ", "ethnicity": "Kinh", "nationality": "Việt Nam" },
        "mother": { "full_name": "Nguyễn Thị Lan", "citizen_id": "025190001234" },
        "father": { "full_name": "Trần Văn Bình", "citizen_id": "025188004321" },
        "applicant_relationship": "mẹ"
    },
    "documents": [
        { "kind": "hospital-birth-certificate", "name": "Giấy chứng sinh số 1234/GCS",
          "sha256": "5f1d7a3e9b2c4d6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f", "size": 183412 },
        { "kind": "citizen-id-card", "name": "Căn cước công dân của mẹ",
          "sha256": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2", "size": 95310 }
    ]
}))]
pub(super) struct FileBody {
    procedure: String,
    receiving_unit: String,
    #[serde(default)]
    handling_unit: Option<String>,
    channel: Channel,
    applicant: Applicant,
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    form: Value,
    #[serde(default)]
    documents: Vec<Document>,
}

pub(super) fn empty_object() -> Value {
    json!({})
}

/// Files a dossier: anyone online; an officer of the receiving unit in person or by
/// post.
#[utoipa::path(
    post,
    path = "/api/v1/dossiers",
    tag = "dossiers",
    request_body = FileBody,
    security((), ("bearer" = [])),
    responses(
        (status = 201, description = "Filed, in the build's initial step", body = super::schemas::Filed,
            headers(("Location" = String, description = "The dossier's tracking address"))),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::PayloadTooLarge, super::openapi::Unprocessable, super::openapi::BadGateway,
    )
)]
pub(super) async fn file_dossier(
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

/// The officers' view of a dossier: its fields, then its history, written event by event
/// from the records (see [`super::EventView`]).
pub(super) struct DossierView<'a> {
    fields: Value,
    history: Cow<'a, [EventRecord]>,
}

impl Serialize for DossierView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = self.fields.as_object();
        let mut map = serializer.serialize_map(Some(fields.map_or(0, |f| f.len()) + 1))?;
        for (name, value) in fields.into_iter().flatten() {
            map.serialize_entry(name, value)?;
        }
        let history: Vec<_> = self.history.iter().map(event_view).collect();
        map.serialize_entry("history", &history)?;
        map.end()
    }
}

pub(super) async fn dossier_view<'a>(
    state: &AppState,
    record: &'a DossierRecord,
    actor: &Actor,
) -> Result<DossierView<'a>, ApiError> {
    let build = state.registry.build(&record.build_sha256);
    let events = state.history_of(record).await?;
    let actions = build
        .as_ref()
        .map(|build| state.available_actions(build, record, actor))
        .unwrap_or_default()
        .into_iter()
        .map(|(name, label)| json!({ "action": name, "label": label }))
        .collect::<Vec<_>>();
    let step_name = step_name(build.as_deref(), record);
    let fields = json!({
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
        "documents": documents_view(record),
        "digitized": record.facts.digitized,
        "step": { "id": record.step, "name": step_name },
        "status": status_view(record.status),
        "submitted_at": record.submitted_at,
        "received_at": record.received_at,
        "clock_started_at": record.clock_started_at,
        "due_date": record.due_date,
        "due": due_view(state, record),
        "supplement_count": record.supplement_count,
        "extension_count": record.extension_count,
        "fees": {
            "requested_vnd": record.fees_requested_vnd,
            "paid_vnd": record.fees_paid_vnd,
            "paid_online": record.paid_online,
        },
        "result": record.result.as_ref().map(|result| {
            let mut view = json!(result);
            view["download"] = json!(result.file.as_ref().map(|_| format!("/api/v1/dossiers/{}/result", record.code)));
            view
        }),
        "rating": record.facts.rating,
        "settled_at": record.settled_at,
        "returned_at": record.returned_at,
        "version": record.version,
        "pending_supplement": Workflow::pending_supplement(record, &events),
        "actions": actions,
    });
    Ok(DossierView {
        fields,
        history: events,
    })
}

/// The components with where their stored files are read.
fn documents_view(record: &DossierRecord) -> Vec<Value> {
    record
        .documents
        .iter()
        .map(|document| {
            let mut view = json!(document);
            view["download"] = json!(document.digitized.then(|| format!(
                "/api/v1/dossiers/{}/documents/{}",
                record.code, document.sha256
            )));
            view
        })
        .collect()
}

/// The name of the dossier's step: the build's, or the host's own closing step.
fn step_name(build: Option<&PluginBuild>, record: &DossierRecord) -> Option<String> {
    build
        .and_then(|build| build.info.step(&record.step))
        .map(|step| step.name.clone())
        .or_else(|| {
            (record.step == deadlines::CLOSED_INCOMPLETE_STEP)
                .then(|| deadlines::CLOSED_INCOMPLETE_STEP_NAME.to_string())
        })
}

/// The due date with what the officer and the citizen need to read it: the statutory
/// date lateness is judged against, whether it is provisional (a year without a
/// holiday table), whether the clock runs, and the working days left.
fn due_view(state: &AppState, record: &DossierRecord) -> Value {
    let calendar = state.runtime.calendar();
    json!({
        "date": record.due_date,
        "statutory_date": record.deadline.statutory_due_date,
        "provisional": record.deadline.provisional,
        "clock": deadlines::clock_state(record),
        "working_days_left": deadlines::working_days_left(&calendar, record, state.now().date()),
        "extended": record.extension_count > 0,
    })
}

/// Staff only: citizens see their dossier through `/api/v1/track/{code}`, which
/// carries no personal data and no internal notes.
pub(super) fn staff_only(caller: &Caller) -> Result<(), ApiError> {
    match caller {
        Caller::Citizen { .. } => Err(WorkflowError::Forbidden(
            "this view is for officers; citizens follow their dossier at /api/v1/track/{code}"
                .into(),
        )
        .into()),
        _ => Ok(()),
    }
}

/// The officers' view of a dossier, for staff of its handling unit.
#[utoipa::path(
    get,
    path = "/api/v1/dossiers/{code}",
    tag = "dossiers",
    params(("code" = String, Path, description = "The dossier's code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The dossier", body = super::schemas::DossierView,
            headers(("ETag" = String, description = "The dossier's version, quoted"))),
        super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound,
    )
)]
pub(super) async fn get_dossier(
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

/// An action on a dossier: its name (one the caller's `actions` list), a note, and
/// the payload the action takes (`documents` among it attaches components).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ActionBody {
    action: String,
    #[serde(default)]
    note: String,
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    payload: Value,
}

pub(super) fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
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

/// Takes an action on a dossier, guarded by its version (`If-Match`): staff of the
/// handling unit, or the citizen for the citizen's actions.
#[utoipa::path(
    post,
    path = "/api/v1/dossiers/{code}/actions",
    tag = "dossiers",
    params(
        ("code" = String, Path, description = "The dossier's code"),
        ("If-Match" = Option<String>, Header, description = "The dossier's version as last read (its `version`, or the `ETag`); required"),
    ),
    request_body = ActionBody,
    security(("bearer" = []), ("tracking_secret" = [])),
    responses(
        (status = 200, description = "The dossier after the action: the officers' view, or the tracking view to a citizen", body = super::schemas::ActionAnswer),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Conflict, super::openapi::PayloadTooLarge,
        super::openapi::Unprocessable, super::openapi::PreconditionRequired, super::openapi::BadGateway,
    )
)]
pub(super) async fn act(
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
    Ok(match caller {
        Caller::Citizen { .. } => {
            Json(track_view(&state, &record, &build, &actor).await?).into_response()
        }
        _ => Json(dossier_view(&state, &record, &actor).await?).into_response(),
    })
}

/// Whether the dossier's hash chain verifies.
#[utoipa::path(
    get,
    path = "/api/v1/dossiers/{code}/audit",
    tag = "dossiers",
    params(("code" = String, Path, description = "The dossier's code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The chain's verdict", body = super::schemas::Audit),
        super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound,
    )
)]
pub(super) async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    path_code(&code, "dossier")?;
    let caller = caller(&state, &headers).await?;
    staff_only(&caller)?;
    let (record, _build, _actor) = state.dossier_for(&caller, &code).await?;
    let events = state.history_of(&record).await?;
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct InboxParams {
    status: Option<String>,
    /// `overdue` or `soon`.
    due: Option<String>,
    /// `due` (earliest due date first) or `submitted` (newest first, the default).
    sort: Option<String>,
    procedure: Option<String>,
    /// Numbered pages, for the first ones; `after` reaches any page at the same cost.
    page: Option<i64>,
    per_page: Option<i64>,
    /// The `next` token of the page before: the page after it.
    after: Option<String>,
}

/// How far numbered pages reach into an inbox (rows skipped); further on, `after`.
const MAX_OFFSET: i64 = 10_000;

/// A unit's inbox, for its own staff: filtered, sorted, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/units/{unit}/dossiers",
    tag = "dossiers",
    params(("unit" = String, Path, description = "The unit's code", example = "xuan-hoa"), InboxParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of the inbox", body = super::schemas::Inbox),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Unprocessable,
    )
)]
pub(super) async fn inbox(
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
    let today = state.now().date();
    let calendar = state.runtime.calendar();
    let day = |date: chrono::NaiveDate| date.format("%Y-%m-%d").to_string();
    let due = match params.due.as_deref() {
        None | Some("") => None,
        Some("overdue") => Some(DueFilter::Overdue { today: day(today) }),
        Some("soon") => Some(DueFilter::Soon {
            today: day(today),
            until: day(calendar.add_working_days(today, deadlines::DUE_SOON_WORKING_DAYS)),
        }),
        Some(other) => {
            return Err(ApiError::BadQuery(format!(
                "due `{}` is not `overdue` or `soon`",
                other.escape_debug()
            )));
        }
    };
    let sort_by_due = match params.sort.as_deref() {
        None | Some("") | Some("submitted") => false,
        Some("due") => true,
        Some(other) => {
            return Err(ApiError::BadQuery(format!(
                "sort `{}` is not `due` or `submitted`",
                other.escape_debug()
            )));
        }
    };
    let procedure = match params.procedure.as_deref() {
        None | Some("") => None,
        Some(code) => {
            crate::workflow::check_text("procedure", code, false)?;
            Some(code.to_string())
        }
    };
    let per_page = params.per_page.unwrap_or(20);
    let page = params.page.unwrap_or(1);
    if !(1..=200).contains(&per_page) || page < 1 {
        return Err(ApiError::BadQuery(
            "page is 1 or more; per_page is 1 to 200".into(),
        ));
    }
    let offset = (page - 1).saturating_mul(per_page);
    if offset > MAX_OFFSET {
        return Err(ApiError::BadQuery(format!(
            "numbered pages reach the first {MAX_OFFSET} dossiers; page on with `after` (the `next` of each page)"
        )));
    }
    let after = match params.after.as_deref() {
        None | Some("") => None,
        Some(token) => {
            if params.page.is_some() {
                return Err(ApiError::BadQuery(
                    "send `page` or `after`, not both".into(),
                ));
            }
            Some(
                InboxCursor::decode(token)
                    .filter(|cursor| cursor.fits(sort_by_due))
                    .ok_or_else(|| {
                        ApiError::BadQuery(
                            "`after` is not the `next` of a page of this inbox in this order"
                                .into(),
                        )
                    })?,
            )
        }
    };
    let inbox = state
        .store
        .inbox(&InboxQuery {
            unit: unit.clone(),
            status,
            procedure,
            due,
            sort_by_due,
            limit: per_page,
            after,
            offset,
        })
        .await
        .map_err(WorkflowError::from)?;
    let (items, total) = (inbox.rows, inbox.total);
    Ok(Json(json!({
        "unit": unit,
        "page": page,
        "per_page": per_page,
        "total": total,
        "next": inbox.next.as_ref().map(InboxCursor::encode),
        "items": items.iter().map(|row| json!({
            "code": row.code,
            "procedure": row.procedure_code,
            "step": row.step,
            "status": status_view(row.status),
            "applicant": row.applicant_name,
            "channel": row.channel,
            "submitted_at": row.submitted_at,
            "due_date": row.due_date,
            "due_provisional": row.due_provisional,
            "working_days_left": row.due_date.as_deref()
                .and_then(|due| chrono::NaiveDate::parse_from_str(due, "%Y-%m-%d").ok())
                .filter(|_| deadlines::clock_runs(row.status))
                .map(|due| calendar.working_days_between(today, due)),
            "version": row.version,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct TrackParams {
    /// The tracking secret, for a plain link; or send it as `X-Tracking-Secret`.
    secret: Option<String>,
}

/// What the citizen sees of their dossier, by its code and tracking secret.
#[utoipa::path(
    get,
    path = "/api/v1/track/{code}",
    tag = "dossiers",
    params(("code" = String, Path, description = "The dossier's code"), TrackParams),
    security(("tracking_secret" = []), ()),
    responses(
        (status = 200, description = "The tracking view", body = super::schemas::TrackView),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::NotFound,
    )
)]
pub(super) async fn track(
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
pub(super) async fn track_view(
    state: &AppState,
    record: &DossierRecord,
    build: &PluginBuild,
    actor: &Actor,
) -> Result<Value, ApiError> {
    let events = state.history_of(record).await?;
    // The status history: a file stored does not move the dossier.
    let history: Vec<Value> = events
        .iter()
        .filter(|event| {
            !matches!(
                event.action.as_str(),
                ATTACH_DOCUMENT_ACTION | ATTACH_RESULT_ACTION
            )
        })
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
        "step": { "id": record.step, "name": step_name(Some(build), record) },
        "submitted_at": record.submitted_at,
        "received_at": record.received_at,
        "due_date": record.due_date,
        "due": due_view(state, record),
        "rating": record.facts.rating,
        "result": record.result.as_ref().map(|result| json!({
            "kind": result.kind,
            "name": result.name,
            "file": result.file.as_ref().map(|file| json!({
                "sha256": file.sha256, "size": file.size, "content_type": file.content_type,
            })),
            // Ready to download: returned, with its electronic file.
            "ready_to_download": record.status == Status::Returned && result.file.is_some(),
            "download": (record.status == Status::Returned && result.file.is_some())
                .then(|| format!("/api/v1/dossiers/{}/result", record.code)),
        })),
        "fees": { "requested_vnd": record.fees_requested_vnd, "paid_vnd": record.fees_paid_vnd },
        "pending_supplement": Workflow::pending_supplement(record, &events),
        "history": history,
        "version": record.version,
        "actions": actions,
    }))
}

/// The citizen's one rating of a returned dossier.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RatingBody {
    /// `very-satisfied`, `satisfied` or `dissatisfied`.
    rating: String,
    #[serde(default)]
    comment: String,
}

/// The citizen rates their returned dossier, once (`X-Tracking-Secret`).
#[utoipa::path(
    post,
    path = "/api/v1/dossiers/{code}/rating",
    tag = "dossiers",
    params(("code" = String, Path, description = "The dossier's code")),
    request_body = RatingBody,
    security(("tracking_secret" = [])),
    responses(
        (status = 200, description = "The tracking view, rated", body = super::schemas::TrackView),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Unprocessable,
    )
)]
pub(super) async fn rate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    path_code(&code, "dossier")?;
    let caller = caller(&state, &headers).await?;
    let body: RatingBody = parse_body(&body_bytes(body)?)?;
    let record = state
        .rate(&caller, &code, &body.rating, &body.comment)
        .await?;
    let (record, build, actor) = state.dossier_for(&caller, &record.code).await?;
    Ok(Json(track_view(&state, &record, &build, &actor).await?).into_response())
}
