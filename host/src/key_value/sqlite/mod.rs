//! SQLite key-value backend (`type = "spin"` and the implicit `default` store).
//!
//! This module owns the database file format, the connection pool and the
//! per-label [`SqliteStore`].
//!
//! # File format (compatible with stock Spin)
//!
//! Same single table as Spin's `crates/key-value-spin/src/store.rs`:
//! `spin_key_value(store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
//! PRIMARY KEY (store, key))`, where `store` is the label. Several labels can
//! therefore share one file, each with its own key space, and a
//! `.spin/sqlite_key_value.db` written by `spin up` is readable here and vice
//! versa. Unlike Spin (default rollback journal, one connection behind a
//! mutex) we switch the file to WAL journal mode, which is persistent and
//! transparently honoured by any SQLite reader, including Spin's.
//!
//! # Concurrency
//!
//! A file database has one writer connection and a pool of read-only
//! connections (WAL lets readers run concurrently with each other and with
//! the writer), one per core by default ([`default_readers`]); each sits
//! behind a `std::sync::Mutex` that is held only for one SQLite call. Point
//! reads, microseconds in WAL, run inline on the calling worker. Writes to a
//! file that syncs every commit never stall the async runtime: on a
//! multi-thread runtime they run via `tokio::task::block_in_place` (as Spin's
//! SQLite store does: the worker hands its queued tasks to another thread and
//! runs the query itself, no cross-thread hop), on a current-thread runtime
//! via `spawn_blocking`; writes to a file that does not sync them run inline
//! when nothing makes them wait, and this module then runs the checkpoints
//! ([`writes`] states the rules).
//! (Caveat: tokio's `block_in_place` panics inside a `LocalSet` driven on a
//! multi-thread runtime; don't drive these stores from one.)
//! Writes are individual autocommit transactions. A file that holds the
//! durable `default` label runs with `synchronous = FULL` ([`Durability::Full`]:
//! every commit is on disk before it returns, so an acknowledged feedback
//! survives power loss); other files (response caches) keep `NORMAL`, which
//! survives a process crash but may lose the last commits on power loss
//! (SQLite's documented WAL trade-off).
//!
//! # Atomics and batches
//!
//! `increment` is a read and an upsert inside one `BEGIN IMMEDIATE`
//! transaction (the write lock is taken before the read, so no other
//! connection or process can interleave); `compare_and_swap` is a single
//! conditional statement (`UPDATE … WHERE value = ?` or `INSERT … ON CONFLICT
//! DO NOTHING`) whose changed-row count says whether it swapped. Batches and
//! key listings, whose cost grows with their size, run on tokio's blocking
//! pool (`spawn_blocking`), never on an async worker; batch writes are one
//! transaction each.
//! An in-memory database (`type = "spin"` without `path`) uses one connection
//! for everything.
//!
//! Measured with `fbposts bench-kv` (release, 2 cores,
//! 64 tasks x 2000 ops, 200-byte values, 1000 keys), over a few runs: about
//! 290k-360k `get`/s and 170k-195k `set`/s on a multi-thread runtime;
//! 70k-110k `get`/s and 40k-70k `set`/s on a current-thread runtime. An
//! earlier design (async permit for the pool, then `spawn_blocking` per call)
//! managed only about 48k `get`/s. With `set`s inline (its file is
//! `NORMAL`, see [`writes`]), one run beside a build: 245k `set`/s
//! (multi-thread, 208k before) and 158k (current-thread, 39k before).

mod writes;

use super::{Store, StoreError};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};
use tokio::runtime::{Handle, RuntimeFlavor};
use writes::WritePolicy;

/// How long a connection waits for a lock held by another connection or
/// process (e.g. a `spin up` sharing the file) before failing with "busy".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS spin_key_value (
    store TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (store, key)
)";
const SELECT_VALUE: &str = "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2";
const SELECT_EXISTS: &str = "SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2";
const SELECT_KEYS: &str = "SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key";
const UPSERT: &str = "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
    ON CONFLICT (store, key) DO UPDATE SET value = excluded.value";
const DELETE: &str = "DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2";
const SWAP_IF_EQUAL: &str =
    "UPDATE spin_key_value SET value = ?4 WHERE store = ?1 AND key = ?2 AND value = ?3";
const INSERT_IF_ABSENT: &str = "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
    ON CONFLICT (store, key) DO NOTHING";

/// How hard a file's commits wait for the disk (SQLite's `synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every commit is synced: nothing acknowledged is lost on power loss.
    Full,
    /// WAL's default trade-off: safe against a process crash only.
    Normal,
}

impl Durability {
    fn pragma(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
}

/// Default size of the read pool: one connection per core, at least 2, at most 16.
pub fn default_readers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 16)
}

/// An open SQLite database shared by every label stored in it.
pub struct Database {
    location: Option<PathBuf>,
    writer: Mutex<Connection>,
    /// The connection [`writes`] checkpoints on, beside the writer (a file
    /// whose checkpoints it runs).
    checkpointer: Option<Mutex<Connection>>,
    /// Empty for an in-memory database (reads then use the writer).
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    writes: WritePolicy,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("location", &self.location)
            .field("readers", &self.readers.len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("SQLite: {e}"))
}

/// Sets up the writer connection of a file: WAL, the durability, who
/// checkpoints, Spin's table. Returns how its writes run.
fn prepare_writer(
    writer: &Connection,
    path: &Path,
    sync: Durability,
) -> rusqlite::Result<WritePolicy> {
    writer.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String =
        retry_while_busy(|| writer.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(path = %path.display(), mode, "SQLite did not switch to WAL mode");
    }
    writer.pragma_update(None, "synchronous", sync.pragma())?;
    let writes = WritePolicy::for_file(sync);
    if writes.takes_over_checkpoints() {
        WritePolicy::take_over_checkpoints(writer)?;
    }
    retry_while_busy(|| writer.execute(CREATE_TABLE, []))?;
    Ok(writes)
}

/// Runs `step` again while SQLite answers busy, for at most [`BUSY_TIMEOUT`].
/// SQLite answers busy at once, without calling the busy handler, where
/// waiting could deadlock: two connections switching a new file to WAL, or
/// one upgrading its read of the schema to a write (`CREATE TABLE IF NOT
/// EXISTS`) while another writes. Hosts starting together on one file (two
/// `fbposts up`, or one beside `spin up`) meet exactly that.
fn retry_while_busy<T>(mut step: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match step() {
            Err(rusqlite::Error::SqliteFailure(error, _))
                if matches!(
                    error.code,
                    ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked
                ) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            outcome => return outcome,
        }
    }
}

/// Runs blocking SQLite work (writes, which may wait on the disk or the busy
/// timeout) without stalling the async runtime: on a
/// multi-thread runtime via `block_in_place` (the worker hands its other
/// tasks to another thread, no hop to another thread, as Spin does), else on
/// the blocking pool via `spawn_blocking`.
async fn run_blocking<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            Ok(tokio::task::block_in_place(f))
        }
        Ok(_) => tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| StoreError::Backend(format!("SQLite task failed: {e}"))),
        Err(_) => Ok(f()),
    }
}

/// Errors opening a database (reported by `StoreManager::build`).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create directory {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open SQLite database {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("SQLite open task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl Database {
    /// Opens (creating it and its parent directories if needed) the database
    /// file at `path`, switches it to WAL, creates the table, and opens
    /// `readers` read-only connections (at least 1).
    pub async fn open_file(
        path: &Path,
        readers: usize,
        sync: Durability,
    ) -> Result<Arc<Self>, OpenError> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_file_blocking(path, readers.max(1), sync))
            .await?
    }

    fn open_file_blocking(
        path: PathBuf,
        readers: usize,
        sync: Durability,
    ) -> Result<Arc<Self>, OpenError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| OpenError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let sqlite_err = |source| OpenError::Sqlite {
            path: path.clone(),
            source,
        };
        let writer = Connection::open(&path).map_err(sqlite_err)?;
        let writes = prepare_writer(&writer, &path, sync).map_err(sqlite_err)?;

        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let readers = (0..readers)
            .map(|_| {
                let reader = Connection::open_with_flags(&path, flags)?;
                reader.busy_timeout(BUSY_TIMEOUT)?;
                Ok(Mutex::new(reader))
            })
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sqlite_err)?;
        let checkpointer = if writes.takes_over_checkpoints() {
            let conn = Connection::open(&path).map_err(sqlite_err)?;
            conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite_err)?;
            Some(Mutex::new(conn))
        } else {
            None
        };
        Ok(Arc::new(Self {
            location: Some(path),
            writer: Mutex::new(writer),
            checkpointer,
            readers,
            next_reader: AtomicUsize::new(0),
            writes,
        }))
    }

    /// A private in-memory database (what Spin gives `type = "spin"` without
    /// a `path`); it disappears with the last store using it.
    pub async fn open_in_memory() -> Result<Arc<Self>, OpenError> {
        let sqlite_err = |source| OpenError::Sqlite {
            path: PathBuf::from(":memory:"),
            source,
        };
        let conn = Connection::open_in_memory().map_err(sqlite_err)?;
        conn.execute(CREATE_TABLE, []).map_err(sqlite_err)?;
        Ok(Arc::new(Self {
            location: None,
            writer: Mutex::new(conn),
            checkpointer: None,
            readers: Vec::new(),
            next_reader: AtomicUsize::new(0),
            writes: WritePolicy::in_memory(),
        }))
    }

    /// The store for `label` in this database.
    pub fn store(self: &Arc<Self>, label: &str) -> SqliteStore {
        SqliteStore {
            db: self.clone(),
            label: Arc::from(label),
        }
    }

    /// A read connection: the first idle one, else wait for one picked
    /// round-robin. Falls back to the writer for in-memory databases.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        if self.readers.is_empty() {
            return lock(&self.writer);
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        for i in 0..n {
            match self.readers[(start + i) % n].try_lock() {
                Ok(guard) => return guard,
                Err(TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        lock(&self.readers[start % n])
    }

    /// Runs `f` on a read connection without stalling the runtime.
    async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        // A WAL read of one row takes microseconds: cheaper inline than
        // handing the worker thread off (`block_in_place` costs a thread
        // wake-up per call, which dominated the request path under load).
        f(&self.reader()).map_err(backend)
    }

    /// Runs `f` (one statement, autocommit) on the writer connection.
    async fn write<T, F>(self: &Arc<Self>, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.on_writer(false, move |conn| f(conn).map_err(backend))
            .await
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the writer (the write
    /// lock is held from the first read to the commit). `long`: work whose
    /// cost grows with its input goes to the blocking pool.
    async fn transact<T, F>(self: &Arc<Self>, long: bool, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.on_writer(long, move |conn| {
            let tx = rusqlite::Transaction::new_unchecked(
                conn,
                rusqlite::TransactionBehavior::Immediate,
            )
            .map_err(backend)?;
            let value = f(&tx)?;
            tx.commit().map_err(backend)?;
            Ok(value)
        })
        .await
    }

    /// Runs `work` on the writer without stalling the runtime: inline when
    /// [`writes`] allows it (never for `long` work), else off the worker
    /// (`long`: on the blocking pool).
    async fn on_writer<T, F>(self: &Arc<Self>, long: bool, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        if !long && let Some(result) = self.write_inline(&work) {
            return result;
        }
        let db = self.clone();
        // The WAL hook notes the commit on the thread that ran it.
        let run = move || writes::counting_wal_pages(|| work(&lock(&db.writer)));
        let (result, pages) = if long {
            off_the_workers(run).await?
        } else {
            run_blocking(run).await?
        };
        self.committed(pages);
        result
    }

    /// Runs a read whose cost grows with its input (key listings, batches) on
    /// a read connection in the blocking pool.
    async fn read_long<T, F>(self: &Arc<Self>, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let db = self.clone();
        off_the_workers(move || f(&db.reader()).map_err(backend)).await?
    }
}

/// Runs `f` on tokio's blocking pool (inline when there is no runtime).
async fn off_the_workers<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match Handle::try_current() {
        Ok(_) => tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| StoreError::Backend(format!("SQLite task failed: {e}"))),
        Err(_) => Ok(f()),
    }
}

/// A stored counter: ASCII decimal, or the 8-byte little-endian `i64` stock
/// Spin's SQLite store writes.
fn counter_value(key: &str, bytes: &[u8]) -> Result<i64, StoreError> {
    super::parse_counter(bytes)
        .or_else(|| <[u8; 8]>::try_from(bytes).ok().map(i64::from_le_bytes))
        .ok_or_else(|| StoreError::NotACounter { key: key.into() })
}

/// One label's view of a [`Database`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    db: Arc<Database>,
    label: Arc<str>,
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let (label, key) = (self.label.clone(), key.to_owned());
        self.db
            .read(move |conn| {
                conn.prepare_cached(SELECT_VALUE)?
                    .query_row((&*label, &key), |row| row.get::<_, Vec<u8>>(0))
                    .optional()
            })
            .await
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let (label, key, value) = (self.label.clone(), key.to_owned(), value.to_vec());
        self.db
            .write(move |conn| {
                conn.prepare_cached(UPSERT)?
                    .execute((&*label, &key, &value))
                    .map(drop)
            })
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let (label, key) = (self.label.clone(), key.to_owned());
        self.db
            .write(move |conn| {
                conn.prepare_cached(DELETE)?
                    .execute((&*label, &key))
                    .map(drop)
            })
            .await
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        let (label, key) = (self.label.clone(), key.to_owned());
        self.db
            .read(move |conn| conn.prepare_cached(SELECT_EXISTS)?.exists((&*label, &key)))
            .await
    }

    async fn get_keys(&self) -> Result<Vec<String>, StoreError> {
        let label = self.label.clone();
        self.db
            .read_long(move |conn| {
                conn.prepare_cached(SELECT_KEYS)?
                    .query_map([&*label], |row| row.get::<_, String>(0))?
                    .collect()
            })
            .await
    }

    async fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        let (label, key) = (self.label.clone(), key.to_owned());
        self.db
            .transact(false, move |conn| {
                let current = conn
                    .prepare_cached(SELECT_VALUE)
                    .and_then(|mut q| {
                        q.query_row((&*label, &key), |row| row.get::<_, Vec<u8>>(0))
                            .optional()
                    })
                    .map_err(backend)?;
                let value = match current {
                    Some(bytes) => counter_value(&key, &bytes)?,
                    None => 0,
                };
                let value = value
                    .checked_add(delta)
                    .ok_or_else(|| StoreError::CounterOverflow { key: key.clone() })?;
                conn.prepare_cached(UPSERT)
                    .and_then(|mut q| q.execute((&*label, &key, value.to_string().as_bytes())))
                    .map_err(backend)?;
                Ok(value)
            })
            .await
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        let (label, key, new) = (self.label.clone(), key.to_owned(), new.to_vec());
        let expected = expected.map(<[u8]>::to_vec);
        self.db
            .write(move |conn| {
                let changed = match &expected {
                    Some(old) => conn
                        .prepare_cached(SWAP_IF_EQUAL)?
                        .execute((&*label, &key, old, &new))?,
                    None => conn
                        .prepare_cached(INSERT_IF_ABSENT)?
                        .execute((&*label, &key, &new))?,
                };
                Ok(changed == 1)
            })
            .await
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let (label, keys) = (self.label.clone(), keys.to_vec());
        self.db
            .read_long(move |conn| {
                // One read transaction: every value from the same snapshot.
                let tx = rusqlite::Transaction::new_unchecked(
                    conn,
                    rusqlite::TransactionBehavior::Deferred,
                )?;
                let mut query = tx.prepare_cached(SELECT_VALUE)?;
                let values = keys
                    .iter()
                    .map(|key| {
                        query
                            .query_row((&*label, key), |row| row.get::<_, Vec<u8>>(0))
                            .optional()
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                drop(query);
                tx.commit()?;
                Ok(values)
            })
            .await
    }

    async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let (label, entries) = (self.label.clone(), entries.to_vec());
        self.db
            .transact(true, move |conn| {
                let mut upsert = conn.prepare_cached(UPSERT).map_err(backend)?;
                for (key, value) in &entries {
                    upsert.execute((&*label, key, value)).map_err(backend)?;
                }
                Ok(())
            })
            .await
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        let (label, keys) = (self.label.clone(), keys.to_vec());
        self.db
            .transact(true, move |conn| {
                let mut delete = conn.prepare_cached(DELETE).map_err(backend)?;
                for key in &keys {
                    delete.execute((&*label, key)).map_err(backend)?;
                }
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests;
