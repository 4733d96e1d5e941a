//! `POST /api/predict`: validates the request, answers from the response
//! cache when it can, otherwise runs the engagement model through the
//! imported `fbposts:ml/inference@0.1.0` — one `run` call per request with
//! the requested slot and the week's 168 weekday × hour slots — and caches
//! the answer under the SHA-256 of the canonical request, this step's
//! version and the model version.
//!
//! With `page_id`, the page's own models (taught by `/api/feedback`, kept in
//! the `default` store) are blended in once they have enough observations.
//!
//! This crate owns only the glue (the inference engine over the WIT import
//! lives in `fbposts-guest-kit`).
//! Validation, encoding, ranking and the response live in
//! `fbposts-engagement` (natively tested). Which implementation answers the
//! import (wasi-nn or portable) is decided when the app is composed.

use fbposts_engagement::{PredictRequest, predict};
use fbposts_guest_kit::inference::{WitEngine, implementation, load_page_models};
use fbposts_guest_kit::{JsonResponse, answer_cached, error_response, read_json_post};
use spin_sdk::http::Request;
use spin_sdk::http_service;

#[http_service]
async fn handle(req: Request) -> JsonResponse {
    let body = match read_json_post(req).await {
        Ok(body) => body,
        Err(err) => return error_response(&err),
    };
    let request = match PredictRequest::from_json(&body) {
        Ok(request) => request,
        Err(err) => return error_response(&err),
    };
    let implementation = implementation();
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
    answer_cached("predict", &key, || {
        predict(&request, &WitEngine, &implementation, page.as_ref()).map_err(|err| {
            eprintln!("predict: inference failed: {err:?}");
            err.to_api_error()
        })
    })
    .await
}

/// The page's models, from the `default` store.
async fn load_page(
    page_id: &str,
) -> Result<fbposts_engagement::PageModels, fbposts_core::ApiError> {
    let state = fbposts_guest_kit::state::StateStore::open().await?;
    load_page_models(&state, page_id).await
}
