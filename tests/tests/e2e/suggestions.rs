//! The optimization triggers through Redis on our host: published outcomes
//! below their forecast's p10 reach the `suggestions` consumer, which says
//! why (the text's weakest signals, from the analysis step composed in
//! through WIT) and what to try; the third such post of a page in a row
//! raises a business alert — listed, and sent on the live stream — and a
//! post at p10 or above clears it.

use crate::events::{app_with_events, wait_for_subscriber};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};
use support::{Redis, Server, days_ago_rfc3339, get, post_json};

fn feedback(server: &Server, days_ago: u64, interactions: u64) -> Value {
    let body = json!({
        "text": format!("ok {days_ago}"),
        "page_id": "quiet-page",
        "page_likes": 120000,
        "post_type": "photo",
        "published_at": days_ago_rfc3339(days_ago),
        "metrics": {"reactions": interactions, "comments": 0, "shares": 0}
    });
    let reply = post_json(server, "/api/feedback", &body);
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body
}

/// Polls the suggestions (up to 10 s) until `ready` holds.
fn suggestions_when(server: &Server, query: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = get(server, &format!("/api/analytics/suggestions{query}"));
        assert_eq!(reply.status, 200, "{}", reply.text);
        if ready(&reply.body) {
            return reply.body;
        }
        assert!(
            Instant::now() < deadline,
            "the suggestions did not get there: {}\n{}",
            reply.body,
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The live stream for a few seconds, as lines.
fn get_stream(server: &Server) -> impl BufRead {
    let response = support::client()
        .get(server.url("/api/analytics/stream?seconds=5"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    BufReader::new(response)
}

fn count(body: &Value, field: &str) -> usize {
    body[field].as_array().map_or(0, Vec::len)
}

#[test]
fn three_posts_below_p10_in_a_row_get_suggestions_and_a_business_alert_that_a_good_post_clears() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let server = app_with_events(dir.path(), &redis.url);
    wait_for_subscriber(&redis, &server);

    for days_ago in [5, 4] {
        feedback(&server, days_ago, 0);
    }
    let two = suggestions_when(&server, "?page=quiet-page", |b| {
        count(b, "suggestions") == 2
    });
    assert_eq!(
        count(&two, "alerts"),
        0,
        "two in a row are not yet an alert: {two}"
    );
    let first = &two["suggestions"][0];
    assert_eq!(first["page_id"], "quiet-page");
    assert_eq!(first["observed_interactions"], 0.0);
    let p10 = first["predicted_p10_interactions"].as_f64().unwrap();
    assert!(p10 > 0.0, "{first}");
    let why: Vec<&str> = first["why"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        why[0].starts_with("0 interactions, below the forecast's p10"),
        "{why:?}"
    );
    assert!(
        why[1..].iter().any(|w| w.starts_with("weak ")),
        "the text was analysed: {why:?}"
    );
    assert!(count(first, "try_next") >= 1, "{first}");

    let stream = get_stream(&server);
    feedback(&server, 3, 0);
    let announced = stream
        .lines()
        .map_while(Result::ok)
        .find(|line| line == "event: alert.business");
    assert!(
        announced.is_some(),
        "the business alert reached the live stream"
    );
    let three = suggestions_when(&server, "?page=quiet-page", |b| count(b, "alerts") == 1);
    let alert = &three["alerts"][0];
    assert_eq!(alert["page_id"], "quiet-page");
    assert_eq!(alert["posts_below_p10"], 3);
    assert!(
        alert["message"]
            .as_str()
            .unwrap()
            .contains("3 posts in a row below"),
        "{alert}"
    );
    assert!(server.log().contains("suggestions: business alert"));

    // A post far above its forecast: no suggestion, and the alert is over.
    feedback(&server, 2, 100_000);
    suggestions_when(&server, "?page=quiet-page", |b| count(b, "alerts") == 0);
    let after = get(&server, "/api/analytics/suggestions?page=quiet-page").body;
    assert_eq!(count(&after, "suggestions"), 3, "{after}");
    let all = get(&server, "/api/analytics/suggestions").body;
    assert_eq!(
        (count(&all, "suggestions"), count(&all, "alerts")),
        (3, 0),
        "{all}"
    );
    let other = get(&server, "/api/analytics/suggestions?page=another-page").body;
    assert_eq!(
        (count(&other, "suggestions"), count(&other, "alerts")),
        (0, 0)
    );

    let bad = get(&server, "/api/analytics/suggestions?since=yesterday");
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.body["error"]["code"], "invalid_query");
}
