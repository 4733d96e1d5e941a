//! The analytics read side, two routes of one component:
//! - `GET /api/analytics/summary?page=&since=`: the aggregates the
//!   `analytics` consumer keeps ([`fbposts_guest_kit::analytics`]), added
//!   up: totals and views per page, post type, hour of day and hour. `page`
//!   keeps one page; `since` (seconds since the Unix epoch, or RFC 3339)
//!   keeps the hours from then on. Lists the `default` store's keys (there
//!   is no prefix query), as a summary for a dashboard may; the request
//!   path of the steps never does.
//! - `GET /api/analytics/stream`: the same events live, as Server-Sent
//!   Events ([`stream`]).
//! - `GET /api/analytics/suggestions?page=&since=`: posts below their
//!   forecast's p10 with why and what to try, and the active business
//!   alerts ([`suggestions`]).

mod stream;
mod suggestions;

use bytes::Bytes;
use fbposts_core::ApiError;
use fbposts_guest_kit::analytics::{ANY_PREFIX, Filter, Summary, Tally, summarize};
use fbposts_guest_kit::state::StateStore;
use fbposts_guest_kit::{error_response, json_bytes, refuse_other_methods};
use spin_sdk::http::{BoxBody, Method, Request, Response, box_body};
use spin_sdk::http_service;

/// Buckets read per batch call.
pub(crate) const BUCKETS_PER_READ: usize = 500;

#[http_service]
async fn handle(req: Request) -> Response<BoxBody> {
    if let Some(refusal) = refuse_other_methods(&req, &[Method::GET]) {
        return refusal.map(box_body);
    }
    let path = req.uri().path();
    if path.ends_with("/stream") {
        return stream::open(&req).await;
    }
    let wants_suggestions = path.ends_with("/suggestions");
    let answer = match Filter::from_query(req.uri().query().unwrap_or("")) {
        Ok(filter) if wants_suggestions => {
            suggestions::list(&filter).await.and_then(|s| encode(&s))
        }
        Ok(filter) => summary(&filter).await.and_then(|s| encode(&s)),
        Err(err) => Err(err),
    };
    match answer {
        Ok(body) => json_bytes(200, Bytes::from(body), &[]),
        Err(err) => error_response(&err),
    }
    .map(box_body)
}

fn encode(answer: &impl serde::Serialize) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(answer)
        .map_err(|_| ApiError::new(500, "internal", "could not encode the answer"))
}

/// The buckets `filter` selects, added up.
async fn summary(filter: &Filter) -> Result<Summary, ApiError> {
    let state = StateStore::open().await?;
    let keys = state.keys_with_prefix(ANY_PREFIX).await?;
    let mut buckets = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(BUCKETS_PER_READ) {
        for (key, value) in chunk.iter().zip(state.get_many(chunk).await?) {
            if let Some(tally) =
                value.and_then(|bytes| serde_json::from_slice::<Tally>(&bytes).ok())
            {
                buckets.push((key.as_str(), tally));
            }
        }
    }
    Ok(summarize(buckets, filter))
}
