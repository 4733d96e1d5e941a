//! Unit tests of the metrics capability: what each hook records, as read back
//! from the exposition text.

use super::instance::WASM_TIME_SAMPLE_EVERY;
use super::*;
use crate::key_value::sqlite::Database;
use crate::manifest::{HttpRoute, HttpTrigger};
use http::{Request, StatusCode};
use std::time::{Duration, Instant};
use wasmtime::{CallHook, ResourceLimiter, StoreLimitsBuilder};

fn metrics() -> Metrics {
    Metrics::new(&MetricsOptions::default())
}

fn exposition(metrics: &Metrics) -> String {
    metrics.encode().expect("metrics are on")
}

/// The value of the sample `name` whose labels include every `labels` pair.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (series_name, series_labels) = match series.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}')),
            None => (series, ""),
        };
        let wanted = labels.iter().all(|(k, v)| {
            series_labels
                .split(',')
                .any(|pair| pair == format!("{k}=\"{v}\""))
        });
        (series_name == name && wanted).then(|| value.parse().unwrap())
    })
}

#[test]
fn requests_are_counted_by_route_component_and_status() {
    let metrics = metrics();
    let requests = metrics.requests();
    let ms = Duration::from_millis(3);
    requests.observe("/api/analyze", "analyze", StatusCode::OK, ms);
    requests.observe("/api/analyze", "analyze", StatusCode::OK, ms);
    requests.observe(
        "/api/analyze",
        "analyze",
        StatusCode::UNPROCESSABLE_ENTITY,
        ms,
    );
    requests.observe("-", "-", StatusCode::NOT_FOUND, ms);
    let text = exposition(&metrics);
    let count = |status: &str| {
        sample(
            &text,
            "fbposts_http_requests_total",
            &[
                ("route", "/api/analyze"),
                ("component", "analyze"),
                ("status", status),
            ],
        )
    };
    assert_eq!(count("200"), Some(2.0));
    assert_eq!(count("422"), Some(1.0));
    assert_eq!(
        sample(
            &text,
            "fbposts_http_requests_total",
            &[("route", "-"), ("status", "404")]
        ),
        Some(1.0)
    );
    let histogram_count = sample(
        &text,
        "fbposts_http_request_duration_seconds_count",
        &[("route", "/api/analyze"), ("component", "analyze")],
    );
    assert_eq!(histogram_count, Some(3.0));
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics ends with # EOF:\n{text}"
    );
}

#[test]
fn the_metrics_path_is_answered_before_routing_and_only_for_get() {
    let metrics = metrics();
    let requests = metrics.requests();
    let get = Request::get("/metrics").body(()).unwrap();
    let response = requests.serve(&get).expect("the metrics path is served");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[http::header::CONTENT_TYPE],
        requests::CONTENT_TYPE
    );
    let post = Request::post("/metrics").body(()).unwrap();
    let refused = requests.serve(&post).unwrap();
    assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(refused.headers()[http::header::ALLOW], "GET, HEAD");
    let other = Request::get("/api/analyze").body(()).unwrap();
    assert!(requests.serve(&other).is_none());
}

#[test]
fn with_metrics_off_nothing_is_served_or_measured() {
    let off = Metrics::new(&MetricsOptions {
        enabled: false,
        path: DEFAULT_PATH.into(),
        alerts: None,
    });
    assert!(off.encode().is_none());
    let get = Request::get("/metrics").body(()).unwrap();
    assert!(off.requests().serve(&get).is_none());
    assert!(!InstanceMeter::new(None).is_timed());
}

#[test]
fn a_custom_metrics_path_moves_the_endpoint() {
    let metrics = Metrics::new(&MetricsOptions {
        enabled: true,
        path: "/_host/metrics".into(),
        alerts: None,
    });
    let requests = metrics.requests();
    assert!(
        requests
            .serve(&Request::get("/metrics").body(()).unwrap())
            .is_none()
    );
    assert!(
        requests
            .serve(&Request::get("/_host/metrics").body(()).unwrap())
            .is_some()
    );
}

fn router(routes: &[(&str, &str)]) -> Router {
    let triggers: Vec<HttpTrigger> = routes
        .iter()
        .map(|(route, component)| HttpTrigger {
            id: None,
            route: HttpRoute::Path(route.to_string()),
            component: component.to_string(),
        })
        .collect();
    Router::build(&triggers).unwrap()
}

#[test]
fn a_manifest_route_that_is_exactly_the_metrics_path_fails_start_up() {
    let err = check_shadowing(&router(&[("/metrics", "mine")]), "/metrics", "metrics").unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("\"/metrics\"") && message.contains("\"mine\""),
        "{message}"
    );
    assert!(
        message.contains("--metrics-path") && message.contains("--no-metrics"),
        "{message}"
    );
}

#[test]
fn a_wildcard_route_that_matches_the_metrics_path_is_shadowed_not_refused() {
    assert!(check_shadowing(&router(&[("/...", "catch-all")]), "/metrics", "metrics").is_ok());
    assert!(check_shadowing(&router(&[("/api/...", "api")]), "/metrics", "metrics").is_ok());
}

#[test]
fn peak_memory_is_the_sum_of_granted_growths_and_is_recorded_on_drop() {
    let metrics = metrics();
    let series = Arc::new(
        metrics
            .families
            .as_ref()
            .unwrap()
            .instances
            .component("analyze"),
    );
    let meter = InstanceMeter::new(Some(series.clone()));
    let limits = StoreLimitsBuilder::new().memory_size(4 << 20).build();
    let mut peak = meter.memory_peak(limits);
    // Two memories: 1 MiB, then one grows from 1 to 2 MiB; a growth past the
    // 4 MiB cap is refused and not counted.
    assert!(peak.memory_growing(0, 1 << 20, None).unwrap());
    assert!(peak.memory_growing(0, 1 << 20, None).unwrap());
    assert!(peak.memory_growing(1 << 20, 2 << 20, None).unwrap());
    assert!(!peak.memory_growing(2 << 20, 8 << 20, None).unwrap());
    assert_eq!(peak.peak_bytes(), 3 << 20);
    // A granted growth that then fails is taken back.
    assert!(peak.memory_growing(2 << 20, 3 << 20, None).unwrap());
    let _ = peak.memory_grow_failed(wasmtime::format_err!("no room"));
    assert_eq!(peak.peak_bytes(), 3 << 20);
    drop(peak);
    let text = exposition(&metrics);
    let labels = [("component", "analyze")];
    assert_eq!(
        sample(&text, "fbposts_instance_memory_peak_bytes_count", &labels),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "fbposts_instance_memory_peak_bytes_sum", &labels),
        Some(f64::from(3 << 20))
    );
    assert_eq!(
        sample(&text, "fbposts_instance_memory_peak_max_bytes", &labels),
        Some(f64::from(3 << 20))
    );
}

#[test]
fn the_max_memory_gauge_keeps_the_largest_peak() {
    let metrics = metrics();
    let series = Arc::new(metrics.families.as_ref().unwrap().instances.component("c"));
    for mib in [2, 5, 3] {
        let meter = InstanceMeter::new(Some(series.clone()));
        let mut peak = meter.memory_peak(StoreLimitsBuilder::new().build());
        assert!(peak.memory_growing(0, mib << 20, None).unwrap());
    }
    let text = exposition(&metrics);
    assert_eq!(
        sample(
            &text,
            "fbposts_instance_memory_peak_max_bytes",
            &[("component", "c")]
        ),
        Some(f64::from(5 << 20))
    );
    assert_eq!(
        sample(
            &text,
            "fbposts_instance_memory_peak_bytes_count",
            &[("component", "c")]
        ),
        Some(3.0)
    );
}

fn burn_cpu(at_least: Duration) {
    let started = Instant::now();
    let mut x = 0u64;
    while started.elapsed() < at_least {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
}

#[test]
fn time_in_wasm_counts_wasm_stretches_and_not_host_calls() {
    let metrics = metrics();
    let series = Arc::new(metrics.families.as_ref().unwrap().instances.component("c"));
    let mut meter = InstanceMeter::new(Some(series));
    assert_eq!(meter.wasm_time(), Duration::ZERO);
    meter.on_call(CallHook::CallingWasm);
    burn_cpu(Duration::from_millis(5));
    meter.on_call(CallHook::CallingHost);
    let in_wasm = meter.wasm_time();
    assert!(in_wasm > Duration::ZERO);
    // Time in a host call is not the guest's.
    burn_cpu(Duration::from_millis(5));
    meter.on_call(CallHook::ReturningFromHost);
    meter.on_call(CallHook::ReturningFromWasm);
    let after = meter.wasm_time();
    assert!(after >= in_wasm && after - in_wasm < Duration::from_millis(5));
    // A stretch that ends on another thread is dropped, not mixed up.
    meter.on_call(CallHook::CallingWasm);
    let meter = std::thread::spawn(move || {
        meter.on_call(CallHook::ReturningFromWasm);
        meter
    })
    .join()
    .unwrap();
    assert_eq!(meter.wasm_time(), after);
    drop(meter);
    let text = exposition(&metrics);
    assert_eq!(
        sample(
            &text,
            "fbposts_instance_wasm_time_seconds_count",
            &[("component", "c")]
        ),
        Some(1.0)
    );
}

#[test]
fn one_store_in_eight_per_component_is_timed_and_only_timed_stores_are_recorded() {
    let metrics = metrics();
    let instances = &metrics.families.as_ref().unwrap().instances;
    let analyze = Arc::new(instances.component("analyze"));
    let predict = Arc::new(instances.component("predict"));
    let stores = 2 * WASM_TIME_SAMPLE_EVERY + 1;
    let mut timed = Vec::new();
    for n in 0..stores {
        let mut meter = InstanceMeter::new(Some(analyze.clone()));
        if meter.is_timed() {
            timed.push(n);
        }
        let mut peak = meter.memory_peak(StoreLimitsBuilder::new().build());
        assert!(peak.memory_growing(0, 1 << 16, None).unwrap());
        meter.on_call(CallHook::CallingWasm);
        burn_cpu(Duration::from_micros(50));
        meter.on_call(CallHook::ReturningFromWasm);
    }
    assert_eq!(
        timed,
        [0, WASM_TIME_SAMPLE_EVERY, 2 * WASM_TIME_SAMPLE_EVERY]
    );
    // Each component keeps its own count: predict's first store is timed.
    assert!(InstanceMeter::new(Some(predict)).is_timed());
    let text = exposition(&metrics);
    let labels = [("component", "analyze")];
    assert_eq!(
        sample(&text, "fbposts_instance_wasm_time_seconds_count", &labels),
        Some(3.0)
    );
    // Untimed stores record no zero: the smallest time is a real one.
    let min = sample(&text, "fbposts_instance_wasm_time_min_seconds", &labels).unwrap();
    assert!(min >= 50e-6, "{min}");
    // Memory peaks are still recorded for every store.
    assert_eq!(
        sample(&text, "fbposts_instance_memory_peak_bytes_count", &labels),
        Some(stores as f64)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn key_value_operations_are_counted_per_label_backend_op_and_outcome() {
    let metrics = metrics();
    let db = Database::open_in_memory().await.unwrap();
    let store = metrics
        .key_value()
        .wrap("cache", "sqlite", Arc::new(db.store("cache")));
    store.set("k", b"v").await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), Some(b"v".to_vec()));
    assert_eq!(store.get("missing").await.unwrap(), None);
    assert!(store.exists("k").await.unwrap());
    store.delete("k").await.unwrap();
    assert!(store.get_keys().await.unwrap().is_empty());
    let text = exposition(&metrics);
    let ops = |op: &str| {
        sample(
            &text,
            "fbposts_kv_operations_total",
            &[
                ("label", "cache"),
                ("backend", "sqlite"),
                ("op", op),
                ("outcome", "ok"),
            ],
        )
    };
    assert_eq!(ops("get"), Some(2.0));
    for op in ["set", "exists", "delete", "get_keys"] {
        assert_eq!(ops(op), Some(1.0), "{op}");
    }
    assert_eq!(
        sample(
            &text,
            "fbposts_kv_operation_duration_seconds_count",
            &[("label", "cache"), ("op", "get")]
        ),
        Some(2.0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_metrics_off_stores_are_not_wrapped() {
    let off = Metrics::new(&MetricsOptions {
        enabled: false,
        path: DEFAULT_PATH.into(),
        alerts: None,
    });
    let db = Database::open_in_memory().await.unwrap();
    let store: Arc<dyn crate::key_value::Store> = Arc::new(db.store("cache"));
    let same = off.key_value().wrap("cache", "sqlite", store.clone());
    assert!(Arc::ptr_eq(&store, &same));
}

#[test]
fn inference_time_and_batch_size_are_recorded_per_model_and_backend() {
    let metrics = metrics();
    let series = metrics
        .nn("onnx")
        .series("engagement")
        .expect("metrics are on");
    series.observe(true, Some(169), Duration::from_micros(900));
    series.observe(true, Some(1), Duration::from_micros(30));
    series.observe(false, Some(0), Duration::from_micros(5));
    let text = exposition(&metrics);
    let labels = [("model", "engagement"), ("backend", "onnx")];
    assert_eq!(
        sample(
            &text,
            "fbposts_nn_inference_duration_seconds_count",
            &labels
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, "fbposts_nn_batch_size_count", &labels),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, "fbposts_nn_batch_size_sum", &labels),
        Some(170.0)
    );
    assert_eq!(
        sample(&text, "fbposts_nn_inference_failures_total", &labels),
        Some(1.0)
    );
}

#[test]
fn calls_per_backend_run_are_recorded_per_model_and_backend_and_not_at_all_when_off() {
    let metrics = metrics();
    let observe = metrics
        .nn("onnx")
        .coalesced_runs("engagement")
        .expect("metrics are on");
    observe(3);
    observe(1);
    let text = exposition(&metrics);
    let labels = [("model", "engagement"), ("backend", "onnx")];
    assert_eq!(
        sample(&text, "fbposts_nn_coalesced_calls_count", &labels),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, "fbposts_nn_coalesced_calls_sum", &labels),
        Some(4.0)
    );
    let off = Metrics::new(&MetricsOptions {
        enabled: false,
        path: DEFAULT_PATH.into(),
        alerts: None,
    });
    assert!(off.nn("onnx").coalesced_runs("engagement").is_none());
}
