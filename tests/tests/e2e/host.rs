//! The host's own guarantees, with small test components: key-value grants,
//! persistence, the Redis backend, Spin's headers, and fault isolation (a
//! guest that loops, traps or balloons fails only its own request).

use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{Options, OutputWithin, Redis, Server, client, post_json, reply, sqlite_config};

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

/// Runs `fbposts up` on the test manifest with `config`, which must stop
/// start-up; returns what it printed on stderr.
fn failed_start_up(state_dir: &std::path::Path, config: &std::path::Path) -> String {
    let output = std::process::Command::new(support::fbposts_bin())
        .current_dir(support::repo_root())
        .args(["up", "-f", "tests/spin.toml", "--listen", "127.0.0.1:0"])
        .arg("--state-dir")
        .arg(state_dir)
        .arg("--runtime-config-file")
        .arg(config)
        .output_within(Duration::from_secs(60));
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
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
    let stderr = failed_start_up(dir.path(), &config);
    assert!(stderr.contains("paht"), "names the unknown key:\n{stderr}");

    // A label a component uses but no store defines.
    std::fs::write(&config, "[key_value_store.default]\ntype = \"spin\"\n").unwrap();
    let stderr = failed_start_up(dir.path(), &config);
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

/// The largest linear memory a component's instance reached, from `/metrics`.
fn memory_peak_max(server: &Server, component: &str) -> f64 {
    crate::metrics::value(
        &crate::metrics::scrape(server),
        "fbposts_instance_memory_peak_max_bytes",
        &[("component", component)],
    )
}

#[test]
fn a_component_s_own_memory_cap_stops_it_below_the_host_s_cap() {
    let dir = tempfile::tempdir().unwrap();
    let config = sqlite_config(dir.path());
    let server = test_app(dir.path(), &config, &["--max-memory-mb", "64"]);
    const MIB: f64 = (1 << 20) as f64;

    // The same guest, ballooning in 16 MiB steps: `misbehave-capped` asks for
    // 24 MiB in its tool table, `misbehave` has the host's 64 MiB.
    let capped = get(&server, "/capped/balloon");
    assert_eq!(capped.status, 500, "{}", capped.text);
    assert_eq!(capped.body["error"]["code"], "component_failed");
    let uncapped = get(&server, "/misbehave/balloon");
    assert_eq!(uncapped.status, 500, "{}", uncapped.text);
    assert_eq!(uncapped.body["error"]["code"], "component_failed");

    let capped_peak = memory_peak_max(&server, "misbehave-capped");
    assert!(
        capped_peak > 16.0 * MIB && capped_peak <= 24.0 * MIB,
        "grew one step, then stopped at its own cap: {capped_peak}"
    );
    let uncapped_peak = memory_peak_max(&server, "misbehave");
    assert!(
        uncapped_peak > 24.0 * MIB && uncapped_peak <= 64.0 * MIB,
        "the host's cap: {uncapped_peak}"
    );
    // The capped component still serves.
    assert_eq!(get(&server, "/capped/ok").status, 200);
}

/// The compiled components in `cache_dir`, and whether a temporary file is left.
fn compiled_files(cache_dir: &Path) -> (Vec<String>, bool) {
    let mut names: Vec<String> = std::fs::read_dir(cache_dir.join("components"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let leftover = names
        .iter()
        .any(|name| name.ends_with(".tmp") || name.ends_with(".lock"));
    names.retain(|name| name.ends_with(".cwasm"));
    (names, leftover)
}

/// Three of the test components (one of them composed with a dependency) in
/// a manifest of their own: `tests/spin.toml` also composes tract into
/// `inference-probe`, which a cache of its own would compile for a minute
/// of CPU.
fn small_manifest(dir: &Path) -> std::path::PathBuf {
    let built = support::repo_root().join("target/wasm32-wasip2/wasm-release");
    let source = |name: &str| built.join(format!("{name}.wasm")).display().to_string();
    let manifest = dir.join("small.toml");
    std::fs::write(
        &manifest,
        format!(
            r#"spin_manifest_version = 2
[application]
name = "small"
[variables]
api_token = {{ default = "token" }}

[[trigger.http]]
route = "/misbehave/..."
component = "misbehave"
[component.misbehave]
source = {misbehave:?}

[[trigger.http]]
route = "/kv/..."
component = "kv-probe"
[component.kv-probe]
source = {kv_probe:?}
key_value_stores = ["default", "cache"]

[[trigger.http]]
route = "/dep/..."
component = "dep-host"
[component.dep-host]
source = {dep_host:?}
[component.dep-host.variables]
llm_api_key = "{{{{ api_token }}}}"
[component.dep-host.dependencies]
"fbposts-test:probe/probe@0.1.0" = {{ component = "dep-probe" }}
[component.dep-probe]
source = {dep_probe:?}
"#,
            misbehave = source("misbehave"),
            kv_probe = source("kv_probe"),
            dep_host = source("dep_host"),
            dep_probe = source("dep_probe"),
        ),
    )
    .unwrap();
    manifest
}

/// `small_manifest` served from the compiled-component cache `cache_dir`.
fn start_small(manifest: &Path, state_dir: &Path, config: &Path, cache_dir: &Path) -> Server {
    Server::start(Options {
        manifest: manifest.to_str().unwrap(),
        state_dir,
        runtime_config: Some(config),
        extra_args: &["--cache-dir", cache_dir.to_str().unwrap()],
    })
}

#[test]
fn a_first_start_compiles_in_a_child_and_the_next_maps_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = sqlite_config(dir.path());
    let manifest = small_manifest(dir.path());
    let cache_dir = dir.path().join("compiled");
    let start = || start_small(&manifest, dir.path(), &config, &cache_dir);

    let first = start();
    assert_eq!(get(&first, "/misbehave/ok").status, 200);
    let log = first.stop();
    assert!(
        !log.contains("compiling here"),
        "every component was compiled by a child:\n{log}"
    );
    let (compiled, leftover) = compiled_files(&cache_dir);
    assert_eq!(compiled.len(), 3, "{compiled:?}");
    assert!(!leftover, "no temporary or lock file is left");

    let second = start();
    assert_eq!(get(&second, "/misbehave/ok").status, 200);
    assert_eq!(compiled_files(&cache_dir), (compiled, false));
}

#[test]
fn hosts_starting_together_on_a_cold_cache_compile_each_component_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = sqlite_config(dir.path());
    let manifest = small_manifest(dir.path());
    let cache_dir = dir.path().join("compiled");
    let hosts: Vec<_> = (0..2)
        .map(|i| {
            let state = dir.path().join(format!("host-{i}"));
            let (manifest, config, cache_dir) =
                (manifest.clone(), config.clone(), cache_dir.clone());
            std::thread::spawn(move || start_small(&manifest, &state, &config, &cache_dir))
        })
        .collect();
    let hosts: Vec<Server> = hosts.into_iter().map(|h| h.join().unwrap()).collect();
    for host in &hosts {
        assert_eq!(get(host, "/misbehave/ok").status, 200);
    }
    let logs: Vec<String> = hosts.into_iter().map(Server::stop).collect();
    let (compiled, leftover) = compiled_files(&cache_dir);
    assert_eq!(compiled.len(), 3, "{compiled:?}");
    assert!(!leftover, "no temporary or lock file is left");
    // Each component was compiled by one host; the other mapped its file,
    // found there at start or after waiting for the first to write it.
    let compiles: usize = logs
        .iter()
        .map(|log| log.matches("component compiled").count())
        .sum();
    assert_eq!(compiles, compiled.len(), "{logs:?}");
}

// ---------------------------------------------------------------------------
// Variables (`spin:variables`) and outbound HTTP, with the `outbound-probe`
// component of tests/spin.toml.

/// A loopback HTTP/1.1 server in this process: answers every request with
/// `200 upstream says hi` and records each request head.
struct Upstream {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Upstream {
    fn start() -> Upstream {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let record = record.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    record
                        .lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&head).into_owned());
                    let body = "upstream says hi";
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        Upstream { port, seen }
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn probe_app(state_dir: &Path, env: &[(&str, &str)]) -> Server {
    Server::start_with_env(
        Options {
            manifest: "tests/spin.toml",
            state_dir,
            runtime_config: Some(&sqlite_config(state_dir)),
            extra_args: &[],
        },
        env,
    )
}

fn fetch(server: &Server, target: &str) -> support::Reply {
    reply(
        client()
            .get(server.url("/outbound/fetch"))
            .header("x-target-url", target)
            .send()
            .unwrap(),
    )
}

#[test]
fn variables_use_defaults_and_templates_and_only_the_components_own() {
    let dir = tempfile::tempdir().unwrap();
    let server = probe_app(dir.path(), &[]);
    let var = |name: &str| get(&server, &format!("/outbound/var/{name}"));

    let r = var("upstream_url");
    assert_eq!(
        (r.status, &r.body),
        (200, &json!({ "value": "http://127.0.0.1:9/unset" })),
        "{}",
        r.text
    );
    // Literal text around (repeated) references, and literal-only templates.
    assert_eq!(
        var("message").body,
        json!({ "value": "hello, hello world" })
    );
    assert_eq!(var("literal").body, json!({ "value": "no templates here" }));

    // `greeting` is an app variable, but the component did not declare it.
    for name in ["greeting", "not_declared"] {
        let r = var(name);
        assert_eq!(r.status, 404, "{name}: {}", r.text);
        assert_eq!(r.body["variable_error"], "undefined", "{name}: {}", r.text);
    }
    let r = var("Bad-Name");
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["variable_error"], "invalid-name", "{}", r.text);

    // Another component has no variables at all.
    assert_eq!(get(&server, "/kv/default/missing").status, 404);
}

#[test]
fn variables_from_the_environment_drive_outbound_http_and_secrets_stay_out_of_logs() {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    let secret = format!(
        "tok-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let url = format!("http://127.0.0.1:{}/from-variable", upstream.port);
    let server = probe_app(
        dir.path(),
        &[
            ("SPIN_VARIABLE_UPSTREAM_URL", url.as_str()),
            ("SPIN_VARIABLE_API_TOKEN", secret.as_str()),
            // As chatty as the host gets, plus wasi-http's own tracing.
            ("FBPOSTS_LOG", "info,fbposts=trace,wasmtime_wasi_http=trace"),
        ],
    );

    // The environment overrides the default.
    let r = get(&server, "/outbound/var/upstream_url");
    assert_eq!(r.body, json!({ "value": url }), "{}", r.text);

    // The component forwards to the URL from its variable, with the secret
    // token in a header, and returns what the upstream answered.
    let r = get(&server, "/outbound/forward");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({ "status": 200, "body": "upstream says hi" }),
        "{}",
        r.text
    );
    let requests = upstream.requests();
    let forwarded = requests
        .iter()
        .find(|head| head.starts_with("GET /from-variable "))
        .unwrap_or_else(|| panic!("the upstream saw the request: {requests:?}"));
    assert!(
        forwarded
            .to_ascii_lowercase()
            .contains(&format!("authorization: bearer {secret}")),
        "the secret reached the upstream:\n{forwarded}"
    );

    // A refused request fails too, so error paths are in the logs as well.
    assert_eq!(fetch(&server, "https://example.com/").status, 502);

    let stdout = server.stdout();
    let log = server.stop();
    assert!(
        log.contains("component ready"),
        "the log was captured:\n{log}"
    );
    assert!(
        !log.contains(&secret),
        "the secret value must not be logged:\n{log}"
    );
    assert!(
        !stdout.contains(&secret),
        "the secret value must not be printed:\n{stdout}"
    );
}

#[test]
fn outbound_http_reaches_allowed_hosts_only() {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    let server = probe_app(dir.path(), &[]);

    // Allowed: `http://127.0.0.1:*`.
    let r = fetch(
        &server,
        &format!("http://127.0.0.1:{}/direct", upstream.port),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["body"], "upstream says hi", "{}", r.text);

    // Not allowed: the same server by another name, another scheme, and a
    // remote host. Each is refused before any connection, promptly.
    for target in [
        format!("http://localhost:{}/denied", upstream.port),
        format!("https://127.0.0.1:{}/denied", upstream.port),
        "https://example.com/denied".to_string(),
    ] {
        let started = Instant::now();
        let r = fetch(&server, &target);
        assert_eq!(r.status, 502, "{target}: {}", r.text);
        assert_eq!(
            r.body["http_error"], "ErrorCode::HttpRequestDenied",
            "{target}: {}",
            r.text
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{target}: refused promptly"
        );
    }
    let requests = upstream.requests();
    assert_eq!(
        requests.len(),
        1,
        "only the allowed request arrived: {requests:?}"
    );
    assert!(requests[0].starts_with("GET /direct "), "{requests:?}");
    let log = server.stop();
    assert!(
        log.contains("not in allowed_outbound_hosts"),
        "refusals are logged:\n{log}"
    );
}

#[test]
fn a_required_variable_without_a_value_fails_start_up() {
    support::ensure_built();
    let dir = tempfile::tempdir().unwrap();
    let wasm = support::repo_root().join("target/wasm32-wasip2/wasm-release/outbound_probe.wasm");
    let manifest = dir.path().join("spin.toml");
    std::fs::write(
        &manifest,
        format!(
            r#"spin_manifest_version = 2

[application]
name = "required-variable"

[variables]
db_password = {{ required = true, secret = true }}
upstream_url = {{ default = "http://127.0.0.1:9/" }}

[[trigger.http]]
route = "/outbound/..."
component = "outbound-probe"

[component.outbound-probe]
source = {wasm:?}
[component.outbound-probe.variables]
auth_header = "{{{{ db_password }}}}"
upstream_url = "{{{{ upstream_url }}}}"
"#
        ),
    )
    .unwrap();
    let up = |env: &[(&str, &str)]| {
        std::process::Command::new(support::fbposts_bin())
            .current_dir(support::repo_root())
            .args(["up", "-f"])
            .arg(&manifest)
            .args(["--listen", "127.0.0.1:0", "--state-dir"])
            .arg(dir.path())
            .envs(env.iter().copied())
            .output_within(Duration::from_secs(60))
    };
    let output = up(&[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`db_password`") && stderr.contains("SPIN_VARIABLE_DB_PASSWORD"),
        "names the variable and how to set it:\n{stderr}"
    );

    // Given a value, the same manifest serves, and the component sees it.
    let server = Server::start_with_env(
        Options {
            manifest: manifest.to_str().unwrap(),
            state_dir: dir.path(),
            runtime_config: None,
            extra_args: &[],
        },
        &[("SPIN_VARIABLE_DB_PASSWORD", "hunter2-required")],
    );
    let r = get(&server, "/outbound/var/auth_header");
    assert_eq!(r.body, json!({ "value": "hunter2-required" }), "{}", r.text);
    assert!(!server.stop().contains("hunter2-required"));
}
