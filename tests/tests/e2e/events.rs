//! Events through Redis on our host: the steps publish `post.analyzed` and
//! `post.published` (spin:redis), the `analytics` component under
//! `[[trigger.redis]]` adds them up, and `GET /api/analytics/summary` shows
//! the aggregates. Events published while no consumer listens wait in the
//! outbox and are replayed once; without a Redis address every route still
//! answers and the log says events are off.

use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};
use support::{Options, Redis, Server, free_port, get, post_json, sqlite_config};

const ANALYZED: &str = "fbposts.post.analyzed";

/// `spin.toml` on SQLite with events sent to `redis_url`.
pub(crate) fn app_with_events(dir: &Path, redis_url: &str) -> Server {
    Server::start_with_env(
        Options {
            manifest: "spin.toml",
            state_dir: dir,
            runtime_config: Some(&sqlite_config(dir)),
            extra_args: &[],
        },
        &[("SPIN_VARIABLE_EVENTS_REDIS_ADDRESS", redis_url)],
    )
}

/// Waits (up to 15 s) until the host's Redis trigger listens on the channel.
pub(crate) fn wait_for_subscriber(redis: &Redis, server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let answer = redis.cli(&["PUBSUB", "NUMSUB", ANALYZED]);
        if answer.lines().nth(1).is_some_and(|n| n.trim() != "0") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the Redis trigger did not subscribe: {answer}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn summary(server: &Server, query: &str) -> Value {
    let reply = get(server, &format!("/api/analytics/summary{query}"));
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body
}

/// Polls the summary (up to 10 s) until `ready` holds for it.
fn summary_when(server: &Server, query: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = summary(server, query);
        if ready(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "the aggregates did not get there: {body}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn analyzed(body: &Value) -> u64 {
    body["totals"]["analyzed"].as_u64().unwrap_or(0)
}

fn analyze(server: &Server, text: &str) {
    let reply = post_json(
        server,
        "/api/analyze",
        &json!({"text": text, "language": "en", "post_type": "photo"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
}

/// `/metrics` counts `n` analyses published to a subscriber and handed to
/// the `analytics` component (polled: the trigger counts a message once its
/// handler returned, just after the aggregate became visible).
fn assert_events_metrics(server: &Server, n: u64) {
    use crate::metrics::{histogram_count, scrape, value};
    let published = [("channel", ANALYZED), ("outcome", "delivered")];
    let consumed = [
        ("channel", ANALYZED),
        ("component", "analytics"),
        ("outcome", "ok"),
    ];
    let deadline = Instant::now() + Duration::from_secs(10);
    let scrape = loop {
        let scrape = scrape(server);
        let done = value(&scrape, "fbposts_events_consumed_total", &consumed) >= n as f64;
        if done || Instant::now() > deadline {
            break scrape;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        value(&scrape, "fbposts_events_published_total", &published),
        n as f64
    );
    let no_subscriber = [("channel", ANALYZED), ("outcome", "no_subscriber")];
    assert_eq!(
        value(&scrape, "fbposts_events_published_total", &no_subscriber),
        0.0
    );
    assert_eq!(
        value(&scrape, "fbposts_events_consumed_total", &consumed),
        n as f64
    );
    let handled = [("component", "analytics")];
    assert_eq!(
        histogram_count(&scrape, "fbposts_events_handle_duration_seconds", &handled),
        n as f64
    );
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn analyzed_and_published_posts_reach_the_analytics_aggregates_through_redis() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let server = app_with_events(dir.path(), &redis.url);
    wait_for_subscriber(&redis, &server);

    let mut latencies_ms = Vec::new();
    for i in 0..50u64 {
        let started = Instant::now();
        analyze(
            &server,
            &format!("New sourdough batch number {i} is out! Which one do you want? 🍞 #bakery"),
        );
        summary_when(&server, "", |body| analyzed(body) == i + 1);
        latencies_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    latencies_ms.sort_by(f64::total_cmp);
    println!(
        "events: POST /api/analyze -> aggregate visible in the summary over {} events: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies_ms.len(),
        percentile(&latencies_ms, 0.5),
        percentile(&latencies_ms, 0.99),
        latencies_ms[latencies_ms.len() - 1]
    );
    assert_events_metrics(&server, 50);

    let feedback = json!({"text": "Our new rye loaf is here 🍞", "page_id": "bakery", "page_likes": 120000,
                          "post_type": "photo", "published_at": support::days_ago_rfc3339(1),
                          "metrics": {"reactions": 80, "comments": 10, "shares": 5}});
    let reply = post_json(&server, "/api/feedback", &feedback);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let predicted = reply.body["expected"]["total_interactions"]
        .as_f64()
        .unwrap();
    let body = summary_when(&server, "?page=bakery", |body| {
        body["totals"]["published"].as_u64() == Some(1)
    });
    let page = &body["by_page"]["bakery"];
    assert_eq!(page["mean_observed_interactions"], 95.0);
    assert_eq!(
        page["mean_predicted_interactions"].as_f64(),
        Some(predicted)
    );
    assert_eq!(
        body["totals"]["analyzed"], 0,
        "the page filter keeps analyses of no page out"
    );
    // A repeated report is a duplicate: neither applied nor counted again.
    let again = post_json(&server, "/api/feedback", &feedback);
    assert_eq!(again.body["duplicate"], true);
    let all = summary(&server, "");
    assert_eq!(all["totals"]["analyzed"], 50);
    assert_eq!(all["by_post_type"]["photo"]["analyzed"], 50);

    let bad = get(&server, "/api/analytics/summary?since=yesterday");
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.body["error"]["code"], "invalid_query");
    let late = summary(&server, "?since=4102444800");
    assert_eq!(late["totals"]["analyzed"], 0);

    // The other steps' events are counted too.
    for (path, body) in [
        (
            "/api/enhance",
            json!({"text": "fresh bread today", "post_type": "photo"}),
        ),
        ("/api/generate", json!({"topic": "fresh bread", "n": 1})),
        (
            "/api/predict",
            json!({"page_likes": 120000, "post_type": "photo", "month": 5, "weekday": 3, "hour": 12}),
        ),
    ] {
        let reply = post_json(&server, path, &body);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    }
    let totals = summary_when(&server, "", |body| {
        body["totals"]["predicted"].as_u64() == Some(1)
            && body["totals"]["enhanced"].as_u64() == Some(1)
            && body["totals"]["generated"].as_u64() == Some(1)
    });
    assert_eq!(totals["by_post_type"]["photo"]["enhanced"], 1);
    // The generation is counted per A/B variant of its candidate.
    let variants = totals["by_variant"].as_object().expect("by_variant");
    assert_eq!(
        variants.len(),
        1,
        "one candidate, one variant: {variants:?}"
    );
    assert!(
        variants
            .values()
            .all(|v| v["generated"] == 1 && v["published"] == 0)
    );
}

#[test]
fn the_outbox_replays_what_no_consumer_received_once_with_nothing_lost_or_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Redis is not there yet: the steps answer, the events wait in the outbox.
    let server = app_with_events(dir.path(), &format!("redis://127.0.0.1:{port}"));
    for i in 0..5 {
        analyze(
            &server,
            &format!("Before Redis, post {i}: fresh croissants today ☕"),
        );
    }
    let redis = Redis::start_on(port);
    wait_for_subscriber(&redis, &server);
    // The next delivered event brings the pending ones along.
    analyze(&server, "Redis is up: fresh croissants today ☕");
    summary_when(&server, "", |body| analyzed(body) == 6);

    // The consumer's connection is cut: it resubscribes with back-off, and
    // whatever was published meanwhile is replayed by the next event.
    redis.cli(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    for i in 0..3 {
        analyze(
            &server,
            &format!("While the consumer reconnects, post {i} 🥐"),
        );
    }
    wait_for_subscriber(&redis, &server);
    analyze(&server, "The consumer is back 🥐");
    summary_when(&server, "", |body| analyzed(body) == 10);

    // A message delivered twice is counted once; delivery is in order, so
    // once the sentinel after it is counted the duplicate was seen.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let event = |id: &str| {
        json!({"id": id, "type": "post.analyzed", "at_ms": now_ms, "data": {"score": 0.5}})
            .to_string()
    };
    let duplicate = event("test-0123456789abcdef");
    redis.cli(&["PUBLISH", ANALYZED, &duplicate]);
    redis.cli(&["PUBLISH", ANALYZED, &duplicate]);
    redis.cli(&["PUBLISH", ANALYZED, &event("test-fedcba9876543210")]);
    summary_when(&server, "", |body| analyzed(body) >= 12);
    let body = summary(&server, "");
    assert_eq!(analyzed(&body), 12, "a duplicate was counted twice: {body}");
    assert!(
        server.log().contains("was counted before; not again"),
        "{}",
        server.log()
    );
}

#[test]
fn without_redis_every_route_answers_and_the_log_says_events_are_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    let posts = [
        (
            "/api/analyze",
            json!({"text": "Fresh bread today! 🍞 #bakery"}),
        ),
        ("/api/enhance", json!({"text": "fresh bread today"})),
        (
            "/api/predict",
            json!({"page_likes": 120000, "post_type": "photo", "month": 5, "weekday": 3, "hour": 12}),
        ),
        ("/api/generate", json!({"topic": "fresh bread", "n": 1})),
        (
            "/api/feedback",
            json!({"text": "Fresh bread", "page_id": "bakery", "page_likes": 1000,
                                 "post_type": "photo", "published_at": support::days_ago_rfc3339(1),
                                 "metrics": {"reactions": 8, "comments": 1, "shares": 0}}),
        ),
    ];
    for (path, body) in posts {
        let reply = post_json(&server, path, &body);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    }
    assert_eq!(get(&server, "/api/experiments").status, 200);
    let body = summary(&server, "");
    assert_eq!(body["totals"]["analyzed"], 0);
    let log = server.log();
    assert!(log.contains("events are off"), "{log}");
    assert!(!log.contains("kept in the outbox"), "{log}");
}
