//! The learning state in the `default` key-value store, shared by the steps
//! that learn (`generate`, `feedback`, `predict`, `experiments`): typed JSON
//! values under documented keys, and bandit arms.
//!
//! Keys:
//! - `arm/<family>/<context>/<arm>`: a bandit arm's `ArmStats` (`family` is
//!   `structure`, `prompt` or `generator`; `context` is
//!   `<language>.<goal>.<tone>`). One key per arm, so concurrent feedback
//!   for different arms never overwrites each other.
//! - `candidate/<id>`: a generated candidate (for crediting feedback).
//! - `feedback/<id>`: the outcome of a feedback event (idempotency).
//! - `page/<page>/model/<target>`: a page's online model.
//! - `breaker/<generator>`: a generator's circuit-breaker state.
//!
//! Unlike the response cache, this state matters: read and write errors are
//! returned (as 503 `state_unavailable`) so the caller can retry rather than
//! silently lose learning.

use fbposts_core::ApiError;
use fbposts_learning::ArmStats;
use serde::Serialize;
use serde::de::DeserializeOwned;
use spin_sdk::key_value::Store;

/// The learning state store.
pub struct StateStore {
    store: Store,
}

fn unavailable(what: &str, err: impl std::fmt::Debug) -> ApiError {
    eprintln!("state store: {what}: {err:?}");
    ApiError::new(
        503,
        "state_unavailable",
        "the learning state store is unavailable right now; try again later",
    )
}

/// Key of an arm.
pub fn arm_key(family: &str, context: &str, arm: &str) -> String {
    format!("arm/{family}/{context}/{arm}")
}

impl StateStore {
    /// Opens the `default` store.
    pub async fn open() -> Result<Self, ApiError> {
        Store::open("default")
            .await
            .map(|store| StateStore { store })
            .map_err(|e| unavailable("open", e))
    }

    /// A JSON value; `None` when absent. A stored value that no longer
    /// parses is logged and treated as absent.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ApiError> {
        let bytes = self
            .store
            .get(key.to_string())
            .await
            .map_err(|e| unavailable(key, e))?;
        Ok(bytes.and_then(|b| match serde_json::from_slice(&b) {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln!("state store: {key}: unreadable value ignored: {e}");
                None
            }
        }))
    }

    /// The raw bytes under `key`.
    pub async fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, ApiError> {
        self.store
            .get(key.to_string())
            .await
            .map_err(|e| unavailable(key, e))
    }

    pub async fn set<T: Serialize>(&self, key: &str, value: &T) -> Result<(), ApiError> {
        let bytes = serde_json::to_vec(value).map_err(|e| unavailable(key, e))?;
        self.set_bytes(key, bytes).await
    }

    pub async fn set_bytes(&self, key: &str, bytes: Vec<u8>) -> Result<(), ApiError> {
        self.store
            .set(key.to_string(), &bytes)
            .await
            .map_err(|e| unavailable(key, e))
    }

    /// Removes a key (absent is fine).
    pub async fn delete(&self, key: &str) -> Result<(), ApiError> {
        self.store
            .delete(key.to_string())
            .await
            .map_err(|e| unavailable(key, e))
    }

    /// Every key starting with `prefix`, sorted. Lists the whole store
    /// (`spin:key-value` has no prefix query), so only for inspection routes.
    pub async fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, ApiError> {
        let mut keys: Vec<String> = self
            .store
            .get_keys()
            .await
            .collect()
            .await
            .map_err(|e| unavailable("list keys", e))?
            .into_iter()
            .filter(|k| k.starts_with(prefix))
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// An arm's statistics (the prior when it has none yet).
    pub async fn arm(&self, family: &str, context: &str, arm: &str) -> Result<ArmStats, ApiError> {
        Ok(self
            .get::<ArmStats>(&arm_key(family, context, arm))
            .await?
            .filter(ArmStats::is_valid)
            .unwrap_or_default())
    }

    /// Read-modify-write of one arm.
    pub async fn update_arm(
        &self,
        family: &str,
        context: &str,
        arm: &str,
        update: impl FnOnce(&mut ArmStats),
    ) -> Result<ArmStats, ApiError> {
        let mut stats = self.arm(family, context, arm).await?;
        update(&mut stats);
        self.set(&arm_key(family, context, arm), &stats).await?;
        Ok(stats)
    }
}
