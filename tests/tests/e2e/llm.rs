//! The LLM generator against a small OpenAI-compatible server this test
//! runs on loopback: a good answer is used; slow and failing answers are
//! retried, then the circuit breaker opens and the template engine answers
//! without calling the endpoint; the API key reaches the endpoint but never
//! the logs or the responses. While the breaker is half-open one request is
//! the trial and the others fall back at once; a hanging endpoint costs the
//! trial no more than `llm_deadline_ms`; the server's hourly spend cap holds
//! whatever the clients ask; a deadline that cannot fit the request deadline
//! stops start-up.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Options, OutputWithin, Server, post_json, sqlite_config};

const KEY: &str = "sk-test-Zq81SECRETvalue";

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Ok,
    Slow,
    Fail,
    /// Reads the request, then never answers.
    Hang,
}

struct FakeLlm {
    url: String,
    requests: Arc<AtomicUsize>,
    mode: Arc<Mutex<Mode>>,
    auth: Arc<Mutex<Vec<String>>>,
}

const POSTS: [&str; 3] = [
    "¿Sabías que el pan de masa madre necesita casi un día entero de fermentación? En nuestra panadería lo hacemos despacio, como antes, para que cada hogaza tenga sabor de verdad. Cuéntanos cuál es tu pan favorito.",
    "Hoy salió del horno nuestra hogaza de centeno con semillas. Corteza crujiente, miga húmeda y un aroma que llena la calle. Pasa a probarla esta semana y dinos qué te parece.",
    "Tres consejos para conservar el pan fresco más tiempo: guárdalo en una bolsa de tela, nunca en la nevera, y córtalo solo cuando lo vayas a comer. ¿Tienes algún truco propio?",
];

/// Consumes an HTTP/1.1 chunked body (sizes in hex, each chunk followed by
/// CRLF, a zero-size chunk and the trailer section at the end).
fn read_chunked_body(reader: &mut impl BufRead) {
    loop {
        let mut size_line = String::new();
        if reader.read_line(&mut size_line).unwrap_or(0) == 0 {
            return;
        }
        let size_text = size_line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_text, 16).unwrap_or(0);
        if size == 0 {
            // Trailers, up to the empty line.
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && !line.trim().is_empty() {
                line.clear();
            }
            return;
        }
        let mut chunk = vec![0; size + 2];
        if reader.read_exact(&mut chunk).is_err() {
            return;
        }
    }
}

impl FakeLlm {
    fn start() -> FakeLlm {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let mode = Arc::new(Mutex::new(Mode::Ok));
        let auth = Arc::new(Mutex::new(Vec::new()));
        let (r, m, a) = (requests.clone(), mode.clone(), auth.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (r, m, a) = (r.clone(), m.clone(), a.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut length = 0;
                    let mut chunked = false;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                            chunked = true;
                        }
                        if lower.starts_with("authorization:") {
                            a.lock()
                                .unwrap()
                                .push(line["authorization:".len()..].trim().to_string());
                        }
                    }
                    // Read the whole body before answering: closing a socket
                    // with unread data makes the kernel reset the connection,
                    // and the client would see no answer at all.
                    if chunked {
                        read_chunked_body(&mut reader);
                    } else {
                        let mut body = vec![0; length];
                        let _ = reader.read_exact(&mut body);
                    }
                    r.fetch_add(1, Ordering::SeqCst);
                    let mode = *m.lock().unwrap();
                    let (status, payload) = match mode {
                        Mode::Ok => {
                            let content = serde_json::to_string(&POSTS).unwrap();
                            (200, json!({"choices": [{"message": {"role": "assistant", "content": content}}], "usage": {"total_tokens": 420}}).to_string())
                        }
                        Mode::Slow => {
                            std::thread::sleep(Duration::from_millis(4000));
                            (200, json!({"choices": []}).to_string())
                        }
                        Mode::Fail => {
                            (500, json!({"error": {"message": "overloaded"}}).to_string())
                        }
                        Mode::Hang => {
                            std::thread::sleep(Duration::from_secs(120));
                            return;
                        }
                    };
                    let mut stream = stream;
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{payload}",
                        payload.len()
                    );
                });
            }
        });
        FakeLlm {
            url,
            requests,
            mode,
            auth,
        }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn brief(seed: u64) -> Value {
    json!({"topic": "pan de masa madre", "language": "es", "tone": "friendly", "goal": "engagement",
           "length": "medium", "hashtags": 0, "n": 3, "seed": seed, "generator": "llm"})
}

#[test]
fn llm_success_retries_breaker_and_fallback() {
    let llm = FakeLlm::start();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(
        Options {
            manifest: "spin.toml",
            state_dir: dir.path(),
            runtime_config: Some(&sqlite_config(dir.path())),
            extra_args: &[],
        },
        &[
            ("SPIN_VARIABLE_LLM_BASE_URL", &llm.url),
            ("SPIN_VARIABLE_LLM_API_KEY", KEY),
            ("SPIN_VARIABLE_LLM_MODEL", "test-model"),
            ("SPIN_VARIABLE_LLM_TIMEOUT_MS", "1500"),
            ("SPIN_VARIABLE_LLM_MAX_RETRIES", "1"),
            ("FBPOSTS_LOG", "debug"),
        ],
    );
    let mut replies = Vec::new();

    // Success: the LLM's posts are the candidates.
    let ok = post_json(&server, "/api/generate", &brief(1));
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["generator"]["used"], "llm", "{}", ok.text);
    let list = ok.body["candidates"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    for c in list {
        assert_eq!(c["generator"], "llm");
        // What the LLM wrote: the text, or the draft generate enhanced.
        let written = c["auto_enhancement"]["original"]["text"]
            .as_str()
            .or(c["text"].as_str())
            .unwrap();
        assert!(POSTS.iter().any(|p| written.starts_with(&p[..30])), "{c}");
    }
    // One call (a retry is allowed if the first attempt hit a hiccup).
    let after_success = llm.count();
    assert!((1..=2).contains(&after_success), "{after_success} calls");
    assert_eq!(llm.auth.lock().unwrap()[0], format!("Bearer {KEY}"));
    replies.push(ok.text);

    // Slow, then failing: each request retried once (2 attempts), then the
    // template engine answers and says why.
    llm.set(Mode::Slow);
    let slow = post_json(&server, "/api/generate", &brief(2));
    assert_eq!(slow.status, 200, "{}", slow.text);
    assert_eq!(slow.body["generator"]["used"], "template");
    let why = slow.body["generator"]["fallback"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        why.contains("1500 ms") && why.contains("2 attempts"),
        "{why}"
    );
    assert_eq!(llm.count() - after_success, 2, "{why}");
    replies.push(slow.text);

    llm.set(Mode::Fail);
    for seed in [3, 4] {
        let failed = post_json(&server, "/api/generate", &brief(seed));
        assert_eq!(
            failed.body["generator"]["used"], "template",
            "{}",
            failed.text
        );
        let why = failed.body["generator"]["fallback"]
            .as_str()
            .unwrap_or_default();
        assert!(why.contains("HTTP 500"), "{}", failed.text);
        replies.push(failed.text);
    }
    assert_eq!(llm.count() - after_success, 6);

    // Three failed requests: the breaker is open; no call reaches the endpoint.
    llm.set(Mode::Ok);
    let open = post_json(&server, "/api/generate", &brief(5));
    assert_eq!(open.status, 200);
    assert_eq!(open.body["generator"]["used"], "template");
    let why = open.body["generator"]["fallback"].as_str().unwrap();
    assert!(why.contains("circuit breaker"), "{why}");
    assert_eq!(
        llm.count() - after_success,
        6,
        "the open breaker let a request through"
    );
    assert_eq!(open.body["candidates"].as_array().unwrap().len(), 3);
    replies.push(open.text);

    // The key never leaks.
    let logs = format!("{}{}", server.log(), server.stdout());
    assert!(!logs.contains(KEY), "API key in the logs");
    assert!(
        !logs.contains("Zq81SECRET"),
        "part of the API key in the logs"
    );
    for reply in replies {
        assert!(!reply.contains("Zq81SECRET"), "API key in a response");
    }
}

/// Starts the app against `llm` with SQLite stores in `dir` and the given
/// extra variables and arguments.
fn llm_app(llm: &FakeLlm, dir: &std::path::Path, vars: &[(&str, &str)], args: &[&str]) -> Server {
    let mut env = vec![
        ("SPIN_VARIABLE_LLM_BASE_URL", llm.url.as_str()),
        ("SPIN_VARIABLE_LLM_API_KEY", KEY),
    ];
    env.extend_from_slice(vars);
    Server::start_with_env(
        Options {
            manifest: "spin.toml",
            state_dir: dir,
            runtime_config: Some(&sqlite_config(dir)),
            extra_args: args,
        },
        &env,
    )
}

/// Writes `value` under `key` in the SQLite `default` store of `dir`
/// (Spin's schema) before the app starts.
fn preseed_default_store(dir: &std::path::Path, key: &str, value: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let db = rusqlite::Connection::open(dir.join("default.db")).unwrap();
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, \
         value BLOB NOT NULL, PRIMARY KEY (store, key))",
    )
    .unwrap();
    db.execute(
        "INSERT INTO spin_key_value (store, key, value) VALUES ('default', ?1, ?2)",
        rusqlite::params![key, value.as_bytes()],
    )
    .unwrap();
}

fn fallback(reply: &support::Reply) -> String {
    reply.body["generator"]["fallback"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn while_half_open_one_request_is_the_trial_and_the_rest_fall_back_before_the_deadline() {
    let llm = FakeLlm::start();
    llm.set(Mode::Hang);
    let dir = tempfile::tempdir().unwrap();
    // Opened long ago: the next request may be the trial.
    preseed_default_store(
        dir.path(),
        "breaker/llm",
        r#"{"consecutive_failures":3,"opened_at":1,"state":"open"}"#,
    );
    let server = llm_app(
        &llm,
        dir.path(),
        &[
            ("SPIN_VARIABLE_LLM_TIMEOUT_MS", "1500"),
            ("SPIN_VARIABLE_LLM_MAX_RETRIES", "2"),
            ("SPIN_VARIABLE_LLM_DEADLINE_MS", "2500"),
        ],
        &["--request-timeout", "5"],
    );
    let base = server.base.clone();
    let trial = std::thread::spawn(move || {
        let response = support::client()
            .post(format!("{base}/api/generate"))
            .header("content-type", "application/json")
            .body(brief(20).to_string())
            .send()
            .unwrap();
        support::reply(response)
    });
    // The trial has reached the endpoint (and hangs there).
    for _ in 0..200 {
        if llm.count() > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(llm.count(), 1, "the trial never reached the endpoint");
    // Everyone else falls back at once instead of becoming a second trial.
    let others: Vec<_> = (21..24)
        .map(|seed| {
            let base = server.base.clone();
            std::thread::spawn(move || {
                let response = support::client()
                    .post(format!("{base}/api/generate"))
                    .header("content-type", "application/json")
                    .body(brief(seed).to_string())
                    .send()
                    .unwrap();
                support::reply(response)
            })
        })
        .collect();
    for other in others {
        let other = other.join().unwrap();
        assert_eq!(other.status, 200, "{}", other.text);
        assert_eq!(
            other.body["generator"]["used"], "template",
            "{}",
            other.text
        );
        assert!(fallback(&other).contains("half-open"), "{}", other.text);
    }
    // The trial gives up within llm_deadline_ms, records the failure and
    // answers from the template engine: a 200, not the host's 503.
    let trial = trial.join().unwrap();
    assert_eq!(trial.status, 200, "{}", trial.text);
    assert_eq!(
        trial.body["generator"]["used"], "template",
        "{}",
        trial.text
    );
    assert!(
        fallback(&trial).contains("did not answer within 1500 ms (after 1 attempts)"),
        "{}",
        trial.text
    );
    assert_eq!(llm.count(), 1, "more than one request reached the endpoint");
    // The failed trial re-opened the breaker.
    let after = post_json(&server, "/api/generate", &brief(25));
    assert!(
        fallback(&after).contains("circuit breaker open"),
        "{}",
        after.text
    );
    assert_eq!(llm.count(), 1);
}

/// The estimated cost of one LLM request for `brief(seed)`, as generate
/// reports it among the generators it considered.
fn llm_cost(reply: &support::Reply) -> f64 {
    reply.body["generator"]["considered"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["id"] == "llm"))
        .and_then(|c| c["cost_usd"].as_f64())
        .unwrap_or_else(|| panic!("no LLM cost in {}", reply.text))
}

#[test]
fn the_hourly_spend_cap_holds_whatever_the_clients_ask() {
    let llm = FakeLlm::start();
    let dir = tempfile::tempdir().unwrap();
    // A cap of 0: the LLM is never called, even when a client insists.
    let capped = llm_app(
        &llm,
        dir.path(),
        &[("SPIN_VARIABLE_LLM_BUDGET_PER_HOUR", "0")],
        &[],
    );
    let mut insisting = brief(30);
    insisting["budget"] = json!(1000);
    let reply = post_json(&capped, "/api/generate", &insisting);
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.body["generator"]["used"], "template",
        "{}",
        reply.text
    );
    assert_eq!(
        fallback(&reply),
        "the llm generator was not used: the LLM spend cap is 0 USD per hour (llm_budget_per_hour); the template engine answered"
    );
    assert_eq!(reply.body["candidates"].as_array().unwrap().len(), 3);
    assert_eq!(llm.count(), 0);
    let cost = llm_cost(&reply);
    drop(capped);

    // A cap of one and a half requests: the first is served by the LLM, the
    // second (another seed, so no cache) falls back with the notice.
    let dir = tempfile::tempdir().unwrap();
    let cap = format!("{:.6}", cost * 1.5);
    let server = llm_app(
        &llm,
        dir.path(),
        &[("SPIN_VARIABLE_LLM_BUDGET_PER_HOUR", &cap)],
        &[],
    );
    let first = post_json(&server, "/api/generate", &insisting);
    assert_eq!(first.body["generator"]["used"], "llm", "{}", first.text);
    assert_eq!(llm.count(), 1);
    let mut second = brief(31);
    second["budget"] = json!(1000);
    let second = post_json(&server, "/api/generate", &second);
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(
        second.body["generator"]["used"], "template",
        "{}",
        second.text
    );
    assert!(
        fallback(&second).contains("the server's LLM spend cap of")
            && fallback(&second).contains("USD per hour is reached"),
        "{}",
        second.text
    );
    assert_eq!(llm.count(), 1, "the cap let a second request through");
    // Without `generator: "llm"` the bandit does not pick it either, and says why.
    let mut auto = brief(32);
    auto["generator"] = json!("auto");
    let auto = post_json(&server, "/api/generate", &auto);
    assert_eq!(auto.body["generator"]["used"], "template", "{}", auto.text);
    assert!(fallback(&auto).contains("spend cap"), "{}", auto.text);
    assert_eq!(llm.count(), 1);
}

#[test]
fn an_llm_deadline_that_cannot_fit_the_request_deadline_stops_start_up() {
    support::ensure_built();
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(support::fbposts_bin())
        .current_dir(support::repo_root())
        .args(["up", "-f", "spin.toml", "--listen", "127.0.0.1:0"])
        .args(["--request-timeout", "10", "--state-dir"])
        .arg(dir.path())
        .arg("--runtime-config-file")
        .arg(sqlite_config(dir.path()))
        .env("SPIN_VARIABLE_LLM_DEADLINE_MS", "9500")
        .output_within(Duration::from_secs(60));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "[component.generate.variables] llm_deadline_ms: \"9500\" ms does not fit the request deadline of 10000 ms (--request-timeout) with 1000 ms left to answer; lower it or raise --request-timeout"
        ),
        "{stderr}"
    );
}
