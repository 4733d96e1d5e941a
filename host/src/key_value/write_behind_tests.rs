//! Tests of the write-behind buffer: the conformance suite, plus when
//! writes reach the backend and in what order.

use super::super::conformance::full_suite;
use super::super::sqlite::Database;
use super::*;
use std::sync::atomic::AtomicBool;

/// A backend that counts its batch writes and refuses them while `down`.
#[derive(Debug)]
struct Recording {
    inner: Arc<dyn Store>,
    batches: AtomicU64,
    down: AtomicBool,
}

impl Recording {
    async fn new() -> Arc<Self> {
        let db = Database::open_in_memory().await.unwrap();
        Arc::new(Self {
            inner: Arc::new(db.store("cache")),
            batches: AtomicU64::new(0),
            down: AtomicBool::new(false),
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
    let written = tokio::time::timeout(Duration::from_secs(10), async {
        while backend.get("k").await.unwrap().is_none() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(written.is_ok(), "never written");
    assert_eq!(store.buffered(), 0);
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
async fn a_set_during_a_write_of_its_key_is_not_dropped() {
    let backend = Recording::new().await;
    let store = WriteBehind::start(backend.clone(), HOLD);
    let writers: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..200 {
                    store
                        .set("hot", format!("{t}:{i}").as_bytes())
                        .await
                        .unwrap();
                    if i % 20 == 0 {
                        store.flush().await.unwrap();
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let last = store.get("hot").await.unwrap();
    store.flush().await.unwrap();
    assert_eq!(backend.get("hot").await.unwrap(), last);
    assert_eq!(store.buffered(), 0);
}
