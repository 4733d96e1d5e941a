//! The LLM generator against a small OpenAI-compatible server this test
//! runs on loopback: a good answer is used; slow and failing answers are
//! retried, then the circuit breaker opens and the template engine answers
//! without calling the endpoint; the API key reaches the endpoint but never
//! the logs or the responses.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Options, Server, post_json, sqlite_config};

const KEY: &str = "sk-test-Zq81SECRETvalue";

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Ok,
    Slow,
    Fail,
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
        assert!(
            POSTS
                .iter()
                .any(|p| c["text"].as_str().unwrap().starts_with(&p[..30])),
            "{c}"
        );
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
