//! Loading an application for `fbposts up`: reads `spin.toml` and the runtime
//! configuration, configures every capability, builds the engine and linker,
//! then for each component a trigger runs (an HTTP route, a cron schedule or
//! a Redis channel)
//! composes, compiles and pre-instantiates it and prepares every capability
//! for it. Everything that can be wrong with
//! the app fails here, at start-up, with the component named.

use crate::capability::{AppContext, Capabilities};
use crate::compiled::CompiledCache;
use crate::compose;
use crate::cron::{CronJob, Schedule};
use crate::engine::{self, Allocator, EngineLimits, EpochTicker};
use crate::host_state::{HostState, StoreTemplate};
use crate::http::instance::{ComponentRuntime, RequestPolicy, ReuseOverrides, ReusePolicy};
use crate::http::{HttpApp, RequestLimits};
use crate::inference_swap::InferenceChoice;
use crate::linked::{SeparateDependency, SeparateTemplate};
use crate::manifest::{
    AppManifest, ComponentDef, CronTrigger, DependencyDef, HttpRoute, RedisTrigger,
};
use crate::metrics::MetricsOptions;
use crate::redis::trigger::{RedisHandler, Subscriber};
use crate::routing::Router;
use crate::runtime_config::{RuntimeConfig, StatePaths};
use crate::wasi_nn::NnOptions;
use anyhow::{Context, Result, bail};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_http::handler::ProxyPre;

/// What `fbposts up` was asked for.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub manifest: PathBuf,
    pub runtime_config: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    /// Instance reuse forced on every component (`--instance-reuse`, …).
    pub reuse: ReuseOverrides,
    pub request_timeout: Duration,
    pub max_memory_bytes: usize,
    pub max_instances: u32,
    /// Body, admission and deadline limits of each request.
    pub requests: RequestLimits,
    /// Wasmtime's compilation cache; `None` disables it.
    pub cache_dir: Option<PathBuf>,
    /// wasi-nn: backend, device and sessions for `models/` beside the manifest.
    pub nn: NnOptions,
    /// The manifest profile to run (`--profile`); wins over `inference`.
    pub profile: Option<String>,
    /// Which manifest profile runs when `profile` is not given.
    pub inference: InferenceChoice,
    /// `--no-metrics`, `--metrics-path`.
    pub metrics: MetricsOptions,
    /// `--no-precache`, `--precache-cpu-share`.
    pub precache: crate::precache::PrecacheOptions,
}

/// A loaded application; dropping it stops the epoch ticker.
pub struct LoadedApp {
    pub http: HttpApp,
    /// The `[[trigger.cron]]` jobs; the caller runs them.
    pub cron_jobs: Vec<CronJob>,
    /// One subscriber per Redis server of the `[[trigger.redis]]` entries
    /// (none when events are off); the caller runs them.
    pub redis_subscribers: Vec<Subscriber>,
    pub manifest: AppManifest,
    pub allocator: Allocator,
    /// The key-value stores, whose write-behind buffers the caller writes
    /// at shutdown.
    pub stores: crate::key_value::StoreManager,
    _ticker: EpochTicker,
}

pub async fn load(opts: &LoadOptions) -> Result<LoadedApp> {
    let manifest = crate::inference_swap::load_manifest(
        &opts.manifest,
        opts.profile.as_deref(),
        opts.inference,
        &opts.nn,
    )?;
    let router = Router::build(&manifest.http_triggers).context("building the route table")?;
    let (runtime_config, paths) = runtime_config(opts, &manifest)?;
    let capabilities = Capabilities::configure(&AppContext {
        manifest: &manifest,
        runtime_config: &runtime_config,
        paths: &paths,
        options: opts,
    })
    .await?;
    let metrics = capabilities.metrics.requests();

    let limits = EngineLimits {
        max_memory_bytes: opts.max_memory_bytes,
        max_instances: opts.max_instances,
    };
    let (engine, allocator) = engine::build(&limits)?;
    tracing::info!(%allocator, "engine ready");
    let loader = ComponentLoader {
        linker: build_linker(&engine)?,
        compiled: CompiledCache::new(&engine, opts.cache_dir.as_deref()).compiling_in_child(limits),
        engine,
        manifest: &manifest,
        capabilities: &capabilities,
        opts,
        separately_compiled: RefCell::default(),
    };
    let runtimes = routed_components(&manifest)
        .map(|component| loader.load(component))
        .collect::<Result<Vec<_>>>()?;
    let cron_jobs = manifest
        .cron_triggers
        .iter()
        .map(|trigger| loader.load_cron(trigger))
        .collect::<Result<Vec<_>>>()?;
    let redis_subscribers = loader.load_redis()?;
    let pruned = loader.compiled.prune();
    if pruned > 0 {
        tracing::info!(pruned, "removed compiled components unused for two weeks");
    }

    let precache = precache(&manifest, opts.precache);
    if let Some(precache) = &precache {
        capabilities.metrics.precache().set(precache.counts());
    }
    let ticker = EpochTicker::start(loader.engine.clone());
    Ok(LoadedApp {
        http: HttpApp::new(router, runtimes, opts.requests, metrics, precache),
        cron_jobs,
        redis_subscribers,
        manifest,
        allocator,
        stores: capabilities.key_value.stores(),
        _ticker: ticker,
    })
}

/// Pre-caching for the routed components that allow it, unless it is off.
fn precache(
    manifest: &AppManifest,
    options: crate::precache::PrecacheOptions,
) -> Option<crate::precache::Precache> {
    let components = routed_components(manifest)
        .filter(|component| component.fbposts.precache)
        .map(|component| component.id.to_string())
        .collect();
    crate::precache::Precache::new(components, options)
}

/// The runtime config (`--runtime-config-file`, else `runtime-config.toml`
/// beside the manifest, else none) and where local state lives.
fn runtime_config(
    opts: &LoadOptions,
    manifest: &AppManifest,
) -> Result<(RuntimeConfig, StatePaths)> {
    let config_path = opts.runtime_config.clone().or_else(|| {
        let beside = manifest.base_dir.join("runtime-config.toml");
        beside.is_file().then_some(beside)
    });
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
            .and_then(|p| p.parent().map(Path::to_path_buf)),
    };
    Ok((runtime_config, paths))
}

/// Only components a trigger routes to are served; the others exist to be
/// composed into them as dependencies.
fn routed_components(manifest: &AppManifest) -> impl Iterator<Item = &ComponentDef> {
    let routed: BTreeSet<&str> = manifest
        .http_triggers
        .iter()
        .filter(|t| matches!(t.route, HttpRoute::Path(_)))
        .map(|t| t.component.as_str())
        .collect();
    manifest
        .components
        .values()
        .filter(move |component| routed.contains(component.id.as_str()))
}

/// A compiled component with its stores' template and the imports its
/// dependencies were denied, before it is bound to a trigger.
struct ReadyComponent {
    compiled: Component,
    stores: StoreTemplate,
    denials: Vec<crate::deny::Denial>,
    /// Its dependencies instantiated beside it rather than composed in.
    separate: Vec<SeparateDependency>,
}

/// A component's bytes with its composed dependencies, and the dependencies
/// it instantiates separately.
struct Assembled {
    composition: compose::Composition,
    separate: Vec<SeparateDependency>,
}

/// Where one `[[trigger.redis]]` entry listens, rendered.
struct RedisTarget {
    address: String,
    channel: String,
}

/// What turns one manifest component into a [`ComponentRuntime`], a
/// [`CronJob`] or a [`RedisHandler`].
struct ComponentLoader<'a> {
    engine: Engine,
    linker: Linker<HostState>,
    compiled: CompiledCache,
    manifest: &'a AppManifest,
    capabilities: &'a Capabilities,
    opts: &'a LoadOptions,
    /// Separately instantiated dependencies, compiled once per source.
    separately_compiled: RefCell<BTreeMap<PathBuf, Component>>,
}

impl ComponentLoader<'_> {
    fn load(&self, component: &ComponentDef) -> Result<ComponentRuntime> {
        let ready = self.prepare(component)?;
        let pre = self.proxy_pre(component, &ready)?;
        let reuse = ReusePolicy::for_component(&component.fbposts, self.opts.reuse);
        tracing::info!(
            component = %component.id,
            instance_reuse = reuse.max_requests,
            instance_concurrency = reuse.max_concurrent,
            "requests per instance"
        );
        Ok(ComponentRuntime::new(
            component.id.clone(),
            pre,
            ready.stores,
            RequestPolicy {
                timeout: self.opts.request_timeout,
                reuse,
            },
        ))
    }

    /// A `[[trigger.cron]]` job: its component, prepared like an HTTP one,
    /// with the request deadline as the deadline of each run.
    fn load_cron(&self, trigger: &CronTrigger) -> Result<CronJob> {
        let component = &self.manifest.components[&trigger.component];
        let schedule: Schedule = trigger
            .cron_expression
            .parse()
            .with_context(|| format!("trigger.cron for component {:?}", trigger.component))?;
        let ready = self.prepare(component)?;
        let linker = self.linker_for(component, &ready)?;
        CronJob::new(
            &component.id,
            schedule,
            &linker,
            &ready.compiled,
            ready.stores,
            self.opts.request_timeout,
        )
    }

    /// The `[[trigger.redis]]` entries, grouped by server. An entry whose
    /// address renders empty (no `[application.trigger.redis] address`, or
    /// its variable unset) is not run: the log says events are off.
    fn load_redis(&self) -> Result<Vec<Subscriber>> {
        let mut by_address: BTreeMap<String, Subscriber> = BTreeMap::new();
        let mut handlers: BTreeMap<&str, Arc<RedisHandler>> = BTreeMap::new();
        let mut off = Vec::new();
        for trigger in &self.manifest.redis_triggers {
            let Some(target) = self.redis_target(trigger)? else {
                off.push(trigger.component.as_str());
                continue;
            };
            let handler = match handlers.get(trigger.component.as_str()) {
                Some(handler) => handler.clone(),
                None => {
                    let handler = Arc::new(self.redis_handler(&trigger.component)?);
                    handlers.insert(&trigger.component, handler.clone());
                    handler
                }
            };
            by_address
                .entry(target.address.clone())
                .or_insert_with(|| {
                    Subscriber::new(target.address, self.capabilities.metrics.events())
                })
                .add(target.channel, handler);
        }
        if !off.is_empty() {
            tracing::info!(
                target: "fbposts::redis",
                components = ?off,
                "events are off: no Redis address is configured ([application.trigger.redis] address is empty; set e.g. SPIN_VARIABLE_EVENTS_REDIS_ADDRESS=redis://127.0.0.1:6379), so these [[trigger.redis]] consumers do not run and the steps publish nothing"
            );
        }
        Ok(by_address.into_values().collect())
    }

    /// A `[[trigger.redis]]` component, prepared once for all its channels.
    fn redis_handler(&self, component_id: &str) -> Result<RedisHandler> {
        let component = &self.manifest.components[component_id];
        let ready = self.prepare(component)?;
        let linker = self.linker_for(component, &ready)?;
        RedisHandler::new(
            &component.id,
            &linker,
            &ready.compiled,
            ready.stores,
            self.opts.request_timeout,
        )
    }

    /// The rendered server and channel of one entry; `None` when its address
    /// is empty.
    fn redis_target(&self, trigger: &RedisTrigger) -> Result<Option<RedisTarget>> {
        let variables = self.capabilities.variables.app();
        let render = |template: &str, key: &str| {
            variables
                .render(template)
                .map(|(value, _)| value.trim().to_string())
                .with_context(|| {
                    format!("trigger.redis for component {:?}: {key}", trigger.component)
                })
        };
        let address = match trigger
            .address
            .as_deref()
            .or(self.manifest.redis_address.as_deref())
        {
            Some(template) => render(template, "address")?,
            None => String::new(),
        };
        if address.is_empty() {
            return Ok(None);
        }
        redis::Client::open(address.as_str()).with_context(|| {
            format!(
                "trigger.redis for component {:?}: the address is not a Redis URL",
                trigger.component
            )
        })?;
        let channel = render(&trigger.channel, "channel")?;
        if channel.is_empty() {
            bail!(
                "trigger.redis for component {:?}: the channel is empty",
                trigger.component
            );
        }
        Ok(Some(RedisTarget { address, channel }))
    }

    /// Composes and compiles the component and prepares every capability
    /// for it.
    fn prepare(&self, component: &ComponentDef) -> Result<ReadyComponent> {
        let started = Instant::now();
        let Assembled {
            composition,
            separate,
        } = self.assembled(component)?;
        let compiled = self
            .compiled
            .component(&self.engine, &composition.bytes)
            .with_context(|| {
                format!(
                    "component {:?}: compiling {}",
                    component.id,
                    component.source.display()
                )
            })?;
        let prepared = self
            .capabilities
            .prepare(component, &self.engine, &compiled)
            .with_context(|| format!("component {:?}", component.id))?;
        let stores = StoreTemplate {
            engine: self.engine.clone(),
            environment: component.environment.clone().into_iter().collect(),
            max_memory_bytes: component
                .fbposts
                .memory_cap_bytes(self.opts.max_memory_bytes),
            capabilities: prepared,
            dependencies: separate
                .iter()
                .map(|dependency| self.separate_template(component, dependency))
                .collect::<Result<_>>()
                .with_context(|| format!("component {:?}", component.id))?,
        };
        tracing::info!(
            component = %component.id,
            ms = started.elapsed().as_millis() as u64,
            memory_cap_mb = stores.max_memory_bytes >> 20,
            "component ready"
        );
        Ok(ReadyComponent {
            compiled,
            stores,
            denials: composition.denials,
            separate,
        })
    }

    /// The component's bytes with its composed `dependencies` in, the
    /// capabilities they were denied, and the dependencies that ask to be
    /// instantiated separately ([`crate::linked`]), compiled.
    fn assembled(&self, component: &ComponentDef) -> Result<Assembled> {
        let bytes = read_component(&component.id, &component.source)?;
        let mut composed = Vec::new();
        let mut separate = Vec::new();
        for (name, dependency) in &component.dependencies {
            let Some(path) = self.manifest.dependency_path(dependency) else {
                bail!(
                    "component {:?}: dependency {name:?} is not a local file or app component; only those are supported",
                    component.id
                );
            };
            let export = dependency.export().map(str::to_string);
            let inherit = dependency.inherit().clone();
            if let Some(component_id) = self.instantiated_separately(dependency) {
                tracing::info!(component = %component.id, dependency = %name, "dependency instantiated separately");
                separate.push(SeparateDependency {
                    name: name.clone(),
                    component_id: component_id.to_string(),
                    export,
                    compiled: self.compiled_once(&component.id, path)?,
                    inherit,
                });
                continue;
            }
            composed.push(compose::Dependency {
                name: name.clone(),
                export,
                bytes: read_component(&component.id, path)?,
                inherit,
            });
        }
        let composition = if composed.is_empty() {
            compose::Composition {
                bytes,
                denials: Vec::new(),
            }
        } else {
            compose::compose(&component.id, bytes, composed)?
        };
        Ok(Assembled {
            composition,
            separate,
        })
    }

    /// What `component`'s stores make their instance of `dependency` from:
    /// the component's own grants, prepared under the dependency's label.
    fn separate_template(
        &self,
        component: &ComponentDef,
        dependency: &SeparateDependency,
    ) -> Result<SeparateTemplate> {
        let pre = crate::linked::prepare(&self.linker, &self.engine, &component.id, dependency)?;
        let mut as_dependency = component.clone();
        as_dependency.id = crate::linked::label(&component.id, dependency);
        let capabilities =
            self.capabilities
                .prepare(&as_dependency, &self.engine, &dependency.compiled)?;
        Ok(SeparateTemplate { pre, capabilities })
    }

    /// The app component a dependency names, when it asks to be
    /// instantiated separately.
    fn instantiated_separately<'d>(&self, dependency: &'d DependencyDef) -> Option<&'d str> {
        let DependencyDef::Component { component, .. } = dependency else {
            return None;
        };
        self.manifest
            .components
            .get(component)
            .is_some_and(|c| c.fbposts.instantiate_separately)
            .then_some(component.as_str())
    }

    /// A separately instantiated dependency's source, compiled once for
    /// every component that depends on it.
    fn compiled_once(&self, component_id: &str, path: &Path) -> Result<Component> {
        if let Some(compiled) = self.separately_compiled.borrow().get(path) {
            return Ok(compiled.clone());
        }
        let bytes = read_component(component_id, path)?;
        let compiled = self
            .compiled
            .component(&self.engine, &bytes)
            .with_context(|| format!("component {component_id:?}: compiling {}", path.display()))?;
        self.separately_compiled
            .borrow_mut()
            .insert(path.to_path_buf(), compiled.clone());
        Ok(compiled)
    }

    /// The app's linker plus traps for the imports the component's
    /// dependencies were denied.
    fn linker_for(
        &self,
        component: &ComponentDef,
        ready: &ReadyComponent,
    ) -> Result<Linker<HostState>> {
        let mut linker = self.linker.clone();
        crate::deny::define_denied(
            &mut linker,
            &self.engine,
            &ready.compiled,
            &component.id,
            &ready.denials,
        )
        .with_context(|| {
            format!(
                "component {:?}: denying its dependencies' capabilities",
                component.id
            )
        })?;
        for (slot, dependency) in ready.separate.iter().enumerate() {
            crate::linked::forward(&mut linker, &self.engine, &ready.compiled, dependency, slot)
                .with_context(|| format!("component {:?}", component.id))?;
        }
        Ok(linker)
    }

    /// Pre-instantiates the component as a wasi:http P3 service, else P2
    /// proxy; the imports its dependencies were denied trap.
    fn proxy_pre(
        &self,
        component: &ComponentDef,
        ready: &ReadyComponent,
    ) -> Result<ProxyPre<HostState>> {
        let compiled = &ready.compiled;
        let pre = self
            .linker_for(component, ready)?
            .instantiate_pre(compiled)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("component {:?}: unsatisfied imports", component.id))?;
        if let Ok(p3) = wasmtime_wasi_http::p3::bindings::ServicePre::new(pre.clone()) {
            return Ok(ProxyPre::P3(p3));
        }
        let p2 = wasmtime_wasi_http::p2::bindings::ProxyPre::new(pre)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "component {:?} exports neither wasi:http/handler@0.3 nor incoming-handler@0.2",
                    component.id
                )
            })?;
        Ok(ProxyPre::P2(p2))
    }
}

fn read_component(component_id: &str, path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| {
        format!(
            "component {component_id:?}: cannot read {} (run `fbposts build` first?)",
            path.display()
        )
    })
}

/// Every import a component may use: WASI P2 and P3 (CLI, clocks, random,
/// filesystem-less), then every capability's interfaces.
fn build_linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut linker: Linker<HostState> = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    Capabilities::link(&mut linker)?;
    Ok(linker)
}
