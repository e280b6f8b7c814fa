//! `ApiError` and the RFC 9457 problem bodies every error is answered with.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::documents::ContentError;
use crate::registry::RegistryError;
use crate::reports::ReportError;
use crate::runtime::{RuntimeError, Saturation};
use crate::units::UnitsError;
use crate::workflow::WorkflowError;
use crate::workflow::calendar::CalendarLoadError;
use crate::workflow::documents::FileRefusal;

#[derive(Debug)]
pub enum ApiError {
    BadJson(String),
    BodyTooLarge(String),
    MethodNotAllowed,
    BadQuery(String),
    InvalidToken,
    /// The token's account was revoked; the detail says when and what to do.
    TokenRevoked(String),
    /// The token's account expired; the detail says when and what to do.
    TokenExpired(String),
    NotFound(String),
    UnsupportedMediaType(String),
    Units(UnitsError),
    Workflow(WorkflowError),
    Registry(RegistryError),
    Calendar(CalendarLoadError),
    Report(ReportError),
    /// A fee schedule cannot be computed from the form given.
    FeeQuote(String),
}

impl From<CalendarLoadError> for ApiError {
    fn from(error: CalendarLoadError) -> Self {
        ApiError::Calendar(error)
    }
}

impl From<ReportError> for ApiError {
    fn from(error: ReportError) -> Self {
        ApiError::Report(error)
    }
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        ApiError::Registry(error)
    }
}

impl From<UnitsError> for ApiError {
    fn from(error: UnitsError) -> Self {
        ApiError::Units(error)
    }
}

impl From<WorkflowError> for ApiError {
    fn from(error: WorkflowError) -> Self {
        ApiError::Workflow(error)
    }
}

pub(super) fn problem(
    status: StatusCode,
    slug: &str,
    title: &str,
    detail: String,
    extra: Value,
) -> Response {
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
            ApiError::TokenRevoked(detail) => problem(
                S::UNAUTHORIZED,
                "token-revoked",
                "Token revoked",
                detail,
                none,
            ),
            ApiError::TokenExpired(detail) => problem(
                S::UNAUTHORIZED,
                "token-expired",
                "Token expired",
                detail,
                none,
            ),
            ApiError::NotFound(detail) => {
                problem(S::NOT_FOUND, "not-found", "Not found", detail, none)
            }
            ApiError::UnsupportedMediaType(detail) => problem(
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                detail,
                none,
            ),
            ApiError::Units(error) => units_problem(error),
            ApiError::Workflow(error) => workflow_problem(error),
            ApiError::Registry(error) => registry_problem(error),
            ApiError::Calendar(CalendarLoadError::Invalid(errors)) => problem(
                S::UNPROCESSABLE_ENTITY,
                "invalid-calendar",
                "The holiday table has problems",
                format!(
                    "the table has {} problem(s), each named by line and field; nothing was loaded",
                    errors.len()
                ),
                json!({ "errors": errors }),
            ),
            ApiError::Calendar(CalendarLoadError::Store(error)) => {
                workflow_problem(WorkflowError::Store(error))
            }
            ApiError::Report(error) => report_problem(error),
            ApiError::FeeQuote(detail) => problem(
                S::UNPROCESSABLE_ENTITY,
                "fee-not-computable",
                "The fees cannot be computed from this form",
                detail,
                none,
            ),
        }
    }
}

pub(super) fn workflow_problem(error: WorkflowError) -> Response {
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
        WorkflowError::BuildUnavailable(unavailable) => build_unavailable(unavailable),
        WorkflowError::File { refusal, message } => file_problem(refusal, message),
        WorkflowError::Content(error) => content_problem(error),
        WorkflowError::Store(error) if error.is_unavailable() => {
            tracing::warn!(%error, "the database is unavailable");
            let mut response = problem(
                S::SERVICE_UNAVAILABLE,
                "database-unavailable",
                "Database unavailable",
                "the database cannot be reached just now; nothing was changed. Try again shortly"
                    .into(),
                none,
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
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

/// A file request refused for a reason of the dossier's.
fn file_problem(refusal: FileRefusal, detail: String) -> Response {
    use StatusCode as S;
    let (status, title, extra) = match &refusal {
        FileRefusal::NotDeclared => (S::NOT_FOUND, "No such component", Value::Null),
        FileRefusal::NotStored => (S::NOT_FOUND, "File not uploaded yet", Value::Null),
        FileRefusal::ResultFileMissing => (S::NOT_FOUND, "No result file", Value::Null),
        FileRefusal::NoResult => (S::CONFLICT, "No result issued yet", Value::Null),
        FileRefusal::ResultFileAttached => {
            (S::CONFLICT, "Result file already attached", Value::Null)
        }
        FileRefusal::ResultNotReady => (S::CONFLICT, "Result not returned yet", Value::Null),
        FileRefusal::DocumentTooLarge { limit } => (
            S::PAYLOAD_TOO_LARGE,
            "Document too large",
            json!({ "limit": limit }),
        ),
        FileRefusal::DossierTooLarge { limit } => (
            S::PAYLOAD_TOO_LARGE,
            "The dossier's documents are too large",
            json!({ "limit": limit }),
        ),
        FileRefusal::SizeConflict => (
            S::UNPROCESSABLE_ENTITY,
            "One file declared with two sizes",
            Value::Null,
        ),
        FileRefusal::ResultChanged => (S::CONFLICT, "Result issued again", Value::Null),
        FileRefusal::LengthRequired => (S::LENGTH_REQUIRED, "Content-Length required", Value::Null),
        FileRefusal::Contended => (S::SERVICE_UNAVAILABLE, "Dossier busy", Value::Null),
    };
    let mut response = problem(status, refusal.name(), title, detail, extra);
    if refusal == FileRefusal::Contended {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// What the content store refused or could not do. A stored file that is missing or
/// corrupt is the province's fault, not the caller's: 503 naming the file (never
/// wrong bytes), logged for the operator (`motcua documents verify`).
fn content_problem(error: ContentError) -> Response {
    use StatusCode as S;
    let detail = error.to_string();
    match error {
        ContentError::TooLarge { limit } => problem(
            S::PAYLOAD_TOO_LARGE,
            "document-too-large",
            "Document too large",
            detail,
            json!({ "limit": limit }),
        ),
        ContentError::SizeMismatch { declared, received } => problem(
            S::UNPROCESSABLE_ENTITY,
            "document-size-mismatch",
            "The file is not the declared size",
            detail,
            json!({ "declared": declared, "received": received }),
        ),
        ContentError::DigestMismatch { declared, received } => problem(
            S::UNPROCESSABLE_ENTITY,
            "document-digest-mismatch",
            "The file is not the declared one",
            detail,
            json!({ "declared": declared, "received": received }),
        ),
        ContentError::UnsupportedType { detected, allowed } => problem(
            S::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-document-type",
            "Document type not accepted",
            detail,
            json!({ "detected": detected, "allowed": allowed }),
        ),
        ContentError::Interrupted(_) => problem(
            S::BAD_REQUEST,
            "upload-interrupted",
            "Upload cut short",
            detail,
            Value::Null,
        ),
        ContentError::Stalled { seconds } => problem(
            S::REQUEST_TIMEOUT,
            "upload-stalled",
            "Upload stalled",
            detail,
            json!({ "limit_seconds": seconds }),
        ),
        ContentError::TooSlow => problem(
            S::REQUEST_TIMEOUT,
            "upload-too-slow",
            "Upload too slow",
            detail,
            json!({ "min_bytes_per_second": 32 * 1024 }),
        ),
        ContentError::Busy => {
            let mut response = problem(
                S::SERVICE_UNAVAILABLE,
                "busy",
                "Too many transfers",
                detail,
                json!({ "saturated": "documents" }),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
        ContentError::Missing { sha256 } => {
            tracing::error!(%sha256, "a stored document is missing from the document store");
            problem(
                S::SERVICE_UNAVAILABLE,
                "document-missing",
                "Stored document missing",
                detail,
                json!({ "sha256": sha256 }),
            )
        }
        ContentError::Corrupt { sha256, actual } => {
            tracing::error!(%sha256, %actual, "a stored document is corrupt");
            problem(
                S::SERVICE_UNAVAILABLE,
                "document-corrupt",
                "Stored document corrupt",
                detail,
                json!({ "sha256": sha256 }),
            )
        }
        ContentError::Backend(error) => {
            tracing::error!(%error, "document store failure");
            problem(
                S::SERVICE_UNAVAILABLE,
                "document-store-unavailable",
                "Document store unavailable",
                "the document store did not answer; try again later".into(),
                Value::Null,
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
        // A host too busy to check the component is not the component's fault.
        RegistryError::Plugin(error @ RuntimeError::Busy { .. }) => plugin_problem(error),
        // Whatever the component did wrong while being checked, the publisher sent it.
        RegistryError::Plugin(error) => problem(
            S::UNPROCESSABLE_ENTITY,
            "component-rejected",
            "Component rejected",
            error.to_string(),
            Value::Null,
        ),
        RegistryError::SettingsTooLarge { cap, input_cap, .. } => problem(
            S::PAYLOAD_TOO_LARGE,
            "settings-too-large",
            "Settings too large",
            detail,
            json!({ "cap": cap, "input_cap": input_cap }),
        ),
        RegistryError::Forbidden(_) => {
            problem(S::FORBIDDEN, "forbidden", "Forbidden", detail, Value::Null)
        }
        RegistryError::Unavailable(unavailable) => build_unavailable(unavailable),
        RegistryError::Store(error) => workflow_problem(WorkflowError::Store(error)),
    }
}

/// 503 naming the build that is not loaded: the operator's to fix (see `/readyz`).
fn build_unavailable(unavailable: crate::registry::Unavailable) -> Response {
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "build-unavailable",
        "Plugin build unavailable",
        unavailable.to_string(),
        json!({ "build": {
            "plugin": unavailable.code,
            "version": unavailable.version,
            "sha256": unavailable.sha256,
            "reason": unavailable.reason,
        } }),
    )
}

fn units_problem(error: UnitsError) -> Response {
    use StatusCode as S;
    match error {
        UnitsError::Invalid(errors) => {
            let summary: Vec<String> = errors.iter().map(ToString::to_string).collect();
            problem(
                S::UNPROCESSABLE_ENTITY,
                "invalid-unit",
                "Invalid unit",
                format!(
                    "fix these fields; nothing was written: {}",
                    summary.join("; ")
                ),
                json!({ "errors": errors }),
            )
        }
        UnitsError::Conflict(detail) => {
            problem(S::CONFLICT, "conflict", "Conflict", detail, Value::Null)
        }
        UnitsError::Store(error) => workflow_problem(WorkflowError::Store(error)),
    }
}

fn report_problem(error: ReportError) -> Response {
    use StatusCode as S;
    let detail = error.to_string();
    match error {
        ReportError::BadQuery(_) => problem(
            S::BAD_REQUEST,
            "bad-query",
            "Bad query parameter",
            detail,
            Value::Null,
        ),
        ReportError::Forbidden(_) => {
            problem(S::FORBIDDEN, "forbidden", "Forbidden", detail, Value::Null)
        }
        ReportError::Invalid(_) => problem(
            S::UNPROCESSABLE_ENTITY,
            "invalid-request",
            "Invalid request",
            detail,
            Value::Null,
        ),
        ReportError::Store(error) => workflow_problem(WorkflowError::Store(error)),
    }
}

fn plugin_problem(error: RuntimeError) -> Response {
    use StatusCode as S;
    let detail = error.to_string();
    tracing::warn!(%error, "plugin call failed");
    match error {
        RuntimeError::Busy { saturated } => {
            // Names what was saturated (the unit, the build or the host), never the
            // caller's plugin as if it had failed.
            let extensions = match saturated {
                Saturation::Unit { unit, .. } => json!({ "saturated": "unit", "unit": unit }),
                Saturation::Build { build, .. } => {
                    json!({ "saturated": "build", "build": build })
                }
                Saturation::Host { .. } | Saturation::Starved { .. } => {
                    json!({ "saturated": "host" })
                }
            };
            let mut response = problem(S::SERVICE_UNAVAILABLE, "busy", "Busy", detail, extensions);
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
