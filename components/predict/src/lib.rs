//! `POST /api/predict`: validates the request, answers from the response
//! cache when it can, otherwise asks the imported
//! `fbposts:pipeline/forecast` step (exported by the inference component the
//! app composed in: portable or wasi-nn) for the engagement of the planned
//! post and, with `text`, the imported `fbposts:pipeline/analysis` step for
//! its quality; caches the answer under the SHA-256 of the canonical
//! request, this step's version, the model version and the implementation.
//!
//! Each answer is a `post.predicted` event (page, post type) when events
//! are on ([`fbposts_guest_kit::events`]), unless the host computed it
//! ahead (pre-caching): then nobody was answered.
//!
//! With `page_id`, the page's own models (taught by `/api/feedback`, kept in
//! the `default` store) are loaded here and passed to the forecast, which
//! blends them in once they have enough observations.
//!
//! This crate is an adapter: validation and the response live in
//! `fbposts-engagement` (natively tested), the calls in `fbposts-guest-kit`.

use fbposts_core::ApiError;
use fbposts_engagement::{PageModels, PredictRequest, PredictResponse, Quality, respond};
use fbposts_guest_kit::events::{EventKind, Publisher, new_event_id};
use fbposts_guest_kit::pages::load_page_models;
use fbposts_guest_kit::post::{BodyEnd, PostRequest};
use fbposts_guest_kit::{
    JsonResponse, analysis, cached_json, error_response, forecast, json_bytes,
};

fbposts_guest_kit::json_post_service!(handle);

async fn handle(req: PostRequest) -> JsonResponse {
    let publish = !req.computed_ahead();
    let body = match req.read_json(BodyEnd::DocumentSuffices).await {
        Ok(body) => body,
        Err(err) => return error_response(&err),
    };
    let request = match PredictRequest::from_json(&body) {
        Ok(request) => request,
        Err(err) => return error_response(&err),
    };
    let implementation = forecast::implementation();
    let page = match &request.page_id {
        Some(page_id) => match load_page(page_id).await {
            Ok(page) => Some(page),
            Err(err) => return error_response(&err),
        },
        None => None,
    };
    let key = request.cache_key_with_page(
        &implementation,
        page.as_ref()
            .map(|p| p.models.iter().map(|m| m.observations).sum()),
    );
    let answer = cached_json("predict", &key, || {
        predict(&request, page.as_ref(), &implementation)
    })
    .await;
    match answer {
        Ok((answer, status)) => {
            if publish {
                publish_predicted(&request).await;
            }
            json_bytes(200, answer, &[status.header()])
        }
        Err(response) => response,
    }
}

/// The `post.predicted` event of one answer, when events are on.
async fn publish_predicted(request: &PredictRequest) {
    let Some(publisher) = Publisher::from_variables().await else {
        return;
    };
    let data = serde_json::json!({
        "page_id": request.page_id,
        "post_type": request.post_type.code(),
    });
    publisher
        .publish(EventKind::Predicted, new_event_id("predicted"), data)
        .await;
}

/// The forecast, the text's quality when given, and the response.
fn predict(
    request: &PredictRequest,
    page: Option<&PageModels>,
    implementation: &str,
) -> Result<PredictResponse, ApiError> {
    let outlook = forecast::outlook(request, page).map_err(|err| {
        eprintln!("predict: inference failed: {err:?}");
        err.to_api_error()
    })?;
    let quality = match &request.quality {
        Some(text) => Some(Quality::from_analysis(&analysis::analyze(text)?)),
        None => None,
    };
    let model = outlook.model_info(implementation);
    Ok(respond(
        request,
        &outlook.requested,
        &outlook.best_times,
        &outlook.best_times_basis,
        model,
        quality,
    ))
}

/// The page's models, from the `default` store.
async fn load_page(page_id: &str) -> Result<PageModels, ApiError> {
    let state = fbposts_guest_kit::state::StateStore::open().await?;
    load_page_models(&state, page_id).await
}
