//! Child processes the tests run to completion (the fuzzer, the browser
//! script, a host expected to refuse to start): each gets a time limit, so a
//! regression that makes one hang fails its test instead of stalling the whole
//! suite, and its output goes to files, not pipes, so a child that writes
//! more than a pipe holds never blocks on a reader that waits for its exit.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Two files that take a child's stdout and stderr, removed on drop.
struct Capture {
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Capture {
    fn new() -> Capture {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let stem = std::env::temp_dir().join(format!("fbposts-e2e-{}-{n}", std::process::id()));
        Capture {
            stdout: stem.with_extension("stdout"),
            stderr: stem.with_extension("stderr"),
        }
    }

    fn read(&self) -> (Vec<u8>, Vec<u8>) {
        (
            std::fs::read(&self.stdout).unwrap_or_default(),
            std::fs::read(&self.stderr).unwrap_or_default(),
        )
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.stdout);
        let _ = std::fs::remove_file(&self.stderr);
    }
}

/// [`output_within`] as a method of [`Command`].
pub trait OutputWithin {
    /// See [`output_within`].
    fn output_within(&mut self, limit: Duration) -> Output;
}

impl OutputWithin for Command {
    fn output_within(&mut self, limit: Duration) -> Output {
        output_within(self, limit)
    }
}

/// Runs `command` (stdin closed) and returns its exit status and output, like
/// [`Command::output`]; kills it and panics with what it printed if it is
/// still running after `limit`.
pub fn output_within(command: &mut Command, limit: Duration) -> Output {
    let capture = Capture::new();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&capture.stdout).expect("stdout capture file"))
        .stderr(std::fs::File::create(&capture.stderr).expect("stderr capture file"))
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for a child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let (stdout, stderr) = capture.read();
            panic!(
                "{command:?} did not finish within {limit:?}; it printed:\n{}\n{}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = capture.read();
    Output {
        status,
        stdout,
        stderr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_that_writes_more_than_a_pipe_holds_finishes_with_all_its_output() {
        let output = output_within(
            Command::new("sh").args(["-c", "head -c 1000000 /dev/zero; echo done >&2"]),
            Duration::from_secs(30),
        );
        assert!(output.status.success());
        assert_eq!(output.stdout.len(), 1_000_000);
        assert_eq!(output.stderr, b"done\n");
    }

    #[test]
    #[should_panic(expected = "did not finish within")]
    fn a_child_past_its_limit_is_killed_and_the_caller_fails() {
        output_within(Command::new("sleep").arg("30"), Duration::from_millis(300));
    }

    #[test]
    fn a_failing_child_returns_its_status() {
        let output = output_within(
            Command::new("sh").args(["-c", "echo no >&2; exit 3"]),
            Duration::from_secs(30),
        );
        assert_eq!(output.status.code(), Some(3));
        assert_eq!(output.stderr, b"no\n");
    }
}
