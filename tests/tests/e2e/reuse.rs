//! Instance reuse per component (`[component.X.tool.fbposts]`): a component
//! that asks for it is served from reused instances, one that does not gets
//! a fresh instance per request (Spin's semantics), `--instance-reuse 1`
//! overrides the manifest, and a reused instance still enforces the deadline
//! and the memory cap of each request, failing only the one that overruns.
//! Uses tests/spin.toml: `misbehave` (no tool table) and `misbehave-reused`
//! (the same Wasm, `instance_reuse = 128`), whose `/count` answers how many
//! requests its instance has served.

use std::path::Path;
use support::{Options, Server, get, sqlite_config};

fn test_app(state_dir: &Path, extra_args: &[&str]) -> Server {
    Server::start(Options {
        manifest: "tests/spin.toml",
        state_dir,
        runtime_config: Some(&sqlite_config(state_dir)),
        extra_args,
    })
}

/// What `/count` answered for `n` requests in a row.
fn counts(server: &Server, prefix: &str, n: usize) -> Vec<u64> {
    (0..n)
        .map(|_| {
            let reply = get(server, &format!("{prefix}/count"));
            assert_eq!(reply.status, 200, "{}", reply.text);
            reply.text.parse().expect("a count")
        })
        .collect()
}

#[test]
fn components_get_the_instance_reuse_their_manifest_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    let server = test_app(dir.path(), &[]);
    // No tool table: every request meets a fresh instance.
    assert_eq!(counts(&server, "/misbehave", 10), vec![1; 10]);
    // `instance_reuse = 128`: requests in a row share an instance.
    let reused = counts(&server, "/reused", 10);
    assert!(
        reused.iter().any(|&n| n > 1),
        "no instance served two requests: {reused:?}"
    );
    let log = server.stop();
    assert!(
        log.contains("component=misbehave-reused instance_reuse=128 instance_concurrency=16"),
        "the policy is logged at start-up:\n{log}"
    );

    // The command line wins over the manifest.
    let dir = tempfile::tempdir().unwrap();
    let server = test_app(dir.path(), &["--instance-reuse", "1"]);
    assert_eq!(counts(&server, "/reused", 5), vec![1; 5]);
}

/// Asks `/reused/loop` (a guest that never ends), then `answered` times
/// `/reused/ok` while it runs: each ok is a 200, the loop a `503 timeout`.
pub fn a_loop_times_out_while_others_are_answered(server: &Server, answered: usize) {
    let looping = {
        let url = server.url("/reused/loop");
        std::thread::spawn(move || support::reply(support::client().get(url).send().unwrap()))
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    for _ in 0..answered {
        let ok = get(server, "/reused/ok");
        assert_eq!((ok.status, ok.text.as_str()), (200, "ok"));
    }
    let looped = looping.join().unwrap();
    assert_eq!(looped.status, 503, "{}", looped.text);
    assert_eq!(looped.body["error"]["code"], "timeout");
}

#[test]
fn a_reused_instance_fails_only_the_request_that_overruns_its_deadline_or_memory() {
    let dir = tempfile::tempdir().unwrap();
    let server = test_app(
        dir.path(),
        &["--request-timeout", "2", "--max-memory-mb", "64"],
    );
    // Warm instances that have served requests already.
    counts(&server, "/reused", 3);

    // While one reused instance burns its request's deadline, the others serve.
    a_loop_times_out_while_others_are_answered(&server, 5);

    let ballooned = get(&server, "/reused/balloon");
    assert_eq!(ballooned.status, 500, "{}", ballooned.text);
    assert_eq!(ballooned.body["error"]["code"], "component_failed");

    let trapped = get(&server, "/reused/trap");
    assert_eq!(trapped.status, 500, "{}", trapped.text);
    assert_eq!(trapped.body["error"]["code"], "component_failed");

    // And the component still serves, from reused instances.
    let after = counts(&server, "/reused", 6);
    assert!(after.iter().any(|&n| n > 1), "{after:?}");
}

/// Everything one kept-alive connection receives for a `GET` of `path`:
/// the head and the body, read until the body's declared length.
fn raw_exchange(stream: &mut std::net::TcpStream, path: &str) -> String {
    use std::io::{Read, Write};
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "connection closed: {:?}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&received).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.trim().parse::<usize>().ok());
            let chunked_end =
                head.contains("transfer-encoding: chunked") && body.ends_with("0\r\n\r\n");
            if length.is_some_and(|n| body.len() >= n) || chunked_end {
                return text;
            }
        }
    }
}

#[test]
fn a_guest_s_small_answer_leaves_whole_with_its_length_even_from_a_reused_instance() {
    // The guest sets no `content-length`, and a reused instance writes its
    // body after its head: the host holds the head (a few milliseconds at
    // most) until the body has ended and answers in one piece, so chunked
    // framing reaches the client only when that wait runs out.
    let dir = tempfile::tempdir().unwrap();
    let server = test_app(dir.path(), &[]);
    let address = server.base.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    for path in ["/misbehave/ok", "/reused/ok"] {
        let mut whole = 0;
        for _ in 0..20 {
            let reply = raw_exchange(&mut stream, path);
            let (head, body) = reply.split_once("\r\n\r\n").unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{reply}");
            if head.contains("content-length: 2") {
                assert!(!head.contains("transfer-encoding"), "{path}: {reply:?}");
                assert_eq!(body, "ok");
                whole += 1;
            } else {
                assert_eq!(body, "2\r\nok\r\n0\r\n\r\n", "{path}: {reply:?}");
            }
        }
        // On a loaded machine a wait may run out now and then; never most.
        assert!(whole >= 15, "{path}: {whole} of 20 answers whole");
    }
}
