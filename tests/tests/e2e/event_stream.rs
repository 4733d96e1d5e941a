//! `GET /api/analytics/stream` on our host with Redis: an analysis reaches
//! an open stream as a Server-Sent Event; a reconnecting reader resumes
//! after its `Last-Event-ID`; a reader further behind than the feed's ring
//! is told how many events it missed; the stream ends with an `end` event
//! when its time is up; bad parameters are JSON 400s.

use crate::events::{app_with_events, wait_for_subscriber};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use support::{Redis, Server, client, get, post_json};

/// The feed's ring (`fbposts_guest_kit::live::RING`).
const RING: u64 = 256;

/// One message of the stream.
#[derive(Debug, Clone, Default)]
struct Message {
    id: Option<u64>,
    event: String,
    data: Value,
}

/// An open stream: its messages arrive on a channel, read by a thread; the
/// channel closes when the server ends the body.
struct Stream {
    messages: Receiver<Message>,
}

impl Stream {
    fn open(server: &Server, query: &str, last_event_id: Option<u64>) -> Stream {
        let mut request = client().get(server.url(&format!("/api/analytics/stream{query}")));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().expect("stream request");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        let (tx, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut message = Message::default();
            for line in BufReader::new(response).lines() {
                let Ok(line) = line else { return };
                if line.is_empty() {
                    if tx.send(std::mem::take(&mut message)).is_err() {
                        return;
                    }
                } else if let Some(id) = line.strip_prefix("id: ") {
                    message.id = Some(id.parse().expect("numeric id"));
                } else if let Some(event) = line.strip_prefix("event: ") {
                    message.event = event.to_string();
                } else if let Some(data) = line.strip_prefix("data: ") {
                    message.data = serde_json::from_str(data).expect("JSON data");
                } else if let Some(retry) = line.strip_prefix("retry: ") {
                    message.event = format!("retry {retry}");
                }
            }
        });
        Stream { messages }
    }

    /// The next message whose event is `kind` (others are skipped), waiting
    /// at most `limit`.
    fn next_of(&self, kind: &str, limit: Duration) -> Message {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) if message.event == kind => return message,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => panic!("no '{kind}' message within {limit:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("the stream ended before '{kind}'"),
            }
        }
    }

    /// Every message until the server ends the body.
    fn rest(self, limit: Duration) -> Vec<Message> {
        let deadline = Instant::now() + limit;
        let mut all = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) => all.push(message),
                Err(RecvTimeoutError::Disconnected) => return all,
                Err(RecvTimeoutError::Timeout) => panic!("the stream did not end: {all:?}"),
            }
        }
    }
}

fn analyze(server: &Server, text: &str) -> f64 {
    let reply = post_json(
        server,
        "/api/analyze",
        &json!({"text": text, "language": "en", "post_type": "photo"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["score"].as_f64().unwrap()
}

fn events_server(redis: &Redis, dir: &std::path::Path) -> Server {
    let server = app_with_events(dir, &redis.url);
    wait_for_subscriber(redis, &server);
    server
}

#[test]
fn an_analysis_reaches_an_open_stream_and_a_reconnecting_reader_resumes_after_its_last_id() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let server = events_server(&redis, dir.path());
    let stream = Stream::open(&server, "?seconds=20", None);
    assert_eq!(
        stream.next_of("retry 1000", Duration::from_secs(5)).id,
        None
    );

    let mut latencies_ms = Vec::new();
    let mut ids = Vec::new();
    for i in 0..20 {
        let text = format!("Fresh batch {i} of rye bread is out! Which one is yours? 🍞");
        let started = Instant::now();
        let score = analyze(&server, &text);
        let message = stream.next_of("post.analyzed", Duration::from_secs(10));
        latencies_ms.push(started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(message.data["type"], "post.analyzed");
        assert_eq!(message.data["data"]["score"].as_f64(), Some(score));
        ids.push(message.id.expect("events carry their number"));
    }
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    latencies_ms.sort_by(f64::total_cmp);
    println!(
        "stream: POST /api/analyze -> its event read from the stream, 20 events: p50 {:.0} ms, max {:.0} ms",
        latencies_ms[10], latencies_ms[19]
    );

    let resumed = Stream::open(&server, "?seconds=1", Some(ids[16]));
    let messages = resumed.rest(Duration::from_secs(10));
    let resent: Vec<u64> = messages
        .iter()
        .filter(|m| m.event == "post.analyzed")
        .filter_map(|m| m.id)
        .collect();
    assert_eq!(resent, ids[17..].to_vec());
    let end = messages.last().expect("an end message");
    assert_eq!(end.event, "end");
    assert_eq!(end.data["reason"], "time_up");
    assert_eq!(end.data["last_event_id"].as_u64(), Some(ids[19]));
    assert!(
        messages
            .iter()
            .any(|m| m.event == "summary" && m.data["totals"]["analyzed"].as_u64() == Some(20))
    );
}

#[test]
fn a_reader_further_behind_than_the_ring_is_told_how_many_events_it_missed() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let server = events_server(&redis, dir.path());
    let total = RING + 44;
    for i in 0..total {
        analyze(&server, &format!("Post number {i} about our sourdough 🍞"));
    }
    // Every event counted first (the consumer may trail the requests on a
    // loaded machine), so the stream's part is judged on its own.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let summary = get(&server, "/api/analytics/summary").body;
        if summary["totals"]["analyzed"].as_u64() == Some(total) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the consumer did not count {total} analyses: {}\n{}",
            summary["totals"],
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let messages = Stream::open(&server, "?seconds=1", Some(0)).rest(Duration::from_secs(10));
    let dropped = messages
        .iter()
        .find(|m| m.event == "dropped")
        .unwrap_or_else(|| panic!("no dropped message in {messages:?}\n{}", server.log()));
    assert_eq!(dropped.data["dropped"].as_u64(), Some(total - RING));
    let sent: Vec<u64> = messages.iter().filter_map(|m| m.id).collect();
    assert_eq!(sent, (total - RING + 1..=total).collect::<Vec<_>>());
    let end = messages.last().unwrap();
    assert_eq!(
        (end.event.as_str(), &end.data["dropped"]),
        ("end", &json!(total - RING))
    );
}

#[test]
fn bad_stream_parameters_are_json_400s() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let server = app_with_events(dir.path(), &redis.url);
    for (query, code) in [
        ("?seconds=0", "invalid_query"),
        ("?seconds=26", "invalid_query"),
        ("?page=bakery", "invalid_query"),
        ("?last_event_id=latest", "invalid_last_event_id"),
    ] {
        let reply = get(&server, &format!("/api/analytics/stream{query}"));
        assert_eq!(reply.status, 400, "{query}: {}", reply.text);
        assert_eq!(reply.body["error"]["code"], code, "{query}");
    }
    let reply = support::reply(
        client()
            .post(server.url("/api/analytics/stream"))
            .send()
            .unwrap(),
    );
    assert_eq!(reply.status, 405);
    assert_eq!(reply.body["error"]["code"], "method_not_allowed");
}
