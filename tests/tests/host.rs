//! The host's own guarantees, with small test components: key-value grants,
//! persistence, the Redis backend, Spin's headers, and fault isolation (a
//! guest that loops, traps or balloons fails only its own request).

mod support;

use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{Options, Redis, Server, client, post_json, reply, sqlite_config};

fn test_app(state_dir: &Path, config: &Path, extra_args: &[&str]) -> Server {
    Server::start(Options {
        manifest: "tests/spin.toml",
        state_dir,
        runtime_config: Some(config),
        extra_args,
    })
}

fn put(server: &Server, path: &str, value: &str) -> support::Reply {
    reply(
        client()
            .put(server.url(path))
            .body(value.to_string())
            .send()
            .unwrap(),
    )
}

fn get(server: &Server, path: &str) -> support::Reply {
    reply(client().get(server.url(path)).send().unwrap())
}

#[test]
fn key_value_round_trips_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = sqlite_config(dir.path());
    let server = test_app(dir.path(), &config, &[]);
    assert_eq!(
        put(&server, "/kv/default/greeting", "hola mundo").status,
        200
    );
    assert_eq!(put(&server, "/kv/cache/other", "x").status, 200);
    let read = get(&server, "/kv/default/greeting");
    assert_eq!((read.status, read.text.as_str()), (200, "hola mundo"));
    // Labels are separate stores.
    assert_eq!(get(&server, "/kv/cache/greeting").status, 404);
    let keys = get(&server, "/kv/default");
    assert_eq!(keys.body, json!(["greeting"]));
    // Graceful stop, then a new process on the same files.
    let log = server.stop();
    assert!(
        log.contains("SIGTERM"),
        "graceful shutdown is logged:\n{log}"
    );
    let server = test_app(dir.path(), &config, &[]);
    let read = get(&server, "/kv/default/greeting");
    assert_eq!((read.status, read.text.as_str()), (200, "hola mundo"));
    assert_eq!(
        reply(
            client()
                .delete(server.url("/kv/default/greeting"))
                .send()
                .unwrap()
        )
        .status,
        200
    );
    assert_eq!(get(&server, "/kv/default/greeting").status, 404);
}

#[test]
fn key_value_enforces_grants_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let config = sqlite_config(dir.path());
    let server = test_app(dir.path(), &config, &[]);
    // A component without `key_value_stores` is denied every label.
    for label in ["default", "cache"] {
        let denied = get(&server, &format!("/nokv/{label}/k"));
        assert_eq!(denied.status, 403, "{}", denied.text);
        assert_eq!(denied.body["kv_error"], "access-denied");
    }
    // A granted component asking for a label it was not granted: also denied.
    let denied = get(&server, "/kv/secrets/k");
    assert_eq!(denied.body["kv_error"], "access-denied");
    // The key-value spec's guaranteed limits: keys up to 256 bytes, values up to 1 MiB.
    let long_key = "k".repeat(257);
    let too_long = put(&server, &format!("/kv/default/{long_key}"), "v");
    assert_eq!(too_long.status, 500, "{}", too_long.text);
    assert!(
        too_long.body["kv_error"]
            .as_str()
            .unwrap()
            .starts_with("other")
    );
    let ok_key = "k".repeat(256);
    assert_eq!(
        put(&server, &format!("/kv/default/{ok_key}"), "v").status,
        200
    );
    let big = "v".repeat((1 << 20) + 1);
    let too_big = put(&server, "/kv/default/big", &big);
    assert_eq!(too_big.status, 500, "{}", too_big.text);
}

#[test]
fn spin_headers_reach_the_guest() {
    let dir = tempfile::tempdir().unwrap();
    let config = sqlite_config(dir.path());
    let server = test_app(dir.path(), &config, &[]);
    // kv-probe reads label and key from `spin-path-info`; a nested key proves the
    // wildcard's path info is passed through intact.
    assert_eq!(put(&server, "/kv/default/a/b", "nested").status, 200);
    assert_eq!(get(&server, "/kv/default/a/b").text, "nested");
}

#[test]
fn redis_backend_serves_the_same_interface() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("redis-config.toml");
    std::fs::write(
        &config,
        format!(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n\n[key_value_store.cache]\ntype = \"spin\"\npath = {:?}\n",
            redis.url,
            dir.path().join("cache.db")
        ),
    )
    .unwrap();
    let server = test_app(dir.path(), &config, &[]);
    assert_eq!(put(&server, "/kv/default/city", "Sevilla").status, 200);
    assert_eq!(get(&server, "/kv/default/city").text, "Sevilla");
    assert_eq!(get(&server, "/kv/default").body, json!(["city"]));
    // It really is in Redis: a fresh host process with the same config reads it.
    drop(server);
    let server = test_app(dir.path(), &config, &[]);
    assert_eq!(get(&server, "/kv/default/city").text, "Sevilla");
}

#[test]
fn analyze_cache_works_on_redis() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("redis-config.toml");
    std::fs::write(
        &config,
        format!(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"{0}\"\n\n[key_value_store.cache]\ntype = \"redis\"\nurl = \"{0}\"\n",
            redis.url
        ),
    )
    .unwrap();
    let server = Server::start(Options {
        manifest: "spin.toml",
        state_dir: dir.path(),
        runtime_config: Some(&config),
        extra_args: &[],
    });
    let body = json!({ "text": "Nuevo horario: abrimos los domingos de 10 a 14. ¿Nos vemos? 😊" });
    assert_eq!(
        post_json(&server, "/api/analyze", &body).cache.as_deref(),
        Some("miss")
    );
    assert_eq!(
        post_json(&server, "/api/analyze", &body).cache.as_deref(),
        Some("hit")
    );
}

#[test]
fn bad_runtime_config_fails_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[key_value_store.default]\ntype = \"spin\"\npaht = \"x.db\"\n",
    )
    .unwrap();
    support::ensure_built();
    let output = std::process::Command::new(support::fbposts_bin())
        .current_dir(support::repo_root())
        .args([
            "up",
            "-f",
            "tests/spin.toml",
            "--listen",
            "127.0.0.1:0",
            "--state-dir",
        ])
        .arg(dir.path())
        .arg("--runtime-config-file")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("paht"), "names the unknown key:\n{stderr}");

    // A label a component uses but no store defines.
    std::fs::write(&config, "[key_value_store.default]\ntype = \"spin\"\n").unwrap();
    let output = std::process::Command::new(support::fbposts_bin())
        .current_dir(support::repo_root())
        .args([
            "up",
            "-f",
            "tests/spin.toml",
            "--listen",
            "127.0.0.1:0",
            "--state-dir",
        ])
        .arg(dir.path())
        .arg("--runtime-config-file")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cache"),
        "names the undefined label:\n{stderr}"
    );
}

#[test]
fn a_looping_or_trapping_guest_fails_only_its_own_request() {
    let dir = tempfile::tempdir().unwrap();
    let config = sqlite_config(dir.path());
    let server = test_app(
        dir.path(),
        &config,
        &["--request-timeout", "2", "--max-memory-mb", "64"],
    );
    let looping = {
        let url = server.url("/misbehave/loop");
        std::thread::spawn(move || {
            let started = Instant::now();
            let r = reply(client().get(url).send().unwrap());
            (r, started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    // While the loop burns, other requests are served promptly.
    for _ in 0..5 {
        let started = Instant::now();
        let ok = get(&server, "/misbehave/ok");
        assert_eq!((ok.status, ok.text.as_str()), (200, "ok"));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "ok took {:?}",
            started.elapsed()
        );
    }
    let (looped, took) = looping.join().unwrap();
    assert_eq!(looped.status, 503, "{}", looped.text);
    assert_eq!(looped.body["error"]["code"], "timeout");
    assert!(
        took < Duration::from_secs(10),
        "deadline enforced, took {took:?}"
    );

    let trapped = get(&server, "/misbehave/trap");
    assert_eq!(trapped.status, 500, "{}", trapped.text);
    assert_eq!(trapped.body["error"]["code"], "component_failed");

    let ballooned = get(&server, "/misbehave/balloon");
    assert!(ballooned.status >= 500, "{}", ballooned.text);
    assert!(
        ballooned.body["error"]["code"].is_string(),
        "{}",
        ballooned.text
    );

    // And the server is still fine.
    assert_eq!(get(&server, "/misbehave/ok").status, 200);
    let log = server.log();
    assert!(
        log.contains("component=misbehave"),
        "one log line per request:\n{log}"
    );
}
