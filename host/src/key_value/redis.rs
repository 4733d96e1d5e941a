//! Redis key-value backend (`type = "redis"`).
//!
//! This module owns the Redis connection and the mapping of store operations
//! onto Redis commands, mirroring Spin's `crates/key-value-redis/src/store.rs`:
//! keys are used exactly as given (no label prefix, so two labels pointing at
//! the same Redis database share one key space), values are Redis strings
//! (`GET`/`SET`/`DEL`/`EXISTS`). Unlike Spin, which lists keys with `KEYS *`,
//! `get_keys` iterates with `SCAN` so a large database does not block Redis;
//! keys are deduplicated (SCAN may repeat one) and returned sorted; keys that
//! are not UTF-8 (which a guest cannot name) are skipped.
//!
//! The connection is a [`redis::aio::ConnectionManager`]: one multiplexed
//! connection shared by all requests that reconnects in the background after
//! a failure. It is established in [`RedisStore::connect`], so an unreachable
//! server fails start-up. Operations time out after [`RESPONSE_TIMEOUT`].

use super::{Store, StoreError};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::collections::BTreeSet;
use std::time::Duration;

/// Per-attempt TCP connect timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for one command's reply.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
/// Keys requested per `SCAN` round trip.
const SCAN_COUNT: usize = 1000;

/// A Redis database. Cloning shares the connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    summary: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("server", &self.summary)
            .finish_non_exhaustive()
    }
}

/// Errors connecting (reported by `StoreManager::build`). The URL is never
/// included, as it may carry a password.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("invalid Redis URL: {0}")]
    InvalidUrl(String),
    #[error("cannot connect to Redis: {0}")]
    Connect(String),
}

/// "Redis at redis://host:port" (with "/db" if not 0), without user name or
/// password; used in summaries and errors.
pub fn describe_url(url: &str) -> String {
    match redis::IntoConnectionInfo::into_connection_info(url) {
        Ok(info) => {
            let addr = match &info.addr {
                redis::ConnectionAddr::Tcp(host, port) => format!("redis://{host}:{port}"),
                redis::ConnectionAddr::TcpTls { host, port, .. } => {
                    format!("rediss://{host}:{port}")
                }
                redis::ConnectionAddr::Unix(path) => format!("redis+unix://{}", path.display()),
            };
            match info.redis.db {
                0 => format!("Redis at {addr}"),
                db => format!("Redis at {addr}/{db}"),
            }
        }
        Err(_) => "Redis (invalid URL)".to_string(),
    }
}

fn backend(e: redis::RedisError) -> StoreError {
    StoreError::Backend(format!("Redis: {e}"))
}

impl RedisStore {
    /// Parses `url` and connects (a few retries with back-off), then checks the
    /// server answers `PING`.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        let client =
            redis::Client::open(url).map_err(|e| ConnectError::InvalidUrl(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT)
            .set_number_of_retries(2)
            .set_max_delay(1_000);
        let mut conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| ConnectError::Connect(e.to_string()))?;
        let () = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| ConnectError::Connect(e.to_string()))?;
        Ok(Self {
            conn,
            summary: describe_url(url),
        })
    }
}

#[async_trait::async_trait]
impl Store for RedisStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn.clone().get(key).await.map_err(backend)
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.conn.clone().set(key, value).await.map_err(backend)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.conn.clone().del(key).await.map_err(backend)
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.conn.clone().exists(key).await.map_err(backend)
    }

    async fn get_keys(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        let mut keys = BTreeSet::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            for key in batch {
                match String::from_utf8(key) {
                    Ok(key) => {
                        keys.insert(key);
                    }
                    Err(e) => tracing::debug!(
                        server = %self.summary,
                        "skipping non-UTF-8 Redis key {:?}",
                        String::from_utf8_lossy(e.as_bytes())
                    ),
                }
            }
            if next == 0 {
                return Ok(keys.into_iter().collect());
            }
            cursor = next;
        }
    }
}

/// A throw-away `redis-server` for tests.
#[cfg(test)]
pub(crate) mod test_server {
    use std::net::{Ipv4Addr, TcpListener, TcpStream};
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    /// A `redis-server` on a free loopback port, with persistence off; killed
    /// on drop.
    pub(crate) struct RedisServer {
        child: Child,
        port: u16,
        dir: tempfile::TempDir,
    }

    impl RedisServer {
        /// Starts a server. If `redis-server` is not on PATH this panics with
        /// an explanation, unless `FBPOSTS_SKIP_REDIS=1`, in which case it
        /// returns `None` and the caller skips (printing why).
        pub(crate) fn start(test: &str) -> Option<Self> {
            let found = std::env::var_os("PATH").is_some_and(|paths| {
                std::env::split_paths(&paths).any(|dir| dir.join("redis-server").is_file())
            });
            if !found {
                if std::env::var("FBPOSTS_SKIP_REDIS").as_deref() == Ok("1") {
                    eprintln!("SKIPPED {test}: redis-server not on PATH and FBPOSTS_SKIP_REDIS=1");
                    return None;
                }
                panic!(
                    "{test} needs `redis-server` on PATH (Debian/Ubuntu: \
                     `apt-get install -y redis-server`); set FBPOSTS_SKIP_REDIS=1 to skip \
                     the Redis tests explicitly"
                );
            }
            let dir = tempfile::tempdir().expect("temp dir for redis-server");
            // Retry in case another process grabs the port between probe and bind.
            for _ in 0..5 {
                let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                    .and_then(|l| l.local_addr())
                    .expect("probe a free port")
                    .port();
                if let Some(child) = spawn_on(port, dir.path()) {
                    return Some(Self { child, port, dir });
                }
            }
            panic!("{test}: redis-server did not start listening");
        }

        /// Kills the server and starts a fresh, empty one on the same port.
        pub(crate) fn restart(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.child = spawn_on(self.port, self.dir.path()).expect("restart redis-server");
        }

        pub(crate) fn url(&self) -> String {
            format!("redis://127.0.0.1:{}", self.port)
        }
    }

    /// Spawns `redis-server` on `port` and waits until it accepts
    /// connections; `None` if it exits or never listens.
    fn spawn_on(port: u16, dir: &std::path::Path) -> Option<Child> {
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--daemonize", "no"])
            .arg("--dir")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return None; // exited: port probably taken
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Some(child);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    impl Drop for RedisServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{hammer, round_trip};
    use super::super::{MAX_KEY_BYTES, MAX_VALUE_BYTES, StoreError, StoreManager};
    use super::test_server::RedisServer;
    use super::*;
    use crate::runtime_config::{RuntimeConfig, StatePaths};
    use std::path::Path;
    use std::sync::Arc;

    fn state_paths(dir: &Path) -> StatePaths {
        StatePaths {
            state_dir: dir.join(".spin"),
            config_dir: None,
        }
    }

    macro_rules! server_or_skip {
        ($name:literal) => {
            match RedisServer::start($name) {
                Some(server) => server,
                None => return,
            }
        };
    }

    #[test]
    fn describe_url_hides_credentials() {
        assert_eq!(
            describe_url("redis://user:s3cret@cache.internal:6380"),
            "Redis at redis://cache.internal:6380"
        );
        assert_eq!(
            describe_url("redis://:pw@localhost/3"),
            "Redis at redis://localhost:6379/3"
        );
        assert_eq!(describe_url("not a url"), "Redis (invalid URL)");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn redis_round_trip() {
        let server = server_or_skip!("redis_round_trip");
        let store = RedisStore::connect(&server.url()).await.unwrap();
        round_trip(&store).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn redis_uses_raw_keys_like_spin() {
        let server = server_or_skip!("redis_uses_raw_keys_like_spin");
        let store = RedisStore::connect(&server.url()).await.unwrap();
        store.set("plain", b"value").await.unwrap();
        let client = redis::Client::open(server.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let raw: Option<Vec<u8>> = conn.get("plain").await.unwrap();
        assert_eq!(raw, Some(b"value".to_vec()));
        // Non-UTF-8 keys written by others are skipped by get_keys.
        let () = conn.set(&b"\xff\xfe"[..], "x").await.unwrap();
        assert_eq!(store.get_keys().await.unwrap(), vec!["plain"]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn redis_get_keys_scans_many_keys() {
        let server = server_or_skip!("redis_get_keys_scans_many_keys");
        let store = RedisStore::connect(&server.url()).await.unwrap();
        for i in 0..2_500 {
            store.set(&format!("k{i:05}"), b"v").await.unwrap();
        }
        let keys = store.get_keys().await.unwrap();
        assert_eq!(keys.len(), 2_500);
        assert_eq!(keys[0], "k00000");
        assert_eq!(keys[2_499], "k02499");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn redis_via_manager_enforces_limits() {
        let server = server_or_skip!("redis_via_manager_enforces_limits");
        let dir = tempfile::tempdir().unwrap();
        let cfg = RuntimeConfig::parse(
            &format!(
                "[key_value_store.cache]\ntype = \"redis\"\nurl = \"{}\"\n",
                server.url()
            ),
            Path::new("/unused.toml"),
        )
        .unwrap();
        let paths = state_paths(dir.path());
        let used = ["cache".to_string()].into_iter().collect();
        let mgr = StoreManager::build(&cfg.key_value, &used, &paths)
            .await
            .unwrap();
        assert_eq!(
            mgr.summary("cache").unwrap(),
            format!("Redis at {}", server.url())
        );
        let store = mgr.get("cache").unwrap();
        let max_key = "k".repeat(MAX_KEY_BYTES);
        store.set(&max_key, b"v").await.unwrap();
        assert!(store.exists(&max_key).await.unwrap());
        assert!(matches!(
            store.set(&"k".repeat(MAX_KEY_BYTES + 1), b"v").await,
            Err(StoreError::KeyTooLarge { .. })
        ));
        store.set("big", &vec![1; MAX_VALUE_BYTES]).await.unwrap();
        assert_eq!(
            store.get("big").await.unwrap().map(|v| v.len()),
            Some(MAX_VALUE_BYTES)
        );
        assert!(matches!(
            store.set("big", &vec![1; MAX_VALUE_BYTES + 1]).await,
            Err(StoreError::ValueTooLarge { .. })
        ));
        hammer(store, 64, 200).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn redis_data_survives_reconnect() {
        let server = server_or_skip!("redis_data_survives_reconnect");
        {
            let store = RedisStore::connect(&server.url()).await.unwrap();
            store.set("persist", b"yes").await.unwrap();
        }
        let store = RedisStore::connect(&server.url()).await.unwrap();
        assert_eq!(store.get("persist").await.unwrap(), Some(b"yes".to_vec()));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn redis_reconnects_after_server_restart() {
        let mut server = server_or_skip!("redis_reconnects_after_server_restart");
        let store = RedisStore::connect(&server.url()).await.unwrap();
        store.set("before", b"1").await.unwrap();
        server.restart();
        // The first command may see the broken connection; the manager then
        // reconnects in the background.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match store.set("after", b"2").await {
                Ok(()) => break,
                Err(e) if std::time::Instant::now() < deadline => {
                    eprintln!("retrying after: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("no reconnect: {e}"),
            }
        }
        assert_eq!(store.get("after").await.unwrap(), Some(b"2".to_vec()));
        assert_eq!(store.get("before").await.unwrap(), None); // fresh server
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn redis_concurrent_access() {
        let server = server_or_skip!("redis_concurrent_access");
        let store = RedisStore::connect(&server.url()).await.unwrap();
        hammer(Arc::new(store), 64, 200).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn unreachable_redis_fails_at_build_without_leaking_password() {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("redis://user:hunter2@127.0.0.1:{port}");
        let cfg = RuntimeConfig::parse(
            &format!("[key_value_store.cache]\ntype = \"redis\"\nurl = \"{url}\"\n"),
            Path::new("/unused.toml"),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let paths = state_paths(dir.path());
        let err = StoreManager::build(&cfg.key_value, &Default::default(), &paths)
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`cache`"), "{msg}");
        assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn invalid_redis_url_fails_at_build() {
        let cfg = RuntimeConfig::parse(
            "[key_value_store.cache]\ntype = \"redis\"\nurl = \"http://nope\"\n",
            Path::new("/unused.toml"),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err = StoreManager::build(
            &cfg.key_value,
            &Default::default(),
            &state_paths(dir.path()),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("invalid Redis URL"), "{err}");
    }
}
