//! `GET /api/alerts` through the real host: with a p99 limit no request can
//! meet and short intervals, steady `/api/analyze` traffic raises one
//! "crossed" alert for that route's p99 and none for its error rate; the
//! endpoint answers only GET, and `--no-alerts` leaves the path to routing.
//! With `--alert-webhook`, the alert is also POSTed to a local receiver.
//! (The detectors themselves — lead time on a ramp, false alarms on noise,
//! steps, seasons — are replayed in crates/alerts/tests/replays.rs.)

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};
use support::{Options, Server, client, get, post_json, reply, sqlite_config};

fn start(dir: &std::path::Path, extra_args: &[&str]) -> Server {
    Server::start(Options {
        manifest: "spin.toml",
        state_dir: dir,
        runtime_config: Some(&sqlite_config(dir)),
        extra_args,
    })
}

/// A webhook receiver on a free port: each POST's JSON body arrives on the
/// channel; it answers 204.
fn webhook_receiver() -> (String, Receiver<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/alerts", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(value) = lower.strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
            assert!(
                request_line.starts_with("POST /hooks/alerts "),
                "{request_line}"
            );
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

fn alerts_for<'a>(view: &'a Value, series: &str) -> Vec<&'a Value> {
    view["alerts"]
        .as_array()
        .expect("an alerts array")
        .iter()
        .filter(|a| a["series"] == series)
        .collect()
}

#[test]
fn a_route_past_its_p99_limit_raises_one_crossed_alert_and_no_error_alert() {
    let dir = tempfile::tempdir().unwrap();
    let (webhook, posted) = webhook_receiver();
    let server = start(
        dir.path(),
        &[
            "--alert-interval",
            "0.2",
            "--alert-p99-ms",
            "0.001",
            "--alert-webhook",
            &webhook,
        ],
    );
    let started = Instant::now();
    let mut view = Value::Null;
    let mut n = 0;
    while started.elapsed() < Duration::from_secs(15) {
        for _ in 0..5 {
            n += 1;
            let text = format!("Taller de cerámica el sábado {n} en Madrid. ¡Apúntate!");
            let reply = post_json(&server, "/api/analyze", &json!({ "text": text }));
            assert_eq!(reply.status, 200, "{}", reply.text);
        }
        let answer = get(&server, "/api/alerts");
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.content_type.as_deref(), Some("application/json"));
        view = answer.body;
        if !alerts_for(&view, "p99_ms:/api/analyze").is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let p99 = alerts_for(&view, "p99_ms:/api/analyze");
    assert_eq!(
        p99.len(),
        1,
        "one alert while the limit stays crossed: {view}"
    );
    assert_eq!(p99[0]["kind"], "crossed");
    assert_eq!(p99[0]["limit"], 0.001);
    assert!(p99[0]["value"].as_f64().unwrap() > 0.001);
    assert!(p99[0]["fired_at_ms"].as_u64().unwrap() > 0);
    assert!(
        p99[0]["message"].as_str().unwrap().contains("/api/analyze"),
        "{}",
        p99[0]
    );
    assert!(
        alerts_for(&view, "error_rate:/api/analyze").is_empty(),
        "{view}"
    );
    let series: Vec<&str> = view["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(series.contains(&"error_rate:/api/analyze"), "{series:?}");
    assert!(
        server.log().contains("alert: p99_ms:/api/analyze"),
        "the alert is logged"
    );
    let hooked = posted
        .recv_timeout(Duration::from_secs(10))
        .expect("the alert was POSTed to the webhook");
    assert_eq!(
        &hooked, p99[0],
        "the webhook got the alert the endpoint serves"
    );
    assert!(
        posted.recv_timeout(Duration::from_millis(500)).is_err(),
        "one alert, one POST"
    );
}

#[test]
fn the_alerts_path_answers_only_get_and_is_routed_normally_with_no_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let reply_to_post = reply(
        client()
            .post(server.url("/api/alerts"))
            .json(&json!({}))
            .send()
            .unwrap(),
    );
    assert_eq!(reply_to_post.status, 405, "{}", reply_to_post.text);
    assert_eq!(reply_to_post.body["error"]["code"], "method_not_allowed");
    let quiet = get(&server, "/api/alerts");
    assert_eq!(quiet.status, 200);
    assert_eq!(quiet.body["alerts"], json!([]));
    assert_eq!(quiet.body["interval_seconds"], 10.0);
    drop(server);

    let dir = tempfile::tempdir().unwrap();
    let off = start(dir.path(), &["--no-alerts"]);
    let routed = get(&off, "/api/alerts");
    assert_eq!(routed.status, 404, "{}", routed.text);
    assert_eq!(routed.body["error"]["code"], "not_found");
}
