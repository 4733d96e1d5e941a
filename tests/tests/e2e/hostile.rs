//! Hostile clients against the real app, bounded in count and time (loopback
//! only; the issue's full counts — 2,000 slow connections, 5,000 idle ones,
//! 1,000 slow 500 KB bodies, 200 concurrent heavy requests — lowered only
//! when the open-file limit is too small for them): slow and idle connections, the
//! connection caps, slow and oversized bodies, overload, and the request
//! checks a web page could otherwise get past (content type, Host header).
//! Timings are printed (`hostile:` lines, run with `--nocapture`), never
//! asserted.

use serde_json::json;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Options, Server, client, post_raw, reply, sqlite_config};

fn app(dir: &std::path::Path, extra_args: &[&str]) -> Server {
    Server::start(Options {
        manifest: "spin.toml",
        state_dir: dir,
        runtime_config: Some(&sqlite_config(dir)),
        extra_args,
    })
}

fn address(server: &Server) -> SocketAddr {
    server
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("the server listens on an IP address")
}

/// `wanted` connections, or fewer if this process may not open that many
/// files (the server is another process with its own limit).
fn connection_budget(wanted: usize) -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("Max open files"))?;
            line.trim_start_matches("Max open files")
                .split_whitespace()
                .next()?
                .parse::<usize>()
                .ok()
        })
        .unwrap_or(1024);
    wanted.min(soft.saturating_sub(200) / 2).max(10)
}

/// A TCP connection from a chosen loopback address (`127.0.0.x`), so tests
/// can be several clients.
fn connect_from(source: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.bind(&SocketAddr::from((source, 0)).into())?;
    socket.connect_timeout(&to.into(), Duration::from_secs(5))?;
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(15)))?;
    Ok(stream)
}

/// A response read off a raw connection: status, headers (lower-cased head) and body.
struct RawReply {
    status: u16,
    head: String,
    body: String,
}

/// Reads one response (by `content-length`); `None` if the connection was
/// closed or reset before a whole response arrived.
fn read_reply(stream: &mut TcpStream) -> Option<RawReply> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
    Some(RawReply { status, head, body })
}

/// Sends `request` and reads the answer; `None` if the connection was refused or closed.
fn exchange(stream: &mut TcpStream, request: &str) -> Option<RawReply> {
    stream.write_all(request.as_bytes()).ok()?;
    read_reply(stream)
}

fn get_request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n")
}

fn analyze_request(text: &str) -> String {
    let body = json!({ "text": text }).to_string();
    format!(
        "POST /api/analyze HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Whether the server has closed `stream` (EOF or reset), without blocking.
fn is_closed(stream: &mut TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 256];
    let closed = loop {
        match stream.read(&mut byte) {
            Ok(0) => break true,
            // A 408 or similar before the close: keep reading.
            Ok(_) => continue,
            Err(err) if err.kind() == ErrorKind::WouldBlock => break false,
            Err(_) => break true,
        }
    };
    stream.set_nonblocking(false).unwrap();
    closed
}

/// Latencies of `/api/analyze` from a client probing every 50 ms while `busy`.
struct Probe {
    latencies: Arc<Mutex<Vec<Duration>>>,
    failures: Arc<Mutex<Vec<String>>>,
    busy: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Probe {
    fn start(server: &Server) -> Probe {
        let url = server.url("/api/analyze");
        let latencies = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let busy = Arc::new(AtomicBool::new(true));
        let thread = std::thread::spawn({
            let (latencies, failures, busy) = (latencies.clone(), failures.clone(), busy.clone());
            move || {
                let client = client();
                let mut n = 0;
                while busy.load(Ordering::Relaxed) {
                    n += 1;
                    let text = format!(
                        "Taller gratuito el sábado 14 en Madrid: apúntate. {}",
                        n % 10
                    );
                    let started = Instant::now();
                    let sent = client.post(&url).json(&json!({ "text": text })).send();
                    match sent.map(reply) {
                        Ok(r) if r.status == 200 => {
                            latencies.lock().unwrap().push(started.elapsed())
                        }
                        Ok(r) => failures
                            .lock()
                            .unwrap()
                            .push(format!("{} {}", r.status, r.text)),
                        Err(err) => failures.lock().unwrap().push(err.to_string()),
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        });
        Probe {
            latencies,
            failures,
            busy,
            thread,
        }
    }

    /// Stops probing; returns "n ok, p50 X ms, p99 Y ms" and the failures.
    fn stop(self) -> (String, usize, Vec<String>) {
        self.busy.store(false, Ordering::Relaxed);
        self.thread.join().unwrap();
        let mut latencies = self.latencies.lock().unwrap().clone();
        latencies.sort();
        let ms = |q: f64| {
            latencies
                .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
                .map_or(0.0, |d| d.as_secs_f64() * 1e3)
        };
        let summary = format!(
            "analyze {} ok, p50 {:.1} ms, p99 {:.1} ms",
            latencies.len(),
            ms(0.5),
            ms(0.99)
        );
        let failures = self.failures.lock().unwrap().clone();
        (summary, latencies.len(), failures)
    }
}

/// The peak resident set (`VmHWM`, KiB) of process `pid`.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

/// Polls `check` every 100 ms until it holds or `limit` passes.
fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn slow_and_idle_connections_are_closed_by_the_header_timeout_while_analyze_answers() {
    let dir = tempfile::tempdir().unwrap();
    let count = connection_budget(2000);
    let caps = (count + 100).to_string();
    let server = app(
        dir.path(),
        &[
            "--header-timeout",
            "2",
            "--max-connections",
            &caps,
            "--max-connections-per-client",
            &caps,
        ],
    );
    let to = address(&server);

    // An idle keep-alive connection: one request, then nothing.
    let mut idle = connect_from([127, 0, 0, 1], to).unwrap();
    assert_eq!(
        exchange(&mut idle, &get_request("/nope")).unwrap().status,
        404
    );

    // Slowloris from another address: a request head one byte at a time.
    let head = b"POST /api/analyze HTTP/1.1\r\nhost: localhost\r\nx-padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let started = Instant::now();
    let mut slow: Vec<TcpStream> = (0..count)
        .map(|_| connect_from([127, 0, 0, 2], to).unwrap())
        .collect();
    let probe = Probe::start(&server);
    let mut sent = 0;
    let mut open = slow.len();
    let all_closed = eventually(Duration::from_secs(25), || {
        for stream in &mut slow {
            let _ = stream.write(&head[sent % head.len()..sent % head.len() + 1]);
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(400));
        open = slow
            .iter_mut()
            .map(is_closed)
            .filter(|closed| !closed)
            .count();
        open == 0
    });
    let closed_after = started.elapsed();
    let (summary, answered, failures) = probe.stop();
    eprintln!(
        "hostile: {count} slowloris connections (1 byte / 400 ms), --header-timeout 2: all closed after {:.1} s; meanwhile {summary}, {} errors",
        closed_after.as_secs_f64(),
        failures.len()
    );
    assert!(all_closed, "{open} of {count} slow connections still open");
    assert!(answered > 0, "analyze answered during the attack");
    assert!(failures.is_empty(), "analyze failed: {failures:?}");
    assert!(
        is_closed(&mut idle),
        "the idle keep-alive connection was closed"
    );
}

#[test]
fn the_connection_caps_hold_and_other_clients_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let total = connection_budget(5000);
    let per_client = total * 3 / 4;
    let (total_flag, per_client_flag) = (total.to_string(), per_client.to_string());
    let server = app(
        dir.path(),
        &[
            "--max-connections",
            &total_flag,
            "--max-connections-per-client",
            &per_client_flag,
            // Idle connections must outlive the time it takes to open them all.
            "--header-timeout",
            "60",
        ],
    );
    let to = address(&server);
    // A client already connected keeps being served while the caps fill
    // (its one keep-alive connection counts against the total).
    let probe = Probe::start(&server);
    assert!(
        eventually(Duration::from_secs(10), || !probe
            .latencies
            .lock()
            .unwrap()
            .is_empty()),
        "the probe is served"
    );
    // Open idle keep-alive connections from one address, past its cap.
    let try_open = |source: [u8; 4], n: usize| -> (Vec<TcpStream>, usize) {
        let mut kept = Vec::new();
        let mut refused = 0;
        for _ in 0..n {
            let mut stream = connect_from(source, to).unwrap();
            match exchange(&mut stream, &get_request("/nope")) {
                Some(r) if r.status == 404 => kept.push(stream),
                Some(r) => {
                    assert_eq!(r.status, 503, "{}", r.body);
                    assert!(r.body.contains("too_many_connections"), "{}", r.body);
                    assert!(r.head.contains("retry-after: 1"), "{}", r.head);
                    refused += 1;
                }
                None => refused += 1,
            }
        }
        (kept, refused)
    };
    let started = Instant::now();
    let (first, refused) = try_open([127, 0, 0, 2], per_client + 50);
    assert_eq!(first.len(), per_client, "the per-client cap holds");
    assert_eq!(refused, 50);
    // Another client is still served.
    assert_eq!(support::get(&server, "/nope").status, 404);
    // A third address fills the total; the cap holds for everyone.
    let (second, refused) = try_open([127, 0, 0, 3], total - per_client + 20);
    assert_eq!(
        first.len() + second.len() + 1,
        total,
        "the total cap holds (with the probe's connection)"
    );
    assert_eq!(refused, 21);
    let mut newcomer = connect_from([127, 0, 0, 1], to).unwrap();
    assert!(
        exchange(&mut newcomer, &get_request("/nope")).is_none_or(|r| r.status == 503),
        "a connection over the total cap is refused"
    );
    let (summary, answered, failures) = probe.stop();
    // Closed connections give their places back.
    drop(first);
    assert!(
        eventually(Duration::from_secs(10), || {
            let mut stream = connect_from([127, 0, 0, 1], to).unwrap();
            exchange(&mut stream, &analyze_request("hola, ¿vienes el sábado?"))
                .is_some_and(|r| r.status == 200)
        }),
        "a new client is served once connections close"
    );
    eprintln!(
        "hostile: {} idle keep-alive connections against caps {total} total / {per_client} per client: caps held, refused with 503 at once, new client served after the close ({:.1} s in all); meanwhile, on a connection opened before, {summary}, {} errors",
        total + 70,
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(answered > 0, "the connected client was served");
    assert!(failures.is_empty(), "analyze failed: {failures:?}");
    drop(second);
}

#[test]
fn slow_bodies_time_out_without_holding_a_slot_and_large_bodies_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let count = connection_budget(1000);
    let caps = (count + 100).to_string();
    // Two running slots: if a slow body held one, analyze would starve.
    let server = app(
        dir.path(),
        &[
            "--body-timeout",
            "2",
            "--max-body-kib",
            "512",
            "--max-concurrent-requests",
            "2",
            "--max-connections",
            &caps,
            "--max-connections-per-client",
            &caps,
        ],
    );
    let to = address(&server);
    let started = Instant::now();
    let mut slow: Vec<TcpStream> = (0..count)
        .map(|_| {
            let mut stream = connect_from([127, 0, 0, 2], to).unwrap();
            stream
                .write_all(b"POST /api/analyze HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 500000\r\n\r\n{\"text\":\"")
                .unwrap();
            stream
        })
        .collect();
    let probe = Probe::start(&server);
    let mut statuses = vec![None; slow.len()];
    let all_answered = eventually(Duration::from_secs(15), || {
        for (stream, status) in slow.iter_mut().zip(&mut statuses) {
            if status.is_some() {
                continue;
            }
            // Look for the answer first: writing after it may reset the connection.
            stream.set_nonblocking(true).unwrap();
            let mut peek = [0u8; 1];
            let answered = stream.peek(&mut peek).is_ok();
            stream.set_nonblocking(false).unwrap();
            if answered {
                *status = Some(read_reply(stream).map_or(0, |r| r.status));
            } else {
                let _ = stream.write(b"a");
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        statuses.iter().all(Option::is_some)
    });
    let answered_after = started.elapsed();
    let (summary, answered, failures) = probe.stop();
    eprintln!(
        "hostile: {count} slow 500 KB bodies (1 byte / 200 ms) with 2 slots, --body-timeout 2: answered after {:.1} s; meanwhile {summary}, {} errors",
        answered_after.as_secs_f64(),
        failures.len()
    );
    assert!(all_answered, "every slow body got an answer");
    assert!(
        statuses.iter().all(|s| *s == Some(408)),
        "every slow body got 408: {statuses:?}"
    );
    assert!(answered > 0 && failures.is_empty(), "{failures:?}");

    // A body over the limit: 413, declared or sent.
    let large = json!({ "text": "a".repeat(600 * 1024) })
        .to_string()
        .into_bytes();
    let reply = post_raw(&server, "/api/analyze", "application/json", large);
    assert_eq!(reply.status, 413, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], "body_too_large");
    let mut declared = connect_from([127, 0, 0, 1], to).unwrap();
    let reply = exchange(
        &mut declared,
        "POST /api/analyze HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\n\r\n",
    )
    .expect("an answer before the body");
    assert_eq!(reply.status, 413, "{}", reply.body);
}

#[test]
fn overload_is_refused_at_once_with_retry_after_and_the_admitted_requests_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let server = app(
        dir.path(),
        &[
            "--max-concurrent-requests",
            "2",
            "--max-waiting-requests",
            "4",
        ],
    );
    let count = 200;
    let memory_before = peak_rss_kib(server.pid());
    let url = server.url("/api/enhance");
    let barrier = Arc::new(std::sync::Barrier::new(count));
    let started = Instant::now();
    let outcomes: Vec<(u16, Option<String>, String, Duration)> = (0..count)
        .map(|i| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                let text = format!(
                    "COMENTA SÍ SI QUIERES GANAR!!! Sorteamos {i} entradas para el concierto del 15 de mayo en Madrid. "
                )
                .repeat(50);
                let client = client();
                barrier.wait();
                let sent = Instant::now();
                let response = client.post(&url).json(&json!({ "text": text })).send().unwrap();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_string());
                let r = reply(response);
                let code = r.body["error"]["code"].as_str().unwrap_or("").to_string();
                (r.status, retry_after, code, sent.elapsed())
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let ok: Vec<_> = outcomes.iter().filter(|o| o.0 == 200).collect();
    let refused: Vec<_> = outcomes.iter().filter(|o| o.0 == 503).collect();
    let slowest_refusal = refused.iter().map(|o| o.3).max().unwrap_or_default();
    let slowest_ok = ok.iter().map(|o| o.3).max().unwrap_or_default();
    let memory_after = peak_rss_kib(server.pid());
    eprintln!(
        "hostile: {count} concurrent /api/enhance (~5,000 chars) on 2 slots + 4 waiting: {} × 200 (slowest {:.0} ms), {} × 503 (slowest {:.0} ms), {} other; {:.1} s in all; server peak RSS (VmHWM) {} MiB before, {} MiB after",
        ok.len(),
        slowest_ok.as_secs_f64() * 1e3,
        refused.len(),
        slowest_refusal.as_secs_f64() * 1e3,
        count - ok.len() - refused.len(),
        started.elapsed().as_secs_f64(),
        memory_before / 1024,
        memory_after / 1024
    );
    // Generous: two running instances at their 256 MiB cap plus the host's
    // own growth; what it rules out is memory growing with the excess.
    assert!(
        memory_after < memory_before + 1024 * 1024,
        "peak RSS grew from {memory_before} KiB to {memory_after} KiB"
    );
    assert!(
        outcomes.iter().all(|o| o.0 == 200 || o.0 == 503),
        "only 200 and 503: {outcomes:?}"
    );
    assert!(ok.len() >= 2, "the admitted requests succeed");
    assert!(!refused.is_empty(), "the excess is refused");
    for (_, retry_after, code, _) in &refused {
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert!(code == "overloaded" || code == "timeout", "{code}");
    }
}

#[test]
fn bodies_must_be_json_and_the_host_header_must_be_an_authority() {
    let dir = tempfile::tempdir().unwrap();
    let server = app(dir.path(), &[]);
    let body = r#"{"text":"Taller gratuito el sábado 14 en Madrid"}"#
        .as_bytes()
        .to_vec();
    for content_type in [
        "text/plain",
        "application/evil+json",
        "application/x-www-form-urlencoded",
    ] {
        let r = post_raw(&server, "/api/analyze", content_type, body.clone());
        assert_eq!(r.status, 415, "{content_type}: {}", r.text);
        assert_eq!(r.body["error"]["code"], "unsupported_media_type");
    }
    // No content type at all: what a cross-site form or fetch can send.
    let r = reply(
        client()
            .post(server.url("/api/analyze"))
            .body(body.clone())
            .send()
            .unwrap(),
    );
    assert_eq!(r.status, 415, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "unsupported_media_type");
    let r = post_raw(
        &server,
        "/api/analyze",
        "application/json; charset=utf-8",
        body,
    );
    assert_eq!(r.status, 200, "{}", r.text);

    let to = address(&server);
    for host in [
        "a/api/enhance?",
        "user@localhost",
        "local host",
        "localhost:99999",
    ] {
        let mut stream = connect_from([127, 0, 0, 1], to).unwrap();
        let request = analyze_request("hola").replace("host: localhost", &format!("host: {host}"));
        let r = exchange(&mut stream, &request).expect("an answer");
        assert_eq!(r.status, 400, "{host:?}: {}", r.body);
        // hyper refuses some of these itself, without a JSON body.
        if !r.body.is_empty() {
            let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(json["error"]["code"], "invalid_host", "{host:?}");
        }
    }
}
