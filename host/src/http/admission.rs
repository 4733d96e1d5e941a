//! Admission of requests to the guests: at most `max_running` run at once,
//! at most `max_waiting` wait for a slot, in arrival order, until their
//! deadline. A request that finds the queue full is refused at once
//! (`503 overloaded` with `Retry-After`), so overload costs the client one
//! round trip and the server nothing, and the requests that do run keep
//! their latency: goodput holds instead of collapsing.

use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Semaphore, SemaphorePermit, TryAcquireError};
use tokio::time::Instant;

/// How many requests run and wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionLimits {
    pub max_running: usize,
    pub max_waiting: usize,
}

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Every slot is taken and the queue is full.
    QueueFull,
    /// The request's deadline passed while it waited.
    DeadlinePassed,
}

/// The running slots and the wait queue.
#[derive(Debug)]
pub struct Admission {
    running: Semaphore,
    max_running: usize,
    max_waiting: usize,
    waiting: AtomicUsize,
}

impl Admission {
    pub fn new(limits: AdmissionLimits) -> Self {
        Self {
            running: Semaphore::new(limits.max_running),
            max_running: limits.max_running,
            max_waiting: limits.max_waiting,
            waiting: Default::default(),
        }
    }

    /// A running slot, now or after waiting in the queue until `deadline`.
    pub async fn admit(&self, deadline: Instant) -> Result<SemaphorePermit<'_>, Refusal> {
        match self.running.try_acquire() {
            Ok(permit) => return Ok(permit),
            // The semaphore is never closed.
            Err(TryAcquireError::Closed | TryAcquireError::NoPermits) => {}
        }
        let _place = self.queue_place().ok_or(Refusal::QueueFull)?;
        match tokio::time::timeout_at(deadline, self.running.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(Refusal::DeadlinePassed),
        }
    }

    /// No request is running or waiting now.
    pub fn idle(&self) -> bool {
        self.running.available_permits() == self.max_running
            && self.waiting.load(Ordering::Relaxed) == 0
    }

    /// Requests waiting now.
    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    fn queue_place(&self) -> Option<QueuePlace<'_>> {
        self.waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_waiting).then_some(n + 1)
            })
            .ok()
            .map(|_| QueuePlace(&self.waiting))
    }
}

/// A place in the wait queue, given back on drop.
struct QueuePlace<'a>(&'a AtomicUsize);

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[tokio::test]
    async fn requests_run_up_to_the_limit_without_waiting() {
        let admission = Admission::new(AdmissionLimits {
            max_running: 2,
            max_waiting: 0,
        });
        let _a = admission.admit(far()).await.unwrap();
        let _b = admission.admit(far()).await.unwrap();
        assert_eq!(
            admission.admit(far()).await.unwrap_err(),
            Refusal::QueueFull
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_a_freed_slot_goes_to_the_waiting_request() {
        let admission = std::sync::Arc::new(Admission::new(AdmissionLimits {
            max_running: 1,
            max_waiting: 1,
        }));
        let running = admission.admit(far()).await.unwrap();
        let waiter = tokio::spawn({
            let admission = admission.clone();
            async move { admission.admit(far()).await.map(drop) }
        });
        while admission.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        // The queue holds one: the next is refused without waiting.
        assert_eq!(
            admission.admit(far()).await.unwrap_err(),
            Refusal::QueueFull
        );
        drop(running);
        assert_eq!(waiter.await.unwrap(), Ok(()));
        assert_eq!(admission.waiting(), 0);
    }

    #[tokio::test]
    async fn a_request_waits_no_longer_than_its_deadline() {
        let admission = Admission::new(AdmissionLimits {
            max_running: 1,
            max_waiting: 4,
        });
        let _running = admission.admit(far()).await.unwrap();
        let soon = Instant::now() + Duration::from_millis(20);
        assert_eq!(
            admission.admit(soon).await.unwrap_err(),
            Refusal::DeadlinePassed
        );
        // Its place in the queue is given back.
        assert_eq!(admission.waiting(), 0);
    }
}
