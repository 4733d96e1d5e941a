//! The OpenVINO backend: one compiled model per graph with `NUM_STREAMS`
//! equal to the session count, and one infer request per execution context.
//!
//! It compiles with `INFERENCE_PRECISION_HINT = f32`: OpenVINO's CPU default
//! on bf16-capable CPUs is bf16, which moves the engagement model's results by
//! whole percents against ONNX Runtime. Outputs keep the model's names
//! (wasmtime-wasi-nn's backend calls them `"0"`, `"1"`, …).

use super::tensor::{
    Port, check_input, dims_u32, named_outputs, resolve, resolve_id, run_blocking,
};
use super::{NnError, NnOptions, libs, lock};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use wasmtime_wasi_nn::backend::{
    BackendError, BackendExecutionContext, BackendFromDir, BackendGraph, BackendInner, Id,
    NamedTensor,
};
use wasmtime_wasi_nn::wit::{ExecutionTarget, GraphEncoding, TensorType};
use wasmtime_wasi_nn::{ExecutionContext, Graph, Tensor};

/// wasi-nn backend over OpenVINO: f32 precision, `NUM_STREAMS` = sessions.
pub struct OvBackend {
    core: Arc<Mutex<openvino::Core>>,
    streams: usize,
}

impl OvBackend {
    /// Loads OpenVINO (once per process) and creates its core.
    pub fn new(options: &NnOptions, search_roots: &[PathBuf]) -> Result<Self, NnError> {
        libs::init_openvino(search_roots)?;
        Ok(Self {
            core: Arc::new(Mutex::new(openvino::Core::new()?)),
            streams: options.sessions(),
        })
    }

    fn device(target: ExecutionTarget) -> Result<openvino::DeviceType<'static>, NnError> {
        match target {
            ExecutionTarget::Cpu => Ok(openvino::DeviceType::CPU),
            ExecutionTarget::Gpu => Ok(openvino::DeviceType::GPU),
            ExecutionTarget::Tpu => Err(NnError::Unsupported(
                "OpenVINO backend: no TPU support".into(),
            )),
        }
    }

    fn compile(
        &self,
        target: ExecutionTarget,
        read: impl FnOnce(&mut openvino::Core) -> Result<openvino::Model, NnError>,
    ) -> Result<Graph, NnError> {
        use openvino::RwPropertyKey;
        let device = Self::device(target)?;
        let mut core = lock(&self.core);
        // f32: OpenVINO's CPU default on bf16-capable CPUs is bf16, which moves
        // results by whole percents. Streams: concurrent infer requests.
        core.set_property(&device, &RwPropertyKey::HintInferencePrecision, "f32")?;
        core.set_property(
            &device,
            &RwPropertyKey::NumStreams,
            &self.streams.to_string(),
        )?;
        let model = read(&mut core)?;
        let compiled = core.compile_model(&model, device)?;
        drop(core);
        let inputs = (0..compiled.get_input_size()?)
            .map(|i| ov_port(&compiled.get_input_by_index(i)?))
            .collect::<Result<Vec<_>, _>>()?;
        let outputs = (0..compiled.get_output_size()?)
            .map(|i| ov_port(&compiled.get_output_by_index(i)?))
            .collect::<Result<Vec<_>, _>>()?;
        let model = OvModel {
            compiled: Mutex::new(compiled),
            _core: self.core.clone(),
            inputs,
            outputs,
        };
        let graph: Box<dyn BackendGraph> = Box::new(OvGraph(Arc::new(model)));
        Ok(graph.into())
    }

    fn load_model(
        &self,
        xml: &[u8],
        weights: &[u8],
        target: ExecutionTarget,
    ) -> Result<Graph, NnError> {
        self.compile(target, |core| {
            let weights = if weights.is_empty() {
                None
            } else {
                let shape = openvino::Shape::new(&[1, weights.len() as i64])?;
                let mut tensor = openvino::Tensor::new(openvino::ElementType::U8, &shape)?;
                tensor.get_raw_data_mut()?.copy_from_slice(weights);
                Some(tensor)
            };
            Ok(core.read_model_from_buffer(xml, weights.as_ref())?)
        })
    }

    /// Loads `<dir>/model.xml` and `<dir>/model.bin`.
    pub fn load_model_dir(
        &mut self,
        dir: &Path,
        target: ExecutionTarget,
    ) -> Result<Graph, NnError> {
        let path = |file: &str| {
            let path = dir.join(file);
            path.to_str()
                .map(str::to_owned)
                .ok_or_else(|| NnError::Unsupported(format!("{} is not UTF-8", path.display())))
        };
        let (xml, bin) = (path("model.xml")?, path("model.bin")?);
        self.compile(target, |core| Ok(core.read_model_from_file(&xml, &bin)?))
    }
}

fn ov_port(node: &openvino::Node) -> Result<Port, NnError> {
    let name = node.get_name()?;
    let ty = tensor_type_from_ov(node.get_element_type()?).ok_or_else(|| {
        NnError::Unsupported(format!(
            "{name:?} has an element type wasi-nn does not have"
        ))
    })?;
    let dims = node
        .get_partial_shape()?
        .get_dimensions()
        .iter()
        .map(|d| if d.is_dynamic() { -1 } else { d.get_min() })
        .collect();
    Ok(Port { name, ty, dims })
}

fn tensor_type_from_ov(ty: openvino::ElementType) -> Option<TensorType> {
    use openvino::ElementType as E;
    Some(match ty {
        E::F16 => TensorType::Fp16,
        E::F32 => TensorType::Fp32,
        E::F64 => TensorType::Fp64,
        E::Bf16 => TensorType::Bf16,
        E::U8 => TensorType::U8,
        E::I32 => TensorType::I32,
        E::I64 => TensorType::I64,
        _ => return None,
    })
}

fn ov_element_type(ty: TensorType) -> openvino::ElementType {
    use openvino::ElementType as E;
    match ty {
        TensorType::Fp16 => E::F16,
        TensorType::Fp32 => E::F32,
        TensorType::Fp64 => E::F64,
        TensorType::Bf16 => E::Bf16,
        TensorType::U8 => E::U8,
        TensorType::I32 => E::I32,
        TensorType::I64 => E::I64,
    }
}

struct OvModel {
    /// `CompiledModel` is `Send` but not `Sync`; only `create_infer_request`
    /// needs it, the infer requests then run without this lock.
    compiled: Mutex<openvino::CompiledModel>,
    /// Kept alive as long as the model.
    _core: Arc<Mutex<openvino::Core>>,
    inputs: Vec<Port>,
    outputs: Vec<Port>,
}

struct OvGraph(Arc<OvModel>);

impl BackendGraph for OvGraph {
    fn init_execution_context(&self) -> Result<ExecutionContext, BackendError> {
        let request = lock(&self.0.compiled)
            .create_infer_request()
            .map_err(NnError::from)?;
        let context: Box<dyn BackendExecutionContext> = Box::new(OvContext {
            model: self.0.clone(),
            request,
            set: vec![false; self.0.inputs.len()],
        });
        Ok(context.into())
    }
}

struct OvContext {
    model: Arc<OvModel>,
    request: openvino::InferRequest,
    /// Which inputs have been given (OpenVINO would silently use stale ones).
    set: Vec<bool>,
}

impl OvContext {
    fn set(&mut self, index: usize, tensor: &Tensor) -> Result<(), NnError> {
        check_input(&self.model.inputs[index], tensor)?;
        let dims: Vec<i64> = tensor.dimensions.iter().map(|&d| i64::from(d)).collect();
        let shape = openvino::Shape::new(&dims)?;
        let mut ov = openvino::Tensor::new(ov_element_type(tensor.ty), &shape)?;
        let buffer = ov.get_raw_data_mut()?;
        if buffer.len() != tensor.data.len() {
            return Err(NnError::Input(format!(
                "input {:?}: OpenVINO wants {} bytes, got {}",
                self.model.inputs[index].name,
                buffer.len(),
                tensor.data.len()
            )));
        }
        buffer.copy_from_slice(&tensor.data);
        self.request.set_input_tensor_by_index(index, &ov)?;
        self.set[index] = true;
        Ok(())
    }

    fn infer(&mut self) -> Result<(), NnError> {
        if let Some(missing) = self.set.iter().position(|set| !set) {
            return Err(NnError::Input(format!(
                "missing input {:?}",
                self.model.inputs[missing].name
            )));
        }
        Ok(run_blocking(|| self.request.infer())?)
    }

    fn output(&self, index: usize) -> Result<Tensor, NnError> {
        let ov = self.request.get_output_tensor_by_index(index)?;
        let ty = tensor_type_from_ov(ov.get_element_type()?).ok_or_else(|| {
            NnError::Unsupported(format!(
                "output {:?} has an element type wasi-nn does not have",
                self.model.outputs[index].name
            ))
        })?;
        let dims = dims_u32(ov.get_shape()?.get_dimensions())?;
        Ok(Tensor::new(dims, ty, ov.get_raw_data()?.to_vec()))
    }
}

impl BackendExecutionContext for OvContext {
    fn set_input(&mut self, id: Id, tensor: &Tensor) -> Result<(), BackendError> {
        let index = resolve_id(&self.model.inputs, &id, "input")?;
        Ok(self.set(index, tensor)?)
    }

    fn compute(
        &mut self,
        inputs: Option<Vec<NamedTensor>>,
    ) -> Result<Option<Vec<NamedTensor>>, BackendError> {
        let Some(named) = inputs else {
            self.infer()?;
            return Ok(None);
        };
        self.set.fill(false);
        for NamedTensor { name, tensor } in named {
            let index = resolve(&self.model.inputs, &name, "input")?;
            self.set(index, &tensor)?;
        }
        self.infer()?;
        let outputs = (0..self.model.outputs.len())
            .map(|i| self.output(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(named_outputs(&self.model.outputs, outputs)))
    }

    fn get_output(&mut self, id: Id) -> Result<Tensor, BackendError> {
        let index = resolve_id(&self.model.outputs, &id, "output")?;
        Ok(self.output(index)?)
    }
}

impl BackendInner for OvBackend {
    fn encoding(&self) -> GraphEncoding {
        GraphEncoding::Openvino
    }

    fn load(&mut self, builders: &[&[u8]], target: ExecutionTarget) -> Result<Graph, BackendError> {
        match builders {
            [xml, weights] => Ok(self.load_model(xml, weights, target)?),
            _ => Err(BackendError::InvalidNumberOfBuilders(2, builders.len())),
        }
    }

    fn as_dir_loadable(&mut self) -> Option<&mut dyn BackendFromDir> {
        Some(self)
    }
}

impl BackendFromDir for OvBackend {
    fn load_from_dir(
        &mut self,
        path: &Path,
        target: ExecutionTarget,
    ) -> Result<Graph, BackendError> {
        Ok(self.load_model_dir(path, target)?)
    }
}
