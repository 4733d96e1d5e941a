//! Finding and loading the runtime libraries of the wasi-nn backends.
//!
//! Both runtimes are loaded with `dlopen` at start-up, never linked or
//! downloaded at build time. Without any environment variable they are found in
//! a Python virtual environment: `$VIRTUAL_ENV`, then `.venv` in the manifest's
//! own directory — never in a parent folder or the working directory, so a
//! library planted in `/tmp/.venv` or `~/.venv` is not loaded into the host
//! (`lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so*` from the
//! `onnxruntime` wheel, `…/openvino/libs/libopenvino_c.so*` from the `openvino`
//! wheel). `ORT_DYLIB_PATH` overrides the ONNX Runtime search;
//! `OPENVINO_INSTALL_DIR`, `INTEL_OPENVINO_DIR` or `OPENVINO_BUILD_DIR` the
//! OpenVINO one. The paths are handed to `ort::init_from` and
//! `openvino_sys::library::load_from`, so no environment variable is written.
//! Each library is loaded once per process; a failure is remembered.

use super::NnError;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where the libraries are searched from when serving an app: the
/// project's own folder (the manifest's directory) only. Anything else must
/// be named explicitly (`$VIRTUAL_ENV`, `ORT_DYLIB_PATH`, OpenVINO's variables).
pub fn search_roots(manifest_dir: &Path) -> Vec<PathBuf> {
    vec![manifest_dir.to_path_buf()]
}

/// System directories searched last.
const SYSTEM_LIB_DIRS: &[&str] = &[
    "/usr/local/lib",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
];

/// `site-packages` directories of the candidate virtual environments, in
/// search order: `$VIRTUAL_ENV`, then `.venv` directly in each root.
pub(super) fn site_packages_dirs(search_roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut venvs: Vec<PathBuf> = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        venvs.push(PathBuf::from(venv));
    }
    venvs.extend(search_roots.iter().map(|root| root.join(".venv")));
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
pub(super) fn library_in(dir: &Path, file: &str) -> Option<PathBuf> {
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
