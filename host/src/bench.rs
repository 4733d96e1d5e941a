//! `fbposts bench`: a small closed-loop HTTP load generator for our routes
//! (like `wrk`, but it can vary a JSON field per request to measure cache
//! misses). N connections each keep one request in flight for the duration;
//! it prints requests/s and latency percentiles.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Target URL, e.g. http://127.0.0.1:3000/api/analyze
    #[arg(long)]
    url: String,
    /// JSON body to POST (without it: GET).
    #[arg(long)]
    body: Option<String>,
    /// Read the JSON body from a file.
    #[arg(long, conflicts_with = "body")]
    body_file: Option<PathBuf>,
    /// Make this field of the body unique on every request (defeats caches):
    /// a string gets a counter appended, a non-negative integer counts up from its value.
    #[arg(long)]
    vary_field: Option<String>,
    /// Connections, each with one request in flight.
    #[arg(short = 'c', long, default_value_t = 1)]
    connections: usize,
    /// Measurement time in seconds (after a 1 s warm-up).
    #[arg(short = 'd', long, default_value_t = 10.0)]
    duration: f64,
}

struct Target {
    authority: String,
    host: String,
    port: u16,
    path: String,
    body: Option<serde_json::Value>,
    vary_field: Option<String>,
    counter: AtomicU64,
}

impl Target {
    fn request(&self) -> Result<Request<Full<Bytes>>> {
        let builder = Request::builder()
            .uri(&self.path)
            .header(http::header::HOST, &self.authority);
        Ok(match &self.body {
            None => builder.method("GET").body(Full::new(Bytes::new()))?,
            Some(body) => {
                let mut body = body.clone();
                if let Some(field) = &self.vary_field {
                    let n = self.counter.fetch_add(1, Ordering::Relaxed);
                    match body.get_mut(field) {
                        Some(serde_json::Value::String(s)) => s.push_str(&format!(" {n}")),
                        // Integers count up from their value (e.g. `page_likes`).
                        Some(value @ serde_json::Value::Number(_)) => {
                            if let Some(start) = value.as_u64() {
                                *value = (start + n).into();
                            }
                        }
                        _ => {}
                    }
                }
                builder
                    .method("POST")
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::from(body.to_string())))?
            }
        })
    }
}

pub async fn run(args: BenchArgs) -> Result<()> {
    let uri: http::Uri = args.url.parse().context("parsing --url")?;
    if uri.scheme_str() != Some("http") {
        bail!("only http:// URLs are supported");
    }
    let host = uri.host().context("URL has no host")?.to_string();
    let port = uri.port_u16().unwrap_or(80);
    let body = match (&args.body, &args.body_file) {
        (Some(b), _) => Some(serde_json::from_str(b).context("--body is not JSON")?),
        (_, Some(path)) => {
            Some(serde_json::from_slice(&std::fs::read(path)?).context("--body-file is not JSON")?)
        }
        _ => None,
    };
    let target = Arc::new(Target {
        authority: format!("{host}:{port}"),
        host,
        port,
        path: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "/".into()),
        body,
        vary_field: args.vary_field.clone(),
        counter: AtomicU64::new(0),
    });

    let warmup = Duration::from_secs(1);
    let measure = Duration::from_secs_f64(args.duration);
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + measure;
    let mut tasks = Vec::new();
    for _ in 0..args.connections.max(1) {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            connection_loop(target, measure_from, end).await
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0u64;
    let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
    for task in tasks {
        let result = task.await??;
        latencies.extend(result.latencies_us);
        errors += result.errors;
        for (status, count) in result.statuses {
            *statuses.entry(status).or_default() += count;
        }
    }
    latencies.sort_unstable();
    let n = latencies.len();
    let pct = |p: f64| -> f64 {
        if n == 0 {
            return f64::NAN;
        }
        let idx = ((p / 100.0) * (n as f64 - 1.0)).round() as usize;
        latencies[idx] as f64 / 1000.0
    };
    let rps = n as f64 / measure.as_secs_f64();
    let report = serde_json::json!({
        "url": args.url,
        "connections": args.connections,
        "seconds": measure.as_secs_f64(),
        "requests": n,
        "requests_per_second": (rps * 10.0).round() / 10.0,
        "latency_ms": { "p50": pct(50.0), "p90": pct(90.0), "p99": pct(99.0), "max": pct(100.0) },
        "errors": errors,
        "statuses": statuses,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

#[derive(Default)]
struct ConnectionResult {
    latencies_us: Vec<u64>,
    errors: u64,
    statuses: std::collections::BTreeMap<u16, u64>,
}

async fn connection_loop(
    target: Arc<Target>,
    measure_from: Instant,
    end: Instant,
) -> Result<ConnectionResult> {
    let mut result = ConnectionResult::default();
    let mut sender = None;
    while Instant::now() < end {
        if sender.is_none() {
            let stream =
                tokio::net::TcpStream::connect((target.host.as_str(), target.port)).await?;
            stream.set_nodelay(true)?;
            let (s, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            sender = Some(s);
        }
        let s = sender.as_mut().unwrap();
        let request = target.request()?;
        let sent = Instant::now();
        let outcome = async {
            s.ready().await?;
            let response = s.send_request(request).await?;
            let status = response.status().as_u16();
            response.into_body().collect().await?;
            anyhow::Ok(status)
        }
        .await;
        let done = Instant::now();
        match outcome {
            Ok(status) if sent >= measure_from && done <= end => {
                result
                    .latencies_us
                    .push(done.duration_since(sent).as_micros() as u64);
                *result.statuses.entry(status).or_default() += 1;
            }
            Ok(_) => {}
            Err(_) => {
                result.errors += 1;
                sender = None;
            }
        }
    }
    Ok(result)
}

// ---------------------------------------------------------------------------
// `fbposts bench-nn`: raw inference cost of the engagement model per row,
// without HTTP: the host's own wasi-nn backends called natively, and the two
// inference components called through their `fbposts:ml/inference` export.

/// Bindings for calling an `fbposts:ml/inference` implementation.
mod ml {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "fbposts:ml/inference-provider",
    });
    pub use exports::fbposts::ml::inference::Tensor;
}

/// What runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NnEngine {
    /// ONNX Runtime through the host's wasi-nn backend, native (no Wasm).
    Onnx,
    /// OpenVINO through the host's wasi-nn backend, native (no Wasm).
    Openvino,
    /// `inference_portable.wasm` (tract in Wasm), called through its export.
    Portable,
    /// `inference_wasi_nn.wasm` over the host's wasi-nn with ONNX Runtime.
    WasiNnOnnx,
    /// `inference_wasi_nn.wasm` over the host's wasi-nn with OpenVINO.
    WasiNnOpenvino,
}

#[derive(Debug, Args)]
pub struct BenchNnArgs {
    /// Engines to time (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [NnEngine::Onnx, NnEngine::Openvino, NnEngine::Portable])]
    engine: Vec<NnEngine>,
    /// Rows per call (comma-separated); a predict request is 169 rows.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 169, 256])]
    batch: Vec<usize>,
    /// Threads calling at once, each with its own execution context or instance.
    #[arg(short = 'c', long, default_value_t = 1)]
    threads: usize,
    /// ONNX Runtime sessions / OpenVINO streams per model; default: one per core (as `fbposts up`).
    #[arg(long)]
    nn_sessions: Option<usize>,
    /// Measurement time per engine and batch size, in seconds (after 0.5 s warm-up).
    #[arg(short = 'd', long, default_value_t = 3.0)]
    duration: f64,
    /// The models directory (`<name>/model.onnx`, `model.xml` + `model.bin`).
    #[arg(long, default_value = "models")]
    models_dir: PathBuf,
    /// Where `inference_portable.wasm` and `inference_wasi_nn.wasm` are.
    #[arg(long, default_value = "target/wasm32-wasip2/wasm-release")]
    wasm_dir: PathBuf,
    /// Cold calls timed per Wasm engine and batch size: a fresh instance and
    /// its first call, what each request pays with `--instance-reuse 1`.
    #[arg(long, default_value_t = 10)]
    cold: usize,
}

/// The model's name (its folder under `models/`).
const MODEL: &str = "engagement";

/// `rows` feature rows within the training ranges: page likes, type code,
/// category, month, weekday, hour, paid.
fn feature_rows(rows: usize) -> Vec<f32> {
    (0..rows)
        .flat_map(|i| {
            let i = i as f32;
            [
                81_370.0 + (i * 229.0) % 58_072.0,
                i % 4.0,
                1.0 + i % 3.0,
                1.0 + i % 12.0,
                1.0 + (i * 3.0) % 7.0,
                (i * 5.0) % 24.0,
                (i / 2.0).floor() % 2.0,
            ]
        })
        .collect()
}

/// One caller's way to run a batch (`data` holds `rows * 7` values).
type Call = Box<dyn FnMut(&[f32], usize) -> Result<()> + Send>;

/// Makes one [`Call`] per benchmark thread.
type MakeCall = Box<dyn Fn() -> Result<Call> + Sync>;

/// Native: one execution context per call, as the wasi-nn guest does.
fn native_call(graph: wasmtime_wasi_nn::Graph) -> Call {
    use wasmtime_wasi_nn::backend::NamedTensor;
    use wasmtime_wasi_nn::wit::TensorType;
    Box::new(move |data, rows| {
        let bytes = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        let tensor = wasmtime_wasi_nn::Tensor::new(vec![rows as u32, 7], TensorType::Fp32, bytes);
        let mut context = graph
            .init_execution_context()
            .map_err(|e| anyhow::anyhow!("execution context: {e:?}"))?;
        let outputs = context
            .compute_with_io(vec![NamedTensor {
                name: "features".into(),
                tensor,
            }])
            .map_err(|e| anyhow::anyhow!("compute: {e:?}"))?;
        anyhow::ensure!(outputs.len() == 3, "{} outputs", outputs.len());
        std::hint::black_box(outputs);
        Ok(())
    })
}

struct WasmState {
    table: wasmtime::component::ResourceTable,
    wasi: wasmtime_wasi::WasiCtx,
    nn: wasmtime_wasi_nn::wit::WasiNnCtx,
}

impl wasmtime_wasi::WasiView for WasmState {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// An inference component ready to instantiate, on the same engine
/// configuration as `fbposts up` (pooling allocator, epoch checks).
struct WasmEngine {
    engine: wasmtime::Engine,
    pre: wasmtime::component::InstancePre<WasmState>,
    nn: crate::wasi_nn::NnRegistry,
}

impl WasmEngine {
    fn new(wasm: &std::path::Path, nn: crate::wasi_nn::NnRegistry) -> Result<Self> {
        let limits = crate::engine::EngineLimits {
            max_memory_bytes: 256 << 20,
            max_instances: 64,
        };
        let (engine, _) = crate::engine::build(&limits, None)?;
        let started = Instant::now();
        let component = wasmtime::component::Component::from_file(&engine, wasm)
            .map_err(|e| anyhow::anyhow!("compiling {}: {e:?}", wasm.display()))?;
        eprintln!("compiled {} in {:.1?}", wasm.display(), started.elapsed());
        let mut linker = wasmtime::component::Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        crate::wasi_nn::add_to_linker(&mut linker, |s: &mut WasmState| {
            wasmtime_wasi_nn::wit::WasiNnView::new(&mut s.table, &mut s.nn)
        })?;
        let pre = linker.instantiate_pre(&component)?;
        Ok(Self { engine, pre, nn })
    }

    fn instantiate(&self) -> Result<(wasmtime::Store<WasmState>, ml::InferenceProvider)> {
        let mut store = wasmtime::Store::new(
            &self.engine,
            WasmState {
                table: Default::default(),
                wasi: wasmtime_wasi::WasiCtx::builder().build(),
                nn: self.nn.ctx(),
            },
        );
        // No epoch ticker runs here: one tick of slack is never used up.
        store.set_epoch_deadline(1);
        let instance = self.pre.instantiate(&mut store)?;
        let provider = ml::InferenceProvider::new(&mut store, &instance)?;
        Ok((store, provider))
    }

    fn call(self: &Arc<Self>) -> Result<Call> {
        let (mut store, provider) = self.instantiate()?;
        Ok(Box::new(move |data, rows| {
            run_wasm(&mut store, &provider, data, rows)
        }))
    }
}

fn run_wasm(
    store: &mut wasmtime::Store<WasmState>,
    provider: &ml::InferenceProvider,
    data: &[f32],
    rows: usize,
) -> Result<()> {
    let input = ml::Tensor {
        name: "features".into(),
        shape: vec![rows as u32, 7],
        data: data.to_vec(),
    };
    let outputs = provider
        .fbposts_ml_inference()
        .call_run(&mut *store, MODEL, &[input])?
        .map_err(|e| anyhow::anyhow!("inference error: {e:?}"))?;
    anyhow::ensure!(outputs.len() == 3, "{} outputs", outputs.len());
    std::hint::black_box(outputs);
    Ok(())
}

/// CPU time this process has used (user + system), from `/proc/self/stat`
/// in clock ticks of 10 ms (Linux's `USER_HZ`); `None` elsewhere.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses: state is the
    // first, utime the 12th, stime the 13th.
    let mut fields = stat.get(stat.rfind(')')? + 2..)?.split(' ');
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Timed calls of `threads` callers looping for `measure`: per-call latencies
/// (µs), and every call made including warm-up.
fn time_calls(
    make: &(dyn Fn() -> Result<Call> + Sync),
    threads: usize,
    rows: usize,
    measure: Duration,
) -> Result<(Vec<f64>, usize)> {
    let data = feature_rows(rows);
    let barrier = std::sync::Barrier::new(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (data, barrier) = (&data, &barrier);
                scope.spawn(move || -> Result<(Vec<f64>, usize)> {
                    let mut call = make()?;
                    call(data, rows)?;
                    let mut warm = 1;
                    barrier.wait();
                    let warm_until = Instant::now() + Duration::from_millis(500);
                    while Instant::now() < warm_until {
                        call(data, rows)?;
                        warm += 1;
                    }
                    let end = Instant::now() + measure;
                    let mut latencies = Vec::new();
                    while Instant::now() < end {
                        let started = Instant::now();
                        call(data, rows)?;
                        latencies.push(started.elapsed().as_secs_f64() * 1e6);
                    }
                    Ok((latencies, warm))
                })
            })
            .collect();
        let (mut all, mut calls) = (Vec::new(), 0);
        for handle in handles {
            let (latencies, warm) = handle
                .join()
                .map_err(|_| anyhow::anyhow!("benchmark thread panicked"))??;
            calls += warm + latencies.len();
            all.extend(latencies);
        }
        Ok((all, calls))
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize]
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn run_nn(args: BenchNnArgs) -> Result<()> {
    use crate::wasi_nn::{NnBackend, NnDevice, NnOptions, NnRegistry, OrtBackend, OvBackend};
    use wasmtime_wasi_nn::wit::ExecutionTarget;
    anyhow::ensure!(args.threads >= 1, "-c must be at least 1");
    anyhow::ensure!(
        args.nn_sessions != Some(0),
        "--nn-sessions must be at least 1"
    );
    let roots = vec![std::env::current_dir()?];
    let options = |backend| NnOptions {
        backend,
        device: NnDevice::Cpu,
        sessions: args.nn_sessions,
    };
    let model_dir = args.models_dir.join(MODEL);
    let measure = Duration::from_secs_f64(args.duration);
    for &engine in &args.engine {
        let started = Instant::now();
        let (make, wasm): (MakeCall, Option<Arc<WasmEngine>>) = match engine {
            NnEngine::Onnx => {
                let graph = OrtBackend::new(&options(NnBackend::Onnx), &roots)?
                    .load_model_dir(&model_dir, ExecutionTarget::Cpu)?;
                (Box::new(move || Ok(native_call(graph.clone()))), None)
            }
            NnEngine::Openvino => {
                let graph = OvBackend::new(&options(NnBackend::Openvino), &roots)?
                    .load_model_dir(&model_dir, ExecutionTarget::Cpu)?;
                (Box::new(move || Ok(native_call(graph.clone()))), None)
            }
            NnEngine::Portable | NnEngine::WasiNnOnnx | NnEngine::WasiNnOpenvino => {
                let (file, nn) = match engine {
                    NnEngine::Portable => ("inference_portable.wasm", NnRegistry::empty()),
                    NnEngine::WasiNnOnnx => (
                        "inference_wasi_nn.wasm",
                        NnRegistry::load(&args.models_dir, &options(NnBackend::Onnx), &roots)?,
                    ),
                    _ => (
                        "inference_wasi_nn.wasm",
                        NnRegistry::load(&args.models_dir, &options(NnBackend::Openvino), &roots)?,
                    ),
                };
                let wasm = Arc::new(WasmEngine::new(&args.wasm_dir.join(file), nn)?);
                let for_calls = wasm.clone();
                (Box::new(move || for_calls.call()), Some(wasm))
            }
        };
        let name = format!("{engine:?}");
        let setup_ms = started.elapsed().as_millis() as u64;
        for &rows in &args.batch {
            anyhow::ensure!(rows >= 1, "--batch sizes must be at least 1");
            // Wasm: a fresh instance and its first call, as one request pays
            // it with `--instance-reuse 1` (the model is loaded per instance).
            let mut cold = Vec::new();
            if let Some(wasm) = &wasm {
                let data = feature_rows(rows);
                for _ in 0..args.cold {
                    let started = Instant::now();
                    let (mut store, provider) = wasm.instantiate()?;
                    run_wasm(&mut store, &provider, &data, rows)?;
                    cold.push(started.elapsed().as_secs_f64() * 1e6);
                }
                cold.sort_by(f64::total_cmp);
            }
            let cpu_before = process_cpu();
            let (mut latencies, all_calls) =
                time_calls(make.as_ref(), args.threads, rows, measure)?;
            // CPU per call over every call (warm-up included): unlike wall
            // time, it does not grow when other processes share the cores.
            let cpu_us_per_call = cpu_before.zip(process_cpu()).map(|(before, after)| {
                round1((after - before).as_secs_f64() * 1e6 / all_calls as f64)
            });
            latencies.sort_by(f64::total_cmp);
            let calls = latencies.len();
            let mean = latencies.iter().sum::<f64>() / calls.max(1) as f64;
            let calls_per_s = calls as f64 / measure.as_secs_f64();
            println!(
                "{}",
                serde_json::json!({
                    "engine": name,
                    "batch": rows,
                    "threads": args.threads,
                    "nn_sessions": args.nn_sessions,
                    "setup_ms": setup_ms,
                    "calls": calls,
                    "calls_per_s": round1(calls_per_s),
                    "us_per_call": {
                        "p50": round1(percentile(&latencies, 50.0)),
                        "p99": round1(percentile(&latencies, 99.0)),
                        "mean": round1(mean),
                    },
                    "us_per_row": {
                        "p50": round1(percentile(&latencies, 50.0) / rows as f64),
                        "mean": round1(mean / rows as f64),
                        "cpu": cpu_us_per_call.map(|cpu| round1(cpu / rows as f64)),
                    },
                    "cpu_us_per_call": cpu_us_per_call,
                    "rows_per_s": (calls_per_s * rows as f64).round(),
                    "cold_instance_first_call_us_p50": (!cold.is_empty())
                        .then(|| round1(percentile(&cold, 50.0))),
                })
            );
        }
    }
    Ok(())
}
