//! Capabilities of composed dependencies: a dependency gets none of the
//! stores, variables, outbound hosts or wasi-nn of the component it is
//! composed into unless its `inherit_configuration` grants them. The test
//! dependency (`tests/test-components/dep-probe`) tries each through
//! `dep-host`; denied, the call traps (500) with a log line naming the
//! dependency, the interface and the key to add, and nothing is reached (the
//! environment is empty instead); granted (`inherit_configuration = true`),
//! each works. The same holds when the dependency is instantiated separately
//! (`instantiate_separately`, `host/src/linked.rs`) instead of composed.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{Options, Server, client, reply, sqlite_config};

/// A loopback server that counts the connections it accepts and answers 200.
fn counting_upstream() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            seen.fetch_add(1, Ordering::SeqCst);
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (url, count)
}

fn try_capability(server: &Server, route: &str, capability: &str, url: &str) -> support::Reply {
    reply(
        client()
            .get(server.url(&format!("/{route}/{capability}")))
            .header("x-target-url", url)
            .send()
            .unwrap(),
    )
}

#[test]
fn a_dependency_gets_none_of_its_components_capabilities_unless_it_inherits_them() {
    denied_unless_inherited("dep", "dep-granted", "dep-host");
}

#[test]
fn a_separately_instantiated_dependency_gets_none_of_them_unless_it_inherits_them() {
    denied_unless_inherited("dep-separate", "dep-separate-granted", "dep-host-separate");
}

#[test]
fn a_separate_dependency_that_never_returns_fails_its_request_at_the_deadline_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(Options {
        manifest: "tests/spin.toml",
        state_dir: dir.path(),
        runtime_config: Some(&sqlite_config(dir.path())),
        extra_args: &["--request-timeout", "2"],
    });
    let started = Instant::now();
    let looped = try_capability(&server, "dep-separate", "loop", "");
    assert_eq!(looped.status, 503, "{}", looped.text);
    assert_eq!(looped.body["error"]["code"], "timeout");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "deadline enforced, took {:?}",
        started.elapsed()
    );
    // The dependency's own store does not keep spinning after its dependent
    // was dropped: the host is idle again (a spinning loop would add about a
    // second of CPU time per second).
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_seconds(server.pid());
    std::thread::sleep(Duration::from_secs(3));
    let spent = cpu_seconds(server.pid()) - before;
    assert!(
        spent < 0.3,
        "the host spent {spent:.2} s of CPU in 3 s idle"
    );
    let answer = try_capability(&server, "dep-separate", "environment", "");
    assert_eq!(answer.status, 200, "{}", answer.text);
}

/// User + system CPU time of process `pid`, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / clock_ticks_per_second()
}

/// `getconf CLK_TCK`: the unit of /proc's CPU times.
fn clock_ticks_per_second() -> f64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// `denied` routes to a component whose dependency inherits nothing,
/// `granted` to one whose dependency inherits everything; `component` is the
/// id of the first, which the denials' log lines name.
fn denied_unless_inherited(denied: &str, granted: &str, component: &str) {
    let (url, connections) = counting_upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(Options {
        manifest: "tests/spin.toml",
        state_dir: dir.path(),
        runtime_config: Some(&sqlite_config(dir.path())),
        extra_args: &[],
    });
    let denials = [
        (
            "store",
            "spin:key-value/key-value@3.0.0",
            "key_value_stores",
        ),
        ("variable", "spin:variables/variables@3.0.0", "variables"),
        ("outbound", "wasi:http/", "allowed_outbound_hosts"),
    ];
    for (capability, interface, key) in denials {
        let refused = try_capability(&server, denied, capability, &url);
        assert_eq!(refused.status, 500, "{capability}: {}", refused.text);
        assert_eq!(refused.body["error"]["code"], "component_failed");
        let log = server.log();
        let line = log
            .lines()
            .find(|l| {
                l.contains("may not use")
                    && l.contains(interface)
                    && l.contains(&format!("\"{component}\""))
            })
            .unwrap_or_else(|| panic!("no denial of {interface} to {component} logged:\n{log}"));
        assert!(line.contains("fbposts-test:probe/probe@0.1.0"), "{line}");
        assert!(line.contains(key), "{line}");
    }
    // A denied environment is an empty one: the variable is not there.
    let environment = try_capability(&server, denied, "environment", &url);
    assert_eq!(environment.status, 200, "{}", environment.text);
    assert_eq!(environment.text, "error: environment variable not found");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "a denied request left"
    );
    let log = server.log();
    assert!(
        !log.contains("default-token") && !log.contains("s3cret-value"),
        "the secret llm_api_key and PROBE_SECRET never reach the log"
    );

    // Granted: the same dependency uses each one.
    for (capability, said) in [
        ("store", "ok: opened the default store"),
        ("variable", "ok: read 13 characters"),
        ("outbound", "ok: HTTP 200"),
        ("environment", "ok: read 12 characters"),
    ] {
        let answer = try_capability(&server, granted, capability, &url);
        assert_eq!(answer.status, 200, "{capability}: {}", answer.text);
        assert_eq!(answer.text, said);
    }
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[test]
fn an_inference_dependency_without_wasi_nn_in_its_inherit_configuration_cannot_load_a_model() {
    support::ensure_built();
    let dir = tempfile::tempdir().unwrap();
    let wasm = |name: &str| {
        support::repo_root()
            .join("target/wasm32-wasip2/wasm-release")
            .join(name)
    };
    let manifest = dir.path().join("spin.toml");
    std::fs::write(
        &manifest,
        format!(
            r#"spin_manifest_version = 2

[application]
name = "no-wasi-nn-grant"

[[trigger.http]]
route = "/api/predict"
component = "predict"

[component.predict]
source = {predict:?}
key_value_stores = ["cache", "default"]
[component.predict.dependencies]
"fbposts:pipeline/analysis@0.1.0" = {{ component = "analysis" }}
"fbposts:pipeline/forecast@0.1.0" = {{ component = "inference-wasi-nn" }}

[component.analysis]
source = {analysis:?}

[component.inference-wasi-nn]
source = {nn:?}
"#,
            predict = wasm("predict.wasm"),
            analysis = wasm("analysis.wasm"),
            nn = wasm("inference_wasi_nn.wasm"),
        ),
    )
    .unwrap();
    let server = Server::start(Options {
        manifest: manifest.to_str().unwrap(),
        state_dir: dir.path(),
        runtime_config: Some(&sqlite_config(dir.path())),
        extra_args: &[],
    });
    let predicted = support::post_json(
        &server,
        "/api/predict",
        &serde_json::json!({"page_likes": 120000, "post_type": "photo", "month": 5, "weekday": 3, "hour": 18}),
    );
    assert_eq!(predicted.status, 500, "{}", predicted.text);
    let log = server.log();
    assert!(
        log.lines().any(|l| l.contains("may not use wasi:nn/")
            && l.contains("fbposts:pipeline/forecast@0.1.0")
            && l.contains("wasi_nn")),
        "no wasi-nn denial logged:\n{log}"
    );
}
