//! The command line: `fbposts build`, `up`, `bench` and `bench-nn`, and the
//! checks that turn `up`'s flags into [`LoadOptions`].

use crate::alerts::AlertOptions;
use crate::app::LoadOptions;
use crate::async_runtime::AsyncRuntime;
use crate::bench;
use crate::http::admission::AdmissionLimits;
use crate::http::body::BodyLimits;
use crate::http::instance::ReuseOverrides;
use crate::http::limits::ConnectionLimits;
use crate::http::{RequestLimits, ServerLimits};
use crate::inference_swap::InferenceChoice;
use crate::metrics::MetricsOptions;
use crate::sizing::{Defaults, Machine};
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
    Up(Box<UpArgs>),
    /// Load-test a route of a running server and print requests/s and latency.
    Bench(bench::BenchArgs),
    /// Time raw inference of the engagement model per row (native wasi-nn backends, inference components).
    BenchNn(bench::BenchNnArgs),
    /// Throughput of the SQLite key-value backend (concurrent gets and sets).
    BenchKv(bench::BenchKvArgs),
    /// Internal: compile one component into the cache (`fbposts up` runs it
    /// as a child so the compiler's memory is not the server's).
    #[command(hide = true, name = crate::compiled::CHILD_COMMAND)]
    CompileComponent(CompileArgs),
}

/// `fbposts compile-component`: what `crate::compiled` hands its child.
#[derive(Debug, Args)]
pub struct CompileArgs {
    #[arg(long)]
    pub cache_dir: PathBuf,
    #[arg(long)]
    pub max_memory_bytes: usize,
    #[arg(long)]
    pub max_instances: u32,
    /// The component's bytes.
    pub input: PathBuf,
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
    /// The async runtime: auto (one thread when this process may use one
    /// core, else a worker per core), current-thread or multi-thread.
    #[arg(long, value_enum, default_value_t = AsyncRuntime::Auto)]
    pub async_runtime: AsyncRuntime,
    /// Requests one instance may serve before it is dropped (1 = fresh store per
    /// request), for every component; default: each component's
    /// `[component.X.tool.fbposts] instance_reuse`, else 1.
    #[arg(long, value_parser = at_least_one)]
    instance_reuse: Option<usize>,
    /// Requests one reused (P3) instance may serve at the same time, for every
    /// component; default: each component's `instance_concurrency`, else 16.
    #[arg(long, value_parser = at_least_one)]
    instance_concurrency: Option<usize>,
    /// Deadline for one request, in seconds, from the arrival of its head
    /// (reading the body and waiting for a slot count).
    #[arg(long, default_value = "30", value_parser = seconds)]
    request_timeout: Duration,
    /// Time to receive a request head, in seconds, from the connection's start
    /// or the end of the previous response (also the keep-alive idle timeout).
    #[arg(long, default_value = "10", value_parser = seconds)]
    header_timeout: Duration,
    /// Leave Nagle's algorithm on for accepted connections (off by default, as
    /// `TCP_NODELAY`): for reproducing a listener like stock Spin's, whose
    /// keep-alive clients stall ~40 ms on a response sent in two writes.
    #[arg(long)]
    tcp_nagle: bool,
    /// Time to receive a request body after its head, in seconds (→ `408 body_timeout`).
    #[arg(long, default_value = "15", value_parser = seconds)]
    body_timeout: Duration,
    /// Largest request body read, in KiB (→ `413 body_too_large`); the default holds a
    /// maximal key-value value (1 MiB) with room to spare.
    #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    max_body_kib: u32,
    /// Linear memory cap of one instance, in MiB (a 32-bit memory holds at most 4096).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=4096))]
    max_memory_mb: u32,
    /// Instances alive at once (pooling allocator slots); default: from the requests at once.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    max_instances: Option<u32>,
    /// Requests running at once; default: from cores and memory.
    #[arg(long, value_parser = at_least_one)]
    max_concurrent_requests: Option<usize>,
    /// Requests waiting for a running slot; more are refused with `503` and
    /// `Retry-After` (0: refuse whenever every slot is busy); default: 4 per slot.
    #[arg(long)]
    max_waiting_requests: Option<usize>,
    /// Open connections; more are refused (best-effort `503`, then closed);
    /// default: from cores, memory and the open-file limit.
    #[arg(long, value_parser = at_least_one)]
    max_connections: Option<usize>,
    /// Open connections from one client address; default: a quarter of `--max-connections`.
    #[arg(long, value_parser = at_least_one)]
    max_connections_per_client: Option<usize>,
    /// Compiled components, mapped at start-up (`DIR/components/*.cwasm`); default: $XDG_CACHE_HOME/fbposts or ~/.cache/fbposts.
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
    /// Dynamic batching (ONNX Runtime): while calls overlap, how long, in
    /// microseconds, a model's next run waits for more concurrent calls to
    /// join it (0: it takes only
    /// the calls that queued while the model's sessions were busy). Not
    /// waited on one core, where calls cannot overlap.
    #[arg(long, default_value_t = crate::wasi_nn::DEFAULT_WINDOW_US, value_parser = clap::value_parser!(u64).range(0..=1000))]
    nn_batch_window_us: u64,
    /// Dynamic batching: the most rows one coalesced run holds; 0 turns
    /// batching off (every call runs alone).
    #[arg(long, default_value_t = 1024)]
    nn_batch_rows: usize,
    /// Where the host serves its Prometheus metrics, before routing (a manifest route of exactly this path is an error).
    #[arg(long, default_value = crate::metrics::DEFAULT_PATH)]
    metrics_path: String,
    /// Measure nothing and serve no metrics (the metrics path is routed like any other).
    #[arg(long)]
    no_metrics: bool,
    /// Compute no predicted requests ahead (pre-caching of the components
    /// whose `[component.X.tool.fbposts]` has `precache = true`).
    #[arg(long)]
    no_precache: bool,
    /// Share of one core pre-caching may use, above 0 and at most 1.
    #[arg(long, default_value_t = crate::precache::DEFAULT_CPU_SHARE, value_parser = core_share)]
    precache_cpu_share: f64,
    #[command(flatten)]
    alerts: AlertArgs,
}

/// `fbposts up`'s alert flags (see `crate::alerts`); off with `--no-metrics`.
#[derive(Debug, Clone, clap::Args)]
struct AlertArgs {
    /// Where the host serves its alerts as JSON, before routing.
    #[arg(long, default_value = crate::alerts::DEFAULT_PATH)]
    alerts_path: String,
    /// Evaluate no alerts and serve none.
    #[arg(long)]
    no_alerts: bool,
    /// Seconds per point of each alert series (p99 and 5xx share per route).
    #[arg(long, value_parser = seconds, default_value = "10")]
    alert_interval: Duration,
    /// Seconds ahead a forecast crossing of a limit raises an alert.
    #[arg(long, value_parser = seconds, default_value = "600")]
    alert_horizon: Duration,
    /// p99 latency per route, in ms, alerted on before it is crossed.
    #[arg(long, value_parser = positive, default_value = "200")]
    alert_p99_ms: f64,
    /// Share of 5xx answers per route (0–1) alerted on before it is crossed.
    #[arg(long, value_parser = share, default_value = "0.05")]
    alert_error_rate: f64,
    /// POST each alert as JSON to this http:// or https:// URL as it fires.
    #[arg(long, value_parser = crate::alerts::webhook::parse_url)]
    alert_webhook: Option<http::Uri>,
}

impl AlertArgs {
    fn options(&self) -> Option<AlertOptions> {
        (!self.no_alerts).then(|| AlertOptions {
            path: self.alerts_path.clone(),
            interval: self.alert_interval,
            p99_limit_ms: self.alert_p99_ms,
            error_rate_limit: self.alert_error_rate,
            horizon: self.alert_horizon,
            webhook: self.alert_webhook.clone(),
        })
    }
}

fn positive(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("{text:?} is not a number above 0")),
    }
}

fn share(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!("{text:?} is not a share above 0 and at most 1")),
    }
}

/// A duration flag in seconds: a finite number above 0, at most a day.
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(value > 0.0 && value <= MAX_SECONDS) {
        return Err(format!(
            "{text:?} is out of range: give seconds above 0 and at most {MAX_SECONDS}"
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

/// The longest duration a flag accepts: one day.
const MAX_SECONDS: f64 = 86_400.0;

fn core_share(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(share) if share > 0.0 && share <= 1.0 => Ok(share),
        _ => Err(format!(
            "{text:?} is not a share of one core above 0 and at most 1"
        )),
    }
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{text:?} is not a whole number of at least 1")),
    }
}

fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("fbposts"))
}

impl UpArgs {
    fn max_memory_bytes(&self) -> usize {
        // At most 4096 << 20 (the flag's range): no overflow.
        (self.max_memory_mb as usize) << 20
    }

    /// The defaults for flags not given, from this machine and the flags given.
    fn sized_defaults(&self) -> Defaults {
        let mut sized = Defaults::for_machine(
            Machine::current(),
            self.max_memory_bytes() as u64,
            u64::from(self.max_body_kib) * 1024,
        );
        if let Some(running) = self.max_concurrent_requests {
            sized = sized.with_running(running);
        }
        if let Some(connections) = self.max_connections {
            sized = sized.with_connections(connections);
        }
        sized
    }

    /// The listener's limits.
    pub fn server_limits(&self) -> ServerLimits {
        let sized = self.sized_defaults();
        ServerLimits {
            connections: ConnectionLimits {
                max_total: sized.max_connections,
                max_per_client: self
                    .max_connections_per_client
                    .unwrap_or(sized.max_connections_per_client),
            },
            header_timeout: self.header_timeout,
            tcp_nodelay: !self.tcp_nagle,
        }
    }

    /// Checks the flags and makes the loader's options.
    pub fn load_options(&self) -> Result<LoadOptions> {
        let sized = self.sized_defaults();
        anyhow::ensure!(
            self.nn_sessions != Some(0),
            "--nn-sessions must be at least 1"
        );
        Ok(LoadOptions {
            manifest: self.manifest.clone(),
            runtime_config: self.runtime_config.clone(),
            state_dir: self.state_dir.clone(),
            reuse: ReuseOverrides {
                max_requests: self.instance_reuse,
                max_concurrent: self.instance_concurrency,
            },
            request_timeout: self.request_timeout,
            max_memory_bytes: self.max_memory_bytes(),
            max_instances: self.max_instances.unwrap_or(sized.max_instances),
            requests: RequestLimits {
                timeout: self.request_timeout,
                body: BodyLimits {
                    max_bytes: self.max_body_kib as usize * 1024,
                    timeout: self.body_timeout,
                },
                admission: AdmissionLimits {
                    max_running: sized.max_concurrent_requests,
                    max_waiting: self
                        .max_waiting_requests
                        .unwrap_or(sized.max_waiting_requests),
                },
            },
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
                batch: crate::wasi_nn::BatchOptions {
                    window: Duration::from_micros(self.nn_batch_window_us),
                    max_rows: self.nn_batch_rows,
                },
            },
            metrics: MetricsOptions {
                enabled: !self.no_metrics,
                path: self.metrics_path.clone(),
                alerts: self.alerts.options(),
            },
            precache: crate::precache::PrecacheOptions {
                enabled: !self.no_precache,
                cpu_share: self.precache_cpu_share,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_precache_share_must_be_part_of_one_core() {
        for bad in ["0", "-0.1", "1.5", "half"] {
            assert!(up(&["--precache-cpu-share", bad]).is_err(), "{bad}");
        }
        let options = up(&["--precache-cpu-share", "0.25"])
            .unwrap()
            .load_options()
            .unwrap();
        assert_eq!(options.precache.cpu_share, 0.25);
        assert!(options.precache.enabled);
        let off = up(&["--no-precache"]).unwrap().load_options().unwrap();
        assert!(!off.precache.enabled);
    }

    fn up(args: &[&str]) -> Result<UpArgs, clap::Error> {
        let argv = ["fbposts", "up"].iter().chain(args).copied();
        match Cli::try_parse_from(argv)?.command {
            Command::Up(args) => Ok(*args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn an_alert_webhook_must_be_an_http_or_https_url() {
        let err = up(&["--alert-webhook", "ftp://example.com/hook"]).unwrap_err();
        assert!(err.to_string().contains("http:// or https://"), "{err}");
        let args = up(&["--alert-webhook", "http://127.0.0.1:9/hook"]).unwrap();
        let options = args.alerts.options().unwrap();
        assert_eq!(
            options.webhook.unwrap().to_string(),
            "http://127.0.0.1:9/hook"
        );
    }

    #[test]
    fn a_timeout_must_be_a_finite_number_of_seconds_up_to_a_day() {
        for bad in ["inf", "NaN", "0", "-1", "86401", "soon"] {
            assert!(up(&["--request-timeout", bad]).is_err(), "{bad}");
            assert!(up(&["--header-timeout", bad]).is_err(), "{bad}");
        }
        let args = up(&["--request-timeout", "0.5", "--body-timeout", "86400"]).unwrap();
        assert_eq!(args.request_timeout, Duration::from_millis(500));
        assert_eq!(args.body_timeout, Duration::from_secs(86_400));
    }

    #[test]
    fn the_memory_cap_cannot_overflow() {
        assert!(up(&["--max-memory-mb", "18446744073709551615"]).is_err());
        assert!(up(&["--max-memory-mb", "4097"]).is_err());
        assert!(up(&["--max-memory-mb", "0"]).is_err());
        let options = up(&["--max-memory-mb", "4096"])
            .unwrap()
            .load_options()
            .unwrap();
        assert_eq!(options.max_memory_bytes, 4096 << 20);
    }

    #[test]
    fn given_limits_win_over_the_sized_defaults() {
        let args = up(&["--max-concurrent-requests", "3", "--max-connections", "40"]).unwrap();
        let options = args.load_options().unwrap();
        assert_eq!(options.requests.admission.max_running, 3);
        assert_eq!(options.requests.admission.max_waiting, 12);
        assert_eq!(options.max_instances, 25);
        let server = args.server_limits();
        assert_eq!(server.connections.max_total, 40);
        assert_eq!(server.connections.max_per_client, 10);
        assert!(up(&["--max-concurrent-requests", "0"]).is_err());
    }

    #[test]
    fn the_defaults_are_sized_to_this_machine() {
        let options = up(&[]).unwrap().load_options().unwrap();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(options.requests.admission.max_running <= cores * 8);
        assert!(options.requests.admission.max_running >= 1);
        assert_eq!(options.requests.body.max_bytes, 2048 * 1024);
    }
}
