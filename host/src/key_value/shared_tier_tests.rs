//! Tests of the shared second tier against a throw-away `redis-server`: the
//! conformance suite, two hosts sharing one Redis, and a stopped Redis.

use super::super::conformance::full_suite;
use super::super::redis::test_server::RedisServer;
use super::super::sqlite::Database;
use super::*;

macro_rules! server_or_skip {
    ($name:literal) => {
        match RedisServer::start($name) {
            Some(server) => server,
            None => return,
        }
    };
}

/// A host's `cache` label: its own in-memory SQLite behind `server`.
async fn host(server: &RedisServer) -> (Arc<SharedTier>, Arc<dyn Store>) {
    let own: Arc<dyn Store> = Arc::new(Database::open_in_memory().await.unwrap().store("cache"));
    let redis = RedisStore::connect(&server.url()).await.unwrap();
    let config = L2Config {
        url: server.url(),
        ttl: Duration::from_secs(60),
        local_prefixes: vec!["expiry/".to_string()],
    };
    let tier = SharedTier::new("cache", redis, &config, own.clone());
    (Arc::new(tier), own)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shared_tier_passes_the_conformance_suite() {
    let server = server_or_skip!("a_shared_tier_passes_the_conformance_suite");
    full_suite(host(&server).await.0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn what_one_host_sets_is_a_hit_on_another_sharing_the_redis() {
    let server = server_or_skip!("what_one_host_sets_is_a_hit_on_another");
    let (first, _) = host(&server).await;
    let (second, second_own) = host(&server).await;
    first.set("answer", b"42").await.unwrap();
    assert_eq!(second.get("answer").await.unwrap(), Some(b"42".to_vec()));
    assert_eq!(second.counts().hits.load(Ordering::Relaxed), 1);
    assert_eq!(second_own.get("answer").await.unwrap(), None, "from L2");

    // Stored under the label's prefix, with the TTL.
    let redis = RedisStore::connect(&server.url()).await.unwrap();
    assert_eq!(
        redis.get("fbposts/cache/answer").await.unwrap(),
        Some(b"42".to_vec())
    );
    assert_eq!(redis.get("answer").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_l3_hit_is_copied_up_and_writes_other_than_set_invalidate_l2() {
    let server = server_or_skip!("an_l3_hit_is_copied_up");
    let (tier, own) = host(&server).await;
    own.set("k", b"from L3").await.unwrap();
    assert_eq!(tier.get("k").await.unwrap(), Some(b"from L3".to_vec()));
    assert_eq!(tier.counts().misses.load(Ordering::Relaxed), 1);
    assert_eq!(tier.get("k").await.unwrap(), Some(b"from L3".to_vec()));
    assert_eq!(tier.counts().hits.load(Ordering::Relaxed), 1, "copied up");

    own.set("n", b"1").await.unwrap();
    assert_eq!(tier.get("n").await.unwrap(), Some(b"1".to_vec()));
    assert_eq!(tier.increment("n", 1).await.unwrap(), 2);
    assert_eq!(tier.get("n").await.unwrap(), Some(b"2".to_vec()));
    tier.delete("k").await.unwrap();
    assert_eq!(tier.get("k").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_redis_is_skipped_and_the_label_keeps_working_from_l3() {
    let server = server_or_skip!("a_stopped_redis_is_skipped");
    let (tier, _) = host(&server).await;
    tier.set("before", b"1").await.unwrap();
    server.signal("STOP");
    assert_eq!(tier.get("before").await.unwrap(), Some(b"1".to_vec()));
    tier.set("during", b"2").await.unwrap();
    assert_eq!(tier.get("during").await.unwrap(), Some(b"2".to_vec()));
    tier.delete("before").await.unwrap();
    assert_eq!(tier.get("before").await.unwrap(), None);
    assert!(tier.counts().errors.load(Ordering::Relaxed) >= 1);
    server.signal("CONT");
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_under_a_local_prefix_never_reach_redis() {
    let server = server_or_skip!("keys_under_a_local_prefix_never_reach_redis");
    let (first, _) = host(&server).await;
    let (second, _) = host(&server).await;
    assert_eq!(first.increment("expiry/7/count", 1).await.unwrap(), 1);
    first.set("expiry/7/1", b"analyze:abc").await.unwrap();
    assert_eq!(
        first.get("expiry/7/1").await.unwrap(),
        Some(b"analyze:abc".to_vec())
    );
    // The other host has its own index.
    assert_eq!(second.get("expiry/7/1").await.unwrap(), None);
    assert_eq!(second.increment("expiry/7/count", 1).await.unwrap(), 1);
    let redis = RedisStore::connect(&server.url()).await.unwrap();
    assert!(redis.get_keys().await.unwrap().is_empty());
    assert_eq!(first.counts().hits.load(Ordering::Relaxed), 0);
    assert_eq!(first.counts().misses.load(Ordering::Relaxed), 0);
}
