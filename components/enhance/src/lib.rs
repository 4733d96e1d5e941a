//! `POST /api/enhance`: validates the request, answers from the response
//! cache when it can, otherwise rewrites the post with `fbposts-rewrite`
//! (form-only edits, greedy on the analyse score, every version scored
//! through the imported `fbposts:pipeline/analysis` step) and caches the
//! answer under the SHA-256 of the canonical request, the scorer version
//! and the rewrite version. Each answer is a `post.enhanced` event when
//! events are on ([`fbposts_guest_kit::events`]).

use fbposts_core::ApiError;
use fbposts_guest_kit::analysis::analyze;
use fbposts_guest_kit::events::{EventKind, Publisher, new_event_id};
use fbposts_guest_kit::post::{BodyEnd, PostRequest};
use fbposts_guest_kit::{JsonResponse, cached_json, error_response, json_bytes};
use fbposts_rewrite::{EnhanceRequest, enhance_with};

fbposts_guest_kit::json_post_service!(handle);

async fn handle(req: PostRequest) -> JsonResponse {
    let publish = !req.computed_ahead();
    let body = match req.read_json(BodyEnd::DocumentSuffices).await {
        Ok(body) => body,
        Err(err) => return error_response(&err),
    };
    let request = match EnhanceRequest::from_json(&body) {
        Ok(request) => request,
        Err(err) => return error_response(&ApiError::from(err)),
    };
    match cached_json("enhance", &request.cache_key(), || {
        enhance_with(&request, analyze)
    })
    .await
    {
        Ok((answer, status)) => {
            if publish && let Some(publisher) = Publisher::from_variables().await {
                let data = serde_json::json!({ "post_type": request.post_type.map(|t| t.code()) });
                publisher
                    .publish(EventKind::Enhanced, new_event_id("enhanced"), data)
                    .await;
            }
            json_bytes(200, answer, &[status.header()])
        }
        Err(response) => response,
    }
}
