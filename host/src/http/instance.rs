//! One component's request path: a pre-instantiated component (`InstancePre`,
//! built once at start-up) and, per request, a fresh `Store` made from the
//! component's [`StoreTemplate`] (WASI context, memory limit, epoch deadline
//! and every capability's state).
//!
//! The path is built on wasmtime-wasi-http's `ProxyHandler`, whose workers own
//! one store each. `max_requests = 1` gives every request its own store, as
//! Spin does; a larger `max_requests` lets a P3 instance serve several requests
//! (as `wasmtime serve` does) without changing anything else.
//!
//! A request that overruns its deadline is answered 503 at once, but its guest
//! task goes on running in the instance (wasmtime cannot cancel it yet). The
//! worker then stops taking requests and, once none it accepted is still in
//! flight, ends the instance at once rather than granting its leftover work
//! another deadline: a guest that spins (or its separately instantiated
//! dependency) stops when its last request is answered or failed.

use crate::host_state::{HostState, StoreTemplate};
use crate::manifest::FbpostsTool;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use wasmtime::component::GuestTaskId;
use wasmtime::{Store, StoreContextMut};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ProxyPre, ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus,
};

/// How many requests one instance may serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReusePolicy {
    /// Requests one instance serves in its lifetime (1 = a fresh store per request).
    pub max_requests: usize,
    /// Requests one instance serves at the same time (P3 only).
    pub max_concurrent: usize,
}

/// Requests one reused instance serves at once when neither the manifest nor
/// the command line says (`wasmtime serve`'s default).
pub const DEFAULT_INSTANCE_CONCURRENCY: usize = 16;

/// The command line's `--instance-reuse` / `--instance-concurrency`: when
/// given, they win over every component's `[component.X.tool.fbposts]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReuseOverrides {
    pub max_requests: Option<usize>,
    pub max_concurrent: Option<usize>,
}

impl ReusePolicy {
    /// A component's policy: the command line's overrides, else what its
    /// manifest asks, else a fresh instance per request (Spin's semantics).
    pub fn for_component(asked: &FbpostsTool, overrides: ReuseOverrides) -> Self {
        Self {
            max_requests: overrides
                .max_requests
                .or(asked.instance_reuse.map(NonZeroUsize::get))
                .unwrap_or(1),
            max_concurrent: overrides
                .max_concurrent
                .or(asked.instance_concurrency.map(NonZeroUsize::get))
                .unwrap_or(DEFAULT_INSTANCE_CONCURRENCY),
        }
    }
}

/// How a component's requests are served.
#[derive(Debug, Clone, Copy)]
pub struct RequestPolicy {
    /// Deadline for one request.
    pub timeout: Duration,
    pub reuse: ReusePolicy,
}

/// The immutable, shared description of one component, from which each
/// request's store and instance are made.
pub struct ComponentRuntime {
    pub id: String,
    pre: ProxyPre<HostState>,
    stores: StoreTemplate,
    policy: RequestPolicy,
}

impl ComponentRuntime {
    pub fn new(
        id: String,
        pre: ProxyPre<HostState>,
        stores: StoreTemplate,
        policy: RequestPolicy,
    ) -> Self {
        Self {
            id,
            pre,
            stores,
            policy,
        }
    }
}

impl HandlerState for ComponentRuntime {
    type StoreData = HostState;
    type WorkerExpiration = Deadline;
    type WorkerState = Worker;

    async fn instantiate(
        &self,
    ) -> wasmtime::Result<Instance<HostState, Self::WorkerExpiration, Self::WorkerState>> {
        let mut store = self.stores.new_store_with_dependencies().await?;
        let proxy = self.pre.instantiate_async(&mut store).await?;
        let overran = Arc::new(AtomicBool::new(false));
        Ok(Instance {
            store,
            proxy,
            view: WasiHttpView::http,
            expiration: Deadline {
                idle: Duration::from_secs(10),
                busy: self.policy.timeout,
                sleep: Box::pin(tokio::time::sleep(Duration::from_secs(86_400))),
                overran: overran.clone(),
            },
            state: Worker {
                reuse: self.policy.reuse,
                overran,
            },
        })
    }
}

/// Ends a worker that has been idle or busy for too long, or that has
/// nothing left in flight after one of its requests overran its deadline.
pub struct Deadline {
    idle: Duration,
    busy: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    /// Set by a request's own deadline when it fires (see [`Worker`]).
    overran: Arc<AtomicBool>,
}

impl WorkerExpiration for Deadline {
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        if status == WorkerStatus::PostReturn && self.overran.load(Ordering::Relaxed) {
            return Poll::Ready(());
        }
        let limit = match status {
            WorkerStatus::Idle => self.idle,
            WorkerStatus::Requests | WorkerStatus::PostReturn => self.busy,
        };
        let Some(deadline) = start.checked_add(limit) else {
            return Poll::Pending;
        };
        let deadline = tokio::time::Instant::from_std(deadline);
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
        }
        self.sleep.as_mut().poll(cx)
    }
}

/// Per-instance request accounting.
pub struct Worker {
    reuse: ReusePolicy,
    /// Shared with the instance's [`Deadline`]: a request of this instance
    /// overran its deadline.
    overran: Arc<AtomicBool>,
}

impl WorkerState for Worker {
    type StoreData = HostState;
    /// When the request's deadline passes (it started counting when the
    /// request arrived, so time spent reading its body and waiting for a
    /// slot is included).
    type RequestData = tokio::time::Instant;

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= self.reuse.max_requests {
            ShouldAccept::Never
        } else if concurrent >= self.reuse.max_concurrent {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        _store: StoreContextMut<'_, HostState>,
        deadline: tokio::time::Instant,
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + 'static + Send + Sync>> {
        let overran = self.overran.clone();
        Box::pin(async move {
            tokio::time::sleep_until(deadline).await;
            overran.store(true, Ordering::Relaxed);
        })
    }

    fn drop(&self, store: Store<HostState>, result: wasmtime::Result<()>) {
        if let Err(err) = result {
            tracing::debug!(error = ?err, "instance ended with an error");
        }
        drop(store);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(reuse: usize, concurrency: usize) -> FbpostsTool {
        FbpostsTool {
            instance_reuse: NonZeroUsize::new(reuse),
            instance_concurrency: NonZeroUsize::new(concurrency),
            ..FbpostsTool::default()
        }
    }

    fn deadline(overran: bool) -> Deadline {
        Deadline {
            idle: Duration::from_secs(10),
            busy: Duration::from_secs(30),
            sleep: Box::pin(tokio::time::sleep(Duration::from_secs(86_400))),
            overran: Arc::new(AtomicBool::new(overran)),
        }
    }

    fn poll(deadline: &mut Deadline, status: WorkerStatus) -> Poll<()> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        Pin::new(deadline).poll(&mut cx, status, Instant::now())
    }

    #[tokio::test]
    async fn an_instance_whose_request_overran_ends_once_nothing_is_in_flight() {
        let mut overran = deadline(true);
        assert!(poll(&mut overran, WorkerStatus::PostReturn).is_ready());
    }

    #[tokio::test]
    async fn an_instance_whose_request_overran_lets_its_other_requests_finish() {
        let mut overran = deadline(true);
        assert!(poll(&mut overran, WorkerStatus::Requests).is_pending());
    }

    #[tokio::test]
    async fn an_instance_that_answered_in_time_keeps_its_post_return_work_until_the_deadline() {
        let mut answered = deadline(false);
        assert!(poll(&mut answered, WorkerStatus::PostReturn).is_pending());
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let long_ago = Instant::now() - Duration::from_secs(31);
        assert!(
            Pin::new(&mut answered)
                .poll(&mut cx, WorkerStatus::PostReturn, long_ago)
                .is_ready()
        );
    }

    #[test]
    fn a_component_that_does_not_ask_gets_a_fresh_instance_per_request() {
        let policy = ReusePolicy::for_component(&FbpostsTool::default(), ReuseOverrides::default());
        assert_eq!(policy.max_requests, 1);
    }

    #[test]
    fn a_component_gets_the_reuse_its_manifest_asks_for() {
        let policy = ReusePolicy::for_component(&asked(128, 8), ReuseOverrides::default());
        assert_eq!(
            policy,
            ReusePolicy {
                max_requests: 128,
                max_concurrent: 8
            }
        );
    }

    #[test]
    fn the_command_line_wins_over_the_manifest() {
        let fresh = ReuseOverrides {
            max_requests: Some(1),
            max_concurrent: None,
        };
        let policy = ReusePolicy::for_component(&asked(128, 8), fresh);
        assert_eq!(
            policy,
            ReusePolicy {
                max_requests: 1,
                max_concurrent: 8
            }
        );
        let everywhere = ReuseOverrides {
            max_requests: Some(64),
            max_concurrent: Some(4),
        };
        let policy = ReusePolicy::for_component(&FbpostsTool::default(), everywhere);
        assert_eq!(
            policy,
            ReusePolicy {
                max_requests: 64,
                max_concurrent: 4
            }
        );
    }
}
