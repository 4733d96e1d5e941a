//! `POST /api/enhance`: validates the request, answers from the response
//! cache when it can, otherwise rewrites the post with `fbposts-rewrite`
//! (form-only edits, greedy on the analyse score) and caches the answer
//! under the SHA-256 of the canonical request, the scorer version and the
//! rewrite version.

use fbposts_core::ApiError;
use fbposts_guest_kit::{JsonResponse, answer_cached, error_response, read_json_post};
use fbposts_rewrite::{EnhanceRequest, enhance};
use spin_sdk::http::Request;
use spin_sdk::http_service;

#[http_service]
async fn handle(req: Request) -> JsonResponse {
    let body = match read_json_post(req).await {
        Ok(body) => body,
        Err(err) => return error_response(&err),
    };
    let request = match EnhanceRequest::from_json(&body) {
        Ok(request) => request,
        Err(err) => return error_response(&ApiError::from(err)),
    };
    answer_cached("enhance", &request.cache_key(), || Ok(enhance(&request))).await
}
