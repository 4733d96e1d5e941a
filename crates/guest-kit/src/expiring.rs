//! The guest side of [`crate::expiry`]: a `wasi:keyvalue` bucket as the
//! index's store, expiring values in the learning state
//! ([`StateStore::set_expiring`], [`StateStore::get_live`]) and the
//! lifetimes, each a Spin variable with a default.
//!
//! | variable | default | what expires |
//! |---|---|---|
//! | `response_cache_lifetime_secs` | 1 day | cached responses (`cache` store) |
//! | `candidate_lifetime_secs` | 7 days | `candidate/<id>`: feedback on a candidate must arrive within this |
//! | `feedback_lifetime_secs` | 400 days | `feedback/<id>` records; events published longer ago are refused |

use crate::expiry::{self, ExpiryIndex, IndexStore, seal};
use crate::state::bindings::{atomics, batch, store as wasi_store};
use crate::state::{StateStore, parse_logged, unavailable};
use fbposts_core::ApiError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Spin variable: lifetime of a cached response (seconds).
pub const RESPONSE_CACHE_LIFETIME: &str = "response_cache_lifetime_secs";
/// A day: responses are pure functions of their (versioned) key, so a
/// lifetime only bounds the cache's size; a day keeps repeats within a
/// working day cheap.
pub const DEFAULT_RESPONSE_CACHE_SECS: u64 = 86_400;
/// Spin variable: lifetime of a generated candidate (seconds).
pub const CANDIDATE_LIFETIME: &str = "candidate_lifetime_secs";
/// A week: a candidate is scheduled, published and its first days of
/// engagement counted before its feedback arrives.
pub const DEFAULT_CANDIDATE_SECS: u64 = 7 * 86_400;
/// Spin variable: lifetime of a feedback record (seconds).
pub const FEEDBACK_LIFETIME: &str = "feedback_lifetime_secs";
/// 400 days: a year of a page's history plus a margin.
pub const DEFAULT_FEEDBACK_SECS: u64 = 400 * 86_400;

/// When a feedback record expires (seconds since the Unix epoch): `lifetime`
/// after the later of the post's publication and `now`. An event published
/// more than `lifetime` before `now` is refused (`422 event_too_old`), so a
/// resend either finds its record or is refused by its age.
pub fn feedback_record_expiry(
    published: Option<i64>,
    now: u64,
    lifetime: u64,
) -> Result<u64, ApiError> {
    let now_signed = i64::try_from(now).unwrap_or(i64::MAX);
    let published = published.unwrap_or(now_signed);
    let days = lifetime / 86_400;
    if now_signed.saturating_sub(published) > i64::try_from(lifetime).unwrap_or(i64::MAX) {
        return Err(ApiError::new(
            422,
            "event_too_old",
            format!(
                "'published_at' is more than {days} days ({lifetime} s) ago; feedback is accepted, and deduplicated, for that long after publication"
            ),
        ));
    }
    let later = now.max(u64::try_from(published).unwrap_or(0));
    Ok(later.saturating_add(lifetime))
}

/// A store opened through `wasi:keyvalue`.
pub type Bucket = wasi_store::Bucket;

/// The store `label` through `wasi:keyvalue`, opened once per instance
/// ([`crate::instance::bucket`]).
pub fn open_bucket(label: &'static str) -> Result<std::rc::Rc<Bucket>, String> {
    crate::instance::bucket(label).map_err(message)
}

/// A `wasi:keyvalue` bucket as the store of an [`ExpiryIndex`].
pub struct WasiIndexStore<'a>(pub &'a Bucket);

fn message(err: impl std::fmt::Debug) -> String {
    format!("{err:?}")
}

impl IndexStore for WasiIndexStore<'_> {
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, String> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let pairs = batch::get_many(self.0, keys).map_err(message)?;
        Ok(pairs.into_iter().map(|(_, value)| value).collect())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.0.set(key, value).map_err(message)
    }

    fn delete_many(&self, keys: &[String]) -> Result<(), String> {
        if keys.is_empty() {
            return Ok(());
        }
        batch::delete_many(self.0, keys).map_err(message)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, String> {
        atomics::increment(self.0, key, delta).map_err(message)
    }

    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, String> {
        let cas = atomics::Cas::new(self.0, key).map_err(message)?;
        if cas.current().map_err(message)?.as_deref() != expected {
            return Ok(false);
        }
        match atomics::swap(cas, new) {
            Ok(()) => Ok(true),
            Err(atomics::CasError::CasFailed(_)) => Ok(false),
            Err(atomics::CasError::StoreError(e)) => Err(message(e)),
        }
    }
}

impl StateStore {
    /// The expiry index of the `default` store.
    pub fn expiry_index(&self) -> ExpiryIndex<WasiIndexStore<'_>> {
        ExpiryIndex::new(WasiIndexStore(&self.bucket))
    }

    /// Lists `key` in the expiry index (before its value is written: a crash
    /// in between leaves a slot naming an absent key, which is harmless).
    pub fn index_expiry(&self, key: &str, expires_at: u64) -> Result<(), ApiError> {
        self.expiry_index()
            .record(key, expires_at)
            .map_err(|e| unavailable(key, e))
    }

    /// Stores a JSON value that expires at `expires_at` (seconds since the
    /// Unix epoch) and lists it in the expiry index.
    pub async fn set_expiring<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        expires_at: u64,
    ) -> Result<(), ApiError> {
        let json = serde_json::to_vec(value).map_err(|e| unavailable(key, e))?;
        self.index_expiry(key, expires_at)?;
        self.set_bytes(key, seal(&json, expires_at)).await
    }

    /// A JSON value written by [`Self::set_expiring`] (or without expiry);
    /// `None` when absent or expired.
    pub async fn get_live<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ApiError> {
        let bytes = self.get_bytes(key).await?;
        Ok(bytes.and_then(|b| {
            expiry::open(&b, expiry::now_secs())
                .value()
                .and_then(|value| parse_logged(key, value))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;
    const YEAR: u64 = 365 * 86_400;

    #[test]
    fn a_feedback_record_outlives_the_window_in_which_its_event_is_accepted() {
        let published = NOW as i64 - 10 * 86_400;
        let expires = feedback_record_expiry(Some(published), NOW, YEAR).unwrap();
        assert_eq!(expires, NOW + YEAR);
        // A resend accepted at any later time finds the record still there.
        let last_accepted = published as u64 + YEAR;
        assert!(expires > last_accepted);
        assert!(feedback_record_expiry(Some(published), last_accepted, YEAR).is_ok());
        let err = feedback_record_expiry(Some(published), last_accepted + 1, YEAR).unwrap_err();
        assert_eq!((err.status, err.code), (422, "event_too_old"));
    }

    #[test]
    fn a_post_published_in_the_future_keeps_its_record_from_its_publication() {
        let published = (NOW + 86_400) as i64;
        assert_eq!(
            feedback_record_expiry(Some(published), NOW, YEAR).unwrap(),
            NOW + 86_400 + YEAR
        );
    }

    #[test]
    fn an_event_without_a_readable_time_counts_from_its_arrival() {
        assert_eq!(feedback_record_expiry(None, NOW, 60).unwrap(), NOW + 60);
        assert_eq!(
            feedback_record_expiry(Some(i64::MIN), NOW, 60)
                .unwrap_err()
                .code,
            "event_too_old"
        );
    }
}
