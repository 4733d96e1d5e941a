//! Key-value storage behind Spin's `spin:key-value/key-value@3.0.0` interface,
//! independent of wasmtime.
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
pub mod redis;
pub mod sqlite;

use crate::runtime_config::{ConfigError, KeyValueConfig, StatePaths, StoreConfig};
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
}

#[derive(Debug)]
struct Entry {
    store: Arc<dyn Store>,
    summary: String,
    /// `sqlite` or `redis` (the metrics' `backend` label).
    backend: &'static str,
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
                            let db = sqlite::Database::open_file(&path, sqlite::default_readers())
                                .await
                                .map_err(|e| open_error(&label, &summary, e))?;
                            files.insert(path, db.clone());
                            db
                        }
                    };
                    (Arc::new(Checked(db.store(&label))), summary)
                }
                Location::SqliteMemory => {
                    let summary = "SQLite in memory (not persisted)".to_string();
                    let db = sqlite::Database::open_in_memory()
                        .await
                        .map_err(|e| open_error(&label, &summary, e))?;
                    (Arc::new(Checked(db.store(&label))), summary)
                }
                Location::Redis(url) => {
                    let summary = redis::describe_url(&url);
                    let backend = match redis_servers.get(&url) {
                        Some(backend) => backend.clone(),
                        None => {
                            let backend = redis::RedisStore::connect(&url)
                                .await
                                .map_err(|e| open_error(&label, &summary, e))?;
                            redis_servers.insert(url, backend.clone());
                            backend
                        }
                    };
                    (Arc::new(Checked(backend)), summary)
                }
            };
            stores.insert(
                label,
                Entry {
                    store,
                    summary,
                    backend,
                },
            );
        }
        Ok(Self {
            stores: Arc::new(stores),
        })
    }

    /// The store for `label`, if it was opened by [`StoreManager::build`].
    pub fn get(&self, label: &str) -> Option<Arc<dyn Store>> {
        self.stores.get(label).map(|entry| entry.store.clone())
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
mod tests {
    use super::*;
    use crate::runtime_config::RuntimeConfig;
    use std::path::Path;

    fn labels(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn paths_in(dir: &Path) -> StatePaths {
        StatePaths {
            state_dir: dir.join(".spin"),
            config_dir: Some(dir.join("conf")),
        }
    }

    #[test]
    fn limits_match_spin() {
        assert_eq!(MAX_KEY_BYTES, 256);
        assert_eq!(MAX_VALUE_BYTES, 1_048_576);
        assert!(check_key(&"k".repeat(MAX_KEY_BYTES)).is_ok());
        assert_eq!(
            check_key(&"k".repeat(MAX_KEY_BYTES + 1)),
            Err(StoreError::KeyTooLarge { len: 257, max: 256 })
        );
        // Bytes, not chars: 128 two-byte chars is 256 bytes.
        assert!(check_key(&"é".repeat(128)).is_ok());
        assert!(check_key(&format!("{}a", "é".repeat(128))).is_err());
        assert!(check_value(&vec![0; MAX_VALUE_BYTES]).is_ok());
        assert!(matches!(
            check_value(&vec![0; MAX_VALUE_BYTES + 1]),
            Err(StoreError::ValueTooLarge { .. })
        ));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn default_store_is_implicit_sqlite_in_state_dir() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths_in(dir.path());
        let mgr = StoreManager::build(&KeyValueConfig::default(), &labels(&["default"]), &paths)
            .await
            .unwrap();
        let file = dir.path().join(".spin/sqlite_key_value.db");
        assert!(file.exists());
        assert_eq!(
            mgr.summary("default").unwrap(),
            format!("SQLite at {}", file.display())
        );
        let store = mgr.get("default").unwrap();
        store.set("k", b"v").await.unwrap();
        assert_eq!(store.get("k").await.unwrap(), Some(b"v".to_vec()));
        assert!(mgr.get("other").is_none());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn unused_default_is_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let mgr = StoreManager::build(
            &KeyValueConfig::default(),
            &labels(&[]),
            &paths_in(dir.path()),
        )
        .await
        .unwrap();
        assert!(mgr.get("default").is_none());
        assert!(!dir.path().join(".spin").exists());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn missing_label_in_use_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = StoreManager::build(
            &KeyValueConfig::default(),
            &labels(&["default", "posts"]),
            &paths_in(dir.path()),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, ConfigError::UndefinedStores { labels } if labels == &["posts"]),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("[key_value_store.posts]"), "{msg}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn relative_path_resolves_against_config_dir_and_creates_parents() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = RuntimeConfig::parse(
            "[key_value_store.posts]\ntype = \"spin\"\npath = \"data/nested/posts.db\"\n",
            Path::new("/unused.toml"),
        )
        .unwrap();
        let mgr = StoreManager::build(&cfg.key_value, &labels(&["posts"]), &paths_in(dir.path()))
            .await
            .unwrap();
        let file = dir.path().join("conf/data/nested/posts.db");
        assert!(file.exists(), "{} missing", file.display());
        assert_eq!(
            mgr.summary("posts").unwrap(),
            format!("SQLite at {}", file.display())
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn overridden_default_uses_configured_store() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = RuntimeConfig::parse(
            "[key_value_store.default]\ntype = \"spin\"\n",
            Path::new("/unused.toml"),
        )
        .unwrap();
        let mgr = StoreManager::build(&cfg.key_value, &labels(&["default"]), &paths_in(dir.path()))
            .await
            .unwrap();
        assert_eq!(
            mgr.summary("default").unwrap(),
            "SQLite in memory (not persisted)"
        );
        assert!(!dir.path().join(".spin").exists());
        let store = mgr.get("default").unwrap();
        store.set("a", b"1").await.unwrap();
        assert!(store.exists("a").await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn labels_sharing_a_file_are_isolated() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join(".spin/sqlite_key_value.db");
        let cfg = RuntimeConfig::parse(
            &format!(
                "[key_value_store.other]\ntype = \"spin\"\npath = \"{}\"\n",
                shared.display()
            ),
            Path::new("/unused.toml"),
        )
        .unwrap();
        let mgr = StoreManager::build(
            &cfg.key_value,
            &labels(&["default", "other"]),
            &paths_in(dir.path()),
        )
        .await
        .unwrap();
        let a = mgr.get("default").unwrap();
        let b = mgr.get("other").unwrap();
        a.set("k", b"from default").await.unwrap();
        b.set("k", b"from other").await.unwrap();
        b.set("only-other", b"x").await.unwrap();
        assert_eq!(a.get("k").await.unwrap(), Some(b"from default".to_vec()));
        assert_eq!(b.get("k").await.unwrap(), Some(b"from other".to_vec()));
        assert_eq!(a.get_keys().await.unwrap(), vec!["k"]);
        assert_eq!(b.get_keys().await.unwrap(), vec!["k", "only-other"]);
        assert!(!a.exists("only-other").await.unwrap());
        a.delete("k").await.unwrap();
        assert_eq!(b.get("k").await.unwrap(), Some(b"from other".to_vec()));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn managed_stores_enforce_limits() {
        let dir = tempfile::tempdir().unwrap();
        let mgr = StoreManager::build(
            &KeyValueConfig::default(),
            &labels(&["default"]),
            &paths_in(dir.path()),
        )
        .await
        .unwrap();
        let store = mgr.get("default").unwrap();
        let max_key = "k".repeat(MAX_KEY_BYTES);
        let long_key = "k".repeat(MAX_KEY_BYTES + 1);
        store.set(&max_key, b"ok").await.unwrap();
        assert_eq!(store.get(&max_key).await.unwrap(), Some(b"ok".to_vec()));
        assert!(matches!(
            store.set(&long_key, b"x").await,
            Err(StoreError::KeyTooLarge { len: 257, max: 256 })
        ));
        assert!(store.get(&long_key).await.is_err());
        assert!(store.exists(&long_key).await.is_err());
        assert!(store.delete(&long_key).await.is_err());
        let max_value = vec![7u8; MAX_VALUE_BYTES];
        store.set("big", &max_value).await.unwrap();
        assert_eq!(store.get("big").await.unwrap(), Some(max_value));
        assert!(matches!(
            store.set("big", &vec![7u8; MAX_VALUE_BYTES + 1]).await,
            Err(StoreError::ValueTooLarge { .. })
        ));
        assert_eq!(
            store.get("big").await.unwrap().map(|v| v.len()),
            Some(MAX_VALUE_BYTES)
        );
        assert_eq!(
            store.get_keys().await.unwrap(),
            vec!["big".to_string(), max_key]
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn data_survives_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths_in(dir.path());
        let used = labels(&["default"]);
        {
            let mgr = StoreManager::build(&KeyValueConfig::default(), &used, &paths)
                .await
                .unwrap();
            let store = mgr.get("default").unwrap();
            for i in 0..100 {
                store
                    .set(&format!("key{i:03}"), format!("value{i}").as_bytes())
                    .await
                    .unwrap();
            }
            store.delete("key050").await.unwrap();
        }
        let mgr = StoreManager::build(&KeyValueConfig::default(), &used, &paths)
            .await
            .unwrap();
        let store = mgr.get("default").unwrap();
        assert_eq!(store.get_keys().await.unwrap().len(), 99);
        assert_eq!(store.get("key007").await.unwrap(), Some(b"value7".to_vec()));
        assert_eq!(store.get("key050").await.unwrap(), None);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn unopenable_sqlite_path_fails_at_build() {
        let dir = tempfile::tempdir().unwrap();
        // A regular file where a parent directory should be.
        std::fs::write(dir.path().join("blocker"), b"").unwrap();
        let cfg = RuntimeConfig::parse(
            &format!(
                "[key_value_store.x]\ntype = \"spin\"\npath = \"{}\"\n",
                dir.path().join("blocker/kv.db").display()
            ),
            Path::new("/unused.toml"),
        )
        .unwrap();
        let err = StoreManager::build(&cfg.key_value, &labels(&[]), &paths_in(dir.path()))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`x`") && msg.contains("blocker"), "{msg}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_tasks_share_the_default_store() {
        let dir = tempfile::tempdir().unwrap();
        let mgr = StoreManager::build(
            &KeyValueConfig::default(),
            &labels(&["default"]),
            &paths_in(dir.path()),
        )
        .await
        .unwrap();
        hammer(mgr.get("default").unwrap(), 64, 200).await;
    }

    /// set/get/exists/delete/get_keys round trip on an empty store.
    pub(super) async fn round_trip(store: &dyn Store) {
        assert_eq!(store.get("missing").await.unwrap(), None);
        assert!(!store.exists("missing").await.unwrap());
        store.delete("missing").await.unwrap(); // deleting nothing is fine
        assert!(store.get_keys().await.unwrap().is_empty());

        store.set("b", b"two").await.unwrap();
        store.set("a", b"one").await.unwrap();
        store.set("empty", b"").await.unwrap();
        store.set("", b"empty key").await.unwrap();
        store.set("bin", &[0, 255, 1, 254]).await.unwrap();
        store.set("unicodé ✓", b"u").await.unwrap();
        assert_eq!(store.get("a").await.unwrap(), Some(b"one".to_vec()));
        assert_eq!(store.get("empty").await.unwrap(), Some(Vec::new()));
        assert_eq!(store.get("").await.unwrap(), Some(b"empty key".to_vec()));
        assert_eq!(store.get("bin").await.unwrap(), Some(vec![0, 255, 1, 254]));
        assert!(store.exists("empty").await.unwrap());
        assert!(store.exists("unicodé ✓").await.unwrap());

        store.set("a", b"overwritten").await.unwrap();
        assert_eq!(store.get("a").await.unwrap(), Some(b"overwritten".to_vec()));

        let keys = store.get_keys().await.unwrap();
        assert_eq!(keys, vec!["", "a", "b", "bin", "empty", "unicodé ✓"]);

        store.delete("a").await.unwrap();
        assert_eq!(store.get("a").await.unwrap(), None);
        assert!(!store.exists("a").await.unwrap());
        assert_eq!(store.get_keys().await.unwrap().len(), 5);
    }

    /// `tasks` tasks doing `ops` mixed operations each on their own keys plus a
    /// shared hot key; panics on any error or lost write.
    pub(super) async fn hammer(store: Arc<dyn Store>, tasks: usize, ops: usize) {
        store.set("hot", b"hot").await.unwrap();
        let mut handles = Vec::new();
        for t in 0..tasks {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                for i in 0..ops {
                    let key = format!("t{t}-k{}", i % 10);
                    match i % 5 {
                        0 => store
                            .set(&key, format!("{t}:{i}").as_bytes())
                            .await
                            .unwrap(),
                        1 => {
                            let _ = store.get(&key).await.unwrap();
                        }
                        2 => {
                            let _ = store.exists(&key).await.unwrap();
                        }
                        3 => assert_eq!(store.get("hot").await.unwrap(), Some(b"hot".to_vec())),
                        _ => {
                            if i % 50 == 4 {
                                let _ = store.get_keys().await.unwrap();
                            } else {
                                store
                                    .delete(&format!("t{t}-k{}", (i + 3) % 10))
                                    .await
                                    .unwrap();
                            }
                        }
                    }
                }
                store.set(&format!("t{t}-done"), b"1").await.unwrap();
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        let keys = store.get_keys().await.unwrap();
        for t in 0..tasks {
            assert!(
                keys.contains(&format!("t{t}-done")),
                "lost write of task {t}"
            );
        }
    }
}
