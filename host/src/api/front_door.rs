//! The front door: what a connection and a request may cost the host before a handler
//! runs. One settings struct, [`FrontDoor`], carried by `app::Config`; the values and
//! the reasons for each are in docs/decisions/0012-front-door.md.
//!
//! Three parts enforce it:
//! - [`listener`] accepts connections: a cap on open connections (over it, a 503
//!   problem and close, without stalling the accept loop), hyper's header-read
//!   timeout (which also bounds idle keep-alive connections), graceful shutdown.
//! - [`gate`] runs before every handler: URI and header size (414/431), per-client
//!   rate quotas on the public routes (429 with `Retry-After`), authentication before
//!   any body is read on staff routes (401), per-route body limits (413) and a body
//!   timeout (408); only then is the body read, and handed to the handler whole.
//! - [`gate::framework_problems`] turns every error the framework answers by itself
//!   (a path that is not UTF-8, a rejected extractor) into problem+json.

use std::net::IpAddr;
use std::time::Duration;

pub mod gate;
mod linger;
pub mod listener;

/// A sustained rate and a burst, per client address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateQuota {
    /// Requests a client may make per minute, sustained.
    pub per_minute: u32,
    /// Requests a client may make at once after being quiet (the bucket's size).
    pub burst: u32,
}

/// Everything the host allows a client before a handler runs.
#[derive(Clone, Debug)]
pub struct FrontDoor {
    // ---- connections -----------------------------------------------------------------
    /// Open connections at once. Over it, a new connection gets a 503 problem and is
    /// closed at once. Keep it below the process's open-file limit (`ulimit -n`), with
    /// room for the database pool and the plugin cache.
    pub max_connections: usize,
    /// How long a connection may take to send a complete request head, counted from
    /// the moment it starts waiting for one: it bounds a slow (slowloris) header and an
    /// idle keep-alive connection alike, since hyper starts this clock as soon as a
    /// connection is waiting for its next request.
    pub header_read_timeout: Duration,
    /// How long a request's body may take to arrive once its head has been read.
    pub body_timeout: Duration,
    /// How long in-flight requests may take to finish when the server is told to stop.
    pub shutdown_grace: Duration,

    // ---- request size ----------------------------------------------------------------
    /// Longest request target (path and query) answered with something other than a
    /// 414 problem.
    pub max_uri_bytes: usize,
    /// Most bytes of header names and values in one request; more is a 431 problem.
    pub max_header_bytes: usize,
    /// Body limit of small JSON requests: ratings, rollouts, units, scoring, the
    /// holiday calendar, and any route not listed in `gate::route_class`.
    pub small_body_bytes: usize,
    // Plugin uploads are limited by the registry's cap (`Config::max_plugin_bytes`),
    // and bodies that become plugin input (filings, actions, unit settings) by the
    // sandbox's input cap plus a quarter for the JSON around it; see `gate`.

    // ---- per-client rate quotas on the public routes (None: unlimited) -------------------
    /// `POST /api/v1/dossiers` by anyone without a staff token.
    pub filing_quota: Option<RateQuota>,
    /// `GET /api/v1/track/{code}`.
    pub tracking_quota: Option<RateQuota>,
    /// Actions and ratings by citizens (`X-Tracking-Secret`) or anyone without a
    /// staff token. Failed authentications on public routes count here too.
    pub citizen_action_quota: Option<RateQuota>,
    /// Reverse proxies whose `X-Forwarded-For` is believed: a request from one of these
    /// addresses is counted against the last address in that header that is not itself
    /// a trusted proxy. From any other peer the header is ignored. Empty by default: the
    /// client is the peer address.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for FrontDoor {
    /// Values fit for a host facing the internet directly.
    fn default() -> Self {
        FrontDoor {
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
            max_uri_bytes: 8 << 10,
            max_header_bytes: 16 << 10,
            small_body_bytes: 64 << 10,
            filing_quota: Some(RateQuota {
                per_minute: 6,
                burst: 20,
            }),
            tracking_quota: Some(RateQuota {
                per_minute: 60,
                burst: 30,
            }),
            citizen_action_quota: Some(RateQuota {
                per_minute: 30,
                burst: 20,
            }),
            trusted_proxies: Vec::new(),
        }
    }
}

impl FrontDoor {
    /// The defaults without rate quotas: for a host whose clients are all trusted
    /// (a test harness filing hundreds of dossiers from one address, a back office).
    pub fn without_quotas() -> FrontDoor {
        FrontDoor {
            filing_quota: None,
            tracking_quota: None,
            citizen_action_quota: None,
            ..FrontDoor::default()
        }
    }
}

/// The read buffer hyper may grow to while parsing a request head. A head larger
/// than this is refused by hyper itself with a bare 431 (no body) before motcua sees
/// it; heads between `max_header_bytes`/`max_uri_bytes` and this get a problem.
pub(crate) fn hyper_read_buffer(front: &FrontDoor) -> usize {
    (front.max_header_bytes + front.max_uri_bytes)
        .saturating_mul(2)
        .max(64 << 10)
}
