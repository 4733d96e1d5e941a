//! Both backends through the wasi-nn backend API on the engagement model, the
//! library search and the shared registry. They need ONNX Runtime and
//! OpenVINO in the repository's `.venv` (`models/setup.sh`).

use super::libs::{init_onnxruntime, init_openvino, library_in, site_packages_dirs};
use super::tensor::{from_le_vec, to_le_vec};
use super::*;
use std::time::Instant;
use wasmtime_wasi_nn::backend::{BackendError, BackendFromDir, NamedTensor};
use wasmtime_wasi_nn::wit::TensorType;
use wasmtime_wasi_nn::{Graph, Tensor};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

fn roots() -> Vec<PathBuf> {
    vec![repo_root()]
}

fn engagement_dir() -> PathBuf {
    repo_root().join("models").join("engagement")
}

fn options(backend: NnBackend, sessions: usize) -> NnOptions {
    NnOptions {
        backend,
        device: NnDevice::Cpu,
        sessions: Some(sessions),
        batch: crate::wasi_nn::BatchOptions::default(),
    }
}

/// 24 posts covering every type, category, month, weekday, hour and paid
/// value: page_total_likes, type_code, category, month, weekday, hour, paid.
fn rows() -> Vec<[f32; 7]> {
    (0..24u16)
        .map(|i| {
            [
                81_370.0 + f32::from(i) * 2_500.0,
                f32::from(i % 4),
                f32::from(1 + i % 3),
                f32::from(1 + i % 12),
                f32::from(1 + i % 7),
                f32::from(i),
                f32::from(i % 2),
            ]
        })
        .collect()
}

fn features(rows: &[[f32; 7]]) -> NamedTensor {
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    NamedTensor {
        name: "features".into(),
        tensor: Tensor::new(
            vec![rows.len() as u32, 7],
            TensorType::Fp32,
            to_le_vec(&flat),
        ),
    }
}

type Outputs = Vec<(String, Vec<u32>, Vec<f32>)>;

/// One `init-execution-context` + `compute`, as a guest does it.
fn compute(graph: &Graph, rows: &[[f32; 7]]) -> Outputs {
    let mut context = graph.init_execution_context().expect("execution context");
    context
        .compute_with_io(vec![features(rows)])
        .expect("compute")
        .into_iter()
        .map(|NamedTensor { name, tensor }| {
            assert_eq!(tensor.ty, TensorType::Fp32, "{name}");
            (name, tensor.dimensions, from_le_vec::<f32>(&tensor.data))
        })
        .collect()
}

fn load_ort(sessions: usize) -> Graph {
    let mut backend = OrtBackend::new(&options(NnBackend::Onnx, sessions), &roots())
        .unwrap_or_else(|e| panic!("ONNX Runtime is required for this test: {e}"));
    let started = Instant::now();
    let graph = backend
        .load_from_dir(&engagement_dir(), ExecutionTarget::Cpu)
        .expect("loading model.onnx");
    eprintln!(
        "onnx: {sessions} session(s) loaded in {:?}",
        started.elapsed()
    );
    graph
}

fn load_ov(streams: usize) -> Graph {
    let mut backend = OvBackend::new(&options(NnBackend::Openvino, streams), &roots())
        .unwrap_or_else(|e| panic!("OpenVINO is required for this test: {e}"));
    let started = Instant::now();
    let graph = backend
        .load_from_dir(&engagement_dir(), ExecutionTarget::Cpu)
        .expect("loading model.xml + model.bin");
    eprintln!(
        "openvino: {streams} stream(s) compiled in {:?}",
        started.elapsed()
    );
    graph
}

fn check_quantiles(outputs: &Outputs, n: usize) {
    let names: Vec<&str> = outputs.iter().map(|o| o.0.as_str()).collect();
    assert_eq!(names, ["p10", "p50", "p90"]);
    for (name, dims, data) in outputs {
        assert_eq!(dims, &[n as u32, 4], "{name}");
        assert_eq!(data.len(), n * 4, "{name}");
    }
    let (p10, p50, p90) = (&outputs[0].2, &outputs[1].2, &outputs[2].2);
    for i in 0..n * 4 {
        assert!(p10[i].is_finite() && p10[i] >= 0.0, "p10[{i}] = {}", p10[i]);
        assert!(
            p10[i] <= p50[i] && p50[i] <= p90[i],
            "cell {i}: p10 {} p50 {} p90 {}",
            p10[i],
            p50[i],
            p90[i]
        );
    }
}

fn assert_close(a: &Outputs, b: &Outputs, rel: f32) {
    for ((name, dims_a, xs), (_, dims_b, ys)) in a.iter().zip(b) {
        assert_eq!(dims_a, dims_b, "{name}");
        for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
            let tolerance = rel * x.abs().max(y.abs()) + 1e-6;
            assert!(
                (x - y).abs() <= tolerance,
                "{name}[{i}]: {x} vs {y} (relative {})",
                (x - y).abs() / x.abs().max(y.abs())
            );
        }
    }
}

#[test]
fn finds_onnxruntime_in_the_venv() {
    let path = find_onnxruntime(&roots()).unwrap_or_else(|e| panic!("{e}"));
    if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        assert!(
            path.starts_with(repo_root().join(".venv")),
            "{} is not the repo venv's",
            path.display()
        );
    }
    assert!(path.is_file(), "{}", path.display());
    assert!(
        path.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("libonnxruntime.so")),
        "{}",
        path.display()
    );
    init_onnxruntime(&roots()).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn finds_openvino_in_the_venv() {
    let path = find_openvino(&roots()).unwrap_or_else(|e| panic!("{e}"));
    assert!(path.is_file(), "{}", path.display());
    init_openvino(&roots()).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_venv_in_a_parent_folder_of_the_project_is_never_searched() {
    let dir = tempfile::tempdir().unwrap();
    let site = |venv: &Path| venv.join("lib").join("python3.12").join("site-packages");
    let planted = site(&dir.path().join(".venv"));
    let project = dir.path().join("project");
    let own = site(&project.join(".venv"));
    std::fs::create_dir_all(&planted).unwrap();
    std::fs::create_dir_all(&own).unwrap();
    let found = site_packages_dirs(&search_roots(&project));
    assert!(found.contains(&own), "{found:?}");
    assert!(!found.contains(&planted), "{found:?}");
}

#[test]
fn an_input_tensor_over_the_host_limit_is_refused_before_any_backend_sees_it() {
    use super::tensor::{MAX_INPUT_TENSOR_BYTES, Port, check_input};
    let port = Port {
        name: "features".into(),
        ty: TensorType::Fp32,
        dims: vec![-1, 7],
    };
    let rows = MAX_INPUT_TENSOR_BYTES / 28 + 1;
    let huge = Tensor::new(vec![rows as u32, 7], TensorType::Fp32, vec![0; rows * 28]);
    let err = check_input(&port, &huge).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "input \"features\": {} bytes, over the host's limit of {MAX_INPUT_TENSOR_BYTES} bytes per input tensor",
            rows * 28
        )
    );
    let fits = Tensor::new(vec![169, 7], TensorType::Fp32, vec![0; 169 * 28]);
    assert!(check_input(&port, &fits).is_ok());
}

#[test]
fn library_search_takes_the_highest_version() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["libx.so.1.9.0", "libx.so.1.10.2", "libx.so.txt", "liby.so"] {
        std::fs::write(dir.path().join(name), b"").unwrap();
    }
    assert_eq!(
        library_in(dir.path(), "libx.so"),
        Some(dir.path().join("libx.so.1.10.2"))
    );
    assert_eq!(
        library_in(dir.path(), "liby.so"),
        Some(dir.path().join("liby.so"))
    );
    assert_eq!(library_in(dir.path(), "libz.so"), None);
}

/// The engagement model through the wasi-nn backend API, on both
/// runtimes: same names, shapes and numbers (1e-4 relative), ordered
/// quantiles. Also against wasmtime-wasi-nn's own ONNX backend, which
/// runs on the same dynamically loaded ONNX Runtime but reads `model.onnx`
/// (the standard-op tree walk) where ours reads `model.ort.onnx` (the same
/// trees as `ai.onnx.ml` operators): `models/train.py` checks the two agree
/// within 1e-5 relative.
#[test]
fn engagement_model_agrees_on_onnx_runtime_and_openvino() {
    let rows = rows();
    let onnx = compute(&load_ort(2), &rows);
    check_quantiles(&onnx, rows.len());

    let openvino = compute(&load_ov(2), &rows);
    check_quantiles(&openvino, rows.len());
    assert_close(&onnx, &openvino, 1e-4);

    let mut stock = wasmtime_wasi_nn::backend::onnx::OnnxBackend::default();
    let stock = stock
        .load_from_dir(&engagement_dir(), ExecutionTarget::Cpu)
        .expect("wasmtime-wasi-nn's ONNX backend");
    assert_close(&onnx, &compute(&stock, &rows), 1e-5);

    // One row alone gives the same numbers as inside the batch.
    let single = compute(&load_ort(1), &rows[5..6]);
    for (k, (_, _, data)) in single.iter().enumerate() {
        assert_eq!(data[..], onnx[k].2[5 * 4..6 * 4]);
    }
}

#[test]
fn inputs_by_position_and_outputs_by_name() {
    for graph in [load_ort(1), load_ov(1)] {
        let mut positional = features(&rows());
        positional.name = "0".into();
        let mut context = graph.init_execution_context().unwrap();
        let outputs = context.compute_with_io(vec![positional]).unwrap();
        assert_eq!(outputs.len(), 3);
        assert_eq!(outputs[2].name, "p90");
    }
}

/// Malformed guest input is an error, never a panic or a silent default.
#[test]
fn bad_inputs_are_errors() {
    for graph in [load_ort(1), load_ov(1)] {
        let mut context = graph.init_execution_context().unwrap();
        let good = features(&rows()[..2]);
        let mut wrong_name = features(&rows()[..2]);
        wrong_name.name = "nope".into();
        let mut short_data = features(&rows()[..2]);
        short_data.tensor.data.pop();
        let mut wrong_width = features(&rows()[..2]);
        wrong_width.tensor.dimensions = vec![7, 2];
        let mut wrong_type = features(&rows()[..2]);
        wrong_type.tensor.ty = TensorType::I32;
        for (case, inputs) in [
            ("unknown name", vec![wrong_name]),
            ("short data", vec![short_data]),
            ("wrong width", vec![wrong_width]),
            ("wrong type", vec![wrong_type]),
            ("no input", vec![]),
        ] {
            let err = context
                .compute_with_io(inputs)
                .err()
                .unwrap_or_else(|| panic!("{case}: accepted"));
            let BackendError::BackendAccess(detail) = err else {
                panic!("{case}: {err:?}");
            };
            let detail = detail.to_string();
            assert!(detail.contains("input"), "{case}: {detail}");
        }
        // The context still works afterwards.
        assert_eq!(context.compute_with_io(vec![good]).unwrap().len(), 3);
    }
}

/// Many threads on one graph with fewer sessions than threads: every
/// result is right (the pool hands out sessions, waits when all are busy).
#[test]
fn concurrent_computes_share_one_graph() {
    let rows = rows();
    for (backend, graph) in [("onnx", load_ort(2)), ("openvino", load_ov(2))] {
        let expected = compute(&graph, &rows);
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..6 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        assert_close(&expected, &compute(&graph, &rows), 0.0);
                    }
                });
            }
        });
        eprintln!(
            "{backend}: 300 computes of {} rows on 6 threads in {:?}",
            rows.len(),
            started.elapsed()
        );
    }
}

/// The model loaded on ONNX Runtime with one session and `batch`.
fn load_ort_batched(batch: BatchOptions) -> onnx::OrtLoaded {
    let options = NnOptions {
        batch,
        ..options(NnBackend::Onnx, 1)
    };
    OrtBackend::new(&options, &roots())
        .unwrap_or_else(|e| panic!("ONNX Runtime is required for this test: {e}"))
        .load_model_dir(&engagement_dir(), ExecutionTarget::Cpu)
        .expect("loading the engagement model")
}

/// Dynamic batching on the real model: three calls of different sizes are
/// coalesced into one ONNX Runtime run (calls overlapped before, so the
/// runner waits; its window ends when the batch is full, 24 rows), and each
/// gets exactly what it gets from a run of its own.
#[test]
fn calls_coalesced_into_one_onnx_run_answer_exactly_as_alone() {
    let rows = rows();
    let parts = [&rows[..5], &rows[5..13], &rows[13..]];
    let alone = load_ort_batched(BatchOptions::off()).graph;
    let expected: Vec<Outputs> = parts.iter().map(|part| compute(&alone, part)).collect();
    let batched = load_ort_batched(BatchOptions {
        window: std::time::Duration::from_secs(60),
        max_rows: rows.len(),
    });
    let runs = Arc::new(Mutex::new(Vec::new()));
    let seen = runs.clone();
    let batcher = batched.gathered.batcher();
    batcher.observe_runs(Box::new(move |calls| lock(&seen).push(calls)));
    batcher.as_if_calls_overlapped();
    let answers: Vec<Outputs> = std::thread::scope(|scope| {
        let graph = &batched.graph;
        let threads: Vec<_> = parts
            .iter()
            .map(|part| scope.spawn(move || compute(graph, part)))
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(*lock(&runs), [3], "one run served the three calls");
    for (part, (answer, expected)) in answers.iter().zip(&expected).enumerate() {
        check_quantiles(answer, parts[part].len());
        assert_close(expected, answer, 0.0);
    }
}

#[test]
fn registry_serves_models_by_folder_name() {
    for backend in [NnBackend::Onnx, NnBackend::Openvino] {
        let registry =
            NnRegistry::load(&repo_root().join("models"), &options(backend, 1), &roots())
                .unwrap_or_else(|e| panic!("{backend}: {e}"));
        let mut names = registry.names();
        names.sort_unstable();
        assert_eq!(names, ["engagement", "engagement-timing"], "{backend}");
        let graph = |name| registry.model(name).map(|model| model.graph.clone());
        let whole = compute(&graph("engagement").unwrap(), &rows());
        check_quantiles(&whole, rows().len());
        // The timing head answers the whole model's first column.
        let head = compute(&graph("engagement-timing").unwrap(), &rows());
        for ((name, _, data), (head_name, head_dims, head_data)) in whole.iter().zip(&head) {
            assert_eq!(
                (name, head_dims),
                (head_name, &vec![rows().len() as u32, 1])
            );
            let column = data.chunks_exact(4).map(|row| row[0]);
            for (a, b) in column.zip(head_data) {
                assert!(
                    (a - b).abs() <= 1e-5 * a.abs().max(1.0),
                    "{backend} {name}: {a} vs {b}"
                );
            }
        }
        assert!(graph("nope").is_none());
    }
    let missing = NnRegistry::load(
        Path::new("/nonexistent/models"),
        &NnOptions::default(),
        &roots(),
    )
    .unwrap();
    assert!(missing.names().is_empty());
}
