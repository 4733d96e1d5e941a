//! `--inference`: which `fbposts:ml/inference` implementation the steps get.
//!
//! Host policy kept apart so that it can go: the manifest's component
//! profiles replace it. It names two app components, composes
//! `inference-wasi-nn` where the manifest says `inference-portable`, and
//! rewrites the guests' `INFERENCE_IMPLEMENTATION` environment variable.

use crate::manifest::{AppManifest, ComponentDef, DependencyDef};
use crate::wasi_nn::{NnBackend, NnOptions};
use anyhow::{Context, Result};
use std::path::Path;

/// The implementation composed into steps that depend on `inference-portable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InferenceChoice {
    /// wasi-nn when its backend library is found, else portable.
    Auto,
    /// Pure Wasm (tract), as on stock Spin.
    Portable,
    /// The host's wasi-nn (`--nn-backend`).
    WasiNn,
}

/// The component stock Spin composes in (`spin.toml`), and the one this host
/// substitutes when it runs models through wasi-nn.
const PORTABLE_INFERENCE: &str = "inference-portable";
const WASI_NN_INFERENCE: &str = "inference-wasi-nn";

/// What `--inference` decided for this app.
#[derive(Debug, Clone)]
pub struct InferenceSwap {
    use_wasi_nn: bool,
    /// What the guests' `INFERENCE_IMPLEMENTATION` says.
    implementation: String,
}

impl InferenceSwap {
    pub fn decide(choice: InferenceChoice, nn: &NnOptions, manifest: &AppManifest) -> Self {
        let search_roots = crate::wasi_nn::search_roots(&manifest.base_dir);
        let use_wasi_nn = match choice {
            InferenceChoice::Portable => false,
            InferenceChoice::WasiNn => true,
            InferenceChoice::Auto => {
                let found = match nn.backend {
                    NnBackend::Onnx => crate::wasi_nn::find_onnxruntime(&search_roots).is_ok(),
                    NnBackend::Openvino => crate::wasi_nn::find_openvino(&search_roots).is_ok(),
                };
                found && manifest.components.contains_key(WASI_NN_INFERENCE)
            }
        };
        let implementation = if use_wasi_nn {
            format!("wasi-nn ({})", nn.backend)
        } else {
            "portable (tract)".to_string()
        };
        tracing::info!(%implementation, "inference implementation");
        Self {
            use_wasi_nn,
            implementation,
        }
    }

    /// The file composed for `dependency` instead of the manifest's, if any.
    pub fn dependency<'a>(
        &self,
        manifest: &'a AppManifest,
        dependency: &DependencyDef,
    ) -> Result<Option<&'a Path>> {
        match dependency {
            DependencyDef::Component { component, .. }
                if self.use_wasi_nn && component == PORTABLE_INFERENCE =>
            {
                let wasi_nn = manifest.components.get(WASI_NN_INFERENCE).with_context(|| {
                    format!(
                        "--inference wasi-nn needs a `{WASI_NN_INFERENCE}` component in the manifest"
                    )
                })?;
                Ok(Some(wasi_nn.source.as_path()))
            }
            _ => Ok(None),
        }
    }

    /// The component's environment, with `INFERENCE_IMPLEMENTATION` rewritten.
    pub fn environment(&self, component: &ComponentDef) -> Vec<(String, String)> {
        component
            .environment
            .iter()
            .map(|(k, v)| {
                if k == "INFERENCE_IMPLEMENTATION" {
                    (k.clone(), self.implementation.clone())
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect()
    }
}
