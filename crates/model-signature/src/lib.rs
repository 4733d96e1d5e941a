//! What a model takes, and the check of a caller's inputs against it.
//!
//! `fbposts:ml/inference` promises `bad-shape` for an input that is missing,
//! misnamed, given twice, of the wrong rank or dimensions, or whose data does
//! not fill its shape. Every implementation runs this one check before it
//! runs the model, so they refuse the same inputs with the same words:
//! `inference-portable` builds the [`Signature`] from the ONNX graph it
//! loads; `inference-wasi-nn` cannot ask the host's wasi-nn for a graph's
//! inputs (wasi-nn 0.2 has no such call, and the host's errors reach the
//! guest without their detail), so it reads the signature the model ships
//! with: the `inputs` of `models/<name>/metadata.json`.

use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;

/// Why an input was refused; the message names the input and what the model wants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// A caller's tensor as far as the check needs it.
pub trait InputTensor {
    fn name(&self) -> &str;
    fn shape(&self) -> &[u32];
    /// How many values of data it holds.
    fn data_len(&self) -> usize;
}

/// One dimension of a graph input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    Fixed(u64),
    /// A symbolic dimension such as the batch size `N`: any size but 0,
    /// the same in every input that names it.
    Symbol(String),
}

/// One graph input: its name, element type (as the model names it, e.g.
/// `F32`) and dimensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    pub name: String,
    pub element_type: String,
    pub dims: Vec<Dim>,
}

/// The inputs of a model, in graph order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub inputs: Vec<InputSpec>,
}

/// Why a model's `metadata.json` could not give a signature.
#[derive(Debug, thiserror::Error)]
#[error("model metadata: {0}")]
pub struct MetadataError(#[from] serde_json::Error);

#[derive(Deserialize)]
struct Metadata {
    inputs: Vec<MetadataInput>,
}

#[derive(Deserialize)]
struct MetadataInput {
    name: String,
    dtype: String,
    shape: Vec<MetadataDim>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum MetadataDim {
    Fixed(u64),
    Symbol(String),
}

impl Signature {
    /// The `inputs` of a model's `metadata.json` (written by `models/train.py`
    /// as strict JSON: undefined metrics are `null`).
    pub fn from_metadata(json: &str) -> Result<Self, MetadataError> {
        let metadata: Metadata = serde_json::from_str(json)?;
        let inputs = metadata
            .inputs
            .into_iter()
            .map(|input| InputSpec {
                name: input.name,
                element_type: element_type(&input.dtype),
                dims: input
                    .shape
                    .into_iter()
                    .map(|dim| match dim {
                        MetadataDim::Fixed(n) => Dim::Fixed(n),
                        MetadataDim::Symbol(symbol) => Dim::Symbol(symbol),
                    })
                    .collect(),
            })
            .collect();
        Ok(Self { inputs })
    }

    /// Checks `given` (one tensor per graph input, by name, in any order)
    /// and returns them in graph order.
    pub fn bind<'a, T: InputTensor>(
        &self,
        model: &str,
        given: &'a [T],
    ) -> Result<Vec<&'a T>, BadInput> {
        for (i, tensor) in given.iter().enumerate() {
            if !self.inputs.iter().any(|spec| spec.name == tensor.name()) {
                return Err(BadInput(format!(
                    "model `{model}` has no input `{}`; it takes {}",
                    tensor.name(),
                    self.listed()
                )));
            }
            if given[..i].iter().any(|other| other.name() == tensor.name()) {
                return Err(BadInput(format!(
                    "input `{}` is given more than once",
                    tensor.name()
                )));
            }
        }
        let mut symbols = HashMap::new();
        self.inputs
            .iter()
            .map(|spec| {
                let tensor = given
                    .iter()
                    .find(|tensor| tensor.name() == spec.name)
                    .ok_or_else(|| {
                        BadInput(format!(
                            "model `{model}` needs input {spec}, which was not given"
                        ))
                    })?;
                spec.check(tensor, &mut symbols)?;
                Ok(tensor)
            })
            .collect()
    }

    fn listed(&self) -> String {
        let list: Vec<String> = self.inputs.iter().map(ToString::to_string).collect();
        list.join(", ")
    }
}

/// numpy/ONNX type names as the model runtimes print them.
fn element_type(dtype: &str) -> String {
    match dtype {
        "float32" => "F32".to_owned(),
        "float64" => "F64".to_owned(),
        "int32" => "I32".to_owned(),
        "int64" => "I64".to_owned(),
        "uint8" => "U8".to_owned(),
        other => other.to_uppercase(),
    }
}

impl InputSpec {
    /// Checks one tensor's rank, dimensions and data length; `symbols` holds
    /// the sizes symbolic dimensions took in the inputs checked before.
    fn check<'s, T: InputTensor>(
        &'s self,
        tensor: &T,
        symbols: &mut HashMap<&'s str, u32>,
    ) -> Result<(), BadInput> {
        let shape = tensor.shape();
        let mismatch = |why: String| {
            BadInput(format!(
                "input `{}` has shape {}, the model expects {self}: {why}",
                tensor.name(),
                Dims(shape)
            ))
        };
        if shape.len() != self.dims.len() {
            return Err(mismatch(format!(
                "rank {} instead of {}",
                shape.len(),
                self.dims.len()
            )));
        }
        for (axis, (&got, dim)) in shape.iter().zip(&self.dims).enumerate() {
            match dim {
                Dim::Fixed(want) if u64::from(got) != *want => {
                    return Err(mismatch(format!("dimension {axis} must be {want}")));
                }
                Dim::Fixed(_) => {}
                Dim::Symbol(_) if got == 0 => {
                    return Err(mismatch(format!("dimension {axis} must not be 0")));
                }
                Dim::Symbol(symbol) => match symbols.insert(symbol, got) {
                    Some(before) if before != got => {
                        return Err(mismatch(format!(
                            "dimension {axis} is `{symbol}`, already {before} in another input"
                        )));
                    }
                    _ => {}
                },
            }
        }
        check_data_len(tensor)
    }
}

/// Checks that a tensor's data fills its shape exactly: the one check that
/// needs no signature (an implementation without its model's signature still
/// runs it).
pub fn check_data_len<T: InputTensor>(tensor: &T) -> Result<(), BadInput> {
    let shape = tensor.shape();
    let len = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(usize::try_from(d).ok()?));
    if len == Some(tensor.data_len()) {
        return Ok(());
    }
    let want = len.map_or_else(|| "too many".to_owned(), |n| n.to_string());
    Err(BadInput(format!(
        "input `{}` has shape {}, which holds {want} values, but {} values of data",
        tensor.name(),
        Dims(shape),
        tensor.data_len()
    )))
}

impl fmt::Display for InputSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` {} {}",
            self.name,
            self.element_type,
            Dims(&self.dims)
        )
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fixed(n) => write!(f, "{n}"),
            Self::Symbol(symbol) => f.write_str(symbol),
        }
    }
}

/// `[2, 7]`, `[N, 7]`.
struct Dims<'a, T>(&'a [T]);

impl<T: fmt::Display> fmt::Display for Dims<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, dim) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{dim}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests;
