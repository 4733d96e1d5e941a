//! Write-behind: a label's `set`s are buffered in memory and written to its
//! backend in batches, one transaction (SQLite) or one `MSET` (Redis) per
//! batch, off the request path. A label gets it when its
//! `[key_value_store.<label>]` table has an `fbposts_write_behind` table (a
//! key stock Spin ignores), see `crate::runtime_config`; the durable
//! `default` label cannot have it.
//!
//! Why: a response-cache miss of `/api/analyze` writes the response and its
//! expiry-index slot. Each was its own SQLite commit, which rewrites the
//! touched B-tree pages into the WAL; that was about a sixth of a miss's
//! CPU. Batched, the pages are written once per batch.
//!
//! Rules:
//! - `set` puts the value in the buffer and returns. A buffered value is
//!   what `get`, `exists` and `get_many` answer for its key.
//! - The buffer is written when [`WriteBehindConfig::max_delay`] has passed
//!   since its first entry, or at once when it holds
//!   [`WriteBehindConfig::max_entries`] entries or [`MAX_BUFFERED_BYTES`]
//!   bytes, by a background task; a `set` that finds twice that many
//!   buffered writes the buffer itself before it returns. So a crash loses at
//!   most `2 × max_entries` writes made within the last `max_delay` (plus
//!   the write in progress): acceptable for a cache whose entries are
//!   recomputed on the next miss, which is why it is opt-in per label.
//! - Every other write (`delete`, `increment`, compare-and-swap, the batch
//!   calls) and `get_keys` first writes the buffer when it holds a key they
//!   touch, so the backend applies writes to one key in the order they were
//!   made. Writes of the buffer are serialized; an entry leaves the buffer
//!   only once the backend has committed it (and only if it was not set
//!   again meanwhile), so a read never falls between the two.
//! - A failed write keeps the entries buffered and is retried; a `set` that
//!   has to write a full buffer and fails returns the error and is undone
//!   (the value it replaced is buffered again), so memory stays bounded
//!   while the backend is down.
//! - [`WriteBehind::close`] writes everything now and turns later `set`s
//!   into write-through: `fbposts up` calls it at shutdown
//!   (`StoreManager::flush_buffered`), so a request still running then
//!   loses nothing.

use super::{MAX_BATCH_KEYS, Store, StoreError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::sync::Notify;

/// Bytes of buffered keys and values at which the buffer is written at once
/// (twice this: by the `set` that finds it so).
pub const MAX_BUFFERED_BYTES: usize = 16 << 20;

/// How long the background writer waits after a failed write before it
/// tries again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// `fbposts_write_behind`: how long and how much a label may buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteBehindConfig {
    /// Longest a `set` waits in the buffer before its batch is written.
    pub max_delay: Duration,
    /// Entries at which the buffer is written without waiting.
    pub max_entries: usize,
}

/// What the background writer has done (the metrics read them).
#[derive(Debug, Default)]
pub struct WriteBehindCounts {
    /// Batches committed.
    pub batches: AtomicU64,
    /// Entries those batches wrote.
    pub entries: AtomicU64,
    /// Batches the backend refused (their entries stayed buffered).
    pub failures: AtomicU64,
}

#[derive(Debug, Default)]
struct Buffer {
    entries: HashMap<String, Buffered>,
    bytes: usize,
    next_seq: u64,
    /// Set by [`WriteBehind::close`]: `set`s write through from then on.
    closed: bool,
}

#[derive(Debug)]
struct Buffered {
    value: Arc<[u8]>,
    /// Which `set` this is: a committed entry leaves the buffer only if no
    /// later `set` of its key replaced it.
    seq: u64,
}

/// A buffered entry on its way to the backend.
#[derive(Debug, Clone)]
struct Pending {
    key: String,
    value: Arc<[u8]>,
    seq: u64,
}

impl Buffer {
    /// Buffers `value` for `key`: the `set`'s number and the entry it replaced.
    fn insert(&mut self, key: &str, value: &[u8]) -> (u64, Option<Buffered>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let entry = Buffered {
            value: Arc::from(value),
            seq,
        };
        self.bytes += key.len() + value.len();
        let replaced = self.entries.insert(key.to_string(), entry);
        if let Some(old) = &replaced {
            self.bytes -= key.len() + old.value.len();
        }
        (seq, replaced)
    }

    /// Takes back the failed `set` `seq` of `key`: the entry it replaced is
    /// buffered again (unless a later `set` replaced it in turn).
    fn undo(&mut self, key: &str, seq: u64, replaced: Option<Buffered>) {
        if self.entries.get(key).is_none_or(|entry| entry.seq != seq) {
            return;
        }
        self.remove_if(key, seq);
        if let Some(old) = replaced {
            self.bytes += key.len() + old.value.len();
            self.entries.insert(key.to_string(), old);
        }
    }

    /// Removes `key` if its entry is still the one of `seq`.
    fn remove_if(&mut self, key: &str, seq: u64) {
        if self.entries.get(key).is_some_and(|entry| entry.seq == seq)
            && let Some(old) = self.entries.remove(key)
        {
            self.bytes -= key.len() + old.value.len();
        }
    }

    fn value(&self, key: &str) -> Option<Vec<u8>> {
        self.entries.get(key).map(|entry| entry.value.to_vec())
    }

    /// Everything buffered now, in batches the backend accepts.
    fn snapshot(&self) -> Vec<Vec<Pending>> {
        let all: Vec<Pending> = self
            .entries
            .iter()
            .map(|(key, entry)| Pending {
                key: key.clone(),
                value: entry.value.clone(),
                seq: entry.seq,
            })
            .collect();
        all.chunks(MAX_BATCH_KEYS).map(<[_]>::to_vec).collect()
    }
}

/// A backend behind a write-behind buffer.
#[derive(Debug)]
pub struct WriteBehind {
    backend: Arc<dyn Store>,
    config: WriteBehindConfig,
    buffer: Mutex<Buffer>,
    /// Held while the buffer is written (and by writes that must follow it).
    writing: tokio::sync::Mutex<()>,
    /// Wakes the background writer: the buffer opened or filled up.
    wake: Arc<Notify>,
    counts: Arc<WriteBehindCounts>,
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        // Lets the background writer see it is gone and end.
        self.wake.notify_one();
    }
}

impl WriteBehind {
    /// Buffers `backend`'s writes and starts the background writer (on the
    /// current tokio runtime; it ends when the returned store is dropped).
    pub fn start(backend: Arc<dyn Store>, config: WriteBehindConfig) -> Arc<Self> {
        let store = Arc::new(Self {
            backend,
            config,
            buffer: Mutex::default(),
            writing: tokio::sync::Mutex::new(()),
            wake: Arc::new(Notify::new()),
            counts: Arc::default(),
        });
        tokio::spawn(write_in_background(
            Arc::downgrade(&store),
            store.wake.clone(),
            config.max_delay,
        ));
        store
    }

    /// What the background writer has done.
    pub fn counts(&self) -> Arc<WriteBehindCounts> {
        self.counts.clone()
    }

    /// Entries buffered now.
    pub fn buffered(&self) -> usize {
        self.buffer().entries.len()
    }

    fn buffer(&self) -> MutexGuard<'_, Buffer> {
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_full(&self, buffer: &Buffer, factor: usize) -> bool {
        buffer.entries.len() >= self.config.max_entries * factor
            || buffer.bytes >= MAX_BUFFERED_BYTES * factor
    }

    /// Writes everything buffered now to the backend.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let _writing = self.writing.lock().await;
        self.write_buffer().await
    }

    /// Writes the buffer, and buffers no more: later `set`s write through
    /// (`fbposts up` closes every buffer at shutdown, so a request still
    /// running then loses nothing).
    pub async fn close(&self) -> Result<(), StoreError> {
        self.buffer().closed = true;
        self.flush().await
    }

    /// Writes the buffer; the caller holds `writing`. Entries `set` while
    /// it wrote are left for the background writer, which it wakes.
    async fn write_buffer(&self) -> Result<(), StoreError> {
        let written = self.write_batches().await;
        if !self.buffer().entries.is_empty() {
            self.wake.notify_one();
        }
        written
    }

    async fn write_batches(&self) -> Result<(), StoreError> {
        let batches = self.buffer().snapshot();
        for batch in batches {
            let entries: Vec<(String, Vec<u8>)> = batch
                .iter()
                .map(|pending| (pending.key.clone(), pending.value.to_vec()))
                .collect();
            if let Err(err) = self.backend.set_many(&entries).await {
                self.counts.failures.fetch_add(1, Ordering::Relaxed);
                return Err(err);
            }
            self.counts.batches.fetch_add(1, Ordering::Relaxed);
            self.counts
                .entries
                .fetch_add(entries.len() as u64, Ordering::Relaxed);
            let mut buffer = self.buffer();
            for pending in &batch {
                buffer.remove_if(&pending.key, pending.seq);
            }
        }
        Ok(())
    }

    /// When the buffer holds a key `touches` names, writes it and returns
    /// the guard that keeps the background writer out until the caller's
    /// own backend write is done.
    async fn settle(
        &self,
        touches: impl Fn(&Buffer) -> bool,
    ) -> Result<Option<tokio::sync::MutexGuard<'_, ()>>, StoreError> {
        if !touches(&self.buffer()) {
            return Ok(None);
        }
        let writing = self.writing.lock().await;
        self.write_buffer().await?;
        Ok(Some(writing))
    }

    async fn settle_key(
        &self,
        key: &str,
    ) -> Result<Option<tokio::sync::MutexGuard<'_, ()>>, StoreError> {
        self.settle(|buffer| buffer.entries.contains_key(key)).await
    }

    async fn settle_all(&self) -> Result<Option<tokio::sync::MutexGuard<'_, ()>>, StoreError> {
        self.settle(|buffer| !buffer.entries.is_empty()).await
    }
}

/// The background writer: after the buffer opens, waits `max_delay` (or
/// until it fills), then writes it; after a failure, tries again later.
async fn write_in_background(store: Weak<WriteBehind>, wake: Arc<Notify>, max_delay: Duration) {
    loop {
        wake.notified().await;
        let deadline = tokio::time::Instant::now() + max_delay;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => break,
                () = wake.notified() => {
                    let Some(store) = store.upgrade() else { return };
                    if store.is_full(&store.buffer(), 1) {
                        break;
                    }
                }
            }
        }
        let Some(store) = store.upgrade() else { return };
        match store.flush().await {
            Ok(()) => {}
            Err(err) => {
                tracing::warn!(error = %err, buffered = store.buffered(), "key-value write-behind: the backend refused a batch; retrying");
                drop(store);
                tokio::time::sleep(RETRY_AFTER).await;
                wake.notify_one();
            }
        }
    }
}

#[async_trait::async_trait]
impl Store for WriteBehind {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(value) = self.buffer().value(key) {
            return Ok(Some(value));
        }
        self.backend.get(key).await
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let buffered = {
            let mut buffer = self.buffer();
            (!buffer.closed).then(|| {
                let (seq, replaced) = buffer.insert(key, value);
                let opened = buffer.entries.len() == 1;
                let wake = opened || self.is_full(&buffer, 1);
                (seq, replaced, wake, self.is_full(&buffer, 2))
            })
        };
        let Some((seq, replaced, wake, overflowing)) = buffered else {
            let _order = self.settle_key(key).await?;
            return self.backend.set(key, value).await;
        };
        if wake {
            self.wake.notify_one();
        }
        if overflowing {
            // The background writer is behind (or the backend is down):
            // this request writes, so the buffer stays bounded.
            if let Err(err) = self.flush().await {
                self.buffer().undo(key, seq, replaced);
                return Err(err);
            }
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let _order = self.settle_key(key).await?;
        self.backend.delete(key).await
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        if self.buffer().entries.contains_key(key) {
            return Ok(true);
        }
        self.backend.exists(key).await
    }

    async fn get_keys(&self) -> Result<Vec<String>, StoreError> {
        let _order = self.settle_all().await?;
        self.backend.get_keys().await
    }

    async fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        let _order = self.settle_key(key).await?;
        self.backend.increment(key, delta).await
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        let _order = self.settle_key(key).await?;
        self.backend.compare_and_swap(key, expected, new).await
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        // The buffer first: an entry leaves it only once the backend has it.
        let buffered: Vec<Option<Vec<u8>>> = {
            let buffer = self.buffer();
            keys.iter().map(|key| buffer.value(key)).collect()
        };
        let unbuffered: Vec<String> = keys
            .iter()
            .zip(&buffered)
            .filter(|(_, value)| value.is_none())
            .map(|(key, _)| key.clone())
            .collect();
        let mut from_backend = self.backend.get_many(&unbuffered).await?.into_iter();
        Ok(buffered
            .into_iter()
            .map(|value| value.or_else(|| from_backend.next().flatten()))
            .collect())
    }

    async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let _order = self
            .settle(|buffer| {
                entries
                    .iter()
                    .any(|(key, _)| buffer.entries.contains_key(key))
            })
            .await?;
        self.backend.set_many(entries).await
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        let _order = self
            .settle(|buffer| keys.iter().any(|key| buffer.entries.contains_key(key)))
            .await?;
        self.backend.delete_many(keys).await
    }
}

#[cfg(test)]
#[path = "write_behind_tests.rs"]
mod tests;
