//! One component's request path: a pre-instantiated component (`InstancePre`,
//! built once at start-up) and, per request, a fresh `Store` with its own
//! WASI context, memory limit, epoch deadline and key-value grants.
//!
//! The path is built on wasmtime-wasi-http's `ProxyHandler`, whose workers own
//! one store each. `max_requests = 1` gives every request its own store, as
//! Spin does; a larger `max_requests` lets a P3 instance serve several requests
//! (as `wasmtime serve` does) without changing anything else.

use crate::http::outbound::OutboundPolicy;
use crate::key_value::StoreManager;
use crate::key_value::host::KeyValueHost;
use crate::variables::{ComponentVariables, VariablesHost};
use crate::wasi_nn::NnRegistry;
use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use wasmtime::component::{GuestTaskId, ResourceTable};
use wasmtime::{Engine, Store, StoreContextMut, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ProxyPre, ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus,
};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};
use wasmtime_wasi_nn::wit::{WasiNnCtx, WasiNnView};

/// Everything a request's `Store` holds.
pub struct HostState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    outbound: OutboundPolicy,
    limits: StoreLimits,
    pub key_value: KeyValueHost,
    pub variables: VariablesHost,
    nn: WasiNnCtx,
}

impl HostState {
    /// What wasi-nn's host functions work on: this store's resource table and
    /// its view of the shared model registry.
    pub fn nn(&mut self) -> WasiNnView<'_> {
        WasiNnView::new(&mut self.table, &mut self.nn)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// How many requests one instance may serve.
#[derive(Debug, Clone, Copy)]
pub struct ReusePolicy {
    /// Requests one instance serves in its lifetime (1 = a fresh store per request).
    pub max_requests: usize,
    /// Requests one instance serves at the same time (P3 only).
    pub max_concurrent: usize,
}

/// Per-request limits.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    pub max_memory_bytes: usize,
    pub timeout: Duration,
}

/// The immutable, shared description of one component, from which each
/// request's store and instance are made.
pub struct ComponentRuntime {
    pub id: String,
    engine: Engine,
    pre: ProxyPre<HostState>,
    granted_stores: Arc<BTreeSet<String>>,
    stores: StoreManager,
    environment: Vec<(String, String)>,
    outbound: OutboundPolicy,
    limits: RequestLimits,
    reuse: ReusePolicy,
    nn: NnRegistry,
    variables: VariablesHost,
}

impl ComponentRuntime {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: String,
        engine: Engine,
        pre: ProxyPre<HostState>,
        granted_stores: BTreeSet<String>,
        stores: StoreManager,
        environment: Vec<(String, String)>,
        outbound: OutboundPolicy,
        limits: RequestLimits,
        reuse: ReusePolicy,
        nn: NnRegistry,
        variables: ComponentVariables,
    ) -> Self {
        let variables = VariablesHost::new(id.as_str().into(), Arc::new(variables));
        Self {
            id,
            engine,
            pre,
            granted_stores: Arc::new(granted_stores),
            stores,
            environment,
            outbound,
            limits,
            reuse,
            nn,
            variables,
        }
    }

    fn new_store(&self) -> Store<HostState> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.inherit_stdout().inherit_stderr();
        for (key, value) in &self.environment {
            wasi.env(key, value);
        }
        let state = HostState {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            outbound: self.outbound.clone(),
            limits: StoreLimitsBuilder::new()
                .memory_size(self.limits.max_memory_bytes)
                .instances(64)
                .build(),
            key_value: KeyValueHost::new(self.granted_stores.clone(), self.stores.clone()),
            variables: self.variables.clone(),
            nn: self.nn.ctx(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        // A guest that never yields is still interrupted every tick, so the
        // request deadline (below) can fire and drop the instance.
        store.epoch_deadline_async_yield_and_update(1);
        store.set_epoch_deadline(1);
        store
    }
}

impl HandlerState for ComponentRuntime {
    type StoreData = HostState;
    type WorkerExpiration = Deadline;
    type WorkerState = Worker;

    async fn instantiate(
        &self,
    ) -> wasmtime::Result<Instance<HostState, Self::WorkerExpiration, Self::WorkerState>> {
        let mut store = self.new_store();
        let proxy = self.pre.instantiate_async(&mut store).await?;
        Ok(Instance {
            store,
            proxy,
            view: WasiHttpView::http,
            expiration: Deadline {
                idle: Duration::from_secs(10),
                busy: self.limits.timeout,
                sleep: Box::pin(tokio::time::sleep(Duration::from_secs(86_400))),
            },
            state: Worker {
                reuse: self.reuse,
                timeout: self.limits.timeout,
            },
        })
    }
}

/// Ends a worker that has been idle or busy for too long.
pub struct Deadline {
    idle: Duration,
    busy: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl WorkerExpiration for Deadline {
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
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
    timeout: Duration,
}

impl WorkerState for Worker {
    type StoreData = HostState;
    type RequestData = ();

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
        _data: (),
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + 'static + Send + Sync>> {
        Box::pin(tokio::time::sleep(self.timeout))
    }

    fn drop(&self, store: Store<HostState>, result: wasmtime::Result<()>) {
        if let Err(err) = result {
            tracing::debug!(error = ?err, "instance ended with an error");
        }
        drop(store);
    }
}
