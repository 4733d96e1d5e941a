//! `fbposts:ml/inference` over `wasi:nn@0.2.0-rc-2024-10-28`: the model is
//! looked up by name (`load-by-name`, preloaded by the host from
//! `models/<name>/`), inputs are passed as named FP32 tensors, and every
//! output comes back as a named f32 tensor. Errors map onto the interface's
//! typed errors: `not-found` → unknown model, `invalid-argument` → bad shape,
//! anything else → backend. Bad inputs are refused before the host sees them,
//! against the signature the model ships with ([`signatures`]): the same
//! check, and the same words, as `inference-portable`.
//!
//! It also exports `fbposts:pipeline/forecast@0.1.0` (the engagement
//! forecast of a planned post, from `fbposts-forecast-provider`) on the same
//! wasi-nn graph, in-process, and names itself `wasi-nn` there: the host's
//! backend (ONNX Runtime or OpenVINO) is invisible through wasi-nn.

/// Generated bindings; exporting needs the `unsafe` ABI glue wit-bindgen emits
/// (the workspace denies `unsafe` everywhere else).
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "fbposts:ml/inference-wasi-nn",
        generate_all,
    });
    use super::WasiNnInference;
    export!(WasiNnInference with_types_in self);
    fbposts_forecast_provider::bindings::export_forecast!(WasiNnInference with_types_in fbposts_forecast_provider::bindings);
}

use bindings::exports::fbposts::ml::inference::{Error, Guest, Tensor};
use bindings::wasi::nn::errors::{self, ErrorCode};
use bindings::wasi::nn::graph;
use bindings::wasi::nn::tensor::{Tensor as NnTensor, TensorType};

use fbposts_engagement::encoding::features_tensor;
use fbposts_engagement::tensors::timing_from_tensors;
use fbposts_engagement::{
    Engine, EngineError, FeatureRow, INPUT_NAME, MODEL_NAME, Outputs, TIMING_MODEL_NAME,
    TargetQuantiles,
};
use fbposts_forecast_provider::wit as forecast;
use fbposts_model_signature::{BadInput, InputTensor, check_data_len};
use std::sync::atomic::{AtomicBool, Ordering};

mod signatures;

/// How this implementation names itself in `model.implementation`.
const IMPLEMENTATION: &str = "wasi-nn";

struct WasiNnInference;

/// The engagement model on the host's wasi-nn, through this component's own
/// `run` (no component boundary in between). It ranks slots on the model's
/// timing head when the host serves one (`models/engagement-timing`); a host
/// whose models folder lacks it gets one batch of the whole model instead.
struct WasiNnEngine;

/// Set once the host answered that it has no timing head, so later requests
/// of this instance do not ask again.
static NO_TIMING_HEAD: AtomicBool = AtomicBool::new(false);

impl WasiNnEngine {
    fn run_model(model: &str, rows: &[FeatureRow]) -> Result<Vec<Tensor>, EngineError> {
        let (shape, data) = features_tensor(rows);
        let input = Tensor {
            name: INPUT_NAME.to_string(),
            shape,
            data,
        };
        <WasiNnInference as Guest>::run(model.to_string(), vec![input]).map_err(|err| match err {
            Error::UnknownModel(name) => EngineError::UnknownModel(name),
            Error::BadShape(message) => EngineError::Contract(message),
            Error::Backend(message) => EngineError::Unavailable(message),
        })
    }
}

fn views(outputs: &[Tensor]) -> impl Iterator<Item = (&str, &[u32], &[f32])> {
    outputs
        .iter()
        .map(|t| (t.name.as_str(), t.shape.as_slice(), t.data.as_slice()))
}

impl Engine for WasiNnEngine {
    fn run(&self, rows: &[FeatureRow]) -> Result<Outputs, EngineError> {
        let outputs = Self::run_model(MODEL_NAME, rows)?;
        Outputs::from_tensors(rows.len(), views(&outputs))
    }

    fn run_timing(&self, rows: &[FeatureRow]) -> Option<Result<Vec<TargetQuantiles>, EngineError>> {
        if NO_TIMING_HEAD.load(Ordering::Relaxed) {
            return None;
        }
        match Self::run_model(TIMING_MODEL_NAME, rows) {
            Ok(outputs) => Some(timing_from_tensors(rows.len(), views(&outputs))),
            Err(EngineError::UnknownModel(_)) => {
                NO_TIMING_HEAD.store(true, Ordering::Relaxed);
                None
            }
            Err(err) => Some(Err(err)),
        }
    }
}

impl forecast::Guest for WasiNnInference {
    fn implementation() -> String {
        IMPLEMENTATION.to_string()
    }

    fn forecast(
        post: forecast::PlannedPost,
        page: Option<forecast::Page>,
    ) -> Result<forecast::Answer, forecast::Error> {
        fbposts_forecast_provider::answer(&WasiNnEngine, IMPLEMENTATION, post, page)
    }
}

fn nn_error(context: &str, err: errors::Error) -> Error {
    let message = format!("{context}: {}", err.data());
    match err.code() {
        ErrorCode::InvalidArgument => Error::BadShape(message),
        _ => Error::Backend(message),
    }
}

/// Refuses inputs that do not fit the model with `bad-shape`, before the
/// host sees them: by the model's shipped signature when it has one
/// ([`signatures`]), else by checking that each input's data fills its shape.
fn check_inputs(model: &str, inputs: &[Tensor]) -> Result<(), Error> {
    let checked = match signatures::find(model) {
        Some(signature) => signature.bind(model, inputs).map(drop),
        None => inputs.iter().try_for_each(check_data_len),
    };
    checked.map_err(|BadInput(message)| Error::BadShape(message))
}

impl InputTensor for Tensor {
    fn name(&self) -> &str {
        &self.name
    }
    fn shape(&self) -> &[u32] {
        &self.shape
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn to_le_bytes(data: &[f32]) -> Vec<u8> {
    data.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn from_le_bytes(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

impl Guest for WasiNnInference {
    fn run(model: String, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, Error> {
        let graph = graph::load_by_name(&model).map_err(|err| match err.code() {
            ErrorCode::NotFound | ErrorCode::InvalidArgument => Error::UnknownModel(model.clone()),
            _ => nn_error("loading the model", err),
        })?;
        check_inputs(&model, &inputs)?;
        let context = graph
            .init_execution_context()
            .map_err(|err| nn_error("creating an execution context", err))?;
        let named = inputs
            .iter()
            .map(|t| {
                (
                    t.name.clone(),
                    NnTensor::new(&t.shape, TensorType::Fp32, &to_le_bytes(&t.data)),
                )
            })
            .collect();
        let outputs = context
            .compute(named)
            .map_err(|err| nn_error("running the model", err))?;
        outputs
            .into_iter()
            .map(|(name, tensor)| {
                if tensor.ty() != TensorType::Fp32 {
                    return Err(Error::Backend(format!("output {name:?} is not f32")));
                }
                Ok(Tensor {
                    name,
                    shape: tensor.dimensions(),
                    data: from_le_bytes(&tensor.data()),
                })
            })
            .collect()
    }
}
