//! `GET /api/analytics/suggestions?page=&since=`: what the `suggestions`
//! consumer recorded ([`fbposts_guest_kit::suggestions`]) — the posts that
//! fell below their forecast's p10, newest first (at most [`SHOWN`]), each
//! with why and what to try, and the business alerts that are active (a
//! page with three or more posts in a row below p10). `page` keeps one page;
//! `since` (seconds since the Unix epoch, or RFC 3339) keeps the newer
//! suggestions. Lists the store's keys, as the summary does.

use fbposts_core::ApiError;
use fbposts_guest_kit::analytics::Filter;
use fbposts_guest_kit::state::StateStore;
use fbposts_guest_kit::suggestions::{
    BusinessAlert, POST_PREFIX, STREAK_PREFIX, Streak, Suggestion,
};
use serde::Serialize;

/// Suggestions returned at most.
const SHOWN: usize = 100;

#[derive(Serialize)]
pub struct Suggestions {
    suggestions: Vec<Suggestion>,
    alerts: Vec<BusinessAlert>,
}

pub async fn list(filter: &Filter) -> Result<Suggestions, ApiError> {
    let state = StateStore::open().await?;
    let (posts, streaks) = match &filter.page {
        Some(page) => (
            format!("{POST_PREFIX}{page}/"),
            format!("{STREAK_PREFIX}{page}"),
        ),
        None => (POST_PREFIX.to_string(), STREAK_PREFIX.to_string()),
    };
    let mut suggestions: Vec<Suggestion> = read_all(&state, &posts)
        .await?
        .into_iter()
        .filter(|s: &Suggestion| filter.since.is_none_or(|since| s.at_ms >= since * 1000))
        .collect();
    suggestions.sort_by(|a, b| b.at_ms.cmp(&a.at_ms).then(a.event_id.cmp(&b.event_id)));
    suggestions.truncate(SHOWN);
    let streaks: Vec<Streak> = read_all(&state, &streaks).await?;
    let mut alerts: Vec<BusinessAlert> = streaks
        .into_iter()
        .filter_map(|s| s.alert)
        .filter(|a| filter.page.as_ref().is_none_or(|p| *p == a.page_id))
        .collect();
    alerts.sort_by_key(|a| std::cmp::Reverse(a.fired_at_ms));
    Ok(Suggestions {
        suggestions,
        alerts,
    })
}

/// Every readable value under keys starting with `prefix`.
async fn read_all<T: serde::de::DeserializeOwned>(
    state: &StateStore,
    prefix: &str,
) -> Result<Vec<T>, ApiError> {
    let keys = state.keys_with_prefix(prefix).await?;
    let mut values = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(crate::BUCKETS_PER_READ) {
        for bytes in state.get_many(chunk).await?.into_iter().flatten() {
            if let Ok(value) = serde_json::from_slice(&bytes) {
                values.push(value);
            }
        }
    }
    Ok(values)
}
