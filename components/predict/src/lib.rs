//! `POST /api/predict`: validates the request, answers from the response
//! cache when it can, otherwise runs the engagement model through the
//! imported `fbposts:ml/inference@0.1.0` — one `run` call per request with
//! the requested slot and the week's 168 weekday × hour slots — and caches
//! the answer under the SHA-256 of the canonical request, this step's
//! version and the model version.
//!
//! This crate owns only the glue: the WIT import and an [`Engine`] over it.
//! Validation, encoding, ranking and the response live in
//! `fbposts-engagement` (natively tested). Which implementation answers the
//! import (wasi-nn or portable) is decided when the app is composed.

use bytes::Bytes;
use fbposts_engagement::encoding::features_tensor;
use fbposts_engagement::{
    Engine, EngineError, FeatureRow, INPUT_NAME, MODEL_NAME, Outputs, PredictRequest, predict,
};
use fbposts_guest_kit::{
    CacheStatus, JsonResponse, ResponseCache, error_response, internal_error, json_bytes,
    read_json_post,
};
use spin_sdk::http::Request;
use spin_sdk::http_service;

/// Bindings for the inference import (wit-bindgen 0.57 through spin-sdk's
/// re-export, so the version always matches spin-sdk's). The generated glue's
/// `unsafe` comes from a proc-macro expansion, which the workspace's
/// `unsafe_code` lint does not flag (this crate builds even under `forbid`),
/// so no `allow` is needed; the crate writes no `unsafe` itself.
mod bindings {
    spin_sdk::wit_bindgen::generate!({
        path: "../../wit",
        world: "fbposts:ml/inference-user",
        runtime_path: "::spin_sdk::wit_bindgen::rt",
    });
}

use bindings::fbposts::ml::inference;

/// Environment variable naming the inference implementation composed into
/// this component (set with `environment = { ... }` in `spin.toml`, or by the
/// host); the WIT itself has no way to ask.
const IMPLEMENTATION_ENV: &str = "INFERENCE_IMPLEMENTATION";
/// `model.implementation` when the variable is unset.
const IMPLEMENTATION_UNKNOWN: &str = "fbposts:ml/inference";

/// The name reported as `model.implementation`; part of the cache key so
/// answers from different implementations are never mixed.
fn implementation() -> String {
    std::env::var(IMPLEMENTATION_ENV)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| IMPLEMENTATION_UNKNOWN.to_string())
}

/// The engagement model behind the `fbposts:ml/inference` import.
struct WitEngine;

impl Engine for WitEngine {
    fn run(&self, rows: &[FeatureRow]) -> Result<Outputs, EngineError> {
        let (shape, data) = features_tensor(rows);
        let input = inference::Tensor {
            name: INPUT_NAME.to_string(),
            shape,
            data,
        };
        match inference::run(MODEL_NAME, &[input]) {
            Ok(outputs) => Outputs::from_tensors(
                rows.len(),
                outputs
                    .iter()
                    .map(|t| (t.name.as_str(), t.shape.as_slice(), t.data.as_slice())),
            ),
            Err(inference::Error::UnknownModel(detail)) => {
                Err(EngineError::UnknownModel(if detail.is_empty() {
                    MODEL_NAME.to_string()
                } else {
                    detail
                }))
            }
            Err(inference::Error::BadShape(detail)) => Err(EngineError::Contract(detail)),
            Err(inference::Error::Backend(detail)) => Err(EngineError::Unavailable(detail)),
        }
    }
}

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
    let key = request.cache_key_for(&implementation);
    let cache = ResponseCache::open("predict").await;
    if let Some(cached) = cache.get(&key).await {
        return json_bytes(200, Bytes::from(cached), &[CacheStatus::Hit.header()]);
    }
    let response = match predict(&request, &WitEngine, &implementation) {
        Ok(response) => response,
        Err(err) => {
            eprintln!("predict: inference failed: {err:?}");
            return error_response(&err.to_api_error());
        }
    };
    let Ok(encoded) = serde_json::to_vec(&response) else {
        return internal_error("could not encode the prediction");
    };
    cache.put(&key, &encoded).await;
    json_bytes(200, Bytes::from(encoded), &[CacheStatus::Miss.header()])
}
