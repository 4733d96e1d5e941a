//! The access log: one line per request, in the format of the host's other
//! log lines (`tracing-subscriber`'s), written without going through
//! `tracing`.
//!
//! - A line is formatted straight into a shared buffer (an uncontended lock,
//!   no allocation): `perf` put 3–4 µs a request in `tracing`'s dispatch and
//!   formatter (a field visitor, a timestamp formatted from scratch).
//! - The timestamp's date and time to the second are formatted once a second
//!   per thread; each line adds its microseconds.
//! - Whether lines are written at all is decided once, at start-up, by
//!   `FBPOSTS_LOG`'s filter for the target `fbposts::request` at `INFO`
//!   (`main.rs`), so `FBPOSTS_LOG=warn` or `fbposts::request=off` turn the
//!   access log off as before.
//! - A thread of its own writes the buffer to stderr every
//!   [`FLUSH_INTERVAL`], in one `write`: a queue with a writer thread woken
//!   per line (`tracing-appender`) cost a `write`, a wake-up and a
//!   `sched_yield` per request, about 11 % of the trivial route's throughput
//!   at c=64 on one core. Lines that would grow the buffer past
//!   [`MAX_BUFFERED_BYTES`] between two flushes are dropped (and counted in a
//!   line of their own) rather than waited for; the rest are written in
//!   order. [`FlushAtExit`] writes what is left when dropped.

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// How long a line may wait in the buffer.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(50);

/// What the buffer may hold between two flushes (about 5,000 lines).
pub const MAX_BUFFERED_BYTES: usize = 1 << 20;

/// The `tracing` target whose filter turns the access log on and off.
pub const TARGET: &str = "fbposts::request";

/// One request, as its log line tells it.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    pub method: &'a http::Method,
    pub path: &'a str,
    /// The manifest's route that matched (`-` when none did).
    pub route: &'a str,
    /// The component that answered (`-` when none did).
    pub component: &'a str,
    pub status: http::StatusCode,
    pub elapsed: Duration,
}

/// The process's access log, once [`start`] has run with lines enabled.
static ACCESS_LOG: OnceLock<Arc<Pending>> = OnceLock::new();

/// Writes `line` to the access log, if it is on.
pub fn record(line: &RequestLine<'_>) {
    if let Some(pending) = ACCESS_LOG.get() {
        pending.append(line, SystemTime::now());
    }
}

/// Whether the `tracing` filter `directives` (`FBPOSTS_LOG`'s syntax) lets
/// [`TARGET`]'s `INFO` events through: asked of a subscriber with only that
/// filter, for this thread only.
pub fn enabled_by(directives: &str) -> bool {
    use tracing_subscriber::prelude::*;
    let subscriber =
        tracing_subscriber::registry().with(tracing_subscriber::EnvFilter::new(directives));
    tracing::subscriber::with_default(
        subscriber,
        || tracing::enabled!(target: TARGET, tracing::Level::INFO),
    )
}

/// Lines waiting for the writer thread, and how many were dropped.
#[derive(Default)]
struct Pending {
    bytes: Mutex<Vec<u8>>,
    dropped: AtomicU64,
    stop: AtomicBool,
}

impl Pending {
    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.bytes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Formats `line` at the end of the buffer, or counts it as dropped.
    fn append(&self, line: &RequestLine<'_>, now: SystemTime) {
        let mut bytes = self.lock();
        let before = bytes.len();
        format_line(&mut bytes, line, now);
        if bytes.len() > MAX_BUFFERED_BYTES {
            bytes.truncate(before);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Writes out what is buffered (and a line for the dropped ones).
    fn flush_to(&self, out: &mut impl Write) {
        let batch = std::mem::take(&mut *self.lock());
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if !batch.is_empty() {
            let _ = out.write_all(&batch);
        }
        if dropped > 0 {
            let _ = writeln!(
                out,
                "fbposts: {dropped} request log lines dropped (log writer behind)"
            );
        }
        let _ = out.flush();
    }
}

/// `2026-12-04T11:06:16.879107Z  INFO fbposts::request: method=GET
/// path="/ok" route="/..." component="c" status=200 duration_ms=1.313`
/// (one line), as `tracing-subscriber`'s formatter writes an event.
fn format_line(out: &mut Vec<u8>, line: &RequestLine<'_>, now: SystemTime) {
    write_timestamp(out, now);
    out.extend_from_slice(b"  INFO ");
    out.extend_from_slice(TARGET.as_bytes());
    out.extend_from_slice(b": method=");
    out.extend_from_slice(line.method.as_str().as_bytes());
    out.extend_from_slice(b" path=");
    write_quoted(out, line.path);
    out.extend_from_slice(b" route=");
    write_quoted(out, line.route);
    out.extend_from_slice(b" component=");
    write_quoted(out, line.component);
    let millis = (line.elapsed.as_secs_f64() * 1e6).round() / 1e3;
    let _ = writeln!(
        out,
        " status={} duration_ms={millis:?}",
        line.status.as_u16()
    );
}

/// `text` in double quotes, escaped as Rust's `Debug` escapes a string (a
/// client's path cannot break the line); the common case is copied as is.
fn write_quoted(out: &mut Vec<u8>, text: &str) {
    let plain = text
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
    if plain {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        let _ = write!(out, "{text:?}");
    }
}

thread_local! {
    /// The last second formatted on this thread, and its text.
    static SECOND: RefCell<(u64, [u8; 19])> = const { RefCell::new((u64::MAX, [0; 19])) };
}

/// `2026-12-04T11:06:16.879107Z` (UTC, microseconds).
fn write_timestamp(out: &mut Vec<u8>, now: SystemTime) {
    let since_epoch = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let second = since_epoch.as_secs();
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != second {
            let formatted = i64::try_from(second)
                .ok()
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string();
            if let Ok(bytes) = <[u8; 19]>::try_from(formatted.as_bytes()) {
                *text = bytes;
                *cached = second;
            }
        }
        out.extend_from_slice(text);
    });
    let _ = write!(out, ".{:06}Z", since_epoch.subsec_micros());
}

/// Stops the writer thread and writes what is left, when dropped.
pub struct FlushAtExit {
    pending: Arc<Pending>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for FlushAtExit {
    fn drop(&mut self) {
        self.pending.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// Turns the access log on, writing to `out` from a thread of its own;
/// `None` if it is already on.
pub fn start<W: Write + Send + 'static>(out: W) -> Option<FlushAtExit> {
    let pending = Arc::new(Pending::default());
    ACCESS_LOG.set(pending.clone()).ok()?;
    Some(spawn_writer(pending, out))
}

fn spawn_writer<W: Write + Send + 'static>(pending: Arc<Pending>, mut out: W) -> FlushAtExit {
    let thread = std::thread::Builder::new()
        .name("request-log".into())
        .spawn({
            let pending = pending.clone();
            move || {
                while !pending.stop.load(Ordering::Acquire) {
                    std::thread::park_timeout(FLUSH_INTERVAL);
                    pending.flush_to(&mut out);
                }
                // Whatever came in while the last flush ran.
                pending.flush_to(&mut out);
            }
        })
        .expect("spawning the request log writer");
    FlushAtExit {
        pending,
        thread: Some(thread),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Write` whose bytes the test can read.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn request(path: &str) -> RequestLine<'_> {
        RequestLine {
            method: &http::Method::GET,
            path,
            route: "/...",
            component: "c",
            status: http::StatusCode::OK,
            elapsed: Duration::from_micros(1_313),
        }
    }

    /// 2026-12-04T11:06:16.000042Z
    fn a_moment() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_382_376) + Duration::from_micros(42)
    }

    fn line_of(line: &RequestLine<'_>) -> String {
        let mut out = Vec::new();
        format_line(&mut out, line, a_moment());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fbposts_log_turns_the_access_log_on_and_off() {
        assert!(enabled_by("info"));
        assert!(enabled_by("info,wasmtime_cranelift=warn,cranelift=warn"));
        assert!(enabled_by("warn,fbposts::request=info"));
        assert!(!enabled_by("warn"));
        assert!(!enabled_by("info,fbposts::request=off"));
        assert!(!enabled_by("off"));
    }

    #[test]
    fn a_line_reads_like_the_host_s_other_log_lines() {
        assert_eq!(
            line_of(&request("/api/analyze")),
            "2026-12-04T11:06:16.000042Z  INFO fbposts::request: method=GET \
             path=\"/api/analyze\" route=\"/...\" component=\"c\" status=200 duration_ms=1.313\n"
        );
    }

    #[test]
    fn a_path_with_quotes_or_a_newline_cannot_break_the_line() {
        let line = line_of(&request("/a\"b\nc"));
        assert!(line.contains(r#"path="/a\"b\nc""#), "{line}");
        assert_eq!(line.matches('\n').count(), 1);
    }

    #[test]
    fn the_second_cached_by_a_thread_follows_the_clock() {
        let mut out = Vec::new();
        write_timestamp(&mut out, a_moment());
        write_timestamp(&mut out, a_moment() + Duration::from_secs(61));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-12-04T11:06:16.000042Z2026-12-04T11:07:17.000042Z"
        );
    }

    #[test]
    fn lines_reach_the_output_whole_and_in_order_after_a_flush() {
        let out = Shared::default();
        let pending = Arc::new(Pending::default());
        let guard = spawn_writer(pending.clone(), out.clone());
        let paths: Vec<String> = (0..100).map(|i| format!("/request/{i}")).collect();
        for path in &paths {
            pending.append(&request(path), a_moment());
        }
        drop(guard);
        let written = out.text();
        let expected: String = paths.iter().map(|path| line_of(&request(path))).collect();
        assert_eq!(written, expected);
    }

    #[test]
    fn the_writer_thread_writes_without_being_asked() {
        let out = Shared::default();
        let pending = Arc::new(Pending::default());
        let _guard = spawn_writer(pending.clone(), out.clone());
        pending.append(&request("/one"), a_moment());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while out.0.lock().unwrap().is_empty() {
            assert!(std::time::Instant::now() < deadline, "nothing written");
            std::thread::sleep(FLUSH_INTERVAL / 5);
        }
        assert_eq!(out.text(), line_of(&request("/one")));
    }

    #[test]
    fn lines_past_the_buffer_s_bound_are_dropped_and_counted() {
        let pending = Pending::default();
        let path = "/".repeat(1000);
        let line = line_of(&request(&path));
        let fits = MAX_BUFFERED_BYTES / line.len();
        for _ in 0..fits + 3 {
            pending.append(&request(&path), a_moment());
        }
        let mut out = Vec::new();
        pending.flush_to(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches(&line).count(), fits);
        assert!(text.ends_with("fbposts: 3 request log lines dropped (log writer behind)\n"));
    }
}
