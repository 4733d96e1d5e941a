//! Key-value metrics: operations (by outcome) and their latency, per label,
//! backend and operation. `spin:key-value`'s `open` wraps every store it
//! hands a guest in a [`MeteredStore`], so every operation a guest makes is
//! counted in one place, and an operation added to the [`Store`] trait must
//! be added here too (the compiler says so) rather than go unmeasured.

use crate::key_value::{Store, StoreError};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    label: String,
    backend: &'static str,
    /// The operation as the guest called it: `get`, `set`, `delete`, `exists`, `get_keys`.
    op: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    label: String,
    backend: &'static str,
    op: &'static str,
    /// `ok` or `error`.
    outcome: &'static str,
}

/// The key-value families.
#[derive(Clone)]
pub(super) struct KvFamilies {
    operations: Family<OutcomeLabels, Counter>,
    duration: Family<OpLabels, Histogram, fn() -> Histogram>,
}

fn latency_histogram() -> Histogram {
    // 5 µs … ~2.6 s
    Histogram::new(exponential_buckets(5e-6, 2.0, 20))
}

impl KvFamilies {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let families = Self {
            operations: Family::default(),
            duration: Family::new_with_constructor(latency_histogram),
        };
        registry.register(
            "kv_operations",
            "Key-value operations made by guests, by store label, backend (sqlite, redis), operation and outcome",
            families.operations.clone(),
        );
        registry.register_with_unit(
            "kv_operation_duration",
            "Latency of key-value operations made by guests, by store label, backend and operation",
            Unit::Seconds,
            families.duration.clone(),
        );
        families
    }
}

/// What `spin:key-value` wraps opened stores with; a no-op when metrics are off.
#[derive(Clone)]
pub struct KvMeter {
    families: Option<KvFamilies>,
}

impl std::fmt::Debug for KvMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvMeter")
            .field("on", &self.families.is_some())
            .finish()
    }
}

impl KvMeter {
    pub(super) fn new(families: Option<KvFamilies>) -> Self {
        Self { families }
    }

    /// `store` (opened under `label`, on `backend`) measured, or as it is
    /// when metrics are off.
    pub fn wrap(
        &self,
        label: &str,
        backend: &'static str,
        store: Arc<dyn Store>,
    ) -> Arc<dyn Store> {
        match &self.families {
            Some(families) => Arc::new(MeteredStore {
                inner: store,
                families: families.clone(),
                label: label.to_string(),
                backend,
            }),
            None => store,
        }
    }
}

/// A store that counts and times every operation.
pub struct MeteredStore {
    inner: Arc<dyn Store>,
    families: KvFamilies,
    label: String,
    backend: &'static str,
}

impl std::fmt::Debug for MeteredStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredStore")
            .field("label", &self.label)
            .field("backend", &self.backend)
            .field("inner", &self.inner)
            .finish()
    }
}

impl MeteredStore {
    async fn measure<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let result = call.await;
        let elapsed = started.elapsed().as_secs_f64();
        let outcome = if result.is_ok() { "ok" } else { "error" };
        self.families
            .operations
            .get_or_create(&OutcomeLabels {
                label: self.label.clone(),
                backend: self.backend,
                op,
                outcome,
            })
            .inc();
        self.families
            .duration
            .get_or_create(&OpLabels {
                label: self.label.clone(),
                backend: self.backend,
                op,
            })
            .observe(elapsed);
        result
    }
}

#[async_trait::async_trait]
impl Store for MeteredStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.measure("get", self.inner.get(key)).await
    }
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.measure("set", self.inner.set(key, value)).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.measure("delete", self.inner.delete(key)).await
    }
    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.measure("exists", self.inner.exists(key)).await
    }
    async fn get_keys(&self) -> Result<Vec<String>, StoreError> {
        self.measure("get_keys", self.inner.get_keys()).await
    }
    async fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.measure("increment", self.inner.increment(key, delta))
            .await
    }
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        self.measure(
            "compare_and_swap",
            self.inner.compare_and_swap(key, expected, new),
        )
        .await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.measure("get_many", self.inner.get_many(keys)).await
    }
    async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        self.measure("set_many", self.inner.set_many(entries)).await
    }
    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        self.measure("delete_many", self.inner.delete_many(keys))
            .await
    }
}
