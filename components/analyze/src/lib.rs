//! `POST /api/analyze`: validates the request, answers from the response cache
//! when it can, otherwise scores the post through the imported
//! `fbposts:pipeline/analysis` step (the `analysis` component, composed in
//! as a Spin dependency) and caches the answer under the SHA-256 of the
//! canonical request and the scorer version.

use fbposts_core::AnalyzeRequest;
use fbposts_guest_kit::analysis::analyze;
use fbposts_guest_kit::{JsonResponse, answer_cached, error_response, read_json_post};
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
    answer_cached("analyze", &request.cache_key(), || analyze(&request)).await
}
