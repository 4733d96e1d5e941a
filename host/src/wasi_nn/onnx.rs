//! The ONNX Runtime backend: a pool of `ort` sessions per model.
//!
//! wasmtime-wasi-nn's own ONNX backend keeps one session per graph behind a
//! lock held for the whole run, so every request on a model waits for the one
//! before. Here each model has `sessions` sessions (default: one per core,
//! each with `cores / sessions` intra-op threads and no spinning) and every
//! `compute` takes a free one from the pool.

use super::batch::{Batcher, batchable};
use super::tensor::{
    Port, RuntimeKind, check_input, dims_u32, from_le_vec, named_outputs, ordered_inputs, read,
    require_inputs, resolve_id, run_blocking, to_le_vec,
};
use super::{NnError, NnOptions, libs, lock};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use wasmtime_wasi_nn::backend::{
    BackendError, BackendExecutionContext, BackendFromDir, BackendGraph, BackendInner, Id,
    NamedTensor,
};
use wasmtime_wasi_nn::wit::{ExecutionTarget, GraphEncoding, TensorType};
use wasmtime_wasi_nn::{ExecutionContext, Graph, Tensor};

/// wasi-nn backend over ONNX Runtime with a pool of sessions per model.
pub struct OrtBackend {
    sessions: usize,
    intra_threads: usize,
    batch: super::BatchOptions,
}

impl OrtBackend {
    /// Loads ONNX Runtime (once per process) and prepares a backend.
    pub fn new(options: &NnOptions, search_roots: &[PathBuf]) -> Result<Self, NnError> {
        libs::init_onnxruntime(search_roots)?;
        Ok(Self {
            sessions: options.sessions(),
            intra_threads: options.intra_threads(),
            batch: options.batch,
        })
    }

    fn session(
        &self,
        model: &[u8],
        target: ExecutionTarget,
    ) -> Result<ort::session::Session, NnError> {
        use ort::session::{Session, builder::GraphOptimizationLevel};
        let builder = Session::builder()?
            .with_optimization_level(GraphOptimizationLevel::Level3)?
            .with_intra_threads(self.intra_threads)?
            .with_intra_op_spinning(false)?;
        let builder = match target {
            ExecutionTarget::Cpu => builder,
            ExecutionTarget::Gpu => with_cuda(builder)?,
            ExecutionTarget::Tpu => {
                return Err(NnError::Unsupported(
                    "ONNX Runtime backend: no TPU support".into(),
                ));
            }
        };
        Ok(builder.commit_from_memory(model)?)
    }

    fn load_model(&self, model: &[u8], target: ExecutionTarget) -> Result<OrtLoaded, NnError> {
        let first = self.session(model, target)?;
        let inputs = first
            .inputs
            .iter()
            .map(|i| ort_port(&i.name, &i.input_type))
            .collect::<Result<Vec<_>, _>>()?;
        let outputs = first
            .outputs
            .iter()
            .map(|o| ort_port(&o.name, &o.output_type))
            .collect::<Result<Vec<_>, _>>()?;
        let mut idle = vec![first];
        for _ in 1..self.sessions {
            idle.push(self.session(model, target)?);
        }
        let model = OrtModel {
            pool: SessionPool {
                idle: Mutex::new(idle),
                returned: Condvar::new(),
            },
            batcher: Arc::new(Batcher::new(
                self.batch,
                self.sessions,
                batchable(&inputs, &outputs),
            )),
            inputs,
            outputs,
        };
        let model = Arc::new(model);
        let graph: Box<dyn BackendGraph> = Box::new(OrtGraph(model.clone()));
        Ok(OrtLoaded {
            graph: graph.into(),
            gathered: Gathered(model),
        })
    }

    /// Loads `<dir>/model.ort.onnx` when the folder has it, else
    /// `<dir>/model.onnx` (see [`model_file`]).
    pub fn load_model_dir(
        &mut self,
        dir: &Path,
        target: ExecutionTarget,
    ) -> Result<OrtLoaded, NnError> {
        self.load_model(&read(&model_file(dir))?, target)
    }
}

/// A loaded model: its graph, and its calls as the asynchronous `compute`
/// gathers them.
pub struct OrtLoaded {
    pub graph: Graph,
    pub(super) gathered: Gathered,
}

/// A model's calls on the one-thread runtime: each waits, off the thread,
/// for other stores' calls to join its run ([`Batcher::gather`]).
#[derive(Clone)]
pub(super) struct Gathered(Arc<OrtModel>);

impl Gathered {
    /// Whether calls gather here: on the one-thread runtime only (elsewhere
    /// the backend's `compute` coalesces them).
    pub(super) fn applies(&self) -> bool {
        RuntimeKind::current() == RuntimeKind::CurrentThread
    }

    /// The coalescing queue (metrics observe its runs).
    pub(super) fn batcher(&self) -> &Batcher {
        &self.0.batcher
    }

    /// One guest call: its inputs checked and put in the model's order, run
    /// with the calls gathered beside it, its outputs named.
    pub(super) async fn compute(
        &self,
        named: Vec<NamedTensor>,
    ) -> Result<Vec<NamedTensor>, NnError> {
        let model = &self.0;
        let inputs = ordered_inputs(&model.inputs, named)?;
        let outputs = model
            .batcher
            .gather(inputs, &|inputs| model.run_session(inputs))
            .await?;
        Ok(named_outputs(&model.outputs, outputs))
    }
}

/// The graph ONNX Runtime runs from a model folder: `model.ort.onnx`, the
/// same model written with operators only ONNX Runtime has (the engagement
/// model's trees as `ai.onnx.ml` TreeEnsembleRegressor, ~3x faster than the
/// standard-op walk that tract and OpenVINO need), when `models/train.py`
/// exported one; else `model.onnx`.
pub fn model_file(dir: &Path) -> PathBuf {
    let native = dir.join(ORT_MODEL_FILE);
    if native.is_file() {
        native
    } else {
        dir.join("model.onnx")
    }
}

/// The ONNX Runtime-only graph of a model folder.
pub const ORT_MODEL_FILE: &str = "model.ort.onnx";

#[cfg(feature = "cuda")]
fn with_cuda(
    builder: ort::session::builder::SessionBuilder,
) -> Result<ort::session::builder::SessionBuilder, NnError> {
    use ort::execution_providers::CUDAExecutionProvider;
    // Fail loudly rather than fall back to the CPU when CUDA is not there.
    Ok(builder
        .with_execution_providers([CUDAExecutionProvider::default().build().error_on_failure()])?)
}

#[cfg(not(feature = "cuda"))]
fn with_cuda(
    _builder: ort::session::builder::SessionBuilder,
) -> Result<ort::session::builder::SessionBuilder, NnError> {
    Err(NnError::Unsupported(
        "--nn-device gpu with ONNX Runtime needs a host built with `--features cuda`".into(),
    ))
}

fn ort_port(name: &str, ty: &ort::value::ValueType) -> Result<Port, NnError> {
    use ort::tensor::TensorElementType as E;
    let ort::value::ValueType::Tensor { ty, shape, .. } = ty else {
        return Err(NnError::Unsupported(format!(
            "{name:?} is a {ty:?}, wasi-nn only has tensors"
        )));
    };
    let ty = match ty {
        E::Float32 => TensorType::Fp32,
        E::Float64 => TensorType::Fp64,
        E::Int32 => TensorType::I32,
        E::Int64 => TensorType::I64,
        E::Uint8 => TensorType::U8,
        other => {
            return Err(NnError::Unsupported(format!(
                "{name:?} has element type {other:?}, not supported by this host"
            )));
        }
    };
    Ok(Port {
        name: name.to_owned(),
        ty,
        dims: shape.to_vec(),
    })
}

/// Idle sessions; `compute` takes one and puts it back.
struct SessionPool {
    idle: Mutex<Vec<ort::session::Session>>,
    returned: Condvar,
}

/// A session out of the pool; returns it on drop (also on panic).
struct Checkout<'a> {
    pool: &'a SessionPool,
    session: Option<ort::session::Session>,
}

impl SessionPool {
    /// Takes an idle session, waiting if all are in use. With at least as many
    /// sessions as threads that run guests (the default), it never waits.
    fn checkout(&self) -> Checkout<'_> {
        let mut idle = lock(&self.idle);
        loop {
            if let Some(session) = idle.pop() {
                return Checkout {
                    pool: self,
                    session: Some(session),
                };
            }
            idle = self
                .returned
                .wait(idle)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for Checkout<'_> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            lock(&self.pool.idle).push(session);
            self.pool.returned.notify_one();
        }
    }
}

struct OrtModel {
    pool: SessionPool,
    /// Coalesces concurrent calls (see [`super::batch`]).
    batcher: Arc<Batcher>,
    inputs: Vec<Port>,
    outputs: Vec<Port>,
}

impl OrtModel {
    /// One call's inputs, run alone or in a batch with other calls.
    fn run(&self, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, NnError> {
        run_blocking(|| self.batcher.run(inputs, &|inputs| self.run_session(inputs)))
    }

    /// One session run on a free session of the pool.
    fn run_session(&self, inputs: &[&Tensor]) -> Result<Vec<Tensor>, NnError> {
        let mut values = Vec::with_capacity(inputs.len());
        for (port, tensor) in self.inputs.iter().zip(inputs) {
            values.push((port.name.as_str(), ort_value(tensor)?));
        }
        let mut checkout = self.pool.checkout();
        let Some(session) = checkout.session.as_mut() else {
            unreachable!("a checkout always holds a session");
        };
        let outputs = session.run(values)?;
        self.outputs
            .iter()
            .map(|port| {
                let value = outputs.get(port.name.as_str()).ok_or_else(|| {
                    NnError::Unsupported(format!("ONNX Runtime returned no {:?}", port.name))
                })?;
                ort_tensor(value)
            })
            .collect()
    }
}

fn ort_value(tensor: &Tensor) -> Result<ort::value::DynValue, NnError> {
    use ort::value::Tensor as OrtTensor;
    let shape: Vec<i64> = tensor.dimensions.iter().map(|&d| i64::from(d)).collect();
    macro_rules! owned {
        ($ty:ty) => {
            OrtTensor::<$ty>::from_array((shape, from_le_vec::<$ty>(&tensor.data)))?.into_dyn()
        };
    }
    Ok(match tensor.ty {
        TensorType::Fp32 => owned!(f32),
        TensorType::Fp64 => owned!(f64),
        TensorType::I32 => owned!(i32),
        TensorType::I64 => owned!(i64),
        TensorType::U8 => owned!(u8),
        other => {
            return Err(NnError::Unsupported(format!(
                "{other:?} tensors are not supported with ONNX Runtime"
            )));
        }
    })
}

fn ort_tensor(value: &ort::value::DynValue) -> Result<Tensor, NnError> {
    use ort::tensor::TensorElementType as E;
    let ort::value::ValueType::Tensor { ty, .. } = value.dtype() else {
        return Err(NnError::Unsupported(format!(
            "output is a {:?}, wasi-nn only has tensors",
            value.dtype()
        )));
    };
    macro_rules! extract {
        ($ty:ty, $wasi:expr) => {{
            let (shape, data) = value.try_extract_tensor::<$ty>()?;
            Tensor::new(dims_u32(shape)?, $wasi, to_le_vec(data))
        }};
    }
    Ok(match ty {
        E::Float32 => extract!(f32, TensorType::Fp32),
        E::Float64 => extract!(f64, TensorType::Fp64),
        E::Int32 => extract!(i32, TensorType::I32),
        E::Int64 => extract!(i64, TensorType::I64),
        E::Uint8 => extract!(u8, TensorType::U8),
        other => {
            return Err(NnError::Unsupported(format!(
                "output element type {other:?} is not supported by this host"
            )));
        }
    })
}

struct OrtGraph(Arc<OrtModel>);

impl BackendGraph for OrtGraph {
    fn init_execution_context(&self) -> Result<ExecutionContext, BackendError> {
        let context: Box<dyn BackendExecutionContext> = Box::new(OrtContext {
            model: self.0.clone(),
            inputs: vec![None; self.0.inputs.len()],
            outputs: Vec::new(),
        });
        Ok(context.into())
    }
}

struct OrtContext {
    model: Arc<OrtModel>,
    /// Inputs given with `set-input` (the WITX API).
    inputs: Vec<Option<Tensor>>,
    /// Outputs of the last `compute()` (the WITX API).
    outputs: Vec<Tensor>,
}

impl BackendExecutionContext for OrtContext {
    fn set_input(&mut self, id: Id, tensor: &Tensor) -> Result<(), BackendError> {
        let index = resolve_id(&self.model.inputs, &id, "input")?;
        check_input(&self.model.inputs[index], tensor)?;
        self.inputs[index] = Some(tensor.clone());
        Ok(())
    }

    fn compute(
        &mut self,
        inputs: Option<Vec<NamedTensor>>,
    ) -> Result<Option<Vec<NamedTensor>>, BackendError> {
        let ports = &self.model.inputs;
        match inputs {
            Some(named) => {
                let outputs = self.model.run(ordered_inputs(ports, named)?)?;
                Ok(Some(named_outputs(&self.model.outputs, outputs)))
            }
            None => {
                // `set-input`'s tensors stay for the next `compute`.
                let inputs = require_inputs(ports, &self.inputs)?;
                self.outputs = self.model.run(inputs.into_iter().cloned().collect())?;
                Ok(None)
            }
        }
    }

    fn get_output(&mut self, id: Id) -> Result<Tensor, BackendError> {
        let index = resolve_id(&self.model.outputs, &id, "output")?;
        self.outputs
            .get(index)
            .cloned()
            .ok_or_else(|| NnError::Input("no output yet; call compute first".into()).into())
    }
}

impl BackendInner for OrtBackend {
    fn encoding(&self) -> GraphEncoding {
        GraphEncoding::Onnx
    }

    fn load(&mut self, builders: &[&[u8]], target: ExecutionTarget) -> Result<Graph, BackendError> {
        match builders {
            [model] => Ok(self.load_model(model, target)?.graph),
            _ => Err(BackendError::InvalidNumberOfBuilders(1, builders.len())),
        }
    }

    fn as_dir_loadable(&mut self) -> Option<&mut dyn BackendFromDir> {
        Some(self)
    }
}

impl BackendFromDir for OrtBackend {
    fn load_from_dir(
        &mut self,
        path: &Path,
        target: ExecutionTarget,
    ) -> Result<Graph, BackendError> {
        Ok(self.load_model_dir(path, target)?.graph)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_with_an_onnx_runtime_graph_is_read_from_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("model.onnx"), b"standard").unwrap();
        assert_eq!(model_file(dir.path()), dir.path().join("model.onnx"));
        std::fs::write(dir.path().join(ORT_MODEL_FILE), b"native").unwrap();
        assert_eq!(model_file(dir.path()), dir.path().join(ORT_MODEL_FILE));
    }
}
