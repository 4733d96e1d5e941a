//! Predictive alerts on the host's own request stream, served at
//! `GET /api/alerts` (before routing, like `/metrics`).
//!
//! Every request the HTTP trigger answers is recorded here by the metrics
//! ([`crate::metrics::RequestMetrics`] holds the [`Alerts`]): its route,
//! status and latency go into the current interval's [`window::Window`].
//! Every `--alert-interval` (10 s by default) a task closes the interval and
//! gives each route that saw requests two points: its p99 latency in ms and
//! its share of 5xx answers. Each series has a forecast, an anomaly score and
//! a threshold (`--alert-p99-ms`, `--alert-error-rate`) with a horizon
//! (`--alert-horizon`, 10 minutes): the model is `fbposts-alerts`
//! (Holt–Winters with a damped trend, robust z-scores on its errors). An
//! interval without requests adds no point: no data is not a zero.
//!
//! The last [`RECENT`] alerts are kept in memory with the time they fired
//! and served newest first, with each series' last point and forecast at the
//! horizon, and each route's last interval (requests/s, p99, 5xx share).
//! Alerts are also logged (`warn`) and, with `--alert-webhook`, POSTed
//! ([`webhook`]). Business alerts (a page's posts
//! below their predicted p10) belong with the events' analytics, not here.

pub mod webhook;
mod window;

use fbposts_alerts::{Alert, Direction, Monitor, SeriesConfig, Threshold};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wasmtime_wasi_http::WasiBody;
use window::Window;

/// Alerts kept for `GET /api/alerts`.
pub const RECENT: usize = 100;
/// The path the host answers alerts at unless `--alerts-path` says otherwise.
pub const DEFAULT_PATH: &str = "/api/alerts";

/// `fbposts up`'s alert flags.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertOptions {
    /// Where the host serves alerts, before routing.
    pub path: String,
    /// The length of one point of every series.
    pub interval: Duration,
    /// p99 latency per route that must not be crossed, in ms.
    pub p99_limit_ms: f64,
    /// Share of 5xx answers per route that must not be crossed.
    pub error_rate_limit: f64,
    /// How far ahead a forecast crossing raises an alert.
    pub horizon: Duration,
    /// Where each alert is POSTed as it fires (`--alert-webhook`).
    pub webhook: Option<http::Uri>,
}

impl Default for AlertOptions {
    fn default() -> Self {
        AlertOptions {
            path: DEFAULT_PATH.to_string(),
            interval: Duration::from_secs(10),
            p99_limit_ms: 200.0,
            error_rate_limit: 0.05,
            horizon: Duration::from_secs(600),
            webhook: None,
        }
    }
}

impl AlertOptions {
    /// Points in the horizon (at least one).
    fn horizon_points(&self) -> usize {
        (self.horizon.as_secs_f64() / self.interval.as_secs_f64())
            .ceil()
            .max(1.0) as usize
    }

    fn series_config(&self, limit: f64) -> SeriesConfig {
        SeriesConfig {
            threshold: Some(Threshold {
                limit,
                direction: Direction::Above,
                horizon: self.horizon_points(),
                confirm: 3,
            }),
            ..SeriesConfig::default()
        }
    }
}

/// One alert as served: what fired, and when (ms since the Unix epoch).
#[derive(Debug, Clone, Serialize)]
pub struct FiredAlert {
    pub fired_at_ms: u64,
    #[serde(flatten)]
    pub alert: Alert,
}

/// One series as served.
#[derive(Debug, Clone, Serialize)]
struct SeriesView {
    name: String,
    last: f64,
    forecast_at_horizon: Option<f64>,
    limit: f64,
}

/// One route's last closed interval, as served (what a dashboard plots).
#[derive(Debug, Clone, Serialize)]
struct RouteView {
    route: String,
    requests_per_second: f64,
    p99_ms: f64,
    error_rate: f64,
}

#[derive(Default)]
struct State {
    window: Window,
    monitor: Monitor,
    recent: VecDeque<FiredAlert>,
    last: Vec<(String, f64, f64)>,
    routes: Vec<RouteView>,
}

/// The alerting of one app: records requests, evaluates each interval.
pub struct Alerts {
    options: AlertOptions,
    state: Mutex<State>,
    webhook: std::sync::OnceLock<webhook::Webhook>,
}

impl Alerts {
    /// Alerts with these options; [`Alerts::start`] begins the intervals.
    pub fn new(options: AlertOptions) -> Arc<Self> {
        Arc::new(Alerts {
            options,
            state: Mutex::new(State::default()),
            webhook: std::sync::OnceLock::new(),
        })
    }

    /// Closes an interval every `--alert-interval` while `self` lives.
    pub fn start(self: &Arc<Self>) {
        if let Some(url) = &self.options.webhook {
            let _ = self.webhook.set(webhook::Webhook::start(url.clone()));
        }
        let weak: Weak<Self> = Arc::downgrade(self);
        let interval = self.options.interval;
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(alerts) = weak.upgrade() else { return };
                alerts.close_interval();
            }
        });
    }

    /// Records one answered request (requests to the host's own paths are
    /// not recorded).
    pub fn record(&self, route: &str, status: StatusCode, elapsed: Duration) {
        if route == "-" {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.window.record(route, status, elapsed);
    }

    /// Turns the interval's requests into one point per series and keeps
    /// the alerts they fire.
    pub fn close_interval(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let points = state.window.close();
        let seconds = self.options.interval.as_secs_f64();
        state.routes = points
            .iter()
            .map(|p| RouteView {
                route: p.route.clone(),
                requests_per_second: p.requests as f64 / seconds,
                p99_ms: p.p99_ms,
                error_rate: p.error_rate,
            })
            .collect();
        let mut last = Vec::new();
        for point in points {
            let series = [
                (
                    format!("p99_ms:{}", point.route),
                    point.p99_ms,
                    self.options.p99_limit_ms,
                ),
                (
                    format!("error_rate:{}", point.route),
                    point.error_rate,
                    self.options.error_rate_limit,
                ),
            ];
            for (name, value, limit) in series {
                let fired = self.observe(&mut state.monitor, &name, value, limit);
                for alert in fired {
                    tracing::warn!(series = %alert.series, "alert: {}", alert.message);
                    let fired = FiredAlert {
                        fired_at_ms: now_ms(),
                        alert,
                    };
                    if let Some(webhook) = self.webhook.get() {
                        webhook.send(&fired);
                    }
                    state.recent.push_front(fired);
                    state.recent.truncate(RECENT);
                }
                last.push((name, value, limit));
            }
        }
        if !last.is_empty() {
            state.last = last;
        }
    }

    fn observe(&self, monitor: &mut Monitor, name: &str, value: f64, limit: f64) -> Vec<Alert> {
        if !monitor.watches(name) {
            // The defaults are valid: watching cannot fail.
            let _ = monitor.watch(name, self.options.series_config(limit));
        }
        monitor.observe(name, value).unwrap_or_default()
    }

    /// The response to `req` if it is for the alerts path; `None` otherwise.
    pub fn serve<B>(&self, req: &Request<B>) -> Option<Response<WasiBody>> {
        if req.uri().path() != self.options.path {
            return None;
        }
        if !matches!(*req.method(), Method::GET | Method::HEAD) {
            let mut response = crate::http::json_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "the alerts endpoint only answers GET",
            );
            response
                .headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return Some(response);
        }
        Some(crate::http::response::json_ok(&self.view()))
    }

    fn view(&self) -> serde_json::Value {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let horizon = self.options.horizon_points();
        let series: Vec<SeriesView> = state
            .last
            .iter()
            .map(|(name, last, limit)| SeriesView {
                name: name.clone(),
                last: *last,
                forecast_at_horizon: state.monitor.series(name).and_then(|s| s.forecast(horizon)),
                limit: *limit,
            })
            .collect();
        serde_json::json!({
            "interval_seconds": self.options.interval.as_secs_f64(),
            "horizon_seconds": self.options.horizon.as_secs_f64(),
            "alerts": state.recent,
            "series": series,
            "routes": state.routes,
        })
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fbposts_alerts::AlertKind;

    fn alerts(p99_limit_ms: f64) -> Arc<Alerts> {
        Alerts::new(AlertOptions {
            p99_limit_ms,
            ..AlertOptions::default()
        })
    }

    fn one_interval(alerts: &Alerts, route: &str, ms: u64, status: StatusCode) {
        for _ in 0..20 {
            alerts.record(route, status, Duration::from_millis(ms));
        }
        alerts.close_interval();
    }

    #[test]
    fn a_route_slower_than_its_limit_raises_one_crossed_alert() {
        let alerts = alerts(50.0);
        for _ in 0..10 {
            one_interval(&alerts, "/api/analyze", 80, StatusCode::OK);
        }
        let state = alerts.state.lock().unwrap();
        let p99: Vec<_> = state
            .recent
            .iter()
            .filter(|a| a.alert.series == "p99_ms:/api/analyze")
            .collect();
        assert_eq!(p99.len(), 1, "{:?}", state.recent);
        assert!(matches!(p99[0].alert.kind, AlertKind::Crossed { .. }));
    }

    #[test]
    fn a_route_that_fails_raises_an_error_rate_alert() {
        let alerts = alerts(1e9);
        for _ in 0..5 {
            one_interval(&alerts, "/api/predict", 1, StatusCode::SERVICE_UNAVAILABLE);
        }
        let state = alerts.state.lock().unwrap();
        assert!(
            state
                .recent
                .iter()
                .any(|a| a.alert.series == "error_rate:/api/predict"),
            "{:?}",
            state.recent
        );
    }

    #[test]
    fn an_interval_without_requests_adds_no_point_and_no_alert() {
        let alerts = alerts(1.0);
        for _ in 0..10 {
            alerts.close_interval();
        }
        let state = alerts.state.lock().unwrap();
        assert!(state.recent.is_empty());
        assert!(state.last.is_empty());
    }

    #[test]
    fn requests_that_matched_no_route_are_not_a_series() {
        let alerts = alerts(1.0);
        for _ in 0..5 {
            one_interval(&alerts, "-", 500, StatusCode::NOT_FOUND);
        }
        assert!(alerts.state.lock().unwrap().last.is_empty());
    }

    #[test]
    fn only_get_is_answered_at_the_alerts_path() {
        let alerts = alerts(1.0);
        let get = Request::get(DEFAULT_PATH).body(()).unwrap();
        assert_eq!(alerts.serve(&get).unwrap().status(), StatusCode::OK);
        let post = Request::post(DEFAULT_PATH).body(()).unwrap();
        assert_eq!(
            alerts.serve(&post).unwrap().status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
        let other = Request::get("/api/analyze").body(()).unwrap();
        assert!(alerts.serve(&other).is_none());
    }
}
