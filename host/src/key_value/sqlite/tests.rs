//! The SQLite backend's tests: the conformance suite on a file (each
//! durability) and in memory, Spin's file format, pooled readers, inline
//! writes and checkpoints, connections opening one new file at once.

use super::*;
use crate::key_value::Checked;
use crate::key_value::conformance::{atomics, batches, full_suite, hammer, round_trip};

#[tokio::test(flavor = "multi_thread")]
async fn file_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_file(&dir.path().join("kv.db"), 2, Durability::Normal)
        .await
        .unwrap();
    round_trip(&db.store("default")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn file_store_passes_the_conformance_suite() {
    // Full: writes off the worker; Normal: writes inline (see `writes`).
    for durability in [Durability::Full, Durability::Normal] {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open_file(&dir.path().join("kv.db"), 2, durability)
            .await
            .unwrap();
        full_suite(Arc::new(db.store("default"))).await;
        full_suite(Arc::new(Checked(db.store("other label")))).await;
    }
}

/// A `NORMAL` file `cache.db` in a new directory, with one reader: the
/// directory (kept alive by the caller), the file's path and the database.
async fn cache_file() -> (tempfile::TempDir, PathBuf, Arc<Database>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let db = Database::open_file(&path, 1, Durability::Normal)
        .await
        .unwrap();
    (dir, path, db)
}

/// Waits until the file at `path` holds at least `bytes` (checkpoints
/// run on the blocking pool), failing after 10 s.
async fn wait_for_checkpoint(path: &Path, bytes: u64, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(path).unwrap().len() < bytes {
        assert!(
            std::time::Instant::now() < deadline,
            "database file still {} bytes after {what}",
            std::fs::metadata(path).unwrap().len(),
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_written_inline_is_still_checkpointed_into_the_database() {
    let (_dir, path, db) = cache_file().await;
    let store = db.store("cache");
    // SQLite's own auto-checkpoint is off on this file: only the host's
    // checkpoints (on the blocking pool) move pages into it. Each set is a
    // commit of two pages or more: the WAL passes the threshold twice.
    for i in 0..writes::CHECKPOINT_PAGES {
        store.set(&format!("key {i}"), &[7u8; 6_000]).await.unwrap();
    }
    wait_for_checkpoint(&path, 4_000_000, "2,000 pages of single-row commits").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wal_is_checkpointed_every_threshold_of_pages_cycle_after_cycle() {
    let (dir, _path, db) = cache_file().await;
    let store = db.store("cache");
    let wal = dir.path().join("cache.db-wal");
    let mut largest_wal = 0;
    // About 5 thresholds of two-page commits; each checkpoint is let finish
    // before the next write, so the WAL restarts from its start.
    for i in 0..5 * writes::CHECKPOINT_PAGES / 2 {
        store.set(&format!("key {i}"), &[7u8; 5_000]).await.unwrap();
        while db.checkpoint_running() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        largest_wal = largest_wal.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    // A restarted WAL counts from its start: it never holds much more than
    // one threshold of pages (4 KiB each, plus frame headers).
    let bound = (writes::CHECKPOINT_PAGES + 50) * 4_200;
    assert!(largest_wal < bound, "the WAL reached {largest_wal} bytes");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_batch_that_fills_the_wal_is_checkpointed_without_waiting_for_more_commits() {
    let (_dir, path, db) = cache_file().await;
    let store = db.store("cache");
    // One transaction of about 1,200 pages (what a write-behind label
    // commits): checkpoints count pages, not commits.
    let entries: Vec<(String, Vec<u8>)> = (0..300)
        .map(|i| (format!("key {i}"), vec![7u8; 16_000]))
        .collect();
    store.set_many(&entries).await.unwrap();
    wait_for_checkpoint(&path, 4_000_000, "one commit of 300 entries of 16 kB").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inline_write_that_meets_another_connections_lock_waits_for_it_then_lands_once() {
    let (_dir, path, db) = cache_file().await;
    let store = Arc::new(db.store("cache"));
    store.set("n", b"1").await.unwrap();
    // Another connection (as another process would) takes the write lock.
    let other = Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let waiting = {
        let store = store.clone();
        tokio::spawn(async move { (store.set("k", b"v").await, store.increment("n", 1).await) })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "the write did not wait for the lock"
    );
    other.execute_batch("COMMIT").unwrap();
    let (set, incremented) = waiting.await.unwrap();
    set.unwrap();
    assert_eq!(incremented.unwrap(), 2);
    assert_eq!(store.get("k").await.unwrap(), Some(b"v".to_vec()));
    assert_eq!(store.get("n").await.unwrap(), Some(b"2".to_vec()));
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_store_passes_the_conformance_suite() {
    let db = Database::open_in_memory().await.unwrap();
    full_suite(Arc::new(db.store("default"))).await;
    full_suite(Arc::new(Checked(db.store("other label")))).await;
}

#[tokio::test(flavor = "current_thread")]
async fn atomics_work_on_a_current_thread_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_file(&dir.path().join("kv.db"), 1, Durability::Normal)
        .await
        .unwrap();
    let store = db.store("x");
    atomics(&store).await;
    batches(&store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn increment_reads_counters_written_by_stock_spin() {
    // Spin's SQLite store keeps counters as 8-byte little-endian i64.
    let db = Database::open_in_memory().await.unwrap();
    let store = db.store("default");
    store.set("spin", &41i64.to_le_bytes()).await.unwrap();
    assert_eq!(store.increment("spin", 1).await.unwrap(), 42);
    assert_eq!(store.get("spin").await.unwrap(), Some(b"42".to_vec()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_default_store_file_syncs_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.db");
    for (durability, expected) in [(Durability::Full, 2), (Durability::Normal, 1)] {
        let db = Database::open_file(&path, 1, durability).await.unwrap();
        let level: i64 = lock(&db.writer)
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .unwrap();
        assert_eq!(level, expected, "{durability:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_round_trip() {
    let db = Database::open_in_memory().await.unwrap();
    round_trip(&db.store("default")).await;
}

#[tokio::test(flavor = "current_thread")]
async fn works_on_current_thread_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_file(&dir.path().join("kv.db"), 1, Durability::Normal)
        .await
        .unwrap();
    round_trip(&db.store("x")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn labels_are_isolated_in_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_file(&dir.path().join("kv.db"), 2, Durability::Normal)
        .await
        .unwrap();
    let (a, b) = (db.store("a"), db.store("b"));
    a.set("k", b"a").await.unwrap();
    b.set("k", b"b").await.unwrap();
    assert_eq!(a.get("k").await.unwrap(), Some(b"a".to_vec()));
    assert_eq!(b.get("k").await.unwrap(), Some(b"b".to_vec()));
    b.delete("k").await.unwrap();
    assert_eq!(a.get("k").await.unwrap(), Some(b"a".to_vec()));
    assert_eq!(b.get_keys().await.unwrap(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn file_uses_spin_schema_and_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.db");
    let db = Database::open_file(&path, 1, Durability::Normal)
        .await
        .unwrap();
    db.store("mine").set("k", b"v").await.unwrap();
    drop(db);

    // Read it the way Spin does: plain connection, same table and columns.
    let conn = Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let row: (String, String, Vec<u8>) = conn
        .query_row("SELECT store, key, value FROM spin_key_value", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(row, ("mine".into(), "k".into(), b"v".to_vec()));

    // A row written by "Spin" (plain INSERT into the same table) is visible.
    conn.execute(
        "INSERT INTO spin_key_value (store, key, value) VALUES ('default', 'spin-key', x'0102')",
        [],
    )
    .unwrap();
    drop(conn);
    let db = Database::open_file(&path, 1, Durability::Normal)
        .await
        .unwrap();
    assert_eq!(
        db.store("default").get("spin-key").await.unwrap(),
        Some(vec![1, 2])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn opens_a_database_created_by_spin() {
    // A file as stock Spin creates it: rollback journal, Spin's DDL.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sqlite_key_value.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, \
             value BLOB NOT NULL, PRIMARY KEY (store, key));
             INSERT INTO spin_key_value VALUES ('default', 'hello', x'776f726c64');",
        )
        .unwrap();
    }
    let db = Database::open_file(&path, 2, Durability::Normal)
        .await
        .unwrap();
    let store = db.store("default");
    assert_eq!(store.get("hello").await.unwrap(), Some(b"world".to_vec()));
    assert_eq!(store.get_keys().await.unwrap(), vec!["hello"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_are_visible_to_pooled_readers_immediately() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_file(&dir.path().join("kv.db"), 4, Durability::Normal)
        .await
        .unwrap();
    let store = db.store("s");
    for i in 0..200u32 {
        store.set("k", &i.to_le_bytes()).await.unwrap();
        assert_eq!(
            store.get("k").await.unwrap(),
            Some(i.to_le_bytes().to_vec())
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_file_access() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_file(
        &dir.path().join("kv.db"),
        default_readers(),
        Durability::Normal,
    )
    .await
    .unwrap();
    hammer(Arc::new(db.store("default")), 64, 200).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_memory_access() {
    let db = Database::open_in_memory().await.unwrap();
    hammer(Arc::new(db.store("default")), 64, 200).await;
}

/// Hosts that start together on one file (two `fbposts up`, or one beside
/// `spin up`) all open it: SQLite answers "busy" at once, without calling
/// the busy handler, when two connections race to switch a new file to WAL
/// or to create the table, and the open retries those until the busy timeout.
#[test]
fn connections_opening_one_new_file_at_once_all_succeed() {
    for _ in 0..40 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.db");
        let start = Arc::new(std::sync::Barrier::new(4));
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let (path, start) = (path.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    Database::open_file_blocking(path, 1, Durability::Full).map(|_| ())
                })
            })
            .collect();
        for opener in openers {
            opener.join().unwrap().unwrap();
        }
    }
}
