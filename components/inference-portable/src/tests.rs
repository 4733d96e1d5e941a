//! Tests of the crate's native API (they also pass on wasm32-wasip2 under a
//! WASI runner): the `engagement` model through [`run`] against ONNX Runtime
//! (fixture written by `tests/make_engagement_fixture.py`), batch
//! independence, the error cases, and that every embedded model loads.

use serde::Deserialize;

use crate::engine::{self, InferenceError, Tensor, run};
use crate::models;

const MODEL: &str = "engagement";
const FIXTURE: &str = include_str!("../tests/fixtures/engagement_ort.json");
const REL_TOL: f32 = 1e-4;

#[derive(Deserialize)]
struct Fixture {
    input: Matrix,
    outputs: Vec<Matrix>,
}

#[derive(Deserialize)]
struct Matrix {
    name: String,
    shape: Vec<u32>,
    rows: Vec<Vec<f32>>,
}

fn fixture() -> Fixture {
    serde_json::from_str(FIXTURE).expect("fixture parses")
}

fn features(rows: &[Vec<f32>]) -> Tensor {
    let n = u32::try_from(rows.len()).unwrap();
    Tensor::new("features", vec![n, 7], rows.concat())
}

fn bad_shape(result: Result<Vec<Tensor>, InferenceError>) -> String {
    match result {
        Err(InferenceError::BadShape(message)) => message,
        other => panic!("expected bad-shape, got {other:?}"),
    }
}

#[test]
fn matches_onnx_runtime() {
    let fixture = fixture();
    assert_eq!(fixture.input.name, "features");
    assert_eq!(fixture.input.shape, [22, 7]);
    let outputs = run(MODEL, &[features(&fixture.input.rows)]).unwrap();

    let names: Vec<&str> = outputs.iter().map(|t| t.name.as_str()).collect();
    let expected: Vec<&str> = fixture.outputs.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, expected);
    assert_eq!(names, ["p10", "p50", "p90"]);

    let mut worst = 0f32;
    for (got, want) in outputs.iter().zip(&fixture.outputs) {
        assert_eq!(got.shape, want.shape, "{}", want.name);
        assert_eq!(got.data.len(), want.rows.len() * 4);
        for (row, (got_row, want_row)) in got.data.chunks(4).zip(&want.rows).enumerate() {
            for (col, (&g, &w)) in got_row.iter().zip(want_row).enumerate() {
                let rel = (g - w).abs() / w.abs().max(1e-3);
                worst = worst.max(rel);
                assert!(
                    rel <= REL_TOL,
                    "{}[{row}][{col}]: tract {g}, onnxruntime {w} (rel {rel:e})",
                    want.name
                );
            }
        }
    }
    println!("largest relative difference from onnxruntime: {worst:e}");
}

#[test]
fn quantiles_are_ordered() {
    let outputs = run(MODEL, &[features(&fixture().input.rows)]).unwrap();
    let [p10, p50, p90] = [&outputs[0], &outputs[1], &outputs[2]];
    for i in 0..p50.data.len() {
        assert!(0.0 <= p10.data[i] && p10.data[i] <= p50.data[i] && p50.data[i] <= p90.data[i]);
    }
}

/// 256 distinct rows spanning the data's ranges.
/// `n` feature rows within the training ranges (page likes, type code,
/// category, month, weekday, hour, paid).
fn synthetic_rows(n: usize) -> Vec<Vec<f32>> {
    (0..n)
        .map(|i| {
            let i = i as f32;
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

/// A row's outputs must not depend on what else is in the batch, bit for bit.
/// (tract's unoptimized typed plan fails this by a few ULPs: its generic
/// matmul reassociates sums differently for one row; the codegen'd plan the
/// engine uses does not.)
#[test]
fn batch_of_one_equals_batch_of_256() {
    let rows = synthetic_rows(256);
    let batch = run(MODEL, &[features(&rows)]).unwrap();
    for output in &batch {
        assert_eq!(output.shape, [256, 4]);
    }
    for (i, row) in rows.iter().enumerate() {
        let single = run(MODEL, &[features(std::slice::from_ref(row))]).unwrap();
        assert_eq!(single.len(), batch.len());
        for (one, all) in single.iter().zip(&batch) {
            assert_eq!(one.name, all.name);
            assert_eq!(one.shape, [1, 4]);
            assert_eq!(
                one.data,
                all.data[i * 4..i * 4 + 4],
                "{} row {i} differs between batch 1 and batch 256",
                one.name
            );
        }
    }
}

#[test]
fn unknown_model() {
    let rows = fixture().input.rows;
    let err = run("nope", &[features(&rows)]).unwrap_err();
    assert_eq!(err, InferenceError::UnknownModel("nope".into()));
    assert_eq!(
        err.to_string(),
        "unknown model `nope` (this component has: engagement)"
    );
}

#[test]
fn wrong_input_name() {
    let message = bad_shape(run(MODEL, &[Tensor::new("x", vec![1, 7], vec![0.0; 7])]));
    assert!(message.contains("no input `x`"), "{message}");
    assert!(message.contains("`features` F32 [N, 7]"), "{message}");
}

#[test]
fn missing_input() {
    let message = bad_shape(run(MODEL, &[]));
    assert!(message.contains("needs input `features`"), "{message}");
}

#[test]
fn duplicate_input() {
    let one = Tensor::new("features", vec![1, 7], vec![0.0; 7]);
    let message = bad_shape(run(MODEL, &[one.clone(), one]));
    assert!(message.contains("more than once"), "{message}");
}

#[test]
fn wrong_shape() {
    let message = bad_shape(run(
        MODEL,
        &[Tensor::new("features", vec![2, 6], vec![0.0; 12])],
    ));
    assert!(message.contains("[2, 6]"), "{message}");
    assert!(message.contains("dimension 1 must be 7"), "{message}");

    let message = bad_shape(run(
        MODEL,
        &[Tensor::new("features", vec![7], vec![0.0; 7])],
    ));
    assert!(message.contains("rank 1 instead of 2"), "{message}");

    let message = bad_shape(run(MODEL, &[Tensor::new("features", vec![0, 7], vec![])]));
    assert!(message.contains("dimension 0 must not be 0"), "{message}");
}

#[test]
fn data_length_not_matching_shape() {
    let message = bad_shape(run(
        MODEL,
        &[Tensor::new("features", vec![2, 7], vec![0.0; 13])],
    ));
    assert!(
        message.contains("holds 14 values, but 13 values of data"),
        "{message}"
    );

    let huge = Tensor::new("features", vec![u32::MAX, 7], vec![0.0; 7]);
    let message = bad_shape(run(MODEL, &[huge]));
    assert!(message.contains("values of data"), "{message}");
}

/// A new `onnx_model!` line is checked without writing a test for it first.
#[test]
fn every_embedded_model_loads() {
    assert!(!models::MODELS.is_empty());
    for model in models::MODELS {
        assert!(!model.onnx.is_empty(), "{}", model.name);
        engine::preload(model.name).unwrap_or_else(|err| panic!("{}: {err}", model.name));
    }
}

#[test]
fn names_are_unique() {
    let mut names: Vec<&str> = models::names().collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before);
}
