//! Key-value storage behind Spin's `spin:key-value/key-value@3.0.0` and
//! `wasi:keyvalue@0.2.0-draft2` (store, atomics, batch) interfaces,
//! independent of wasmtime (the bindings are [`host`] and [`wasi`]).
//!
//! Besides get/set/delete/exists/list, every backend implements atomic
//! counters ([`Store::increment`]), compare-and-swap
//! ([`Store::compare_and_swap`]) and batches, and passes one conformance
//! suite (`conformance.rs`), including concurrent increments and claims
//! that must lose nothing. A remote backend that stops answering fails fast
//! ([`stall`]).
//!
//! This module owns the backend-neutral [`Store`] trait, the size limits every
//! backend enforces ([`check_key`], [`check_value`]), the [`StoreError`] type,
//! and the [`StoreManager`] that opens every configured store once at start-up
//! and hands out shared handles by label. The backends live in [`sqlite`]
//! (`type = "spin"`, file-compatible with stock Spin) and [`redis`]
//! (`type = "redis"`). How labels map to backends and paths is described in
//! `crate::runtime_config`.
//!
//! # Limits
//!
//! Spin's key-value SIP (`docs/content/sips/010-key-value.md`, "Implementation
//! requirements") and its API guide promise keys "as large as 256 bytes (UTF-8
//! encoded)" and values "as large as 1 megabyte". Spin's own host does not cap
//! either (it only bounds what it buffers, `spin_world::MAX_HOST_BUFFERED_BYTES`
//! = 128 MiB); we enforce exactly the promised sizes so that an app that works
//! here works on every conforming Spin host: [`MAX_KEY_BYTES`] = 256 and
//! [`MAX_VALUE_BYTES`] = 1 MiB (1,048,576, which covers either reading of
//! "1 megabyte"). Keys are checked on every keyed operation, values on `set`.
//! Every store returned by [`StoreManager::get`] already enforces them, so
//! callers need not call the check functions themselves (calling them earlier
//! is harmless).

pub mod host;
mod layers;
pub mod redis;
pub mod shared_tier;
pub mod sqlite;
pub mod stall;
pub mod tiered;
pub mod wasi;
pub mod write_behind;

use crate::runtime_config::{ConfigError, KeyValueConfig, StatePaths, StoreConfig};
use layers::{Layers, connect_redis, describe_tiers};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

/// Largest key accepted, in UTF-8 bytes (Spin guarantees keys up to 256 bytes).
pub const MAX_KEY_BYTES: usize = 256;
/// Largest value accepted, in bytes (Spin guarantees values up to 1 megabyte).
pub const MAX_VALUE_BYTES: usize = 1 << 20;
/// The label that exists without configuration (SQLite in the state dir).
pub const DEFAULT_LABEL: &str = "default";

/// A failed key-value operation. The binding maps every variant to the WIT
/// `error::other(string)` using the `Display` text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("key is {len} bytes, more than the maximum of {max} bytes")]
    KeyTooLarge { len: usize, max: usize },
    #[error("value is {len} bytes, more than the maximum of {max} bytes")]
    ValueTooLarge { len: usize, max: usize },
    #[error("a batch of {len} keys is more than the maximum of {max}")]
    BatchTooLarge { len: usize, max: usize },
    /// `increment` on a value that is not a counter (see [`Store::increment`]).
    #[error("the value of `{key}` is not a 64-bit integer counter")]
    NotACounter { key: String },
    /// `increment` would leave the signed 64-bit range.
    #[error("incrementing `{key}` would overflow a 64-bit integer")]
    CounterOverflow { key: String },
    /// The backend did not answer in time (a stalled Redis): the operation
    /// may or may not have happened.
    #[error("{0}")]
    Timeout(String),
    /// I/O, database or network failure in the backend.
    #[error("{0}")]
    Backend(String),
}

/// One opened store (a label bound to a backend).
#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The value for `key`, or `None` if there is none.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Inserts or overwrites.
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Removes `key`; not an error if it is absent.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    async fn exists(&self, key: &str) -> Result<bool, StoreError>;
    /// Every key of this store (SQLite: sorted; Redis: sorted, deduplicated).
    async fn get_keys(&self) -> Result<Vec<String>, StoreError>;

    /// Atomically adds `delta` to the counter under `key` (absent: 0) and
    /// returns the new value. Counters are stored as ASCII decimal text (what
    /// Redis' `INCRBY` keeps), so `get` reads them the same on every backend;
    /// SQLite also reads the 8-byte little-endian form stock Spin's SQLite
    /// store writes. Anything else is [`StoreError::NotACounter`].
    async fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError>;
    /// Atomically sets `key` to `new` if its current value is `expected`
    /// (`None`: the key is absent); `Ok(false)` and no change otherwise.
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError>;
    /// The values of `keys`, in order (`None` where absent).
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError>;
    /// Sets every pair (SQLite: in one transaction; Redis: one `MSET`).
    async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError>;
    /// Removes every key (absent keys are skipped).
    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError>;
}

/// Most keys one batch call may name: bounds what the host buffers for one
/// call (with values up to [`MAX_VALUE_BYTES`]) and how long one SQLite
/// transaction holds the writer.
pub const MAX_BATCH_KEYS: usize = 1000;

/// Rejects batches of more than [`MAX_BATCH_KEYS`] keys and checks each key.
pub fn check_batch<'a>(keys: impl ExactSizeIterator<Item = &'a str>) -> Result<(), StoreError> {
    if keys.len() > MAX_BATCH_KEYS {
        return Err(StoreError::BatchTooLarge {
            len: keys.len(),
            max: MAX_BATCH_KEYS,
        });
    }
    keys.into_iter().try_for_each(check_key)
}

/// A counter's stored bytes as a number (ASCII decimal, see
/// [`Store::increment`]); `None` when they are not one.
pub fn parse_counter(bytes: &[u8]) -> Option<i64> {
    std::str::from_utf8(bytes).ok()?.trim().parse().ok()
}

/// Rejects keys longer than [`MAX_KEY_BYTES`] bytes.
pub fn check_key(key: &str) -> Result<(), StoreError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(StoreError::KeyTooLarge {
            len: key.len(),
            max: MAX_KEY_BYTES,
        });
    }
    Ok(())
}

/// Rejects values longer than [`MAX_VALUE_BYTES`] bytes.
pub fn check_value(value: &[u8]) -> Result<(), StoreError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(StoreError::ValueTooLarge {
            len: value.len(),
            max: MAX_VALUE_BYTES,
        });
    }
    Ok(())
}

/// Wraps a backend so that all backends apply the limits identically.
/// (Backend errors are logged by the caller, `host.rs`; their text starts
/// with "SQLite:" or "Redis:".)
#[derive(Debug)]
struct Checked<S>(S);

#[async_trait::async_trait]
impl<S: Store> Store for Checked<S> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        check_key(key)?;
        self.0.get(key).await
    }
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        check_key(key)?;
        check_value(value)?;
        self.0.set(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        self.0.delete(key).await
    }
    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        check_key(key)?;
        self.0.exists(key).await
    }
    async fn get_keys(&self) -> Result<Vec<String>, StoreError> {
        self.0.get_keys().await
    }
    async fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        check_key(key)?;
        self.0.increment(key, delta).await
    }
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        check_key(key)?;
        check_value(new)?;
        self.0.compare_and_swap(key, expected, new).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        check_batch(keys.iter().map(String::as_str))?;
        self.0.get_many(keys).await
    }
    async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        check_batch(entries.iter().map(|(key, _)| key.as_str()))?;
        entries
            .iter()
            .try_for_each(|(_, value)| check_value(value))?;
        self.0.set_many(entries).await
    }
    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        check_batch(keys.iter().map(String::as_str))?;
        self.0.delete_many(keys).await
    }
}

/// A shared store is a store (what lets `Checked` wrap a composed one).
#[async_trait::async_trait]
impl Store for Arc<dyn Store> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(key).await
    }
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        (**self).set(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        (**self).delete(key).await
    }
    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        (**self).exists(key).await
    }
    async fn get_keys(&self) -> Result<Vec<String>, StoreError> {
        (**self).get_keys().await
    }
    async fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        (**self).increment(key, delta).await
    }
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        (**self).compare_and_swap(key, expected, new).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        (**self).get_many(keys).await
    }
    async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        (**self).set_many(entries).await
    }
    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        (**self).delete_many(keys).await
    }
}

#[derive(Debug)]
struct Entry {
    store: Arc<dyn Store>,
    summary: String,
    /// `sqlite` or `redis` (the metrics' `backend` label).
    backend: &'static str,
    /// The in-process first tier in front of `store`, when configured.
    tier: Option<Arc<tiered::Tiered>>,
    /// The write-behind buffer in front of the label's own backend, when configured.
    write_behind: Option<Arc<write_behind::WriteBehind>>,
    /// The shared Redis tier in front of that, when configured.
    shared: Option<Arc<shared_tier::SharedTier>>,
}

/// All configured stores by label; built once at start-up, shared (it is a
/// cheap `Arc` clone) by every request.
#[derive(Debug, Clone)]
pub struct StoreManager {
    stores: Arc<BTreeMap<String, Entry>>,
}

/// What a label resolves to after applying Spin's rules.
enum Location {
    SqliteFile(PathBuf),
    SqliteMemory,
    Redis(String),
}

impl StoreManager {
    /// Builds every store.
    ///
    /// `labels_in_use` holds every label any component lists in
    /// `key_value_stores`. A used label that is neither configured nor the
    /// implicit `default` is an error naming it and showing the
    /// runtime-config.toml table to add.
    ///
    /// Opened here, so bad configuration fails at start-up: every configured
    /// store (used or not: SQLite files and their parent directories are
    /// created, Redis is connected), plus the implicit `default` store
    /// (`<state_dir>/sqlite_key_value.db`) if some component uses it. An
    /// unused implicit `default` is not opened (no `.spin` directory is
    /// created) and [`StoreManager::get`] returns `None` for it. Labels that
    /// name the same SQLite file share one connection pool (each label keeps
    /// its own key space in it); labels with the same Redis URL share one
    /// connection (and, as in Spin, one key space).
    pub async fn build(
        config: &KeyValueConfig,
        labels_in_use: &BTreeSet<String>,
        paths: &StatePaths,
    ) -> Result<Self, ConfigError> {
        let missing: Vec<String> = labels_in_use
            .iter()
            .filter(|label| label.as_str() != DEFAULT_LABEL && !config.stores.contains_key(*label))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(ConfigError::UndefinedStores { labels: missing });
        }

        let mut plan: BTreeMap<String, Location> = config
            .stores
            .iter()
            .map(|(label, store)| {
                let location = match store {
                    StoreConfig::Spin { path: Some(path) } => {
                        Location::SqliteFile(paths.resolve_config_relative(path))
                    }
                    StoreConfig::Spin { path: None } => Location::SqliteMemory,
                    StoreConfig::Redis { url } => Location::Redis(url.clone()),
                };
                (label.clone(), location)
            })
            .collect();
        if labels_in_use.contains(DEFAULT_LABEL) && !plan.contains_key(DEFAULT_LABEL) {
            plan.insert(
                DEFAULT_LABEL.to_string(),
                Location::SqliteFile(paths.default_store_path()),
            );
        }

        // A file holding the durable `default` label syncs every commit.
        let durable_file = match plan.get(DEFAULT_LABEL) {
            Some(Location::SqliteFile(path)) => Some(path.clone()),
            _ => None,
        };
        let mut files: HashMap<PathBuf, Arc<sqlite::Database>> = HashMap::new();
        let mut redis_servers: HashMap<String, redis::RedisStore> = HashMap::new();
        let mut stores = BTreeMap::new();
        for (label, location) in plan {
            let backend = match location {
                Location::SqliteFile(_) | Location::SqliteMemory => "sqlite",
                Location::Redis(_) => "redis",
            };
            let (store, summary): (Arc<dyn Store>, String) = match location {
                Location::SqliteFile(path) => {
                    let summary = format!("SQLite at {}", path.display());
                    let db = match files.get(&path) {
                        Some(db) => db.clone(),
                        None => {
                            let durability = if durable_file.as_ref() == Some(&path) {
                                sqlite::Durability::Full
                            } else {
                                sqlite::Durability::Normal
                            };
                            let db = sqlite::Database::open_file(
                                &path,
                                sqlite::default_readers(),
                                durability,
                            )
                            .await
                            .map_err(|e| open_error(&label, &summary, e))?;
                            files.insert(path, db.clone());
                            db
                        }
                    };
                    (Arc::new(db.store(&label)), summary)
                }
                Location::SqliteMemory => {
                    let summary = "SQLite in memory (not persisted)".to_string();
                    let db = sqlite::Database::open_in_memory()
                        .await
                        .map_err(|e| open_error(&label, &summary, e))?;
                    (Arc::new(db.store(&label)), summary)
                }
                Location::Redis(url) => {
                    let summary = redis::describe_url(&url);
                    let backend = connect_redis(&mut redis_servers, &url)
                        .await
                        .map_err(|e| open_error(&label, &summary, e))?;
                    (Arc::new(backend), summary)
                }
            };
            let layers = Layers::build(&label, store, config, &mut redis_servers).await?;
            let summary = describe_tiers(summary, config, &label);
            stores.insert(
                label,
                Entry {
                    store: layers.store,
                    summary,
                    backend,
                    tier: layers.tier,
                    write_behind: layers.write_behind,
                    shared: layers.shared,
                },
            );
        }
        Ok(Self {
            stores: Arc::new(stores),
        })
    }

    /// The store for `label`, if it was opened by [`StoreManager::build`]
    /// (for a tiered label, a handle of its own: see [`tiered`]).
    pub fn get(&self, label: &str) -> Option<Arc<dyn Store>> {
        self.stores.get(label).map(|entry| match &entry.tier {
            Some(tier) => tier.handle(),
            None => entry.store.clone(),
        })
    }

    /// The lookup counters of every tiered label.
    pub fn tier_counts(&self) -> Vec<(String, Arc<tiered::TierCounts>)> {
        self.stores
            .iter()
            .filter_map(|(label, entry)| Some((label.clone(), entry.tier.as_ref()?.counts())))
            .collect()
    }

    /// The write-behind counters of every label that buffers its writes.
    pub fn write_behind_counts(&self) -> Vec<(String, Arc<write_behind::WriteBehindCounts>)> {
        self.stores
            .iter()
            .filter_map(|(label, entry)| {
                Some((label.clone(), entry.write_behind.as_ref()?.counts()))
            })
            .collect()
    }

    /// The shared-tier counters of every label behind one.
    pub fn l2_counts(&self) -> Vec<(String, Arc<shared_tier::L2Counts>)> {
        self.stores
            .iter()
            .filter_map(|(label, entry)| Some((label.clone(), entry.shared.as_ref()?.counts())))
            .collect()
    }

    /// Writes every write-behind buffer to its backend and has later writes
    /// go through (at shutdown); a backend that refuses is logged with the
    /// number of writes lost.
    pub async fn flush_buffered(&self) {
        for (label, entry) in self.stores.iter() {
            let Some(buffer) = &entry.write_behind else {
                continue;
            };
            match buffer.close().await {
                Ok(()) => tracing::debug!(label, "key-value write-behind buffer written"),
                Err(err) => tracing::error!(
                    label,
                    error = %err,
                    lost = buffer.buffered(),
                    "key-value write-behind: could not write the buffer at shutdown"
                ),
            }
        }
    }

    /// The backend of `label`'s store: `sqlite` or `redis`.
    pub fn backend(&self, label: &str) -> Option<&'static str> {
        self.stores.get(label).map(|entry| entry.backend)
    }

    /// A password-free description, e.g. "SQLite at /app/.spin/sqlite_key_value.db"
    /// or "Redis at redis://localhost:6379".
    pub fn summary(&self, label: &str) -> Option<String> {
        self.stores.get(label).map(|entry| entry.summary.clone())
    }
}

fn open_error(label: &str, summary: &str, error: impl std::fmt::Display) -> ConfigError {
    ConfigError::OpenStore {
        label: label.to_string(),
        store: summary.to_string(),
        message: error.to_string(),
    }
}

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod tests;
