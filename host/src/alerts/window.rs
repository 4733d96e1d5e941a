//! One interval's requests per route, and the points they make when the
//! interval closes: the p99 latency and the share of 5xx answers.
//!
//! Latencies are kept up to [`MAX_SAMPLES`] per route and interval (the
//! first ones; beyond that only the counts grow), so memory is bounded
//! whatever the load.

use http::StatusCode;
use std::collections::BTreeMap;
use std::time::Duration;

/// Latencies kept per route and interval.
pub const MAX_SAMPLES: usize = 4096;

#[derive(Debug, Default)]
struct RouteInterval {
    latencies_ms: Vec<f64>,
    requests: u64,
    server_errors: u64,
}

/// The interval in progress.
#[derive(Debug, Default)]
pub struct Window {
    routes: BTreeMap<String, RouteInterval>,
}

/// What one route did in one closed interval.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutePoint {
    pub route: String,
    pub requests: u64,
    pub p99_ms: f64,
    pub error_rate: f64,
}

impl Window {
    pub fn record(&mut self, route: &str, status: StatusCode, elapsed: Duration) {
        let entry = match self.routes.get_mut(route) {
            Some(entry) => entry,
            None => self.routes.entry(route.to_string()).or_default(),
        };
        entry.requests += 1;
        if status.is_server_error() {
            entry.server_errors += 1;
        }
        if entry.latencies_ms.len() < MAX_SAMPLES {
            entry.latencies_ms.push(elapsed.as_secs_f64() * 1e3);
        }
    }

    /// The points of the interval, and a fresh interval.
    pub fn close(&mut self) -> Vec<RoutePoint> {
        std::mem::take(&mut self.routes)
            .into_iter()
            .map(|(route, mut interval)| {
                interval.latencies_ms.sort_by(f64::total_cmp);
                let n = interval.latencies_ms.len();
                let p99 = interval.latencies_ms[((n - 1) as f64 * 0.99).round() as usize];
                RoutePoint {
                    route,
                    requests: interval.requests,
                    p99_ms: p99,
                    error_rate: interval.server_errors as f64 / interval.requests as f64,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_p99_is_the_slowest_percent_and_the_error_rate_counts_5xx_only() {
        let mut window = Window::default();
        for ms in 1..=100 {
            let status = match ms {
                1..=5 => StatusCode::SERVICE_UNAVAILABLE,
                6..=20 => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::OK,
            };
            window.record("/a", status, Duration::from_millis(ms));
        }
        let points = window.close();
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].p99_ms, 99.0);
        assert!((points[0].error_rate - 0.05).abs() < 1e-12);
        assert!(window.close().is_empty(), "closing starts a fresh interval");
    }

    #[test]
    fn samples_stop_at_the_cap_but_counts_go_on() {
        let mut window = Window::default();
        for _ in 0..MAX_SAMPLES + 10 {
            window.record("/a", StatusCode::INTERNAL_SERVER_ERROR, Duration::ZERO);
        }
        assert_eq!(window.routes["/a"].latencies_ms.len(), MAX_SAMPLES);
        assert_eq!(window.routes["/a"].requests, MAX_SAMPLES as u64 + 10);
    }
}
