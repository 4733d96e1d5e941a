//! Predictive pre-caching through the real app: once sessions have shown
//! the habit analyze(t) → enhance(t) → analyze(enhanced t), a new session's
//! enhance and its analyze of the enhanced text are cache hits, computed
//! ahead while the client was away. Each session is one kept-alive
//! connection (a client of its own), which is what the host calls a session.

use serde_json::{Value, json};
use support::{Reply, Server, client, get, reply};

fn post(session: &reqwest::blocking::Client, server: &Server, path: &str, body: &Value) -> Reply {
    let answer = reply(session.post(server.url(path)).json(body).send().unwrap());
    assert_eq!(answer.status, 200, "{path}: {}", answer.text);
    answer
}

/// `fbposts_precache_requests_total` by outcome.
fn precache_counts(server: &Server) -> std::collections::HashMap<String, f64> {
    let metrics = get(server, "/metrics").text;
    metrics
        .lines()
        .filter_map(|line| line.strip_prefix("fbposts_precache_requests_total{outcome=\""))
        .filter_map(|rest| {
            let (outcome, value) = rest.split_once("\"} ")?;
            Some((outcome.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// Everything observed so far was read, and every prediction handled.
fn settled(counts: &std::collections::HashMap<String, f64>) -> bool {
    let n = |outcome: &str| counts.get(outcome).copied().unwrap_or(0.0);
    n("learned") + n("dropped") == n("observed")
        && n("computed") + n("failed") + n("skipped_recent") + n("refrained_busy") == n("predicted")
}

/// Requests computed ahead so far, once pre-caching has settled.
fn computed_ahead(server: &Server) -> f64 {
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let counts = precache_counts(server);
        if settled(&counts) {
            return counts.get("computed").copied().unwrap_or(0.0);
        }
        assert!(
            std::time::Instant::now() < give_up,
            "pre-caching never settled: {counts:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Waits until pre-caching has settled having computed more than `before` requests.
fn until_computed_beyond(server: &Server, before: f64) {
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while computed_ahead(server) <= before {
        assert!(
            std::time::Instant::now() < give_up,
            "nothing was computed ahead"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn analyze_enhance_analyze(server: &Server, text: &str) {
    let session = client();
    post(&session, server, "/api/analyze", &json!({ "text": text }));
    let enhanced = post(&session, server, "/api/enhance", &json!({ "text": text }));
    let better = enhanced.body["enhanced"]["text"]
        .as_str()
        .unwrap()
        .to_string();
    post(&session, server, "/api/analyze", &json!({ "text": better }));
}

#[test]
fn a_new_session_finds_its_next_answers_computed_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    for i in 0..8 {
        analyze_enhance_analyze(
            &server,
            &format!("new menu today!!! come try it, number {i}. LIKE if you want one"),
        );
    }

    let session = client();
    let text = "OUR BAKERY OPENS SATURDAY!!! free coffee for everyone. share with friends";
    let before = computed_ahead(&server);
    let first = post(&session, &server, "/api/analyze", &json!({ "text": text }));
    assert_eq!(
        first.cache.as_deref(),
        Some("miss"),
        "a text nobody sent before"
    );
    until_computed_beyond(&server, before);

    let before = computed_ahead(&server);
    let enhanced = post(&session, &server, "/api/enhance", &json!({ "text": text }));
    assert_eq!(
        enhanced.cache.as_deref(),
        Some("hit"),
        "enhance was computed ahead"
    );
    until_computed_beyond(&server, before);

    let better = enhanced.body["enhanced"]["text"].as_str().unwrap();
    let analyzed = post(
        &session,
        &server,
        "/api/analyze",
        &json!({ "text": better }),
    );
    assert_eq!(
        analyzed.cache.as_deref(),
        Some("hit"),
        "the analysis of the enhanced text was computed ahead"
    );
}
