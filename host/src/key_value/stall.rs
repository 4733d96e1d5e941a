//! Bounded waits on a remote backend that stops answering.
//!
//! A Redis that accepts connections but never replies (stopped, swapping,
//! partitioned) would otherwise hold every request for the client library's
//! response timeout, one command after another. [`StallGuard`] gives each
//! command a deadline ([`StallGuard::run`]); the first command that misses it
//! opens the guard for a cool-down, during which commands fail at once
//! without being sent. After the cool-down one command at a time is let
//! through as a probe: its answer closes the guard, its timeout reopens it.
//! So a stalled backend costs the first request(s) one deadline and every
//! other request nothing, and service resumes by itself when the backend
//! answers again — no restart. Callers see [`StoreError::Timeout`]: the
//! response cache treats it as a miss, the learning state answers 503.

use super::StoreError;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Deadlines of one backend's commands and whether it is considered stalled.
#[derive(Debug)]
pub struct StallGuard {
    what: String,
    deadline: Duration,
    cool_down: Duration,
    started: Instant,
    /// Milliseconds since `started` until which commands fail fast; 0: closed.
    open_until_ms: AtomicU64,
    /// Whether a probe is in flight (only one while half-open).
    probing: AtomicBool,
}

/// How a command was admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    Normal,
    Probe,
}

impl StallGuard {
    /// `what` names the backend in errors ("Redis at redis://h:6379").
    pub fn new(what: impl Into<String>, deadline: Duration, cool_down: Duration) -> Self {
        Self {
            what: what.into(),
            deadline,
            cool_down,
            started: Instant::now(),
            open_until_ms: AtomicU64::new(0),
            probing: AtomicBool::new(false),
        }
    }

    /// Whether commands currently fail fast.
    #[cfg(test)]
    fn is_open(&self) -> bool {
        self.open_until_ms.load(Ordering::Acquire) != 0
    }

    fn now_ms(&self) -> u64 {
        // At least 1, so that 0 keeps meaning "closed".
        (self.started.elapsed().as_millis() as u64).max(1)
    }

    fn admit(&self) -> Result<Admission, StoreError> {
        let until = self.open_until_ms.load(Ordering::Acquire);
        if until == 0 {
            return Ok(Admission::Normal);
        }
        if self.now_ms() >= until && !self.probing.swap(true, Ordering::AcqRel) {
            return Ok(Admission::Probe);
        }
        Err(StoreError::Timeout(format!(
            "{} is not answering (failing fast for up to {} ms before the next probe)",
            self.what,
            self.cool_down.as_millis()
        )))
    }

    /// Runs one command with the deadline, failing fast while stalled.
    pub async fn run<T, E>(
        &self,
        command: impl Future<Output = Result<T, E>>,
        to_error: impl FnOnce(E) -> StoreError,
    ) -> Result<T, StoreError> {
        let admission = self.admit()?;
        let outcome = tokio::time::timeout(self.deadline, command).await;
        if admission == Admission::Probe {
            self.probing.store(false, Ordering::Release);
        }
        match outcome {
            Ok(Ok(value)) => {
                if self.open_until_ms.swap(0, Ordering::AcqRel) != 0 {
                    tracing::info!(backend = %self.what, "answering again");
                }
                Ok(value)
            }
            Ok(Err(err)) => Err(to_error(err)),
            Err(_elapsed) => {
                let until = self.now_ms() + self.cool_down.as_millis() as u64;
                if self.open_until_ms.swap(until, Ordering::AcqRel) == 0 {
                    tracing::warn!(backend = %self.what, deadline_ms = self.deadline.as_millis() as u64,
                        "no answer within the deadline; failing fast until it answers again");
                }
                Err(StoreError::Timeout(format!(
                    "{} did not answer within {} ms",
                    self.what,
                    self.deadline.as_millis()
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> StallGuard {
        StallGuard::new(
            "test backend",
            Duration::from_millis(50),
            Duration::from_millis(100),
        )
    }

    fn never() -> impl Future<Output = Result<(), String>> {
        std::future::pending()
    }

    fn answers() -> impl Future<Output = Result<u8, String>> {
        std::future::ready(Ok(7))
    }

    fn plain(e: String) -> StoreError {
        StoreError::Backend(e)
    }

    #[tokio::test]
    async fn a_command_that_never_answers_times_out_and_opens_the_guard() {
        let guard = guard();
        let err = guard.run(never(), plain).await.unwrap_err();
        assert!(matches!(err, StoreError::Timeout(_)), "{err:?}");
        assert!(guard.is_open());
    }

    #[tokio::test]
    async fn while_open_commands_fail_without_being_polled() {
        let guard = guard();
        let _ = guard.run(never(), plain).await;
        let polled = std::sync::atomic::AtomicBool::new(false);
        let command = async {
            polled.store(true, Ordering::SeqCst);
            Ok::<_, String>(())
        };
        assert!(matches!(
            guard.run(command, plain).await,
            Err(StoreError::Timeout(_))
        ));
        assert!(!polled.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn after_the_cool_down_an_answering_probe_closes_the_guard() {
        let guard = guard();
        let _ = guard.run(never(), plain).await;
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(guard.run(answers(), plain).await.unwrap(), 7);
        assert!(!guard.is_open());
        assert_eq!(guard.run(answers(), plain).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn backend_errors_pass_through_without_opening_the_guard() {
        let guard = guard();
        let err = guard
            .run(std::future::ready(Err::<(), _>("boom".to_string())), plain)
            .await
            .unwrap_err();
        assert_eq!(err, StoreError::Backend("boom".into()));
        assert!(!guard.is_open());
    }
}
