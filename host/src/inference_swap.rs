//! `--inference`: which manifest profile runs, when no `--profile` is given.
//!
//! The host does not name app components or rewrite their environment: the
//! app's `spin.toml` says, with a component profile (`wasi-nn`), which
//! components compose the wasi-nn inference implementation. This module only
//! decides whether to select that profile.

use crate::manifest::AppManifest;
use crate::wasi_nn::{NnBackend, NnOptions};
use anyhow::{Context, Result};
use std::path::Path;

/// Which manifest profile `--inference` selects when no `--profile` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InferenceChoice {
    /// The `wasi-nn` profile when the manifest defines it and the backend
    /// library is found, else the default profile.
    Auto,
    /// The default profile (pure-Wasm inference, as on stock Spin).
    Portable,
    /// The `wasi-nn` profile (the host's wasi-nn, `--nn-backend`).
    WasiNn,
}

/// The manifest profile that composes the wasi-nn inference implementation.
pub const WASI_NN_PROFILE: &str = "wasi-nn";

/// The manifest with the profile `--profile` (which wins) or `--inference` selects.
pub fn load_manifest(
    path: &Path,
    profile: Option<&str>,
    choice: InferenceChoice,
    nn: &NnOptions,
) -> Result<AppManifest> {
    let load = |profile: Option<&str>| {
        AppManifest::from_file(path, profile).with_context(|| format!("loading {}", path.display()))
    };
    let manifest = match (profile, choice) {
        (Some(profile), _) => load(Some(profile))?,
        (None, InferenceChoice::Portable) => load(None)?,
        (None, InferenceChoice::WasiNn) => load(Some(WASI_NN_PROFILE))?,
        (None, InferenceChoice::Auto) => {
            let default = load(None)?;
            if default.defined_profiles.contains(WASI_NN_PROFILE) && backend_found(&default, nn) {
                load(Some(WASI_NN_PROFILE))?
            } else {
                default
            }
        }
    };
    tracing::info!(
        profile = manifest.profile.as_deref().unwrap_or("default"),
        "manifest profile"
    );
    Ok(manifest)
}

/// Whether the `--nn-backend` runtime library is found beside the app or here.
fn backend_found(manifest: &AppManifest, nn: &NnOptions) -> bool {
    let roots = crate::wasi_nn::search_roots(&manifest.base_dir);
    match nn.backend {
        NnBackend::Onnx => crate::wasi_nn::find_onnxruntime(&roots).is_ok(),
        NnBackend::Openvino => crate::wasi_nn::find_openvino(&roots).is_ok(),
    }
}
