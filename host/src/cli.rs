//! The command line: `fbposts build`, `up`, `bench` and `bench-nn`, and the
//! checks that turn `up`'s flags into [`LoadOptions`].

use crate::app::LoadOptions;
use crate::bench;
use crate::http::instance::ReusePolicy;
use crate::inference_swap::InferenceChoice;
use crate::metrics::MetricsOptions;
use crate::wasi_nn::{NnBackend, NnDevice, NnOptions};
use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "fbposts",
    version,
    about = "Serve the facebook-posts Spin app on wasmtime"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every component's `[component.X.build]` command, like `spin build`.
    Build(BuildArgs),
    /// Serve the app over HTTP, like `spin up`.
    Up(UpArgs),
    /// Load-test a route of a running server and print requests/s and latency.
    Bench(bench::BenchArgs),
    /// Time raw inference of the engagement model per row (native wasi-nn backends, inference components).
    BenchNn(bench::BenchNnArgs),
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    pub manifest: PathBuf,
    /// Only build these components (repeatable).
    #[arg(short = 'c', long = "component-id")]
    pub components: Vec<String>,
    /// Build with this component profile's build commands (`[component.X.profile.NAME]`).
    #[arg(long)]
    pub profile: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    pub manifest: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Spin runtime configuration (key-value stores); default: runtime-config.toml beside the manifest, if any.
    #[arg(long = "runtime-config-file")]
    runtime_config: Option<PathBuf>,
    /// Where the embedded SQLite store and caches live; default: `.spin` beside the manifest.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Build the components before serving.
    #[arg(long)]
    pub build: bool,
    /// Requests one instance may serve before it is dropped (1 = fresh store per request).
    #[arg(long, default_value_t = 1)]
    instance_reuse: usize,
    /// Requests one reused (P3) instance may serve at the same time.
    #[arg(long, default_value_t = 16)]
    instance_concurrency: usize,
    /// Deadline for one request, in seconds.
    #[arg(long, default_value_t = 30.0)]
    request_timeout: f64,
    /// Linear memory cap of one instance, in MiB.
    #[arg(long, default_value_t = 256)]
    max_memory_mb: usize,
    /// Instances alive at once (pooling allocator slots).
    #[arg(long, default_value_t = 1000)]
    max_instances: u32,
    /// Requests handled at once; further requests wait.
    #[arg(long, default_value_t = 1000)]
    max_concurrent_requests: usize,
    /// Compiled-component cache; default: $XDG_CACHE_HOME/fbposts or ~/.cache/fbposts.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Do not cache compiled components.
    #[arg(long)]
    no_cache: bool,
    /// Run this component profile (`[component.X.profile.NAME]`); wins over `--inference`.
    #[arg(long)]
    pub profile: Option<String>,
    /// Inference implementation, as a profile: auto (`wasi-nn` when the manifest defines it and the library is found), portable (no profile), wasi-nn (`--profile wasi-nn`).
    #[arg(long, value_enum, default_value_t = InferenceChoice::Auto)]
    inference: InferenceChoice,
    /// wasi-nn inference engine for the models in `models/<name>/` beside the manifest.
    #[arg(long, value_enum, default_value_t = NnBackend::Onnx)]
    nn_backend: NnBackend,
    /// wasi-nn device (gpu: CUDA for onnx, needs `--features cuda`; OpenVINO's GPU plugin).
    #[arg(long, value_enum, default_value_t = NnDevice::Cpu)]
    nn_device: NnDevice,
    /// Requests that can run one model at the same time (ONNX Runtime sessions,
    /// OpenVINO streams); default: one per core.
    #[arg(long)]
    nn_sessions: Option<usize>,
    /// Where the host serves its Prometheus metrics, before routing (a manifest route of exactly this path is an error).
    #[arg(long, default_value = crate::metrics::DEFAULT_PATH)]
    metrics_path: String,
    /// Measure nothing and serve no metrics (the metrics path is routed like any other).
    #[arg(long)]
    no_metrics: bool,
}

fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("fbposts"))
}

impl UpArgs {
    /// Checks the flags and makes the loader's options.
    pub fn load_options(&self) -> Result<LoadOptions> {
        anyhow::ensure!(
            self.instance_reuse >= 1,
            "--instance-reuse must be at least 1"
        );
        anyhow::ensure!(
            self.instance_concurrency >= 1,
            "--instance-concurrency must be at least 1"
        );
        anyhow::ensure!(
            self.nn_sessions != Some(0),
            "--nn-sessions must be at least 1"
        );
        anyhow::ensure!(
            self.request_timeout > 0.0,
            "--request-timeout must be positive"
        );
        Ok(LoadOptions {
            manifest: self.manifest.clone(),
            runtime_config: self.runtime_config.clone(),
            state_dir: self.state_dir.clone(),
            reuse: ReusePolicy {
                max_requests: self.instance_reuse,
                max_concurrent: self.instance_concurrency,
            },
            request_timeout: Duration::from_secs_f64(self.request_timeout),
            max_memory_bytes: self.max_memory_mb << 20,
            max_instances: self.max_instances,
            max_concurrent_requests: self.max_concurrent_requests,
            cache_dir: if self.no_cache {
                None
            } else {
                self.cache_dir.clone().or_else(default_cache_dir)
            },
            profile: self.profile.clone(),
            inference: self.inference,
            nn: NnOptions {
                backend: self.nn_backend,
                device: self.nn_device,
                sessions: self.nn_sessions,
            },
            metrics: MetricsOptions {
                enabled: !self.no_metrics,
                path: self.metrics_path.clone(),
            },
        })
    }
}
