//! What guests call: the `wasi:nn` interfaces (graph, tensor, inference,
//! errors) in place of wasmtime-wasi-nn's own glue, so that `compute` is an
//! asynchronous host call.
//!
//! With wasmtime-wasi-nn's glue a guest's `compute` holds the thread until
//! the backend answers. On the one-thread runtime (`fbposts up` on one core)
//! no other store could then reach `compute` while a model runs, so calls
//! from different requests never met and dynamic batching coalesced nothing.
//! Here `compute` is async: on that runtime a call to a batched ONNX Runtime
//! model waits, without holding the thread, for the calls other stores make
//! while it waits ([`super::batch`], "Gathering"), and the backend runs them
//! as one. Elsewhere (the multi-thread runtime, OpenVINO, a model that is not
//! batched) it runs the backend's `compute` as before.
//!
//! The contract is wasmtime-wasi-nn's (48.0.8): models come only from the
//! registry (`load` answers `invalid-encoding`, `load-by-name` `not-found`
//! for an unknown name), a failed `compute` answers `runtime-error` with the
//! backend's message, and every call is measured per model (inference time,
//! rows, failures; [`crate::metrics`]).

use super::{NnError, NnRegistry};
use crate::metrics::NnSeries;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi_nn::backend::NamedTensor;
use wasmtime_wasi_nn::{ExecutionContext, Graph, Tensor};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/deps/wasi-nn",
        world: "wasi:nn/ml",
        with: {
            "wasi:nn/graph.graph": super::NnGraph,
            "wasi:nn/tensor.tensor": wasmtime_wasi_nn::Tensor,
            "wasi:nn/inference.graph-execution-context": super::NnExecution,
            "wasi:nn/errors.error": super::GuestError,
        },
        imports: {
            "wasi:nn/inference.[method]graph-execution-context.compute": async | trappable,
            default: trappable,
        },
    });
}

use bindings::wasi::nn::errors::ErrorCode;
use bindings::wasi::nn::graph::{ExecutionTarget, GraphBuilder, GraphEncoding};
use bindings::wasi::nn::tensor::{TensorData, TensorDimensions, TensorType};
use bindings::wasi::nn::{errors, graph, inference, tensor};

/// A model of the registry, as the guest holds it.
pub struct NnModel {
    pub(super) name: String,
    pub(super) graph: Graph,
    /// Calls that wait off the thread for other stores' calls (ONNX Runtime
    /// models that are batched).
    pub(super) gathered: Option<super::onnx::Gathered>,
    /// This model's series, when metrics are on.
    pub(super) series: Option<NnSeries>,
}

/// The `graph` resource.
pub struct NnGraph(Arc<NnModel>);

/// The `graph-execution-context` resource.
pub struct NnExecution {
    model: Arc<NnModel>,
    context: ExecutionContext,
}

/// The `error` resource: a code and the message behind it.
#[derive(Debug)]
pub struct GuestError {
    code: ErrorCode,
    message: String,
}

/// One store's view: the shared models and the store's resource table.
pub struct NnView<'a> {
    registry: &'a NnRegistry,
    table: &'a mut ResourceTable,
}

impl<'a> NnView<'a> {
    pub fn new(registry: &'a NnRegistry, table: &'a mut ResourceTable) -> Self {
        Self { registry, table }
    }
}

struct HasNnView;

impl HasData for HasNnView {
    type Data<'a> = NnView<'a>;
}

/// Adds `wasi:nn@0.2.0-rc-2024-10-28` (graph, tensor, inference, errors).
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> NnView<'_>,
) -> wasmtime::Result<()> {
    graph::add_to_linker::<_, HasNnView>(linker, view)?;
    tensor::add_to_linker::<_, HasNnView>(linker, view)?;
    inference::add_to_linker::<_, HasNnView>(linker, view)?;
    errors::add_to_linker::<_, HasNnView>(linker, view)?;
    Ok(())
}

impl NnView<'_> {
    /// Answers the guest `code` with `message` (and logs it).
    fn fail<T>(
        &mut self,
        code: ErrorCode,
        message: String,
    ) -> wasmtime::Result<Result<T, Resource<GuestError>>> {
        tracing::warn!(?code, message, "wasi-nn call failed");
        Ok(Err(self.table.push(GuestError { code, message })?))
    }
}

impl graph::Host for NnView<'_> {
    fn load(
        &mut self,
        _builder: Vec<GraphBuilder>,
        _encoding: GraphEncoding,
        _target: ExecutionTarget,
    ) -> wasmtime::Result<Result<Resource<NnGraph>, Resource<GuestError>>> {
        self.fail(
            ErrorCode::InvalidEncoding,
            "models are loaded by name from the host's registry".into(),
        )
    }

    fn load_by_name(
        &mut self,
        name: String,
    ) -> wasmtime::Result<Result<Resource<NnGraph>, Resource<GuestError>>> {
        match self.registry.model(&name) {
            Some(model) => Ok(Ok(self.table.push(NnGraph(model))?)),
            None => self.fail(ErrorCode::NotFound, format!("no model named {name:?}")),
        }
    }
}

impl graph::HostGraph for NnView<'_> {
    fn init_execution_context(
        &mut self,
        graph: Resource<NnGraph>,
    ) -> wasmtime::Result<Result<Resource<NnExecution>, Resource<GuestError>>> {
        let model = self.table.get(&graph)?.0.clone();
        match model.graph.init_execution_context() {
            Ok(context) => Ok(Ok(self.table.push(NnExecution { model, context })?)),
            Err(err) => self.fail(ErrorCode::RuntimeError, err.to_string()),
        }
    }

    fn drop(&mut self, graph: Resource<NnGraph>) -> wasmtime::Result<()> {
        self.table.delete(graph)?;
        Ok(())
    }
}

impl inference::Host for NnView<'_> {}

impl inference::HostGraphExecutionContext for NnView<'_> {
    async fn compute(
        &mut self,
        execution: Resource<NnExecution>,
        inputs: Vec<(String, Resource<Tensor>)>,
    ) -> wasmtime::Result<Result<Vec<(String, Resource<Tensor>)>, Resource<GuestError>>> {
        let mut named = Vec::with_capacity(inputs.len());
        for (name, tensor) in inputs {
            let tensor = self.table.delete(tensor)?;
            named.push(NamedTensor { name, tensor });
        }
        let rows = named
            .first()
            .and_then(|input| input.tensor.dimensions.first().copied());
        let execution = self.table.get_mut(&execution)?;
        let model = execution.model.clone();
        let started = Instant::now();
        let outputs = match model.gathered.as_ref().filter(|g| g.applies()) {
            Some(gathered) => gathered.compute(named).await,
            None => execution
                .context
                .compute_with_io(named)
                .map_err(|err| NnError::Unsupported(backend_message(&err))),
        };
        if let Some(series) = &model.series {
            series.observe(outputs.is_ok(), rows, started.elapsed());
        }
        match outputs {
            Ok(outputs) => {
                let mut pushed = Vec::with_capacity(outputs.len());
                for NamedTensor { name, tensor } in outputs {
                    pushed.push((name, self.table.push(tensor)?));
                }
                Ok(Ok(pushed))
            }
            Err(err) => self.fail(
                ErrorCode::RuntimeError,
                format!("model {:?}: {err}", model.name),
            ),
        }
    }

    fn drop(&mut self, execution: Resource<NnExecution>) -> wasmtime::Result<()> {
        self.table.delete(execution)?;
        Ok(())
    }
}

/// A backend error's message with its causes (the backends put the detail in
/// the source: [`NnError`] behind `BackendError::BackendAccess`).
fn backend_message(err: &wasmtime_wasi_nn::backend::BackendError) -> String {
    use std::fmt::Write as _;
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let _ = write!(message, ": {cause}");
        source = cause.source();
    }
    message
}

impl tensor::Host for NnView<'_> {}

/// The backends' element type of the guest's (the same WIT enum, bound twice).
fn backend_type(ty: TensorType) -> wasmtime_wasi_nn::wit::TensorType {
    use wasmtime_wasi_nn::wit::TensorType as Backend;
    match ty {
        TensorType::Fp16 => Backend::Fp16,
        TensorType::Fp32 => Backend::Fp32,
        TensorType::Fp64 => Backend::Fp64,
        TensorType::Bf16 => Backend::Bf16,
        TensorType::U8 => Backend::U8,
        TensorType::I32 => Backend::I32,
        TensorType::I64 => Backend::I64,
    }
}

/// The guest's element type of the backends'.
fn guest_type(ty: wasmtime_wasi_nn::wit::TensorType) -> TensorType {
    use wasmtime_wasi_nn::wit::TensorType as Backend;
    match ty {
        Backend::Fp16 => TensorType::Fp16,
        Backend::Fp32 => TensorType::Fp32,
        Backend::Fp64 => TensorType::Fp64,
        Backend::Bf16 => TensorType::Bf16,
        Backend::U8 => TensorType::U8,
        Backend::I32 => TensorType::I32,
        Backend::I64 => TensorType::I64,
    }
}

impl tensor::HostTensor for NnView<'_> {
    fn new(
        &mut self,
        dimensions: TensorDimensions,
        ty: TensorType,
        data: TensorData,
    ) -> wasmtime::Result<Resource<Tensor>> {
        Ok(self
            .table
            .push(Tensor::new(dimensions, backend_type(ty), data))?)
    }

    fn dimensions(&mut self, tensor: Resource<Tensor>) -> wasmtime::Result<TensorDimensions> {
        Ok(self.table.get(&tensor)?.dimensions.clone())
    }

    fn ty(&mut self, tensor: Resource<Tensor>) -> wasmtime::Result<TensorType> {
        Ok(guest_type(self.table.get(&tensor)?.ty))
    }

    fn data(&mut self, tensor: Resource<Tensor>) -> wasmtime::Result<TensorData> {
        Ok(self.table.get(&tensor)?.data.clone())
    }

    fn drop(&mut self, tensor: Resource<Tensor>) -> wasmtime::Result<()> {
        self.table.delete(tensor)?;
        Ok(())
    }
}

impl errors::Host for NnView<'_> {}

impl errors::HostError for NnView<'_> {
    fn code(&mut self, error: Resource<GuestError>) -> wasmtime::Result<ErrorCode> {
        Ok(self.table.get(&error)?.code)
    }

    fn data(&mut self, error: Resource<GuestError>) -> wasmtime::Result<String> {
        Ok(self.table.get(&error)?.message.clone())
    }

    fn drop(&mut self, error: Resource<GuestError>) -> wasmtime::Result<()> {
        self.table.delete(error)?;
        Ok(())
    }
}
