//! The `fbposts:ml/inference@0.1.0` import as an engagement-model
//! [`Engine`] (feature `inference`), shared by every step that predicts
//! engagement and runs the model itself (`feedback`: one row). Which
//! implementation answers (wasi-nn or portable) is decided when the app is
//! composed; steps that forecast a planned post import
//! `fbposts:pipeline/forecast` instead ([`crate::forecast`]).

use fbposts_engagement::encoding::features_tensor;
use fbposts_engagement::{Engine, EngineError, FeatureRow, INPUT_NAME, MODEL_NAME, Outputs};

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
