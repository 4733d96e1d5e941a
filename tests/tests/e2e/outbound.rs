//! Outbound HTTP denials: a component allowed exactly
//! `http://127.0.0.1:<port>` reaches that and nothing that merely resembles
//! it — another name for the same address (`127.0.0.1.nip.io`, which must be
//! refused without a DNS look-up, `[::1]`, `localhost`), another port, a
//! URL with userinfo (`user@host`, or `127.0.0.1:<port>@example.com`). Each
//! refusal is `HttpRequestDenied` before any connection is opened.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::{Options, Server, client, reply};

/// A loopback server answering `200 hi` and counting connections.
fn upstream() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
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
                "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi"
            );
        }
    });
    (port, connections)
}

/// The outbound probe, allowed only `http://127.0.0.1:<port>`.
fn pinned_probe(dir: &std::path::Path, port: u16) -> Server {
    support::ensure_built();
    let wasm = support::repo_root().join("target/wasm32-wasip2/wasm-release/outbound_probe.wasm");
    let manifest = dir.join("spin.toml");
    std::fs::write(
        &manifest,
        format!(
            r#"spin_manifest_version = 2

[application]
name = "outbound-denials"

[[trigger.http]]
route = "/outbound/..."
component = "outbound-probe"

[component.outbound-probe]
source = {wasm:?}
allowed_outbound_hosts = ["http://127.0.0.1:{port}"]
"#
        ),
    )
    .unwrap();
    Server::start(Options {
        manifest: manifest.to_str().unwrap(),
        state_dir: dir,
        runtime_config: None,
        extra_args: &[],
    })
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
fn outbound_requests_that_only_resemble_the_allowed_host_are_denied_without_connecting() {
    let (port, connections) = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = pinned_probe(dir.path(), port);
    let other_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    const DENIED: &str = "ErrorCode::HttpRequestDenied";
    for (target, error) in [
        (format!("http://127.0.0.1.nip.io:{port}/"), DENIED),
        (format!("http://[::1]:{port}/"), DENIED),
        (format!("http://localhost:{port}/"), DENIED),
        (format!("http://127.0.0.1:{other_port}/"), DENIED),
        (format!("http://user@127.0.0.1:{port}/"), DENIED),
        (format!("http://user:pw-9f3a@127.0.0.1:{port}/"), DENIED),
        // wasi:http itself refuses this authority as malformed.
        (
            format!("http://127.0.0.1:{port}@example.com/"),
            "ErrorCode::HttpRequestUriInvalid",
        ),
    ] {
        let r = fetch(&server, &target);
        assert_eq!(
            (r.status, r.body["http_error"].as_str()),
            (502, Some(error)),
            "{target}: {}",
            r.text
        );
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "a denied request left"
    );

    let allowed = fetch(&server, &format!("http://127.0.0.1:{port}/ok"));
    assert_eq!(allowed.status, 200, "{}", allowed.text);
    assert_eq!(allowed.body["body"], "hi", "{}", allowed.text);
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    let log = server.stop();
    assert!(
        log.contains("127.0.0.1.nip.io"),
        "the denial names the host:\n{log}"
    );
    assert!(!log.contains("pw-9f3a"), "userinfo is not logged:\n{log}");
}
