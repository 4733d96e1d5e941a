//! Loading an application for `fbposts up`: reads `spin.toml` and the runtime
//! configuration, opens the key-value stores, builds the engine and linker,
//! compiles every component once and pre-instantiates it. Everything that can
//! be wrong with the app fails here, at start-up, with the component named.

use crate::engine::{self, Allocator, EngineLimits, EpochTicker};
use crate::http::HttpApp;
use crate::http::instance::{ComponentRuntime, HostState, RequestLimits, ReusePolicy};
use crate::http::outbound::OutboundPolicy;
use crate::key_value::StoreManager;
use crate::manifest::AppManifest;
use crate::routing::Router;
use crate::runtime_config::{RuntimeConfig, StatePaths};
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
}

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

pub async fn load(opts: &LoadOptions) -> Result<LoadedApp> {
    let manifest = AppManifest::from_file(&opts.manifest)
        .with_context(|| format!("loading {}", opts.manifest.display()))?;
    let router = Router::build(&manifest.http_triggers).context("building the route table")?;

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

    let mut runtimes = Vec::new();
    for component in manifest.components.values() {
        if !component.dependencies.is_empty() {
            bail!(
                "component {:?} declares dependencies; composing them is not supported by this host yet",
                component.id
            );
        }
        let started = std::time::Instant::now();
        let bytes = std::fs::read(&component.source).with_context(|| {
            format!(
                "component {:?}: cannot read {} (run `fbposts build` first?)",
                component.id,
                component.source.display()
            )
        })?;
        let compiled = Component::new(&engine, &bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "component {:?}: compiling {}",
                    component.id,
                    component.source.display()
                )
            })?;
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
        let outbound = OutboundPolicy::parse(&component.allowed_outbound_hosts)
            .map_err(|e| anyhow::anyhow!("component {:?}: {e}", component.id))?;
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
            component
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            outbound,
            RequestLimits {
                max_memory_bytes: opts.max_memory_bytes,
                timeout: opts.request_timeout,
            },
            opts.reuse,
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

/// Every import a component may use: WASI P2 and P3 (CLI, clocks, random,
/// filesystem-less), wasi:http both versions (outgoing requests filtered by
/// [`OutboundPolicy`]) and Spin's key-value.
fn build_linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut linker: Linker<HostState> = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    crate::key_value::host::add_to_linker(&mut linker, |state| &mut state.key_value)?;
    Ok(linker)
}
