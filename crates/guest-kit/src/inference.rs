//! The `fbposts:ml/inference@0.1.0` import as an engagement-model
//! [`Engine`] (feature `inference`), shared by every step that predicts
//! engagement. Which implementation answers (wasi-nn or portable) is decided
//! when the app is composed; the component's `INFERENCE_IMPLEMENTATION`
//! environment variable names it. Also loads a page's online models
//! ([`load_page_models`]), which every predicting step blends in.

use crate::state::StateStore;
use fbposts_core::ApiError;
use fbposts_engagement::encoding::features_tensor;
use fbposts_engagement::page::PAGE_TARGETS;
use fbposts_engagement::{
    Engine, EngineError, FeatureRow, INPUT_NAME, MODEL_NAME, Outputs, PageModels, page_model_key,
};
use fbposts_learning::PageModel;

/// Bindings for the import (wit-bindgen through spin-sdk's re-export, so the
/// version always matches spin-sdk's). The generated glue's `unsafe` comes
/// from a proc-macro expansion; this crate writes none itself.
mod bindings {
    spin_sdk::wit_bindgen::generate!({
        path: "../../wit",
        world: "fbposts:ml/inference-user",
        runtime_path: "::spin_sdk::wit_bindgen::rt",
    });
}

use bindings::fbposts::ml::inference;

/// Environment variable naming the inference implementation composed into
/// the component (set in `spin.toml`, or by the host when it swaps).
const IMPLEMENTATION_ENV: &str = "INFERENCE_IMPLEMENTATION";
/// The name when the variable is unset.
const IMPLEMENTATION_UNKNOWN: &str = "fbposts:ml/inference";

/// The name reported as `model.implementation`.
pub fn implementation() -> String {
    std::env::var(IMPLEMENTATION_ENV)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| IMPLEMENTATION_UNKNOWN.to_string())
}

/// The engagement model behind the import.
#[derive(Debug, Clone, Copy, Default)]
pub struct WitEngine;

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

/// A page's online models from the `default` store (fresh ones where
/// absent; an unreadable stored model is logged and replaced by a fresh one).
pub async fn load_page_models(state: &StateStore, page_id: &str) -> Result<PageModels, ApiError> {
    let mut page = PageModels {
        page_id: page_id.to_string(),
        ..PageModels::default()
    };
    for ((target, _), model) in PAGE_TARGETS.iter().zip(page.models.iter_mut()) {
        let key = page_model_key(page_id, target);
        if let Some(bytes) = state.get_bytes(&key).await? {
            match PageModel::from_json(&bytes) {
                Ok(stored) => *model = stored,
                Err(err) => eprintln!("{key}: {err}; using a fresh model"),
            }
        }
    }
    Ok(page)
}
