//! The metrics capability ([`Metrics`]): what the host measures and
//! `GET /metrics`, which serves it in the Prometheus text format (OpenMetrics
//! 1.0 text, what the `prometheus-client` crate writes; Prometheus scrapes
//! it as is).
//!
//! It is a capability, not only a module the app owns, because part of what
//! it measures lives in each request's store: the instance's time in Wasm
//! (accumulated by a wasmtime call hook, [`instance::InstanceMeter`]) and its
//! peak linear memory (a `ResourceLimiter` wrapper, [`MemoryPeak`]). It links
//! no WIT interface. The other capabilities reach it at `prepare`
//! (`ctx.capability::<Metrics>()`), and the HTTP trigger gets
//! [`RequestMetrics`] from it.
//!
//! # What is measured, and where the hook is
//!
//! | family | labels | hook |
//! |---|---|---|
//! | `fbposts_http_requests` (counter), `fbposts_http_request_duration_seconds` | route, component (+ status) | `http::HttpApp` (one call where each request is logged) |
//! | `fbposts_instance_wasm_time_seconds`, `fbposts_instance_memory_peak_bytes`, `fbposts_instance_memory_peak_max_bytes` | component | the store ([`crate::host_state`]): call hook and limiter, recorded when the store is dropped |
//! | `fbposts_kv_operations` (counter), `fbposts_kv_operation_duration_seconds` | label, backend, op (+ outcome) | `spin:key-value` `open` wraps the store ([`kv::MeteredStore`]) |
//! | `fbposts_kv_tier_lookups` (counter), `fbposts_kv_single_flight_waits` (counter) | label (+ tier: l1, backend, miss) | the tiered store's atomics, read at scrape ([`cache`]) |
//! | `fbposts_kv_write_behind_batches`, `_entries`, `_failures` (counters) | label | the write-behind buffers' atomics, read at scrape ([`cache`]) |
//! | `fbposts_kv_l2_lookups` (counter), `fbposts_kv_l2_errors` (counter) | label (+ outcome: hit, miss) | the shared Redis tier's atomics, read at scrape ([`cache`]) |
//! | `fbposts_precache_requests` (counter) | outcome | pre-caching's atomics, read at scrape ([`precache`]) |
//! | `fbposts_nn_inference_duration_seconds`, `fbposts_nn_batch_size`, `fbposts_nn_inference_failures` | model, backend | each wasi-nn model gets its series at `prepare` ([`NnMeter::series`]); the guest glue records every `compute` |
//! | `fbposts_nn_coalesced_calls` | model, backend | each ONNX Runtime model's batcher is told its runs at `prepare` ([`NnMeter::coalesced_runs`]) |
//! | `fbposts_events_published` (counter) | channel, outcome | outbound `spin:redis` `publish` / `execute("PUBLISH")` ([`EventsMeter`]) |
//! | `fbposts_events_consumed` (counter), `fbposts_events_handle_duration_seconds` | channel, component, outcome | the Redis trigger's subscriber, per handler |
//!
//! # Notes
//!
//! Replays from the app's outbox are counted as publishes (which message
//! is a replay is the app's knowledge).
//!
//! With `--no-metrics` nothing is registered, no store gets a call hook,
//! stores and graphs are not wrapped, and `/metrics` is routed like any
//! other path.

mod cache;
mod events;
mod instance;
mod kv;
mod nn;
mod precache;
mod requests;
#[cfg(test)]
mod tests;

pub use cache::{TierSource, Tiers};
pub use events::{EventsMeter, PublishOutcome};
pub use instance::{InstanceMeter, MemoryPeak, install_time_hook};
pub use kv::KvMeter;
pub use nn::{NnMeter, NnSeries};
pub use precache::PrecacheSource;
pub use requests::RequestMetrics;

use crate::alerts::{AlertOptions, Alerts};
use crate::capability::{AppContext, Capability, ComponentContext};
use crate::host_state::HostState;
use crate::routing::Router;
use anyhow::Context as _;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use wasmtime::component::Linker;

/// The path `/metrics` is served at unless `--metrics-path` says otherwise.
pub const DEFAULT_PATH: &str = "/metrics";

/// `fbposts up`'s metrics flags.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsOptions {
    /// `--no-metrics` turns everything off.
    pub enabled: bool,
    /// `--metrics-path`: where the host answers (before routing).
    pub path: String,
    /// Alerts on the requests (`--no-alerts`: `None`); off with the metrics.
    pub alerts: Option<AlertOptions>,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            path: DEFAULT_PATH.to_string(),
            alerts: Some(AlertOptions::default()),
        }
    }
}

/// Every metric family, registered once; cloning a family clones a handle to
/// the same series.
struct Families {
    registry: Registry,
    requests: requests::RequestFamilies,
    instances: instance::InstanceFamilies,
    kv: kv::KvFamilies,
    nn: nn::NnFamilies,
    events: events::EventsFamilies,
    tiers: cache::TierSource,
    precache: precache::PrecacheSource,
}

impl Families {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("fbposts");
        Self {
            requests: requests::RequestFamilies::register(&mut registry),
            instances: instance::InstanceFamilies::register(&mut registry),
            kv: kv::KvFamilies::register(&mut registry),
            nn: nn::NnFamilies::register(&mut registry),
            events: events::EventsFamilies::register(&mut registry),
            tiers: cache::register(&mut registry),
            precache: precache::register(&mut registry),
            registry,
        }
    }

    /// The whole exposition, ending with `# EOF`.
    fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The metrics capability; `None` inside when `--no-metrics`.
pub struct Metrics {
    families: Option<Arc<Families>>,
    path: String,
    alerts: Option<Arc<Alerts>>,
}

impl Metrics {
    /// Metrics as configured by `options`, without checking the manifest;
    /// the alerts' intervals do not run until [`Alerts::start`].
    pub fn new(options: &MetricsOptions) -> Self {
        let alerts = options.alerts.as_ref().filter(|_| options.enabled);
        Self {
            families: options.enabled.then(|| Arc::new(Families::new())),
            path: options.path.clone(),
            alerts: alerts.map(|a| Alerts::new(a.clone())),
        }
    }

    /// What the HTTP trigger records each request in, and serves `/metrics`
    /// and the alerts from.
    pub fn requests(&self) -> RequestMetrics {
        RequestMetrics::new(
            self.families.clone(),
            self.path.clone(),
            self.alerts.clone(),
        )
    }

    /// What `spin:key-value` wraps each opened store with.
    pub fn key_value(&self) -> KvMeter {
        KvMeter::new(self.families.as_ref().map(|f| f.kv.clone()))
    }

    /// Where the key-value tiers' lookup counters are read from (a source
    /// nobody reads when metrics are off).
    pub fn key_value_tiers(&self) -> TierSource {
        self.families
            .as_ref()
            .map(|f| f.tiers.clone())
            .unwrap_or_default()
    }

    /// Where pre-caching's counters are read from (a source nobody reads
    /// when metrics are off).
    pub fn precache(&self) -> PrecacheSource {
        self.families
            .as_ref()
            .map(|f| f.precache.clone())
            .unwrap_or_default()
    }

    /// What wasi-nn wraps each graph with; `backend` is e.g. `onnx`.
    pub fn nn(&self, backend: &str) -> NnMeter {
        NnMeter::new(self.families.as_ref().map(|f| f.nn.clone()), backend)
    }

    /// What outbound Redis and the Redis trigger count events in.
    pub fn events(&self) -> EventsMeter {
        EventsMeter::new(self.families.as_ref().map(|f| f.events.clone()))
    }

    /// The exposition text, or `None` when metrics are off.
    #[cfg(test)]
    pub fn encode(&self) -> Option<String> {
        self.families.as_ref().map(|f| f.encode())
    }
}

/// A route of the manifest that also matches a path the host answers
/// itself: `what` is `metrics` or `alerts`, which also names its flags.
fn check_shadowing(router: &Router, path: &str, what: &str) -> anyhow::Result<()> {
    let Some(route) = router.route(path) else {
        return Ok(());
    };
    let exact = !route.raw_route.contains("...") && route.params.is_empty();
    anyhow::ensure!(
        !exact,
        "route {:?} of component {:?} is the host's {what} path; serve {what} elsewhere with `--{what}-path PATH` or turn them off with `--no-{what}`",
        route.raw_route,
        route.component_id
    );
    tracing::warn!(
        path,
        route = route.raw_route,
        component = route.component_id,
        "the host answers this path itself ({what}); this route no longer sees it (`--{what}-path` or `--no-{what}` to change)"
    );
    Ok(())
}

impl Capability for Metrics {
    /// The component's instance series, resolved once.
    type Prepared = Option<Arc<instance::ComponentSeries>>;
    type InstanceState = InstanceMeter;

    /// No WIT interface: the guests never see it.
    fn link(_linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
        Ok(())
    }

    /// `--no-metrics` and `--metrics-path`; a manifest route that is exactly
    /// the metrics path fails here (the host would shadow it), a wildcard
    /// route that matches it is warned about.
    async fn configure_app(ctx: &AppContext<'_>) -> anyhow::Result<Self> {
        let options = &ctx.options.metrics;
        if options.enabled {
            anyhow::ensure!(
                options.path.starts_with('/'),
                "--metrics-path must start with '/', got {:?}",
                options.path
            );
            let router =
                Router::build(&ctx.manifest.http_triggers).context("building the route table")?;
            check_shadowing(&router, &options.path, "metrics")?;
            if let Some(alerts) = &options.alerts {
                check_shadowing(&router, &alerts.path, "alerts")?;
            }
        }
        let metrics = Self::new(options);
        if let Some(alerts) = &metrics.alerts {
            alerts.start();
        }
        Ok(metrics)
    }

    fn prepare(&self, ctx: &ComponentContext<'_>) -> anyhow::Result<Self::Prepared> {
        Ok(self
            .families
            .as_ref()
            .map(|f| Arc::new(f.instances.component(&ctx.component.id))))
    }

    fn instance(prepared: &Self::Prepared) -> InstanceMeter {
        InstanceMeter::new(prepared.clone())
    }
}
