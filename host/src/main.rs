//! `fbposts`: the facebook-posts host. Builds and serves a Spin manifest on
//! wasmtime (`build`, `up`) and measures it (`bench`).

mod app;
mod bench;
mod build;
mod compose;
mod engine;
mod http;
mod key_value;
mod manifest;
mod routing;
mod runtime_config;
mod variables;
mod wasi_nn;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "fbposts",
    version,
    about = "Serve the facebook-posts Spin app on wasmtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
struct BuildArgs {
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    manifest: PathBuf,
    /// Only build these components (repeatable).
    #[arg(short = 'c', long = "component-id")]
    components: Vec<String>,
    /// Build with this component profile's build commands (`[component.X.profile.NAME]`).
    #[arg(long)]
    profile: Option<String>,
}

#[derive(Debug, Args)]
struct UpArgs {
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    manifest: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Spin runtime configuration (key-value stores); default: runtime-config.toml beside the manifest, if any.
    #[arg(long = "runtime-config-file")]
    runtime_config: Option<PathBuf>,
    /// Where the embedded SQLite store and caches live; default: `.spin` beside the manifest.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Build the components before serving.
    #[arg(long)]
    build: bool,
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
    profile: Option<String>,
    /// Inference implementation, as a profile: auto (`wasi-nn` when the manifest defines it and the library is found), portable (no profile), wasi-nn (`--profile wasi-nn`).
    #[arg(long, value_enum, default_value_t = app::InferenceChoice::Auto)]
    inference: app::InferenceChoice,
    /// wasi-nn inference engine for the models in `models/<name>/` beside the manifest.
    #[arg(long, value_enum, default_value_t = wasi_nn::NnBackend::Onnx)]
    nn_backend: wasi_nn::NnBackend,
    /// wasi-nn device (gpu: CUDA for onnx, needs `--features cuda`; OpenVINO's GPU plugin).
    #[arg(long, value_enum, default_value_t = wasi_nn::NnDevice::Cpu)]
    nn_device: wasi_nn::NnDevice,
    /// Requests that can run one model at the same time (ONNX Runtime sessions,
    /// OpenVINO streams); default: one per core.
    #[arg(long)]
    nn_sessions: Option<usize>,
}

fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("fbposts"))
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FBPOSTS_LOG")
                .unwrap_or_else(|_| "info,wasmtime_cranelift=warn,cranelift=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Build(args) => {
            let manifest =
                manifest::AppManifest::from_file(&args.manifest, args.profile.as_deref())
                    .with_context(|| format!("loading {}", args.manifest.display()))?;
            build::build_components(&manifest, &args.components)?;
            Ok(())
        }
        Command::Up(args) => {
            if args.build {
                let manifest =
                    manifest::AppManifest::from_file(&args.manifest, args.profile.as_deref())
                        .with_context(|| format!("loading {}", args.manifest.display()))?;
                build::build_components(&manifest, &[])?;
            }
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(up(args))
        }
        Command::Bench(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(bench::run(args)),
        Command::BenchNn(args) => bench::run_nn(args),
    }
}

async fn up(args: UpArgs) -> Result<()> {
    anyhow::ensure!(
        args.instance_reuse >= 1,
        "--instance-reuse must be at least 1"
    );
    anyhow::ensure!(
        args.instance_concurrency >= 1,
        "--instance-concurrency must be at least 1"
    );
    anyhow::ensure!(
        args.nn_sessions != Some(0),
        "--nn-sessions must be at least 1"
    );
    anyhow::ensure!(
        args.request_timeout > 0.0,
        "--request-timeout must be positive"
    );
    let options = app::LoadOptions {
        manifest: args.manifest,
        runtime_config: args.runtime_config,
        state_dir: args.state_dir,
        reuse: http::instance::ReusePolicy {
            max_requests: args.instance_reuse,
            max_concurrent: args.instance_concurrency,
        },
        request_timeout: Duration::from_secs_f64(args.request_timeout),
        max_memory_bytes: args.max_memory_mb << 20,
        max_instances: args.max_instances,
        max_concurrent_requests: args.max_concurrent_requests,
        cache_dir: if args.no_cache {
            None
        } else {
            args.cache_dir.or_else(default_cache_dir)
        },
        inference: args.inference,
        profile: args.profile,
        nn: wasi_nn::NnOptions {
            backend: args.nn_backend,
            device: args.nn_device,
            sessions: args.nn_sessions,
        },
    };
    let loaded = app::load(&options).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let local = listener.local_addr()?;
    tracing::info!(
        app = %loaded.manifest.name,
        allocator = %loaded.allocator,
        "serving on http://{local}"
    );
    // Tests and scripts wait for this line on stdout.
    println!("Serving http://{local}");
    http::serve(Arc::new(loaded.http), listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        _ = term.recv() => tracing::info!("SIGTERM received"),
    }
}
