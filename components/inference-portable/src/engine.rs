//! Runs the embedded ONNX models with tract: loads a model into a runnable
//! plan once per instance (cached), checks the caller's inputs against the
//! graph's inputs, and returns every graph output as an f32 tensor.
//!
//! Loading path (per instance, so per request at worst): parse →
//! `into_typed()` → [`lower`] (each op's `codegen` rewrite, nothing else) →
//! `into_runnable()`. The `load_timing` benchmark (`examples/load_timing.rs`)
//! compares it with tract's usual paths: the unoptimized typed plan loads a
//! little faster but, natively, its generic einsum gives rows that depend (by
//! a few ULPs) on the batch they are in; `optimize()`/`into_optimized()` run
//! declutter and fusion passes that cost 2x–5x more to load than they can win
//! back in one request on a model this small.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, LazyLock, OnceLock};

use thiserror::Error;
use tract_onnx::prelude::{
    DatumType, Framework, InferenceModelExt, IntoRunnable, TDim, TValue, TVec, TractResult,
    TypedModel, TypedRunnableModel, onnx,
};

use crate::models::{self, MODELS};

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
    inputs: Vec<InputSpec>,
    outputs: Vec<String>,
}

struct InputSpec {
    name: String,
    datum_type: DatumType,
    dims: Vec<Dim>,
}

enum Dim {
    Fixed(usize),
    /// A symbolic dimension such as the batch size `N`.
    Dynamic(String),
}

impl fmt::Display for InputSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {:?} ", self.name, self.datum_type)?;
        write_dims(f, self.dims.iter())
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fixed(n) => write!(f, "{n}"),
            Self::Dynamic(symbol) => f.write_str(symbol),
        }
    }
}

fn write_dims<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    dims: impl Iterator<Item = T>,
) -> fmt::Result {
    f.write_str("[")?;
    for (i, dim) in dims.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{dim}")?;
    }
    f.write_str("]")
}

struct Shape<'a>(&'a [u32]);

impl fmt::Display for Shape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_dims(f, self.0.iter())
    }
}

impl Loaded {
    fn from_onnx(bytes: &[u8]) -> Result<Self, InferenceError> {
        let model = onnx()
            .model_for_read(&mut &bytes[..])
            .map_err(|err| InferenceError::backend("parsing ONNX", err))?;
        let mut model = model
            .into_typed()
            .map_err(|err| InferenceError::backend("typing the graph", err))?;
        let inputs = input_specs(&model)?;
        let outputs = output_names(&model)?;
        lower(&mut model).map_err(|err| InferenceError::backend("lowering", err))?;
        let plan = model
            .into_runnable()
            .map_err(|err| InferenceError::backend("planning", err))?;
        Ok(Self {
            plan,
            inputs,
            outputs,
        })
    }

    /// Checks `given` against the graph inputs and returns them as tract
    /// values in graph order.
    fn bind_inputs(&self, model: &str, given: &[Tensor]) -> Result<TVec<TValue>, InferenceError> {
        let expected = || {
            let list: Vec<String> = self.inputs.iter().map(ToString::to_string).collect();
            list.join(", ")
        };
        for (i, tensor) in given.iter().enumerate() {
            if !self.inputs.iter().any(|spec| spec.name == tensor.name) {
                return Err(InferenceError::BadShape(format!(
                    "model `{model}` has no input `{}`; it takes {}",
                    tensor.name,
                    expected()
                )));
            }
            if given[..i].iter().any(|other| other.name == tensor.name) {
                return Err(InferenceError::BadShape(format!(
                    "input `{}` is given more than once",
                    tensor.name
                )));
            }
        }
        let mut symbols: HashMap<&str, u32> = HashMap::new();
        let mut values = TVec::new();
        for spec in &self.inputs {
            let tensor = given
                .iter()
                .find(|tensor| tensor.name == spec.name)
                .ok_or_else(|| {
                    InferenceError::BadShape(format!(
                        "model `{model}` needs input {spec}, which was not given"
                    ))
                })?;
            spec.check(tensor, &mut symbols)?;
            values.push(spec.to_value(tensor)?);
        }
        Ok(values)
    }
}

impl InputSpec {
    fn check<'a>(
        &'a self,
        tensor: &Tensor,
        symbols: &mut HashMap<&'a str, u32>,
    ) -> Result<(), InferenceError> {
        let mismatch = |why: String| {
            InferenceError::BadShape(format!(
                "input `{}` has shape {}, the model expects {self}: {why}",
                tensor.name,
                Shape(&tensor.shape)
            ))
        };
        if tensor.shape.len() != self.dims.len() {
            return Err(mismatch(format!(
                "rank {} instead of {}",
                tensor.shape.len(),
                self.dims.len()
            )));
        }
        for (axis, (&got, dim)) in tensor.shape.iter().zip(&self.dims).enumerate() {
            match dim {
                Dim::Fixed(want) if usize::try_from(got).ok() != Some(*want) => {
                    return Err(mismatch(format!("dimension {axis} must be {want}")));
                }
                Dim::Fixed(_) => {}
                Dim::Dynamic(_) if got == 0 => {
                    return Err(mismatch(format!("dimension {axis} must not be 0")));
                }
                Dim::Dynamic(symbol) => match symbols.insert(symbol, got) {
                    Some(before) if before != got => {
                        return Err(mismatch(format!(
                            "dimension {axis} is `{symbol}`, already {before} in another input"
                        )));
                    }
                    _ => {}
                },
            }
        }
        let len = tensor
            .shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(usize::try_from(d).ok()?));
        if len != Some(tensor.data.len()) {
            let want = len.map_or_else(|| "too many".to_owned(), |n| n.to_string());
            return Err(InferenceError::BadShape(format!(
                "input `{}` has shape {}, which holds {want} values, but {} values of data",
                tensor.name,
                Shape(&tensor.shape),
                tensor.data.len()
            )));
        }
        Ok(())
    }

    fn to_value(&self, tensor: &Tensor) -> Result<TValue, InferenceError> {
        let shape: Vec<usize> = tensor.shape.iter().map(|&d| d as usize).collect();
        let value = tract_onnx::prelude::Tensor::from_shape::<f32>(&shape, &tensor.data)
            .map_err(|err| InferenceError::backend("building the input tensor", err))?;
        if self.datum_type == DatumType::F32 {
            return Ok(value.into());
        }
        let cast = value
            .cast_to_dt(self.datum_type)
            .map_err(|err| {
                InferenceError::backend(
                    &format!("casting input `{}` to {:?}", self.name, self.datum_type),
                    err,
                )
            })?
            .into_owned();
        Ok(cast.into())
    }
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

fn input_specs(model: &TypedModel) -> Result<Vec<InputSpec>, InferenceError> {
    model
        .input_outlets()
        .map_err(|err| InferenceError::backend("listing inputs", err))?
        .iter()
        .map(|outlet| {
            let fact = model
                .outlet_fact(*outlet)
                .map_err(|err| InferenceError::backend("reading an input's type", err))?;
            let dims =
                fact.shape
                    .iter()
                    .map(|dim| match dim {
                        TDim::Val(n) => usize::try_from(*n)
                            .map_or_else(|_| Dim::Dynamic(n.to_string()), Dim::Fixed),
                        other => Dim::Dynamic(other.to_string()),
                    })
                    .collect();
            Ok(InputSpec {
                name: model.node(outlet.node).name.clone(),
                datum_type: fact.datum_type,
                dims,
            })
        })
        .collect()
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
