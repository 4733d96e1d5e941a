//! `fbposts:ml/inference` as a contract: one suite run on every
//! implementation, in Wasm, through the real host. The test component
//! `inference-probe` puts the interface on the wire; a manifest written per
//! test pairs it once with `inference-portable` (tract, pure Wasm;
//! instantiated separately, as the app does, so the calls, tensors and error
//! variants cross the host's forwarding, `host/src/linked.rs`) and once with
//! `inference-wasi-nn` composed in (the host's wasi-nn, on ONNX Runtime or on
//! OpenVINO), each behind its own route. Every implementation must match the
//! ONNX Runtime fixture, keep its quantiles ordered, answer a row the same
//! whatever else is in its batch, and answer bad calls with the contract's
//! error variants.

use serde_json::{Value, json};
use std::path::Path;
use support::{Options, Server, post_json, repo_root, sqlite_config};

const MODEL: &str = "engagement";
/// Relative tolerance against ONNX Runtime's outputs.
const REL_TOL: f64 = 1e-4;
/// Relative tolerance between a row alone and in a batch, native runtimes.
const BATCH_REL_TOL: f64 = 1e-5;

/// An implementation under test: the route that reaches it and the host
/// flags it needs.
#[derive(Clone, Copy, Debug)]
struct Implementation {
    name: &'static str,
    route: &'static str,
    nn_backend: &'static str,
}

const PORTABLE: Implementation = Implementation {
    name: "portable (tract)",
    route: "/portable",
    nn_backend: "onnx",
};
const WASI_NN_ONNX: Implementation = Implementation {
    name: "wasi-nn on ONNX Runtime",
    route: "/wasi-nn",
    nn_backend: "onnx",
};
const WASI_NN_OPENVINO: Implementation = Implementation {
    name: "wasi-nn on OpenVINO",
    route: "/wasi-nn",
    nn_backend: "openvino",
};
const EVERY_IMPLEMENTATION: [Implementation; 3] = [PORTABLE, WASI_NN_ONNX, WASI_NN_OPENVINO];

/// The probe paired with each implementation. `models/` and `.venv/` sit
/// beside the manifest: the host's wasi-nn loads models by name from the one
/// and finds the ONNX Runtime and OpenVINO libraries in the other.
fn manifest(dir: &Path) -> String {
    let wasm = |name: &str| {
        repo_root()
            .join("target/wasm32-wasip2/wasm-release")
            .join(name)
            .display()
            .to_string()
    };
    for beside in ["models", ".venv"] {
        std::os::unix::fs::symlink(repo_root().join(beside), dir.join(beside)).unwrap();
    }
    format!(
        r#"spin_manifest_version = 2

[application]
name = "inference-contract"

[[trigger.http]]
route = "/portable"
component = "probe-portable"

[[trigger.http]]
route = "/wasi-nn"
component = "probe-wasi-nn"

[component.probe-portable]
source = "{probe}"
[component.probe-portable.dependencies]
"fbposts:ml/inference@0.1.0" = {{ component = "inference-portable" }}

[component.probe-wasi-nn]
source = "{probe}"
[component.probe-wasi-nn.dependencies]
"fbposts:ml/inference@0.1.0" = {{ component = "inference-wasi-nn", inherit_configuration = ["wasi_nn"] }}

[component.inference-portable]
source = "{portable}"
[component.inference-portable.tool.fbposts]
instantiate_separately = true

[component.inference-wasi-nn]
source = "{wasi_nn}"
"#,
        probe = wasm("inference_probe.wasm"),
        portable = wasm("inference_portable.wasm"),
        wasi_nn = wasm("inference_wasi_nn.wasm"),
    )
}

/// A host serving the probe, with `implementation`'s wasi-nn backend.
fn start(dir: &Path, implementation: Implementation) -> Server {
    support::ensure_built();
    let manifest_path = dir.join("spin.toml");
    std::fs::write(&manifest_path, manifest(dir)).unwrap();
    Server::start(Options {
        manifest: manifest_path.to_str().unwrap(),
        state_dir: &dir.join("state"),
        runtime_config: Some(&sqlite_config(dir)),
        extra_args: &["--nn-backend", implementation.nn_backend],
    })
}

/// Calls `run(model, inputs)` through the probe.
fn run(server: &Server, implementation: Implementation, model: &str, inputs: Value) -> Value {
    let reply = post_json(
        server,
        implementation.route,
        &json!({ "model": model, "inputs": inputs }),
    );
    assert_eq!(reply.status, 200, "{implementation:?}: {}", reply.text);
    reply.body
}

fn features(rows: &[Vec<f64>]) -> Value {
    json!([{ "name": "features", "shape": [rows.len(), 7], "data": rows.concat() }])
}

/// The ONNX Runtime fixture (`components/inference-portable/tests/`).
fn fixture() -> Value {
    let path = repo_root().join("components/inference-portable/tests/fixtures/engagement_ort.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn fixture_rows(fixture: &Value) -> Vec<Vec<f64>> {
    serde_json::from_value(fixture["input"]["rows"].clone()).unwrap()
}

/// `n` feature rows within the training ranges (page likes, type code,
/// category, month, weekday, hour, paid).
fn synthetic_rows(n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            let i = i as f64;
            vec![
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

fn outputs(answer: &Value) -> &Vec<Value> {
    answer["outputs"]
        .as_array()
        .unwrap_or_else(|| panic!("no outputs: {answer}"))
}

fn data(tensor: &Value) -> Vec<f64> {
    serde_json::from_value(tensor["data"].clone()).unwrap()
}

/// The error variant of an answer: (kind, message).
fn error(answer: &Value) -> (String, String) {
    let kind = answer["error"]["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error, got {answer}"));
    let message = answer["error"]["message"].as_str().unwrap();
    (kind.to_string(), message.to_string())
}

/// Every implementation, each on its own host (the wasi-nn backend is a host
/// flag), checked by `check`.
fn on_every_implementation(check: impl Fn(&Server, Implementation)) {
    for implementation in EVERY_IMPLEMENTATION {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), implementation);
        check(&server, implementation);
    }
}

#[test]
fn every_implementation_matches_onnx_runtime_and_orders_its_quantiles() {
    let fixture = fixture();
    let rows = fixture_rows(&fixture);
    assert_eq!(fixture["input"]["shape"], json!([22, 7]));
    on_every_implementation(|server, implementation| {
        let answer = run(server, implementation, MODEL, features(&rows));
        let got = outputs(&answer);
        let names: Vec<&str> = got.iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["p10", "p50", "p90"], "{implementation:?}");
        for (tensor, want) in got.iter().zip(fixture["outputs"].as_array().unwrap()) {
            assert_eq!(tensor["shape"], json!([22, 4]), "{implementation:?}");
            let want: Vec<f64> = want["rows"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|row| serde_json::from_value::<Vec<f64>>(row.clone()).unwrap())
                .collect();
            for (i, (g, w)) in data(tensor).iter().zip(&want).enumerate() {
                let rel = (g - w).abs() / w.abs().max(1e-3);
                assert!(
                    rel <= REL_TOL,
                    "{}: {}[{i}] = {g}, ONNX Runtime {w} (rel {rel:e})",
                    implementation.name,
                    tensor["name"]
                );
            }
        }
        let [p10, p50, p90] = [data(&got[0]), data(&got[1]), data(&got[2])];
        for i in 0..p50.len() {
            assert!(
                0.0 <= p10[i] && p10[i] <= p50[i] && p50[i] <= p90[i],
                "{}: quantiles out of order at {i}",
                implementation.name
            );
        }
    });
}

/// A row's outputs must not depend on what else is in the batch: bit for bit
/// on the portable engine (tract's unoptimized typed plan fails this by a few
/// ULPs; the codegen'd plan the engine uses does not), within
/// [`BATCH_REL_TOL`] on the native runtimes, whose kernels differ by batch
/// size (ONNX Runtime: a few ULPs).
#[test]
fn a_row_answers_the_same_alone_and_in_a_batch_of_64() {
    let rows = synthetic_rows(64);
    on_every_implementation(|server, implementation| {
        let tolerance = if implementation.route == PORTABLE.route {
            0.0
        } else {
            BATCH_REL_TOL
        };
        let batch = run(server, implementation, MODEL, features(&rows));
        let batch = outputs(&batch);
        for (i, row) in rows.iter().enumerate() {
            let single = run(
                server,
                implementation,
                MODEL,
                features(std::slice::from_ref(row)),
            );
            for (one, all) in outputs(&single).iter().zip(batch) {
                assert_eq!(one["shape"], json!([1, 4]));
                for (alone, batched) in data(one).iter().zip(&data(all)[i * 4..i * 4 + 4]) {
                    let rel = (alone - batched).abs() / batched.abs().max(1e-3);
                    assert!(
                        rel <= tolerance,
                        "{}: {} row {i}: {alone} alone, {batched} in a batch of 64 (rel {rel:e})",
                        implementation.name,
                        one["name"]
                    );
                }
            }
        }
    });
}

/// Every implementation refuses an unknown model, and checks each input
/// against the model's signature before running it (the shared
/// `fbposts-model-signature` check: the graph's own for tract, the shipped
/// `metadata.json` for wasi-nn), saying in the same words what the model wants.
#[test]
fn an_unknown_model_and_every_input_that_does_not_fit_are_refused_in_the_same_words() {
    on_every_implementation(|server, implementation| {
        let rows = synthetic_rows(1);
        let (kind, message) = error(&run(server, implementation, "nope", features(&rows)));
        assert_eq!(kind, "unknown-model", "{implementation:?}: {message}");
        assert!(message.contains("nope"), "{implementation:?}: {message}");

        let bad_shape = |inputs: Value| {
            let (kind, message) = error(&run(server, implementation, MODEL, inputs));
            assert_eq!(kind, "bad-shape", "{}: {message}", implementation.name);
            message
        };
        let zeros = |name: &str, shape: Value, len: usize| json!([{ "name": name, "shape": shape, "data": vec![0.0; len] }]);

        let message = bad_shape(zeros("x", json!([1, 7]), 7));
        assert_eq!(
            message,
            "model `engagement` has no input `x`; it takes `features` F32 [N, 7]"
        );

        let message = bad_shape(json!([]));
        assert!(message.contains("needs input `features`"), "{message}");

        let one = zeros("features", json!([1, 7]), 7);
        let message = bad_shape(json!([one[0], one[0]]));
        assert!(message.contains("more than once"), "{message}");

        let message = bad_shape(zeros("features", json!([2, 6]), 12));
        assert_eq!(
            message,
            "input `features` has shape [2, 6], the model expects `features` F32 [N, 7]: dimension 1 must be 7"
        );

        let message = bad_shape(zeros("features", json!([7]), 7));
        assert!(message.contains("rank 1 instead of 2"), "{message}");

        let message = bad_shape(zeros("features", json!([0, 7]), 0));
        assert!(message.contains("dimension 0 must not be 0"), "{message}");

        let message = bad_shape(zeros("features", json!([2, 7]), 13));
        assert!(
            message.contains("holds 14 values, but 13 values of data"),
            "{message}"
        );

        let message = bad_shape(zeros("features", json!([u32::MAX, 7]), 7));
        assert!(message.contains("values of data"), "{message}");
    });
}
