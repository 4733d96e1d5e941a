//! The wasi-nn capability ([`WasiNn`]): `wasi:nn@0.2.0-rc-2024-10-28` (world
//! `ml` of wasmtime-wasi-nn's `wit/wasi-nn.wit`) for components, backed by
//! ONNX Runtime or OpenVINO.
//!
//! # Models
//!
//! Every folder under `models/` (beside the manifest) that holds the chosen
//! backend's files is loaded once, at start-up, into a registry shared by all
//! requests; the folder name is the name a guest passes to `load-by-name`.
//! ONNX Runtime reads `model.ort.onnx` when the folder has one, else `model.onnx`;
//! OpenVINO reads `model.xml` + `model.bin`. Models
//! are loaded only if some component imports `wasi:nn`. Guests cannot load
//! models from bytes (`graph.load` answers `invalid-encoding`): the registry
//! is the only way in, so a request never pays for compiling a model.
//!
//! # Backends
//!
//! wasmtime-wasi-nn's own backends are not used for serving, for three reasons
//! found by reading them (48.0.8):
//! - its ONNX backend keeps one `ort::Session` per graph behind a `Mutex` and
//!   locks it for the whole `run`, so every request on one model is serialized;
//! - its OpenVINO backend compiles with OpenVINO's defaults, which on CPUs with
//!   bf16 support (AVX512-BF16, AMX) infer in bf16 (`INFERENCE_PRECISION_HINT`)
//!   and differ from ONNX Runtime by up to ~10 % on the engagement model, and
//!   it names outputs `"0"`, `"1"`, … instead of by the model's names;
//! - `wasmtime serve` builds its registry in every request's store, reloading
//!   each model per request.
//!
//! So this module implements the crate's public backend traits itself:
//! [`OrtBackend`] keeps a pool of sessions per model (default: one per core,
//! each with `cores / sessions` intra-op threads and no spinning) and hands a
//! free one to each `compute`; [`OvBackend`] compiles with `NUM_STREAMS` equal
//! to the same pool size and `INFERENCE_PRECISION_HINT = f32`, and every
//! execution context gets its own infer request. Both take inputs by name (or
//! by position, as a decimal string) and return every output under the model's
//! output name, so a guest sees the same contract on either backend.
//!
//! # Layout (as wasmtime-wasi-nn's `src/backend/`)
//!
//! - this module: options, errors, the shared model registry (each store
//!   holds a clone) and the capability;
//! - [`guest`]: the `wasi:nn` interfaces guests call, ours so that `compute`
//!   is asynchronous, and each call measured;
//! - [`batch`]: dynamic batching (coalescing concurrent calls of a model);
//! - [`libs`]: finding and loading the runtime libraries;
//! - [`tensor`]: model ports and the tensor checks both backends share;
//! - [`onnx`] and [`openvino`]: the two backends.

mod batch;
mod guest;
mod libs;
mod onnx;
mod openvino;
mod tensor;
#[cfg(test)]
mod tests;

pub use self::batch::{BatchOptions, DEFAULT_WINDOW_US, RunObserver};
pub use self::guest::{NnView, add_to_linker};
pub use self::onnx::OrtBackend;
pub use self::openvino::OvBackend;
pub use libs::{find_onnxruntime, find_openvino, search_roots};

use crate::capability::{AppContext, Capability, ComponentContext, HasState};
use crate::host_state::HostState;
use crate::metrics::{Metrics, NnMeter};
use anyhow::Context as _;
use guest::NnModel;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_nn::backend::BackendError;
use wasmtime_wasi_nn::wit::ExecutionTarget;

/// Which inference engine runs the models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NnBackend {
    /// ONNX Runtime, `models/<name>/model.onnx`.
    Onnx,
    /// OpenVINO, `models/<name>/model.xml` + `model.bin`.
    Openvino,
}

impl NnBackend {
    /// The files a model folder must hold for this backend.
    pub fn model_files(self) -> &'static [&'static str] {
        match self {
            NnBackend::Onnx => &["model.onnx"],
            NnBackend::Openvino => &["model.xml", "model.bin"],
        }
    }
}

impl std::fmt::Display for NnBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NnBackend::Onnx => "onnx",
            NnBackend::Openvino => "openvino",
        })
    }
}

/// Where the models run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NnDevice {
    Cpu,
    /// ONNX Runtime: the CUDA execution provider (host built with `--features
    /// cuda`); OpenVINO: its `GPU` plugin.
    Gpu,
}

impl NnDevice {
    fn target(self) -> ExecutionTarget {
        match self {
            NnDevice::Cpu => ExecutionTarget::Cpu,
            NnDevice::Gpu => ExecutionTarget::Gpu,
        }
    }
}

/// How models are loaded and run.
#[derive(Debug, Clone, Copy)]
pub struct NnOptions {
    pub backend: NnBackend,
    pub device: NnDevice,
    /// Sessions (ONNX Runtime) or streams (OpenVINO) per model, i.e. how many
    /// requests can run one model at the same time; `None`: one per core.
    pub sessions: Option<usize>,
    /// How concurrent calls of one model are coalesced (ONNX Runtime).
    pub batch: BatchOptions,
}

impl Default for NnOptions {
    fn default() -> Self {
        Self {
            backend: NnBackend::Onnx,
            device: NnDevice::Cpu,
            sessions: None,
            batch: BatchOptions::default(),
        }
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl NnOptions {
    /// Concurrent runs per model.
    pub fn sessions(&self) -> usize {
        self.sessions.unwrap_or_else(cores).max(1)
    }

    /// ONNX Runtime intra-op threads per session, so that all sessions
    /// together use about one thread per core.
    fn intra_threads(&self) -> usize {
        (cores() / self.sessions()).max(1)
    }
}

/// What can go wrong loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    #[error(
        "ONNX Runtime (libonnxruntime.so) not found; searched {searched}. Install the `onnxruntime` wheel into the repo's .venv (models/setup.sh) or set ORT_DYLIB_PATH"
    )]
    OrtNotFound { searched: String },
    #[error(
        "OpenVINO (libopenvino_c.so) not found; searched {searched}. Install the `openvino` wheel into the repo's .venv (models/setup.sh) or set OPENVINO_INSTALL_DIR"
    )]
    OpenvinoNotFound { searched: String },
    #[error("loading {library}: {message}")]
    Library { library: PathBuf, message: String },
    #[error("model {model:?} ({path}): {message}")]
    Model {
        model: String,
        path: PathBuf,
        message: String,
    },
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A runtime library failed to load earlier in this process.
    #[error("{0}")]
    Setup(String),
    #[error("{0}")]
    Unsupported(String),
    /// A guest's input does not fit the model.
    #[error("{0}")]
    Input(String),
    #[error("ONNX Runtime: {0}")]
    Ort(#[from] ort::Error),
    #[error("OpenVINO: {0}")]
    Openvino(#[from] ::openvino::InferenceError),
    #[error("OpenVINO: {0}")]
    OpenvinoSetup(#[from] ::openvino::SetupError),
}

/// Every backend error passes here on its way to the guest, which gets it
/// with its causes (the guest glue logs it, [`guest`]).
impl From<NnError> for BackendError {
    fn from(err: NnError) -> Self {
        BackendError::BackendAccess(wasmtime::Error::new(err))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The models loaded at start-up, shared by every request (cloning is an
/// `Arc` clone). Each store holds a clone: it is the guests' whole wasi-nn
/// state.
#[derive(Clone, Default)]
pub struct NnRegistry {
    models: Arc<HashMap<String, Arc<NnModel>>>,
}

impl std::fmt::Debug for NnRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NnRegistry")
            .field("models", &self.names())
            .finish()
    }
}

impl NnRegistry {
    /// A registry without models (for components that do not import wasi:nn).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Loads every model folder under `models_dir` that has the backend's
    /// files. A missing `models_dir` gives an empty registry.
    pub fn load(
        models_dir: &Path,
        options: &NnOptions,
        search_roots: &[PathBuf],
    ) -> Result<Self, NnError> {
        let mut models = HashMap::new();
        if !models_dir.is_dir() {
            tracing::warn!(dir = %models_dir.display(), "wasi-nn: no models directory; load-by-name will find nothing");
            return Ok(Self::empty());
        }
        let io = |source| NnError::Io {
            path: models_dir.to_path_buf(),
            source,
        };
        let mut folders = Vec::new();
        for entry in std::fs::read_dir(models_dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.is_dir() {
                folders.push(path);
            }
        }
        folders.sort();
        let mut ort: Option<OrtBackend> = None;
        let mut ov: Option<OvBackend> = None;
        for folder in folders {
            let wanted = options.backend.model_files();
            if !wanted.iter().all(|file| folder.join(file).is_file()) {
                tracing::debug!(dir = %folder.display(), backend = %options.backend, "wasi-nn: no model files, skipped");
                continue;
            }
            let Some(name) = folder
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_owned)
            else {
                tracing::warn!(dir = %folder.display(), "wasi-nn: model folder name is not UTF-8, skipped");
                continue;
            };
            let started = Instant::now();
            let mut gathered = None;
            let graph = match options.backend {
                NnBackend::Onnx => {
                    let backend = match &mut ort {
                        Some(backend) => backend,
                        None => ort.insert(OrtBackend::new(options, search_roots)?),
                    };
                    backend
                        .load_model_dir(&folder, options.device.target())
                        .map(|loaded| {
                            gathered = Some(loaded.gathered);
                            loaded.graph
                        })
                }
                NnBackend::Openvino => {
                    let backend = match &mut ov {
                        Some(backend) => backend,
                        None => ov.insert(OvBackend::new(options, search_roots)?),
                    };
                    backend.load_model_dir(&folder, options.device.target())
                }
            }
            .map_err(|err| NnError::Model {
                model: name.clone(),
                path: folder.clone(),
                message: err.to_string(),
            })?;
            tracing::info!(
                model = %name,
                backend = %options.backend,
                sessions = options.sessions(),
                ms = started.elapsed().as_millis() as u64,
                "wasi-nn model ready"
            );
            let model = NnModel {
                name: name.clone(),
                graph,
                gathered,
                series: None,
            };
            models.insert(name, Arc::new(model));
        }
        if models.is_empty() {
            tracing::warn!(dir = %models_dir.display(), backend = %options.backend, "wasi-nn: no model for this backend");
        }
        Ok(Self {
            models: Arc::new(models),
        })
    }

    /// The model a guest loads by `name`.
    pub(super) fn model(&self, name: &str) -> Option<Arc<NnModel>> {
        self.models.get(name).cloned()
    }

    /// The model names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.models.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The same models, each with its series in `meter` (inference time,
    /// rows and failures per model; see [`crate::metrics`]); their coalesced
    /// runs are counted too.
    pub fn metered(&self, meter: &NnMeter) -> Self {
        let models = self
            .models
            .iter()
            .map(|(name, model)| {
                if let Some(gathered) = &model.gathered
                    && let Some(observer) = meter.coalesced_runs(name)
                {
                    gathered.batcher().observe_runs(observer);
                }
                let metered = NnModel {
                    name: name.clone(),
                    graph: model.graph.clone(),
                    gathered: model.gathered.clone(),
                    series: meter.series(name),
                };
                (name.clone(), Arc::new(metered))
            })
            .collect();
        Self {
            models: Arc::new(models),
        }
    }
}

/// Loads the registry the first time a component that imports wasi:nn shows
/// up, so apps without such a component never load a runtime library.
#[derive(Debug)]
pub struct NnLoader {
    options: NnOptions,
    models_dir: PathBuf,
    search_roots: Vec<PathBuf>,
    loaded: OnceLock<NnRegistry>,
}

impl NnLoader {
    pub fn new(options: NnOptions, models_dir: PathBuf, search_roots: Vec<PathBuf>) -> Self {
        Self {
            options,
            models_dir,
            search_roots,
            loaded: OnceLock::new(),
        }
    }

    /// The registry for `component`: the shared models if it imports
    /// `wasi:nn/*`, else an empty one.
    pub fn registry_for(
        &self,
        engine: &Engine,
        component: &Component,
    ) -> Result<NnRegistry, NnError> {
        if !imports_wasi_nn(engine, component) {
            return Ok(NnRegistry::empty());
        }
        if let Some(registry) = self.loaded.get() {
            return Ok(registry.clone());
        }
        let registry = NnRegistry::load(&self.models_dir, &self.options, &self.search_roots)?;
        Ok(self.loaded.get_or_init(|| registry).clone())
    }
}

/// The wasi-nn capability: models from `models/` beside the manifest, loaded
/// when the first component importing `wasi:nn` is prepared.
pub struct WasiNn {
    loader: NnLoader,
}

impl Capability for WasiNn {
    type Prepared = NnRegistry;
    type InstanceState = NnRegistry;

    fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
        add_to_linker(linker, |state: &mut HostState| {
            let (registry, table) = HasState::<WasiNn>::state_and_table(state);
            NnView::new(registry, table)
        })
    }

    /// `--nn-backend`, `--nn-device` and `--nn-sessions`; the runtime
    /// libraries are searched in the manifest's own directory (see [`libs`]).
    async fn configure_app(ctx: &AppContext<'_>) -> anyhow::Result<Self> {
        let base_dir = &ctx.manifest.base_dir;
        Ok(Self {
            loader: NnLoader::new(
                ctx.options.nn,
                base_dir.join("models"),
                search_roots(base_dir),
            ),
        })
    }

    /// The shared models, measured per model by the metrics capability.
    fn prepare(&self, ctx: &ComponentContext<'_>) -> anyhow::Result<NnRegistry> {
        let registry = self
            .loader
            .registry_for(ctx.engine, ctx.compiled)
            .context("loading wasi-nn models")?;
        let backend = self.loader.options.backend.to_string();
        Ok(registry.metered(&ctx.capability::<Metrics>().nn(&backend)))
    }

    /// The shared models (an `Arc` clone per store).
    fn instance(registry: &NnRegistry) -> NnRegistry {
        registry.clone()
    }
}

/// Whether the component imports any `wasi:nn` interface.
pub fn imports_wasi_nn(engine: &Engine, component: &Component) -> bool {
    component
        .component_type()
        .imports(engine)
        .any(|(name, _)| name.starts_with("wasi:nn/"))
}
