//! What both wasi-nn backends share about tensors: a model's inputs and
//! outputs ([`Port`]), resolving a guest's input or output name to a port,
//! checking a guest tensor against the model before any backend copies it,
//! and little-endian conversion between tensor bytes and Rust values.

use super::NnError;
use std::path::Path;
use wasmtime_wasi_nn::Tensor;
use wasmtime_wasi_nn::backend::{Id, NamedTensor};
use wasmtime_wasi_nn::wit::TensorType;

/// One input or output of a model.
#[derive(Debug, Clone)]
pub(super) struct Port {
    pub(super) name: String,
    pub(super) ty: TensorType,
    /// `-1` for a dynamic dimension.
    pub(super) dims: Vec<i64>,
}

fn element_size(ty: TensorType) -> usize {
    match ty {
        TensorType::U8 => 1,
        TensorType::Fp16 | TensorType::Bf16 => 2,
        TensorType::Fp32 | TensorType::I32 => 4,
        TensorType::Fp64 | TensorType::I64 => 8,
    }
}

/// The port `name` designates: a port name, or a position as a decimal string.
pub(super) fn resolve(ports: &[Port], name: &str, what: &str) -> Result<usize, NnError> {
    if let Some(index) = ports.iter().position(|p| p.name == name) {
        return Ok(index);
    }
    match name.parse::<usize>() {
        Ok(index) if index < ports.len() => Ok(index),
        _ => Err(NnError::Input(format!(
            "unknown {what} {name:?}; the model has {:?}",
            ports.iter().map(|p| p.name.as_str()).collect::<Vec<_>>()
        ))),
    }
}

pub(super) fn resolve_id(ports: &[Port], id: &Id, what: &str) -> Result<usize, NnError> {
    match id {
        Id::Name(name) => resolve(ports, name, what),
        Id::Index(index) => resolve(ports, &index.to_string(), what),
    }
}

/// The most bytes one input tensor may hold: 16 MiB, 3,500 × the engagement
/// model's largest real batch (169 rows × 7 features × 4 bytes). A dynamic
/// dimension would otherwise let a guest hand the backend a batch as large
/// as its linear memory, which runs to completion whatever the deadline.
pub const MAX_INPUT_TENSOR_BYTES: usize = 16 << 20;

/// Checks a guest tensor against the model's input: its size against
/// [`MAX_INPUT_TENSOR_BYTES`], element type, rank, the fixed dimensions and
/// the data length (so no backend ever copies a buffer of the wrong size).
pub(super) fn check_input(port: &Port, tensor: &Tensor) -> Result<(), NnError> {
    let bad = |why: String| Err(NnError::Input(format!("input {:?}: {why}", port.name)));
    if tensor.data.len() > MAX_INPUT_TENSOR_BYTES {
        return bad(format!(
            "{} bytes, over the host's limit of {MAX_INPUT_TENSOR_BYTES} bytes per input tensor",
            tensor.data.len()
        ));
    }
    if tensor.ty != port.ty {
        return bad(format!(
            "type {:?}, the model wants {:?}",
            tensor.ty, port.ty
        ));
    }
    if tensor.dimensions.len() != port.dims.len()
        || port
            .dims
            .iter()
            .zip(&tensor.dimensions)
            .any(|(&want, &got)| want >= 0 && want != i64::from(got))
    {
        return bad(format!(
            "shape {:?}, the model wants {:?} (-1 = any)",
            tensor.dimensions, port.dims
        ));
    }
    let expected = tensor
        .dimensions
        .iter()
        .try_fold(element_size(tensor.ty), |n, &d| n.checked_mul(d as usize));
    if expected != Some(tensor.data.len()) {
        return bad(format!(
            "{} data bytes for shape {:?} of {:?}",
            tensor.data.len(),
            tensor.dimensions,
            tensor.ty
        ));
    }
    Ok(())
}

pub(super) fn dims_u32(dims: &[i64]) -> Result<Vec<u32>, NnError> {
    dims.iter()
        .map(|&d| {
            u32::try_from(d)
                .map_err(|_| NnError::Unsupported(format!("output dimension {d} does not fit u32")))
        })
        .collect()
}

/// Runs a blocking inference off the async workers' scheduling: on a
/// multi-threaded tokio runtime the worker hands its other tasks to the
/// others first (`block_in_place`), so one long `compute` does not stall the
/// requests queued behind it; elsewhere (tests, `bench-nn`) it just runs.
pub(super) fn run_blocking<R>(work: impl FnOnce() -> R) -> R {
    match RuntimeKind::current() {
        RuntimeKind::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// The tokio runtime (if any) the calling thread runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RuntimeKind {
    /// Not in a runtime: a plain thread (tests, `bench-nn`).
    None,
    /// The only thread of a current-thread runtime: while it blocks, no
    /// other request runs.
    CurrentThread,
    MultiThread,
}

impl RuntimeKind {
    pub(super) fn current() -> Self {
        use tokio::runtime::{Handle, RuntimeFlavor};
        match Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
                Self::MultiThread
            }
            Ok(_) => Self::CurrentThread,
            Err(_) => Self::None,
        }
    }
}

/// Element types that convert between little-endian bytes and Rust values.
pub(super) trait Element: Sized + Copy {
    const SIZE: usize;
    fn from_le(bytes: &[u8]) -> Self;
    fn extend_le(self, out: &mut Vec<u8>);
}

macro_rules! element {
    ($($ty:ty),*) => {$(
        impl Element for $ty {
            const SIZE: usize = std::mem::size_of::<$ty>();
            fn from_le(bytes: &[u8]) -> Self {
                let mut buf = [0u8; std::mem::size_of::<$ty>()];
                buf.copy_from_slice(bytes);
                <$ty>::from_le_bytes(buf)
            }
            fn extend_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
element!(f32, f64, i32, i64, u8);

pub(super) fn from_le_vec<T: Element>(bytes: &[u8]) -> Vec<T> {
    bytes.chunks_exact(T::SIZE).map(T::from_le).collect()
}

pub(super) fn to_le_vec<T: Element>(values: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * T::SIZE);
    for &v in values {
        v.extend_le(&mut out);
    }
    out
}

/// Shared `compute` logic: fills the input slots from named tensors.
fn fill_inputs(ports: &[Port], named: Vec<NamedTensor>) -> Result<Vec<Option<Tensor>>, NnError> {
    let mut slots: Vec<Option<Tensor>> = vec![None; ports.len()];
    for NamedTensor { name, tensor } in named {
        let index = resolve(ports, &name, "input")?;
        check_input(&ports[index], &tensor)?;
        slots[index] = Some(tensor);
    }
    Ok(slots)
}

fn missing_input(port: &Port) -> NnError {
    NnError::Input(format!("missing input {:?}", port.name))
}

/// A call's named inputs (the WIT API), checked and in the model's port
/// order, taken as they are (not copied).
pub(super) fn ordered_inputs(
    ports: &[Port],
    named: Vec<NamedTensor>,
) -> Result<Vec<Tensor>, NnError> {
    let slots = fill_inputs(ports, named)?;
    ports
        .iter()
        .zip(slots)
        .map(|(port, slot)| slot.ok_or_else(|| missing_input(port)))
        .collect()
}

/// The inputs given with `set-input` (the WITX API), every port's present.
pub(super) fn require_inputs<'a>(
    ports: &[Port],
    slots: &'a [Option<Tensor>],
) -> Result<Vec<&'a Tensor>, NnError> {
    ports
        .iter()
        .zip(slots)
        .map(|(port, slot)| slot.as_ref().ok_or_else(|| missing_input(port)))
        .collect()
}

pub(super) fn named_outputs(ports: &[Port], tensors: Vec<Tensor>) -> Vec<NamedTensor> {
    ports
        .iter()
        .zip(tensors)
        .map(|(port, tensor)| NamedTensor {
            name: port.name.clone(),
            tensor,
        })
        .collect()
}

pub(super) fn read(path: &Path) -> Result<Vec<u8>, NnError> {
    std::fs::read(path).map_err(|source| NnError::Io {
        path: path.to_path_buf(),
        source,
    })
}
