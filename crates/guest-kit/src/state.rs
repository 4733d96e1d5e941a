//! The learning state in the `default` key-value store, shared by the steps
//! that learn (`generate`, `feedback`, `predict`, `experiments`): typed JSON
//! values under documented keys, atomic counters, compare-and-swap updates
//! and batches. Bandit arms are in [`crate::arms`].
//!
//! Keys:
//! - `arm/<family>/<context>/<arm>`, `pulls/<family>/<context>/<arm>`,
//!   `arm-index`: bandit arms ([`crate::arms`]).
//! - `candidate/<id>`: a generated candidate (for crediting feedback),
//!   expiring ([`crate::expiring`]).
//! - `feedback/<id>`: a feedback event: first a claim (`{"pending_since"}`),
//!   then its outcome (idempotency), expiring.
//! - `page/<page>/model/<target>`: a page's online model; `page-index/…`
//!   the pages that have one ([`crate::page_index`]).
//! - `expiry/…`: the expiry index ([`crate::expiry`]).
//! - `stats/feedback-events`: events applied (a counter).
//! - `breaker/<generator>`: a generator's circuit-breaker state.
//!
//! # Atomic updates
//!
//! `spin:key-value` only has get and set, so two requests that read, change
//! and write one value lose one change. The learning state therefore uses
//! `wasi:keyvalue` (which stock Spin links beside `spin:key-value`):
//! [`StateStore::increment`] for counters, [`StateStore::compare_and_swap`]
//! to claim a key, and [`StateStore::update`] — a compare-and-swap loop with
//! jittered back-off — for JSON values. [`StateStore::apply_once`] adds an
//! event's id to the value it changes in the same swap, so an event retried
//! after a crash (its claim went stale) is not applied twice.
//!
//! Unlike the response cache, this state matters: read and write errors are
//! returned (as 503 `state_unavailable`) so the caller can retry rather than
//! silently lose learning.

use fbposts_core::ApiError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use spin_sdk::key_value::Store;
use std::rc::Rc;

/// Bindings for `wasi:keyvalue` (wit-bindgen through spin-sdk's re-export).
pub(crate) mod bindings {
    spin_sdk::wit_bindgen::generate!({
        path: "../../wit/keyvalue",
        world: "fbposts:keyvalue/state-user",
        runtime_path: "::spin_sdk::wit_bindgen::rt",
        generate_all,
    });
    pub use wasi::keyvalue::{atomics, batch, store};
}

use bindings::{atomics, batch, store as wasi_store};

/// Most compare-and-swap rounds one [`StateStore::update`] tries: enough for
/// every one of 64 concurrent writers of one key to win its round.
const MAX_UPDATE_ATTEMPTS: u32 = 200;
/// Longest back-off between two rounds, in milliseconds.
const MAX_BACKOFF_MS: u64 = 8;
/// Event ids kept in a value changed by [`StateStore::apply_once`].
pub const APPLIED_EVENTS_KEPT: usize = 128;
/// The field of a JSON object that holds those ids.
const APPLIED_FIELD: &str = "applied_events";

/// The learning state store.
pub struct StateStore {
    store: Rc<Store>,
    pub(crate) bucket: Rc<wasi_store::Bucket>,
}

pub(crate) fn unavailable(what: &str, err: impl std::fmt::Debug) -> ApiError {
    eprintln!("state store: {what}: {err:?}");
    ApiError::new(
        503,
        "state_unavailable",
        "the learning state store is unavailable right now; try again later",
    )
}

/// Sleeps between two compare-and-swap rounds: random up to a bound that
/// doubles each round (so concurrent writers spread out).
async fn backoff(round: u32) {
    let bound_ms = (1u64 << round.min(3)).min(MAX_BACKOFF_MS);
    let jitter_ns = spin_sdk::wasip3::random::random::get_random_u64() % (bound_ms * 1_000_000);
    spin_sdk::wasip3::clocks::monotonic_clock::wait_for(jitter_ns).await;
}

/// The short marker of an event id kept in a value (its last 12 chars:
/// event ids end in hex digests).
fn event_marker(event: &str) -> String {
    let start = event
        .char_indices()
        .rev()
        .nth(11)
        .map_or(0, |(index, _)| index);
    event[start..].to_string()
}

impl StateStore {
    /// Opens the `default` store (once per instance, [`crate::instance::store`]).
    pub async fn open() -> Result<Self, ApiError> {
        let store = crate::instance::store("default")
            .await
            .map_err(|e| unavailable("open", e))?;
        let bucket =
            crate::instance::bucket("default").map_err(|e| unavailable("open bucket", e))?;
        Ok(StateStore { store, bucket })
    }

    /// A JSON value; `None` when absent. A stored value that no longer
    /// parses is logged and treated as absent.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ApiError> {
        let bytes = self.get_bytes(key).await?;
        Ok(bytes.and_then(|b| parse_logged(key, &b)))
    }

    /// The raw bytes under `key`.
    pub async fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, ApiError> {
        self.store
            .get(key.to_string())
            .await
            .map_err(|e| unavailable(key, e))
    }

    /// The values of `keys`, in order, in one call.
    pub async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, ApiError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let pairs = batch::get_many(&self.bucket, keys).map_err(|e| unavailable("get_many", e))?;
        Ok(pairs.into_iter().map(|(_, value)| value).collect())
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

    /// Atomically adds `delta` to the counter under `key` (absent: 0) and
    /// returns the new value; `increment(key, 0)` reads it.
    pub async fn increment(&self, key: &str, delta: i64) -> Result<i64, ApiError> {
        atomics::increment(&self.bucket, key, delta).map_err(|e| unavailable(key, e))
    }

    /// Removes a key (absent is fine).
    pub async fn delete(&self, key: &str) -> Result<(), ApiError> {
        self.store
            .delete(key.to_string())
            .await
            .map_err(|e| unavailable(key, e))
    }

    /// Every key starting with `prefix`, sorted. Lists the whole store
    /// (`spin:key-value` has no prefix query): only the events outbox replay
    /// uses it, and only after a delivery failed (its pending flag is set),
    /// so never on a request path while Redis and the consumer are up.
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

    /// Atomically sets `key` to `new` if it holds `expected` (`None`: absent);
    /// `Ok(false)`, changing nothing, otherwise.
    pub async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, ApiError> {
        let cas = atomics::Cas::new(&self.bucket, key).map_err(|e| unavailable(key, e))?;
        let current = cas.current().map_err(|e| unavailable(key, e))?;
        if current.as_deref() != expected {
            return Ok(false);
        }
        match atomics::swap(cas, new) {
            Ok(()) => Ok(true),
            Err(atomics::CasError::CasFailed(_)) => Ok(false),
            Err(atomics::CasError::StoreError(e)) => Err(unavailable(key, e)),
        }
    }

    /// Changes the value under `key` atomically: `change` gets the current
    /// bytes and returns the new ones (`None`: leave it as it is); when
    /// another writer got there first, it runs again on the newer value.
    /// Returns the value now stored.
    pub async fn update(
        &self,
        key: &str,
        mut change: impl FnMut(Option<&[u8]>) -> Option<Vec<u8>>,
    ) -> Result<Option<Vec<u8>>, ApiError> {
        let mut cas = atomics::Cas::new(&self.bucket, key).map_err(|e| unavailable(key, e))?;
        for round in 0..MAX_UPDATE_ATTEMPTS {
            let current = cas.current().map_err(|e| unavailable(key, e))?;
            let Some(next) = change(current.as_deref()) else {
                return Ok(current);
            };
            match atomics::swap(cas, &next) {
                Ok(()) => return Ok(Some(next)),
                Err(atomics::CasError::CasFailed(newer)) => cas = newer,
                Err(atomics::CasError::StoreError(e)) => return Err(unavailable(key, e)),
            }
            backoff(round).await;
        }
        Err(unavailable(
            key,
            format!("still contended after {MAX_UPDATE_ATTEMPTS} compare-and-swap rounds"),
        ))
    }

    /// Applies `event` to the JSON object under `key` at most once: `apply`
    /// gets the current bytes and returns the new object; the event's marker
    /// is stored in the object (`applied_events`, the last
    /// [`APPLIED_EVENTS_KEPT`]) in the same compare-and-swap. Returns the
    /// stored bytes and whether this call applied the event (false: it had
    /// been applied before).
    pub async fn apply_once(
        &self,
        key: &str,
        event: &str,
        mut apply: impl FnMut(Option<&[u8]>) -> Vec<u8>,
    ) -> Result<(Vec<u8>, bool), ApiError> {
        let marker = Value::String(event_marker(event));
        let mut applied_now = false;
        let stored = self
            .update(key, |current| {
                let mut seen = applied_events(current);
                if seen.contains(&marker) {
                    applied_now = false;
                    return None;
                }
                let mut object = match serde_json::from_slice::<Value>(&apply(current)) {
                    Ok(Value::Object(object)) => object,
                    _ => serde_json::Map::new(),
                };
                seen.push(marker.clone());
                let excess = seen.len().saturating_sub(APPLIED_EVENTS_KEPT);
                seen.drain(..excess);
                object.insert(APPLIED_FIELD.into(), Value::Array(seen));
                applied_now = true;
                serde_json::to_vec(&object).ok()
            })
            .await?;
        Ok((stored.unwrap_or_default(), applied_now))
    }
}

/// The event markers stored in a JSON object (none when absent or unreadable).
fn applied_events(bytes: Option<&[u8]>) -> Vec<Value> {
    bytes
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .and_then(|mut v| match v.get_mut(APPLIED_FIELD).map(Value::take) {
            Some(Value::Array(items)) => Some(items),
            _ => None,
        })
        .unwrap_or_default()
}

/// Parses stored JSON; an unreadable value is logged and treated as absent.
pub fn parse_logged<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Option<T> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            eprintln!("state store: {key}: unreadable value ignored: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_marker_is_the_tail_of_its_id() {
        assert_eq!(event_marker("c-0123456789abcdef01234567"), "cdef01234567");
        assert_eq!(event_marker("short"), "short");
        assert_eq!(event_marker("ñandú-é"), "ñandú-é");
    }

    #[test]
    fn applied_events_are_read_from_the_object() {
        let bytes = br#"{"alpha":1,"applied_events":["a","b"]}"#;
        assert_eq!(
            applied_events(Some(bytes)),
            vec![Value::from("a"), Value::from("b")]
        );
        assert!(applied_events(Some(b"{}")).is_empty());
        assert!(applied_events(Some(b"not json")).is_empty());
        assert!(applied_events(None).is_empty());
    }
}
