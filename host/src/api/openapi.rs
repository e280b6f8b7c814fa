//! The API described: an OpenAPI 3.1 document, `GET /api/v1/openapi.json`
//! (docs/decisions/0023-openapi.md).
//!
//! Nothing here lists the routes. Each handler carries its own `#[utoipa::path]`
//! (method, path, parameters, body, answers), and [`super::routes`] builds the router
//! and the document from one list of those handlers with utoipa-axum: a route cannot
//! be served without being described, nor described with another path or method than
//! the one it is served at. What is true of every route alike is added here, by the
//! same rules the front door applies (`front_door::gate`): the problems of a request
//! head too large, a body too large or too slow, the per-address quotas, an overloaded
//! host; the `X-Request-Id` every request may carry and every answer echoes; the two
//! ways of saying who calls (a staff bearer token, a citizen's tracking secret).

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, OpenApi, Ref, RefOr, Required};
use utoipa::{IntoResponses, PartialSchema as _, ToSchema};

use super::schemas;

/// The document's fixed part: what it is about, the shared schemas, the tags.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "motcua",
        description = "A province's administrative procedures: filing, tracking and working \
            dossiers, the plugin registry, units, staff accounts, the holiday calendar, \
            reports and the national sync feed. Every error is an RFC 9457 problem \
            (`application/problem+json`, `type` `urn:motcua:problem:<name>`). Staff send \
            `Authorization: Bearer <token>`; citizens send `X-Tracking-Secret: <secret>`."
    ),
    components(schemas(Problem)),
    tags(
        (name = "health", description = "Liveness, readiness, metrics and this document"),
        (name = "dossiers", description = "Filing, the dossier, actions, audit, rating, replay, the inbox, tracking"),
        (name = "documents", description = "The files of a dossier's components and of its result"),
        (name = "registry", description = "Plugins, rollouts and what each unit offers"),
        (name = "units", description = "The province's units and their staff accounts"),
        (name = "calendar", description = "The holiday calendar"),
        (name = "reports", description = "The processing report, the national indicators, the scoring table"),
        (name = "sync", description = "The national sync feed"),
    )
)]
pub(super) struct ApiDoc;

/// An RFC 9457 problem: how every error is answered, with its extension members (the
/// findings of a refused filing, the current version of a stale dossier, the limit
/// that was passed...) beside the four standard ones.
#[derive(serde::Serialize, ToSchema)]
#[allow(dead_code)] // Describes what `problems::problem` writes; never built.
pub(crate) struct Problem {
    /// `urn:motcua:problem:<name>`, the name saying what went wrong.
    #[serde(rename = "type")]
    #[schema(example = "urn:motcua:problem:dossier-not-found")]
    kind: String,
    title: String,
    /// The HTTP status, repeated.
    status: u16,
    /// What happened and what to do about it, for a person.
    detail: String,
}

/// Declares a problem answer of one status, for the `responses(...)` of handlers.
macro_rules! problem_answer {
    ($(#[doc = $doc:tt])* $name:ident = $status:tt) => {
        $(#[doc = $doc])*
        #[derive(IntoResponses)]
        #[response(status = $status, content_type = "application/problem+json")]
        #[allow(dead_code)] // Describes an answer; never built.
        pub(crate) struct $name(Problem);
    };
}

problem_answer!(
    /// `malformed-json` (a body that is not the JSON this endpoint takes), `bad-query`
    /// (a query parameter or header value it cannot read), `bad-request` (a path that is
    /// not UTF-8), `upload-interrupted`.
    BadRequest = 400
);
problem_answer!(
    /// `unauthenticated` (no credentials), `invalid-token`, `token-revoked`,
    /// `token-expired`.
    Unauthorized = 401
);
problem_answer!(
    /// `forbidden`: the caller may not do this here (another unit, another role).
    Forbidden = 403
);
problem_answer!(
    /// `not-found`, `dossier-not-found`, or a file not declared or not stored yet.
    NotFound = 404
);
problem_answer!(
    /// `upload-stalled`, `upload-too-slow`: the file stopped arriving.
    RequestTimeout = 408
);
problem_answer!(
    /// `stale-version` (with `current_version`), `version-clash`, `conflict`, or a
    /// result file refused in the dossier's state.
    Conflict = 409
);
problem_answer!(
    /// `length-required`: the result's upload must say its `Content-Length`.
    LengthRequired = 411
);
problem_answer!(
    /// `body-too-large`, `input-too-large`, `plugin-too-large`, `document-too-large`,
    /// `settings-too-large` (with the `limit`).
    PayloadTooLarge = 413
);
problem_answer!(
    /// `unsupported-media-type`, `unsupported-document-type`.
    UnsupportedMediaType = 415
);
problem_answer!(
    /// `invalid-request`, `findings` (every blocking finding), `action-not-available`,
    /// `refused` (the procedure's rules), `decision-rejected`, `invalid-unit`,
    /// `invalid-settings`, `invalid-calendar`, `component-rejected`, and the other
    /// checks of what was sent.
    Unprocessable = 422
);
problem_answer!(
    /// `version-required`: send the dossier's version as `If-Match`.
    PreconditionRequired = 428
);
problem_answer!(
    /// `plugin-failed`: the procedure's plugin trapped, ran out of time or memory, or
    /// answered nonsense; the answer names the build.
    BadGateway = 502
);

/// The document as served: built once, on first request.
pub(crate) fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let (_, doc) = super::routes().split_for_parts();
        finish(doc)
            .to_json()
            .expect("the OpenAPI document serialises")
    })
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "health",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this API", body = schemas::OpenApiDocument),
    )
)]
pub(super) async fn openapi_json() -> axum::response::Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}

/// What every operation has alike, added by the front door's own rules.
fn finish(mut doc: OpenApi) -> OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A staff account's token (`motcua token create`, or an admin's \
                     `POST /api/v1/units/{unit}/accounts`); the demo's are `demo-<unit>-<role>`.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "tracking_secret",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-Tracking-Secret",
            "The secret a citizen was given when filing, for their own dossier.",
        ))),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations(item) {
            finish_operation(method, path, operation);
        }
    }
    doc
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("GET", item.get.as_mut()),
        ("PUT", item.put.as_mut()),
        ("POST", item.post.as_mut()),
        ("DELETE", item.delete.as_mut()),
        ("PATCH", item.patch.as_mut()),
        ("HEAD", item.head.as_mut()),
        ("OPTIONS", item.options.as_mut()),
        ("TRACE", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|operation| (method, operation)))
    .collect()
}

fn finish_operation(method: &str, path: &str, operation: &mut Operation) {
    let has_body = operation.request_body.is_some();
    let has_parameters = operation
        .parameters
        .as_ref()
        .is_some_and(|parameters| !parameters.is_empty());
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(
            ParameterBuilder::new()
                .name("X-Request-Id")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "The caller's id for this request (up to 64 letters, digits, `-`, `_`, \
                     `.`), echoed in the answer and logged; any other value is replaced by a new id.",
                ))
                .schema(Some(String::schema()))
                .build(),
        );
    let responses = &mut operation.responses.responses;
    let mut add = |status: &str, description: &str, retry_after: bool| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| problem(description, retry_after).into());
    };
    if has_body || has_parameters {
        add(
            "400",
            "`malformed-json`, `bad-query`, `bad-request` (a path not UTF-8), \
             `body-unreadable`: the request could not be read",
            false,
        );
    }
    if has_body {
        add(
            "408",
            "`body-timeout`: the body did not arrive in time",
            false,
        );
        add(
            "413",
            "`body-too-large` and the like: the body is over this endpoint's limit",
            false,
        );
    }
    if super::front_door::gate::has_quota(method, path) {
        add(
            "429",
            "`rate-limited`: this address has used its quota; `Retry-After` says when to come back",
            true,
        );
    }
    add(
        "414",
        "`uri-too-long`: the request target is over the front door's limit",
        false,
    );
    add(
        "431",
        "`headers-too-large`: the request's headers are over the front door's limit",
        false,
    );
    add(
        "503",
        "`database-unavailable`, `busy`, `build-unavailable`, a stored file missing or \
         corrupt, or a host with all its connections taken: try again later",
        true,
    );
    // Every answer echoes the request's id.
    for response in responses.values_mut() {
        if let RefOr::T(response) = response {
            response.headers.insert(
                "X-Request-Id".to_string(),
                HeaderBuilder::new()
                    .schema(String::schema())
                    .description(Some("The request's id, the caller's or a new one"))
                    .build(),
            );
        }
    }
}

/// A problem answer described here rather than by a handler.
fn problem(description: &str, retry_after: bool) -> Response {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    if retry_after {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(i64::schema())
                .description(Some("Seconds to wait before trying again"))
                .build(),
        );
    }
    response.build()
}
