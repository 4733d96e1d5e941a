//! `fbposts bench-nn`: raw inference cost of a model per row, without HTTP:
//! the host's own wasi-nn backends called natively, and the two inference
//! components called through their `fbposts:ml/inference` export.
//!
//! What the model takes and returns is read from its `metadata.json` (written
//! by the training in `models/`): the input's name and width, and how many
//! outputs it has. The rows are synthetic; graphs without data-dependent
//! control flow (the engagement model's MLPs and SVR) cost the same whatever
//! the values.

use anyhow::{Context, Result};
use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bindings for calling an `fbposts:ml/inference` implementation.
mod ml {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "fbposts:ml/inference-provider",
        exports: { default: async },
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
    /// The model to time: its folder under `--models-dir`, with a `metadata.json`.
    #[arg(long, default_value = "engagement")]
    model: String,
    /// Where `inference_portable.wasm` and `inference_wasi_nn.wasm` are.
    #[arg(long, default_value = "target/wasm32-wasip2/wasm-release")]
    wasm_dir: PathBuf,
    /// Cold calls timed per Wasm engine and batch size: a fresh instance and
    /// its first call, what each request pays with `--instance-reuse 1`.
    #[arg(long, default_value_t = 10)]
    cold: usize,
}

/// What the benchmark needs to know about a model, from its `metadata.json`.
#[derive(Debug, Clone, PartialEq)]
struct Signature {
    /// The model's name (its folder under `models/`).
    model: String,
    /// The one input's name, e.g. `features`.
    input: String,
    /// Values per row: the input is `[rows, width]` f32.
    width: usize,
    /// How many outputs a run returns.
    outputs: usize,
}

/// Python's `json.dump` writes `NaN` and `Infinity` (the cross-validation
/// table has some), which JSON has not: they become `null` outside strings.
fn python_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if !in_string
            && let Some(token) = ["-Infinity", "Infinity", "NaN"]
                .into_iter()
                .find(|token| rest.starts_with(token))
        {
            out.push_str("null");
            rest = &rest[token.len()..];
            continue;
        }
        if c == '"' && !escaped {
            in_string = !in_string;
        }
        escaped = in_string && c == '\\' && !escaped;
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[derive(Deserialize)]
struct Metadata {
    inputs: Vec<PortMetadata>,
    outputs: Vec<PortMetadata>,
}

#[derive(Deserialize)]
struct PortMetadata {
    name: String,
    dtype: String,
    /// Dimensions: a number, or a name for the batch dimension.
    shape: Vec<serde_json::Value>,
}

impl Signature {
    /// Reads `<models_dir>/<model>/metadata.json`.
    fn read(models_dir: &Path, model: &str) -> Result<Self> {
        let path = models_dir.join(model).join("metadata.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Self::parse(model, &text).with_context(|| path.display().to_string())
    }

    /// A model with one f32 input of shape `[batch, width]`.
    fn parse(model: &str, metadata: &str) -> Result<Self> {
        let metadata: Metadata = serde_json::from_str(&python_json(metadata))?;
        let [input] = metadata.inputs.as_slice() else {
            anyhow::bail!(
                "bench-nn needs a model with one input, this one has {}",
                metadata.inputs.len()
            );
        };
        anyhow::ensure!(
            input.dtype == "float32",
            "input {:?} is {}, not float32",
            input.name,
            input.dtype
        );
        let width = match input.shape.as_slice() {
            [batch, width] if !batch.is_u64() => width.as_u64(),
            _ => None,
        };
        let width = width.with_context(|| {
            format!(
                "input {:?} has shape {:?}, not [batch, width]",
                input.name, input.shape
            )
        })?;
        Ok(Self {
            model: model.to_string(),
            input: input.name.clone(),
            width: usize::try_from(width)?,
            outputs: metadata.outputs.len(),
        })
    }

    /// `rows` rows of small integers: every column cycles with its own step,
    /// so one-hot encoded columns see all their low codes.
    fn rows(&self, rows: usize) -> Vec<f32> {
        (0..rows)
            .flat_map(|row| {
                (0..self.width).map(move |column| ((row * (column + 1) + column) % 12) as f32)
            })
            .collect()
    }
}

/// One caller's way to run a batch (`data` holds `rows * width` values).
type Call = Box<dyn FnMut(&[f32], usize) -> Result<()> + Send>;

/// Makes one [`Call`] per benchmark thread.
type MakeCall = Box<dyn Fn() -> Result<Call> + Sync>;

/// Native: one execution context per call, as the wasi-nn guest does.
fn native_call(graph: wasmtime_wasi_nn::Graph, signature: Arc<Signature>) -> Call {
    use wasmtime_wasi_nn::backend::NamedTensor;
    use wasmtime_wasi_nn::wit::TensorType;
    Box::new(move |data, rows| {
        let bytes = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        let shape = vec![rows as u32, signature.width as u32];
        let tensor = wasmtime_wasi_nn::Tensor::new(shape, TensorType::Fp32, bytes);
        let mut context = graph
            .init_execution_context()
            .map_err(|e| anyhow::anyhow!("execution context: {e:?}"))?;
        let outputs = context
            .compute_with_io(vec![NamedTensor {
                name: signature.input.clone(),
                tensor,
            }])
            .map_err(|e| anyhow::anyhow!("compute: {e:?}"))?;
        anyhow::ensure!(
            outputs.len() == signature.outputs,
            "{} outputs",
            outputs.len()
        );
        std::hint::black_box(outputs);
        Ok(())
    })
}

struct WasmState {
    table: wasmtime::component::ResourceTable,
    wasi: wasmtime_wasi::WasiCtx,
    nn: crate::wasi_nn::NnRegistry,
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
    signature: Arc<Signature>,
}

impl WasmEngine {
    fn new(wasm: &Path, nn: crate::wasi_nn::NnRegistry, signature: Arc<Signature>) -> Result<Self> {
        let limits = crate::engine::EngineLimits {
            max_memory_bytes: 256 << 20,
            max_instances: 64,
        };
        let (engine, _) = crate::engine::build(&limits)?;
        let started = Instant::now();
        let component = wasmtime::component::Component::from_file(&engine, wasm)
            .map_err(|e| anyhow::anyhow!("compiling {}: {e:?}", wasm.display()))?;
        eprintln!("compiled {} in {:.1?}", wasm.display(), started.elapsed());
        let mut linker = wasmtime::component::Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        crate::wasi_nn::add_to_linker(&mut linker, |s: &mut WasmState| {
            crate::wasi_nn::NnView::new(&s.nn, &mut s.table)
        })?;
        let pre = linker.instantiate_pre(&component)?;
        Ok(Self {
            engine,
            pre,
            nn,
            signature,
        })
    }

    /// A fresh instance. The host's wasi-nn `compute` is asynchronous, so
    /// instances are driven by `runtime` (one thread, as `fbposts up` on one
    /// core).
    fn instantiate(
        &self,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<(wasmtime::Store<WasmState>, ml::InferenceProvider)> {
        let mut store = wasmtime::Store::new(
            &self.engine,
            WasmState {
                table: Default::default(),
                wasi: wasmtime_wasi::WasiCtx::builder().build(),
                nn: self.nn.clone(),
            },
        );
        // No epoch ticker runs here: one tick of slack is never used up.
        store.set_epoch_deadline(1);
        let instance = runtime.block_on(self.pre.instantiate_async(&mut store))?;
        let provider = ml::InferenceProvider::new(&mut store, &instance)?;
        Ok((store, provider))
    }

    fn call(self: &Arc<Self>) -> Result<Call> {
        let runtime = one_thread()?;
        let (mut store, provider) = self.instantiate(&runtime)?;
        let signature = self.signature.clone();
        Ok(Box::new(move |data, rows| {
            runtime.block_on(run_wasm(&mut store, &provider, &signature, data, rows))
        }))
    }
}

fn one_thread() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

async fn run_wasm(
    store: &mut wasmtime::Store<WasmState>,
    provider: &ml::InferenceProvider,
    signature: &Signature,
    data: &[f32],
    rows: usize,
) -> Result<()> {
    let input = ml::Tensor {
        name: signature.input.clone(),
        shape: vec![rows as u32, signature.width as u32],
        data: data.to_vec(),
    };
    let outputs = provider
        .fbposts_ml_inference()
        .call_run(&mut *store, &signature.model, &[input])
        .await?
        .map_err(|e| anyhow::anyhow!("inference error: {e:?}"))?;
    anyhow::ensure!(
        outputs.len() == signature.outputs,
        "{} outputs",
        outputs.len()
    );
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
    data: &[f32],
    rows: usize,
    measure: Duration,
) -> Result<(Vec<f64>, usize)> {
    let barrier = std::sync::Barrier::new(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let barrier = &barrier;
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

/// An engine ready to time: how each thread makes its caller, and for the
/// Wasm engines the component (to time cold instances).
struct Prepared {
    make: MakeCall,
    wasm: Option<Arc<WasmEngine>>,
}

fn prepare(engine: NnEngine, args: &BenchNnArgs, signature: &Arc<Signature>) -> Result<Prepared> {
    use crate::wasi_nn::{NnBackend, NnDevice, NnOptions, NnRegistry, OrtBackend, OvBackend};
    use wasmtime_wasi_nn::wit::ExecutionTarget;
    let roots = vec![std::env::current_dir()?];
    let options = |backend| NnOptions {
        backend,
        device: NnDevice::Cpu,
        sessions: args.nn_sessions,
        batch: crate::wasi_nn::BatchOptions::off(),
    };
    let model_dir = args.models_dir.join(&signature.model);
    let native = |graph: wasmtime_wasi_nn::Graph| {
        let signature = signature.clone();
        let make: MakeCall = Box::new(move || Ok(native_call(graph.clone(), signature.clone())));
        Prepared { make, wasm: None }
    };
    let (file, nn) = match engine {
        NnEngine::Onnx => {
            let graph = OrtBackend::new(&options(NnBackend::Onnx), &roots)?
                .load_model_dir(&model_dir, ExecutionTarget::Cpu)?
                .graph;
            return Ok(native(graph));
        }
        NnEngine::Openvino => {
            let graph = OvBackend::new(&options(NnBackend::Openvino), &roots)?
                .load_model_dir(&model_dir, ExecutionTarget::Cpu)?;
            return Ok(native(graph));
        }
        NnEngine::Portable => ("inference_portable.wasm", NnRegistry::empty()),
        NnEngine::WasiNnOnnx => (
            "inference_wasi_nn.wasm",
            NnRegistry::load(&args.models_dir, &options(NnBackend::Onnx), &roots)?,
        ),
        NnEngine::WasiNnOpenvino => (
            "inference_wasi_nn.wasm",
            NnRegistry::load(&args.models_dir, &options(NnBackend::Openvino), &roots)?,
        ),
    };
    let wasm = Arc::new(WasmEngine::new(
        &args.wasm_dir.join(file),
        nn,
        signature.clone(),
    )?);
    let for_calls = wasm.clone();
    Ok(Prepared {
        make: Box::new(move || for_calls.call()),
        wasm: Some(wasm),
    })
}

/// A fresh instance and its first call, as one request pays it with
/// `--instance-reuse 1` (the model is loaded per instance); µs, sorted.
fn time_cold(wasm: &WasmEngine, data: &[f32], rows: usize, times: usize) -> Result<Vec<f64>> {
    let runtime = one_thread()?;
    let mut cold = Vec::with_capacity(times);
    for _ in 0..times {
        let started = Instant::now();
        let (mut store, provider) = wasm.instantiate(&runtime)?;
        runtime.block_on(run_wasm(&mut store, &provider, &wasm.signature, data, rows))?;
        cold.push(started.elapsed().as_secs_f64() * 1e6);
    }
    cold.sort_by(f64::total_cmp);
    Ok(cold)
}

pub fn run_nn(args: BenchNnArgs) -> Result<()> {
    anyhow::ensure!(args.threads >= 1, "-c must be at least 1");
    anyhow::ensure!(
        args.nn_sessions != Some(0),
        "--nn-sessions must be at least 1"
    );
    let signature = Arc::new(Signature::read(&args.models_dir, &args.model)?);
    let measure = Duration::from_secs_f64(args.duration);
    for &engine in &args.engine {
        let started = Instant::now();
        let prepared = prepare(engine, &args, &signature)?;
        let name = format!("{engine:?}");
        let setup_ms = started.elapsed().as_millis() as u64;
        for &rows in &args.batch {
            anyhow::ensure!(rows >= 1, "--batch sizes must be at least 1");
            let data = signature.rows(rows);
            let cold = match &prepared.wasm {
                Some(wasm) => time_cold(wasm, &data, rows, args.cold)?,
                None => Vec::new(),
            };
            let cpu_before = process_cpu();
            let (mut latencies, all_calls) =
                time_calls(prepared.make.as_ref(), args.threads, &data, rows, measure)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_models() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("host/ has a parent")
            .join("models")
    }

    #[test]
    fn the_engagement_models_signature_comes_from_its_metadata() {
        let signature = Signature::read(&repo_models(), "engagement").unwrap();
        assert_eq!(
            signature,
            Signature {
                model: "engagement".into(),
                input: "features".into(),
                width: 7,
                outputs: 3,
            }
        );
        assert_eq!(signature.rows(3).len(), 21);
    }

    #[test]
    fn python_nan_and_infinity_become_null_outside_strings() {
        assert_eq!(
            python_json(r#"{"a": NaN, "b": [-Infinity, Infinity], "c": "NaN \" NaN"}"#),
            r#"{"a": null, "b": [null, null], "c": "NaN \" NaN"}"#
        );
    }

    #[test]
    fn a_model_without_a_batch_by_width_input_is_refused() {
        let two_inputs = r#"{"inputs": [
            {"name": "a", "dtype": "float32", "shape": ["N", 2]},
            {"name": "b", "dtype": "float32", "shape": ["N", 2]}], "outputs": []}"#;
        let err = Signature::parse("m", two_inputs).unwrap_err().to_string();
        assert!(err.contains("one input, this one has 2"), "{err}");
        let fixed_batch =
            r#"{"inputs": [{"name": "x", "dtype": "float32", "shape": [1, 7]}], "outputs": []}"#;
        let err = Signature::parse("m", fixed_batch).unwrap_err().to_string();
        assert!(err.contains("not [batch, width]"), "{err}");
        let ints =
            r#"{"inputs": [{"name": "x", "dtype": "int64", "shape": ["N", 7]}], "outputs": []}"#;
        let err = Signature::parse("m", ints).unwrap_err().to_string();
        assert!(err.contains("not float32"), "{err}");
    }
}
