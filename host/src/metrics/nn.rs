//! wasi-nn metrics: inference time, batch size (the first dimension of the
//! first input tensor) and failed inferences, per model and backend. The
//! wasi-nn capability gives each model of a component's registry its series
//! at `prepare` ([`NnMeter::series`]), and the guest glue records every
//! `compute` in it, so both backends (ONNX Runtime, OpenVINO) are measured
//! the same way, around the guest's call.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::time::Duration;

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

    /// The series `model`'s guest calls are recorded in, or `None` when
    /// metrics are off.
    pub fn series(&self, model: &str) -> Option<NnSeries> {
        let families = self.families.as_ref()?;
        let labels = ModelLabels {
            model: model.to_string(),
            backend: self.backend.clone(),
        };
        Some(NnSeries(Arc::new(ModelSeries {
            duration: families.duration.get_or_create_owned(&labels),
            batch: families.batch.get_or_create_owned(&labels),
            failures: families.failures.get_or_create_owned(&labels),
        })))
    }
}

/// One model's series, where the wasi-nn glue records each guest `compute`.
#[derive(Clone)]
pub struct NnSeries(Arc<ModelSeries>);

impl NnSeries {
    /// One guest `compute`: its time and rows (the first dimension of its
    /// first input) when it succeeded, else a failure.
    pub fn observe(&self, succeeded: bool, rows: Option<u32>, elapsed: Duration) {
        if !succeeded {
            self.0.failures.inc();
            return;
        }
        self.0.duration.observe(elapsed.as_secs_f64());
        if let Some(rows) = rows {
            self.0.batch.observe(f64::from(rows));
        }
    }
}
