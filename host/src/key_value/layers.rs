//! How a label's store is stacked from what the runtime config asks for,
//! bottom to top: its backend (SQLite or Redis), the write-behind buffer
//! ([`super::write_behind`]), the shared Redis tier
//! ([`super::shared_tier`]), the limits ([`super::Checked`]: above the
//! buffer and the shared tier, so nothing over them is buffered or shared)
//! and the in-process tier ([`super::tiered`]). Kept apart from
//! `StoreManager::build`, which opens the backends.

use super::{Checked, Store, open_error, redis, shared_tier, tiered, write_behind};
use crate::runtime_config::{ConfigError, KeyValueConfig};
use std::collections::HashMap;
use std::sync::Arc;

/// A label's backend with what the runtime config layers on it, from the
/// bottom: the write-behind buffer, the shared Redis tier, the limits
/// (`Checked`, so nothing over them is buffered or shared), the in-process
/// tier.
pub(super) struct Layers {
    /// Everything but the in-process tier.
    pub(super) store: Arc<dyn Store>,
    pub(super) write_behind: Option<Arc<write_behind::WriteBehind>>,
    pub(super) shared: Option<Arc<shared_tier::SharedTier>>,
    pub(super) tier: Option<Arc<tiered::Tiered>>,
}

impl Layers {
    pub(super) async fn build(
        label: &str,
        backend: Arc<dyn Store>,
        config: &KeyValueConfig,
        redis_servers: &mut HashMap<String, redis::RedisStore>,
    ) -> Result<Self, ConfigError> {
        let write_behind = config
            .write_behind
            .get(label)
            .map(|buffer| write_behind::WriteBehind::start(backend.clone(), *buffer));
        let store: Arc<dyn Store> = match &write_behind {
            Some(buffer) => buffer.clone(),
            None => backend,
        };
        let shared = match config.l2.get(label) {
            Some(l2) => shared_tier_over(label, l2, &store, redis_servers).await?,
            None => None,
        };
        let store: Arc<dyn Store> = match &shared {
            Some(tier) => tier.clone(),
            None => store,
        };
        let store: Arc<dyn Store> = Arc::new(Checked(store));
        let tier = config
            .l1
            .get(label)
            .map(|l1| tiered::Tiered::new(store.clone(), *l1));
        Ok(Self {
            store,
            write_behind,
            shared,
            tier,
        })
    }
}

/// The shared tier in front of `store`. A Redis that does not answer at
/// start-up is left out (logged): the label works from its own store, as it
/// does when Redis fails later. A URL that is not one fails start-up.
async fn shared_tier_over(
    label: &str,
    l2: &shared_tier::L2Config,
    store: &Arc<dyn Store>,
    redis_servers: &mut HashMap<String, redis::RedisStore>,
) -> Result<Option<Arc<shared_tier::SharedTier>>, ConfigError> {
    let redis = match connect_redis(redis_servers, &l2.url).await {
        Ok(redis) => redis,
        Err(err @ redis::ConnectError::Connect(_)) => {
            tracing::warn!(
                label,
                redis = %redis::describe_url(&l2.url),
                error = %err,
                "key-value L2: Redis does not answer; serving this label without its shared tier"
            );
            return Ok(None);
        }
        Err(err) => return Err(open_error(label, &redis::describe_url(&l2.url), err)),
    };
    Ok(Some(Arc::new(shared_tier::SharedTier::new(
        label,
        redis,
        l2,
        store.clone(),
    ))))
}

/// The connection to the Redis at `url`, shared by every label that names it.
pub(super) async fn connect_redis(
    servers: &mut HashMap<String, redis::RedisStore>,
    url: &str,
) -> Result<redis::RedisStore, redis::ConnectError> {
    if let Some(server) = servers.get(url) {
        return Ok(server.clone());
    }
    let server = redis::RedisStore::connect(url).await?;
    servers.insert(url.to_string(), server.clone());
    Ok(server)
}

/// `summary` plus the write-behind buffer and the tiers, if configured.
pub(super) fn describe_tiers(summary: String, config: &KeyValueConfig, label: &str) -> String {
    let layers = [
        config.write_behind.get(label).map(|buffer| {
            format!(
                "its writes buffered for at most {} ms or {} entries",
                buffer.max_delay.as_millis(),
                buffer.max_entries
            )
        }),
        config.l2.get(label).map(|l2| {
            format!(
                "behind a shared tier ({}, TTL {} s)",
                redis::describe_url(&l2.url),
                l2.ttl.as_secs()
            )
        }),
        config.l1.get(label).map(|l1| {
            format!(
                "behind an in-process tier of {} bytes, TTL {} s",
                l1.max_bytes,
                l1.ttl.as_secs()
            )
        }),
    ];
    layers
        .into_iter()
        .flatten()
        .fold(summary, |summary, layer| format!("{summary}, {layer}"))
}
