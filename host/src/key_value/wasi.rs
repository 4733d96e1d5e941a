//! `wasi:keyvalue@0.2.0-draft2` — `store`, `atomics` and `batch` — for
//! components, over the same stores, grants and limits as
//! `spin:key-value` ([`super::host`]). Stock Spin links these interfaces
//! beside `spin:key-value`; the app needs them for what `spin:key-value`
//! cannot do: atomic counters, compare-and-swap and batches.
//!
//! A `bucket` is an open store: it lives in the same per-request table as
//! `spin:key-value` stores, so `open` checks the component's
//! `key_value_stores` grants the same way. A `cas` handle remembers the key
//! and the value it saw when it was created ([`CasHandle`]); `swap` writes
//! only if the key still holds that value (absent included) — one atomic
//! [`Store::compare_and_swap`] — and otherwise returns `cas-failed` with a
//! fresh handle holding the newer value, ready for the caller's retry.

use super::host::{KeyValue, KeyValueHost, to_wit_message};
use super::{Store, StoreError};
use std::sync::Arc;
use wasmtime::component::{Linker, Resource};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/keyvalue",
        world: "fbposts:keyvalue/state-user",
        imports: { default: async | trappable },
        with: {
            "wasi:keyvalue/store.bucket": super::Bucket,
            "wasi:keyvalue/atomics.cas": super::CasHandle,
        },
    });
    pub use wasi::keyvalue::{atomics, batch, store};
}

use bindings::atomics::CasError;
use bindings::store::{Error as WitError, KeyResponse};

/// A `bucket` resource: its rep is the slot of the open store.
pub struct Bucket;

/// A `cas` resource: its rep is the slot in [`KeyValueHost`]'s CAS table.
pub struct CasHandle;

/// What one compare-and-swap handle holds.
#[derive(Debug, Clone)]
pub struct CasState {
    store: Arc<dyn Store>,
    bucket: u32,
    key: String,
    /// The value when the handle was made; `swap` expects it still.
    seen: Option<Vec<u8>>,
}

/// The most CAS handles one request may hold at once.
const MAX_OPEN_CAS: usize = 256;

/// Adds the three interfaces to the linker.
pub fn link(
    linker: &mut Linker<crate::host_state::HostState>,
    state: fn(&mut crate::host_state::HostState) -> &mut KeyValueHost,
) -> wasmtime::Result<()> {
    bindings::store::add_to_linker::<_, KeyValue>(linker, state)?;
    bindings::atomics::add_to_linker::<_, KeyValue>(linker, state)?;
    bindings::batch::add_to_linker::<_, KeyValue>(linker, state)
}

fn wit_error(err: StoreError) -> WitError {
    WitError::Other(to_wit_message(err))
}

type WitResult<T> = wasmtime::Result<Result<T, WitError>>;

impl KeyValueHost {
    fn bucket(&self, bucket: &Resource<Bucket>) -> Result<Arc<dyn Store>, WitError> {
        self.store_at(bucket.rep())
            .ok_or_else(|| WitError::Other("no such bucket".into()))
    }

    /// A new CAS handle on `key`, holding its current value.
    async fn open_cas(&mut self, bucket: u32, key: String) -> Result<u32, WitError> {
        let store = self
            .store_at(bucket)
            .ok_or_else(|| WitError::Other("no such bucket".into()))?;
        let seen = store.get(&key).await.map_err(wit_error)?;
        let state = CasState {
            store,
            bucket,
            key,
            seen,
        };
        if let Some(slot) = self.cas.iter().position(Option::is_none) {
            self.cas[slot] = Some(state);
            return Ok(slot as u32);
        }
        if self.cas.len() >= MAX_OPEN_CAS {
            return Err(WitError::Other("too many compare-and-swap handles".into()));
        }
        self.cas.push(Some(state));
        Ok((self.cas.len() - 1) as u32)
    }

    fn cas_at(&self, rep: u32) -> Result<CasState, WitError> {
        self.cas
            .get(rep as usize)
            .and_then(Option::clone)
            .ok_or_else(|| WitError::Other("no such compare-and-swap handle".into()))
    }

    fn close_cas(&mut self, rep: u32) {
        if let Some(slot) = self.cas.get_mut(rep as usize) {
            *slot = None;
        }
    }
}

impl bindings::store::Host for KeyValueHost {
    async fn open(&mut self, identifier: String) -> WitResult<Resource<Bucket>> {
        Ok(match self.open_label(&identifier) {
            Ok(rep) => Ok(Resource::new_own(rep)),
            Err(super::host::OpenError::AccessDenied) => Err(WitError::AccessDenied),
            Err(super::host::OpenError::NoSuchStore) => Err(WitError::NoSuchStore),
            Err(super::host::OpenError::TableFull) => {
                Err(WitError::Other("too many open stores".into()))
            }
        })
    }
}

impl bindings::store::HostBucket for KeyValueHost {
    async fn get(&mut self, bucket: Resource<Bucket>, key: String) -> WitResult<Option<Vec<u8>>> {
        Ok(match self.bucket(&bucket) {
            Ok(store) => store.get(&key).await.map_err(wit_error),
            Err(e) => Err(e),
        })
    }

    async fn set(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
        value: Vec<u8>,
    ) -> WitResult<()> {
        Ok(match self.bucket(&bucket) {
            Ok(store) => store.set(&key, &value).await.map_err(wit_error),
            Err(e) => Err(e),
        })
    }

    async fn delete(&mut self, bucket: Resource<Bucket>, key: String) -> WitResult<()> {
        Ok(match self.bucket(&bucket) {
            Ok(store) => store.delete(&key).await.map_err(wit_error),
            Err(e) => Err(e),
        })
    }

    async fn exists(&mut self, bucket: Resource<Bucket>, key: String) -> WitResult<bool> {
        Ok(match self.bucket(&bucket) {
            Ok(store) => store.exists(&key).await.map_err(wit_error),
            Err(e) => Err(e),
        })
    }

    /// Every key in one response (no paging, as in Spin).
    async fn list_keys(
        &mut self,
        bucket: Resource<Bucket>,
        cursor: Option<String>,
    ) -> WitResult<KeyResponse> {
        if cursor.is_some() {
            return Ok(Err(WitError::Other(
                "list-keys: cursors are not supported; every key comes in the first response"
                    .into(),
            )));
        }
        Ok(match self.bucket(&bucket) {
            Ok(store) => store
                .get_keys()
                .await
                .map(|keys| KeyResponse { keys, cursor: None })
                .map_err(wit_error),
            Err(e) => Err(e),
        })
    }

    async fn drop(&mut self, bucket: Resource<Bucket>) -> wasmtime::Result<()> {
        self.close(bucket.rep());
        Ok(())
    }
}

impl bindings::atomics::Host for KeyValueHost {
    async fn increment(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
        delta: i64,
    ) -> WitResult<i64> {
        Ok(match self.bucket(&bucket) {
            Ok(store) => store.increment(&key, delta).await.map_err(wit_error),
            Err(e) => Err(e),
        })
    }

    async fn swap(
        &mut self,
        cas: Resource<CasHandle>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), CasError>> {
        let rep = cas.rep();
        let state = match self.cas_at(rep) {
            Ok(state) => state,
            Err(e) => return Ok(Err(CasError::StoreError(e))),
        };
        // `swap` consumes the handle.
        self.close_cas(rep);
        let swapped = state
            .store
            .compare_and_swap(&state.key, state.seen.as_deref(), &value)
            .await;
        Ok(match swapped {
            Ok(true) => Ok(()),
            Ok(false) => match self.open_cas(state.bucket, state.key).await {
                Ok(fresh) => Err(CasError::CasFailed(Resource::new_own(fresh))),
                Err(e) => Err(CasError::StoreError(e)),
            },
            Err(e) => Err(CasError::StoreError(wit_error(e))),
        })
    }
}

impl bindings::atomics::HostCas for KeyValueHost {
    async fn new(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> WitResult<Resource<CasHandle>> {
        Ok(self
            .open_cas(bucket.rep(), key)
            .await
            .map(Resource::new_own))
    }

    async fn current(&mut self, cas: Resource<CasHandle>) -> WitResult<Option<Vec<u8>>> {
        Ok(self.cas_at(cas.rep()).map(|state| state.seen))
    }

    async fn drop(&mut self, cas: Resource<CasHandle>) -> wasmtime::Result<()> {
        self.close_cas(cas.rep());
        Ok(())
    }
}

impl bindings::batch::Host for KeyValueHost {
    async fn get_many(
        &mut self,
        bucket: Resource<Bucket>,
        keys: Vec<String>,
    ) -> WitResult<Vec<(String, Option<Vec<u8>>)>> {
        Ok(match self.bucket(&bucket) {
            Ok(store) => store
                .get_many(&keys)
                .await
                .map(|values| keys.into_iter().zip(values).collect())
                .map_err(wit_error),
            Err(e) => Err(e),
        })
    }

    async fn set_many(
        &mut self,
        bucket: Resource<Bucket>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> WitResult<()> {
        Ok(match self.bucket(&bucket) {
            Ok(store) => store.set_many(&key_values).await.map_err(wit_error),
            Err(e) => Err(e),
        })
    }

    async fn delete_many(&mut self, bucket: Resource<Bucket>, keys: Vec<String>) -> WitResult<()> {
        Ok(match self.bucket(&bucket) {
            Ok(store) => store.delete_many(&keys).await.map_err(wit_error),
            Err(e) => Err(e),
        })
    }
}
