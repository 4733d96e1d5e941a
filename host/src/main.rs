//! `fbposts`: the facebook-posts host. Builds and serves a Spin manifest on
//! wasmtime (`build`, `up`) and measures it (`bench`, `bench-nn`).
//!
//! This file only wires the command line ([`cli`]) to the loader ([`app`])
//! and the HTTP trigger ([`http`]); the host's capabilities are listed in
//! [`capability`].

mod alerts;
mod app;
mod async_runtime;
mod bench;
mod build;
mod capability;
mod cli;
mod compiled;
mod compose;
mod cron;
mod deny;
mod engine;
mod heap;
mod host_state;
mod http;
mod inference_swap;
mod key_value;
mod linked;
mod manifest;
mod metrics;
mod outbound_http;
mod precache;
mod redis;
mod request_log;
mod routing;
mod runtime_config;
mod sizing;
mod variables;
mod wasi_nn;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, Command, UpArgs};
use std::sync::Arc;
use tracing_subscriber::filter::LevelFilter;

/// `FBPOSTS_LOG`'s filter when it is unset or does not parse.
const DEFAULT_LOG_FILTER: &str = "info,wasmtime_cranelift=warn,cranelift=warn";

/// Logs on stderr, filtered by `FBPOSTS_LOG`. The one line per request is
/// the access log ([`request_log`]): formatted without `tracing`, buffered
/// and written with the others of the last 50 ms by a thread of its own, so
/// a request pays neither for `tracing`'s formatter nor for a `write`; the
/// filter decides once, here, whether it is on. Every other line is written
/// at once, in order (start-up, warnings, denials).
fn init_logs() -> Option<request_log::FlushAtExit> {
    use tracing_subscriber::prelude::*;
    let directives = std::env::var("FBPOSTS_LOG")
        .ok()
        .filter(|directives| tracing_subscriber::EnvFilter::try_new(directives).is_ok())
        .unwrap_or_else(|| DEFAULT_LOG_FILTER.to_string());
    let access_log = request_log::enabled_by(&directives)
        .then(|| request_log::start(std::io::stderr()))
        .flatten();
    let filter = tracing_subscriber::EnvFilter::new(&directives);
    let log_max =
        tracing_subscriber::Layer::<tracing_subscriber::Registry>::max_level_hint(&filter)
            .unwrap_or(LevelFilter::TRACE);
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(ansi),
        )
        .init();
    // `init` bridges the `log` crate at every level; wasmtime's `log::trace!`
    // calls on each guest call would then all reach the filter above.
    log::set_max_level(tracing_log::AsLog::as_log(&log_max));
    access_log
}

fn main() -> Result<()> {
    let _flush_logs_at_exit = init_logs();
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
            let (runtime, tokio) = args.async_runtime.build()?;
            tracing::info!(runtime = %runtime.name(), "async runtime");
            tokio.block_on(up(*args))
        }
        Command::Bench(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(bench::run(args)),
        Command::BenchNn(args) => bench::run_nn(args),
        Command::BenchKv(args) => bench::run_kv(args),
        Command::CompileComponent(args) => compiled::compile_child(
            &args.cache_dir,
            &engine::EngineLimits {
                max_memory_bytes: args.max_memory_bytes,
                max_instances: args.max_instances,
            },
            &args.input,
        ),
    }
}

async fn up(args: UpArgs) -> Result<()> {
    // Before the defaults are sized from it.
    sizing::raise_open_file_limit();
    let options = args.load_options()?;
    let server_limits = args.server_limits();
    tracing::info!(
        requests = ?options.requests,
        server = ?server_limits,
        max_instances = options.max_instances,
        "limits"
    );
    let loaded = app::load(&options).await?;
    heap::release_freed_pages();
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
    // Dropping the set at shutdown stops every cron and Redis trigger.
    let mut cron = tokio::task::JoinSet::new();
    for job in loaded.cron_jobs {
        cron.spawn(job.run_on_schedule());
    }
    for subscriber in loaded.redis_subscribers {
        cron.spawn(subscriber.run());
    }
    let app = Arc::new(loaded.http);
    app.start_precache();
    let served = http::serve(app, listener, server_limits, shutdown_signal()).await;
    loaded.stores.flush_buffered().await;
    served
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        _ = term.recv() => tracing::info!("SIGTERM received"),
    }
}
