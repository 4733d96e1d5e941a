//! A two-tier store: an in-process first tier (L1, `moka`: W-TinyLFU,
//! bounded by bytes, entries expire after a TTL) in front of a configured
//! backend (SQLite or Redis), with single-flight on misses. A label gets it
//! when its `[key_value_store.<label>]` table has an `fbposts_l1` table (a
//! key stock Spin ignores), see `crate::runtime_config`.
//!
//! - `get`: L1, else the backend (a hit there is promoted into L1), else a
//!   miss. On a miss the caller leads the key if nobody does: it holds a
//!   lease until it `set`s the key or closes the store it missed through
//!   (the end of its request). A `get` of a key someone leads waits for that
//!   `set` (at most [`MAX_FLIGHT_WAIT`]) and reads again, so N identical
//!   concurrent misses compute once. A lease older than [`MAX_FLIGHT_WAIT`]
//!   is taken over by the next miss: a store a reused instance keeps open
//!   across requests is closed only with the instance, so a request that
//!   missed through it and failed would otherwise hold its key until then.
//! - `set`: write-through (backend first, then L1), then wakes the waiters.
//! - `delete`, `increment`, compare-and-swap and batch writes go to the
//!   backend and invalidate the keys in L1; batch reads bypass L1.
//!
//! Another process writing the same backend (a shared Redis) is seen once
//! the L1 entry expires: the TTL bounds how stale L1 can be.
//!
//! Every lookup is counted per tier ([`TierCounts`]), exported by the
//! metrics capability.

use super::{Store, StoreError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::time::Instant;
use tokio::sync::watch;

/// Longest a `get` waits for another request to compute and set the key it
/// missed; then it reads again and, if still absent, reports a miss.
pub const MAX_FLIGHT_WAIT: Duration = Duration::from_secs(5);

/// `fbposts_l1`: the L1's size and freshness bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L1Config {
    /// Sum of key and value bytes kept.
    pub max_bytes: u64,
    /// How long an entry may be served from L1 after it was written or promoted.
    pub ttl: Duration,
}

/// How many lookups each tier answered (and how many waited for a flight).
#[derive(Debug, Default)]
pub struct TierCounts {
    pub l1_hits: AtomicU64,
    pub backend_hits: AtomicU64,
    pub misses: AtomicU64,
    pub flight_waits: AtomicU64,
}

/// The keys being computed right now: each one's flight, which ends (and
/// wakes its waiters) when its sender is dropped.
#[derive(Debug)]
struct Flights {
    by_key: Mutex<HashMap<String, Flight>>,
    next_id: AtomicU64,
    /// Age past which a flight's lease is taken over ([`MAX_FLIGHT_WAIT`]).
    stale_after: Duration,
}

#[derive(Debug)]
struct Flight {
    id: u64,
    landed: watch::Sender<()>,
    /// When its leader missed; past `stale_after` the next miss leads.
    started: Instant,
}

/// What a missing `get` became.
enum MissRole {
    /// This caller computes; everyone else waits for its `set`.
    Lead(u64),
    /// Someone else computes: wait for this.
    Wait(watch::Receiver<()>),
}

impl Flights {
    fn new(stale_after: Duration) -> Self {
        Self {
            by_key: Mutex::default(),
            next_id: AtomicU64::new(0),
            stale_after,
        }
    }

    fn lead_or_follow(&self, key: &str) -> MissRole {
        let mut by_key = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(flight) = by_key.get(key)
            && flight.started.elapsed() < self.stale_after
        {
            return MissRole::Wait(flight.landed.subscribe());
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (landed, _) = watch::channel(());
        let started = Instant::now();
        // A stale flight replaced here wakes its waiters (its sender drops).
        by_key.insert(
            key.to_string(),
            Flight {
                id,
                landed,
                started,
            },
        );
        MissRole::Lead(id)
    }

    /// Ends the flight of `key` (whoever leads it): its value is in.
    fn land(&self, key: &str) {
        let mut by_key = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        by_key.remove(key);
    }

    /// Ends flight `id` of `key` if it is still that one (a lease given up).
    fn abandon(&self, key: &str, id: u64) {
        let mut by_key = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        if by_key.get(key).is_some_and(|flight| flight.id == id) {
            by_key.remove(key);
        }
    }
}

/// One label's tiers, shared by every request; [`Tiered::handle`] is what a
/// request opens.
#[derive(Debug)]
pub struct Tiered {
    backend: Arc<dyn Store>,
    l1: moka::sync::Cache<String, Arc<[u8]>>,
    flights: Flights,
    counts: Arc<TierCounts>,
    /// Bumped before every backend write, so a read that raced a write does
    /// not promote the value it read before it ([`Tiered::promote`]).
    write_epoch: AtomicU64,
    /// Orders promotions against writers' L1 updates.
    l1_writes: Mutex<()>,
}

impl Tiered {
    pub fn new(backend: Arc<dyn Store>, config: L1Config) -> Arc<Self> {
        // Sized up front for the entries the byte bound holds at about
        // 2 KiB each (a cached answer and its index slot), so the table is
        // not rehashed again and again while it fills (1–1.5 % of a core
        // during a run of misses, measured).
        let expected_entries = usize::try_from(config.max_bytes / 2048)
            .unwrap_or(usize::MAX)
            .min(1 << 20);
        let l1 = moka::sync::Cache::builder()
            .initial_capacity(expected_entries)
            .max_capacity(config.max_bytes)
            .weigher(|key: &String, value: &Arc<[u8]>| {
                u32::try_from(key.len() + value.len()).unwrap_or(u32::MAX)
            })
            .time_to_live(config.ttl)
            .build();
        Arc::new(Self {
            backend,
            l1,
            flights: Flights::new(MAX_FLIGHT_WAIT),
            counts: Arc::default(),
            write_epoch: AtomicU64::new(0),
            l1_writes: Mutex::new(()),
        })
    }

    /// The lookup counters (the metrics read them).
    pub fn counts(&self) -> Arc<TierCounts> {
        self.counts.clone()
    }

    /// A store for one opener: the leases it takes end when it is dropped.
    pub fn handle(self: &Arc<Self>) -> Arc<dyn Store> {
        Arc::new(TierHandle {
            tiers: self.clone(),
            leases: Mutex::default(),
        })
    }

    /// The value from L1 or the backend (promoted), counted; `None` if neither has it.
    async fn read_through(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(value) = self.l1.get(key) {
            self.counts.l1_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(value.to_vec()));
        }
        let epoch = self.write_epoch.load(Ordering::SeqCst);
        let value = self.backend.get(key).await?;
        if let Some(value) = &value {
            self.counts.backend_hits.fetch_add(1, Ordering::Relaxed);
            self.promote(key, value, epoch);
        }
        Ok(value)
    }

    /// Puts what the backend answered into L1 unless a write started since
    /// the read did (it may have changed the key; the next read promotes).
    /// A writer bumps the epoch before its backend write and updates L1
    /// under the same lock after it, so either this sees the bump or the
    /// writer's L1 update comes after this insert.
    fn promote(&self, key: &str, value: &[u8], read_epoch: u64) {
        let _order = self.l1_writes.lock().unwrap_or_else(|e| e.into_inner());
        if self.write_epoch.load(Ordering::SeqCst) == read_epoch {
            self.l1.insert(key.to_string(), Arc::from(value));
        }
    }

    /// Call before a backend write.
    fn begin_write(&self) {
        self.write_epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// After a backend write of `key` to `value`.
    fn store_l1(&self, key: &str, value: &[u8]) {
        let _order = self.l1_writes.lock().unwrap_or_else(|e| e.into_inner());
        self.l1.insert(key.to_string(), Arc::from(value));
    }

    /// After a backend write that changed `keys` in ways L1 cannot follow.
    fn invalidate<'a>(&self, keys: impl IntoIterator<Item = &'a str>) {
        let _order = self.l1_writes.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys {
            self.l1.invalidate(key);
        }
    }
}

/// What one opener of a tiered label uses: the tiers plus the leases it holds.
#[derive(Debug)]
struct TierHandle {
    tiers: Arc<Tiered>,
    /// Keys this handle missed and leads: (key, flight id).
    leases: Mutex<Vec<(String, u64)>>,
}

impl TierHandle {
    fn leads(&self, key: &str) -> bool {
        let leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        leases.iter().any(|(k, _)| k == key)
    }

    fn release(&self, key: &str) {
        let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        leases.retain(|(k, _)| k != key);
    }

    fn miss(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.tiers.counts.misses.fetch_add(1, Ordering::Relaxed);
        Ok(None)
    }
}

impl Drop for TierHandle {
    fn drop(&mut self) {
        let leases = std::mem::take(self.leases.get_mut().unwrap_or_else(|e| e.into_inner()));
        for (key, id) in leases {
            self.tiers.flights.abandon(&key, id);
        }
    }
}

#[async_trait::async_trait]
impl Store for TierHandle {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(value) = self.tiers.read_through(key).await? {
            return Ok(Some(value));
        }
        if self.leads(key) {
            return self.miss();
        }
        match self.tiers.flights.lead_or_follow(key) {
            MissRole::Lead(id) => {
                let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
                leases.push((key.to_string(), id));
                drop(leases);
                self.miss()
            }
            MissRole::Wait(mut landed) => {
                self.tiers
                    .counts
                    .flight_waits
                    .fetch_add(1, Ordering::Relaxed);
                // Ends when the flight's sender is dropped (set or abandoned).
                let _ = tokio::time::timeout(MAX_FLIGHT_WAIT, landed.changed()).await;
                match self.tiers.read_through(key).await? {
                    Some(value) => Ok(Some(value)),
                    None => self.miss(),
                }
            }
        }
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.tiers.begin_write();
        let written = self.tiers.backend.set(key, value).await;
        match &written {
            Ok(()) => self.tiers.store_l1(key, value),
            Err(_) => self.tiers.invalidate([key]),
        }
        written?;
        self.release(key);
        self.tiers.flights.land(key);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.tiers.begin_write();
        let result = self.tiers.backend.delete(key).await;
        self.tiers.invalidate([key]);
        result
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        if self.tiers.l1.contains_key(key) {
            return Ok(true);
        }
        self.tiers.backend.exists(key).await
    }

    async fn get_keys(&self) -> Result<Vec<String>, StoreError> {
        self.tiers.backend.get_keys().await
    }

    async fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.tiers.begin_write();
        let result = self.tiers.backend.increment(key, delta).await;
        self.tiers.invalidate([key]);
        result
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        self.tiers.begin_write();
        let result = self
            .tiers
            .backend
            .compare_and_swap(key, expected, new)
            .await;
        self.tiers.invalidate([key]);
        result
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.tiers.backend.get_many(keys).await
    }

    async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        self.tiers.begin_write();
        let result = self.tiers.backend.set_many(entries).await;
        self.tiers
            .invalidate(entries.iter().map(|(key, _)| key.as_str()));
        for (key, _) in entries {
            self.tiers.flights.land(key);
        }
        result
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        self.tiers.begin_write();
        let result = self.tiers.backend.delete_many(keys).await;
        self.tiers.invalidate(keys.iter().map(String::as_str));
        result
    }
}

#[cfg(test)]
mod tests {
    use super::super::conformance::full_suite;
    use super::super::sqlite::Database;
    use super::*;

    async fn tiers() -> Arc<Tiered> {
        let db = Database::open_in_memory().await.unwrap();
        let config = L1Config {
            max_bytes: 1 << 20,
            ttl: Duration::from_secs(60),
        };
        Tiered::new(Arc::new(db.store("cache")), config)
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_tiered_store_passes_the_conformance_suite() {
        full_suite(tiers().await.handle()).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn reads_are_promoted_and_writes_go_through() {
        let tiers = tiers().await;
        let store = tiers.handle();
        tiers.backend.set("k", b"from backend").await.unwrap();
        assert_eq!(store.get("k").await.unwrap().unwrap(), b"from backend");
        assert_eq!(store.get("k").await.unwrap().unwrap(), b"from backend");
        store.set("k", b"new").await.unwrap();
        assert_eq!(tiers.backend.get("k").await.unwrap().unwrap(), b"new");
        assert_eq!(store.get("k").await.unwrap().unwrap(), b"new");
        store.delete("k").await.unwrap();
        assert_eq!(store.get("k").await.unwrap(), None);
        let counts = tiers.counts();
        assert_eq!(counts.backend_hits.load(Ordering::Relaxed), 1);
        assert_eq!(counts.l1_hits.load(Ordering::Relaxed), 2);
        assert_eq!(counts.misses.load(Ordering::Relaxed), 1);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sixty_four_identical_concurrent_misses_compute_once() {
        let tiers = tiers().await;
        let computed = Arc::new(AtomicU64::new(0));
        let requests = (0..64).map(|_| {
            let (store, computed) = (tiers.handle(), computed.clone());
            tokio::spawn(async move {
                if let Some(value) = store.get("answer").await.unwrap() {
                    return value;
                }
                computed.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                store.set("answer", b"42").await.unwrap();
                b"42".to_vec()
            })
        });
        for answer in futures::future::join_all(requests).await {
            assert_eq!(answer.unwrap(), b"42");
        }
        assert_eq!(computed.load(Ordering::SeqCst), 1);
        assert_eq!(tiers.counts().misses.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_lease_older_than_the_longest_wait_is_taken_over_by_the_next_miss() {
        let mut tiers = tiers().await;
        let stale_after = Duration::from_millis(1);
        Arc::get_mut(&mut tiers).unwrap().flights = Flights::new(stale_after);
        // Missed through a store that stays open (a reused instance's) by a
        // request that then failed: nobody sets the key.
        let stale = tiers.handle();
        assert_eq!(stale.get("k").await.unwrap(), None);
        tokio::time::sleep(stale_after * 5).await;

        let next = tiers.handle();
        assert_eq!(next.get("k").await.unwrap(), None, "a miss, at once");
        assert_eq!(tiers.counts().flight_waits.load(Ordering::Relaxed), 0);
        let leader = |tiers: &Tiered| {
            let by_key = tiers.flights.by_key.lock().unwrap();
            by_key.get("k").map(|flight| flight.id)
        };
        let taken = leader(&tiers);
        // The stale store's end does not end the flight it lost.
        drop(stale);
        assert_eq!(leader(&tiers), taken);
        next.set("k", b"v").await.unwrap();
        assert_eq!(leader(&tiers), None, "landed");
        assert_eq!(tiers.handle().get("k").await.unwrap().unwrap(), b"v");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_leader_that_closes_its_store_without_setting_frees_its_waiters() {
        let tiers = tiers().await;
        let leader = tiers.handle();
        assert_eq!(leader.get("k").await.unwrap(), None);
        let follower = tokio::spawn({
            let store = tiers.handle();
            async move { store.get("k").await.unwrap() }
        });
        while tiers.counts().flight_waits.load(Ordering::Relaxed) == 0 {
            tokio::task::yield_now().await;
        }
        drop(leader);
        // Woken by the lease's end, long before MAX_FLIGHT_WAIT.
        let woken = tokio::time::timeout(MAX_FLIGHT_WAIT / 2, follower).await;
        assert_eq!(woken.expect("woken").unwrap(), None);
    }
}
