//! Per-route request metrics and the `/metrics` endpoint, both used by the
//! HTTP trigger ([`crate::http`]).
//!
//! Each request is counted once, when its response head is ready (where the
//! trigger logs it): by route as written in `spin.toml` (`-` when no route
//! matched), component (`-` likewise) and status. The latency is the time
//! from receiving the request to the response head, the body's streaming
//! excluded. Requests to the metrics path itself are not counted.

use super::Families;
use crate::alerts::Alerts;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use wasmtime_wasi_http::WasiBody;

/// The content type of the OpenMetrics text format `prometheus-client` writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    component: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    route: String,
    component: String,
    status: u16,
}

/// The request families.
#[derive(Clone)]
pub(super) struct RequestFamilies {
    requests: Family<StatusLabels, Counter>,
    duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
}

fn latency_histogram() -> Histogram {
    // 100 µs … ~52 s
    Histogram::new(exponential_buckets(1e-4, 2.0, 20))
}

impl RequestFamilies {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let families = Self {
            requests: Family::default(),
            duration: Family::new_with_constructor(latency_histogram),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by route as written in spin.toml (\"-\": none matched), component and status",
            families.requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time from receiving a request to its response head (body streaming excluded), by route and component",
            Unit::Seconds,
            families.duration.clone(),
        );
        families
    }
}

/// What the HTTP trigger holds: the request families (when metrics are on),
/// the metrics path, and the alerts fed from the same observations.
#[derive(Clone)]
pub struct RequestMetrics {
    families: Option<Arc<Families>>,
    path: String,
    alerts: Option<Arc<Alerts>>,
}

impl RequestMetrics {
    pub(super) fn new(
        families: Option<Arc<Families>>,
        path: String,
        alerts: Option<Arc<Alerts>>,
    ) -> Self {
        Self {
            families,
            path,
            alerts,
        }
    }

    /// Counts one answered request and its latency.
    pub fn observe(&self, route: &str, component: &str, status: StatusCode, elapsed: Duration) {
        if let Some(alerts) = &self.alerts {
            alerts.record(route, status, elapsed);
        }
        let Some(families) = &self.families else {
            return;
        };
        let requests = &families.requests;
        requests
            .requests
            .get_or_create(&StatusLabels {
                route: route.to_string(),
                component: component.to_string(),
                status: status.as_u16(),
            })
            .inc();
        requests
            .duration
            .get_or_create(&RouteLabels {
                route: route.to_string(),
                component: component.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The response to `req` if it is for the metrics or the alerts path
    /// (answered before routing); `None` for every other request, or when
    /// metrics are off.
    pub fn serve<B>(&self, req: &Request<B>) -> Option<Response<WasiBody>> {
        if let Some(response) = self.alerts.as_ref().and_then(|a| a.serve(req)) {
            return Some(response);
        }
        let families = self.families.as_ref()?;
        if req.uri().path() != self.path {
            return None;
        }
        Some(match *req.method() {
            Method::GET | Method::HEAD => text_response(families.encode()),
            _ => {
                let mut response = crate::http::json_error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    "the metrics endpoint only answers GET",
                );
                response
                    .headers_mut()
                    .insert(http::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
                response
            }
        })
    }
}

fn text_response(text: String) -> Response<WasiBody> {
    let body = Full::new(Bytes::from(text))
        .map_err(|never: Infallible| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPE),
    );
    response
}
