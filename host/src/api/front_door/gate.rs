//! What every request passes before its handler runs, cheapest refusal first: the
//! size of its head, its client's quota on the public routes, the staff token of a
//! request that carries a body to a staff route, the body's declared size; only then
//! is the body read, within its route's limit and the body timeout, and handed on.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, OnceLock};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Value, json};

use super::{FrontDoor, RateQuota};
use crate::api::{ApiError, AppState, caller, problem};
use crate::workflow::{Caller, WorkflowError};

/// The front door's settings in force, with the state of the rate quotas. The serving
/// path puts one on every request; a router driven without it (`oneshot`) gets the
/// default limits and no quotas, having no client address to count against.
pub struct Gate {
    front: FrontDoor,
    plugin_upload_bytes: usize,
    filing: Option<Limiter>,
    tracking: Option<Limiter>,
    citizen_actions: Option<Limiter>,
}

type Limiter = DefaultKeyedRateLimiter<IpAddr>;

impl Gate {
    /// `plugin_upload_bytes` is the registry's cap on a component
    /// (`Config::max_plugin_bytes`): a larger upload could never be published.
    pub fn new(front: FrontDoor, plugin_upload_bytes: usize) -> Gate {
        let limiter = |quota: Option<RateQuota>| {
            quota.map(|quota| {
                let per_minute =
                    NonZeroU32::new(quota.per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
                let burst = NonZeroU32::new(quota.burst.max(1)).unwrap_or(NonZeroU32::MIN);
                RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst))
            })
        };
        Gate {
            filing: limiter(front.filing_quota),
            tracking: limiter(front.tracking_quota),
            citizen_actions: limiter(front.citizen_action_quota),
            front,
            plugin_upload_bytes,
        }
    }

    pub fn front(&self) -> &FrontDoor {
        &self.front
    }

    /// Drops the quota state of clients that have been quiet long enough to be back
    /// at a full burst, so that the memory of the quotas follows active clients only.
    pub fn forget_quiet_clients(&self) {
        for limiter in [&self.filing, &self.tracking, &self.citizen_actions]
            .into_iter()
            .flatten()
        {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    fn limiter(&self, quota: QuotaKind) -> Option<&Limiter> {
        match quota {
            QuotaKind::Filing => self.filing.as_ref(),
            QuotaKind::Tracking => self.tracking.as_ref(),
            QuotaKind::CitizenAction => self.citizen_actions.as_ref(),
        }
    }
}

fn default_gate() -> Arc<Gate> {
    static DEFAULT: OnceLock<Arc<Gate>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            Arc::new(Gate::new(
                FrontDoor::default(),
                crate::registry::DEFAULT_MAX_PLUGIN_BYTES,
            ))
        })
        .clone()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QuotaKind {
    Filing,
    Tracking,
    CitizenAction,
}

impl QuotaKind {
    fn what(self) -> &'static str {
        match self {
            QuotaKind::Filing => "filings",
            QuotaKind::Tracking => "tracking requests",
            QuotaKind::CitizenAction => "citizen actions",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyClass {
    /// A plugin component: the registry's cap.
    PluginUpload,
    /// A body that becomes plugin input (a filing, an action, a unit's settings).
    PluginInput,
    /// Small JSON.
    Small,
    /// A dossier's file: streamed to the handler (never collected here) within the
    /// per-file cap; the content store abandons it when it stalls.
    Document,
    /// A filing from the console's form with its files (multipart): streamed, within
    /// the per-dossier cap and a megabyte for the form.
    ConsoleFiling,
    /// A plugin component in the console's publishing form (multipart): collected,
    /// within the registry's cap and 64 KiB for the form's boundaries and CSRF field,
    /// so that a component the registry accepts is never refused at the door.
    ConsolePluginUpload,
}

/// Whether a route (its method and pattern) counts against a per-address quota, and
/// so may answer 429: the OpenAPI document says so by this same rule.
pub(crate) fn has_quota(method: &str, path: &str) -> bool {
    Method::from_bytes(method.as_bytes()).is_ok_and(|method| route_class(&method, path).1.is_some())
}

/// How a route is treated at the door. Routes not named here are staff routes with
/// small bodies: a route that needs a bigger body or serves the public is added here.
fn route_class(method: &Method, path: &str) -> (BodyClass, Option<QuotaKind>) {
    // axum answers HEAD with the GET handler: it is counted as one.
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    match (method, path) {
        ("POST", "/api/v1/plugins") => (BodyClass::PluginUpload, None),
        ("POST", "/api/v1/dossiers") => (BodyClass::PluginInput, Some(QuotaKind::Filing)),
        ("POST", "/api/v1/dossiers/{code}/actions") => {
            (BodyClass::PluginInput, Some(QuotaKind::CitizenAction))
        }
        ("POST", "/api/v1/dossiers/{code}/rating") => {
            (BodyClass::Small, Some(QuotaKind::CitizenAction))
        }
        ("GET", "/api/v1/track/{code}") | ("GET", "/api/v1/dossiers/{code}/result") => {
            (BodyClass::Small, Some(QuotaKind::Tracking))
        }
        ("PUT", "/api/v1/dossiers/{code}/documents/{sha256}") => {
            (BodyClass::Document, Some(QuotaKind::CitizenAction))
        }
        ("PUT", "/api/v1/dossiers/{code}/result/{sha256}") => (BodyClass::Document, None),
        ("POST", "/units/{unit}/procedures/{code}/file") => {
            (BodyClass::ConsoleFiling, Some(QuotaKind::Filing))
        }
        ("GET", "/track") => (BodyClass::Small, Some(QuotaKind::Tracking)),
        // A portal's fee quote: public, with a form as big as a filing's.
        ("POST", "/api/v1/procedures/{code}/fees/quote") => {
            (BodyClass::PluginInput, Some(QuotaKind::Tracking))
        }
        ("POST", "/staff/catalog/publish") => (BodyClass::ConsolePluginUpload, None),
        // Every sign-in attempt counts, signed in or not: guessing passwords costs quota.
        ("POST", "/sign-in") => (BodyClass::Small, Some(QuotaKind::CitizenAction)),
        ("POST", "/track/supplement") => (BodyClass::ConsoleFiling, Some(QuotaKind::CitizenAction)),
        ("POST", "/track/rating") => (BodyClass::Small, Some(QuotaKind::CitizenAction)),
        ("PUT", "/api/v1/units/{unit}/settings")
        | ("PUT", "/api/v1/units/{unit}/procedures/{code}") => (BodyClass::PluginInput, None),
        // The console's settings form: a unit's settings, like the API's.
        ("POST", "/staff/units/{unit}/procedures/{code}/settings") => {
            (BodyClass::PluginInput, None)
        }
        _ => (BodyClass::Small, None),
    }
}

/// The staff caller `admit` authenticated, handed to the handler (`api::with_admitted`).
#[derive(Clone)]
struct Admitted(Caller);

/// The middleware every route of `api::app` runs behind.
pub async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let gate = request
        .extensions()
        .get::<Arc<Gate>>()
        .cloned()
        .unwrap_or_else(default_gate);
    match admit(&gate, &state, request).await {
        Ok(mut request) => match request.extensions_mut().remove::<Admitted>() {
            Some(Admitted(caller)) => super::super::with_admitted(caller, next.run(request)).await,
            None => next.run(request).await,
        },
        Err(refusal) => refusal,
    }
}

async fn admit(gate: &Gate, state: &AppState, mut request: Request) -> Result<Request, Response> {
    let front = &gate.front;
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if uri_len > front.max_uri_bytes {
        return Err(closing(problem(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            "URI too long",
            format!(
                "the request target is {uri_len} bytes; this server accepts at most {}",
                front.max_uri_bytes
            ),
            json!({ "limit": front.max_uri_bytes }),
        )));
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > front.max_header_bytes {
        return Err(closing(problem(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            "Request headers too large",
            format!(
                "the request's headers are {header_bytes} bytes; this server accepts at most {}",
                front.max_header_bytes
            ),
            json!({ "limit": front.max_header_bytes }),
        )));
    }
    // Requests no route matched are answered 404/405 without their body being read.
    let Some(path) = request.extensions().get::<MatchedPath>().cloned() else {
        return Ok(request);
    };
    let (class, quota) = route_class(request.method(), path.as_str());
    let has_body = !bodiless(&request);
    let bearer = request.headers().contains_key(header::AUTHORIZATION);

    if let Some(quota) = quota {
        // Public route: staff (a valid token) are not counted; everyone else is, and
        // so is every failed authentication, so guessing tokens costs quota too.
        let authenticated = if bearer {
            match caller(state, request.headers()).await {
                Ok(staff @ Caller::Staff(_)) => {
                    request.extensions_mut().insert(Admitted(staff));
                    Ok(())
                }
                Ok(_) => Err(ApiError::Workflow(WorkflowError::Unauthenticated)),
                Err(error) => Err(error),
            }
        } else {
            Err(ApiError::Workflow(WorkflowError::Unauthenticated))
        };
        if authenticated.is_err() {
            charge(gate, quota, &request)?;
        }
        if let (true, Err(error)) = (bearer, authenticated) {
            return Err(closing_if(has_body, error.into_response()));
        }
        // A citizen's action or rating needs the tracking secret (or a staff token):
        // without either, the answer is 401 whatever the body says, so it is not read.
        let citizen_route = matches!(
            path.as_str(),
            "/api/v1/dossiers/{code}/actions"
                | "/api/v1/dossiers/{code}/rating"
                | "/api/v1/dossiers/{code}/documents/{sha256}"
        );
        if citizen_route && !bearer && !request.headers().contains_key("x-tracking-secret") {
            return Err(closing_if(
                has_body,
                ApiError::Workflow(WorkflowError::Unauthenticated).into_response(),
            ));
        }
    } else if has_body && path.as_str().starts_with("/staff") {
        // The console's staff pages: nobody without a session gets to send a body.
        match crate::web::session::session_of(state, request.headers()).await {
            // Looked up once: the page's `Staff` extractor takes it from here.
            Ok(Some(session)) => {
                request.extensions_mut().insert(session);
            }
            Ok(None) => {
                // People post these forms: a session that ended sends them to sign in
                // again, as a page would, not to a problem document.
                return Err(closing(
                    axum::response::Redirect::to("/sign-in").into_response(),
                ));
            }
            Err(error) => return Err(closing(ApiError::Workflow(error).into_response())),
        }
    } else if has_body {
        // Staff route: nobody without a valid token gets to send a body.
        match caller(state, request.headers()).await {
            Ok(staff @ Caller::Staff(_)) => {
                request.extensions_mut().insert(Admitted(staff));
            }
            Ok(_) => {
                return Err(closing(
                    ApiError::Workflow(WorkflowError::Unauthenticated).into_response(),
                ));
            }
            Err(error) => return Err(closing(error.into_response())),
        }
    }

    if !has_body {
        return Ok(request);
    }
    let limit = match class {
        BodyClass::PluginUpload => gate.plugin_upload_bytes,
        BodyClass::ConsolePluginUpload => gate.plugin_upload_bytes.saturating_add(64 << 10),
        BodyClass::PluginInput => {
            let cap = state.runtime.limits().max_input_bytes;
            cap.saturating_add(cap / 4)
        }
        BodyClass::Small => front.small_body_bytes,
        BodyClass::Document => {
            usize::try_from(state.document_limits.max_file_bytes).unwrap_or(usize::MAX)
        }
        BodyClass::ConsoleFiling => usize::try_from(state.document_limits.max_dossier_bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(1 << 20),
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|declared| declared > limit as u64) {
        return Err(closing(too_large(class, limit, declared)));
    }
    let (parts, body) = request.into_parts();
    if matches!(class, BodyClass::Document | BodyClass::ConsoleFiling) {
        return Ok(Request::from_parts(
            parts,
            Body::new(Limited::new(body, limit)),
        ));
    }
    let read = tokio::time::timeout(front.body_timeout, Limited::new(body, limit).collect()).await;
    let bytes: Bytes = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(closing(too_large(class, limit, None)));
        }
        Ok(Err(error)) => {
            return Err(closing(problem(
                StatusCode::BAD_REQUEST,
                "body-unreadable",
                "Request body unreadable",
                format!("the request body could not be read: {error}"),
                Value::Null,
            )));
        }
        Err(_) => {
            return Err(closing(problem(
                StatusCode::REQUEST_TIMEOUT,
                "body-timeout",
                "Request body too slow",
                format!(
                    "the request body did not arrive within {} seconds",
                    front.body_timeout.as_secs_f64()
                ),
                json!({ "limit_seconds": front.body_timeout.as_secs_f64() }),
            )));
        }
    };
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// True when the request certainly has no body (no `Content-Length` above zero, no
/// chunked body).
fn bodiless(request: &Request) -> bool {
    use axum::body::HttpBody as _;
    request.body().is_end_stream() || request.body().size_hint().exact() == Some(0)
}

/// Counts one request against the client's quota; a 429 when it is spent.
fn charge(gate: &Gate, quota: QuotaKind, request: &Request) -> Result<(), Response> {
    let (Some(limiter), Some(ConnectInfo(peer))) = (
        gate.limiter(quota),
        request.extensions().get::<ConnectInfo<SocketAddr>>(),
    ) else {
        return Ok(());
    };
    let client = client_key(peer.ip(), request.headers(), &gate.front.trusted_proxies);
    let Err(not_until) = limiter.check_key(&client) else {
        return Ok(());
    };
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response = problem(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        "Too many requests",
        format!(
            "this address has used its quota of {}; try again in {seconds} second(s)",
            quota.what()
        ),
        json!({ "retry_after_seconds": seconds }),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    Err(closing_if(!bodiless(request), response))
}

/// The address a request is counted against: the peer, or, from a trusted proxy, the
/// last address in `X-Forwarded-For` that is not a trusted proxy. IPv6 clients are
/// counted by their /64, the block one subscriber is given, so that walking through
/// the addresses of one's own block does not multiply the quota.
pub fn client_key(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer.to_canonical();
    if trusted.contains(&client) {
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        for hop in forwarded.iter().rev() {
            match hop.trim().parse::<IpAddr>() {
                Ok(hop) if trusted.contains(&hop.to_canonical()) => continue,
                Ok(hop) => {
                    client = hop.to_canonical();
                    break;
                }
                // A hop that is not an address was written by no proxy we trust:
                // count the request against the nearest trusted proxy's peer.
                Err(_) => break,
            }
        }
    }
    match client {
        IpAddr::V6(address) => {
            let bits = u128::from(address) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

fn too_large(class: BodyClass, limit: usize, declared: Option<u64>) -> Response {
    let (slug, title) = match class {
        BodyClass::PluginUpload => ("plugin-too-large", "Plugin too large"),
        BodyClass::ConsolePluginUpload => ("plugin-too-large", "Plugin too large"),
        BodyClass::Document => ("document-too-large", "Document too large"),
        _ => ("body-too-large", "Body too large"),
    };
    let size = declared.map_or("larger than that".to_string(), |declared| {
        format!("{declared} bytes")
    });
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        slug,
        title,
        format!(
            "this endpoint accepts bodies up to its limit of {limit} bytes; this one is {size}"
        ),
        json!({ "limit": limit }),
    )
}

/// Asks the client to close: the rest of what it sent is not going to be read.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn closing_if(unread_body: bool, response: Response) -> Response {
    if unread_body {
        closing(response)
    } else {
        response
    }
}

/// Makes every error the framework answers by itself a problem: an extractor's
/// rejection (a path segment that is not UTF-8 after percent-decoding, say) is plain
/// text otherwise. Responses that are problems already, and successes, pass as they are.
pub async fn framework_problems(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // Problems, and the console's own error pages (people read those), stay as they are.
    let is_answer = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| {
            let value = value.as_bytes();
            value.starts_with(b"application/problem+json") || value.starts_with(b"text/html")
        });
    if status.as_u16() < 400 || is_answer {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, 4096).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let reason = status.canonical_reason().unwrap_or("Error");
    let detail = if text.is_empty() {
        reason.to_string()
    } else {
        text
    };
    let slug = match status {
        StatusCode::BAD_REQUEST => "bad-request",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::REQUEST_TIMEOUT => "request-timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "body-too-large",
        StatusCode::URI_TOO_LONG => "uri-too-long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid-request",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers-too-large",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        _ if status.is_server_error() => "internal",
        _ => "bad-request",
    };
    let mut rewritten = problem(status, slug, reason, detail, Value::Null);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn forwarded_addresses_are_believed_from_trusted_proxies_only() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let client: IpAddr = "198.51.100.7".parse().unwrap();
        let headers = forwarded("203.0.113.9, 198.51.100.7, 10.0.0.2");
        // From the proxy: the last address that is not a trusted proxy.
        assert_eq!(client_key(proxy, &headers, &[proxy]), client);
        // From anyone else, or with no proxy trusted: the peer, whatever the header says.
        assert_eq!(client_key(client, &headers, &[proxy]), client);
        assert_eq!(client_key(proxy, &headers, &[]), proxy);
        // A hop that is not an address stops the walk at the proxy.
        assert_eq!(client_key(proxy, &forwarded("unknown"), &[proxy]), proxy);
        // IPv4-mapped IPv6 peers are their IPv4 address.
        let mapped: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        assert_eq!(client_key(mapped, &HeaderMap::new(), &[]), proxy);
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let none = HeaderMap::new();
        assert_eq!(client_key(one, &none, &[]), client_key(other, &none, &[]));
        assert_ne!(
            client_key(one, &none, &[]),
            client_key(elsewhere, &none, &[])
        );
    }
}
