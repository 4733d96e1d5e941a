//! The WIT exports, backed by [`crate::engine`]: `fbposts:ml/inference@0.1.0`
//! (run a named model on tensors) and `fbposts:pipeline/forecast@0.1.0` (the
//! engagement forecast of a planned post, from `fbposts-forecast-provider`,
//! run on the same engine in-process). Only converts between the generated
//! types and the engine's own.

#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "fbposts:ml/inference-provider",
    });
}

use bindings::exports::fbposts::ml::inference::{Error, Guest, Tensor};
use fbposts_engagement::encoding::features_tensor;
use fbposts_engagement::tensors::timing_from_tensors;
use fbposts_engagement::{
    Engine, EngineError, FeatureRow, INPUT_NAME, MODEL_NAME, Outputs, TIMING_MODEL_NAME,
    TargetQuantiles,
};
use fbposts_forecast_provider::wit as forecast;

use crate::engine::{self, InferenceError};

/// How this implementation names itself in `model.implementation`.
const IMPLEMENTATION: &str = "portable (tract)";

struct Component;

impl Guest for Component {
    fn run(model: String, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, Error> {
        let inputs: Vec<engine::Tensor> = inputs
            .into_iter()
            .map(|t| engine::Tensor::new(t.name, t.shape, t.data))
            .collect();
        match engine::run(&model, &inputs) {
            Ok(outputs) => Ok(outputs
                .into_iter()
                .map(|t| Tensor {
                    name: t.name,
                    shape: t.shape,
                    data: t.data,
                })
                .collect()),
            Err(InferenceError::UnknownModel(name)) => Err(Error::UnknownModel(name)),
            Err(InferenceError::BadShape(message)) => Err(Error::BadShape(message)),
            Err(InferenceError::Backend(message)) => Err(Error::Backend(message)),
        }
    }
}

/// The engagement model on tract, in this instance; slots are ranked on
/// its timing head (`models/engagement-timing`, embedded beside it).
struct TractEngine;

impl TractEngine {
    fn run_model(model: &str, rows: &[FeatureRow]) -> Result<Vec<engine::Tensor>, EngineError> {
        let (shape, data) = features_tensor(rows);
        let input = engine::Tensor::new(INPUT_NAME, shape, data);
        engine::run(model, &[input]).map_err(|err| match err {
            InferenceError::UnknownModel(name) => EngineError::UnknownModel(name),
            InferenceError::BadShape(message) => EngineError::Contract(message),
            InferenceError::Backend(message) => EngineError::Unavailable(message),
        })
    }
}

fn views(outputs: &[engine::Tensor]) -> impl Iterator<Item = (&str, &[u32], &[f32])> {
    outputs
        .iter()
        .map(|t| (t.name.as_str(), t.shape.as_slice(), t.data.as_slice()))
}

impl Engine for TractEngine {
    fn run(&self, rows: &[FeatureRow]) -> Result<Outputs, EngineError> {
        let outputs = Self::run_model(MODEL_NAME, rows)?;
        Outputs::from_tensors(rows.len(), views(&outputs))
    }

    fn run_timing(&self, rows: &[FeatureRow]) -> Option<Result<Vec<TargetQuantiles>, EngineError>> {
        Some(
            Self::run_model(TIMING_MODEL_NAME, rows)
                .and_then(|outputs| timing_from_tensors(rows.len(), views(&outputs))),
        )
    }
}

impl forecast::Guest for Component {
    fn implementation() -> String {
        IMPLEMENTATION.to_string()
    }

    fn forecast(
        post: forecast::PlannedPost,
        page: Option<forecast::Page>,
    ) -> Result<forecast::Answer, forecast::Error> {
        fbposts_forecast_provider::answer(&TractEngine, IMPLEMENTATION, post, page)
    }
}

/// The generated `cabi` export functions, which wit-bindgen writes with
/// `unsafe` and `#[unsafe(export_name)]`.
#[allow(unsafe_code)]
mod export {
    use super::{Component, bindings};
    bindings::export!(Component with_types_in bindings);
    fbposts_forecast_provider::bindings::export_forecast!(Component with_types_in fbposts_forecast_provider::bindings);
}
