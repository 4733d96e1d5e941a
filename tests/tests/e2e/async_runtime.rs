//! `fbposts up --async-runtime current-thread`, what `auto` picks on one
//! core (a 1-CPU container, a pinned process; CI's machines have two, so
//! these tests force it): a looping guest fails at its deadline while the
//! other requests are answered, and the app's routes answer as usual, with
//! SQLite writes, ONNX Runtime inference through wasi-nn and the cache on
//! the one thread.

use serde_json::json;
use support::{Options, Server, post_json, sqlite_config};

const ONE_THREAD: &str = "current-thread";

/// The app on one thread with ONNX Runtime through wasi-nn.
const ONE_THREAD_ONNX: [&str; 6] = [
    "--async-runtime",
    ONE_THREAD,
    "--inference",
    "wasi-nn",
    "--nn-backend",
    "onnx",
];

#[test]
fn on_one_thread_a_looping_guest_fails_at_its_deadline_and_the_others_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(Options {
        manifest: "tests/spin.toml",
        state_dir: dir.path(),
        runtime_config: Some(&sqlite_config(dir.path())),
        extra_args: &["--async-runtime", ONE_THREAD, "--request-timeout", "2"],
    });
    // The loop yields at every epoch tick, so the others are answered, and
    // its deadline is answered 503 even when timers fire late.
    crate::reuse::a_loop_times_out_while_others_are_answered(&server, 3);
    let log = server.stop();
    assert!(
        log.contains("runtime=current-thread"),
        "the runtime is logged at start-up:\n{log}"
    );
}

#[test]
fn on_one_thread_the_app_caches_writes_state_and_infers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app_with_args(dir.path(), &ONE_THREAD_ONNX);
    let post = json!({"text": "¿Ya probaste nuestro café de temporada? Cuéntanos 👇 #café"});
    let first = post_json(&server, "/api/analyze", &post);
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.cache.as_deref(), Some("miss"));
    let again = post_json(&server, "/api/analyze", &post);
    assert_eq!(again.cache.as_deref(), Some("hit"));
    assert_eq!(again.body, first.body);

    let predicted = post_json(
        &server,
        "/api/predict",
        &json!({"page_likes": 139441, "post_type": "photo", "category": 1, "paid": false,
                "month": 12, "weekday": 4, "hour": 10}),
    );
    assert_eq!(predicted.status, 200, "{}", predicted.text);
    assert_eq!(predicted.body["model"]["implementation"], "wasi-nn");

    let generated = post_json(
        &server,
        "/api/generate",
        &json!({"topic": "yoga en casa", "n": 1, "seed": 1, "page": {"id": 42, "likes": 5000}, "post_type": "video"}),
    );
    assert_eq!(generated.status, 200, "{}", generated.text);
    let feedback = json!({
        "id": generated.body["candidates"][0]["id"],
        "published_at": support::days_ago_rfc3339(1),
        "metrics": {"reactions": 50, "comments": 5, "shares": 2, "reach": 3000},
    });
    let recorded = post_json(&server, "/api/feedback", &feedback);
    assert_eq!(recorded.status, 200, "{}", recorded.text);
    assert_eq!(recorded.body["page_model"]["observations"], 1);
    let resent = post_json(&server, "/api/feedback", &feedback);
    assert_eq!(resent.body["duplicate"], true, "{}", resent.text);
}

/// On one thread a guest's `compute` waits off the thread for the calls
/// other requests' stores make, so concurrent predictions share ONNX
/// Runtime runs (`fbposts_nn_coalesced_calls`: fewer runs than calls), and
/// every one of them is answered, each counted once. Bursts of concurrent
/// requests are sent until runs were shared (at most five: the first is
/// expected to do it).
#[test]
fn on_one_thread_concurrent_predictions_share_onnx_runtime_runs() {
    let dir = tempfile::tempdir().unwrap();
    // A fresh instance (a store of its own) per request.
    let args = [&ONE_THREAD_ONNX[..], &["--instance-reuse", "1"]].concat();
    let server = Server::app_with_args(dir.path(), &args);
    let model = [("model", "engagement-timing"), ("backend", "onnx")];
    let mut answered = 0;
    for burst in 0..5 {
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..16)
                .map(|i| {
                    let server = &server;
                    let body = json!({"page_likes": 20_000 + burst * 100 + i, "post_type": "photo",
                                      "scheduled_at": "2026-12-01T18:30:00-05:00"});
                    scope.spawn(move || post_json(server, "/api/predict", &body).status)
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert_eq!(statuses, [200; 16], "burst {burst}");
        answered += 16;
        let scrape = crate::metrics::scrape(&server);
        let runs = crate::metrics::histogram_count(&scrape, "fbposts_nn_coalesced_calls", &model);
        let calls = crate::metrics::value(&scrape, "fbposts_nn_coalesced_calls_sum", &model);
        let inferences = crate::metrics::histogram_count(
            &scrape,
            "fbposts_nn_inference_duration_seconds",
            &model,
        );
        assert_eq!(
            calls, inferences,
            "each inference is served by exactly one run"
        );
        assert_eq!(
            inferences,
            f64::from(answered),
            "one timing inference per prediction"
        );
        if runs < calls {
            return;
        }
    }
    panic!("80 concurrent predictions never shared a run");
}
