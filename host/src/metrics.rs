//! What a host tells Prometheus (`GET /metrics`, OpenMetrics text): requests by route
//! and status with their latency, plugin calls by procedure, build, call and outcome
//! with their duration, and, read at each scrape, the instance slots in use, the
//! database's round trip, dossiers by status per unit and rollouts per procedure.
//!
//! One registry per host state (`prometheus-client`, no global recorder), so several
//! hosts in one process (the tests) keep their own figures. No HTTP and no SQL here.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use crate::runtime::RuntimeError;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route's pattern (`/api/v1/dossiers/{code}`), never the raw path: a raw path
    /// would make one series per dossier.
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginLabels {
    pub procedure: String,
    /// The build's version and the first 12 hex of its sha256.
    pub build: String,
    /// `check` or `decide`.
    pub call: String,
    /// ok, refused, trap, timeout, memory, busy, malformed, too-large, invalid.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginCallLabels {
    pub procedure: String,
    pub call: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DossierLabels {
    pub unit: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProcedureLabels {
    pub procedure: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LoadLabels {
    /// compiled, cache-hit, rebuilt (a cache entry that failed its check) or failed.
    pub how: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn seconds_histogram() -> Histogram {
    // 0.25 ms to about 8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// The host's figures.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_seconds: Histograms<RouteLabels>,
    pub plugin_calls: Family<PluginLabels, Counter>,
    pub plugin_seconds: Histograms<PluginCallLabels>,
    pub slots_in_use: Gauge,
    pub slots_total: Gauge,
    pub database_seconds: Gauge<f64, AtomicU64>,
    pub dossiers: Family<DossierLabels, Gauge>,
    pub rollouts: Family<ProcedureLabels, Gauge>,
    pub builds_loaded: Family<LoadLabels, Gauge>,
    pub action_groups: Gauge,
    pub grouped_actions: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("motcua");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route pattern, method and status",
            requests.clone(),
        );
        let request_seconds: Histograms<RouteLabels> =
            Family::new_with_constructor(seconds_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern",
            request_seconds.clone(),
        );
        let plugin_calls = Family::<PluginLabels, Counter>::default();
        registry.register(
            "plugin_calls",
            "Plugin calls by procedure, build, call and outcome",
            plugin_calls.clone(),
        );
        let plugin_seconds: Histograms<PluginCallLabels> =
            Family::new_with_constructor(seconds_histogram);
        registry.register(
            "plugin_call_duration_seconds",
            "Time of a plugin call, waiting for its slot included, by procedure and call",
            plugin_seconds.clone(),
        );
        let slots_in_use = Gauge::default();
        registry.register(
            "plugin_slots_in_use",
            "Plugin instance slots running a call now",
            slots_in_use.clone(),
        );
        let slots_total = Gauge::default();
        registry.register(
            "plugin_slots",
            "Plugin instance slots this host has",
            slots_total.clone(),
        );
        let database_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "database_round_trip_seconds",
            "One database round trip, measured at the scrape",
            database_seconds.clone(),
        );
        let dossiers = Family::<DossierLabels, Gauge>::default();
        registry.register(
            "dossiers",
            "Dossiers by handling unit and canonical status",
            dossiers.clone(),
        );
        let rollouts = Family::<ProcedureLabels, Gauge>::default();
        registry.register(
            "rollouts",
            "Rollouts made, by procedure (rolled back ones included)",
            rollouts.clone(),
        );
        let builds_loaded = Family::<LoadLabels, Gauge>::default();
        registry.register(
            "builds_loaded",
            "Plugin builds this host loaded since it started, by how: compiled, from the compiled cache, rebuilt, failed",
            builds_loaded.clone(),
        );
        let action_groups = Gauge::default();
        registry.register(
            "action_groups",
            "PostgreSQL: statements that wrote dossier actions in groups since the host started",
            action_groups.clone(),
        );
        let grouped_actions = Gauge::default();
        registry.register(
            "grouped_actions",
            "PostgreSQL: dossier actions written by those statements (over action_groups: the mean group)",
            grouped_actions.clone(),
        );
        Metrics {
            action_groups,
            grouped_actions,
            builds_loaded,
            registry,
            requests,
            request_seconds,
            plugin_calls,
            plugin_seconds,
            slots_in_use,
            slots_total,
            database_seconds,
            dossiers,
            rollouts,
        }
    }

    /// One answered request.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                method: method.to_string(),
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// One plugin call and how it ended.
    pub fn plugin_call(
        &self,
        procedure: &str,
        build: &str,
        call: &str,
        outcome: &str,
        took: Duration,
    ) {
        self.plugin_calls
            .get_or_create(&PluginLabels {
                procedure: procedure.to_string(),
                build: build.to_string(),
                call: call.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
        self.plugin_seconds
            .get_or_create(&PluginCallLabels {
                procedure: procedure.to_string(),
                call: call.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// The figures as OpenMetrics text.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!(%error, "encoding the metrics");
        }
        text
    }
}

/// The outcome label of a failed plugin call.
pub fn outcome_of(error: &RuntimeError) -> &'static str {
    match error {
        RuntimeError::Timeout { .. } => "timeout",
        RuntimeError::MemoryExceeded { .. } => "memory",
        RuntimeError::Trapped { .. } => "trap",
        RuntimeError::Malformed { .. } => "malformed",
        RuntimeError::InputTooLarge { .. } | RuntimeError::OutputTooLarge { .. } => "too-large",
        RuntimeError::Busy { .. } => "busy",
        RuntimeError::InvalidComponent(_) => "invalid",
    }
}
