//! Runs the embedded ONNX models with tract: loads a model into a runnable
//! plan once per instance (cached), checks the caller's inputs against the
//! graph's inputs (`fbposts-model-signature`, the check every implementation
//! shares), and returns every graph output as an f32 tensor.
//!
//! Loading path (per instance, so per request at worst): parse →
//! `into_typed()` → [`lower`] (each op's `codegen` rewrite, nothing else) →
//! `into_runnable()`. The `load_timing` benchmark (`examples/load_timing.rs`)
//! compares it with tract's usual paths: the unoptimized typed plan loads a
//! little faster but, natively, its generic einsum gives rows that depend (by
//! a few ULPs) on the batch they are in; `optimize()`/`into_optimized()` run
//! declutter and fusion passes that cost 2x–5x more to load than they can win
//! back in one request on a model this small.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, LazyLock, OnceLock};

use thiserror::Error;
use tract_onnx::prelude::{
    DatumType, Framework, InferenceModelExt, IntoRunnable, TDim, TValue, TVec, TractResult,
    TypedModel, TypedRunnableModel, onnx,
};

use crate::models::{self, MODELS};
use fbposts_model_signature::{BadInput, Dim, InputSpec, InputTensor, Signature};

/// A dense row-major f32 tensor, as in `fbposts:ml/inference`'s `tensor`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// The graph input or output name.
    pub name: String,
    /// Dimensions, outermost first.
    pub shape: Vec<u32>,
    /// `shape.iter().product()` values, row-major.
    pub data: Vec<f32>,
}

impl Tensor {
    pub fn new(name: impl Into<String>, shape: Vec<u32>, data: Vec<f32>) -> Self {
        Self {
            name: name.into(),
            shape,
            data,
        }
    }
}

/// Why [`run`] failed; mirrors the WIT `error` variant.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InferenceError {
    /// No embedded model has that name; carries the name that was asked for.
    #[error("unknown model `{0}` (this component has: {models})", models = known_models())]
    UnknownModel(String),
    /// An input is missing, misnamed, duplicated, or its shape/data length is wrong.
    #[error("bad input: {0}")]
    BadShape(String),
    /// tract failed to load or run the model.
    #[error("inference backend: {0}")]
    Backend(String),
}

fn known_models() -> String {
    models::names().collect::<Vec<_>>().join(", ")
}

impl InferenceError {
    fn backend(context: &str, err: impl fmt::Display) -> Self {
        // `{:#}` keeps anyhow's context chain on one line.
        Self::Backend(format!("{context}: {err:#}"))
    }
}

/// Runs the model called `model` on `inputs` (one tensor per graph input, by
/// name, in any order) and returns every graph output, named as the graph
/// names them, in graph order.
pub fn run(model: &str, inputs: &[Tensor]) -> Result<Vec<Tensor>, InferenceError> {
    let loaded = loaded(model)?;
    let values = loaded.bind_inputs(model, inputs)?;
    let outputs = loaded
        .plan
        .run(values)
        .map_err(|err| InferenceError::backend(&format!("running `{model}`"), err))?;
    outputs
        .into_iter()
        .zip(&loaded.outputs)
        .map(|(value, name)| to_tensor(name, value))
        .collect()
}

/// Loads (once per instance) the model called `name` without running it.
/// Useful to pay the load up front, e.g. in a benchmark.
pub fn preload(name: &str) -> Result<(), InferenceError> {
    loaded(name).map(|_| ())
}

/// One slot per entry of [`MODELS`]; a model is loaded on first use and kept
/// for the instance's lifetime. A load failure is cached too: the bytes are
/// compiled in, so it would fail the same way again.
static LOADED: LazyLock<Vec<OnceLock<Result<Loaded, InferenceError>>>> =
    LazyLock::new(|| MODELS.iter().map(|_| OnceLock::new()).collect());

fn loaded(name: &str) -> Result<&'static Loaded, InferenceError> {
    let (index, model) =
        models::find(name).ok_or_else(|| InferenceError::UnknownModel(name.to_owned()))?;
    LOADED[index]
        .get_or_init(|| Loaded::from_onnx(model.onnx).map_err(|err| err.in_model(name)))
        .as_ref()
        .map_err(Clone::clone)
}

impl InferenceError {
    fn in_model(self, name: &str) -> Self {
        match self {
            Self::Backend(message) => Self::Backend(format!("model `{name}`: {message}")),
            other => other,
        }
    }
}

/// A model ready to run, with what is needed to check inputs and name outputs.
struct Loaded {
    plan: Arc<TypedRunnableModel>,
    signature: Signature,
    /// The element type of each input, in graph order (callers send f32).
    input_types: Vec<DatumType>,
    outputs: Vec<String>,
}

impl Loaded {
    fn from_onnx(bytes: &[u8]) -> Result<Self, InferenceError> {
        let model = onnx()
            .model_for_read(&mut &bytes[..])
            .map_err(|err| InferenceError::backend("parsing ONNX", err))?;
        let mut model = model
            .into_typed()
            .map_err(|err| InferenceError::backend("typing the graph", err))?;
        let (signature, input_types) = signature(&model)?;
        let outputs = output_names(&model)?;
        lower(&mut model).map_err(|err| InferenceError::backend("lowering", err))?;
        let plan = model
            .into_runnable()
            .map_err(|err| InferenceError::backend("planning", err))?;
        Ok(Self {
            plan,
            signature,
            input_types,
            outputs,
        })
    }

    /// Checks `given` against the graph inputs (the check every
    /// implementation shares) and returns them as tract values in graph order.
    fn bind_inputs(&self, model: &str, given: &[Tensor]) -> Result<TVec<TValue>, InferenceError> {
        let bound = self
            .signature
            .bind(model, given)
            .map_err(|BadInput(message)| InferenceError::BadShape(message))?;
        bound
            .into_iter()
            .zip(&self.input_types)
            .map(|(tensor, &datum_type)| to_value(tensor, datum_type))
            .collect()
    }
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

fn to_value(tensor: &Tensor, datum_type: DatumType) -> Result<TValue, InferenceError> {
    let shape: Vec<usize> = tensor.shape.iter().map(|&d| d as usize).collect();
    let value = tract_onnx::prelude::Tensor::from_shape::<f32>(&shape, &tensor.data)
        .map_err(|err| InferenceError::backend("building the input tensor", err))?;
    if datum_type == DatumType::F32 {
        return Ok(value.into());
    }
    let cast = value
        .cast_to_dt(datum_type)
        .map_err(|err| {
            InferenceError::backend(
                &format!("casting input `{}` to {datum_type:?}", tensor.name),
                err,
            )
        })?
        .into_owned();
    Ok(cast.into())
}

/// Rewrites every op that has a faster runnable form (an einsum into a packed
/// matmul, ...) by applying its `codegen` patch, until none applies: tract's
/// `optimize()` minus its `declutter`, constant-propagation and fusion passes,
/// which dominate load time. Like tract's optimizer, a patch marked
/// `dont_apply_twice` is applied once.
pub fn lower(model: &mut TypedModel) -> TractResult<()> {
    const MAX_ROUNDS: usize = 16;
    let mut seen = HashSet::new();
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        let mut next = 0;
        while let Some((id, mut patch)) = next_codegen(model, next)? {
            next = id + 1;
            if let Some(key) = patch.dont_apply_twice.take()
                && !seen.insert(key)
            {
                continue;
            }
            patch.apply(model)?;
            changed = true;
        }
        model.compact()?;
        if !changed {
            break;
        }
    }
    Ok(())
}

/// The first node from `start` on whose op has a `codegen` patch.
fn next_codegen(
    model: &TypedModel,
    start: usize,
) -> TractResult<Option<(usize, tract_onnx::prelude::TypedModelPatch)>> {
    for node in model.nodes().iter().skip(start) {
        if let Some(patch) = node.op.codegen(model, node)? {
            return Ok(Some((node.id, patch)));
        }
    }
    Ok(None)
}

/// The graph's inputs as the shared [`Signature`], and their element types.
fn signature(model: &TypedModel) -> Result<(Signature, Vec<DatumType>), InferenceError> {
    let mut inputs = Vec::new();
    let mut types = Vec::new();
    let outlets = model
        .input_outlets()
        .map_err(|err| InferenceError::backend("listing inputs", err))?;
    for outlet in outlets {
        let fact = model
            .outlet_fact(*outlet)
            .map_err(|err| InferenceError::backend("reading an input's type", err))?;
        let dims = fact
            .shape
            .iter()
            .map(|dim| match dim {
                TDim::Val(n) => {
                    u64::try_from(*n).map_or_else(|_| Dim::Symbol(n.to_string()), Dim::Fixed)
                }
                other => Dim::Symbol(other.to_string()),
            })
            .collect();
        inputs.push(InputSpec {
            name: model.node(outlet.node).name.clone(),
            element_type: format!("{:?}", fact.datum_type),
            dims,
        });
        types.push(fact.datum_type);
    }
    Ok((Signature { inputs }, types))
}

fn output_names(model: &TypedModel) -> Result<Vec<String>, InferenceError> {
    Ok(model
        .output_outlets()
        .map_err(|err| InferenceError::backend("listing outputs", err))?
        .iter()
        .map(|outlet| {
            model
                .outlet_label(*outlet)
                .map_or_else(|| model.node(outlet.node).name.clone(), ToOwned::to_owned)
        })
        .collect())
}

fn to_tensor(name: &str, value: TValue) -> Result<Tensor, InferenceError> {
    let context = || format!("reading output `{name}`");
    let value = value
        .cast_to::<f32>()
        .map_err(|err| InferenceError::backend(&context(), err))?;
    let shape = value
        .shape()
        .iter()
        .map(|&d| u32::try_from(d))
        .collect::<Result<Vec<u32>, _>>()
        .map_err(|err| InferenceError::backend(&context(), err))?;
    let data = value
        .try_as_plain_ram()
        .and_then(|view| view.as_slice::<f32>().map(<[f32]>::to_vec))
        .map_err(|err| InferenceError::backend(&context(), err))?;
    Ok(Tensor::new(name, shape, data))
}
