//! The key-value capability ([`KeyValue`]): implements
//! `spin:key-value/key-value@3.0.0` for components on top of [`StoreManager`].
//!
//! Each request's `Store` gets a [`KeyValueHost`] holding the labels the
//! component was granted in `spin.toml` and a small table of the stores it
//! opened. Opening a label that was not granted yields `access-denied`, as in
//! Spin; key and value sizes are checked against Spin's limits before the
//! backend sees them. Each opened store is wrapped by the metrics capability
//! ([`KvMeter`]), which counts and times every operation.

use super::{Store, StoreError, StoreManager, check_key, check_value};
use crate::capability::{AppContext, Capability, ComponentContext, HasState};
use crate::host_state::HostState;
use crate::metrics::{KvMeter, Metrics};
use anyhow::Context as _;
use std::collections::BTreeSet;
use std::sync::Arc;
use wasmtime::component::{Accessor, FutureReader, HasData, Linker, Resource, StreamReader};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-key-value.wit",
        world: "kv-host",
        imports: { default: async | trappable },
        trappable_error_type: {
            "spin:key-value/key-value@3.0.0.error" => Error,
        },
    });
    pub use spin::key_value::key_value::*;
}

use bindings::{Error as WitError, Host, HostStore, HostStoreWithStore};

/// The most stores one request may hold open at once (Spin's default table size).
const MAX_OPEN_STORES: usize = 256;

/// Per-request key-value state.
#[derive(Debug)]
pub struct KeyValueHost {
    granted: Arc<BTreeSet<String>>,
    manager: StoreManager,
    meter: KvMeter,
    /// Open stores: `spin:key-value` stores and `wasi:keyvalue` buckets.
    open: Vec<Option<Arc<dyn Store>>>,
    /// Open `wasi:keyvalue` compare-and-swap handles.
    pub(super) cas: Vec<Option<super::wasi::CasState>>,
}

/// Why a label could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OpenError {
    AccessDenied,
    NoSuchStore,
    TableFull,
}

impl KeyValueHost {
    /// `granted` is the component's `key_value_stores` list.
    pub fn new(granted: Arc<BTreeSet<String>>, manager: StoreManager, meter: KvMeter) -> Self {
        Self {
            granted,
            manager,
            meter,
            open: Vec::new(),
            cas: Vec::new(),
        }
    }

    /// Opens `label` if the component was granted it; its slot.
    pub(super) fn open_label(&mut self, label: &str) -> Result<u32, OpenError> {
        if !self.granted.contains(label) {
            return Err(OpenError::AccessDenied);
        }
        let store = self.manager.get(label).ok_or(OpenError::NoSuchStore)?;
        let backend = self.manager.backend(label).unwrap_or("unknown");
        let store = self.meter.wrap(label, backend, store);
        self.push(store).map_err(|_| OpenError::TableFull)
    }

    /// The open store in slot `rep`.
    pub(super) fn store_at(&self, rep: u32) -> Option<Arc<dyn Store>> {
        self.open.get(rep as usize).and_then(Option::clone)
    }

    /// Frees slot `rep`.
    pub(super) fn close(&mut self, rep: u32) {
        if let Some(slot) = self.open.get_mut(rep as usize) {
            *slot = None;
        }
    }

    fn push(&mut self, store: Arc<dyn Store>) -> Result<u32, WitError> {
        if let Some(slot) = self.open.iter().position(Option::is_none) {
            self.open[slot] = Some(store);
            return Ok(slot as u32);
        }
        if self.open.len() >= MAX_OPEN_STORES {
            return Err(WitError::StoreTableFull);
        }
        self.open.push(Some(store));
        Ok((self.open.len() - 1) as u32)
    }

    fn lookup(&self, rep: u32) -> Result<Arc<dyn Store>, WitError> {
        self.store_at(rep).ok_or(WitError::NoSuchStore)
    }
}

/// The key-value capability: every store of the runtime config, opened once
/// at start-up; also the bindings' marker (their data is `&mut KeyValueHost`).
pub struct KeyValue {
    manager: StoreManager,
}

impl HasData for KeyValue {
    type Data<'a> = &'a mut KeyValueHost;
}

/// One component's key-value grants.
pub struct Grants {
    granted: Arc<BTreeSet<String>>,
    manager: StoreManager,
    meter: KvMeter,
}

impl KeyValue {
    /// The opened stores (the caller flushes their write-behind buffers at
    /// shutdown).
    pub fn stores(&self) -> StoreManager {
        self.manager.clone()
    }
}

impl Capability for KeyValue {
    type Prepared = Grants;
    type InstanceState = KeyValueHost;

    /// Adds `spin:key-value/key-value@3.0.0` and `wasi:keyvalue` (store,
    /// atomics, batch).
    fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
        bindings::add_to_linker::<HostState, KeyValue>(
            linker,
            <HostState as HasState<Self>>::state,
        )?;
        super::wasi::link(linker, <HostState as HasState<Self>>::state)
    }

    /// Opens every store the runtime config names and the implicit `default`
    /// if a component uses it; an undefined label fails here.
    async fn configure_app(ctx: &AppContext<'_>) -> anyhow::Result<Self> {
        let labels = ctx.manifest.labels_in_use();
        let manager = StoreManager::build(&ctx.runtime_config.key_value, &labels, ctx.paths)
            .await
            .context("opening key-value stores")?;
        for label in &labels {
            if let Some(summary) = manager.summary(label) {
                tracing::info!(label, store = %summary, "key-value store");
            }
        }
        Ok(Self { manager })
    }

    /// The component's `key_value_stores`.
    fn prepare(&self, ctx: &ComponentContext<'_>) -> anyhow::Result<Grants> {
        ctx.capability::<Metrics>()
            .key_value_tiers()
            .set(crate::metrics::Tiers {
                lookups: self.manager.tier_counts(),
                buffers: self.manager.write_behind_counts(),
                shared: self.manager.l2_counts(),
            });
        Ok(Grants {
            granted: Arc::new(ctx.component.key_value_stores.iter().cloned().collect()),
            manager: self.manager.clone(),
            meter: ctx.capability::<Metrics>().key_value(),
        })
    }

    fn instance(grants: &Grants) -> KeyValueHost {
        KeyValueHost::new(
            grants.granted.clone(),
            grants.manager.clone(),
            grants.meter.clone(),
        )
    }
}

fn to_wit(err: StoreError) -> WitError {
    WitError::Other(to_wit_message(err))
}

/// The error text a component sees; backend failures and timeouts are
/// also logged (their text names the backend, never a password).
pub(super) fn to_wit_message(err: StoreError) -> String {
    match err {
        StoreError::Backend(msg) | StoreError::Timeout(msg) => {
            tracing::warn!(error = %msg, "key-value backend error");
            msg
        }
        other => other.to_string(),
    }
}

fn store_of<T>(
    accessor: &Accessor<T, KeyValue>,
    store: &Resource<bindings::Store>,
) -> Result<Arc<dyn Store>, WitError> {
    let rep = store.rep();
    accessor.with(|mut access| access.get().lookup(rep))
}

impl Host for KeyValueHost {
    fn convert_error(&mut self, err: WitError) -> wasmtime::Result<WitError> {
        Ok(err)
    }
}

impl HostStore for KeyValueHost {
    async fn drop(&mut self, store: Resource<bindings::Store>) -> wasmtime::Result<()> {
        self.close(store.rep());
        Ok(())
    }
}

impl<T> HostStoreWithStore<T> for KeyValue {
    async fn open(
        accessor: &Accessor<T, Self>,
        label: String,
    ) -> Result<Resource<bindings::Store>, WitError> {
        let (granted, manager, meter) = accessor.with(|mut access| {
            let host = access.get();
            (
                host.granted.contains(&label),
                host.manager.clone(),
                host.meter.clone(),
            )
        });
        if !granted {
            return Err(WitError::AccessDenied);
        }
        let store = manager.get(&label).ok_or(WitError::NoSuchStore)?;
        let backend = manager.backend(&label).unwrap_or("unknown");
        let store = meter.wrap(&label, backend, store);
        let rep = accessor.with(|mut access| access.get().push(store))?;
        Ok(Resource::new_own(rep))
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        store: Resource<bindings::Store>,
        key: String,
    ) -> Result<Option<Vec<u8>>, WitError> {
        let store = store_of(accessor, &store)?;
        check_key(&key).map_err(to_wit)?;
        store.get(&key).await.map_err(to_wit)
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        store: Resource<bindings::Store>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), WitError> {
        let store = store_of(accessor, &store)?;
        check_key(&key).map_err(to_wit)?;
        check_value(&value).map_err(to_wit)?;
        store.set(&key, &value).await.map_err(to_wit)
    }

    async fn delete(
        accessor: &Accessor<T, Self>,
        store: Resource<bindings::Store>,
        key: String,
    ) -> Result<(), WitError> {
        let store = store_of(accessor, &store)?;
        check_key(&key).map_err(to_wit)?;
        store.delete(&key).await.map_err(to_wit)
    }

    async fn exists(
        accessor: &Accessor<T, Self>,
        store: Resource<bindings::Store>,
        key: String,
    ) -> Result<bool, WitError> {
        let store = store_of(accessor, &store)?;
        check_key(&key).map_err(to_wit)?;
        store.exists(&key).await.map_err(to_wit)
    }

    async fn get_keys(
        accessor: &Accessor<T, Self>,
        store: Resource<bindings::Store>,
    ) -> wasmtime::Result<(StreamReader<String>, FutureReader<Result<(), WitError>>)> {
        let (keys, outcome) = match store_of(accessor, &store) {
            Ok(store) => match store.get_keys().await {
                Ok(keys) => (keys, Ok(())),
                Err(err) => (Vec::new(), Err(to_wit(err))),
            },
            Err(err) => (Vec::new(), Err(err)),
        };
        accessor.with(|mut access| {
            let keys = StreamReader::new(&mut access, keys)?;
            let outcome =
                FutureReader::new(
                    &mut access,
                    async move { wasmtime::Result::<_>::Ok(outcome) },
                )?;
            Ok((keys, outcome))
        })
    }
}
