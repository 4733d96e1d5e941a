//! A shared second tier (L2): a Redis that several hosts share, in front of
//! a label's own SQLite store (L3, the authority). A label gets it when its
//! `type = "spin"` table has an `fbposts_l2` table (a key stock Spin
//! ignores), see `crate::runtime_config`; with `fbposts_l1` as well, a read
//! goes L1 → L2 → L3.
//!
//! Why: an answer one host computed is a hit on every host that shares the
//! Redis, while each host keeps its own durable copy and keeps serving from
//! it when Redis is away.
//!
//! Rules:
//! - Keys live in Redis under `fbposts/<label>/<key>` and expire after the
//!   configured TTL, so the tier stays bounded and a value whose
//!   invalidation it missed (Redis failed the `DEL` and the retry, or
//!   another host's read of the old value copied it up just after the
//!   `DEL`) is served for at most that long. That suits a cache whose keys
//!   name their content (this app's: the key holds the SHA-256 of the
//!   request and the versions), which is why the durable `default` label
//!   cannot have this tier. Within one host, a copy-up that a write
//!   overtook is taken back (a write epoch, as in `super::tiered`).
//! - `get`: L2, else L3 (a hit there is copied into L2 unless a writer put
//!   the key there meanwhile: `SET NX`). `exists`: L2, else L3.
//! - `set`: L3 first (the authority), then L2 (if that fails, the key is
//!   deleted from L2). Every other write (`delete`,
//!   `increment`, compare-and-swap, the batch writes) goes to L3 and then
//!   removes the keys from L2, so the next read takes L3's value. `get_keys`
//!   and `get_many` read L3.
//! - Keys under the configured local prefixes (by default `expiry/`, the
//!   expiry index: each host's counters, slots and cursor describe its own
//!   store) never go to Redis.
//! - Redis failing never fails a call: a read falls through to L3, a write
//!   to L2 is dropped (and counted); Redis' stall guard makes a stopped
//!   server cost at most one command deadline before it is skipped. L3's
//!   errors are the call's errors.

use super::redis::RedisStore;
use super::{Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// `fbposts_l2`: where the shared tier is, how long it keeps an entry and
/// which keys stay out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L2Config {
    pub url: String,
    pub ttl: Duration,
    /// Keys starting with one of these are this host's own bookkeeping and
    /// never go to Redis.
    pub local_prefixes: Vec<String>,
}

/// What `local_prefixes` is when the config does not say: the expiry
/// index (`expiry/…`, `fbposts_guest_kit::expiry`), whose counters, slots
/// and cursor describe this host's own store.
pub const DEFAULT_LOCAL_PREFIXES: &[&str] = &["expiry/"];

/// How the shared tier answered (the metrics read them).
#[derive(Debug, Default)]
pub struct L2Counts {
    /// `get`s and `exists` Redis answered.
    pub hits: AtomicU64,
    /// Lookups Redis did not have (then asked of L3).
    pub misses: AtomicU64,
    /// Redis commands that failed (the call went on without Redis).
    pub errors: AtomicU64,
}

/// A label's store behind a shared Redis tier.
#[derive(Debug)]
pub struct SharedTier {
    redis: RedisStore,
    prefix: String,
    ttl: Duration,
    local_prefixes: Vec<String>,
    own: Arc<dyn Store>,
    counts: Arc<L2Counts>,
    /// Bumped before every write to L3: a read of L3 that a write overtook
    /// takes back what it copied up ([`SharedTier::promote`]).
    write_epoch: AtomicU64,
}

impl SharedTier {
    /// `own` (the label's store) behind `redis` as `config` says.
    pub fn new(label: &str, redis: RedisStore, config: &L2Config, own: Arc<dyn Store>) -> Self {
        Self {
            redis,
            prefix: format!("fbposts/{label}/"),
            ttl: config.ttl,
            local_prefixes: config.local_prefixes.clone(),
            own,
            counts: Arc::default(),
            write_epoch: AtomicU64::new(0),
        }
    }

    pub fn counts(&self) -> Arc<L2Counts> {
        self.counts.clone()
    }

    /// Whether `key` goes to Redis at all.
    fn shares(&self, key: &str) -> bool {
        !self
            .local_prefixes
            .iter()
            .any(|prefix| key.starts_with(prefix.as_str()))
    }

    fn shared_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// `result` without Redis' error (counted and logged).
    fn tolerate<T>(&self, result: Result<T, StoreError>, what: &str) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.counts.errors.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %err, what, "key-value L2: Redis skipped");
                None
            }
        }
    }

    /// Writes a value read from L3 into L2, unless a writer put the key
    /// there meanwhile (`SET NX`).
    async fn copy_up(&self, key: &str, value: &[u8]) {
        let copied = self
            .redis
            .set_expiring(&self.shared_key(key), value, self.ttl, true)
            .await;
        self.tolerate(copied, "set");
    }

    /// Copies `value`, read from L3 at `read_epoch`, into L2. If a write of
    /// this host started since, the copy may be older than what that write
    /// put in L3 and its `DEL` may have come before the copy: take it back.
    async fn promote(&self, key: &str, value: &[u8], read_epoch: u64) {
        if self.write_epoch.load(Ordering::SeqCst) != read_epoch {
            return;
        }
        self.copy_up(key, value).await;
        if self.write_epoch.load(Ordering::SeqCst) != read_epoch {
            self.invalidate([key]).await;
        }
    }

    /// Call before a write to L3.
    fn begin_write(&self) {
        self.write_epoch.fetch_add(1, Ordering::SeqCst);
    }

    async fn invalidate<'a>(&self, keys: impl IntoIterator<Item = &'a str>) {
        let keys: Vec<String> = keys
            .into_iter()
            .filter(|key| self.shares(key))
            .map(|key| self.shared_key(key))
            .collect();
        if keys.is_empty() {
            return;
        }
        let removed = self.redis.delete_many(&keys).await;
        self.tolerate(removed, "delete");
    }
}

#[async_trait::async_trait]
impl Store for SharedTier {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if !self.shares(key) {
            return self.own.get(key).await;
        }
        let shared = self.redis.get(&self.shared_key(key)).await;
        if let Some(Some(value)) = self.tolerate(shared, "get") {
            self.counts.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(value));
        }
        self.counts.misses.fetch_add(1, Ordering::Relaxed);
        let epoch = self.write_epoch.load(Ordering::SeqCst);
        let value = self.own.get(key).await?;
        if let Some(value) = &value {
            self.promote(key, value, epoch).await;
        }
        Ok(value)
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        if !self.shares(key) {
            return self.own.set(key, value).await;
        }
        self.begin_write();
        self.own.set(key, value).await?;
        let copied = self
            .redis
            .set_expiring(&self.shared_key(key), value, self.ttl, false)
            .await;
        if self.tolerate(copied, "set").is_none() {
            // L2 may still hold the value this replaced.
            self.invalidate([key]).await;
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.begin_write();
        self.own.delete(key).await?;
        self.invalidate([key]).await;
        Ok(())
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        if !self.shares(key) {
            return self.own.exists(key).await;
        }
        let shared = self.redis.exists(&self.shared_key(key)).await;
        if self.tolerate(shared, "exists") == Some(true) {
            self.counts.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(true);
        }
        self.counts.misses.fetch_add(1, Ordering::Relaxed);
        self.own.exists(key).await
    }

    async fn get_keys(&self) -> Result<Vec<String>, StoreError> {
        self.own.get_keys().await
    }

    async fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.begin_write();
        let value = self.own.increment(key, delta).await;
        self.invalidate([key]).await;
        value
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        self.begin_write();
        let swapped = self.own.compare_and_swap(key, expected, new).await;
        self.invalidate([key]).await;
        swapped
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.own.get_many(keys).await
    }

    async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        self.begin_write();
        let written = self.own.set_many(entries).await;
        self.invalidate(entries.iter().map(|(key, _)| key.as_str()))
            .await;
        written
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        self.begin_write();
        let removed = self.own.delete_many(keys).await;
        self.invalidate(keys.iter().map(String::as_str)).await;
        removed
    }
}

#[cfg(test)]
#[path = "shared_tier_tests.rs"]
mod tests;
