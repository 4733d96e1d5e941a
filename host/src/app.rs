//! Loading an application for `fbposts up`: reads `spin.toml` and the runtime
//! configuration, opens the key-value stores, builds the engine and linker,
//! compiles every component once and pre-instantiates it. Everything that can
//! be wrong with the app fails here, at start-up, with the component named.

use crate::compose;
use crate::engine::{self, Allocator, EngineLimits, EpochTicker};
use crate::http::HttpApp;
use crate::http::instance::{ComponentRuntime, HostState, RequestLimits, ReusePolicy};
use crate::key_value::StoreManager;
use crate::manifest::AppManifest;
use crate::routing::Router;
use crate::runtime_config::{RuntimeConfig, StatePaths};
use crate::variables::AppVariables;
use crate::wasi_nn::{NnLoader, NnOptions};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::time::Duration;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_http::handler::ProxyPre;

/// What `fbposts up` was asked for.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub manifest: PathBuf,
    pub runtime_config: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub reuse: ReusePolicy,
    pub request_timeout: Duration,
    pub max_memory_bytes: usize,
    pub max_instances: u32,
    pub max_concurrent_requests: usize,
    /// Wasmtime's compilation cache; `None` disables it.
    pub cache_dir: Option<PathBuf>,
    /// wasi-nn: backend, device and sessions for `models/` beside the manifest.
    pub nn: NnOptions,
    /// Which inference implementation runs, as a manifest profile.
    pub inference: InferenceChoice,
    /// The manifest profile to run (`--profile`); wins over `inference`.
    pub profile: Option<String>,
}

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
const WASI_NN_PROFILE: &str = "wasi-nn";

/// A loaded application; dropping it stops the epoch ticker.
pub struct LoadedApp {
    pub http: HttpApp,
    pub manifest: AppManifest,
    pub allocator: Allocator,
    _ticker: EpochTicker,
}

/// The runtime config used when none is given: `runtime-config.toml` beside the manifest, if present.
fn runtime_config_path(opts: &LoadOptions, manifest: &AppManifest) -> Option<PathBuf> {
    opts.runtime_config.clone().or_else(|| {
        let beside = manifest.base_dir.join("runtime-config.toml");
        beside.is_file().then_some(beside)
    })
}

/// Where the wasi-nn runtime libraries are searched: the manifest's and the current directory.
fn library_search_roots(manifest: &AppManifest) -> Vec<PathBuf> {
    let mut roots = vec![manifest.base_dir.clone()];
    roots.extend(std::env::current_dir().ok());
    roots
}

/// The manifest with the profile `--profile` or `--inference` selects.
fn load_manifest(opts: &LoadOptions) -> Result<AppManifest> {
    let load = |profile: Option<&str>| {
        AppManifest::from_file(&opts.manifest, profile)
            .with_context(|| format!("loading {}", opts.manifest.display()))
    };
    let profile = match (&opts.profile, opts.inference) {
        (Some(profile), _) => Some(profile.as_str()),
        (None, InferenceChoice::Portable) => None,
        (None, InferenceChoice::WasiNn) => Some(WASI_NN_PROFILE),
        (None, InferenceChoice::Auto) => {
            let default = load(None)?;
            let roots = library_search_roots(&default);
            let found = match opts.nn.backend {
                crate::wasi_nn::NnBackend::Onnx => crate::wasi_nn::find_onnxruntime(&roots).is_ok(),
                crate::wasi_nn::NnBackend::Openvino => {
                    crate::wasi_nn::find_openvino(&roots).is_ok()
                }
            };
            if !(found && default.defined_profiles.contains(WASI_NN_PROFILE)) {
                return Ok(default);
            }
            Some(WASI_NN_PROFILE)
        }
    };
    load(profile)
}

pub async fn load(opts: &LoadOptions) -> Result<LoadedApp> {
    let manifest = load_manifest(opts)?;
    tracing::info!(
        profile = manifest.profile.as_deref().unwrap_or("default"),
        "manifest profile"
    );
    let router = Router::build(&manifest.http_triggers).context("building the route table")?;
    // Application variables: `SPIN_VARIABLE_<NAME>` or the default, read once.
    let variables = AppVariables::from_env(&manifest.variables)?;

    let config_path = runtime_config_path(opts, &manifest);
    let runtime_config = match &config_path {
        Some(path) => RuntimeConfig::from_file(path)?,
        None => RuntimeConfig::default(),
    };
    let paths = StatePaths {
        state_dir: opts
            .state_dir
            .clone()
            .unwrap_or_else(|| manifest.base_dir.join(".spin")),
        config_dir: config_path
            .as_ref()
            .and_then(|p| p.parent().map(|d| d.to_path_buf())),
    };
    let stores = StoreManager::build(&runtime_config.key_value, &manifest.labels_in_use(), &paths)
        .await
        .context("opening key-value stores")?;
    for label in manifest.labels_in_use() {
        if let Some(summary) = stores.summary(&label) {
            tracing::info!(label, store = %summary, "key-value store");
        }
    }

    let (engine, allocator) = engine::build(
        &EngineLimits {
            max_memory_bytes: opts.max_memory_bytes,
            max_instances: opts.max_instances,
        },
        opts.cache_dir.as_deref(),
    )?;
    tracing::info!(%allocator, "engine ready");
    let linker = build_linker(&engine)?;
    // Models load when the first component importing wasi:nn shows up; the
    // runtime libraries are searched from the manifest's and the current dir.
    let mut nn = NnLoader::new(
        opts.nn,
        manifest.base_dir.join("models"),
        library_search_roots(&manifest),
    );

    let mut runtimes = Vec::new();
    // Only components a trigger routes to are served; the others exist to be
    // composed into them as dependencies.
    let routed: std::collections::BTreeSet<&str> = manifest
        .http_triggers
        .iter()
        .filter(|t| matches!(t.route, crate::manifest::HttpRoute::Path(_)))
        .map(|t| t.component.as_str())
        .collect();
    for component in manifest.components.values() {
        if !routed.contains(component.id.as_str()) {
            continue;
        }
        let started = std::time::Instant::now();
        let bytes = read_component(&component.id, &component.source)?;
        let bytes = if component.dependencies.is_empty() {
            bytes
        } else {
            let mut dependencies = Vec::new();
            for (name, dependency) in &component.dependencies {
                let Some(path) = manifest.dependency_path(dependency) else {
                    bail!(
                        "component {:?}: dependency {name:?} is not a local file or app component; only those are supported",
                        component.id
                    );
                };
                dependencies.push(compose::Dependency {
                    name: name.clone(),
                    export: dependency.export().map(str::to_string),
                    bytes: read_component(&component.id, path)?,
                });
            }
            compose::compose(&component.id, bytes, dependencies)?
        };
        let compiled = Component::new(&engine, &bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "component {:?}: compiling {}",
                    component.id,
                    component.source.display()
                )
            })?;
        let nn_registry = nn
            .registry_for(&engine, &compiled)
            .with_context(|| format!("component {:?}: loading wasi-nn models", component.id))?;
        let pre = linker
            .instantiate_pre(&compiled)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("component {:?}: unsatisfied imports", component.id))?;
        let pre = match wasmtime_wasi_http::p3::bindings::ServicePre::new(pre.clone()) {
            Ok(p3) => ProxyPre::P3(p3),
            Err(_) => ProxyPre::P2(
                wasmtime_wasi_http::p2::bindings::ProxyPre::new(pre).map_err(anyhow::Error::from).with_context(|| {
                    format!("component {:?} exports neither wasi:http/handler@0.3 nor incoming-handler@0.2", component.id)
                })?,
            ),
        };
        let outbound = variables
            .outbound_policy(&component.allowed_outbound_hosts)
            .map_err(|e| anyhow::anyhow!("component {:?}: {e}", component.id))?;
        let component_variables = variables
            .component(&component.variables)
            .with_context(|| format!("component {:?}: variables", component.id))?;
        tracing::info!(
            component = %component.id,
            ms = started.elapsed().as_millis() as u64,
            "component ready"
        );
        runtimes.push(ComponentRuntime::new(
            component.id.clone(),
            engine.clone(),
            pre,
            component.key_value_stores.iter().cloned().collect(),
            stores.clone(),
            component.environment.clone().into_iter().collect(),
            outbound,
            RequestLimits {
                max_memory_bytes: opts.max_memory_bytes,
                timeout: opts.request_timeout,
            },
            opts.reuse,
            nn_registry,
            component_variables,
        ));
    }

    let ticker = EpochTicker::start(engine.clone());
    Ok(LoadedApp {
        http: HttpApp::new(
            router,
            runtimes,
            opts.max_concurrent_requests,
            opts.request_timeout,
        ),
        manifest,
        allocator,
        _ticker: ticker,
    })
}

fn read_component(component_id: &str, path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| {
        format!(
            "component {component_id:?}: cannot read {} (run `fbposts build` first?)",
            path.display()
        )
    })
}

/// Every import a component may use: WASI P2 and P3 (CLI, clocks, random,
/// filesystem-less), wasi:http both versions (outgoing requests filtered by
/// [`crate::http::outbound::OutboundPolicy`]), Spin's key-value and variables,
/// and wasi-nn (`wasi:nn@0.2.0-rc-2024-10-28`, models from the shared registry
/// only).
fn build_linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut linker: Linker<HostState> = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    crate::key_value::host::add_to_linker(&mut linker, |state| &mut state.key_value)?;
    crate::variables::add_to_linker(&mut linker, |state| &mut state.variables)?;
    crate::wasi_nn::add_to_linker(&mut linker, HostState::nn)?;
    Ok(linker)
}
