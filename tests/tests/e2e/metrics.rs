//! `GET /metrics` through the real host: a known mix of requests, then the
//! exposition parsed with a Prometheus text parser (`prometheus-parse`) must
//! count exactly those requests, per route, component and status, with
//! matching latency histograms, key-value operations, wasi-nn inferences, and
//! per-request memory peaks and time in Wasm for the component.

use prometheus_parse::{Sample, Scrape, Value};
use serde_json::json;
use std::time::{Duration, Instant};
use support::{Options, Server, get, post_json, post_raw, sqlite_config};

pub(crate) fn scrape(server: &Server) -> Scrape {
    let reply = get(server, "/metrics");
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.content_type.as_deref(),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    Scrape::parse(reply.text.lines().map(|line| Ok(line.to_string()))).expect("parses")
}

/// The samples named `name` whose labels include every pair of `labels`.
fn find<'a>(scrape: &'a Scrape, name: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect()
}

/// The one plain value of `name` with `labels` (0 when the series does not exist).
pub(crate) fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = find(scrape, name, labels);
    assert!(
        found.len() <= 1,
        "{name} {labels:?} is ambiguous: {found:?}"
    );
    found.first().map_or(0.0, |s| match &s.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        other => panic!("{name} is not a plain value: {other:?}"),
    })
}

/// The `+Inf` bucket (the number of observations) of histogram `name`.
pub(crate) fn histogram_count(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = find(scrape, name, labels);
    assert_eq!(found.len(), 1, "one {name} {labels:?}: {found:?}");
    let Value::Histogram(buckets) = &found[0].value else {
        panic!("{name} is not a histogram: {:?}", found[0].value);
    };
    buckets
        .iter()
        .find(|b| b.less_than.is_infinite())
        .expect("+Inf bucket")
        .count
}

const ANALYZE: [(&str, &str); 2] = [("route", "/api/analyze"), ("component", "analyze")];

fn requests_with_status(scrape: &Scrape, status: &str) -> f64 {
    let [route, component] = ANALYZE;
    value(
        scrape,
        "fbposts_http_requests_total",
        &[route, component, ("status", status)],
    )
}

#[test]
fn metrics_count_exactly_the_requests_sent_and_what_they_did() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(Options {
        manifest: "spin.toml",
        state_dir: dir.path(),
        runtime_config: Some(&sqlite_config(dir.path())),
        // A fresh instance per request, so the per-instance figures below
        // are per request (spin.toml asks for reuse).
        extra_args: &[
            "--inference",
            "wasi-nn",
            "--nn-backend",
            "onnx",
            "--instance-reuse",
            "1",
        ],
    });
    // Nothing counted before the first request.
    let before = scrape(&server);
    assert_eq!(requests_with_status(&before, "200"), 0.0);

    // 3 × 200 (two posts, the second one twice: a cache hit), 2 × 422, 1 × 400.
    let posts = [
        "Este sábado 14 abrimos el taller de cerámica en Calle Mayor 12. ¡Apúntate!",
        "Our bakery opens a second shop on Main Street on May 3: free coffee all day.",
        "Our bakery opens a second shop on Main Street on May 3: free coffee all day.",
    ];
    for text in posts {
        let reply = post_json(&server, "/api/analyze", &json!({ "text": text }));
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    for body in [json!({}), json!({ "text": "" })] {
        let reply = post_json(&server, "/api/analyze", &body);
        assert_eq!(reply.status, 422, "{}", reply.text);
    }
    let bad = post_raw(
        &server,
        "/api/analyze",
        "application/json",
        b"{not json".to_vec(),
    );
    assert_eq!(bad.status, 400, "{}", bad.text);
    // One unrouted request and one inference.
    assert_eq!(get(&server, "/no/such/route").status, 404);
    let predict = post_json(
        &server,
        "/api/predict",
        &json!({"page_likes": 120000, "post_type": "photo", "month": 7, "weekday": 3, "hour": 18}),
    );
    assert_eq!(predict.status, 200, "{}", predict.text);

    let scrape = scrape(&server);
    assert_eq!(requests_with_status(&scrape, "200"), 3.0);
    assert_eq!(requests_with_status(&scrape, "422"), 2.0);
    assert_eq!(requests_with_status(&scrape, "400"), 1.0);
    assert_eq!(
        value(
            &scrape,
            "fbposts_http_requests_total",
            &[("route", "-"), ("component", "-"), ("status", "404")]
        ),
        1.0
    );
    // /metrics itself is not counted.
    assert!(
        find(
            &scrape,
            "fbposts_http_requests_total",
            &[("route", "/metrics")]
        )
        .is_empty()
    );
    // The latency histogram saw each analyze request once.
    assert_eq!(
        histogram_count(&scrape, "fbposts_http_request_duration_seconds", &ANALYZE),
        6.0
    );
    assert_eq!(
        value(
            &scrape,
            "fbposts_http_request_duration_seconds_count",
            &ANALYZE
        ),
        6.0
    );

    // Key-value: every 200 looked the cache up; the two misses stored their answer.
    let kv = |op: &str| {
        value(
            &scrape,
            "fbposts_kv_operations_total",
            &[
                ("label", "cache"),
                ("backend", "sqlite"),
                ("op", op),
                ("outcome", "ok"),
            ],
        )
    };
    assert!(kv("get") >= 3.0, "cache gets: {}", kv("get"));
    assert!(kv("set") >= 2.0, "cache sets: {}", kv("set"));
    assert!(
        histogram_count(
            &scrape,
            "fbposts_kv_operation_duration_seconds",
            &[("label", "cache"), ("op", "get")]
        ) >= 3.0
    );

    // wasi-nn: predict ran the engagement model at least once, in batches.
    let model = [("model", "engagement"), ("backend", "onnx")];
    let inferences = histogram_count(&scrape, "fbposts_nn_inference_duration_seconds", &model);
    assert!(inferences >= 1.0, "inferences: {inferences}");
    assert_eq!(
        histogram_count(&scrape, "fbposts_nn_batch_size", &model),
        inferences
    );
    assert!(value(&scrape, "fbposts_nn_batch_size_sum", &model) >= inferences);
    // Dynamic batching: the backend's runs served every inference once.
    assert!(histogram_count(&scrape, "fbposts_nn_coalesced_calls", &model) >= 1.0);
    assert_eq!(
        value(&scrape, "fbposts_nn_coalesced_calls_sum", &model),
        inferences
    );

    // Per-instance figures are recorded when a request's store is dropped,
    // just after its response: wait (bounded) until all six are in.
    let component = [("component", "analyze")];
    let deadline = Instant::now() + Duration::from_secs(10);
    let scrape = loop {
        let scrape = self::scrape(&server);
        let memory = histogram_count(&scrape, "fbposts_instance_memory_peak_bytes", &component);
        if memory >= 6.0 || Instant::now() > deadline {
            break scrape;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        histogram_count(&scrape, "fbposts_instance_memory_peak_bytes", &component),
        6.0
    );
    // Time in Wasm is measured on one store in eight per component, the
    // first included: of these six, the first.
    let timed = histogram_count(&scrape, "fbposts_instance_wasm_time_seconds", &component);
    assert_eq!(timed, 1.0);
    let peak_max = value(
        &scrape,
        "fbposts_instance_memory_peak_max_bytes",
        &component,
    );
    assert!(peak_max >= 65536.0, "peak memory max: {peak_max}");
    let peak_sum = value(
        &scrape,
        "fbposts_instance_memory_peak_bytes_sum",
        &component,
    );
    assert!(peak_sum >= 6.0 * 65536.0 && peak_sum <= 6.0 * peak_max);
    let peak_min = value(
        &scrape,
        "fbposts_instance_memory_peak_min_bytes",
        &component,
    );
    assert!(
        peak_min >= 65536.0 && peak_min <= peak_sum / 6.0 && peak_sum / 6.0 <= peak_max,
        "min {peak_min} <= mean {} <= max {peak_max}",
        peak_sum / 6.0
    );
    let time_sum = value(
        &scrape,
        "fbposts_instance_wasm_time_seconds_sum",
        &component,
    );
    let time_min = value(
        &scrape,
        "fbposts_instance_wasm_time_min_seconds",
        &component,
    );
    let time_max = value(
        &scrape,
        "fbposts_instance_wasm_time_max_seconds",
        &component,
    );
    assert!(time_sum > 0.0);
    assert!(
        time_min > 0.0 && time_min <= time_sum / timed && time_sum / timed <= time_max,
        "time in Wasm: min {time_min} <= mean {} <= max {time_max}",
        time_sum / timed
    );
}

#[test]
fn with_no_metrics_the_path_is_routed_like_any_other() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(Options {
        manifest: "tests/spin.toml",
        state_dir: dir.path(),
        runtime_config: Some(&sqlite_config(dir.path())),
        extra_args: &["--no-metrics"],
    });
    let reply = get(&server, "/metrics");
    assert_eq!(reply.status, 404, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], "not_found");
}

#[test]
fn a_custom_metrics_path_is_served_there() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(Options {
        manifest: "tests/spin.toml",
        state_dir: dir.path(),
        runtime_config: Some(&sqlite_config(dir.path())),
        extra_args: &["--metrics-path", "/_host/metrics"],
    });
    assert_eq!(get(&server, "/metrics").status, 404);
    let reply = get(&server, "/_host/metrics");
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.text.ends_with("# EOF\n"), "{}", reply.text);
}
