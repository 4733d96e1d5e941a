//! wasi-nn metrics: inference time, batch size (the first dimension of the
//! first input tensor) and failed inferences, per model and backend. The
//! wasi-nn capability wraps each graph of a component's registry at
//! `prepare` ([`NnMeter::wrap`]), so both backends (ONNX Runtime, OpenVINO)
//! are measured the same way, around the backend's `compute`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::time::Instant;
use wasmtime_wasi_nn::backend::{
    BackendError, BackendExecutionContext, BackendGraph, Id, NamedTensor,
};
use wasmtime_wasi_nn::{ExecutionContext, Graph, Tensor};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: String,
    backend: String,
}

type HistogramFamily = Family<ModelLabels, Histogram, fn() -> Histogram>;

/// The wasi-nn families.
#[derive(Clone)]
pub(super) struct NnFamilies {
    duration: HistogramFamily,
    batch: HistogramFamily,
    coalesced: HistogramFamily,
    failures: Family<ModelLabels, Counter>,
}

fn duration_histogram() -> Histogram {
    // 5 µs … ~2.6 s
    Histogram::new(exponential_buckets(5e-6, 2.0, 20))
}

fn batch_histogram() -> Histogram {
    // 1 … 1024 rows
    Histogram::new(exponential_buckets(1.0, 2.0, 11))
}

fn coalesced_histogram() -> Histogram {
    // 1 … 64 calls
    Histogram::new(exponential_buckets(1.0, 2.0, 7))
}

impl NnFamilies {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let families = Self {
            duration: Family::new_with_constructor(duration_histogram),
            batch: Family::new_with_constructor(batch_histogram),
            coalesced: Family::new_with_constructor(coalesced_histogram),
            failures: Family::default(),
        };
        registry.register_with_unit(
            "nn_inference_duration",
            "Time of successful wasi-nn inferences (the backend's compute), by model and backend",
            Unit::Seconds,
            families.duration.clone(),
        );
        registry.register(
            "nn_batch_size",
            "Rows per successful wasi-nn inference (first dimension of the first input tensor), by model and backend",
            families.batch.clone(),
        );
        registry.register(
            "nn_coalesced_calls",
            "Guest inferences served by each backend run, by model and backend (above 1: dynamic batching coalesced concurrent calls)",
            families.coalesced.clone(),
        );
        registry.register(
            "nn_inference_failures",
            "wasi-nn inferences the backend rejected or failed, by model and backend",
            families.failures.clone(),
        );
        families
    }
}

/// One model's series.
struct ModelSeries {
    duration: Histogram,
    batch: Histogram,
    failures: Counter,
}

/// What the wasi-nn capability wraps graphs with; a no-op when metrics are off.
#[derive(Clone)]
pub struct NnMeter {
    families: Option<NnFamilies>,
    backend: String,
}

impl NnMeter {
    pub(super) fn new(families: Option<NnFamilies>, backend: &str) -> Self {
        Self {
            families,
            backend: backend.to_string(),
        }
    }

    /// What counts the calls each backend run of `model` served, or `None`
    /// when metrics are off.
    pub fn coalesced_runs(&self, model: &str) -> Option<crate::wasi_nn::RunObserver> {
        let families = self.families.as_ref()?;
        let histogram = families.coalesced.get_or_create_owned(&ModelLabels {
            model: model.to_string(),
            backend: self.backend.clone(),
        });
        Some(Box::new(move |calls| histogram.observe(calls as f64)))
    }

    /// `graph` (the model `model`) measured, or as it is when metrics are off.
    pub fn wrap(&self, model: &str, graph: &Graph) -> Graph {
        let Some(families) = &self.families else {
            return graph.clone();
        };
        let labels = ModelLabels {
            model: model.to_string(),
            backend: self.backend.clone(),
        };
        let series = ModelSeries {
            duration: families.duration.get_or_create_owned(&labels),
            batch: families.batch.get_or_create_owned(&labels),
            failures: families.failures.get_or_create_owned(&labels),
        };
        let metered: Box<dyn BackendGraph> = Box::new(MeteredGraph {
            inner: graph.clone(),
            series: Arc::new(series),
        });
        metered.into()
    }
}

/// A graph whose execution contexts are measured.
struct MeteredGraph {
    inner: Graph,
    series: Arc<ModelSeries>,
}

impl BackendGraph for MeteredGraph {
    fn init_execution_context(&self) -> Result<ExecutionContext, BackendError> {
        let context: Box<dyn BackendExecutionContext> = Box::new(MeteredContext {
            inner: self.inner.init_execution_context()?,
            series: self.series.clone(),
            batch: None,
        });
        Ok(context.into())
    }
}

/// An execution context that times `compute`.
struct MeteredContext {
    inner: ExecutionContext,
    series: Arc<ModelSeries>,
    /// The batch of the first input given with `set-input` (the WITX API).
    batch: Option<u32>,
}

/// The first dimension of a tensor: its rows.
fn rows(tensor: &Tensor) -> Option<u32> {
    tensor.dimensions.first().copied()
}

impl BackendExecutionContext for MeteredContext {
    fn set_input(&mut self, id: Id, tensor: &Tensor) -> Result<(), BackendError> {
        if self.batch.is_none() {
            self.batch = rows(tensor);
        }
        self.inner.set_input(id, tensor)
    }

    fn get_output(&mut self, id: Id) -> Result<Tensor, BackendError> {
        self.inner.get_output(id)
    }

    fn compute(
        &mut self,
        inputs: Option<Vec<NamedTensor>>,
    ) -> Result<Option<Vec<NamedTensor>>, BackendError> {
        let batch = match &inputs {
            Some(named) => named.first().and_then(|input| rows(&input.tensor)),
            None => self.batch.take(),
        };
        let started = Instant::now();
        // The trait's `compute` (WIT and WITX), not `ExecutionContext`'s own.
        let result = BackendExecutionContext::compute(&mut *self.inner, inputs);
        match &result {
            Ok(_) => {
                self.series
                    .duration
                    .observe(started.elapsed().as_secs_f64());
                if let Some(batch) = batch {
                    self.series.batch.observe(f64::from(batch));
                }
            }
            Err(_) => {
                self.series.failures.inc();
            }
        }
        result
    }
}
