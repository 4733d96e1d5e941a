//! The cron trigger and the learning loop: `spin.toml`'s `[[trigger.cron]]`
//! entry, run every second instead of hourly, refreshes the pages' pooled
//! prior from their feedback and reports what it saw in
//! `GET /api/experiments`.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{Options, Server, get, post_json, repo_root, sqlite_config};

/// `spin.toml` with every cron expression replaced by `schedule` and every
/// `source` made absolute, written into `dir`.
fn manifest_with_schedule(dir: &Path, schedule: &str) -> PathBuf {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("spin.toml")).unwrap();
    assert!(
        text.contains("cron_expression = "),
        "spin.toml has no cron trigger"
    );
    let rewritten: String = text
        .lines()
        .map(|line| {
            if line.starts_with("cron_expression = ") {
                format!("cron_expression = \"{schedule}\"")
            } else if let Some(path) = line.strip_prefix("source = \"") {
                format!("source = \"{}/{path}", root.display())
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join("spin.toml");
    std::fs::write(&path, rewritten).unwrap();
    path
}

/// Publishes `posts` generated candidates of `page` and reports outcomes
/// `factor` times a baseline, so the page's model learns that effect.
fn teach_page(server: &Server, page: &str, posts: u64, factor: u64) {
    for seed in 0..posts {
        let brief = json!({"topic": "pan de masa madre", "language": "es", "n": 1, "seed": seed,
                           "page": {"id": page, "likes": 120000}, "post_type": "photo"});
        let reply = post_json(server, "/api/generate", &brief);
        assert_eq!(reply.status, 200, "{}", reply.text);
        let id = reply.body["candidates"][0]["id"].clone();
        let total = 100 * factor + seed;
        let event = json!({"id": id, "published_at": format!("{}T19:00:00+01:00", support::date_days_ago(posts - seed)),
                           "metrics": {"reactions": total, "comments": 0, "shares": 0, "reach": 40 * total}});
        let reply = post_json(server, "/api/feedback", &event);
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
}

/// The learning loop's report once `ready` holds for it (polled up to 20 s).
fn report_when(server: &Server, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let report = get(server, "/api/experiments").body["learning_loop"].clone();
        if ready(&report) {
            return report;
        }
        assert!(
            Instant::now() < deadline,
            "the learning loop did not report in time: {report}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_learning_loop_runs_on_schedule_and_pools_the_pages_prior() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with_schedule(dir.path(), "* * * * * *");
    let server = Server::start(Options {
        manifest: manifest.to_str().unwrap(),
        state_dir: dir.path(),
        runtime_config: Some(&sqlite_config(dir.path())),
        // The copied manifest has no `models/` beside it for wasi-nn.
        extra_args: &["--inference", "portable"],
    });
    let first = report_when(&server, |report| !report.is_null());
    assert_eq!(first["priors"][0]["stored"], false, "{first}");

    teach_page(&server, "bakery-north", 12, 3);
    teach_page(&server, "bakery-south", 12, 1);
    let report = report_when(&server, |report| report["feedback_events"] == 24);
    assert_eq!(
        report["page_models"], 4,
        "two pages × two targets: {report}"
    );
    for prior in report["priors"].as_array().unwrap() {
        assert_eq!(prior["ready_pages"], 2, "{report}");
        assert_eq!(prior["stored"], true, "{report}");
    }
    let later = report_when(&server, |later| {
        later["ran_at"].as_u64() > report["ran_at"].as_u64()
    });
    assert_eq!(
        later["feedback_events"], 24,
        "a rerun changes nothing: {later}"
    );
    let log = server.stop();
    assert!(log.contains("cron run succeeded"), "{log}");
    assert!(!log.contains("cron run failed"), "{log}");
}

/// Rows of `store` in the SQLite file `db` whose key starts with `prefix`.
fn rows(db: &Path, store: &str, prefix: &str) -> Vec<String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut query = conn
        .prepare(
            "SELECT key FROM spin_key_value WHERE store = ?1 AND substr(key, 1, length(?2)) = ?2",
        )
        .unwrap();
    query
        .query_map((store, prefix), |row| row.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Polls (up to 20 s) until `done` holds.
fn wait_until(what: &str, server: &Server, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "{what}\n{}", server.log());
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_learning_loop_prunes_expired_candidates_and_responses_and_keeps_fresh_ones() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with_schedule(dir.path(), "* * * * * *");
    let config = sqlite_config(dir.path());
    let options = || Options {
        manifest: manifest.to_str().unwrap(),
        state_dir: dir.path(),
        runtime_config: Some(&config),
        extra_args: &["--inference", "portable"],
    };
    let brief = |topic: &str| {
        json!({"topic": topic, "language": "es", "n": 1, "seed": 7,
               "page": {"id": "bakery-ttl", "likes": 5000}, "post_type": "photo"})
    };
    // 1. Lifetimes of one second: a candidate and a cached response.
    let short = Server::start_with_env(
        options(),
        &[
            ("SPIN_VARIABLE_CANDIDATE_LIFETIME_SECS", "1"),
            ("SPIN_VARIABLE_RESPONSE_CACHE_LIFETIME_SECS", "1"),
        ],
    );
    let old = post_json(&short, "/api/generate", &brief("pan de centeno"));
    assert_eq!(old.status, 200, "{}", old.text);
    let old_id = old.body["candidates"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let analyzed = post_json(
        &short,
        "/api/analyze",
        &json!({"text": "Horno abierto el sábado 14 en la Calle Mayor 12: pan de centeno a 3 €."}),
    );
    assert_eq!(analyzed.status, 200, "{}", analyzed.text);
    short.stop();

    // 2. The default lifetimes (a week, a day): a fresh candidate.
    let server = Server::start(options());
    let fresh = post_json(&server, "/api/generate", &brief("pan de espelta"));
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    let fresh_id = fresh.body["candidates"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let (default_db, cache_db) = (dir.path().join("default.db"), dir.path().join("cache.db"));
    wait_until("the expired candidate was not pruned", &server, || {
        rows(&default_db, "default", &format!("candidate/{old_id}")).is_empty()
    });
    wait_until("the expired responses were not pruned", &server, || {
        rows(&cache_db, "cache", "analyze:").is_empty()
            && rows(&cache_db, "cache", "generate:").len() == 1
    });
    assert_eq!(
        rows(&default_db, "default", &format!("candidate/{fresh_id}")).len(),
        1,
        "the fresh candidate is kept"
    );
    let event = |id: &str| {
        json!({"id": id, "published_at": support::days_ago_rfc3339(2),
               "metrics": {"reactions": 10, "comments": 1, "shares": 0}})
    };
    let gone = post_json(&server, "/api/feedback", &event(&old_id));
    assert_eq!(
        (gone.status, gone.body["error"]["code"].as_str()),
        (404, Some("unknown_candidate")),
        "{}",
        gone.text
    );
    let kept = post_json(&server, "/api/feedback", &event(&fresh_id));
    assert_eq!(kept.status, 200, "{}", kept.text);
    let log = server.stop();
    assert!(!log.contains("cron run failed"), "{log}");
}
