//! Tests of the write-behind buffer: the conformance suite, plus when
//! writes reach the backend and in what order.

use super::super::conformance::full_suite;
use super::super::sqlite::Database;
use super::*;
use std::sync::atomic::AtomicBool;

/// A backend that counts its batch writes, refuses them while `down`, and
/// holds them while a test holds `gate` for writing.
#[derive(Debug)]
struct Recording {
    inner: Arc<dyn Store>,
    batches: AtomicU64,
    down: AtomicBool,
    gate: tokio::sync::RwLock<()>,
}

impl Recording {
    async fn new() -> Arc<Self> {
        let db = Database::open_in_memory().await.unwrap();
        Arc::new(Self {
            inner: Arc::new(db.store("cache")),
            batches: AtomicU64::new(0),
            down: AtomicBool::new(false),
            gate: tokio::sync::RwLock::new(()),
        })
    }
}

#[async_trait::async_trait]
impl Store for Recording {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key).await
    }
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.set(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.inner.exists(key).await
    }
    async fn get_keys(&self) -> Result<Vec<String>, StoreError> {
        self.inner.get_keys().await
    }
    async fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.inner.increment(key, delta).await
    }
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        self.inner.compare_and_swap(key, expected, new).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.inner.get_many(keys).await
    }
    async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let _open = self.gate.read().await;
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Backend("SQLite: disk I/O error".into()));
        }
        self.batches.fetch_add(1, Ordering::SeqCst);
        self.inner.set_many(entries).await
    }
    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        self.inner.delete_many(keys).await
    }
}

/// Buffers that only a full buffer or an explicit flush writes.
const HOLD: WriteBehindConfig = WriteBehindConfig {
    max_delay: Duration::from_secs(3600),
    max_entries: 100,
};

#[tokio::test(flavor = "multi_thread")]
async fn a_write_behind_store_passes_the_conformance_suite() {
    let db = Database::open_in_memory().await.unwrap();
    let config = WriteBehindConfig {
        max_delay: Duration::from_millis(2),
        max_entries: 8,
    };
    full_suite(WriteBehind::start(Arc::new(db.store("cache")), config)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_buffer_passes_the_conformance_suite_too() {
    let db = Database::open_in_memory().await.unwrap();
    full_suite(WriteBehind::start(Arc::new(db.store("cache")), HOLD)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_set_is_read_back_at_once_and_reaches_the_backend_in_one_batch() {
    let backend = Recording::new().await;
    let store = WriteBehind::start(backend.clone(), HOLD);
    for i in 0..50 {
        store.set(&format!("k{i}"), b"v").await.unwrap();
    }
    assert_eq!(store.get("k7").await.unwrap(), Some(b"v".to_vec()));
    assert!(store.exists("k49").await.unwrap());
    assert_eq!(backend.get("k7").await.unwrap(), None, "still buffered");
    assert_eq!(store.buffered(), 50);

    store.flush().await.unwrap();
    assert_eq!(backend.batches.load(Ordering::SeqCst), 1);
    assert_eq!(backend.get_keys().await.unwrap().len(), 50);
    assert_eq!(store.buffered(), 0);
    let counts = store.counts();
    assert_eq!(counts.batches.load(Ordering::SeqCst), 1);
    assert_eq!(counts.entries.load(Ordering::SeqCst), 50);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_background_writer_writes_the_buffer_after_the_delay() {
    let backend = Recording::new().await;
    let config = WriteBehindConfig {
        max_delay: Duration::from_millis(20),
        max_entries: 100,
    };
    let store = WriteBehind::start(backend.clone(), config);
    store.set("k", b"v").await.unwrap();
    assert!(written_soon(&store, &backend, "k").await, "never written");
}

/// Whether `key` reaches the backend and leaves the buffer within 10 s.
async fn written_soon(store: &WriteBehind, backend: &Recording, key: &str) -> bool {
    tokio::time::timeout(Duration::from_secs(10), async {
        while backend.get(key).await.unwrap().is_none() || store.buffered() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_set_made_while_a_batch_is_written_is_written_after_the_delay_too() {
    let backend = Recording::new().await;
    let config = WriteBehindConfig {
        max_delay: Duration::from_millis(20),
        max_entries: 100,
    };
    let store = WriteBehind::start(backend.clone(), config);
    store.set("a", b"1").await.unwrap();
    let held = backend.gate.write().await;
    let flushing = tokio::spawn({
        let store = store.clone();
        async move { store.flush().await }
    });
    // The flush has taken its snapshot ({a}) and waits at the gate.
    while store.writing.try_lock().is_ok() {
        tokio::task::yield_now().await;
    }
    store.set("b", b"2").await.unwrap(); // the buffer was not empty: no wake
    drop(held);
    flushing.await.unwrap().unwrap();
    assert!(written_soon(&store, &backend, "b").await, "b stranded");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_buffer_never_holds_twice_its_size_and_loses_nothing() {
    let backend = Recording::new().await;
    let config = WriteBehindConfig {
        max_delay: Duration::from_secs(3600),
        max_entries: 4,
    };
    let store = WriteBehind::start(backend.clone(), config);
    for i in 0..100 {
        store.set(&format!("k{i}"), b"v").await.unwrap();
        // The set that fills it to eight wrote all eight before returning.
        assert!(store.buffered() < 8, "{} buffered", store.buffered());
    }
    store.flush().await.unwrap();
    assert_eq!(backend.get_keys().await.unwrap().len(), 100);
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_to_a_buffered_key_reach_the_backend_in_order() {
    let backend = Recording::new().await;
    let store = WriteBehind::start(backend.clone(), HOLD);

    store.set("gone", b"old").await.unwrap();
    store.delete("gone").await.unwrap();
    store.flush().await.unwrap();
    assert_eq!(
        backend.get("gone").await.unwrap(),
        None,
        "the delete came last"
    );

    store.set("counter", b"41").await.unwrap();
    assert_eq!(store.increment("counter", 1).await.unwrap(), 42);
    store.flush().await.unwrap();
    assert_eq!(backend.get("counter").await.unwrap(), Some(b"42".to_vec()));

    store.set("claim", b"mine").await.unwrap();
    assert!(
        !store
            .compare_and_swap("claim", None, b"theirs")
            .await
            .unwrap()
    );
    assert!(
        store
            .compare_and_swap("claim", Some(b"mine"), b"next")
            .await
            .unwrap()
    );
    assert_eq!(backend.get("claim").await.unwrap(), Some(b"next".to_vec()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_read_answers_buffered_keys_from_the_buffer() {
    let backend = Recording::new().await;
    backend.set("stored", b"backend").await.unwrap();
    backend.set("both", b"older").await.unwrap();
    let store = WriteBehind::start(backend.clone(), HOLD);
    store.set("both", b"newer").await.unwrap();
    store.set("buffered", b"buffer").await.unwrap();
    let keys = ["stored", "both", "absent", "buffered"].map(String::from);
    assert_eq!(
        store.get_many(&keys).await.unwrap(),
        vec![
            Some(b"backend".to_vec()),
            Some(b"newer".to_vec()),
            None,
            Some(b"buffer".to_vec())
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_batch_stays_buffered_and_is_written_once_the_backend_is_back() {
    let backend = Recording::new().await;
    let store = WriteBehind::start(backend.clone(), HOLD);
    store.set("k", b"v").await.unwrap();
    backend.down.store(true, Ordering::SeqCst);
    assert!(matches!(store.flush().await, Err(StoreError::Backend(_))));
    assert_eq!(store.counts().failures.load(Ordering::SeqCst), 1);
    assert_eq!(
        store.get("k").await.unwrap(),
        Some(b"v".to_vec()),
        "not lost"
    );

    backend.down.store(false, Ordering::SeqCst);
    store.flush().await.unwrap();
    assert_eq!(backend.get("k").await.unwrap(), Some(b"v".to_vec()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_set_that_cannot_make_room_fails_and_is_not_kept() {
    let backend = Recording::new().await;
    let config = WriteBehindConfig {
        max_delay: Duration::from_secs(3600),
        max_entries: 2,
    };
    let store = WriteBehind::start(backend.clone(), config);
    backend.down.store(true, Ordering::SeqCst);
    for i in 0..3 {
        store.set(&format!("k{i}"), b"v").await.unwrap();
    }
    assert!(store.set("k3", b"v").await.is_err());
    assert_eq!(store.get("k3").await.unwrap(), None);
    assert_eq!(store.buffered(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_set_is_read_back_while_batches_are_written_beside_it() {
    let backend = Recording::new().await;
    let store = WriteBehind::start(backend.clone(), HOLD);
    let flusher = tokio::spawn({
        let store = store.clone();
        async move {
            for _ in 0..200 {
                store.flush().await.unwrap();
                tokio::task::yield_now().await;
            }
        }
    });
    for i in 0..2000 {
        let value = format!("v{i}");
        store.set("hot", value.as_bytes()).await.unwrap();
        assert_eq!(store.get("hot").await.unwrap(), Some(value.into_bytes()));
    }
    flusher.await.unwrap();
    store.flush().await.unwrap();
    assert_eq!(backend.get("hot").await.unwrap(), Some(b"v1999".to_vec()));
    assert_eq!(store.buffered(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_set_gives_back_the_value_it_replaced() {
    let backend = Recording::new().await;
    let store = WriteBehind::start(backend.clone(), HOLD);
    backend.down.store(true, Ordering::SeqCst);
    store.set("k", b"v1").await.unwrap();
    // 31 MiB buffered, under twice MAX_BUFFERED_BYTES (32 MiB)...
    let mebibyte = vec![7u8; 1 << 20];
    for i in 0..31 {
        store.set(&format!("big{i}"), &mebibyte).await.unwrap();
    }
    // ...which replacing `k` by another MiB passes: this set must write the
    // buffer, and the backend refuses.
    assert!(store.set("k", &mebibyte).await.is_err());
    assert_eq!(store.get("k").await.unwrap(), Some(b"v1".to_vec()));
    assert_eq!(store.buffered(), 32);
}

#[tokio::test(flavor = "multi_thread")]
async fn after_close_sets_write_through() {
    let backend = Recording::new().await;
    let store = WriteBehind::start(backend.clone(), HOLD);
    store.set("before", b"1").await.unwrap();
    store.close().await.unwrap();
    assert_eq!(backend.get("before").await.unwrap(), Some(b"1".to_vec()));
    store.set("after", b"2").await.unwrap();
    assert_eq!(backend.get("after").await.unwrap(), Some(b"2".to_vec()));
    assert_eq!(store.buffered(), 0);
}
