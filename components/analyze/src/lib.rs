//! `POST /api/analyze`: validates the request, answers from the response cache
//! when it can, otherwise scores the post with `fbposts-core` and caches the
//! answer under the SHA-256 of the canonical request and the scorer version.

use bytes::Bytes;
use fbposts_core::{AnalyzeRequest, analyze};
use fbposts_guest_kit::{
    CacheStatus, JsonResponse, ResponseCache, error_response, internal_error, json_bytes,
    read_json_post,
};
use spin_sdk::http::Request;
use spin_sdk::http_service;

#[http_service]
async fn handle(req: Request) -> JsonResponse {
    let body = match read_json_post(req).await {
        Ok(body) => body,
        Err(err) => return error_response(&err),
    };
    let request = match AnalyzeRequest::from_json(&body) {
        Ok(request) => request,
        Err(err) => return error_response(&err),
    };
    let key = request.cache_key();
    let cache = ResponseCache::open("analyze").await;
    if let Some(cached) = cache.get(&key).await {
        return json_bytes(200, Bytes::from(cached), &[CacheStatus::Hit.header()]);
    }
    let analysis = analyze(&request);
    let Ok(encoded) = serde_json::to_vec(&analysis) else {
        return internal_error("could not encode the analysis");
    };
    cache.put(&key, &encoded).await;
    json_bytes(200, Bytes::from(encoded), &[CacheStatus::Miss.header()])
}
