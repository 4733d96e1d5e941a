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
//! server fails start-up. `rediss://` URLs connect over TLS (rustls, the
//! system's trust store).
//!
//! # Stalls
//!
//! Every command has a deadline of [`COMMAND_TIMEOUT`] and goes through a
//! [`StallGuard`]: once one misses it, commands fail at once for
//! [`STALL_COOL_DOWN`], then one probe at a time tests whether Redis answers
//! again. A stopped Redis therefore costs a request at most one deadline per
//! command instead of the client library's 10 s each, and the host recovers
//! by itself when Redis does.
//!
//! # Atomics and batches
//!
//! `increment` is `INCRBY` (decimal text, as Redis keeps counters);
//! `compare_and_swap` is a Lua script (`EVALSHA`, run atomically by Redis):
//! compare the current value (or its absence) and `SET` only if it matches;
//! scripts work on the shared multiplexed connection, where `WATCH`/`MULTI`
//! would need a connection per swap. Batches are one `MGET`, `MSET` or `DEL`.

use super::stall::StallGuard;
use super::{Store, StoreError};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// Per-attempt TCP connect timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for one command's reply. Loopback and LAN replies take well
/// under a millisecond; a largest value (1 MiB) takes about 80 ms at 100 Mbit/s.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// How long commands fail fast after one missed its deadline, before a probe.
pub const STALL_COOL_DOWN: Duration = Duration::from_secs(1);
/// Keys requested per `SCAN` round trip.
const SCAN_COUNT: usize = 1000;

/// Compare-and-swap: `ARGV[1]` is `1` when a value is expected (`ARGV[2]`),
/// `0` when the key must be absent; `ARGV[3]` is the new value.
const CAS_SCRIPT: &str = r"
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3])
return 1
";

/// A Redis database. Cloning shares the connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    summary: String,
    guard: Arc<StallGuard>,
    cas: redis::Script,
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

/// `INCRBY`'s refusals as the store's own errors.
fn increment_error(key: &str, e: redis::RedisError) -> StoreError {
    let text = e.to_string();
    if text.contains("not an integer") {
        StoreError::NotACounter { key: key.into() }
    } else if text.contains("overflow") {
        StoreError::CounterOverflow { key: key.into() }
    } else {
        backend(e)
    }
}

impl RedisStore {
    /// Parses `url` and connects (a few retries with back-off), then checks the
    /// server answers `PING`.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        let client =
            redis::Client::open(url).map_err(|e| ConnectError::InvalidUrl(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            // A backstop: the stall guard's deadline (shorter) decides.
            .set_response_timeout(COMMAND_TIMEOUT * 4)
            .set_number_of_retries(2)
            .set_max_delay(1_000);
        let mut conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| ConnectError::Connect(e.to_string()))?;
        let () = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| ConnectError::Connect(e.to_string()))?;
        let summary = describe_url(url);
        Ok(Self {
            conn,
            guard: Arc::new(StallGuard::new(
                summary.clone(),
                COMMAND_TIMEOUT,
                STALL_COOL_DOWN,
            )),
            summary,
            cas: redis::Script::new(CAS_SCRIPT),
        })
    }

    /// `SET key value PX ttl` (with `NX` when `only_if_absent`): a value
    /// Redis drops after `ttl` (the shared second tier's entries,
    /// `super::shared_tier`).
    pub async fn set_expiring(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        only_if_absent: bool,
    ) -> Result<(), StoreError> {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut options =
            redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(millis));
        if only_if_absent {
            options = options.conditional_set(redis::ExistenceCheck::NX);
        }
        let mut conn = self.conn.clone();
        let _reply: Option<String> = self.run(conn.set_options(key, value, options)).await?;
        Ok(())
    }

    /// Runs one command under the stall guard.
    async fn run<T>(
        &self,
        command: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        self.guard.run(command, backend).await
    }
}

#[async_trait::async_trait]
impl Store for RedisStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(self.conn.clone().get(key)).await
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.run(self.conn.clone().set(key, value)).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.run(self.conn.clone().del(key)).await
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.run(self.conn.clone().exists(key)).await
    }

    async fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        let mut conn = self.conn.clone();
        self.guard
            .run(conn.incr(key, delta), |e| increment_error(key, e))
            .await
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        let mut invocation = self.cas.key(key);
        match expected {
            Some(old) => invocation.arg("1").arg(old),
            None => invocation.arg("0").arg(""),
        };
        invocation.arg(new);
        let mut conn = self.conn.clone();
        let swapped: i64 = self.run(invocation.invoke_async(&mut conn)).await?;
        Ok(swapped == 1)
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
        self.run(redis::cmd("MGET").arg(keys).query_async(&mut conn))
            .await
    }

    async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut command = redis::cmd("MSET");
        for (key, value) in entries {
            command.arg(key).arg(value);
        }
        let mut conn = self.conn.clone();
        self.run(command.query_async(&mut conn)).await
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.run(self.conn.clone().del(keys)).await
    }

    async fn get_keys(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        let mut keys = BTreeSet::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<Vec<u8>>) = self
                .run(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("COUNT")
                        .arg(SCAN_COUNT)
                        .query_async(&mut conn),
                )
                .await?;
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
pub(crate) mod test_server;

#[cfg(test)]
mod tests {
    use super::super::Checked;
    use super::super::conformance::{full_suite, hammer, round_trip};
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
    async fn redis_store_passes_the_conformance_suite() {
        let server = server_or_skip!("redis_store_passes_the_conformance_suite");
        let store = RedisStore::connect(&server.url()).await.unwrap();
        full_suite(Arc::new(store.clone())).await;
        let _: () = redis::cmd("FLUSHDB")
            .query_async(&mut store.conn.clone())
            .await
            .unwrap();
        full_suite(Arc::new(Checked(store))).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn two_connections_share_atomic_counters_and_claims() {
        // Two hosts on one Redis: each has its own connection.
        let server = server_or_skip!("two_connections_share_atomic_counters_and_claims");
        let a = Arc::new(RedisStore::connect(&server.url()).await.unwrap());
        let b = Arc::new(RedisStore::connect(&server.url()).await.unwrap());
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let store = if i % 2 == 0 { a.clone() } else { b.clone() };
                tokio::spawn(async move {
                    store.increment("n", 1).await.unwrap();
                    store.compare_and_swap("claim", None, b"x").await.unwrap()
                })
            })
            .collect();
        let mut claims = 0;
        for task in tasks {
            claims += usize::from(task.await.unwrap());
        }
        assert_eq!(claims, 1);
        assert_eq!(a.increment("n", 0).await.unwrap(), 64);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_stopped_redis_fails_fast_and_recovers_without_reconnecting_by_hand() {
        let server = server_or_skip!("a_stopped_redis_fails_fast_and_recovers");
        let store = RedisStore::connect(&server.url()).await.unwrap();
        store.set("k", b"v").await.unwrap();
        server.signal("STOP");
        let started = std::time::Instant::now();
        let first = store.get("k").await;
        let first_ms = started.elapsed().as_millis();
        assert!(matches!(first, Err(StoreError::Timeout(_))), "{first:?}");
        let started = std::time::Instant::now();
        for _ in 0..100 {
            assert!(matches!(store.get("k").await, Err(StoreError::Timeout(_))));
        }
        let fast_us = started.elapsed().as_micros() / 100;
        eprintln!(
            "stopped Redis: first command failed after {first_ms} ms, then {fast_us} µs each"
        );
        server.signal("CONT");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match store.get("k").await {
                Ok(value) => {
                    assert_eq!(value, Some(b"v".to_vec()));
                    break;
                }
                Err(e) if std::time::Instant::now() < deadline => {
                    eprintln!("waiting for recovery: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("no recovery after SIGCONT: {e}"),
            }
        }
    }

    #[test]
    fn rediss_urls_are_accepted() {
        assert_eq!(
            describe_url("rediss://user:pw@cache.internal:6380"),
            "Redis at rediss://cache.internal:6380"
        );
        assert!(redis::Client::open("rediss://cache.internal:6380").is_ok());
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
