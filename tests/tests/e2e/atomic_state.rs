//! The learning state under concurrency and faults, through the real host:
//! identical feedback events at once are applied once; concurrent credits
//! to one arm all count, on one host (SQLite) and on two hosts sharing one
//! Redis; a stopped Redis turns the cache into misses and the state routes
//! into fast 503s, and the host recovers by itself when Redis resumes; a
//! feedback answered 200 survives a `kill -9` of the host.
//! Latencies are printed (for the report), never asserted.

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Options, Redis, Server, get, post_json};

const CONTEXT: &str = "es.engagement.friendly";

fn start(dir: &std::path::Path, config: &std::path::Path) -> Server {
    Server::start(Options {
        manifest: "spin.toml",
        state_dir: dir,
        runtime_config: Some(config),
        extra_args: &[],
    })
}

/// `count` candidate ids from template briefs in [`CONTEXT`] (n = 10 each).
fn candidates(server: &Server, count: usize) -> Vec<Value> {
    let mut ids = Vec::new();
    for seed in 0.. {
        let brief = json!({"topic": "pan de masa madre", "language": "es", "tone": "friendly",
            "goal": "engagement", "n": 10, "seed": seed, "generator": "template",
            "page": {"id": "panaderia", "likes": 30000}, "post_type": "photo"});
        let reply = post_json(server, "/api/generate", &brief);
        assert_eq!(reply.status, 200, "{}", reply.text);
        for candidate in reply.body["candidates"].as_array().unwrap() {
            ids.push(candidate["id"].clone());
        }
        if ids.len() >= count {
            ids.truncate(count);
            return ids;
        }
    }
    unreachable!()
}

fn event(id: &Value, reactions: u64) -> Value {
    json!({"id": id, "published_at": support::days_ago_rfc3339(1),
           "metrics": {"reactions": reactions, "comments": 3, "shares": 1}})
}

/// Rewards credited so far to the template generator arm in [`CONTEXT`].
fn template_rewards(server: &Server) -> u64 {
    let listing = get(
        server,
        &format!("/api/experiments?family=generator&context={CONTEXT}"),
    );
    assert_eq!(listing.status, 200, "{}", listing.text);
    listing.body["experiments"][0]["arms"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|arm| arm["id"] == "template")
        .map_or(0, |arm| arm["rewards"].as_u64().unwrap())
}

/// Posts every event at once (one thread each), alternating over `servers`;
/// returns the replies' statuses and bodies.
fn post_all(servers: &[&Server], events: &[Value]) -> Vec<(u16, Value)> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = events
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let server = servers[i % servers.len()];
                scope.spawn(move || {
                    let reply = post_json(server, "/api/feedback", body);
                    (reply.status, reply.body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn fifty_identical_feedback_events_at_once_are_applied_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    let id = candidates(&server, 1).remove(0);
    let events = vec![event(&id, 40); 50];
    let replies = post_all(&[&server], &events);
    let applied = replies
        .iter()
        .filter(|(status, body)| *status == 200 && body["duplicate"] == false)
        .count();
    let duplicates = replies
        .iter()
        .filter(|(status, body)| *status == 200 && body["duplicate"] == true)
        .count();
    let in_progress = replies
        .iter()
        .filter(|(status, body)| *status == 409 && body["error"]["code"] == "feedback_in_progress")
        .count();
    assert_eq!(applied, 1, "{replies:?}");
    assert_eq!(applied + duplicates + in_progress, 50, "{replies:?}");
    assert_eq!(template_rewards(&server), 1);
    let again = post_json(&server, "/api/feedback", &events[0]);
    assert_eq!(again.body["duplicate"], true, "{}", again.text);
    assert_eq!(again.body["page_model"]["observations"], 1);
}

#[test]
fn feedback_answered_200_survives_a_kill_9_and_its_resend_is_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    let id = candidates(&server, 1).remove(0);
    let first = post_json(&server, "/api/feedback", &event(&id, 40));
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["duplicate"], false);
    // Dropping the server is SIGKILL: no graceful shutdown, no flush.
    drop(server);
    let server = Server::app(dir.path());
    assert_eq!(template_rewards(&server), 1, "the credit survived the kill");
    let resent = post_json(&server, "/api/feedback", &event(&id, 40));
    assert_eq!(resent.status, 200, "{}", resent.text);
    assert_eq!(resent.body["duplicate"], true, "{}", resent.text);
    assert_eq!(resent.body["page_model"]["observations"], 1);
    assert_eq!(
        template_rewards(&server),
        1,
        "the resend was not credited again"
    );
}

#[test]
fn sixty_four_concurrent_feedbacks_for_one_arm_all_count() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    let ids = candidates(&server, 64);
    let before = template_rewards(&server);
    let events: Vec<Value> = ids.iter().map(|id| event(id, 25)).collect();
    let started = Instant::now();
    let replies = post_all(&[&server], &events);
    eprintln!(
        "64 concurrent feedbacks on one SQLite host: {} ms",
        started.elapsed().as_millis()
    );
    for (status, body) in &replies {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["duplicate"], false, "{body}");
    }
    assert_eq!(template_rewards(&server), before + 64);
    // The page model saw every event too.
    let predict = post_json(
        &server,
        "/api/predict",
        &json!({"page_likes": 30000, "post_type": "photo", "scheduled_at": "2026-12-01T18:30:00Z",
                "page_id": "panaderia"}),
    );
    assert_eq!(
        predict.body["model"]["page"]["observations"], 64,
        "{}",
        predict.text
    );
}

#[test]
fn two_hosts_on_one_redis_count_every_feedback() {
    let redis = Redis::start();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(dir_a.path(), &redis.config(dir_a.path()));
    let b = start(dir_b.path(), &redis.config(dir_b.path()));
    let ids = candidates(&a, 64);
    let events: Vec<Value> = ids.iter().map(|id| event(id, 25)).collect();
    let started = Instant::now();
    let replies = post_all(&[&a, &b], &events);
    eprintln!(
        "64 concurrent feedbacks split over two hosts on one Redis: {} ms",
        started.elapsed().as_millis()
    );
    for (status, body) in &replies {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["duplicate"], false, "{body}");
    }
    assert_eq!(template_rewards(&a), 64);
    assert_eq!(template_rewards(&b), 64);
}

#[test]
fn a_stopped_redis_makes_cache_misses_and_fast_503s_then_recovers_without_restart() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &redis.config(dir.path()));
    let analyze = |i: u32| json!({"text": format!("Este sábado {i} abrimos el taller de cerámica en Valencia: 12 plazas, 25 €. ¡Reserva la tuya!")});
    assert_eq!(post_json(&server, "/api/analyze", &analyze(0)).status, 200);
    assert_eq!(get(&server, "/api/experiments").status, 200);

    redis.signal("STOP");
    let mut analyze_ms = Vec::new();
    for i in 1..=20 {
        let started = Instant::now();
        let reply = post_json(&server, "/api/analyze", &analyze(i));
        analyze_ms.push(started.elapsed().as_millis());
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.cache.as_deref(), Some("miss"));
    }
    let mut state_ms = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let reply = get(&server, "/api/experiments");
        state_ms.push(started.elapsed().as_millis());
        assert_eq!(reply.status, 503, "{}", reply.text);
        assert_eq!(reply.body["error"]["code"], "state_unavailable");
    }
    eprintln!("Redis stopped: analyze ms {analyze_ms:?}; /api/experiments (503) ms {state_ms:?}");

    redis.signal("CONT");
    let deadline = Instant::now() + Duration::from_secs(15);
    let started = Instant::now();
    loop {
        let reply = get(&server, "/api/experiments");
        if reply.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery: {}", reply.text);
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "Redis resumed: state routes answer again after {} ms",
        started.elapsed().as_millis()
    );
    let cached = post_json(&server, "/api/analyze", &analyze(0));
    assert_eq!(cached.cache.as_deref(), Some("hit"), "{}", cached.text);
}

#[test]
fn a_page_id_longer_than_128_bytes_is_a_422_not_a_503() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    // 128 chars (the old limit) but 256 bytes: `page/<id>/model/…` would
    // exceed Spin's 256-byte keys and fail every time as a 503.
    let reply = post_json(
        &server,
        "/api/predict",
        &json!({"page_likes": 1000, "post_type": "photo", "scheduled_at": "2026-12-01T18:30:00Z",
                "page_id": "é".repeat(128)}),
    );
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], "invalid_field");
}
