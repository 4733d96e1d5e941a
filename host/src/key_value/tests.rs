//! Tests of the store manager and the limits; the per-backend conformance
//! suite is in `conformance.rs`.

use super::conformance::hammer;
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
    enforces_limits(mgr.get("default").unwrap()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_buffered_and_tiered_store_enforces_the_limits_before_buffering() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = RuntimeConfig::parse(
        "[key_value_store.cache]\ntype = \"spin\"\npath = \"cache.db\"\n\
         fbposts_l1 = { max_bytes = 8388608, ttl_seconds = 60 }\n\
         fbposts_write_behind = { max_delay_ms = 3600000, max_entries = 10000 }\n",
        &dir.path().join("conf/runtime-config.toml"),
    )
    .unwrap();
    let mgr = StoreManager::build(&cfg.key_value, &labels(&["cache"]), &paths_in(dir.path()))
        .await
        .unwrap();
    enforces_limits(mgr.get("cache").unwrap()).await;
    // What was refused was never buffered: the buffer writes.
    mgr.flush_buffered().await;
    let counts = mgr.write_behind_counts();
    assert_eq!(
        counts[0]
            .1
            .failures
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

/// The key and value limits, on a store with nothing in it.
async fn enforces_limits(store: Arc<dyn Store>) {
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

#[tokio::test(flavor = "multi_thread")]
async fn a_shared_tier_that_does_not_answer_at_start_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // free again once the listener is dropped: nothing answers
    let cfg = RuntimeConfig::parse(
        &format!(
            "[key_value_store.cache]\ntype = \"spin\"\npath = \"cache.db\"\n\
             fbposts_l2 = {{ url = \"redis://127.0.0.1:{port}\", ttl_seconds = 60 }}\n"
        ),
        &dir.path().join("conf/runtime-config.toml"),
    )
    .unwrap();
    let mgr = StoreManager::build(&cfg.key_value, &labels(&["cache"]), &paths_in(dir.path()))
        .await
        .unwrap();
    assert!(mgr.l2_counts().is_empty(), "served without its shared tier");
    let store = mgr.get("cache").unwrap();
    store.set("k", b"v").await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), Some(b"v".to_vec()));
}
