//! `POST /api/analyze`: validates the request, answers from the response cache
//! when it can, otherwise scores the post through the imported
//! `fbposts:pipeline/analysis` step (the `analysis` component, composed in
//! as a Spin dependency) and caches the answer under the SHA-256 of the
//! canonical request and the scorer version.
//!
//! Every answered analysis (cached or not) is a `post.analyzed` event when
//! events are on ([`fbposts_guest_kit::events`]): its score, grade, language
//! and post type. Publishing never changes the answer. A request the host
//! computed ahead (pre-caching) answered nobody and publishes nothing.

use fbposts_core::AnalyzeRequest;
use fbposts_guest_kit::analysis::analyze;
use fbposts_guest_kit::events::{EventKind, Publisher, new_event_id};
use fbposts_guest_kit::post::{BodyEnd, PostRequest};
use fbposts_guest_kit::{JsonResponse, cached_json, error_response, json_bytes};

fbposts_guest_kit::json_post_service!(handle);

async fn handle(req: PostRequest) -> JsonResponse {
    let publish = !req.computed_ahead();
    let body = match req.read_json(BodyEnd::DocumentSuffices).await {
        Ok(body) => body,
        Err(err) => return error_response(&err),
    };
    let request = match AnalyzeRequest::from_json(&body) {
        Ok(request) => request,
        Err(err) => return error_response(&err),
    };
    match cached_json("analyze", &request.cache_key(), || analyze(&request)).await {
        Ok((answer, status)) => {
            if publish {
                publish_analyzed(&request, &answer).await;
            }
            json_bytes(200, answer, &[status.header()])
        }
        Err(response) => response,
    }
}

/// The `post.analyzed` event of one answer.
async fn publish_analyzed(request: &AnalyzeRequest, answer: &[u8]) {
    let Some(publisher) = Publisher::from_variables().await else {
        return;
    };
    let analysis: serde_json::Value = serde_json::from_slice(answer).unwrap_or_default();
    let data = serde_json::json!({
        "score": analysis["score"],
        "grade": analysis["grade"],
        "language": analysis["language"],
        "post_type": request.post_type.map(|t| t.code()),
    });
    publisher
        .publish(EventKind::Analyzed, new_event_id("analyzed"), data)
        .await;
}
