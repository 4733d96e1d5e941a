//! The wasi-nn capability: `wasi:nn@0.2.0-rc-2024-10-28` (world `ml` of
//! wasmtime-wasi-nn's `wit/wasi-nn.wit`) for components, backed by ONNX
//! Runtime or OpenVINO.
//!
//! # Models
//!
//! Every folder under `models/` (beside the manifest) that holds the chosen
//! backend's files is loaded once, at start-up, into a registry shared by all
//! requests; the folder name is the name a guest passes to `load-by-name`.
//! ONNX Runtime reads `model.onnx`, OpenVINO `model.xml` + `model.bin`. Models
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
//! # Libraries
//!
//! Both runtimes are loaded with `dlopen` at start-up, never linked or
//! downloaded at build time. Without any environment variable they are found in
//! a Python virtual environment: `$VIRTUAL_ENV`, then `.venv` in the manifest's
//! directory, the current directory or any of their ancestors
//! (`lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so*` from the
//! `onnxruntime` wheel, `…/openvino/libs/libopenvino_c.so*` from the `openvino`
//! wheel). `ORT_DYLIB_PATH` overrides the ONNX Runtime search;
//! `OPENVINO_INSTALL_DIR`, `INTEL_OPENVINO_DIR` or `OPENVINO_BUILD_DIR` the
//! OpenVINO one. The paths are handed to `ort::init_from` and
//! `openvino_sys::library::load_from`, so no environment variable is written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_nn::backend::{
    BackendError, BackendExecutionContext, BackendFromDir, BackendGraph, BackendInner, Id,
    NamedTensor,
};
use wasmtime_wasi_nn::wit::{ExecutionTarget, GraphEncoding, TensorType, WasiNnCtx, WasiNnView};
use wasmtime_wasi_nn::{Backend, ExecutionContext, Graph, GraphRegistry, Registry, Tensor};

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
}

impl Default for NnOptions {
    fn default() -> Self {
        Self {
            backend: NnBackend::Onnx,
            device: NnDevice::Cpu,
            sessions: None,
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
    Openvino(#[from] openvino::InferenceError),
    #[error("OpenVINO: {0}")]
    OpenvinoSetup(#[from] openvino::SetupError),
}

/// Every error a guest gets back passes here. wasmtime-wasi-nn hands the guest
/// (and its own `failure:` log line) only `BackendError`'s display, "Failed
/// while accessing backend", so the detail is logged here.
impl From<NnError> for BackendError {
    fn from(err: NnError) -> Self {
        tracing::warn!(error = %err, "wasi-nn call failed");
        BackendError::BackendAccess(wasmtime::Error::new(err))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------
// Registry and per-request context

/// The models loaded at start-up, shared by every request (cloning is an
/// `Arc` clone).
#[derive(Clone, Default)]
pub struct NnRegistry {
    graphs: Arc<HashMap<String, Graph>>,
}

impl std::fmt::Debug for NnRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NnRegistry")
            .field("models", &self.names())
            .finish()
    }
}

/// [`GraphRegistry`] over the shared map; graphs are never replaced after
/// start-up, so there is no mutable access.
struct SharedGraphs(Arc<HashMap<String, Graph>>);

impl GraphRegistry for SharedGraphs {
    fn get(&self, name: &str) -> Option<&Graph> {
        self.0.get(name)
    }
    fn get_mut(&mut self, _name: &str) -> Option<&mut Graph> {
        None
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
        let mut graphs = HashMap::new();
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
            let graph = match options.backend {
                NnBackend::Onnx => {
                    let backend = match &mut ort {
                        Some(backend) => backend,
                        None => ort.insert(OrtBackend::new(options, search_roots)?),
                    };
                    backend.load_model_dir(&folder, options.device.target())
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
            graphs.insert(name, graph);
        }
        if graphs.is_empty() {
            tracing::warn!(dir = %models_dir.display(), backend = %options.backend, "wasi-nn: no model for this backend");
        }
        Ok(Self {
            graphs: Arc::new(graphs),
        })
    }

    /// The model names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.graphs.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The context one request's store holds: the shared models and no
    /// backend (guests cannot load models from bytes). Costs one small box.
    pub fn ctx(&self) -> WasiNnCtx {
        WasiNnCtx::new(
            std::iter::empty::<Backend>(),
            Registry::from(SharedGraphs(self.graphs.clone())),
        )
    }
}

/// Loads the registry the first time a component that imports wasi:nn shows
/// up, so apps without such a component never load a runtime library.
#[derive(Debug)]
pub struct NnLoader {
    options: NnOptions,
    models_dir: PathBuf,
    search_roots: Vec<PathBuf>,
    loaded: Option<NnRegistry>,
}

impl NnLoader {
    pub fn new(options: NnOptions, models_dir: PathBuf, search_roots: Vec<PathBuf>) -> Self {
        Self {
            options,
            models_dir,
            search_roots,
            loaded: None,
        }
    }

    /// The registry for `component`: the shared models if it imports
    /// `wasi:nn/*`, else an empty one.
    pub fn registry_for(
        &mut self,
        engine: &Engine,
        component: &Component,
    ) -> Result<NnRegistry, NnError> {
        if !imports_wasi_nn(engine, component) {
            return Ok(NnRegistry::empty());
        }
        if let Some(registry) = &self.loaded {
            return Ok(registry.clone());
        }
        let registry = NnRegistry::load(&self.models_dir, &self.options, &self.search_roots)?;
        Ok(self.loaded.insert(registry).clone())
    }
}

/// Whether the component imports any `wasi:nn` interface.
pub fn imports_wasi_nn(engine: &Engine, component: &Component) -> bool {
    component
        .component_type()
        .imports(engine)
        .any(|(name, _)| name.starts_with("wasi:nn/"))
}

/// Adds `wasi:nn@0.2.0-rc-2024-10-28` (graph, tensor, inference, errors).
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> WasiNnView<'_>,
) -> wasmtime::Result<()> {
    wasmtime_wasi_nn::wit::add_to_linker(linker, view)
}

// ---------------------------------------------------------------------------
// Finding and loading the runtime libraries

/// System directories searched last.
const SYSTEM_LIB_DIRS: &[&str] = &[
    "/usr/local/lib",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
];

/// `site-packages` directories of the candidate virtual environments, in
/// search order: `$VIRTUAL_ENV`, then `.venv` in each root and its ancestors.
fn site_packages_dirs(search_roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut venvs: Vec<PathBuf> = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        venvs.push(PathBuf::from(venv));
    }
    for root in search_roots {
        for dir in root.ancestors() {
            venvs.push(dir.join(".venv"));
        }
    }
    let mut dirs = Vec::new();
    for venv in venvs {
        let Ok(entries) = std::fs::read_dir(venv.join("lib")) else {
            continue;
        };
        let mut pythons: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
            .map(|e| e.path().join("site-packages"))
            .filter(|p| p.is_dir())
            .collect();
        // Newest Python first (python3.12 before python3.11).
        pythons.sort_by_key(|p| std::cmp::Reverse(version_key(&p.to_string_lossy())));
        for dir in pythons {
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    dirs
}

/// Numeric parts of a version-suffixed name, for ordering.
fn version_key(name: &str) -> Vec<u64> {
    name.split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse().ok())
        .collect()
}

/// `dir/<file>` or, failing that, the highest `dir/<file>.<version>`.
fn library_in(dir: &Path, file: &str) -> Option<PathBuf> {
    let exact = dir.join(file);
    if exact.is_file() {
        return Some(exact);
    }
    let prefix = format!("{file}.");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            let version = name.strip_prefix(&prefix)?;
            let key = version_key(version);
            (!key.is_empty() && e.path().is_file()).then(|| (key, e.path()))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, path)| path)
}

fn searched(dirs: &[PathBuf]) -> String {
    if dirs.is_empty() {
        return "nothing".into();
    }
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where ONNX Runtime is: `ORT_DYLIB_PATH` if set, else the `onnxruntime`
/// wheel of a virtual environment (see the module docs), else a system
/// library directory.
pub fn find_onnxruntime(search_roots: &[PathBuf]) -> Result<PathBuf, NnError> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let mut tried = Vec::new();
    let wheel_dirs = site_packages_dirs(search_roots)
        .into_iter()
        .map(|sp| sp.join("onnxruntime").join("capi"));
    let system_dirs = SYSTEM_LIB_DIRS.iter().map(PathBuf::from);
    for dir in wheel_dirs.chain(system_dirs) {
        if let Some(found) = library_in(&dir, "libonnxruntime.so") {
            return Ok(found);
        }
        tried.push(dir);
    }
    Err(NnError::OrtNotFound {
        searched: format!(
            "ORT_DYLIB_PATH (unset), {} and .venv under {}",
            searched(&tried),
            searched(search_roots)
        ),
    })
}

/// Where OpenVINO's C library is: the `openvino-finder` search if one of its
/// environment variables is set, else the `openvino` wheel of a virtual
/// environment, else the finder's system locations.
pub fn find_openvino(search_roots: &[PathBuf]) -> Result<PathBuf, NnError> {
    let env_set = [
        "OPENVINO_INSTALL_DIR",
        "INTEL_OPENVINO_DIR",
        "OPENVINO_BUILD_DIR",
    ]
    .iter()
    .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
    if env_set && let Some(found) = openvino_sys::library::find() {
        return Ok(found);
    }
    let mut tried = Vec::new();
    for dir in site_packages_dirs(search_roots) {
        let dir = dir.join("openvino").join("libs");
        if let Some(found) = library_in(&dir, "libopenvino_c.so") {
            return Ok(found);
        }
        tried.push(dir);
    }
    if let Some(found) = openvino_sys::library::find() {
        return Ok(found);
    }
    Err(NnError::OpenvinoNotFound {
        searched: format!(
            "{}, .venv under {} and openvino-finder's locations (OPENVINO_INSTALL_DIR, INTEL_OPENVINO_DIR, LD_LIBRARY_PATH, /usr/lib*, /opt/intel/openvino*)",
            searched(&tried),
            searched(search_roots)
        ),
    })
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panicked".into())
}

/// Loads ONNX Runtime once per process (ort keeps one global library) and
/// returns its path.
pub fn init_onnxruntime(search_roots: &[PathBuf]) -> Result<PathBuf, NnError> {
    static LOADED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = LOADED.get_or_init(|| {
        let path = find_onnxruntime(search_roots).map_err(|e| e.to_string())?;
        let path_str = path.to_string_lossy().into_owned();
        // ort panics (instead of returning an error) when dlopen fails or the
        // library is older than the API it was built for.
        let committed = std::panic::catch_unwind(move || {
            ort::init_from(path_str).with_name("fbposts").commit()
        });
        match committed {
            Ok(Ok(_)) => {
                // ONNX Runtime logs every arena growth and session set-up at
                // `info` (hundreds of lines per start); keep warnings only.
                // (Not `with_logger`: in ort rc.10 it keeps a dangling pointer.)
                if let Ok(env) = ort::environment::get_environment() {
                    env.set_log_level(ort::logging::LogLevel::Warning);
                }
                tracing::info!(library = %path.display(), "ONNX Runtime loaded");
                Ok(path)
            }
            Ok(Err(err)) => Err(NnError::Library {
                library: path,
                message: err.to_string(),
            }
            .to_string()),
            Err(panic) => Err(NnError::Library {
                library: path,
                message: panic_message(panic.as_ref()),
            }
            .to_string()),
        }
    });
    result.clone().map_err(NnError::Setup)
}

/// Loads OpenVINO's C library once per process and returns its path.
pub fn init_openvino(search_roots: &[PathBuf]) -> Result<PathBuf, NnError> {
    static LOADED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = LOADED.get_or_init(|| {
        let path = find_openvino(search_roots).map_err(|e| e.to_string())?;
        match openvino_sys::library::load_from(path.clone()) {
            Ok(()) => {
                tracing::info!(
                    library = %path.display(),
                    version = %openvino::version().build_number,
                    "OpenVINO loaded"
                );
                Ok(path)
            }
            Err(message) => Err(NnError::Library {
                library: path,
                message,
            }
            .to_string()),
        }
    });
    result.clone().map_err(NnError::Setup)
}

// ---------------------------------------------------------------------------
// Tensors shared by both backends

/// One input or output of a model.
#[derive(Debug, Clone)]
struct Port {
    name: String,
    ty: TensorType,
    /// `-1` for a dynamic dimension.
    dims: Vec<i64>,
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
fn resolve(ports: &[Port], name: &str, what: &str) -> Result<usize, NnError> {
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

fn resolve_id(ports: &[Port], id: &Id, what: &str) -> Result<usize, NnError> {
    match id {
        Id::Name(name) => resolve(ports, name, what),
        Id::Index(index) => resolve(ports, &index.to_string(), what),
    }
}

/// Checks a guest tensor against the model's input: element type, rank, the
/// fixed dimensions and the data length (so no backend ever copies a buffer
/// of the wrong size).
fn check_input(port: &Port, tensor: &Tensor) -> Result<(), NnError> {
    let bad = |why: String| Err(NnError::Input(format!("input {:?}: {why}", port.name)));
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

fn dims_u32(dims: &[i64]) -> Result<Vec<u32>, NnError> {
    dims.iter()
        .map(|&d| {
            u32::try_from(d)
                .map_err(|_| NnError::Unsupported(format!("output dimension {d} does not fit u32")))
        })
        .collect()
}

/// Element types that convert between little-endian bytes and Rust values.
trait Element: Sized + Copy {
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

fn from_le_vec<T: Element>(bytes: &[u8]) -> Vec<T> {
    bytes.chunks_exact(T::SIZE).map(T::from_le).collect()
}

fn to_le_vec<T: Element>(values: &[T]) -> Vec<u8> {
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

fn require_inputs<'a>(
    ports: &[Port],
    slots: &'a [Option<Tensor>],
) -> Result<Vec<&'a Tensor>, NnError> {
    ports
        .iter()
        .zip(slots)
        .map(|(port, slot)| {
            slot.as_ref()
                .ok_or_else(|| NnError::Input(format!("missing input {:?}", port.name)))
        })
        .collect()
}

fn named_outputs(ports: &[Port], tensors: Vec<Tensor>) -> Vec<NamedTensor> {
    ports
        .iter()
        .zip(tensors)
        .map(|(port, tensor)| NamedTensor {
            name: port.name.clone(),
            tensor,
        })
        .collect()
}

fn read(path: &Path) -> Result<Vec<u8>, NnError> {
    std::fs::read(path).map_err(|source| NnError::Io {
        path: path.to_path_buf(),
        source,
    })
}

// ---------------------------------------------------------------------------
// ONNX Runtime: a pool of sessions per model

/// wasi-nn backend over ONNX Runtime with a pool of sessions per model.
pub struct OrtBackend {
    sessions: usize,
    intra_threads: usize,
}

impl OrtBackend {
    /// Loads ONNX Runtime (once per process) and prepares a backend.
    pub fn new(options: &NnOptions, search_roots: &[PathBuf]) -> Result<Self, NnError> {
        init_onnxruntime(search_roots)?;
        Ok(Self {
            sessions: options.sessions(),
            intra_threads: options.intra_threads(),
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

    fn load_model(&self, model: &[u8], target: ExecutionTarget) -> Result<Graph, NnError> {
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
            inputs,
            outputs,
        };
        let graph: Box<dyn BackendGraph> = Box::new(OrtGraph(Arc::new(model)));
        Ok(graph.into())
    }

    /// Loads `<dir>/model.onnx`.
    pub fn load_model_dir(
        &mut self,
        dir: &Path,
        target: ExecutionTarget,
    ) -> Result<Graph, NnError> {
        self.load_model(&read(&dir.join("model.onnx"))?, target)
    }
}

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
    inputs: Vec<Port>,
    outputs: Vec<Port>,
}

impl OrtModel {
    fn run(&self, inputs: &[&Tensor]) -> Result<Vec<Tensor>, NnError> {
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
                let slots = fill_inputs(ports, named)?;
                let outputs = self.model.run(&require_inputs(ports, &slots)?)?;
                Ok(Some(named_outputs(&self.model.outputs, outputs)))
            }
            None => {
                self.outputs = self.model.run(&require_inputs(ports, &self.inputs)?)?;
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
            [model] => Ok(self.load_model(model, target)?),
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
        Ok(self.load_model_dir(path, target)?)
    }
}

// ---------------------------------------------------------------------------
// OpenVINO: one compiled model with N streams, one infer request per context

/// wasi-nn backend over OpenVINO: f32 precision, `NUM_STREAMS` = sessions.
pub struct OvBackend {
    core: Arc<Mutex<openvino::Core>>,
    streams: usize,
}

impl OvBackend {
    /// Loads OpenVINO (once per process) and creates its core.
    pub fn new(options: &NnOptions, search_roots: &[PathBuf]) -> Result<Self, NnError> {
        init_openvino(search_roots)?;
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
        Ok(self.request.infer()?)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("host/ has a parent")
            .to_path_buf()
    }

    fn roots() -> Vec<PathBuf> {
        vec![repo_root()]
    }

    fn engagement_dir() -> PathBuf {
        repo_root().join("models").join("engagement")
    }

    fn options(backend: NnBackend, sessions: usize) -> NnOptions {
        NnOptions {
            backend,
            device: NnDevice::Cpu,
            sessions: Some(sessions),
        }
    }

    /// 24 posts covering every type, category, month, weekday, hour and paid
    /// value: page_total_likes, type_code, category, month, weekday, hour, paid.
    fn rows() -> Vec<[f32; 7]> {
        (0..24u16)
            .map(|i| {
                [
                    81_370.0 + f32::from(i) * 2_500.0,
                    f32::from(i % 4),
                    f32::from(1 + i % 3),
                    f32::from(1 + i % 12),
                    f32::from(1 + i % 7),
                    f32::from(i),
                    f32::from(i % 2),
                ]
            })
            .collect()
    }

    fn features(rows: &[[f32; 7]]) -> NamedTensor {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        NamedTensor {
            name: "features".into(),
            tensor: Tensor::new(
                vec![rows.len() as u32, 7],
                TensorType::Fp32,
                to_le_vec(&flat),
            ),
        }
    }

    type Outputs = Vec<(String, Vec<u32>, Vec<f32>)>;

    /// One `init-execution-context` + `compute`, as a guest does it.
    fn compute(graph: &Graph, rows: &[[f32; 7]]) -> Outputs {
        let mut context = graph.init_execution_context().expect("execution context");
        context
            .compute_with_io(vec![features(rows)])
            .expect("compute")
            .into_iter()
            .map(|NamedTensor { name, tensor }| {
                assert_eq!(tensor.ty, TensorType::Fp32, "{name}");
                (name, tensor.dimensions, from_le_vec::<f32>(&tensor.data))
            })
            .collect()
    }

    fn load_ort(sessions: usize) -> Graph {
        let mut backend = OrtBackend::new(&options(NnBackend::Onnx, sessions), &roots())
            .unwrap_or_else(|e| panic!("ONNX Runtime is required for this test: {e}"));
        let started = Instant::now();
        let graph = backend
            .load_from_dir(&engagement_dir(), ExecutionTarget::Cpu)
            .expect("loading model.onnx");
        eprintln!(
            "onnx: {sessions} session(s) loaded in {:?}",
            started.elapsed()
        );
        graph
    }

    fn load_ov(streams: usize) -> Graph {
        let mut backend = OvBackend::new(&options(NnBackend::Openvino, streams), &roots())
            .unwrap_or_else(|e| panic!("OpenVINO is required for this test: {e}"));
        let started = Instant::now();
        let graph = backend
            .load_from_dir(&engagement_dir(), ExecutionTarget::Cpu)
            .expect("loading model.xml + model.bin");
        eprintln!(
            "openvino: {streams} stream(s) compiled in {:?}",
            started.elapsed()
        );
        graph
    }

    fn check_quantiles(outputs: &Outputs, n: usize) {
        let names: Vec<&str> = outputs.iter().map(|o| o.0.as_str()).collect();
        assert_eq!(names, ["p10", "p50", "p90"]);
        for (name, dims, data) in outputs {
            assert_eq!(dims, &[n as u32, 4], "{name}");
            assert_eq!(data.len(), n * 4, "{name}");
        }
        let (p10, p50, p90) = (&outputs[0].2, &outputs[1].2, &outputs[2].2);
        for i in 0..n * 4 {
            assert!(p10[i].is_finite() && p10[i] >= 0.0, "p10[{i}] = {}", p10[i]);
            assert!(
                p10[i] <= p50[i] && p50[i] <= p90[i],
                "cell {i}: p10 {} p50 {} p90 {}",
                p10[i],
                p50[i],
                p90[i]
            );
        }
    }

    fn assert_close(a: &Outputs, b: &Outputs, rel: f32) {
        for ((name, dims_a, xs), (_, dims_b, ys)) in a.iter().zip(b) {
            assert_eq!(dims_a, dims_b, "{name}");
            for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                let tolerance = rel * x.abs().max(y.abs()) + 1e-6;
                assert!(
                    (x - y).abs() <= tolerance,
                    "{name}[{i}]: {x} vs {y} (relative {})",
                    (x - y).abs() / x.abs().max(y.abs())
                );
            }
        }
    }

    #[test]
    fn finds_onnxruntime_in_the_venv() {
        let path = find_onnxruntime(&roots()).unwrap_or_else(|e| panic!("{e}"));
        if std::env::var_os("ORT_DYLIB_PATH").is_none() {
            assert!(
                path.starts_with(repo_root().join(".venv")),
                "{} is not the repo venv's",
                path.display()
            );
        }
        assert!(path.is_file(), "{}", path.display());
        assert!(
            path.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("libonnxruntime.so")),
            "{}",
            path.display()
        );
        init_onnxruntime(&roots()).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn finds_openvino_in_the_venv() {
        let path = find_openvino(&roots()).unwrap_or_else(|e| panic!("{e}"));
        assert!(path.is_file(), "{}", path.display());
        init_openvino(&roots()).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn library_search_takes_the_highest_version() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["libx.so.1.9.0", "libx.so.1.10.2", "libx.so.txt", "liby.so"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(
            library_in(dir.path(), "libx.so"),
            Some(dir.path().join("libx.so.1.10.2"))
        );
        assert_eq!(
            library_in(dir.path(), "liby.so"),
            Some(dir.path().join("liby.so"))
        );
        assert_eq!(library_in(dir.path(), "libz.so"), None);
    }

    /// The engagement model through the wasi-nn backend API, on both
    /// runtimes: same names, shapes and numbers (1e-4 relative), ordered
    /// quantiles. Also against wasmtime-wasi-nn's own ONNX backend, which
    /// runs on the same dynamically loaded ONNX Runtime.
    #[test]
    fn engagement_model_agrees_on_onnx_runtime_and_openvino() {
        let rows = rows();
        let onnx = compute(&load_ort(2), &rows);
        check_quantiles(&onnx, rows.len());

        let openvino = compute(&load_ov(2), &rows);
        check_quantiles(&openvino, rows.len());
        assert_close(&onnx, &openvino, 1e-4);

        let mut stock = wasmtime_wasi_nn::backend::onnx::OnnxBackend::default();
        let stock = stock
            .load_from_dir(&engagement_dir(), ExecutionTarget::Cpu)
            .expect("wasmtime-wasi-nn's ONNX backend");
        assert_close(&onnx, &compute(&stock, &rows), 1e-6);

        // One row alone gives the same numbers as inside the batch.
        let single = compute(&load_ort(1), &rows[5..6]);
        for (k, (_, _, data)) in single.iter().enumerate() {
            assert_eq!(data[..], onnx[k].2[5 * 4..6 * 4]);
        }
    }

    #[test]
    fn inputs_by_position_and_outputs_by_name() {
        for graph in [load_ort(1), load_ov(1)] {
            let mut positional = features(&rows());
            positional.name = "0".into();
            let mut context = graph.init_execution_context().unwrap();
            let outputs = context.compute_with_io(vec![positional]).unwrap();
            assert_eq!(outputs.len(), 3);
            assert_eq!(outputs[2].name, "p90");
        }
    }

    /// Malformed guest input is an error, never a panic or a silent default.
    #[test]
    fn bad_inputs_are_errors() {
        for graph in [load_ort(1), load_ov(1)] {
            let mut context = graph.init_execution_context().unwrap();
            let good = features(&rows()[..2]);
            let mut wrong_name = features(&rows()[..2]);
            wrong_name.name = "nope".into();
            let mut short_data = features(&rows()[..2]);
            short_data.tensor.data.pop();
            let mut wrong_width = features(&rows()[..2]);
            wrong_width.tensor.dimensions = vec![7, 2];
            let mut wrong_type = features(&rows()[..2]);
            wrong_type.tensor.ty = TensorType::I32;
            for (case, inputs) in [
                ("unknown name", vec![wrong_name]),
                ("short data", vec![short_data]),
                ("wrong width", vec![wrong_width]),
                ("wrong type", vec![wrong_type]),
                ("no input", vec![]),
            ] {
                let err = context
                    .compute_with_io(inputs)
                    .err()
                    .unwrap_or_else(|| panic!("{case}: accepted"));
                let BackendError::BackendAccess(detail) = err else {
                    panic!("{case}: {err:?}");
                };
                let detail = detail.to_string();
                assert!(detail.contains("input"), "{case}: {detail}");
            }
            // The context still works afterwards.
            assert_eq!(context.compute_with_io(vec![good]).unwrap().len(), 3);
        }
    }

    /// Many threads on one graph with fewer sessions than threads: every
    /// result is right (the pool hands out sessions, waits when all are busy).
    #[test]
    fn concurrent_computes_share_one_graph() {
        let rows = rows();
        for (backend, graph) in [("onnx", load_ort(2)), ("openvino", load_ov(2))] {
            let expected = compute(&graph, &rows);
            let started = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..6 {
                    scope.spawn(|| {
                        for _ in 0..50 {
                            assert_close(&expected, &compute(&graph, &rows), 0.0);
                        }
                    });
                }
            });
            eprintln!(
                "{backend}: 300 computes of {} rows on 6 threads in {:?}",
                rows.len(),
                started.elapsed()
            );
        }
    }

    #[test]
    fn registry_serves_models_by_folder_name() {
        for backend in [NnBackend::Onnx, NnBackend::Openvino] {
            let registry =
                NnRegistry::load(&repo_root().join("models"), &options(backend, 1), &roots())
                    .unwrap_or_else(|e| panic!("{backend}: {e}"));
            assert_eq!(registry.names(), ["engagement"], "{backend}");
            let shared = SharedGraphs(registry.graphs.clone());
            let graph = shared.get("engagement").unwrap();
            check_quantiles(&compute(graph, &rows()), rows().len());
            assert!(shared.get("nope").is_none());
            let _per_request = registry.ctx();
        }
        let missing = NnRegistry::load(
            Path::new("/nonexistent/models"),
            &NnOptions::default(),
            &roots(),
        )
        .unwrap();
        assert!(missing.names().is_empty());
    }
}
