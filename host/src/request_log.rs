//! Where the one log line per request goes: formatted on the request's
//! thread into a shared buffer (an uncontended lock and a copy), written to
//! stderr by a thread of its own every [`FLUSH_INTERVAL`], in one `write`.
//!
//! A queue with a writer thread woken per line (`tracing-appender`) still
//! cost a `write`, a wake-up and a `sched_yield` per request: about 11 % of
//! the trivial route's throughput at c=64 on one core. Lines that would grow
//! the buffer past [`MAX_BUFFERED_BYTES`] between two flushes are dropped
//! (and counted in a line of their own) rather than waited for; the rest are
//! written in order. [`FlushAtExit`] writes what is left when dropped.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a line may wait in the buffer.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(50);

/// What the buffer may hold between two flushes (about 5,000 lines).
pub const MAX_BUFFERED_BYTES: usize = 1 << 20;

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

/// The `MakeWriter` of the per-request layer: each event's line is
/// appended whole to the buffer.
#[derive(Clone)]
pub struct BatchedLines {
    pending: Arc<Pending>,
}

/// One event's line, appended to the buffer when dropped.
pub struct Line {
    pending: Arc<Pending>,
    text: Vec<u8>,
}

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let mut bytes = self.pending.lock();
        if bytes.len() + self.text.len() > MAX_BUFFERED_BYTES {
            self.pending.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            bytes.extend_from_slice(&self.text);
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedLines {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            pending: self.pending.clone(),
            text: Vec::with_capacity(256),
        }
    }
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

/// The writer of request lines to `out`, and its guard.
pub fn batched<W: Write + Send + 'static>(mut out: W) -> (BatchedLines, FlushAtExit) {
    let pending = Arc::new(Pending::default());
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
    (
        BatchedLines {
            pending: pending.clone(),
        },
        FlushAtExit {
            pending,
            thread: Some(thread),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::fmt::MakeWriter;

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

    fn write_line(lines: &BatchedLines, text: &str) {
        let mut line = lines.make_writer();
        line.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn lines_reach_the_output_whole_and_in_order_after_a_flush() {
        let out = Shared::default();
        let (lines, guard) = batched(out.clone());
        for i in 0..100 {
            write_line(&lines, &format!("request {i}\n"));
        }
        drop(guard);
        let written = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let expected: String = (0..100).map(|i| format!("request {i}\n")).collect();
        assert_eq!(written, expected);
    }

    #[test]
    fn the_writer_thread_writes_without_being_asked() {
        let out = Shared::default();
        let (lines, _guard) = batched(out.clone());
        write_line(&lines, "one line\n");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while out.0.lock().unwrap().is_empty() {
            assert!(std::time::Instant::now() < deadline, "nothing written");
            std::thread::sleep(FLUSH_INTERVAL / 5);
        }
        assert_eq!(out.0.lock().unwrap().as_slice(), b"one line\n");
    }

    #[test]
    fn lines_past_the_buffer_s_bound_are_dropped_and_counted() {
        let pending = Arc::new(Pending::default());
        let lines = BatchedLines {
            pending: pending.clone(),
        };
        let line = "x".repeat(1023) + "\n";
        let fits = MAX_BUFFERED_BYTES / line.len();
        for _ in 0..fits + 3 {
            write_line(&lines, &line);
        }
        let mut out = Vec::new();
        pending.flush_to(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches(&line).count(), fits);
        assert!(text.ends_with("fbposts: 3 request log lines dropped (log writer behind)\n"));
    }
}
