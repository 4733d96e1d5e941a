//! What one request's wasmtime `Store` holds, and how it is made.
//!
//! [`HostState`] is the WASI base (resource table, WASI context, the
//! wasi:http context, memory limits, measured by [`MemoryPeak`]) plus
//! [`CapabilityStates`], one field per
//! capability in [`crate::capability`]. [`StoreTemplate`] is everything a
//! component's stores are made from, built once at start-up; making a store
//! from it clones `Arc`s and copies the component's environment into a fresh
//! WASI context, nothing else.

use crate::capability::{CapabilityStates, PreparedCapabilities};
use crate::linked::{SeparateInstance, SeparateTemplate, SharedSeparateInstance};
use crate::metrics::MemoryPeak;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Core instances one store may create (a composed component has several).
const MAX_INSTANCES_PER_STORE: usize = 64;

/// Everything a request's `Store` holds.
pub struct HostState {
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    limits: MemoryPeak<StoreLimits>,
    pub(crate) capabilities: CapabilityStates,
    /// The component's separately instantiated dependencies, each in a
    /// store of its own ([`crate::linked`]), in the order of
    /// [`StoreTemplate::dependencies`].
    pub(crate) separate_instances: Vec<SharedSeparateInstance>,
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
            // Outgoing requests go through the outbound-HTTP capability.
            hooks: &mut self.capabilities.outbound_http,
        }
    }
}

/// One component's stores: made once at start-up, used for every request.
pub struct StoreTemplate {
    pub engine: Engine,
    /// The component's `environment`, as its guests see it.
    pub environment: Vec<(String, String)>,
    /// Linear memory cap of one instance, in bytes.
    pub max_memory_bytes: usize,
    pub capabilities: PreparedCapabilities,
    /// The dependencies instantiated in each store beside the component
    /// ([`crate::linked`]); empty for a composed or standalone component.
    pub dependencies: Vec<SeparateTemplate>,
}

impl StoreTemplate {
    /// A fresh store for one request (or one reused instance).
    pub fn new_store(&self) -> Store<HostState> {
        self.store_with(&self.capabilities)
    }

    /// A fresh store with these prepared capabilities (the component's, or
    /// those prepared for one of its separate dependencies).
    fn store_with(&self, capabilities: &PreparedCapabilities) -> Store<HostState> {
        let mut wasi = WasiCtxBuilder::new();
        // Guest output goes to the host's log stream: the host's stdout
        // carries only its own lines (scripts read `Serving http://…`).
        wasi.stdout(tokio::io::stderr()).inherit_stderr();
        for (key, value) in &self.environment {
            wasi.env(key, value);
        }
        let capabilities = capabilities.instance();
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.max_memory_bytes)
            .instances(MAX_INSTANCES_PER_STORE)
            .build();
        let state = HostState {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            limits: capabilities.metrics.memory_peak(limits),
            capabilities,
            separate_instances: Vec::with_capacity(self.dependencies.len()),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        crate::metrics::install_time_hook(&mut store);
        // A guest that never yields is still interrupted every tick, so the
        // request deadline can fire and drop the instance.
        store.epoch_deadline_async_yield_and_update(1);
        store.set_epoch_deadline(1);
        store
    }

    /// A fresh store for the component, holding its separate dependencies,
    /// each instantiated in a fresh store of its own made from this same
    /// template (the same limits and grants).
    pub async fn new_store_with_dependencies(&self) -> wasmtime::Result<Store<HostState>> {
        let mut store = self.new_store();
        for dependency in &self.dependencies {
            let mut own = self.store_with(&dependency.capabilities);
            let instance = dependency.pre.instantiate_async(&mut own).await?;
            let separate = SeparateInstance::new(own, instance);
            store.data_mut().separate_instances.push(separate);
        }
        Ok(store)
    }
}
