//! The files of a dossier over HTTP (docs/decisions/0018-documents.md):
//! `PUT|GET /api/v1/dossiers/{code}/documents/{sha256}` for components,
//! `PUT /api/v1/dossiers/{code}/result/{sha256}` and `GET /api/v1/dossiers/{code}/result`
//! for the electronic result. Bodies are raw bytes, streamed to the content store.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http_body_util::LengthLimitError;
use serde_json::json;

use super::{ApiError, AppState, caller, path_code, query};
use crate::documents::{self, ContentError, Fetched};
use crate::workflow::documents::Attached;
use crate::workflow::{Caller, WorkflowError};

/// The request body as the content store reads it: a body over the route's limit is
/// `TooLarge`, a connection that breaks is `Interrupted`.
fn content_body(body: Body, limit: u64) -> documents::Body {
    Box::pin(body.into_data_stream().map(move |chunk| {
        chunk.map_err(|error| {
            let inner = error.into_inner();
            if inner.downcast_ref::<LengthLimitError>().is_some() {
                ContentError::TooLarge { limit }
            } else {
                ContentError::Interrupted(inner.to_string())
            }
        })
    }))
}

/// What an upload did. Whether the same bytes were already stored is told to staff
/// only: to a citizen it would say that someone else filed the same file.
fn attached_view(attached: &Attached, caller: &Caller) -> Response {
    let status = if attached.newly_attached {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut view = json!({
        "sha256": attached.file.sha256,
        "size": attached.file.size,
        "content_type": attached.file.content_type,
    });
    if matches!(caller, Caller::Staff(_)) {
        view["already_stored"] = json!(attached.already_stored);
    }
    if !attached.components.is_empty() {
        view["components"] = json!(attached.components);
    }
    (status, Json(view)).into_response()
}

/// A file's bytes with what a browser needs to save it, and its address as the ETag.
fn file_response(fetched: Fetched, content_type: &str, sha256: &str, name: &str) -> Response {
    let length = fetched.bytes.len();
    let mut response = (StatusCode::OK, Body::from_stream(fetched.into_stream())).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("\"{sha256}\"")) {
        headers.insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&content_disposition(name, content_type)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// `attachment` with the name as RFC 5987 UTF-8 (Vietnamese names keep their marks) and
/// an ASCII fallback.
fn content_disposition(name: &str, content_type: &str) -> String {
    let extension = match content_type {
        "application/pdf" => ".pdf",
        "image/jpeg" => ".jpg",
        "image/png" => ".png",
        _ => "",
    };
    let full = format!("{name}{extension}");
    let ascii: String = full
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = full
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

fn sha256_path(value: &str) -> Result<(), ApiError> {
    if documents::is_sha256(&value.to_ascii_lowercase()) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "`{}` is not a sha256 content address (64 hexadecimal digits)",
            value.escape_debug()
        )))
    }
}

/// Uploads the file of a declared component: the raw bytes, checked against the
/// sha256 and size it was declared with, and their type recognised from the bytes.
#[utoipa::path(
    put,
    path = "/api/v1/dossiers/{code}/documents/{sha256}",
    tag = "documents",
    params(
        ("code" = String, Path, description = "The dossier's code"),
        ("sha256" = String, Path, description = "The declared component's sha256 (64 hexadecimal digits)"),
    ),
    request_body(content = super::schemas::Binary, content_type = "application/octet-stream", description = "The file's bytes"),
    security(("bearer" = []), ("tracking_secret" = [])),
    responses(
        (status = 201, description = "Stored and attached", body = super::schemas::Attached),
        (status = 200, description = "The dossier already held this file", body = super::schemas::Attached),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::RequestTimeout, super::openapi::Conflict,
        super::openapi::PayloadTooLarge, super::openapi::UnsupportedMediaType, super::openapi::Unprocessable,
    )
)]
pub(super) async fn put_component(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((code, sha256)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    path_code(&code, "dossier")?;
    sha256_path(&sha256)?;
    let caller = caller(&state, &headers).await?;
    let limit = state.document_limits.max_file_bytes;
    let attached = state
        .attach_component(&caller, &code, &sha256, content_body(body, limit))
        .await?;
    Ok(attached_view(&attached, &caller))
}

/// Reads a component's file, checked against its sha256.
#[utoipa::path(
    get,
    path = "/api/v1/dossiers/{code}/documents/{sha256}",
    tag = "documents",
    params(
        ("code" = String, Path, description = "The dossier's code"),
        ("sha256" = String, Path, description = "The component's sha256"),
    ),
    security(("bearer" = []), ("tracking_secret" = [])),
    responses(
        (status = 200, description = "The file, as stored", content(
                (super::schemas::Binary = "application/pdf"),
                (super::schemas::Binary = "image/jpeg"),
                (super::schemas::Binary = "image/png"),
                (super::schemas::Binary = "image/gif"),
                (super::schemas::Binary = "application/octet-stream"),
            ),
            headers(
                ("ETag" = String, description = "The file's sha256, quoted"),
                ("Content-Disposition" = String, description = "`attachment` with the component's name"),
            )),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound,
    )
)]
pub(super) async fn get_component(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((code, sha256)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    path_code(&code, "dossier")?;
    sha256_path(&sha256)?;
    let caller = caller(&state, &headers).await?;
    Ok(component_download(&state, &caller, &code, &sha256).await?)
}

/// A component's file as a download, for the API and the console alike: the workflow's
/// tenancy and checks, the bytes checked against their address, and the headers a
/// browser needs to save it.
pub(crate) async fn component_download(
    state: &AppState,
    caller: &Caller,
    code: &str,
    sha256: &str,
) -> Result<Response, WorkflowError> {
    let (document, bytes) = state.component_content(caller, code, sha256).await?;
    let content_type = document
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    Ok(file_response(
        bytes,
        content_type,
        &document.sha256,
        &document.name,
    ))
}

/// Attaches the electronic result's file, once a result is issued.
#[utoipa::path(
    put,
    path = "/api/v1/dossiers/{code}/result/{sha256}",
    tag = "documents",
    params(
        ("code" = String, Path, description = "The dossier's code"),
        ("sha256" = String, Path, description = "The file's sha256 (64 hexadecimal digits)"),
    ),
    request_body(content = super::schemas::Binary, content_type = "application/octet-stream", description = "The file's bytes, with `Content-Length`"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored and attached", body = super::schemas::Attached),
        (status = 200, description = "The dossier already held this file", body = super::schemas::Attached),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::RequestTimeout, super::openapi::Conflict,
        super::openapi::LengthRequired, super::openapi::PayloadTooLarge, super::openapi::UnsupportedMediaType, super::openapi::Unprocessable,
    )
)]
pub(super) async fn put_result(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((code, sha256)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    path_code(&code, "dossier")?;
    sha256_path(&sha256)?;
    let caller = caller(&state, &headers).await?;
    let size = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let limit = state.document_limits.max_file_bytes;
    let attached = state
        .attach_result(&caller, &code, &sha256, size, content_body(body, limit))
        .await?;
    Ok(attached_view(&attached, &caller))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ResultParams {
    /// The tracking secret, for a plain download link (as `GET /api/v1/track/{code}`).
    secret: Option<String>,
}

/// Reads the result's file: the citizen once the dossier is returned; staff of the
/// handling unit.
#[utoipa::path(
    get,
    path = "/api/v1/dossiers/{code}/result",
    tag = "documents",
    params(("code" = String, Path, description = "The dossier's code"), ResultParams),
    security(("bearer" = []), ("tracking_secret" = []), ()),
    responses(
        (status = 200, description = "The result's file, as stored", content(
                (super::schemas::Binary = "application/pdf"),
                (super::schemas::Binary = "image/jpeg"),
                (super::schemas::Binary = "image/png"),
                (super::schemas::Binary = "image/gif"),
                (super::schemas::Binary = "application/octet-stream"),
            ),
            headers(
                ("ETag" = String, description = "The file's sha256, quoted"),
                ("Content-Disposition" = String, description = "`attachment` with the result's name"),
            )),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Conflict,
    )
)]
pub(super) async fn get_result(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    params: Result<Query<ResultParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    path_code(&code, "dossier")?;
    let params = query(params)?;
    let caller = match (caller(&state, &headers).await?, params.secret) {
        (Caller::Anonymous, Some(secret)) => Caller::Citizen { secret },
        (caller, _) => caller,
    };
    Ok(result_download(&state, &caller, &code).await?)
}

/// The result's file as a download, for the API and the console alike.
pub(crate) async fn result_download(
    state: &AppState,
    caller: &Caller,
    code: &str,
) -> Result<Response, WorkflowError> {
    let (result, file, bytes) = state.result_content(caller, code).await?;
    Ok(file_response(
        bytes,
        &file.content_type,
        &file.sha256,
        &result.name,
    ))
}
